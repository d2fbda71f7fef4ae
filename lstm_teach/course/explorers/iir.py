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
        ``lags`` (n,) and ``gradient`` (n,): ``|dy_T / dy_(T-k)| = |w|**k`` for
        ``k = lags``, the size of the error signal that reaches ``k`` steps back
        (the impulse response read backwards, lesson 01 section 6);
        ``w``, ``b``, ``signal``.
    """
    x = make_signal(signal, n)
    lags = np.arange(n)
    return {
        "t": np.arange(n),
        "x": x,
        "y": iir.iir_filter(x, w, b),
        "impulse": iir.impulse_response(w, n, b),
        "step": iir.step_response(w, n, b),
        "pole": iir.pole(w),
        "stability": iir.classify_stability(w),
        "lags": lags,
        "gradient": np.abs(float(w)) ** lags,
        "w": float(w),
        "b": float(b),
        "signal": signal,
    }


GRADIENT_FLOOR = 1e-12  # |w|**k below this is drawn at the floor (log axis; w = 0 gives 0)


def draw_iir_explorer(result: dict):
    """Five panels: the filtered signal, the pole in the z-plane, the gradient ``|w|**k``,
    and the impulse and step responses."""
    fig, axes = plt.subplot_mosaic(
        [["sig", "sig", "pole"], ["imp", "step", "grad"]], figsize=(12, 6.6), layout="constrained"
    )
    t = result["t"]
    viz.plot_signals(result["x"], result["y"], ax=axes["sig"], title=f"Input '{result['signal']}'")
    axes["imp"].plot(t, result["impulse"], "o-", ms=3)
    axes["imp"].set(title="Impulse response b·w^n", xlabel="time step n",
                    ylabel="y_n (input units)")
    axes["step"].plot(t, result["step"], "o-", ms=3, color="C2")
    axes["step"].set(title="Step response", xlabel="time step n", ylabel="y_n (input units)")
    for name in ("imp", "step"):
        axes[name].axhline(0.0, color="0.6", lw=0.8)
    # the gradient: what reaches k steps back is scaled by |w|**k (vanishes, explodes or stays)
    ax_grad = axes["grad"]
    ax_grad.semilogy(result["lags"], np.maximum(result["gradient"], GRADIENT_FLOOR), "o-", ms=3,
                     color="C3")
    ax_grad.axhline(1.0, color="0.6", lw=0.8, ls=":")
    ax_grad.set(title="Gradient k steps back: |w|^k", xlabel="lag k (steps)",
                ylabel="|dy_T / dy_(T-k)|")
    # the z-plane: stable exactly when the pole sits inside the unit circle; the legend goes
    # below the axes so that it can never cover the title or the circle
    ax_pole = axes["pole"]
    angle = np.linspace(0, 2 * np.pi, 200)
    ax_pole.plot(np.cos(angle), np.sin(angle), color="0.6", lw=1.0,
                 label="|z| = 1 (stability border)")
    ax_pole.plot([result["pole"]], [0.0], "x", ms=12, mew=3, color="C3", label="pole z = w")
    ax_pole.plot([0.0], [0.0], "o", ms=8, mfc="none", color="C0", label="zero z = 0")
    ax_pole.set(title="z-plane", xlabel="Re z", ylabel="Im z", xlim=(-1.5, 1.5), ylim=(-1.5, 1.5),
                aspect="equal")
    ax_pole.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=1,
                   frameon=False)
    fig.suptitle(
        f"y_t = w·y_(t-1) + b·x_t with w = {result['w']:.2f}, b = {result['b']:.2f}: "
        f"{result['stability']}"
    )
    return fig
