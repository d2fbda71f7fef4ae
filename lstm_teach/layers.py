"""Keras-like layers on top of the functional core: LSTM, SimpleRNN, Dense, Embedding, Dropout.

These are the "concise implementation" of the course. Each layer is a thin
object around the core functions (the LSTM layer calls
:func:`lstm_teach.lstm_forward` and :func:`lstm_teach.lstm_backward`; there is
no second LSTM implementation here), so what a learner builds from scratch and
what the layer does are the same computation.

Every layer follows one protocol:

``build(input_shape, rng=None, dtype=None)``
    create the parameters for inputs of ``input_shape`` (batch axis first,
    ``None`` allowed for unknown sizes); ``rng`` makes the initialisation
    reproducible. Calling a layer on data builds it automatically.
``forward(x, training=False)``
    compute the output and keep what the backward pass needs;
    ``training=True`` switches dropout on.
``backward(dout)``
    given d loss / d output, fill ``layer.grads`` (same keys as
    ``layer.params``, regularization gradients included) and return
    d loss / d input, multiplied by ``gradient_scale``.

Weights are plain numpy arrays in ``layer.params`` with the core's names
(``W``, ``U``, ``b``, ``P``), so ``layer.set_params(init_lstm(...))`` gives a
layer the exact weights of a from-scratch model. ``get_weights()`` lists them
in Keras order (kernel, recurrent kernel, bias), and the gate order [i, f, g, o]
is also the Keras order, so weights can be copied from a Keras LSTM as they are.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import activations, regularizers
from . import init as initializers
from ._checks import as_float_array, check_ndim, check_positive_int, describe
from .lstm import LSTMConfig, lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from .utils import as_rng

# --------------------------------------------------------------------------- helpers


def _uniform_small(shape, rng=None, dtype=np.float64):
    """U(-0.05, 0.05), the Keras default for embeddings."""
    return as_rng(rng).uniform(-0.05, 0.05, size=shape).astype(dtype)


def _ones(shape, rng=None, dtype=np.float64):
    return np.ones(shape, dtype=dtype)


def _random_normal(shape, rng=None, dtype=np.float64):
    """N(0, 0.05^2), the Keras RandomNormal default."""
    return (0.05 * as_rng(rng).standard_normal(shape)).astype(dtype)


_EXTRA_INITIALIZERS = {"uniform": _uniform_small, "ones": _ones, "random_normal": _random_normal}


def get_initializer(spec):
    """An initializer ``f(shape, rng, dtype=...)`` from a name or a callable.

    Names: those of :mod:`lstm_teach.init` (``"glorot_uniform"``,
    ``"orthogonal"``, ``"zeros"``) plus ``"ones"``, ``"uniform"``
    (U(-0.05, 0.05)) and ``"random_normal"`` (N(0, 0.05^2)). A callable is
    called as ``f(shape, rng)`` and its result cast to the layer's dtype.
    """
    if callable(spec):
        return spec
    if isinstance(spec, str) and spec in _EXTRA_INITIALIZERS:
        return _EXTRA_INITIALIZERS[spec]
    known = sorted(initializers.INITIALIZERS) + sorted(_EXTRA_INITIALIZERS)
    if not isinstance(spec, str) or spec not in initializers.INITIALIZERS:
        raise ValueError(f"unknown initializer {spec!r}; expected a callable or one of {known}")
    return initializers.get(spec)


def _initialize(spec, shape, rng, dtype) -> np.ndarray:
    arr = np.asarray(get_initializer(spec)(shape, rng))
    if arr.shape != tuple(shape):
        raise ValueError(
            f"initializer {spec!r} returned shape {arr.shape}; expected {tuple(shape)}"
        )
    return arr.astype(dtype)


def _initializer_name(spec):
    """JSON-friendly name of an initializer (a custom callable becomes None: the default)."""
    return spec if isinstance(spec, str) else None


def _fraction(name: str, value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a float in [0, 1); got {value!r}") from None
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a float in [0, 1); got {value}")
    return value


def _dropout_mask(rng, shape, rate, dtype) -> np.ndarray:
    """Inverted-dropout mask: 0 with probability ``rate``, else 1/(1-rate)."""
    keep = rng.random(shape) >= rate
    return keep.astype(dtype) / (1.0 - rate)


def _shape_str(shape) -> str:
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ")"


# --------------------------------------------------------------------------- base class


class Layer:
    """Base class of all layers (see the module docstring for the protocol).

    Parameters
    ----------
    name : str, optional
        Shown by ``Sequential.summary()``; the model makes names unique.
    trainable : bool
        False freezes the layer: its parameters are not updated by ``fit``
        (gradients still flow through it to earlier layers).
    keep_gradients : bool
        Keep a copy of the last parameter gradients in ``layer.last_gradients``
        (also returned by :meth:`get_gradients`), for inspection.
    gradient_scale : float
        Multiplies the gradient passed back to the previous layer (the
        "loss-derivative coefficient" of some toolkits). 1 leaves it unchanged;
        0 stops gradient flow into earlier layers.
    dtype : str or numpy dtype, optional
        Parameter dtype. By default the dtype of the first input (float32
        input keeps a float32 layer), or float64 for integer input.

    Attributes
    ----------
    params, grads : dict of str -> np.ndarray
        Parameters and their gradients from the last ``backward``.
    weight_names : list of str
        The keys of ``params`` that are real weights (in ``get_weights`` order).
    built : bool
    input_shape, output_shape : tuple
        Batch axis first; ``None`` where unknown.
    """

    def __init__(self, name=None, trainable=True, keep_gradients=False, gradient_scale=1.0,
                 dtype=None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string; got {describe(name)}")
        self.name = name
        self.trainable = bool(trainable)
        self.keep_gradients = bool(keep_gradients)
        try:
            self.gradient_scale = float(gradient_scale)
        except (TypeError, ValueError):
            raise TypeError(f"gradient_scale must be a float; got {gradient_scale!r}") from None
        self.dtype = None if dtype is None else np.dtype(dtype)
        if self.dtype is not None and self.dtype.kind != "f":
            raise TypeError(f"dtype must be a floating dtype; got {self.dtype}")
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.weight_names: list[str] = []
        self.regularizers: dict[str, regularizers.Regularizer] = {}
        self.last_gradients: dict[str, np.ndarray] | None = None
        self.built = False
        self.input_shape = None
        self.output_shape = None
        self._cache = None

    # -- building -------------------------------------------------------------
    def build(self, input_shape, rng=None, dtype=None) -> None:
        """Create the parameters for inputs of ``input_shape`` (batch axis first).

        Parameters
        ----------
        input_shape : tuple
            e.g. ``(None, T, D)`` for a recurrent layer, ``(None, F)`` for Dense.
        rng : np.random.Generator or int, optional
            Source of the initial weights.
        dtype : numpy dtype, optional
            Used when the layer was created without one (default float64).
        """
        input_shape = tuple(None if s is None else int(s) for s in input_shape)
        dtype = self.dtype or (np.dtype(dtype) if dtype is not None else np.dtype(np.float64))
        if dtype.kind != "f":
            dtype = np.dtype(np.float64)
        self.dtype = dtype
        self._build(input_shape, as_rng(rng))
        self.input_shape = input_shape
        self.output_shape = self.compute_output_shape(input_shape)
        self.built = True

    def _build(self, input_shape, rng) -> None:
        """Subclasses create ``self.params`` and ``self.weight_names`` here."""

    def compute_output_shape(self, input_shape) -> tuple:
        return tuple(input_shape)

    def __call__(self, x, training=False, **kwargs):
        """Build on first use (from ``x.shape``, with an unseeded rng) and run ``forward``."""
        if not self.built:
            x_arr = np.asarray(x)
            self.build((None,) + x_arr.shape[1:], dtype=x_arr.dtype)
        return self.forward(x, training=training, **kwargs)

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise RuntimeError(
                f"layer {self.name or type(self).__name__!r} is not built yet; call "
                f"layer.build(input_shape) or run it on data before {what}"
            )

    # -- forward / backward ---------------------------------------------------
    def forward(self, x, training=False):
        raise NotImplementedError

    def backward(self, dout):
        raise NotImplementedError

    def _finish_backward(self, grads: dict, dx):
        """Add regularization gradients, store grads, apply ``gradient_scale`` to dx."""
        for key, reg in self.regularizers.items():
            if key in grads:
                grads[key] = grads[key] + reg.gradient(self.params[key])
        self.grads = grads
        if self.keep_gradients:
            self.last_gradients = {k: g.copy() for k, g in grads.items()}
        if dx is not None and self.gradient_scale != 1.0:
            dx = dx * self.gradient_scale
        return dx

    def _check_cache(self):
        if self._cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward called before forward; run forward(x) first"
            )
        return self._cache

    # -- parameters -------------------------------------------------------------
    def regularization_loss(self) -> float:
        """Sum of the regularization penalties on this layer's weights."""
        return float(sum(reg(self.params[k]) for k, reg in self.regularizers.items()))

    def trainable_params(self) -> dict[str, np.ndarray]:
        """The weights ``fit`` updates: all weights, or none when frozen."""
        if not self.trainable:
            return {}
        return {k: self.params[k] for k in self.weight_names}

    def count_params(self) -> int:
        return int(sum(self.params[k].size for k in self.weight_names))

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights, in ``weight_names`` order (Keras order)."""
        self._require_built("get_weights")
        return [self.params[k].copy() for k in self.weight_names]

    def set_weights(self, weights) -> None:
        """Set the weights from a list in ``weight_names`` order (shapes must match)."""
        self._require_built("set_weights")
        weights = list(weights)
        if len(weights) != len(self.weight_names):
            raise ValueError(
                f"layer {self.name!r} has {len(self.weight_names)} weight arrays "
                f"{self.weight_names}; got {len(weights)}"
            )
        self.set_params(dict(zip(self.weight_names, weights, strict=True)))

    def get_params(self) -> dict[str, np.ndarray]:
        """Copies of the weights as a dict keyed like the core (``W``, ``U``, ``b``, ...)."""
        self._require_built("get_params")
        return {k: self.params[k].copy() for k in self.weight_names}

    def set_params(self, params) -> None:
        """Copy ``params`` (a dict keyed like the core) into the layer's weights, in place.

        Every weight of the layer must be given, with the right shape. Values are
        copied into the existing arrays (cast to the layer dtype), so optimizer
        state and references stay valid.
        """
        self._require_built("set_params")
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict of arrays; got {describe(params)}")
        extra = sorted(set(params) - set(self.weight_names))
        missing = [k for k in self.weight_names if k not in params]
        if missing or extra:
            raise ValueError(
                f"layer {self.name!r} expects weights {self.weight_names}; "
                f"missing {missing}, unexpected {extra}"
            )
        new = {}
        for k in self.weight_names:
            arr = as_float_array(f"params[{k!r}]", params[k])
            if arr.shape != self.params[k].shape:
                raise ValueError(
                    f"layer {self.name!r}: params[{k!r}] must have shape "
                    f"{self.params[k].shape}; got {arr.shape}"
                )
            new[k] = arr
        for k, arr in new.items():
            self.params[k][...] = arr

    def get_gradients(self) -> dict[str, np.ndarray]:
        """The gradients kept by ``keep_gradients=True`` from the last backward pass."""
        if not self.keep_gradients:
            raise RuntimeError(
                f"layer {self.name!r} does not keep gradients; create it with keep_gradients=True"
            )
        if self.last_gradients is None:
            raise RuntimeError(f"layer {self.name!r} has not run a backward pass yet")
        return self.last_gradients

    # -- serialisation ----------------------------------------------------------
    def get_config(self) -> dict:
        """Constructor arguments as a JSON-friendly dict (used by ``Sequential.save``)."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "keep_gradients": self.keep_gradients,
            "gradient_scale": self.gradient_scale,
            "dtype": None if self.dtype is None else self.dtype.name,
        }

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        shape = (
            "" if self.output_shape is None
            else f", output_shape={_shape_str(self.output_shape)}"
        )
        return f"<{type(self).__name__} name={self.name!r}{shape}>"


