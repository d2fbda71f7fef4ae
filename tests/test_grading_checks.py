"""The exercise checks, run directly in Python (no kernel): verdicts and diagnoses.

Hand-made wrong implementations must get the right diagnosis (which gate, which
gradient, which hint); the functions defined in solutions/ must pass every check; the
stubs and the bug-zoo specimens in exercises/ must fail them.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

import numpy as np
import pytest

from lstm_teach.grading import check, checks, exercise_sets, exercises_for
from lstm_teach.grading.feedback import describe_exception

REPO_ROOT = Path(__file__).resolve().parent.parent
GATE_ORDER = "ifgo"


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def quiet(name, fn, **kwargs):
    return check(name, fn, verbose=False, **kwargs)


# --------------------------------------------------------------------------- notebook code


def notebook_namespace(path: Path) -> dict:
    """Execute the import cell and every cell that only defines functions; return the names."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    namespace: dict = {}
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code":
            continue
        if source.startswith("import numpy") or source.lstrip().startswith("def "):
            exec(compile(source, f"{path.name}:cell", "exec"), namespace)
    return namespace


def graded_calls(path: Path) -> list[tuple[str, str]]:
    """(check name, function name) for each graded cell of a notebook."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    calls = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and cell["metadata"].get("nbgrader", {}).get("grade"):
            match = re.search(r'check\("([\w]+)",\s*(\w+)\)', "".join(cell["source"]))
            calls.append((match.group(1), match.group(2)))
    return calls


def test_every_solution_has_registered_checks_and_2_to_5_exercises():
    stems = sorted(p.stem for p in (REPO_ROOT / "solutions").glob("*.ipynb"))
    assert stems == exercise_sets()
    for stem in stems:
        assert 2 <= len(exercises_for(stem)) <= 5, stem


@pytest.mark.parametrize("stem", exercise_sets())
def test_solution_functions_pass_their_checks(stem):
    path = REPO_ROOT / "solutions" / f"{stem}.ipynb"
    namespace = notebook_namespace(path)
    calls = graded_calls(path)
    assert sorted(name for name, _ in calls) == sorted(ex.name for ex in exercises_for(stem))
    for name, fn_name in calls:
        result = quiet(name, namespace[fn_name])
        assert result.passed, result.message
        assert result.points == checks.get_exercise(name).points


@pytest.mark.parametrize("stem", exercise_sets())
def test_exercise_stubs_fail_their_checks(stem):
    path = REPO_ROOT / "exercises" / f"{stem}.ipynb"
    namespace = notebook_namespace(path)
    for name, fn_name in graded_calls(path):
        result = quiet(name, namespace[fn_name])
        assert not result.passed and result.points == 0
        assert result.status == "not attempted", result.message


# --------------------------------------------------------------------------- secret inputs

#: New every run, like the grader's: a check that some secret breaks fails here sooner or later.
SECRETS = [secrets.randbits(64) for _ in range(3)]


@pytest.mark.parametrize("stem", exercise_sets())
def test_solutions_pass_and_stubs_fail_on_the_graders_secret_inputs(stem):
    """What the grader does with each submission, in-process: the checks with a secret."""
    solved = notebook_namespace(REPO_ROOT / "solutions" / f"{stem}.ipynb")
    stubs = notebook_namespace(REPO_ROOT / "exercises" / f"{stem}.ipynb")
    for name, fn_name in graded_calls(REPO_ROOT / "solutions" / f"{stem}.ipynb"):
        exercise = checks.get_exercise(name)
        for secret in SECRETS:
            result = checks.evaluate(exercise, solved[fn_name], probe_secret=secret)
            assert result.passed, f"secret {secret}: {result.message}"
            result = checks.evaluate(exercise, stubs[fn_name], probe_secret=secret)
            assert not result.passed and result.points == 0, f"secret {secret}"


def _fingerprint(value) -> str:
    """A stable text for an argument a check passes (arrays by their bytes)."""
    if isinstance(value, np.ndarray):
        return f"array{value.shape}{value.dtype}:{value.tobytes().hex()}"
    if isinstance(value, np.random.Generator):
        return f"rng:{value.bit_generator.state}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_fingerprint(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_fingerprint(v) for v in value) + "]"
    if callable(value):
        return f"fn:{getattr(value, '__name__', '?')}"
    return repr(value)


def _inputs_seen(name: str, fn, secret) -> list[str]:
    seen = []

    def recording(*args, **kwargs):
        seen.append(_fingerprint([args, kwargs]))
        return fn(*args, **kwargs)

    result = checks.evaluate(checks.get_exercise(name), recording, probe_secret=secret)
    assert result.passed, result.message
    return seen


#: A check with no input at all: its answer is a constant, so no input can be drawn.
NO_INPUT = {"greff_variants"}


@pytest.mark.parametrize("stem", exercise_sets())
def test_every_check_but_a_constant_draws_new_inputs_under_a_secret(stem):
    """A table keyed by the fixed inputs misses at least one call of every check."""
    solved = notebook_namespace(REPO_ROOT / "solutions" / f"{stem}.ipynb")
    for name, fn_name in graded_calls(REPO_ROOT / "solutions" / f"{stem}.ipynb"):
        fixed = _inputs_seen(name, solved[fn_name], None)
        assert fixed == _inputs_seen(name, solved[fn_name], None), "fixed inputs must repeat"
        first, second = (_inputs_seen(name, solved[fn_name], s) for s in SECRETS[:2])
        if name in NO_INPUT:
            assert set(first) == set(fixed) == {_fingerprint([(), {}])}
            continue
        assert set(first) - set(fixed), f"{name}: every input is one of the fixed ones"
        assert set(second) - set(first), f"{name}: two secrets gave the same inputs"
        assert first == _inputs_seen(name, solved[fn_name], SECRETS[0])  # one secret, one set


def test_probe_rng_is_the_fixed_seed_without_a_secret_and_secret_within():
    base = np.random.default_rng(11).normal(size=4)
    assert np.array_equal(checks.probe_rng(11).normal(size=4), base)
    assert np.array_equal(checks.probe_rng(11, 2).normal(size=4),
                          np.random.default_rng([11, 2]).normal(size=4))
    with checks.secret_inputs(SECRETS[0]):
        inside = checks.probe_rng(11).normal(size=4)
        assert np.array_equal(checks.probe_rng(11).normal(size=4), inside)
        assert not np.allclose(checks.probe_rng(12).normal(size=4), inside)
    assert not np.allclose(inside, base)
    with checks.secret_inputs(SECRETS[1]):
        assert not np.allclose(checks.probe_rng(11).normal(size=4), inside)
    assert np.array_equal(checks.probe_rng(11).normal(size=4), base)  # reset after the block
    for bad in (-1, 1.5, "7", True):
        with pytest.raises(ValueError, match="secret"):
            checks.evaluate(checks.get_exercise("iir_filter"), None, probe_secret=bad)
    with pytest.raises(ValueError, match="probe_rng"):
        checks.probe_rng(-3)


# --------------------------------------------------------------------------- LSTM forward


def make_forward(b_slice=None, w_slice=None, act_g=np.tanh, out_tanh=True, order="ifgo"):
    """An LSTM step with configurable mistakes; slices are gate letters for f's b and W."""

    def forward(x, h_prev, c_prev, p):
        H = h_prev.shape[1]

        def cols(k):
            j = GATE_ORDER.index(k)
            return slice(j * H, (j + 1) * H)

        z = x @ p["W"] + h_prev @ p["U"] + p["b"]
        i = sig(z[:, cols(order[0])])
        f = sig(x @ p["W"][:, cols(w_slice or "f")] + h_prev @ p["U"][:, cols("f")]
                + p["b"][cols(b_slice or "f")])
        g = act_g(z[:, cols(order[2])])
        o = sig(z[:, cols(order[3])])
        c = f * c_prev + i * g
        return o * (np.tanh(c) if out_tanh else c), c, None

    return forward


