"""Optimizers: each update rule against numbers worked out by hand, clipping, state,
and the guarantee that a failed step leaves everything untouched."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_teach import optim


def _params(rng):
    return {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}


def _grads(rng):
    return {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}


def test_plain_sgd_step():
    p = {"w": np.array([1.0, -2.0])}
    optim.SGD(learning_rate=0.1).step(p, {"w": np.array([0.5, 1.0])})
    np.testing.assert_allclose(p["w"], [0.95, -2.1], rtol=1e-15)


def test_sgd_momentum_equals_the_pytorch_form(rng):
    """Keras form v <- m v - lr g; p <- p + v  ==  buf <- m buf + g; p <- p - lr buf."""
    p = _params(rng)
    ref = {k: v.copy() for k, v in p.items()}
    buf = {k: np.zeros_like(v) for k, v in p.items()}
    opt = optim.SGD(learning_rate=0.05, momentum=0.9)
    for _ in range(5):
        g = _grads(rng)
        opt.step(p, g)
        for k in ref:
            buf[k] = 0.9 * buf[k] + g[k]
            ref[k] -= 0.05 * buf[k]
    for k in p:
        np.testing.assert_allclose(p[k], ref[k], rtol=1e-12, atol=1e-14)


def test_nesterov_first_step_is_lr_times_one_plus_momentum():
    p = {"w": np.array([0.0])}
    optim.SGD(learning_rate=0.1, momentum=0.5, nesterov=True).step(p, {"w": np.array([2.0])})
    # v1 = -0.2; p1 = 0 + 0.5 * v1 - 0.1 * 2 = -0.3
    assert p["w"][0] == pytest.approx(-0.3, rel=1e-15)


def test_rmsprop_first_step():
    p = {"w": np.array([1.0])}
    optim.RMSProp(learning_rate=0.01, rho=0.9, epsilon=1e-7).step(p, {"w": np.array([4.0])})
    # s = 0.1 * 16 = 1.6; p = 1 - 0.01 * 4 / (sqrt(1.6) + 1e-7)
    assert p["w"][0] == pytest.approx(1 - 0.04 / (np.sqrt(1.6) + 1e-7), rel=1e-15)


def test_adam_first_step_is_lr_times_sign():
    """At t=1 the bias-corrected moments are g and g^2: the step is lr * g / (|g| + eps)."""
    g = np.array([3.0, -0.5, 1e-3])
    p = {"w": np.zeros(3)}
    optim.Adam(learning_rate=0.01, epsilon=1e-8).step(p, {"w": g})
    np.testing.assert_allclose(p["w"], -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-14)


def test_adam_matches_algorithm_1_over_many_steps(rng):
    """A scalar-by-scalar transcription of Kingma & Ba (2015), Algorithm 1."""
    lr, b1, b2, eps = 3e-3, 0.8, 0.99, 1e-6
    p = _params(rng)
    flat_ref = np.concatenate([v.ravel() for v in p.values()])
    m = np.zeros_like(flat_ref)
    v = np.zeros_like(flat_ref)
    opt = optim.Adam(learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps)
    for t in range(1, 21):
        g = _grads(rng)
        opt.step(p, g)
        flat_g = np.concatenate([x.ravel() for x in g.values()])
        for j in range(flat_ref.size):
            m[j] = b1 * m[j] + (1 - b1) * flat_g[j]
            v[j] = b2 * v[j] + (1 - b2) * flat_g[j] ** 2
            m_hat = m[j] / (1 - b1**t)
            v_hat = v[j] / (1 - b2**t)
            flat_ref[j] -= lr * m_hat / (np.sqrt(v_hat) + eps)
    flat = np.concatenate([x.ravel() for x in p.values()])
    np.testing.assert_allclose(flat, flat_ref, rtol=0, atol=1e-13)
    assert opt.iterations == 20


def test_adam_minimises_a_quadratic():
    target = np.array([1.0, -3.0, 0.5])
    p = {"w": np.zeros(3)}
    opt = optim.Adam(learning_rate=0.1)
    for _ in range(500):
        opt.step(p, {"w": 2 * (p["w"] - target)})
    np.testing.assert_allclose(p["w"], target, atol=1e-3)


def test_clip_by_global_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}  # global norm 5
    clipped, norm = optim.clip_by_global_norm(grads, 1.0)
    assert norm == pytest.approx(5.0)
    np.testing.assert_allclose(clipped["a"], [0.6, 0.0])
    np.testing.assert_allclose(clipped["b"], [[0.8]])
    assert optim.global_norm(clipped) == pytest.approx(1.0)
    assert grads["a"][0] == 3.0  # the input is not modified
    same, norm = optim.clip_by_global_norm(grads, 10.0)
    np.testing.assert_array_equal(same["a"], grads["a"])
    with pytest.raises(ValueError, match="max_norm must be a positive finite float; got -1.0"):
        optim.clip_by_global_norm(grads, -1.0)


def test_clipnorm_is_global_and_clipvalue_elementwise():
    p = {"a": np.zeros(2), "b": np.zeros(1)}
    opt = optim.SGD(learning_rate=1.0, clipnorm=1.0)
    opt.step(p, {"a": np.array([3.0, 0.0]), "b": np.array([4.0])})
    np.testing.assert_allclose(p["a"], [-0.6, 0.0])
    np.testing.assert_allclose(p["b"], [-0.8])
    assert opt.last_grad_norm == pytest.approx(5.0)

    p = {"a": np.zeros(3)}
    optim.SGD(learning_rate=1.0, clipvalue=0.5).step(p, {"a": np.array([2.0, -0.1, -7.0])})
    np.testing.assert_allclose(p["a"], [-0.5, 0.1, 0.5])


def test_a_rejected_step_changes_nothing(rng):
    p = _params(rng)
    before = {k: v.copy() for k, v in p.items()}
    opt = optim.Adam()
    with pytest.raises(ValueError, match=r"grads\['b'\] must have the shape of params\['b'\], "):
        opt.step(p, {"W": np.ones((3, 4)), "b": np.ones(5)})
    with pytest.raises(ValueError, match="grads has key 'zz' that params lacks"):
        opt.step(p, {"zz": np.ones(1)})
    for k in p:
        np.testing.assert_array_equal(p[k], before[k])
    assert opt.iterations == 0 and opt.state == {}


def test_keys_without_gradient_are_left_alone(rng):
    p = _params(rng)
    b_before = p["b"].copy()
    optim.Adam(learning_rate=0.1).step(p, {"W": np.ones((3, 4))})
    np.testing.assert_array_equal(p["b"], b_before)


@pytest.mark.parametrize("make", [
    lambda: optim.SGD(0.1, momentum=0.9),
    lambda: optim.RMSProp(0.01),
    lambda: optim.Adam(0.01),
])
def test_state_round_trip_continues_identically(rng, make):
    p = _params(rng)
    opt = make()
    for _ in range(3):
        opt.step(p, _grads(rng))
    twin_p = {k: v.copy() for k, v in p.items()}
    twin = make()
    twin.set_state(opt.get_state())
    twin_cfg = optim.get(opt.get_config())
    assert twin_cfg.get_config() == opt.get_config()
    for _ in range(3):
        g = _grads(rng)
        opt.step(p, g)
        twin.step(twin_p, {k: v.copy() for k, v in g.items()})
    for k in p:
        np.testing.assert_array_equal(p[k], twin_p[k])


def test_learning_rate_schedule_is_called_with_the_step_number():
    seen = []

    def schedule(step):
        seen.append(step)
        return 0.1 / (1 + step)

    p = {"w": np.zeros(1)}
    opt = optim.SGD(learning_rate=schedule)
    for _ in range(3):
        opt.step(p, {"w": np.ones(1)})
    assert seen == [0, 1, 2]
    assert p["w"][0] == pytest.approx(-(0.1 + 0.05 + 0.1 / 3))


def test_bad_hyperparameters_are_rejected():
    with pytest.raises(ValueError, match="learning_rate must be a positive finite float; got -0.1"):
        optim.SGD(learning_rate=-0.1)
    with pytest.raises(ValueError, match=r"beta_1 must lie in \[0, 1\); got 1.0"):
        optim.Adam(beta_1=1.0)
    with pytest.raises(ValueError, match="clipnorm must be a positive finite float; got 0.0"):
        optim.Adam(clipnorm=0)
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'"):
        optim.get("adamw")
    assert isinstance(optim.get("rmsprop"), optim.RMSProp)
