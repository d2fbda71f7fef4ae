"""The reproductions (lstm_teach.repro): every one runs in quick mode and is checked.

Each registered reproduction runs once per test session (quick setting, seed 0; the
results are cached in a module fixture) and its numbers are compared with what the
lessons claim. The registry, the result object, the CLI handlers and the small
training machinery are tested separately, on cheap inputs.
"""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import lstm_teach as lt  # noqa: E402
from lstm_teach import optim, repro  # noqa: E402
from lstm_teach.repro import ReproResult, _train  # noqa: E402
from lstm_teach.repro.vanishing import run_latch_units, train_latch_units  # noqa: E402

REQUIRED = {
    "latch-bengio1994",
    "clipping-pascanu2013",
    "adding-hochreiter1997",
    "adding-arjovsky2016",
    "forget-bias-jozefowicz2015",
    "gamma-equivalence",
    "gradient-norm-vs-lag",
    "trainability-vs-lag",
}
# A miniature that does not reproduce its paper is reported as such (see its notes);
# everything else must pass. New reproductions are expected to pass unless listed here.
EXPECTED_NOT_TO_PASS = {"forget-bias-jozefowicz2015", "timing-gers2002",
                        "evolino-sines-schmidhuber2007", "noaf-greff2017"}
QUICK_CPU_SECONDS = 15.0
# The faithful miniatures of issue 20 may use up to 60 s of CPU in the quick setting (and
# 5 minutes in the default one); they are marked slow.
QUICK_CPU_SECONDS_BY_NAME = {
    "forget-bias-jozefowicz2015": 60.0,
    "timing-gers2002": 60.0,
    "evolino-sines-schmidhuber2007": 60.0,
    "noaf-greff2017": 60.0,
}


# --------------------------------------------------------------------------------------
# every reproduction, quick mode
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_results():
    """name -> (ReproResult, CPU seconds), each reproduction run lazily, at most once."""
    cache = {}

    def get(name):
        if name not in cache:
            start = time.process_time()
            result = repro.run(name, seed=0, quick=True)
            cache[name] = (result, time.process_time() - start)
        return cache[name]

    return get


def test_the_registry_holds_every_reproduction_of_lessons_04_and_05():
    names = repro.names()
    assert REQUIRED <= set(names)
    assert names == sorted(names)
    for r in repro.reproductions():
        assert r.title and r.citation and callable(r.func)
        assert r.plot is not None, f"{r.name} has no figure"


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.slow) if n in QUICK_CPU_SECONDS_BY_NAME else n
    for n in repro.names()
])
def test_every_reproduction_runs_quickly_and_reports_fully(name, quick_results):
    result, cpu = quick_results(name)
    assert isinstance(result, ReproResult)
    assert result.name == name and result.quick is True and result.seed == 0
    assert result.title == repro.get(name).title and result.citation
    budget = QUICK_CPU_SECONDS_BY_NAME.get(name, QUICK_CPU_SECONDS)
    assert cpu < budget, f"{name} used {cpu:.1f} s of CPU in quick mode (budget {budget} s)"
    assert result.criterion and result.paper and result.measured and result.table
    assert all(len(row) == 3 for row in result.table)
    assert result.passed is (name not in EXPECTED_NOT_TO_PASS), result.notes
    if not result.passed:
        assert "NOT" in result.notes or "not" in result.notes  # a failure explains itself

    text = str(result)
    assert name in text and result.criterion in text
    assert ("NOT PASSED" in text) is (not result.passed)
    md = result._repr_markdown_()
    assert md.count("\n|") >= len(result.table) + 1
    round_trip = json.loads(result.to_json())
    assert round_trip["name"] == name and round_trip["passed"] == result.passed

    fig = repro.plot(result)
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel()
    plt.close(fig)


def test_latch_success_falls_with_length(quick_results):
    m = quick_results("latch-bengio1994")[0].measured
    p = dict(zip(m["T"], m["success_probability"], strict=True))
    assert m["T"] == [2, 5, 10, 20, 40]
    assert p[2] >= 0.5 and p[40] <= 0.05
    assert p[2] > p[10] > p[40]
    assert m["median_w"][0] > 1 > m["median_w"][-1]  # latched (w > 1) only for short T


def test_clipping_rescues_sgd(quick_results):
    m = quick_results("clipping-pascanu2013")[0].measured
    assert m["solved"]["clipped"] >= 4 and m["solved"]["unclipped"] <= 1
    assert min(m["accuracy"]["clipped"]) >= 0.99
    assert max(m["accuracy"]["unclipped"]) < 0.5  # near chance (0.25)
    assert max(m["max_grad_norm"]["unclipped"]) > 1.0  # the clip threshold was exceeded