# --------------------------------------------------------------------------- Dense


class Dense(Layer):
    """A fully connected layer on the last axis: ``y = activation(x W + b)``.

    Works on ``(B, F)`` and on ``(B, T, F)`` (the same weights at every time
    step), so it serves as the read-out after ``LSTM(return_sequences=True)``.

    Parameters
    ----------
    units : int
        Output size U.
    activation : str, optional
        An elementwise activation name from :mod:`lstm_teach.activations`;
        None (default) is linear, which is what the from-logits losses want.
    use_bias : bool
    kernel_initializer, bias_initializer : str or callable
    kernel_regularizer, bias_regularizer : regularizer, name or None
    **kwargs
        ``name``, ``trainable``, ``keep_gradients``, ``gradient_scale``, ``dtype``.

    Shapes: ``x`` (..., F) -> ``y`` (..., U); ``W`` (F, U), ``b`` (U,).
    """

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        if activation == "softmax":
            raise ValueError(
                "Dense(activation='softmax') is not supported: the cross-entropy losses in "
                "lstm_teach.losses take logits and apply the softmax themselves (stably). "
                "Use activation=None and loss='sparse_categorical_crossentropy'."
            )
        self.activation = activations.get(activation if activation is not None else "identity")
        self.use_bias = bool(use_bias)
        get_initializer(kernel_initializer)
        get_initializer(bias_initializer)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def _build(self, input_shape, rng):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(
                f"Dense needs inputs of shape (batch, ..., features) with a known feature size; "
                f"got input shape {_shape_str(input_shape)}"
            )
        F = input_shape[-1]
        self.params = {"W": _initialize(self.kernel_initializer, (F, self.units), rng, self.dtype)}
        self.weight_names = ["W"]
        if self.use_bias:
            self.params["b"] = _initialize(self.bias_initializer, (self.units,), rng, self.dtype)
            self.weight_names.append("b")
        self.regularizers = {}
        if self.kernel_regularizer is not None:
            self.regularizers["W"] = self.kernel_regularizer
        if self.bias_regularizer is not None and self.use_bias:
            self.regularizers["b"] = self.bias_regularizer

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x, training=False):
        """``x`` (..., F) -> (..., U)."""
        self._require_built("forward")
        x = as_float_array("x", x)
        W = self.params["W"]
        if x.ndim < 2 or x.shape[-1] != W.shape[0]:
            raise ValueError(
                f"Dense layer {self.name!r} expects inputs of shape (batch, ..., {W.shape[0]}); "
                f"got {x.shape}"
            )
        z = x @ W
        if self.use_bias:
            z += self.params["b"]
        y = self.activation.fn(z) if self.activation.name != "identity" else z
        self._cache = (x, y)
        return y

    def backward(self, dout):
        """``dout`` (..., U) -> dx (..., F); fills ``grads["W"]`` (F, U) and ``grads["b"]`` (U,)."""
        x, y = self._check_cache()
        dout = as_float_array("dout", dout)
        if dout.shape != y.shape:
            raise ValueError(f"dout must have the output's shape {y.shape}; got {dout.shape}")
        if self.activation.name == "identity":
            dz = dout
        else:
            dz = dout * self.activation.grad_from_output(y)
        F, U = self.params["W"].shape
        dz2 = dz.reshape(-1, U)
        grads = {"W": x.reshape(-1, F).T @ dz2}
        if self.use_bias:
            grads["b"] = dz2.sum(axis=0)
        dx = dz @ self.params["W"].T
        return self._finish_backward(grads, dx)

    def get_config(self):
        return {
            "units": self.units,
            "activation": None if self.activation.name == "identity" else self.activation.name,
            "use_bias": self.use_bias,
            "kernel_initializer": _initializer_name(self.kernel_initializer) or "glorot_uniform",
            "bias_initializer": _initializer_name(self.bias_initializer) or "zeros",
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            **super().get_config(),
        }


