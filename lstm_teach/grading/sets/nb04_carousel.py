"""Checks for solutions/04_carousel.ipynb: one LSTM step backward, and the carousel gradient."""

from __future__ import annotations

import numpy as np

from ...core.lstm import lstm_forward
from ..checks import register
from ..feedback import Incorrect, call_learner, close, compare
from ..lstm_diagnosis import diagnose_step_backward, sequence_fixture, step_fixture

EXERCISE_SET = "04_carousel"


@register("lstm_step_backward", EXERCISE_SET, points=3, title="One LSTM step backward")
def check_lstm_step_backward(fn):
    """``fn(dh, dc, cache) -> (dx, dh_prev, dc_prev, grads)`` with the dict cache."""
    lines = diagnose_step_backward(fn, step_fixture(1))
    diagnose_step_backward(fn, step_fixture(4, B=1, D=2, H=3))
    return lines


def _carousel(fs: np.ndarray, t: int) -> np.ndarray:
    return np.prod(fs[:, t:], axis=1)


@register("carousel_gradient", EXERCISE_SET, points=2, title="The carousel gradient dc_T/dc_t")
def check_carousel_gradient(fn):
    """``fn(fs, t) -> (B, H)``: the product of the forget gates f_{t+1} .. f_T."""
    fx = sequence_fixture(5, B=2, T=6, D=3, H=4)
    _, cache = lstm_forward(fx["x"], fx["params"], fx["h0"], fx["c0"])
    fs = np.ascontiguousarray(cache.gates["f"])  # (B, T, H): fs[:, k] is f_{k+1}
    T = fs.shape[1]
    for t in (0, 2, T - 1, T):
        got = call_learner(fn, fs.copy(), t, what="carousel_gradient")
        expected = _carousel(fs, t)
        problem = compare(f"carousel_gradient(fs, t={t})", got, expected)
        if problem is None:
            continue
        lines = [problem]
        got_f = np.asarray(got, float) if np.shape(got) == expected.shape else None
        if got_f is not None:
            if t + 1 <= T and close(got_f, _carousel(fs, t + 1)) or t == T - 1 and close(got_f, 1):
                lines.append("hint: off by one: f_{t+1} is fs[:, t] (Python counts from 0), so "
                             "the product runs over fs[:, t:]")
            elif t >= 1 and close(got_f, _carousel(fs, t - 1)):
                lines.append("hint: off by one: the product starts at f_{t+1}, which is fs[:, t]")
            elif close(got_f, fs[:, t:].sum(axis=1)):
                lines.append("hint: the gradient is a product of the forget gates, not a sum")
            elif close(got_f, _carousel(fs, 0)):
                lines.append("hint: your answer does not depend on t: multiply only the gates "
                             "after step t")
        if t == T:
            lines.append("at t = T nothing lies between c_T and itself: the answer is all ones")
        raise Incorrect(*lines)
    return ["dc_T/dc_t is the product of the forget gates in between: it stays near 1 "
            "exactly when the gates stay open"]
