"""The readable GRU: gradient checks, step == sequence, torch.nn.GRU parity, dtypes, errors."""

import numpy as np
import pytest

from lstm_teach.core.gradcheck import check_gradients
from lstm_teach.core.gru import (
    GRUConfig,
    gru_backward,
    gru_forward,
    gru_param_count,
    gru_step_backward,
    gru_step_forward,
    init_gru,
)

B, T, D, H = 3, 5, 4, 6

CONFIGS = {
    "default": GRUConfig(),
    "relu candidate": GRUConfig(activation="relu"),
    "keras3 hard sigmoid": GRUConfig(recurrent_activation="hard_sigmoid_keras3"),
}


def make_problem(seed=0, dtype=np.float64, scale=0.5):
    rng = np.random.default_rng(seed)
    params = init_gru(D, H, rng=rng)
    for k in params:  # move away from zero biases so that every term matters
        params[k] = (params[k] + scale * rng.standard_normal(params[k].shape)).astype(dtype)
    x = rng.standard_normal((B, T, D)).astype(dtype)
    h0 = rng.standard_normal((B, H)).astype(dtype)
    dhs = rng.standard_normal((B, T, H)).astype(dtype)
    return x, params, h0, dhs


@pytest.mark.parametrize("name", list(CONFIGS))
@pytest.mark.parametrize("with_h0", [False, True], ids=["zero-h0", "h0"])
def test_gradient_check(name, with_h0):
    config = CONFIGS[name]
    x, params, h0, dhs = make_problem(seed=1)
    if name != "default":  # keep pre-activations off the kinks, where finite differences fail
        params = {k: 0.3 * v for k, v in params.items()}
    h0 = h0 if with_h0 else None

    def loss():
        return np.sum(gru_forward(x, params, h0, config)[0] * dhs)

    _, cache = gru_forward(x, params, h0, config)
    dx, dh0, grads = gru_backward(dhs, cache)
    arrays = {"x": x, **params}
    analytic = {"x": dx, **grads}
    if with_h0:
        arrays["h0"], analytic["h0"] = h0, dh0
    report = check_gradients(loss, arrays, analytic)
    assert report.passed, str(report)
    assert max(report.errors.values()) < 1e-7


def test_step_gradient_check():
    x, params, h0, dhs = make_problem(seed=2)
    x_t, dh = x[:, 0], dhs[:, 0]
    h, cache = gru_step_forward(x_t, h0, params)
    dx_t, dh_prev, grads = gru_step_backward(dh, cache)

    def loss():
        return np.sum(gru_step_forward(x_t, h0, params)[0] * dh)

    report = check_gradients(loss, {"x_t": x_t, "h_prev": h0, **params},
                             {"x_t": dx_t, "h_prev": dh_prev, **grads})
    assert report.passed, str(report)


def test_step_equations_by_hand():
    """One step against the four equations written out with per-gate slices."""
    x, params, h0, _ = make_problem(seed=3)
    x_t = x[:, 0]
    W, U, b, br = params["W"], params["U"], params["b"], params["b_rec"]

    def sig(a):
        return 1 / (1 + np.exp(-a))

    def blk(a, k):
        return a[..., k * H:(k + 1) * H]

    r = sig(x_t @ blk(W, 0) + blk(b, 0) + h0 @ blk(U, 0) + blk(br, 0))
    z = sig(x_t @ blk(W, 1) + blk(b, 1) + h0 @ blk(U, 1) + blk(br, 1))
    n = np.tanh(x_t @ blk(W, 2) + blk(b, 2) + r * (h0 @ blk(U, 2) + blk(br, 2)))
    expected = (1 - z) * n + z * h0
    h, cache = gru_step_forward(x_t, h0, params)
    np.testing.assert_allclose(h, expected, rtol=0, atol=1e-14)
    np.testing.assert_allclose(cache.r, r, rtol=0, atol=1e-15)
    np.testing.assert_allclose(cache.z, z, rtol=0, atol=1e-15)


