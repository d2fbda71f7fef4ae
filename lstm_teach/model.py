"""A small Keras-like ``Sequential`` model: compile, fit, predict, evaluate, save, load.

::

    from lstm_teach import layers, optim
    from lstm_teach.model import Sequential

    model = Sequential([layers.LSTM(32), layers.Dense(1)], seed=0)
    model.compile(optimizer=optim.Adam(learning_rate=1e-2, clipnorm=1.0), loss="mse")
    history = model.fit(x, y, batch_size=64, epochs=10, validation_data=(x_val, y_val))
    model.summary()
    model.save("adding.npz")
    same = Sequential.load("adding.npz")

Training loop (one step per batch): forward with ``training=True``, loss and
its gradient, backward through the layers in reverse, one optimizer step on
all trainable weights. Callbacks (:class:`Callback`) are told about every
batch and epoch; the workshop's live monitor is one of them.

Faults are handled for the learner:

* **Divergence.** A NaN or inf loss, gradient or updated weight stops
  ``fit`` with :class:`TrainingDivergedError` (a ``RuntimeError``) that names
  the epoch, the batch and the global step. Before raising, the weights are
  restored to those of the last step whose loss was finite; the history so far
  is on the exception (``err.history``) and on ``model.history``.
* **Ctrl-C.** ``KeyboardInterrupt`` during ``fit`` stops training cleanly: it
  prints a message and returns the history (it is not re-raised). Each
  optimizer step is applied as a whole: an interrupt that arrives during the
  update is held back until every weight has been written, so the weights are
  always those after a complete step. Only completed epochs appear in
  ``history.history``; every completed batch is in ``history.batch_history``.
* **Checkpoints.** ``save`` writes a single ``.npz`` (architecture as JSON,
  weights, optional optimizer state) to a temporary file in the same
  directory and then renames it over the target with ``os.replace``, so a
  crash mid-save never leaves a half-written checkpoint. ``load`` of a
  corrupt file, or ``load_weights`` into a different architecture, raises a
  ``ValueError`` that says what is wrong.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import sys
import tempfile
import threading
import warnings
import zipfile
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from . import layers as layers_mod
from . import losses as losses_mod
from . import optim as optim_mod
from ._checks import describe
from .utils import as_rng

FORMAT_NAME = "lstm_teach.Sequential"
FORMAT_VERSION = 1


class TrainingDivergedError(RuntimeError):
    """``fit`` met a NaN or inf (loss, gradient or updated weights).

    Attributes
    ----------
    epoch, batch : int
        0-based epoch and batch index of the failing step.
    step : int
        1-based global step number (counting every batch of every epoch).
    quantity : str
        ``"loss"``, ``"gradient"`` or ``"weights"``.
    value : float
        The offending value (the loss, or the gradient norm).
    history : History
        Everything recorded before the failure.
    """

    def __init__(self, message, *, epoch, batch, step, quantity, value, history):
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch
        self.step = step
        self.quantity = quantity
        self.value = value
        self.history = history


# --------------------------------------------------------------------------- callbacks


class Callback:
    """Base class: override any of the hooks. ``self.model`` is set by ``fit``.

    ``logs`` is a dict: per batch ``{"loss": float, <metric>: float, "size": int}``;
    per epoch the epoch means, plus ``val_loss`` / ``val_<metric>`` when there is
    validation data. Set ``self.model.stop_training = True`` to stop after the
    current batch.
    """

    model = None

    def set_model(self, model) -> None:
        self.model = model

    def on_train_begin(self, logs=None): ...

    def on_train_end(self, logs=None): ...

    def on_epoch_begin(self, epoch, logs=None): ...

    def on_epoch_end(self, epoch, logs=None): ...

    def on_batch_begin(self, batch, logs=None): ...

    def on_batch_end(self, batch, logs=None): ...


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_batch_end=lambda b, logs: ...)``.

    Each argument is optional and has the signature of the hook it replaces
    (``on_train_begin(logs)``, ``on_epoch_end(epoch, logs)``, ...).
    """

    def __init__(self, on_train_begin=None, on_train_end=None, on_epoch_begin=None,
                 on_epoch_end=None, on_batch_begin=None, on_batch_end=None):
        hooks = {
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_batch_begin": on_batch_begin,
            "on_batch_end": on_batch_end,
        }
        for name, fn in hooks.items():
            if fn is not None:
                if not callable(fn):
                    raise TypeError(f"{name} must be callable; got {describe(fn)}")
                setattr(self, name, fn)


