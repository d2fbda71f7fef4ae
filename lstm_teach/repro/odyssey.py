"""Reproductions for the variants lesson (07) and the beyond-BPTT lesson (08).

``continual-reber-gers2000``
    The forget gate on the continual embedded Reber stream (Gers, Schmidhuber
    & Cummins 2000).
``odyssey-greff2017``
    The LSTM variants of Greff et al. (2017) on that stream.
``timing-gers2002``
    Peepholes on a precise-timing task with the paper's single cell (Gers,
    Schraudolph & Schmidhuber 2002).
``temporal-order-hochreiter1997``
    The 1997 cell trained by the 1997 truncated learning rule on the
    temporal-order task (Hochreiter & Schmidhuber 1997, Experiment 6a).

The experiments themselves live in :mod:`lstm_teach.variant_lab`, shared with
the lessons; this module sizes them, states the criteria and builds the
paper-vs-ours tables.
"""

from __future__ import annotations

import numpy as np

from ..core.lstm_config import LSTMConfig
from ..lab import variant_lab
from ..lab.variants import GREFF_FINDINGS, GREFF_VARIANTS
from . import ReproResult, register

GERS_2000 = (
    "Gers, F. A., Schmidhuber, J. & Cummins, F. (2000). Learning to forget: continual "
    "prediction with LSTM. Neural Computation 12(10), 2451-2471."
)
GREFF_2017 = (
    "Greff, K., Srivastava, R. K., Koutnik, J., Steunebrink, B. R. & Schmidhuber, J. (2017). "
    "LSTM: a search space odyssey. IEEE Transactions on Neural Networks and Learning Systems "
    "28(10), 2222-2232."
)
GERS_2002 = (
    "Gers, F. A., Schraudolph, N. N. & Schmidhuber, J. (2002). Learning precise timing with "
    "LSTM recurrent networks. Journal of Machine Learning Research 3, 115-143."
)
HOCHREITER_1997 = (
    "Hochreiter, S. & Schmidhuber, J. (1997). Long short-term memory. Neural Computation "
    "9(8), 1735-1780."
)


def _by_variant(rows, key):
    out = {}
    for r in rows:
        out.setdefault(r["variant"], []).append(float(r[key]))
    return out


def _plot_accuracy(result: ReproResult, ax) -> None:
    acc = result.curves["accuracy"]
    names = list(acc)
    for k, name in enumerate(names):
        ax.scatter(np.full(len(acc[name]), k), acc[name], color="C0", alpha=0.7)
        ax.hlines(np.median(acc[name]), k - 0.3, k + 0.3, color="k")
    ax.set_xticks(range(len(names)), names)
    ax.set(title=result.curves.get("title", result.title), xlabel="variant",
           ylabel=result.curves.get("ylabel", "test accuracy"))


# --------------------------------------------------------------------------- Gers 2000


