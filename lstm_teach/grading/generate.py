"""Generate student notebooks (``exercises/``) from solution notebooks (``solutions/``).

For each ``solutions/NN_name.ipynb`` the generator writes ``exercises/NN_name.ipynb``:

* every region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes
  ``# YOUR CODE HERE`` plus ``raise NotImplementedError()`` at the indentation
  of the ``BEGIN`` line (in a markdown cell: ``YOUR ANSWER HERE``), exactly
  what nbgrader's default configuration writes;
* ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` regions are removed;
* outputs, execution counts and transient metadata are stripped; graded and
  locked cells are made non-deletable and read-only; the notebook metadata
  records which exercise set it is (the grader reads it) and a digest of the
  notebook as built (``build_digest``).

``lstm-teach exercises build`` never overwrites an exercise that someone has
edited since the last build (its content no longer matches its own
``build_digest``): it names the files, writes nothing and exits 1, unless
``--force`` is given. Exercises are for instructors to generate; a learner's
own work lives in the working copy that ``make lab`` serves.

Before generating, each solution is validated against the check registry
(:mod:`lstm_teach.grading.checks`): every registered exercise of the set has
exactly one graded cell calling ``check("<name>", ...)``, whose nbgrader
metadata carries the registered points. The output is deterministic, so
``lstm-teach exercises check`` is a byte-for-byte comparison.

``python -m lstm_teach.grading.generate annotate solutions/NN_name.ipynb``
writes the nbgrader metadata into a solution notebook from its markers, its
``check(...)`` calls and the registry.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

import nbformat
from nbformat.v4.rwbase import rejoin_lines

from . import checks

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = "YOUR ANSWER HERE"
NBGRADER_SCHEMA = 3
#: Notebook-level metadata key written by the generator and read by the grader.
METADATA_KEY = "lstm_teach"
#: Key (inside METADATA_KEY) of the digest of the exercise as built.
DIGEST_KEY = "build_digest"

_CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([A-Za-z0-9_.\-]+)["']""")
_TRANSIENT_CELL_KEYS = ("execution", "ExecuteTime", "collapsed", "scrolled", "jupyter")
_TRANSIENT_NB_KEYS = ("widgets", "toc", "varInspector")


class BuildError(ValueError):
    """A solution notebook cannot be turned into an exercise (bad markers, missing checks)."""


# --------------------------------------------------------------------------- source rewriting


def _marker(line: str) -> str | None:
    stripped = line.strip()
    for marker in (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN):
        if stripped == marker:
            return marker
    return None


def has_solution_region(source: str) -> bool:
    return any(_marker(line) == BEGIN_SOLUTION for line in source.splitlines())


def strip_solutions(source: str, cell_type: str = "code", where: str = "cell") -> str:
    """Replace solution regions by stubs and drop hidden-test regions.

    Raises
    ------
    BuildError
        On an unbalanced or nested marker; the message names ``where``.
    """
    out: list[str] = []
    region: str | None = None  # the marker that opened the current region
    indent = ""
    for number, line in enumerate(source.splitlines(), start=1):
        marker = _marker(line)
        if region is None:
            if marker in (BEGIN_SOLUTION, BEGIN_HIDDEN):
                region, indent = marker, line[: len(line) - len(line.lstrip())]
            elif marker is not None:
                raise BuildError(f"{where}, line {number}: {marker!r} without a matching BEGIN")
            else:
                out.append(line)
            continue
        closing = END_SOLUTION if region == BEGIN_SOLUTION else END_HIDDEN
        if marker == closing:
            if region == BEGIN_SOLUTION:
                if cell_type == "markdown":
                    out.append(MARKDOWN_STUB)
                else:
                    out.extend(indent + s for s in CODE_STUB)
            region = None
        elif marker is not None:
            raise BuildError(f"{where}, line {number}: {marker!r} inside an open {region!r}")
    if region is not None:
        raise BuildError(f"{where}: {region!r} is never closed")
    text = "\n".join(out)
    return text + "\n" if source.endswith("\n") and text else text


def check_calls(source: str) -> list[str]:
    """Names of the exercises a cell grades: the first argument of each ``check(...)`` call."""
    return _CHECK_CALL.findall(source)


