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

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from ...core._checks import check_choice, check_positive_int
from .carousel import carousel_explorer_data, draw_carousel_explorer
from .gamma import draw_gamma_explorer, gamma_explorer_data
from .gates import GATE_PRESETS, SCHEDULES, draw_gate_explorer, gate_explorer_data
from .iir import draw_iir_explorer, iir_explorer_data
from .monitor import draw_gate_monitor, figure_png, gate_monitor_data
from .signals import SIGNALS
from .spectral import draw_spectral_radius, spectral_radius_data

SLIDER_STYLE = {"description_width": "initial"}
SLIDER_LAYOUT = {"width": "420px"}


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



def gamma_explorer(K: int = 4, mu: float = 0.3, signal: str = "impulse", n: int = 60) -> Explorer:
    """Sliders for the number of taps ``K`` and for ``mu``; shows the gamma kernels and the taps."""
    controls = {
        "K": widgets.IntSlider(value=K, min=1, max=8, description="taps K", style=SLIDER_STYLE,
                               layout=SLIDER_LAYOUT),
        "mu": _float_slider("mu (feedback 1 - mu)", mu, 0.05, 1.0),
        "signal": _dropdown("input signal", SIGNALS, signal),
    }
    return Explorer(
        controls,
        lambda **v: gamma_explorer_data(n=n, **v),
        draw_gamma_explorer,
        title="The gamma memory: a chain of leaky integrators",
    )


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



def gate_explorer(
    i: float = 1.0,
    f: float = 0.9,
    o: float = 1.0,
    signal: str = "pulse",
    c0: float = 0.0,
    candidate: str = "identity",
    n: int = 40,
    schedule: str = "constant",
    fixed_ylim: bool = False,
) -> Explorer:
    """Sliders set the input, forget and output gates; shows c_t and h_t beside the live cell.

    The cell diagram beside the traces opens each valve as far as its slider
    says. The forget-gate slider moves in steps of 0.001, because the
    interesting range is 0.9 to 1 (the title gives the memory's half-life).
    A schedule makes the gates time-varying (write, hold, read, reset), and
    "steps shown" lengthens the horizon. Preset buttons set the four regimes
    of :data:`GATE_PRESETS`: remember (f=1, i=0), overwrite (f=0, i=1),
    accumulate (f=1, i=1) and hide (o=0).
    """
    controls = {
        "i": _float_slider("input gate i", i, 0.0, 1.0),
        "f": widgets.FloatSlider(value=f, min=0.0, max=1.0, step=0.001,
                                 description="forget gate f", continuous_update=True,
                                 readout_format=".3f", style=SLIDER_STYLE, layout=SLIDER_LAYOUT),
        "o": _float_slider("output gate o", o, 0.0, 1.0),
        "signal": _dropdown("input signal", SIGNALS, signal),
        "c0": _float_slider("initial cell c0", c0, -1.0, 1.0),
        "candidate": _dropdown("candidate g", ("identity", "tanh"), candidate),
        "schedule": _dropdown("gate schedule", SCHEDULES, schedule),
        "n": widgets.IntSlider(value=n, min=20, max=400, step=10, description="steps shown",
                               style=SLIDER_STYLE, layout=SLIDER_LAYOUT),
        "fixed_ylim": widgets.Checkbox(value=fixed_ylim, description="fix the y-axis"),
    }

    def compute(fixed_ylim, **values):
        return {**gate_explorer_data(**values), "fixed_ylim": fixed_ylim}

    return Explorer(
        controls,
        compute,
        draw_gate_explorer,
        title="The gated memory cell",
        presets=GATE_PRESETS,
    )


def carousel_explorer(forget_bias: float = 3.0, gate_paths: bool = True,
                      peepholes: bool = False, T: int = 60) -> Explorer:
    """The constant error carousel: c_t forward beside dL/dc_t backward (lesson 04).

    Controls: the forget-gate bias (the title gives the mean forget gate and its
    half-life), the gate paths (cut = recurrent weights set to zero) and the
    peepholes. The figure shows the paths diagram, the cell states and the
    full gradient against the carousel's share.
    """
    controls = {
        "forget_bias": _float_slider("forget-gate bias", forget_bias, -2.0, 6.0, step=0.25),
        "gate_paths": widgets.Checkbox(value=gate_paths, description="gate paths"),
        "peepholes": widgets.Checkbox(value=peepholes, description="peepholes"),
    }
    return Explorer(
        controls,
        lambda **v: carousel_explorer_data(T=T, **v),
        draw_carousel_explorer,
        title="The constant error carousel: forward and backward",
    )


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
        from ...concise.model import Callback

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
