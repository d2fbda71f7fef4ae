"""``lstm-teach grade NOTEBOOK... [--json FILE] [--timeout-cell S] [--timeout-notebook S]``.

For every submitted notebook the grader

1. reads it (an invalid file scores 0, with the reason);
2. recognises which exercise set it is, from the metadata the generator
   wrote or else from its file name (``alice_03_gated_cell.ipynb`` works);
   the maximum score comes from the check registry, not from the submission;
3. copies it into a fresh temporary directory and executes it there in a
   fresh kernel (:mod:`lstm_teach.grading.runner`, in a subprocess of its
   own process group) with a per-cell and a whole-notebook time limit;
4. reads the results the ``check()`` calls appended to a file named by an
   environment variable: a result counts only for an exercise of this set,
   and an exercise keeps its best result (points earned are never lost to a
   later crash, timeout or junk cell);
5. prints a table of points per exercise and optionally writes JSON.

Exit status: 0 whenever grading happened, whatever the submissions did;
2 for the grader's own usage errors (a path that does not exist, a bad
timeout, an unwritable report path).

Security: grading runs the submitted code with your permissions. Run it in a
throwaway environment (a container or a disposable VM), never on a machine
with secrets.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import checks
from .feedback import FAIL_MARK, PASS_MARK, TODO_MARK
from .generate import METADATA_KEY

MAX_NOTEBOOK_BYTES = 50_000_000
MAX_RESULTS_BYTES = 10_000_000
GRACE_S = 30.0  # the runner gets this long beyond the notebook limit before we kill it


# --------------------------------------------------------------------------- identification


def identify(nb, path: Path) -> str | None:
    """The exercise set of a submission: its metadata, else a set name inside its file name."""
    known = checks.exercise_sets()
    meta = nb.get("metadata", {}).get(METADATA_KEY, {}) if isinstance(nb, dict) else {}
    name = meta.get("exercise_set") if isinstance(meta, dict) else None
    if name in known:
        return name
    stem = path.stem.lower()
    for candidate in sorted(known, key=len, reverse=True):
        if re.search(rf"(^|[^0-9a-z]){re.escape(candidate)}($|[^a-z])", stem):
            return candidate
    return None


# --------------------------------------------------------------------------- grading one notebook


def _empty_report(path: Path, exercise_set: str | None, status: str, reason: str) -> dict:
    exercises = checks.exercises_for(exercise_set) if exercise_set else []
    return {
        "notebook": str(path),
        "exercise_set": exercise_set,
        "score": 0,
        "max_score": sum(ex.points for ex in exercises),
        "status": status,
        "reason": reason,
        "exercises": [
            {"name": ex.name, "title": ex.title, "points": 0, "max_points": ex.points,
             "status": "not run", "message": ""}
            for ex in exercises
        ],
        "cell_errors": [],
        "elapsed_s": 0.0,
    }


def _read_results(path: Path) -> list[dict]:
    """Parse the JSON lines the checks wrote; anything malformed is skipped."""
    if not path.exists():
        return []
    with open(path, encoding="utf-8", errors="replace") as fh:
        text = fh.read(MAX_RESULTS_BYTES)
    results = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            results.append(item)
    return results


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
            return
        except (ProcessLookupError, PermissionError, OSError):
            continue


def _execute(nb_path: Path, workdir: Path, results: Path, timeout_cell: float,
             timeout_notebook: float) -> dict:
    """Run the runner subprocess; return its summary (or what we know if it never wrote one)."""
    summary_path = workdir / ".grading-summary.json"
    pidfile = workdir / ".grading-kernel.pid"
    env = dict(os.environ)
    env[checks.RESULTS_ENV] = str(results)
    env.pop(checks.STRICT_ENV, None)  # a failed check must not stop the notebook here
    env.setdefault("MPLBACKEND", "Agg")
    cmd = [sys.executable, "-m", "lstm_teach.grading.runner", str(nb_path),
           "--summary", str(summary_path), "--pidfile", str(pidfile),
           "--timeout-cell", str(timeout_cell), "--timeout-notebook", str(timeout_notebook)]
    log_path = workdir / ".grading-runner.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, start_new_session=True)
        killed = False
        try:
            proc.wait(timeout=timeout_notebook + GRACE_S)
        except subprocess.TimeoutExpired:
            killed = True
            _kill_group(proc.pid)
            proc.wait()
    if (killed or not summary_path.exists()) and pidfile.exists():
        # The runner did not get to shut its kernel down, and the kernel runs in a
        # process group of its own: kill that group so nothing is left running.
        try:
            _kill_group(int(pidfile.read_text().strip()))
        except ValueError:
            pass
    if summary_path.exists():
        try:
            return json.loads(summary_path.read_text(encoding="utf-8"))
        except ValueError:
            pass
    if killed:
        return {"status": "timeout", "errors": [],
                "detail": f"the notebook ran longer than {timeout_notebook:g} s"}
    with open(log_path, "rb") as fh:
        tail = fh.read()[-500:].decode("utf-8", "replace")
    return {"status": "runner failed", "errors": [], "detail": tail.strip()[-300:]}


def grade_notebook(path, timeout_cell: float = 60.0, timeout_notebook: float = 600.0) -> dict:
    """Grade one submission; never raises for anything the submission does.

    Returns
    -------
    dict
        ``notebook``, ``exercise_set``, ``score``, ``max_score``, ``status``
        (``"ok"``, ``"timeout"``, ``"kernel died"``, ``"invalid notebook"``,
        ``"unknown notebook"``, ``"runner failed"``), ``reason``,
        ``exercises`` (name, title, points, max_points, status, message),
        ``cell_errors`` and ``elapsed_s``.
    """
    import nbformat

    path = Path(path)
    start = time.monotonic()
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return _empty_report(path, None, "invalid notebook",
                                 f"the file is larger than {MAX_NOTEBOOK_BYTES // 1_000_000} MB")
        nb = nbformat.reads(path.read_text(encoding="utf-8", errors="replace"), as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("it has no list of cells")
    except Exception as exc:
        exercise_set = identify({}, path)
        return _empty_report(path, exercise_set, "invalid notebook",
                             f"cannot read it as a notebook ({type(exc).__name__}: "
                             f"{str(exc)[:200]})")
    exercise_set = identify(nb, path)
    if exercise_set is None:
        return _empty_report(path, None, "unknown notebook",
                             "cannot tell which exercise notebook this is (no lstm-teach "
                             "metadata, and no known name such as 03_gated_cell in the file name)")

    expected = checks.exercises_for(exercise_set)
    workdir = Path(tempfile.mkdtemp(prefix="lstm-teach-grade-"))
    try:
        copy = workdir / "submission.ipynb"
        copy.write_text(nbformat.writes(nb), encoding="utf-8")
        results_path = workdir / ".grading-results.jsonl"
        summary = _execute(copy, workdir, results_path, timeout_cell, timeout_notebook)
        results = _read_results(results_path)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    rows = []
    for ex in expected:
        mine = [r for r in results if r.get("name") == ex.name]
        best = next((r for r in mine if r.get("passed") is True), mine[-1] if mine else None)
        passed = best is not None and best.get("passed") is True
        rows.append({
            "name": ex.name,
            "title": ex.title,
            "points": ex.points if passed else 0,
            "max_points": ex.points,
            "status": str(best.get("status", "failed"))[:40] if best else "not run",
            "message": str(best.get("message", ""))[:2000] if best else "",
        })
    status = summary.get("status", "runner failed")
    reason = summary.get("detail")
    return {
        "notebook": str(path),
        "exercise_set": exercise_set,
        "score": sum(r["points"] for r in rows),
        "max_score": sum(ex.points for ex in expected),
        "status": status,
        "reason": reason,
        "exercises": rows,
        "cell_errors": summary.get("errors", [])[:20],
        "elapsed_s": round(time.monotonic() - start, 2),
    }


# --------------------------------------------------------------------------- reporting


_MARKS = {"passed": PASS_MARK, "not attempted": TODO_MARK}


def format_report(report: dict) -> str:
    """The human-readable table for one notebook."""
    head = (f"{report['notebook']}  [{report['exercise_set'] or '?'}]  "
            f"{report['score']:g}/{report['max_score']:g} points  "
            f"({report['status']}, {report['elapsed_s']:.1f} s)")
    lines = [head]
    if report.get("reason"):
        lines.append(f"    note: {report['reason']}")
    width = max([len(r["name"]) for r in report["exercises"]] + [8])
    for row in report["exercises"]:
        mark = _MARKS.get(row["status"], FAIL_MARK)
        lines.append(f"    {mark} {row['name']:<{width}}  {row['points']:g}/{row['max_points']:g}"
                     f"  {row['status']}")
    for err in report["cell_errors"][:5]:
        lines.append(f"    cell {err.get('cell')}: {err.get('error')}")
    if len(report["cell_errors"]) > 5:
        lines.append(f"    ... and {len(report['cell_errors']) - 5} more cell error(s)")
    return "\n".join(lines)


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


def cli_grade(args) -> int:
    """Entry point of ``lstm-teach grade``."""
    files, errors = _expand(args.notebooks)
    for label, value in (("--timeout-cell", args.timeout_cell),
                         ("--timeout-notebook", args.timeout_notebook)):
        if not value > 0:
            errors.append(f"{label} must be a positive number of seconds; got {value}")
    if args.json:
        parent = Path(args.json).resolve().parent
        if not parent.is_dir():
            errors.append(f"cannot write the JSON report: directory {parent} does not exist")
    if errors:
        for err in errors:
            print(f"lstm-teach grade: {err}", file=sys.stderr)
        return 2

    reports = []
    for path in files:
        report = grade_notebook(path, args.timeout_cell, args.timeout_notebook)
        reports.append(report)
        print(format_report(report), flush=True)
    if len(reports) > 1:
        total = sum(r["score"] for r in reports)
        total_max = sum(r["max_score"] for r in reports)
        print(f"\n{len(reports)} notebooks: {total:g}/{total_max:g} points in total")
    if args.json:
        payload = reports[0] if len(reports) == 1 else reports
        try:
            Path(args.json).write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
        except OSError as exc:
            print(f"lstm-teach grade: cannot write {args.json}: {exc}", file=sys.stderr)
            return 2
    return 0
