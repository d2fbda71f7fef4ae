"""Shared pytest setup for the kit's tests.

* The notebooks run in the learner's setting, the one ``make lab`` gives: the
  ``LSTM_TEACH_QUICK`` switch is removed from the environment, so neither pytest nor the
  Jupyter kernels that nbval starts (they inherit this environment) can see a value
  left over in the shell. (The reproductions keep ``quick``; their tests pass it
  explicitly.) A headless plotting backend is the default, as in ``make test``; it
  changes how figures are shown, never what is computed.
* Notebooks kept under tests/ (for example broken submissions for the grader tests) are
  test data, never executed by nbval.
* BLAS runs one thread per process: pytest-xdist already keeps both cores busy, and
  two workers with two OpenBLAS threads each oversubscribe the machine (the spin-waiting
  threads made one training test 10-50x slower). Set before numpy is imported.
* Tests marked ``torch`` or ``browser`` skip, with the reason shown, when the optional
  peer is not installed.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402  (after the thread settings above)
import pytest  # noqa: E402

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.pop("LSTM_TEACH_QUICK", None)

REPO_ROOT = Path(__file__).resolve().parent.parent

# Fixture notebooks under tests/ are data for the grading tests, not lessons.
collect_ignore_glob = ["*.ipynb"]


def _has_module(name: str) -> bool:
    # find_spec does not import: checking for torch costs microseconds, not seconds.
    return importlib.util.find_spec(name) is not None


OPTIONAL_PEERS = {
    "torch": ("torch", "PyTorch is not installed (optional: pip install -e '.[torch]')"),
    "browser": (
        "playwright",
        "Playwright is not installed (optional: pip install -e '.[browser]' and "
        "apt-get install chromium)",
    ),
}


def pytest_report_header(config):
    peers = ", ".join(
        f"{module}: {'yes' if _has_module(module) else 'no'}"
        for module, _ in OPTIONAL_PEERS.values()
    )
    return [
        f"lstm-teach: the learner's setting (no LSTM_TEACH_QUICK), "
        f"MPLBACKEND={os.environ.get('MPLBACKEND')!r}; optional peers: {peers}"
    ]


def pytest_collection_modifyitems(config, items):
    for marker, (module, reason) in OPTIONAL_PEERS.items():
        if _has_module(module):
            continue
        skip = pytest.mark.skip(reason=reason)
        for item in items:
            if item.get_closest_marker(marker) is not None:
                item.add_marker(skip)


@pytest.fixture
def repo_root() -> Path:
    """The repository root (the folder holding pyproject.toml)."""
    return REPO_ROOT


@pytest.fixture
def rng() -> np.random.Generator:
    """A freshly seeded generator, so every test draws the same numbers every run."""
    return np.random.default_rng(0)


# --------------------------------------------------------------------------- lesson budgets
# Each lesson must run in at most LESSON_BUDGET_S seconds on 2 cores in the learner's
# setting (lesson 06, the training workshop, in 360 s). nbval reports each cell's time; the
# sum per lesson is printed at the end of every run that executes lessons. Under
# `make test` two workers share the two cores, so a lesson runs slower than it does for a
# learner with the machine to themselves: the run fails only past BUDGET_SLACK times the
# budget, which is a lesson that has really outgrown it, not a busy moment.
LESSON_BUDGET_S = 120.0
LESSON_BUDGETS_S = {"06": 360.0}
BUDGET_SLACK = 1.5
_lesson_seconds: dict[str, float] = {}


def _lesson_of(nodeid: str) -> str | None:
    path = nodeid.split("::", 1)[0]
    if path.startswith("notebooks/") and path.endswith(".ipynb"):
        return Path(path).stem
    return None


def pytest_runtest_logreport(report):
    lesson = _lesson_of(report.nodeid)
    if lesson is not None:
        _lesson_seconds[lesson] = _lesson_seconds.get(lesson, 0.0) + report.duration


def _budget(lesson: str) -> float:
    return LESSON_BUDGETS_S.get(lesson[:2], LESSON_BUDGET_S)


def _over_budget() -> list[str]:
    return [name for name, seconds in _lesson_seconds.items()
            if seconds > BUDGET_SLACK * _budget(name)]


def pytest_terminal_summary(terminalreporter):
    if not _lesson_seconds:
        return
    terminalreporter.section("lesson run times (budget on 2 cores)")
    for name in sorted(_lesson_seconds):
        seconds, budget = _lesson_seconds[name], _budget(name)
        flag = "  OVER BUDGET" if name in _over_budget() else ""
        terminalreporter.write_line(f"{name:<45} {seconds:6.1f} s  (budget {budget:.0f} s){flag}")


def pytest_sessionfinish(session, exitstatus):
    if _over_budget() and exitstatus == 0:
        session.exitstatus = 1
