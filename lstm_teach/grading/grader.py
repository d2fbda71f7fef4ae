"""Grading one submission: the exercise set, the sandboxed run, and scores decided here.

For a submitted notebook the grader

1. decides the exercise set: the instructor's ``--set``, else a set name in
   the file name (``alice_03_gated_cell.ipynb``), else the notebook's own
   metadata (and says so). A notebook whose metadata names *another* known
   set is a ``"set mismatch"``: it scores nothing and is not run;
2. reads the notebook statically (:mod:`lstm_teach.grading.review`): the
   name of the learner's function for each exercise, the cells that call each
   check, and answers that import the package's reference (``"needs review"``);
3. starts a sandbox for it (:mod:`lstm_teach.grading.sandbox`, bubblewrap where
   present) with a fresh copy of the notebook, and runs its code cells one by
   one, each with a time limit, the whole notebook with another;
4. after each cell that calls a check, and once more at the end for whatever
   has not passed, runs that exercise's check function **here**, in the
   grader's process, on a stand-in for the learner's function that calls it
   in the sandbox through a narrow channel (:mod:`lstm_teach.grading.session`).
   The reference, the comparison and the diagnosis never leave this process;
   the notebook's own ``check()`` output, files, environment and globals count
   for nothing. An exercise keeps its best result, so a later crash, timeout
   or junk cell loses no points earned before it.

   The checks draw their inputs with a secret the grader picks for this
   submission (``secrets.randbits(64)``, see
   :func:`lstm_teach.grading.checks.probe_rng`). It stays in this process: it
   is not in the sandbox's command line, environment or files, and not in the
   report. So the inputs are new in every run, and a table of answers to the
   fixed inputs of the notebook's own ``check()`` scores nothing.

Class-level grading (``--jobs``, the class summary, the originals check) is in
:mod:`lstm_teach.grading.classroom`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import time
from pathlib import Path

from . import checks, review
from .channel import json_containers
from .feedback import FAIL_MARK, PASS_MARK, TODO_MARK
from .generate import METADATA_KEY
from .sandbox import Limits
from .session import Session, SessionDead

MAX_NOTEBOOK_BYTES = 50_000_000
#: The course's notebooks hold a few hundred; one with every output kept, a few thousand.
MAX_NOTEBOOK_CONTAINERS = 200_000
EXERCISE_BUDGET_MIN_S = 30.0
#: How often one exercise is graded after cells that call its check (the final grading
#: comes on top). Each grading runs the check here, in the grader's own process, where
#: no limit of the sandbox applies: 150 cells calling ``check("train_latch", ...)`` on
#: parameters with H = 1,700 cost 4 s of the grader's CPU each, for the whole notebook
#: time, beside the core the sandbox was capped to. The course checks each exercise once.
MAX_CHECKPOINT_GRADINGS = 3


# --------------------------------------------------------------------------- identification


def set_from_metadata(nb) -> str | None:
    """The exercise set the notebook's metadata names (a claim of the submission)."""
    meta = nb.get("metadata", {}).get(METADATA_KEY, {}) if isinstance(nb, dict) else {}
    name = meta.get("exercise_set") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else None


def set_from_filename(path: Path) -> str | None:
    """A known set whose name appears in the file name, as a whole word (longest first)."""
    stem = Path(path).stem.lower()
    for candidate in sorted(checks.exercise_sets(), key=len, reverse=True):
        if re.search(rf"(^|[^0-9a-z]){re.escape(candidate)}($|[^a-z])", stem):
            return candidate
    return None


def identify(nb, path: Path, exercise_set: str | None = None) -> tuple[str | None, str | None]:
    """``(exercise set, note)``: the instructor's set, the file name's, or else the metadata's."""
    known = checks.exercise_sets()
    if exercise_set is not None:
        return exercise_set, None
    named = set_from_filename(path)
    if named is not None:
        return named, None
    claimed = set_from_metadata(nb)
    if claimed in known:
        return claimed, (f"the exercise set {claimed} was taken from the notebook's metadata "
                         "(neither --set nor the file name names one)")
    return None, None


