"""Tests for lstm_teach.interop: layout converters, round trips, and parity with torch.nn.LSTM."""

from __future__ import annotations

import numpy as np
import pytest

import lstm_teach as lt
from lstm_teach import interop


@pytest.fixture
def params(rng):
    p = lt.init_lstm(3, 4, rng=rng)
    p["b"] = rng.normal(size=p["b"].shape)  # distinct values in every gate block
    return p


# --------------------------------------------------------------------------- pure numpy


def test_reorder_gates_moves_blocks_and_round_trips():
    a = np.repeat(np.array([0.0, 1.0, 2.0, 3.0]), 2)  # blocks i=0, f=1, g=2, o=3, H=2
    moved = interop.reorder_gates(a, "ifgo", "ifog")
    np.testing.assert_array_equal(moved, [0, 0, 1, 1, 3, 3, 2, 2])
    np.testing.assert_array_equal(interop.reorder_gates(moved, "ifog", "ifgo"), a)
    with pytest.raises(ValueError, match="permutation of 'ifgo'"):
        interop.reorder_gates(a, "ifgx", "ifgo")
    with pytest.raises(ValueError, match="length 4H; got 7"):
        interop.reorder_gates(np.zeros(7), "ifgo", "ifog")


def test_split_and_merge_gates(params):
    gates = interop.split_gates(params)
    assert gates["W_f"].shape == (3, 4) and gates["U_o"].shape == (4, 4) and gates["b_g"].shape == (4,)
    np.testing.assert_array_equal(gates["U_g"], params["U"][:, 8:12])
    np.testing.assert_array_equal(gates["b_o"], params["b"][12:])
    back = interop.merge_gates(gates)
    for k in "WUb":
        np.testing.assert_array_equal(back[k], params[k])
    gates["U_i"] = np.zeros((3, 3))
    with pytest.raises(ValueError, match=r"gates\['U_i'\]"):
        interop.merge_gates(gates)


def test_torch_layout_without_torch(params):
    sd = interop.to_torch(params)
    assert sd["weight_ih_l0"].shape == (16, 3) and sd["weight_hh_l0"].shape == (16, 4)
    np.testing.assert_array_equal(sd["bias_hh_l0"], 0.0)
    back = interop.from_torch(sd)
    for k in "WUb":
        np.testing.assert_array_equal(back[k], params[k])
    # the two biases are summed; half/half gives the same network
    half = interop.to_torch(params, bias_split="half")
    np.testing.assert_allclose(interop.from_torch(half)["b"], params["b"], rtol=0, atol=1e-15)
    # a module prefix is stripped, other layers and directions are addressed by name
    prefixed = {f"lstm.{k}": v for k, v in interop.to_torch(params, layer=1, reverse=True).items()}
    np.testing.assert_array_equal(interop.from_torch(prefixed, layer=1, reverse=True)["U"], params["U"])
    with pytest.raises(ValueError, match="weight_ih_l0"):
        interop.from_torch(prefixed)
    # bias=False modules have no bias entries
    no_bias = {k: v for k, v in sd.items() if not k.startswith("bias")}
    np.testing.assert_array_equal(interop.from_torch(no_bias)["b"], 0.0)
    with pytest.raises(ValueError, match="projection"):
        interop.from_torch({**sd, "weight_hr_l0": np.zeros((2, 4))})


def test_torch_weight_rows_are_gates_in_ifgo_order(params):
    """weight_ih row block k is the transpose of W's column block k (PyTorch's documented order)."""
    sd = interop.to_torch(params)
    H = 4
    for k, g in enumerate("ifgo"):
        np.testing.assert_array_equal(sd["weight_ih_l0"][k * H:(k + 1) * H], interop.split_gates(params)[f"W_{g}"].T)


