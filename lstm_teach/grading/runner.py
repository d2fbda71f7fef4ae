"""The notebook side of grading: runs inside the sandbox, with the submission's code.

    python -I -m lstm_teach.grading.runner

Started by :mod:`lstm_teach.grading.session` with its standard input and
output connected to the grader by pipes. It executes what the grader asks,
one command at a time (frames of :mod:`lstm_teach.grading.channel`):

``{"op": "run", "source": ..., "timeout": s}``
    run one code cell in an IPython shell (the same execution engine as a
    Jupyter kernel, in this process); reply whether it raised.
``{"op": "call", "target": "name", "args": ..., "kwargs": ..., "timeout": s}``
    call the learner's object ``name`` from the notebook's namespace on the
    grader's arguments; reply with the returned value as plain data, the
    arguments it changed in place (and the new state of any generator it drew
    from), or the exception it raised.
``{"op": "bye"}``
    exit.

Nothing here is trusted by the grader: this process runs the learner's code,
which can replace any of it. The grader decides every score in its own
process from the plain values it decodes (see :mod:`lstm_teach.grading.session`).
The learner's output goes to /dev/null; the channel uses private copies of
the pipes, and a per-cell / per-call alarm interrupts code that runs too long
(the grader kills the whole sandbox if that does not work).
"""

from __future__ import annotations

import os
import signal
import sys

MAX_TEXT = 300


class _Timeout(KeyboardInterrupt):
    """Raised by the alarm in the main thread when a cell or call runs too long."""


def _truncate(text, limit: int = MAX_TEXT) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _on_alarm(signum, frame):
    # Keep interrupting every second: a cell that swallows one interrupt gets another.
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    raise _Timeout()


def _arm(seconds: float) -> None:
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(float(seconds), 0.01))


def _disarm() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)


def _private_channel() -> tuple[int, int]:
    """Move the pipes to the grader off fds 0/1, and send the learner's output to /dev/null."""
    read_fd, write_fd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    return read_fd, write_fd


def _make_shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    shell.user_ns["__name__"] = "__main__"
    return shell


def _run_cell(shell, source: str, timeout: float) -> dict:
    timed_out = False
    try:
        _arm(timeout)
        try:
            result = shell.run_cell(source, store_history=False)
        finally:
            _disarm()
    except _Timeout:  # raised between cells, outside IPython's own handler
        return {"op": "ran", "error": f"the cell timed out after {timeout:g} s",
                "timed_out": True}
    error = result.error_before_exec or result.error_in_exec
    text = None
    if isinstance(error, _Timeout):
        timed_out, text = True, f"the cell timed out after {timeout:g} s"
    elif error is not None:
        text = _truncate(f"{type(error).__name__}: {error}".rstrip(": "))
    return {"op": "ran", "error": text, "timed_out": timed_out}


def _lookup(shell, target: str):
    parts = str(target).split(".")
    if not parts or not all(p.isidentifier() for p in parts):
        return None, f"`{target}` is not a name"
    if parts[0] not in shell.user_ns:
        return None, f"the notebook does not define `{parts[0]}`"
    obj = shell.user_ns[parts[0]]
    for part in parts[1:]:
        try:
            obj = getattr(obj, part)
        except Exception:
            return None, f"`{target}` does not exist"
    if not callable(obj):
        return None, f"expected a function `{target}`, but it is {type(obj).__name__}"
    return obj, None


def _leaves(obj, path=()):
    """(path, value) of every array and generator inside nested lists / tuples / dicts."""
    import numpy as np

    if type(obj) is np.ndarray or type(obj) is np.random.Generator:
        yield path, obj
    elif type(obj) in (list, tuple):
        for i, value in enumerate(obj):
            yield from _leaves(value, (*path, i))
    elif type(obj) is dict:
        for key, value in obj.items():
            yield from _leaves(value, (*path, key))


def _call(shell, message: dict) -> dict:
    import numpy as np

    from .channel import decode, encode
    from .feedback import describe_exception

    fn, problem = _lookup(shell, message.get("target", ""))
    if problem:
        return {"op": "missing", "description": problem}
    args = decode(message.get("args", {"L": []}), allow_functions=True)
    kwargs = decode(message.get("kwargs", {"D": []}), allow_functions=True)
    tree = (args, kwargs)
    before = {path: obj.copy() for path, obj in _leaves(tree) if type(obj) is np.ndarray}
    errstate = message.get("errstate") if isinstance(message.get("errstate"), dict) else {}
    errstate = {key: value for key, value in errstate.items()  # the grader's, as in-process
                if key in ("divide", "over", "under", "invalid")
                and value in ("ignore", "warn", "raise", "print")}
    try:
        _arm(message.get("timeout", 60.0))
        try:
            with np.errstate(**errstate):
                value = fn(*args, **kwargs)
            reply = {"op": "result", "value": encode(value)}
        finally:
            _disarm()
    except _Timeout:
        return {"op": "timeout"}
    except NotImplementedError:
        return {"op": "raised", "not_implemented": True, "description": ""}
    except BaseException as exc:  # noqa: BLE001 - the learner's bug (or exit) is the answer
        return {"op": "raised", "not_implemented": False,
                "description": _truncate(describe_exception(exc))}
    sync = []
    for path, obj in _leaves(tree):
        if type(obj) is np.random.Generator:
            sync.append({"path": list(path), "value": encode(obj)})
        elif path in before and (obj.shape != before[path].shape
                                 or obj.tobytes() != before[path].tobytes()):
            sync.append({"path": list(path), "value": encode(obj)})
    reply["sync"] = sync
    return reply


def main() -> int:
    from .channel import ChannelError, receive, send

    read_fd, write_fd = _private_channel()
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    sys.stderr = sys.stdout
    shell = _make_shell()
    send(write_fd, {"op": "hello", "pid": os.getpid()})
    while True:
        try:
            message = receive(read_fd)
        except (EOFError, ChannelError, OSError):
            return 0
        op = message.get("op")
        if op == "bye":
            return 0
        try:
            if op == "run":
                reply = _run_cell(shell, str(message.get("source", "")),
                                  float(message.get("timeout", 60.0)))
            elif op == "call":
                reply = _call(shell, message)
            else:
                reply = {"op": "error", "description": f"unknown command {op!r}"}
        except _Timeout:
            reply = {"op": "timeout"}
        except Exception as exc:  # noqa: BLE001 - report, keep serving
            reply = {"op": "error", "description": _truncate(f"{type(exc).__name__}: {exc}")}
        try:
            send(write_fd, reply)
        except OSError:
            return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
