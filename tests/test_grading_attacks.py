"""A dishonest learner's attacks on the grader, each graded for real.

The learner's kernel can always read the package, so it can always *compute* the
reference. What the grader can do is refuse to hide it: every disguise below
earned full marks with no flag before the static review learned about it.
Other attacks here go after the instructor's machine (memory through the
sandbox's tmpfs) and the class (links and FIFOs among the submissions).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
from pathlib import Path

import nbformat
import pytest
from grading_submissions import needs_bwrap, submission, write

from lstm_teach.grading import checks, review, sandbox
from lstm_teach.grading.classroom import grade_class
from lstm_teach.grading.grader import grade_notebook
from lstm_teach.grading.sandbox import Limits
from lstm_teach.grading.session import Session

REPO_ROOT = Path(__file__).resolve().parent.parent
SET = "01_iir_filter"
NAMES = ("iir_filter", "impulse_response", "classify_stability")


def notebook(kind: str, *extra: str):
    return submission(kind, SET, *extra)




_ENCODED = base64.b64encode(
    b"import lstm_teach.core.iir as L\n"
    b"iir_filter, impulse_response = L.iir_filter, L.impulse_response\n"
    b"classify_stability = L.classify_stability\n").decode()

#: Each answers all three exercises with the package's reference, disguised.
DISGUISES = {
    "exec of an encoded string": (
        f"import base64\nexec(base64.b64decode({_ENCODED!r}).decode())",),
    "importlib with computed names": ("""
import importlib as _il
_m = _il.import_module("lstm_" + "teach.core.i" + "ir")
def iir_filter(x, w, b):
    return _m.__dict__["iir_" + "filter"](x, w, b)
impulse_response = _m.__dict__["impulse_" + "response"]
classify_stability = _m.__dict__["classify_" + "stability"]
""",),
    "a pickle that imports it": ("""
import pickle
iir_filter = pickle.loads(b"clstm_teach.core.iir\\niir_filter\\n.")
impulse_response = pickle.loads(b"clstm_teach.core.iir\\nimpulse_response\\n.")
classify_stability = pickle.loads(b"clstm_teach.core.iir\\nclassify_stability\\n.")
""",),
    "vars() of the module": ("""
import lstm_teach as lt
_d = dict(vars(lt.core.iir))
iir_filter, impulse_response = _d["iir_filter"], _d["impulse_response"]
classify_stability = _d["classify_stability"]
""",),
    "getattr with computed names": ("""
import functools
import lstm_teach as lt
_m = functools.reduce(getattr, ["core", "iir"], lt)
iir_filter = getattr(_m, "iir" + "_filter")
impulse_response = getattr(_m, "impulse" + "_response")
classify_stability = getattr(_m, "classify" + "_stability")
""",),
    "the reference module run with %run": ("_m = 'lstm' + '_teach.core.iir'", "%run -m $_m"),
    "an alias imported in another cell": (
        "from lstm_teach.core.iir import iir_filter as _f, impulse_response as _g\n"
        "from lstm_teach.core.iir import classify_stability as _h",
        "def iir_filter(x, w, b):\n    return _f(x, w, b)\n\n"
        "def impulse_response(w, n):\n    return _g(w, n)\n\n"
        "def classify_stability(w):\n    return _h(w)\n"),
}


@pytest.mark.parametrize("disguise", sorted(DISGUISES))
def test_a_disguised_call_of_the_reference_needs_review(tmp_path, disguise):
    path = write(tmp_path / f"mallory_{SET}.ipynb",
                 notebook("exercises", *DISGUISES[disguise]))
    report = grade_notebook(path, 30.0, 120.0)
    rows = {row["name"]: row for row in report["exercises"]}
    assert [rows[n].get("points_if_accepted", rows[n]["points"]) for n in NAMES] == [2, 1, 2], \
        f"the disguise did not work, so the test proves nothing: {rows}"
    assert report["score"] == 0, rows
    assert {row["status"] for row in rows.values()} == {"needs review"}
    first_added = len(review.code_cells(notebook("exercises"))) + 1
    added = {f"code cell {first_added + i}," for i in range(len(DISGUISES[disguise]))}
    assert all(any(cell in row["review"] for cell in added) for row in rows.values()), rows


def test_the_course_notebooks_raise_no_review_flag():
    """The broader review must not flag the instructor's own exercises and solutions."""
    for folder in ("exercises", "solutions"):
        for path in sorted((REPO_ROOT / folder).glob("*.ipynb")):
            nb = json.loads(path.read_text(encoding="utf-8"))
            name = path.stem
            names = [ex.name for ex in checks.exercises_for(name)]
            assert review.reaching_into_the_grader(nb) == [], path
            assert review.leaning_on_reference(nb, review.targets_for(name, names, nb)) == {}, \
                path