def test_correct_forward_passes():
    result = quiet("lstm_step_forward", make_forward())
    assert result.passed and result.points == 3 and result.status == "passed"


def test_wrong_forget_bias_slice_names_the_forget_gate_and_b():
    message = quiet("lstm_step_forward", make_forward(b_slice="i")).message
    assert "the forget gate f is wrong" in message
    assert "the input gate i, cell candidate g and output gate o are right" in message
    assert "f uses the slice of b that belongs to i, b[0:H]; the slice for f is b[H:2H]" in message


def test_wrong_forget_weight_slice_names_W():
    message = quiet("lstm_step_forward", make_forward(w_slice="g")).message
    assert "forget gate f is wrong" in message and "slice of W that belongs to g" in message


def test_swapped_candidate_and_output_blocks_are_both_named():
    message = quiet("lstm_step_forward", make_forward(order="ifog")).message
    assert "the cell candidate g and output gate o are wrong" in message
    assert "gate order is [i, f, g, o]" in message


def test_candidate_with_sigmoid_is_diagnosed():
    message = quiet("lstm_step_forward", make_forward(act_g=sig)).message
    assert "cell candidate g is wrong" in message and "g goes through sigmoid" in message


def test_missing_tanh_on_the_cell_state_in_h():
    message = quiet("lstm_step_forward", make_forward(out_tanh=False)).message
    assert "c is right, but h is not" in message and "tanh on the cell state is missing" in message


