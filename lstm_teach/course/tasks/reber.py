"""The embedded Reber grammar: strings, a grammar checker, padded batches and the
continual stream of Gers et al. (2000), plus a fast window sampler for training.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ...core._checks import check_choice, check_positive_int, describe
from ...core.utils import as_rng
from ._common import _real

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


def reber_window_sampler(T: int = 40, pool_streams: int = 32, pool_length: int = 1000, seed=99):
    """Fast training batches from the continual Reber stream: windows cut from a fixed pool.

    Generating strings symbol by symbol in Python is slower than training the
    network on them, so we generate ``pool_streams`` long streams once and
    cut windows of length ``T`` that begin at a string boundary (the network
    starts each window from a zero state, so it must start with a fresh
    string). With ~2,000 strings in the pool, overlap between batches does not
    matter at the scale of these experiments.

    Returns
    -------
    callable
        ``data_fn(n, rng) -> (x (n, T, 7), y (n, T, 7))``.
    """
    pool = continual_reber_stream(pool_streams, pool_length, as_rng(seed))
    rows, cols = np.nonzero(pool.string_start[:, : pool_length - T])
    offsets = np.arange(T)

    def data_fn(n, rng):
        pick = rng.integers(0, rows.size, size=n)
        r, c = rows[pick, None], cols[pick, None] + offsets
        return pool.x[r, c], pool.y[r, c]

    return data_fn
