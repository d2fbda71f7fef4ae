"""Data for the course: the classic long-time-lag tasks and a small character corpus.

Every generator takes an explicit ``rng`` (a ``np.random.Generator`` or an int
seed, see :func:`lstm_teach.utils.as_rng`), so the same seed always gives the
same data. Arrays are batch-first: inputs ``x`` are ``(N, T, D)`` float64.
Each docstring states the shapes, what the target is, the score of the best
*constant* prediction (the baseline a model must beat to show it learned
anything), and the paper the task comes from.

Sections
--------
- adding problem: :func:`adding_problem` (the [0, 1] form) and
  :func:`adding_problem_1997` (Hochreiter & Schmidhuber's original);
- :func:`temporal_order` (4 classes from the order of two symbols);
- embedded Reber grammar: strings, a grammar checker, padded batches and the
  continual stream of Gers et al. (2000);
- :func:`latch_problem` (Bengio et al. 1994) and :func:`copy_task`;
- time series: sines, Mackey-Glass, superimposed sines, sliding windows;
- the character corpus: :func:`load_corpus`, :class:`CharVocab`,
  :func:`char_batches` for truncated BPTT, :func:`unigram_entropy`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from importlib import resources
from typing import NamedTuple

import numpy as np

from ._checks import check_choice, check_positive_int, describe
from .utils import as_rng

__all__ = [
    "ADDING_BASELINE_MSE",
    "ADDING_1997_THRESHOLD",
    "DEFAULT_CORPUS",
    "EVOLINO_FREQUENCIES",
    "REBER_SYMBOLS",
    "TEMPORAL_ORDER_CLASSES",
    "TEMPORAL_ORDER_SYMBOLS",
    "CharVocab",
    "ReberBatch",
    "ReberStream",
    "adding_1997_baseline_mse",
    "adding_problem",
    "adding_problem_1997",
    "char_batches",
    "continual_reber_stream",
    "copy_baseline_cross_entropy",
    "copy_task",
    "embedded_reber_batch",
    "embedded_reber_string",
    "is_embedded_reber",
    "is_reber",
    "latch_problem",
    "list_corpora",
    "load_corpus",
    "mackey_glass",
    "one_hot",
    "reber_legal_next",
    "reber_one_hot",
    "reber_predictions_correct",
    "reber_string",
    "sine_batch",
    "sine_wave",
    "sliding_windows",
    "strings_before_first_error",
    "superimposed_sines",
    "train_val_split",
    "unigram_entropy",
]


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


# --------------------------------------------------------------------------
# the (embedded) Reber grammar
# --------------------------------------------------------------------------

#: The 7 symbols, in one-hot order.
REBER_SYMBOLS = "BTPSXVE"
_REBER_INDEX = {s: i for i, s in enumerate(REBER_SYMBOLS)}

# The Reber automaton: state -> {symbol: next state}; state 7 is final. Each
# symbol leaves a state along at most one edge, so the history fixes the state.
_REBER_GRAPH = {
    0: {"B": 1},
    1: {"T": 2, "P": 3},
    2: {"S": 2, "X": 4},
    3: {"T": 3, "V": 5},
    4: {"X": 3, "S": 6},
    5: {"P": 4, "V": 6},
    6: {"E": 7},
    7: {},
}


def reber_string(rng=None) -> str:
    """One string of the Reber grammar (Reber 1967), e.g. ``"BTSSXXTVVE"``.

    Starting at ``B``, each branch of the automaton is taken with probability
    1/2, until ``E``. The shortest strings have 5 symbols.
    """
    rng = as_rng(rng)
    state, out = 0, []
    while state != 7:
        options = list(_REBER_GRAPH[state].items())
        symbol, state = options[int(rng.integers(len(options)))]
        out.append(symbol)
    return "".join(out)


def embedded_reber_string(rng=None) -> str:
    """One string of the embedded Reber grammar: ``B T <reber> T E`` or ``B P <reber> P E``.

    The symbol after the first ``B`` (T or P, probability 1/2 each) must be
    repeated just before the final ``E``: a dependency spanning the whole inner
    string, which is what makes the task hard for a simple RNN (Cleeremans et
    al. 1989; Hochreiter & Schmidhuber 1997, Experiment 1).
    """
    rng = as_rng(rng)
    branch = "TP"[int(rng.integers(2))]
    return "B" + branch + reber_string(rng) + branch + "E"


def _walk(string: str, embedded: bool, continual: bool = False):
    """Run the automaton over ``string``.

    Returns ``(legal, starts, outer, final)``: ``legal[i]`` is the string of
    symbols allowed after ``string[: i + 1]``, ``starts[i]`` says whether
    ``string[i]`` opens a new (embedded) string, ``outer[i]`` whether the next
    symbol is the repeated outer T/P, and ``final`` whether the walk ended in an
    accepting state. Raises ValueError at the first illegal symbol.
    """
    if not isinstance(string, str):
        raise TypeError(
            f"string must be a str of symbols from {REBER_SYMBOLS!r}; got {describe(string)}"
        )
    legal, starts, outer = [], [], []
    state = ("start",) if embedded else 0
    for i, sym in enumerate(string):
        allowed = _allowed(state, embedded, continual)
        if sym not in allowed:
            expected = " or ".join(allowed) if allowed else "the end of the string"
            raise ValueError(
                f"symbol {sym!r} at position {i} of {string!r} breaks the grammar: "
                f"expected {expected}"
            )
        starts.append(state in (0, ("start",), ("done",)))
        state = _embedded_next(state, sym) if embedded else _REBER_GRAPH[state][sym]
        outer.append(embedded and state[0] == "close")
        legal.append(_allowed(state, embedded, continual))
    final = state == ("done",) if embedded else state == 7
    return legal, starts, outer, final


# States of the embedded automaton: ("start",) before the first B; ("branch",) after it;
# ("inner", c, q) inside the inner Reber string (c = outer T/P, q = Reber state);
# ("close", c) after the inner E, expecting c again; ("end",) expecting the final E;
# ("done",) after it (a continual stream goes on with B).


def _allowed(state, embedded: bool, continual: bool) -> str:
    """The symbols allowed in ``state``."""
    if not embedded:
        return "".join(_REBER_GRAPH[state])
    kind = state[0]
    if kind == "inner":
        return "".join(_REBER_GRAPH[state[2]])
    if kind == "done":
        return "B" if continual else ""
    return {"start": "B", "branch": "TP", "close": state[-1], "end": "E"}[kind]


def _embedded_next(state, sym: str):
    """The embedded automaton's state after reading the (allowed) symbol ``sym``."""
    kind = state[0]
    if kind in ("start", "done"):
        return ("branch",)
    if kind == "branch":
        return ("inner", sym, 0)
    if kind == "inner":
        q = _REBER_GRAPH[state[2]][sym]
        return ("close", state[1]) if q == 7 else ("inner", state[1], q)
    if kind == "close":
        return ("end",)
    return ("done",)