# --------------------------------------------------------------------------- reports


def _rows(exercise_set: str | None) -> list[dict]:
    exercises = checks.exercises_for(exercise_set) if exercise_set else []
    return [{"name": ex.name, "title": ex.title, "points": 0, "max_points": ex.points,
             "status": "not run", "message": "", "review": None} for ex in exercises]


def empty_report(path, exercise_set: str | None, status: str, reason: str) -> dict:
    """A report for a submission that was not run (or could not be)."""
    rows = _rows(exercise_set)
    return {
        "notebook": str(path), "exercise_set": exercise_set, "score": 0,
        "max_score": sum(r["max_points"] for r in rows), "status": status, "reason": reason,
        "exercises": rows, "cell_errors": [], "review": [], "confined": None, "notes": [],
        "elapsed_s": 0.0,
    }


def read_submission(path: Path) -> bytes:
    """The bytes of a submission that is a regular file (at most one byte over the limit).

    A symbolic link is refused (it could name a classmate's notebook or an
    instructor's file), and so is anything but a regular file: a FIFO or a device
    would block or never end, and the whole class with it.
    """
    if os.path.islink(path):
        raise OSError(f"it is a symbolic link (to {os.readlink(path)[:120]}), not a file "
                      "handed in")
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise OSError("it is not a regular file")
        return fh.read(MAX_NOTEBOOK_BYTES + 1)


def _read_notebook(data: bytes):
    """The notebook as nbformat 4, read in the grader's own (unconfined) process.

    It is read before any limit applies, so its cost is bounded here: at most
    :data:`MAX_NOTEBOOK_CONTAINERS` JSON lists and objects (48 MB of ``[[], [], ...]`` in
    a cell's metadata took 2.3 GB and 18 s to read), and no schema validation (900,000
    outputs took 28 s to validate; the grader reads only the cells' type and source).
    """
    import nbformat

    if len(data) > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"the file is larger than {MAX_NOTEBOOK_BYTES // 1_000_000} MB")
    if json_containers(data, MAX_NOTEBOOK_CONTAINERS) > MAX_NOTEBOOK_CONTAINERS:
        raise ValueError(f"it has more than {MAX_NOTEBOOK_CONTAINERS:,} JSON lists and "
                         "objects (cells, outputs, metadata)")
    nb = nbformat.convert(nbformat.reader.reads(data.decode("utf-8", errors="replace")), 4)
    if not isinstance(nb.get("cells"), list):
        raise ValueError("it has no list of cells")
    return nb


# --------------------------------------------------------------------------- grading


def new_probe_secret() -> int:
    """A fresh secret for one submission's checks (64 random bits from the OS)."""
    return secrets.randbits(64)


class _Grading:
    """The state of one submission while it runs: best results so far, errors, status."""

    def __init__(self, session: Session, exercises, targets, timeout_cell: float,
                 probe_secret: int):
        self.session, self.timeout_cell = session, timeout_cell
        self.probe_secret = probe_secret  # the checks' inputs; never sent to the sandbox
        self.exercises = {ex.name: ex for ex in exercises}
        self.targets = targets
        self.best: dict[str, checks.CheckResult] = {}
        self.checkpoint_gradings = dict.fromkeys(self.exercises, 0)

    def grade(self, name: str, checkpoint: bool = False) -> None:
        """Run the check of ``name`` here, on the learner's function in the sandbox."""
        if name in self.best and self.best[name].passed:
            return
        if self.session.dead_reason is not None:
            return
        if checkpoint:
            if self.checkpoint_gradings[name] >= MAX_CHECKPOINT_GRADINGS:
                return
            self.checkpoint_gradings[name] += 1
        budget = max(self.timeout_cell, EXERCISE_BUDGET_MIN_S)
        proxy = self.session.proxy(self.targets[name], self.timeout_cell, budget)
        result = checks.evaluate(self.exercises[name], proxy, probe_secret=self.probe_secret)
        if name not in self.best or result.passed or self.best[name].status == "not attempted":
            self.best[name] = result


