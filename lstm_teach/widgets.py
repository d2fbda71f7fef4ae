"""Interactive explorers for the lessons (ipywidgets + inline matplotlib).

Each explorer has three layers, so that everything except the wiring runs
without a browser:

1. a **compute function** (``iir_explorer_data``, ``spectral_radius_data``,
   ``gate_explorer_data``): plain numbers in, a dict of arrays out;
2. a **draw function** (``draw_iir_explorer``, ...): that dict in, a
   matplotlib Figure out;
3. a **builder** (``iir_explorer()``, ...) returning an :class:`Explorer`, a
   ``VBox`` that wires the controls to (1) and (2) with
   ``ipywidgets.interactive_output``. It keeps the last result in
   ``.result`` and the last figure in ``.figure``, and its controls in
   ``.controls`` (name -> widget), so a test can set
   ``explorer.controls["w"].value = 0.5`` and read what was recomputed.

To add an explorer, write a compute and a draw function and hand them to
:class:`Explorer` together with the controls.

References: de Vries & Principe (1992) for the gamma memory; Bengio et al.
(1994) and Pascanu et al. (2013) for the spectral radius and gradient flow;
Hochreiter & Schmidhuber (1997) and Gers et al. (2000) for the gates.
"""

from __future__ import annotations

import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from . import analysis, iir, viz
from ._checks import check_choice, check_positive_int
from .lstm import LSTMConfig, lstm_forward
from .rnn import rnn_forward
from .utils import as_rng

SIGNALS = ("impulse", "step", "pulse", "sine", "noise")
SLIDER_STYLE = {"description_width": "initial"}
SLIDER_LAYOUT = {"width": "420px"}


