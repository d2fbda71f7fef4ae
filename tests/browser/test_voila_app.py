"""The standalone explorer app (``make app``: Voilà serving apps/gate_explorer.ipynb).

Two layers, like the widgets themselves:

* headless (always runs): the app notebook executes without error and displays both
  explorers as widgets, and it is committed clean;
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


def test_app_notebook_is_committed_clean():
    nb = nbformat.read(APP, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert "widgets" not in nb.metadata, "saved widget state: run `make strip`-style cleanup"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source


def test_app_notebook_runs_headless_and_shows_both_explorers():
    from nbclient import NotebookClient

    nb = nbformat.read(APP, as_version=4)
    env_backup = os.environ.pop("MPLBACKEND", None)  # draw the way Voilà's kernel does
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(APP.parent)}}).execute()
    finally:
        if env_backup is not None:
            os.environ["MPLBACKEND"] = env_backup
    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, [f"{e.ename}: {e.evalue}" for e in errors]
    views = [c for c in code if any(WIDGET_VIEW in o.get("data", {}) for o in c.outputs)]
    sources = " ".join(c.source for c in views)
    assert len(views) == 2, f"expected 2 explorer cells with a widget view, got {len(views)}"
    assert "gate_explorer()" in sources and "iir_explorer()" in sources


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
    page.screenshot(path=artifacts_dir / "voila_app.png", full_page=True)
    print(f"voila: 'input gate i' {before_value:.2f} -> {after_value:.2f}")