@register(
    "continual-reber-gers2000",
    title="Without a forget gate, an LSTM predicts a never-reset Reber stream worse",
    citation=GERS_2000,
    lesson="07_lstm_variants",
    plot=_plot_accuracy,
    paper_figure="on the never-reset embedded Reber stream, LSTM without forget gates fails; "
    "with them it learns to reset its cells and solves the task",
    our_figure="8 cells, 5 seeds, fresh 1,000-step streams: median test cross-entropy 0.0015 "
    "with the forget gate, 0.0032 without (x2.1); 83 against 48 strings before the first error",
)
def continual_reber(seed: int = 0, quick: bool = False, progress: bool = False):
    """Forget gate against none, on a never-reset stream of embedded Reber strings.

    Paper figure: qualitative only, checked against the abstract of Gers et
    al. (2000) ("all algorithms (including LSTM) fail to solve continual
    versions of these problems. LSTM with forget gates, however, easily solves
    them"). The percentages of successful runs in their results table were not
    verified against the article's text, so none is quoted. ``our_figure`` is
    the default setting, seed 0 (seeds 0 to 4).
    """
    seeds = tuple(range(seed, seed + (3 if quick else 5)))
    steps = 200 if quick else 1500
    configs = {"forget gate": LSTMConfig(), "no forget gate": LSTMConfig(forget_gate=False)}
    rows = variant_lab.continual_reber_experiment(configs, seeds=seeds, quick=quick, steps=steps)
    acc, test_loss = _by_variant(rows, "step_accuracy"), _by_variant(rows, "test_loss")
    strings = _by_variant(rows, "strings")
    med = {k: float(np.median(v)) for k, v in acc.items()}
    med_loss = {k: float(np.median(v)) for k, v in test_loss.items()}
    med_strings = {k: float(np.median(v)) for k, v in strings.items()}
    ratio = med_loss["no forget gate"] / med_loss["forget gate"]
    passed = ratio > 1.5 and med["forget gate"] >= med["no forget gate"]
    length = 300 if quick else 1000
    return ReproResult(
        paper={"finding": "LSTM without forget gates fails on the continual stream (its state "
               "grows without bound); with forget gates it learns to reset itself"},
        measured={"median_test_loss": med_loss, "test_loss_ratio": ratio,
                  "median_test_accuracy": med, "median_strings_before_first_error": med_strings,
                  "test_accuracy": acc},
        criterion=(f"on fresh {length}-step streams, the median test cross-entropy without the "
                   "forget gate > 1.5x the one with it, and the median per-step accuracy not "
                   "higher without it"),
        passed=passed,
        settings={"cells": 8, "updates": steps, "batch": 16, "window": 30, "seeds": list(seeds),
                  "learning_rate": 0.03, "test_stream_length": length},
        table=[
            ("test cross-entropy, forget gate / none (median)", "-",
             f"{med_loss['forget gate']:.4f} / {med_loss['no forget gate']:.4f} "
             f"(x{ratio:.1f})"),
            ("per-step test accuracy, forget gate / none (median)", "solves / fails",
             f"{med['forget gate']:.3f} / {med['no forget gate']:.3f}"),
            ("whole strings before the first error, forget gate / none (median)",
             "many / few",
             f"{med_strings['forget gate']:.0f} / {med_strings['no forget gate']:.0f}"),
        ],
        notes=(
            "A miniature: 8 cells and a few hundred (quick) or 1,500 updates on 30-symbol "
            "windows, tested on long fresh streams without resets. Per-step accuracy is "
            "dominated by the many easy local predictions, so the forget gate's advantage shows "
            "most clearly in the test cross-entropy. The quick setting does not learn the "
            "long-range outer T/P symbols with or without the forget gate, so it cannot show "
            "the paper's measure (whole strings before the first error); the 1997 cell does "
            "not fail completely here as it does in the paper. The direction of the effect is "
            "reproduced, not its size."
        ),
        curves={"accuracy": test_loss, "title": "Continual Reber: test cross-entropy per seed",
                "ylabel": "mean sigmoid cross-entropy (nats)"},
    )


# --------------------------------------------------------------------------- Greff 2017


