"""The ``lstm-teach`` command line: help, version and the help of every subcommand.

The subcommands' behaviour is tested by their owners (test_repro, test_grading, ...);
here we check the surface every user meets first, through the installed console script.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import lstm_teach
from lstm_teach.cli import main

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "lstm-teach"

# (argv, words that must appear in the help text)
SUBCOMMANDS = [
    (["bench"], ["--quick", "--json"]),
    (["repro"], ["list", "run"]),
    (["repro", "list"], ["--json"]),
    (["repro", "run"], ["name", "--seed", "--quick", "--json", "--plot"]),
    (["grade"], ["NOTEBOOK", "--json", "--timeout-cell", "--timeout-notebook"]),
    (["exercises"], ["build", "check"]),
    (["exercises", "build"], ["--solutions", "--exercises"]),
    (["exercises", "check"], ["--solutions", "--exercises"]),
]


def run_script(*args: str) -> subprocess.CompletedProcess:
    assert SCRIPT.exists(), f"console script {SCRIPT} is missing: run `make install`"
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def test_version_is_the_installed_distribution_version():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert lstm_teach.__version__ == pyproject["project"]["version"]
    result = run_script("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"lstm-teach {lstm_teach.__version__}"


def test_help_lists_every_subcommand():
    result = run_script("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: lstm-teach")
    for command in ("bench", "repro", "grade", "exercises"):
        assert command in result.stdout


def test_no_arguments_prints_help_and_succeeds(capsys):
    assert main([]) == 0
    assert "usage: lstm-teach" in capsys.readouterr().out


@pytest.mark.parametrize("argv, words", SUBCOMMANDS, ids=[" ".join(a) for a, _ in SUBCOMMANDS])
def test_subcommand_help(argv, words, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: lstm-teach {' '.join(argv)}"), out
    missing = [w for w in words if w not in out]
    assert not missing, f"`lstm-teach {' '.join(argv)} --help` does not mention {missing}"


@pytest.mark.parametrize("argv", [["frobnicate"], ["repro"], ["exercises", "publish"]])
def test_usage_errors_exit_2_with_a_message(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_help_does_not_import_the_heavy_libraries():
    # The CLI dispatches lazily, so `lstm-teach --help` stays fast: no plotting, no
    # Jupyter, no sympy, no torch until a subcommand really needs them.
    code = (
        "import sys\n"
        "from lstm_teach.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('matplotlib', 'sympy', 'ipywidgets', 'jupyter_client', 'nbformat', 'torch')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
