"""The lesson-01 explorers, headless: the IIR explorer's gradient panel and z-plane layout,
and the gamma-memory explorer (compute function, drawing, and the widget wiring)."""

from __future__ import annotations

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest

import lstm_teach as lt
from lstm_teach import iir
from lstm_teach.course import explorers


@pytest.fixture(autouse=True)
def _no_figures_left_open():
    plt.close("all")
    yield
    plt.close("all")


# --------------------------------------------------------------------------------------
# IIR explorer: the |w|**k gradient panel
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("w", [0.5, 0.9, -0.7, 1.0, 1.1])
def test_iir_gradient_is_the_derivative_of_the_last_output(w):
    n, b = 25, 1.5
    r = explorers.iir_explorer_data(w=w, b=b, signal="noise", n=n)
    np.testing.assert_array_equal(r["lags"], np.arange(n))
    # dy_T/dx_t = b w^(T-t): nudge each input and watch the last output (central differences)
    x = explorers.make_signal("noise", n)
    dyT_dx = lt.numerical_gradient(lambda inp: iir.iir_filter(inp, w, b)[-1], x)
    lags_of_inputs = n - 1 - np.arange(n)
    np.testing.assert_allclose(np.abs(dyT_dx), b * r["gradient"][lags_of_inputs], rtol=1e-7,
                               atol=1e-9)


def test_iir_gradient_vanishes_explodes_or_stays():
    lag = 50
    assert explorers.iir_explorer_data(w=0.9, n=61)["gradient"][lag] < 0.01
    assert explorers.iir_explorer_data(w=1.1, n=61)["gradient"][lag] > 100
    np.testing.assert_array_equal(explorers.iir_explorer_data(w=1.0, n=61)["gradient"], 1.0)
    zero = explorers.iir_explorer_data(w=0.0, n=5)["gradient"]
    np.testing.assert_array_equal(zero, [1, 0, 0, 0, 0])


def test_iir_figure_draws_the_gradient_on_a_log_axis():
    r = explorers.iir_explorer_data(w=0.0, n=10)
    fig = explorers.draw_iir_explorer(r)
    ax_grad = fig.axes[4]
    assert ax_grad.get_yscale() == "log" and "|w|^k" in ax_grad.get_title()
    # w = 0 gives exact zeros, drawn at the floor instead of vanishing from a log axis
    np.testing.assert_array_equal(ax_grad.lines[0].get_ydata()[1:], explorers.iir.GRADIENT_FLOOR)
    r = explorers.iir_explorer_data(w=0.8, n=10)
    fig = explorers.draw_iir_explorer(r)
    np.testing.assert_allclose(fig.axes[4].lines[0].get_ydata(), 0.8 ** np.arange(10))


@pytest.mark.parametrize("w", [-1.2, 0.0, 0.8, 1.2])
def test_z_plane_legend_collides_with_nothing(w):
    fig = explorers.draw_iir_explorer(explorers.iir_explorer_data(w=w))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax_pole = fig.axes[1]
    legend = ax_pole.get_legend().get_window_extent(renderer)
    for name, box in (("title", ax_pole.title.get_window_extent(renderer)),
                      ("z-plane", ax_pole.get_window_extent(renderer)),
                      ("suptitle", fig._suptitle.get_window_extent(renderer))):
        assert not legend.overlaps(box), f"the z-plane legend overlaps the {name}"
    for other in fig.axes[:1] + fig.axes[2:]:  # and no other panel
        assert not legend.overlaps(other.get_window_extent(renderer))


# --------------------------------------------------------------------------------------
# gamma-memory explorer
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("K", "mu"), [(1, 0.5), (4, 0.3), (3, 1.0), (2, 1.5)])
def test_gamma_kernels_are_the_closed_form(K, mu):
    r = explorers.gamma_explorer_data(K=K, mu=mu, n=50)
    m = np.arange(1, 51)
    for k in range(1, K + 1):
        np.testing.assert_allclose(r["kernels"][:, k - 1], iir.gamma_kernel(k, mu, m), atol=1e-14)
    np.testing.assert_allclose(r["mean_delays"], np.arange(1, K + 1) / mu)
    assert r["depth"] == pytest.approx(K / mu) and r["resolution"] == mu


def test_gamma_mean_delays_and_spreads_match_the_kernels():
    K, mu = 4, 0.3
    r = explorers.gamma_explorer_data(K=K, mu=mu, n=600)   # long enough for the tails to vanish
    m = r["delays"]
    for k in range(K):
        g = r["kernels"][:, k]
        mean = np.sum(m * g)
        assert np.sum(g) == pytest.approx(1.0, abs=1e-9)
        assert mean == pytest.approx(r["mean_delays"][k], rel=1e-9)
        assert np.sqrt(np.sum((m - mean) ** 2 * g)) == pytest.approx(r["spreads"][k], rel=1e-9)
    assert np.all(np.isnan(explorers.gamma_explorer_data(K=2, mu=1.5)["spreads"]))


def test_gamma_taps_run_the_memory_on_the_signal():
    r = explorers.gamma_explorer_data(K=3, mu=0.4, signal="impulse", n=30)
    np.testing.assert_allclose(r["taps"], r["kernels"], atol=1e-15)   # impulse in: the kernels
    r = explorers.gamma_explorer_data(K=3, mu=0.4, signal="noise", n=30)
    np.testing.assert_allclose(r["taps"], iir.gamma_memory(r["x"], 3, 0.4))
    np.testing.assert_allclose(r["taps"][:, 0], iir.iir_filter(r["x"], w=0.6, b=0.4))


def test_gamma_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="mu"):
        explorers.gamma_explorer_data(K=2, mu=2.5)
    with pytest.raises(ValueError, match="K"):
        explorers.gamma_explorer_data(K=0, mu=0.5)


def test_gamma_figure_shows_every_tap():
    r = explorers.gamma_explorer_data(K=5, mu=0.5, n=40)
    fig = explorers.draw_gamma_explorer(r)
    ax_kernel, ax_taps = fig.axes[:2]
    assert len(ax_kernel.lines) >= 5
    np.testing.assert_allclose(ax_kernel.lines[0].get_ydata(), r["kernels"][:, 0])
    assert len(ax_taps.lines) == 6                       # the input and five taps
    assert "depth K/mu = 10.0" in fig.get_suptitle()


def test_gamma_explorer_recomputes_when_sliders_move():
    explorer = explorers.gamma_explorer(K=2, mu=0.5, n=40)
    assert isinstance(explorer, ipywidgets.VBox)
    assert explorer.result["kernels"].shape == (40, 2)
    explorer.controls["K"].value = 6
    assert explorer.result["kernels"].shape == (40, 6)
    explorer.controls["mu"].value = 1.0                  # mu = 1: a plain delay line
    np.testing.assert_allclose(explorer.result["kernels"][:6], np.eye(6), atol=1e-15)
    assert explorer.result["depth"] == pytest.approx(6.0)
    assert len(explorer.figure.axes[1].lines) == 7
