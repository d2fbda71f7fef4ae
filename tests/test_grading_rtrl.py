"""The RTRL checks (exercises 08_rtrl): each typical slip in the chain rule gets its diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

import lstm_teach as lt
from lstm_teach.grading import check


def quiet(name, fn):
    return check(name, fn, verbose=False)


def rtrl_step(x_t, h_prev, h, S_prev, params, recurrence=True, transpose_U=False,
              derivative="h", direct_U_state="h_prev", direct=True):
    U = params["U"].T if transpose_U else params["U"]
    B, H = h.shape
    eye = np.eye(H)
    state = h_prev if direct_U_state == "h_prev" else h
    terms = {"W": np.einsum("nd,jk->njdk", x_t, eye), "U": np.einsum("nm,jk->njmk", state, eye),
             "b": np.broadcast_to(eye, (B, H, H))}
    deriv = {"h": 1 - h**2, "h_prev": 1 - h_prev**2, "none": np.ones_like(h),
             "tanh_of_h": 1 - np.tanh(h) ** 2}[derivative]
    S = {}
    for k in ("W", "U", "b"):
        rec = np.einsum("mj,nm...->nj...", U, S_prev[k]) if recurrence else 0.0
        total = rec + (terms[k] if direct else 0.0)
        S[k] = deriv.reshape(B, H, *(1,) * (S_prev[k].ndim - 2)) * total
    return S


def test_correct_step_passes():
    result = quiet("rtrl_step", rtrl_step)
    assert result.passed and result.points == 3, result.message


@pytest.mark.parametrize("kwargs, phrases", [
    ({"recurrence": False}, ["wrong: S['W'], S['U'], S['b']", "not carried through time"]),
    ({"transpose_U": True}, ["uses U transposed"]),
    ({"derivative": "none"}, ["tanh derivative is missing"]),
    ({"derivative": "h_prev"}, ["taken at h_prev"]),
    ({"derivative": "tanh_of_h"}, ["already activated", "1 - h**2"]),
    ({"direct_U_state": "h"}, ["wrong: S['U']; right: S['W'], S['b']", "uses the new state h"]),
    ({"direct": False}, ["the direct term is missing"]),
])
def test_step_mistakes_are_named(kwargs, phrases):
    result = quiet("rtrl_step", lambda *a: rtrl_step(*a, **kwargs))
    assert result.status == "failed"
    for phrase in phrases:
        assert phrase in result.message, result.message


def test_step_with_a_wrong_shape_says_so():
    def summed(*args):
        S = rtrl_step(*args)
        return {**S, "W": S["W"].sum(axis=0)}

    message = quiet("rtrl_step", summed).message
    assert "S['W'] has shape (4, 3, 4); expected (2, 4, 3, 4)" in message, message


def rtrl_gradients(x, params, dhs, h0=None, step=rtrl_step, last_only=False, zero_state=False):
    B, T, D = x.shape
    H = params["U"].shape[0]
    h = np.zeros((B, H)) if h0 is None or zero_state else h0
    S = {"W": np.zeros((B, H, D, H)), "U": np.zeros((B, H, H, H)), "b": np.zeros((B, H, H))}
    grads = {k: np.zeros_like(params[k]) for k in S}
    hs = []
    for t in range(T):
        h_new, _ = lt.rnn_step_forward(x[:, t], h, params)
        S = step(x[:, t], h, h_new, S, params)
        h = h_new
        hs.append(h)
        if not last_only or t == T - 1:
            for k in grads:
                grads[k] += np.einsum("nj,nj...->...", dhs[:, t], S[k])
    return np.stack(hs, axis=1), grads


def test_correct_gradients_equal_bptt():
    result = quiet("rtrl_gradients", rtrl_gradients)
    assert result.passed and result.points == 2, result.message
    assert "equal to BPTT" in result.message


@pytest.mark.parametrize("kwargs, phrases", [
    ({"last_only": True}, ["differ from BPTT", "only dhs[:, -1] is used"]),
    ({"step": lambda *a: rtrl_step(*a, recurrence=False)},
     ["differ from BPTT", "one-step truncated"]),
    ({"zero_state": True}, ["hs has the right shape but wrong values", "starting from h0"]),
])
def test_gradient_mistakes_are_named(kwargs, phrases):
    result = quiet("rtrl_gradients", lambda *a: rtrl_gradients(*a, **kwargs))
    assert result.status == "failed"
    for phrase in phrases:
        assert phrase in result.message, result.message


def test_gradients_without_a_default_h0():
    def ones_default(x, params, dhs, h0=None):
        B, H = x.shape[0], params["U"].shape[0]
        return rtrl_gradients(x, params, dhs, np.ones((B, H)) if h0 is None else h0)

    message = quiet("rtrl_gradients", ones_default).message
    assert "h0=None" in message and "start from zeros" in message, message
