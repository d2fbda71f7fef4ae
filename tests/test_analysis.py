"""Jacobian products of the Elman RNN (lstm_teach.analysis)."""

from __future__ import annotations

import numpy as np
import pytest

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
