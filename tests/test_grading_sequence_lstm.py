"""The sequence-LSTM checks (exercises 04_sequence_lstm): each typical wrong loop gets its diagnosis.

Every wrong answer below is a small function that makes one mistake; its feedback must
name that mistake (and where in time it first shows).
"""

from __future__ import annotations

import numpy as np
import pytest

import lstm_teach as lt
from lstm_teach.grading import check


def quiet(name, fn):
    return check(name, fn, verbose=False)


# --------------------------------------------------------------------------- forward


def forward(x, params, h0=None, c0=None, carry_h=True, carry_c=True, reset_c=False,
            start_zero=False, swap=False, out="h", time_major=False):
    B, T, _ = x.shape
    H = params["U"].shape[0]
    zeros = np.zeros((B, H))
    h0 = zeros if h0 is None or start_zero else h0
    c0 = zeros if c0 is None or start_zero else c0
    h, c, hs, caches = h0, c0, [], []
    for t in range(T):
        h_in = h if carry_h else h0
        c_in = zeros if reset_c else (c if carry_c else c0)
        if swap:
            h_in, c_in = c_in, h_in
        h, c, cache = lt.lstm_step_forward(x[:, t], h_in, c_in, params)
        hs.append(h if out == "h" else c)
        caches.append(cache)
    return np.stack(hs, axis=0 if time_major else 1), caches


def test_correct_forward_passes():
    result = quiet("lstm_forward", forward)
    assert result.passed and result.points == 2, result.message


@pytest.mark.parametrize("kwargs, phrases", [
    ({"carry_c": False}, ["first goes wrong at t = 1", "dc not carried forward"]),
    ({"reset_c": True}, ["from the very first step, t = 0", "reset to zero"]),
    ({"carry_h": False}, ["first goes wrong at t = 1", "starts from h0"]),
    ({"start_zero": True}, ["from the very first step, t = 0", "h0 and c0 are ignored"]),
    ({"swap": True}, ["t = 0", "h and c are swapped"]),
    ({"out": "c"}, ["hs holds the cell states"]),
    ({"time_major": True}, ["time-major", "axis=1"]),
])
def test_forward_mistakes_are_named(kwargs, phrases):
    result = quiet("lstm_forward", lambda *a: forward(*a, **kwargs))
    assert result.status == "failed"
    for phrase in phrases:
        assert phrase in result.message, result.message


def test_forward_returning_only_the_last_state():
    def last_only(x, params, h0=None, c0=None):
        hs, caches = forward(x, params, h0, c0)
        return hs[:, -1], caches

    message = quiet("lstm_forward", last_only).message
    assert "not only the last one (it is h_T)" in message, message


def test_forward_without_default_initial_state():
    def needs_state(x, params, h0=None, c0=None):
        return forward(x, params, h0 + 0.0, c0 + 0.0)  # fails on None

    message = quiet("lstm_forward", needs_state).message
    assert "TypeError" in message and "h0 + 0.0" in message, message


def test_forward_with_wrong_default_initial_state():
    def ones_default(x, params, h0=None, c0=None):
        B, H = x.shape[0], params["U"].shape[0]
        return forward(x, params, np.ones((B, H)) if h0 is None else h0, c0)

    message = quiet("lstm_forward", ones_default).message
    assert "h0=None" in message and "start from zeros" in message, message


# --------------------------------------------------------------------------- backward


def backward(dhs, caches, dcT=None, carry_h=True, carry_c=True, reverse=True, use_dcT=True,
             accumulate="sum", swap_out=False, stack_axis=1):
    B, T, H = dhs.shape
    dh_next = np.zeros((B, H))
    dc_next = dcT if (dcT is not None and use_dcT) else np.zeros((B, H))
    dxs, steps = [None] * T, []
    for t in (reversed(range(T)) if reverse else range(T)):
        dh = dhs[:, t] + (dh_next if carry_h else 0)
        dc = dc_next if carry_c or t == T - 1 else np.zeros((B, H))
        dxs[t], dh_next, dc_next, g = lt.lstm_step_backward(dh, dc, caches[t])
        steps.append(g)
    if accumulate == "sum":
        grads = {k: sum(g[k] for g in steps) for k in steps[0]}
    elif accumulate == "overwrite":
        grads = steps[-1]
    elif accumulate == "mean":
        grads = {k: sum(g[k] for g in steps) / T for k in steps[0]}
    elif accumulate == "stacked":
        grads = {k: np.stack([g[k] for g in steps]) for k in steps[0]}
    else:  # summed over a wrong axis of the stacked per-step gradients
        grads = {k: np.stack([g[k] for g in steps]).sum(axis=-1) for k in steps[0]}
    if swap_out:
        dh_next, dc_next = dc_next, dh_next
    return np.stack(dxs, axis=stack_axis), dh_next, dc_next, grads


def test_correct_backward_passes_with_a_gradient_check():
    result = quiet("lstm_backward", backward)
    assert result.passed and result.points == 3, result.message
    assert "numerical gradient check: worst relative error" in result.message


@pytest.mark.parametrize("kwargs, phrases", [
    ({"carry_c": False}, ["first goes wrong at t = 3, counting back", "dc not carried"]),
    ({"carry_h": False}, ["first goes wrong at t = 3, counting back", "dh_next dropped"]),
    ({"carry_h": False, "carry_c": False}, ["neither dh_next nor dc_next"]),
    ({"reverse": False}, ["runs forwards in time", "reversed(range(T))"]),
    ({"accumulate": "overwrite"}, ["wrong: dW, dU, db; right: dx, dh0, dc0",
                                   "add every step's grads"]),
    ({"accumulate": "mean"}, ["averaged over time"]),
    ({"accumulate": "stacked"}, ["has shape (5, 3, 16)", "not yet summed"]),
    ({"accumulate": "wrong_axis"}, ["has shape (5, 3)", "summed over axis 2",
                                    "sum over axis 0, the time axis"]),
    ({"use_dcT": False}, ["when dcT is given", "dcT is ignored"]),
    ({"swap_out": True}, ["dh0 and dc0 are swapped"]),
    ({"stack_axis": 0}, ["time-major", "axis=1"]),
])
def test_backward_mistakes_are_named(kwargs, phrases):
    result = quiet("lstm_backward", lambda *a: backward(*a, **kwargs))
    assert result.status == "failed"
    for phrase in phrases:
        assert phrase in result.message, result.message


def test_backward_hints_are_specific():
    """The hint for a dropped dh_next must not also claim that dc is dropped, and vice versa."""
    no_h = quiet("lstm_backward", lambda *a: backward(*a, carry_h=False)).message
    no_c = quiet("lstm_backward", lambda *a: backward(*a, carry_c=False)).message
    assert "dc not carried" not in no_h and "dh_next dropped" not in no_c


def test_backward_failure_includes_the_numerical_gradient_check():
    message = quiet("lstm_backward", lambda *a: backward(*a, carry_c=False)).message
    assert "numerical gradient check: relative error" in message and "dx" in message
