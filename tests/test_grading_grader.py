"""The grader, end to end: real kernels on the solutions, the fresh exercises and broken submissions.

Each notebook runs once, in a module-scoped fixture (two at a time), and the tests read
the reports. Submissions that need no kernel (invalid files, unknown notebooks, usage
errors) are tested directly.
"""

from __future__ import annotations

import argparse
import copy
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from lstm_teach.grading import exercise_sets, exercises_for
from lstm_teach.grading.classroom import cli_grade
from lstm_teach.grading.grader import grade_notebook, identify

REPO_ROOT = Path(__file__).resolve().parent.parent
SETS = exercise_sets()
CELL_TIMEOUT = 120.0  # generous: CI machines are shared; the junk tests use short limits


def max_points(exercise_set: str) -> int:
    return sum(ex.points for ex in exercises_for(exercise_set))


def read(path: Path):
    return nbformat.read(path, as_version=4)


def with_cells(nb, *sources):
    nb = copy.deepcopy(nb)
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


JUNK = [
    "def broken(:\n    pass",  # a syntax error
    "1 / 0",  # an exception
    "print('x' * 10_000_000)",  # 10 MB of output in one message
    "for _ in range(100):\n    print('y' * 100_000)",  # and 10 MB in many
    "while True:\n    pass",  # an infinite loop (interrupted by the cell timeout)
    "check('iir_filter', lambda *a: None)",  # a later failed attempt keeps the earlier pass
    "print('still running')",
]