# --------------------------------------------------------------------------- metadata


def _definition_name(source: str) -> str | None:
    match = re.search(r"^\s*def\s+(\w+)|^\s*(\w+)\s*=", source, re.MULTILINE)
    return None if match is None else (match.group(1) or match.group(2))


def _solution_metadata(grade_id: str, cell_type: str = "code") -> dict:
    if cell_type == "markdown":
        # nbgrader requires a written answer to be a "manually graded answer" cell. It is
        # worth 0 points, so nbgrader's total stays the registered total of the checks.
        return {"grade": True, "grade_id": grade_id, "locked": False, "points": 0,
                "schema_version": NBGRADER_SCHEMA, "solution": True, "task": False}
    return {"grade": False, "grade_id": grade_id, "locked": False,
            "schema_version": NBGRADER_SCHEMA, "solution": True, "task": False}


def _graded_metadata(grade_id: str, points: int) -> dict:
    return {"grade": True, "grade_id": grade_id, "locked": True, "points": points,
            "schema_version": NBGRADER_SCHEMA, "solution": False, "task": False}


def annotate_solution(nb, exercise_set: str) -> None:
    """Write nbgrader metadata into a solution notebook, in place.

    Cells with a solution region become nbgrader "autograded answer" cells;
    cells calling ``check("<name>", ...)`` become "autograder test" cells
    worth the registered points, with ``grade_id`` = the check name.
    """
    used: set[str] = set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type not in ("code", "markdown"):
            continue
        calls = check_calls(cell.source) if cell.cell_type == "code" else []
        if has_solution_region(cell.source):
            base = f"{_definition_name(cell.source) or f'cell{index}'}-answer"
            grade_id, k = base, 2
            while grade_id in used:
                grade_id, k = f"{base}{k}", k + 1
            used.add(grade_id)
            cell.metadata["nbgrader"] = _solution_metadata(grade_id, cell.cell_type)
        elif len(calls) == 1:
            ex = checks.get_exercise(calls[0])
            used.add(ex.name)
            cell.metadata["nbgrader"] = _graded_metadata(ex.name, ex.points)
    nb.metadata[METADATA_KEY] = {"exercise_set": exercise_set}


def validate_solution(nb, exercise_set: str) -> list[str]:
    """Problems that stop ``nb`` from being a valid single source; empty when all is well."""
    problems: list[str] = []
    expected = {ex.name: ex for ex in checks.exercises_for(exercise_set)}
    if not expected:
        return [f"no checks are registered for exercise set {exercise_set!r}: add a module "
                "lstm_teach/grading/sets/nbNN_<name>.py that registers them"]
    graded_in: dict[str, list[int]] = {}
    for index, cell in enumerate(nb.cells):
        where = f"cell {index}"
        if cell.cell_type not in ("code", "markdown"):
            continue
        meta = cell.metadata.get("nbgrader", {})
        try:
            strip_solutions(cell.source, cell.cell_type, where)
        except BuildError as exc:
            problems.append(str(exc))
        if has_solution_region(cell.source) and not meta.get("solution"):
            problems.append(f"{where} has a solution region but no nbgrader metadata "
                            "'solution: true' (run the annotate command)")
        if cell.cell_type != "code":
            if meta.get("solution") and (not meta.get("grade") or meta.get("points") != 0):
                problems.append(f"{where} is a written answer: nbgrader needs it marked "
                                "'grade: true' with 'points: 0' (run the annotate command)")
            continue
        calls = check_calls(cell.source)
        for name in calls:
            graded_in.setdefault(name, []).append(index)
            if name not in expected:
                problems.append(f"{where} calls check({name!r}), which is not a registered "
                                f"exercise of {exercise_set!r} (registered: {sorted(expected)})")
        if meta.get("grade"):
            if len(calls) != 1:
                problems.append(f"{where} is a graded cell but makes {len(calls)} check() calls "
                                "(exactly one per graded cell)")
            elif calls[0] in expected:
                ex = expected[calls[0]]
                if meta.get("points") != ex.points or meta.get("grade_id") != ex.name:
                    problems.append(
                        f"{where}: nbgrader metadata says grade_id={meta.get('grade_id')!r}, "
                        f"points={meta.get('points')!r}; the registry says "
                        f"{ex.name!r}, {ex.points} (run the annotate command)")
        elif calls:
            problems.append(f"{where} calls check() but is not marked as graded in its "
                            "nbgrader metadata (run the annotate command)")
    for name in expected:
        cells = graded_in.get(name, [])
        if len(cells) != 1:
            problems.append(f"exercise {name!r} must be checked in exactly one cell; "
                            f"found {len(cells)} ({cells})")
    return problems


