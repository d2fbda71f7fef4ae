"""The feed-forward layers: :class:`Dense`, :class:`Embedding` and :class:`Dropout`."""

from __future__ import annotations

import numpy as np

from ...core import activations
from ...core._checks import as_float_array, check_bool, check_positive_int, describe
from ...core.utils import as_rng
from .. import regularizers
from .base import (
    Layer,
    _dropout_mask,
    _fraction,
    _initialize,
    _initializer_name,
    _shape_str,
    get_initializer,
)

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
        self.use_bias = check_bool("use_bias", use_bias)
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