def test_keras_round_trip(params):
    weights = interop.to_keras(params)
    assert [w.shape for w in weights] == [(3, 16), (4, 16), (16,)]
    back = interop.from_keras(weights)
    for k in "WUb":
        np.testing.assert_array_equal(back[k], params[k])
    named = interop.from_keras({"kernel": weights[0], "recurrent_kernel": weights[1]})
    np.testing.assert_array_equal(named["b"], 0.0)
    with pytest.raises(ValueError, match="got a list of 4 arrays"):
        interop.from_keras(weights + [weights[2]])
    with pytest.raises(ValueError, match=r"kernel must have shape \(D, 4H\) with H=4"):
        interop.from_keras([weights[0][:, :8], weights[1], weights[2]])


def test_ifog_packing(params):
    Wx, Wh, b = interop.to_ifog(params)
    H = 4
    # the course packing puts the output gate third and the candidate last
    np.testing.assert_array_equal(Wx[:, 2 * H:3 * H], params["W"][:, 3 * H:])
    np.testing.assert_array_equal(b[3 * H:], params["b"][2 * H:3 * H])
    back = interop.from_ifog(Wx, Wh, b)
    for k in "WUb":
        np.testing.assert_array_equal(back[k], params[k])


def _course_step(x, a_prev, c_prev, p):
    """One step written the way the concatenated layout is used: column vectors, concat[a; x]."""
    def sig(z):
        return 1.0 / (1.0 + np.exp(-z))
    concat = np.concatenate([a_prev, x], axis=0)  # (n_a + n_x, m)
    ft = sig(p["Wf"] @ concat + p["bf"])
    it = sig(p["Wi"] @ concat + p["bi"])
    cct = np.tanh(p["Wc"] @ concat + p["bc"])
    c_next = ft * c_prev + it * cct
    ot = sig(p["Wo"] @ concat + p["bo"])
    return ot * np.tanh(c_next), c_next


@pytest.mark.parametrize("order", ["h_first", "x_first"])
def test_concat_layout_round_trip(params, order):
    conc = interop.to_concat(params, order=order)
    assert conc["Wf"].shape == (4, 7) and conc["bf"].shape == (4, 1)
    back = interop.from_concat(conc, order=order)
    for k in "WUb":
        np.testing.assert_array_equal(back[k], params[k])
    flat = interop.to_concat(params, order=order, column_bias=False)
    assert flat["bo"].shape == (4,)
    np.testing.assert_array_equal(interop.from_concat(flat, order=order)["b"], params["b"])


def test_concat_layout_computes_the_same_step(params, rng):
    """The converted weights, used the course way (column vectors), give the package's step."""
    x = rng.normal(size=(5, 3))
    h0, c0 = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    h, c, _ = lt.lstm_step_forward(x, h0, c0, params)
    a_next, c_next = _course_step(x.T, h0.T, c0.T, interop.to_concat(params))
    np.testing.assert_allclose(a_next.T, h, rtol=0, atol=1e-14)
    np.testing.assert_allclose(c_next.T, c, rtol=0, atol=1e-14)


def test_concat_layout_rejects_bad_shapes(params):
    conc = interop.to_concat(params)
    conc["bi"] = np.zeros((3, 1))
    with pytest.raises(ValueError, match=r"bi must have shape \(n_a, 1\) or \(n_a,\) with n_a=4"):
        interop.from_concat(conc)
    with pytest.raises(ValueError, match="order"):
        interop.from_concat(conc, order="sideways")


def test_converters_reject_non_arrays():
    with pytest.raises(TypeError, match="state_dict must be a mapping"):
        interop.from_torch([1, 2, 3])
    with pytest.raises(TypeError, match="kernel must hold numbers|kernel must be an array"):
        interop.from_keras(["abc", np.zeros((2, 8)), np.zeros(8)])


# --------------------------------------------------------------------------- torch parity


