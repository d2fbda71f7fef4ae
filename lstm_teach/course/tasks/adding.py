"""The adding problem, in its [0, 1] form and in Hochreiter & Schmidhuber's 1997 form.
"""

from __future__ import annotations

import numpy as np

from ...core._checks import check_positive_int
from ...core.utils import as_rng
from ._common import _int_at_least

# --------------------------------------------------------------------------
# the adding problem
# --------------------------------------------------------------------------

#: MSE of always answering 1.0 on :func:`adding_problem`: Var(X1 + X2) = 2/12.
ADDING_BASELINE_MSE = 1.0 / 6.0

#: A 1997-form sequence counts as solved when the absolute error at the end is below this.
ADDING_1997_THRESHOLD = 0.04


def adding_problem(n: int, T: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem in its [0, 1] form (Le et al. 2015; Arjovsky et al. 2016).

    Each step carries two numbers. Channel 0 is a value drawn uniformly from
    [0, 1]; channel 1 is a marker that is 1 at exactly two steps, one chosen
    uniformly in the first half (steps ``0 .. T//2 - 1``) and one in the second
    half (steps ``T//2 .. T-1``), and 0 elsewhere. The target, read at the end,
    is the sum of the two marked values. The task goes back to Hochreiter &
    Schmidhuber (1997, Experiment 4); see :func:`adding_problem_1997` for the
    original.

    Baseline: the best constant answer is 1.0, the mean of the target; its MSE
    is Var(X1 + X2) = 2 * (1/12) = 1/6 ~ 0.167 (:data:`ADDING_BASELINE_MSE`).
    A model that beats this clearly has learned to find the markers.

    Parameters
    ----------
    n : int
        Number of sequences.
    T : int
        Sequence length, at least 2.
    rng : np.random.Generator or int, optional

    Returns
    -------
    x : np.ndarray, shape (n, T, 2), float64
        ``x[..., 0]`` values, ``x[..., 1]`` markers.
    y : np.ndarray, shape (n, 1), float64
        Sum of the two marked values, in [0, 2].
    """
    n = check_positive_int("n", n)
    T = _int_at_least("T", T, 2, "one marker goes in each half of the sequence")
    rng = as_rng(rng)
    values = rng.uniform(0.0, 1.0, size=(n, T))
    half = T // 2
    rows = np.arange(n)
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, T, size=n)
    markers = np.zeros((n, T))
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1)
    y = (values[rows, first] + values[rows, second])[:, None]
    return x, y


def _prob_first_step_marked(T: int) -> float:
    """Probability that step 0 carries a marker in the 1997 adding problem."""
    # first marker: uniform over the first 10 steps; second marker: uniform over the
    # first T//2 - 1 unmarked steps, which starts with step 0 whenever step 0 is unmarked.
    return 0.1 + 0.9 / (T // 2 - 1)


def adding_1997_baseline_mse(T: int = 100) -> float:
    """MSE of the best constant answer (0.5) on :func:`adding_problem_1997`.

    The target is ``0.5 + (X1 + X2) / 4`` with X1, X2 uniform on [-1, 1]
    (variance 1/3 each), except that a value at step 0 is zeroed. So the MSE is
    ``(2 - p0) / 3 / 16`` with ``p0`` the probability that step 0 is marked;
    about 0.0392 at T = 100 (1/24 ~ 0.0417 if no value were ever zeroed).
    """
    T = _int_at_least("T", T, 20, "the first marker sits in the first 10 steps")
    return (2.0 - _prob_first_step_marked(T)) / 3.0 / 16.0


def adding_problem_1997(n: int, T: int = 100, rng=None, variable_length: bool = False):
    """The adding problem as defined by Hochreiter & Schmidhuber (1997, Experiment 4).

    Each step is a pair. The first component is uniform on [-1, 1]; the second
    is a marker in {1, 0, -1}. Exactly two steps are marked with 1:

    - the first marked step is drawn uniformly from the first 10 steps;
    - the second is drawn uniformly from the first ``T//2 - 1`` steps that are
      still unmarked (so it lies in the first half, and the lag to the end is at
      least T/2).

    Every other step has marker 0, except the first and the last step, whose
    marker is -1 when they are not marked. If step 0 is marked its value is set
    to 0 (the paper's rule for that rare case). The target, read at the last
    step, is ``0.5 + (X1 + X2) / 4``, the sum rescaled into [0, 1]; a sequence
    counts as solved when the absolute error is below 0.04
    (:data:`ADDING_1997_THRESHOLD`). The paper reports that LSTM learns T = 100
    after about 74,000 training sequences (its Table 7).

    Lengths: in the paper each sequence has a random length between T and
    T + T/10. By default this function uses the fixed length T (a
    simplification; the marker rules above do not depend on the length). With
    ``variable_length=True`` each sequence gets a length drawn uniformly from
    ``T .. T + T//10`` and is *left-padded* with all-zero steps to a common
    length, so that every sequence ends at the last step, where the target is
    read; the true lengths are returned too.

    Baseline: the best constant answer is 0.5, with MSE
    :func:`adding_1997_baseline_mse` (about 0.039 at T = 100); it lands within
    0.04 of the target for only about 15% of sequences.

    Parameters
    ----------
    n : int
        Number of sequences.
    T : int
        Minimal sequence length, at least 20 (the paper uses 100, 500 and 1000).
    rng : np.random.Generator or int, optional
    variable_length : bool
        Draw lengths from ``T .. T + T//10`` as in the paper (see above).

    Returns
    -------
    x : np.ndarray, shape (n, T_max, 2), float64
        ``x[..., 0]`` values, ``x[..., 1]`` markers. ``T_max`` is T, or
        ``T + T//10`` with ``variable_length``.
    y : np.ndarray, shape (n, 1), float64
        Target in [0, 1].
    lengths : np.ndarray, shape (n,), int64
        Only returned when ``variable_length`` is True.
    """
    n = check_positive_int("n", n)
    T = _int_at_least(
        "T", T, 20, "the first marker is drawn from the first 10 steps, inside the first half"
    )
    rng = as_rng(rng)
    rows = np.arange(n)
    t_max = T + T // 10 if variable_length else T
    lengths = rng.integers(T, t_max + 1, size=n) if variable_length else np.full(n, T)

    first = rng.integers(0, 10, size=n)
    # the j-th unmarked step is j when j < first, else j + 1
    j = rng.integers(0, T // 2 - 1, size=n)
    second = j + (j >= first)

    values = rng.uniform(-1.0, 1.0, size=(n, t_max))
    markers = np.zeros((n, t_max))
    offset = t_max - lengths  # left padding
    values[np.arange(t_max)[None, :] < offset[:, None]] = 0.0
    markers[rows, offset] = -1.0  # first step of each sequence
    markers[:, -1] = -1.0  # last step (never marked)
    markers[rows, offset + first] = 1.0
    markers[rows, offset + second] = 1.0
    step0_marked = (first == 0) | (second == 0)
    values[rows[step0_marked], offset[step0_marked]] = 0.0

    x1 = values[rows, offset + first]
    x2 = values[rows, offset + second]
    y = (0.5 + (x1 + x2) / 4.0)[:, None]
    x = np.stack([values, markers], axis=-1)
    if variable_length:
        return x, y, lengths.astype(np.int64)
    return x, y
