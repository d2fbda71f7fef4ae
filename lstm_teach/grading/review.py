"""Static reading of notebooks for the grader: what to call, when, and what to flag.

Nothing here runs the submission's code; it is parsed with :mod:`ast`.

* :func:`targets_for` maps each exercise to the name the learner's function
  has in the notebook (``check("stable_sigmoid", sigmoid)`` calls it
  ``sigmoid``), read from the instructor's own notebooks (``exercises/`` or
  ``solutions/`` next to the package) and, only where those are absent, from
  the submission; else the exercise name itself.
* :func:`checkpoints` finds, for each code cell of a submission, the exercises
  whose ``check(...)`` it calls: the grader grades those right after the
  cell, so points earned are kept if a later cell kills the kernel.
* :func:`leaning_on_reference` flags an answer that imports the package's own
  implementation of the very function the exercise asks for (or anything
  from ``lstm_teach.grading`` but ``check``), giving the cell and the line,
  also when the reference was bound to another name in another cell.
* :func:`reaching_into_the_grader` flags any cell that touches the grading
  machinery (``lstm_teach.grading`` beyond ``check`` and ``needs``) or the
  interpreter's internals (``sys.modules``, frames, ``gc``, ``ctypes``,
  ``inspect``, ``builtins``, ``__main__``): with those, a notebook can patch
  the sandbox's side of the channel to answer with the reference. It also
  flags code the review cannot read (``exec``, ``importlib``, ``pickle``,
  ``subprocess``, magics, ``getattr`` with a computed name, ``__dict__``
  walks: see :data:`HIDING_MODULES` and its neighbours), the usual ways to hide
  a call of the reference. This is a static reading, so it catches the known
  disguises, not every one.
"""

from __future__ import annotations

import ast
import functools
import json
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]


def code_cells(nb) -> list[str]:
    """The sources of the notebook's code cells, in order."""
    out = []
    for cell in nb.get("cells", []):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            out.append("".join(source) if isinstance(source, list) else str(source))
    return out


#: The review runs in the grader's own (unconfined) process, so it reads only this much
#: code: a cell of 0.8 MB took about 20 s and 400 MiB to review, and a notebook may have
#: 50 MB. The course's largest code cell has under 2,000 characters.
MAX_REVIEW_CELL_CHARS = 20_000
MAX_REVIEW_TOTAL_CHARS = 200_000


def reviewed_sources(nb) -> tuple[list[str], list[int]]:
    """The code cells the review reads, and the indices of those too large to read.

    A cell over :data:`MAX_REVIEW_CELL_CHARS`, or past :data:`MAX_REVIEW_TOTAL_CHARS`
    in all, is replaced by an empty string (it still runs in the sandbox).
    """
    sources, skipped, total = [], [], 0
    for index, source in enumerate(code_cells(nb)):
        total += len(source)
        if len(source) > MAX_REVIEW_CELL_CHARS or total > MAX_REVIEW_TOTAL_CHARS:
            sources.append("")
            skipped.append(index)
        else:
            sources.append(source)
    return sources, skipped


def parse(source: str) -> ast.Module | None:
    """The cell as Python; None if it does not parse.

    A cell with IPython syntax (magics) is first turned into Python by IPython's
    transformer; plain Python is parsed as it is, so line numbers stay the cell's own.
    """
    for attempt in range(2):
        if attempt:
            try:
                from IPython.core.inputtransformer2 import TransformerManager

                source = TransformerManager().transform_cell(source)
            except Exception:  # noqa: BLE001 - it does not parse either way
                return None
        try:
            return ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return None


