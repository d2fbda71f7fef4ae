"""The end-to-end training checks (exercises 06_train_from_scratch), tried with typical wrong answers."""

from __future__ import annotations

import numpy as np
import pytest

import lstm_teach as lt
from lstm_teach.grading import check


def quiet(name, fn):
    return check(name, fn, verbose=False)


def loss_and_grads(params, x, y, mean=True, two=True, grad_mean=True, every_step=False,
                   read=-1, b_out_per_example=False):
    hs, cache = lt.lstm_forward(x, {k: params[k] for k in ("W", "U", "b")})
    h_read = hs[:, read]
    err = h_read @ params["W_out"] + params["b_out"] - y
    loss = np.mean(err**2) if mean else np.sum(err**2)
    dpred = (2.0 if two else 1.0) * err / (err.size if mean and grad_mean else 1)
    dhs = np.zeros_like(hs)
    if every_step:
        dhs[:] = (dpred @ params["W_out"].T)[:, None, :]
    else:
        dhs[:, read] = dpred @ params["W_out"].T
    grads = lt.lstm_backward(dhs, cache)[3]
    b_out = dpred if b_out_per_example else dpred.sum(axis=0)
    return float(loss), {**grads, "W_out": h_read.T @ dpred, "b_out": b_out}


def test_correct_loss_and_grads_pass():
    result = quiet("latch_loss_and_grads", loss_and_grads)
    assert result.passed and result.points == 3, result.message
    assert "numerical gradient check: worst relative error" in result.message


@pytest.mark.parametrize("kwargs, phrases", [
    ({"mean": False}, ["wrong: loss, W, U, b, W_out, b_out", "use the mean"]),
    ({"two": False}, ["right: loss", "2 * err"]),
    ({"grad_mean": False}, ["right: loss", "dpred = 2 * (pred - y) / B"]),
    ({"every_step": True}, ["wrong: W, U, b; right: loss, W_out, b_out",
                            "dhs is zero except dhs[:, -1]"]),
    ({"read": 0}, ["wrong: loss", "must read the last, h_T = hs[:, -1]"]),
    ({"b_out_per_example": True}, ["grads['b_out'] has shape (4, 1)", "sum dpred over the batch"]),
])
def test_loss_mistakes_are_named(kwargs, phrases):
    result = quiet("latch_loss_and_grads", lambda *a: loss_and_grads(*a, **kwargs))
    assert result.status == "failed"
    for phrase in phrases:
        assert phrase in result.message, result.message


def test_a_wrong_lstm_backward_is_pointed_at():
    def dropped_dc(params, x, y):
        """The readout is right; the LSTM's backward loses dc_next (as in 04_sequence_lstm)."""
        lstm = {k: params[k] for k in ("W", "U", "b")}
        B, T, _ = x.shape
        H = params["U"].shape[0]
        h, c, hs, caches = np.zeros((B, H)), np.zeros((B, H)), [], []
        for t in range(T):
            h, c, cache = lt.lstm_step_forward(x[:, t], h, c, lstm)
            hs.append(h)
            caches.append(cache)
        err = h @ params["W_out"] + params["b_out"] - y
        dpred = 2 * err / err.size
        dh, grads = dpred @ params["W_out"].T, None
        for t in reversed(range(T)):
            _, dh, _, g = lt.lstm_step_backward(dh, np.zeros((B, H)), caches[t])
            grads = g if grads is None else {k: grads[k] + g[k] for k in g}
        return float(np.mean(err**2)), {**grads, "W_out": h.T @ dpred, "b_out": dpred.sum(0)}

    message = quiet("latch_loss_and_grads", dropped_dc).message
    assert "wrong: W, U, b; right: loss, W_out, b_out" in message, message
    assert "check your lstm_backward" in message


# --------------------------------------------------------------------------- training


def train(x, y, steps=200, seed=0, lr=0.05, sign=1.0, clip=1.0, return_initial=False,
          extra_steps=0, poison=False, adam=False):
    rng = np.random.default_rng(seed)
    H = 8
    params = {**lt.init_lstm(x.shape[2], H, rng=rng),
              "W_out": rng.normal(0, 1 / np.sqrt(H), (H, 1)), "b_out": np.zeros(1)}
    initial = {k: v.copy() for k, v in params.items()}
    losses, opt = [], lt.optim.Adam(learning_rate=lr, clipnorm=clip)
    for step in range(steps + extra_steps):
        loss, grads = loss_and_grads(params, x, y)
        losses.append(np.nan if poison and step == 3 else loss)
        if loss < 0.01 and not extra_steps:
            break
        if adam:
            opt.step(params, grads)
            continue
        grads, _ = lt.optim.clip_by_global_norm(grads, clip)
        for k in params:
            params[k] -= sign * lr * grads[k]  # plain gradient descent
    return (initial if return_initial else params), losses


