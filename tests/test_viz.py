"""Plot helpers (lstm_teach.viz): they draw the right data, label it, and never show."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from lstm_teach import iir, viz


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _labelled(ax):
    return ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_backend_is_headless():
    assert "agg" in matplotlib.get_backend().lower()


def test_impulse_response_plot_draws_w_to_the_n_for_each_weight():
    ax = viz.plot_impulse_response([0.9, -0.5], n=12, b=2.0)
    lines = [line for line in ax.lines if line.get_label().startswith("w =")]
    assert [line.get_label() for line in lines] == ["w = 0.9", "w = -0.5"]
    np.testing.assert_allclose(lines[0].get_ydata(), 2.0 * 0.9 ** np.arange(12))
    np.testing.assert_allclose(lines[1].get_ydata(), 2.0 * (-0.5) ** np.arange(12))
    assert _labelled(ax)


def test_step_response_plot_uses_a_given_axes():
    fig, ax = plt.subplots()
    out = viz.plot_step_response(1.0, n=5, ax=ax, title="mine")
    assert out is ax and ax.get_title() == "mine"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1, 2, 3, 4, 5])


def test_plot_signals_and_gamma_kernels():
    x = np.sin(np.arange(20))
    ax = viz.plot_signals(x, iir.iir_filter(x, 0.5))
    np.testing.assert_allclose(ax.lines[1].get_ydata(), iir.iir_filter(x, 0.5))
    ax = viz.plot_gamma_kernels(3, 0.5, n=40)
    curves = [line for line in ax.lines if line.get_label().startswith("tap")]
    assert len(curves) == 3
    np.testing.assert_allclose(curves[2].get_ydata(), iir.gamma_kernel(3, 0.5, np.arange(1, 41)))
    mean_lines = [line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == ":"]
    np.testing.assert_allclose(mean_lines, [2.0, 4.0, 6.0])
    assert "depth K/mu = 6" in ax.get_title()


def test_gate_heatmap_shows_the_chosen_batch_item(rng):
    gates = {k: rng.uniform(size=(2, 7, 3)) for k in "ifgo"}
    fig = viz.plot_gate_heatmap(gates, batch=1, names=("f", "o"))
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 2
    np.testing.assert_allclose(images[0].get_array(), gates["f"][1].T)
    assert images[1].get_clim() == (0.0, 1.0)
    assert fig.get_suptitle() == "Gate activations over time (dimensionless)"


def test_gate_heatmap_reads_a_cache_like_object_and_reports_missing_gates(rng):
    class Cache:
        gates = {"i": rng.uniform(size=(1, 4, 2)), "g": rng.uniform(-1, 1, size=(1, 4, 2))}

    fig = viz.plot_gate_heatmap(Cache(), names=("i", "g"))
    assert [ax.images[0].get_clim() for ax in fig.axes if ax.images] == [(0.0, 1.0), (-1.0, 1.0)]
    with pytest.raises(ValueError, match=r"gates has no entry for \['o'\]"):
        viz.plot_gate_heatmap(Cache(), names=("i", "o"))
    with pytest.raises(ValueError, match="batch must index the 1 sequences"):
        viz.plot_gate_heatmap(Cache(), batch=3, names=("i",))


def test_cell_state_plot_draws_c_and_h(rng):
    c = rng.standard_normal((2, 10, 3))
    ax = viz.plot_cell_state(c, batch=1, units=[0, 2], h=np.tanh(c))
    assert [line.get_label() for line in ax.lines[:4]] == [
        "c (unit 0)", "h (unit 0)", "c (unit 2)", "h (unit 2)"
    ]
    np.testing.assert_allclose(ax.lines[2].get_ydata(), c[1, :, 2])
    np.testing.assert_allclose(ax.lines[3].get_ydata(), np.tanh(c[1, :, 2]))
    assert _labelled(ax)


def test_gradient_norm_plot_is_logarithmic_with_reference():
    lags = np.arange(6)
    ax = viz.plot_gradient_norms(
        [0.5**lags, 0.9**lags], labels=["a", "b"], reference={"ref": 0.7**lags}
    )
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.lines] == ["a", "b", "ref"]
    np.testing.assert_allclose(ax.lines[2].get_ydata(), 0.7**lags)
    assert _labelled(ax)


def test_no_plot_helper_calls_show(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("plt.show() was called")

    monkeypatch.setattr(plt, "show", forbidden)
    viz.plot_impulse_response(0.5)
    viz.plot_gate_heatmap({k: np.zeros((1, 3, 2)) for k in "ifgo"})
    viz.plot_gradient_norms(np.ones(4))
