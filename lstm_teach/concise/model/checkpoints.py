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
# The config fields that size a layer's weights (checked against the stored arrays).
_SIZE_FIELDS = ("units", "input_dim", "output_dim")


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
    _validate(config, arrays, spath)
    return config, arrays


def _validate(config: dict, arrays: dict, spath: str) -> None:
    """Check a checkpoint's description and arrays before anything is built from them.

    The types of the description; that every size a layer's config asks for is
    a size of that layer's stored weights (so a doctored file cannot make the
    model allocate more than the file holds); that every stored array is finite;
    and that the optimizer's step counter is a non-negative integer.
    """
    def bad(what):
        return ValueError(f"checkpoint {spath!r} is invalid: {what}")

    if not isinstance(config.get("name", ""), str):
        raise bad(f"name must be a string; got {config.get('name')!r}")
    shape = config.get("input_shape")
    if (not isinstance(shape, list) or len(shape) < 2 or not all(
            d is None or (type(d) is int and d > 0) for d in shape)):
        raise bad(f"input_shape must be a list of positive ints or null; got {shape!r}")
    if config.get("dtype") not in (None, "float32", "float64"):
        raise bad(f"dtype must be 'float32' or 'float64'; got {config.get('dtype')!r}")
    specs = config.get("layers")
    if not isinstance(specs, list) or not specs:
        raise bad(f"layers must be a non-empty list; got {specs!r:.80}")
    for k, spec in enumerate(specs):
        if (not isinstance(spec, dict) or spec.get("class_name") not in layers_mod.LAYER_CLASSES
                or not isinstance(spec.get("config"), dict)
                or not isinstance(spec["config"].get("name"), str)):
            raise bad(f"layer {k} must be {{'class_name': one of "
                      f"{sorted(layers_mod.LAYER_CLASSES)}, 'config': {{'name': str, ...}}}}")
        name = spec["config"]["name"]
        dims = {d for key, a in arrays.items() if key.startswith(f"weights/{name}/")
                for d in a.shape}
        for field in _SIZE_FIELDS:
            if field not in spec["config"]:
                continue
            size = spec["config"][field]
            if type(size) is not int or size <= 0:
                raise bad(f"layer {name!r}: {field} must be a positive int; got {size!r}")
            if size not in dims:
                raise bad(f"layer {name!r}: {field}={size} matches none of its stored weights "
                          f"(their sizes: {sorted(dims)})")
    compile_cfg = config.get("compile")
    if compile_cfg is not None and not (
            isinstance(compile_cfg, dict) and isinstance(compile_cfg.get("loss"), str)
            and isinstance(compile_cfg.get("optimizer"), dict)
            and isinstance(compile_cfg.get("metrics", []), list)):
        raise bad("compile must be null or {'loss': str, 'optimizer': {...}, 'metrics': [...]}")
    for key, a in arrays.items():
        if key == "optimizer_iterations":
            if a.shape != () or a.dtype.kind not in "iu" or int(a) < 0:
                raise bad(f"optimizer_iterations must be a non-negative integer; got {a!r}")
        elif a.dtype.kind != "f":
            raise bad(f"{key} must hold floats; got dtype {a.dtype}")
        elif not np.isfinite(a).all():
            raise bad(f"{key} holds {int(np.sum(~np.isfinite(a)))} NaN or inf value(s)")
