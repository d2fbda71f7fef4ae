"""The course on mybinder or a JupyterHub: binder/ must build an environment that runs it.

repo2docker (what mybinder and many hubs use) reads binder/ in preference to the
repository root: it solves binder/environment.yml with conda, copies the repository in,
then runs binder/postBuild from the repository root. So:

* binder/environment.yml carries every required dependency of pyproject.toml, with the
  same lower bounds (tests/test_environment.py checks the names; here the versions);
* binder/postBuild really installs the kit, as a normal (non-editable) install whose
  code, data and console script land in the environment: run here for real, in a
  throw-away virtual environment, on a copy of the sources;
* the README's Binder badge opens a notebook that exists.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
BINDER = REPO_ROOT / "binder"
PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
# Files repo2docker would also act on; in binder/ they must be deliberate.
OTHER_REPO2DOCKER_FILES = {"requirements.txt", "Pipfile", "setup.py", "apt.txt", "Dockerfile",
                           "install.R", "runtime.txt", "start", "project.toml"}


def split_requirement(spec: str) -> tuple[str, str]:
    """``"numpy >= 1.24"`` -> ``("numpy", ">=1.24")`` (PEP 503 name, spaces removed)."""
    match = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*?)\s*", spec)
    assert match, f"cannot read requirement {spec!r}"
    name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
    return name, match.group(2).replace(" ", "")


def binder_conda_requirements() -> dict[str, str]:
    env = yaml.safe_load((BINDER / "environment.yml").read_text())
    specs = [d for d in env["dependencies"] if isinstance(d, str)]
    return dict(split_requirement(s) for s in specs)


def test_binder_folder_holds_only_what_the_build_needs():
    present = {p.name for p in BINDER.iterdir()}
    assert {"environment.yml", "postBuild"} <= present, present
    assert not present & OTHER_REPO2DOCKER_FILES, (
        f"repo2docker would also act on {sorted(present & OTHER_REPO2DOCKER_FILES)}")


def test_binder_environment_has_every_required_dependency_with_the_same_bounds():
    binder = binder_conda_requirements()
    required = dict(split_requirement(r) for r in PROJECT["dependencies"])
    missing = sorted(set(required) - set(binder))
    assert not missing, f"binder/environment.yml lacks {missing} (required by pyproject)"
    differing = {name: (spec, binder[name]) for name, spec in required.items()
                 if binder[name] != spec}
    assert not differing, (
        "version bounds differ, as {name: (pyproject, binder)}: " + repr(differing))
    assert "pip" in binder, "postBuild needs pip in the environment"


def test_binder_python_satisfies_requires_python():
    pinned = binder_conda_requirements()["python"]
    major, minor = (int(v) for v in re.match(r"=*(\d+)\.(\d+)", pinned).groups())
    low = re.search(r">=\s*(\d+)\.(\d+)", PROJECT["requires-python"]).groups()
    assert (major, minor) >= tuple(int(v) for v in low), (pinned, PROJECT["requires-python"])


def test_readme_binder_badge_opens_an_existing_notebook():
    readme = (REPO_ROOT / "README.md").read_text()
    links = re.findall(r"https://mybinder\.org/v2/\S+?\?urlpath=([^)\s]+)", readme)
    assert links, "README.md has no mybinder link with a urlpath"
    for urlpath in links:
        match = re.fullmatch(r"(?:lab/tree|tree|notebooks|voila/render)/(.+)", urlpath)
        assert match, f"unexpected urlpath {urlpath!r}"
        assert (REPO_ROOT / match.group(1)).is_file(), f"the badge opens {match.group(1)}, " \
                                                        "which does not exist"


@pytest.mark.slow
def test_postbuild_installs_the_kit_non_editable(tmp_path):
    """Run binder/postBuild as repo2docker does: from the repository root, `python` on PATH.

    The dependencies come from conda on Binder (postBuild uses --no-deps), so only the kit
    itself is checked here: installed as files in site-packages with its data and its
    console script, not as an editable link back to the sources.
    """
    src = tmp_path / "repo"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, src / name)
    for folder in ("lstm_teach", "binder"):
        shutil.copytree(REPO_ROOT / folder, src / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    env_dir = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True, timeout=120)
    env_bin = env_dir / "bin"
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env.update(PATH=f"{env_bin}{os.pathsep}{env['PATH']}", VIRTUAL_ENV=str(env_dir),
               PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1")

    result = subprocess.run(["bash", str(src / "binder" / "postBuild")], cwd=src, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    probe = subprocess.run(
        [str(env_bin / "python"), "-c", (
            "import importlib.metadata as m, json, sysconfig\n"
            "d = m.distribution('lstm-teach')\n"
            "direct = json.loads(d.read_text('direct_url.json') or '{}')\n"
            "files = [str(f) for f in d.files]\n"
            "print(json.dumps({'direct': direct, 'files': files, "
            "'site': sysconfig.get_paths()['purelib'], "
            "'location': str(d.locate_file('lstm_teach/__init__.py'))}))"
        )],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=True,
    )
    info = json.loads(probe.stdout)
    assert not info["direct"].get("dir_info", {}).get("editable", False), info["direct"]
    assert Path(info["location"]).is_file()
    assert Path(info["location"]).is_relative_to(info["site"]), info["location"]
    expected_data = {f"lstm_teach/data/{p.name}" for p in (REPO_ROOT / "lstm_teach" / "data")
                     .glob("*.txt")}
    assert expected_data <= set(info["files"]), "package data missing from the install"
    assert (env_bin / "lstm-teach").exists(), "the console script was not installed"
    assert not any(s.endswith(".pth") and "lstm" in s for s in info["files"]), info["files"]
