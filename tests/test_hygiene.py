"""Repository hygiene: every course notebook is committed clean, and the code is ruff clean.

A notebook is clean when it is valid nbformat, has no outputs, no execution counts, no
saved widget state (notebook metadata ``widgets``), no per-cell execution timing, and
carries exactly the ``kernelspec`` and ``language_info`` that JupyterLab 4 with ipykernel
writes, so that opening and saving it changes nothing. ``make strip`` fixes all of these.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIRS = ("notebooks", "solutions", "exercises", "apps")
FIX = "run `make strip` and commit the result"


def course_notebooks() -> list[Path]:
    """Every .ipynb under the course folders, skipping hidden folders (.ipynb_checkpoints)."""
    found = []
    for folder in NOTEBOOK_DIRS:
        root = REPO_ROOT / folder
        if root.is_dir():
            found += [
                p for p in sorted(root.rglob("*.ipynb"))
                if not any(part.startswith(".") for part in p.relative_to(root).parts)
            ]
    return found


NOTEBOOKS = course_notebooks()


def _id(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


@functools.cache
def load_strip_tool():
    """Import tools/strip_notebooks.py (a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location(
        "strip_notebooks", REPO_ROOT / "tools" / "strip_notebooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def hygiene_problems(nb: nbformat.NotebookNode) -> list[str]:
    """Everything that keeps ``nb`` from being commit-ready, one line per problem."""
    problems = []
    tool = load_strip_tool()
    for key, expected in (("kernelspec", tool.KERNELSPEC), ("language_info", tool.LANGUAGE_INFO)):
        if nb.metadata.get(key) != expected:
            problems.append(f"metadata {key} is {nb.metadata.get(key)!r}, expected {expected!r} "
                            "(what JupyterLab + ipykernel write on save)")
    if "widgets" in nb.metadata:
        problems.append("notebook metadata holds saved widget state ('widgets')")
    for index, cell in enumerate(nb.cells):
        where = f"cell {index} ({cell.cell_type})"
        if cell.cell_type == "code":
            if cell.get("outputs"):
                problems.append(f"{where} has {len(cell.outputs)} output(s)")
            if cell.get("execution_count") is not None:
                problems.append(f"{where} has execution_count {cell.execution_count}")
        if "execution" in cell.get("metadata", {}):
            problems.append(f"{where} has execution timing in its metadata")
    return problems


def test_the_course_has_its_start_notebook():
    assert REPO_ROOT / "notebooks" / "00_start_here.ipynb" in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_notebook_is_valid_nbformat(path):
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert nb.nbformat == 4, f"{_id(path)}: nbformat {nb.nbformat}, expected 4"
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        pytest.fail(f"{_id(path)} is not valid nbformat: {exc.message}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_notebook_is_stripped(path):
    problems = hygiene_problems(nbformat.read(path, as_version=nbformat.NO_CONVERT))
    assert not problems, f"{_id(path)} is not commit-ready ({FIX}):\n  " + "\n  ".join(problems)


def _dirty_notebook() -> nbformat.NotebookNode:
    """A notebook with every kind of leftover that stripping must remove."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "myenv", "display_name": "My env", "language": "python"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    code = nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\nx")
    code.execution_count = 3
    code.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "1"},
                                           execution_count=3)]
    code.metadata["execution"] = {"iopub.status.busy": "2024-01-01T00:00:00Z"}
    code.metadata["nbgrader"] = {"grade": True, "grade_id": "ex1", "points": 2,
                                 "solution": True, "locked": False, "schema_version": 3}
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), code]
    return nb


def test_strip_tool_removes_every_problem_and_keeps_content(tmp_path):
    dirty = _dirty_notebook()
    # kernelspec, language_info, widgets, outputs, count, timing
    assert len(hygiene_problems(dirty)) == 6
    path = tmp_path / "dirty.ipynb"
    nbformat.write(dirty, path)

    tool = load_strip_tool()
    assert tool.main([str(tmp_path), "--check"]) == 1
    assert nbformat.read(path, as_version=4) == dirty, "--check must not change files"
    assert tool.main([str(tmp_path)]) == 0

    clean = nbformat.read(path, as_version=4)
    assert hygiene_problems(clean) == []
    nbformat.validate(clean)
    # Sources, cell ids and nbgrader metadata survive.
    assert [c.source for c in clean.cells] == [c.source for c in dirty.cells]
    assert [c.id for c in clean.cells] == [c.id for c in dirty.cells]
    assert clean.cells[1].metadata["nbgrader"] == dirty.cells[1].metadata["nbgrader"]
    # A second pass changes nothing, byte for byte.
    before = path.read_bytes()
    assert tool.main([str(path), "--check"]) == 0
    assert path.read_bytes() == before


def test_strip_tool_skips_checkpoints(tmp_path):
    hidden = tmp_path / ".ipynb_checkpoints" / "old-checkpoint.ipynb"
    hidden.parent.mkdir()
    nbformat.write(_dirty_notebook(), hidden)
    tool = load_strip_tool()
    assert list(tool.iter_notebooks([tmp_path])) == []
    assert tool.main([str(tmp_path), "--check"]) == 0


def test_hygiene_check_reports_a_clean_notebook_as_clean():
    clean = load_strip_tool().strip_notebook(copy.deepcopy(_dirty_notebook()))
    assert hygiene_problems(clean) == []


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is not installed")
def test_ruff_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format=concise", "."],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, f"`ruff check .` found problems:\n{result.stdout}{result.stderr}"
