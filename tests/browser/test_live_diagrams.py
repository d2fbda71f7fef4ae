"""The live diagrams in a real browser: JupyterLab in headless Chromium.

A notebook with the gate explorer and the carousel explorer is run in JupyterLab. For
each explorer one slider is moved with the keyboard, as a learner would, and the part
of the picture that holds the cell diagram must change: the gate explorer's valves
(right half of its image), and the carousel explorer's paths diagram (top half).
Run alone with ``make test-browser``; skips with the reason when Chromium or
Playwright is missing.
"""

from __future__ import annotations

import io

import nbformat
import numpy as np
import pytest
from test_lab_widgets import (  # a sibling module: tests/browser is on sys.path
    ERROR_OUTPUT,
    error_report,
    open_notebook,
    run_all_cells,
    shut_down_kernel,
    wait_until_executed,
)

pytestmark = pytest.mark.browser

NOTEBOOK = "notebooks/_live_diagrams.ipynb"
# slider label -> the part of the explorer's image where its diagram is drawn
#                 (rows, columns) as fractions of the image
EXPLORERS = {
    "forget gate f": ((0.0, 1.0), (0.55, 1.0)),        # gate explorer: the cell, on the right
    "forget-gate bias": ((0.0, 0.5), (0.0, 1.0)),      # carousel explorer: the paths, on top
}


def region(png: bytes, rows, cols) -> np.ndarray:
    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    h, w = image.shape[:2]
    return image[int(rows[0] * h):int(rows[1] * h), int(cols[0] * w):int(cols[1] * w)]


@pytest.fixture
def live_notebook(jupyter_lab):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from lstm_teach import widgets\n"
                                          "widgets.gate_explorer(f=0.9)"),
                nbformat.v4.new_code_cell("widgets.carousel_explorer(forget_bias=3.0)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, jupyter_lab.root / NOTEBOOK)
    yield NOTEBOOK
    shut_down_kernel(jupyter_lab, NOTEBOOK)


def test_moving_a_slider_changes_the_diagram(jupyter_lab, live_notebook, page, widgets_ui,
                                             artifacts_dir):
    panel = open_notebook(page, jupyter_lab, live_notebook)
    run_all_cells(page)
    wait_until_executed(page, panel)
    assert panel.locator(ERROR_OUTPUT).count() == 0, error_report(panel)
    for description, (rows, cols) in EXPLORERS.items():
        slider = widgets_ui.slider(description)
        slider.scroll_into_view_if_needed()
        explorer = widgets_ui.explorer_of(slider)
        plot = widgets_ui.plot(explorer)
        plot.wait_for(state="visible")
        before_src = widgets_ui.wait_for_settled_plot(explorer)
        before_png = plot.screenshot()
        widgets_ui.press(slider, "ArrowLeft", 20)        # f 0.900 -> 0.880; bias 3.0 -> -2.0
        widgets_ui.wait_for_new_plot(explorer, before_src)
        after_png = plot.screenshot()
        explorer.screenshot(path=artifacts_dir / f"live_{description.replace(' ', '_')}.png")
        before, after = region(before_png, rows, cols), region(after_png, rows, cols)
        changed = np.mean(np.any(before != after, axis=-1))
        assert changed > 0.001, f"{description!r}: the diagram did not change ({changed:.4f})"
    assert panel.locator(ERROR_OUTPUT).count() == 0, error_report(panel)
