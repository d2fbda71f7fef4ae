"""The forget-gate bias: does starting it at 1 instead of 0 decide what plain SGD learns?

``forget-bias-jozefowicz2015``

The paper
---------
Jozefowicz, Zaremba & Sutskever (2015), *An empirical exploration of recurrent
network architectures*, ICML 2015. What we verified in the text available to
us (the abstract, the list of tasks):

* they evaluated over ten thousand recurrent architectures found by an
  evolutionary architecture search, each with its own random hyperparameter
  search, on arithmetic (sum or difference of two numbers read as characters),
  XML modelling and Penn Treebank word-level language modelling, and then on
  polyphonic music;
* the headline finding on the LSTM: "adding a bias of 1 to the LSTM's forget
  gate closes the gap between the LSTM and the GRU".

What we could NOT verify in the primary text with our tools, and therefore do
not quote: the optimizer's exact form and learning rates, the sequence lengths,
the number of training sequences, the stopping rule and the success measure of
each task. The networks were trained by stochastic gradient descent, not by
Adam (the optimizer that the earlier version of this miniature used). The
paper's results are per-task scores (accuracy, negative log-likelihood), not a
count of solved seeds: the count below is our own, miniature criterion.

Why the optimizer matters
-------------------------
With forget bias 0 a cell starts with f = sigmoid(0) = 0.5, so the error that
reaches an input k steps back shrinks like 0.5^k; with bias 1 (f = 0.73) it
shrinks like 0.73^k. Plain SGD moves each weight in proportion to its gradient,
so a tiny gradient means a tiny step. Adam divides each step by the recent size
of that parameter's own gradient, which largely undoes the difference: the
earlier version of this miniature used Adam and both biases solved every seed.

Our miniature (fixed before running)
------------------------------------
* task: the [0, 1] adding problem (:func:`lstm_teach.tasks.adding_problem`) at
  T = 40 (the first marker lies 20 to 39 steps before the end);
* network: 8 LSTM units, linear readout of the last hidden state, output bias
  starting at 1.0 (the mean target);
* optimizer: SGD with momentum 0.9, global gradient-norm clipping at 1, fixed
  learning rate :data:`LEARNING_RATE`, batches of 32 fresh sequences;
* the two arms share every seed (initial weights and data); only the initial
  forget-gate bias differs (0 or 1);
* 2,000 updates (64,000 training sequences) per run; every 50 updates the MSE
  on 500 validation sequences is checked; a run is *solved* when it falls
  below 0.01 (the constant-guess baseline is 1/6 = 0.167);
* seeds: 3 in the quick setting, 6 in the default setting.

Pass criterion (fixed before running; never loosened): forget bias 0 solves at
most 1/3 of the seeds and forget bias 1 at least 2/3 of them, within the budget.
"""

from __future__ import annotations

import numpy as np

from ..concise import optim
from ..course import analysis, tasks
from . import ReproResult, register
from ._train import SequenceNet
from .adding import train_adding

JOZEFOWICZ_2015 = (
    "Jozefowicz, R., Zaremba, W. & Sutskever, I. (2015). An empirical exploration of recurrent "
    "network architectures. ICML 2015, PMLR 37, 2342-2350."
)
T_LAG, UNITS, BATCH, UPDATES, THRESHOLD = 40, 8, 32, 2000, 0.01
MOMENTUM, CLIPNORM = 0.9, 1.0
# Chosen once, before the comparison, on the standard configuration only: the fastest of
# 0.03, 0.1, 0.3 and 1.0 for forget bias 1 on a probe seed outside the compared seeds
# (updates to solve: none within 2,000, 1,400, 900 and 750).
LEARNING_RATE = 1.0
NOTES_LR = ("learning rate 1.0 was chosen before the comparison, as the fastest of 0.03, 0.1, "
            "0.3 and 1.0 for forget bias 1 on a probe seed outside the compared ones (0.03 did "
            "not solve it within 2,000 updates)")


def _initial_flow(bias: float, T: int, seed: int) -> float:
    """||dL/dc|| reaching lag T-1 at initialisation, for 8 units and forget bias ``bias``."""
    rng = np.random.default_rng([seed, 99])
    net = SequenceNet("lstm", 2, UNITS, 1, rng, forget_bias=bias)
    x, _ = tasks.adding_problem(8, T, rng=rng)
    core = {k: net.params[k] for k in ("W", "U", "b")}
    return float(analysis.flow_norms(analysis.lstm_error_flow(core, x))[T - 1])


def _optimizer():
    return optim.SGD(learning_rate=LEARNING_RATE, momentum=MOMENTUM, clipnorm=CLIPNORM)


def _plot_forget_bias(result: ReproResult, ax) -> None:
    c = result.curves
    budget = c["budget"]
    for k, (bias, color) in enumerate(((0.0, "tab:red"), (1.0, "tab:blue"))):
        solved_at = [s if s is not None else budget * 1.08 for s in c["solved_at"][str(bias)]]
        y = np.full(len(solved_at), k) + np.linspace(-0.15, 0.15, len(solved_at))
        ax.scatter(solved_at, y, color=color, s=40, label=f"forget bias {bias:g}")
    ax.axvline(budget, color="0.4", ls="--", lw=1, label="budget (points beyond: unsolved)")
    ax.set_yticks([0, 1])
    ax.set_yticklabels(["bias 0", "bias 1"])
    ax.set_xlim(0, budget * 1.15)
    ax.set(
        title=f"Adding problem, T = {c['T']}, SGD: updates until validation MSE < {THRESHOLD}",
        xlabel="updates (batches of 32)",
        ylabel="initial forget-gate bias (one point per seed)",
    )
    ax.legend(fontsize="small")


