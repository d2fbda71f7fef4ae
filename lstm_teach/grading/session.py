"""The grader's side of one sandboxed notebook: run its cells, call its functions.

A :class:`Session` owns one sandbox (:mod:`lstm_teach.grading.sandbox`) and
talks to the runner in it through the channel (:mod:`lstm_teach.grading.channel`).
:meth:`Session.proxy` gives a callable that stands for the learner's function:
calling it sends the arguments into the sandbox, calls the learner's function
there, and returns the decoded plain result. So the *same* check functions
that give feedback in the notebook (``check_x(fn)`` in
:mod:`lstm_teach.grading.sets`) run here, in the grader's process, with the
reference computed here: nothing the sandbox says can make a wrong answer
pass.

Defences against a hostile sandbox: every reply has a deadline (the call's
time limit plus a grace period) and a size limit; a reply that is late,
malformed or too big ends the session (the sandbox is killed) and the
exercises not graded by then score zero. Arguments the learner's function
changes in place are copied back, and generators advance, and the check's
``np.errstate`` holds for the call, so checks that look for in-place mutation,
draw from an ``rng`` or watch for overflow behave as they do in-process.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from . import sandbox as sandbox_mod
from .channel import ChannelError, decode, encode, receive, send
from .feedback import RemoteError

GRACE_S = 5.0
STARTUP_S = 60.0


class SessionDead(Exception):
    """The sandbox stopped answering (it exited, was killed, or broke the protocol)."""


class Session:
    """One submission's sandbox, from start to :meth:`close`."""

    def __init__(self, notebook_bytes: bytes, limits: sandbox_mod.Limits):
        self.workdir = Path(tempfile.mkdtemp(prefix="lstm-teach-grade-"))
        self.home = self.workdir / "submission"
        self.home.mkdir()
        (self.home / "submission.ipynb").write_bytes(notebook_bytes)
        self.limits = limits
        self.dead_reason: str | None = None
        self.sandbox = sandbox_mod.launch(self.home, limits)
        self._to = self.sandbox.process.stdin.fileno()
        self._from = self.sandbox.process.stdout.fileno()
        self.calls = 0
        try:
            hello = receive(self._from, timeout=STARTUP_S)
            if hello.get("op") != "hello":
                raise ChannelError("no greeting")
            if not sandbox_mod.cgroup_holds_processes(self.sandbox):
                self.sandbox.notes.append("the process-count limit is not enforced: the "
                                          "sandbox could not join its pids cgroup")
        except (TimeoutError, EOFError, ChannelError, OSError) as exc:
            self.dead_reason = (f"the grading kernel did not start ({type(exc).__name__}); "
                                f"{self.stderr_tail()}")
            sandbox_mod.terminate(self.sandbox)

    # ----------------------------------------------------------------- plumbing

    @property
    def confined(self) -> bool:
        return self.sandbox.confined

    @property
    def notes(self) -> list[str]:
        return self.sandbox.notes

    def stderr_tail(self, n: int = 300) -> str:
        return sandbox_mod.read_stderr(self.sandbox, n)

    def _die(self, reason: str) -> None:
        if self.dead_reason is None:
            self.dead_reason = reason
        sandbox_mod.terminate(self.sandbox)
        raise SessionDead(self.dead_reason)

    def _request(self, message: dict, timeout: float) -> dict:
        if self.dead_reason is not None:
            raise SessionDead(self.dead_reason)
        try:
            deadline = time.monotonic() + timeout + GRACE_S
            send(self._to, message, timeout=timeout + GRACE_S)  # a write can block too
            return receive(self._from, timeout=max(deadline - time.monotonic(), 0.001))
        except TimeoutError:
            self._die(f"the notebook did not answer within {timeout + GRACE_S:g} s "
                      "and was stopped")
        except (EOFError, BrokenPipeError):
            code = self.sandbox.process.poll()
            self._die("the notebook's kernel stopped" + (f" (exit status {code})"
                                                         if code is not None else ""))
        except (ChannelError, OSError) as exc:
            self._die(f"the notebook broke the grading channel ({exc})")
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        if self.dead_reason is None:
            try:
                send(self._to, {"op": "bye"}, timeout=1.0)
            except OSError:  # TimeoutError too: the sandbox is killed anyway
                pass
            self.dead_reason = "closed"
        sandbox_mod.terminate(self.sandbox)
        shutil.rmtree(self.workdir, ignore_errors=True)

    # ----------------------------------------------------------------- commands

    def run_cell(self, source: str, timeout: float) -> dict:
        """Run one code cell; ``{"error": str | None, "timed_out": bool}``."""
        reply = self._request({"op": "run", "source": source, "timeout": timeout}, timeout)
        if reply.get("op") == "timeout":
            return {"error": "the cell ran too long", "timed_out": True}
        if reply.get("op") != "ran":
            return {"error": str(reply.get("description", "the runner failed"))[:300],
                    "timed_out": False}
        error = reply.get("error")
        return {"error": str(error)[:300] if error is not None else None,
                "timed_out": reply.get("timed_out") is True}

    def call(self, target: str, args: tuple, kwargs: dict, timeout: float):
        """Call the learner's ``target`` on ``args``; the decoded result (see :meth:`proxy`)."""
        self.calls += 1
        # the check's floating-point error handling (np.errstate) holds for the call, as
        # in-process: a sigmoid that overflows raises there as it does in the notebook
        message = {"op": "call", "target": target, "timeout": timeout,
                   "args": encode(list(args)), "kwargs": encode(dict(kwargs)),
                   "errstate": dict(np.geterr())}
        try:
            reply = self._request(message, timeout)
        except SessionDead as exc:
            raise RemoteError(f"the notebook could not be asked any more: {exc}") from None
        op = reply.get("op")
        if op == "result":
            try:
                value = decode(reply.get("value"))
                self._sync(args, kwargs, reply.get("sync"))
            except (ChannelError, RecursionError, ValueError, TypeError) as exc:
                raise RemoteError(f"your function returned something the grader cannot "
                                  f"read ({exc})") from None
            return value
        if op == "raised" and reply.get("not_implemented") is True:
            raise NotImplementedError()
        if op in ("raised", "missing"):
            raise RemoteError(str(reply.get("description", "it raised an exception"))[:400])
        if op == "timeout":
            raise RemoteError(f"your function did not return within {timeout:g} s")
        raise RemoteError(f"the grader could not call your function "
                          f"({str(reply.get('description', op))[:200]})")

    def _sync(self, args, kwargs, sync) -> None:
        """Copy back arrays changed in place and advance generators, as in-process calls would."""
        if not isinstance(sync, list):
            return
        for item in sync[:1000]:
            if not isinstance(item, dict) or not isinstance(item.get("path"), list):
                continue
            path = item["path"]
            if not path or path[0] not in (0, 1):
                continue
            node = (list(args), kwargs)[path[0]]
            try:
                for key in path[1:-1]:
                    node = node[key]
                original = node[path[-1]] if len(path) > 1 else None
            except (KeyError, IndexError, TypeError):
                continue
            new = decode(item.get("value"))
            if type(original) is np.random.Generator and type(new) is np.random.Generator:
                if type(original.bit_generator) is type(new.bit_generator):
                    original.bit_generator.state = new.bit_generator.state
            elif (type(original) is np.ndarray and type(new) is np.ndarray
                  and original.flags.writeable):
                if new.shape == original.shape:
                    np.copyto(original, new, casting="unsafe")
                else:  # a resize in place: the check sees "changed", which is the point
                    original[...] = np.nan if original.dtype.kind in "fc" else 0

    def proxy(self, target: str, timeout: float, budget: float) -> LearnerFunction:
        """A callable standing for the learner's ``target`` (what ``check_x(fn)`` receives).

        Each call may take ``timeout`` seconds, all calls together ``budget``.
        """
        return LearnerFunction(self, target, timeout, budget)


class LearnerFunction:
    """The learner's function, seen from the grader: calls go through the session."""

    def __init__(self, session: Session, target: str, timeout: float, budget: float):
        self._session, self._target, self._timeout = session, target, timeout
        self._budget = budget
        self._deadline = time.monotonic() + budget
        self.__name__ = target.rsplit(".", 1)[-1]

    def __call__(self, *args, **kwargs):
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise RemoteError(f"checking this exercise took longer than {self._budget:g} s "
                              "in total: your function is too slow")
        return self._session.call(self._target, args, kwargs, min(self._timeout, left))

    def __repr__(self) -> str:
        return f"<the notebook's {self._target}>"