def test_plain_getattr_and_imports_are_not_flagged():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import numpy as np\nimport math\n"
        "def iir_filter(x, w, b):\n"
        "    size = getattr(x, 'size', None)\n"
        "    return np.array([b * v for v in x])\n")])
    assert review.reaching_into_the_grader(nb) == []


@needs_bwrap
def test_the_sandbox_cannot_fill_the_machines_memory_through_its_scratch_space():
    """/tmp and /submission are tmpfs: RAM the memory limit does not see, so they are sized."""
    fill = """
import os

def fill(folder):
    written = 0
    try:
        for i in range(16):
            with open(os.path.join(folder, f"fill{i}"), "wb") as fh:
                for _ in range(8):
                    fh.write(b"x" * 2**20)
                    written += 1
    except OSError:
        pass
    return written

def probe():
    return [fill("/tmp"), fill("/submission"),
            os.path.getsize("/submission/submission.ipynb")]
"""
    data = (REPO_ROOT / "exercises" / f"{SET}.ipynb").read_bytes()
    session = Session(data, Limits(scratch_bytes=32 * 2**20))
    try:
        assert session.run_cell(fill, 30)["error"] is None
        tmp_mib, submission_mib, notebook_size = session.call("probe", (), {}, 60)
    finally:
        session.close()
    assert notebook_size == len(data), "the working copy is in the sandbox"
    assert 24 <= tmp_mib <= 32, tmp_mib  # 128 MiB without the size
    assert 24 <= submission_mib <= 32, submission_mib


