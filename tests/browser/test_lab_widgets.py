"""The lessons' explorers in a real browser: JupyterLab in headless Chromium.

For each lesson: open it in JupyterLab (a copy, served from a temporary folder), run all
cells from the Run menu, wait for the kernel to finish, and check that no cell produced
an error and every widget rendered. Then move one slider of the lesson's explorer with
the keyboard, as a learner would, and check that the readout follows the key presses and
that the plot really changes (its pixels differ). A screenshot of each lesson is kept in
tests/browser/artifacts/.

Run alone with ``make test-browser``. Skips with the reason when Chromium or Playwright
is missing.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path

import pytest

from lstm_teach import widgets as kit_widgets

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]

# lesson -> the label of the explorer slider a learner moves in it
LESSONS = {
    "01_recurrence_as_an_iir_filter": "feedback weight w",
    "03_the_gated_cell": "forget gate f",
}
PRESSES = 5
RUN_ALL_TIMEOUT_S = 90.0

ERROR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'
STDERR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'


def slider_step(description: str) -> float:
    """The step of the package's slider with this label (what one key press moves)."""
    for explorer in (kit_widgets.iir_explorer(), kit_widgets.gate_explorer()):
        for control in explorer.controls.values():
            if control.description == description:
                return control.step
    raise LookupError(f"no explorer in lstm_teach.widgets has a slider {description!r}")


def kernel_of(server, relpath: str) -> dict | None:
    """The server's view of the kernel behind the notebook ``relpath`` (REST /api/sessions)."""
    with urllib.request.urlopen(f"{server.url}api/sessions", timeout=5) as response:
        sessions = json.load(response)
    return next((s["kernel"] for s in sessions if s.get("path") == relpath), None)


def open_notebook(page, server, relpath: str, timeout_s: float = 60.0):
    """Open a notebook alone in a fresh workspace; wait until its kernel is connected and idle.

    Returns the notebook panel (a locator). The toolbar's indicator says "idle" even
    before a kernel exists, and a Run All sent then does nothing; so ask the server,
    which knows when the page has connected.
    """
    page.goto(f"{server.url}lab/tree/{relpath}?reset")  # ?reset: no tabs from earlier tests
    panel = page.locator(".jp-NotebookPanel:visible").first
    panel.locator(".jp-Notebook").wait_for(state="visible")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        kernel = kernel_of(server, relpath)
        if kernel and kernel["connections"] > 0 and kernel["execution_state"] == "idle":
            break
        page.wait_for_timeout(250)
    else:
        raise AssertionError(f"no idle, connected kernel for {relpath} after {timeout_s:.0f} s")
    panel.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for()
    return panel


