"""A second round of attacks on the grader: the channel, the sandbox's own files, the notebook
JSON and the kernel's execution engine. Each was a hole until the fix its test names.

Every attack runs for real: graded with :func:`grade_notebook` / :func:`grade_class`, or in
a real sandbox through :class:`Session`, or fed to the grader's own reading code.
"""

from __future__ import annotations

import json
import os
import struct
import threading
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from grading_submissions import needs_bwrap, submission, write

from lstm_teach.grading import channel, review
from lstm_teach.grading.channel import ChannelError, decode, receive
from lstm_teach.grading.classroom import grade_class
from lstm_teach.grading.grader import _read_notebook, grade_notebook
from lstm_teach.grading.sandbox import Limits
from lstm_teach.grading.session import Session

REPO_ROOT = Path(__file__).resolve().parent.parent
SET = "01_iir_filter"
NAMES = ("iir_filter", "impulse_response", "classify_stability")
EMPTY_NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
SMALL = Limits(scratch_bytes=32 * 2**20)


def notebook(kind: str, *extra: str):
    return submission(kind, SET, *extra)




def _in_thread(target, limit_s: float):
    """Run ``target()`` in a daemon thread; its result, or None if it is still running."""
    box = {}
    worker = threading.Thread(target=lambda: box.setdefault("value", target()), daemon=True)
    worker.start()
    worker.join(limit_s)
    return None if worker.is_alive() else box["value"]


# --------------------------------------------------------------------------- hanging the class


#: After this cell the runner never reads its pipe again (a signal handler that sleeps
#: would do the same); the pipe fills, and the grader's next write of more than the
#: pipe's 64 KiB (a long cell, or big arguments) used to block forever.
STOP_READING = "import os, time\nos.read = lambda fd, n: time.sleep(10**6)\n"
LONG_CELL = "# padding\n" * 10_000


def test_a_sandbox_that_stops_reading_cannot_hang_the_class(tmp_path):
    """Fixed in channel.send / Session._request: the grader's writes have a deadline."""
    mallory = write(tmp_path / f"mallory_{SET}.ipynb",
                    notebook("solutions", STOP_READING, LONG_CELL))
    bob = write(tmp_path / f"bob_{SET}.ipynb", notebook("solutions"))
    reports = _in_thread(lambda: grade_class([mallory, bob], jobs=2, timeout_cell=5.0,
                                             timeout_notebook=60.0), 150)
    assert reports is not None, "the grader hung on a write to a sandbox that stopped reading"
    assert reports[0]["status"] == "timeout", reports[0]
    assert "did not answer within 10 s" in reports[0]["reason"]
    assert reports[0]["elapsed_s"] < 60
    assert reports[1]["score"] == 5, reports[1]


# --------------------------------------------------------------------------- the sandbox's files


PROBE_FILES = """
import errno, os

def fill(path, mib):
    written = 0
    try:
        with open(path, "wb") as fh:
            for _ in range(mib):
                fh.write(b"x" * 2**20)
                written += 1
    except OSError as exc:
        return [written, errno.errorcode.get(exc.errno, str(exc.errno))]
    return [written, None]

def stderr_of_pid_1():
    fd = os.open("/proc/1/fd/2", os.O_WRONLY | os.O_NONBLOCK)
    written = 0
    try:
        while written < 8 * 2**20:
            written += os.write(fd, b"x" * 65536)
    except OSError:
        pass
    return written

def probe():
    return {"/": fill("/junk", 4), "/dev": fill("/dev/junk", 4),
            "/dev/shm": fill("/dev/shm/junk", 100), "/tmp": fill("/tmp/junk", 4),
            "stderr": stderr_of_pid_1()}
"""


