"""Feedback building blocks: the result object, learner calls, and array comparisons.

A check function (see :mod:`lstm_teach.grading.checks`) talks to the learner
through three exceptions and two helpers:

``Incorrect(*lines)``
    the answer is wrong; each line is one short, specific observation.
``NotAttempted()``
    the learner's code still raises ``NotImplementedError``.
:func:`call_learner`
    calls the learner's function and turns any exception it raises into an
    ``Incorrect`` that quotes the line of *their* code that failed.
:func:`compare`
    compares one returned array with the reference and says what differs:
    ``None`` (it is a Python ``None``), the shape, the dtype, NaN / inf, or the values.
"""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import asdict, dataclass

import numpy as np

PASS_MARK = "✅"
FAIL_MARK = "❌"
TODO_MARK = "✏️"

# Frames from these directories are library code, not the learner's.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__))
_STDLIB_DIR = os.path.dirname(os.path.abspath(traceback.__file__))


class Incorrect(Exception):
    """The learner's answer is wrong. ``lines`` are the feedback, most important first."""

    def __init__(self, *lines: str):
        super().__init__(" ".join(lines))
        self.lines = [line for line in lines if line]


class NotAttempted(Exception):
    """The learner's function still raises ``NotImplementedError``."""


class RemoteError(Exception):
    """The learner's function, called in the grading sandbox, failed; ``description`` says how.

    Raised by the grader's stand-in for the learner's function (see
    :mod:`lstm_teach.grading.session`): the exception, and the line of the
    learner's code, were described inside the sandbox.
    """

    def __init__(self, description: str):
        super().__init__(description)
        self.description = description


@dataclass
class CheckResult:
    """What :func:`lstm_teach.grading.check` returns.

    Attributes
    ----------
    name : str
        The exercise (check) name.
    passed : bool
    points, max_points : float
        Points earned (all or nothing) and available.
    status : str
        ``"passed"``, ``"failed"`` or ``"not attempted"``.
    message : str
        The feedback text that was printed.
    """

    name: str
    passed: bool
    points: float
    max_points: float
    status: str
    message: str

    def __post_init__(self):
        self._execution_count = _ipython_execution_count()

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"CheckResult(name={self.name!r}, passed={self.passed}, "
            f"points={self.points:g}/{self.max_points:g})"
        )

    def _ipython_display_(self):
        # check() has already printed the feedback in the cell that created this
        # result; showing it again as Out[n] would only repeat it. In a later cell
        # (`result` on its own line) the learner asked to see it, so print it.
        if _ipython_execution_count() != self._execution_count:
            print(self.message)

    def to_dict(self) -> dict:
        return asdict(self)


def _ipython_execution_count():
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    try:
        shell = ipython.get_ipython()
        return None if shell is None else shell.execution_count
    except Exception:  # a half-initialised IPython: behave like plain Python
        return None


# --------------------------------------------------------------------------- learner calls


def _is_library_frame(filename: str) -> bool:
    if filename.endswith((".pyx", ".pxd")):  # compiled numpy code, e.g. Generator.choice
        return True
    path = os.path.abspath(filename)
    return any(path.startswith(d + os.sep) for d in (_PACKAGE_DIR, _NUMPY_DIR, _STDLIB_DIR))


def describe_exception(exc: BaseException) -> str:
    """One line: the exception, and the line of learner code that raised it (if any)."""
    text = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    if len(text) > 300:
        text = text[:297] + "..."
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not _is_library_frame(f.filename)]
    if not frames:
        return f"your code raised {text}"
    frame = frames[-1]
    where = f"line {frame.lineno}"
    if frame.name not in ("<module>", "<lambda>"):
        where += f" (in {frame.name})"
    source = (frame.line or "").strip()
    if source:
        return f"your code raised {text}, at {where}: `{source}`"
    return f"your code raised {text}, at {where}"


def call_learner(fn, *args, what: str | None = None, **kwargs):
    """Call the learner's ``fn``; translate its exceptions into feedback.

    Raises
    ------
    NotAttempted
        ``fn`` raised ``NotImplementedError`` (the untouched exercise stub).
    Incorrect
        ``fn`` raised any other exception; the message names the line.
    """
    if not callable(fn):
        raise Incorrect(f"expected a function, but got {type(fn).__name__} {fn!r:.60}")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise NotAttempted() from None
    except RemoteError as exc:
        prefix = f"calling {what}: " if what else ""
        raise Incorrect(prefix + exc.description) from None
    except Exception as exc:  # the learner's bug, reported as feedback
        prefix = f"calling {what}: " if what else ""
        raise Incorrect(prefix + describe_exception(exc)) from None


