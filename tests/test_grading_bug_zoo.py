"""The bug zoo (exercises 04_bug_zoo): each specimen is caught, and its hints come in two tiers.

Each broken specimen (``buggy_*``) is handed out as it is, in a read-only cell; the learner
writes the fixed function in the answer cell below it. A copy of the specimen that still has
its bug fails the check: a first failed check says which arrays are wrong; from the second
failed try on, the check also names the bug. The sequence checker hands the specimen a
correct step backward, so the bugs can be fixed in any order.
"""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from test_grading_checks import REPO_ROOT, notebook_namespace, quiet

from lstm_teach.grading.sets import nb04_bug_zoo

# check name -> (specimen, phrases of the first tier, phrases that name the bug)
BUG_ZOO_FEEDBACK = {
    "bugzoo_output_tanh": ("buggy_step_backward_1",
                           ["wrong: dx, dh_prev, dc_prev, dW, dU, db", "numerical gradient"],
                           ["h = o * tanh(c)"]),
    "bugzoo_activated_derivative": ("buggy_step_backward_2",
                                    ["wrong: dx, dh_prev, dW, dU, db; right: dc_prev"],
                                    ["already activated", "y * (1 - y)"]),
    "bugzoo_time_carry": ("buggy_backward_3", ["not carried back across time"],
                          ["dc_next is dropped"]),
    "bugzoo_bias_slice": ("buggy_step_backward_4", ["db (the f block)"],
                          ["forget gate f", "dz[:, 0:H]"]),
    "bugzoo_reseed": ("buggy_init_lstm_params", ["identical"], ["default_rng(seed)"]),
}


@pytest.fixture(scope="module")
def bug_zoo():
    return notebook_namespace(REPO_ROOT / "exercises" / "04_bug_zoo.ipynb")


@pytest.fixture(autouse=True)
def fresh_tries():
    nb04_bug_zoo.reset_tries()
    yield
    nb04_bug_zoo.reset_tries()


@pytest.mark.parametrize("name", sorted(BUG_ZOO_FEEDBACK))
def test_each_bug_is_located_first_and_named_on_the_second_try(bug_zoo, name):
    fn_name, first_tier, named = BUG_ZOO_FEEDBACK[name]
    first = quiet(name, bug_zoo[fn_name])
    assert first.status == "failed"
    for phrase in first_tier:
        assert phrase in first.message, first.message
    assert "hint:" not in first.message and "run the check again" in first.message
    for phrase in named:
        assert phrase not in first.message, first.message
    second = quiet(name, bug_zoo[fn_name])
    assert second.status == "failed"
    for phrase in first_tier + named:
        assert phrase in second.message, second.message


def test_tries_are_counted_per_check(bug_zoo):
    quiet("bugzoo_output_tanh", bug_zoo["buggy_step_backward_1"])
    message = quiet("bugzoo_bias_slice", bug_zoo["buggy_step_backward_4"]).message
    assert "hint:" not in message, message


def test_a_demo_cells_guard_does_not_use_up_a_try(bug_zoo):
    """The zoo's demo cells run before each check, inside `with needs(...)`."""
    from lstm_teach.grading import needs

    with contextlib.redirect_stdout(io.StringIO()) as printed:
        with needs(bugzoo_output_tanh=bug_zoo["buggy_step_backward_1"]):
            raise AssertionError("the gradient check failed")
    assert "does not pass its check yet" in printed.getvalue()
    message = quiet("bugzoo_output_tanh", bug_zoo["buggy_step_backward_1"]).message
    assert "hint:" not in message, message


def test_a_fixed_specimen_passes_after_failures(bug_zoo):
    solutions = notebook_namespace(REPO_ROOT / "solutions" / "04_bug_zoo.ipynb")
    quiet("bugzoo_bias_slice", bug_zoo["buggy_step_backward_4"])
    result = quiet("bugzoo_bias_slice", solutions["lstm_step_backward_4"])
    assert result.passed and result.points == 1, result.message


def test_hints_do_not_fire_for_other_bugs(bug_zoo):
    for _ in range(2):
        message = quiet("bugzoo_bias_slice", bug_zoo["buggy_step_backward_1"]).message
    assert "h = o * tanh(c)" in message and "db[H:2H]" not in message


def test_sequence_checker_uses_a_correct_step_backward(bug_zoo):
    """With bug 1 still in place, fixing bug 3 alone passes the notebook's sequence checker."""
    solutions = notebook_namespace(REPO_ROOT / "solutions" / "04_bug_zoo.ipynb")
    assert not bug_zoo["gradcheck_step"](bug_zoo["buggy_step_backward_1"]).passed
    report = bug_zoo["gradcheck_sequence"](solutions["lstm_backward_3"])
    assert report.passed, report
    assert not bug_zoo["gradcheck_sequence"](bug_zoo["buggy_backward_3"]).passed
    rng = np.random.default_rng(0)
    cache = bug_zoo["lstm_step_forward_with_cache"](rng.normal(size=(2, 3)),
                                                    rng.normal(size=(2, 4)),
                                                    rng.normal(size=(2, 4)),
                                                    bug_zoo["lt"].init_lstm(3, 4, rng=rng))[2]
    dh, dc = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    ours = bug_zoo["correct_step_backward"](dh, dc, cache)
    fixed = solutions["lstm_step_backward_1"](dh, dc, cache)
    assert all(np.allclose(a, b) for a, b in zip(ours[:3], fixed[:3], strict=True))