# --------------------------------------------------------------------------------------
# shared pieces
# --------------------------------------------------------------------------------------
def make_signal(kind: str, n: int, rng=0) -> np.ndarray:
    """A test input of ``n`` samples, shape (n,).

    ``"impulse"``: 1 at t = 0, then 0. ``"step"``: 1 from t = 0 on.
    ``"pulse"``: 1 for a short block (t = n//8 .. n//4 - 1), 0 elsewhere.
    ``"sine"``: a sine with a period of 16 steps. ``"noise"``: Gaussian,
    standard deviation 0.5, drawn from ``rng`` (seed 0 by default, so the
    widgets are reproducible).
    """
    check_choice("signal", kind, SIGNALS)
    n = check_positive_int("n", n)
    t = np.arange(n)
    if kind == "impulse":
        return (t == 0).astype(float)
    if kind == "step":
        return np.ones(n)
    if kind == "pulse":
        return ((t >= n // 8) & (t < max(n // 4, n // 8 + 1))).astype(float)
    if kind == "sine":
        return np.sin(2 * np.pi * t / 16)
    return 0.5 * as_rng(rng).standard_normal(n)


def _float_slider(description, value, lo, hi, step=0.01):
    return widgets.FloatSlider(
        value=value,
        min=lo,
        max=hi,
        step=step,
        description=description,
        continuous_update=True,
        readout_format=".2f",
        style=SLIDER_STYLE,
        layout=SLIDER_LAYOUT,
    )


def _dropdown(description, options, value):
    return widgets.Dropdown(
        options=list(options), value=value, description=description, style=SLIDER_STYLE
    )


def _release(fig) -> None:
    """Show a finished figure inside the explorer's output area, then close it.

    The figure is displayed explicitly (when a kernel is running) instead of being
    left for the inline backend's automatic flush, so the plot lands inside the
    widget whatever the backend and whichever ``%matplotlib`` magic ran before.
    Closing it keeps repeated updates from piling up open figures; the Figure
    object stays readable through ``Explorer.figure``.
    """
    from IPython import get_ipython
    from IPython.display import display

    if get_ipython() is not None:
        display(fig)
    plt.close(fig)


class Explorer(widgets.VBox):
    """A ``VBox`` that redraws a plot whenever one of its controls changes.

    Parameters
    ----------
    controls : dict of name -> ipywidgets value widget
        Their values are passed to ``compute`` as keyword arguments.
    compute : callable(**values) -> dict
        The plain function behind the widget.
    draw : callable(result) -> matplotlib Figure
    title : str
        Shown above the controls.
    presets : dict of name -> dict of control values, optional
        One button per preset; clicking it sets those controls.

    Attributes
    ----------
    controls : dict
        The control widgets by name (also available as ``sliders``).
    buttons : dict
        The preset buttons by name.
    result : dict
        What ``compute`` returned for the current control values.
    figure : matplotlib Figure
        The last figure drawn.
    n_updates : int
        How many times the explorer has recomputed.
    """

    def __init__(self, controls, compute, draw, title="", presets=None):
        super().__init__()
        self.controls = dict(controls)
        self.compute = compute
        self.draw = draw
        self.presets = dict(presets or {})
        self.result = None
        self.figure = None
        self.n_updates = 0
        self.buttons = {name: self._preset_button(name) for name in self.presets}
        self.output = widgets.interactive_output(self._update, self.controls)
        rows = [widgets.HTML(f"<b>{title}</b>")] if title else []
        rows += list(self.controls.values())
        if self.buttons:
            rows.append(widgets.HBox([widgets.Label("presets:"), *self.buttons.values()]))
        self.children = [*rows, self.output]

    @property
    def sliders(self) -> dict:
        """Alias of :attr:`controls`."""
        return self.controls

    def _update(self, **values):
        self.result = self.compute(**values)
        self.figure = self.draw(self.result)
        self.n_updates += 1
        _release(self.figure)

    def _preset_button(self, name):
        button = widgets.Button(description=name, tooltip=f"set the {name} preset")
        button.on_click(lambda _button, name=name: self.apply_preset(name))
        return button

    def apply_preset(self, name: str) -> None:
        """Set the controls to the values of preset ``name`` (what its button does)."""
        check_choice("preset", name, list(self.presets))
        for key, value in self.presets[name].items():
            self.controls[key].value = value


# --------------------------------------------------------------------------------------
# 1. IIR explorer (lesson 01)
# --------------------------------------------------------------------------------------
def iir_explorer_data(w: float, b: float = 1.0, signal: str = "impulse", n: int = 40) -> dict:
    """Everything the IIR explorer shows, for ``y_t = w y_{t-1} + b x_t``.

    Returns
    -------
    dict with
        ``t`` (n,) time steps; ``x`` (n,) the chosen input; ``y`` (n,) the filter output;
        ``impulse`` (n,) and ``step`` (n,) responses; ``pole`` (float);
        ``stability`` (str, see :func:`lstm_teach.iir.classify_stability`);
        ``w``, ``b``, ``signal``.
    """
    x = make_signal(signal, n)
    return {
        "t": np.arange(n),
        "x": x,
        "y": iir.iir_filter(x, w, b),
        "impulse": iir.impulse_response(w, n, b),
        "step": iir.step_response(w, n, b),
        "pole": iir.pole(w),
        "stability": iir.classify_stability(w),
        "w": float(w),
        "b": float(b),
        "signal": signal,
    }


def draw_iir_explorer(result: dict):
    """Four panels: the filtered signal, the pole in the z-plane, impulse and step responses."""
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.4), layout="constrained")
    (ax_sig, ax_pole), (ax_imp, ax_step) = axes
    t = result["t"]
    viz.plot_signals(result["x"], result["y"], ax=ax_sig, title=f"Input '{result['signal']}'")
    ax_imp.plot(t, result["impulse"], "o-", ms=3)
    ax_imp.set(title="Impulse response b·w^n", xlabel="time step n", ylabel="y_n (input units)")
    ax_step.plot(t, result["step"], "o-", ms=3, color="C2")
    ax_step.set(title="Step response", xlabel="time step n", ylabel="y_n (input units)")
    for ax in (ax_imp, ax_step):
        ax.axhline(0.0, color="0.6", lw=0.8)
    # the z-plane: stable exactly when the pole sits inside the unit circle
    angle = np.linspace(0, 2 * np.pi, 200)
    ax_pole.plot(np.cos(angle), np.sin(angle), color="0.6", lw=1.0)
    ax_pole.plot([result["pole"]], [0.0], "x", ms=12, mew=3, color="C3", label="pole z = w")
    ax_pole.plot([0.0], [0.0], "o", ms=8, mfc="none", color="C0", label="zero z = 0")
    ax_pole.set(
        title="z-plane (unit circle = stability border)",
        xlabel="Re z",
        ylabel="Im z",
        xlim=(-1.5, 1.5),
        ylim=(-1.5, 1.5),
        aspect="equal",
    )
    ax_pole.legend(fontsize="small", loc="upper left")
    fig.suptitle(
        f"y_t = w·y_(t-1) + b·x_t with w = {result['w']:.2f}, b = {result['b']:.2f}: "
        f"{result['stability']}"
    )
    return fig


