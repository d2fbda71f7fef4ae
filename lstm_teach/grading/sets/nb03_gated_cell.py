"""Checks for solutions/03_gated_cell.ipynb: stable sigmoid, one LSTM step, parameter count."""

from __future__ import annotations

import numpy as np

from ...core import activations
from ...core.lstm import lstm_step_forward
from ..checks import register
from ..feedback import Incorrect, call_learner, compare
from ..lstm_diagnosis import diagnose_step_forward, step_fixture

EXERCISE_SET = "03_gated_cell"


@register("stable_sigmoid", EXERCISE_SET, points=1, title="A numerically stable sigmoid")
def check_stable_sigmoid(fn):
    """``fn(z)`` -> sigmoid(z), elementwise, any shape, with no overflow warning at |z| = 1000."""
    z = np.array([[-1000.0, -40.0, -3.0, -0.5], [0.0, 0.5, 3.0, 40.0], [1000.0, 1e-3, -1e-3, 2.0]])
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            got = call_learner(fn, z.copy(), what="sigmoid")
    except Incorrect as exc:
        if "FloatingPointError" in exc.lines[0]:
            raise Incorrect(
                exc.lines[0],
                "hint: np.exp(-z) overflows for z = -1000. Only ever take exp of a number <= 0: "
                "for z >= 0 use 1 / (1 + exp(-z)), for z < 0 use exp(z) / (1 + exp(z))",
            ) from None
        raise
    problem = compare("sigmoid(z)", got, activations.get("sigmoid").fn(z), rtol=1e-9, atol=1e-12)
    if problem:
        raise Incorrect(problem)
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
    """``fn(D, H) -> int``, the number of trainable numbers in W, U and b."""
    for D, H in ((3, 5), (1, 1), (10, 20), (128, 256)):
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
