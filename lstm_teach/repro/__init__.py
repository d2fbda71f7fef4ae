"""Miniature reproductions of published experiments, runnable from Python and the CLI.

Each reproduction re-runs, at a size that fits in a minute on a laptop, an
experiment from a paper, and returns a :class:`ReproResult`: the numbers we
measured, the numbers (or the finding) the paper reports, the pass criterion
in words, and ``passed``. Lessons, tests and the command line all call the same
functions, so they cannot disagree::

    from lstm_teach import repro
    result = repro.run("latch-bengio1994", seed=0, quick=True)
    print(result)                 # a small paper-vs-ours table
    result.passed, result.measured

    $ lstm-teach repro list
    $ lstm-teach repro run latch-bengio1994 --quick --json out.json --plot out.png

Every run takes ``seed`` (everything random derives from it) and ``quick``
(the small setting that CI uses; default: the ``LSTM_TEACH_QUICK`` environment
variable). A quick run must finish in under 15 s and a full run in under 60 s.
Where the quick setting cannot meet the paper's criterion, the result states
the quick criterion it checks instead, and says how it differs. Where a
miniature does not reproduce the paper at all, ``passed`` is False and the
``notes`` explain why; criteria are never loosened to make a run pass.

Adding a reproduction
---------------------
Put a module in this package (any name not starting with ``_``); it is
imported automatically the first time the registry is used. In it, decorate a
function ``run(seed: int, quick: bool, progress: bool) -> ReproResult``::

    from . import ReproResult, register

    def plot_my_result(result, ax=None): ...      # optional: draws result.curves

    @register(
        "my-experiment-author2024",
        title="One line saying what is reproduced",
        citation="Author, A. (2024). Title. Venue.",
        lesson="07_lstm_variants",
        plot=plot_my_result,
    )
    def my_experiment(seed=0, quick=False, progress=False):
        ...
        return ReproResult(paper={...}, measured={...}, criterion="...",
                           passed=..., settings={...}, table=[...], notes="...")

The registry fills in the name, title, citation, seed, quick flag and the
runtime, and runs the function with numpy's BLAS on one thread (tiny matrices
are faster that way). Rules of the house:

* everything random comes from ``np.random.default_rng`` seeded with ``seed``
  (or a list starting with it), so a run is deterministic;
* ``quick=True`` must finish in under 15 s of CPU time, ``quick=False`` in
  under 60 s; say in ``notes`` what the quick setting changes;
* state the criterion in ``criterion`` before looking at the numbers, and
  never loosen it to make a run pass; a miniature that does not reproduce its
  paper returns ``passed=False`` and explains why in ``notes``;
* fill ``table`` with (quantity, paper, ours) rows, and ``curves`` with what
  the ``plot`` function needs.

``tests/test_repro.py`` runs every registered reproduction in quick mode
automatically and expects it to pass; a reproduction that honestly does not
reproduce its paper belongs in ``EXPECTED_NOT_TO_PASS`` there. Add a test of
its specific numbers next to the others.
"""

from __future__ import annotations

import importlib
import json
import math
import pkgutil
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..core.utils import is_quick

__all__ = [
    "ReproResult",
    "Reproduction",
    "cli_list",
    "cli_run",
    "get",
    "names",
    "plot",
    "register",
    "reproductions",
    "run",
]


# --------------------------------------------------------------------------------------
# the result of one run
# --------------------------------------------------------------------------------------


