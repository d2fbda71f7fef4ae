"""NOAF: without the output activation, the unbounded cell state reaches the output.

``noaf-greff2017``

The paper
---------
Greff, Srivastava, Koutnik, Steunebrink & Schmidhuber (2017), *LSTM: A Search
Space Odyssey*, IEEE TNNLS 28(10). Verified in the text available to us (the
abstract and the list of conclusions):

* eight LSTM variants on three tasks (speech recognition, handwriting
  recognition, polyphonic music modelling); the hyperparameters of every
  variant on every task were optimized separately by random search, and their
  importance assessed with fANOVA; 5,400 runs in all (about 15 years of CPU
  time);
* no variant improves significantly on the standard ("vanilla") LSTM, which
  has peepholes, a forget gate and tanh on both the cell input and the output;
* "The forget gate and the output activation function are the critical
  components of the LSTM block. While the first is crucial for LSTM
  performance, the second is necessary whenever the cell state is unbounded."

What we could NOT verify in the primary text with our tools, and so do not
quote: the optimizer and the ranges of its random search, the sequence lengths,
the number of training sequences, the stopping rule, and the per-dataset
numbers for NOAF.

The condition in which the effect should show
----------------------------------------------
The paper's own explanation says where: NOAF (h = o * c instead of
o * tanh(c)) matters when the cell state is unbounded. A cell with a forget
gate that rarely closes, run on a long stream that is never reset, is exactly
that: its state can drift far beyond what training saw, and without tanh the
drift goes straight into h and the prediction. So the miniature trains on
short windows of the continual embedded Reber stream (Gers et al. 2000) and
tests on 1,000-step streams from a zero state, never reset.

Our miniature (fixed before running)
------------------------------------
:func:`lstm_teach.variant_lab.continual_reber_experiment` with Greff et al.'s
"vanilla" and "NOAF" configurations (both with peepholes), 8 cells, Adam with
learning rate 0.03 and clipping at norm 1, windows of 30 symbols, 16 per
batch; 400 updates quick, 1,000 default; 5 seeds quick, 8 default, the same
seeds for both variants; each trained network is scored by its mean sigmoid
cross-entropy on 8 fresh 1,000-step streams.

Pass criterion (fixed before running; never loosened): NOAF's test
cross-entropy is higher than vanilla's on at least 4 of 5 seeds (quick) or 7 of
8 seeds (default), paired by seed, and the median of NOAF's test cross-entropy
is more than 1.5 times vanilla's.
"""

from __future__ import annotations

import numpy as np

from ..lab import variant_lab
from ..lab.variants import GREFF_FINDINGS, GREFF_VARIANTS
from . import ReproResult, register
from .odyssey import GREFF_2017, _plot_accuracy

TEST_LENGTH = 1000


@register(
    "noaf-greff2017",
    title="NOAF (no tanh on the output) against vanilla on never-reset Reber streams",
    citation=GREFF_2017,
    lesson="07_lstm_variants",
    plot=_plot_accuracy,
    paper_figure="NOAF significantly worse than vanilla on all three datasets",
    our_figure="never-reset Reber streams, 8 seeds: NOAF worse on 2/8, median test "
    "cross-entropy 0.08x vanilla's; not reproduced",
)
def noaf(seed: int = 0, quick: bool = False, progress: bool = False):
    """Vanilla against NOAF on long never-reset Reber streams; see the module docstring."""
    n_seeds, needed = (5, 4) if quick else (8, 7)
    steps = 400 if quick else 1000
    seeds = tuple(range(seed, seed + n_seeds))
    configs = {name: GREFF_VARIANTS[name] for name in ("vanilla", "NOAF")}
    # quick=False: the long (1,000-step) test streams in both settings
    rows = variant_lab.continual_reber_experiment(configs, seeds=seeds, quick=False, steps=steps)
    loss = {name: [r["test_loss"] for r in rows if r["variant"] == name] for name in configs}
    acc = {name: [r["step_accuracy"] for r in rows if r["variant"] == name] for name in configs}
    worse = int(sum(n > v for n, v in zip(loss["NOAF"], loss["vanilla"], strict=True)))
    med = {name: float(np.median(v)) for name, v in loss.items()}
    ratio = med["NOAF"] / med["vanilla"]
    passed = worse >= needed and ratio > 1.5
    verdict = "reproduces" if passed else "does NOT reproduce"
    return ReproResult(
        paper={"NOAF": GREFF_FINDINGS["NOAF"],
               "conclusion": "the output activation is necessary whenever the cell state is "
               "unbounded"},
        measured={"test_cross_entropy": loss, "step_accuracy": acc,
                  "seeds_where_noaf_is_worse": worse, "median_ratio": ratio},
        criterion=(f"NOAF's test cross-entropy above vanilla's on at least {needed} of "
                   f"{n_seeds} seeds (paired), and its median more than 1.5x vanilla's"),
        passed=passed,
        settings={"variants": list(configs), "cells": 8, "updates": steps, "seeds": list(seeds),
                  "learning_rate": 0.03, "window": 30, "batch": 16,
                  "test_stream_length": TEST_LENGTH},
        table=[
            ("NOAF vs vanilla", GREFF_FINDINGS["NOAF"],
             f"worse on {worse} of {n_seeds} seeds; median cross-entropy x{ratio:.2f}"),
            ("median test cross-entropy, vanilla / NOAF", "-",
             f"{med['vanilla']:.4f} / {med['NOAF']:.4f}"),
            ("median per-step accuracy, vanilla / NOAF", "-",
             f"{np.median(acc['vanilla']):.3f} / {np.median(acc['NOAF']):.3f}"),
        ],
        notes=(
            f"This miniature {verdict} the criterion. On this task NOAF is usually *better* "
            "than vanilla, not worse: on most seeds its test cross-entropy is several times "
            "lower, because h = o c passes the cell's value to the readout without squashing "
            "it. It is worse on a minority of seeds, once catastrophically: there an integrating "
            "cell drifts on the never-reset stream and its raw value reaches the output, which "
            "is the paper's explanation (the output activation is needed when the cell state is "
            "unbounded). So the mechanism appears, but as an occasional failure, not as the "
            "consistent loss Greff et al. found on speech, handwriting and music, where every "
            "variant had its own random hyperparameter search. One small task and one shared "
            "learning rate cannot show that. The quick setting trains 400 updates on 5 seeds "
            "instead of 1,000 on 8; both test on 1,000-step streams."
        ),
        curves={"accuracy": loss, "title": "Vanilla vs NOAF: test cross-entropy per seed",
                "ylabel": "mean sigmoid cross-entropy on 1,000-step streams (nats)"},
    )