# --------------------------------------------------------------------------- Embedding


class Embedding(Layer):
    """A lookup table from integer tokens to vectors, for character models.

    Parameters
    ----------
    input_dim : int
        Vocabulary size V; token ids must lie in [0, V).
    output_dim : int
        Embedding size E.
    embeddings_initializer : str or callable
        ``"uniform"`` (U(-0.05, 0.05), the Keras default) by default.
    embeddings_regularizer : regularizer, name or None
    **kwargs
        ``name``, ``trainable``, ``keep_gradients``, ``dtype``.

    Shapes: ``x`` (B, T) integers -> (B, T, E); ``E`` (V, E). The input has no
    gradient, so ``backward`` returns None.
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.input_dim = check_positive_int("input_dim", input_dim)
        self.output_dim = check_positive_int("output_dim", output_dim)
        get_initializer(embeddings_initializer)
        self.embeddings_initializer = embeddings_initializer
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)

    def _build(self, input_shape, rng):
        shape = (self.input_dim, self.output_dim)
        self.params = {"E": _initialize(self.embeddings_initializer, shape, rng, self.dtype)}
        self.weight_names = ["E"]
        self.regularizers = {}
        if self.embeddings_regularizer is not None:
            self.regularizers["E"] = self.embeddings_regularizer

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def forward(self, x, training=False):
        """``x`` (B, T) ints in [0, V) -> (B, T, E)."""
        self._require_built("forward")
        tokens = np.asarray(x)
        if tokens.dtype.kind == "f" and np.all(tokens == np.round(tokens)):
            tokens = tokens.astype(np.int64)
        if tokens.dtype.kind not in "iu":
            raise TypeError(f"Embedding expects integer token ids; got {describe(tokens)}")
        if tokens.size and (tokens.min() < 0 or tokens.max() >= self.input_dim):
            raise ValueError(
                f"Embedding {self.name!r}: token ids must lie in [0, {self.input_dim}); "
                f"got values from {tokens.min()} to {tokens.max()}"
            )
        self._cache = tokens
        return self.params["E"][tokens]

    def backward(self, dout):
        """Scatter-add ``dout`` (B, T, E) into ``grads["E"]`` (V, E); returns None."""
        tokens = self._check_cache()
        dout = as_float_array("dout", dout)
        grad = np.zeros_like(self.params["E"])
        np.add.at(grad, tokens.reshape(-1), dout.reshape(-1, self.output_dim))
        self._finish_backward({"E": grad}, None)
        return None

    def get_config(self):
        return {
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": _initializer_name(self.embeddings_initializer) or "uniform",
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            **super().get_config(),
        }


# --------------------------------------------------------------------------- Dropout


class Dropout(Layer):
    """Inverted dropout: in training, zero each entry with probability ``rate``
    and scale the rest by 1/(1 - rate); at inference, the identity.

    Parameters
    ----------
    rate : float in [0, 1)
    seed : int, optional
        Seeds the layer's own generator (the model's generator otherwise).
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _fraction("rate", rate)
        self.seed = seed
        self._rng = None if seed is None else as_rng(seed)

    def _build(self, input_shape, rng):
        if self._rng is None:
            self._rng = rng

    def forward(self, x, training=False):
        x = as_float_array("x", x)
        if not training or self.rate == 0.0:
            self._cache = None
            return x
        mask = _dropout_mask(self._rng, x.shape, self.rate, x.dtype)
        self._cache = mask
        return x * mask

    def backward(self, dout):
        mask = self._cache
        dx = dout if mask is None else dout * mask
        return self._finish_backward({}, dx)

    def get_config(self):
        return {"rate": self.rate, "seed": self.seed, **super().get_config()}


