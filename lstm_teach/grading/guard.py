"""``needs``: let a demo cell that uses the learner's functions wait for them politely.

An exercise notebook shows each function at work in a demo cell after its check. While
the function is still the stub (or still wrong), that cell would stop "Run All" with a
traceback, and the checks further down would never run. Wrapping the demo in
:class:`needs` turns that into one short line::

    with needs(lstm_step_forward):
        h, c, _ = lstm_step_forward(x, h0, c0, params)
        assert np.allclose(h, reference)

* No exception: nothing happens (the demo ran).
* An exception while one of the named functions does not pass its check: the cell
  prints "finish `lstm_step_forward` first" (or "fix ... first") and ends quietly, so
  Run All goes on to the next check.
* An exception while every named function passes its check: the problem is not the
  learner's, so it is raised as usual. A solution notebook therefore still fails loudly
  when a demo's claim stops being true.

Functions are named positionally when their check has the function's name, and as
``check_name=function`` otherwise (``needs(greff_variants=greff_configs)``).
"""

from __future__ import annotations

from .checks import check_status, get_exercise
from .feedback import FAIL_MARK, TODO_MARK, describe_exception


class needs:  # noqa: N801  (used like a function: `with needs(f):`)
    """Context manager: skip a demo cell, with one line of advice, while a function is unfinished.

    Parameters
    ----------
    *functions : callable
        The learner's functions the cell uses; each is checked by the exercise of the same
        name (``function.__name__``).
    **named : callable
        ``check_name=function`` for a function whose check has another name.

    Raises
    ------
    TypeError
        If an argument is not callable.
    KeyError
        If no exercise check has the given name (a mistake in the notebook).
    """

    def __init__(self, *functions, **named):
        self.items: list[tuple[str, object]] = []
        for fn in functions:
            if not callable(fn):
                raise TypeError(f"needs() takes the learner's functions; got "
                                f"{type(fn).__name__} {fn!r:.60}")
            self.items.append((fn.__name__, fn))
        for name, fn in named.items():
            if not callable(fn):
                raise TypeError(f"needs({name}=...) takes a function; got {type(fn).__name__}")
            self.items.append((name, fn))
        for name, _ in self.items:
            get_exercise(name)  # a typo in the notebook fails here, loudly

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None or not issubclass(exc_type, Exception):
            return False  # success, or KeyboardInterrupt / SystemExit: not ours to catch
        statuses = [(name, fn, check_status(name, fn)) for name, fn in self.items]
        todo = [fn.__name__ for _, fn, status in statuses if status == "not attempted"]
        wrong = [fn.__name__ for _, fn, status in statuses if status == "failed"]
        if not todo and not wrong:
            return False  # every function passes: the error is real, let it show
        if todo:
            names = " and ".join(f"`{n}`" for n in todo)
            print(f"{TODO_MARK} This cell uses {names}: finish {'it' if len(todo) == 1 else 'them'}"
                  " first (replace `raise NotImplementedError()` above), then run this cell "
                  "again.", flush=True)
        if wrong:
            names = " and ".join(f"`{n}`" for n in wrong)
            print(f"{FAIL_MARK} This cell stopped ({describe_exception(exc)}) "
                  f"because {names} {'does' if len(wrong) == 1 else 'do'} not pass "
                  f"{'its check' if len(wrong) == 1 else 'their checks'} yet: fix "
                  f"{'it' if len(wrong) == 1 else 'them'} (the check cell says how), then run "
                  "this cell again.", flush=True)
        return True