@needs_bwrap
def test_the_sandbox_root_and_dev_are_read_only_and_dev_shm_is_sized():
    """bwrap's root and /dev are tmpfs of no size: 4 GiB went into them unchecked.

    Fixed in sandbox.sealing_args. And bwrap's first process held the grader's stderr
    file: 256 MiB (the file-size limit) reached the grader's disk through /proc/1/fd/2.
    Fixed in sandbox.launch (a pipe, read only when the runner fails to start).
    """
    session = Session(EMPTY_NOTEBOOK, SMALL)
    try:
        assert session.run_cell(PROBE_FILES, 30)["error"] is None
        out = session.call("probe", (), {}, 60)
        on_disk = [p for p in session.workdir.rglob("*") if p.is_file()]
    finally:
        session.close()
    assert out["/"] == [0, "EROFS"], out
    assert out["/dev"] == [0, "EROFS"], out
    assert out["/tmp"] == [4, None], "the scratch space still works"
    shm_mib, why = out["/dev/shm"]
    assert 24 <= shm_mib <= 32 and why == "ENOSPC", out  # min(64 MiB, scratch_bytes)
    assert out["stderr"] <= 2**20, "a pipe of at most 1 MiB, not a file on the grader's disk"
    assert [p.name for p in on_disk] == ["submission.ipynb"]


# --------------------------------------------------------------------------- the notebook JSON