@register(
    "odyssey-greff2017",
    title="LSTM variants in miniature: the forget gate matters, peepholes and CIFG do not",
    citation=GREFF_2017,
    lesson="07_lstm_variants",
    plot=_plot_accuracy,
    paper_figure="the forget gate and the output activation are critical (NFG, NOAF worse); "
    "coupling the input and forget gates (CIFG) or dropping peepholes (NP) does not hurt "
    "significantly; no variant beats vanilla",
    our_figure="continual Reber, 8 cells, 3 seeds, median accuracy: vanilla 0.962, NFG 0.927 "
    "(hurts), NP 0.955 and CIFG 0.951 (neutral), NOAF 0.940 (one seed at 0.448)",
)
def odyssey(seed: int = 0, quick: bool = False, progress: bool = False):
    """Greff et al.'s variants on the continual Reber stream, one setting, several seeds.

    Paper figure: the verdicts are the conclusions of Greff et al. (2017),
    checked against the arXiv version (1503.04069): no modification
    significantly improves on vanilla; CIFG and NP simplify the LSTM without
    significantly hurting it; the forget gate and the output activation
    function are the critical components. The per-dataset details of the other
    variants (NIG, NOG, NIAF, FGR) in ``GREFF_FINDINGS`` were not re-checked
    here. ``our_figure`` is the default setting, seed 0 (seeds 0 to 2).
    """
    names = ["vanilla", "NFG", "NOAF", "NP", "CIFG"] if quick else list(GREFF_VARIANTS)
    seeds = tuple(range(seed, seed + 3))
    steps = 200 if quick else 400
    rows = variant_lab.odyssey_experiment(names, seeds=seeds, quick=quick, steps=steps)
    acc, loss = _by_variant(rows, "step_accuracy"), _by_variant(rows, "final_loss")
    med = {k: float(np.median(v)) for k, v in acc.items()}
    worst = {k: float(np.min(v)) for k, v in acc.items()}
    med_loss = {k: float(np.median(v)) for k, v in loss.items()}

    def verdict(name):
        if name == "vanilla":
            return "reference"
        if med[name] < med["vanilla"] - 0.03 or worst[name] < worst["vanilla"] - 0.15:
            return "hurts"
        return "helps" if med[name] > med["vanilla"] + 0.03 else "neutral"

    verdicts = {n: verdict(n) for n in names}
    passed = (verdicts["NFG"] == "hurts" and med_loss["NFG"] > 1.5 * med_loss["vanilla"]
              and verdicts["NP"] == "neutral" and verdicts["CIFG"] == "neutral")
    return ReproResult(
        paper={n: GREFF_FINDINGS[n] for n in names},
        measured={"median_test_accuracy": med, "worst_seed_accuracy": worst,
                  "median_training_loss": med_loss, "verdict": verdicts},
        criterion=("NFG hurts (median accuracy > 0.03 below vanilla or worst seed > 0.15 below, "
                   "and median training loss > 1.5x vanilla's); NP and CIFG neutral (neither)"),
        passed=passed,
        settings={"variants": names, "seeds": list(seeds), "updates": steps, "cells": 8,
                  "learning_rate": 0.03, "task": "continual embedded Reber, 30-symbol windows"},
        table=[(f"{n}: median / worst accuracy, verdict", GREFF_FINDINGS[n],
                f"{med[n]:.3f} / {worst[n]:.3f}, {verdicts[n]}") for n in names],
        notes=(
            "One small task, one shared learning rate and three seeds, where Greff et al. ran "
            "a random hyperparameter search per variant on speech, handwriting and music. "
            "NOAF is not part of the criterion: here it is unreliable (some seeds collapse on "
            "long streams because an integrating cell's unbounded value reaches the output) "
            "rather than consistently worse as in the paper. The quick setting runs five of "
            "the nine variants."
        ),
        curves={"accuracy": acc, "title": "Greff et al.'s variants, continual Reber stream",
                "ylabel": "fraction of steps predicted exactly"},
    )


# --------------------------------------------------------------------------- Gers 2002


TIMING_CELLS = 1  # the paper's network: one memory block with one cell


