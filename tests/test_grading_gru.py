"""The GRU checks (exercises 07_gru): each typical slip in the step gets its diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_teach.grading import check


def quiet(name, fn):
    return check(name, fn, verbose=False)


def sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def forward(x_t, h_prev, params, swap_z=False, reset_before=False, b_rec_outside=False,
            no_b_rec=False, swap_rz=False, n_act=np.tanh, reset=True, bad_hn=False):
    H = h_prev.shape[1]
    b_rec = np.zeros_like(params["b_rec"]) if no_b_rec else params["b_rec"]
    from_x = x_t @ params["W"] + params["b"]
    from_h = h_prev @ params["U"] + b_rec
    a_r, a_z = from_x[:, :H] + from_h[:, :H], from_x[:, H:2 * H] + from_h[:, H:2 * H]
    r, z = (sig(a_z), sig(a_r)) if swap_rz else (sig(a_r), sig(a_z))
    r = r if reset else np.ones_like(r)
    hn = from_h[:, 2 * H:]
    if reset_before:
        a_n = from_x[:, 2 * H:] + (r * h_prev) @ params["U"][:, 2 * H:] + b_rec[2 * H:]
    elif b_rec_outside:
        a_n = from_x[:, 2 * H:] + r * (h_prev @ params["U"][:, 2 * H:]) + b_rec[2 * H:]
    else:
        a_n = from_x[:, 2 * H:] + r * hn
    n = n_act(a_n)
    h = z * n + (1 - z) * h_prev if swap_z else (1 - z) * n + z * h_prev
    cache = {"x_t": x_t, "h_prev": h_prev, "r": r, "z": z, "n": n,
             "hn": h_prev @ params["U"][:, 2 * H:] if bad_hn else hn, "params": params}
    return h, cache


def test_correct_forward_passes():
    result = quiet("gru_step_forward", forward)
    assert result.passed and result.points == 2, result.message


@pytest.mark.parametrize("kwargs, phrases", [
    ({"swap_z": True}, ["roles of z and 1 - z are swapped", "right: r, z, n"]),
    ({"reset_before": True}, ["reset_after=False", "wrong: n"]),
    ({"b_rec_outside": True}, ["b_rec_n belongs inside"]),
    ({"no_b_rec": True}, ["recurrent bias b_rec is missing"]),
    ({"swap_rz": True}, ["r and z come from each other's columns"]),
    ({"n_act": sig}, ["the candidate n goes through a sigmoid"]),
    ({"reset": False}, ["the reset gate is missing"]),
    ({"bad_hn": True}, ["h is right, but cache['hn']", "before the reset gate scales it"]),
])
def test_forward_mistakes_are_named(kwargs, phrases):
    result = quiet("gru_step_forward", lambda *a: forward(*a, **kwargs))
    assert result.status == "failed"
    for phrase in phrases:
        assert phrase in result.message, result.message


def backward(dh, cache, direct=True, dz_sign=1.0, scale_hn=True, b_rec_like_b=False,
             tanh_derivative=True):
    x_t, h_prev = cache["x_t"], cache["h_prev"]
    r, z, n, hn = cache["r"], cache["z"], cache["n"], cache["hn"]
    W, U = cache["params"]["W"], cache["params"]["U"]
    dn = dh * (1 - z)
    dz = dz_sign * dh * (h_prev - n)
    da_n = dn * (1 - n**2) if tanh_derivative else dn
    dhn = da_n * r if scale_hn else da_n
    da_r, da_z = da_n * hn * r * (1 - r), dz * z * (1 - z)
    d_x = np.concatenate([da_r, da_z, da_n], axis=1)
    d_h = np.concatenate([da_r, da_z, dhn], axis=1)
    grads = {"W": x_t.T @ d_x, "U": h_prev.T @ d_h, "b": d_x.sum(axis=0),
             "b_rec": (d_x if b_rec_like_b else d_h).sum(axis=0)}
    return d_x @ W.T, d_h @ U.T + (dh * z if direct else 0), grads


def test_correct_backward_passes_with_a_gradient_check():
    result = quiet("gru_step_backward", backward)
    assert result.passed and result.points == 3, result.message
    assert "numerical gradient check: worst relative error" in result.message


@pytest.mark.parametrize("kwargs, phrases", [
    ({"direct": False}, ["wrong: dh_prev; right: dx_t, dW, dU, db, db_rec", "direct path"]),
    ({"dz_sign": -1.0}, ["(the z block)", "dz has the wrong sign"]),
    ({"scale_hn": False}, ["dU (the n block)", "db_rec (the n block)", "dhn = da_n * r"]),
    ({"b_rec_like_b": True}, ["wrong: db_rec (the n block)", "db_rec is not db"]),
    ({"tanh_derivative": False}, ["tanh derivative of the candidate is missing"]),
])
def test_backward_mistakes_are_named(kwargs, phrases):
    result = quiet("gru_step_backward", lambda *a: backward(*a, **kwargs))
    assert result.status == "failed"
    for phrase in phrases:
        assert phrase in result.message, result.message
    assert "numerical gradient check: relative error" in result.message


def test_backward_with_sigmoid_derivative_of_activated_gates():
    def activated(dh, cache):
        """Applies sigmoid'(a) = s(a)(1 - s(a)) to r and z, which are already s(a)."""
        x_t, h_prev = cache["x_t"], cache["h_prev"]
        r, z, n, hn = cache["r"], cache["z"], cache["n"], cache["hn"]
        W, U = cache["params"]["W"], cache["params"]["U"]
        da_n = dh * (1 - z) * (1 - n**2)
        da_r = da_n * hn * sig(r) * (1 - sig(r))
        da_z = dh * (h_prev - n) * sig(z) * (1 - sig(z))
        d_x = np.concatenate([da_r, da_z, da_n], axis=1)
        d_h = np.concatenate([da_r, da_z, da_n * r], axis=1)
        grads = {"W": x_t.T @ d_x, "U": h_prev.T @ d_h, "b": d_x.sum(axis=0),
                 "b_rec": d_h.sum(axis=0)}
        return d_x @ W.T, d_h @ U.T + dh * z, grads

    message = quiet("gru_step_backward", activated).message
    assert "already activated" in message and "(the r, z blocks)" in message, message