# --------------------------------------------------------------------------- comparisons


def _first_bad(mask: np.ndarray) -> str:
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    return str(idx[0]) if len(idx) == 1 else str(idx)


def as_result_array(label: str, got) -> np.ndarray:
    """``got`` as a numeric array, or raise ``Incorrect`` saying why it is not one."""
    if got is None:
        raise Incorrect(f"{label} is None: did you forget a `return`?")
    if isinstance(got, np.ndarray):
        arr = got
    else:
        try:
            arr = np.asarray(got)
        except Exception:
            raise Incorrect(f"{label} should be a numpy array; got {type(got).__name__}") from None
    if arr.dtype.kind not in "biuf":
        raise Incorrect(f"{label} should be a numeric array; got {type(got).__name__} "
                        f"with dtype {arr.dtype}")
    return arr


def compare(label: str, got, expected, rtol: float = 1e-6, atol: float = 1e-9,
            check_dtype: bool = True) -> str | None:
    """Compare ``got`` with ``expected``. Returns ``None`` if they agree, else a short reason.

    The order of the tests is the order a learner should fix things in: a
    missing return, the shape, the dtype, NaN / inf, and finally the values.
    Raises nothing (a non-array answer becomes a reason too).
    """
    try:
        arr = as_result_array(label, got)
    except Incorrect as exc:
        return exc.lines[0]
    expected = np.asarray(expected)
    if arr.shape != expected.shape:
        reason = f"{label} has shape {arr.shape}; expected {expected.shape}"
        if arr.ndim == expected.ndim and arr.shape == expected.shape[::-1] and arr.ndim > 1:
            reason += " (transposed?)"
        elif arr.size == expected.size:
            reason += " (right number of entries: a reshape or an axis mix-up?)"
        return reason
    if check_dtype and expected.dtype.kind == "f" and arr.dtype != expected.dtype:
        hint = " (integer arithmetic somewhere?)" if arr.dtype.kind in "biu" else ""
        return f"{label} has dtype {arr.dtype}; expected {expected.dtype}{hint}"
    if arr.dtype.kind == "f":
        nan, inf = np.isnan(arr), np.isinf(arr)
        exp_finite = np.isfinite(expected) if expected.dtype.kind == "f" else True
        if (nan & exp_finite).any():
            return (f"{label} contains NaN ({int(nan.sum())} entries, the first at "
                    f"{_first_bad(nan)})")
        if (inf & exp_finite).any():
            return (f"{label} contains inf ({int(inf.sum())} entries, the first at "
                    f"{_first_bad(inf)}): an overflow, e.g. in np.exp?")
    with np.errstate(invalid="ignore", over="ignore"):
        ok = np.allclose(arr, expected, rtol=rtol, atol=atol, equal_nan=True)
    if ok:
        return None
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(arr.astype(np.float64) - expected.astype(np.float64))
    worst = float(np.nanmax(err)) if err.size else 0.0
    return f"{label} has the right shape but wrong values (largest error {worst:.2g})"


def close(got, expected, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """True when ``got`` has ``expected``'s shape and values (a quiet :func:`compare`)."""
    try:
        arr = np.asarray(got, dtype=np.float64)
    except Exception:
        return False
    expected = np.asarray(expected, dtype=np.float64)
    if arr.shape != expected.shape:
        return False
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.allclose(arr, expected, rtol=rtol, atol=atol))


def unpack(result, n: int, names: str, what: str):
    """Split a returned tuple into ``n`` parts, or raise ``Incorrect`` explaining the mismatch.

    ``names`` reads like ``"(dx, dh_prev, dc_prev, grads)"``.
    """
    if not isinstance(result, (tuple, list)):
        raise Incorrect(f"{what} should return a tuple {names}; got {type(result).__name__}")
    if len(result) < n:
        raise Incorrect(f"{what} should return {n} values {names}; got {len(result)}")
    return tuple(result[:n])


def format_message(title: str, status: str, points: float, max_points: float,
                   lines: list[str]) -> str:
    """The printed feedback: one headline with the mark, then the observations."""
    unit = "point" if max_points == 1 else "points"
    if status == "passed":
        head = f"{PASS_MARK} {title}: correct! ({points:g}/{max_points:g} {unit})"
    elif status == "not attempted":
        head = (f"{TODO_MARK} {title}: not attempted yet. Replace `raise NotImplementedError()` "
                f"with your code, then run this cell again. (0/{max_points:g} {unit})")
    else:
        head = f"{FAIL_MARK} {title}: not right yet (0/{max_points:g} {unit})"
    body = [f"   • {line}" for line in lines]
    return "\n".join([head, *body])