def grade_notebook(path, timeout_cell: float = 60.0, timeout_notebook: float = 600.0, *,
                   exercise_set: str | None = None, limits: Limits | None = None,
                   data: bytes | None = None) -> dict:
    """Grade one submission; never raises for anything the submission does.

    Parameters
    ----------
    path : str or Path
        The submission (its name is used to recognise the set and in the report).
    timeout_cell, timeout_notebook : float
        Limits in seconds for one cell (and one call of the learner's function)
        and for all the cells together.
    exercise_set : str, optional
        The set to grade the notebook as (the instructor's ``--set``).
    limits : Limits, optional
        Resource limits of the sandbox (memory, CPU seconds, file size, processes).
    data : bytes, optional
        The notebook's bytes, read earlier (so a class is copied before anything runs).

    Returns
    -------
    dict
        ``notebook``, ``exercise_set``, ``score``, ``max_score``, ``status``
        (``"ok"``, ``"timeout"``, ``"kernel died"``, ``"invalid notebook"``,
        ``"unknown notebook"``, ``"set mismatch"``), ``reason``, ``exercises``
        (name, title, points, max_points, status, message, review),
        ``cell_errors``, ``confined``, ``notes`` and ``elapsed_s``.
    """
    path = Path(path)
    start = time.monotonic()
    limits = limits or Limits(cpu_seconds=int(2 * timeout_notebook + 120))
    try:
        raw = data if data is not None else read_submission(path)
        nb = _read_notebook(raw)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the submission's problem
        chosen = exercise_set or set_from_filename(path)
        return empty_report(path, chosen, "invalid notebook",
                            f"cannot read it as a notebook ({type(exc).__name__}: "
                            f"{str(exc)[:200]})")
    chosen, note = identify(nb, path, exercise_set)
    if chosen is None:
        return empty_report(path, None, "unknown notebook",
                            "cannot tell which exercise notebook this is: give --set NAME, or "
                            "name the file after the set (e.g. alice_03_gated_cell.ipynb)")
    claimed = set_from_metadata(nb)
    if claimed is not None and claimed != chosen and claimed in checks.exercise_sets():
        return empty_report(path, chosen, "set mismatch",
                            f"graded as {chosen}, but the notebook is the exercise set "
                            f"{claimed}: nothing is scored for {claimed}")

    exercises = checks.exercises_for(chosen)
    names = [ex.name for ex in exercises]
    targets = review.targets_for(chosen, names, nb)
    flags = {name: f"imports the package's reference, {where}"
             for name, where in review.leaning_on_reference(nb, targets).items()}
    tampering = review.reaching_into_the_grader(nb)
    for name in names:  # a notebook that reaches into the grader: every answer is suspect
        if tampering and name not in flags:
            flags[name] = f"the notebook reaches into the grader, {tampering[0]}"
    sources = review.code_cells(nb)
    marks = review.checkpoints(nb, names)

    status, reason, cell_errors = "ok", note, []
    session = Session(raw, limits)
    # drawn once the sandbox runs: it exists only in this process, never in its arguments
    grading = _Grading(session, exercises, targets, timeout_cell, new_probe_secret())
    try:
        deadline = time.monotonic() + timeout_notebook
        for index, source in enumerate(sources):
            left = deadline - time.monotonic()
            if left <= 0:
                status = "timeout"
                reason = (f"the notebook ran longer than {timeout_notebook:g} s; cells from "
                          f"code cell {index + 1} on were not run")
                break
            outcome = session.run_cell(source, min(timeout_cell, left))
            if outcome["error"]:
                if len(cell_errors) < 20:
                    cell_errors.append({"cell": index + 1, "error": outcome["error"]})
            for name in marks[index]:
                grading.grade(name, checkpoint=True)
        for name in names:  # whatever has not passed yet, with everything defined now
            grading.grade(name)
    except SessionDead as exc:
        status = "timeout" if "did not answer" in str(exc) else "kernel died"
        reason = str(exc)
    finally:
        session.close()
    if session.dead_reason not in (None, "closed") and status == "ok":
        status, reason = "kernel died", session.dead_reason

    rows = []
    for ex in exercises:
        result = grading.best.get(ex.name)
        row = {"name": ex.name, "title": ex.title, "points": 0, "max_points": ex.points,
               "status": "not run", "message": "", "review": None}
        if result is not None:
            row.update(points=result.points, status=result.status, message=result.message)
        if ex.name in flags:
            row.update(review=flags[ex.name], points_if_accepted=row["points"], points=0,
                       status="needs review")
        rows.append(row)
    return {
        "notebook": str(path),
        "exercise_set": chosen,
        "score": sum(r["points"] for r in rows),
        "max_score": sum(ex.points for ex in exercises),
        "status": status,
        "reason": reason,
        "exercises": rows,
        "cell_errors": cell_errors,
        "review": tampering,
        "confined": session.confined,
        "notes": list(session.notes),
        "elapsed_s": round(time.monotonic() - start, 2),
    }