class History(Callback):
    """Records the logs of every epoch and every batch.

    Attributes
    ----------
    history : dict of str -> list of float
        One entry per completed epoch: ``loss``, metrics, ``val_*``.
    epoch : list of int
        The completed epochs (0-based).
    batch_history : dict of str -> list of float
        One entry per completed batch: ``loss`` and metrics.
    interrupted : bool
        True if ``fit`` was stopped by KeyboardInterrupt.
    """

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.batch_history: dict[str, list[float]] = {}
        self.interrupted = False

    def on_batch_end(self, batch, logs=None):
        for k, v in (logs or {}).items():
            if k != "size":
                self.batch_history.setdefault(k, []).append(v)

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    @property
    def batch_loss(self) -> list[float]:
        """The loss of every completed batch, in order."""
        return self.batch_history.get("loss", [])

    def __repr__(self) -> str:
        keys = ", ".join(self.history)
        return f"<History epochs={len(self.epoch)} batches={len(self.batch_loss)} keys=[{keys}]>"


class EarlyStopping(Callback):
    """Stop training when a monitored quantity has stopped improving.

    Parameters
    ----------
    monitor : str
        A key of the epoch logs, ``"val_loss"`` by default.
    min_delta : float
        An improvement smaller than this does not count.
    patience : int
        Epochs without improvement before stopping.
    mode : {"auto", "min", "max"}
        Whether smaller or larger is better; "auto" means max for accuracies,
        min otherwise.
    restore_best_weights : bool
        At the end of training, put back the weights of the best epoch.
    baseline : float, optional
        Stop if the quantity does not beat this within ``patience`` epochs.

    Attributes
    ----------
    best : float
    best_epoch : int
    stopped_epoch : int or None
        The epoch after which training stopped (None if it ran to the end).
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto",
                 restore_best_weights=False, baseline=None):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be one of ['auto', 'min', 'max']; got {mode!r}")
        if mode == "auto":
            mode = "max" if ("acc" in monitor) else "min"
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = int(patience)
        self.mode = mode
        self.restore_best_weights = bool(restore_best_weights)
        self.baseline = baseline

    def _better(self, value, reference) -> bool:
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = None
        self.best_epoch = None
        self.best_weights = None
        if self.baseline is not None:
            self.best = float(self.baseline)
        else:
            self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(
                f"EarlyStopping monitors {self.monitor!r}, but the epoch logs only have "
                f"{sorted(logs)}; pass validation_data to fit, or monitor one of those"
            )
        value = float(logs[self.monitor])
        if self._better(value, self.best):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class _CallbackList:
    def __init__(self, callbacks, model):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be Callback instances; got {describe(cb)}")
            cb.set_model(model)

    def __getattr__(self, hook):
        def call(*args):
            for cb in self.callbacks:
                getattr(cb, hook)(*args)

        return call


# --------------------------------------------------------------------------- progress


class _Progress:
    """tqdm.auto bar per epoch (verbose=1), one line per epoch (verbose=2), or nothing."""

    def __init__(self, verbose, epochs, n_batches):
        self.verbose, self.epochs, self.n_batches = verbose, epochs, n_batches
        self.bar = None

    def epoch_begin(self, epoch):
        if self.verbose == 1:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.n_batches, desc=f"Epoch {epoch + 1}/{self.epochs}",
                            unit="batch", leave=True)

    def batch_end(self, logs):
        if self.bar is not None:
            self.bar.set_postfix(_format_logs(logs), refresh=False)
            self.bar.update(1)

    def epoch_end(self, epoch, logs):
        if self.bar is not None:
            self.bar.set_postfix(_format_logs(logs), refresh=True)
            self.close()
        elif self.verbose == 2:
            text = "  ".join(f"{k}={v}" for k, v in _format_logs(logs).items())
            print(f"Epoch {epoch + 1}/{self.epochs}  {text}")

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _format_logs(logs) -> dict:
    return {k: f"{v:.4g}" for k, v in logs.items() if k != "size"}


# --------------------------------------------------------------------------- metrics


def _make_metric(spec, loss_name):
    """Return ``(name, fn(pred, y) -> float)``; accuracy adapts to the loss."""
    if callable(spec):
        return getattr(spec, "__name__", "metric"), spec
    if not isinstance(spec, str):
        raise TypeError(f"metrics must be names or callables; got {describe(spec)}")
    key = spec.lower()
    if key in ("accuracy", "acc"):
        if loss_name == "sparse_categorical_crossentropy":
            return "accuracy", _sparse_accuracy
        if loss_name == "categorical_crossentropy":
            return "accuracy", _categorical_accuracy
        if loss_name == "binary_crossentropy":
            return "accuracy", _binary_accuracy
        raise ValueError(
            f"metric 'accuracy' needs a classification loss (sparse_categorical_crossentropy, "
            f"categorical_crossentropy or binary_crossentropy); the model uses {loss_name!r}"
        )
    if key in ("mae", "mean_absolute_error"):
        return "mae", lambda p, y: float(np.mean(np.abs(p - y)))
    if key in ("mse", "mean_squared_error"):
        return "mse", lambda p, y: float(np.mean((p - y) ** 2))
    raise ValueError(f"unknown metric {spec!r}; expected 'accuracy', 'mae', 'mse' or a callable")


def _sparse_accuracy(logits, labels):
    labels = np.asarray(labels)
    if labels.shape == logits.shape[:-1] + (1,):
        labels = labels[..., 0]
    return float(np.mean(np.argmax(logits, axis=-1) == labels))


def _categorical_accuracy(logits, target):
    return float(np.mean(np.argmax(logits, axis=-1) == np.argmax(target, axis=-1)))


def _binary_accuracy(logits, target):
    return float(np.mean((np.asarray(logits) > 0) == (np.asarray(target) > 0.5)))


# --------------------------------------------------------------------------- interrupt guard


@contextlib.contextmanager
def _hold_interrupts():
    """Delay Ctrl-C until the block has finished, so a weight update is never half-applied.

    Only in the main thread and only when SIGINT has a Python handler (the
    default one raises KeyboardInterrupt); otherwise a no-op.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous):
        yield
        return
    received = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            previous(signal.SIGINT, received[0])


