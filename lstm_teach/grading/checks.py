"""The registry of exercise checks, and :func:`run_check`, the engine behind ``check()``.

Each exercise set (one solution notebook) has a module in
:mod:`lstm_teach.grading.sets` whose check functions are registered with
:func:`register`. The registry is the single source of truth for which
exercises a notebook has and how many points each is worth: the generator
validates the notebooks against it, and the grader takes each notebook's
maximum score from it (so deleting a graded cell cannot shrink the maximum).
"""

from __future__ import annotations

import contextvars
import importlib
import os
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

from .feedback import CheckResult, Incorrect, NotAttempted, format_message

#: Set to 1 to make a failed check raise ``AssertionError`` after printing its
#: feedback: what nbgrader's autograder needs to see a failure.
STRICT_ENV = "LSTM_TEACH_STRICT_CHECKS"


@dataclass(frozen=True)
class Exercise:
    """One graded exercise.

    Attributes
    ----------
    name : str
        The check name, used in ``check(name, obj)`` and as the nbgrader
        ``grade_id`` of the graded cell. Unique across the course.
    exercise_set : str
        The notebook stem, e.g. ``"03_gated_cell"``.
    points : int
        Points for a pass (all or nothing).
    title : str
        A short human title for feedback and reports.
    func : callable
        ``func(obj, **kwargs)`` returns ``None`` (pass) or extra lines of
        praise; it raises ``Incorrect`` / ``NotAttempted`` otherwise.
    """

    name: str
    exercise_set: str
    points: int
    title: str
    func: Callable


_REGISTRY: dict[str, Exercise] = {}
_LOADED = False


def register(name: str, exercise_set: str, points: int, title: str):
    """Decorator that registers a check function under ``name``."""
    if not isinstance(points, int) or points <= 0:
        raise ValueError(f"points must be a positive int; got {points!r}")

    def decorate(func):
        if name in _REGISTRY and _REGISTRY[name].func.__qualname__ != func.__qualname__:
            raise ValueError(f"a check named {name!r} is already registered")
        _REGISTRY[name] = Exercise(name, exercise_set, points, title, func)
        return func

    return decorate


def load_all() -> None:
    """Import every module of :mod:`lstm_teach.grading.sets` (registering its checks)."""
    global _LOADED
    if _LOADED:
        return
    from . import sets

    for info in sorted(pkgutil.iter_modules(sets.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{sets.__name__}.{info.name}")
    _LOADED = True


def get_exercise(name: str) -> Exercise:
    load_all()
    if name not in _REGISTRY:
        raise KeyError(f"no exercise check named {name!r}; known: {sorted(_REGISTRY)}")
    return _REGISTRY[name]


def exercises_for(exercise_set: str) -> list[Exercise]:
    """The exercises of one notebook, in registration order (the order of the notebook)."""
    load_all()
    return [ex for ex in _REGISTRY.values() if ex.exercise_set == exercise_set]


def exercise_sets() -> list[str]:
    """All known exercise-set names (notebook stems), sorted."""
    load_all()
    return sorted({ex.exercise_set for ex in _REGISTRY.values()})


def max_score(exercise_set: str) -> int:
    return sum(ex.points for ex in exercises_for(exercise_set))


# --------------------------------------------------------------------------- running


#: True while :func:`check_status` asks for a verdict on the learner's behalf: such a probe
#: is not one of the learner's tries (checks that count tries, like the bug zoo's, skip it).
PROBING: contextvars.ContextVar[bool] = contextvars.ContextVar("lstm_teach_probing",
                                                               default=False)


def check_status(name: str, obj, **kwargs) -> str:
    """``"passed"``, ``"failed"`` or ``"not attempted"``: the verdict of a check, silently.

    Prints nothing and never raises (not even in strict mode): what
    :class:`lstm_teach.grading.guard.needs` asks before it explains a failed demo cell.
    It does not count as a try (see :data:`PROBING`).
    """
    token = PROBING.set(True)
    try:
        return evaluate(get_exercise(name), obj, **kwargs).status
    finally:
        PROBING.reset(token)


def run_check(name: str, obj, *, verbose: bool = True, **kwargs) -> CheckResult:
    """Run the check ``name`` on the learner's ``obj``; print and return the result.

    Never raises because the answer is wrong, because the learner's code
    raised, or because the check itself hit something unexpected: the
    notebook must keep running. (With ``LSTM_TEACH_STRICT_CHECKS=1`` a failure
    raises ``AssertionError`` after printing, for nbgrader.)
    """
    try:
        exercise = get_exercise(name)
    except KeyError as exc:
        result = CheckResult(name, False, 0, 0, "failed",
                             f"❌ {exc.args[0]}\n   • (this is a problem in the notebook, not "
                             "in your answer: tell your instructor)")
        return _finish(result, verbose)

    result = evaluate(exercise, obj, **kwargs)
    return _finish(result, verbose)


def evaluate(exercise: Exercise, obj, **kwargs) -> CheckResult:
    """Run one check on ``obj`` and return the result, without printing or recording it.

    The grader calls this in its own process, with ``obj`` a stand-in that
    calls the learner's function in the sandbox.
    """
    status, lines = "failed", []
    try:
        extra = exercise.func(obj, **kwargs)
        status = "passed"
        lines = list(extra or [])
    except NotAttempted:
        status = "not attempted"
    except Incorrect as exc:
        lines = exc.lines
    except RecursionError:
        lines = ["your code recursed too deeply (RecursionError)"]
    except Exception as exc:  # a learner object the check did not foresee; never crash the cell
        lines = [f"the check could not use your answer ({type(exc).__name__}: {exc})"[:300]]
    passed = status == "passed"
    points = exercise.points if passed else 0
    message = format_message(exercise.title, status, points, exercise.points, lines)
    return CheckResult(exercise.name, passed, points, exercise.points, status, message)


def _finish(result: CheckResult, verbose: bool) -> CheckResult:
    """Print the feedback. Nothing is recorded: the grader decides scores itself."""
    if verbose:
        print(result.message, flush=True)
    if not result.passed and os.environ.get(STRICT_ENV, "").strip() not in ("", "0"):
        raise AssertionError(f"check {result.name!r} did not pass")
    return result
