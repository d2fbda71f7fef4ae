"""Real nbgrader on the course: generate_assignment, then autograde, with its defaults.

An instructor who uses nbgrader takes ``solutions/`` as nbgrader's source folder as it
is. This test runs the real nbgrader command line in a temporary course folder, with
nbgrader's default configuration (only a longer cell timeout) and no lstm-teach
environment variable:

* ``nbgrader generate_assignment`` succeeds, and its student version of every notebook
  has exactly the cells of ``exercises/`` (same sources, same order);
* ``nbgrader autograde`` gives 0 points to the untouched student versions and full
  marks to student versions whose answer cells hold the solutions.

The bug zoo included: its broken specimens live in read-only cells outside any solution
region, so nbgrader's defaults hand them out unchanged, as ``exercises/`` does.
Skipped, with the reason, when nbgrader (the ``grading`` extra) is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader", reason="nbgrader is not installed (pip install -e '.[grading]')")

from lstm_teach.grading import checks  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "course"
BUG_ZOO = "04_bug_zoo"


#: Every exercise notebook, the bug zoo included: all go through nbgrader's defaults.
SETS = [p.stem for p in sorted((REPO_ROOT / "solutions").glob("*.ipynb"))]
#: The zoo's broken specimens, which its student version must hand out as they are.
SPECIMENS = ("buggy_step_backward_1", "buggy_step_backward_2", "buggy_backward_3",
             "buggy_step_backward_4", "buggy_init_lstm_params")


def test_no_hidden_tests_outside_graded_cells():
    """nbgrader refuses a hidden-test region in a cell that is not a graded (test) cell."""
    for stem in SETS:
        nb = json.loads((REPO_ROOT / "solutions" / f"{stem}.ipynb").read_text(encoding="utf-8"))
        for index, cell in enumerate(nb["cells"]):
            if not cell["metadata"].get("nbgrader", {}).get("grade"):
                assert "### BEGIN HIDDEN TESTS" not in "".join(cell["source"]), (stem, index)


def _nbgrader(course: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LSTM_TEACH")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"nbgrader {args[0]} failed:\n{result.stdout[-3000:]}" \
                                   f"\n{result.stderr[-3000:]}"
    return result


def _sources(path: Path) -> list[tuple[str, str]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]]


def _solved(release: Path, source: Path) -> nbformat.NotebookNode:
    """The student version with every answer cell filled in from the solution, by grade_id."""
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source
               for c in nbformat.read(source, as_version=4).cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.read(release, as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = answers[meta["grade_id"]]
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("nbgrader-course")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa\n"
        "# nbgrader's defaults, except a cell time limit fit for a shared 2-core machine\n"
        "c.Execute.timeout = 600\n", encoding="utf-8")
    source = course / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    for stem in SETS:
        shutil.copyfile(REPO_ROOT / "solutions" / f"{stem}.ipynb", source / f"{stem}.ipynb")
    _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    return course


@pytest.mark.parametrize("stem", SETS)
def test_generate_assignment_gives_the_exercises(course, stem):
    release = course / "release" / ASSIGNMENT / f"{stem}.ipynb"
    assert _sources(release) == _sources(REPO_ROOT / "exercises" / f"{stem}.ipynb")


def test_autograde_zero_for_untouched_and_full_marks_for_solved(course):
    for student, make in (("fresh", None), ("solved", _solved)):
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        for stem in SETS:
            release = course / "release" / ASSIGNMENT / f"{stem}.ipynb"
            if make is None:
                shutil.copyfile(release, folder / f"{stem}.ipynb")
            else:
                nbformat.write(make(release, course / "source" / ASSIGNMENT / f"{stem}.ipynb"),
                               folder / f"{stem}.ipynb")
    _nbgrader(course, "autograde", ASSIGNMENT, "--force")

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for stem in SETS:
            registered = checks.max_score(stem)
            fresh = gradebook.find_submission_notebook(stem, ASSIGNMENT, "fresh")
            solved = gradebook.find_submission_notebook(stem, ASSIGNMENT, "solved")
            assert fresh.max_score == registered and fresh.score == 0, stem
            assert solved.max_score == registered and solved.score == registered, stem


def test_the_bug_zoo_keeps_its_broken_code_read_only(course):
    """nbgrader's defaults hand out every specimen, unchanged and locked, beside its answer stub."""
    release = nbformat.read(course / "release" / ASSIGNMENT / f"{BUG_ZOO}.ipynb", as_version=4)
    source = nbformat.read(REPO_ROOT / "solutions" / f"{BUG_ZOO}.ipynb", as_version=4)
    given = {c.metadata["nbgrader"]["grade_id"]: c for c in release.cells
             if c.metadata.get("nbgrader", {}).get("locked")
             and not c.metadata["nbgrader"].get("grade")}
    assert sorted(given) == sorted(SPECIMENS)
    originals = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in source.cells}
    for name, cell in given.items():
        assert f"def {name}(" in cell.source and cell.source == originals[name], name
        assert cell.metadata.get("editable") is False, f"{name} should be read-only"
    stubs = [c for c in release.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(stubs) == len(SPECIMENS)
    assert all(c.source.endswith("    # YOUR CODE HERE\n    raise NotImplementedError()")
               for c in stubs)