# --------------------------------------------------------------------------- notebooks


def read_notebook(path: Path):
    """Read a notebook without nbformat's random cell ids: missing ids are derived from the path."""
    nb = nbformat.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    if nb.get("nbformat") != 4:
        raise BuildError(f"{path}: only nbformat 4 notebooks are supported")
    rejoin_lines(nb)  # on disk a source may be a list of lines
    nb.nbformat_minor = max(int(nb.get("nbformat_minor", 0)), 5)
    for index, cell in enumerate(nb.cells):
        if not cell.get("id"):
            digest = hashlib.sha1(f"{Path(path).stem}:{index}".encode()).hexdigest()[:12]
            cell["id"] = f"cell-{digest}"
        cell.setdefault("metadata", nbformat.NotebookNode())
    return nb


def render(nb) -> str:
    """Deterministic JSON text (sorted keys, one-space indent, trailing newline)."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def build_exercise(solution, exercise_set: str, source_name: str):
    """Return the exercise notebook generated from ``solution`` (not modified)."""
    nb = nbformat.from_dict(json.loads(json.dumps(solution)))  # deep copy
    for index, cell in enumerate(nb.cells):
        where = f"{source_name}, cell {index}"
        for key in _TRANSIENT_CELL_KEYS:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if cell.cell_type in ("code", "markdown"):
            cell.source = strip_solutions(cell.source, cell.cell_type, where)
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("locked") or (meta.get("grade") and not meta.get("solution")):
            cell.metadata["deletable"] = False
            cell.metadata["editable"] = False
    for key in _TRANSIENT_NB_KEYS:
        nb.metadata.pop(key, None)
    nb.metadata[METADATA_KEY] = {
        "exercise_set": exercise_set,
        "generated_from": f"solutions/{source_name}",
        "note": "generated by `lstm-teach exercises build`; edit the solution instead",
    }
    return nb


def content_digest(nb_dict: dict) -> str:
    """A digest of a notebook's content (ignoring its own ``build_digest`` and JSON layout).

    ``nb_dict`` is the notebook as plain JSON data (``json.loads`` of the file). Sources
    stored as lists of lines are joined first, so the digest does not depend on how a
    program wrote the file, only on what it holds.
    """
    data = json.loads(json.dumps(nb_dict))  # a deep copy of plain data
    data.get("metadata", {}).get(METADATA_KEY, {}).pop(DIGEST_KEY, None)
    for cell in data.get("cells", []):
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _with_digest(nb) -> str:
    """Render ``nb`` with the digest of its own content in its metadata."""
    nb.metadata[METADATA_KEY].pop(DIGEST_KEY, None)
    nb.metadata[METADATA_KEY][DIGEST_KEY] = content_digest(json.loads(render(nb)))
    return render(nb)


def edited_since_build(path) -> bool:
    """True when the notebook at ``path`` is not what a build wrote (no digest, or another one).

    Running a cell (outputs), editing a cell or saving other metadata all count as edits.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        recorded = data.get("metadata", {}).get(METADATA_KEY, {}).get(DIGEST_KEY)
    except (OSError, ValueError, AttributeError):
        return True
    return recorded is None or recorded != content_digest(data)


