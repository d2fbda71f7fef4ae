"""Exercise checks, the exercise generator and the grader (docstring completed below)."""

from .checks import Exercise, exercise_sets, exercises_for, register, run_check
from .feedback import CheckResult


def check(name: str, obj, **kwargs) -> CheckResult:
    """Check the learner's ``obj`` for exercise ``name``; print feedback, return the result."""
    return run_check(name, obj, **kwargs)


__all__ = ["CheckResult", "Exercise", "check", "exercise_sets", "exercises_for", "register"]
