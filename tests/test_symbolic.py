"""sympy derivations (lstm_teach.symbolic) against the numeric code."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from lstm_teach import iir, symbolic


def test_transfer_function_pole_and_zero():
    w, b, z = symbolic.iir_symbols()
    H = symbolic.iir_transfer_function()
    assert sp.simplify(H - b * z / (z - w)) == 0
    assert symbolic.poles(H, z) == [w]
    assert symbolic.zeros(H, z) == [0]


def test_transfer_function_of_a_concrete_filter():
    z = symbolic.iir_symbols()[2]
    H = symbolic.iir_transfer_function(w=sp.Rational(1, 2), b=3)
    assert symbolic.poles(H, z) == [sp.Rational(1, 2)]


def test_series_coefficients_are_the_numeric_impulse_response():
    w, b, z = symbolic.iir_symbols()
    coefficients = symbolic.series_coefficients(symbolic.iir_transfer_function(), z, 8)
    assert coefficients == [b * w**k for k in range(8)]
    numbers = [float(c.subs({w: 0.8, b: 1.5})) for c in coefficients]
    np.testing.assert_allclose(numbers, iir.impulse_response(0.8, 8, 1.5), rtol=1e-14)


def test_unrolled_filter_and_its_gradient_is_w_to_the_lag():
    w, b, _ = symbolic.iir_symbols()
    y, y0, xs = symbolic.iir_unrolled(3)
    assert sp.expand(y[3] - (w**3 * y0 + b * w**2 * xs[0] + b * w * xs[1] + b * xs[2])) == 0
    for T, t in [(6, 0), (6, 4), (9, 2)]:
        assert sp.simplify(symbolic.iir_state_gradient(T, t) - w ** (T - t)) == 0
    assert symbolic.iir_state_gradient(4, 4) == 1
    with pytest.raises(ValueError, match="t must satisfy 0 <= t <= T = 4; got 5"):
        symbolic.iir_state_gradient(4, 5)


def test_mean_delay_of_the_leaky_filter_and_of_gamma_taps():
    w, _, z = symbolic.iir_symbols()
    # b w^n has mean sum n w^n / sum w^n = w / (1 - w)
    assert sp.simplify(symbolic.mean_delay(symbolic.iir_transfer_function(), z) - w / (1 - w)) == 0
    mu = symbolic.symbols("mu", positive=True)
    for k in (1, 2, 5):
        G = symbolic.gamma_transfer_function(k)
        assert sp.simplify(symbolic.mean_delay(G, z) - k / mu) == 0
        assert symbolic.poles(G, z) == [1 - mu] * k


def test_gamma_series_is_the_gamma_kernel():
    z = symbolic.iir_symbols()[2]
    G = symbolic.gamma_transfer_function(3, mu=sp.Rational(2, 5))
    coefficients = [float(c) for c in symbolic.series_coefficients(G, z, 10)]
    np.testing.assert_allclose(coefficients, iir.gamma_kernel(3, 0.4, np.arange(10)), atol=1e-15)


def test_to_function_and_sigmoid():
    x = symbolic.symbols("x")
    f = symbolic.to_function(sp.diff(symbolic.sigmoid(x), x), x)
    s = 1 / (1 + np.exp(-0.3))
    assert f(0.3) == pytest.approx(s * (1 - s), rel=1e-14)
