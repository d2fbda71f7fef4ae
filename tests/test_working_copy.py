"""The learner's working copy (tools/working_copy.py, run by `make lab`) never overwrites work."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def load_tool():
    spec = importlib.util.spec_from_file_location("working_copy",
                                                  REPO_ROOT / "tools" / "working_copy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_course(root: Path) -> Path:
    for folder in ("notebooks", "exercises", "solutions"):
        (root / folder).mkdir(parents=True)
        (root / folder / f"01_{folder}.ipynb").write_text(f"{folder} v1\n")
    return root


def test_the_copy_is_made_once_and_never_overwritten(tmp_path, capsys):
    tool = load_tool()
    repo, work = fake_course(tmp_path / "repo"), tmp_path / "work"
    copied, changed = tool.sync(work, repo)
    assert sorted(p.relative_to(work).as_posix() for p in copied) == [
        "exercises/01_exercises.ipynb", "notebooks/01_notebooks.ipynb",
        "solutions/01_solutions.ipynb"]
    assert changed == []

    mine = work / "exercises" / "01_exercises.ipynb"
    mine.write_text("my answers\n")
    (repo / "exercises" / "01_exercises.ipynb").write_text("exercises v2\n")  # a git pull
    (repo / "notebooks" / "02_new.ipynb").write_text("new lesson\n")
    copied, changed = tool.sync(work, repo)
    assert mine.read_text() == "my answers\n"  # the learner's work survives
    assert [p.name for p in copied] == ["02_new.ipynb"]  # a new lesson arrives
    assert changed == [mine]  # and the learner is told what changed upstream

    shutil.rmtree(work / "notebooks")  # a deleted copy comes back fresh
    copied, _ = tool.sync(work, repo)
    assert (work / "notebooks" / "01_notebooks.ipynb").read_text() == "notebooks v1\n"
    assert (work / "notebooks" / "02_new.ipynb").read_text() == "new lesson\n"


def test_the_command_line_reports_what_it_did(tmp_path, capsys, monkeypatch):
    tool = load_tool()
    repo = fake_course(tmp_path / "repo")
    monkeypatch.setattr(tool, "REPO_ROOT", repo)
    assert tool.main([str(tmp_path / "work")]) == 0
    assert "Made your working copy" in capsys.readouterr().out
    (repo / "notebooks" / "01_notebooks.ipynb").write_text("notebooks v2\n")
    assert tool.main([str(tmp_path / "work")]) == 0
    out = capsys.readouterr().out
    assert "has changed since your copy" in out and "01_notebooks.ipynb" in out
    assert (tmp_path / "work" / "notebooks" / "01_notebooks.ipynb").read_text() == "notebooks v1\n"


def test_the_working_copy_is_ignored_by_git():
    assert "/work/" in (REPO_ROOT / ".gitignore").read_text().splitlines()
