"""Numerical gradients by central differences, and a per-parameter checker.

The habit this module teaches: never trust a backward pass you have not
compared against finite differences. In float64 a correct backward pass agrees
with central differences to a relative error of about 1e-9; a bug usually
shows up as an error of 1e-2 or worse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ._checks import as_float_array, describe


def numerical_gradient(f: Callable, x: np.ndarray, df=None, h: float = 1e-5) -> np.ndarray:
    """Central-difference gradient of ``sum(f(x) * df)`` with respect to ``x``.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns a scalar or an array. It is called twice per entry of
        ``x`` while that entry is nudged by ``+h`` and ``-h``; ``x`` is modified
        in place during the call and restored afterwards, so ``f`` may also
        read ``x`` through a closure.
    x : np.ndarray, any shape
        The point at which to differentiate. Must be a float array (float64
        for meaningful results).
    df : np.ndarray, same shape as ``f(x)``, optional
        The upstream gradient. Default: ones, i.e. the gradient of ``sum(f(x))``.
    h : float
        The step. 1e-5 balances truncation error (~h^2) against rounding
        (~eps/h) in float64.

    Returns
    -------
    np.ndarray, same shape as ``x``
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"x must be a float numpy array (modified in place); got {describe(x)}")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    for _ in it:
        idx = it.multi_index
        old = x[idx]
        x[idx] = old + h
        plus = np.asarray(f(x), dtype=np.float64).copy()
        x[idx] = old - h
        minus = np.asarray(f(x), dtype=np.float64).copy()
        x[idx] = old
        weight = 1.0 if df is None else df
        grad[idx] = np.sum((plus - minus) * weight) / (2.0 * h)
    return grad


def rel_error(a, b, floor: float = 1e-12) -> float:
    """Relative error ``||a - b|| / max(||a|| + ||b||, floor)``.

    The denominator is symmetric (neither argument is privileged) and floored
    so that two all-zero gradients compare as equal instead of dividing by
    zero. Norms, not elementwise ratios, are used: an entry whose true value is
    1e-12 would otherwise dominate with a meaningless ratio.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs arrays of one shape; got {a.shape} and {b.shape}")
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), floor))


@dataclass
class GradCheckReport:
    """Per-array relative errors from :func:`check_gradients`.

    Attributes
    ----------
    errors : dict of str -> float
        Relative error of each checked array.
    tol : float
        The threshold used for ``passed``.
    numeric : dict of str -> np.ndarray
        The numerical gradients, for inspection.
    """

    errors: dict[str, float]
    tol: float
    numeric: dict[str, np.ndarray] = field(repr=False, default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(e < self.tol for e in self.errors.values())

    @property
    def worst(self) -> tuple[str, float]:
        name = max(self.errors, key=self.errors.get)
        return name, self.errors[name]

    def __str__(self) -> str:
        width = max(len(k) for k in self.errors) if self.errors else 4
        lines = [f"{'array':<{width}}  rel. error   ok (< {self.tol:.0e})"]
        for name, err in self.errors.items():
            lines.append(f"{name:<{width}}  {err:10.2e}   {'yes' if err < self.tol else 'NO'}")
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle):  # nicer display in Jupyter
        p.text(str(self))


def check_gradients(
    loss: Callable[[], float],
    arrays: Mapping[str, np.ndarray],
    analytic: Mapping[str, np.ndarray],
    h: float = 1e-5,
    tol: float = 1e-7,
) -> GradCheckReport:
    """Compare analytic gradients against central differences, array by array.

    Parameters
    ----------
    loss : callable
        ``loss()`` takes no arguments and returns a scalar. It must read the
        arrays in ``arrays`` (through a closure), which are nudged in place.
    arrays : dict of str -> np.ndarray
        The inputs to differentiate with respect to, e.g. ``{"x": x, "W": W}``.
    analytic : dict of str -> np.ndarray
        The gradients your backward pass computed, same keys and shapes.
    h, tol : float
        Finite-difference step and the pass threshold on the relative error.

    Returns
    -------
    GradCheckReport
        ``report.passed``, ``report.errors`` and a printable table.
    """
    errors, numeric = {}, {}
    for name, arr in arrays.items():
        if name not in analytic:
            raise ValueError(f"analytic is missing the gradient for {name!r}")
        grad = as_float_array(f"analytic[{name!r}]", analytic[name])
        if grad.shape != arr.shape:
            raise ValueError(
                f"analytic[{name!r}] must have the shape of {name}, {arr.shape}; got {grad.shape}"
            )
        num = numerical_gradient(lambda _: loss(), arr, h=h)
        numeric[name] = num
        errors[name] = rel_error(grad, num)
    return GradCheckReport(errors=errors, tol=tol, numeric=numeric)
