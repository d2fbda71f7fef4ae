"""Checks for solutions/03_gated_cell.ipynb: stable sigmoid, one LSTM step, parameter count."""

from __future__ import annotations

import numpy as np

from ...core import activations
from ...core.lstm import lstm_step_forward
from ..checks import probe_rng, register
from ..feedback import Incorrect, RemoteError, call_learner, close, compare
from ..lstm_diagnosis import diagnose_step_forward, step_fixture

EXERCISE_SET = "03_gated_cell"


_sig = activations.get("sigmoid").fn

#: Moderate inputs first: a wrong formula shows here, before any overflow question.
_MODERATE = np.array([[-3.0, -0.5, 0.0, 0.5], [3.0, 2.0, -2.0, 1e-3]])
#: Then extreme ones, where only a stable formula avoids overflow.
_EXTREME = np.array([[-1000.0, -40.0, -3.0, -0.5], [0.0, 0.5, 3.0, 40.0],
                     [1000.0, 1e-3, -1e-3, 2.0]])

_SIGMOID_MISTAKES = (
    (lambda z: _sig(-z), "your function computes sigma(-z) = 1 - sigma(z): the sign of z is "
                         "flipped. sigma(z) = 1 / (1 + exp(-z)) is above 1/2 for z > 0 "
                         "(sigma(3) = 0.95; yours gives 0.047)"),
    (np.tanh, "that is tanh(z), which runs from -1 to 1; the sigmoid runs from 0 to 1: "
              "1 / (1 + exp(-z))"),
    (lambda z: _sig(z) * (1 - _sig(z)), "that is the sigmoid's derivative sigma(z) * "
                                        "(1 - sigma(z)); the exercise asks for sigma(z) itself"),
    (lambda z: _sig(2 * z), "(1 + tanh(z)) / 2 is sigma(2z): use tanh(z / 2)"),
    (lambda z: 1 / (1 + z), "the exponential is missing: 1 / (1 + exp(-z))"),
    (np.exp, "exp(z) alone grows without bound: divide it by (1 + exp(z))"),
)


def _sigmoid_value_hints(z, got) -> list[str]:
    """Hints for a sigmoid with wrong values on ``z``: a known formula, or the wrong half."""
    arr = np.asarray(got, dtype=float)
    with np.errstate(all="ignore"):
        for formula, hint in _SIGMOID_MISTAKES:
            if close(arr, formula(z)):
                return [f"hint: {hint}"]
        right = np.isclose(arr, _sig(z), rtol=1e-9, atol=1e-12)
    if right[z >= 0].all() and not right[z < 0].all():
        return ["hint: your values are right for z >= 0 and wrong for z < 0: check the branch "
                "for negative z, exp(z) / (1 + exp(z))"]
    if right[z < 0].all() and not right[z >= 0].all():
        return ["hint: your values are right for z < 0 and wrong for z >= 0: check the branch "
                "for z >= 0, 1 / (1 + exp(-z))"]
    return []


def _overflows_at(fn, value: float) -> bool:
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            fn(np.array([value]))
    except (FloatingPointError, OverflowError):
        return True
    except RemoteError as exc:  # graded: the same exception, described by the sandbox
        return "FloatingPointError" in exc.description or "OverflowError" in exc.description
    except Exception:  # any other failure is reported by the main probe
        return False
    return False


def _overflow_hints(fn, failure: str) -> list[str]:
    """Hints for a sigmoid that overflows: which side, and what in the learner's line does it."""
    low, high = _overflows_at(fn, -1000.0), _overflows_at(fn, 1000.0)
    line = failure.rsplit("`", 2)[-2] if failure.count("`") >= 2 else ""
    hints = []
    if "where" in line and "exp" in line:
        hints.append("np.where evaluates both branches for every element, so the exp in the "
                     "branch it then discards still overflows: compute each branch only on its "
                     "own elements (z[z >= 0], z[z < 0]), or use exp(-abs(z)) in both")
    if low and high:
        hints.append("exp overflows at both z = -1000 and z = +1000: take exp only of a number "
                     "<= 0, i.e. exp(-abs(z))")
    elif low:
        hints.append("np.exp(-z) overflows for z = -1000 (exp(1000) is beyond float64). Only "
                     "ever take exp of a number <= 0: for z >= 0 use 1 / (1 + exp(-z)), for "
                     "z < 0 use exp(z) / (1 + exp(z))")
    elif high:
        hints.append("np.exp(z) overflows for z = +1000. Only ever take exp of a number <= 0: "
                     "for z >= 0 use 1 / (1 + exp(-z)), for z < 0 use exp(z) / (1 + exp(z))")
    return [f"hint: {h}" for h in hints]


