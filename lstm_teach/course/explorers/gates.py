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
