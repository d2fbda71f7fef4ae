"""Diagrams of the LSTM cell, the unrolled RNN and the carousel, drawn by code.

Every picture a lesson shows before its algebra is drawn here with matplotlib:
no image files, so a test can render each one and compare pixels, and a widget
can redraw it as the learner moves a slider.

* :func:`lstm_cell` draws one LSTM cell: ``x_t`` and ``h_{t-1}`` feed the four
  gates, the gates act on the cell state that runs along the top (the
  carousel), and the output ``h_t`` leaves on the right. ``focus`` highlights
  one part, so a lesson can show the cell one gate at a time; ``gates`` draws
  each valve's opening in proportion to a gate value (a live diagram).
* :func:`rnn_unrolled` draws a simple RNN unrolled in time, with the forward
  arrows and the backward (error) arrows of backpropagation through time.
* :func:`carousel_paths` draws the ways an error at ``c_t`` reaches
  ``c_{t-1}``: the carousel itself and the detours through the gates (and,
  optionally, the peepholes).

Each function draws on an ``ax`` you pass, or on a fresh figure, and returns
the :class:`matplotlib.figure.Figure`. Nothing here calls ``plt.show()``.
This module needs only numpy and matplotlib.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

# one colour per part, used by every diagram (and by the explorers beside them)
COLORS = {
    "i": "#2a9d3c",   # input gate: green
    "f": "#e07b00",   # forget gate: orange
    "g": "#7b4fb8",   # candidate: purple
    "o": "#c2185b",   # output gate: magenta
    "c": "#1f5fbf",   # cell state, the carousel: blue
    "h": "#444444",   # hidden state and inputs: dark grey
    "error": "#d62728",
}
PARTS = ("i", "f", "g", "o", "c")
PART_NAMES = {
    "i": "input gate",
    "f": "forget gate",
    "g": "cell candidate",
    "o": "output gate",
    "c": "cell state (the carousel)",
}
PART_CAPTIONS = {
    None: r"$c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t)$",
    "f": r"forget gate  $f_t = \sigma(x_t W_f + h_{t-1} U_f + b_f)$: how much of $c_{t-1}$ to keep",
    "i": r"input gate  $i_t = \sigma(x_t W_i + h_{t-1} U_i + b_i)$: how much of $g_t$ to write",
    "g": r"candidate  $g_t = \tanh(x_t W_g + h_{t-1} U_g + b_g)$:"
         r" what could be written, in $(-1, 1)$",
    "o": r"output gate  $o_t = \sigma(x_t W_o + h_{t-1} U_o + b_o)$:"
         r" how much of $\tanh(c_t)$ to show",
    "c": r"the carousel  $c_t = f_t\, c_{t-1} + i_t\, g_t$: the memory, a loop with no squashing",
}
_DIM_ALPHA = 0.16          # how faint the parts outside the focus are drawn


def _new_axes(ax, figsize):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    else:
        fig = ax.figure
    ax.set_axis_off()
    ax.set_aspect("equal")
    return fig, ax


def _check_focus(focus):
    if focus is not None and focus not in PARTS:
        raise ValueError(f"focus must be None or one of {PARTS}; got {focus!r}")


def _check_gates(gates) -> dict:
    """Validate a gate-value dict: i, f, o in [0, 1]; g in [-1, 1]; any subset of them."""
    if gates is None:
        return {}
    if not isinstance(gates, dict):
        raise TypeError(f"gates must be a dict such as {{'f': 0.9}}; got {type(gates).__name__}")
    checked = {}
    for name, value in gates.items():
        if name not in ("i", "f", "g", "o"):
            raise ValueError(f"gates keys must be among 'i', 'f', 'g', 'o'; got {name!r}")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"gates[{name!r}] must be a number; got {value!r}") from None
        low = -1.0 if name == "g" else 0.0
        if not low <= value <= 1.0 or np.isnan(value):
            raise ValueError(f"gates[{name!r}] must lie in [{low:g}, 1]; got {value}")
        checked[name] = value
    return checked


class _Sketch:
    """Draws shapes on one axes and remembers which part of the diagram each belongs to."""

    def __init__(self, ax):
        self.ax = ax
        self.parts: dict[str, list] = {}

    def _keep(self, part, artist):
        self.parts.setdefault(part, []).append(artist)
        return artist

    def line(self, xs, ys, part, color, lw=2.0, alpha=1.0, ls="-", zorder=2):
        (artist,) = self.ax.plot(xs, ys, color=color, lw=lw, alpha=alpha, ls=ls,
                                 solid_capstyle="round", zorder=zorder)
        return self._keep(part, artist)

    def arrow(self, start, end, part, color, lw=2.0, alpha=1.0, ls="-", rad=0.0,
              head=12, zorder=3):
        artist = FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=head, color=color,
                                 lw=lw, alpha=alpha, ls=ls, zorder=zorder, shrinkA=0, shrinkB=0,
                                 connectionstyle=f"arc3,rad={rad}")
        self.ax.add_patch(artist)
        return self._keep(part, artist)

    def box(self, center, size, part, face, edge, text="", fontsize=11, text_color="white",
            lw=1.5, alpha=1.0, zorder=4):
        (x, y), (w, h) = center, size
        artist = FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                                boxstyle="round,pad=0.02,rounding_size=0.12",
                                fc=face, ec=edge, lw=lw, alpha=alpha, zorder=zorder)
        self.ax.add_patch(artist)
        self._keep(part, artist)
        if text:
            self.text(center, text, part, color=text_color, fontsize=fontsize, zorder=zorder + 1)
        return artist

    def node(self, center, symbol, part, color, radius=0.24, zorder=5):
        artist = Circle(center, radius, fc="white", ec=color, lw=2.0, zorder=zorder)
        self.ax.add_patch(artist)
        self._keep(part, artist)
        self.text(center, symbol, part, color=color, fontsize=13, weight="bold", zorder=zorder + 1)
        return artist

    def text(self, xy, s, part, color="black", fontsize=11, ha="center", va="center",
             zorder=6, **kwargs):
        artist = self.ax.text(*xy, s, color=color, fontsize=fontsize, ha=ha, va=va,
                              zorder=zorder, **kwargs)
        return self._keep(part, artist)

    def gauge(self, center, value, part, color, signed=False, label=""):
        """A small vertical bar filled in proportion to a gate value (the valve's opening)."""
        x, y = center
        width, height = 0.22, 0.9
        bottom = y - height / 2
        self._keep(part, self.ax.add_patch(Rectangle((x - width / 2, bottom), width, height,
                                                     fc="white", ec="0.45", lw=1.0, zorder=4)))
        if signed:   # the candidate: filled up or down from the middle
            mid = bottom + height / 2
            fill = Rectangle((x - width / 2, min(mid, mid + value * height / 2)), width,
                             abs(value) * height / 2, fc=color, ec="none", zorder=5)
        else:
            fill = Rectangle((x - width / 2, bottom), width, value * height, fc=color,
                             ec="none", zorder=5)
        self._keep(part, self.ax.add_patch(fill))
        self.text((x, y + height / 2 + 0.2), label or f"{value:.2f}", part, color=color,
                  fontsize=9, weight="bold")

    def dim_all_but(self, focus):
        """Fade every part except ``focus`` (and the neutral wiring) to a light trace."""
        for part, artists in self.parts.items():
            if part == focus:
                continue
            for artist in artists:
                artist.set_alpha(_DIM_ALPHA * (artist.get_alpha() or 1.0))


def _opening(value, low=0.12):
    """Map a valve opening in [0, 1] to a visible scale: fully closed still shows a trace."""
    return low + (1 - low) * value


def lstm_cell(focus=None, gates=None, ax=None, title=None, caption=True, figsize=(8.6, 5.2)):
    """Draw one LSTM cell: inputs, the four gates, the carousel and the output.

    ``x_t`` and ``h_{t-1}`` join on a bus along the bottom and feed all four
    blocks (forget gate ``f``, input gate ``i``, candidate ``g``, output gate
    ``o``). The cell state runs along the top from ``c_{t-1}`` to ``c_t``:
    the forget gate scales it (x), the input gate's share of the candidate is
    added (+), and ``tanh(c_t)``, scaled by the output gate, leaves as ``h_t``.

    Parameters
    ----------
    focus : {None, "i", "f", "g", "o", "c"}
        Highlight one part and fade the rest, for a step-by-step series.
        ``"c"`` highlights the carousel (the cell-state path).
    gates : dict, optional
        Gate values, any of ``{"i": ..., "f": ..., "o": ...}`` in [0, 1] and
        ``"g"`` in [-1, 1]. Each given value is drawn as a gauge beside its
        block, and the flow it controls gets a width and opacity in proportion:
        ``f`` the carousel after the forget valve, ``i`` the write into the
        cell, ``o`` the output ``h_t``. Missing values draw an open valve.
    ax : matplotlib Axes, optional
        Draw here instead of on a new figure.
    title : str, optional
        A title above the diagram.
    caption : bool
        Write the equation of the focused part (or the cell update) below.
    figsize : (float, float)
        Size of a new figure, in inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_focus(focus)
    values = _check_gates(gates)
    fig, ax = _new_axes(ax, figsize)
    d = _Sketch(ax)
    dark, c_col = COLORS["h"], COLORS["c"]
    f_open = _opening(values.get("f", 1.0))
    i_open = _opening(values.get("i", 1.0))
    o_open = _opening(values.get("o", 1.0))
    g_open = _opening(abs(values.get("g", 1.0)))

    # the cell's body
    body = FancyBboxPatch((0.9, 0.75), 10.1, 5.35, boxstyle="round,pad=0.02,rounding_size=0.35",
                          fc="#f4f6fa", ec="0.6", lw=1.2, zorder=0)
    ax.add_patch(body)

    # inputs: x_t from below, h_{t-1} from the left, joined on a bus under the gates
    y_bus, y_gate, y_top = 1.25, 2.35, 5.3
    xs = {"f": 3.0, "i": 5.0, "g": 6.6, "o": 8.3}
    d.arrow((0.0, y_bus), (1.8, y_bus), "h", dark, lw=2)
    d.text((-0.05, y_bus + 0.32), r"$h_{t-1}$", "h", color=dark, fontsize=13, ha="left")
    d.arrow((1.8, 0.0), (1.8, y_bus), "h", dark, lw=2)
    d.text((2.05, 0.18), r"$x_t$", "h", color=dark, fontsize=13, ha="left")
    d.line([1.8, xs["o"]], [y_bus, y_bus], "h", dark, lw=2.4)
    ax.add_patch(Circle((1.8, y_bus), 0.07, color=dark, zorder=5))
    d.text((1.95, y_bus - 0.28), r"$[x_t,\ h_{t-1}]$", "h", color=dark, fontsize=9, ha="left")

    # the four blocks, each a small layer reading the bus
    labels = {"f": (r"$\sigma$", "forget  f"), "i": (r"$\sigma$", "input  i"),
              "g": (r"$\tanh$", "candidate  g"), "o": (r"$\sigma$", "output  o")}
    for name, x in xs.items():
        d.line([x, x], [y_bus, y_gate - 0.32], name, dark, lw=1.6)
        d.box((x, y_gate), (1.0, 0.62), name, COLORS[name], COLORS[name], labels[name][0],
              fontsize=13)
        d.text((x, y_gate - 0.52), labels[name][1], name, color=COLORS[name], fontsize=9.5,
               weight="bold", bbox=dict(fc="#f4f6fa", ec="none", pad=0.5))
        if name in values:
            d.gauge((x + 0.68, y_gate + 0.05), values[name], name, COLORS[name],
                    signed=(name == "g"))

    # the carousel along the top: c_{t-1} -> (x f) -> (+ i g) -> c_t
    x_times, x_plus, x_tanh = xs["f"], 5.8, 9.6
    lw_c = 4.5
    d.line([0.0, x_times - 0.24], [y_top, y_top], "c", c_col, lw=lw_c)
    d.text((-0.05, y_top + 0.38), r"$c_{t-1}$", "c", color=c_col, fontsize=13, ha="left")
    d.line([x_times + 0.24, x_plus - 0.24], [y_top, y_top], "c", c_col, lw=lw_c * f_open,
           alpha=f_open)
    d.arrow((x_plus + 0.24, y_top), (12.0, y_top), "c", c_col, lw=lw_c, head=18)
    d.text((11.95, y_top + 0.38), r"$c_t$", "c", color=c_col, fontsize=13, ha="right")
    d.node((x_times, y_top), r"$\times$", "c", c_col)
    d.node((x_plus, y_top), "+", "c", c_col)
    d.text((6.9, y_top + 0.42), "the carousel: no weight, no squashing", "c", color=c_col,
           fontsize=9, style="italic")

    # forget gate -> the x on the carousel
    d.arrow((x_times, y_gate + 0.32), (x_times, y_top - 0.25), "f", COLORS["f"],
            lw=1.0 + 2.5 * f_open, alpha=f_open)
    d.text((x_times - 0.12, 3.9), r"$f_t$", "f", color=COLORS["f"], fontsize=12, ha="right")

    # input gate and candidate -> their product -> the + on the carousel
    y_write = 3.75
    d.node((x_plus, y_write), r"$\times$", "i", COLORS["i"], radius=0.22)
    d.arrow((xs["i"], y_gate + 0.32), (x_plus - 0.17, y_write - 0.15), "i", COLORS["i"],
            lw=1.0 + 2.5 * i_open, alpha=i_open, rad=-0.25)
    d.arrow((xs["g"], y_gate + 0.32), (x_plus + 0.17, y_write - 0.15), "g", COLORS["g"],
            lw=1.0 + 2.5 * g_open, alpha=g_open, rad=0.25)
    d.arrow((x_plus, y_write + 0.22), (x_plus, y_top - 0.25), "i", COLORS["i"],
            lw=1.0 + 2.5 * i_open * g_open, alpha=i_open)
    d.text((x_plus + 0.12, 4.55), r"$i_t\, g_t$", "i", color=COLORS["i"], fontsize=11, ha="left")
    d.text((xs["i"] - 0.25, 3.05), r"$i_t$", "i", color=COLORS["i"], fontsize=12, ha="right")
    d.text((xs["g"] - 0.05, 3.45), r"$g_t$", "g", color=COLORS["g"], fontsize=12, ha="left")

    # the output: tanh(c_t) scaled by o_t leaves as h_t
    y_out = 3.3
    d.line([x_tanh, x_tanh], [y_top, 4.65], "o", c_col, lw=2)
    d.box((x_tanh, 4.35), (0.85, 0.5), "o", "white", COLORS["o"], r"$\tanh$", fontsize=11,
          text_color=COLORS["o"])
    d.line([x_tanh, x_tanh], [4.1, y_out + 0.24], "o", COLORS["o"], lw=2)
    d.node((x_tanh, y_out), r"$\times$", "o", COLORS["o"], radius=0.22)
    d.arrow((xs["o"], y_gate + 0.32), (x_tanh - 0.22, y_out), "o", COLORS["o"],
            lw=1.0 + 2.5 * o_open, alpha=o_open, rad=-0.3)
    d.arrow((x_tanh + 0.22, y_out), (12.0, y_out), "o", COLORS["o"], lw=1.0 + 3.0 * o_open,
            alpha=o_open, head=16)
    d.text((11.95, y_out + 0.35), r"$h_t$", "o", color=COLORS["o"], fontsize=13, ha="right")
    d.text((xs["o"] - 0.1, 3.2), r"$o_t$", "o", color=COLORS["o"], fontsize=12, ha="right")

    if focus is not None:
        d.dim_all_but(focus)
    ax.set_xlim(-0.3, 12.3)
    ax.set_ylim(-0.15 if not caption else -0.75, 6.3)
    if caption:
        ax.text(6.0, -0.5, PART_CAPTIONS[focus], ha="center", va="center", fontsize=11,
                color=COLORS.get(focus, "black") if focus else "black")
    if title is not None:
        ax.set_title(title, fontsize=12)
    return fig


def rnn_unrolled(T=4, backward=True, ax=None, title=None, figsize=(9.5, 4.2)):
    """Draw a simple RNN unrolled over ``T`` steps, with forward and backward arrows.

    Forward (dark): ``x_t`` enters each step from below, ``h_{t-1}`` from the
    left through ``U``, and each ``h_t`` produces a loss term ``l_t`` above.
    Backward (red, dashed): each ``l_t`` sends its error ``e_t`` down into
    ``h_t``, and the error at ``h_t`` travels left to ``h_{t-1}``, multiplied
    on the way by the step Jacobian ``diag(1 - h_t^2) U^T``.

    Parameters
    ----------
    T : int
        Number of time steps drawn, 2 to 8.
    backward : bool
        Draw the backward (error) arrows.
    ax : matplotlib Axes, optional
    title : str, optional
    figsize : (float, float)

    Returns
    -------
    matplotlib.figure.Figure
    """
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or not 2 <= T <= 8:
        raise ValueError(f"T must be an integer from 2 to 8; got {T!r}")
    fig, ax = _new_axes(ax, figsize)
    d = _Sketch(ax)
    dark, red = COLORS["h"], COLORS["error"]
    gap = 2.3
    y_h, y_x, y_l = 2.0, 0.2, 3.8
    d.box((0.0, y_h), (0.9, 0.7), "h", "white", dark, r"$h_0$", fontsize=12, text_color=dark)
    for t in range(1, T + 1):
        x = t * gap
        name = r"$h_T$" if t == T and T > 3 else rf"$h_{t}$"
        d.box((x, y_h), (0.9, 0.7), "h", "#e8eef8", COLORS["c"], name, fontsize=12,
              text_color=COLORS["c"])
        xt = r"$x_T$" if t == T and T > 3 else rf"$x_{t}$"
        lt = r"$\ell_T$" if t == T and T > 3 else rf"$\ell_{t}$"
        d.text((x, y_x), xt, "h", color=dark, fontsize=12)
        d.arrow((x, y_x + 0.28), (x, y_h - 0.37), "h", dark, lw=1.5)
        d.text((x + 0.12, (y_x + y_h) / 2 - 0.05), r"$W$", "h", color=dark, fontsize=10,
               ha="left")
        d.text((x, y_l + 0.1), lt, "h", color=dark, fontsize=12)
        d.arrow((x, y_h + 0.37), (x, y_l - 0.2), "h", dark, lw=1.5)
        d.arrow((x - gap + 0.47, y_h), (x - 0.47, y_h), "h", dark, lw=2)
        elided = t == T and T > 3      # the last step is step T; the steps before it are elided
        d.text((x - gap / 2, y_h + 0.22), r"$U\ \cdots$" if elided else r"$U$", "h",
               color=dark, fontsize=10)
        if backward:
            d.arrow((x - 0.25, y_l - 0.2), (x - 0.25, y_h + 0.37), "error", red, lw=1.4, ls="--")
            d.text((x - 0.35, (y_h + y_l) / 2 + 0.1), rf"$e_{{{t if T <= 3 or t < T else 'T'}}}$",
                   "error", color=red, fontsize=10, ha="right")
            d.arrow((x - 0.35, y_h - 0.37), (x - gap + 0.35, y_h - 0.37), "error", red, lw=1.4,
                    ls="--", rad=-0.45)
    if backward:
        d.text((gap / 2 + 0.1, y_h - 1.05), r"$\times\ \operatorname{diag}(1-h_t^2)\,U^\top$",
               "error", color=red, fontsize=11)
    ax.set_xlim(-0.8, T * gap + 0.8)
    ax.set_ylim(-0.3, 4.3)
    handles = [plt.Line2D([], [], color=dark, lw=2, label=r"forward: $h_t=\tanh(x_tW+h_{t-1}U+b)$")]
    if backward:
        handles.append(plt.Line2D([], [], color=red, lw=1.5, ls="--",
                                  label=r"backward: $\delta_{t-1}=e_{t-1}+"
                                        r"(\delta_t\odot(1-h_t^2))\,U^\top$"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=2,
              fontsize=10, frameon=False)
    if title is not None:
        ax.set_title(title, fontsize=12)
    return fig


def carousel_paths(gate_paths=True, peepholes=False, f=None, ax=None, title=None,
                   figsize=(9.5, 4.8)):
    """Draw how an error at ``c_t`` reaches ``c_{t-1}``: the carousel and the gate paths.

    The straight path along the top is the carousel, with factor ``f_t``.
    The detours below go through ``h_{t-1} = o_{t-1} tanh(c_{t-1})`` into
    the forget gate, the input gate and the candidate, each of which feeds
    ``c_t``. With ``peepholes=True`` the input and forget gates also read
    ``c_{t-1}`` directly, and the output gate ``o_{t-1}`` reads ``c_{t-1}``
    too, a further route into ``h_{t-1}``. Arrows point the way the error
    travels: backwards, from ``c_t`` to ``c_{t-1}``.

    Parameters
    ----------
    gate_paths : bool
        Draw the gate paths in colour (True) or as faint, cut traces (False).
    peepholes : bool
        Add the peephole routes.
    f : float in [0, 1], optional
        A forget-gate value: the carousel is labelled with it and drawn with a
        width and opacity in proportion (a live diagram).
    ax : matplotlib Axes, optional
    title : str, optional
    figsize : (float, float)

    Returns
    -------
    matplotlib.figure.Figure
    """
    f_open = 1.0 if f is None else _opening(_check_gates({"f": f})["f"])
    fig, ax = _new_axes(ax, figsize)
    d = _Sketch(ax)
    c_col, dark = COLORS["c"], COLORS["h"]
    left, right, y_top = 0.8, 10.4, 4.3
    d.box((left, y_top), (1.1, 0.7), "c", "#e8eef8", c_col, r"$c_{t-1}$", fontsize=13,
          text_color=c_col)
    d.box((right, y_top), (1.1, 0.7), "c", "#e8eef8", c_col, r"$c_t$", fontsize=13,
          text_color=c_col)
    d.arrow((right - 0.6, y_top), (left + 0.6, y_top), "c", c_col, lw=1.0 + 5.0 * f_open,
            alpha=f_open, head=20)
    label = r"the carousel: $\times\, f_t$" + ("" if f is None else rf"$\ \approx {f:.3f}$")
    d.text(((left + right) / 2, y_top + 0.38), label, "c", color=c_col, fontsize=12,
           weight="bold")

    # the detours: c_t -> each gate -> (through U^T) h_{t-1} -> c_{t-1}
    part = "gates" if gate_paths else "cut"
    h_xy = (3.5, 1.9)
    gate_y = {"f": 3.1, "i": 2.05, "g": 1.0}
    factors = {"f": r"forget gate: $\times\, c_{t-1}\,\sigma'(z_f)$",
               "i": r"input gate: $\times\, g_t\,\sigma'(z_i)$",
               "g": r"candidate: $\times\, i_t\,(1-g_t^2)$"}
    for name, y in gate_y.items():
        color = COLORS[name]
        d.box((7.2, y), (3.0, 0.62), part, color, color, factors[name], fontsize=10.5)
        d.arrow((right - 0.2, y_top - 0.37), (8.75, y), part, color, lw=2, rad=-0.12)
        d.arrow((5.65, y), (h_xy[0] + 1.05, h_xy[1] + 0.1 * (y - h_xy[1])), part, color, lw=1.8)
    d.text((5.05, 0.35), r"each through $U^\top$", part, color=dark, fontsize=10,
           style="italic")
    d.box(h_xy, (2.1, 0.62), part, "white", dark, r"$h_{t-1}$", fontsize=13, text_color=dark)
    d.arrow((h_xy[0] - 0.6, h_xy[1] + 0.33), (left + 0.35, y_top - 0.37), part, dark, lw=2)
    d.text((2.35, 3.25), r"$\times\, o_{t-1}(1-\tanh^2 c_{t-1})$", part, color=dark,
           fontsize=10, ha="left")
    if peepholes:
        for name in ("f", "i"):
            y = gate_y[name]
            d.arrow((6.0, y + 0.32), (left + 0.56, y_top - 0.25), "peephole", COLORS[name],
                    lw=1.5, ls="--", rad=0.12 if name == "f" else 0.2)
        d.text((4.2, 3.85), r"peepholes $p_f,\ p_i$", "peephole", color="0.25", fontsize=10)
        d.box((1.0, 0.75), (1.0, 0.55), "peephole", COLORS["o"], COLORS["o"], r"$o_{t-1}$",
              fontsize=11)
        d.arrow((h_xy[0] - 1.05, h_xy[1] - 0.2), (1.5, 0.9), "peephole", COLORS["o"], lw=1.5,
                ls="--")
        d.arrow((0.75, 1.03), (0.55, y_top - 0.37), "peephole", COLORS["o"], lw=1.5, ls="--")
        d.text((0.2, 0.15), r"peephole $p_o$: $h_{t-1}$ also depends on $c_{t-1}$ via $o_{t-1}$",
               "peephole", color=COLORS["o"], fontsize=10, ha="left")
    if not gate_paths:
        d.dim_all_but("c")
        d.text((4.3, 2.6), "gate paths cut", "c", color="0.3", fontsize=12, weight="bold")
    ax.set_xlim(-0.1, 11.2)
    ax.set_ylim(-0.1, 4.9)
    if title is not None:
        ax.set_title(title, fontsize=12)
    return fig


def render(fig) -> np.ndarray:
    """Rasterise ``fig`` and return its pixels, ``(height, width, 4)`` uint8 RGBA.

    The tests and the explorers use this to tell whether two drawings differ.
    A closed figure (as the explorers leave theirs) is drawn on a fresh Agg canvas.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if hasattr(fig.canvas, "buffer_rgba") else FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()