# --------------------------------------------------------------------------- recurrent layers


class _Recurrent(Layer):
    """What LSTM and SimpleRNN share: dropout masks, state handling, output selection."""

    n_states = 1  # 1 for the RNN (h), 2 for the LSTM (h, c)
    state_names: tuple[str, ...] = ("h",)
    n_blocks = 1  # columns of W per unit: 4 for the LSTM

    def __init__(self, units, use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 dropout=0.0, recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 stateful=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.use_bias = bool(use_bias)
        for init_spec in (kernel_initializer, recurrent_initializer, bias_initializer):
            get_initializer(init_spec)
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.dropout = _fraction("dropout", dropout)
        self.recurrent_dropout = _fraction("recurrent_dropout", recurrent_dropout)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.stateful = bool(stateful)
        self.seed = seed
        self._rng = None if seed is None else as_rng(seed)
        self.states = None  # carried (h,) or (h, c) when stateful
        self.initial_state_grads = None

    # -- building -------------------------------------------------------------
    def _build(self, input_shape, rng):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(
                f"{type(self).__name__} expects inputs of shape (batch, timesteps, features) "
                f"with a known feature size; got input shape {_shape_str(input_shape)}"
            )
        if self._rng is None:
            self._rng = rng
        D, H, k = input_shape[-1], self.units, self.n_blocks
        # Draw in the order W, U, b (then P) so that default initializers give exactly
        # init_lstm / init_rnn with the same generator.
        self.params = {
            "W": _initialize(self.kernel_initializer, (D, k * H), rng, self.dtype),
            "U": _initialize(self.recurrent_initializer, (H, k * H), rng, self.dtype),
            "b": _initialize(self.bias_initializer, (k * H,), rng, self.dtype),
        }
        if not self.use_bias:
            self.params["b"][...] = 0.0  # kept at zero for the core, never trained
        self._build_extra(rng)
        self.weight_names = ["W", "U"] + (["b"] if self.use_bias else []) + self._extra_weights()
        self.regularizers = {}
        for key, reg in (("W", self.kernel_regularizer), ("U", self.recurrent_regularizer),
                         ("b", self.bias_regularizer if self.use_bias else None)):
            if reg is not None:
                self.regularizers[key] = reg

    def _build_extra(self, rng):
        pass

    def _extra_weights(self) -> list[str]:
        return []

    def compute_output_shape(self, input_shape):
        B, T = input_shape[0], input_shape[1]
        return (B, T, self.units) if self.return_sequences else (B, self.units)

    # -- states -----------------------------------------------------------------
    def reset_states(self) -> None:
        """Forget the carried state (stateful mode): the next batch starts from zeros."""
        self.states = None

    def _initial_states(self, B, initial_state, dtype):
        """(h0,) or (h0, c0), each (B, H) or None for zeros."""
        if initial_state is not None:
            states = initial_state if isinstance(initial_state, (list, tuple)) else [initial_state]
            if len(states) != self.n_states:
                raise ValueError(
                    f"initial_state must be a list of {self.n_states} arrays "
                    f"{list(self.state_names)}, each (batch, units); got {len(states)}"
                )
            return tuple(states)
        if self.stateful and self.states is not None:
            carried = self.states[0].shape[0]
            if carried != B:
                raise ValueError(
                    f"stateful layer {self.name!r} carries a state for batch size {carried} but "
                    f"got a batch of {B}; keep the batch size fixed (the number of samples must "
                    "be a multiple of batch_size) or call reset_states()"
                )
            return self.states
        return (None,) * self.n_states

    # -- forward / backward -------------------------------------------------------
    def _check_input(self, x):
        x = as_float_array("x", x)
        check_ndim("x", x, 3, "(batch, timesteps, features)")
        D = self.params["W"].shape[0]
        if x.shape[2] != D:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} was built for {D} input features; "
                f"got x of shape {x.shape}"
            )
        return x

    def forward(self, x, training=False, initial_state=None):
        """Run the layer over ``x`` (B, T, D).

        Parameters
        ----------
        x : array (B, T, D)
        training : bool
            Apply dropout masks (fixed for the whole sequence).
        initial_state : list of arrays (B, H), optional
            ``[h0, c0]`` for the LSTM, ``[h0]`` for the RNN; zeros (or the
            carried state when stateful) by default.

        Returns
        -------
        out : (B, T, H) if return_sequences else (B, H)
        and, with ``return_state=True``, the final states: ``(out, h_T, c_T)``
        for the LSTM, ``(out, h_T)`` for the RNN.
        """
        self._require_built("forward")
        x = self._check_input(x)
        B = x.shape[0]
        states0 = self._initial_states(B, initial_state, x.dtype)
        in_mask = rec_mask = None
        if training and self.dropout > 0:
            # One mask per sequence, shared by all time steps (Gal & Ghahramani 2016).
            in_mask = _dropout_mask(self._rng, (B, 1, x.shape[2]), self.dropout, x.dtype)
            x = x * in_mask
        if training and self.recurrent_dropout > 0:
            rec_mask = _dropout_mask(self._rng, (B, self.units), self.recurrent_dropout, x.dtype)
        if rec_mask is None:
            hs, core_cache, final = self._core_forward(x, states0)
        else:
            hs, core_cache, final = self._stepwise_forward(x, states0, rec_mask)
        if self.stateful:
            self.states = tuple(s.copy() for s in final)
        self._cache = (core_cache, in_mask, rec_mask, hs.shape)
        out = hs if self.return_sequences else hs[:, -1]
        if self.return_state:
            return (out, *final)
        return out

    def backward(self, dout):
        """Backpropagate ``dout`` (the gradient of the output) to the input.

        ``dout`` is (B, T, H) or (B, H) following ``return_sequences``; with
        ``return_state=True`` it may be a tuple ``(dout, dh_T[, dc_T])`` whose
        extra entries (or None) are the gradients reaching the final states.
        Returns dx (B, T, D). The gradients with respect to ``initial_state``
        are left in ``layer.initial_state_grads``.
        """
        core_cache, in_mask, rec_mask, hs_shape = self._check_cache()
        dstates = (None,) * self.n_states
        if isinstance(dout, (tuple, list)):
            if not self.return_state or len(dout) != 1 + self.n_states:
                raise ValueError(
                    f"dout must be one array, or with return_state=True a tuple of "
                    f"{1 + self.n_states} (output, {', '.join(self.state_names)} gradients)"
                )
            dout, *dstates = dout
        B, T, H = hs_shape
        dout = as_float_array("dout", dout)
        if self.return_sequences:
            if dout.shape != (B, T, H):
                raise ValueError(f"dout must have shape (B, T, H) = {(B, T, H)}; got {dout.shape}")
            dhs = dout.copy() if dstates[0] is not None else dout
        else:
            if dout.shape != (B, H):
                raise ValueError(f"dout must have shape (B, H) = {(B, H)}; got {dout.shape}")
            dhs = np.zeros((B, T, H), dtype=dout.dtype)
            dhs[:, -1] = dout
        if dstates[0] is not None:
            dhs[:, -1] += dstates[0]
        dfinal_c = dstates[1] if self.n_states == 2 else None
        if rec_mask is None:
            dx, dinit, grads = self._core_backward(dhs, core_cache, dfinal_c)
        else:
            dx, dinit, grads = self._stepwise_backward(dhs, core_cache, dfinal_c, rec_mask)
        if in_mask is not None:
            dx = dx * in_mask
        if not self.use_bias:
            grads.pop("b", None)
        self.initial_state_grads = dinit
        return self._finish_backward(grads, dx)

    # -- serialisation ----------------------------------------------------------
    def get_config(self):
        return {
            "units": self.units,
            "use_bias": self.use_bias,
            "kernel_initializer": _initializer_name(self.kernel_initializer) or "glorot_uniform",
            "recurrent_initializer": _initializer_name(self.recurrent_initializer) or "orthogonal",
            "bias_initializer": _initializer_name(self.bias_initializer) or "zeros",
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "stateful": self.stateful,
            "seed": self.seed,
            **super().get_config(),
        }


