"""Checkpoints of a :class:`~lstm_teach.concise.model.Sequential`: one ``.npz`` file, written
atomically, read back with every part validated before anything is changed."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile

import numpy as np

from .. import layers as layers_mod
from .. import optim as optim_mod

FORMAT_NAME = "lstm_teach.Sequential"
FORMAT_VERSION = 1



def save_model(model, path, include_optimizer=True) -> None:
    """Write the model to ``path`` as one ``.npz`` file, atomically.

    Contents: ``__config__`` (JSON: architecture, input shape, compile
    settings), ``weights/<layer>/<key>`` arrays and, if
    ``include_optimizer``, ``optimizer/<layer>/<key>/<slot>`` arrays and
    ``optimizer_iterations``. The file is written under a temporary name in
    the same directory and renamed over ``path`` (``os.replace``), so an
    existing checkpoint is never left half-overwritten.
    """
    config = model.get_config()
    arrays = {"__config__": np.array(json.dumps(config))}
    for key, value in model.params.items():
        arrays[f"weights/{key}"] = value
    if include_optimizer and model.optimizer is not None:
        state = model.optimizer.get_state()
        arrays["optimizer_iterations"] = np.array(state["iterations"], dtype=np.int64)
        for key, slots in state["slots"].items():
            for slot, value in slots.items():
                arrays[f"optimizer/{key}/{slot}"] = value
    _atomic_savez(os.fspath(path), arrays)


def load_model(model_cls, path):
    """A new model rebuilt from a file written by :func:`save_model` (weights, compile
    settings and optimizer state included)."""
    config, arrays = _read_checkpoint(path)
    try:
        model = model_cls(name=config.get("name", "sequential"))
        for spec in config["layers"]:
            model.add(layers_mod.from_config(spec["class_name"], spec["config"]))
        model.build(config["input_shape"], dtype=config.get("dtype"))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"checkpoint {os.fspath(path)!r} has an invalid architecture description: {exc}"
        ) from None
    _assign_weights(model, arrays, path)
    compile_cfg = config.get("compile")
    if compile_cfg and compile_cfg.get("loss"):
        model.compile(optimizer=optim_mod.get(compile_cfg["optimizer"]),
                      loss=compile_cfg["loss"], metrics=compile_cfg.get("metrics"))
        _assign_optimizer_state(model, arrays)
    return model


def load_weights(model, path) -> None:
    """Load the weights (and optimizer state, if compiled) of a checkpoint into this model.

    Raises
    ------
    ValueError
        If the file is corrupt, or its architecture (layer count, types,
        weight shapes) differs from this model's; nothing is changed then.
    """
    config, arrays = _read_checkpoint(path)
    saved = config.get("layers", [])
    if not model.built:
        model.build(config["input_shape"], dtype=config.get("dtype"))
    ours = [type(lay).__name__ for lay in model.layers]
    theirs = [spec.get("class_name") for spec in saved]
    if ours != theirs:
        raise ValueError(
            f"checkpoint {os.fspath(path)!r} does not match this model: it holds layers "
            f"{theirs}, this model has {ours}"
        )
    _assign_weights(model, arrays, path)
    if model.optimizer is not None:
        _assign_optimizer_state(model, arrays)


def _assign_weights(model, arrays, path) -> None:
    saved_keys = sorted(k[len("weights/"):] for k in arrays if k.startswith("weights/"))
    ours = model.params
    missing = [k for k in ours if k not in saved_keys]
    extra = [k for k in saved_keys if k not in ours]
    if missing or extra:
        raise ValueError(
            f"checkpoint {os.fspath(path)!r} does not match this model: weights missing "
            f"from the file {missing}, weights in the file the model lacks {extra}"
        )
    for key, target in ours.items():
        value = arrays[f"weights/{key}"]
        if value.shape != target.shape:
            raise ValueError(
                f"checkpoint {os.fspath(path)!r} does not match this model: weight {key!r} "
                f"has shape {value.shape} in the file but {target.shape} in the model"
            )
    for key, target in ours.items():
        target[...] = arrays[f"weights/{key}"]


def _assign_optimizer_state(model, arrays) -> None:
    slots: dict[str, dict[str, np.ndarray]] = {}
    for k, v in arrays.items():
        if k.startswith("optimizer/"):
            key, _, slot = k[len("optimizer/"):].rpartition("/")
            slots.setdefault(key, {})[slot] = v
    if "optimizer_iterations" in arrays:
        params = model.params
        bad = [k for k, s in slots.items()
               if k not in params or any(a.shape != params[k].shape for a in s.values())]
        if bad:
            raise ValueError(f"checkpoint optimizer state does not match weights {bad}")
        model.optimizer.set_state({"iterations": int(arrays["optimizer_iterations"]),
                                  "slots": slots})


def _atomic_savez(path: str, arrays: dict) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _read_checkpoint(path):
    """Return ``(config, arrays)`` or raise ValueError describing what is wrong."""
    spath = os.fspath(path)
    if not os.path.exists(spath):
        raise FileNotFoundError(f"no checkpoint at {spath!r}")
    try:
        with np.load(spath, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as exc:
        raise ValueError(
            f"cannot read checkpoint {spath!r}: it is not a valid .npz archive (truncated or "
            f"corrupt?): {type(exc).__name__}: {exc}"
        ) from None
    if "__config__" not in arrays:
        raise ValueError(
            f"{spath!r} is a .npz file but not an lstm_teach checkpoint: it has no __config__ "
            f"entry (entries: {sorted(arrays)[:8]})"
        )
    try:
        config = json.loads(str(arrays.pop("__config__")))
    except json.JSONDecodeError as exc:
        raise ValueError(f"checkpoint {spath!r} has an unreadable __config__: {exc}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT_NAME:
        raise ValueError(f"{spath!r} is not an lstm_teach Sequential checkpoint")
    if config.get("version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"checkpoint {spath!r} has format version {config.get('version')}, newer than this "
            f"lstm_teach understands ({FORMAT_VERSION}); upgrade lstm_teach"
        )
    return config, arrays
