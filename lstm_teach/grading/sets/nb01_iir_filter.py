"""Checks for solutions/01_iir_filter.ipynb: the filter, its impulse response, its stability."""

from __future__ import annotations

import numpy as np

from ...core import iir
from ..checks import probe_rng, register
from ..feedback import Incorrect, call_learner, close, compare

EXERCISE_SET = "01_iir_filter"


def _filter_mistakes(x, w, b):
    """(hint, output) for the usual slips in y_t = w * y_{t-1} + b * x_t."""
    ref = iir.iir_filter(x, w, b)
    lagged = np.concatenate([[0.0], ref[:-1]])
    scaled = np.zeros_like(x)
    y = 0.0
    for t, xt in enumerate(x):
        y = b * (w * y + xt)
        scaled[t] = y
    return [
        ("your output lags one step behind: y[0] already includes x[0] "
         "(y_0 = w * y_{-1} + b * x_0 with y_{-1} = 0)", lagged),
        ("b multiplies only the new input: y_t = w * y_{t-1} + b * x_t", scaled),
        ("the input weight b is not used", iir.iir_filter(x, w, 1.0)),
        ("the feedback term w * y_{t-1} is missing: without it there is no memory", b * x),
        ("w and b have swapped roles: w multiplies the previous output", iir.iir_filter(x, b, w)),
    ]


def _random_signs(rng, n: int) -> np.ndarray:
    return rng.choice([-1.0, 1.0], size=n)


@register("iir_filter", EXERCISE_SET, points=2, title="The first-order IIR filter")
def check_iir_filter(fn):
    """``fn(x, w, b) -> y`` for a 1-D signal ``x``.

    Hand-chosen filters first (stable, alternating, an integrator at w = 1, a growing
    one), then two drawn at random, each on its own random signal.
    """
    rng = probe_rng(0)
    x = rng.normal(size=9)
    cases = [(x, w, b) for w, b in ((0.5, 0.7), (-0.8, 1.5), (1.0, 1.0), (1.1, -0.3))]
    extra = probe_rng(0, 1)
    for _ in range(2):
        w, b = _random_signs(extra, 2) * (extra.uniform(0.2, 1.15), extra.uniform(0.3, 2.0))
        cases.append((extra.normal(size=int(extra.integers(6, 14))), round(float(w), 6),
                      round(float(b), 6)))
    for x, w, b in cases:
        got = call_learner(fn, x.copy(), w, b, what="iir_filter")
        expected = iir.iir_filter(x, w, b)
        problem = compare(f"iir_filter(x, w={w}, b={b})", got, expected)
        if problem is None:
            continue
        hints = [h for h, value in _filter_mistakes(x, w, b) if close(got, value)]
        raise Incorrect(problem, *[f"hint: {h}" for h in hints[:1]])
    return ["y_t = w * y_{t-1} + b * x_t, for stable, integrating and growing filters"]


@register("impulse_response", EXERCISE_SET, points=1, title="The impulse response")
def check_impulse_response(fn):
    """``fn(w, n) -> (n,)``: the response to a unit impulse at t = 0, with b = 1."""
    rng = probe_rng(1)
    drawn = [(round(float(s * rng.uniform(0.1, 1.3)), 6), int(rng.integers(2, 16)))
             for s in _random_signs(rng, 2)]
    for w, n in ((0.5, 6), (-0.9, 10), (1.0, 4), (1.2, 5), (0.3, 1), *drawn):
        got = call_learner(fn, w, n, what="impulse_response")
        expected = iir.impulse_response(w, n)
        problem = compare(f"impulse_response(w={w}, n={n})", got, expected)
        if problem is None:
            continue
        lines = [problem]
        if close(got, w ** np.arange(1, n + 1)):
            lines.append("hint: the first sample is the impulse itself, w**0 = 1; yours starts "
                         "at w")
        elif np.shape(got) in ((n + 1,), (n - 1,)):
            lines.append(f"hint: return exactly n = {n} samples, y_0 .. y_{n - 1}")
        raise Incorrect(*lines)
    return ["the impulse response is w**k: it decays, stays or grows with |w|"]


_CLASS_REASONS = {
    "stable": "|w| < 1: the response decays",
    "integrator": "w = 1: the pole sits on the unit circle at z = 1, the filter adds up its input",
    "marginal": "w = -1: the pole sits on the unit circle at z = -1, the response flips sign "
                "for ever without decaying",
    "unstable": "|w| > 1: the response grows without bound",
}


@register("classify_stability", EXERCISE_SET, points=2, title="Stability from the pole")
def check_classify_stability(fn):
    """``fn(w) -> "stable" | "integrator" | "marginal" | "unstable"``.

    The poles on the unit circle (w = 1, w = -1) and the ones just beside it are
    hand-chosen; four more are drawn at random, at least 0.01 from the circle.
    """
    wrong = []
    rng = probe_rng(2)
    drawn = [round(float(s * m), 6) for s, m in zip(_random_signs(rng, 4),
                                                     (rng.uniform(0.0, 0.99),
                                                      rng.uniform(0.0, 0.99),
                                                      rng.uniform(1.01, 3.0),
                                                      rng.uniform(1.01, 3.0)), strict=True)]
    for w in (0.0, 0.5, -0.5, 0.99, 1.0, -1.0, 1.01, -1.5, 3.0, *drawn):
        got = call_learner(fn, w, what="classify_stability")
        expected = iir.classify_stability(w)
        if not isinstance(got, str):
            raise Incorrect(f"classify_stability({w}) should return a string such as 'stable'; "
                            f"got {type(got).__name__} {got!r:.40}")
        if got.strip().lower() != expected:
            wrong.append(f"w = {w}: you said {got!r}, but it is {expected!r} "
                         f"({_CLASS_REASONS[expected]})")
    if wrong:
        raise Incorrect(*wrong[:3], *(["..."] if len(wrong) > 3 else []))
    return ["the pole w decides everything: inside, on or outside the unit circle"]
