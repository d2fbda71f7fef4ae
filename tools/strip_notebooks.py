"""Strip notebooks so they are ready to commit: ``python tools/strip_notebooks.py [PATH ...]``.

Each PATH is a notebook or a folder searched recursively (hidden folders such as
``.ipynb_checkpoints`` are skipped); missing paths are ignored. A notebook is rewritten
only when stripping changes it. ``--check`` rewrites nothing and exits 1 when some
notebook would change, listing it.

Stripping removes exactly what the hygiene test (tests/test_hygiene.py) forbids:
outputs, execution counts, saved widget state, per-cell execution timing; and it writes
the notebook metadata that JupyterLab 4 with ipykernel writes when it saves a notebook
(``kernelspec`` and ``language_info`` below), so that opening and saving an unchanged
notebook changes nothing and never marks it modified. Everything else (cell ids,
nbgrader metadata, tags) is kept.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

# The kernel spec that ipykernel installs (`jupyter kernelspec list`: python3), exactly as
# JupyterLab 4 copies it into a notebook it saves.
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# ipykernel's kernel_info reply (`language_info`), which JupyterLab writes into the
# notebook once a kernel has started. Only `version` depends on the machine: this is the
# Python of the course's reference environment (.venv on the CI machine). On another
# Python, JupyterLab updates that one field when a kernel starts.
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
    "version": "3.11.7",
}


def strip_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip ``nb`` in place and return it."""
    nb.metadata.pop("widgets", None)  # saved ipywidgets state
    nb.metadata["kernelspec"] = nbformat.from_dict(KERNELSPEC)
    nb.metadata["language_info"] = nbformat.from_dict(LANGUAGE_INFO)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # timestamps added by nbclient
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def iter_notebooks(paths: list[Path]):
    """Yield every ``.ipynb`` file in ``paths`` (files, or folders searched recursively)."""
    for path in paths:
        if path.is_file() and path.suffix == ".ipynb":
            yield path
        elif path.is_dir():
            for nb_path in sorted(path.rglob("*.ipynb")):
                if not any(part.startswith(".") for part in nb_path.relative_to(path).parts):
                    yield nb_path


def strip_file(path: Path, check: bool = False) -> bool:
    """Strip one notebook file; return True if it was (or, with ``check``, would be) changed."""
    original = path.read_text(encoding="utf-8")
    nb = nbformat.reads(original, as_version=nbformat.NO_CONVERT)
    stripped = nbformat.writes(strip_notebook(nb))
    if not stripped.endswith("\n"):
        stripped += "\n"  # as Jupyter saves it
    if stripped == original:
        return False
    if not check:
        path.write_text(stripped, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[Path("notebooks"),
                        Path("solutions"), Path("exercises"), Path("apps")])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if any notebook needs stripping")
    args = parser.parse_args(argv)

    changed = [p for p in iter_notebooks(args.paths) if strip_file(p, check=args.check)]
    verb = "needs stripping" if args.check else "stripped"
    for path in changed:
        print(f"{verb}: {path}")
    if not changed:
        print("all notebooks are clean")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
