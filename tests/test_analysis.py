"""lstm_teach.analysis: Jacobian products of the Elman RNN, and error flow in RNN and LSTM.

The second half also checks the symbolic derivation of dc_t/dc_{t-1}
(lstm_teach.symbolic.lstm_cell_state_derivative) against the backward pass.
"""

from __future__ import annotations

import numpy as np
import pytest

import lstm_teach as lt
from lstm_teach import analysis, init_rnn, numerical_gradient, rnn_forward


def test_step_jacobian_is_diag_slope_times_U_transpose(rng):
    params = init_rnn(2, 3, rng=rng)
    x = rng.standard_normal((1, 4, 2))
    J = analysis.rnn_step_jacobians(params, x)
    assert J.shape == (1, 4, 3, 3)
    hs, _ = rnn_forward(x, params)
    np.testing.assert_allclose(J[0, 2], np.diag(1 - hs[0, 2] ** 2) @ params["U"].T, atol=1e-15)


def test_product_of_jacobians_is_the_numerical_dhT_dh0(rng):
    params = init_rnn(2, 3, rng=rng)
    params["U"] *= 1.5
    x = rng.standard_normal((1, 6, 2))
    h0 = rng.standard_normal((1, 3)) * 0.3
    J = analysis.rnn_step_jacobians(params, x, h0=h0)
    product = np.eye(3)
    for t in range(5, -1, -1):  # J_T ... J_1
        product = product @ J[0, t]
    numeric = np.stack(
        [
            numerical_gradient(lambda h, i=i: rnn_forward(x, params, h0=h)[0][0, -1, i], h0)[0]
            for i in range(3)
        ]
    )
    np.testing.assert_allclose(product, numeric, atol=1e-9)
    norms = analysis.rnn_jacobian_norms(params, x, h0=h0)
    assert norms.shape == (1, 7)
    assert norms[0, 0] == pytest.approx(1.0)
    assert norms[0, 6] == pytest.approx(np.linalg.norm(numeric, 2), rel=1e-8)
    fro = analysis.rnn_jacobian_norms(params, x, h0=h0, ord="fro")
    assert fro[0, 6] == pytest.approx(np.linalg.norm(numeric), rel=1e-8)


@pytest.mark.parametrize("rho", [0.7, 1.0, 1.3])
def test_scaled_orthogonal_matrix_in_the_linear_regime_gives_rho_to_the_k(rho, rng):
    U = analysis.matrix_with_spectral_radius(8, rho, rng=rng)
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(U)), rho, rtol=1e-12)
    params = {"W": np.zeros((1, 8)), "U": U, "b": np.zeros(8)}
    norms = analysis.rnn_jacobian_norms(params, np.zeros((1, 30, 1)))
    np.testing.assert_allclose(norms[0], rho ** np.arange(31), rtol=1e-10)


def test_normal_matrix_has_the_requested_spectral_radius_and_bad_kind_is_named(rng):
    U = analysis.matrix_with_spectral_radius(10, 1.2, kind="normal", rng=rng)
    assert np.max(np.abs(np.linalg.eigvals(U))) == pytest.approx(1.2)
    with pytest.raises(ValueError, match=r"kind must be one of \['orthogonal', 'normal'\]"):
        analysis.matrix_with_spectral_radius(3, 1.0, kind="uniform")
    with pytest.raises(ValueError, match="rho must be a finite spectral radius"):
        analysis.matrix_with_spectral_radius(3, -1.0)
    with pytest.raises(ValueError, match="jacobians must be 4-D"):
        analysis.jacobian_product_norms(np.zeros((3, 3)))


# --------------------------------------------------------------------------------------
# error flow (lessons 04 and 05) and the symbolic carousel derivative
# --------------------------------------------------------------------------------------


def _reference_cell_states(x, params, config, inject_step, delta):
    """The LSTM written out directly, with ``delta`` added to c at ``inject_step`` (before h)."""

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    B, T, _ = x.shape
    H = params["U"].shape[0]
    P = params.get("P")
    h, c = np.zeros((B, H)), np.zeros((B, H))
    for t in range(T):
        z = x[:, t] @ params["W"] + h @ params["U"] + params["b"]
        zi, zf, zg, zo = (z[:, k * H : (k + 1) * H] for k in range(4))
        if P is not None:
            zi, zf = zi + P[0] * c, zf + P[1] * c
        f = sigmoid(zf) if config.forget_gate else 1.0
        c = f * c + sigmoid(zi) * np.tanh(zg)
        if t == inject_step:
            c = c + delta
        if P is not None:
            zo = zo + P[2] * c
        h = sigmoid(zo) * np.tanh(c)
    return c