class SimpleRNN(_Recurrent):
    """An Elman RNN layer on :func:`lstm_teach.rnn_forward` / :func:`lstm_teach.rnn_backward`.

    Parameters
    ----------
    units : int
        Hidden size H.
    activation : str
        Default ``"tanh"``.
    use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
    kernel_regularizer, recurrent_regularizer, bias_regularizer, dropout,
    recurrent_dropout, return_sequences, return_state, stateful, seed :
        As for :class:`LSTM`.
    **kwargs
        ``name``, ``trainable``, ``keep_gradients``, ``gradient_scale``, ``dtype``.

    Shapes: ``x`` (B, T, D); ``W`` (D, H), ``U`` (H, H), ``b`` (H,);
    output (B, T, H) or (B, H); with ``return_state`` also ``h_T`` (B, H).
    """

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, **kwargs)
        self.activation = activations.get(activation).name

    def _core_forward(self, x, states0):
        hs, cache = rnn_forward(x, self.params, states0[0], activation=self.activation)
        return hs, cache, (cache.hs_tm[-1].copy(),)

    def _core_backward(self, dhs, cache, dfinal_c):
        dx, dh0, grads = rnn_backward(dhs, cache)
        return dx, (dh0,), grads

    def _stepwise_forward(self, x, states0, rec_mask):
        """Recurrent dropout: the mask multiplies h_{t-1} where it enters U, one step at a time."""
        B, T, _ = x.shape
        h = states0[0] if states0[0] is not None else np.zeros((B, self.units), x.dtype)
        hs = np.empty((B, T, self.units), dtype=x.dtype)
        caches = []
        for t in range(T):
            h, cache = rnn_step_forward(x[:, t], h * rec_mask, self.params, self.activation)
            hs[:, t] = h
            caches.append(cache)
        return hs, caches, (h,)

    def _stepwise_backward(self, dhs, caches, dfinal_c, rec_mask):
        B, T, _ = dhs.shape
        dx = np.empty((B, T, self.params["W"].shape[0]), dtype=dhs.dtype)
        grads = {k: np.zeros_like(self.params[k]) for k in ("W", "U", "b")}
        dh_next = np.zeros((B, self.units), dtype=dhs.dtype)
        for t in range(T - 1, -1, -1):
            dx[:, t], dh_masked, g = rnn_step_backward(dhs[:, t] + dh_next, caches[t])
            dh_next = dh_masked * rec_mask
            for k in grads:
                grads[k] += g[k]
        return dx, (dh_next,), grads

    def get_config(self):
        return {"activation": self.activation, **super().get_config()}