def test_sequence_is_the_step_repeated():
    x, params, h0, dhs = make_problem(seed=4)
    hs, cache = gru_forward(x, params, h0)
    h = h0
    for t in range(T):
        h, _ = gru_step_forward(x[:, t], h, params)
        np.testing.assert_array_equal(hs[:, t], h)
    gates = cache.gates
    assert set(gates) == {"r", "z", "n"} and gates["z"].shape == (B, T, H)
    np.testing.assert_array_equal(cache.hT, hs[:, -1])
    np.testing.assert_array_equal(cache.h0, h0)


def test_update_gate_one_copies_the_state():
    """z = 1 (a huge update-gate bias) keeps h0 exactly and passes the gradient unchanged."""
    x, params, h0, dhs = make_problem(seed=5)
    params["b"][H:2 * H] = 1e3
    hs, cache = gru_forward(x, params, h0)
    np.testing.assert_array_equal(hs[:, -1], h0)
    _, dh0, grads = gru_backward(dhs, cache)
    np.testing.assert_allclose(dh0, dhs.sum(axis=1), rtol=0, atol=1e-12)
    assert np.all(grads["W"] == 0.0)


def test_float32_end_to_end():
    x, params, h0, dhs = make_problem(seed=6, dtype=np.float32)
    hs, cache = gru_forward(x, params, h0)
    dx, dh0, grads = gru_backward(dhs, cache)
    assert hs.dtype == dx.dtype == dh0.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    ref = gru_forward(x.astype(np.float64), {k: v.astype(np.float64) for k, v in params.items()},
                      h0.astype(np.float64))[0]
    assert np.max(np.abs(hs - ref)) < 1e-5


def test_param_count():
    params = init_gru(D, H, rng=0)
    assert sum(v.size for v in params.values()) == gru_param_count(D, H) == 3 * (D * H + H * H + 2 * H)


def test_bad_input_is_named():
    x, params, h0, dhs = make_problem()
    with pytest.raises(ValueError, match=r"params is missing key\(s\) \['b_rec'\]"):
        gru_forward(x, {k: v for k, v in params.items() if k != "b_rec"})
    with pytest.raises(ValueError, match=r"params\['U'\] must have shape \(H, 3H\)"):
        gru_forward(x, {**params, "U": params["U"][:, :-1]})
    with pytest.raises(ValueError, match=r"params\['W'\] must have shape \(D, 3H\) with H=6"):
        gru_forward(x, {**params, "W": np.zeros((D, 4 * H))})
    with pytest.raises(ValueError, match=r"params\['b_rec'\] must have shape \(3H,\)"):
        gru_forward(x, {**params, "b_rec": np.zeros(2 * H)})
    with pytest.raises(ValueError, match=r"x has feature size D=3 .* expects D=4"):
        gru_forward(x[:, :, :3], params)
    with pytest.raises(ValueError, match=r"x must be 3-D with shape \(B, T, D\)"):
        gru_forward(x[0], params)
    with pytest.raises(ValueError, match=r"h0 must have shape \(B, H\)"):
        gru_forward(x, params, h0=h0[:, :2])
    with pytest.raises(ValueError, match=r"x contains 1 non-finite"):
        bad = x.copy()
        bad[0, 1, 2] = np.nan
        gru_forward(bad, params)
    with pytest.raises(TypeError, match="config must be a GRUConfig"):
        gru_forward(x, params, config={"activation": "tanh"})
    with pytest.raises(ValueError, match="GRUConfig.activation: unknown activation 'tanhh'"):
        GRUConfig(activation="tanhh")
    with pytest.raises(ValueError, match=r"x_t must be 2-D with shape \(B, D\)"):
        gru_step_forward(x, h0, params)
    _, cache = gru_forward(x, params)
    with pytest.raises(ValueError, match=r"dhs must have shape \(B, T, H\) matching the forward pass"):
        gru_backward(dhs[:, :-1], cache)
    with pytest.raises(TypeError, match="cache must be the GRUCache"):
        gru_backward(dhs, cache.steps[0])
    with pytest.raises(TypeError, match="cache must be the GRUStepCache"):
        gru_step_backward(dhs[:, 0], cache)