def test_adding_problem_lstm_solves_rnn_stays_at_baseline(quick_results):
    m = quick_results("adding-arjovsky2016")[0].measured
    assert m["lstm_test_mse"] < 0.01
    assert m["rnn_test_mse"] > 0.8 * lt.tasks.ADDING_BASELINE_MSE


def test_adding_1997_quick_setting_says_it_is_shorter(quick_results):
    result = quick_results("adding-hochreiter1997")[0]
    assert result.measured["T"] == 30 and result.settings["config"] == "LSTM[NFG]"
    assert result.measured["test_fraction_within_0.04"] >= 0.99
    assert "T = 30" in result.criterion and "T = 100" in result.criterion
    assert "quick setting runs T = 30" in result.notes
    assert result.paper["training_sequences_until_stop"] == 74_000


@pytest.mark.slow
def test_forget_bias_under_sgd_reports_its_failure_honestly(quick_results):
    result = quick_results("forget-bias-jozefowicz2015")[0]
    m = result.measured
    assert result.settings["optimizer"].startswith("SGD(") and result.settings["T"] == 40
    # the mechanism is there at initialisation ...
    flow = m["initial_error_flow_at_lag_39"]
    assert flow["bias 1"] > 1e4 * flow["bias 0"]
    # ... but under SGD too both biases solve every seed, so the criterion is not met
    assert m["solved"] == {"bias 0": 3, "bias 1": 3}
    assert max(m["test_mse"]["bias 0"] + m["test_mse"]["bias 1"]) < 0.01
    assert not result.passed
    assert "does NOT reproduce" in result.notes and "Adam" in result.notes
    assert "bias 0 solves at most 1/3" in result.criterion  # the criterion was not loosened


@pytest.mark.slow
def test_timing_with_one_cell_reports_that_neither_arm_learned(quick_results):
    result = quick_results("timing-gers2002")[0]
    assert result.settings["cells"] == 1 and len(result.settings["seeds"]) == 3
    exact = result.measured["fraction_exact"]
    assert result.measured["seeds_solved"] == {"peepholes": 0, "no peepholes": 0}
    assert max(exact["peepholes"] + exact["no peepholes"]) < 0.5
    assert not result.passed and "does NOT reproduce" in result.notes
    assert result.criterion.startswith("every peephole seed solves the task")


@pytest.mark.slow
def test_evolino_free_run_criterion_is_checked_on_unseen_steps(quick_results):
    result = quick_results("evolino-sines-schmidhuber2007")[0]
    m = result.measured
    assert result.settings["fitness"] == "free_run" and result.settings["test_steps"] == 100
    assert len(m["free_run_mse"]) == 3
    assert m["successes"] == sum(v < 0.01 for v in m["free_run_mse"])
    assert result.passed is (m["successes"] >= 2)
    assert "at least 2 of 3 seeds" in result.criterion
    # evolution improved the free-run fitness of the best network on every seed ...
    assert all(best < first for first, best in m["fitness_generation_0_vs_best"])
    # ... but the free runs on unseen steps drift away: worse than predicting 0 (MSE ~0.25)
    assert m["successes"] == 0 and min(m["free_run_mse"]) > 0.2
    assert not result.passed and "does NOT reproduce" in result.notes


@pytest.mark.slow
def test_noaf_is_usually_better_here_and_fails_on_one_seed(quick_results):
    result = quick_results("noaf-greff2017")[0]
    m = result.measured
    loss = m["test_cross_entropy"]
    assert len(loss["vanilla"]) == len(loss["NOAF"]) == 5
    assert result.settings["test_stream_length"] == 1000
    assert m["seeds_where_noaf_is_worse"] == sum(
        n > v for n, v in zip(loss["NOAF"], loss["vanilla"], strict=True))
    assert m["seeds_where_noaf_is_worse"] < 4 and m["median_ratio"] < 1  # not consistently worse
    assert max(loss["NOAF"]) > 10 * max(loss["vanilla"])  # but one seed fails badly
    assert not result.passed and "does NOT reproduce" in result.notes
    assert "at least 4 of 5 seeds" in result.criterion


# Reproductions that pass in the quick setting but whose recorded default-setting run (seed
# 0) did not meet the criterion; their our_figure says "not reproduced".
DEFAULT_SETTING_NOT_REPRODUCED = {"temporal-order-hochreiter1997"}


def test_every_registered_reproduction_has_a_paper_figure_and_ours():
    for r in repro.reproductions():
        for field in ("paper_figure", "our_figure"):
            value = getattr(r, field)
            assert isinstance(value, str) and value.strip(), f"{r.name} has no {field}"
        # one line each in `repro list`: no line breaks, and not a copy of each other
        assert "\n" not in r.paper_figure and "\n" not in r.our_figure, r.name
        assert r.paper_figure != r.our_figure, r.name


