"""The registry of exercise checks, and :func:`run_check`, the engine behind ``check()``.

Each exercise set (one solution notebook) has a module in
:mod:`lstm_teach.grading.sets` whose check functions are registered with
:func:`register`. The registry is the single source of truth for which
exercises a notebook has and how many points each is worth: the generator
validates the notebooks against it, and the grader takes each notebook's
maximum score from it (so deleting a graded cell cannot shrink the maximum).

Probe inputs
------------
A check draws every input it gives the learner's function from
:func:`probe_rng`. In the learner's own kernel (``check()`` in a notebook,
:class:`~lstm_teach.grading.guard.needs`) that is ``np.random.default_rng(seed)``
with the check's fixed seed, so feedback is the same on every run. When the
grader scores a submission it passes a secret of its own (``probe_secret`` of
:func:`evaluate`, a fresh ``secrets.randbits(64)`` per submission): the same
seeds then draw inputs that nobody knew in advance, so a table of answers
computed elsewhere for the public fixed inputs scores nothing. Hand-chosen
edge cases (``w = 1``, ``z = 1000``) stay, next to random ones drawn the same way.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import os
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

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


# --------------------------------------------------------------------------- probe inputs


#: The grader's secret while it runs a check (``None``: the learner's kernel, fixed inputs).
_PROBE_SECRET: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "lstm_teach_probe_secret", default=None)


def probe_rng(*seed: int) -> np.random.Generator:
    """The generator a check draws its probe inputs from, for the fixed ``seed`` (ints >= 0).

    Without a secret (the learner's kernel) it is ``np.random.default_rng(seed)``
    (``default_rng([s0, s1, ...])`` for several numbers): fixed, reproducible inputs.
    While the grader runs the check (:func:`evaluate` with ``probe_secret``) it is
    seeded by the grader's secret as well, so the inputs are new in every grading
    run and cannot be looked up in a table made in advance.
    """
    if not seed or any(not isinstance(s, (int, np.integer)) or s < 0 for s in seed):
        raise ValueError(f"probe_rng needs one or more ints >= 0; got {seed!r}")
    secret = _PROBE_SECRET.get()
    if secret is None:
        return np.random.default_rng(int(seed[0]) if len(seed) == 1 else [int(s) for s in seed])
    # the secret is the entropy and the check's seed the spawn key: the streams of
    # different seeds under one secret are independent, and none is a learner's stream
    return np.random.default_rng(np.random.SeedSequence(secret, spawn_key=tuple(map(int, seed))))


def secret_in_use() -> bool:
    """True while a check runs with the grader's secret (its inputs are new in every run)."""
    return _PROBE_SECRET.get() is not None


@contextlib.contextmanager
def secret_inputs(secret: int):
    """Within the block, checks draw their inputs as the grader does, with ``secret``.

    For tests and instructors who want to see a check as the grader runs it; the
    grader itself passes ``probe_secret`` to :func:`evaluate`.
    """
    _check_secret(secret)
    token = _PROBE_SECRET.set(secret)
    try:
        yield
    finally:
        _PROBE_SECRET.reset(token)


def _check_secret(secret) -> None:
    if isinstance(secret, bool) or not isinstance(secret, int) or secret < 0:
        raise ValueError(f"the probe secret must be an int >= 0; got {secret!r}")


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


def evaluate(exercise: Exercise, obj, *, probe_secret: int | None = None,
             **kwargs) -> CheckResult:
    """Run one check on ``obj`` and return the result, without printing or recording it.

    The grader calls this in its own process, with ``obj`` a stand-in that
    calls the learner's function in the sandbox, and with its ``probe_secret``
    (an int >= 0 that never leaves the grader's process): every input the check
    draws from :func:`probe_rng` then depends on it. Without one, the inputs are
    those of the enclosing :func:`secret_inputs` block if any, else the fixed ones
    the learner's own ``check()`` uses.
    """
    if probe_secret is None:
        probe_secret = _PROBE_SECRET.get()
    else:
        _check_secret(probe_secret)
    status, lines = "failed", []
    token = _PROBE_SECRET.set(probe_secret)
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
    finally:
        _PROBE_SECRET.reset(token)
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
