"""The package's layout: tiers import one way, modules stay short, explorers need no widgets."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import lstm_teach

PACKAGE = Path(lstm_teach.__file__).parent
# A module may import from its own tier and from tiers of a lower rank, never from a higher one.
RANK = {"core": 0, "kernels": 1, "concise": 2, "course": 3, "lab": 3, "grading": 4, "repro": 4}
MAX_LINES = 700


def _tier(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in RANK else None


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every lstm_teach import in the file, lazy ones included."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    package = package.removesuffix(".__init__")
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            found += [(node.lineno, t) for t in names if t.startswith("lstm_teach")]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("lstm_teach")]
    return found


def test_the_tiers_import_one_way():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        here = _tier(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
        if here is None:  # the package's face, the CLI and the benchmark sit above every tier
            continue
        for line, target in _imports(path):
            there = _tier(target)
            if there is not None and RANK[there] > RANK[here]:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} ({here}) imports {target}")
    assert not wrong, "imports that run back up the tiers:\n" + "\n".join(wrong)


def test_the_check_sees_a_backward_import(tmp_path, monkeypatch):
    """The rule above can fail: a core module importing the concise side is caught."""
    fake = tmp_path / "lstm_teach" / "core"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("from ..concise import optim\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "lstm_teach")
    assert _imports(fake / "bad.py") == [(1, "lstm_teach.concise")]
    with pytest.raises(AssertionError, match=r"core/bad.py:1 \(core\) imports lstm_teach.concise"):
        test_the_tiers_import_one_way()


def test_no_module_is_over_700_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_the_reference_lstm_is_short_and_its_step_fits_on_a_screen():
    source = (PACKAGE / "core" / "lstm.py").read_text()
    assert len(source.splitlines()) <= 350
    tree = ast.parse(source)
    step = next(n for n in tree.body if isinstance(n, ast.FunctionDef)
                and n.name == "_step_forward")
    assert step.end_lineno - step.lineno + 1 <= 50


def test_explorer_numerics_import_without_ipywidgets():
    code = (
        "import sys; sys.modules['ipywidgets'] = None\n"
        "from lstm_teach.course import explorers\n"
        "r = explorers.gate_explorer_data(0.9, 0.8, 0.7)\n"
        "assert r['c'].shape == r['h'].shape, r.keys()\n"
        "assert explorers.iir_explorer_data(0.5)['y'].shape == (40,)\n"
        "try:\n    explorers.gate_explorer\nexcept ImportError:\n    print('builders need ipywidgets')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "builders need ipywidgets"


def test_short_names_reach_the_tiered_modules():
    assert lstm_teach.tasks is sys.modules["lstm_teach.course.tasks"]
    assert lstm_teach.widgets is lstm_teach.explorers
    assert lstm_teach.lstm_forward is lstm_teach.lstm.lstm_forward  # the readable reference
    assert lstm_teach.kernels.lstm_forward is not lstm_teach.lstm_forward
    for name in lstm_teach.MODULES:
        assert getattr(lstm_teach, name).__name__.startswith("lstm_teach.")
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        lstm_teach.nonexistent  # noqa: B018