_CONFIG_FLAGS = ("input_gate", "forget_gate", "output_gate", "peepholes", "coupled_input_forget")


class LSTM(_Recurrent):
    """A Keras-like LSTM layer on the core :func:`lstm_teach.lstm_forward` and ``lstm_backward``.

    Parameters
    ----------
    units : int
        Number of cells H (the size of h and c).
    activation, recurrent_activation, output_activation : str, optional
        sigma_c (on the cell candidate), sigma_g (on the gates) and sigma_h (on
        the cell state before the output gate). Default from ``config``
        (``"tanh"``, ``"sigmoid"``, ``"tanh"``).
    use_bias : bool
        False keeps ``b`` at zero and never trains it.
    kernel_initializer, recurrent_initializer, bias_initializer : str or callable
        For ``W`` (D, 4H), ``U`` (H, 4H) and ``b`` (4H,); defaults
        ``"glorot_uniform"``, ``"orthogonal"``, ``"zeros"``.
    unit_forget_bias : bool
        Add 1 to the forget-gate bias at initialisation (default True).
    kernel_regularizer, recurrent_regularizer, bias_regularizer :
        L1 / L2 / L1L2 objects, names such as ``"l2"``, or None.
    dropout : float in [0, 1)
        Fraction of the input features dropped in training; the mask is drawn
        once per sequence and shared by all time steps.
    recurrent_dropout : float in [0, 1)
        Fraction of h_{t-1} dropped where it enters the recurrent weights U,
        one mask per sequence (Gal & Ghahramani 2016). The core has no hook for
        this yet, so training with it runs the step functions in a Python loop
        (slower); inference is unaffected.
    return_sequences : bool
        Output all hidden states (B, T, H) instead of the last one (B, H).
    return_state : bool
        Also return the final ``h_T`` and ``c_T`` (each (B, H)):
        ``out, h, c = layer(x)``. Not usable inside ``Sequential``.
    stateful : bool
        Carry the final (h, c) of each batch into the next batch as its initial
        state (sample i continues sample i); gradients are not carried
        (truncated BPTT). ``reset_states()`` starts again from zeros.
    config : LSTMConfig, optional
        The variant (gates on/off, peepholes, CIFG, activations).
    input_gate, forget_gate, output_gate, peepholes, coupled_input_forget : bool, optional
        Individual :class:`LSTMConfig` flags; they override ``config``.
    seed : int, optional
        Seeds the layer's dropout generator (the model's generator otherwise).
    **kwargs
        ``name``, ``trainable``, ``keep_gradients``, ``gradient_scale``, ``dtype``
        (see :class:`Layer`).

    Attributes
    ----------
    params : dict
        ``W`` (D, 4H), ``U`` (H, 4H), ``b`` (4H,), and ``P`` (3, H) with
        peepholes; gate blocks [i, f, g, o].
    last_cache : LSTMCache
        The core cache of the last forward pass (gates and cell states by name,
        for plots), or a list of one-step caches with recurrent dropout.
    """

    n_states = 2
    state_names = ("h", "c")
    n_blocks = 4

    def __init__(self, units, activation=None, recurrent_activation=None, output_activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, config=None, input_gate=None, forget_gate=None,
                 output_gate=None, peepholes=None, coupled_input_forget=None, **kwargs):
        super().__init__(units, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        if config is None:
            config = LSTMConfig()
        elif isinstance(config, dict):
            config = LSTMConfig(**config)
        elif not isinstance(config, LSTMConfig):
            raise TypeError(f"config must be an LSTMConfig, a dict or None; got {describe(config)}")
        overrides = {
            "activation": activation,
            "recurrent_activation": recurrent_activation,
            "output_activation": output_activation,
            "input_gate": input_gate,
            "forget_gate": forget_gate,
            "output_gate": output_gate,
            "peepholes": peepholes,
            "coupled_input_forget": coupled_input_forget,
        }
        overrides = {k: v for k, v in overrides.items() if v is not None}
        for key in ("activation", "recurrent_activation", "output_activation"):
            if key in overrides:
                overrides[key] = activations.get(overrides[key]).name
        self.config = dataclasses.replace(config, **overrides)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def activation(self) -> str:
        return self.config.activation

    @property
    def recurrent_activation(self) -> str:
        return self.config.recurrent_activation

    @property
    def output_activation(self) -> str:
        return self.config.output_activation

    def _build_extra(self, rng):
        H = self.units
        if self.unit_forget_bias and self.use_bias:
            self.params["b"][H : 2 * H] += 1.0
        if self.config.peepholes:
            # Same draw as init_lstm, so default layers match the from-scratch parameters.
            self.params["P"] = rng.uniform(-0.1, 0.1, size=(3, H)).astype(self.dtype)
        if self.config.full_gate_recurrence:
            self.params["R"] = rng.uniform(-0.1, 0.1, size=(3 * H, 3 * H)).astype(self.dtype)

    def _extra_weights(self):
        return [k for k, on in (("P", self.config.peepholes),
                                ("R", self.config.full_gate_recurrence)) if on]

    @property
    def last_cache(self):
        return None if self._cache is None else self._cache[0]

    def _core_forward(self, x, states0):
        hs, cache = lstm_forward(x, self.params, states0[0], states0[1], self.config)
        return hs, cache, (cache.hT.copy(), cache.cT.copy())

    def _core_backward(self, dhs, cache, dfinal_c):
        dx, dh0, dc0, grads = lstm_backward(dhs, cache, dcT=dfinal_c)
        return dx, (dh0, dc0), grads

    def _stepwise_forward(self, x, states0, rec_mask):
        """Recurrent dropout: the mask multiplies h_{t-1} where it enters U, one step at a time.

        In the LSTM step h_{t-1} is used only in ``h_{t-1} U``, so masking the
        h passed to the step function is exactly masking the recurrent input.
        """
        B, T, _ = x.shape
        H = self.units
        h = states0[0] if states0[0] is not None else np.zeros((B, H), x.dtype)
        c = states0[1] if states0[1] is not None else np.zeros((B, H), x.dtype)
        hs = np.empty((B, T, H), dtype=x.dtype)
        caches = []
        for t in range(T):
            h, c, cache = lstm_step_forward(x[:, t], h * rec_mask, c, self.params, self.config)
            hs[:, t] = h
            caches.append(cache)
        return hs, caches, (h, c)

    def _stepwise_backward(self, dhs, caches, dfinal_c, rec_mask):
        B, T, _ = dhs.shape
        dx = np.empty((B, T, self.params["W"].shape[0]), dtype=dhs.dtype)
        grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        dh_next = np.zeros((B, self.units), dtype=dhs.dtype)
        dc = dfinal_c
        for t in range(T - 1, -1, -1):
            dx[:, t], dh_masked, dc, g = lstm_step_backward(dhs[:, t] + dh_next, dc, caches[t])
            dh_next = dh_masked * rec_mask
            for k in grads:
                grads[k] += g[k]
        return dx, (dh_next, dc), grads

    def get_config(self):
        return {
            "unit_forget_bias": self.unit_forget_bias,
            "config": dataclasses.asdict(self.config),
            **super().get_config(),
        }


LAYER_CLASSES = {cls.__name__: cls for cls in (Dense, Embedding, Dropout, SimpleRNN, LSTM)}


def from_config(class_name: str, config: dict) -> Layer:
    """Rebuild a layer from ``type(layer).__name__`` and ``layer.get_config()``."""
    if class_name not in LAYER_CLASSES:
        raise ValueError(
            f"unknown layer class {class_name!r}; expected one of {sorted(LAYER_CLASSES)}"
        )
    return LAYER_CLASSES[class_name].from_config(dict(config))
