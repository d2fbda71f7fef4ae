"""Input validation shared by every module.

Each helper raises ``TypeError`` or ``ValueError`` whose message names the
argument, what was expected and what was received, so that a learner never
meets a bare numpy broadcasting error three frames down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .errors import NonFiniteError

_FLOAT_KINDS = "f"


def describe(value) -> str:
    """A short description of ``value`` for error messages."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:120]


def as_float_array(name: str, value, dtype=None) -> np.ndarray:
    """Convert ``value`` to a floating-point array, or raise ``TypeError``.

    Integer and boolean input become float64; float32 and float64 are kept.
    ``dtype`` forces a floating dtype.
    """
    if value is None:
        raise TypeError(f"{name} must be a numeric array; got None")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a numeric array; got {describe(value)} ({exc})") from None
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind not in _FLOAT_KINDS:
        raise TypeError(
            f"{name} must be a real numeric array (float32 or float64); got dtype {arr.dtype}"
        )
    elif arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)  # float16 / longdouble: compute in float64
    if dtype is not None and arr.dtype != dtype:
        arr = arr.astype(dtype)
    return arr


def check_ndim(name: str, arr: np.ndarray, ndim: int, layout: str) -> None:
    """Raise ``ValueError`` unless ``arr.ndim == ndim``; ``layout`` reads like ``"(B, T, D)"``."""
    if arr.ndim != ndim:
        raise ValueError(
            f"{name} must be {ndim}-D with shape {layout}; got {arr.ndim}-D shape {arr.shape}"
        )


def check_shape(name: str, arr: np.ndarray, expected: Sequence[int], layout: str = "") -> None:
    """Raise ``ValueError`` unless ``arr.shape == expected``.

    ``layout`` names the axes, e.g. ``"(D, 4H)"``, and is shown in the message.
    """
    expected = tuple(int(e) for e in expected)
    if arr.shape != expected:
        axes = f" {layout}" if layout else ""
        raise ValueError(f"{name} must have shape{axes} = {expected}; got {arr.shape}")


def check_finite(name: str, arr: np.ndarray) -> None:
    """Raise :class:`~lstm_teach.core.errors.NonFiniteError` (a ``ValueError``) if ``arr`` holds
    NaN or inf, saying how many and where the first is."""
    finite = np.isfinite(arr)
    if not finite.all():
        bad = np.argwhere(~finite)
        first = tuple(int(i) for i in bad[0])
        raise NonFiniteError(
            f"{name} contains {len(bad)} non-finite value(s) (NaN or inf); "
            f"the first is at index {first}: {arr[first]}",
            name=name,
            count=len(bad),
        )


def require_keys(name: str, mapping, keys: Sequence[str]) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``mapping`` is a dict holding every key."""
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{name} must be a dict of arrays; got {describe(mapping)}")
    missing = [k for k in keys if k not in mapping]
    if missing:
        raise ValueError(
            f"{name} is missing key(s) {missing}; expected keys {list(keys)}, got {sorted(mapping)}"
        )


def check_choice(name: str, value, choices: Sequence) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}; got {value!r}")


def check_positive_int(name: str, value) -> int:
    """Return ``value`` as an int, or raise if it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive integer; got {describe(value)}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer; got {value}")
    return int(value)


def check_bool(name: str, value) -> bool:
    """``value`` as a bool, or ``TypeError``: a string such as ``"no"`` is not silently True."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False; got {describe(value)}")


def check_sequence_and_state(xname: str, x, arrays: dict, hname: str, h0, H: int):
    """Check a (B, T, D) input and an optional (B, H) initial state against the weights.

    The step that every recurrent layer of the core repeats after checking its own weight
    shapes: ``x`` must be 3-D with the feature size of ``arrays["W"]`` and at least one
    batch item and one step; ``h0``, when given, must be (B, H). Everything is cast to one
    float dtype (the widest of the inputs) and checked for NaN and inf; a missing ``h0``
    becomes zeros.

    Returns
    -------
    x : np.ndarray, (B, T, D)
    arrays : dict
        The same keys, cast.
    h0 : np.ndarray, (B, H)
    """
    x = as_float_array(xname, x)
    check_ndim(xname, x, 3, "(B, T, D)")
    B, T, D = x.shape
    if D != arrays["W"].shape[0]:
        raise ValueError(
            f"{xname} has feature size D={D} (shape {x.shape}), but params['W'] expects "
            f"D={arrays['W'].shape[0]} (W has shape {arrays['W'].shape})"
        )
    if B == 0 or T == 0:
        raise ValueError(
            f"{xname} must have at least one batch item and one time step; got {x.shape}"
        )
    if h0 is not None:
        h0 = as_float_array(hname, h0)
        check_shape(hname, h0, (B, H), "(B, H)")
    dtype = np.result_type(x, *arrays.values(), *([h0] if h0 is not None else []))
    x = x.astype(dtype, copy=False)
    check_finite(xname, x)
    arrays = {k: v.astype(dtype, copy=False) for k, v in arrays.items()}
    for k, v in arrays.items():
        check_finite(f"params[{k!r}]", v)
    if h0 is None:
        return x, arrays, np.zeros((B, H), dtype=dtype)
    h0 = h0.astype(dtype, copy=False)
    check_finite(hname, h0)
    return x, arrays, h0
