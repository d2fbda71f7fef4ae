"""Validation helpers shared by the task generators, and :func:`one_hot`.
"""

from __future__ import annotations

import math

import numpy as np

from ...core._checks import check_positive_int, describe

# --------------------------------------------------------------------------
# small validation helpers (messages name the argument, as everywhere in the kit)
# --------------------------------------------------------------------------


def _int_at_least(name: str, value, minimum: int, reason: str = "") -> int:
    """Return ``value`` as an int, checking it is an integer >= ``minimum`` (>= 1)."""
    value = check_positive_int(name, value)
    if value < minimum:
        why = f" ({reason})" if reason else ""
        raise ValueError(f"{name} must be at least {minimum}{why}; got {value}")
    return value


def _nonneg_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a non-negative integer; got {describe(value)}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer; got {value}")
    return int(value)


def _real(name: str, value, low=None, high=None, low_open=False, high_open=False) -> float:
    """Return ``value`` as a float, checking it is a finite real in the given range."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number; got {describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    if low is not None and (value < low or (low_open and value == low)):
        op = ">" if low_open else ">="
        raise ValueError(f"{name} must be {op} {low}; got {value}")
    if high is not None and (value > high or (high_open and value == high)):
        op = "<" if high_open else "<="
        raise ValueError(f"{name} must be {op} {high}; got {value}")
    return value


def _pair(name: str, value) -> tuple:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair (low, high); got {describe(value)}")
    return tuple(value)


def one_hot(ids, depth: int) -> np.ndarray:
    """One-hot encode integer ids.

    Parameters
    ----------
    ids : array_like of int, any shape ``S``
        Values in ``[0, depth)``.
    depth : int
        Number of classes.

    Returns
    -------
    np.ndarray, shape ``S + (depth,)``, float64
    """
    depth = check_positive_int("depth", depth)
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"ids must be an integer array; got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= depth):
        raise ValueError(
            f"ids must lie in [0, {depth}); got values from {ids.min()} to {ids.max()}"
        )
    return np.eye(depth)[ids]