def test_repro_list_shows_the_papers_figure_beside_ours(capsys):
    assert repro.cli_list(SimpleNamespace(json=None)) == 0
    printed = capsys.readouterr().out
    not_reproduced = EXPECTED_NOT_TO_PASS | DEFAULT_SETTING_NOT_REPRODUCED
    for r in repro.reproductions():
        assert f"paper: {r.paper_figure}" in printed and f"ours:  {r.our_figure}" in printed
        # the recorded figure says whether the default setting met the criterion
        assert ("not reproduced" in r.our_figure) is (r.name in not_reproduced), r.name


def test_gamma_equivalence_is_exact_to_rounding(quick_results):
    m = quick_results("gamma-equivalence")[0].measured
    assert max(m["max_abs_difference"].values()) < 1e-12


def test_gradient_norm_checks(quick_results):
    result = quick_results("gradient-norm-vs-lag")[0]
    assert all(result.measured["checks"].values()), result.measured["checks"]
    at = result.measured["norm_at_lag_50"]
    assert at["lstm 1997 cell (no forget gate)"] > 0.1 > 1e-3 > at["rnn rho=1.2"]
    assert at["lstm forget bias 0"] < at["lstm forget bias 1"] < at["lstm forget bias 3"]


def test_trainability_rnn_falls_lstm_stays(quick_results):
    m = quick_results("trainability-vs-lag")[0].measured
    assert m["T"] == [5, 10, 20, 40]
    assert min(m["lstm_success"]) >= 2 / 3
    assert m["rnn_success"][0] >= 2 / 3 and m["rnn_success"][-1] <= 1 / 3


def test_runs_are_deterministic_and_the_seed_matters():
    a = repro.run("latch-bengio1994", seed=3, quick=True)
    b = repro.run("latch-bengio1994", seed=3, quick=True)
    c = repro.run("latch-bengio1994", seed=4, quick=True)
    assert a.measured == b.measured
    assert a.measured != c.measured


# --------------------------------------------------------------------------------------
# registry and results
# --------------------------------------------------------------------------------------


@pytest.fixture
def temporary_reproduction():
    """Register a cheap fake reproduction for the test, and remove it afterwards."""
    added = []

    def add(name, passed):
        def fake(seed=0, quick=False, progress=False):
            return ReproResult(
                paper={"x": 1.0},
                measured={"x": np.float64(seed), "curve": np.arange(3), "bad": float("nan")},
                criterion="x equals the seed",
                passed=np.bool_(passed),
                table=[("x", "1", str(seed))],
                curves={"y": np.array([1.0, np.inf])},
            )

        def draw(result, ax):
            ax.plot(result.curves["y"])
            ax.set(title="fake", xlabel="step", ylabel="y")

        repro.register(name, title="A fake", citation="Nobody (2024).", plot=draw)(fake)
        added.append(name)
        return fake

    yield add
    for name in added:
        repro._REGISTRY.pop(name, None)


def test_register_fills_in_the_metadata_and_converts_to_json(temporary_reproduction):
    temporary_reproduction("fake-nobody2024", passed=True)
    result = repro.run("fake-nobody2024", seed=7, quick=False)
    assert (result.name, result.title, result.citation) == ("fake-nobody2024", "A fake",
                                                            "Nobody (2024).")
    assert result.seed == 7 and result.quick is False and result.runtime_s >= 0
    assert result.passed is True  # numpy bool normalised
    data = json.loads(result.to_json())
    assert data["measured"] == {"x": 7.0, "curve": [0, 1, 2], "bad": None}
    assert data["curves"]["y"] == [1.0, "inf"]


def test_register_rejects_bad_and_duplicate_names(temporary_reproduction):
    with pytest.raises(ValueError, match="lower-case with hyphens"):
        repro.register("Bad Name", title="t", citation="c")
    temporary_reproduction("fake-dup2024", passed=True)
    with pytest.raises(ValueError, match="already registered"):
        repro.register("fake-dup2024", title="t", citation="c")(lambda **kw: None)


def test_unknown_name_and_bad_seed_are_explained():
    with pytest.raises(ValueError, match=r"unknown reproduction 'nope'; known: .*latch-bengio1994"):
        repro.get("nope")
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        repro.run("gamma-equivalence", seed=-1)


def test_quick_defaults_to_the_environment(monkeypatch):
    monkeypatch.setenv("LSTM_TEACH_QUICK", "1")
    assert repro.run("gamma-equivalence").quick is True
    monkeypatch.setenv("LSTM_TEACH_QUICK", "0")
    assert repro.run("gamma-equivalence").quick is False


# --------------------------------------------------------------------------------------
# the command line handlers
# --------------------------------------------------------------------------------------


def test_cli_list_prints_every_name_and_writes_json(tmp_path, capsys):
    out = tmp_path / "list.json"
    assert repro.cli_list(SimpleNamespace(json=str(out))) == 0
    printed = capsys.readouterr().out
    for name in REQUIRED:
        assert name in printed
    listed = json.loads(out.read_text())
    assert {item["name"] for item in listed} == set(repro.names())
    assert all(item["citation"] for item in listed)
    assert all("paper_figure" in item and "our_figure" in item for item in listed)


