"""Run All on every fresh exercise reaches every check, and `needs` guards demo cells.

A learner who opens a fresh exercise and presses Run All must see every check report
("not attempted" for a stub), never a traceback that stops the notebook half way. The
demo cells that use the learner's functions are wrapped in ``needs``; these tests execute
each committed exercise in a real kernel (nbclient) and look at what every graded cell
printed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from lstm_teach.grading import checks, needs
from lstm_teach.grading.feedback import FAIL_MARK, PASS_MARK, TODO_MARK

REPO_ROOT = Path(__file__).resolve().parent.parent
EXERCISES = sorted((REPO_ROOT / "exercises").glob("*.ipynb"))


def _text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
        elif output.get("output_type") == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
    return "".join(parts)


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_run_all_on_a_fresh_exercise_reaches_every_check(path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = [(i, _text(c)) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              and any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert not errors, f"{path.name}: Run All stops at cell {errors[0][0]}: {errors[0][1][:500]}"
    graded = [(i, c) for i, c in enumerate(nb.cells)
              if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
    names = [c.metadata["nbgrader"]["grade_id"] for _, c in graded]
    assert sorted(names) == sorted(ex.name for ex in checks.exercises_for(path.stem))
    for index, cell in graded:
        text = _text(cell)
        assert TODO_MARK in text and PASS_MARK not in text, (
            f"{path.name}, cell {index}: the check did not report as expected:\n{text}")


def test_every_demo_cell_that_calls_a_learner_function_is_guarded():
    """In each exercise, a code cell that calls an answer cell's function uses `needs`."""
    for path in EXERCISES:
        nb = json.loads(path.read_text(encoding="utf-8"))
        answers = set()
        for cell in nb["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("solution"):
                source = "".join(cell["source"])
                answers |= {line.split("(")[0][4:] for line in source.splitlines()
                            if line.startswith("def ")}
        for index, cell in enumerate(nb["cells"]):
            meta = cell["metadata"].get("nbgrader", {})
            if cell["cell_type"] != "code" or meta.get("solution") or meta.get("grade"):
                continue
            source = "".join(cell["source"])
            called = sorted(name for name in answers
                            if re.search(rf"(?<![\w.]){name}\(", source))
            if called:
                assert "with needs(" in source, f"{path.name}, cell {index} calls {called} unguarded"


# --------------------------------------------------------------------------- needs itself


def stub_sigmoid(z):
    raise NotImplementedError()


def right_param_count(D, H):
    return 4 * (D * H + H * H + H)


def wrong_param_count(D, H):
    return D * H + H * H + H


def test_needs_explains_an_unfinished_function_and_lets_the_notebook_go_on(capsys):
    with needs(stable_sigmoid=stub_sigmoid):
        stub_sigmoid(0.0)
        raise AssertionError("never reached")
    out = capsys.readouterr().out
    assert "finish it first" in out and "`stub_sigmoid`" in out and TODO_MARK in out


def test_needs_explains_a_wrong_function(capsys):
    with needs(lstm_param_count=wrong_param_count):
        if wrong_param_count(32, 128) != 4 * (32 * 128 + 128 * 128 + 128):
            raise AssertionError  # a notebook's bare assert (pytest would add a message)
    out = capsys.readouterr().out
    assert FAIL_MARK in out and "`wrong_param_count` does not pass its check" in out
    assert "raised AssertionError, at line" in out, out  # an empty message adds no ": "
    assert "the check cell says how" in out


def raising_param_count(D, H):
    count = 4 * (D * H + H * H + H)
    if D > 8:
        raise ValueError("D is too big for me")
    return count


def test_needs_says_which_line_of_the_learners_function_raised(capsys):
    with needs(lstm_param_count=raising_param_count):
        raising_param_count(32, 128)
    out = capsys.readouterr().out
    assert "ValueError: D is too big for me, at line" in out, out
    assert '(in raising_param_count): `raise ValueError("D is too big for me")`' in out, out


def test_needs_raises_when_the_learner_functions_are_right():
    with pytest.raises(ZeroDivisionError):
        with needs(lstm_param_count=right_param_count):
            raise ZeroDivisionError("not the learner's fault")


def test_needs_is_silent_when_nothing_goes_wrong(capsys):
    with needs(lstm_param_count=right_param_count):
        value = right_param_count(1, 1)
    assert value == 12 and capsys.readouterr().out == ""


def test_needs_rejects_unknown_checks_and_non_functions():
    with pytest.raises(KeyError, match="no exercise check named 'no_such_check'"):
        needs(no_such_check=right_param_count)
    with pytest.raises(KeyError, match="right_param_count"):
        needs(right_param_count)  # positional: the check must have the function's name
    with pytest.raises(TypeError, match="needs"):
        needs(lstm_param_count=3)
