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