def iir_explorer(w: float = 0.8, b: float = 1.0, signal: str = "step", n: int = 40) -> Explorer:
    """Sliders for ``w`` and ``b`` and a choice of input; shows the filter's responses."""
    controls = {
        "w": _float_slider("feedback weight w", w, -1.2, 1.2),
        "b": _float_slider("input weight b", b, 0.1, 2.0),
        "signal": _dropdown("input signal", SIGNALS, signal),
    }
    return Explorer(
        controls,
        lambda **v: iir_explorer_data(n=n, **v),
        draw_iir_explorer,
        title="The first-order IIR filter",
    )


# --------------------------------------------------------------------------------------
# 2. spectral-radius explorer (lesson 02)
# --------------------------------------------------------------------------------------
def spectral_radius_data(
    rho: float,
    input_scale: float = 0.0,
    matrix: str = "orthogonal",
    hidden_size: int = 32,
    T: int = 60,
    seed: int = 0,
) -> dict:
    """``||dh_T / dh_{T-k}||`` of a tanh RNN whose recurrent matrix has spectral radius ``rho``.

    The input weights are Gaussian with standard deviation ``input_scale``
    (per input) and the inputs are standard normal, so ``input_scale = 0``
    keeps ``h_t = 0`` and every ``tanh'`` at 1: the linear regime, where an
    orthogonal matrix gives exactly ``rho**k``. Larger inputs push the units
    into saturation, and ``tanh' < 1`` shortens the reach further.

    Returns
    -------
    dict with ``lags`` (T+1,), ``norms`` (T+1,) spectral norms, ``reference`` (T+1,)
    ``rho**lags``, ``measured_rho`` (largest |eigenvalue| of U), ``mean_slope`` (mean
    tanh' along the run), ``rho``, ``input_scale``, ``matrix``.
    """
    rng = as_rng(seed)
    H = check_positive_int("hidden_size", hidden_size)
    T = check_positive_int("T", T)
    D = 4
    params = {
        "W": input_scale * rng.standard_normal((D, H)),
        "U": analysis.matrix_with_spectral_radius(H, rho, kind=matrix, rng=rng),
        "b": np.zeros(H),
    }
    x = rng.standard_normal((1, T, D))
    jacobians = analysis.rnn_step_jacobians(params, x)
    lags = np.arange(T + 1)
    hs, _ = rnn_forward(x, params)
    slope = 1.0 - hs**2  # tanh' along the run: 1 in the linear regime, < 1 when saturating
    return {
        "lags": lags,
        "norms": analysis.jacobian_product_norms(jacobians)[0],
        "reference": float(rho) ** lags,
        "measured_rho": float(np.max(np.abs(np.linalg.eigvals(params["U"])))),
        "mean_slope": float(np.mean(slope)),
        "rho": float(rho),
        "input_scale": float(input_scale),
        "matrix": matrix,
    }


