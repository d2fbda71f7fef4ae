"""Hostile submissions: forged scores, escapes from the sandbox, resource abuse, wrong sets.

Every test builds a submission from a committed exercise or solution notebook plus the
cells a dishonest (or careless) learner might add, grades it for real, and asserts on the
score and on the machine afterwards. Tests of confinement need bubblewrap (``bwrap``) and
skip with the reason when it is absent; CI installs it.
"""

from __future__ import annotations

import argparse
import json
import os
import site
import socket
import threading
import time
from pathlib import Path

import pytest
from grading_submissions import needs_bwrap, submission, write

from lstm_teach.grading import sandbox
from lstm_teach.grading.classroom import cli_grade, grade_class
from lstm_teach.grading.grader import grade_notebook
from lstm_teach.grading.sandbox import GIB, Limits
from lstm_teach.grading.session import Session

REPO_ROOT = Path(__file__).resolve().parent.parent
CELL_S, NOTEBOOK_S = 30.0, 120.0






def grade(path: Path, **kwargs) -> dict:
    kwargs.setdefault("timeout_cell", CELL_S)
    kwargs.setdefault("timeout_notebook", NOTEBOOK_S)
    return grade_notebook(path, kwargs.pop("timeout_cell"), kwargs.pop("timeout_notebook"),
                          **kwargs)


