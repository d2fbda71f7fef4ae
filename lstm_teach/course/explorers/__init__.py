"""Interactive explorers for the lessons (ipywidgets + inline matplotlib).

Each explorer has three layers, so that everything except the wiring runs
without a browser, and without ipywidgets installed:

1. a **compute function** (``iir_explorer_data``, ``gamma_explorer_data``,
   ``spectral_radius_data``, ``gate_explorer_data``, ``carousel_explorer_data``,
   ``gate_monitor_data``): plain numbers in, a dict of arrays out;
2. a **draw function** (``draw_iir_explorer``, ...): that dict in, a
   matplotlib Figure out;
3. a **builder** (``iir_explorer()``, ...) returning an ``Explorer``, a
   ``VBox`` that wires the controls to (1) and (2) with
   ``ipywidgets.interactive_output``. It keeps the last result in
   ``.result`` and the last figure in ``.figure``, and its controls in
   ``.controls`` (name -> widget), so a test can set
   ``explorer.controls["w"].value = 0.5`` and read what was recomputed.

(1) and (2) live in one module per explorer (:mod:`.iir`, :mod:`.gamma`, :mod:`.spectral`,
:mod:`.gates`, :mod:`.carousel`, :mod:`.monitor`) and are imported here at once; the builders
live in :mod:`.widgets`, which imports ipywidgets, and are imported the first
time one of them is used.

References: de Vries & Principe (1992) for the gamma memory; Bengio et al.
(1994) and Pascanu et al. (2013) for the spectral radius and gradient flow;
Hochreiter & Schmidhuber (1997) and Gers et al. (2000) for the gates.
"""

from __future__ import annotations

from importlib import import_module

from .carousel import carousel_explorer_data, draw_carousel_explorer, half_life
from .gamma import draw_gamma_explorer, gamma_explorer_data
from .gates import (
    GATE_PRESETS,
    SATURATED_BIAS,
    SCHEDULES,
    draw_gate_explorer,
    fixed_gate_cell,
    frozen_gate_params,
    gate_bias,
    gate_explorer_data,
    gate_regime,
    gate_schedule,
)
from .iir import draw_iir_explorer, iir_explorer_data
from .monitor import (
    MONITOR_GATES,
    MONITOR_LABELS,
    draw_gate_monitor,
    figure_png,
    gate_monitor_data,
)
from .signals import SIGNALS, make_signal
from .spectral import draw_spectral_radius, spectral_radius_data

# The builders need ipywidgets; they are imported from .widgets on first use.
_BUILDERS = ("Explorer", "GateMonitor", "carousel_explorer", "gate_explorer", "iir_explorer",
             "spectral_radius_explorer", "gamma_explorer", "SLIDER_STYLE", "SLIDER_LAYOUT",
             "widgets")


def __getattr__(name):
    if name in _BUILDERS:
        module = import_module(f"{__name__}.widgets")
        return module if name == "widgets" else getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "GATE_PRESETS",
    "MONITOR_GATES",
    "MONITOR_LABELS",
    "SATURATED_BIAS",
    "SCHEDULES",
    "SIGNALS",
    "carousel_explorer_data",
    "draw_carousel_explorer",
    "draw_gamma_explorer",
    "draw_gate_explorer",
    "draw_gate_monitor",
    "draw_iir_explorer",
    "draw_spectral_radius",
    "figure_png",
    "fixed_gate_cell",
    "gamma_explorer_data",
    "frozen_gate_params",
    "gate_bias",
    "gate_explorer_data",
    "gate_monitor_data",
    "gate_regime",
    "gate_schedule",
    "half_life",
    "iir_explorer_data",
    "make_signal",
    "spectral_radius_data",
    *_BUILDERS[:6],
]