def _torch_run(module, x, h0c0, G, gT):
    """Forward through torch, backprop sum(hs * G) + sum(hT * gT_h) + sum(cT * gT_c)."""
    import torch

    xt = torch.tensor(x, requires_grad=True)
    if h0c0 is None:
        out, (hT, cT) = module(xt)
        state = None
    else:
        state = tuple(torch.tensor(s[None], requires_grad=True) for s in h0c0)
        out, (hT, cT) = module(xt, state)
    loss = (out * torch.tensor(G)).sum() + (cT[0] * torch.tensor(gT)).sum()
    loss.backward()
    grads = {name: p.grad.numpy().copy() for name, p in module.named_parameters()}
    dstate = None if state is None else tuple(s.grad[0].numpy() for s in state)
    return out.detach().numpy(), cT[0].detach().numpy(), xt.grad.numpy(), dstate, grads


@pytest.mark.torch
@pytest.mark.parametrize("impl", ["reference", "kernel"])
@pytest.mark.parametrize("with_state", [False, True], ids=["zero-state", "initial-state"])
def test_matches_torch_lstm_float64(rng, with_state, impl):
    """Outputs and every gradient agree with torch.nn.LSTM(batch_first=True) to 1e-10,
    for the readable reference (lt.lstm_*) and for the kernel (lt.kernels.lstm_*)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    B, T, D, H = 3, 7, 4, 5
    module = torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64)
    params = interop.from_torch(module.state_dict())
    x = rng.normal(size=(B, T, D))
    G = rng.normal(size=(B, T, H))  # upstream gradient of the outputs
    gT = rng.normal(size=(B, H))  # and of the final cell state
    state = (rng.normal(size=(B, H)), rng.normal(size=(B, H))) if with_state else None

    out, cT, dx_ref, dstate_ref, g = _torch_run(module, x, state, G, gT)
    h0, c0 = state if with_state else (None, None)
    lstm = lt if impl == "reference" else lt.kernels
    hs, cache = lstm.lstm_forward(x, params, h0=h0, c0=c0)
    dx, dh0, dc0, grads = lstm.lstm_backward(G, cache, dcT=gT)

    assert np.max(np.abs(hs - out)) < 1e-10
    assert np.max(np.abs(cache.cT - cT)) < 1e-10
    assert np.max(np.abs(dx - dx_ref)) < 1e-10
    if with_state:
        assert np.max(np.abs(dh0 - dstate_ref[0])) < 1e-10
        assert np.max(np.abs(dc0 - dstate_ref[1])) < 1e-10
    assert np.max(np.abs(grads["W"] - g["weight_ih_l0"].T)) < 1e-10
    assert np.max(np.abs(grads["U"] - g["weight_hh_l0"].T)) < 1e-10
    # both torch biases receive the same gradient, which is ours
    assert np.max(np.abs(grads["b"] - g["bias_ih_l0"])) < 1e-10
    assert np.max(np.abs(grads["b"] - g["bias_hh_l0"])) < 1e-10


@pytest.mark.torch
def test_torch_lstm_builder_round_trip(params, rng):
    pytest.importorskip("torch")
    import torch

    module = interop.torch_lstm(params)
    assert module.weight_ih_l0.dtype == torch.float64
    back = interop.from_torch(module.state_dict())
    for k in "WUb":
        np.testing.assert_array_equal(back[k], params[k])
    x = rng.normal(size=(2, 5, 3))
    with torch.no_grad():
        out = module(torch.from_numpy(x))[0].numpy()
    np.testing.assert_allclose(out, lt.lstm_forward(x, params)[0], rtol=0, atol=1e-12)


@pytest.mark.torch
def test_stacked_torch_lstm_layer_by_layer(rng):
    """A two-layer torch LSTM equals two package LSTMs run one after the other."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    module = torch.nn.LSTM(3, 4, num_layers=2, batch_first=True, dtype=torch.float64)
    sd = module.state_dict()
    x = rng.normal(size=(2, 6, 3))
    h1, _ = lt.lstm_forward(x, interop.from_torch(sd, layer=0))
    h2, _ = lt.lstm_forward(h1, interop.from_torch(sd, layer=1))
    with torch.no_grad():
        out = module(torch.from_numpy(x))[0].numpy()
    np.testing.assert_allclose(h2, out, rtol=0, atol=1e-12)