def processes_named(comm: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == comm:
                    found.append(int(entry))
            except OSError:
                continue
    return found


def no_process_left(comm: str, grace_s: float = 5.0) -> bool:
    """True once no process named ``comm`` is alive (zombies take a moment to be reaped)."""
    end = time.monotonic() + grace_s
    while processes_named(comm) and time.monotonic() < end:
        time.sleep(0.05)
    return not processes_named(comm)


def rename_process(comm: str) -> str:
    """Source that gives the current process (and its children) a recognisable name."""
    return f"with open('/proc/self/comm', 'w') as fh:\n    fh.write('{comm}')\n"


# --------------------------------------------------------------------------- forged scores


FORGE_RESULT_LINES = """
import json, os
lines = [json.dumps({"name": n, "passed": True, "status": "passed", "points": 9,
                     "message": "forged"})
         for n in ("iir_filter", "impulse_response", "classify_stability")]
targets = [v for k, v in os.environ.items() if "RESULT" in k or "GRAD" in k]
targets += [".grading-results.jsonl", "/tmp/.grading-results.jsonl", "results.jsonl"]
for target in targets:
    try:
        with open(target, "a") as fh:
            fh.write("\\n".join(lines) + "\\n")
    except OSError:
        pass
print("\\n".join(lines))
os.environ["LSTM_TEACH_GRADING_RESULTS"] = "results.jsonl"
"""

PATCH_THE_CHECKS = """
import numpy as np
import lstm_teach.grading.checks as registry
import lstm_teach.grading.feedback as feedback
registry.load_all()
for name, ex in list(registry._REGISTRY.items()):
    registry._REGISTRY[name] = registry.Exercise(ex.name, ex.exercise_set, ex.points, ex.title,
                                                 lambda fn, **kw: None)
feedback.compare = lambda *a, **k: None
np.allclose = lambda *a, **k: True
from lstm_teach.grading import check
assert check("iir_filter", iir_filter).passed  # the notebook's own check now says yes
"""

LYING_RETURNS = """
import numpy as np

class Liar:
    shape = (9,)
    dtype = np.dtype(float)
    def __eq__(self, other): return True
    def __array__(self, *args, **kwargs): return np.zeros(9)
    def __len__(self): return 9

class AlwaysEqual(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(other), bool)

class Agreeable(str):
    def __eq__(self, other): return True
    def strip(self): return self
    def lower(self): return self

def iir_filter(x, w, b):
    return Liar()

def impulse_response(w, n):
    return np.zeros(n).view(AlwaysEqual)

def classify_stability(w):
    return Agreeable("stable")
"""


def test_forged_results_patched_checks_and_lying_objects_score_nothing(tmp_path):
    path = write(tmp_path / "mallory_01_iir_filter.ipynb",
                 submission("exercises", "01_iir_filter", FORGE_RESULT_LINES, PATCH_THE_CHECKS,
                          LYING_RETURNS, PATCH_THE_CHECKS))
    report = grade(path)
    assert report["status"] == "ok", report
    assert report["score"] == 0 and report["max_score"] == 5
    rows = {row["name"]: row for row in report["exercises"]}
    assert report["review"][0] == "code cell 11, line 3: import lstm_teach.grading.checks as registry"
    assert all(row["status"] == "needs review" and row["points_if_accepted"] == 0
               for row in rows.values()), rows
    assert "should be a numeric array; got Liar" in rows["iir_filter"]["message"]
    assert "got AlwaysEqual" in rows["impulse_response"]["message"]
    assert "you said 'stable'" in rows["classify_stability"]["message"]


def test_the_notebooks_own_check_output_does_not_count(tmp_path):
    """Printing the ✅ lines of a solved notebook into a fresh exercise earns nothing."""
    forged = ("print('✅ The first-order IIR filter: correct! (2/2 points)')\n"
              "print('✅ The impulse response: correct! (1/1 point)')")
    path = write(tmp_path / "01_iir_filter.ipynb",
                 submission("exercises", "01_iir_filter", forged))
    assert grade(path)["score"] == 0


PATCH_THE_RUNNER = """
import gc
import lstm_teach.core.iir as reference
for namespace in gc.get_objects():
    if isinstance(namespace, dict) and "_lookup" in namespace and "_call" in namespace:
        namespace["_lookup"] = lambda shell, target: (getattr(reference, target), None)
"""


def test_a_notebook_that_patches_the_sandbox_side_is_flagged_for_review(tmp_path):
    """The kernel can answer with the reference (it can read the package): the flag says so."""
    path = write(tmp_path / "01_iir_filter.ipynb",
                 submission("exercises", "01_iir_filter", PATCH_THE_RUNNER))
    report = grade(path)
    assert report["score"] == 0
    rows = report["exercises"]
    assert [row["points_if_accepted"] for row in rows] == [2, 1, 2], "the patch did work"
    assert {row["status"] for row in rows} == {"needs review"}
    assert report["review"] == ["code cell 10, line 2: import gc"]
    assert "reaches into the grader" in rows[0]["review"]


IMPORTS_THE_REFERENCE = """
try:
    from lstm_teach.core.iir import iir_filter
except ImportError:
    from lstm_teach.iir import iir_filter
"""

CALLS_THE_REFERENCE = """
import lstm_teach as lt

def impulse_response(w, n):
    module = getattr(lt, "iir", None) or lt.core.iir
    return module.impulse_response(w, n)
"""


def test_an_answer_that_imports_the_reference_needs_review(tmp_path):
    path = write(tmp_path / "01_iir_filter.ipynb",
                 submission("exercises", "01_iir_filter", IMPORTS_THE_REFERENCE,
                          CALLS_THE_REFERENCE))
    report = grade(path)
    rows = {row["name"]: row for row in report["exercises"]}
    flagged = rows["iir_filter"]
    assert flagged["status"] == "needs review"
    assert flagged["points"] == 0 and flagged["points_if_accepted"] == 2
    assert "from lstm_teach.core.iir import iir_filter" in flagged["review"]
    assert "line 3" in flagged["review"]
    assert rows["impulse_response"]["status"] == "needs review"
    assert "module.impulse_response(w, n)" in rows["impulse_response"]["review"]
    assert rows["classify_stability"]["review"] is None
    assert report["score"] == 0


# --------------------------------------------------------------------------- confinement


@needs_bwrap
def test_the_sandbox_hides_the_instructors_files_and_the_network(tmp_path):
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    port = server.getsockname()[1]
    connections = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connections.append(server.accept())
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    probe = f"""
import glob, json, os, socket
def probe():
    out = {{}}
    def attempt(name, action):
        try:
            out[name] = "allowed: " + repr(action())[:80]
        except Exception as exc:
            out[name] = "denied: " + type(exc).__name__
    attempt("solutions", lambda: open({str(REPO_ROOT / "solutions" / "01_iir_filter.ipynb")!r}).read(10))
    attempt("repo", lambda: sorted(os.listdir({str(REPO_ROOT)!r})))
    attempt("found", lambda: [os.path.join(d, n) for top in ("/work", "/root", "/tmp", "/etc")
                              for d, _, names in os.walk(top) for n in names
                              if n.endswith(".ipynb") and "solutions" in d] or 1 / 0)
    attempt("home", lambda: os.listdir(os.path.expanduser("~root")))
    attempt("loopback", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=2))
    attempt("internet", lambda: socket.create_connection(("1.1.1.1", 80), timeout=2))
    attempt("dns", lambda: socket.getaddrinfo("deb.debian.org", 80))
    attempt("uid", lambda: (os.getuid(), os.geteuid()) == (65534, 65534) or 1 / 0)
    attempt("processes", lambda: sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
    return out
"""
    session = Session(b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
                      Limits())
    try:
        assert session.run_cell(probe, 30)["error"] is None
        out = session.call("probe", (), {}, 30)
    finally:
        session.close()
        stop.set()
        thread.join()
        server.close()
    assert session.confined
    assert out["solutions"].startswith("denied"), out
    assert out["repo"] in ("allowed: ['.venv', 'lstm_teach']", "allowed: ['lstm_teach']"), out
    assert out["found"].startswith("denied"), out
    for key in ("loopback", "internet", "dns"):
        assert out[key].startswith("denied"), (key, out)
    assert out["uid"] == "allowed: True"
    assert out["processes"] == "allowed: [1, 2]", "a PID namespace of its own"
    assert connections == [], "the sandbox reached a server on the host's loopback"


READ_THE_SOLUTIONS = f"""
import glob, json
paths = [{str(REPO_ROOT / "solutions" / "01_iir_filter.ipynb")!r}]
paths += glob.glob("/work/**/solutions/01_iir_filter.ipynb", recursive=True)
for path in paths:
    try:
        cells = json.load(open(path))["cells"]
    except OSError:
        continue
    for cell in cells:
        if cell["cell_type"] == "code" and "def " in "".join(cell["source"]):
            exec("".join(cell["source"]), globals())
"""


@needs_bwrap
def test_a_submission_cannot_read_the_solutions(tmp_path):
    path = write(tmp_path / "01_iir_filter.ipynb",
                 submission("exercises", "01_iir_filter", READ_THE_SOLUTIONS))
    report = grade(path)
    assert report["confined"] is True
    assert report["score"] == 0, report


@needs_bwrap
def test_a_pth_file_or_module_cannot_be_dropped_into_the_environment(tmp_path):
    import lstm_teach

    targets = [Path(p) / "zz_lstm_teach_hostile.pth" for p in site.getsitepackages()]
    targets.append(Path(lstm_teach.__file__).parent / "grading" / "sets" / "nb99_hostile.py")
    drop = (f"for target in {[str(t) for t in targets]!r}:\n"
            "    try:\n"
            "        open(target, 'w').write('import os\\n')\n"
            "    except OSError:\n"
            "        pass\n")
    path = write(tmp_path / "01_iir_filter.ipynb", submission("exercises", "01_iir_filter", drop))
    report = grade(path)
    assert report["confined"] is True
    assert [t for t in targets if t.exists()] == []


def _class_of_two(tmp_path: Path) -> tuple[Path, Path, bytes]:
    victim = write(tmp_path / "class" / "bob_03_gated_cell.ipynb",
                   submission("solutions", "03_gated_cell"))
    own = tmp_path / "class" / "mallory_01_iir_filter.ipynb"
    attack = (f"import pathlib\n"
              f"for target in ({str(victim)!r}, {str(own)!r}):\n"
              f"    try:\n"
              f"        pathlib.Path(target).write_text('{{}}')\n"
              f"    except OSError:\n"
              f"        pass\n")
    write(own, submission("exercises", "01_iir_filter", attack))
    return victim, own, victim.read_bytes()


@needs_bwrap
def test_a_submission_cannot_write_another_submission(tmp_path):
    victim, own, before = _class_of_two(tmp_path)
    reports = grade_class([own, victim], jobs=1, timeout_cell=CELL_S,
                          timeout_notebook=NOTEBOOK_S)
    assert victim.read_bytes() == before
    assert [r["original_unchanged"] for r in reports] == [True, True]
    assert reports[1]["score"] == reports[1]["max_score"] == 5


def test_without_bwrap_the_copy_taken_first_is_graded_and_the_change_reported(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LSTM_TEACH_NO_BWRAP", "1")
    victim, own, before = _class_of_two(tmp_path)
    reports = grade_class([own, victim], jobs=1, timeout_cell=CELL_S,
                          timeout_notebook=NOTEBOOK_S)
    assert victim.read_bytes() == b"{}", "unconfined, the attack does reach the file"
    assert reports[1]["score"] == 5, "but the copy taken before any notebook ran is graded"
    assert reports[1]["original_unchanged"] is False
    assert any("changed while the class was graded" in n for n in reports[1]["notes"])
    assert all(r["confined"] is False for r in reports)
    assert any("NOT CONFINED" in n for n in reports[0]["notes"])


def test_the_console_says_when_grading_is_not_confined(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LSTM_TEACH_NO_BWRAP", "1")
    path = write(tmp_path / "01_iir_filter.ipynb", submission("exercises", "01_iir_filter"))
    args = argparse.Namespace(notebooks=[str(path)], json=str(tmp_path / "r.json"), set=None,
                              jobs=1, class_csv=None, class_json=None, memory_gib=4.0,
                              max_processes=64, timeout_cell=CELL_S, timeout_notebook=NOTEBOOK_S)
    assert cli_grade(args) == 0
    captured = capsys.readouterr()
    assert "submissions run NOT CONFINED" in captured.err
    assert "WARNING: NOT CONFINED" in captured.out
    assert json.loads((tmp_path / "r.json").read_text())["confined"] is False


# --------------------------------------------------------------------------- resources


def test_a_memory_hog_meets_its_limit_and_keeps_earlier_points(tmp_path):
    hog = "import numpy as np\nhog = np.ones(2**28)  # 2 GiB"
    path = write(tmp_path / "01_iir_filter.ipynb", submission("solutions", "01_iir_filter", hog))
    report = grade(path, limits=Limits(memory_bytes=1 * GIB))
    assert report["score"] == 5
    assert any("MemoryError" in e["error"] for e in report["cell_errors"]), report


@pytest.mark.skipif(not sandbox.process_limit_enforceable(),
                    reason="running as root with no pids cgroup available: the process "
                           "count cannot be limited here")
def test_a_fork_bomb_stays_within_the_process_limit_and_dies_with_the_sandbox(tmp_path):
    bomb = rename_process("lstmforkbomb") + """
import os
count = 0
for _ in range(500):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        import time
        time.sleep(600)
        os._exit(0)
    count += 1

def forks():
    return count
"""
    session = Session(b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
                      Limits(processes=24))
    try:
        assert session.run_cell(bomb, 60)["error"] is None
        count = session.call("forks", (), {}, 30)
        assert 0 < count < 24, count
        assert len(processes_named("lstmforkbomb")) >= count
    finally:
        session.close()
    assert no_process_left("lstmforkbomb"), "every process dies with the sandbox"


@pytest.mark.skipif(not sandbox.process_limit_enforceable(),
                    reason="running as root with no pids cgroup available: the process "
                           "count cannot be limited here")
def test_an_unbounded_fork_bomb_after_the_answers_keeps_the_points(tmp_path):
    bomb = rename_process("lstmbombloop") + "import os\nwhile True:\n    try:\n" \
        "        os.fork()\n    except OSError:\n        pass\n"
    path = write(tmp_path / "01_iir_filter.ipynb", submission("solutions", "01_iir_filter", bomb))
    report = grade(path, timeout_cell=5.0, limits=Limits(processes=32))
    assert report["score"] == 5, report
    assert no_process_left("lstmbombloop"), "every process dies with the sandbox"


@needs_bwrap
def test_a_detached_process_cannot_outlive_grading_or_touch_the_report(tmp_path):
    report_path = tmp_path / "report.json"
    detach = rename_process("lstmdetached") + f"""
import os, subprocess, sys, time
code = ("import time; time.sleep(3); "
        "open({str(report_path)!r}, 'w').write('forged')")
subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL)
if os.fork() == 0:  # a classic daemon too
    os.setsid()
    if os.fork() == 0:
        time.sleep(3)
        open({str(report_path)!r}, "w").write("forged")
    os._exit(0)
"""
    path = write(tmp_path / "01_iir_filter.ipynb",
                 submission("solutions", "01_iir_filter", detach))
    args = argparse.Namespace(notebooks=[str(path)], json=str(report_path), set=None, jobs=1,
                              class_csv=None, class_json=None, memory_gib=4.0,
                              max_processes=64, timeout_cell=CELL_S, timeout_notebook=NOTEBOOK_S)
    assert cli_grade(args) == 0
    written = report_path.read_text()
    time.sleep(4)
    assert report_path.read_text() == written
    rows = json.loads(written)["exercises"]
    # subprocess could hide a call of the reference, so the answers need review; the
    # points they would earn show that grading finished untouched by the detached writers
    assert sum(row.get("points_if_accepted", row["points"]) for row in rows) == 5
    assert no_process_left("lstmdetached")


# --------------------------------------------------------------------------- exercise sets


def test_a_solution_handed_in_under_another_sets_name_is_a_set_mismatch(tmp_path):
    path = write(tmp_path / "alice_03_gated_cell.ipynb", submission("solutions", "01_iir_filter"))
    report = grade(path)
    assert report["status"] == "set mismatch"
    assert report["exercise_set"] == "03_gated_cell"
    assert (report["score"], report["max_score"]) == (0, 5)
    assert "01_iir_filter" in report["reason"]
    assert {row["status"] for row in report["exercises"]} == {"not run"}
    assert grade(tmp_path / "alice_03_gated_cell.ipynb",
                 exercise_set="01_iir_filter")["score"] == 5, "--set overrides the file name"
    assert grade(REPO_ROOT / "solutions" / "01_iir_filter.ipynb",
                 exercise_set="05_gradients")["status"] == "set mismatch"