def shut_down_kernel(server, relpath: str) -> None:
    """Stop the notebook's kernel (DELETE its session), so it stops using a core."""
    with urllib.request.urlopen(f"{server.url}api/sessions", timeout=5) as response:
        sessions = [s for s in json.load(response) if s.get("path") == relpath]
    for session in sessions:
        request = urllib.request.Request(f"{server.url}api/sessions/{session['id']}",
                                         method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()


def run_all_cells(page) -> None:
    """Run → Run All Cells, through the menu bar, as a learner would."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item", has_text=re.compile(r"^Run All Cells\b")).click()


def wait_until_executed(page, panel, timeout_s: float = RUN_ALL_TIMEOUT_S) -> int:
    """Wait until every code cell shows an execution count, or an error appears.

    Returns the number of code cells. On an error the kernel drops the queued cells, so
    waiting for all counts would only time out: the caller's error check reports it.
    """
    prompts = panel.locator(".jp-Notebook .jp-CodeCell .jp-InputArea-prompt")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        texts = prompts.all_inner_texts()
        done = sum(bool(re.fullmatch(r"\[\d+\]:", t.strip())) for t in texts)
        if texts and done == len(texts):
            panel.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for()
            return len(texts)
        if panel.locator(ERROR_OUTPUT).count():
            return len(texts)
        page.wait_for_timeout(250)
    pending = [t for t in prompts.all_inner_texts() if not re.fullmatch(r"\[\d+\]:", t.strip())]
    raise AssertionError(f"cells still not executed after {timeout_s:.0f} s: {pending[:5]}")


def error_report(scope) -> str:
    return "\n---\n".join(t[:2000] for t in scope.locator(ERROR_OUTPUT).all_inner_texts())


def check_lesson(lesson, relpath, jupyter_lab, page, widgets_ui, artifacts_dir, started):
    """Run all, check for errors, move the slider, check readout and plot, screenshot."""
    description = LESSONS[lesson]
    panel = open_notebook(page, jupyter_lab, relpath)
    run_all_cells(page)
    n_cells = wait_until_executed(page, panel)
    run_seconds = time.monotonic() - started

    # 1. every cell ran, none failed, every widget rendered
    assert panel.locator(ERROR_OUTPUT).count() == 0, (
        f"{lesson}: error output in the browser:\n{error_report(panel)}")
    stderr = " ".join(panel.locator(STDERR_OUTPUT).all_inner_texts())
    assert "Traceback" not in stderr, f"{lesson}: a traceback on stderr:\n{stderr[:2000]}"
    assert n_cells > 0
    body = panel.locator(".jp-Notebook").inner_text()
    assert "Error displaying widget" not in body, f"{lesson}: a widget failed to render"
    assert "Loading widget..." not in body, f"{lesson}: a widget never finished loading"

    # 2. the explorer: slider, readout and plot are there
    slider = widgets_ui.slider(description)
    slider.scroll_into_view_if_needed()
    explorer = widgets_ui.explorer_of(slider)
    plot = widgets_ui.plot(explorer)
    plot.wait_for(state="visible")
    before_src = widgets_ui.wait_for_settled_plot(explorer)
    before_value = float(widgets_ui.readout(slider))
    before_png = plot.screenshot()
    explorer.screenshot(path=artifacts_dir / f"lab_{lesson}_explorer_before.png")

    # 3. move the slider with the keyboard, away from whichever end it is nearest to
    step = slider_step(description)
    handle = widgets_ui.handle(slider)
    low = float(handle.get_attribute("aria-valuemin"))
    high = float(handle.get_attribute("aria-valuemax"))
    key, sign = ("ArrowLeft", -1) if before_value - low > high - before_value else ("ArrowRight", 1)
    widgets_ui.press(slider, key, PRESSES)
    widgets_ui.wait_for_new_plot(explorer, before_src)

    # 4. the readout follows the keys, and the picture really changed
    expected = round(before_value + sign * PRESSES * step, 10)
    after_value = float(widgets_ui.readout(slider))
    assert after_value == pytest.approx(expected, abs=1e-9), (
        f"{lesson}: {description!r} read {before_value} before {PRESSES}x {key}, "
        f"expected {expected}, reads {after_value}")
    after_png = plot.screenshot()
    assert after_png != before_png, f"{lesson}: the plot's pixels did not change"
    assert panel.locator(ERROR_OUTPUT).count() == 0, error_report(panel)

    explorer.screenshot(path=artifacts_dir / f"lab_{lesson}_explorer_after.png")
    page.screenshot(path=artifacts_dir / f"lab_{lesson}.png")
    print(f"{lesson}: {n_cells} code cells ran in {run_seconds:.1f} s (open + run all); "
          f"{description!r} {before_value:.2f} -> {after_value:.2f}")


@pytest.mark.parametrize("lesson", list(LESSONS))
def test_lesson_runs_and_its_explorer_responds_to_the_keyboard(
    lesson, jupyter_lab, page, widgets_ui, artifacts_dir
):
    committed = REPO_ROOT / "notebooks" / f"{lesson}.ipynb"
    assert committed.exists(), f"lesson {committed.name} is missing from notebooks/"
    committed_bytes = committed.read_bytes()

    started = time.monotonic()
    relpath = f"notebooks/{lesson}.ipynb"
    try:
        check_lesson(lesson, relpath, jupyter_lab, page, widgets_ui, artifacts_dir, started)
    finally:
        page.close()
        shut_down_kernel(jupyter_lab, relpath)

    # the committed lesson is untouched (the server only ever saw a copy)
    assert committed.read_bytes() == committed_bytes
