"""Data for the course: the classic long-time-lag tasks and a small character corpus.

Every generator takes an explicit ``rng`` (a ``np.random.Generator`` or an int
seed, see :func:`lstm_teach.core.utils.as_rng`), so the same seed always gives the
same data. Arrays are batch-first: inputs ``x`` are ``(N, T, D)`` float64.
Each docstring states the shapes, what the target is, the score of the best
*constant* prediction (the baseline a model must beat to show it learned
anything), and the paper the task comes from.

Modules (everything is re-exported here, so ``tasks.adding_problem`` works)
--------------------------------------------------------------------------
- adding problem: :func:`adding_problem` (the [0, 1] form) and
  :func:`adding_problem_1997` (Hochreiter & Schmidhuber's original);
- :func:`temporal_order` (4 classes from the order of two symbols);
- embedded Reber grammar: strings, a grammar checker, padded batches and the
  continual stream of Gers et al. (2000);
- :func:`latch_problem` (Bengio et al. 1994) and :func:`copy_task`;
- time series: sines, Mackey-Glass, superimposed sines, sliding windows;
- the character corpus: :func:`load_corpus`, :class:`CharVocab`,
  :func:`char_batches` for truncated BPTT, :func:`unigram_entropy`.
"""

from __future__ import annotations

from ._common import one_hot
from .adding import (
    ADDING_1997_THRESHOLD,
    ADDING_BASELINE_MSE,
    adding_1997_baseline_mse,
    adding_problem,
    adding_problem_1997,
)
from .memory import (
    copy_baseline_cross_entropy,
    copy_task,
    latch_problem,
    timed_spikes_batch,
)
from .reber import (
    REBER_SYMBOLS,
    ReberBatch,
    ReberStream,
    continual_reber_stream,
    embedded_reber_batch,
    embedded_reber_string,
    is_embedded_reber,
    is_reber,
    reber_legal_next,
    reber_one_hot,
    reber_predictions_correct,
    reber_string,
    reber_window_sampler,
    strings_before_first_error,
)
from .series import (
    EVOLINO_FREQUENCIES,
    mackey_glass,
    sine_batch,
    sine_wave,
    sliding_windows,
    superimposed_sines,
)
from .temporal_order import TEMPORAL_ORDER_CLASSES, TEMPORAL_ORDER_SYMBOLS, temporal_order
from .text import (
    DEFAULT_CORPUS,
    CharVocab,
    char_batches,
    list_corpora,
    load_corpus,
    train_val_split,
    unigram_entropy,
)
from .video import moving_dot_batch

__all__ = [
    "ADDING_1997_THRESHOLD",
    "ADDING_BASELINE_MSE",
    "CharVocab",
    "DEFAULT_CORPUS",
    "EVOLINO_FREQUENCIES",
    "REBER_SYMBOLS",
    "ReberBatch",
    "ReberStream",
    "TEMPORAL_ORDER_CLASSES",
    "TEMPORAL_ORDER_SYMBOLS",
    "adding_1997_baseline_mse",
    "adding_problem",
    "adding_problem_1997",
    "char_batches",
    "continual_reber_stream",
    "copy_baseline_cross_entropy",
    "copy_task",
    "embedded_reber_batch",
    "embedded_reber_string",
    "is_embedded_reber",
    "is_reber",
    "latch_problem",
    "list_corpora",
    "load_corpus",
    "mackey_glass",
    "moving_dot_batch",
    "one_hot",
    "reber_legal_next",
    "reber_one_hot",
    "reber_predictions_correct",
    "reber_string",
    "reber_window_sampler",
    "sine_batch",
    "sine_wave",
    "sliding_windows",
    "strings_before_first_error",
    "superimposed_sines",
    "temporal_order",
    "timed_spikes_batch",
    "train_val_split",
    "unigram_entropy",
]
