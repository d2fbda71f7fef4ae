"""``lstm-teach grade``: a whole class, in parallel, with a summary fit for a gradebook.

::

    lstm-teach grade SUBMISSIONS... [--set NAME] [--jobs N] [--json report.json]
        [--class-csv grades.csv] [--class-json grades.json]
        [--timeout-cell 60] [--timeout-notebook 600] [--memory-gib 4] [--max-processes 64]
        [--cpus 1]

* Every submission is read into memory (and its SHA-256 noted) **before any
  notebook runs**; each then runs from its own copy, in its own sandbox. After
  the class, the originals are hashed again: a changed original is reported
  (its grade stands, since it was graded from the copy taken first).
* Only regular files are graded: a symbolic link (which could name a classmate's
  notebook or an instructor's file), a FIFO or a device gets an "invalid
  notebook" row instead of stalling the class. Two submissions with the same
  bytes that earn points are noted in both reports (and on the console).
* ``--jobs N`` grades N submissions at a time. Every submission gets its row,
  whatever happens to the others (a grader error becomes that row's status).
* ``--class-csv`` / ``--class-json``: one row per student per exercise:
  ``student, notebook, exercise_set, exercise, points, max_points, status,
  notebook_status, needs_review, review, confined``. The student is the file
  name without the set name (``alice_03_gated_cell.ipynb`` -> ``alice``), or
  the folder name when the file is named after the set alone
  (``alice/03_gated_cell.ipynb`` -> ``alice``). A CSV cell that a spreadsheet
  would run as a formula (``=``, ``+``, ``-``, ``@`` first) gets a leading ``'``.
  Two submissions of one set that give the same student name are both marked
  ``needs_review`` (the learner chooses the file name).

Exit status: 0 whenever grading happened, whatever the submissions did; 2 for
usage errors (a missing path, an unknown set, a bad limit, an unwritable
report path).
"""

from __future__ import annotations

import csv
import hashlib
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import checks
from .grader import (
    console_line,
    dumps,
    empty_report,
    format_report,
    grade_notebook,
    read_submission,
    set_from_filename,
)
from .sandbox import GIB, Limits, find_bwrap, unconfined_reason

SUMMARY_FIELDS = ("student", "notebook", "exercise_set", "exercise", "points", "max_points",
                  "status", "notebook_status", "needs_review", "review", "confined")


def student_name(path: Path, exercise_set: str | None) -> str:
    """Who handed the notebook in, from its file name or else its folder."""
    path = Path(path)
    stem = path.stem
    if exercise_set:
        stem = re.sub(re.escape(exercise_set), "", stem, flags=re.IGNORECASE)
    stem = stem.strip(" _-.")
    return stem or path.parent.name or path.stem