# --------------------------------------------------------------------------- the model


_DEFAULT_NAMES = {"LSTM": "lstm", "SimpleRNN": "simple_rnn", "Dense": "dense",
                  "Embedding": "embedding", "Dropout": "dropout"}


class Sequential:
    """A stack of layers, each feeding the next.

    Parameters
    ----------
    layers : list of Layer, optional
    name : str
    seed : int or np.random.Generator, optional
        Source of the initial weights, the dropout masks and the shuffling.
        The same seed gives the same training run.

    Attributes
    ----------
    layers : list of Layer
    optimizer : Optimizer or None
        Set by :meth:`compile`.
    loss : callable or None
        ``loss(pred, y) -> (value, dpred)`` (see :mod:`lstm_teach.losses`).
    history : History or None
        Of the last ``fit``.
    stop_training : bool
        Callbacks set it to stop ``fit`` after the current batch.
    """

    def __init__(self, layers=None, name="sequential", seed=None):
        self.name = name
        self.layers: list[layers_mod.Layer] = []
        self.rng = as_rng(seed)
        self.optimizer = None
        self.loss = None
        self.loss_name = None
        self.metrics: list[tuple[str, Callable]] = []
        self._metric_specs: list = []
        self.history = None
        self.stop_training = False
        self.built = False
        self.input_shape = None
        for layer in layers or []:
            self.add(layer)

    # -- construction ------------------------------------------------------------
    def add(self, layer) -> None:
        """Append a layer (before the model is built)."""
        if not isinstance(layer, layers_mod.Layer):
            raise TypeError(f"Sequential takes Layer objects; got {describe(layer)}")
        if self.built:
            raise RuntimeError("cannot add layers to a model that is already built")
        if getattr(layer, "return_state", False):
            raise ValueError(
                f"{type(layer).__name__}(return_state=True) returns a tuple, which a "
                "Sequential model cannot pass to the next layer; use the layer on its own"
            )
        taken = {lay.name for lay in self.layers}
        if layer.name is None:
            base = _DEFAULT_NAMES.get(type(layer).__name__, type(layer).__name__.lower())
            name, k = base, 0
            while name in taken:
                k += 1
                name = f"{base}_{k}"
            layer.name = name
        elif layer.name in taken:
            raise ValueError(f"layer name {layer.name!r} is used twice in the model")
        self.layers.append(layer)

    def build(self, input_shape, dtype=None) -> None:
        """Create every layer's weights for inputs of ``input_shape``.

        Parameters
        ----------
        input_shape : tuple
            With the batch axis first, e.g. ``(None, 50, 2)`` for sequences of 50
            steps of 2 features (Keras convention; ``None`` = any size).
        dtype : numpy dtype, optional
            Weight dtype (default float64; ``fit`` on float32 data builds float32).
        """
        if not self.layers:
            raise ValueError("the model has no layers; pass a list to Sequential or call add()")
        shape = tuple(None if s is None else int(s) for s in input_shape)
        self.input_shape = shape
        for layer in self.layers:
            if not layer.built:
                layer.build(shape, rng=self.rng, dtype=dtype)
            shape = layer.output_shape
        self.built = True

    def _ensure_built(self, x) -> None:
        if not self.built:
            dtype = x.dtype if x.dtype.kind == "f" else np.float64
            self.build((None,) + x.shape[1:], dtype=dtype)

    def _require_built(self, what):
        if not self.built:
            raise RuntimeError(
                f"the model is not built yet; call model.build((None, T, D)) or fit it "
                f"before {what}"
            )

    @property
    def output_shape(self):
        self._require_built("asking for its output shape")
        return self.layers[-1].output_shape

    # -- weights -------------------------------------------------------------------
    @property
    def params(self) -> dict[str, np.ndarray]:
        """All weights as ``{"layer/key": array}`` (the arrays themselves, not copies)."""
        return {f"{lay.name}/{k}": lay.params[k] for lay in self.layers for k in lay.weight_names}

    def trainable_params(self) -> dict[str, np.ndarray]:
        """The weights ``fit`` updates: those of layers with ``trainable=True``."""
        return {f"{lay.name}/{k}": a for lay in self.layers for k, a in
                lay.trainable_params().items()}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """Gradients of the last backward pass, keyed like :attr:`params`."""
        return {f"{lay.name}/{k}": g for lay in self.layers for k, g in lay.grads.items()}

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all weights, layer by layer, each layer in Keras order (kernel,
        recurrent kernel, bias). For ``[LSTM, Dense]``: ``[W, U, b, W_dense, b_dense]``."""
        self._require_built("get_weights")
        return [w for lay in self.layers for w in lay.get_weights()]

    def set_weights(self, weights) -> None:
        """Set all weights, in place.

        Parameters
        ----------
        weights : list of arrays, or dict
            A list in :meth:`get_weights` order; or a dict ``{"lstm/W": W, ...}``
            keyed like :attr:`params`; or ``{"lstm": {"W": W, "U": U, "b": b},
            "dense": {...}}`` by layer name (every layer must be given). To
            copy the parameters of a from-scratch LSTM into one layer, use
            ``model.layers[0].set_params(params)``.
        """
        self._require_built("set_weights")
        if isinstance(weights, Mapping):
            per_layer: dict[str, dict] = {}
            for key, value in weights.items():
                if isinstance(value, Mapping):
                    per_layer[key] = dict(value)
                else:
                    lname, _, wname = str(key).rpartition("/")
                    per_layer.setdefault(lname, {})[wname] = value
            names = [lay.name for lay in self.layers if lay.weight_names]
            unknown = sorted(set(per_layer) - set(names))
            missing = [n for n in names if n not in per_layer]
            if unknown or missing:
                raise ValueError(
                    f"set_weights: layers {names} need weights; "
                    f"missing {missing}, unknown {unknown}"
                )
            pending = [(lay, per_layer[lay.name]) for lay in self.layers if lay.weight_names]
        else:
            weights = list(weights)
            expected = sum(len(lay.weight_names) for lay in self.layers)
            if len(weights) != expected:
                raise ValueError(
                    f"set_weights expects {expected} arrays "
                    f"{[k for k in self.params]}; got {len(weights)}"
                )
            pending, i = [], 0
            for lay in self.layers:
                n = len(lay.weight_names)
                pending.append((lay, dict(zip(lay.weight_names, weights[i : i + n], strict=True))))
                i += n
        # Check every layer before writing anything, so a bad call changes nothing.
        for lay, values in pending:
            for k in lay.weight_names:
                if k not in values:
                    raise ValueError(f"set_weights: layer {lay.name!r} is missing weight {k!r}")
                shape = np.shape(values[k])
                if shape != lay.params[k].shape:
                    raise ValueError(
                        f"set_weights: {lay.name}/{k} must have shape {lay.params[k].shape}; "
                        f"got {shape}"
                    )
        for lay, values in pending:
            lay.set_params(values)

    def count_params(self) -> int:
        return int(sum(lay.count_params() for lay in self.layers))

    # -- compile --------------------------------------------------------------------
    def compile(self, optimizer="adam", loss="mse", metrics=None) -> None:
        """Choose the optimizer, the loss and the metrics.

        Parameters
        ----------
        optimizer : Optimizer or str
            e.g. ``optim.Adam(learning_rate=1e-2, clipnorm=1.0)`` or ``"adam"``.
        loss : str or callable
            A name from :mod:`lstm_teach.losses` (``"mse"``,
            ``"sparse_categorical_crossentropy"``, ...) or ``fn(pred, y) ->
            (loss, dpred)``. Cross-entropies take logits: end the model with a
            linear ``Dense``.
        metrics : list of str or callable, optional
            ``"accuracy"`` (matched to the loss), ``"mae"``, ``"mse"``, or
            ``fn(pred, y) -> float``.
        """
        self.optimizer = optim_mod.get(optimizer)
        self.loss = losses_mod.get(loss)
        self.loss_name = losses_mod.canonical_name(loss)
        self._metric_specs = list(metrics or [])
        self.metrics = [_make_metric(m, self.loss_name) for m in self._metric_specs]

    def _require_compiled(self, what):
        if self.loss is None:
            raise RuntimeError(f"call model.compile(optimizer=..., loss=...) before {what}")

    # -- forward / backward --------------------------------------------------------------
    def forward(self, x, training=False):
        """Run all layers; returns the model output."""
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def __call__(self, x, training=False):
        """Build on first use (from ``x.shape``) and run :meth:`forward`."""
        x = np.asarray(x)
        self._ensure_built(x)
        return self.forward(x, training=training)

    def backward(self, dout):
        """Backpropagate ``dout`` through all layers (fills each layer's ``grads``); returns dx."""
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
            if dout is None:  # an Embedding: integer inputs have no gradient
                break
        return dout

    def regularization_loss(self) -> float:
        return float(sum(lay.regularization_loss() for lay in self.layers))

    def compute_gradients(self, x, y, training=False):
        """Loss (data loss + regularization) and the gradients of all weights.

        Returns
        -------
        loss : float
        grads : dict of str -> array
            Keyed like :attr:`params` (frozen layers included), for gradient
            checks and hand-written training loops.
        """
        self._require_compiled("compute_gradients")
        x = np.asarray(x)
        self._ensure_built(x)
        out = self.forward(x, training=training)
        loss, dout = self.loss(out, y)
        self.backward(dout)
        return loss + self.regularization_loss(), self.grads

    # -- training --------------------------------------------------------------------
    def _train_step(self, xb, yb, good):
        """One optimizer step. Returns ``(loss, out)``; raises ``_Diverged`` on NaN/inf.

        ``good`` holds buffers for the last weights whose loss was finite.
        """
        out = self.forward(xb, training=True)
        data_loss, dout = self.loss(out, yb)
        loss = data_loss + self.regularization_loss()
        if not math.isfinite(loss):
            _restore(good)
            raise _Diverged("loss", loss)
        _snapshot(good)
        if not np.isfinite(dout).all():
            raise _Diverged("gradient", float(np.linalg.norm(dout)))
        try:
            self.backward(dout)
        except ValueError as exc:  # the core refuses a NaN/inf gradient between layers
            if "non-finite" not in str(exc):
                raise
            raise _Diverged("gradient", math.nan) from None
        train = self.trainable_params()
        grads = {k: g for k, g in self.grads.items() if k in train}
        norm = optim_mod.global_norm(grads)
        if not math.isfinite(norm):
            raise _Diverged("gradient", norm)
        with _hold_interrupts():
            self.optimizer.step(train, grads)
        if not all(np.isfinite(p).all() for p in train.values()):
            _restore(good)
            raise _Diverged("weights", norm)
        return loss, out

    def train_on_batch(self, x, y) -> float:
        """One optimizer step on one batch; returns the loss before the step."""
        self._require_compiled("train_on_batch")
        x = np.asarray(x)
        self._ensure_built(x)
        good = _snapshot_buffers(self.trainable_params())
        try:
            loss, _ = self._train_step(x, np.asarray(y), good)
        except _Diverged as d:
            raise TrainingDivergedError(
                f"train_on_batch: the {d.quantity} is not finite ({d.value}); weights restored",
                epoch=0, batch=0, step=self.optimizer.iterations + 1, quantity=d.quantity,
                value=d.value, history=self.history,
            ) from None
        return loss

    def fit(self, x, y, batch_size=32, epochs=1, validation_data=None, validation_split=0.0,
            shuffle=True, seed=None, verbose=1, callbacks=None) -> History:
        """Train the model.

        Parameters
        ----------
        x : array (N, T, D) (or (N, T) token ids for an Embedding model)
        y : array (N, ...) matching the model output (integer labels for the
            sparse cross-entropy)
        batch_size : int
        epochs : int
        validation_data : tuple (x_val, y_val), optional
            Evaluated after every epoch (``val_loss``, ``val_<metric>``).
        validation_split : float in [0, 1)
            Hold out this fraction of the *last* samples as validation data
            (ignored when ``validation_data`` is given).
        shuffle : bool
            Reshuffle the samples every epoch (turn off for stateful models).
        seed : int, optional
            Seeds the shuffling (default: the model's generator).
        verbose : {0, 1, 2}
            0 silent, 1 a tqdm progress bar per epoch (a widget in Jupyter),
            2 one line per epoch.
        callbacks : list of Callback, optional

        Returns
        -------
        History
            Also stored as ``model.history``.

        Raises
        ------
        TrainingDivergedError
            On a NaN or inf loss, gradient or weight (the weights are restored
            to the last finite-loss step first).
        """
        self._require_compiled("fit")
        if verbose not in (0, 1, 2, True, False):
            raise ValueError(f"verbose must be 0, 1 or 2; got {verbose!r}")
        verbose = int(verbose)
        x, y = np.asarray(x), np.asarray(y)
        _check_xy(x, y)
        batch_size = _positive_int("batch_size", batch_size)
        epochs = _positive_int("epochs", epochs)
        if validation_data is None and validation_split:
            if not 0.0 < validation_split < 1.0:
                raise ValueError(f"validation_split must lie in (0, 1); got {validation_split}")
            n_val = int(round(len(x) * validation_split))
            if n_val == 0 or n_val == len(x):
                raise ValueError(f"validation_split={validation_split} leaves no train or val data")
            x, y, validation_data = x[:-n_val], y[:-n_val], (x[-n_val:], y[-n_val:])
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise TypeError("validation_data must be a tuple (x_val, y_val)")
            validation_data = (np.asarray(validation_data[0]), np.asarray(validation_data[1]))
            _check_xy(*validation_data, names=("x_val", "y_val"))
        self._ensure_built(x)
        if shuffle and any(getattr(lay, "stateful", False) for lay in self.layers):
            warnings.warn("shuffle=True with a stateful layer: sample i of one batch will not "
                          "continue sample i of the previous one; pass shuffle=False",
                          stacklevel=2)
        rng = self.rng if seed is None else as_rng(seed)

        history = History()
        self.history = history
        cbs = _CallbackList([history, *(callbacks or [])], self)
        n = len(x)
        n_batches = math.ceil(n / batch_size)
        progress = _Progress(verbose, epochs, n_batches)
        good = _snapshot_buffers(self.trainable_params())
        self.stop_training = False
        epoch = batch = 0
        cbs.on_train_begin({})
        try:
            for epoch in range(epochs):
                cbs.on_epoch_begin(epoch, {})
                progress.epoch_begin(epoch)
                order = rng.permutation(n) if shuffle else None
                totals: dict[str, float] = {}
                seen = 0
                for batch in range(n_batches):
                    idx = slice(batch * batch_size, (batch + 1) * batch_size)
                    if order is not None:
                        idx = order[idx]
                    xb, yb = x[idx], y[idx]
                    cbs.on_batch_begin(batch, {"size": len(xb)})
                    try:
                        loss, out = self._train_step(xb, yb, good)
                    except _Diverged as d:
                        raise self._diverged_error(d, epoch, batch, n_batches, history) from None
                    logs = {"loss": loss}
                    for name, fn in self.metrics:
                        logs[name] = fn(out, yb)
                    for k, v in logs.items():
                        totals[k] = totals.get(k, 0.0) + v * len(xb)
                    seen += len(xb)
                    logs["size"] = len(xb)
                    cbs.on_batch_end(batch, logs)
                    progress.batch_end(logs)
                    if self.stop_training:
                        break
                epoch_logs = {k: v / seen for k, v in totals.items()}
                if validation_data is not None:
                    with self._set_aside_states():
                        val = self.evaluate(*validation_data, batch_size=batch_size,
                                            return_dict=True)
                    epoch_logs.update({f"val_{k}": v for k, v in val.items()})
                cbs.on_epoch_end(epoch, epoch_logs)
                progress.epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
        except KeyboardInterrupt:
            progress.close()
            history.interrupted = True
            self.stop_training = True
            print(
                f"\nTraining interrupted at epoch {epoch + 1}, batch {batch + 1}. The weights "
                f"are those after the last completed step ({self.optimizer.iterations} steps in "
                f"all); model.history keeps {len(history.batch_loss)} batch losses.",
                file=sys.stdout,
            )
        finally:
            progress.close()
        cbs.on_train_end({})
        return history

    def _diverged_error(self, d, epoch, batch, n_batches, history):
        step = epoch * n_batches + batch + 1
        what = {
            "loss": f"the loss is {d.value}",
            "gradient": f"the gradient norm is {d.value}",
            "weights": "the update made some weights non-finite",
        }[d.quantity]
        restored = ("the weights were restored to those of the last step with a finite loss"
                    if d.quantity != "gradient" else "no update was applied")
        return TrainingDivergedError(
            f"training diverged at epoch {epoch + 1}, batch {batch + 1} (step {step}): {what}; "
            f"{restored}. Try a smaller learning_rate, clipnorm (e.g. 1.0), or check the data "
            "for NaN/inf.",
            epoch=epoch, batch=batch, step=step, quantity=d.quantity, value=d.value,
            history=history,
        )

    # -- inference ---------------------------------------------------------------------
    def predict(self, x, batch_size=None) -> np.ndarray:
        """Outputs for ``x`` in inference mode (no dropout), batch by batch.

        ``batch_size=None`` uses batches of up to 1024 samples (use the
        training batch size for stateful models). Cross-entropy models return
        logits.
        """
        x = np.asarray(x)
        if x.ndim == 0:
            raise ValueError(f"x must have a batch axis; got {describe(x)}")
        self._ensure_built(x)
        batch_size = 1024 if batch_size is None else _positive_int("batch_size", batch_size)
        outs = [self.forward(x[i : i + batch_size], training=False)
                for i in range(0, len(x), batch_size)]
        return outs[0].copy() if len(outs) == 1 else np.concatenate(outs)

    def evaluate(self, x, y, batch_size=None, return_dict=False):
        """Loss (plus regularization) and metrics on ``(x, y)`` in inference mode.

        Returns
        -------
        float, list, or dict
            Like Keras: the loss alone when there are no metrics, else
            ``[loss, metric, ...]``; with ``return_dict=True``
            ``{"loss": ..., "<metric>": ...}``.
        """
        self._require_compiled("evaluate")
        x, y = np.asarray(x), np.asarray(y)
        _check_xy(x, y)
        self._ensure_built(x)
        batch_size = 1024 if batch_size is None else _positive_int("batch_size", batch_size)
        totals: dict[str, float] = {}
        for i in range(0, len(x), batch_size):
            xb, yb = x[i : i + batch_size], y[i : i + batch_size]
            out = self.forward(xb, training=False)
            values = {"loss": self.loss(out, yb)[0]}
            for name, fn in self.metrics:
                values[name] = fn(out, yb)
            for k, v in values.items():
                totals[k] = totals.get(k, 0.0) + v * len(xb)
        result = {k: v / len(x) for k, v in totals.items()}
        result["loss"] += self.regularization_loss()
        if return_dict:
            return result
        if not self.metrics:
            return result["loss"]
        return [result["loss"]] + [result[name] for name, _ in self.metrics]

    @contextlib.contextmanager
    def _set_aside_states(self):
        """Run a block (validation) from fresh states, then put the carried states back.

        The validation data is a separate stream: it must neither start from the
        training stream's state nor overwrite it (nor trip over its batch size).
        """
        saved = [(layer, layer.states) for layer in self.layers
                 if getattr(layer, "stateful", False)]
        for layer, _ in saved:
            layer.reset_states()
        try:
            yield
        finally:
            for layer, states in saved:
                layer.states = states

    def reset_states(self) -> None:
        """Reset the carried state of every stateful layer."""
        for layer in self.layers:
            if hasattr(layer, "reset_states"):
                layer.reset_states()

    # -- summary ---------------------------------------------------------------------
    def summary(self, print_fn=print):
        """A table of layers, output shapes and parameter counts.

        Prints it with ``print_fn`` (like Keras) and returns None; with
        ``print_fn=None`` returns the text instead.
        """
        self._require_built("summary()")
        rows = [("Layer (type)", "Output Shape", "Param #")]
        for lay in self.layers:
            count = f"{lay.count_params():,}" + ("" if lay.trainable else " (frozen)")
            rows.append((f"{lay.name} ({type(lay).__name__})",
                         layers_mod._shape_str(lay.output_shape), count))
        widths = [max(len(r[i]) for r in rows) + 3 for i in range(3)]
        line = "=" * sum(widths)

        def fmt(r):
            return "".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()

        total = self.count_params()
        trainable = sum(a.size for a in self.trainable_params().values())
        text = "\n".join([
            f'Model: "{self.name}"', fmt(rows[0]), line, *map(fmt, rows[1:]), line,
            f"Total params: {total:,}", f"Trainable params: {trainable:,}",
            f"Non-trainable params: {total - trainable:,}",
        ])
        if print_fn is None:
            return text
        print_fn(text)
        return None

    # -- save / load -------------------------------------------------------------------
    def get_config(self) -> dict:
        self._require_built("get_config")
        config = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "name": self.name,
            "input_shape": list(self.input_shape),
            "dtype": self.layers[0].dtype.name,
            "layers": [{"class_name": type(lay).__name__, "config": lay.get_config()}
                       for lay in self.layers],
            "compile": None,
        }
        if self.loss is not None:
            metric_names = [m for m in self._metric_specs if isinstance(m, str)]
            config["compile"] = {
                "loss": self.loss_name,
                "metrics": metric_names,
                "optimizer": self.optimizer.get_config(),
            }
        return config

    def save(self, path, include_optimizer=True) -> None:
        """Write the model to ``path`` as one ``.npz`` file, atomically.

        Contents: ``__config__`` (JSON: architecture, input shape, compile
        settings), ``weights/<layer>/<key>`` arrays and, if
        ``include_optimizer``, ``optimizer/<layer>/<key>/<slot>`` arrays and
        ``optimizer_iterations``. The file is written under a temporary name in
        the same directory and renamed over ``path`` (``os.replace``), so an
        existing checkpoint is never left half-overwritten.
        """
        config = self.get_config()
        arrays = {"__config__": np.array(json.dumps(config))}
        for key, value in self.params.items():
            arrays[f"weights/{key}"] = value
        if include_optimizer and self.optimizer is not None:
            state = self.optimizer.get_state()
            arrays["optimizer_iterations"] = np.array(state["iterations"], dtype=np.int64)
            for key, slots in state["slots"].items():
                for slot, value in slots.items():
                    arrays[f"optimizer/{key}/{slot}"] = value
        _atomic_savez(os.fspath(path), arrays)

    @classmethod
    def load(cls, path) -> Sequential:
        """A new model rebuilt from a file written by :meth:`save` (weights, compile
        settings and optimizer state included)."""
        config, arrays = _read_checkpoint(path)
        try:
            model = cls(name=config.get("name", "sequential"))
            for spec in config["layers"]:
                model.add(layers_mod.from_config(spec["class_name"], spec["config"]))
            model.build(config["input_shape"], dtype=config.get("dtype"))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                f"checkpoint {os.fspath(path)!r} has an invalid architecture description: {exc}"
            ) from None
        model._assign_weights(arrays, path)
        compile_cfg = config.get("compile")
        if compile_cfg and compile_cfg.get("loss"):
            model.compile(optimizer=optim_mod.get(compile_cfg["optimizer"]),
                          loss=compile_cfg["loss"], metrics=compile_cfg.get("metrics"))
            model._assign_optimizer_state(arrays)
        return model

    def load_weights(self, path) -> None:
        """Load the weights (and optimizer state, if compiled) of a checkpoint into this model.

        Raises
        ------
        ValueError
            If the file is corrupt, or its architecture (layer count, types,
            weight shapes) differs from this model's; nothing is changed then.
        """
        config, arrays = _read_checkpoint(path)
        saved = config.get("layers", [])
        if not self.built:
            self.build(config["input_shape"], dtype=config.get("dtype"))
        ours = [type(lay).__name__ for lay in self.layers]
        theirs = [spec.get("class_name") for spec in saved]
        if ours != theirs:
            raise ValueError(
                f"checkpoint {os.fspath(path)!r} does not match this model: it holds layers "
                f"{theirs}, this model has {ours}"
            )
        self._assign_weights(arrays, path)
        if self.optimizer is not None:
            self._assign_optimizer_state(arrays)

    def _assign_weights(self, arrays, path) -> None:
        saved_keys = sorted(k[len("weights/"):] for k in arrays if k.startswith("weights/"))
        ours = self.params
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

    def _assign_optimizer_state(self, arrays) -> None:
        slots: dict[str, dict[str, np.ndarray]] = {}
        for k, v in arrays.items():
            if k.startswith("optimizer/"):
                key, _, slot = k[len("optimizer/"):].rpartition("/")
                slots.setdefault(key, {})[slot] = v
        if "optimizer_iterations" in arrays:
            params = self.params
            bad = [k for k, s in slots.items()
                   if k not in params or any(a.shape != params[k].shape for a in s.values())]
            if bad:
                raise ValueError(f"checkpoint optimizer state does not match weights {bad}")
            self.optimizer.set_state({"iterations": int(arrays["optimizer_iterations"]),
                                      "slots": slots})

    def __repr__(self) -> str:
        names = ", ".join(lay.name for lay in self.layers)
        return f"<Sequential {self.name!r}: [{names}]>"


