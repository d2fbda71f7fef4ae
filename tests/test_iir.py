"""The first-order IIR filter and the gamma memory (lstm_teach.iir)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstm_teach import iir

# --------------------------------------------------------------------------------------
# the filter
# --------------------------------------------------------------------------------------


def test_filter_matches_the_recurrence_written_out(rng):
    x = rng.standard_normal(25)
    w, b, y0 = 0.7, 1.3, -0.4
    expected, y = [], y0
    for x_t in x:
        y = w * y + b * x_t
        expected.append(y)
    np.testing.assert_allclose(iir.iir_filter(x, w, b, y0=y0), expected, rtol=0, atol=1e-14)


def test_batched_filter_gives_each_row_its_own_weight_and_initial_state(rng):
    x = rng.standard_normal((3, 12))
    w = np.array([0.5, -0.9, 1.0])
    b = np.array([1.0, 2.0, 0.5])
    y0 = np.array([0.0, 1.0, -2.0])
    y = iir.iir_filter(x, w, b, y0=y0)
    assert y.shape == (3, 12)
    for row in range(3):
        np.testing.assert_allclose(
            y[row], iir.iir_filter(x[row], w[row], b[row], y0=y0[row]), atol=1e-14
        )


def test_float32_signal_stays_float32():
    y = iir.iir_filter(np.ones(5, dtype=np.float32), 0.5)
    assert y.dtype == np.float32


@pytest.mark.parametrize("w", [0.9, -0.6, 1.0, -1.0, 1.1, 0.0])
def test_impulse_response_is_b_times_w_to_the_n(w):
    n, b = 30, 1.7
    np.testing.assert_allclose(iir.impulse_response(w, n, b), b * w ** np.arange(n), rtol=1e-13)


def test_impulse_response_of_several_weights_has_one_row_each():
    h = iir.impulse_response([0.5, -0.5], 4)
    np.testing.assert_allclose(h, [[1, 0.5, 0.25, 0.125], [1, -0.5, 0.25, -0.125]])


@pytest.mark.parametrize("w", [0.9, -0.6, 1.1])
def test_step_response_is_a_geometric_sum(w):
    n, b = 20, 0.5
    k = np.arange(n)
    np.testing.assert_allclose(iir.step_response(w, n, b), b * (1 - w ** (k + 1)) / (1 - w))


def test_integrator_step_response_grows_linearly_and_stable_filter_settles():
    np.testing.assert_allclose(iir.step_response(1.0, 6), [1, 2, 3, 4, 5, 6])
    # a stable filter settles at the DC gain b / (1 - w)
    assert iir.step_response(0.8, 400, b=2.0)[-1] == pytest.approx(2.0 / 0.2, rel=1e-12)


@pytest.mark.parametrize(
    "w, expected",
    [
        (0.0, "stable"),
        (0.999, "stable"),
        (-0.999, "stable"),
        (1.0, "integrator"),
        (-1.0, "marginal"),
        (1.0001, "unstable"),
        (-1.5, "unstable"),
    ],
)
def test_classify_stability(w, expected):
    assert iir.classify_stability(w) == expected


def test_stability_agrees_with_the_impulse_response():
    for w in np.linspace(-1.3, 1.3, 27):
        tail = np.abs(iir.impulse_response(w, 200))[-1]
        kind = iir.classify_stability(w)
        if kind == "stable":
            assert tail < 1e-3
        elif kind == "unstable":
            assert tail > 1e3
        else:
            assert tail == pytest.approx(1.0)


def test_pole_time_constant_and_frequency_response():
    assert iir.pole(0.25) == 0.25
    # |w|**tau = 1/e
    tau = iir.time_constant(0.9)
    assert 0.9**tau == pytest.approx(math.exp(-1))
    assert iir.time_constant(1.0) == math.inf
    omega, H = iir.frequency_response(0.5, b=1.0, n=5)
    assert omega[0] == 0.0 and omega[-1] == pytest.approx(np.pi)
    assert abs(H[0]) == pytest.approx(2.0)  # DC gain b / (1 - w)
    assert abs(H[-1]) == pytest.approx(1 / 1.5)  # Nyquist gain b / (1 + w): low-pass


@pytest.mark.parametrize("w", [0.5, 1.0, -1.0, 2.0])
def test_describe_stability_names_the_regime(w):
    assert iir.describe_stability(w).endswith(f"({iir.classify_stability(w)}).")


@pytest.mark.parametrize(
    "call, error, text",
    [
        (lambda: iir.iir_filter(np.zeros((2, 3, 4)), 0.5), ValueError, "x must be a signal"),
        (lambda: iir.iir_filter([], 0.5), ValueError, "T >= 1"),
        (lambda: iir.iir_filter(["a", "b"], 0.5), TypeError, "x must be a real numeric array"),
        (lambda: iir.iir_filter([1.0, np.nan], 0.5), ValueError, "x contains 1 non-finite"),
        (lambda: iir.iir_filter([1.0, 2.0], [0.5, 0.4]), ValueError, "w must be a scalar"),
        (lambda: iir.iir_filter(np.ones((2, 3)), [0.5] * 3), ValueError, "shape (2,)"),
        (lambda: iir.iir_filter([1.0], np.inf), ValueError, "w contains 1 non-finite"),
        (lambda: iir.impulse_response(0.5, 0), ValueError, "n must be a positive integer"),
        (lambda: iir.impulse_response(0.5, 2.5), TypeError, "n must be a positive integer"),
        (lambda: iir.classify_stability([0.5, 2]), ValueError, "w must be a scalar"),
        (lambda: iir.gamma_memory([1.0], 2, 2.5), ValueError, "mu must lie in (0, 2)"),
        (lambda: iir.gamma_memory([1.0], 0, 0.5), ValueError, "K must be a positive integer"),
        (lambda: iir.gamma_kernel(1, 0.5, 1.5), TypeError, "m must be an integer"),
    ],
)
def test_bad_input_is_named_in_the_error(call, error, text):
    with pytest.raises(error) as info:
        call()
    assert text in str(info.value)


# --------------------------------------------------------------------------------------
# the gamma memory
# --------------------------------------------------------------------------------------


def test_gamma_memory_follows_its_recurrence_tap_by_tap(rng):
    x = rng.standard_normal(15)
    K, mu = 3, 0.4
    taps = iir.gamma_memory(x, K, mu)
    prev = np.zeros(K)
    for t in range(len(x)):
        now = np.empty(K)
        now[0] = (1 - mu) * prev[0] + mu * x[t]  # tap 1 reads x_t: the LSTM cell's form
        for k in range(1, K):
            now[k] = (1 - mu) * prev[k] + mu * prev[k - 1]
        np.testing.assert_allclose(taps[t], now, atol=1e-14)
        prev = now


def test_tap_one_is_the_leaky_integrator_filter(rng):
    x = rng.standard_normal((2, 20))
    mu = 0.3
    np.testing.assert_allclose(
        iir.gamma_memory(x, 4, mu)[..., 0], iir.iir_filter(x, 1 - mu, mu), atol=1e-14
    )


def test_mu_one_is_a_tapped_delay_line():
    x = np.arange(1.0, 7.0)
    taps = iir.gamma_memory(x, 3, 1.0)
    np.testing.assert_array_equal(taps[:, 0], x)
    np.testing.assert_array_equal(taps[:, 1], [0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(taps[:, 2], [0, 0, 1, 2, 3, 4])


@pytest.mark.parametrize("K, mu", [(1, 0.5), (3, 0.25), (5, 0.6), (4, 1.0)])
def test_impulse_response_is_the_gamma_kernel_and_mean_delay_is_k_over_mu(K, mu):
    n = 600
    g = iir.gamma_impulse_response(K, mu, n)
    delays = np.arange(1, n + 1)  # index t holds delay m = t + 1
    for k in range(1, K + 1):
        np.testing.assert_allclose(g[:, k - 1], iir.gamma_kernel(k, mu, delays), atol=1e-14)
        assert g[:, k - 1].sum() == pytest.approx(1.0, abs=1e-10)
        mean = np.sum(delays * g[:, k - 1]) / np.sum(g[:, k - 1])
        assert mean == pytest.approx(k / mu, rel=1e-9)
        assert iir.gamma_mean_delay(k, mu) == pytest.approx(k / mu)
    assert iir.memory_depth(K, mu) == pytest.approx(K / mu)


def test_gamma_kernel_closed_form_by_hand():
    # tap 2, mu = 0.5: g(2) = 0.25, g(3) = 2 * 0.25 * 0.5, g(4) = 3 * 0.25 * 0.25
    np.testing.assert_allclose(iir.gamma_kernel(2, 0.5, [1, 2, 3, 4]), [0, 0.25, 0.25, 0.1875])


def test_gamma_memory_batch_shape_and_initial_state():
    taps = iir.gamma_memory(np.zeros((2, 5)), 3, 0.5, y0=[1.0, 0.0, 0.0])
    assert taps.shape == (2, 5, 3)
    np.testing.assert_allclose(taps[0, :, 0], 0.5 ** np.arange(1, 6))