def _expand(paths: list[str]) -> tuple[list[Path], list[str]]:
    """Files to grade (directories give their notebooks) and usage errors."""
    files, errors = [], []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
            if not found:
                errors.append(f"no notebooks found in directory {name}")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            errors.append(f"no such file: {name}")
    return files, errors


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def grade_class(paths: list[Path], *, exercise_set: str | None = None, jobs: int = 1,
                timeout_cell: float = 60.0, timeout_notebook: float = 600.0,
                limits: Limits | None = None, on_report=None) -> list[dict]:
    """Grade every submission; one report each, in the order of ``paths``.

    All files are read before the first notebook runs; ``on_report(report)``
    is called as each finishes (from a worker thread).
    """
    copies: list[tuple[Path, bytes | None, str | None]] = []
    for path in paths:
        try:
            data = read_submission(path)
            copies.append((path, data, _digest(data)))
        except OSError as exc:
            copies.append((path, None, f"unreadable: {exc}"))

    def grade_one(item) -> dict:
        path, data, _ = item
        if data is None:
            report = empty_report(path, exercise_set or set_from_filename(path),
                                  "invalid notebook", f"cannot read the file ({item[2]})")
        else:
            try:
                report = grade_notebook(path, timeout_cell, timeout_notebook,
                                        exercise_set=exercise_set, limits=limits, data=data)
            except Exception as exc:  # noqa: BLE001 - a grader bug must not cost other rows
                report = empty_report(path, exercise_set or set_from_filename(path),
                                      "grader error", f"{type(exc).__name__}: {exc}"[:300])
        if on_report is not None:
            on_report(report)
        return report

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        reports = list(pool.map(grade_one, copies))
    for (path, data, digest), report in zip(copies, reports, strict=True):
        report["sha256"] = digest if data is not None else None
        try:
            unchanged = data is not None and _digest(read_submission(path)) == digest
        except OSError:
            unchanged = False
        report["original_unchanged"] = unchanged
        if data is not None and not unchanged:
            report.setdefault("notes", []).append(
                "the submitted file changed while the class was graded (it was graded from "
                "the copy taken before any notebook ran)")
    by_digest: dict[str, list[Path]] = {}
    for path, data, digest in copies:
        if data is not None:
            by_digest.setdefault(digest, []).append(path)
    for (path, data, digest), report in zip(copies, reports, strict=True):
        twins = [str(p) for p in by_digest.get(digest, []) if p != path] if data else []
        # a copied file (or a hard link to a classmate's): the instructor decides
        earned = report["score"] > 0 or any(r.get("points_if_accepted")
                                            for r in report["exercises"])
        if twins and earned:
            report.setdefault("notes", []).append(
                "byte for byte the same file as " + ", ".join(twins[:5]))
    _note_student_clashes(reports)
    return reports


def _note_student_clashes(reports: list[dict]) -> None:
    """Mark submissions of one set that give the same student name (see :func:`summary_rows`).

    The student comes from the file name, which the learner chooses: handed in as
    ``mallory/bob_01_iir_filter.ipynb``, a notebook filled a second gradebook row for bob,
    and an import keeps one of the two. Both are marked for review instead.
    """
    by_student: dict[tuple[str, str | None], list[str]] = {}
    for report in reports:
        key = (student_name(Path(report["notebook"]), report.get("exercise_set")),
               report.get("exercise_set"))
        by_student.setdefault(key, []).append(report["notebook"])
    for report in reports:
        student = student_name(Path(report["notebook"]), report.get("exercise_set"))
        others = [p for p in by_student[(student, report.get("exercise_set"))]
                  if p != report["notebook"]]
        if others:
            report["student_clash"] = (f"the student name {student!r} is also given by "
                                       + ", ".join(others[:5]))
            report.setdefault("notes", []).append(report["student_clash"])


def summary_rows(reports: list[dict]) -> list[dict]:
    """One row per student per exercise (see the module docstring)."""
    rows = []
    for report in reports:
        student = student_name(Path(report["notebook"]), report.get("exercise_set"))
        exercises = report["exercises"] or [{"name": "", "points": 0, "max_points": 0,
                                             "status": report["status"], "review": None}]
        for ex in exercises:
            rows.append({
                "student": student, "notebook": report["notebook"],
                "exercise_set": report.get("exercise_set") or "", "exercise": ex["name"],
                "points": ex["points"], "max_points": ex["max_points"], "status": ex["status"],
                "notebook_status": report["status"],
                "needs_review": bool(ex.get("review") or report.get("student_clash")),
                "review": ex.get("review") or report.get("student_clash") or "",
                "confined": report.get("confined"),
            })
    return rows


