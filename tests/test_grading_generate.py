"""The exercise generator: region stubs, hidden tests, metadata, validation, determinism."""

from __future__ import annotations

import argparse
import json

import nbformat
import pytest

from lstm_teach.grading import generate
from lstm_teach.grading.generate import (
    BuildError,
    annotate_solution,
    build_all,
    build_exercise,
    strip_solutions,
    validate_solution,
)

SOLUTION = '''def f(x):
    y = 2 * x
    ### BEGIN SOLUTION
    if y > 0:
        return y
    return -y
    ### END SOLUTION
'''


def test_a_region_becomes_the_stub_at_its_indentation():
    assert strip_solutions(SOLUTION) == (
        "def f(x):\n    y = 2 * x\n    # YOUR CODE HERE\n    raise NotImplementedError()\n")


def test_hidden_tests_disappear_and_markdown_answers_are_stubbed():
    code = "x = 1\n### BEGIN HIDDEN TESTS\nassert x == 1\n### END HIDDEN TESTS\nprint(x)"
    assert strip_solutions(code) == "x = 1\nprint(x)"
    markdown = "Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"
    assert strip_solutions(markdown, "markdown") == "Why?\nYOUR ANSWER HERE"


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1\n", "is never closed"),
    ("x = 1\n### END SOLUTION\n", "without a matching BEGIN"),
    ("### BEGIN SOLUTION\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n### END SOLUTION",
     "inside an open '### BEGIN SOLUTION'"),
])
def test_unbalanced_markers_are_build_errors(source, message):
    with pytest.raises(BuildError, match=message):
        strip_solutions(source, where="cell 3")


def _solution_notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Exercises"),
        nbformat.v4.new_code_cell("def lstm_param_count(D, H):\n    ### BEGIN SOLUTION\n"
                                  "    return 4 * (D * H + H * H + H)\n    ### END SOLUTION"),
        nbformat.v4.new_code_cell('check("lstm_param_count", lstm_param_count)'),
    ]
    return nb


def test_annotate_writes_nbgrader_metadata_from_markers_and_the_registry():
    nb = _solution_notebook()
    annotate_solution(nb, "03_gated_cell")
    assert nb.cells[1].metadata.nbgrader == {
        "grade": False, "grade_id": "lstm_param_count-answer", "locked": False,
        "schema_version": 3, "solution": True, "task": False}
    assert nb.cells[2].metadata.nbgrader == {
        "grade": True, "grade_id": "lstm_param_count", "locked": True, "points": 1,
        "schema_version": 3, "solution": False, "task": False}
    assert nb.metadata.lstm_teach == {"exercise_set": "03_gated_cell"}


def test_validation_names_missing_exercises_and_wrong_points():
    nb = _solution_notebook()
    annotate_solution(nb, "03_gated_cell")
    nb.cells[2].metadata.nbgrader["points"] = 7
    problems = validate_solution(nb, "03_gated_cell")
    assert any("points=7; the registry says 'lstm_param_count', 1" in p for p in problems)
    assert any("exercise 'lstm_step_forward' must be checked in exactly one cell; found 0" in p
               for p in problems)
    assert validate_solution(nb, "99_unknown") == [
        "no checks are registered for exercise set '99_unknown': add a module "
        "lstm_teach/grading/sets/nbNN_<name>.py that registers them"]


def test_unannotated_solution_cells_are_rejected():
    problems = validate_solution(_solution_notebook(), "03_gated_cell")
    assert "cell 1 has a solution region but no nbgrader metadata 'solution: true' " \
           "(run the annotate command)" in problems
    assert any("cell 2 calls check() but is not marked as graded" in p for p in problems)


def test_build_strips_outputs_locks_graded_cells_and_is_deterministic():
    nb = _solution_notebook()
    annotate_solution(nb, "03_gated_cell")
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="✅")]
    nb.cells[2].execution_count = 4
    nb.cells[2].metadata["execution"] = {"iopub.status.busy": "2024"}
    nb.metadata["widgets"] = {"state": {}}
    exercise = build_exercise(nb, "03_gated_cell", "03_gated_cell.ipynb")
    graded = exercise.cells[2]
    assert graded.outputs == [] and graded.execution_count is None
    assert "execution" not in graded.metadata and "widgets" not in exercise.metadata
    assert graded.metadata.deletable is False and graded.metadata.editable is False
    assert "raise NotImplementedError()" in exercise.cells[1].source
    assert "return 4 *" in nb.cells[1].source, "the solution itself must not change"
    assert exercise.metadata.lstm_teach["exercise_set"] == "03_gated_cell"
    assert generate.render(exercise) == generate.render(
        build_exercise(nb, "03_gated_cell", "03_gated_cell.ipynb"))
    nbformat.validate(exercise)


