"""The convolutional LSTM: convolution helpers, gradient check, equivalence with a dense LSTM, data."""

from __future__ import annotations

import numpy as np
import pytest

import lstm_teach as lt
from lstm_teach import LSTMConfig
from lstm_teach import convlstm as cl


def _conv_by_loops(inp, kernel):
    N, Y, X, C = inp.shape
    k, _, _, O = kernel.shape
    p = k // 2
    out = np.zeros((N, Y, X, O))
    for y in range(Y):
        for x in range(X):
            for a in range(k):
                for b in range(k):
                    sy, sx = y + a - p, x + b - p
                    if 0 <= sy < Y and 0 <= sx < X:
                        out[:, y, x] += inp[:, sy, sx] @ kernel[a, b]
    return out


def test_conv2d_same_matches_loops_and_its_gradient(rng):
    inp = rng.normal(size=(2, 4, 5, 3))
    kernel = rng.normal(size=(3, 3, 3, 2))
    out, cols = cl.conv2d_same(inp, kernel)
    np.testing.assert_allclose(out, _conv_by_loops(inp, kernel), rtol=0, atol=1e-12)
    G = rng.normal(size=out.shape)
    dinp, dkernel = cl.conv2d_same_backward(G, cols, kernel, inp.shape)
    report = lt.check_gradients(lambda: np.sum(cl.conv2d_same(inp, kernel)[0] * G),
                                {"inp": inp, "kernel": kernel}, {"inp": dinp, "kernel": dkernel})
    assert report.passed, str(report)


@pytest.mark.parametrize("peepholes", [False, True], ids=["plain", "peepholes"])
def test_convlstm_gradient_check(rng, peepholes):
    B, T, Y, X, C, F = 2, 3, 4, 3, 2, 2
    params = cl.init_convlstm(C, F, 3, grid=(Y, X), peepholes=peepholes, rng=rng)
    params["b"] = rng.normal(size=4 * F)
    if peepholes:
        params["P"] = 0.5 * rng.normal(size=params["P"].shape)
    x = rng.normal(size=(B, T, Y, X, C))
    h0, c0 = rng.normal(size=(B, Y, X, F)), rng.normal(size=(B, Y, X, F))
    G, gc = rng.normal(size=(B, T, Y, X, F)), rng.normal(size=(B, Y, X, F))

    def loss():
        hs, cache = cl.convlstm_forward(x, params, h0, c0)
        return np.sum(hs * G) + np.sum(cache.cs[-1] * gc)

    _, cache = cl.convlstm_forward(x, params, h0, c0)
    dx, dh0, dc0, grads = cl.convlstm_backward(G, cache, dcT=gc)
    assert {k: v.shape for k, v in grads.items()} == {k: v.shape for k, v in params.items()}
    report = lt.check_gradients(loss, {**params, "x": x, "h0": h0, "c0": c0},
                                {**grads, "x": dx, "h0": dh0, "c0": dc0})
    assert report.passed, str(report)


@pytest.mark.parametrize("peepholes", [False, True], ids=["plain", "peepholes"])
def test_convlstm_is_a_dense_lstm_with_convolution_matrices(rng, peepholes):
    B, T, Y, X, C, F = 2, 4, 3, 4, 1, 2
    params = cl.init_convlstm(C, F, 3, grid=(Y, X), peepholes=peepholes, rng=rng)
    params["b"] = rng.normal(size=4 * F)
    if peepholes:
        params["P"] = rng.normal(size=params["P"].shape)
    x = rng.normal(size=(B, T, Y, X, C))
    h0 = rng.normal(size=(B, Y, X, F))
    dense = cl.as_dense_lstm(params, (Y, X))
    H = Y * X * F
    assert dense["U"].shape == (H, 4 * H) and dense["W"].shape == (Y * X * C, 4 * H)
    config = LSTMConfig(peepholes=peepholes)
    hs, cache = cl.convlstm_forward(x, params, h0=h0)
    hs_dense, cache_dense = lt.lstm_forward(x.reshape(B, T, -1), dense, h0=h0.reshape(B, H),
                                            config=config)
    np.testing.assert_allclose(hs_dense.reshape(hs.shape), hs, rtol=0, atol=1e-13)
    G = rng.normal(size=hs.shape)
    dx, dh0, _, _ = cl.convlstm_backward(G, cache)
    dx_dense, dh0_dense, _, _ = lt.lstm_backward(G.reshape(B, T, H), cache_dense)
    np.testing.assert_allclose(dx_dense.reshape(dx.shape), dx, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dh0_dense.reshape(dh0.shape), dh0, rtol=0, atol=1e-12)
    # the gates by name have the expected layout
    assert cache.gates["f"].shape == (B, T, Y, X, F)
    np.testing.assert_allclose(cache.gates["f"].reshape(B, T, H), cache_dense.gates["f"], atol=1e-13)


def test_convlstm_validation(rng):
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        cl.init_convlstm(1, 2, 4)
    with pytest.raises(ValueError, match="needs grid"):
        cl.init_convlstm(1, 2, 3, peepholes=True)
    params = cl.init_convlstm(1, 2, 3, rng=rng)
    with pytest.raises(ValueError, match=r"x must have 5 dimensions|\(B, T, Y, X, C\)"):
        cl.convlstm_forward(np.zeros((2, 3, 4, 4)), params)
    with pytest.raises(ValueError, match=r"params\['Wx'\]"):
        cl.convlstm_forward(np.zeros((1, 2, 4, 4, 3)), params)
    with pytest.raises(ValueError, match=r"h0 must have shape .* = \(1, 4, 4, 2\); got \(1, 4, 4, 3\)"):
        cl.convlstm_forward(np.zeros((1, 2, 4, 4, 1)), params, h0=np.zeros((1, 4, 4, 3)))
    with pytest.raises(TypeError, match="ConvLSTMCache"):
        cl.convlstm_backward(np.zeros((1, 2, 4, 4, 2)), None)


def test_moving_dot_batch(rng):
    x, y = cl.moving_dot_batch(50, 12, size=6, rng=rng)
    assert x.shape == y.shape == (50, 12, 6, 6, 1)
    np.testing.assert_array_equal(x.sum(axis=(2, 3, 4)), 1.0)  # one dot per frame
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])  # targets are the next frames
    where = lambda f: np.argwhere(f[..., 0])[:, 1:]  # noqa: E731  (row, col) per frame
    steps = np.abs(np.diff(np.stack([where(x[:, t]) for t in range(12)], axis=1), axis=1))
    assert steps.max() <= 1 and np.all(steps.sum(axis=-1) > 0)  # moves one pixel, never stays


def test_moving_dot_training_reduces_the_loss():
    params, losses = cl.train_moving_dot(steps=120, features=4, length=5, size=6, seed=0)
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:5])
    x, _ = cl.moving_dot_batch(3, 5, 6, 1)
    pred = cl.predict_next_frames(params, x)
    assert pred.shape == x.shape and np.all((pred > 0) & (pred < 1))
