"""Weight penalties (L1, L2, L1 + L2) for the concise layers.

A regularizer adds a penalty to the training loss and its gradient to the
weight gradient. The penalties follow Keras exactly (no factor 1/2)::

    L1(l1)      penalty = l1 * sum(|w|)         gradient = l1 * sign(w)
    L2(l2)      penalty = l2 * sum(w ** 2)      gradient = 2 * l2 * w
    L1L2(l1, l2) the sum of both

Layers accept a regularizer object, a name (``"l1"``, ``"l2"``, ``"l1_l2"``,
which use the Keras default factor 0.01), a dict from :meth:`get_config`, or
``None``::

    >>> reg = get("l2")
    >>> reg(np.array([1.0, -2.0]))
    0.05
"""

from __future__ import annotations

import numpy as np

DEFAULT_FACTOR = 0.01  # the Keras default for the string names


class Regularizer:
    """Base class: ``reg(w)`` is the penalty, ``reg.gradient(w)`` its gradient (shape of w)."""

    def __call__(self, w: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, w: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "class_name")
        return f"{type(self).__name__}({args})"


def _check_factor(name: str, value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a non-negative float; got {value!r}") from None
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative finite float; got {value!r}")
    return value


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w ** 2)``.

    Parameters
    ----------
    l1, l2 : float, >= 0
        The factors; 0 switches a term off.
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _check_factor("l1", l1)
        self.l2 = _check_factor("l2", l2)

    def __call__(self, w: np.ndarray) -> float:
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(np.sum(np.abs(w)))
        if self.l2:
            penalty += self.l2 * float(np.sum(w * w))
        return penalty

    def gradient(self, w: np.ndarray) -> np.ndarray:
        grad = np.zeros_like(w)
        if self.l1:
            grad += self.l1 * np.sign(w)
        if self.l2:
            grad += (2.0 * self.l2) * w
        return grad

    def get_config(self) -> dict:
        return {"class_name": "L1L2", "l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|w|)``: pushes weights to exactly zero (sparse weights)."""

    def __init__(self, l1: float = DEFAULT_FACTOR):
        super().__init__(l1=l1, l2=0.0)

    def get_config(self) -> dict:
        return {"class_name": "L1", "l1": self.l1}


class L2(L1L2):
    """``l2 * sum(w ** 2)``: weight decay, shrinks large weights the most."""

    def __init__(self, l2: float = DEFAULT_FACTOR):
        super().__init__(l1=0.0, l2=l2)

    def get_config(self) -> dict:
        return {"class_name": "L2", "l2": self.l2}


def l1(factor: float = DEFAULT_FACTOR) -> L1:
    """``L1(factor)``, spelled like ``keras.regularizers.l1``."""
    return L1(factor)


def l2(factor: float = DEFAULT_FACTOR) -> L2:
    """``L2(factor)``, spelled like ``keras.regularizers.l2``."""
    return L2(factor)


def l1_l2(l1: float = DEFAULT_FACTOR, l2: float = DEFAULT_FACTOR) -> L1L2:
    """``L1L2(l1, l2)``, spelled like ``keras.regularizers.l1_l2``."""
    return L1L2(l1, l2)


_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2}
_NAMES = {"l1": L1, "l2": L2, "l1_l2": lambda: L1L2(DEFAULT_FACTOR, DEFAULT_FACTOR)}


def get(spec) -> Regularizer | None:
    """Turn ``spec`` into a :class:`Regularizer` (or ``None``).

    Parameters
    ----------
    spec : None, Regularizer, str or dict
        A name among ``"l1"``, ``"l2"``, ``"l1_l2"`` (factor 0.01), a
        regularizer, or a config dict as produced by ``get_config()``.
    """
    if spec is None or isinstance(spec, Regularizer):
        return spec
    if isinstance(spec, str):
        key = spec.lower()
        if key not in _NAMES:
            raise ValueError(f"unknown regularizer {spec!r}; expected one of {sorted(_NAMES)}")
        return _NAMES[key]()
    if isinstance(spec, dict):
        cfg = dict(spec)
        name = cfg.pop("class_name", None)
        if name not in _CLASSES:
            raise ValueError(
                f"regularizer config needs class_name in {sorted(_CLASSES)}; got {spec!r}"
            )
        return _CLASSES[name](**cfg)
    raise TypeError(
        f"regularizer must be None, a name such as 'l2', or a Regularizer; got {spec!r}"
    )


def serialize(reg: Regularizer | None) -> dict | None:
    """The JSON-friendly config of ``reg`` (``None`` stays ``None``)."""
    return None if reg is None else reg.get_config()
