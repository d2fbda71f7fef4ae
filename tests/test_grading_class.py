"""A whole class: 20 mixed submissions graded with --jobs 1 and --jobs 2.

Solutions score full marks, fresh exercises zero, junk after a solution keeps the full
score, and infinite loops cost only what they stop. The class summary (CSV and JSON) has
one right row per student per exercise, and two jobs finish sooner than one.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import nbformat
import pytest

from lstm_teach.grading import exercises_for
from lstm_teach.grading.classroom import SUMMARY_FIELDS, cli_grade

REPO_ROOT = Path(__file__).resolve().parent.parent
SETS = ["01_iir_filter", "02_simple_rnn", "03_gated_cell", "04_bug_zoo", "04_carousel",
        "05_gradients"]
CELL_S = 8.0  # short: the loops below cost this much each
JUNK = ["def broken(:\n    pass", "1 / 0", "print('x' * 5_000_000)", "x = [1] * 10**6"]
LOOP = "while True:\n    pass"
STUBBORN = "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass"


def _write(folder: Path, student: str, kind: str, exercise_set: str, *extra: str) -> None:
    nb = nbformat.read(REPO_ROOT / kind / f"{exercise_set}.ipynb", as_version=4)
    nb.cells += [nbformat.v4.new_code_cell(source) for source in extra]
    nbformat.write(nb, folder / f"{student}_{exercise_set}.ipynb")


def build_class(folder: Path) -> dict[str, str]:
    """Write 20 submissions; return student -> what is expected ("full" or "zero")."""
    folder.mkdir()
    expected = {}
    for k, exercise_set in enumerate(SETS):
        _write(folder, f"sol{k}", "solutions", exercise_set)
        _write(folder, f"fresh{k}", "exercises", exercise_set)
        expected[f"sol{k}"], expected[f"fresh{k}"] = "full", "zero"
    for k, exercise_set in enumerate(SETS[:4]):
        _write(folder, f"junk{k}", "solutions", exercise_set, *JUNK)
        expected[f"junk{k}"] = "full"
    _write(folder, "loop0", "solutions", "01_iir_filter", LOOP, "y = 2")
    _write(folder, "loop1", "exercises", "03_gated_cell", LOOP)
    _write(folder, "loop2", "solutions", "02_simple_rnn", STUBBORN)
    _write(folder, "loop3", "exercises", "01_iir_filter", STUBBORN)
    expected.update(loop0="full", loop1="zero", loop2="full", loop3="zero")
    assert len(expected) == 20
    return expected


def _grade(folder: Path, out: Path, jobs: int) -> tuple[float, list[dict], list[dict]]:
    args = argparse.Namespace(
        notebooks=[str(folder)], json=str(out / f"reports{jobs}.json"), set=None, jobs=jobs,
        class_csv=str(out / f"class{jobs}.csv"), class_json=str(out / f"class{jobs}.json"),
        memory_gib=4.0, max_processes=64, timeout_cell=CELL_S, timeout_notebook=120.0)
    start = time.perf_counter()
    assert cli_grade(args) == 0
    elapsed = time.perf_counter() - start
    with open(out / f"class{jobs}.csv", newline="", encoding="utf-8") as fh:
        csv_rows = list(csv.DictReader(fh))
    json_rows = json.loads((out / f"class{jobs}.json").read_text())
    return elapsed, csv_rows, json_rows


@pytest.mark.slow
def test_a_class_of_twenty_every_row_right_and_two_jobs_faster(tmp_path, capsys):
    expected = build_class(tmp_path / "class")
    out = tmp_path / "out"
    out.mkdir()
    one, csv_rows, json_rows = _grade(tmp_path / "class", out, jobs=1)
    two, csv_rows2, json_rows2 = _grade(tmp_path / "class", out, jobs=2)
    print(f"\nclass of 20: --jobs 1 {one:.1f} s, --jobs 2 {two:.1f} s")  # noqa: T201

    for rows in (json_rows, json_rows2):
        students = {}
        for row in rows:
            assert set(row) == set(SUMMARY_FIELDS)
            students.setdefault(row["student"], []).append(row)
        assert set(students) == set(expected)
        for student, mine in students.items():
            exercise_set = mine[0]["exercise_set"]
            names = [ex.name for ex in exercises_for(exercise_set)]
            assert [r["exercise"] for r in mine] == names, student
            for row in mine:
                want = row["max_points"] if expected[student] == "full" else 0
                assert row["points"] == want, (student, row)
                assert row["confined"] in (True, False)
    assert [tuple(r.values()) for r in csv_rows] == [
        tuple("" if v is None else str(v) for v in r.values()) for r in json_rows]
    assert [(r["student"], r["exercise"], r["points"]) for r in json_rows] == \
        [(r["student"], r["exercise"], r["points"]) for r in json_rows2]
    reports = {Path(r["notebook"]).stem.split("_")[0]: r
               for r in json.loads((out / "reports2.json").read_text())}
    assert reports["loop2"]["status"] == "timeout" and reports["loop0"]["status"] == "ok"
    assert two < one, f"--jobs 2 took {two:.1f} s, --jobs 1 {one:.1f} s"