# --------------------------------------------------------------------------- recurrent mask


def _mask(seed, rate=0.4, dtype=np.float64):
    """An inverted-dropout mask (B, H): 0 or 1/(1 - rate), both values present."""
    keep = np.random.default_rng(seed).random((B, H)) >= rate
    keep[0, :2] = (True, False)
    return keep.astype(dtype) / (1.0 - rate)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_gradient_check_with_recurrent_mask(name):
    """With a fixed recurrent mask, backward is exact for x, h0, W, U, b and b_rec (float64)."""
    config = CONFIGS[name]
    x, params, h0, dhs = make_problem(seed=8)
    if name != "default":  # keep pre-activations off the kinks, where finite differences fail
        params = {k: 0.3 * v for k, v in params.items()}
    mask = _mask(9)

    def loss():
        return np.sum(gru_forward(x, params, h0, config, recurrent_mask=mask)[0] * dhs)

    _, cache = gru_forward(x, params, h0, config, recurrent_mask=mask)
    dx, dh0, grads = gru_backward(dhs, cache)
    report = check_gradients(loss, {"x": x, "h0": h0, **params}, {"x": dx, "h0": dh0, **grads})
    assert report.passed, str(report)
    assert max(report.errors.values()) < 1e-7
    # the mask changes the gradients (a backward that ignored it would fail the check above)
    _, plain = gru_forward(x, params, h0, config)
    assert np.max(np.abs(gru_backward(dhs, plain)[1] - dh0)) > 1e-3


def test_step_gradient_check_with_recurrent_mask():
    x, params, h0, dhs = make_problem(seed=10)
    x_t, dh, mask = x[:, 0], dhs[:, 0], _mask(11)
    _, cache = gru_step_forward(x_t, h0, params, recurrent_mask=mask)
    dx_t, dh_prev, grads = gru_step_backward(dh, cache)

    def loss():
        return np.sum(gru_step_forward(x_t, h0, params, recurrent_mask=mask)[0] * dh)

    report = check_gradients(loss, {"x_t": x_t, "h_prev": h0, **params},
                             {"x_t": dx_t, "h_prev": dh_prev, **grads})
    assert report.passed, str(report)


def test_recurrent_mask_multiplies_h_in_the_products_only():
    """By hand: the mask scales h_{t-1} in h_{t-1} U (all three blocks), not in z h_{t-1}."""
    x, params, h0, _ = make_problem(seed=12)
    x_t, mask = x[:, 0], _mask(13)
    W, U, b, br = params["W"], params["U"], params["b"], params["b_rec"]

    def sig(a):
        return 1 / (1 + np.exp(-a))

    def blk(a, k):
        return a[..., k * H:(k + 1) * H]

    hm = h0 * mask
    r = sig(x_t @ blk(W, 0) + blk(b, 0) + hm @ blk(U, 0) + blk(br, 0))
    z = sig(x_t @ blk(W, 1) + blk(b, 1) + hm @ blk(U, 1) + blk(br, 1))
    n = np.tanh(x_t @ blk(W, 2) + blk(b, 2) + r * (hm @ blk(U, 2) + blk(br, 2)))
    h, _ = gru_step_forward(x_t, h0, params, recurrent_mask=mask)
    np.testing.assert_allclose(h, (1 - z) * n + z * h0, rtol=0, atol=1e-14)
    # Masking the state passed in (enough for the LSTM) would also mask the mix: different.
    assert np.max(np.abs(gru_step_forward(x_t, hm, params)[0] - h)) > 1e-2

    hs, _ = gru_forward(x, params, h0, recurrent_mask=mask)
    h_t = h0
    for t in range(T):  # the same mask at every step
        h_t, _ = gru_step_forward(x[:, t], h_t, params, recurrent_mask=mask)
        np.testing.assert_array_equal(hs[:, t], h_t)
    ones = gru_forward(x, params, h0, recurrent_mask=np.ones((B, H)))[0]
    np.testing.assert_array_equal(ones, gru_forward(x, params, h0)[0])