def build_all(solutions_dir) -> dict[str, str]:
    """Generate every exercise: ``{file name: notebook text}``.

    Raises
    ------
    BuildError
        Listing every problem found in every solution notebook.
    """
    solutions_dir = Path(solutions_dir)
    if not solutions_dir.is_dir():
        raise BuildError(f"solutions directory {str(solutions_dir)!r} does not exist")
    outputs, problems = {}, []
    for path in sorted(solutions_dir.glob("*.ipynb")):
        try:
            nb = read_notebook(path)
        except (BuildError, json.JSONDecodeError) as exc:
            problems.append(f"{path.name}: cannot read it ({exc})")
            continue
        exercise_set = path.stem
        found = validate_solution(nb, exercise_set)
        if found:
            problems.extend(f"{path.name}: {p}" for p in found)
            continue
        try:
            outputs[path.name] = _with_digest(build_exercise(nb, exercise_set, path.name))
        except BuildError as exc:
            problems.append(str(exc))
    if problems:
        raise BuildError("\n".join(problems))
    return outputs


def compare_exercises(solutions_dir, exercises_dir) -> list[str]:
    """Differences between the committed exercises and a fresh build; empty when in sync."""
    built = build_all(solutions_dir)
    exercises_dir = Path(exercises_dir)
    differences = []
    for name, text in built.items():
        target = exercises_dir / name
        if not target.exists():
            differences.append(f"{target} is missing")
        elif target.read_text(encoding="utf-8") != text:
            differences.append(f"{target} differs from what its solution generates")
    if exercises_dir.is_dir():
        for path in sorted(exercises_dir.glob("*.ipynb")):
            if path.name not in built:
                differences.append(f"{path} has no solution notebook in {solutions_dir}")
    return differences


# --------------------------------------------------------------------------- command line


def cli_build(args) -> int:
    """``lstm-teach exercises build``: write ``exercises/`` from ``solutions/``."""
    try:
        built = build_all(args.solutions)
    except BuildError as exc:
        print(f"exercises build failed:\n{exc}", file=sys.stderr)
        return 1
    out_dir = Path(args.exercises)
    changed = [out_dir / name for name, text in built.items()
               if (out_dir / name).exists()
               and (out_dir / name).read_text(encoding="utf-8") != text]
    edited = [path for path in changed if edited_since_build(path)]
    if edited and not getattr(args, "force", False):
        print("exercises build refused: these exercises were edited since the last build "
              "(or were not written by it), and building would overwrite them:", file=sys.stderr)
        for path in edited:
            print(f"  {path}", file=sys.stderr)
        print("Nothing was written. Keep your work elsewhere (`make lab` serves a working copy "
              "in work/), or rerun with --force to overwrite.", file=sys.stderr)
        return 1
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in built.items():
        target = out_dir / name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target}")
    for path in sorted(out_dir.glob("*.ipynb")):
        if path.name not in built:
            print(f"warning: {path} has no solution; delete it if it is stale", file=sys.stderr)
    print(f"{len(built)} exercise notebook(s) in {out_dir} are up to date")
    return 0


def cli_check(args) -> int:
    """``lstm-teach exercises check``: exit 1 if ``exercises/`` is not what the build gives."""
    try:
        differences = compare_exercises(args.solutions, args.exercises)
    except BuildError as exc:
        print(f"exercises check failed: the solutions do not build:\n{exc}", file=sys.stderr)
        return 1
    if differences:
        print("exercises/ is out of date:", file=sys.stderr)
        for line in differences:
            print(f"  {line}", file=sys.stderr)
        print("run `lstm-teach exercises build` and commit the result", file=sys.stderr)
        return 1
    print(f"{args.exercises}/ is in sync with {args.solutions}/")
    return 0


def main(argv=None) -> int:
    """``python -m lstm_teach.grading.generate annotate NOTEBOOK...``"""
    parser = argparse.ArgumentParser(prog="python -m lstm_teach.grading.generate")
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("annotate", help="write nbgrader metadata into solution notebooks")
    p.add_argument("notebooks", nargs="+")
    args = parser.parse_args(argv)
    for name in args.notebooks:
        path = Path(name)
        nb = read_notebook(path)
        annotate_solution(nb, path.stem)
        path.write_text(render(nb), encoding="utf-8")
        problems = validate_solution(nb, path.stem)
        print(f"annotated {path}" + ("" if not problems else ":\n  " + "\n  ".join(problems)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