def _dotted(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def check_calls(tree: ast.Module | None) -> list[tuple[str, str | None]]:
    """``(exercise name, target expression)`` of every ``check("name", target)`` call."""
    found = []
    for node in ast.walk(tree) if tree is not None else ():
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = _dotted(node.func)
        if func is None or func.rsplit(".", 1)[-1] not in ("check", "run_check"):
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            target = _dotted(node.args[1]) if len(node.args) > 1 else None
            found.append((first.value, target))
    return found


@functools.cache
def _instructor_targets(exercise_set: str) -> tuple[tuple[str, str], ...]:
    found: dict[str, str] = {}
    for folder in ("exercises", "solutions"):
        path = REPO_DIR / folder / f"{exercise_set}.ipynb"
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for source in code_cells(nb):
            for name, target in check_calls(parse(source)):
                if target:
                    found.setdefault(name, target)
    return tuple(found.items())


def targets_for(exercise_set: str, names: list[str], submission=None) -> dict[str, str]:
    """The notebook name of the learner's function for each exercise in ``names``."""
    targets = dict(_instructor_targets(exercise_set))
    if submission is not None:
        for source in reviewed_sources(submission)[0]:
            for name, target in check_calls(parse(source)):
                # a plain name only: the runner looks dotted targets up attribute by
                # attribute, so with no instructor notebooks next to the package (a wheel
                # ships none) `check("iir_filter", lt.core.iir.iir_filter)` made the grader
                # call the reference itself, and no answer cell was there to flag
                if target and name not in targets and target.isidentifier():
                    targets[name] = target
    return {name: targets.get(name, name) for name in names}


def checkpoints(nb, names: list[str]) -> list[list[str]]:
    """For each code cell, the exercises (of ``names``) whose check it calls."""
    wanted = set(names)
    out = []
    for source in reviewed_sources(nb)[0]:
        calls = [name for name, _ in check_calls(parse(source)) if name in wanted]
        out.append(list(dict.fromkeys(calls)))
    return out


# ------------------------------------------------------------------- leaning on the reference


def _package_aliases(trees: list[ast.Module]) -> set[str]:
    """Names bound to the package or its modules anywhere in the notebook (``import ... as lt``)."""
    aliases = set()
    nodes = [node for tree in trees for node in ast.walk(tree)]
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "lstm_teach":
                    aliases.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lstm_teach"):
            for alias in node.names:
                aliases.add(alias.asname or alias.name)  # a module imported from the package
    for _ in range(3):  # names assigned from those (`module = lt.core.iir`) are aliases too
        for node in nodes:
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and node.value:
                used = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
                if used & aliases:
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    aliases |= {n.id for t in targets for n in ast.walk(t)
                                if isinstance(n, ast.Name)}
    return aliases


def _defines(tree: ast.Module, name: str) -> bool:
    """Whether the cell binds ``name``: the cells whose lines may not lean on the reference.

    Every way of binding counts, not only ``def`` and ``=``: a class whose ``__new__``
    returns the reference's result, a ``match`` capture, and a star import from the
    package (which binds every name it exports) each earned full marks with no flag.
    """
    for node in ast.walk(tree):
        if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and node.name == name):
            return True
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store):
            return True
        if isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name == name:
            return True
        if isinstance(node, ast.MatchMapping) and node.rest == name:
            return True
        if isinstance(node, ast.ExceptHandler) and node.name == name:
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if any((a.asname or a.name.split(".")[0]) == name for a in node.names):
                return True
            if (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lstm_teach")
                    and any(a.name == "*" for a in node.names)):
                return True
    return False