def is_reber(string: str) -> bool:
    """True if ``string`` is a complete string of the (plain) Reber grammar."""
    try:
        return _walk(string, embedded=False)[3]
    except ValueError:
        return False


def is_embedded_reber(string: str) -> bool:
    """True if ``string`` is a complete string of the embedded Reber grammar."""
    try:
        return _walk(string, embedded=True)[3]
    except ValueError:
        return False


def reber_legal_next(string: str, embedded: bool = True, continual: bool = False) -> list[str]:
    """The symbols the grammar allows after each prefix of ``string``.

    ``result[i]`` lists (in :data:`REBER_SYMBOLS` spelling) the symbols that may
    follow ``string[: i + 1]``; it always contains ``string[i + 1]``. With
    ``continual=True`` a finished embedded string may be followed by a new ``B``.
    Raises ValueError, naming the position, if ``string`` breaks the grammar.
    """
    return _walk(string, embedded=embedded, continual=continual)[0]


def reber_one_hot(string: str) -> np.ndarray:
    """One-hot encode a Reber string: shape ``(len(string), 7)``, float64."""
    try:
        ids = [_REBER_INDEX[s] for s in string]
    except KeyError as exc:
        raise ValueError(f"string contains {exc.args[0]!r}, not one of {REBER_SYMBOLS!r}") from None
    return np.eye(len(REBER_SYMBOLS))[np.asarray(ids, dtype=np.int64)].reshape(-1, 7)


def _multi_hot(sets: Sequence[str]) -> np.ndarray:
    out = np.zeros((len(sets), len(REBER_SYMBOLS)))
    for t, allowed in enumerate(sets):
        out[t, [_REBER_INDEX[s] for s in allowed]] = 1.0
    return out


class ReberBatch(NamedTuple):
    """Padded batch of embedded Reber strings (see :func:`embedded_reber_batch`)."""

    x: np.ndarray  #: (N, T_max, 7) one-hot inputs, zero after the end
    y: np.ndarray  #: (N, T_max, 7) multi-hot legal next symbols
    next_symbol: np.ndarray  #: (N, T_max) int64 id of the actual next symbol (0 in padding)
    mask: np.ndarray  #: (N, T_max) bool, True on real steps
    lengths: np.ndarray  #: (N,) int64 number of real steps = len(string) - 1
    strings: list  #: the N strings


