"""A small Keras-like ``Sequential`` model: compile, fit, predict, evaluate, save, load.

::

    from lstm_teach import layers, optim
    from lstm_teach import Sequential

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
import math
import sys
import warnings
from collections.abc import Callable, Mapping

import numpy as np

from ...core import losses as losses_mod
from ...core._checks import check_finite, describe
from ...core.utils import as_rng
from .. import layers as layers_mod
from .. import optim as optim_mod
from ..layers.base import _shape_str
from ..training import EXPLOSION_FACTOR, TrainingDivergedError, TrainingGuard
from . import checkpoints
from .callbacks import History, _CallbackList
from .checkpoints import FORMAT_NAME, FORMAT_VERSION
from .metrics import _make_metric
from .progress import _Progress

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
        # fit stops when a loss exceeds this many times its first one (None: only NaN/inf)
        self.explosion_factor = EXPLOSION_FACTOR
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
    def _train_step(self, xb, yb, guard):
        """One guarded optimizer step (see :mod:`lstm_teach.concise.training`).

        Returns ``(loss, out)``; raises ``TrainingDivergedError`` (without the
        fit context) after restoring the last good weights.
        """
        out = self.forward(xb, training=True)
        data_loss, dout = self.loss(out, yb)
        loss = data_loss + self.regularization_loss()
        train = self.trainable_params()

        def gradients():
            self.backward(dout)
            return {k: g for k, g in self.grads.items() if k in train}

        guard.step(self.optimizer, loss, gradients, params=train)
        return loss, out

    def train_on_batch(self, x, y) -> float:
        """One optimizer step on one batch; returns the loss before the step."""
        self._require_compiled("train_on_batch")
        x, y = np.asarray(x), np.asarray(y)
        _check_xy(x, y)
        self._ensure_built(x)
        guard = TrainingGuard(self.trainable_params(), explosion_factor=None)
        try:
            loss, _ = self._train_step(x, y, guard)
        except TrainingDivergedError as d:
            raise TrainingDivergedError(
                f"train_on_batch: {d}; the weights were left as they were",
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
            On a NaN or inf loss, gradient or weight, or a loss more than
            ``model.explosion_factor`` (1e4) times the first batch's (the
            weights are restored to the last step with a good loss first).
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
        guard = TrainingGuard(self.trainable_params(), self.explosion_factor)
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
                        loss, out = self._train_step(xb, yb, guard)
                    except TrainingDivergedError as d:
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
        restored = ("the weights were restored to those of the last step with a good loss"
                    if d.quantity != "gradient" else "no update was applied")
        return TrainingDivergedError(
            f"training diverged at epoch {epoch + 1}, batch {batch + 1} (step {step}): {d}; "
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
        if len(x) == 0:
            raise ValueError(f"predict needs at least one sample; x has shape {x.shape}")
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
                         _shape_str(lay.output_shape), count))
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
        """Write the model to ``path`` as one ``.npz`` file, atomically (see
        :func:`~lstm_teach.concise.model.checkpoints.save_model`)."""
        checkpoints.save_model(self, path, include_optimizer=include_optimizer)

    @classmethod
    def load(cls, path) -> Sequential:
        """A new model rebuilt from a file written by :meth:`save` (weights, compile
        settings and optimizer state included)."""
        return checkpoints.load_model(cls, path)

    def load_weights(self, path) -> None:
        """Load a checkpoint's weights (and optimizer state, if compiled) into this model;
        ``ValueError`` if it does not fit (see
        :func:`~lstm_teach.concise.model.checkpoints.load_weights`)."""
        checkpoints.load_weights(self, path)

    def __repr__(self) -> str:
        names = ", ".join(lay.name for lay in self.layers)
        return f"<Sequential {self.name!r}: [{names}]>"


def load_model(path) -> Sequential:
    """Same as :meth:`Sequential.load`."""
    return Sequential.load(path)


# --------------------------------------------------------------------------- helpers


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
    for name, arr in zip(names, (x, y), strict=True):
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold numbers; got dtype {arr.dtype}")
        if arr.dtype.kind == "f":
            check_finite(name, arr)  # a NaN target poisons every gradient of the batch
