"""Checks for solutions/02_simple_rnn.ipynb: one RNN step, and backpropagation through time."""

from __future__ import annotations

import numpy as np

from ...core.gradcheck import numerical_gradient, rel_error
from ...core.rnn import rnn_backward, rnn_forward, rnn_step_forward
from ..checks import probe_rng, register
from ..feedback import Incorrect, call_learner, close, compare, unpack
from ..lstm_diagnosis import GRAD_TOL, copy_params

EXERCISE_SET = "02_simple_rnn"


def _fixture(seed: int, B: int = 3, D: int = 4, H: int = 5) -> dict:
    rng = probe_rng(seed)
    return {"x": rng.normal(size=(B, D)), "h_prev": rng.uniform(-0.9, 0.9, (B, H)),
            "params": {"W": rng.normal(0, 0.6, (D, H)), "U": rng.normal(0, 0.6, (H, H)),
                       "b": rng.normal(0, 0.5, H)}}


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


@register("rnn_step_forward", EXERCISE_SET, points=2, title="One RNN step forward")
def check_rnn_step_forward(fn):
    """``fn(x_t, h_prev, params) -> h`` (or a tuple starting with h)."""
    if fn is rnn_step_forward:
        raise Incorrect("that is the package's own rnn_step_forward: write yours")
    for seed, sizes in ((0, (3, 4, 5)), (1, (1, 2, 3))):
        fx = _fixture(seed, *sizes)
        x, h_prev, p = fx["x"], fx["h_prev"], fx["params"]
        got = call_learner(fn, x.copy(), h_prev.copy(), copy_params(p), what="rnn_step_forward")
        if isinstance(got, (tuple, list)):
            got = got[0] if got else None
        expected = rnn_step_forward(x, h_prev, p)[0]
        problem = compare("h", got, expected)
        if problem is None:
            continue
        xW, hU, b = x @ p["W"], h_prev @ p["U"], p["b"]
        mistakes = [
            ("the bias b is missing", np.tanh(xW + hU)),
            ("the recurrent term h_prev @ U is missing: without it there is no memory",
             np.tanh(xW + b)),
            ("the input term x_t @ W is missing", np.tanh(hU + b)),
            ("U is transposed: the package computes h_prev @ U (U is (H, H), rows for h_prev)",
             np.tanh(xW + h_prev @ p["U"].T + b)),
            ("the activation is the sigmoid; this RNN uses tanh", _sig(xW + hU + b)),
            ("the tanh is missing: h = tanh(x_t @ W + h_prev @ U + b)", xW + hU + b),
        ]
        hints = [h for h, value in mistakes if close(got, value)]
        raise Incorrect(problem, *[f"hint: {h}" for h in hints[:1]])
    return ["h = tanh(x_t W + h_prev U + b)"]


def _rnn_cache(x, h0, params) -> dict:
    hs, _ = rnn_forward(x, params, h0)
    return {"x": x, "h0": h0, "hs": hs, "params": params}


def _bptt(dhs, cache, carry=True, deriv="output", dU_state="prev"):
    """BPTT on the dict cache, with switches that reproduce common mistakes."""
    x, h0, hs, p = cache["x"], cache["h0"], cache["hs"], cache["params"]
    B, T, H = hs.shape
    prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)
    dh_next = np.zeros((B, H))
    dz = np.zeros_like(hs)
    for t in range(T - 1, -1, -1):
        dh = dhs[:, t] + (dh_next if carry else 0)
        local = 1 - hs[:, t] ** 2 if deriv == "output" else 1 - np.tanh(hs[:, t]) ** 2
        if deriv == "prev":
            local = 1 - prev[:, t] ** 2
        dz[:, t] = dh * local
        dh_next = dz[:, t] @ p["U"].T
    states = prev if dU_state == "prev" else hs
    grads = {"W": np.einsum("btd,bth->dh", x, dz), "U": np.einsum("btk,bth->kh", states, dz),
             "b": dz.sum(axis=(0, 1))}
    return dz @ p["W"].T, dh_next, grads