def adam_train(x, y, steps=200, seed=0):
    rng = np.random.default_rng(seed)
    H = 8
    params = {**lt.init_lstm(x.shape[2], H, rng=rng),
              "W_out": rng.normal(0, 1 / np.sqrt(H), (H, 1)), "b_out": np.zeros(1)}
    opt, losses = lt.optim.Adam(learning_rate=0.05, clipnorm=1.0), []
    for _ in range(steps):
        loss, grads = loss_and_grads(params, x, y)
        losses.append(loss)
        if loss < 0.01:
            break
        opt.step(params, grads)
    return params, losses


def test_a_working_training_loop_passes():
    result = quiet("train_latch", adam_train)
    assert result.passed and result.points == 3, result.message
    assert "every training sequence right" in result.message


@pytest.mark.parametrize("kwargs, phrases", [
    ({"sign": -1.0, "lr": 0.5}, ["the loss rose", "sign of the update"]),
    ({"lr": 1e-6}, ["the loss stalled", "the learning rate is not tiny"]),
    ({"adam": True, "lr": 0.001}, ["fell from", "not far enough"]),
    ({"adam": True, "return_initial": True}, ["return the parameters you trained"]),
    ({"poison": True}, ["the loss became nan at step 3", "training diverged"]),
])
def test_failed_runs_are_diagnosed(kwargs, phrases):
    result = quiet("train_latch", lambda *a: train(*a, **kwargs))
    assert result.status == "failed"
    assert "the target is a loss below 0.02" in result.message
    for phrase in phrases:
        assert phrase in result.message, result.message


def test_a_run_longer_than_the_budget_fails():
    def too_long(x, y, steps=200, seed=0):
        params, losses = adam_train(x, y, steps, seed)
        return params, losses + [losses[-1]] * 300  # claims 300 extra steps

    message = quiet("train_latch", too_long).message
    assert "the budget is 200: use the steps argument" in message, message


def test_wrong_return_values_are_reported():
    message = quiet("train_latch", lambda x, y, steps, seed: {"W": 1}).message
    assert "(params, losses)" in message, message


def test_parameters_trained_elsewhere_pass_in_the_notebook_but_not_when_graded():
    """A table of one entry: parameters trained on the notebook's set, handed back for any data."""
    from lstm_teach.grading import checks
    from lstm_teach.grading.sets import nb06_train_from_scratch as latch

    stored, stored_losses = adam_train(*latch.latch_data())

    def pretrained(x, y, steps=200, seed=0):
        return {k: v.copy() for k, v in stored.items()}, list(stored_losses)

    exercise = checks.get_exercise("train_latch")
    assert checks.evaluate(exercise, pretrained).passed  # the notebook's own check: fooled
    result = checks.evaluate(exercise, pretrained, probe_secret=2**64 - 5)
    assert not result.passed and result.points == 0
    assert "on none of 4 new sets of latch sequences" in result.message, result.message
    assert checks.evaluate(exercise, adam_train, probe_secret=2**64 - 5).passed


def test_the_fresh_training_sets_are_new_and_flipped_about_half_the_time():
    from lstm_teach.grading import checks
    from lstm_teach.grading.sets import nb06_train_from_scratch as latch

    x0, y0 = latch.latch_data()
    flips = []
    for secret in range(40):
        with checks.secret_inputs(secret):
            x, y = latch.fresh_latch_data(0)
        assert x.shape == x0.shape and y.shape == y0.shape and not np.allclose(x, x0)
        classes = np.sign(x[:, 0, 0])
        assert np.all(np.abs(y[:, 0]) == 0.8)
        flips.append(bool(np.all(np.sign(y[:, 0]) == -classes)))
        assert flips[-1] or np.all(np.sign(y[:, 0]) == classes)
    assert 10 <= sum(flips) <= 30, flips