# --------------------------------------------------------------------------- reporting


#: Control characters (newlines too: each line is cleaned on its own), and Unicode's
#: invisible formatting ones: bidi overrides and isolates (U+202E reverses the rest of a
#: line in a terminal that does bidi), zero-width characters and the line and paragraph
#: separators U+2028 / U+2029.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e"
                      "\u2060-\u2069\ufeff]")
_MARKS = {"passed": PASS_MARK, "not attempted": TODO_MARK, "needs review": "⚠️"}


def format_report(report: dict) -> str:
    """The human-readable table for one notebook."""
    head = (f"{report['notebook']}  [{report['exercise_set'] or '?'}]  "
            f"{report['score']:g}/{report['max_score']:g} points  "
            f"({report['status']}, {report['elapsed_s']:.1f} s)")
    lines = [head]
    if report.get("reason"):
        lines.append(f"    note: {report['reason']}")
    for note in report.get("notes", []):
        lines.append(f"    WARNING: {note}")
    width = max([len(r["name"]) for r in report["exercises"]] + [8])
    for row in report["exercises"]:
        mark = _MARKS.get(row["status"], FAIL_MARK)
        lines.append(f"    {mark} {row['name']:<{width}}  {row['points']:g}/{row['max_points']:g}"
                     f"  {row['status']}")
        if row.get("review"):
            lines.append(f"        needs review: {row['review']}")
    for err in report["cell_errors"][:5]:
        lines.append(f"    cell {err.get('cell')}: {err.get('error')}")
    if len(report["cell_errors"]) > 5:
        lines.append(f"    ... and {len(report['cell_errors']) - 5} more cell error(s)")
    # errors and file names are the submission's text: no terminal escapes, no carriage
    # returns that would overwrite a line on the instructor's console, and no newline
    # inside a line (a cell error or a file name with "\n    ✅ iir_filter  2/2  passed"
    # printed a row of its own)
    return "\n".join(console_line(line) for line in lines)


def console_line(text: str) -> str:
    """``text`` (which may hold a submission's words) as one safe line for the console."""
    return encodable(_CONTROL.sub("\N{REPLACEMENT CHARACTER}", str(text)))


def encodable(text: str) -> str:
    """``text`` with every lone surrogate replaced, so that it can be written as UTF-8.

    A submission's strings arrive as JSON, where ``"\\ud800"`` is a lone surrogate, and
    a file name that is not UTF-8 reaches Python as one too: printing either raised
    ``UnicodeEncodeError`` in the middle of the class, and no report was written.
    """
    return text.encode("utf-8", "replace").decode("utf-8")


def dumps(payload) -> str:
    return encodable(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