@register(
    "timing-gers2002",
    title="Peepholes and precise timing: one cell generating timed spikes after a trigger",
    citation=GERS_2002,
    lesson="07_lstm_variants",
    plot=_plot_accuracy,
    paper_figure="one cell with peepholes learns to generate timed spikes; without them the "
    "closed output gate hides the cell from the gates",
    our_figure="1 cell, period 10, 5 seeds: solved 0/5 with peepholes, 0/5 without; "
    "not reproduced",
)
def timing(seed: int = 0, quick: bool = False, progress: bool = False):
    """One LSTM cell, with and without peepholes, generating timed spikes (GTS in miniature).

    The paper (Gers, Schraudolph & Schmidhuber 2002, JMLR 3). Verified in the
    abstract: LSTM with peephole connections "can learn the fine distinction
    between sequences of spikes spaced either 50 or 49 time steps apart" and,
    without external resets or teacher forcing, "learns to generate stable
    streams of precisely timed spikes and other highly nonlinear periodic
    patterns". The following details come from a reader's detailed summary of
    the paper, not from the primary text, which our tools could not open:
    three task families, measuring spike delays (MSD), generating timed spikes
    (GTS) and periodic function generation (PFG); the network has a single
    memory block with a single cell, one input and one sigmoid output unit;
    weights start in [-0.1, 0.1]; online gradient descent (an RTRL-style
    truncated gradient, weights updated every step) with learning rate 1e-5
    and momentum (0.999 for GTS); continual input streams without resets; a
    spike counts as right when the output is within 0.49 of the target; a
    trial stops after 100 consecutive correct spikes in training, success is
    judged on 1,000 consecutive test spikes, with at most 10^7 training steps;
    10 trials per setting. On MSD peepholes did not matter (the cell without
    them was as good or better); GTS was learned with peepholes, and without
    them the output gate cannot see the cell while it is closed; on PFG the
    cell without peepholes managed only the easiest waveform.

    Our miniature (fixed before running): the paper's one-cell network
    (``hidden_size=1``) with a sigmoid output, trained with Adam (learning rate
    0.02, clipping at norm 1, batches of 16, sigmoid cross-entropy) on
    :func:`lstm_teach.course.tasks.timed_spikes_batch`: a trigger at a random
    step 1..5, then a spike exactly every ``period`` steps with no further
    input (6 quick, 10 default; sequences of 6 periods + 5 steps); 1,500
    updates quick, 3,000 default; 3 seeds quick, 5 default; the same seeds for
    both arms. A seed *solves* the task when more than 95% of 200 fresh test
    sequences have every output on the right side of 0.5.

    Pass criterion (fixed before running; never loosened): every peephole seed
    solves the task, and more peephole seeds than no-peephole seeds solve it.
    """
    seeds = tuple(range(seed, seed + (3 if quick else 5)))
    period = 6 if quick else 10
    steps = 1500 if quick else 3000
    rows = variant_lab.timing_experiment(seeds=seeds, period=period, quick=quick, steps=steps,
                                         hidden_size=TIMING_CELLS)
    exact = _by_variant(rows, "exact")
    solved = {k: int(sum(e > 0.95 for e in v)) for k, v in exact.items()}
    passed = solved["peepholes"] > solved["no peepholes"] and solved["peepholes"] == len(seeds)
    verdict = "reproduces" if passed else "does NOT reproduce"
    return ReproResult(
        paper={"finding": "with peepholes, one LSTM cell learns to generate precisely timed "
               "spikes; without them the closed output gate hides the cell from the gates",
               "network": "1 memory block with 1 cell; online SGD with momentum, lr 1e-5"},
        measured={"seeds_solved": solved, "fraction_exact": exact},
        criterion=("every peephole seed solves the task (> 95% of test spike trains exactly "
                   "right) and more peephole seeds than no-peephole seeds solve it"),
        passed=passed,
        settings={"period": period, "length": 6 * period + 5, "cells": TIMING_CELLS,
                  "updates": steps, "optimizer": "Adam(0.02), clipnorm 1, batch 16",
                  "seeds": list(seeds)},
        table=[("seeds solved, peepholes", "GTS learned",
                f"{solved['peepholes']} of {len(seeds)}"),
               ("seeds solved, no peepholes", "not learned (gates blind to the cell)",
                f"{solved['no peepholes']} of {len(seeds)}")],
        notes=(
            f"This miniature {verdict} the finding. What was tried: (1) 4 cells (the earlier "
            "version): with and without peepholes, networks learned the spike train for some "
            "seeds and failed for others, with no clear difference; (2) this version keeps the "
            "paper's single cell, so that no other unit can carry the count. Trained on "
            "mini-batches with Adam for a few thousand updates (the paper: online gradient "
            "descent for up to 10^7 steps), the single cell did not learn the spike train at "
            "all, with or without peepholes, so the budget and not the peepholes decided the "
            "outcome. Our task also differs: a trigger and short periods (6 quick, 10 default) "
            "instead of the paper's continual streams. The quick setting uses period 6, 1,500 "
            "updates and 3 seeds."
        ),
        curves={"accuracy": exact, "title": "Timed spikes, one cell: fraction exactly right",
                "ylabel": "fraction of test sequences exact"},
    )