@dataclass
class ReproResult:
    """What one reproduction measured, next to what the paper reports.

    Attributes
    ----------
    paper : dict
        The paper's reported numbers or finding, by name (a number, or a short
        sentence when the paper gives only a figure).
    measured : dict
        Our numbers, by name (JSON-friendly: numbers, strings, lists).
    criterion : str
        The pass criterion, in words, for the setting that ran (quick or full).
    passed : bool
        Whether the measured numbers meet the criterion.
    settings : dict
        The experiment's settings (sequence length, units, updates, seeds, ...).
    table : list of (quantity, paper, ours)
        Rows of the small paper-vs-ours table, as strings.
    notes : str
        Where and why the miniature differs from the paper, and what the
        quick setting changes. Honest by design: read it.
    curves : dict
        Arrays behind the figure (see :func:`plot`).
    name, title, citation, lesson : str
        Filled in by the registry.
    seed : int
    quick : bool
    runtime_s : float
        Wall-clock seconds of the run.
    """

    paper: dict[str, Any]
    measured: dict[str, Any]
    criterion: str
    passed: bool
    settings: dict[str, Any] = field(default_factory=dict)
    table: list[tuple[str, str, str]] = field(default_factory=list)
    notes: str = ""
    curves: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    title: str = ""
    citation: str = ""
    lesson: str = ""
    seed: int = 0
    quick: bool = False
    runtime_s: float = 0.0

    def to_dict(self) -> dict:
        """A JSON-friendly dict (numpy arrays and scalars become lists and numbers)."""
        return _jsonable(asdict(self))

    def to_json(self, path=None, indent: int = 2) -> str:
        """The result as JSON text; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=True)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    def table_text(self, width: int = 44) -> str:
        """The paper-vs-ours table as plain text, cells wrapped at ``width`` characters."""
        rows = [("quantity", "paper", "ours"), *[tuple(map(str, r)) for r in self.table]]
        wrapped = [[textwrap.wrap(cell, width) or [""] for cell in row] for row in rows]
        widths = [max(len(line) for row in wrapped for line in row[i]) for i in range(3)]
        lines = []
        for k, row in enumerate(wrapped):
            for j in range(max(len(cell) for cell in row)):
                parts = [(cell[j] if j < len(cell) else "").ljust(w)
                         for cell, w in zip(row, widths, strict=True)]
                lines.append("  ".join(parts).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def __str__(self) -> str:
        mode = "quick" if self.quick else "full"
        verdict = "PASSED" if self.passed else "NOT PASSED"
        parts = [
            f"{self.name}: {self.title}",
            f"  {self.citation}",
            f"  setting: {mode}, seed {self.seed}, {self.runtime_s:.1f} s",
            "",
            self.table_text(),
            "",
            f"criterion: {self.criterion}",
            f"result: {verdict}",
        ]
        if self.notes:
            parts += ["", "notes: " + self.notes]
        return "\n".join(parts)

    def _repr_markdown_(self) -> str:  # the notebook display
        mode = "quick" if self.quick else "full"
        verdict = "**passed**" if self.passed else "**not passed**"
        lines = [
            f"**{self.name}**: {self.title}  ",
            f"*{self.citation}*  ",
            f"setting: {mode}, seed {self.seed}, {self.runtime_s:.1f} s",
            "",
            "| quantity | paper | ours |",
            "|---|---|---|",
            *["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |"
              for row in self.table],
            "",
            f"criterion: {self.criterion}: {verdict}",
        ]
        if self.notes:
            lines += ["", f"notes: {self.notes}"]
        return "\n".join(lines)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


# --------------------------------------------------------------------------------------
# the registry
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reproduction:
    """A registered reproduction: its name, what it reproduces, and how to run and plot it."""

    name: str
    title: str
    citation: str
    func: Callable[..., ReproResult]
    lesson: str = ""
    plot: Callable | None = None

    def run(self, seed: int = 0, quick: bool | None = None, progress: bool = False) -> ReproResult:
        """Run it; see :func:`lstm_teach.repro.run`."""
        from ..kernels import single_blas_thread

        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
        quick = is_quick() if quick is None else bool(quick)
        start = time.perf_counter()
        with single_blas_thread():
            result = self.func(seed=int(seed), quick=quick, progress=progress)
        if not isinstance(result, ReproResult):
            raise TypeError(f"reproduction {self.name!r} returned {type(result).__name__}, "
                            "expected a ReproResult")
        return replace(
            result,
            name=self.name,
            title=self.title,
            citation=self.citation,
            lesson=self.lesson,
            seed=int(seed),
            quick=quick,
            passed=bool(result.passed),
            runtime_s=time.perf_counter() - start,
        )


_REGISTRY: dict[str, Reproduction] = {}
_discovered = False


def register(name: str, *, title: str, citation: str, lesson: str = "", plot=None):
    """Decorator: register ``func(seed, quick, progress) -> ReproResult`` under ``name``.

    Names are lower-case words joined by hyphens, ending with the first
    author and year, e.g. ``"latch-bengio1994"``.
    """
    if not name or name != name.lower() or " " in name:
        raise ValueError(f"a reproduction name is lower-case with hyphens, no spaces; got {name!r}")

    def decorator(func):
        if name in _REGISTRY and _REGISTRY[name].func is not func:
            raise ValueError(f"a reproduction named {name!r} is already registered")
        _REGISTRY[name] = Reproduction(name, title, citation, func, lesson, plot)
        return func

    return decorator


def _discover() -> None:
    """Import every module of this package once, so that their ``@register`` calls run."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


