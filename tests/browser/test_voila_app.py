"""The standalone explorer app (``make app``: Voilà serving apps/gate_explorer.ipynb).

Two layers, like the widgets themselves:

* headless (always runs): the app notebook executes without error and draws both
  explorers inside their widgets (tests/test_hygiene.py checks it is committed clean);
* in a real browser (marked ``browser``): ``make app`` prints a URL that answers HTTP 200,
  the page shows both explorers, and moving a gate slider with the keyboard moves the
  readout and changes the plot. Screenshots go to tests/browser/artifacts/.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
APP = REPO_ROOT / "apps" / "gate_explorer.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PRESSES = 4
STEP = 0.01  # the explorers' slider step (lstm_teach.widgets._float_slider)


def test_app_notebook_runs_headless_and_draws_inside_both_explorers():
    """Executed the way Voilà executes it (a kernel with the inline backend, no frontend).

    Each explorer's first plot must land inside the explorer's Output widget. A plot that
    lands beside it as a plain cell output would sit under the sliders in the app and
    never change (this happens, for instance, when the notebook runs ``%matplotlib
    inline`` itself, so the app notebook must not).
    """
    from nbclient import NotebookClient

    nb = nbformat.read(APP, as_version=4)
    env_backup = os.environ.pop("MPLBACKEND", None)  # `make app` clears it too
    try:
        import time as _t
        print("DEBUGSTART", _t.time())
        NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True,
                       resources={"metadata": {"path": str(APP.parent)}}).execute()
    finally:
        if env_backup is not None:
            os.environ["MPLBACKEND"] = env_backup
    code = [c for c in nb.cells if c.cell_type == "code"]
    import time as _t
    print("DEBUGTIMING", _t.time(), [dict(c.metadata.get("execution", {})) for c in code])
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, [f"{e.ename}: {e.evalue}" for e in errors]

    views = [c for c in code if any(WIDGET_VIEW in o.get("data", {}) for o in c.outputs)]
    sources = " ".join(c.source for c in views)
    assert len(views) == 2, f"expected 2 explorer cells with a widget view, got {len(views)}"
    assert "gate_explorer()" in sources and "iir_explorer()" in sources

    stray = [c.source for c in code if any("image/png" in o.get("data", {}) for o in c.outputs)]
    assert not stray, f"plots drawn outside the explorers' Output widgets: {stray}"
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    outputs = [m["state"].get("outputs", []) for m in state.values()
               if m["model_name"] == "OutputModel"]
    with_plot = [o for o in outputs if any("image/png" in x.get("data", {}) for x in o)]
    assert len(with_plot) == 2, f"{len(with_plot)} of {len(outputs)} Output widgets hold a plot"


@pytest.mark.browser
def test_make_app_serves_the_explorers_and_the_gate_slider_works(
    voila_app, page, widgets_ui, artifacts_dir
):
    # `make app` printed the URL a learner copies; it must be the one that answers
    assert voila_app.url in voila_app.printed_urls, voila_app.log_tail()
    response = page.goto(voila_app.url)
    assert response is not None and response.status == 200

    gate = widgets_ui.slider("input gate i")
    gate.wait_for(state="visible", timeout=90_000)  # Voilà runs the cells, then renders
    iir = widgets_ui.slider("feedback weight w")
    iir.wait_for(state="visible")
    explorer = widgets_ui.explorer_of(gate)
    plot = widgets_ui.plot(explorer)
    plot.wait_for(state="visible")
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "Error displaying widget" not in body, body[:2000]

    # the default input gate is fully open (1.00): three key presses to the left close it
    before_value = float(widgets_ui.readout(gate))
    before_src = plot.get_attribute("src")
    before_png = plot.screenshot()
    page.screenshot(path=artifacts_dir / "voila_gate_explorer_before.png")
    key, sign = ("ArrowLeft", -1) if before_value > 0.5 else ("ArrowRight", 1)
    widgets_ui.press(gate, key, PRESSES)
    widgets_ui.wait_for_new_plot(explorer, before_src)

    after_value = float(widgets_ui.readout(gate))
    assert after_value == pytest.approx(before_value + sign * PRESSES * STEP, abs=1e-9)
    assert plot.screenshot() != before_png, "the gate explorer's plot did not change"
    explorer.screenshot(path=artifacts_dir / "voila_gate_explorer_after.png")
    # a page tall enough to show the whole app: both explorers, sliders and plots
    page.set_viewport_size({"width": 1400, "height": 2300})
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    page.screenshot(path=artifacts_dir / "voila_app.png")
    print(f"voila: 'input gate i' {before_value:.2f} -> {after_value:.2f}")
