"""The live explorers: the gate explorer with its cell diagram and schedules, and the
carousel explorer of lesson 04. Plain functions first (no browser), then the widgets."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import lstm_teach as lt  # noqa: E402
from lstm_teach.course import analysis, diagrams  # noqa: E402
from lstm_teach.course import explorers as ex  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def pixels(fig):
    image = diagrams.render(fig)
    plt.close(fig)
    return image


# ---- the carousel explorer ---------------------------------------------------------------


def test_half_life():
    assert ex.half_life(0.5) == pytest.approx(1.0)
    assert ex.half_life(0.99) == pytest.approx(68.97, abs=0.01)
    assert math.isinf(ex.half_life(1.0)) and ex.half_life(0.0) == 0.0
    with pytest.raises(ValueError, match="f must lie in"):
        ex.half_life(1.5)


def test_carousel_data_is_the_backward_pass_and_the_product_of_forget_gates():
    r = ex.carousel_explorer_data(forget_bias=2.0, T=30, units=5, seed=3)
    assert r["c"].shape == (30, 5) and r["flow"].shape == (30, 5)
    # the full gradient is the package's own error flow, re-run independently here
    rng = np.random.default_rng(3)
    params = lt.init_lstm(3, 5, rng=rng, unit_forget_bias=False)
    params["b"][5:10] = 2.0
    x = rng.standard_normal((1, 30, 3))
    flow = analysis.lstm_error_flow(params, x, error=np.full(5, 1 / np.sqrt(5)))[0][::-1]
    np.testing.assert_allclose(r["flow"], flow, rtol=1e-12)
    # the carousel's share: the error times the forget gates it passes, nothing else
    f_back = r["f"][::-1]
    expected = [np.linalg.norm(np.prod(f_back[:k], axis=0) / np.sqrt(5)) for k in range(30)]
    np.testing.assert_allclose(r["carousel_norm"], expected, rtol=1e-12)
    assert r["f_mean"] == pytest.approx(r["f"].mean())


def test_cutting_the_gate_paths_leaves_only_the_carousel():
    cut = ex.carousel_explorer_data(forget_bias=3.0, gate_paths=False, T=40)
    np.testing.assert_allclose(cut["full_norm"], cut["carousel_norm"], rtol=1e-12)
    full = ex.carousel_explorer_data(forget_bias=3.0, gate_paths=True, T=40)
    assert full["full_norm"][39] > 2 * full["carousel_norm"][39]   # the detours add (lesson 04)
    # with peepholes, the gates still read c_{t-1} directly: more than the carousel again
    peep = ex.carousel_explorer_data(forget_bias=3.0, gate_paths=False, peepholes=True, T=40)
    assert not np.allclose(peep["full_norm"], peep["carousel_norm"], rtol=1e-6)


def test_forget_bias_sets_the_reach():
    reach = [ex.carousel_explorer_data(forget_bias=b, gate_paths=False, T=40)["carousel_norm"][30]
             for b in (0.0, 1.0, 3.0)]
    assert reach[0] < 1e-6 < reach[1] < reach[2]
    r = ex.carousel_explorer_data(forget_bias=0.0, gate_paths=False, T=40)
    assert r["half_life"] == pytest.approx(ex.half_life(r["f_mean"]))


def test_carousel_drawing_follows_the_controls():
    base = ex.carousel_explorer_data(T=30)
    fig = ex.draw_carousel_explorer(base)
    assert isinstance(fig, matplotlib.figure.Figure)
    a = pixels(fig)
    b = pixels(ex.draw_carousel_explorer(ex.carousel_explorer_data(T=30, gate_paths=False)))
    c = pixels(ex.draw_carousel_explorer(ex.carousel_explorer_data(T=30, forget_bias=0.0)))
    assert np.mean(np.any(a != b, axis=-1)) > 0.01 and np.mean(np.any(a != c, axis=-1)) > 0.01


def test_carousel_paths_diagram_draws_f_in_proportion():
    def arrow_width(f):
        fig = diagrams.carousel_paths(f=f)
        return max(p.get_linewidth() for p in fig.axes[0].patches if hasattr(p, "get_arrowstyle"))

    assert arrow_width(0.99) > arrow_width(0.5) > arrow_width(0.0)
    with pytest.raises(ValueError, match="gates"):
        diagrams.carousel_paths(f=1.2)


def test_carousel_explorer_widget():
    pytest.importorskip("ipywidgets")
    explorer = ex.carousel_explorer(forget_bias=3.0, T=30)
    assert explorer.result["forget_bias"] == 3.0
    before = diagrams.render(explorer.figure)
    explorer.controls["forget_bias"].value = 0.0
    assert explorer.result["f_mean"] < 0.6 and explorer.n_updates == 2
    assert np.any(diagrams.render(explorer.figure) != before)
    explorer.controls["gate_paths"].value = False
    np.testing.assert_allclose(explorer.result["full_norm"], explorer.result["carousel_norm"],
                               rtol=1e-12)
    explorer.controls["peepholes"].value = True
    assert explorer.result["peepholes"]


# ---- the gate explorer: schedules, the live diagram, fixed limits -------------------------


def test_gate_schedule_phases():
    v = ex.gate_schedule("write, hold, read, reset", i=0.8, f=0.99, o=0.7, n=40)
    assert v["i"][:10].tolist() == [0.8] * 10 and not v["i"][10:].any()
    assert v["o"][20:30].tolist() == [0.7] * 10 and not v["o"][:20].any() and not v["o"][30:].any()
    assert v["f"][:30].tolist() == [0.99] * 30 and not v["f"][30:].any()
    constant = ex.gate_schedule("constant", 0.1, 0.2, 0.3, 5)
    assert constant["f"].tolist() == [0.2] * 5
    with pytest.raises(ValueError, match="schedule"):
        ex.gate_schedule("sometimes", 1, 1, 1, 5)


def test_scheduled_gates_run_the_real_lstm():
    r = ex.gate_explorer_data(1.0, 1.0, 1.0, signal="step", n=40,
                              schedule="write, hold, read, reset")
    expected = ex.gate_schedule("write, hold, read, reset", 1.0, 1.0, 1.0, 40)
    for name in "ifo":
        np.testing.assert_array_equal(r["gates"][name], expected[name])
    c = r["c"]
    # write: the integrator adds the input; hold: exactly constant; reset: exactly 0
    np.testing.assert_allclose(c[:10], np.cumsum(r["x"][:10]), atol=1e-12)
    assert np.all(c[10:30] == c[9]) and np.all(c[30:] == 0.0)
    # the output gate opens only in the read phase
    assert np.all(r["h"][:20] == 0.0) and np.all(r["h"][20:30] == np.tanh(c[9]))
    assert r["regime"] == "write, hold, read, reset" and math.isinf(r["half_life"])


def test_gate_explorer_drawing_has_the_live_cell_and_fixed_limits():
    r = ex.gate_explorer_data(1.0, 0.9, 1.0, n=40)
    assert r["half_life"] == pytest.approx(ex.half_life(0.9))
    fig = ex.draw_gate_explorer(r, fixed_ylim=True)
    cell_axes = [ax for ax in fig.axes if ax.get_title().startswith("memory cell")]
    assert cell_axes[0].get_ylim() == (-4.0, 4.0)
    assert any("halves every" in ax.get_title() for ax in fig.axes)    # the diagram's title
    wide = pixels(ex.draw_gate_explorer(ex.gate_explorer_data(1.0, 0.99, 1.0, n=40), True))
    narrow = pixels(ex.draw_gate_explorer(ex.gate_explorer_data(1.0, 0.2, 1.0, n=40), True))
    assert np.mean(np.any(wide != narrow, axis=-1)) > 0.005


def test_gate_explorer_widget_controls():
    pytest.importorskip("ipywidgets")
    explorer = ex.gate_explorer(n=40)
    assert explorer.controls["f"].step == 0.001
    before = diagrams.render(explorer.figure)
    explorer.controls["f"].value = 0.995
    assert explorer.result["half_life"] == pytest.approx(ex.half_life(0.995))
    assert np.any(diagrams.render(explorer.figure) != before)
    explorer.controls["schedule"].value = "write, hold, read, reset"
    explorer.controls["n"].value = 200
    assert explorer.result["t"].size == 200 and explorer.result["regime"] == "write, hold, read, reset"
    explorer.controls["fixed_ylim"].value = True
    assert [ax.get_ylim() for ax in explorer.figure.axes if ax.get_title() == "memory cell"] == [(-4, 4)]
