"""The widget explorers, headless: moving a control recomputes the right numbers.

No browser is involved: setting ``slider.value`` fires the same traitlets
observer that a drag in JupyterLab fires, so ``explorer.result`` and the
plotted data must follow.
"""

from __future__ import annotations

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest

from lstm_teach import LSTMConfig, iir, lstm_forward, rnn_forward, widgets


@pytest.fixture(autouse=True)
def _no_figures_left_open():
    plt.close("all")  # start clean, whatever ran before in this process
    yield
    assert plt.get_fignums() == [], "an explorer left figures open under a headless backend"


# --------------------------------------------------------------------------------------
# shared pieces
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", widgets.SIGNALS)
def test_signals_have_the_requested_length_and_are_deterministic(kind):
    x = widgets.make_signal(kind, 32)
    assert x.shape == (32,)
    np.testing.assert_array_equal(x, widgets.make_signal(kind, 32))


def test_signal_shapes():
    np.testing.assert_array_equal(widgets.make_signal("impulse", 4), [1, 0, 0, 0])
    np.testing.assert_array_equal(widgets.make_signal("pulse", 16), [0, 0, 1, 1] + [0] * 12)
    with pytest.raises(ValueError, match=r"signal must be one of .* got 'chirp'"):
        widgets.make_signal("chirp", 10)


# --------------------------------------------------------------------------------------
# IIR explorer
# --------------------------------------------------------------------------------------


def test_iir_compute_function():
    r = widgets.iir_explorer_data(w=0.5, b=2.0, signal="step", n=6)
    np.testing.assert_allclose(r["impulse"], 2.0 * 0.5 ** np.arange(6))
    np.testing.assert_allclose(r["y"], r["step"])  # a step input gives the step response
    assert (r["pole"], r["stability"]) == (0.5, "stable")


def test_iir_explorer_recomputes_when_sliders_move():
    explorer = widgets.iir_explorer(w=0.8, signal="impulse", n=30)
    assert isinstance(explorer, ipywidgets.VBox)
    assert explorer.n_updates == 1
    np.testing.assert_allclose(explorer.result["impulse"], 0.8 ** np.arange(30))

    explorer.controls["w"].value = -1.0
    assert explorer.n_updates == 2
    assert explorer.result["stability"] == "marginal"
    np.testing.assert_allclose(explorer.result["impulse"], (-1.0) ** np.arange(30))

    explorer.sliders["b"].value = 0.5
    np.testing.assert_allclose(explorer.result["impulse"], 0.5 * (-1.0) ** np.arange(30))

    explorer.controls["w"].value = 1.1
    explorer.controls["signal"].value = "sine"
    x = widgets.make_signal("sine", 30)
    np.testing.assert_allclose(explorer.result["y"], iir.iir_filter(x, 1.1, 0.5))
    assert explorer.result["stability"] == "unstable"
    # the figure shows the new numbers: input/output panel and impulse panel
    ax_signal, ax_impulse = explorer.figure.axes[0], explorer.figure.axes[2]
    np.testing.assert_allclose(ax_signal.lines[1].get_ydata(), explorer.result["y"])
    np.testing.assert_allclose(ax_impulse.lines[0].get_ydata(), 0.5 * 1.1 ** np.arange(30))
    assert "unstable" in explorer.figure.get_suptitle()


def test_iir_explorer_slider_range_and_descriptions():
    explorer = widgets.iir_explorer()
    w = explorer.controls["w"]
    assert (w.min, w.max, w.description) == (-1.2, 1.2, "feedback weight w")
    assert explorer.controls["signal"].options == widgets.SIGNALS
    assert explorer.output in explorer.children


# --------------------------------------------------------------------------------------
# spectral-radius explorer
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("rho", [0.8, 1.0, 1.2])
def test_linear_regime_gives_exactly_rho_to_the_lag(rho):
    r = widgets.spectral_radius_data(rho, input_scale=0.0, T=40)
    assert r["measured_rho"] == pytest.approx(rho)
    assert r["mean_slope"] == 1.0
    np.testing.assert_allclose(r["norms"], rho ** np.arange(41), rtol=1e-10)


def test_saturation_shrinks_the_gradient_below_rho_to_the_lag():
    r = widgets.spectral_radius_data(1.2, input_scale=1.0, T=40)
    assert r["mean_slope"] < 0.9
    assert np.all(r["norms"][1:] < r["reference"][1:])


def test_spectral_radius_explorer_follows_the_slider():
    explorer = widgets.spectral_radius_explorer(rho=0.9, T=30)
    assert explorer.result["norms"][-1] == pytest.approx(0.9**30, rel=1e-9)
    assert explorer.result["norms"][-1] < 1e-1  # vanishing
    explorer.controls["rho"].value = 1.3
    assert explorer.result["rho"] == 1.3
    assert explorer.result["norms"][-1] == pytest.approx(1.3**30, rel=1e-9)
    assert explorer.result["norms"][-1] > 1e3  # exploding
    ax = explorer.figure.axes[0]
    assert ax.get_yscale() == "log"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), explorer.result["norms"])
    explorer.controls["matrix"].value = "normal"
    assert explorer.result["measured_rho"] == pytest.approx(1.3)
    assert explorer.n_updates == 3


# --------------------------------------------------------------------------------------
# gate explorer
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0.0, 1e-9, 0.3, 0.5, 0.97, 1.0])
def test_gate_bias_reproduces_the_gate_value(value):
    z = widgets.gate_bias(value)
    gate = lstm_forward(
        np.zeros((1, 1, 1)),
        {"W": np.zeros((1, 4)), "U": np.zeros((1, 4)), "b": np.array([z, 0, 0, 0])},
    )[1].gates["i"]
    assert gate.item() == pytest.approx(value, abs=1e-15)
    if value in (0.0, 1.0):
        assert gate.item() == value  # exactly, not approximately


