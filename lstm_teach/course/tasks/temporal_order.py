"""The temporal-order task: four classes from the order of two symbols (1997).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ...core._checks import check_positive_int
from ...core.utils import as_rng
from ._common import _int_at_least, _pair, _real

# --------------------------------------------------------------------------
# temporal order
# --------------------------------------------------------------------------

#: One-hot order of the input symbols of :func:`temporal_order`.
TEMPORAL_ORDER_SYMBOLS = ("a", "b", "c", "d", "X", "Y", "E", "B")
#: Class names, indexed by the label: the two relevant symbols in order.
TEMPORAL_ORDER_CLASSES = ("XX", "XY", "YX", "YY")


def _position_range(name: str, frac: Sequence[float], T: int) -> tuple[int, int]:
    frac = _pair(name, frac)
    lo_f = _real(f"{name}[0]", frac[0], 0.0, 1.0)
    hi_f = _real(f"{name}[1]", frac[1], 0.0, 1.0)
    if hi_f < lo_f:
        raise ValueError(f"{name} must have low <= high; got {tuple(frac)}")
    # round first so that e.g. 0.6 * 100 does not become 60.000000001 -> 60 or 59.99 -> 59
    return math.floor(round(lo_f * T, 9)), math.floor(round(hi_f * T, 9))


def temporal_order(
    n: int,
    T: int = 100,
    rng=None,
    variable_length: bool = False,
    first_range: Sequence[float] = (0.1, 0.2),
    second_range: Sequence[float] = (0.5, 0.6),
) -> tuple:
    """The temporal order problem (Hochreiter & Schmidhuber 1997, Experiment 6a).

    A sequence starts with ``E``, ends with the trigger ``B``, and is otherwise
    filled with distractors drawn uniformly from ``a, b, c, d``, except at two
    steps ``t1`` and ``t2`` that hold ``X`` or ``Y``. The class is the order of
    the two relevant symbols: 0 = XX, 1 = XY, 2 = YX, 3 = YY
    (:data:`TEMPORAL_ORDER_CLASSES`; the paper calls them Q, R, S, U).

    In the paper the length is 100..110, ``t1`` is drawn from 10..20 and ``t2``
    from 50..60. Here the positions scale with T: ``t1`` is uniform on
    ``floor(0.1 T) .. floor(0.2 T)`` and ``t2`` on ``floor(0.5 T) .. floor(0.6 T)``
    (0-based; change the fractions with ``first_range`` / ``second_range``),
    which gives the paper's numbers at T = 100. Pascanu et al. (2013) use this
    task to show the effect of gradient clipping. As in
    :func:`adding_problem_1997`, lengths are fixed at T unless
    ``variable_length=True`` (lengths ``T .. T + T//10``, left-padded with
    all-zero vectors, positions counted from each sequence's own start).

    Baseline: a constant guess is right 25% of the time (cross-entropy ln 4).

    Parameters
    ----------
    n : int
        Number of sequences.
    T : int
        Sequence length, at least 10 with the default ranges.
    rng : np.random.Generator or int, optional
    variable_length : bool
        Draw lengths from ``T .. T + T//10`` as in the paper.
    first_range, second_range : (float, float)
        Ranges for ``t1`` and ``t2`` as fractions of T (inclusive).

    Returns
    -------
    x : np.ndarray, shape (n, T_max, 8), float64
        One-hot symbols in the order of :data:`TEMPORAL_ORDER_SYMBOLS`.
    y : np.ndarray, shape (n,), int64
        Class labels in 0..3.
    lengths : np.ndarray, shape (n,), int64
        Only returned when ``variable_length`` is True.
    """
    n = check_positive_int("n", n)
    T = _int_at_least("T", T, 4, "start symbol, two relevant symbols and the trigger")
    lo1, hi1 = _position_range("first_range", first_range, T)
    lo2, hi2 = _position_range("second_range", second_range, T)
    if not (1 <= lo1 <= hi1 < lo2 <= hi2 <= T - 2):
        raise ValueError(
            f"T={T} is too short for first_range={tuple(first_range)} and "
            f"second_range={tuple(second_range)}: they give positions {lo1}..{hi1} and "
            f"{lo2}..{hi2}, which must satisfy 1 <= t1 < t2 <= T-2 (use T >= 10 with the "
            "default ranges)"
        )
    rng = as_rng(rng)
    rows = np.arange(n)
    t_max = T + T // 10 if variable_length else T
    lengths = rng.integers(T, t_max + 1, size=n) if variable_length else np.full(n, T)
    offset = t_max - lengths

    ids = rng.integers(0, 4, size=(n, t_max))  # distractors a..d
    t1 = rng.integers(lo1, hi1 + 1, size=n)
    t2 = rng.integers(lo2, hi2 + 1, size=n)
    s1 = rng.integers(0, 2, size=n)  # 0 = X, 1 = Y
    s2 = rng.integers(0, 2, size=n)
    ids[rows, offset] = 6  # E
    ids[:, -1] = 7  # B, the trigger
    ids[rows, offset + t1] = 4 + s1
    ids[rows, offset + t2] = 4 + s2
    x = np.eye(len(TEMPORAL_ORDER_SYMBOLS))[ids]
    x[np.arange(t_max)[None, :] < offset[:, None]] = 0.0  # padding carries no symbol
    y = (2 * s1 + s2).astype(np.int64)
    if variable_length:
        return x, y, lengths.astype(np.int64)
    return x, y
