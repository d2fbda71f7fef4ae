"""pyproject.toml is the single source of dependencies; the other install paths must agree.

Checked here: environment.yml (conda) and binder/ (mybinder, JupyterHub) list the same
required set as pyproject; the optional peers stay optional; the torch pin matches what
.ci/run installs; every third-party module the tests import is declared; and the kit
builds as a plain (non-editable) wheel with its console script and data, as Binder
installs it.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]

# The small required set promised to learners, and the peers that must never be required.
CORE = {"numpy", "matplotlib", "ipywidgets", "jupyterlab", "nbval", "sympy", "tqdm"}
OPTIONAL_PEERS = {"torch", "playwright", "nbgrader", "voila", "tensorflow", "keras", "jax"}
CONDA_FILES = ["environment.yml", "binder/environment.yml"]


def normalize(name: str) -> str:
    """PEP 503 normalisation: ``PyYAML`` -> ``pyyaml``, ``pytest_xdist`` -> ``pytest-xdist``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    """The distribution name at the start of a pip or conda requirement string."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    assert match, f"cannot read a package name from requirement {spec!r}"
    return normalize(match.group(1))


def required_set() -> set[str]:
    return {requirement_name(r) for r in PROJECT["dependencies"]}


def load_conda(relpath: str) -> dict:
    return yaml.safe_load((REPO_ROOT / relpath).read_text())


def conda_split(env: dict) -> tuple[list[str], list[str]]:
    """(conda requirement strings, pip requirement strings) of an environment file."""
    conda, pip = [], []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += dep.get("pip", [])
        else:
            conda.append(str(dep))
    return conda, pip


def test_required_set_holds_the_core_and_no_optional_peer():
    required = required_set()
    assert CORE <= required, f"missing from [project].dependencies: {sorted(CORE - required)}"
    assert not required & OPTIONAL_PEERS, (
        f"optional peers must stay in extras, not required: {sorted(required & OPTIONAL_PEERS)}"
    )


def test_extras_and_console_script_are_declared():
    extras = {k: {requirement_name(r) for r in v}
              for k, v in PROJECT["optional-dependencies"].items()}
    assert {"pytest", "pytest-xdist", "ruff"} <= extras["dev"]
    assert extras["torch"] == {"torch"}
    assert "nbgrader" in extras["grading"]
    assert "playwright" in extras["browser"]
    assert PROJECT["scripts"]["lstm-teach"] == "lstm_teach.cli:main"


def test_torch_extra_is_pinned_exactly_for_the_ci_wheel():
    # .ci/run reads this pin to find the local wheel; a range could pull a CUDA build
    # of several GB from the registry instead.
    (spec,) = PROJECT["optional-dependencies"]["torch"]
    assert re.fullmatch(r"torch==\d+\.\d+\.\d+", spec.replace(" ", "")), spec
    ci_run = (REPO_ROOT / ".ci" / "run").read_text()
    assert '["torch"]' in ci_run and "--find-links" in ci_run


@pytest.mark.parametrize("relpath", CONDA_FILES)
def test_conda_environment_matches_pyproject(relpath):
    conda, _ = conda_split(load_conda(relpath))
    listed = {requirement_name(spec) for spec in conda} - {"python", "pip"}
    required = required_set()
    assert listed == required, (
        f"{relpath} and pyproject.toml disagree on the required set: "
        f"missing from {relpath}: {sorted(required - listed)}; "
        f"not required by pyproject: {sorted(listed - required)}"
    )


@pytest.mark.parametrize("relpath", CONDA_FILES)
def test_conda_environment_uses_conda_forge_only_and_pins_python(relpath):
    env = load_conda(relpath)
    assert [c for c in env["channels"] if c != "nodefaults"] == ["conda-forge"]
    assert "nodefaults" in env["channels"], "without nodefaults conda may add its defaults"
    conda, _ = conda_split(env)
    pythons = [spec for spec in conda if requirement_name(spec) == "python"]
    assert len(pythons) == 1, f"{relpath} must list python exactly once: {pythons}"
    match = re.fullmatch(r"python\s*=+\s*(\d+)\.(\d+)(\.\*)?", pythons[0].strip())
    assert match, f"{relpath}: python must be pinned to a minor version, got {pythons[0]!r}"
    minimum = re.search(r">=\s*(\d+)\.(\d+)", PROJECT["requires-python"])
    pinned = (int(match.group(1)), int(match.group(2)))
    assert pinned >= (int(minimum.group(1)), int(minimum.group(2))), (
        f"{relpath} pins python {pinned}, below requires-python {PROJECT['requires-python']}"
    )


def test_conda_environment_installs_the_kit_editable():
    _, pip = conda_split(load_conda("environment.yml"))
    assert any(re.fullmatch(r"-e\s+\.(\[[\w,]+\])?", p.strip()) for p in pip), pip


def test_binder_environment_matches_the_conda_one_without_editable_install():
    main_conda, _ = conda_split(load_conda("environment.yml"))
    binder_conda, binder_pip = conda_split(load_conda("binder/environment.yml"))
    assert sorted(binder_conda) == sorted(main_conda), "binder and conda environments drift"
    assert not any(p.strip().startswith("-e") for p in binder_pip), (
        "an editable install does not work on Binder: binder/postBuild installs the kit"
    )


def test_binder_postbuild_installs_the_kit():
    post_build = REPO_ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"
    lines = [ln.strip() for ln in post_build.read_text().splitlines()]
    assert lines[0].startswith("#!") and "bash" in lines[0]
    assert "set -euo pipefail" in lines, "a failing install must fail the Binder build"
    installs = [ln for ln in lines if re.search(r"\bpip install\b", ln)]
    assert installs, "binder/postBuild does not pip-install anything"
    assert any(ln.split()[-1] == "." and " -e " not in f" {ln} " for ln in installs), installs


def test_ci_run_calls_the_readme_test_command():
    ci_run = (REPO_ROOT / ".ci" / "run").read_text()
    readme = (REPO_ROOT / "README.md").read_text()
    assert "make test" in readme
    assert "set -euo pipefail" in ci_run
    commands = [ln.strip() for ln in ci_run.splitlines()
                if ln.strip() and not ln.lstrip().startswith("#")]
    assert "make test" in commands, "CI must run `make test`, the README's command"


def _third_party_imports(path: Path) -> set[str]:
    """Top-level module names imported unconditionally at module level in ``path``.

    Imports inside ``try:`` blocks or functions are optional by construction (they are
    guarded or run only in a test that may skip), so they are not counted.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    local = {p.stem for p in path.parent.glob("*.py")}
    return {n for n in names
            if n not in sys.stdlib_module_names and n not in local and n != "lstm_teach"}