def test_gate_bias_rejects_values_outside_the_unit_interval():
    with pytest.raises(ValueError, match="a gate value must lie in \\[0, 1\\]; got 1.5"):
        widgets.gate_bias(1.5)


@pytest.mark.parametrize("candidate", ["identity", "tanh"])
@pytest.mark.parametrize("signal", ["noise", "sine"])
@pytest.mark.parametrize("gates", [(0.3, 0.8, 0.6), (1.0, 0.0, 1.0), (0.0, 1.0, 0.5)])
def test_gate_explorer_runs_the_real_lstm_and_matches_the_plain_recurrence(
    gates, signal, candidate
):
    i, f, o = gates
    r = widgets.gate_explorer_data(i, f, o, signal=signal, c0=0.4, candidate=candidate, n=25)
    c, h = widgets.fixed_gate_cell(r["x"], i, f, o, c0=0.4, candidate=candidate)
    np.testing.assert_allclose(r["c"], c, atol=1e-12)
    np.testing.assert_allclose(r["h"], h, atol=1e-12)
    np.testing.assert_allclose(r["gates"]["f"], f, atol=1e-15)


def test_the_four_regimes():
    x = widgets.make_signal("noise", 30)
    remember = widgets.gate_explorer_data(signal="noise", n=30, **widgets.GATE_PRESETS["remember"])
    np.testing.assert_array_equal(remember["c"], 0.8)  # the stored value, untouched
    overwrite = widgets.gate_explorer_data(
        signal="noise", n=30, **widgets.GATE_PRESETS["overwrite"]
    )
    np.testing.assert_allclose(overwrite["c"], x, atol=1e-15)  # tracks the input
    accumulate = widgets.gate_explorer_data(
        signal="noise", n=30, **widgets.GATE_PRESETS["accumulate"]
    )
    np.testing.assert_allclose(accumulate["c"], np.cumsum(x), atol=1e-12)  # integrates
    hide = widgets.gate_explorer_data(signal="noise", n=30, **widgets.GATE_PRESETS["hide"])
    np.testing.assert_array_equal(hide["h"], 0.0)  # nothing gets out...
    np.testing.assert_allclose(hide["c"], np.cumsum(x), atol=1e-12)  # ...though c still works
    assert [r["regime"] for r in (remember, overwrite, accumulate, hide)] == list(
        widgets.GATE_PRESETS
    )


def test_gate_explorer_sliders_and_presets_drive_the_result():
    explorer = widgets.gate_explorer(i=1.0, f=0.9, o=1.0, signal="step", n=20)
    assert [explorer.controls[k].description for k in "ifo"] == [
        "input gate i",
        "forget gate f",
        "output gate o",
    ]
    assert all(explorer.controls[k].continuous_update for k in "ifo")
    np.testing.assert_allclose(explorer.result["c"], iir.step_response(0.9, 20), atol=1e-12)

    explorer.controls["f"].value = 0.5
    np.testing.assert_allclose(explorer.result["c"], iir.step_response(0.5, 20), atol=1e-12)
    explorer.controls["o"].value = 0.25
    np.testing.assert_allclose(explorer.result["h"], 0.25 * np.tanh(explorer.result["c"]))
    ax_cell = explorer.figure.axes[1]
    np.testing.assert_allclose(ax_cell.lines[1].get_ydata(), explorer.result["h"])

    explorer.buttons["remember"].click()
    assert explorer.result["regime"] == "remember"
    assert [explorer.controls[k].value for k in ("i", "f", "o", "c0")] == [0.0, 1.0, 1.0, 0.8]
    np.testing.assert_array_equal(explorer.result["c"], 0.8)
    explorer.apply_preset("hide")
    np.testing.assert_array_equal(explorer.result["h"], 0.0)
    assert "(hide)" in explorer.figure.get_suptitle()
    with pytest.raises(ValueError, match="preset must be one of"):
        explorer.apply_preset("explode")


def test_frozen_gate_params_reduce_the_lstm_to_the_leaky_integrator():
    # f = 1 - mu, i = mu, identity candidate: c_t is tap 1 of the gamma memory
    mu = 0.3
    x = widgets.make_signal("noise", 30)
    params = widgets.frozen_gate_params(i=mu, f=1 - mu, o=1.0)
    _, cache = lstm_forward(x[None, :, None], params, config=LSTMConfig(activation="identity"))
    np.testing.assert_allclose(cache.c[0, :, 0], iir.gamma_memory(x, 3, mu)[:, 0], atol=1e-14)


def test_saturated_forget_gate_reduces_the_lstm_to_the_simple_rnn(rng):
    # i = 1, f = 0 (bias -1000: exactly zero), o = 1, identity output activation
    D, H = 3, 4
    rnn = {"W": rng.standard_normal((D, H)), "U": rng.standard_normal((H, H)) * 0.5,
           "b": rng.standard_normal(H)}
    W = np.zeros((D, 4 * H))
    U = np.zeros((H, 4 * H))
    b = np.zeros(4 * H)
    W[:, 2 * H : 3 * H], U[:, 2 * H : 3 * H], b[2 * H : 3 * H] = rnn["W"], rnn["U"], rnn["b"]
    b[H : 2 * H] = widgets.gate_bias(0.0)
    config = LSTMConfig(input_gate=False, output_gate=False, output_activation="identity")
    x = rng.standard_normal((2, 9, D))
    hs, _ = lstm_forward(x, {"W": W, "U": U, "b": b}, config=config)
    np.testing.assert_allclose(hs, rnn_forward(x, rnn)[0], atol=1e-14)