def _mentions(node, names: set[str]) -> bool:
    """Whether any name in ``names`` appears in the expression ``node``.

    Not only at the root of a dotted chain: ``[lt.core.iir][0].iir_filter`` and
    ``(lt.core.iir if 1 else None).iir_filter`` reach the reference through a
    subscript or an expression, and earned full marks with no flag.
    """
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _suspicious_lines(tree: ast.Module, reference_names: set[str], aliases: set[str]) -> list[int]:
    """Line numbers that bring the package's reference for ``reference_names`` into the answer."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if not module.startswith("lstm_teach"):
                continue
            imported = {a.name for a in node.names}
            grading_internals = (module.startswith("lstm_teach.grading")
                                 and not imported <= {"check"})
            if grading_internals or imported & reference_names or "*" in imported:
                lines.append(node.lineno)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("lstm_teach.grading."):
                    lines.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr in reference_names:
            # on anything but `self`: `def iir_filter(x, w, b, m=lt.core.iir)` then
            # `m.iir_filter(...)` reached the reference through a parameter
            if _mentions(node.value, aliases) or _dotted(node.value) != "self":
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and _dotted(node.func) in ("getattr", "__import__",
                                                                  "importlib.import_module"):
            text = ast.unparse(node)
            if "lstm_teach" in text or any(n in text for n in reference_names):
                lines.append(node.lineno)
    return sorted(set(lines))


def _reference_handles(trees: list[ast.Module], reference_names: set[str],
                       aliases: set[str]) -> set[str]:
    """Names bound anywhere in the notebook to the reference itself.

    ``from lstm_teach.core.iir import iir_filter as f`` or ``f = lt.core.iir.iir_filter``
    in one cell, and ``def iir_filter(...): return f(...)`` in another.
    """
    handles = set()
    nodes = [node for tree in trees for node in ast.walk(tree)]

    def takes(expression) -> bool:
        # the reference by a handle, or the exercise's name as an attribute of anything
        # but self: `def pick(m): return m.iir_filter` in one cell and
        # `pick(lt.core.iir)(x, w, b)` in the answer got through
        return any((isinstance(n, ast.Name) and n.id in handles)
                   or (isinstance(n, ast.Attribute) and n.attr in reference_names
                       and (_mentions(n.value, aliases) or _dotted(n.value) != "self"))
                   for n in ast.walk(expression))

    for node in nodes:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lstm_teach"):
            handles |= {a.asname or a.name for a in node.names if a.name in reference_names}
    for _ in range(3):
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if node.name not in reference_names and any(takes(n) for n in node.body):
                    handles.add(node.name)
                continue
            if not isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) or not node.value:
                continue
            if takes(node.value):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                handles |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return handles


def leaning_on_reference(nb, targets: dict[str, str]) -> dict[str, str]:
    """``{exercise: "cell N, line L: <code>"}`` for answers that import the reference.

    An answer cell is a code cell that defines the exercise's function (a
    ``def``, an assignment or an import binding its name). The reference is
    the package's function of the same name (or the exercise's name), or
    anything of ``lstm_teach.grading`` other than ``check``.
    """
    flags: dict[str, str] = {}
    sources = reviewed_sources(nb)[0]
    trees = [parse(s) for s in sources]
    aliases = _package_aliases([t for t in trees if t is not None])
    for name, target in targets.items():
        short = target.split(".")[-1]
        reference_names = {short, name}
        handles = _reference_handles([t for t in trees if t is not None], reference_names,
                                     aliases) - {short, name}
        for index, (source, tree) in enumerate(zip(sources, trees, strict=True)):
            if tree is None or not _defines(tree, short):
                continue
            hits = sorted(set(_suspicious_lines(tree, reference_names, aliases)) | {
                n.lineno for n in ast.walk(tree)
                if isinstance(n, ast.Name) and n.id in handles and isinstance(n.ctx, ast.Load)})
            if hits:
                text = source.splitlines()[hits[0] - 1].strip() if source.splitlines() else ""
                flags[name] = f"code cell {index + 1}, line {hits[0]}: {text[:160]}"
                break
    return flags


#: What a notebook may use of ``lstm_teach.grading``.
PUBLIC_GRADING_NAMES = {"check", "needs", "CheckResult"}
#: Modules that reach into the running interpreter (its objects, frames, memory).
INTROSPECTION_MODULES = {"gc", "ctypes", "_ctypes", "inspect", "builtins", "__main__",
                         "__builtin__"}


#: Modules that run code the grader cannot read (strings, pickles, other processes) or
#: fetch objects by computed names: with them an answer can hide a call of the reference.
HIDING_MODULES = {"importlib", "pickle", "_pickle", "cPickle", "marshal", "runpy", "code",
                  "codeop", "subprocess", "multiprocessing", "pty", "shelve", "dill",
                  "cloudpickle", "joblib", "copyreg", "timeit", "pdb", "bdb",
                  "cProfile", "profile", "trace", "doctest", "zipimport", "pkgutil", "imp",
                  "concurrent"}
#: Built-ins that run strings as code or reach objects by computed names.
HIDING_BUILTINS = {"exec", "eval", "compile", "__import__", "vars", "globals",
                   "breakpoint", "get_ipython", "__builtins__"}
#: Attribute access by a name computed at run time (allowed with a literal name).
NAMED_ACCESS = {"getattr", "setattr", "delattr"}
#: Attributes that walk from any object to modules, globals or code.
HIDING_ATTRIBUTES = {"__dict__", "__globals__", "__builtins__", "__subclasses__", "__class__",
                     "__bases__", "__base__", "__mro__", "__code__", "__closure__",
                     "__getattribute__", "__getattr__", "__loader__", "__spec__", "__reduce__",
                     "__reduce_ex__", "__func__", "__self__", "__wrapped__", "__import__",
                     "system", "popen", "execv", "execve", "execvp", "execl", "execlp",
                     "spawnv", "spawnl", "posix_spawn", "attrgetter", "methodcaller",
                     "ctypeslib", "ProcessPoolExecutor", "read_array"}
#: The kernel's own execution engine, IPython's shell, runs strings as cells:
#: ``IPython.get_ipython().run_cell("from lstm_teach.core.iir import *")`` earned full
#: marks with no flag. ``exit._ip`` and ``quit._ip`` are the shell too.
SHELL_ATTRIBUTES = {"get_ipython", "_ip", "InteractiveShell", "run_cell", "run_cell_async",
                    "run_line_magic", "run_cell_magic", "run_code", "run_ast_nodes", "ex", "ev",
                    "safe_execfile", "safe_execfile_ipy", "safe_run_module", "user_ns",
                    "user_global_ns", "input_transformers_post", "input_transformers_cleanup",
                    "input_transformer_manager", "ast_transformers"}
HIDING_ATTRIBUTES |= SHELL_ATTRIBUTES
#: The only part of IPython a notebook may import (the lessons show HTML with it).
IPYTHON_ALLOWED = "IPython.display"


def _imports_the_shell(node) -> bool:
    """``import IPython`` and its modules, except :data:`IPYTHON_ALLOWED` imported as a name."""
    if isinstance(node, ast.Import):
        return any(a.name.split(".")[0] == "IPython"
                   and not (a.name == IPYTHON_ALLOWED and a.asname) for a in node.names)
    module = node.module or ""
    return module.split(".")[0] == "IPython" and module != IPYTHON_ALLOWED


#: The grader's inputs are fixed and can be read in the package, so the answers to them
#: can be computed elsewhere and handed in as data: the plain form is a big literal.
#: (The course's code cells, lessons included, have at most 443 characters in one string,
#: 672 in all strings of a cell, and 9 items in one list, tuple or dict display.)
MAX_LITERAL_CHARS = 1_000
MAX_CELL_LITERAL_CHARS = 3_000
MAX_LITERAL_ITEMS = 64


def _hiding_lines(tree: ast.Module) -> list[int]:
    """Lines that run code the grader cannot read statically, or reach objects by computed names."""
    calls_with_literal_name = {
        id(node.func) for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        and node.func.id in NAMED_ACCESS and len(node.args) >= 2
        and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
        and not node.args[1].value.startswith("__")}
    lines = []
    strings = [node for node in ast.walk(tree)
               if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))]
    if sum(len(node.value) for node in strings) > MAX_CELL_LITERAL_CHARS:
        lines.append(strings[0].lineno)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            if (any(a.name.split(".")[0] in HIDING_MODULES for a in node.names)
                    or _imports_the_shell(node)):
                lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if ((node.module or "").split(".")[0] in HIDING_MODULES or _imports_the_shell(node)
                    or any(a.name in HIDING_ATTRIBUTES | HIDING_BUILTINS for a in node.names)):
                lines.append(node.lineno)
        elif isinstance(node, ast.Name):
            if node.id in HIDING_BUILTINS or (node.id in NAMED_ACCESS
                                              and id(node) not in calls_with_literal_name):
                lines.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr in HIDING_ATTRIBUTES:
            lines.append(node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
            if len(node.value) > MAX_LITERAL_CHARS:  # a table of answers computed elsewhere?
                lines.append(node.lineno)
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
            if len(node.keys if isinstance(node, ast.Dict) else node.elts) > MAX_LITERAL_ITEMS:
                lines.append(node.lineno)
        elif isinstance(node, ast.keyword) and node.arg == "allow_pickle":
            if not (isinstance(node.value, ast.Constant) and node.value.value is False):
                lines.append(node.value.lineno)
    return lines


def reaching_into_the_grader(nb) -> list[str]:
    """``["code cell N, line L: <code>", ...]`` for cells that touch the grading machinery."""
    sources, skipped = reviewed_sources(nb)
    found = [f"code cell {index + 1}: too much code to review "
             f"({len(code_cells(nb)[index]):,} characters)" for index in skipped[:1]]
    for index, source in enumerate(sources):
        tree = parse(source)
        if tree is None:
            continue
        lines = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                names = {a.name for a in node.names}
                if module.startswith("lstm_teach.grading.") or (
                        module == "lstm_teach.grading" and not names <= PUBLIC_GRADING_NAMES):
                    lines.append(node.lineno)
                elif module == "lstm_teach" and "grading" in names:
                    lines.append(node.lineno)
                elif module.split(".")[0] in INTROSPECTION_MODULES:
                    lines.append(node.lineno)
            elif isinstance(node, ast.Import):
                if any(a.name.startswith("lstm_teach.grading")
                       or a.name.split(".")[0] in INTROSPECTION_MODULES for a in node.names):
                    lines.append(node.lineno)
            elif isinstance(node, ast.Attribute):
                chain = _dotted(node) or ""
                parts = chain.split(".")
                if chain.endswith(("sys.modules", "sys._getframe", "sys.settrace",
                                   "sys.setprofile", "sys.meta_path")):
                    lines.append(node.lineno)
                elif "grading" in parts[:-1] and parts[-1] not in PUBLIC_GRADING_NAMES:
                    lines.append(node.lineno)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.strip()
                if ("lstm_teach.grading." in text or "grading.runner" in text
                        or text in INTROSPECTION_MODULES):
                    lines.append(node.lineno)
            elif isinstance(node, ast.Name) and node.id in ("__builtins__", "__import__"):
                lines.append(node.lineno)
        lines += _hiding_lines(tree)
        if lines:
            first = sorted(lines)[0]
            text = source.splitlines()[first - 1].strip()
            found.append(f"code cell {index + 1}, line {first}: {text[:160]}")
    return found