def _inert(value):
    """A text cell a spreadsheet will not run as a formula (the student names the file)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_summary_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8", errors="replace") as fh:
        writer = csv.DictWriter(fh, fieldnames=SUMMARY_FIELDS)
        writer.writeheader()
        writer.writerows({key: _inert(value) for key, value in row.items()} for row in rows)


def _usage_errors(args, files_errors: list[str]) -> list[str]:
    errors = list(files_errors)
    for label, value in (("--timeout-cell", args.timeout_cell),
                         ("--timeout-notebook", args.timeout_notebook),
                         ("--memory-gib", getattr(args, "memory_gib", 4.0)),
                         ("--cpus", getattr(args, "cpus", 1.0))):
        if not value > 0:
            errors.append(f"{label} must be a positive number; got {value}")
    if getattr(args, "jobs", 1) < 1:
        errors.append(f"--jobs must be at least 1; got {args.jobs}")
    if getattr(args, "max_processes", 64) < 8:
        errors.append(f"--max-processes must be at least 8; got {args.max_processes}")
    chosen = getattr(args, "set", None)
    if chosen is not None and chosen not in checks.exercise_sets():
        errors.append(f"--set: unknown exercise set {chosen!r}; known: "
                      f"{', '.join(checks.exercise_sets())}")
    for option in ("json", "class_csv", "class_json"):
        target = getattr(args, option, None)
        if target and not Path(target).resolve().parent.is_dir():
            errors.append(f"cannot write --{option.replace('_', '-')} {target}: its directory "
                          "does not exist")
    return errors


def cli_grade(args) -> int:
    """Entry point of ``lstm-teach grade``."""
    files, errors = _expand(args.notebooks)
    errors = _usage_errors(args, errors)
    if errors:
        for err in errors:
            print(f"lstm-teach grade: {err}", file=sys.stderr)
        return 2
    if find_bwrap() is not None:
        print("lstm-teach grade: each submission runs confined by bubblewrap (read-only "
              "environment, no network, no instructor files, resource limits)",
              file=sys.stderr, flush=True)
    else:
        print(f"lstm-teach grade: WARNING: {unconfined_reason()}: submissions run NOT "
              "CONFINED, with your permissions (only resource limits apply). Install "
              "bubblewrap (apt-get install bubblewrap) before grading untrusted work.",
              file=sys.stderr, flush=True)
    limits = Limits(memory_bytes=int(getattr(args, "memory_gib", 4.0) * GIB),
                    cpu_seconds=int(2 * args.timeout_notebook + 120),
                    processes=getattr(args, "max_processes", 64),
                    cpus=getattr(args, "cpus", 1.0))
    jobs = getattr(args, "jobs", 1)

    def show(report):
        print(format_report(report), flush=True)

    reports = grade_class(files, exercise_set=getattr(args, "set", None), jobs=jobs,
                          timeout_cell=args.timeout_cell, timeout_notebook=args.timeout_notebook,
                          limits=limits, on_report=show if jobs == 1 else None)
    if jobs > 1:  # in the order given, once all are done
        for report in reports:
            show(report)
    for report in reports:
        if report.get("sha256") and not report.get("original_unchanged", True):
            print(console_line(f"lstm-teach grade: WARNING: {report['notebook']} changed "
                               "during grading"), file=sys.stderr)
        for note in report.get("notes", []):
            if note.startswith(("byte for byte", "the student name")):
                print(console_line(f"lstm-teach grade: WARNING: {report['notebook']}: {note}"),
                      file=sys.stderr)
    if len(reports) > 1:
        total = sum(r["score"] for r in reports)
        total_max = sum(r["max_score"] for r in reports)
        print(f"\n{len(reports)} notebooks: {total:g}/{total_max:g} points in total")
    try:
        if args.json:
            Path(args.json).write_text(dumps(reports[0] if len(reports) == 1 else reports),
                                       encoding="utf-8")
        rows = summary_rows(reports)
        if getattr(args, "class_csv", None):
            write_summary_csv(Path(args.class_csv), rows)
        if getattr(args, "class_json", None):
            Path(args.class_json).write_text(dumps(rows), encoding="utf-8")
    except OSError as exc:
        print(f"lstm-teach grade: cannot write a report: {exc}", file=sys.stderr)
        return 2
    return 0
