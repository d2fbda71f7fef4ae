"""Real nbgrader on the course: generate_assignment, then autograde, with its defaults.

An instructor who uses nbgrader takes ``solutions/`` as nbgrader's source folder as it
is. This test runs the real nbgrader command line in a temporary course folder, with
nbgrader's default configuration (only a longer cell timeout) and no lstm-teach
environment variable:

* ``nbgrader generate_assignment`` succeeds, and its student version of every notebook
  has exactly the cells of ``exercises/`` (same sources, same order);
* ``nbgrader autograde`` gives 0 points to the untouched student versions and full
  marks to student versions whose answer cells hold the solutions.

The bug zoo hands out broken code (``### STUB`` regions). nbgrader's default
preprocessor replaces every solution region (and a solution cell without one) by its fixed
stub ``raise NotImplementedError()``, so with the defaults the zoo's student version has
that stub where ``exercises/`` has the broken code; it still grades right (0 untouched, full
marks solved). ``lstm_teach.grading.nbgrader_stubs`` (one line of ``nbgrader_config.py``)
gives nbgrader the same broken code as ``exercises/``, tested here on a small notebook and
on the zoo, whose untouched broken code then scores 0.
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
#: Those whose default student version is exactly ``exercises/`` (the zoo's needs the config).
SAME_AS_EXERCISES = [stem for stem in SETS if stem != BUG_ZOO]


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


@pytest.mark.parametrize("stem", SAME_AS_EXERCISES)
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


# --------------------------------------------------------------------------- ### STUB regions


def _stub_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell(
        "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### STUB return x - 1\n"
        "    ### END SOLUTION")
    plain = nbformat.v4.new_code_cell("def g(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n"
                                      "    ### END SOLUTION")
    for cell, grade_id in ((code, "f-answer"), (plain, "g-answer")):
        cell.metadata["nbgrader"] = {"grade": False, "grade_id": grade_id, "locked": False,
                                     "schema_version": 3, "solution": True, "task": False}
    nb.cells = [code, plain]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    return nb


def _stub_config(course: Path) -> None:
    (course / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa\n"
        "from lstm_teach.grading.nbgrader_stubs import generate_assignment_preprocessors\n"
        "c.GenerateAssignment.preprocessors = generate_assignment_preprocessors()\n",
        encoding="utf-8")


def test_stub_regions_hand_out_their_own_code_through_nbgrader(tmp_path):
    _stub_config(tmp_path)
    (tmp_path / "source" / "ps").mkdir(parents=True)
    nbformat.write(_stub_notebook(), tmp_path / "source" / "ps" / "stubs.ipynb")
    _nbgrader(tmp_path, "generate_assignment", "ps", "--force")
    cells = nbformat.read(tmp_path / "release" / "ps" / "stubs.ipynb", as_version=4).cells
    assert cells[0].source == "def f(x):\n    return x - 1"
    assert cells[1].source == "def g(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"


def test_the_bug_zoo_keeps_its_broken_code_through_nbgrader(tmp_path):
    _stub_config(tmp_path)
    (tmp_path / "source" / "zoo").mkdir(parents=True)
    shutil.copyfile(REPO_ROOT / "solutions" / f"{BUG_ZOO}.ipynb",
                    tmp_path / "source" / "zoo" / f"{BUG_ZOO}.ipynb")
    _nbgrader(tmp_path, "generate_assignment", "zoo", "--force")
    release = tmp_path / "release" / "zoo" / f"{BUG_ZOO}.ipynb"
    assert _sources(release) == _sources(REPO_ROOT / "exercises" / f"{BUG_ZOO}.ipynb")

    for student, notebook in (("untouched", nbformat.read(release, as_version=4)),
                              ("solved", _solved(release, REPO_ROOT / "solutions"
                                                 / f"{BUG_ZOO}.ipynb"))):
        folder = tmp_path / "submitted" / student / "zoo"
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{BUG_ZOO}.ipynb")
    _nbgrader(tmp_path, "autograde", "zoo", "--force")

    from nbgrader.api import Gradebook

    registered = checks.max_score(BUG_ZOO)
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        untouched = gradebook.find_submission_notebook(BUG_ZOO, "zoo", "untouched")
        solved = gradebook.find_submission_notebook(BUG_ZOO, "zoo", "solved")
        assert untouched.max_score == registered and untouched.score == 0
        assert solved.max_score == registered and solved.score == registered
