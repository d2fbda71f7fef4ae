"""Checks for solutions/04_bug_zoo.ipynb: five broken LSTM backward passes (and one broken init).

Each check runs the full backward diagnosis; the hint that names the bug comes
from comparing the learner's gradients with references into which that very
bug was put on purpose (see :mod:`lstm_teach.grading.lstm_diagnosis`).

The hints come in tiers, because finding the bug is the exercise: a failed
check first says only *which* arrays (and gate blocks) are wrong; from the
second failed try of the same check on, it also names the bug.
"""

from __future__ import annotations

import functools
from collections import Counter

import numpy as np

from ..checks import PROBING, probe_rng, register, secret_in_use
from ..feedback import Incorrect, call_learner, compare
from ..lstm_diagnosis import (
    GATES,
    diagnose_sequence_backward,
    diagnose_step_backward,
    sequence_fixture,
    step_fixture,
)

EXERCISE_SET = "04_bug_zoo"

#: Failed tries per check in this process (a kernel: one learner's session).
_FAILED_TRIES: Counter = Counter()
HINT_PREFIX = "hint:"
NEXT_TIME = ("fix what these point at and run the check again; if it still fails, the check "
             "will name the bug")


def reset_tries() -> None:
    """Forget the failed tries (the next failure of every check gives the first tier again)."""
    _FAILED_TRIES.clear()


def tiered(name: str):
    """Decorator: hold back the ``hint:`` lines of a failing check until its second failure."""

    def decorate(check):
        @functools.wraps(check)
        def run(fn, **kwargs):
            try:
                return check(fn, **kwargs)
            except Incorrect as exc:
                if PROBING.get() or secret_in_use():
                    # a demo cell's guard asking, not the learner trying; or the grader,
                    # whose report is the final word and must not depend on other runs
                    raise
                _FAILED_TRIES[name] += 1
                hints = [line for line in exc.lines if line.startswith(HINT_PREFIX)]
                if _FAILED_TRIES[name] >= 2 or not hints:
                    raise
                kept = [line for line in exc.lines if not line.startswith(HINT_PREFIX)]
                raise Incorrect(*kept, NEXT_TIME) from None

        return run

    return decorate


@register("bugzoo_output_tanh", EXERCISE_SET, points=1, title="Bug 1: the output squashing")
@tiered("bugzoo_output_tanh")
def check_output_tanh(fn):
    return diagnose_step_backward(fn, step_fixture(11))


@register("bugzoo_activated_derivative", EXERCISE_SET, points=1,
          title="Bug 2: the gate derivatives")
@tiered("bugzoo_activated_derivative")
def check_activated_derivative(fn):
    return diagnose_step_backward(fn, step_fixture(12))


@register("bugzoo_time_carry", EXERCISE_SET, points=1, title="Bug 3: backpropagation through time")
@tiered("bugzoo_time_carry")
def check_time_carry(fn):
    return diagnose_sequence_backward(fn, sequence_fixture(13))


@register("bugzoo_bias_slice", EXERCISE_SET, points=1, title="Bug 4: the bias gradient")
@tiered("bugzoo_bias_slice")
def check_bias_slice(fn):
    return diagnose_step_backward(fn, step_fixture(14))


@register("bugzoo_reseed", EXERCISE_SET, points=1, title="Bug 5: the initialisation")
@tiered("bugzoo_reseed")
def check_reseed(fn):
    """``fn(D, H, seed) -> params``: distinct gate blocks, reproducible, seed-dependent.

    First D = 3, H = 4 with the seeds 0 and 1, then random sizes and seeds.
    """
    rng = probe_rng(15)
    drawn = (*(int(n) for n in rng.integers(2, 7, size=2)),
             *(int(s) for s in rng.choice(2**31, size=2, replace=False)))
    for D, H, seed, other_seed in ((3, 4, 0, 1), drawn):
        _check_reseed(fn, D, H, seed, other_seed)
    return ["every gate starts from its own random weights, reproducibly"]


def _check_reseed(fn, D: int, H: int, seed: int, other_seed: int) -> None:
    first = call_learner(fn, D, H, seed, what="init_lstm_params")
    if not isinstance(first, dict) or any(k not in first for k in ("W", "U", "b")):
        raise Incorrect("init_lstm_params should return a dict with keys 'W', 'U' and 'b'")
    for key, shape in (("W", (D, 4 * H)), ("U", (H, 4 * H)), ("b", (4 * H,))):
        problem = compare(f"params[{key!r}]", first[key], np.zeros(shape), check_dtype=False,
                          atol=np.inf)
        if problem:
            raise Incorrect(problem)
    twins, io_twins = [], []
    for key in ("W", "U"):
        blocks = {k: np.asarray(first[key], float)[:, j * H:(j + 1) * H]
                  for j, k in enumerate(GATES)}
        groups: dict[str, list[str]] = {}
        for gate in GATES:
            same = next((g for g in groups if np.allclose(blocks[g], blocks[gate])), gate)
            groups.setdefault(same, []).append(gate)
        twins += [key + ": " + " = ".join(g) for g in groups.values() if len(g) > 1]
        io_twins.append(np.allclose(blocks["i"], blocks["o"]))
    if twins:
        why = "every gate should start from its own random weights"
        if all(io_twins):  # and both biases are 0: nothing tells the two gates apart
            why += (", and here the input and output gates, whose biases are both 0, are "
                    "exact twins: they compute the same thing and get the same updates for ever")
        raise Incorrect(
            f"identical gate blocks ({'; '.join(twins)}): {why}",
            "hint: a generator re-created with the same seed restarts the same random "
            "stream; make one np.random.default_rng(seed) and draw every block from it")
    again = call_learner(fn, D, H, seed, what="init_lstm_params")
    if not all(np.array_equal(first[k], again[k]) for k in ("W", "U", "b")):
        raise Incorrect("two calls with the same seed give different parameters: the "
                        "initialisation must be reproducible (no global or unseeded generator)")
    other = call_learner(fn, D, H, other_seed, what="init_lstm_params")
    if np.array_equal(first["W"], other["W"]):
        raise Incorrect(f"seed {seed} and seed {other_seed} give the same W: use the seed "
                        "argument")