_BPTT_MISTAKES = [
    ({"carry": False}, "dh_next is dropped: the gradient reaching h_t comes from the loss at t "
                       "AND from step t + 1 (dh = dhs[:, t] + dh_next)"),
    ({"dU_state": "cur"}, "dU pairs dz_t with h_t; it should pair it with h_{t-1}, the state "
                          "that U multiplied"),
    ({"deriv": "activated"}, "the tanh derivative is applied to h, which is already tanh(z): "
                             "use 1 - h**2, not 1 - tanh(h)**2"),
    ({"deriv": "prev"}, "the tanh derivative at step t uses h_{t-1}; use 1 - h_t**2"),
]


@register("rnn_backward", EXERCISE_SET, points=3, title="Backpropagation through time")
def check_rnn_backward(fn):
    """``fn(dhs, cache) -> (dx, dh0, grads)`` with the dict cache (x, h0, hs, params)."""
    rng = probe_rng(5)
    B, T, D, H = 2, 5, 3, 4
    p = {"W": rng.normal(0, 0.6, (D, H)), "U": rng.normal(0, 0.6, (H, H)),
         "b": rng.normal(0, 0.3, H)}
    x, h0 = rng.normal(size=(B, T, D)), rng.uniform(-0.5, 0.5, (B, H))
    dhs = rng.normal(size=(B, T, H))
    cache = _rnn_cache(x, h0, p)
    dx, dh0, grads = rnn_backward(dhs, rnn_forward(x, p, h0)[1])
    learner_cache = {k: (copy_params(v) if k == "params" else v.copy()) for k, v in cache.items()}
    result = call_learner(fn, dhs.copy(), learner_cache, what="rnn_backward")
    g_dx, g_dh0, g_grads = unpack(result, 3, "(dx, dh0, grads)", "rnn_backward")
    if not isinstance(g_grads, dict) or any(k not in g_grads for k in "WUb"):
        raise Incorrect("rnn_backward should return grads as a dict with keys 'W', 'U', 'b'")
    got = {"dx": g_dx, "dh0": g_dh0, "dW": g_grads["W"], "dU": g_grads["U"], "db": g_grads["b"]}
    ref = {"dx": dx, "dh0": dh0, "dW": grads["W"], "dU": grads["U"], "db": grads["b"]}
    problems = {k: compare(k, got[k], ref[k]) for k in ref}
    fatal = [v for v in problems.values() if v and "wrong values" not in v]
    if fatal:
        raise Incorrect(*fatal)

    # Numerical gradient check of L = sum(dhs * hs).
    arrays = {"x": x.copy(), "h0": h0.copy(), **copy_params(p)}
    params = {k: arrays[k] for k in "WUb"}

    def loss(_):
        return np.sum(rnn_forward(arrays["x"], params, arrays["h0"])[0] * dhs)

    errors = {f"d{k}": rel_error(np.asarray(got[f"d{k}"], float), numerical_gradient(loss, v))
              for k, v in arrays.items()}
    numeric = ", ".join(f"{k} {v:.1e}" for k, v in errors.items() if not v < GRAD_TOL)
    wrong = [k for k, v in problems.items() if v]
    if not wrong:
        return [f"numerical gradient check: worst relative error {max(errors.values()):.1e}"]
    right = [k for k in ref if k not in wrong]
    lines = [f"wrong: {', '.join(wrong)}" + (f"; right: {', '.join(right)}" if right else "")]
    gdx = np.asarray(got["dx"], float)
    if close(gdx[:, -1], dx[:, -1]) and not close(gdx, dx):
        lines.append(f"dx is right at the last step (t = {T - 1}) but wrong before it: the "
                     "gradient is not carried back across time correctly")
    for switches, hint in _BPTT_MISTAKES:
        bdx, bdh0, bgrads = _bptt(dhs, cache, **switches)
        if close(gdx, bdx) and all(close(got[f"d{k}"], bgrads[k]) for k in "WUb"):
            lines.append(f"hint: {hint}")
            break
    lines.append(f"numerical gradient check: relative error {numeric} (a correct backward pass "
                 f"gives < {GRAD_TOL:.0e})")
    raise Incorrect(*lines)
