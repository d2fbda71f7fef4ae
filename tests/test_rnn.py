"""The Elman RNN: gradients, batched == stepwise, and clear errors."""

import numpy as np
import pytest

import lstm_teach as lt

B, T, D, H = 3, 7, 4, 5


def make_problem(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = lt.init_rnn(D, H, rng=rng)
    params["b"] = 0.2 * rng.standard_normal(H)
    params = {k: v.astype(dtype) for k, v in params.items()}
    x = rng.standard_normal((B, T, D)).astype(dtype)
    h0 = rng.standard_normal((B, H)).astype(dtype)
    dhs = rng.standard_normal((B, T, H)).astype(dtype)
    return x, params, h0, dhs


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "identity", "relu"])
def test_gradient_check(activation):
    x, params, h0, dhs = make_problem()

    def loss():
        hs, _ = lt.rnn_forward(x, params, h0, activation)
        return np.sum(hs * dhs)

    _, cache = lt.rnn_forward(x, params, h0, activation)
    dx, dh0, grads = lt.rnn_backward(dhs, cache)
    report = lt.check_gradients(loss, {"x": x, "h0": h0, **params}, {"x": dx, "h0": dh0, **grads})
    assert report.passed, str(report)


def test_forward_is_the_elman_recurrence():
    x, p, h0, _ = make_problem(1)
    hs, _ = lt.rnn_forward(x, p, h0)
    h = h0
    for t in range(T):
        h = np.tanh(x[:, t] @ p["W"] + h @ p["U"] + p["b"])
        np.testing.assert_allclose(hs[:, t], h, rtol=0, atol=1e-14)


def test_sequence_equals_step_by_step():
    x, params, h0, dhs = make_problem(2)
    hs, cache = lt.rnn_forward(x, params, h0)
    dx, dh0, grads = lt.rnn_backward(dhs, cache)
    h, caches = h0, []
    for t in range(T):
        h, c = lt.rnn_step_forward(x[:, t], h, params)
        np.testing.assert_allclose(h, hs[:, t], rtol=0, atol=1e-12)
        caches.append(c)
    dh_next = np.zeros((B, H))
    acc = {k: np.zeros_like(v) for k, v in params.items()}
    for t in reversed(range(T)):
        dx_t, dh_next, g = lt.rnn_step_backward(dhs[:, t] + dh_next, caches[t])
        np.testing.assert_allclose(dx_t, dx[:, t], rtol=0, atol=1e-12)
        for k in g:
            acc[k] += g[k]
    np.testing.assert_allclose(dh_next, dh0, rtol=0, atol=1e-12)
    for k in params:
        np.testing.assert_allclose(acc[k], grads[k], rtol=0, atol=1e-12)


def test_float32_stays_float32():
    x, params, h0, dhs = make_problem(dtype=np.float32)
    hs, cache = lt.rnn_forward(x, params, h0)
    dx, dh0, grads = lt.rnn_backward(dhs, cache)
    assert {a.dtype for a in (hs, dx, dh0, *grads.values())} == {np.dtype(np.float32)}


@pytest.mark.parametrize(
    "kwargs, exc, message",
    [
        ({"x": np.zeros((2, 3))}, ValueError, r"x must be 3-D with shape \(B, T, D\); got 2-D"),
        ({"x": np.zeros((3, 7, 2))}, ValueError, r"x has feature size D=2 .* expects D=4"),
        (
            {"h0": np.zeros((3, 4))},
            ValueError,
            r"h0 must have shape \(B, H\) = \(3, 5\); got \(3, 4\)",
        ),
        ({"activation": "tanhh"}, ValueError, r"unknown activation 'tanhh'; expected one of"),
        (
            {"params": {"W": np.zeros((4, 5)), "b": np.zeros(5)}},
            ValueError,
            r"params is missing key\(s\) \['U'\]",
        ),
        (
            {"params": {"W": np.zeros((4, 5)), "U": np.zeros((5, 5)), "b": np.zeros(4)}},
            ValueError,
            r"params\['b'\] must have shape \(H,\) = \(5,\); got \(4,\)",
        ),
        ({"x": np.full((3, 7, 4), np.nan)}, ValueError, r"x contains 84 non-finite"),
    ],
)
def test_bad_input(kwargs, exc, message):
    x, params, h0, _ = make_problem()
    args = {"x": x, "params": params, "h0": h0, "activation": "tanh", **kwargs}
    with pytest.raises(exc, match=message):
        lt.rnn_forward(**args)


def test_backward_rejects_mismatched_dhs():
    x, params, h0, dhs = make_problem()
    _, cache = lt.rnn_forward(x, params, h0)
    with pytest.raises(
        ValueError, match=r"dhs must have shape \(B, T, H\) matching the forward pass"
    ):
        lt.rnn_backward(dhs[:, :, :2], cache)
    with pytest.raises(TypeError, match="cache must be the RNNCache"):
        lt.rnn_backward(dhs, None)
