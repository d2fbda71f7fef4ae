"""The gamma-memory explorer (lesson 01): ``K`` leaky integrators in a chain, each with
feedback ``1 - mu`` (de Vries & Principe 1992), computed and drawn without ipywidgets."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ...core import iir
from ...core._checks import check_positive_int
from .signals import make_signal


def gamma_explorer_data(K: int, mu: float, signal: str = "impulse", n: int = 60) -> dict:
    """Everything the gamma-memory explorer shows, for ``K`` taps with parameter ``mu``.

    Parameters
    ----------
    K : int
        Number of taps (leaky integrators in the chain), at least 1.
    mu : float in (0, 2)
        Input weight of every stage; its feedback is ``1 - mu``.
    signal : str
        Input for the right-hand panel, one of :data:`lstm_teach.course.explorers.SIGNALS`.
    n : int
        Number of time steps.

    Returns
    -------
    dict with
        ``delays`` (n,) the delays m = 1..n; ``kernels`` (n, K) the impulse response of
        every tap (``kernels[m - 1, k - 1]`` is the gamma kernel ``g_k(m)``);
        ``mean_delays`` (K,) ``k / mu``; ``spreads`` (K,) the standard deviation of each
        kernel, ``sqrt(k (1 - mu)) / mu`` (NaN for ``mu > 1``, where the kernels
        alternate in sign); ``depth`` ``K / mu`` and ``resolution`` ``mu``;
        ``t`` (n,), ``x`` (n,) the chosen input and ``taps`` (n, K) the memory's taps on it;
        ``K``, ``mu``, ``signal``.
    """
    K = check_positive_int("K", K)
    n = check_positive_int("n", n)
    kernels = iir.gamma_impulse_response(K, mu, n)          # validates mu in (0, 2)
    x = make_signal(signal, n)
    k = np.arange(1, K + 1)
    mu = float(mu)
    return {
        "delays": np.arange(1, n + 1),
        "kernels": kernels,
        "mean_delays": k / mu,
        # the kernel of tap k is a negative binomial in m: variance k (1 - mu) / mu**2
        "spreads": np.sqrt(k * (1.0 - mu)) / mu if mu <= 1 else np.full(K, np.nan),
        "depth": iir.memory_depth(K, mu),
        "resolution": mu,
        "t": np.arange(n),
        "x": x,
        "taps": iir.gamma_memory(x, K, mu),
        "K": K,
        "mu": mu,
        "signal": signal,
    }


def draw_gamma_explorer(result: dict):
    """Two panels: every tap's impulse response (the gamma kernels, with their mean delays),
    and the taps' response to the chosen input."""
    fig, (ax_kernel, ax_taps) = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
    K, mu = result["K"], result["mu"]
    colors = plt.cm.viridis(np.linspace(0.0, 0.85, K))
    for k in range(K):
        ax_kernel.plot(result["delays"], result["kernels"][:, k], "o-", ms=2.5, color=colors[k],
                       label=f"tap {k + 1}")
        if result["mean_delays"][k] <= result["delays"][-1]:
            ax_kernel.axvline(result["mean_delays"][k], color=colors[k], lw=0.8, ls=":")
    ax_kernel.axhline(0.0, color="0.6", lw=0.8)
    ax_kernel.set(title="Impulse response of each tap (dotted: mean delay k/mu)",
                  xlabel="delay m (steps)", ylabel="g_k(m)")
    ax_taps.plot(result["t"], result["x"], color="0.4", lw=2, label="input x_t")
    for k in range(K):
        ax_taps.plot(result["t"], result["taps"][:, k], color=colors[k], label=f"tap {k + 1}")
    ax_taps.set(title=f"The taps on input '{result['signal']}'", xlabel="time step t",
                ylabel="value (input units)")
    handles, labels = ax_taps.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", fontsize="small", frameon=False)
    fig.suptitle(f"Gamma memory, K = {K} taps, mu = {mu:.2f}: depth K/mu = {result['depth']:.1f} "
                 f"steps, resolution mu = {result['resolution']:.2f}")
    return fig