def test_links_fifos_and_devices_among_the_submissions_are_refused(tmp_path):
    """A link to a classmate's notebook earned the classmate's marks; a FIFO hung the class."""
    bob = write(tmp_path / "class" / "bob" / f"{SET}.ipynb", notebook("solutions"))
    (tmp_path / "class" / "mallory").mkdir()
    mallory = tmp_path / "class" / "mallory" / f"{SET}.ipynb"
    mallory.symlink_to(Path("..") / "bob" / f"{SET}.ipynb")
    eve = tmp_path / "class" / f"eve_{SET}.ipynb"
    os.mkfifo(eve)
    trudy = tmp_path / "class" / f"trudy_{SET}.ipynb"
    trudy.symlink_to("/dev/zero")
    reports = {}

    def run():
        for report in grade_class([bob, mallory, eve, trudy], timeout_cell=30.0,
                                  timeout_notebook=120.0):
            reports[report["notebook"]] = report

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(180)
    if worker.is_alive():  # unblock the FIFO so the thread can end, then fail
        fd = os.open(eve, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        pytest.fail("a FIFO among the submissions stalled the whole class")
    assert reports[str(bob)]["score"] == 5
    assert reports[str(mallory)]["score"] == 0, "graded the classmate's notebook"
    for path, why in ((mallory, "it is a symbolic link (to ../bob/"),
                      (eve, "it is not a regular file"), (trudy, "symbolic link (to /dev/zero)")):
        assert reports[str(path)]["status"] == "invalid notebook", reports[str(path)]
        assert why in reports[str(path)]["reason"], reports[str(path)]["reason"]


def test_identical_files_that_earn_points_are_noted(tmp_path):
    solved = notebook("solutions")
    alice = write(tmp_path / f"alice_{SET}.ipynb", solved)
    carol = write(tmp_path / f"carol_{SET}.ipynb", solved)
    fresh = [write(tmp_path / f"{who}_{SET}.ipynb", notebook("exercises"))
             for who in ("dan", "erin")]
    reports = grade_class([alice, carol, *fresh], timeout_cell=30.0, timeout_notebook=120.0)
    assert f"byte for byte the same file as {carol}" in reports[0]["notes"]
    assert f"byte for byte the same file as {alice}" in reports[1]["notes"]
    assert not any("byte for byte" in note for r in reports[2:] for note in r["notes"]), \
        "untouched exercises are alike and worth nothing: no note"


def _cgroup_available(make) -> bool:
    """Whether ``make(Limits())`` can create its cgroup here (root, writable cgroup fs)."""
    group = make(Limits()) if os.geteuid() == 0 else None
    if group is not None:
        group.rmdir()
    return group is not None


def needs_cgroup(make, kind: str, otherwise: str):
    """Skip, with the reason, where the ``kind`` cgroup that ``make`` creates cannot be made."""
    return pytest.mark.skipif(not _cgroup_available(make), reason=(
        f"no {kind} cgroup can be made here (the grader is not root, or the cgroup file "
        f"system is read-only): {otherwise}"))


@needs_bwrap
@needs_cgroup(sandbox._make_memory_cgroup, "memory", "the limit is per process only")
def test_forked_processes_share_one_memory_limit():
    """RLIMIT_AS is per process: four children of 400 MiB each held 1.6 GiB under a 1 GiB limit."""
    fork_and_hold = """
import os, time

def probe():
    children = []
    for _ in range(4):
        pid = os.fork()
        if pid == 0:
            try:
                block = b"x" * (400 * 2**20)
                time.sleep(3)
            except MemoryError:
                os._exit(3)
            os._exit(0)
        children.append(pid)
    return [os.waitpid(pid, 0)[1] for pid in children]
"""
    session = Session(b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
                      Limits(memory_bytes=2**30, scratch_bytes=32 * 2**20))
    try:
        group = session.sandbox.memory_cgroup
        assert group is not None and group.is_dir()
        assert session.run_cell(fork_and_hold, 30)["error"] is None
        statuses = session.call("probe", (), {}, 60)
    finally:
        session.close()
    assert not group.exists(), "the cgroup is removed with the sandbox"
    held = sum(1 for status in statuses if status == 0)
    assert held <= 2, f"{held} children held 400 MiB each under a 1 GiB limit: {statuses}"


def test_a_huge_cell_cannot_stall_the_review_and_is_flagged():
    """The review runs unconfined, in the grader: 0.8 MB of code took ~20 s and 400 MiB."""
    import time

    nb = notebook("exercises", "x = [1]\n" * 100_000, "y = 2")
    start = time.monotonic()
    found = review.reaching_into_the_grader(nb)
    names = list(NAMES)
    review.leaning_on_reference(nb, review.targets_for(SET, names, nb))
    review.checkpoints(nb, names)
    assert time.monotonic() - start < 5.0
    first_added = len(review.code_cells(notebook("exercises"))) + 1
    assert found == [f"code cell {first_added}: too much code to review (800,000 characters)"]


@pytest.mark.parametrize("state", [
    {"bit_generator": "PCG64", "state": {"state": 2**200, "inc": 1}, "has_uint32": 0,
     "uinteger": 0},
    {"bit_generator": "PCG64", "state": {"state": -1, "inc": 1}, "has_uint32": 0, "uinteger": 0},
    {"bit_generator": "MT19937", "state": {"key": [2**70] * 624, "pos": 0}},
])
def test_a_forged_generator_state_is_a_channel_error(state):
    """It raised OverflowError, which the session did not expect from a reply."""
    from lstm_teach.grading.channel import ChannelError, decode

    with pytest.raises(ChannelError, match="invalid generator state"):
        decode({"G": {"name": state["bit_generator"], "state": state}})


def _answer_table() -> dict:
    """The reference's answers to every input the checks give in the learner's kernel."""
    import numpy as np

    from lstm_teach.core import iir

    table: dict = {}

    def recording(name):
        def answer(*args):
            out = getattr(iir, name)(*args)
            key = json.dumps([np.asarray(v).round(12).tolist() for v in args])
            table.setdefault(name, {})[key] = out if isinstance(out, str) else out.tolist()
            return out
        return answer

    for ex in checks.exercises_for(SET):
        assert checks.evaluate(ex, recording(ex.name)).passed
    return table


#: Answers by table lookup; ``_TABLE`` comes from a cell before this one.
_LOOKUP = """
import json
import numpy as np

def _look(name, *args):
    out = _TABLE[name][json.dumps([np.asarray(v).round(12).tolist() for v in args])]
    return out if isinstance(out, str) else np.array(out)

def iir_filter(x, w, b):
    return _look("iir_filter", x, w, b)

def impulse_response(w, n):
    return _look("impulse_response", w, n)

def classify_stability(w):
    return _look("classify_stability", w)
"""


def test_the_answer_table_is_complete_for_the_fixed_inputs():
    """So the attacks below prove something: in the learner's kernel the table earns 5/5."""
    namespace = {"_TABLE": _answer_table()}
    exec(_LOOKUP, namespace)  # noqa: S102 - the attack's own code, run in the test
    for ex in checks.exercises_for(SET):
        assert checks.evaluate(ex, namespace[ex.name]).passed, ex.name
        assert not checks.evaluate(ex, namespace[ex.name], probe_secret=7).passed, ex.name


def test_a_table_of_answers_computed_elsewhere_scores_nothing_and_needs_review(tmp_path):
    """The grader's inputs are secret, so a table of the public fixed inputs' answers misses.

    The plain form (a big literal) is flagged too, as before.
    """
    table = _answer_table()
    lookup = f"_TABLE = json.loads({json.dumps(json.dumps(table))})\n" + _LOOKUP
    path = write(tmp_path / f"mallory_{SET}.ipynb",
                 notebook("exercises", "import json", lookup))
    report = grade_notebook(path, 30.0, 120.0)
    rows = {row["name"]: row for row in report["exercises"]}
    assert [rows[n]["points_if_accepted"] for n in NAMES] == [0, 0, 0], rows
    assert report["score"] == 0, rows
    assert {row["status"] for row in rows.values()} == {"needs review"}
    assert "_TABLE = json.loads(" in report["review"][0]
    assert all("KeyError" in rows[n]["message"] for n in NAMES), rows


def test_a_table_the_review_cannot_see_scores_nothing(tmp_path):
    """The table in a markdown cell, read back from the notebook's own file: no flag, no points.

    Before the grader's inputs were secret, this earned full marks unflagged.
    """
    table = _answer_table()
    nb = notebook("exercises")
    nb.cells.append(nbformat.v4.new_markdown_cell("<!-- answers " + json.dumps(table) + " -->"))
    nb.cells.append(nbformat.v4.new_code_cell(
        "import json\n"
        "_cells = json.load(open('submission.ipynb'))['cells']\n"
        "_texts = [''.join(c['source']) for c in _cells if c['cell_type'] == 'markdown']\n"
        "_text = next(t for t in _texts if t.startswith('<!-- answers '))\n"
        "_TABLE = json.loads(_text[len('<!-- answers '):-len(' -->')])\n" + _LOOKUP))
    path = write(tmp_path / f"mallory_{SET}.ipynb", nb)
    report = grade_notebook(path, 30.0, 120.0)
    rows = {row["name"]: row for row in report["exercises"]}
    assert report["review"] == [] and all(row["review"] is None for row in rows.values()), rows
    assert report["cell_errors"] == [], report["cell_errors"]  # the table was read
    assert report["score"] == 0, rows
    assert all(rows[n]["status"] == "failed" and "KeyError" in rows[n]["message"]
               for n in NAMES), rows


#: Looks for the grader's secret everywhere the sandbox can look, knowing only hashes of
#: its spellings (decimal, hex): the environment, the command lines and environments of
#: every process it can see, files in its working directory, home and /tmp, the globals
#: of every module loaded, and the arguments it is called with.
SEARCH = """
import hashlib, os, re, sys

def _hashes_in(text, lengths):
    for run in re.findall(r"[0-9a-fA-F]{8,}", text):
        run = run.lower()
        for size in lengths:
            for start in range(len(run) - size + 1):
                yield hashlib.sha256(run[start:start + size].encode()).hexdigest()

def _read(path, limit=200_000):
    try:
        with open(path, "rb") as fh:
            return fh.read(limit).decode("latin-1")
    except OSError:
        return ""

def _places(args):
    yield "environ", repr(dict(os.environ))
    yield "argv", repr(sys.argv)
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            for part in ("cmdline", "environ"):
                yield f"/proc/{pid}/{part}", _read(f"/proc/{pid}/{part}")
    seen = 0
    for top in (os.getcwd(), os.path.expanduser("~"), "/tmp"):
        for root, _dirs, files in os.walk(top):
            for name in files:
                seen += 1
                if seen <= 500:
                    yield os.path.join(root, name), _read(os.path.join(root, name))
    for mod in list(sys.modules.values()):
        for value in list(getattr(mod, "__dict__", {}).values()):
            if isinstance(value, int) and not isinstance(value, bool):
                yield "module globals", str(value) + " " + format(value, "x")
    yield "arguments", repr(args) + " " + " ".join(
        getattr(a, "tobytes", lambda: b"")().hex() for a in args)

def search(wanted, lengths, *args):
    return sorted({where for where, text in _places(args)
                   if any(h in wanted for h in _hashes_in(text, lengths))})
"""


def _spellings(secret: int) -> tuple[set, list]:
    forms = {str(secret), format(secret, "x"), format(secret, "016x")}
    return ({hashlib.sha256(f.encode()).hexdigest() for f in forms},
            sorted({len(f) for f in forms}))


def test_the_search_finds_a_secret_where_it_is(monkeypatch):
    """The search below works: run here, it finds a planted secret in the environment."""
    secret = 2**63 + 12345
    wanted, lengths = _spellings(secret)
    namespace: dict = {}
    exec(SEARCH, namespace)  # noqa: S102
    monkeypatch.setenv("PLANTED", f"x{secret:x}y")
    assert "environ" in namespace["search"](wanted, lengths)
    monkeypatch.delenv("PLANTED")
    assert "environ" not in namespace["search"](wanted, lengths)


def test_the_secret_never_reaches_the_sandbox_and_every_grading_draws_new_inputs(
        tmp_path, monkeypatch):
    import hashlib as _hashlib

    from lstm_teach.grading import grader

    secret = secrets.randbits(64) | 1 << 63  # 20 decimal digits, 16 hex digits
    monkeypatch.setattr(grader, "new_probe_secret", lambda: secret)
    wanted, lengths = _spellings(secret)
    answer = SEARCH + f"""
import hashlib
WANTED, LENGTHS = {sorted(wanted)!r}, {lengths!r}
def iir_filter(x, w, b):
    found = search(set(WANTED), LENGTHS, x, w, b)
    raise ValueError(f"FOUND {{found}} INPUT {{hashlib.sha256(x.tobytes()).hexdigest()[:16]}}")
"""
    path = write(tmp_path / f"eve_{SET}.ipynb", notebook("exercises", answer))
    leaky = sandbox.sandbox_env
    monkeypatch.setattr(sandbox, "sandbox_env", lambda: {**leaky(), "LEAK": str(secret)})
    leaked = grade_notebook(path, 60.0, 180.0)  # the search, in the sandbox, finds a leak
    message = {row["name"]: row for row in leaked["exercises"]}["iir_filter"]["message"]
    assert "FOUND [" in message and "'environ'" in message, message
    monkeypatch.setattr(sandbox, "sandbox_env", leaky)

    first = grade_notebook(path, 60.0, 180.0)
    message = {row["name"]: row for row in first["exercises"]}["iir_filter"]["message"]
    assert "FOUND [] INPUT" in message, message
    assert str(secret) not in json.dumps(first) and f"{secret:x}" not in json.dumps(first)

    monkeypatch.undo()  # a real secret again
    second = grade_notebook(path, 60.0, 180.0)
    again = {row["name"]: row for row in second["exercises"]}["iir_filter"]["message"]
    assert "FOUND [] INPUT" in again, again
    fixed = checks.probe_rng(0).normal(size=9)  # the learner's kernel's first input
    digests = {m.split("INPUT ")[1][:16] for m in (message, again)}
    assert len(digests) == 2, (message, again)
    assert _hashlib.sha256(fixed.tobytes()).hexdigest()[:16] not in digests


@needs_bwrap
def test_an_old_bwrap_without_size_still_grades_and_says_the_scratch_is_unlimited(
        monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap_sizes_tmpfs", lambda path: False)
    data = (REPO_ROOT / "exercises" / f"{SET}.ipynb").read_bytes()
    session = Session(data, Limits())
    try:
        assert session.dead_reason is None, session.dead_reason
        assert any("no size limit" in note for note in session.notes), session.notes
        assert session.run_cell("import os\nsize = lambda: os.path.getsize("
                                "'/submission/submission.ipynb')", 30)["error"] is None
        assert session.call("size", (), {}, 30) == len(data)
    finally:
        session.close()


def test_a_file_name_cannot_put_a_formula_in_the_gradebook(tmp_path):
    """The student column comes from the file name; a spreadsheet runs '=...' as a formula."""
    import csv

    from lstm_teach.grading.classroom import summary_rows, write_summary_csv

    path = write(tmp_path / f"=HYPERLINK(1)_{SET}.ipynb", notebook("exercises"))
    reports = grade_class([path], timeout_cell=30.0, timeout_notebook=120.0)
    write_summary_csv(tmp_path / "grades.csv", summary_rows(reports))
    with open(tmp_path / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [row["student"] for row in rows] == ["'=HYPERLINK(1)"] * 3
    assert all(not value.startswith(("=", "+", "-", "@")) for row in rows
               for value in row.values())


def test_the_console_report_carries_no_terminal_escapes(tmp_path):
    """A cell error is the learner's text: '\\x1b[2K\\r' could repaint a line as a pass."""
    from lstm_teach.grading.grader import format_report

    forged = 'raise RuntimeError("\\x1b[2K\\r    ✅ iir_filter  2/2  passed\\x1b]0;title\\x07")'
    path = write(tmp_path / f"mallory_{SET}.ipynb", notebook("exercises", forged))
    text = format_report(grade_notebook(path, 30.0, 120.0))
    assert "passed" in text and "RuntimeError" in text
    assert not any(ch in text for ch in "\x1b\r\x07"), repr(text)


@needs_bwrap
@needs_cgroup(sandbox._make_cpu_cgroup, "cpu", "parallel jobs share the CPU unfairly")
def test_busy_processes_are_throttled_to_the_submissions_cores():
    """Three busy processes would take both cores from the other --jobs worker."""
    spin = """
import os, time

def probe(seconds):
    readers = []
    for _ in range(3):
        read_end, write_end = os.pipe()
        if os.fork() == 0:
            start_wall, start_cpu = time.monotonic(), time.process_time()
            while time.monotonic() - start_wall < seconds:
                pass
            os.write(write_end, repr(time.process_time() - start_cpu).encode())
            os._exit(0)
        os.close(write_end)
        readers.append(read_end)
    return [float(os.read(fd, 64)) for fd in readers]
"""
    cores, seconds = 0.2, 2.0  # a small cap: throttled even when the machine is busy
    session = Session(b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
                      Limits(cpus=cores, scratch_bytes=32 * 2**20))
    try:
        group = session.sandbox.cpu_cgroup
        assert group is not None and group.is_dir()
        assert session.run_cell(spin, 30)["error"] is None
        used = session.call("probe", (seconds,), {}, 60)
        stat = dict(line.split() for line in (group / "cpu.stat").read_text().splitlines())
    finally:
        session.close()
    assert not group.exists(), "the cgroup is removed with the sandbox"
    assert int(stat.get("nr_throttled", 0)) > 0, stat
    # unthrottled, three spinners on two cores use up to 2 x 2 s of CPU; capped, 0.2 x 2 s
    assert sum(used) < cores * seconds * 1.3 + 0.2, used


def test_a_sigmoid_that_overflows_fails_when_graded_as_in_the_notebook(tmp_path):
    """The check's np.errstate holds in the sandbox: exp(1000) raises there as in-process.

    Before, the grader's errstate stayed in the grader, the overflow was a mere warning in
    the sandbox, 1 / (1 + inf) = 0 is the right value, and the unstable sigmoid passed.
    """
    nb = nbformat.read(REPO_ROOT / "exercises" / "03_gated_cell.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n"))
    path = write(tmp_path / "bob_03_gated_cell.ipynb", nb)
    report = grade_notebook(path, 60.0, 200.0)
    row = {row["name"]: row for row in report["exercises"]}["stable_sigmoid"]
    assert row["status"] == "failed" and row["points"] == 0, row
    assert "FloatingPointError" in row["message"], row["message"]
    assert "np.exp(-z) overflows for z = -1000" in row["message"], row["message"]
