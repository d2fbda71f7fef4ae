"""The standalone explorer app (``make app``: Voilà serving apps/gate_explorer.ipynb).

Two layers, like the widgets themselves:

* headless (always runs): the app notebook executes without error and draws each
  explorer's plot inside the explorer (tests/test_hygiene.py checks it is committed clean);
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
STEP = 0.01  # the explorers' slider step (lstm_teach.course.explorers.widgets._float_slider)


def run_with_a_kernel(notebook: Path, timeout: float = 120.0) -> list[list[dict]]:
    """Execute the code cells in a fresh python3 kernel; return each cell's iopub messages.

    A plain kernel client, the way a frontend talks to the kernel: it only listens, so
    none of nbclient's Output-widget emulation (which sends on the shell channel while
    it waits on it, and can stall until its timeout: jupyter/nbclient#312) is involved.
    """
    from jupyter_client.manager import start_new_kernel

    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # inline, as in Voila
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(notebook.parent), env=env)
    try:
        per_cell = []
        for cell in nbformat.read(notebook, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            msg_id = kc.execute(cell.source)
            messages = []
            while True:
                msg = kc.get_iopub_msg(timeout=timeout)
                messages.append(msg)
                if (msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"
                        and msg["parent_header"].get("msg_id") == msg_id):
                    break
            reply = kc.get_shell_msg(timeout=timeout)
            assert reply["content"]["status"] == "ok", reply["content"]
            per_cell.append(messages)
        return per_cell
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def route_displays(messages: list[dict]) -> tuple[set[str], int]:
    """Follow the Output widgets as a frontend does: which plots land where.

    While an Output widget's ``msg_id`` equals a message's parent, the frontend puts that
    output inside the widget. Returns (comm ids of Output widgets that received a plot,
    number of plots that landed outside every Output widget).
    """
    capturing = {}  # comm id of an Output widget -> msg_id it captures ('' = none)
    inside, stray = set(), 0
    for msg in messages:
        content = msg["content"]
        if msg["msg_type"] == "comm_open" and \
                content["data"].get("state", {}).get("_model_name") == "OutputModel":
            capturing[content["comm_id"]] = content["data"]["state"].get("msg_id", "")
        elif msg["msg_type"] == "comm_msg" and content["comm_id"] in capturing:
            state = content["data"].get("state", {})
            if "msg_id" in state:
                capturing[content["comm_id"]] = state["msg_id"]
        elif msg["msg_type"] in ("display_data", "execute_result") and \
                "image/png" in content["data"]:
            parent = msg["parent_header"].get("msg_id")
            owners = [comm for comm, target in capturing.items() if target == parent]
            if owners:
                inside.add(owners[-1])
            else:
                stray += 1
    return inside, stray


def test_app_notebook_draws_each_plot_inside_its_explorer():
    """Run the way Voila runs it: a kernel with the inline backend, every code cell.

    Each explorer's first plot must go into the explorer's own Output widget. A plot that
    lands beside it, as a plain cell output, would sit under the sliders and never change
    (this happens, for instance, if the notebook runs ``%matplotlib inline`` itself, so the
    app notebook must not).
    """
    per_cell = run_with_a_kernel(APP)
    code = [c.source for c in nbformat.read(APP, as_version=4).cells if c.cell_type == "code"]
    errors = [m["content"] for cell in per_cell for m in cell if m["msg_type"] == "error"]
    assert not errors, [f"{e['ename']}: {e['evalue']}" for e in errors]

    views = [src for src, messages in zip(code, per_cell, strict=True)
             if any(m["msg_type"] == "execute_result" and WIDGET_VIEW in m["content"]["data"]
                    for m in messages)]
    assert len(views) == 2, f"expected 2 cells that display an explorer, got {views}"
    assert "gate_explorer()" in " ".join(views) and "iir_explorer()" in " ".join(views)

    inside, stray = route_displays([m for cell in per_cell for m in cell])
    assert stray == 0, f"{stray} plot(s) drawn outside the explorers' Output widgets"
    assert len(inside) == 2, f"{len(inside)} Output widget(s) received a plot, expected 2"


@pytest.mark.browser
def test_make_app_serves_the_explorers_and_the_gate_slider_works(
    voila_app, page, widgets_ui, artifacts_dir
):
    # `make app` printed the URL a learner copies; it must be the one that answers
    assert voila_app.url in voila_app.printed_urls, voila_app.log_tail()
    # "commit": the status is known as soon as the page starts to stream; Voila then
    # executes the notebook and streams the cells' outputs into the page
    response = page.goto(voila_app.url, wait_until="commit")
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
    before_src = widgets_ui.wait_for_settled_plot(explorer)
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
