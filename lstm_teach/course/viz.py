"""Matplotlib helpers for the lessons: filter responses, gates, cell states, gradient flow.

Every function draws on an ``ax`` (or ``fig``) you pass, or creates a new one,
and returns what it drew on, so a lesson can add to the plot and a test can
inspect the plotted data. Nothing here calls ``plt.show()``: in a notebook the
inline backend shows the figure at the end of the cell.

Each plot has a title, axis labels and units. Time is counted in steps
(the recurrence is discrete), gate activations are dimensionless numbers in
[0, 1], and signals are in the same arbitrary units as the input.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..core import iir
from ..core._checks import as_float_array, check_ndim

GATE_NAMES = ("i", "f", "g", "o")
GATE_LABELS = {
    "i": "input gate i",
    "f": "forget gate f",
    "g": "cell candidate g",
    "o": "output gate o",
}


def _axes(ax=None, figsize=(6.4, 3.6)):
    """Return ``(fig, ax)``: the given axes and its figure, or a fresh pair."""
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _as_list(values) -> list:
    arr = np.atleast_1d(np.asarray(values, dtype=float))
    check_ndim("w", arr, 1, "(n_filters,)")
    return list(arr)


def _pick_batch(name: str, arr, batch: int) -> np.ndarray:
    """Reduce a (B, T, H) array to (T, H) by taking one batch item; (T, H) and (T,) pass."""
    arr = as_float_array(name, arr)
    if arr.ndim == 3:
        if not -arr.shape[0] <= batch < arr.shape[0]:
            raise ValueError(
                f"batch must index the {arr.shape[0]} sequences of {name}; got {batch}"
            )
        arr = arr[batch]
    if arr.ndim == 1:
        arr = arr[:, None]
    check_ndim(name, arr, 2, "(B, T, H), (T, H) or (T,)")
    return arr


# --------------------------------------------------------------------------------------
# lesson 01: the IIR filter and the gamma memory
# --------------------------------------------------------------------------------------
def plot_impulse_response(w, n: int = 30, b: float = 1.0, ax=None, title=None):
    """Impulse response ``b * w**k`` of ``y_t = w y_{t-1} + b x_t``, one curve per ``w``.

    Parameters
    ----------
    w : float or sequence of floats
    n : int
        Number of samples shown.
    """
    fig, ax = _axes(ax)
    for w_k in _as_list(w):
        ax.plot(np.arange(n), iir.impulse_response(w_k, n, b), "o-", ms=3, label=f"w = {w_k:g}")
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set(
        title=title or "Impulse response: one pulse echoing through the loop",
        xlabel="time step n (steps after the pulse)",
        ylabel="output y_n (input units)",
    )
    ax.legend(fontsize="small")
    return ax


def plot_step_response(w, n: int = 30, b: float = 1.0, ax=None, title=None):
    """Step response ``b * (1 + w + ... + w**k)``, one curve per ``w``."""
    fig, ax = _axes(ax)
    for w_k in _as_list(w):
        ax.plot(np.arange(n), iir.step_response(w_k, n, b), "o-", ms=3, label=f"w = {w_k:g}")
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set(
        title=title or "Step response: the input switched on at n = 0",
        xlabel="time step n",
        ylabel="output y_n (input units)",
    )
    ax.legend(fontsize="small")
    return ax


def plot_signals(x, y, ax=None, title=None, labels=("input x_t", "output y_t")):
    """An input signal and the filter's output over time.

    Parameters
    ----------
    x, y : arrays of shape (T,)
    """
    x = as_float_array("x", x)
    y = as_float_array("y", y)
    fig, ax = _axes(ax)
    t = np.arange(len(x))
    ax.plot(t, x, color="0.55", lw=1.0, drawstyle="steps-mid", label=labels[0])
    ax.plot(t, y, "o-", ms=2.5, label=labels[1])
    ax.set(
        title=title or "Filtering a signal",
        xlabel="time step t",
        ylabel="amplitude (input units)",
    )
    ax.legend(fontsize="small")
    return ax


def plot_gamma_kernels(K: int, mu: float, n: int = 60, ax=None, title=None):
    """The impulse response of every tap of a gamma memory, with each tap's mean delay.

    The horizontal axis counts delays ``m = t + 1`` (see :func:`lstm_teach.iir.gamma_memory`).
    """
    fig, ax = _axes(ax)
    g = iir.gamma_impulse_response(K, mu, n)
    m = np.arange(1, n + 1)
    for k in range(1, K + 1):
        (line,) = ax.plot(m, g[:, k - 1], "o-", ms=2.5, label=f"tap {k}")
        ax.axvline(iir.gamma_mean_delay(k, mu), color=line.get_color(), ls=":", lw=1.0)
    ax.set(
        title=title or f"Gamma memory, K = {K}, mu = {mu:g}: depth K/mu = {K / mu:.4g} steps",
        xlabel="delay m (steps since the impulse); dotted: mean delay k/mu",
        ylabel="tap response (fraction of the impulse)",
    )
    ax.legend(fontsize="small")
    return ax


# --------------------------------------------------------------------------------------
# lessons 03+: gates and cell states
# --------------------------------------------------------------------------------------
def plot_gate_heatmap(gates, batch: int = 0, names=GATE_NAMES, fig=None, title=None):
    """Heatmaps of gate activations over time, one panel per gate.

    Parameters
    ----------
    gates : dict of name -> array (B, T, H), or an object with a ``.gates`` dict
        (an ``LSTMCache``), as produced by ``lstm_forward``.
    batch : int
        Which sequence of the batch to show.
    names : sequence of str
        Which gates to show, in order.

    Returns
    -------
    fig : matplotlib Figure, with one image per gate (rows: units, columns: time).
    """
    gates = getattr(gates, "gates", gates)
    missing = [k for k in names if k not in gates]
    if missing:
        raise ValueError(f"gates has no entry for {missing}; it has {sorted(gates)}")
    if fig is None:
        fig = plt.figure(figsize=(7.0, 1.6 + 1.3 * len(names)), layout="constrained")
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    for ax, name in zip(axes, names, strict=True):
        values = _pick_batch(f"gates[{name!r}]", gates[name], batch)
        squashing = name == "g"  # the candidate lives in (-1, 1), the gates in (0, 1)
        image = ax.imshow(
            values.T,
            aspect="auto",
            origin="lower",
            interpolation="nearest",
            cmap="RdBu_r" if squashing else "viridis",
            vmin=-1.0 if squashing else 0.0,
            vmax=1.0,
        )
        ax.set_ylabel(f"{name}: unit")
        ax.set_title(GATE_LABELS.get(name, name), fontsize="medium", loc="left")
        fig.colorbar(image, ax=ax, label="activation", pad=0.01)
    axes[-1].set_xlabel("time step t")
    fig.suptitle(title or "Gate activations over time (dimensionless)")
    return fig


def plot_cell_state(c, batch: int = 0, units=None, h=None, ax=None, title=None):
    """Traces of the cell state ``c_t`` (solid) and optionally the output ``h_t`` (dashed).

    Parameters
    ----------
    c : array (B, T, H), (T, H) or (T,)
    h : array of the same shape, optional
    units : sequence of int, optional
        Which cells to draw (default: all, up to 8).
    """
    c = _pick_batch("c", c, batch)
    units = list(range(min(c.shape[1], 8))) if units is None else list(units)
    hh = None if h is None else _pick_batch("h", h, batch)
    fig, ax = _axes(ax)
    t = np.arange(c.shape[0])
    for u in units:
        (line,) = ax.plot(t, c[:, u], lw=1.6, label=f"c (unit {u})")
        if hh is not None:
            ax.plot(t, hh[:, u], ls="--", lw=1.2, color=line.get_color(), label=f"h (unit {u})")
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set(
        title=title or "Cell state over time",
        xlabel="time step t",
        ylabel="state value (dimensionless)",
    )
    ax.legend(fontsize="small", ncol=2)
    return ax


# --------------------------------------------------------------------------------------
# lessons 01, 02, 05: how gradients travel back in time
# --------------------------------------------------------------------------------------
def plot_gradient_norms(norms, lags=None, labels=None, reference=None, ax=None, title=None):
    """Gradient norm against lag, on a logarithmic scale.

    Parameters
    ----------
    norms : array (L,) or (n_curves, L)
        ``norms[..., k]`` is e.g. ``||dh_T / dh_{T-k}||``.
    lags : array (L,), optional
        Default ``0, 1, ..., L-1``.
    labels : sequence of str, optional
        One per curve.
    reference : dict of label -> array (L,), optional
        Extra dashed curves, e.g. ``{"rho**k": rho ** lags}``.
    """
    norms = np.atleast_2d(as_float_array("norms", norms))
    check_ndim("norms", norms, 2, "(L,) or (n_curves, L)")
    lags = np.arange(norms.shape[1]) if lags is None else as_float_array("lags", lags)
    labels = labels or [None] * len(norms)
    fig, ax = _axes(ax)
    for row, label in zip(norms, labels, strict=True):
        ax.plot(lags, row, lw=1.8, label=label)
    for label, values in (reference or {}).items():
        ax.plot(lags, values, "k--", lw=1.0, label=label)
    ax.set_yscale("log")
    ax.set(
        title=title or "How far back does the gradient reach?",
        xlabel="lag k = T - t (time steps)",
        ylabel="gradient norm (log scale)",
    )
    if any(label is not None for label in labels) or reference:
        ax.legend(fontsize="small")
    return ax