def draw_spectral_radius(result: dict):
    """Gradient norm against lag (log scale) with the linear-regime reference ``rho**k``."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2), layout="constrained")
    viz.plot_gradient_norms(
        result["norms"],
        lags=result["lags"],
        labels=[f"tanh RNN, mean tanh' = {result['mean_slope']:.2f}"],
        reference={f"rho^k, rho = {result['rho']:.2f}": result["reference"]},
        ax=ax,
        title=(
            f"||dh_T/dh_(T-k)||, {result['matrix']} U with spectral radius "
            f"{result['measured_rho']:.2f}, input scale {result['input_scale']:.2f}"
        ),
    )
    ax.axhline(1.0, color="0.6", lw=0.8)
    return fig


def spectral_radius_explorer(
    rho: float = 0.9, input_scale: float = 0.0, matrix: str = "orthogonal", T: int = 60
) -> Explorer:
    """A slider for the spectral radius of U; shows how the gradient decays or grows with lag."""
    controls = {
        "rho": _float_slider("spectral radius rho", rho, 0.5, 1.5),
        "input_scale": _float_slider("input scale", input_scale, 0.0, 2.0),
        "matrix": _dropdown("recurrent matrix U", ("orthogonal", "normal"), matrix),
    }
    return Explorer(
        controls,
        lambda **v: spectral_radius_data(T=T, **v),
        draw_spectral_radius,
        title="Products of Jacobians diag(tanh') U^T",
    )


# --------------------------------------------------------------------------------------
# 3. gate explorer (lesson 03)
# --------------------------------------------------------------------------------------
SATURATED_BIAS = 1000.0  # sigmoid(+-1000) is exactly 1.0 / 0.0 in floating point
# Each preset sets a whole scene; "remember" starts from a stored value c0 so there is
# something to remember (with c0 = 0 it would keep a flat zero).
GATE_PRESETS = {
    "remember": {"i": 0.0, "f": 1.0, "o": 1.0, "c0": 0.8},
    "overwrite": {"i": 1.0, "f": 0.0, "o": 1.0, "c0": 0.0},
    "accumulate": {"i": 1.0, "f": 1.0, "o": 1.0, "c0": 0.0},
    "hide": {"i": 1.0, "f": 1.0, "o": 0.0, "c0": 0.0},
}


def gate_bias(value: float) -> float:
    """The bias that makes a sigmoid gate with zero weights output ``value`` in [0, 1].

    ``logit(value)`` inside (0, 1); at the ends ``-+SATURATED_BIAS``, where the
    sigmoid returns exactly 0.0 or 1.0.
    """
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"a gate value must lie in [0, 1]; got {value}")
    if value == 0.0:
        return -SATURATED_BIAS
    if value == 1.0:
        return SATURATED_BIAS
    return math.log(value) - math.log1p(-value)


def frozen_gate_params(i: float, f: float, o: float, input_weight: float = 1.0) -> dict:
    """Parameters of a one-cell LSTM (D = H = 1) whose gates are held at ``i``, ``f``, ``o``.

    All gate weights are zero, so each gate equals the sigmoid of its bias,
    whatever the input: a constant. The candidate sees ``input_weight * x_t``.

    Returns
    -------
    dict with ``W`` (1, 4), ``U`` (1, 4), ``b`` (4,) in the package layout [i, f, g, o].
    """
    W = np.zeros((1, 4))
    W[0, 2] = input_weight  # the candidate block g
    b = np.array([gate_bias(i), gate_bias(f), 0.0, gate_bias(o)])
    return {"W": W, "U": np.zeros((1, 4)), "b": b}


def fixed_gate_cell(x, i, f, o, c0=0.0, candidate="identity"):
    """The cell recurrence with constant gates, written out directly (no LSTM code).

    ``c_t = f c_{t-1} + i g(x_t)``, ``h_t = o tanh(c_t)``, with ``g`` the
    identity or tanh. Used to check :func:`gate_explorer_data`, which runs the
    real :func:`lstm_teach.lstm_forward`.

    Parameters
    ----------
    x : array (T,)

    Returns
    -------
    c, h : arrays (T,)
    """
    check_choice("candidate", candidate, ("identity", "tanh"))
    g = np.tanh(x) if candidate == "tanh" else np.asarray(x, dtype=float)
    c = iir.iir_filter(g, w=f, b=i, y0=c0)  # the cell is the IIR filter with w = f, b = i
    return c, o * np.tanh(c)


def gate_regime(i: float, f: float, o: float) -> str:
    """The name of the preset matching these gate values, or ``"custom"``."""
    for name, values in GATE_PRESETS.items():
        if (i, f, o) == (values["i"], values["f"], values["o"]):
            return name
    return "hide" if o == 0.0 else "custom"


def gate_explorer_data(
    i: float,
    f: float,
    o: float,
    signal: str = "pulse",
    c0: float = 0.0,
    candidate: str = "identity",
    n: int = 40,
) -> dict:
    """Run the package's ``lstm_forward`` on one cell with gates frozen at ``i``, ``f``, ``o``.

    The candidate activation is ``candidate`` ("identity" lets the cell see the
    input undistorted; "tanh" is the standard LSTM); the output activation is tanh.

    Returns
    -------
    dict with ``t`` (n,), ``x`` (n,) input, ``c`` (n,) cell state, ``h`` (n,) output,
    ``gates`` (dict of (n,) arrays for "i", "f", "g", "o", read from the LSTM cache),
    ``regime`` (str), ``i``, ``f``, ``o``, ``c0``, ``signal``.
    """
    check_choice("candidate", candidate, ("identity", "tanh"))
    x = make_signal(signal, n)
    config = LSTMConfig(activation=candidate)
    hs, cache = lstm_forward(
        x[None, :, None], frozen_gate_params(i, f, o), c0=np.full((1, 1), float(c0)), config=config
    )
    return {
        "t": np.arange(n),
        "x": x,
        "c": cache.c[0, :, 0].copy(),
        "h": hs[0, :, 0].copy(),
        "gates": {k: v[0, :, 0].copy() for k, v in cache.gates.items()},
        "regime": gate_regime(i, f, o),
        "i": float(i),
        "f": float(f),
        "o": float(o),
        "c0": float(c0),
        "signal": signal,
    }


def draw_gate_explorer(result: dict):
    """Two panels sharing the time axis: the input, then the cell state and output."""
    fig, (ax_in, ax_cell) = plt.subplots(
        2, 1, figsize=(8, 5.2), sharex=True, layout="constrained", height_ratios=(1, 2)
    )
    t = result["t"]
    ax_in.plot(t, result["x"], color="0.35", drawstyle="steps-mid")
    ax_in.set(title="input x_t", ylabel="x_t (input units)")
    ax_cell.plot(t, result["c"], lw=2.0, label="cell state c_t")
    ax_cell.plot(t, result["h"], "--", lw=2.0, label="output h_t = o·tanh(c_t)")
    ax_cell.axhline(0.0, color="0.6", lw=0.8)
    ax_cell.set(
        title="memory cell", xlabel="time step t", ylabel="state value (dimensionless)"
    )
    ax_cell.legend(fontsize="small", loc="upper left")
    fig.suptitle(
        f"gates fixed at i = {result['i']:.2f}, f = {result['f']:.2f}, o = {result['o']:.2f}"
        f"  ({result['regime']})"
    )
    return fig


def gate_explorer(
    i: float = 1.0,
    f: float = 0.9,
    o: float = 1.0,
    signal: str = "pulse",
    c0: float = 0.0,
    candidate: str = "identity",
    n: int = 40,
) -> Explorer:
    """Sliders hold the input, forget and output gates fixed; shows c_t and h_t over time.

    Preset buttons set the four regimes of :data:`GATE_PRESETS`: remember
    (f=1, i=0), overwrite (f=0, i=1), accumulate (f=1, i=1) and hide (o=0).
    """
    controls = {
        "i": _float_slider("input gate i", i, 0.0, 1.0),
        "f": _float_slider("forget gate f", f, 0.0, 1.0),
        "o": _float_slider("output gate o", o, 0.0, 1.0),
        "signal": _dropdown("input signal", SIGNALS, signal),
        "c0": _float_slider("initial cell c0", c0, -1.0, 1.0),
        "candidate": _dropdown("candidate g", ("identity", "tanh"), candidate),
    }
    return Explorer(
        controls,
        lambda **v: gate_explorer_data(n=n, **v),
        draw_gate_explorer,
        title="The gated memory cell with frozen gates",
        presets=GATE_PRESETS,
    )


# --------------------------------------------------------------------------------------
# 4. live gate monitor (lesson 06)
# --------------------------------------------------------------------------------------
# Watches a network while it trains: the loss so far, and the cell state and the input,
# forget and output gates of a few chosen units on a fixed probe sequence. The training
# loop (or Sequential.fit, through GateMonitor.callback()) reports every step; every
# `every` steps the monitor re-runs the probe and redraws. The picture goes into an
# ipywidgets Image as PNG bytes, so it refreshes while the training cell is still
# running, with any matplotlib backend, and a test can read it without a browser.
# (A live view of cell values and gate activations is a feature of graphical network
# tools; reading single cells of a character model follows Karpathy, Johnson & Fei-Fei
# 2015, "Visualizing and understanding recurrent networks".)
MONITOR_GATES = ("i", "f", "o")
MONITOR_LABELS = {"c": "cell state c_t", "i": "input gate i_t", "f": "forget gate f_t",
                  "o": "output gate o_t"}


def gate_monitor_data(cache, units, labels=None, step=None, loss_steps=(), losses=(),
                      val_steps=(), val_losses=()) -> dict:
    """What the gate monitor shows: chosen units of one probe run, plus the loss so far.

    Parameters
    ----------
    cache : LSTMCache, or a dict with ``"c"`` and ``"gates"``
        From ``lstm_forward`` on the probe sequence: ``c`` and each gate
        (B, T, H); batch item 0 is shown.
    units : sequence of int
        The units (cells) to follow, each in [0, H).
    labels : sequence of str, optional
        One label per probe step (e.g. the probe's characters), for the time axis.
    step : int, optional
        The training step the weights come from.
    loss_steps, losses : sequences of equal length
        Training loss by step.
    val_steps, val_losses : sequences of equal length
        Held-out loss by step.

    Returns
    -------
    dict with ``t`` (T,), ``labels`` (list of T str), ``units`` (list of int),
    ``c``, ``i``, ``f``, ``o`` (each (T, n_units) copies), ``step``, ``loss_steps``,
    ``losses``, ``val_steps``, ``val_losses`` (1-D float arrays).
    """
    if isinstance(cache, dict):
        c, gates = cache["c"], cache["gates"]
    else:
        c, gates = cache.c, cache.gates
    c = np.asarray(c)
    if c.ndim != 3:
        raise ValueError(f"the probe's cell states must have shape (B, T, H); got {c.shape}")
    T, H = c.shape[1], c.shape[2]
    units = [int(u) for u in np.atleast_1d(units)]
    if not units or any(not 0 <= u < H for u in units):
        raise ValueError(f"units must be a non-empty list of indices in [0, {H}); got {units}")
    if labels is None:
        labels = [str(t) for t in range(T)]
    labels = [str(s) for s in labels]
    if len(labels) != T:
        raise ValueError(f"labels must give one label per probe step ({T}); got {len(labels)}")
    result = {"t": np.arange(T), "labels": labels, "units": units, "step": step,
              "c": c[0][:, units].copy()}
    for name in MONITOR_GATES:
        result[name] = np.asarray(gates[name])[0][:, units].copy()
    for key, values in (("loss_steps", loss_steps), ("losses", losses),
                        ("val_steps", val_steps), ("val_losses", val_losses)):
        result[key] = np.asarray(values, dtype=float).reshape(-1)
    if result["loss_steps"].size != result["losses"].size:
        raise ValueError("loss_steps and losses must have the same length")
    if result["val_steps"].size != result["val_losses"].size:
        raise ValueError("val_steps and val_losses must have the same length")
    return result


def _show_char(label: str) -> str:
    """A visible stand-in for whitespace in tick labels."""
    return {" ": "␣", "\n": "⏎", "\t": "⇥"}.get(label, label)


def draw_gate_monitor(result: dict, reference_loss=None, title=None):
    """The loss curve on top, then c, i, f and o of the chosen units along the probe.

    Parameters
    ----------
    result : dict from :func:`gate_monitor_data`
    reference_loss : float, optional
        A horizontal line on the loss plot (e.g. the unigram entropy).
    title : str, optional

    Returns
    -------
    matplotlib Figure with five axes: the loss, then c, i, f, o (sharing the time axis,
    labelled with the probe's characters).
    """
    # Drawn for speed as well as clarity, since it is redrawn while training runs: a
    # fixed layout instead of a layout engine, and tick labels on the bottom panel only.
    fig = plt.figure(figsize=(9.5, 9.0))
    grid = fig.add_gridspec(5, 1, height_ratios=(1.3, 1, 1, 1, 1), hspace=0.5,
                            left=0.09, right=0.98, top=0.91, bottom=0.07)
    ax_loss = fig.add_subplot(grid[0])
    panels = [fig.add_subplot(grid[1])]
    panels += [fig.add_subplot(grid[k], sharex=panels[0]) for k in range(2, 5)]
    if result["losses"].size:
        ax_loss.plot(result["loss_steps"], result["losses"], lw=1.0, color="C0", alpha=0.8,
                     label="training loss (one batch)")
    if result["val_losses"].size:
        ax_loss.plot(result["val_steps"], result["val_losses"], "o-", ms=4, color="C3",
                     label="held-out loss")
    if reference_loss is not None:
        ax_loss.axhline(reference_loss, color="0.4", ls="--", lw=1.0,
                        label=f"reference {reference_loss:.2f}")
    ax_loss.set(title="loss so far", xlabel="training step",
                ylabel="cross-entropy\n(nats/char)")
    if ax_loss.get_legend_handles_labels()[0]:
        ax_loss.legend(fontsize="small", loc="upper right")
    t = result["t"]
    for ax, name in zip(panels, ("c", *MONITOR_GATES), strict=True):
        for k, unit in enumerate(result["units"]):
            ax.plot(t, result[name][:, k], lw=1.4, color=f"C{k % 10}", label=f"unit {unit}")
        if name == "c":
            ax.axhline(0.0, color="0.6", lw=0.8)
            ax.set_ylabel("c_t\n(dimensionless)")
        else:
            ax.set_ylim(-0.05, 1.05)
            ax.set_ylabel(f"{name}_t (0 to 1)")
        ax.set_title(MONITOR_LABELS[name], fontsize="medium", loc="left")
        ax.tick_params(labelbottom=False)
    bottom = panels[-1]
    bottom.set_xlim(t[0] - 0.5, t[-1] + 0.5)
    bottom.set_xticks(t)
    bottom.set_xticklabels([_show_char(s) for s in result["labels"]], fontsize=7)
    bottom.tick_params(labelbottom=True)
    bottom.set_xlabel("probe sequence, one tick per time step")
    panels[0].legend(fontsize="small", ncol=min(len(result["units"]), 6), loc="upper right")
    when = "initial weights" if result["step"] is None else f"after step {result['step']}"
    fig.suptitle(title or f"Live gate monitor: {when}")
    return fig


def figure_png(fig, dpi: int = 72) -> bytes:
    """The figure as PNG bytes (for an ``ipywidgets.Image``)."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


class GateMonitor(widgets.VBox):
    """A live view of the gates of a network while it trains.

    Parameters
    ----------
    probe : callable
        ``probe()`` runs the network's LSTM, *with its current weights*, on a
        fixed probe sequence and returns the ``LSTMCache`` (or a dict with
        ``"c"`` and ``"gates"``, each (B, T, H)). It must not change the
        network (use the functional ``lstm_forward``).
    units : sequence of int
        The cells to follow.
    labels : sequence of str, optional
        One label per probe step, e.g. ``list(probe_text)``.
    every : int
        Redraw every ``every`` training steps.
    reference_loss : float, optional
        Drawn as a dashed line on the loss plot.
    title : str, optional
        Heading above the picture.
    draw : bool
        False records and recomputes but skips drawing (faster, e.g. in tests).

    Attributes
    ----------
    result : dict
        The last :func:`gate_monitor_data` result.
    history : list of dict
        Every result, one per refresh, in order (the gates' trajectory).
    figure : matplotlib Figure or None
        The last figure (closed after rendering; still readable).
    image : ipywidgets.Image
        The rendered PNG.
    n_refreshes : int
    """

    def __init__(self, probe, units, labels=None, every: int = 10, reference_loss=None,
                 title: str = "Live gate monitor", draw: bool = True):
        super().__init__()
        if not callable(probe):
            raise TypeError(f"probe must be a callable returning an LSTMCache; got {probe!r}")
        self.probe = probe
        self.units = [int(u) for u in np.atleast_1d(units)]
        self.labels = None if labels is None else list(labels)
        self.every = check_positive_int("every", every)
        self.reference_loss = reference_loss
        self.draw = bool(draw)
        self.loss_steps: list[int] = []
        self.losses: list[float] = []
        self.val_steps: list[int] = []
        self.val_losses: list[float] = []
        self.result = None
        self.history: list[dict] = []
        self.figure = None
        self.n_refreshes = 0
        self.image = widgets.Image(format="png", layout={"width": "760px"})
        self.status = widgets.HTML()
        self.children = [widgets.HTML(f"<b>{title}</b>"), self.status, self.image]
        self.refresh(step=None)

    def record(self, step: int, loss=None, val_loss=None) -> None:
        """Remember the training and/or held-out loss at ``step`` (no redraw)."""
        step = int(step)
        if loss is not None:
            self.loss_steps.append(step)
            self.losses.append(float(loss))
        if val_loss is not None:
            self.val_steps.append(step)
            self.val_losses.append(float(val_loss))

    def update(self, step: int, loss=None, val_loss=None, force: bool = False) -> bool:
        """Record the losses of training step ``step``; redraw every ``every`` steps.

        Returns True if the monitor refreshed.
        """
        self.record(step, loss, val_loss)
        if force or int(step) % self.every == 0:
            self.refresh(int(step))
            return True
        return False

    def refresh(self, step=None) -> dict:
        """Run the probe now and redraw; returns the new result."""
        self.result = gate_monitor_data(
            self.probe(), self.units, self.labels, step,
            self.loss_steps, self.losses, self.val_steps, self.val_losses,
        )
        self.history.append(self.result)
        self.n_refreshes += 1
        last = f", last training loss {self.losses[-1]:.3f}" if self.losses else ""
        self.status.value = (
            f"step {step if step is not None else 0}{last}; refresh {self.n_refreshes}"
        )
        if self.draw:
            self.figure = draw_gate_monitor(self.result, self.reference_loss)
            self.image.value = figure_png(self.figure)
            plt.close(self.figure)
        return self.result

    def callback(self):
        """A :class:`lstm_teach.model.Callback` that feeds this monitor from ``Sequential.fit``.

        The step number is the optimizer's step count; ``val_loss`` (when
        ``fit`` has validation data) is recorded at the end of each epoch, and
        the monitor refreshes once more when training ends (unless it just did).
        """
        from .model import Callback

        monitor = self

        class GateMonitorCallback(Callback):
            def on_batch_end(self, batch, logs=None):
                monitor.update(self.model.optimizer.iterations, (logs or {}).get("loss"))

            def on_epoch_end(self, epoch, logs=None):
                if logs and "val_loss" in logs:
                    monitor.record(self.model.optimizer.iterations, val_loss=logs["val_loss"])

            def on_train_end(self, logs=None):
                step = self.model.optimizer.iterations
                if monitor.result is None or monitor.result["step"] != step:
                    monitor.refresh(step)  # show the final weights

        return GateMonitorCallback()