def _broken_submissions(tmp: Path) -> dict[str, tuple[Path, float, float]]:
    """name -> (path, cell timeout, notebook timeout)."""
    solution = read(REPO_ROOT / "solutions" / "01_iir_filter.ipynb")
    junk = tmp / "junk" / "01_iir_filter.ipynb"
    runaway = tmp / "runaway" / "01_iir_filter.ipynb"
    edited = tmp / "edited" / "alice_03_gated_cell.ipynb"
    for path in (junk, runaway, edited):
        path.parent.mkdir()
    nbformat.write(with_cells(solution, *JUNK), junk)
    # A loop that switches off the runner's interrupt: only killing the sandbox stops it.
    stubborn = ("import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                "signal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass")
    nbformat.write(with_cells(solution, stubborn, *["x = 1"] * 20), runaway)

    nb = read(REPO_ROOT / "solutions" / "03_gated_cell.ipynb")
    answers = [c for c in nb.cells if c.cell_type == "code"
               and "def lstm_param_count" in c.source]
    assert len(answers) == 1
    nb.cells.remove(answers[0])  # the answer deleted: that exercise cannot score
    graded = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
              if c.metadata.get("nbgrader", {}).get("grade")}
    nb.cells.remove(graded["stable_sigmoid"])  # moved above the imports: fails there,
    nb.cells.insert(0, graded["stable_sigmoid"])  # but the grader calls sigmoid at the end too
    nb.cells.remove(graded["lstm_step_forward"])  # a deleted check cell costs nothing
    del nb.metadata["lstm_teach"]  # recognised by its file name instead
    nbformat.write(nb, edited)
    return {"junk": (junk, 5.0, 120.0), "runaway": (runaway, 3.0, 20.0),
            "edited": (edited, CELL_TIMEOUT, 300.0)}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grading")
    jobs = {f"solutions/{s}": (REPO_ROOT / "solutions" / f"{s}.ipynb", CELL_TIMEOUT, 300.0)
            for s in SETS}
    jobs.update({f"exercises/{s}": (REPO_ROOT / "exercises" / f"{s}.ipynb", CELL_TIMEOUT, 300.0)
                 for s in SETS})
    jobs.update(_broken_submissions(tmp))
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(grade_notebook, *job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("exercise_set", SETS)
def test_every_solution_scores_full_marks(reports, exercise_set):
    report = reports[f"solutions/{exercise_set}"]
    assert report["status"] == "ok", report
    assert report["score"] == report["max_score"] == max_points(exercise_set), report
    assert all(row["status"] == "passed" for row in report["exercises"])
    assert report["cell_errors"] == [], "a solution notebook must run without errors"


@pytest.mark.parametrize("exercise_set", SETS)
def test_every_fresh_exercise_scores_zero(reports, exercise_set):
    report = reports[f"exercises/{exercise_set}"]
    assert report["status"] == "ok"
    assert report["score"] == 0
    assert report["max_score"] == max_points(exercise_set) > 0
    assert {row["status"] for row in report["exercises"]} == {"not attempted"}


def test_junk_after_a_solution_keeps_the_full_score(reports):
    report = reports["junk"]
    assert report["status"] == "ok"
    assert report["score"] == report["max_score"] == 5
    errors = " | ".join(e["error"] for e in report["cell_errors"])
    assert "SyntaxError" in errors and "ZeroDivisionError" in errors
    assert "cell timed out after 5 s" in errors
    assert report["elapsed_s"] < 90
    assert len(json.dumps(report)) < 20_000, "20 MB of output must not reach the report"


def test_a_runaway_notebook_is_stopped_and_keeps_its_points(reports):
    report = reports["runaway"]
    assert report["status"] == "timeout"
    assert "did not answer" in report["reason"]
    assert report["score"] == 5
    assert report["elapsed_s"] < 20 + 30  # the cell limit, the grace, start-up and checks


def test_deleted_and_reordered_cells_cost_only_their_own_points(reports):
    report = reports["edited"]
    assert report["exercise_set"] == "03_gated_cell"
    assert report["max_score"] == 5, "max_score comes from the registry, not the submission"
    rows = {row["name"]: row for row in report["exercises"]}
    assert rows["lstm_step_forward"]["points"] == 3
    assert rows["stable_sigmoid"]["points"] == 1
    assert rows["lstm_param_count"]["points"] == 0
    assert "does not define `lstm_param_count`" in rows["lstm_param_count"]["message"]
    assert report["score"] == 4
    assert any("NameError" in e["error"] for e in report["cell_errors"])


# --------------------------------------------------------------------------- no kernel needed


def test_an_invalid_notebook_scores_zero_with_a_reason(tmp_path):
    path = tmp_path / "03_gated_cell.ipynb"
    path.write_text('{"cells": [ oops')
    report = grade_notebook(path)
    assert report["status"] == "invalid notebook"
    assert report["reason"].startswith("cannot read it as a notebook")
    assert (report["score"], report["max_score"]) == (0, 5)


def test_an_unknown_notebook_is_reported(tmp_path):
    path = tmp_path / "homework.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), path)
    report = grade_notebook(path)
    assert report["status"] == "unknown notebook" and report["max_score"] == 0


def test_identify_prefers_the_instructor_then_the_file_name_then_the_metadata():
    nb = {"metadata": {"lstm_teach": {"exercise_set": "05_gradients"}}}
    assert identify(nb, Path("whatever.ipynb"))[0] == "05_gradients"
    assert "metadata" in identify(nb, Path("whatever.ipynb"))[1]
    assert identify(nb, Path("bob_03_gated_cell.ipynb")) == ("03_gated_cell", None)
    assert identify(nb, Path("x.ipynb"), "01_iir_filter") == ("01_iir_filter", None)
    assert identify({}, Path("alice_03_gated_cell (2).ipynb"))[0] == "03_gated_cell"
    assert identify({}, Path("04_bug_zoo-bob.ipynb"))[0] == "04_bug_zoo"
    assert identify({}, Path("013_gated_cells.ipynb")) == (None, None)


def _args(*notebooks, json_path=None, cell=60.0, notebook=600.0, **options):
    values = {"set": None, "jobs": 1, "class_csv": None, "class_json": None,
              "memory_gib": 4.0, "max_processes": 64, **options}
    return argparse.Namespace(notebooks=[str(n) for n in notebooks], json=json_path,
                              timeout_cell=cell, timeout_notebook=notebook, **values)


def test_usage_errors_exit_2_before_grading(tmp_path, capsys):
    assert cli_grade(_args(tmp_path / "missing.ipynb")) == 2
    assert "no such file" in capsys.readouterr().err
    good = tmp_path / "03_gated_cell.ipynb"
    good.write_text("{}")
    assert cli_grade(_args(good, cell=0)) == 2
    assert cli_grade(_args(good, json_path=tmp_path / "nope" / "r.json")) == 2
    assert cli_grade(_args(tmp_path / "empty_dir_does_not_exist")) == 2
    assert cli_grade(_args(good, set="99_nothing")) == 2
    assert "unknown exercise set '99_nothing'" in capsys.readouterr().err
    assert cli_grade(_args(good, jobs=0)) == 2
    assert cli_grade(_args(good, memory_gib=0)) == 2
    capsys.readouterr()
    assert cli_grade(_args(good, cpus=0)) == 2
    assert "--cpus must be a positive number; got 0" in capsys.readouterr().err
    assert cli_grade(_args(good, class_csv=tmp_path / "nope" / "c.csv")) == 2


def test_json_report_is_an_object_for_one_notebook_and_a_list_for_several(tmp_path, capsys):
    bad = tmp_path / "03_gated_cell.ipynb"
    bad.write_text("not a notebook")
    other = tmp_path / "homework.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), other)
    out = tmp_path / "report.json"
    assert cli_grade(_args(bad, json_path=out)) == 0
    single = json.loads(out.read_text())
    assert single["score"] == 0 and single["max_score"] == 5
    assert cli_grade(_args(tmp_path, json_path=out)) == 0  # a folder: every notebook in it
    several = json.loads(out.read_text())
    assert [(r["score"], r["max_score"]) for r in several] == [(0, 5), (0, 0)]
    printed = capsys.readouterr().out
    assert "03_gated_cell.ipynb  [03_gated_cell]  0/5 points  (invalid notebook" in printed
    assert "2 notebooks: 0/5 points in total" in printed