def test_cli_run_writes_json_and_plot_and_exits_zero_when_passed(tmp_path, capsys):
    args = SimpleNamespace(name="gamma-equivalence", seed=0, quick=True,
                           json=str(tmp_path / "r.json"), plot=str(tmp_path / "r.png"))
    assert repro.cli_run(args) == 0
    printed = capsys.readouterr().out
    assert "gamma-equivalence" in printed and "PASSED" in printed and "criterion:" in printed
    assert json.loads((tmp_path / "r.json").read_text())["passed"] is True
    assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_run_exits_one_when_not_passed_and_two_for_unknown(temporary_reproduction, capsys):
    temporary_reproduction("fake-fails2024", passed=False)
    args = SimpleNamespace(name="fake-fails2024", seed=0, quick=True, json=None, plot=None)
    assert repro.cli_run(args) == 1
    assert "NOT PASSED" in capsys.readouterr().out
    args = SimpleNamespace(name="no-such-thing", seed=0, quick=True, json=None, plot=None)
    assert repro.cli_run(args) == 2
    assert "unknown reproduction 'no-such-thing'" in capsys.readouterr().err


def test_the_installed_cli_dispatches_to_the_handlers(capsys):
    from lstm_teach.cli import main

    assert main(["repro", "run", "gamma-equivalence", "--quick"]) == 0
    assert "max |LSTM c_t - gamma tap 1|" in capsys.readouterr().out


# --------------------------------------------------------------------------------------
# the training machinery
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["lstm", "rnn"])
def test_sequence_net_gradients_match_finite_differences(kind, rng):
    net = _train.SequenceNet(kind, 2, 3, 2, rng, output_bias=0.5)
    x = rng.standard_normal((4, 5, 2))
    y = rng.standard_normal((4, 2))

    def loss():
        return lt.losses.mse(net.forward(x)[0], y)[0]

    out, state = net.forward(x)
    _, dout = lt.losses.mse(out, y)
    grads = net.backward(dout, state)
    assert set(grads) == set(net.params)
    report = lt.check_gradients(loss, net.params, grads)
    assert report.passed, str(report)


def test_train_stops_when_solved_and_reports_divergence(rng):
    net = _train.SequenceNet("rnn", 1, 2, 1, rng)
    x, y = rng.standard_normal((8, 3, 1)), rng.standard_normal((8, 1))
    run = _train.train(net, lambda s: (x, y), "mse", optim.SGD(0.01), 50,
                       check=lambda step: step >= 20, check_every=10)
    assert run["steps"] == 20 and run["stopped_early"] and not run["diverged"]
    assert len(run["losses"]) == 20 and len(run["grad_norms"]) == 20

    run = _train.train(net, lambda s: (x, y), "mse", optim.SGD(1e300), 5)
    assert run["diverged"] and run["steps"] < 5 and not run["stopped_early"]
    assert all(np.isfinite(v).all() for v in net.params.values())  # the last finite ones


def test_single_blas_thread_restores_the_thread_count():
    controls = lt.kernels._runtime._openblas_controls()
    if controls is None:
        pytest.skip("numpy's OpenBLAS library was not found; the context manager is a no-op")
    get, _ = controls
    before = get()
    with lt.kernels.single_blas_thread():
        assert get() == 1
    assert get() == before


def test_latch_training_step_is_gradient_descent_on_the_mse(rng):
    K, N, T = 3, 6, 5
    noise = rng.normal(0, 0.4, size=(K, N, T - 1))
    label = np.tile(np.arange(N) % 2, (K, 1))
    v0 = rng.uniform(-0.5, 0.5, size=(K, 2))
    target = np.where(label == 1, 0.8, -0.8)

    def loss(w, v):
        return np.mean((run_latch_units(noise, label, w, v) - target) ** 2, axis=1)

    w1, v1 = train_latch_units(noise, label, 1.25, v0, lr=1.0, epochs=1)
    dw, dv = 1.25 - w1, v0 - v1  # one step with lr = 1 moves by minus the gradient
    h = 1e-6
    w0 = np.full(K, 1.25)
    numeric_dw = (loss(w0 + h, v0) - loss(w0 - h, v0)) / (2 * h)
    np.testing.assert_allclose(dw, numeric_dw, rtol=1e-6, atol=1e-10)
    for c in (0, 1):
        bump = np.zeros_like(v0)
        bump[:, c] = h
        numeric = (loss(w0, v0 + bump) - loss(w0, v0 - bump)) / (2 * h)
        np.testing.assert_allclose(dv[:, c], numeric, rtol=1e-6, atol=1e-10)
