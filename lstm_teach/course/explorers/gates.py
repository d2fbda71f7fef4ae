"""The gate explorer (lesson 03): one LSTM cell with its gates held at chosen values,
computed and drawn without ipywidgets."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from ...core import iir
from ...core._checks import check_choice
from ...core.lstm_config import LSTMConfig
from ...kernels.lstm import lstm_forward
from .. import diagrams
from .signals import make_signal

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


SCHEDULES = ("constant", "write, hold, read, reset")


def gate_schedule(schedule: str, i: float, f: float, o: float, n: int) -> dict:
    """The gate values at every step, ``{"i", "f", "o"}`` -> (n,) arrays.

    ``"constant"`` holds each gate at its value. ``"write, hold, read, reset"``
    splits the steps into four phases: write (input gate at ``i``, output gate
    closed), hold (input closed, output closed), read (output gate at ``o``) and
    reset (forget gate 0: the memory is wiped). The forget gate is ``f`` in the
    first three phases.
    """
    check_choice("schedule", schedule, SCHEDULES)
    values = {k: np.full(n, float(v)) for k, v in (("i", i), ("f", f), ("o", o))}
    if schedule == "constant":
        return values
    phase = np.minimum(4 * np.arange(n) // max(n, 1), 3)      # 0 write, 1 hold, 2 read, 3 reset
    values["i"][phase != 0] = 0.0
    values["o"][phase != 2] = 0.0
    values["f"][phase == 3] = 0.0
    return values


def gate_explorer_data(
    i: float,
    f: float,
    o: float,
    signal: str = "pulse",
    c0: float = 0.0,
    candidate: str = "identity",
    n: int = 40,
    schedule: str = "constant",
) -> dict:
    """Run the package's ``lstm_forward`` on one cell whose gates follow chosen values.

    With ``schedule="constant"`` the gates are frozen at ``i``, ``f``, ``o``
    (zero weights, a bias per gate). With a time-varying schedule
    (:func:`gate_schedule`) each gate's value at step t reaches its
    pre-activation through an extra input channel carrying ``logit(value_t)``.
    Either way the numbers come from the real LSTM code. The candidate
    activation is ``candidate`` ("identity" lets the cell see the input
    undistorted; "tanh" is the standard LSTM); the output activation is tanh.

    Returns
    -------
    dict with ``t`` (n,), ``x`` (n,) input, ``c`` (n,) cell state, ``h`` (n,) output,
    ``gates`` (dict of (n,) arrays for "i", "f", "g", "o", read from the LSTM cache),
    ``regime`` (str), ``i``, ``f``, ``o``, ``c0``, ``signal``, ``schedule`` and
    ``half_life`` (steps for the memory to halve with forget gate ``f``).
    """
    check_choice("candidate", candidate, ("identity", "tanh"))
    x = make_signal(signal, n)
    config = LSTMConfig(activation=candidate)
    c0_arr = np.full((1, 1), float(c0))
    if schedule == "constant":
        hs, cache = lstm_forward(x[None, :, None], frozen_gate_params(i, f, o), c0=c0_arr,
                                 config=config)
    else:
        values = gate_schedule(schedule, i, f, o, n)
        # channel 0 feeds the candidate; channels 1-3 carry logit(i_t), logit(f_t), logit(o_t)
        controls = [np.vectorize(gate_bias)(values[k]) for k in "ifo"]
        inputs = np.stack([x, *controls], axis=-1)[None]              # (1, n, 4)
        W = np.zeros((4, 4))
        W[0, 2], W[1, 0], W[2, 1], W[3, 3] = 1.0, 1.0, 1.0, 1.0
        params = {"W": W, "U": np.zeros((1, 4)), "b": np.zeros(4)}
        hs, cache = lstm_forward(inputs, params, c0=c0_arr, config=config)
    return {
        "t": np.arange(n),
        "x": x,
        "c": cache.c[0, :, 0].copy(),
        "h": hs[0, :, 0].copy(),
        "gates": {k: v[0, :, 0].copy() for k, v in cache.gates.items()},
        "regime": gate_regime(i, f, o) if schedule == "constant" else schedule,
        "i": float(i),
        "f": float(f),
        "o": float(o),
        "c0": float(c0),
        "signal": signal,
        "schedule": schedule,
        "half_life": _half_life(f),
    }


def _half_life(f: float) -> float:
    """``ln 2 / -ln f``: the steps after which the memory has halved (inf for f = 1)."""
    if f >= 1.0:
        return math.inf
    if f <= 0.0:
        return 0.0
    return math.log(2.0) / -math.log(f)


def draw_gate_explorer(result: dict, fixed_ylim: bool | None = None):
    """The traces (input; cell state and output) beside the cell diagram with its valves.

    ``fixed_ylim`` (default: ``result["fixed_ylim"]``, else False) keeps the
    cell panel's y-axis at [-4, 4], so that moving a slider shows a change of
    size rather than a change of scale.
    """
    if fixed_ylim is None:
        fixed_ylim = bool(result.get("fixed_ylim", False))
    fig = plt.figure(figsize=(13, 5.2), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=(1.15, 1))
    ax_in, ax_cell = left.subplots(2, 1, sharex=True, height_ratios=(1, 2))
    t = result["t"]
    ax_in.plot(t, result["x"], color="0.35", drawstyle="steps-mid")
    ax_in.set(title="input x_t", ylabel="x_t")
    ax_cell.plot(t, result["c"], lw=2.0, label="cell state c_t")
    ax_cell.plot(t, result["h"], "--", lw=2.0, label="output h_t = o·tanh(c_t)")
    if result.get("schedule", "constant") != "constant":
        for name in "ifo":
            ax_cell.plot(t, result["gates"][name], lw=1, alpha=0.8, color=diagrams.COLORS[name],
                         label=f"gate {name}_t")
    ax_cell.axhline(0.0, color="0.6", lw=0.8)
    ax_cell.set(title="memory cell", xlabel="time step t", ylabel="value")
    if fixed_ylim:
        ax_cell.set_ylim(-4.0, 4.0)
    ax_cell.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3,
                   frameon=False)                       # below the axes, off the data
    hl = result.get("half_life", _half_life(result["f"]))
    memory = "never fades" if math.isinf(hl) else f"halves every {hl:.1f} steps"
    gates = {k: result[k] for k in "ifo"}
    diagrams.lstm_cell(gates=gates, ax=right.subplots(), caption=False,
                       title=f"f = {result['f']:.3f}: the memory {memory}")
    fig.suptitle(
        f"gates i = {result['i']:.2f}, f = {result['f']:.3f}, o = {result['o']:.2f}"
        f"  ({result['regime']})"
    )
    return fig