def reproductions() -> list[Reproduction]:
    """Every registered reproduction, sorted by name."""
    _discover()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def names() -> list[str]:
    """The names of every registered reproduction, sorted."""
    return [r.name for r in reproductions()]


def get(name: str) -> Reproduction:
    """The reproduction registered as ``name``; an unknown name lists the known ones."""
    _discover()
    if name not in _REGISTRY:
        raise ValueError(f"unknown reproduction {name!r}; known: {', '.join(names())}")
    return _REGISTRY[name]


def run(name: str, seed: int = 0, quick: bool | None = None, progress: bool = False) -> ReproResult:
    """Run the reproduction ``name`` and return its :class:`ReproResult`.

    Parameters
    ----------
    name : str
        See :func:`names`.
    seed : int
        Seeds every random generator of the run.
    quick : bool, optional
        The small setting (under 15 s); default :func:`lstm_teach.utils.is_quick`.
    progress : bool
        Show progress bars on stderr for the long loops.
    """
    return get(name).run(seed=seed, quick=quick, progress=progress)


def plot(result: ReproResult, ax=None):
    """Draw ``result`` with its reproduction's figure; returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    repro = get(result.name)
    if repro.plot is None:
        raise ValueError(f"reproduction {result.name!r} has no figure")
    if ax is None:
        fig, ax = plt.subplots(figsize=(8.5, 4.2), layout="constrained")
    repro.plot(result, ax)
    return ax.figure


# --------------------------------------------------------------------------------------
# the command line: `lstm-teach repro list` and `lstm-teach repro run NAME`
# --------------------------------------------------------------------------------------


def cli_list(args) -> int:
    """``lstm-teach repro list [--json FILE]``."""
    items = reproductions()
    width = max(len(r.name) for r in items)
    for r in items:
        print(f"{r.name:<{width}}  {r.title}")
        print(f"{'':<{width}}  {r.citation}")
    if getattr(args, "json", None):
        payload = [
            {"name": r.name, "title": r.title, "citation": r.citation, "lesson": r.lesson}
            for r in items
        ]
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
    return 0


def cli_run(args) -> int:
    """``lstm-teach repro run NAME [--seed N] [--quick] [--json FILE] [--plot FILE.png]``.

    Exit code 0 when the criterion is met, 1 when it is not, 2 for an unknown name.
    """
    try:
        repro = get(args.name)
    except ValueError as exc:
        print(f"lstm-teach repro run: {exc}", file=sys.stderr)
        return 2
    quick = True if getattr(args, "quick", False) else None
    result = repro.run(seed=args.seed, quick=quick, progress=True)
    print(result)
    if getattr(args, "json", None):
        result.to_json(args.json)
        print(f"\nwrote {args.json}")
    if getattr(args, "plot", None):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig = plot(result)
        fig.savefig(args.plot, dpi=120)
        plt.close(fig)
        print(f"wrote {args.plot}")
    return 0 if result.passed else 1