ANSWERS = {"bugzoo_output_tanh": "lstm_step_backward_1",
           "bugzoo_activated_derivative": "lstm_step_backward_2",
           "bugzoo_time_carry": "lstm_backward_3", "bugzoo_bias_slice": "lstm_step_backward_4",
           "bugzoo_reseed": "init_lstm_params"}


def test_specimens_are_handed_out_broken_and_the_answers_start_as_stubs(bug_zoo):
    """The exercise has the specimens of the solution, still broken, and an empty answer each."""
    solutions = notebook_namespace(REPO_ROOT / "solutions" / "04_bug_zoo.ipynb")
    for name, answer in ANSWERS.items():
        specimen = BUG_ZOO_FEEDBACK[name][0]
        assert quiet(name, bug_zoo[specimen]).status == "failed", specimen
        assert quiet(name, solutions[specimen]).status == "failed", specimen
        assert quiet(name, bug_zoo[answer]).status == "not attempted", answer
        assert quiet(name, solutions[answer]).passed, answer
    nb = json.loads((REPO_ROOT / "exercises" / "04_bug_zoo.ipynb").read_text(encoding="utf-8"))
    stubbed = [c for c in nb["cells"] if "NotImplementedError" in "".join(c["source"])
               and c["cell_type"] == "code"]
    assert len(stubbed) == len(ANSWERS)
    assert all(c["metadata"]["nbgrader"]["solution"] for c in stubbed)
    specimens = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("locked")
                 and not c["metadata"]["nbgrader"].get("grade")]
    assert len(specimens) == len(ANSWERS)
    assert all(c["metadata"].get("editable") is False for c in specimens)


def _init_with(reseed_w: bool, reseed_u: bool):
    """An init whose W (and/or U) blocks are each drawn from a freshly seeded generator."""
    def init(D, H, seed=0):
        rng = np.random.default_rng(seed)
        blocks = {"W": [], "U": []}
        for _ in range(4):
            for name, reseed, shape in (("W", reseed_w, (D, H)), ("U", reseed_u, (H, H))):
                draw = np.random.default_rng(seed) if reseed else rng
                blocks[name].append(draw.normal(size=shape))
        b = np.zeros(4 * H)
        b[H:2 * H] = 1.0
        return {"W": np.concatenate(blocks["W"], axis=1),
                "U": np.concatenate(blocks["U"], axis=1), "b": b}
    return init


def test_reseed_names_the_identical_blocks_and_calls_only_real_twins_twins():
    both = quiet("bugzoo_reseed", _init_with(True, True)).message
    assert "W: i = f = g = o; U: i = f = g = o" in both
    assert "input and output gates, whose biases are both 0, are exact twins" in both
    nb04_bug_zoo.reset_tries()
    only_u = quiet("bugzoo_reseed", _init_with(False, True)).message
    assert "(U: i = f = g = o)" in only_u and "twins" not in only_u, only_u


def test_a_half_carried_cell_gradient_is_told_to_pass_the_returned_dc_on(bug_zoo):
    """A learner passes dc_next in, but throws away the dc_prev each call returns."""
    def half_carry(dhs, caches, step_backward):
        B, T, H = dhs.shape
        dxs, grads = [None] * T, None
        dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
        for t in reversed(range(T)):
            dxs[t], dh_next, _, step = step_backward(dhs[:, t] + dh_next, dc_next, caches[t])
            grads = step if grads is None else {k: grads[k] + step[k] for k in grads}
        return np.stack(dxs, axis=1), dh_next, dc_next, grads

    for _ in range(2):
        message = quiet("bugzoo_time_carry", half_carry).message
    assert "part of the gradient is not carried back across time" in message
    assert "the dc_prev that the backward call for step t returns" in message
    assert "passed as the dc of the call for step t - 1, and the last one returned as dc0" \
        in message


def test_activated_candidate_only_gets_the_tanh_hint():
    from lstm_teach.grading.lstm_diagnosis import _bug_hint

    assert _bug_hint("activated:g").endswith("g = tanh(z), whose derivative is 1 - g**2, not "
                                             "1 - tanh(g)**2")
    assert "sigmoid" not in _bug_hint("activated:g")
    assert "(and for g = tanh(z)" not in _bug_hint("activated:io")


def test_the_grader_names_the_bug_at_once_whatever_ran_before(bug_zoo):
    """Its report is final, and one grader process grades many submissions: no tiers there."""
    from lstm_teach.grading import checks

    exercise = checks.get_exercise("bugzoo_bias_slice")
    for _ in range(2):  # the first grading, and one after another submission's
        result = checks.evaluate(exercise, bug_zoo["buggy_step_backward_4"], probe_secret=7)
        assert "hint:" in result.message and "dz[:, 0:H]" in result.message, result.message
    first_try = quiet("bugzoo_bias_slice", bug_zoo["buggy_step_backward_4"]).message
    assert "hint:" not in first_try, "grading used up none of the learner's own tries"