def test_swapped_outputs_shape_and_nan_are_reported():
    good = make_forward()
    swapped = quiet("lstm_step_forward", lambda *a: good(*a)[1::-1])
    assert "h and c are swapped" in swapped.message
    transposed = quiet("lstm_step_forward", lambda *a: (good(*a)[0].T, good(*a)[1]))
    assert "h has shape (4, 3); expected (3, 4) (transposed?)" in transposed.message
    nan = quiet("lstm_step_forward", lambda *a: (good(*a)[0] * np.nan, good(*a)[1]))
    assert "h contains NaN (12 entries, the first at (0, 0))" in nan.message
    none = quiet("lstm_step_forward", lambda *a: None)
    assert "should return a tuple (h, c, cache); got NoneType" in none.message


def test_an_exception_is_reported_with_the_line_of_learner_code():
    def broken(x, h_prev, c_prev, params):
        z = x @ params["U"]  # wrong matrix: a shape error
        return z, z

    result = quiet("lstm_step_forward", broken)
    assert result.status == "failed"
    line = broken.__code__.co_firstlineno + 1
    assert "ValueError" in result.message and f"at line {line} (in broken)" in result.message
    assert '`z = x @ params["U"]  # wrong matrix: a shape error`' in result.message


def test_not_implemented_is_gently_not_attempted():
    def stub(*args):
        raise NotImplementedError()

    result = quiet("lstm_step_forward", stub)
    assert result.status == "not attempted" and not result.passed
    assert result.message.startswith("✏️") and "not attempted yet" in result.message


def test_the_package_function_itself_is_not_accepted():
    import lstm_teach as lt

    assert not quiet("lstm_step_forward", lt.lstm_step_forward).passed


# --------------------------------------------------------------------------- LSTM backward


def make_backward(bug=None):
    def backward(dh, dc, cache):
        x, h_prev, c_prev, c = cache["x"], cache["h_prev"], cache["c_prev"], cache["c"]
        i, f, g, o = (cache[k] for k in GATE_ORDER)
        W, U = cache["params"]["W"], cache["params"]["U"]
        tanh_c = np.tanh(c)
        do = dh * tanh_c
        dct = dc + dh * o * (1 - tanh_c**2)
        if bug == "ignore_dc":
            dct = dh * o * (1 - tanh_c**2)
        di, df, dg = dct * g, dct * c_prev, dct * i
        dz = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2),
                             do * o * (1 - o)], axis=1)
        if bug == "forget_block":
            dz[:, 4:8] *= 2.0  # H = 4 in the fixture: the f block
        dx = dz @ W.T * (1.5 if bug == "dx" else 1.0)
        return dx, dz @ U.T, dct * f, {"W": x.T @ dz, "U": h_prev.T @ dz, "b": dz.sum(axis=0)}

    return backward


def test_correct_backward_passes_with_a_numerical_gradient_check():
    result = quiet("lstm_step_backward", make_backward())
    assert result.passed, result.message
    assert "numerical gradient check: worst relative error" in result.message


def test_backward_points_at_the_wrong_gate_block():
    message = quiet("lstm_step_backward", make_backward("forget_block")).message
    assert "dW (the f block), dU (the f block), db (the f block)" in message
    assert "wrong in the block of the forget gate f only" in message
    assert "right: dx" not in message  # dx depends on every block, so it is wrong too
    assert re.search(r"numerical gradient check: relative error dx \d\.\de-\d\d", message)


def test_backward_distinguishes_dx_from_dz():
    message = quiet("lstm_step_backward", make_backward("dx")).message
    assert "wrong: dx; right: dh_prev, dc_prev, dW, dU, db" in message
    assert "so dz is right" in message


def test_backward_detects_a_lost_incoming_dc():
    message = quiet("lstm_step_backward", make_backward("ignore_dc")).message
    assert "the incoming dc is lost" in message


# --------------------------------------------------------------------------- other lessons


def test_rnn_backward_without_carry_is_diagnosed():
    def bptt_no_carry(dhs, cache):
        x, h0, hs, p = cache["x"], cache["h0"], cache["hs"], cache["params"]
        dx, grads = np.zeros_like(x), {k: np.zeros_like(v) for k, v in p.items()}
        for t in reversed(range(hs.shape[1])):
            prev = h0 if t == 0 else hs[:, t - 1]
            dz = dhs[:, t] * (1 - hs[:, t] ** 2)
            dx[:, t] = dz @ p["W"].T
            grads["W"] += x[:, t].T @ dz
            grads["U"] += prev.T @ dz
            grads["b"] += dz.sum(0)
        return dx, dz @ p["U"].T, grads

    message = quiet("rnn_backward", bptt_no_carry).message
    assert "dh_next is dropped" in message and "numerical gradient check" in message