def test_recurrent_mask_dtype_and_bad_input():
    x, params, h0, dhs = make_problem(seed=14, dtype=np.float32)
    hs, cache = gru_forward(x, params, h0, recurrent_mask=_mask(15))  # a float64 mask
    assert hs.dtype == cache.steps[0].recurrent_mask.dtype == np.float32
    assert all(g.dtype == np.float32 for g in gru_backward(dhs, cache)[2].values())
    with pytest.raises(ValueError, match=r"recurrent_mask must have shape \(B, H\) like the "
                                         r"state = \(3, 6\); got \(3, 5\)"):
        gru_forward(x, params, h0, recurrent_mask=np.ones((B, H - 1)))
    with pytest.raises(ValueError, match=r"recurrent_mask must have shape .*; got \(6,\)"):
        gru_step_forward(x[:, 0], h0, params, recurrent_mask=np.ones(H))
    bad = np.ones((B, H))
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"recurrent_mask contains 1 non-finite"):
        gru_forward(x, params, h0, recurrent_mask=bad)
    with pytest.raises(TypeError, match="recurrent_mask"):
        gru_forward(x, params, h0, recurrent_mask="half")


# --------------------------------------------------------------------------- torch parity


def _torch_gru_run(x, params, h0, dhs):
    """torch.nn.GRU with the package weights (a transpose each); outputs and all gradients."""
    torch = pytest.importorskip("torch")
    module = torch.nn.GRU(D, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.from_numpy(params["W"].T))
        module.weight_hh_l0.copy_(torch.from_numpy(params["U"].T))
        module.bias_ih_l0.copy_(torch.from_numpy(params["b"]))
        module.bias_hh_l0.copy_(torch.from_numpy(params["b_rec"]))
    xt = torch.tensor(x, requires_grad=True)
    if h0 is None:
        out, _ = module(xt)
        h0t = None
    else:
        h0t = torch.tensor(h0[None], requires_grad=True)
        out, _ = module(xt, h0t)
    (out * torch.tensor(dhs)).sum().backward()
    grads = {
        "W": module.weight_ih_l0.grad.numpy().T,
        "U": module.weight_hh_l0.grad.numpy().T,
        "b": module.bias_ih_l0.grad.numpy(),
        "b_rec": module.bias_hh_l0.grad.numpy(),
    }
    dh0 = None if h0t is None else h0t.grad[0].numpy()
    return out.detach().numpy(), xt.grad.numpy(), dh0, grads


@pytest.mark.torch
@pytest.mark.parametrize("with_h0", [False, True], ids=["zero-h0", "h0"])
def test_matches_torch_gru_float64(with_h0):
    """Outputs and every gradient agree with torch.nn.GRU in float64 to 1e-10."""
    x, params, h0, dhs = make_problem(seed=7, scale=1.0)
    h0 = h0 if with_h0 else None
    out, dx_ref, dh0_ref, g_ref = _torch_gru_run(x, params, h0, dhs)
    hs, cache = gru_forward(x, params, h0)
    dx, dh0, grads = gru_backward(dhs, cache)
    assert np.max(np.abs(hs - out)) < 1e-10
    assert np.max(np.abs(dx - dx_ref)) < 1e-10
    if with_h0:
        assert np.max(np.abs(dh0 - dh0_ref)) < 1e-10
    for k in ("W", "U", "b", "b_rec"):
        assert np.max(np.abs(grads[k] - g_ref[k])) < 1e-10, k