def test_a_notebook_of_millions_of_json_values_is_refused_cheaply(tmp_path):
    """48 MB of ``[[], [], ...]`` in a cell's metadata took 2.3 GB and 18 s to read.

    The grader reads a notebook in its own process before any limit applies. Fixed in
    grader._read_notebook (a bound on lists and objects, and no schema validation).
    """
    nb = {"cells": [{"cell_type": "markdown", "source": "", "metadata": {"pad": [[]] * 16_000_000}}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / f"mallory_{SET}.ipynb"
    path.write_text(json.dumps(nb, separators=(",", ":")))
    start = time.monotonic()
    report = grade_notebook(path, 30.0, 120.0)
    assert time.monotonic() - start < 8.0
    assert report["status"] == "invalid notebook"
    assert "JSON lists and objects" in report["reason"]


def test_brackets_inside_strings_do_not_count_against_a_notebook():
    nb = notebook("solutions")
    nb.cells.append(nbformat.v4.new_markdown_cell("[{" * 300_000 + '\\"' + "[" * 10))
    read = _read_notebook(nbformat.writes(nb).encode())
    assert read.cells[-1].source.startswith("[{[{")
    assert len(review.code_cells(read)) == len(review.code_cells(notebook("solutions")))


def _pipe_with(data: bytes) -> int:
    read_fd, write_fd = os.pipe()
    threading.Thread(target=lambda: (os.write(write_fd, data), os.close(write_fd)),
                     daemon=True).start()
    return read_fd


def test_a_reply_of_millions_of_containers_is_refused_before_it_is_parsed():
    """16 MB of ``[{}, {}, ...]`` made 420 MB in the grader before decode() counted values."""
    body = b'{"op":"result","value":{"L":[' + b",".join([b"{}"] * 5_000_000) + b"]}}"
    with pytest.raises(ChannelError, match="lists and objects"):
        receive(_pipe_with(struct.pack(">Q", len(body)) + body), timeout=30)
    # a legitimate reply of many values still crosses
    arrays = [np.full(2, float(i)) for i in range(60_000)]
    frame = channel.dumps({"op": "result", "value": channel.encode(arrays)})
    back = decode(receive(_pipe_with(frame), timeout=30)["value"])
    assert len(back) == 60_000 and back[-1][0] == 59_999.0


def test_opaque_type_names_are_not_shared_between_replies():
    """A cache shared by the grader let one submission fill it with 1,000 made-up names:
    every later submission's feedback then said "got Opaque" instead of its own type."""
    flood = {"L": [{"X": {"type": f"Junk{i}", "repr": "?"}} for i in range(2_000)]}
    assert type(decode(flood)[-1]).__name__ == "Opaque", "one reply gets at most 100 names"
    later = decode({"X": {"type": "Liar", "repr": "<Liar>"}})
    assert type(later).__name__ == "Liar"


# --------------------------------------------------------------------------- the kernel's engine


_IMPORT = "from lstm_teach.core.iir import iir_filter, impulse_response, classify_stability"
SHELL_EXEC = {
    "IPython.get_ipython()": f"import IPython\nIPython.get_ipython().run_cell({_IMPORT!r})\n",
    "exit._ip": f"exit._ip.run_cell({_IMPORT!r})\n",
}


@pytest.mark.parametrize("disguise", sorted(SHELL_EXEC))
def test_running_a_cell_through_the_ipython_shell_needs_review(tmp_path, disguise):
    """The kernel's own shell runs strings as cells: full marks, no flag (fixed in review)."""
    path = write(tmp_path / f"mallory_{SET}.ipynb", notebook("exercises", SHELL_EXEC[disguise]))
    report = grade_notebook(path, 30.0, 120.0)
    rows = {row["name"]: row for row in report["exercises"]}
    assert [rows[n].get("points_if_accepted", rows[n]["points"]) for n in NAMES] == [2, 1, 2], \
        f"the disguise did not work, so the test proves nothing: {rows}"
    assert report["score"] == 0 and {r["status"] for r in rows.values()} == {"needs review"}


def test_the_shell_is_flagged_however_it_is_reached_and_ipython_display_is_not():
    def flags(source):
        return review.reaching_into_the_grader(
            {"cells": [{"cell_type": "code", "source": source}]})

    for source in ("from IPython.core.interactiveshell import InteractiveShell\n"
                   "InteractiveShell.instance().ex('x = 1')",
                   "from IPython import get_ipython",
                   "import IPython.display\nIPython.display.display(1)",
                   "quit._ip.user_ns['iir_filter'] = None",
                   "import IPython.core.getipython as g"):
        assert flags(source), source
    for source in ("from IPython.display import display, HTML\ndisplay(HTML('<b>x</b>'))",
                   "import IPython.display as ipd\nipd.display(1)"):
        assert flags(source) == [], source



# --------------------------------------------------------------------------- the grader's CPU


def test_a_check_called_in_many_cells_is_graded_a_bounded_number_of_times(tmp_path, monkeypatch):
    """Each grading runs the check in the grader's process, outside every limit.

    ``check("train_latch", f)`` on parameters with H = 1,700 (bool arrays: 12 MB on the
    channel) costs the grader 4 s of CPU; a notebook could ask for it after each of 150
    cells. Fixed in grader._Grading.grade (MAX_CHECKPOINT_GRADINGS).
    """
    from lstm_teach.grading import checks, grader

    calls = []
    evaluate = checks.evaluate
    monkeypatch.setattr(checks, "evaluate",
                        lambda exercise, fn, **kw: calls.append(exercise.name)
                        or evaluate(exercise, fn, **kw))
    wrong = "def iir_filter(x, w, b):\n    return x\n"
    again = 'check("iir_filter", iir_filter)\n'
    path = write(tmp_path / f"mallory_{SET}.ipynb", notebook("exercises", wrong, *[again] * 100))
    report = grade_notebook(path, 30.0, 120.0)
    assert report["status"] == "ok" and report["score"] == 0
    assert calls.count("iir_filter") == grader.MAX_CHECKPOINT_GRADINGS + 1, calls.count(
        "iir_filter")
    assert {row["name"]: row["status"] for row in report["exercises"]}["iir_filter"] == "failed"


# --------------------------------------------------------------------------- what the grader calls


@pytest.fixture
def no_instructor_notebooks(tmp_path, monkeypatch):
    """The grader installed from a wheel: no exercises/ or solutions/ next to the package."""
    monkeypatch.setattr(review, "REPO_DIR", tmp_path / "no-repo")
    review._instructor_targets.cache_clear()
    yield
    review._instructor_targets.cache_clear()


def test_a_check_call_cannot_point_the_grader_at_the_reference(tmp_path,
                                                               no_instructor_notebooks):
    """The function to call comes from the submission's own check() calls when the
    instructor's notebooks are absent; a dotted name made the grader call the package's
    reference itself, with no answer cell to flag. Fixed in review.targets_for."""
    point = ("import lstm_teach as lt\nfrom lstm_teach.grading import check\n"
             + "".join(f"check({name!r}, lt.core.iir.{name})\n" for name in NAMES))
    nb = notebook("exercises")
    nb.cells.insert(0, nbformat.v4.new_code_cell(point))
    path = write(tmp_path / f"mallory_{SET}.ipynb", nb)
    assert review.targets_for(SET, list(NAMES), nb) == {name: name for name in NAMES}
    report = grade_notebook(path, 30.0, 120.0)
    assert report["score"] == 0, report["exercises"]
    assert all(row.get("points_if_accepted", 0) == 0 for row in report["exercises"])


# --------------------------------------------------------------------------- bindings the review missed


#: Each binds the exercise's name to the reference without a ``def`` or an ``=``.
BINDINGS = {
    "a star import in its own cell": "from lstm_teach.core.iir import *",
    "a class whose __new__ answers": "import lstm_teach as lt\n" + "".join(
        f"class {name}:\n    def __new__(cls, *args):\n"
        f"        return lt.core.iir.{name}(*args)\n" for name in NAMES),
    "a match capture": "import lstm_teach as lt\n" + "".join(
        f"match lt.core.iir.{name}:\n    case {name}:\n        pass\n" for name in NAMES),
    "the module reached through a subscript": "import lstm_teach as lt\n_refs = [lt.core.iir]\n"
    + "".join(f"def {name}(*args):\n    return _refs[0].{name}(*args)\n" for name in NAMES),
    "the module reached through an expression": "import lstm_teach as lt\n" + "".join(
        f"def {name}(*args):\n    return (lt.core.iir if args else None).{name}(*args)\n"
        for name in NAMES),
    "the module as a default argument": "import lstm_teach as lt\n" + "".join(
        f"def {name}(*args, module=lt.core.iir):\n    return module.{name}(*args)\n"
        for name in NAMES),
    "a helper in another cell that takes the module": (  # two cells
        "".join(f"def _pick_{name}(module):\n    return module.{name}\n" for name in NAMES),
        "import lstm_teach as lt\n" + "".join(
            f"def {name}(*args):\n    return _pick_{name}(lt.core.iir)(*args)\n"
            for name in NAMES)),
}


@pytest.mark.parametrize("binding", sorted(BINDINGS))
def test_every_way_of_binding_the_answer_is_reviewed(tmp_path, binding):
    """Full marks, no flag: the review knew def, assignment and named imports, and a
    reference only at the root of a dotted name. Fixed in review._defines / _mentions."""
    cells = BINDINGS[binding]
    path = write(tmp_path / f"mallory_{SET}.ipynb",
                 notebook("exercises", *([cells] if isinstance(cells, str) else cells)))
    report = grade_notebook(path, 30.0, 120.0)
    rows = {row["name"]: row for row in report["exercises"]}
    assert [rows[n].get("points_if_accepted", rows[n]["points"]) for n in NAMES] == [2, 1, 2], \
        f"the binding did not work, so the test proves nothing: {rows}"
    assert report["score"] == 0 and {r["status"] for r in rows.values()} == {"needs review"}


# --------------------------------------------------------------------------- the console


def test_the_console_report_carries_no_newlines_bidi_overrides_or_line_separators(tmp_path):
    """A newline in a cell error or a file name printed a forged row of its own; U+202E
    reverses the rest of a line in a terminal that does bidi, U+2028 breaks one in some.
    Fixed in grader.format_report / console_line (each line is cleaned on its own)."""
    from lstm_teach.grading.grader import format_report

    forged = ('raise RuntimeError("x\\n    \u2705 forged  2/2  passed\u2028 \u2705 forged'
              '\u202e 2/0 \u2066x\u2069\u200b")')
    path = write(tmp_path / f"mallory\n    \u2705 forged\u202e_{SET}.ipynb",
                 notebook("exercises", forged))
    text = format_report(grade_notebook(path, 30.0, 120.0))
    assert "RuntimeError" in text and "\u2705 forged" in text
    assert all(not line.lstrip().startswith("\u2705 forged") for line in text.splitlines()), \
        text
    assert len(text.splitlines()) == 1 + len(NAMES) + 1, text  # head, rows, one cell error
    assert not any(ch in text for ch in "\u2028\u202e\u2066\u2069\u200b"), repr(text)


def test_a_lone_surrogate_or_a_file_name_that_is_not_utf8_cannot_sink_the_class(
        tmp_path, capsys):
    """Printing or writing either raised UnicodeEncodeError mid-class: no report was
    written for anyone. Fixed in grader.encodable (console, JSON) and the CSV writer."""
    import argparse
    import csv

    from lstm_teach.grading.classroom import cli_grade

    folder = tmp_path / "class"
    write(folder / f"mallory_{SET}.ipynb",
          notebook("exercises", 'raise RuntimeError("\\ud800 boom")'))
    write(folder / f"bob_{SET}.ipynb", notebook("solutions"))
    odd = os.fsencode(folder) + f"/eve\xff_{SET}.ipynb".encode("latin-1")  # not UTF-8
    with open(odd, "wb") as fh:
        fh.write(nbformat.writes(notebook("solutions")).encode())
    out = {name: tmp_path / name for name in ("r.json", "c.csv", "c.json")}
    args = argparse.Namespace(notebooks=[str(folder)], json=str(out["r.json"]), set=None,
                              jobs=1, class_csv=str(out["c.csv"]),
                              class_json=str(out["c.json"]), memory_gib=4.0,
                              max_processes=64, timeout_cell=30.0, timeout_notebook=120.0,
                              cpus=1.0)
    assert cli_grade(args) == 0
    printed = capsys.readouterr().out
    assert "RuntimeError: \ufffd boom" in printed or "RuntimeError: ? boom" in printed
    reports = json.loads(out["r.json"].read_text(encoding="utf-8"))
    assert sorted(r["score"] for r in reports) == [0, 5, 5]
    with open(out["c.csv"], newline="", encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == 9
    assert len(json.loads(out["c.json"].read_text(encoding="utf-8"))) == 9


# --------------------------------------------------------------------------- the class summary


def test_a_file_named_after_a_classmate_cannot_quietly_take_their_gradebook_row(tmp_path):
    """The student column comes from the file name, which the learner chooses:
    ``mallory/bob_01_iir_filter.ipynb`` filled a second row for bob, and a gradebook
    import keeps one of the two. Fixed in classroom._note_student_clashes."""
    from lstm_teach.grading.classroom import summary_rows

    bob = write(tmp_path / "class" / "bob" / f"{SET}.ipynb", notebook("solutions"))
    mallory = write(tmp_path / "class" / "mallory" / f"bob_{SET}.ipynb", notebook("exercises"))
    carol = write(tmp_path / "class" / "carol" / f"{SET}.ipynb", notebook("exercises"))
    reports = grade_class([bob, mallory, carol], timeout_cell=30.0, timeout_notebook=120.0)
    rows = summary_rows(reports)
    assert {row["student"] for row in rows} == {"bob", "carol"}, "the name is taken..."
    flagged = {(row["notebook"], row["needs_review"]) for row in rows}
    assert flagged == {(str(bob), True), (str(mallory), True), (str(carol), False)}, \
        "...but both of bob's rows need review"
    assert any(str(mallory) in note for note in reports[0]["notes"])


def test_dtype_tricks_nan_payloads_and_lying_shapes_are_judged_as_in_process():
    """Not holes (kept as regression tests): each decodes to a plain array, or is refused."""
    import base64

    from lstm_teach.grading.feedback import compare

    def doc(dtype, shape, raw):
        return {"A": {"dtype": dtype, "shape": shape, "data": base64.b64encode(raw).decode()}}

    x = np.arange(3.0)
    payload_nan = np.array([0x7FF8DEAD00000001], np.uint64).view(np.float64)
    assert "contains NaN" in compare("y", decode(doc("<f8", [1], payload_nan.tobytes())),
                                     np.ones(1))
    for dtype in (">f8", "<f2", "<f16"):  # equal values, another dtype: a failure in-process too
        assert "has dtype" in compare("y", decode(doc(dtype, [3], x.astype(dtype).tobytes())), x)
    assert "numeric array" in compare("y", decode(doc("<c16", [3], x.astype(complex).tobytes())),
                                      x)
    with pytest.raises(ValueError):  # the session turns this into "cannot read" feedback
        decode(doc("<f8", [0, 2**39, 2**39], b""))
    with pytest.raises(ChannelError, match="does not match"):
        decode(doc("<f8", [4], x.tobytes()))