def test_rnn_step_without_bias_is_diagnosed():
    message = quiet("rnn_step_forward", lambda x, h, p: np.tanh(x @ p["W"] + h @ p["U"])).message
    assert "the bias b is missing" in message


def test_iir_filter_lagging_one_step_is_diagnosed():
    def lagging(x, w, b):
        y, state = np.zeros(len(x)), 0.0
        for t in range(len(x)):
            y[t] = state
            state = w * state + b * x[t]
        return y

    assert "your output lags one step behind" in quiet("iir_filter", lagging).message


def test_classify_stability_names_the_misclassified_pole():
    message = quiet("classify_stability", lambda w: "stable" if abs(w) <= 1 else "unstable").message
    assert "w = 1.0: you said 'stable', but it is 'integrator'" in message


def test_param_count_without_the_four_blocks():
    message = quiet("lstm_param_count", lambda D, H: D * H + H * H + H).message
    assert "for D = 3, H = 5 you get 45" in message and "four blocks" in message


def test_unstable_sigmoid_is_told_how_to_avoid_overflow():
    message = quiet("stable_sigmoid", lambda z: 1 / (1 + np.exp(-z))).message
    assert "FloatingPointError" in message and "exp(z) / (1 + exp(z))" in message


def test_clipping_each_array_separately_is_diagnosed():
    def per_array(grads, max_norm):
        norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
        return {k: g * min(1.0, max_norm / np.linalg.norm(g)) for k, g in grads.items()}, norm

    assert "you clipped each array by its own norm" in quiet("clip_by_global_norm",
                                                             per_array).message


def test_adam_without_bias_correction_is_diagnosed():
    def adam(p, g, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        return p - lr * m / (np.sqrt(v) + eps), m, v

    message = quiet("adam_step", adam).message
    assert "p_new (step t = 1)" in message and "bias corrections are missing" in message


def test_sampling_that_multiplies_by_the_temperature_is_diagnosed():
    def sample(logits, temperature, rng):
        p = np.exp(logits * temperature - np.max(logits * temperature))
        return int(rng.choice(len(p), p=p / p.sum()))

    message = quiet("sample_with_temperature", sample, n_samples=2000).message
    assert "at temperature 0.5" in message and "you multiplied" in message


def test_carousel_off_by_one_is_diagnosed():
    message = quiet("carousel_gradient", lambda fs, t: np.prod(fs[:, t + 1:], axis=1)).message
    assert "off by one" in message


def test_gradient_norm_without_the_tanh_derivative():
    def norms(x, params):
        import lstm_teach as lt

        hs, _ = lt.rnn_forward(x, params)
        dh, out = np.ones_like(hs[:, -1]), []
        for _ in range(hs.shape[1]):
            out.append(np.linalg.norm(dh))
            dh = dh @ params["U"].T
        return np.array(out)

    assert "the tanh derivative (1 - h_t**2) is missing" in quiet("grad_norm_vs_lag",
                                                                  norms).message


# --------------------------------------------------------------------------- the check() contract


@pytest.mark.parametrize("answer", [None, 42, "lstm", lambda *a: "text", lambda *a: (1, 2)])
def test_check_never_raises_on_junk(answer):
    result = quiet("lstm_step_backward", answer)
    assert result.status == "failed" and result.points == 0 and result.message.startswith("❌")


def test_unknown_check_name_is_reported_not_raised():
    result = quiet("no_such_exercise", print)
    assert not result.passed and "no exercise check named 'no_such_exercise'" in result.message


def test_check_prints_its_feedback(capsys):
    result = check("lstm_param_count", lambda D, H: 4 * (D * H + H * H + H))
    printed = capsys.readouterr().out
    assert printed.strip() == result.message
    assert printed.startswith("✅ Counting the parameters of an LSTM: correct! (1/1 point)")
    assert repr(result) == "CheckResult(name='lstm_param_count', passed=True, points=1/1)"


def test_strict_mode_raises_after_printing_for_nbgrader(monkeypatch, capsys):
    monkeypatch.setenv(checks.STRICT_ENV, "1")
    with pytest.raises(AssertionError, match="lstm_param_count"):
        check("lstm_param_count", lambda D, H: 0)
    assert "❌" in capsys.readouterr().out
    assert check("lstm_param_count", lambda D, H: 4 * (D * H + H * H + H)).passed


def test_describe_exception_without_a_traceback_has_no_line():
    assert describe_exception(ValueError("bad shape")) == "your code raised ValueError: bad shape"
