"""Execute one notebook in a fresh kernel, defensively. Run by the grader as a subprocess::

    python -m lstm_teach.grading.runner NOTEBOOK --summary FILE --pidfile FILE \\
        --timeout-cell 60 --timeout-notebook 600

Why a subprocess: whatever the notebook does to this process (memory, a hung
kernel, a crash), the grader survives it and can kill the whole thing by its
process group. The scores do not come back through this process at all: each
``check()`` in the kernel appends its result to the file named by
``LSTM_TEACH_GRADING_RESULTS``, so points earned before a crash or a timeout
are kept.

Safeguards here:

* every cell runs with ``allow_errors`` (a failing cell does not stop the
  next) and a per-cell timeout that interrupts the kernel and moves on;
* a watchdog kills the kernel's process group when the whole-notebook time
  limit passes;
* outputs are counted, never stored (only error names and messages are kept,
  truncated), so a cell printing 10 MB costs no memory here;
* the kernel is the Python running this module (not whatever ``python3``
  kernelspec the machine has), its pid is written to ``--pidfile`` so the
  grader can clean up after a hard kill.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time

MAX_ERRORS = 20
MAX_TEXT = 300


def _truncate(text: str, limit: int = MAX_TEXT) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            pass


def _make_client(nb, args, summary):
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    class CurrentEnvSpecs(KernelSpecManager):
        """Always run the kernel with this interpreter (like nbval's --nbval-current-env)."""

        def get_kernel_spec(self, kernel_name):
            return KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name="Python 3 (grader)",
                language="python",
                resource_dir="",
            )

    class GradingClient(NotebookClient):
        """nbclient that records errors and timeouts and stores no outputs."""

        current_cell = -1
        output_bytes = 0

        def output(self, outs, msg, display_id, cell_index):
            content = msg.get("content", {})
            if msg.get("msg_type") == "error":
                if len(summary["errors"]) < MAX_ERRORS:
                    summary["errors"].append({
                        "cell": cell_index,
                        "error": _truncate(": ".join(
                            str(p) for p in (content.get("ename", "?"), content.get("evalue"))
                            if p)),
                    })
                return None
            for value in (content.get("text"), *(content.get("data") or {}).values()):
                if value:
                    self.output_bytes += len(value) if isinstance(value, str) else 100
            summary["output_bytes"] = self.output_bytes
            return None  # counted, not kept

        async def _async_handle_timeout(self, timeout, cell=None):
            if len(summary["errors"]) < MAX_ERRORS:
                summary["errors"].append({
                    "cell": self.current_cell,
                    "error": f"cell timed out after {timeout:g} s and was interrupted",
                })
            return await super()._async_handle_timeout(timeout, cell)

    def on_cell_start(cell, cell_index, **_):
        client.current_cell = cell_index

    def on_notebook_start(**_):
        pid = getattr(client.km.provisioner, "pid", None) if client.km else None
        if pid and args.pidfile:
            with open(args.pidfile, "w") as fh:
                fh.write(str(pid))
        summary["kernel_pid"] = pid

    # The async manager matters: with a blocking client nbclient's waits block its own event
    # loop, and a silent infinite loop in a cell would never reach the cell timeout.
    km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=CurrentEnvSpecs())
    client = GradingClient(
        nb,
        km=km,
        timeout=args.timeout_cell,
        startup_timeout=min(120.0, args.timeout_notebook),
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeoutError", "evalue": "cell timed out", "traceback": []},
        record_timing=False,
        store_widget_state=False,
        allow_stdin=False,
        resources={"metadata": {"path": os.getcwd()}},
        on_cell_start=on_cell_start,
        on_notebook_start=on_notebook_start,
    )
    return client


def run(args) -> dict:
    import nbformat

    summary = {"status": "ok", "errors": [], "output_bytes": 0, "kernel_pid": None}
    try:
        nb = nbformat.read(args.notebook, as_version=4)
    except Exception as exc:
        summary.update(status="invalid notebook", detail=_truncate(exc))
        return summary
    # Raw and markdown cells are inert; only code cells run.
    client = _make_client(nb, args, summary)
    timed_out = threading.Event()

    def watchdog():
        timed_out.set()
        pid = summary.get("kernel_pid")
        if pid:
            _kill_group(pid)

    timer = threading.Timer(args.timeout_notebook, watchdog)
    timer.daemon = True
    start = time.monotonic()
    timer.start()
    try:
        client.execute()
    except Exception as exc:  # dead kernel after the watchdog, or a kernel that died by itself
        if timed_out.is_set():
            summary.update(status="timeout",
                           detail=f"the notebook ran longer than {args.timeout_notebook:g} s")
        else:
            summary.update(status="kernel died", cell=client.current_cell,
                           detail=_truncate(f"the kernel died in cell {client.current_cell} "
                                            f"({type(exc).__name__}: {exc})"))
    finally:
        timer.cancel()
        pid = summary.get("kernel_pid")
        if pid:
            _kill_group(pid)  # nbclient has shut it down already; this only mops up leftovers
    summary["elapsed_s"] = round(time.monotonic() - start, 2)
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lstm_teach.grading.runner")
    parser.add_argument("notebook")
    parser.add_argument("--summary", required=True)
    parser.add_argument("--pidfile")
    parser.add_argument("--timeout-cell", type=float, default=60.0)
    parser.add_argument("--timeout-notebook", type=float, default=600.0)
    args = parser.parse_args(argv)
    try:
        summary = run(args)
    except Exception as exc:  # report, do not crash: the grader reads the summary
        summary = {"status": "runner failed", "detail": _truncate(f"{type(exc).__name__}: {exc}"),
                   "errors": []}
    with open(args.summary, "w", encoding="utf-8") as fh:
        json.dump(summary, fh)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