@pytest.mark.parametrize(
    "config",
    [lt.LSTMConfig(), lt.LSTMConfig(peepholes=True), lt.LSTMConfig(forget_gate=False)],
    ids=lambda c: c.describe(),
)
def test_lstm_error_flow_is_the_total_derivative_of_the_loss(config, rng):
    params = lt.init_lstm(2, 3, config=config, rng=rng)
    params["U"] *= 2.0  # make the paths through the gates matter
    if config.peepholes:
        params["P"] = rng.uniform(-1, 1, size=(3, 3))
    x = rng.standard_normal((2, 6, 2))
    error = rng.standard_normal(3)
    flow = analysis.lstm_error_flow(params, x, error=error, config=config)
    assert flow.shape == (2, 6, 3)
    np.testing.assert_array_equal(flow[:, -1], np.broadcast_to(error, (2, 3)))
    h = 1e-6
    for step in range(6):
        numeric = np.zeros((2, 3))
        for j in range(3):
            delta = np.zeros((2, 3))
            delta[:, j] = h
            plus = _reference_cell_states(x, params, config, step, delta) @ error
            minus = _reference_cell_states(x, params, config, step, -delta) @ error
            numeric[:, j] = (plus - minus) / (2 * h)
        assert lt.rel_error(flow[:, step], numeric) < 1e-8, step


def test_rnn_error_flow_matches_the_backward_pass(rng):
    params = init_rnn(2, 4, rng=rng)
    x = rng.standard_normal((3, 7, 2))
    error = rng.standard_normal((3, 4))
    flow = analysis.rnn_error_flow(params, x, error=error)
    hs, _ = rnn_forward(x, params)
    for t in range(6):  # restart after step t+1 and backpropagate the injected error
        _, cache = rnn_forward(x[:, t + 1 :], params, h0=hs[:, t])
        dhs = np.zeros((3, 6 - t, 4))
        dhs[:, -1] = error
        _, dh0, _ = lt.rnn_backward(dhs, cache)
        np.testing.assert_allclose(flow[:, t], dh0, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match=r"error must have shape \(H,\) = \(4,\) or \(B, H\)"):
        analysis.rnn_error_flow(params, x, error=np.ones(5))


def test_one_step_cell_jacobian_is_the_forget_gate(rng):
    params = lt.init_lstm(3, 4, rng=rng)
    x = rng.standard_normal((2, 1, 3))
    c0 = rng.standard_normal((2, 4))
    J = analysis.lstm_cell_jacobian(params, x, c0=c0)
    _, cache = lt.lstm_forward(x, params, c0=c0)
    for b in range(2):
        np.testing.assert_allclose(J[b], np.diag(cache.gates["f"][b, 0]), atol=1e-15)


def test_multi_step_cell_jacobian_matches_finite_differences(rng):
    params = lt.init_lstm(2, 3, rng=rng)
    x = rng.standard_normal((1, 5, 2))
    h0 = rng.standard_normal((1, 3))
    c0 = rng.standard_normal((1, 3))
    J = analysis.lstm_cell_jacobian(params, x, h0=h0, c0=c0)[0]
    numeric = np.stack(
        [
            lt.numerical_gradient(
                lambda c, k=k: lt.lstm_forward(x, params, h0=h0, c0=c)[1].cT[0, k], c0
            )[0]
            for k in range(3)
        ]
    )
    np.testing.assert_allclose(J, numeric, atol=1e-9)


def test_the_1997_cell_without_gate_paths_carries_the_error_exactly(rng):
    config = lt.LSTMConfig(forget_gate=False)
    params = lt.init_lstm(3, 5, rng=rng)
    params["U"][:] = 0.0  # the gates no longer see h: only the carousel connects c_T to c_0
    hs, cache = lt.lstm_forward(rng.standard_normal((2, 300, 3)), params, config=config)
    error = rng.standard_normal((2, 5))
    _, _, dc0, _ = lt.lstm_backward(np.zeros_like(hs), cache, dcT=error)
    np.testing.assert_array_equal(dc0, error)


