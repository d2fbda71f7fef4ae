"""The layer protocol (:class:`Layer`) and the helpers every layer shares: initializers,
dropout masks, fractions and shapes in messages."""

from __future__ import annotations

import numpy as np

from ...core import init as initializers
from ...core._checks import as_float_array, check_bool, describe
from ...core.utils import as_rng
from .. import regularizers

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
        self.trainable = check_bool("trainable", trainable)
        self.keep_gradients = check_bool("keep_gradients", keep_gradients)
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
