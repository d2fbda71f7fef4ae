"""The Makefile: `make test` runs the learner's setting; `make lab` is quiet and clean."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
MAKEFILE = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _make(*args: str) -> str:
    result = subprocess.run(["make", "--no-print-directory", *args], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "LSTM_TEACH_QUICK": "1"})
    assert result.returncode == 0, result.stderr
    return result.stdout


@needs_make
def test_make_test_runs_the_learners_setting():
    """No LSTM_TEACH_QUICK, even when the caller's shell has one; only Agg and BLAS threads."""
    dry_run = _make("-n", "test").replace("\\\n", " ")  # join continued lines
    command = next(line for line in dry_run.splitlines() if "-m pytest" in line)
    assert command.startswith("env -u LSTM_TEACH_QUICK MPLBACKEND=Agg OPENBLAS_NUM_THREADS=1 "
                              "OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "), command
    assert "LSTM_TEACH_QUICK=" not in dry_run
    assert "--nbval-lax" in command and "notebooks" in command and "solutions" in command


@needs_make
def test_make_help_marks_exercises_for_instructors():
    line = next(line for line in _make("help").splitlines() if "make exercises" in line)
    assert "INSTRUCTORS ONLY" in line and "refuses to overwrite" in line


def test_the_venv_rule_echoes_no_error_text():
    """Make echoes a recipe line before running it; an `error:` message must never be echoed."""
    rule = MAKEFILE[MAKEFILE.index("$(PY):"):MAKEFILE.index("$(STAMP):")]
    recipe = [line for line in rule.splitlines()[1:] if line.startswith("\t")]
    commands = [line for line, prev in zip(recipe, ["", *recipe[:-1]], strict=True)
                if not prev.endswith("\\")]
    assert commands and all(line.startswith("\t@") for line in commands), commands


def test_make_lab_serves_the_working_copy_without_the_news_toast():
    lab = MAKEFILE[MAKEFILE.index("\nlab:"):MAKEFILE.index("\ntest:")]
    assert "tools/working_copy.py $(WORK)" in lab and "--ServerApp.root_dir='$(CURDIR)/$(WORK)'" in lab
    assert re.search(r'JUPYTER_CONFIG_PATH="\$\(LAB_CONFIG\)', lab)
    assert "LAB_CONFIG := $(CURDIR)/tools/jupyter-config" in MAKEFILE
    page_config = json.loads((REPO_ROOT / "tools" / "jupyter-config" / "labconfig"
                              / "page_config.json").read_text(encoding="utf-8"))
    assert page_config["disabledExtensions"]["@jupyterlab/apputils-extension:announcements"]