def embedded_reber_batch(n: int, rng=None) -> ReberBatch:
    """A batch of embedded Reber strings for next-symbol prediction.

    For a string ``s`` the inputs are ``s[:-1]`` and the target at step t is
    the set of symbols the grammar allows after ``s[: t + 1]`` (multi-hot), as in
    Hochreiter & Schmidhuber (1997, Experiment 1), where the network has to turn
    on exactly the output units of the possible next symbols. Strings have
    different lengths, so the batch is right-padded and ``mask`` marks the real
    steps; the loss should be masked.

    Baseline: all targets but one per string can be predicted from the last
    few symbols. The exception is the step after the inner string's ``E``,
    whose only legal successor is the symbol seen right after the first ``B``;
    without long-term memory it is a coin flip (50%).

    Returns
    -------
    ReberBatch
        ``x`` (n, T_max, 7) float64, ``y`` (n, T_max, 7) float64, ``next_symbol``
        (n, T_max) int64, ``mask`` (n, T_max) bool, ``lengths`` (n,) int64,
        ``strings`` list of str. Symbols are ordered as :data:`REBER_SYMBOLS`.
    """
    n = check_positive_int("n", n)
    rng = as_rng(rng)
    strings = [embedded_reber_string(rng) for _ in range(n)]
    lengths = np.array([len(s) - 1 for s in strings], dtype=np.int64)
    t_max = int(lengths.max())
    x = np.zeros((n, t_max, 7))
    y = np.zeros((n, t_max, 7))
    next_symbol = np.zeros((n, t_max), dtype=np.int64)
    mask = np.zeros((n, t_max), dtype=bool)
    for b, s in enumerate(strings):
        steps = len(s) - 1
        x[b, :steps] = reber_one_hot(s[:-1])
        y[b, :steps] = _multi_hot(reber_legal_next(s)[:-1])
        next_symbol[b, :steps] = [_REBER_INDEX[c] for c in s[1:]]
        mask[b, :steps] = True
    return ReberBatch(x, y, next_symbol, mask, lengths, strings)


class ReberStream(NamedTuple):
    """Continual embedded Reber streams (see :func:`continual_reber_stream`)."""

    x: np.ndarray  #: (N, T, 7) one-hot inputs
    y: np.ndarray  #: (N, T, 7) multi-hot legal next symbols
    next_symbol: np.ndarray  #: (N, T) int64 id of the actual next symbol
    string_start: np.ndarray  #: (N, T) bool, True where the input is the B opening a string
    outer_step: np.ndarray  #: (N, T) bool, True where the target is the repeated outer T/P
    text: list  #: the N streams as str, length T + 1 (inputs plus the last target)


def continual_reber_stream(n: int, T: int, rng=None) -> ReberStream:
    """Continual embedded Reber streams (Gers, Schmidhuber & Cummins 2000).

    Embedded Reber strings are concatenated with no separator and no reset:
    after a string's final ``E`` the next one begins with ``B``. The network
    reads one symbol per step and predicts the legal next symbols; it is never
    told where a string starts, so it must learn to reset its own memory. This
    is the task on which the 1997 LSTM (no forget gate) fails and the forget
    gate succeeds. ``string_start`` marks the steps whose input is the ``B``
    opening a string (the boundaries), and ``outer_step`` the steps whose target
    is the long-range outer T/P.

    Each of the N streams starts at the beginning of a string and is cut after
    T steps, usually in the middle of a string; generate longer streams and use
    truncated BPTT (carry the state across chunks) to train on a long stream.

    Baseline: as for :func:`embedded_reber_batch`, the outer T/P targets are a
    coin flip without long-term memory. Score predictions with
    :func:`reber_predictions_correct` and :func:`strings_before_first_error`.

    Returns
    -------
    ReberStream
        ``x`` (n, T, 7) float64, ``y`` (n, T, 7) float64, ``next_symbol`` (n, T)
        int64, ``string_start`` (n, T) bool, ``outer_step`` (n, T) bool,
        ``text`` list of n str of length T + 1.
    """
    n = check_positive_int("n", n)
    T = check_positive_int("T", T)
    rng = as_rng(rng)
    x = np.zeros((n, T, 7))
    y = np.zeros((n, T, 7))
    next_symbol = np.zeros((n, T), dtype=np.int64)
    starts = np.zeros((n, T), dtype=bool)
    outer = np.zeros((n, T), dtype=bool)
    texts = []
    for b in range(n):
        pieces, size = [], 0
        while size < T + 1:
            pieces.append(embedded_reber_string(rng))
            size += len(pieces[-1])
        text = "".join(pieces)[: T + 1]
        legal, opens, outer_b, _ = _walk(text, embedded=True, continual=True)
        x[b] = reber_one_hot(text[:T])
        y[b] = _multi_hot(legal[:T])
        next_symbol[b] = [_REBER_INDEX[c] for c in text[1:]]
        starts[b] = opens[:T]
        outer[b] = outer_b[:T]
        texts.append(text)
    return ReberStream(x, y, next_symbol, starts, outer, texts)