def load_model(path) -> Sequential:
    """Same as :meth:`Sequential.load`."""
    return Sequential.load(path)


# --------------------------------------------------------------------------- helpers


class _Diverged(Exception):
    def __init__(self, quantity, value):
        super().__init__(quantity)
        self.quantity, self.value = quantity, value


def _snapshot_buffers(params: Mapping[str, np.ndarray]) -> list:
    """Pairs (live array, private copy) used to restore the last good weights."""
    return [(p, p.copy()) for p in params.values()]


def _snapshot(good) -> None:
    for live, saved in good:
        np.copyto(saved, live)


def _restore(good) -> None:
    for live, saved in good:
        np.copyto(live, saved)


def _positive_int(name, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _check_xy(x, y, names=("x", "y")) -> None:
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"{names[0]} and {names[1]} must have a batch axis; got shapes "
                         f"{x.shape} and {y.shape}")
    if len(x) != len(y):
        raise ValueError(
            f"{names[0]} and {names[1]} must hold the same number of samples; got "
            f"{len(x)} ({names[0]} shape {x.shape}) and {len(y)} ({names[1]} shape {y.shape})"
        )
    if len(x) == 0:
        raise ValueError(f"{names[0]} is empty")


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


__all__: Sequence[str] = [
    "Callback",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "Sequential",
    "TrainingDivergedError",
    "load_model",
]