@register("stable_sigmoid", EXERCISE_SET, points=1, title="A numerically stable sigmoid")
def check_stable_sigmoid(fn):
    """``fn(z)`` -> sigmoid(z), elementwise, any shape, with no overflow warning at |z| = 1000.

    Moderate inputs are probed first, so a wrong formula (a flipped sign, tanh, ...) is
    named as such; only a formula that is right there is then tried at z = +-1000. Each
    stage has its hand-chosen array and then a random one (of random shape, both signs;
    the extreme one reaches past |z| = 710, where exp overflows).
    """
    rng = probe_rng(3)
    moderate = rng.normal(0, 3, size=tuple(rng.integers(1, 6, size=2)) + (2,))
    moderate[..., 0], moderate[..., 1] = -np.abs(moderate[..., 0]), np.abs(moderate[..., 1])
    extreme = rng.choice([-1.0, 1.0], size=(int(rng.integers(2, 7)), 2))
    extreme *= rng.uniform(30.0, 1000.0, size=extreme.shape)
    extreme[0] = [-rng.uniform(720.0, 1000.0), rng.uniform(720.0, 1000.0)]
    for z in (_MODERATE, moderate):
        with np.errstate(all="ignore"):  # overflow is the second question, not the first
            got = call_learner(fn, z.copy(), what="sigmoid")
        problem = compare("sigmoid(z) for moderate z", got, _sig(z), rtol=1e-9, atol=1e-12)
        if problem:
            hints = _sigmoid_value_hints(z, got) if "wrong values" in problem else []
            raise Incorrect(problem, *hints)
    for z in (_EXTREME, extreme):
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                got = call_learner(fn, z.copy(), what="sigmoid")
        except Incorrect as exc:
            if "FloatingPointError" in exc.lines[0] or "OverflowError" in exc.lines[0]:
                raise Incorrect(exc.lines[0], *_overflow_hints(fn, exc.lines[0])) from None
            raise
        problem = compare("sigmoid(z) for z up to ±1000", got, _sig(z), rtol=1e-9, atol=1e-12)
        if problem:
            hints = _sigmoid_value_hints(z, got) if "wrong values" in problem else []
            raise Incorrect(problem, *hints)
    return ["no overflow at z = ±1000, and the values match to 1e-9"]


@register("lstm_step_forward", EXERCISE_SET, points=3, title="One LSTM step forward")
def check_lstm_step_forward(fn):
    """``fn(x_t, h_prev, c_prev, params) -> (h, c, cache)``; gate-by-gate diagnosis."""
    if fn is lstm_step_forward:
        raise Incorrect("that is the package's own lstm_step_forward: write yours")
    for seed in (0, 1):
        diagnose_step_forward(fn, step_fixture(seed))
    diagnose_step_forward(fn, step_fixture(2, B=1, D=2, H=3))  # batch of one, other sizes
    return ["all four gates, c and h match the reference"]


def _count(D: int, H: int) -> int:
    return 4 * (D * H + H * H + H)


_COUNT_MISTAKES = [
    (lambda D, H: D * H + H * H + H, "that is one gate's worth: there are four blocks "
                                     "(i, f, g, o)"),
    (lambda D, H: 3 * (D * H + H * H + H), "the cell candidate g has its own weights too: "
                                           "four blocks, not three"),
    (lambda D, H: 4 * (D * H + H * H), "the biases are missing: 4H of them"),
    (lambda D, H: 4 * (D * H + H), "the recurrent weights U (H x 4H) are missing"),
    (lambda D, H: 4 * (H * H + H), "the input weights W (D x 4H) are missing"),
    (lambda D, H: 4 * (D * H + H * H) + H, "each of the four blocks has its own bias: 4H biases"),
    (lambda D, H: 4 * ((D + H) * (D + H) + H), "W maps D inputs to H units per gate: D x H, "
                                                "not (D + H) x (D + H)"),
]


@register("lstm_param_count", EXERCISE_SET, points=1, title="Counting the parameters of an LSTM")
def check_lstm_param_count(fn):
    """``fn(D, H) -> int``, the number of trainable numbers in W, U and b.

    Four hand-chosen sizes, then two drawn at random up to 10,000 (too many pairs to tabulate).
    """
    drawn = [tuple(int(n) for n in pair) for pair in probe_rng(4).integers(1, 10_001, (2, 2))]
    for D, H in ((3, 5), (1, 1), (10, 20), (128, 256), *drawn):
        got = call_learner(fn, D, H, what="lstm_param_count")
        if isinstance(got, bool) or not isinstance(got, (int, np.integer, float, np.floating)):
            raise Incorrect(f"lstm_param_count should return a number; got {type(got).__name__}")
        if got == _count(D, H):
            if not isinstance(got, (int, np.integer)):
                raise Incorrect(f"the count is right but it is a {type(got).__name__}; "
                                "return an int (a count of parameters is a whole number)")
            continue
        lines = [f"for D = {D}, H = {H} you get {got}; the LSTM has {_count(D, H)} parameters"]
        lines += [f"hint: {hint}" for formula, hint in _COUNT_MISTAKES if formula(D, H) == got][:1]
        raise Incorrect(*lines)
    return ["4 * (D*H + H*H + H): four blocks, each with input weights, recurrent weights "
            "and a bias"]
