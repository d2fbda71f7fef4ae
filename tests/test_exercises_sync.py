"""The committed exercises/ are exactly what `lstm-teach exercises build` makes from solutions/."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from lstm_teach.grading.generate import cli_check, compare_exercises

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_exercises_are_in_sync_with_solutions():
    differences = compare_exercises(REPO_ROOT / "solutions", REPO_ROOT / "exercises")
    assert differences == [], (
        "exercises/ is out of date; run `lstm-teach exercises build`:\n  "
        + "\n  ".join(differences))


def test_the_sync_check_fails_on_a_hand_edited_exercise(tmp_path, capsys):
    exercises = tmp_path / "exercises"
    shutil.copytree(REPO_ROOT / "exercises", exercises)
    args = argparse.Namespace(solutions=str(REPO_ROOT / "solutions"), exercises=str(exercises))
    assert cli_check(args) == 0

    edited = exercises / "03_gated_cell.ipynb"
    edited.write_text(edited.read_text().replace("# YOUR CODE HERE", "# my code", 1))
    (exercises / "99_stale.ipynb").write_text("{}")
    assert cli_check(args) == 1
    err = capsys.readouterr().err
    assert "03_gated_cell.ipynb differs from what its solution generates" in err
    assert "99_stale.ipynb has no solution notebook" in err
