"""The IIR explorer (lesson 01): a one-tap recurrence ``y_t = w y_{t-1} + b x_t`` on a test
signal, computed and drawn without ipywidgets."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ...core import iir
from .. import viz
from .signals import make_signal


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
