"""Activation functions, their derivatives, and a registry by name.

Every activation is an :class:`Activation` with three functions:

``fn(z)``
    the activation itself, elementwise; any shape.
``grad(z)``
    its derivative with respect to the pre-activation ``z``.
``grad_from_output(y, out=None)``
    the same derivative written in terms of the output ``y = fn(z)``,
    optionally written into ``out``.
``kernel(z, out)``
    the activation written into ``out`` (which may be ``z`` itself). The
    recurrent loops use it to avoid allocating a new array every step; they
    wrap the whole loop in ``np.errstate(over="ignore")`` once, because the
    sigmoid kernel lets ``exp`` overflow to inf (which still gives the exact
    answer, 0) instead of paying for that check on every call.

The backward passes use ``grad_from_output``: the forward pass has already
stored the activations, so the pre-activations never need to be kept. For the
sigmoid, for example, the derivative is ``y * (1 - y)``.

Look activations up with :func:`get`::

    >>> get("sigmoid").fn(np.array([0.0]))
    array([0.5])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Activation:
    """An elementwise activation and its derivative (see the module docstring)."""

    name: str
    fn: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    grad_from_output: Callable[[np.ndarray], np.ndarray]
    kernel: Callable[[np.ndarray, np.ndarray], np.ndarray]

    def __call__(self, z):
        return self.fn(z)


def _sigmoid_kernel(z, out):
    # 1 / (1 + exp(-z)) in four in-place passes. For z < -709, exp(-z) overflows
    # to inf and 1 / (1 + inf) = 0, which is the correctly rounded answer; the
    # caller silences the overflow flag.
    np.negative(z, out=out)
    np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def sigmoid(z):
    """The logistic function 1 / (1 + exp(-z)), without overflow warnings.

    Accurate to the last bit or so over the whole real line (both tails keep
    their relative precision), and silent for |z| up to 1e4 and beyond.
    """
    z = np.asarray(z)
    if z.dtype.kind != "f":
        z = z.astype(np.float64)
    with np.errstate(over="ignore"):
        return _sigmoid_kernel(z, np.empty_like(z))


def _sigmoid_grad(z):
    s = sigmoid(z)
    return s * (1.0 - s)


def _sigmoid_grad_from_output(y, out=None):
    out = np.subtract(1.0, y, out=out)
    return np.multiply(out, y, out=out)


def tanh(z):
    """The hyperbolic tangent."""
    return np.tanh(z)


def _tanh_kernel(z, out):
    return np.tanh(z, out=out)


def _tanh_grad(z):
    return 1.0 - np.tanh(z) ** 2


def _tanh_grad_from_output(y, out=None):
    out = np.multiply(y, y, out=out)
    return np.subtract(1.0, out, out=out)


def identity(z):
    """The identity, used for the NIAF / NOAF variants and the gamma-memory reduction."""
    return np.asarray(z)


def _ones_like(z, out=None):
    if out is None:
        return np.ones_like(z)
    out[...] = 1.0
    return out


def _identity_kernel(z, out):
    if out is not z:
        np.copyto(out, z)
    return out


def hard_sigmoid(z):
    """The piecewise-linear sigmoid clip(0.2 z + 0.5, 0, 1), as in Keras."""
    return np.clip(0.2 * np.asarray(z) + 0.5, 0.0, 1.0)


def _hard_sigmoid_kernel(z, out):
    np.multiply(z, 0.2, out=out)
    out += 0.5
    return np.clip(out, 0.0, 1.0, out=out)


def _hard_sigmoid_grad(z):
    z = np.asarray(z)
    return np.where(np.abs(z) < 2.5, 0.2, 0.0).astype(np.result_type(z, np.float32))


def _hard_sigmoid_grad_from_output(y, out=None):
    y = np.asarray(y)
    slope = np.where((y > 0.0) & (y < 1.0), 0.2, 0.0).astype(y.dtype)
    if out is None:
        return slope
    np.copyto(out, slope)
    return out


def relu(z):
    """The rectifier max(z, 0)."""
    return np.maximum(z, 0.0)


def _relu_kernel(z, out):
    return np.maximum(z, 0.0, out=out)


def _relu_grad(z):
    z = np.asarray(z)
    return (z > 0).astype(np.result_type(z, np.float32))


def _relu_grad_from_output(y, out=None):
    y = np.asarray(y)
    return (y > 0).astype(y.dtype) if out is None else np.greater(y, 0, out=out)


REGISTRY: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", sigmoid, _sigmoid_grad, _sigmoid_grad_from_output, _sigmoid_kernel),
        Activation("tanh", tanh, _tanh_grad, _tanh_grad_from_output, _tanh_kernel),
        Activation("identity", identity, _ones_like, _ones_like, _identity_kernel),
        Activation(
            "hard_sigmoid",
            hard_sigmoid,
            _hard_sigmoid_grad,
            _hard_sigmoid_grad_from_output,
            _hard_sigmoid_kernel,
        ),
        Activation("relu", relu, _relu_grad, _relu_grad_from_output, _relu_kernel),
    )
}
_ALIASES = {"linear": "identity", "logistic": "sigmoid"}


def get(name: str | Activation) -> Activation:
    """Look up an activation by name (``"sigmoid"``, ``"tanh"``, ``"identity"``, ...).

    An :class:`Activation` is returned unchanged. ``"linear"`` is accepted as an
    alias of ``"identity"`` (the Keras name).

    Raises
    ------
    ValueError
        If the name is unknown; the message lists the known names.
    TypeError
        If ``name`` is neither a string nor an :class:`Activation`.
    """
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str) or an Activation; got {name!r}")
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in REGISTRY:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(REGISTRY)}")
    return REGISTRY[key]


def names() -> list[str]:
    """The registered activation names."""
    return sorted(REGISTRY)
