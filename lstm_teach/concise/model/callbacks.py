"""Callbacks: hooks that :meth:`Sequential.fit` calls at every batch and epoch."""

from __future__ import annotations

import math

from ...core._checks import check_bool, describe


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
        self.restore_best_weights = check_bool("restore_best_weights", restore_best_weights)
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