def test_build_all_reports_every_problem_and_writes_nothing(tmp_path, capsys):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    (solutions / "03_gated_cell.ipynb").write_text(nbformat.writes(_solution_notebook()))
    (solutions / "01_iir_filter.ipynb").write_text("{not json")
    with pytest.raises(BuildError) as info:
        build_all(solutions)
    assert "01_iir_filter.ipynb: cannot read it" in str(info.value)
    assert "03_gated_cell.ipynb: cell 1 has a solution region" in str(info.value)
    args = argparse.Namespace(solutions=str(solutions), exercises=str(tmp_path / "exercises"))
    assert generate.cli_build(args) == 1
    assert not (tmp_path / "exercises").exists()
    assert "exercises build failed" in capsys.readouterr().err


def test_cell_ids_are_stable_for_notebooks_without_ids(tmp_path):
    nb = json.loads(nbformat.writes(_solution_notebook()))
    nb["nbformat_minor"] = 4
    for cell in nb["cells"]:
        del cell["id"]
    path = tmp_path / "03_gated_cell.ipynb"
    path.write_text(json.dumps(nb))
    first = [c.id for c in generate.read_notebook(path).cells]
    assert first == [c.id for c in generate.read_notebook(path).cells]
    assert len(set(first)) == 3


def test_build_refuses_to_overwrite_an_edited_exercise(tmp_path, repo_root, capsys):
    """An exercise edited since the last build stops the build, which writes nothing."""
    out = tmp_path / "exercises"
    args = argparse.Namespace(solutions=str(repo_root / "solutions"), exercises=str(out),
                              force=False)
    assert generate.cli_build(args) == 0
    target = out / "01_iir_filter.ipynb"
    assert not generate.edited_since_build(target)
    nb = json.loads(target.read_text(encoding="utf-8"))
    nb["cells"][3]["source"] = "def iir_filter(x, w, b=1.0):\n    return x  # my work\n"
    edited = json.dumps(nb, indent=1) + "\n"
    target.write_text(edited, encoding="utf-8")
    other = out / "02_simple_rnn.ipynb"
    other.write_text(other.read_text(encoding="utf-8").replace("rnn_step_forward", "rnn_step"),
                     encoding="utf-8")
    capsys.readouterr()

    assert generate.cli_build(args) == 1
    err = capsys.readouterr().err
    assert "refused" in err and str(target) in err and str(other) in err and "--force" in err
    assert target.read_text(encoding="utf-8") == edited  # left exactly as the learner had it

    args.force = True
    assert generate.cli_build(args) == 0
    assert not generate.edited_since_build(target)
    assert "my work" not in target.read_text(encoding="utf-8")


def test_running_an_exercise_counts_as_an_edit_but_reformatting_does_not(tmp_path, repo_root):
    out = tmp_path / "exercises"
    args = argparse.Namespace(solutions=str(repo_root / "solutions"), exercises=str(out),
                              force=False)
    assert generate.cli_build(args) == 0
    target = out / "03_gated_cell.ipynb"
    nb = json.loads(target.read_text(encoding="utf-8"))
    target.write_text(json.dumps(nb, indent=4, sort_keys=False), encoding="utf-8")
    assert not generate.edited_since_build(target)  # same content, other layout
    nb["cells"][1]["execution_count"] = 1
    target.write_text(json.dumps(nb), encoding="utf-8")
    assert generate.edited_since_build(target)


def test_a_written_answer_is_a_zero_point_manually_graded_nbgrader_cell():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("Why?\n### BEGIN SOLUTION\nBecause.\n"
                                              "### END SOLUTION")]
    annotate_solution(nb, "07_variants")
    meta = nb.cells[0].metadata["nbgrader"]
    assert meta["solution"] and meta["grade"] and meta["points"] == 0 and not meta["locked"]
    exercise = build_exercise(nb, "07_variants", "07_variants.ipynb")
    assert exercise.cells[0].source == "Why?\nYOUR ANSWER HERE"
    assert "editable" not in exercise.cells[0].metadata  # the learner writes here
    nb.cells[0].metadata["nbgrader"].update(grade=False)
    assert any("written answer" in p for p in validate_solution(nb, "07_variants"))