@register(
    "forget-bias-jozefowicz2015",
    title=f"Forget-gate bias 0 vs 1 under plain SGD on the adding problem (T = {T_LAG})",
    citation=JOZEFOWICZ_2015,
    lesson="05_vanishing_and_exploding_gradients",
    plot=_plot_forget_bias,
    paper_figure="a forget-gate bias of 1 closes the gap between the LSTM and the GRU "
    "(scores on arithmetic, XML, Penn Treebank, music)",
    our_figure="SGD, T = 40, 6 seeds: bias 0 solved 6/6 (median 825 updates), bias 1 6/6 "
    "(median 1,050); not reproduced",
)
def forget_bias_jozefowicz2015(seed: int = 0, quick: bool = False, progress: bool = False):
    """Forget bias 0 against 1, same seeds, SGD with momentum; see the module docstring."""
    n_seeds = 3 if quick else 6
    results = {}
    for bias in (0.0, 1.0):
        results[bias] = [
            train_adding("lstm", T_LAG, [seed, s], UNITS, UPDATES, THRESHOLD, forget_bias=bias,
                         optimizer=_optimizer(), batch=BATCH, progress=progress,
                         desc=f"forget bias {bias:g}, seed {s}")
            for s in range(n_seeds)
        ]
    solved = {b: sum(r["solved_at"] is not None for r in rs) for b, rs in results.items()}
    median = {
        b: float(np.median([r["solved_at"] if r["solved_at"] is not None else np.inf for r in rs]))
        for b, rs in results.items()
    }
    flow = {b: _initial_flow(b, T_LAG, seed) for b in (0.0, 1.0)}
    passed = solved[0.0] <= n_seeds / 3 and solved[1.0] >= 2 * n_seeds / 3
    reproduced = "reproduces" if passed else "does NOT reproduce"
    return ReproResult(
        paper={
            "finding": "adding a bias of 1 to the LSTM's forget gate closes the gap between the "
            "LSTM and the GRU (tasks: arithmetic, XML modelling, Penn Treebank, music)",
            "optimizer": "stochastic gradient descent (not Adam)",
        },
        measured={
            "solved": {f"bias {b:g}": n for b, n in solved.items()},
            "median_updates_to_solve": {f"bias {b:g}": m for b, m in median.items()},
            "updates_to_solve": {f"bias {b:g}": [r["solved_at"] for r in rs]
                                 for b, rs in results.items()},
            "test_mse": {f"bias {b:g}": [r["mse"] for r in rs] for b, rs in results.items()},
            f"initial_error_flow_at_lag_{T_LAG - 1}": {f"bias {b:g}": f
                                                       for b, f in flow.items()},
        },
        criterion=(
            f"forget bias 0 solves at most 1/3 of the {n_seeds} seeds and forget bias 1 at least "
            f"2/3, within {UPDATES} updates (solved: validation MSE < {THRESHOLD})"
        ),
        passed=passed,
        settings={"T": T_LAG, "hidden_size": UNITS, "batch": BATCH, "seeds": n_seeds,
                  "optimizer": f"SGD(lr={LEARNING_RATE}, momentum={MOMENTUM}, "
                               f"clipnorm={CLIPNORM})",
                  "max_updates": UPDATES, "solved": f"validation MSE < {THRESHOLD}"},
        table=[
            ("effect of forget bias 1", "closes the LSTM-GRU gap on most tasks",
             f"seeds solved: bias 0 {solved[0.0]}/{n_seeds}, bias 1 {solved[1.0]}/{n_seeds}"),
            ("median updates to solve, bias 0 / bias 1", "-",
             f"{median[0.0]:.0f} / {median[1.0]:.0f}"),
            (f"error reaching lag {T_LAG - 1} at init, bias 0 / bias 1", "-",
             f"{flow[0.0]:.1e} / {flow[1.0]:.1e}"),
        ],
        notes=(
            f"This miniature {reproduced} the criterion. What was tried: (1) Adam with learning "
            "rate 0.01 at T = 25 (the earlier version): both biases solved every seed in a few "
            "hundred updates; (2) this version, plain SGD with momentum 0.9 and clipping at norm "
            f"1 at T = {T_LAG}, where the first marker lies 20 to 39 steps back and the error "
            "reaching lag 39 at initialisation is more than 10^5 times smaller with bias 0 than "
            f"with bias 1. The {NOTES_LR}. Even so, bias 0 solved as many seeds as bias 1, and "
            "about as fast. A plausible reason, not proven here: the second marker is at most "
            "19 steps back, so both arms get a usable gradient from it; once a cell has learned "
            "to write and hold a value, training raises its forget gate by itself, and the "
            "first marker follows. Jozefowicz et al. measured scores on language, XML, "
            "arithmetic and music with large networks and a hyperparameter search per "
            "architecture; counting solved seeds on the adding problem is our own, miniature "
            f"measure. The quick setting runs 3 seeds instead of 6, with the same {UPDATES}-"
            "update budget."
        ),
        curves={"T": T_LAG, "budget": UPDATES,
                "solved_at": {str(b): [r["solved_at"] for r in rs] for b, rs in results.items()}},
    )