def test_every_module_the_tests_import_is_declared():
    declared = required_set() | {
        requirement_name(r) for extra in PROJECT["optional-dependencies"].values() for r in extra
    }
    module_to_dists = packages_distributions()
    undeclared = []
    for path in sorted((REPO_ROOT / "tests").rglob("*.py")):
        for module in sorted(_third_party_imports(path)):
            dists = {normalize(d) for d in module_to_dists.get(module, [])}
            if dists and not dists & declared:
                undeclared.append(f"{path.relative_to(REPO_ROOT)}: import {module} "
                                  f"(from {', '.join(sorted(dists))})")
    assert not undeclared, (
        "add these to the `dev` extra in pyproject.toml (or import them inside the test "
        "that needs them):\n  " + "\n  ".join(undeclared)
    )


@pytest.mark.slow
def test_kit_builds_as_a_wheel_with_script_and_data(tmp_path):
    """Binder installs the kit non-editable: the wheel must carry code, data and the CLI."""
    if not has_modern_setuptools():
        pytest.skip("setuptools>=77 (dev extra) is not installed")
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, src / name)
    shutil.copytree(REPO_ROOT / "lstm_teach", src / "lstm_teach",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-input", "-q", "-w", str(tmp_path / "dist"), str(src)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = (tmp_path / "dist").glob("lstm_teach-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next(zf.read(n).decode() for n in names
                            if n.endswith(".dist-info/entry_points.txt"))
    expected = {f"lstm_teach/{p.relative_to(src / 'lstm_teach').as_posix()}"
                for p in (src / "lstm_teach").rglob("*")
                if p.is_file() and (p.suffix == ".py" or p.parent.name == "data")}
    assert expected <= names, f"missing from the wheel: {sorted(expected - names)}"
    assert "lstm-teach = lstm_teach.cli:main" in entry_points


def has_modern_setuptools() -> bool:
    """True when the build backend pyproject asks for (setuptools>=77) is importable."""
    try:
        import setuptools
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 77