def test_flow_norms_is_a_geometric_mean_indexed_by_lag():
    grads = np.zeros((2, 3, 2))
    grads[0, :, 0] = [1e-4, 1e-2, 1.0]  # time order: lag 2, lag 1, lag 0
    grads[1, :, 1] = [1e-2, 1e-1, 1.0]
    np.testing.assert_allclose(analysis.flow_norms(grads), [1.0, np.sqrt(1e-3), 1e-3])
    with pytest.raises(ValueError, match="grads must be 3-D"):
        analysis.flow_norms(np.ones((2, 3)))


def test_spectral_radius_sweep_without_input_is_rho_to_the_k(rng):
    sweep = analysis.spectral_radius_sweep([0.5, 1.0, 1.5], hidden_size=6, T=20, input_scale=0.0,
                                           rng=rng)
    assert sweep["norms"].shape == (3, 20)
    np.testing.assert_allclose(sweep["norms"], sweep["rhos"][:, None] ** sweep["lags"], rtol=1e-10)
    driven = analysis.spectral_radius_sweep([0.9], hidden_size=6, T=30, input_scale=1.0, rng=rng)
    assert np.all(driven["norms"][0] <= 0.9 ** driven["lags"] * (1 + 1e-12))  # |tanh'| <= 1


@pytest.mark.parametrize("peepholes", [False, True])
def test_symbolic_carousel_derivative_matches_the_backward_pass(peepholes, rng):
    import sympy as sp

    from lstm_teach import symbolic

    d = symbolic.lstm_cell_state_derivative(peepholes=peepholes)
    assert sp.simplify(d["total"] - d["carousel"] - sum(d["paths"].values())) == 0
    s = d["symbols"]
    routes = d["h_prev_routes"]
    assert sp.simplify(sp.diff(d["h_prev"], s["c_prev"]) - sum(routes.values())) == 0
    values = {sym: float(rng.uniform(-1.5, 1.5)) for sym in s.values()}
    values[s["o_prev"]] = 0.6
    v = {name: values[sym] for name, sym in s.items()}
    params = {
        "W": np.array([[v["w_i"], v["w_f"], v["w_g"], v["w_o"]]]),
        "U": np.array([[v["u_i"], v["u_f"], v["u_g"], v["u_o"]]]),
        "b": np.array([v["b_i"], v["b_f"], v["b_g"], v["b_o"]]),
    }
    config = lt.LSTMConfig(peepholes=peepholes)
    if peepholes:
        params["P"] = np.array([[v["p_i"]], [v["p_f"]], [v["p_o"]]])

    def h_of(c):  # h_{t-1} as a function of c_{t-1}: o_{t-1} reads c_{t-1} through p_o
        o = 1 / (1 + np.exp(-(v["a_o"] + v["p_o"] * c))) if peepholes else v["o_prev"]
        return o * np.tanh(c)

    def c_next(c):
        _, cache = lt.lstm_forward(np.array([[[v["x"]]]]), params, h0=h_of(c), c0=c,
                                   config=config)
        return cache.c[0, 0, 0]

    c_prev = np.array([[v["c_prev"]]])
    _, cache = lt.lstm_forward(np.array([[[v["x"]]]]), params, h0=h_of(c_prev), c0=c_prev,
                               config=config)
    _, dh0, dc0, _ = lt.lstm_backward(np.zeros((1, 1, 1)), cache, dcT=np.ones((1, 1)))
    dh_dc = float(sum(routes.values()).subs(values))
    total = dc0[0, 0] + dh0[0, 0] * dh_dc
    eps = 1e-6
    numeric = (c_next(c_prev + eps) - c_next(c_prev - eps)) / (2 * eps)
    assert float(d["total"].subs(values)) == pytest.approx(total, abs=1e-12)
    assert float(d["total"].subs(values)) == pytest.approx(numeric, abs=1e-8)
    if peepholes:  # the output-gate route is really there, and matters
        assert abs(float(routes["output gate"].subs(values))) > 1e-3
    else:  # with h_{t-1} fixed, only the carousel is left: f_t
        assert routes["output gate"] == 0
        assert float(d["carousel"].subs(values)) == pytest.approx(dc0[0, 0], abs=1e-12)


def test_symbolic_1997_cell_has_carousel_weight_one():
    from lstm_teach import symbolic

    d = symbolic.lstm_cell_state_derivative(forget_gate=False)
    assert d["carousel"] == 1
    assert d["paths"]["forget gate"] == 0