# --------------------------------------------------------------------------- Hochreiter 1997


def _plot_order(result: ReproResult, ax) -> None:
    acc = result.curves["accuracy"]
    names = list(acc)
    ax.bar(range(len(names)), [acc[n] for n in names], color=["C0", "C1"][: len(names)])
    ax.axhline(0.25, color="0.5", ls=":", label="chance")
    ax.set_xticks(range(len(names)), names)
    ax.set(title=f"Temporal order, T = {result.measured['T']}: test accuracy",
           xlabel="gradient", ylabel="fraction of sequences classified correctly", ylim=(0, 1.05))
    ax.legend()


@register(
    "temporal-order-hochreiter1997",
    title="The 1997 cell, trained by the 1997 truncated rule, solves the temporal-order task",
    citation=HOCHREITER_1997,
    lesson="08_beyond_bptt",
    plot=_plot_order,
    paper_figure="task 6a (length 100 to 110): 1 of 2,560 test sequences misclassified, after "
    "31,390 training sequences (stop: mean error < 0.1 and the last 2,000 right; Table 9, "
    "mean of 20 trials)",
    our_figure="T = 100, 8 cells, seed 0: 1997 rule test accuracy 0.254 (chance 0.25), full "
    "BPTT 1.000; not reproduced in the default setting (seeds 1, 2: 0.272, 1.000)",
)
def temporal_order(seed: int = 0, quick: bool = False, progress: bool = False):
    """Experiment 6a: classify the order of two symbols separated by a long gap.

    Paper figure: Hochreiter & Schmidhuber (1997), Section 5.6 and Table 9,
    checked against the article's text: 156 weights, 2 blocks of 2 cells,
    learning rate 0.5, input-gate biases -2 and -4; "1 out of 2560" wrong,
    success after 31,390 training sequences, mean of 20 trials. ``our_figure``
    is the default setting (T = 100), seed 0, where the truncated 1997 rule
    stays at chance; seeds 1 and 2 were run as well (0.272 and 1.000), so the
    default setting solves the task on some seeds only. The quick setting
    (T = 30) reaches 0.998 with seed 0.
    """
    T = 30 if quick else 100
    steps = 250 if quick else 1500
    gradients = ("1997",) if quick else ("1997", "bptt")
    rows = variant_lab.temporal_order_experiment(T=T, steps=steps, seeds=(seed,),
                                                 gradients=gradients)
    acc = {r["gradient"]: r["accuracy"] for r in rows}
    passed = acc["1997"] > 0.9
    return ReproResult(
        paper={"finding": "LSTM with the truncated learning rule solves the task (T = 100-110); "
               "the other methods compared in the paper fail"},
        measured={"T": T, "accuracy": acc},
        criterion=f"test accuracy of the 1997 rule > 0.9 (chance 0.25) at T = {T}",
        passed=passed,
        settings={"cell": "LSTMConfig(forget_gate=False)", "cells": 8, "updates": steps,
                  "batch": 32, "optimizer": "Adam, lr 0.01, clipnorm 1", "T": T},
        table=[("accuracy, 1997 rule", "solved", f"{acc['1997']:.3f}")]
        + ([("accuracy, full BPTT (same cell)", "-", f"{acc['bptt']:.3f}")] if "bptt" in acc
           else []),
        notes=(
            "Fixed lengths instead of 100-110; 8 cells reading [x_t, h_{t-1}] instead of the "
            "paper's blocks with full connectivity; tanh instead of the scaled logistic "
            "squashing functions; Adam on batches instead of online gradient descent. The "
            + ("quick setting runs T = 30 (the paper: T = 100)." if quick else
               "full setting also trains the same cell with full BPTT for comparison.")
        ),
        curves={"accuracy": acc},
    )