def reber_predictions_correct(
    outputs, targets, threshold: float = 0.5, criterion: str = "threshold"
):
    """Which next-symbol predictions are correct, step by step.

    Parameters
    ----------
    outputs : array_like, shape (..., 7)
        The network's output per symbol (sigmoid activations or probabilities).
    targets : array_like, shape (..., 7)
        Multi-hot legal next symbols (``y`` from the Reber generators).
    threshold : float
        For ``criterion="threshold"``.
    criterion : {"threshold", "top"}
        ``"threshold"``: every legal symbol's output is above ``threshold`` and
        every other output below it, so the output rounds to the target. This
        is our reading of the criterion of Hochreiter & Schmidhuber (1997) and
        Gers et al. (2000): a symbol counts as predicted when the output units
        of exactly the possible next symbols are on. Use it with per-symbol
        sigmoid outputs. ``"top"``: the k largest outputs are exactly the k
        legal symbols. It does not depend on the scale, so it suits softmax
        outputs, where k legal symbols share the probability.

    Returns
    -------
    np.ndarray of bool, shape (...)
    """
    check_choice("criterion", criterion, ("threshold", "top"))
    out = np.asarray(outputs, dtype=np.float64)
    tgt = np.asarray(targets, dtype=np.float64)
    if out.shape != tgt.shape or out.shape[-1:] != (7,):
        raise ValueError(
            "outputs and targets must have the same shape (..., 7); "
            f"got {out.shape} and {tgt.shape}"
        )
    legal = tgt > 0.5
    if criterion == "threshold":
        threshold = _real("threshold", threshold)
        return np.all(np.where(legal, out > threshold, out < threshold), axis=-1)
    lowest_legal = np.where(legal, out, np.inf).min(axis=-1)
    highest_other = np.where(legal, -np.inf, out).max(axis=-1)
    return lowest_legal > highest_other


def strings_before_first_error(correct, string_start) -> np.ndarray:
    """How many whole strings each stream predicts without error before its first mistake.

    Gers et al. (2000) test a trained network on a continual stream and count
    the strings it processes before the first wrong prediction. A string counts
    when every step from its opening ``B`` up to the next string's ``B`` is
    correct; a string cut off by the end of the stream does not count.

    Parameters
    ----------
    correct : array_like of bool, shape (N, T) or (T,)
        Per-step correctness, e.g. from :func:`reber_predictions_correct`.
    string_start : array_like of bool, same shape
        ``ReberStream.string_start``.

    Returns
    -------
    np.ndarray, shape (N,) int64 (or a 0-d array for 1-D input)
    """
    correct = np.asarray(correct, dtype=bool)
    starts = np.asarray(string_start, dtype=bool)
    if correct.shape != starts.shape or correct.ndim not in (1, 2):
        raise ValueError(
            "correct and string_start must have the same shape (N, T) or (T,); "
            f"got {correct.shape} and {starts.shape}"
        )
    squeeze = correct.ndim == 1
    correct, starts = np.atleast_2d(correct), np.atleast_2d(starts)
    T = correct.shape[1]
    counts = np.zeros(correct.shape[0], dtype=np.int64)
    for b in range(correct.shape[0]):
        errors = np.flatnonzero(~correct[b])
        first_error = errors[0] if errors.size else T
        opens = np.flatnonzero(starts[b])
        # string k spans [opens[k], opens[k+1]); whole and clean iff opens[k+1] <= first_error
        counts[b] = int(np.sum(opens[1:] <= first_error))
    return counts[0] if squeeze else counts


# --------------------------------------------------------------------------
# latch and copy
# --------------------------------------------------------------------------


