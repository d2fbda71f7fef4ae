"""The live gate monitor's numerics and picture (lesson 06), without ipywidgets."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

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
