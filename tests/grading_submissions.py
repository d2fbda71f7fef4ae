"""What the grader's hostile-submission tests share: the bwrap marker and notebook makers."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from lstm_teach.grading import sandbox

REPO_ROOT = Path(__file__).resolve().parent.parent
HAVE_BWRAP = sandbox.find_bwrap() is not None
needs_bwrap = pytest.mark.skipif(
    not HAVE_BWRAP, reason=f"{sandbox.unconfined_reason()}: the confinement tests need a "
    "working bubblewrap (apt-get install bubblewrap)")


def submission(kind: str, exercise_set: str, *extra: str):
    """``kind``/``exercise_set``.ipynb (kind: "solutions" or "exercises") plus code cells."""
    nb = nbformat.read(REPO_ROOT / kind / f"{exercise_set}.ipynb", as_version=4)
    nb.cells += [nbformat.v4.new_code_cell(source) for source in extra]
    return nb


def write(path: Path, nb) -> Path:
    """Write ``nb`` at ``path`` (making its folder); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