def latch_problem(
    n: int,
    T: int,
    rng=None,
    L: int = 1,
    noise_std: float = math.sqrt(0.2),
    target: float = 0.8,
    value: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The information-latching problem (Bengio, Simard & Frasconi 1994).

    Two classes. In the first ``L`` steps the input carries the class: ``+value``
    for class 1 and ``-value`` for class 0. Every later step is Gaussian noise
    with mean 0 and standard deviation ``noise_std``. The target, read only at
    the last step, is ``+target`` or ``-target``. A single tanh unit
    ``h_t = tanh(w h_{t-1} + u x_t + b)`` solves it by *latching*: a recurrent
    weight w > 1 gives two stable states, and the class decides which one the
    unit falls into. Noise keeps pushing it, so learning needs gradients that
    survive T steps, which is exactly what becomes hard as T grows.

    Bengio et al. trained the class-dependent inputs of the first L steps
    themselves (one free value per class and step); to reproduce that, ignore
    ``x[:, :L]`` and add a trainable value chosen by the class
    (``y[:, 0] > 0``). The defaults (one class step, targets +-0.8, noise
    variance 0.2) follow the description of the task ("latch variant I") in
    Hochreiter & Schmidhuber's note on solving such benchmarks by random weight
    guessing (1996). Classes are balanced exactly (half each, in random order).

    Baseline: answering 0 gives MSE ``target**2`` (0.64) and 50% accuracy
    (class = sign of the output).

    Parameters
    ----------
    n : int
        Number of sequences.
    T : int
        Total sequence length, at least L + 1 (so that noise follows the class).
    rng : np.random.Generator or int, optional
    L : int
        Number of class-carrying steps at the start.
    noise_std : float
        Standard deviation of the noise after step L (default sqrt(0.2)).
    target, value : float
        Magnitudes of the target and of the class input.

    Returns
    -------
    x : np.ndarray, shape (n, T, 1), float64
    y : np.ndarray, shape (n, 1), float64
        ``+target`` for class 1, ``-target`` for class 0.
    """
    n = check_positive_int("n", n)
    L = check_positive_int("L", L)
    T = _int_at_least("T", T, L + 1, f"L={L} class steps followed by at least one noise step")
    noise_std = _real("noise_std", noise_std, low=0.0)
    target = _real("target", target)
    value = _real("value", value)
    rng = as_rng(rng)
    sign = np.where(rng.permutation(np.arange(n) % 2) == 1, 1.0, -1.0)
    x = np.empty((n, T, 1))
    x[:, :L, 0] = sign[:, None] * value
    x[:, L:, 0] = rng.normal(0.0, noise_std, size=(n, T - L)) if noise_std > 0 else 0.0
    y = (sign * target)[:, None]
    return x, y


def copy_task(n: int, T: int, rng=None, n_symbols: int = 8, length: int = 10):
    """The copy (memory) task in the layout of Arjovsky, Shah & Bengio (2016).

    Symbol ids ``0 .. n_symbols-1`` are data, ``n_symbols`` is the blank and
    ``n_symbols + 1`` the delimiter. The input is ``length`` data symbols drawn
    uniformly (with replacement), then ``T - 1`` blanks, the delimiter, and
    ``length`` more blanks: ``T + 2*length`` steps. The output is blank for the
    first ``T + length`` steps and then the data symbols in the original order,
    so the network has to hold them for T steps. (Hochreiter & Schmidhuber 1997
    used related "remember and reproduce" tasks; this layout is the modern
    standard.)

    Baseline: predicting blanks until the delimiter and then a uniform guess
    gives cross-entropy ``length * ln(n_symbols) / (T + 2*length)`` per step
    (:func:`copy_baseline_cross_entropy`; 10 ln 8 / 120 ~ 0.173 at T = 100).

    Returns
    -------
    x : np.ndarray, shape (n, T + 2*length, n_symbols + 2), float64
        One-hot inputs.
    y : np.ndarray, shape (n, T + 2*length), int64
        Target symbol ids.
    """
    n = check_positive_int("n", n)
    T = check_positive_int("T", T)
    n_symbols = check_positive_int("n_symbols", n_symbols)
    length = check_positive_int("length", length)
    rng = as_rng(rng)
    blank, delimiter = n_symbols, n_symbols + 1
    total = T + 2 * length
    data = rng.integers(0, n_symbols, size=(n, length))
    inputs = np.full((n, total), blank, dtype=np.int64)
    inputs[:, :length] = data
    inputs[:, T + length - 1] = delimiter
    y = np.full((n, total), blank, dtype=np.int64)
    y[:, T + length :] = data
    return np.eye(n_symbols + 2)[inputs], y


def copy_baseline_cross_entropy(T: int, n_symbols: int = 8, length: int = 10) -> float:
    """Mean per-step cross-entropy (nats) of the memoryless baseline of :func:`copy_task`."""
    T = check_positive_int("T", T)
    n_symbols = check_positive_int("n_symbols", n_symbols)
    length = check_positive_int("length", length)
    return length * math.log(n_symbols) / (T + 2 * length)


# --------------------------------------------------------------------------
# time series
# --------------------------------------------------------------------------


def sine_wave(length: int, period: float = 20.0, phase: float = 0.0, amplitude: float = 1.0):
    """``amplitude * sin(2 pi t / period + phase)`` for ``t = 0 .. length-1``; shape (length,)."""
    length = check_positive_int("length", length)
    period = _real("period", period, low=0.0, low_open=True)
    phase = _real("phase", phase)
    amplitude = _real("amplitude", amplitude)
    t = np.arange(length, dtype=np.float64)
    return amplitude * np.sin(2.0 * np.pi * t / period + phase)


def sine_batch(
    n: int,
    T: int,
    rng=None,
    period_range: Sequence[float] = (10.0, 40.0),
    amplitude_range: Sequence[float] = (0.5, 1.0),
    noise_std: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Sine waves with random period, amplitude and phase, for next-step prediction.

    Each sequence is ``a * sin(2 pi t / p + phi)`` with p uniform on
    ``period_range``, a uniform on ``amplitude_range`` and phi uniform on
    [0, 2 pi). The target at step t is the clean value at step t + 1; optional
    Gaussian noise is added to the inputs only.

    Baseline: predicting 0 gives MSE ``E[a^2] / 2`` (about 0.29 for the default
    amplitudes); repeating the current input ("persistence") is much better, so
    compare against that too.

    Returns
    -------
    x : np.ndarray, shape (n, T, 1), float64
    y : np.ndarray, shape (n, T, 1), float64
    """
    n = check_positive_int("n", n)
    T = check_positive_int("T", T)
    period_range = _pair("period_range", period_range)
    amplitude_range = _pair("amplitude_range", amplitude_range)
    p_lo = _real("period_range[0]", period_range[0], low=0.0, low_open=True)
    p_hi = _real("period_range[1]", period_range[1], low=p_lo)
    a_lo = _real("amplitude_range[0]", amplitude_range[0])
    a_hi = _real("amplitude_range[1]", amplitude_range[1], low=a_lo)
    noise_std = _real("noise_std", noise_std, low=0.0)
    rng = as_rng(rng)
    period = rng.uniform(p_lo, p_hi, size=(n, 1))
    amplitude = rng.uniform(a_lo, a_hi, size=(n, 1))
    phase = rng.uniform(0.0, 2.0 * np.pi, size=(n, 1))
    t = np.arange(T + 1, dtype=np.float64)[None, :]
    series = amplitude * np.sin(2.0 * np.pi * t / period + phase)
    x = series[:, :T].copy()
    if noise_std > 0:
        x += rng.normal(0.0, noise_std, size=x.shape)
    return x[..., None], series[:, 1:, None]


#: Angular frequencies of the superimposed sine benchmarks of Evolino.
EVOLINO_FREQUENCIES = (0.2, 0.311, 0.42, 0.51, 0.74)


def superimposed_sines(length: int, n_waves: int = 2, start: int = 0) -> np.ndarray:
    """Sum of sines with incommensurate frequencies (Schmidhuber et al. 2007, Evolino).

    ``s(t) = sum_k sin(lambda_k t)`` over the first ``n_waves`` of
    :data:`EVOLINO_FREQUENCIES` (0.2, 0.311, 0.42, 0.51, 0.74), for
    ``t = start .. start + length - 1``. The sum never repeats exactly, so a
    predictor must track several oscillations at once; Evolino's benchmark runs
    from two to five waves. Values lie in ``[-n_waves, n_waves]``; divide by
    ``n_waves`` to scale into [-1, 1].

    Returns
    -------
    np.ndarray, shape (length,), float64
    """
    length = check_positive_int("length", length)
    n_waves = _int_at_least("n_waves", n_waves, 1)
    if n_waves > len(EVOLINO_FREQUENCIES):
        raise ValueError(f"n_waves must be at most {len(EVOLINO_FREQUENCIES)}; got {n_waves}")
    start = _nonneg_int("start", start)
    t = np.arange(start, start + length, dtype=np.float64)
    return np.sin(np.outer(t, EVOLINO_FREQUENCIES[:n_waves])).sum(axis=1)


def _steps_per(name: str, span: float, dt: float) -> int:
    steps = span / dt
    if abs(steps - round(steps)) > 1e-9 * max(1.0, steps) or round(steps) < 1:
        raise ValueError(f"{name}={span} must be a positive whole multiple of dt={dt}")
    return int(round(steps))


def mackey_glass(
    length: int,
    tau: float = 17.0,
    beta: float = 0.2,
    gamma: float = 0.1,
    exponent: float = 10.0,
    dt: float = 0.1,
    sample_every: float = 1.0,
    x0: float = 1.2,
    discard: float = 500.0,
) -> np.ndarray:
    """The Mackey-Glass delay differential equation, sampled at regular times.

    ``dx/dt = beta * x(t - tau) / (1 + x(t - tau)**exponent) - gamma * x(t)``
    (Mackey & Glass 1977). With the standard ``tau = 17``, beta 0.2, gamma 0.1
    and exponent 10 the series is chaotic but quasi-periodic (a dominant
    period of about 50 time units), stays within about [0.4, 1.35] and has a
    mean near 0.93; it is a classic benchmark for time-series prediction with
    recurrent networks (e.g. Gers, Eck & Schmidhuber 2001; Evolino).

    Integration: fourth-order Runge-Kutta with step ``dt`` on a grid where tau
    is a whole number of steps; the delayed value at RK4's half steps is the
    mean of the two neighbouring grid values. The history for t <= 0 is the
    constant ``x0``; the first ``discard`` time units (the transient) are
    dropped, then one value is kept every ``sample_every`` time units. The
    result is deterministic given the parameters.

    Returns
    -------
    np.ndarray, shape (length,), float64
    """
    length = check_positive_int("length", length)
    tau = _real("tau", tau, low=0.0, low_open=True)
    beta = _real("beta", beta)
    gamma = _real("gamma", gamma)
    exponent = _real("exponent", exponent)
    dt = _real("dt", dt, low=0.0, low_open=True)
    sample_every = _real("sample_every", sample_every, low=0.0, low_open=True)
    x0 = _real("x0", x0, low=0.0, low_open=True)
    discard = _real("discard", discard, low=0.0)
    lag = _steps_per("tau", tau, dt)
    stride = _steps_per("sample_every", sample_every, dt)
    skip = 0 if discard == 0 else _steps_per("discard", discard, dt)

    def rate(x_now, x_delayed):
        return beta * x_delayed / (1.0 + x_delayed**exponent) - gamma * x_now

    n_steps = skip + length * stride
    x = np.empty(lag + 1 + n_steps)
    x[: lag + 1] = x0  # constant history on [-tau, 0]
    for i in range(lag, lag + n_steps):
        now, d0, d1 = x[i], x[i - lag], x[i - lag + 1]
        d_half = 0.5 * (d0 + d1)
        k1 = rate(now, d0)
        k2 = rate(now + 0.5 * dt * k1, d_half)
        k3 = rate(now + 0.5 * dt * k2, d_half)
        k4 = rate(now + dt * k3, d1)
        x[i + 1] = now + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    begin = lag + skip + stride  # x[lag] is t = 0; the first kept sample is one stride later
    return x[begin : begin + length * stride : stride].copy()


def sliding_windows(
    series, T: int, horizon: int = 1, stride: int = 1, target: str = "sequence"
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a 1-D series into windows for ``horizon``-step-ahead prediction.

    Window i starts at ``s = i * stride``; its input is ``series[s : s + T]``.
    With ``target="sequence"`` the target is ``series[s + horizon : s + T +
    horizon]`` (a prediction at every step); with ``target="last"`` it is only
    ``series[s + T - 1 + horizon]``.

    Parameters
    ----------
    series : array_like, shape (L,)
    T : int
        Window length.
    horizon : int
        How far ahead to predict (1 = next step).
    stride : int
        Step between window starts.
    target : {"sequence", "last"}

    Returns
    -------
    x : np.ndarray, shape (N, T, 1), float64
    y : np.ndarray, shape (N, T, 1) or (N, 1), float64
        ``N = (L - T - horizon) // stride + 1``.
    """
    series = np.asarray(series, dtype=np.float64)
    if series.ndim != 1:
        raise ValueError(f"series must be 1-D with shape (L,); got shape {series.shape}")
    T = check_positive_int("T", T)
    horizon = check_positive_int("horizon", horizon)
    stride = check_positive_int("stride", stride)
    check_choice("target", target, ("sequence", "last"))
    span = T + horizon
    if series.size < span:
        raise ValueError(
            f"series is too short: windows of T={T} with horizon={horizon} need at least "
            f"{span} values; got {series.size}"
        )
    starts = np.arange(0, series.size - span + 1, stride)
    x = series[starts[:, None] + np.arange(T)[None, :]][..., None]
    if target == "sequence":
        y = series[starts[:, None] + horizon + np.arange(T)[None, :]][..., None]
    else:
        y = series[starts + T - 1 + horizon][:, None]
    return x, y


# --------------------------------------------------------------------------
# the character corpus
# --------------------------------------------------------------------------

_CORPORA = {
    "pride_and_prejudice": "pride_and_prejudice.txt",
}
DEFAULT_CORPUS = "pride_and_prejudice"


def list_corpora() -> list[str]:
    """Names accepted by :func:`load_corpus`."""
    return sorted(_CORPORA)


def load_corpus(name: str | None = None) -> str:
    """Load a text shipped with the package (no network needed).

    ``"pride_and_prejudice"`` (the default): the title page and chapters 1-15 of
    Jane Austen's *Pride and Prejudice* (1813), about 125 KB of plain ASCII
    with the original line breaks (lines of at most 73 characters), lots of
    dialogue in double quotes and ``_underscores_`` marking italics. Those
    features are what make character-level models interesting to look inside:
    units that track whether a quote is open, the position in the line, and
    so on (Karpathy, Johnson & Fei-Fei 2015).

    Provenance: the novel is in the public domain (author died 1817). The text
    is the Project Gutenberg transcription as distributed, without the
    Project Gutenberg header and licence, by the R package ``janeaustenr``
    (Julia Silge; packaged in Debian as ``r-cran-janeaustenr`` 1.0.0). We
    kept chapters 1-15, stripped trailing spaces and collapsed runs of blank
    lines into one; the words are unchanged.

    Returns
    -------
    str
    """
    name = DEFAULT_CORPUS if name is None else name
    check_choice("name", name, list_corpora())
    path = resources.files("lstm_teach").joinpath("data", _CORPORA[name])
    return path.read_text(encoding="utf-8")


class CharVocab:
    """The sorted set of characters of a text, with encoding to ids and back.

    Parameters
    ----------
    text : str
        Every character that may be encoded must occur in it.

    Attributes
    ----------
    chars : list of str
        Sorted characters; ``chars[i]`` has id i.
    size : int
        Number of characters.

    Examples
    --------
    >>> vocab = CharVocab("hello")
    >>> vocab.chars
    ['e', 'h', 'l', 'o']
    >>> vocab.decode(vocab.encode("hole"))
    'hole'
    """

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise TypeError(f"text must be a str; got {describe(text)}")
        if not text:
            raise ValueError("text must not be empty")
        self.chars = sorted(set(text))
        self.size = len(self.chars)
        self.index = {c: i for i, c in enumerate(self.chars)}
        codes = np.array([ord(c) for c in self.chars])
        # lookup table from code point to id (-1 = unknown): encoding is one fancy index
        self._table = np.full(int(codes.max()) + 2, -1, dtype=np.int64)
        self._table[codes] = np.arange(self.size)
        self._chars_array = np.array(self.chars)

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"CharVocab(size={self.size})"

    def encode(self, text: str) -> np.ndarray:
        """Ids of the characters of ``text``: shape ``(len(text),)``, int64."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str; got {describe(text)}")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        codes = np.minimum(codes, self._table.size - 1)  # beyond the table -> unknown
        ids = self._table[codes]
        if (ids < 0).any():
            unknown = sorted({c for c in text if c not in self.index})
            raise ValueError(
                f"text contains {len(unknown)} character(s) not in the vocabulary: {unknown[:10]}"
            )
        return ids

    def decode(self, ids) -> str:
        """The text for a 1-D sequence of ids."""
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu" or ids.ndim != 1:
            raise TypeError(
                f"ids must be a 1-D integer array; got {ids.ndim}-D array of dtype {ids.dtype}"
            )
        if ids.size and (ids.min() < 0 or ids.max() >= self.size):
            raise ValueError(
                f"ids must lie in [0, {self.size}); got values from {ids.min()} to {ids.max()}"
            )
        return "".join(self._chars_array[ids].tolist())

    def one_hot(self, ids) -> np.ndarray:
        """One-hot encode ids of any shape S: shape ``S + (size,)``, float64."""
        return one_hot(ids, self.size)


def train_val_split(data, val_fraction: float = 0.1):
    """Split a text (str) or id array into a leading training part and a trailing validation part.

    The split is contiguous, not shuffled: for sequence data the validation
    text must be text the model has not read. Returns ``(train, val)`` of the
    same type as ``data``.
    """
    val_fraction = _real("val_fraction", val_fraction, 0.0, 1.0, low_open=True, high_open=True)
    if not isinstance(data, str):
        data = np.asarray(data)
        if data.ndim != 1:
            raise ValueError(f"data must be a str or a 1-D array; got shape {data.shape}")
    n_val = int(round(len(data) * val_fraction))
    if n_val < 1 or n_val >= len(data):
        raise ValueError(
            f"val_fraction={val_fraction} of {len(data)} items leaves an empty part; "
            "use more data or another fraction"
        )
    cut = len(data) - n_val
    return data[:cut], data[cut:]


def char_batches(
    ids, batch_size: int, seq_len: int, drop_last: bool = True
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield consecutive chunks of B parallel streams, for truncated BPTT.

    The ids are cut into ``batch_size`` contiguous streams of equal length
    ``S = (len(ids) - 1) // batch_size`` (row b starts at ``ids[b * S]``). The
    generator walks along the streams ``seq_len`` steps at a time, so chunk
    k + 1 continues chunk k in every row: carry the hidden state from one chunk
    to the next, and backpropagate only inside a chunk. The target is the next
    character: ``y[b, t]`` is the id that follows ``x[b, t]`` in the text.

    Parameters
    ----------
    ids : array_like of int, shape (L,)
        The encoded text (:meth:`CharVocab.encode`).
    batch_size : int
        Number of parallel streams B.
    seq_len : int
        Steps per chunk T.
    drop_last : bool
        Skip a final chunk shorter than ``seq_len`` (default); otherwise yield it.

    Yields
    ------
    x : np.ndarray, shape (B, T), int64
        Input ids.
    y : np.ndarray, shape (B, T), int64
        Next-character ids.

    Notes
    -----
    There are ``S // seq_len`` full chunks; ``S % seq_len`` steps are left over.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise TypeError(f"ids must be a 1-D integer array; got {describe(ids)}")
    batch_size = check_positive_int("batch_size", batch_size)
    seq_len = check_positive_int("seq_len", seq_len)
    stream_len = (ids.size - 1) // batch_size
    if stream_len < (seq_len if drop_last else 1):
        raise ValueError(
            f"ids has {ids.size} items, too few for batch_size={batch_size} streams of at least "
            f"seq_len={seq_len} steps (need at least {batch_size * seq_len + 1})"
        )
    used = batch_size * stream_len
    xs = ids[:used].reshape(batch_size, stream_len).astype(np.int64)
    ys = ids[1 : used + 1].reshape(batch_size, stream_len).astype(np.int64)
    # ids[b*S + S] is the first input of row b + 1, so row b's last target is exact
    for start in range(0, stream_len, seq_len):
        stop = start + seq_len
        if stop > stream_len and drop_last:
            return
        yield xs[:, start:stop].copy(), ys[:, start:stop].copy()


def unigram_entropy(text) -> float:
    """Entropy of the character frequencies of ``text``, in nats per character.

    It is the cross-entropy of the best model that ignores context (always
    predict the overall character frequencies), so it is the baseline a
    character-level RNN has to beat. Divide by ln 2 for bits.
    """
    if isinstance(text, str):
        if not text:
            raise ValueError("text must not be empty")
        _, counts = np.unique(
            np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32), return_counts=True
        )
    else:
        arr = np.asarray(text)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"text must be a non-empty str or 1-D id array; got {describe(text)}")
        _, counts = np.unique(arr, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())
