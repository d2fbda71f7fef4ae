"""A small, transparent training loop for comparing LSTM variants, and the experiments built on it.

Lessons 07 and 08 train many small networks (one per variant, seed,
learning rate, ...), so the loop here is deliberately minimal: an LSTM from
the core, a linear readout, a loss from :mod:`lstm_teach.losses`, Adam with
gradient-norm clipping, and fresh data every step from a task generator. The
gradient of the LSTM comes either from BPTT (:func:`lstm_teach.lstm_backward`)
or from the 1997 truncated rule (:func:`lstm_teach.rtrl.truncated_1997_gradients`).

The experiments (each takes a ``quick`` switch; the repro commands call them):

- :func:`continual_reber_experiment`: Gers, Schmidhuber & Cummins (2000) in
  miniature: a stream of embedded Reber strings with no resets, with and
  without the forget gate (and any other variants).
- :func:`odyssey_experiment`: Greff et al. (2017) in miniature: the variants
  of :data:`lstm_teach.variants.GREFF_VARIANTS` on one task, several seeds.
- :func:`learning_rate_sweep`: the hyperparameter Greff et al. found to
  matter most.
- :func:`timing_experiment`: Gers, Schraudolph & Schmidhuber (2002) in
  miniature: peepholes on a task that needs precise timing.
- :func:`temporal_order_experiment`: Hochreiter & Schmidhuber (1997,
  Experiment 6a) with the 1997 cell trained by the 1997 rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..concise.optim import Adam
from ..concise.training import train_with_readout
from ..core import losses as losses_mod
from ..core._checks import check_choice, check_positive_int, describe
from ..core.activations import sigmoid
from ..core.init import glorot_uniform, init_lstm
from ..core.lstm_config import LSTMConfig
from ..core.utils import as_rng, is_quick
from ..course import tasks
from ..course.tasks import reber_window_sampler, timed_spikes_batch
from ..kernels.lstm import lstm_backward, lstm_forward

__all__ = [
    "Trained",
    "continual_reber_experiment",
    "learning_rate_sweep",
    "model_logits",
    "odyssey_experiment",
    "temporal_order_experiment",
    "timing_experiment",
    "train",
]

READOUT_KEYS = ("V", "c")
LOSSES = {
    "bce": losses_mod.binary_crossentropy,
    "ce": losses_mod.sparse_categorical_crossentropy,
    "mse": losses_mod.mse,
}


@dataclass
class Trained:
    """A trained network and its training curve.

    Attributes
    ----------
    params : dict
        The LSTM (``W``, ``U``, ``b``, and ``P`` / ``R`` per config) and the
        readout (``V`` (H, K), ``c`` (K,)) in one dict.
    config : LSTMConfig
    losses : np.ndarray, (steps,)
        Training loss per step (NaN after a divergence).
    diverged : bool
        True if the loss became NaN or inf; training stopped there and
        ``params`` are the last finite ones.
    target : str
        ``"all"`` (an output at every step) or ``"last"``.
    """

    params: dict
    config: LSTMConfig
    losses: np.ndarray
    diverged: bool = False
    target: str = "all"
    info: dict = field(default_factory=dict)

    def final_loss(self, window: int = 20) -> float:
        """Mean training loss over the last ``window`` steps (inf if diverged)."""
        if self.diverged:
            return float("inf")
        return float(np.mean(self.losses[-window:]))


def model_logits(x, params, config=None, target="all", h0=None, c0=None):
    """Run the LSTM and the linear readout.

    Parameters
    ----------
    x : (B, T, D)
    params : dict
        LSTM parameters plus ``V`` (H, K) and ``c`` (K,).
    target : {"all", "last"}

    Returns
    -------
    logits : (B, T, K) or (B, K)
    cache : LSTMCache
    """
    lstm_params = {k: v for k, v in params.items() if k not in READOUT_KEYS}
    hs, cache = lstm_forward(x, lstm_params, h0=h0, c0=c0, config=config)
    top = hs if target == "all" else hs[:, -1]
    return top @ params["V"] + params["c"], cache


def _lstm_gradients(x, params, dhs, cache, config, gradient):
    if gradient == "bptt":
        return lstm_backward(dhs, cache)[3]
    from .rtrl import truncated_1997_gradients  # the 1997 rule

    lstm_params = {k: v for k, v in params.items() if k not in READOUT_KEYS}
    return truncated_1997_gradients(x, lstm_params, dhs, config=config, keep_outputs=False)[1]


def train(
    data_fn: Callable,
    input_size: int,
    output_size: int,
    config: LSTMConfig | None = None,
    hidden_size: int = 8,
    loss: str = "bce",
    target: str = "all",
    steps: int = 300,
    batch_size: int = 16,
    learning_rate: float = 1e-2,
    clipnorm: float | None = 1.0,
    forget_bias: float = 1.0,
    gradient: str = "bptt",
    seed=0,
) -> Trained:
    """Train an LSTM + linear readout on fresh batches from ``data_fn``.

    Parameters
    ----------
    data_fn : callable
        ``data_fn(batch_size, rng) -> (x, y)``: ``x`` (B, T, D); ``y`` the
        target for the loss: (B, T, K) or (B, K) floats for ``"bce"`` /
        ``"mse"``, integer labels (B, T) or (B,) for ``"ce"``.
    input_size, output_size : int
        D and K.
    config : LSTMConfig, optional
    hidden_size : int
    loss : {"bce", "ce", "mse"}
        Sigmoid cross-entropy on logits, softmax cross-entropy, or squared error.
    target : {"all", "last"}
        Read out every step or only the last one.
    steps, batch_size : int
    learning_rate : float
        Adam's step size.
    clipnorm : float or None
        Global gradient-norm clipping.
    forget_bias : float
        Initial forget-gate bias (1 is the usual "remember by default").
    gradient : {"bptt", "1997"}
        Full BPTT or the 1997 truncated rule for the LSTM weights.
    seed : int or np.random.Generator
        Seeds both the initial weights and the data.

    Returns
    -------
    Trained
    """
    check_choice("loss", loss, tuple(LOSSES))
    check_choice("target", target, ("all", "last"))
    check_choice("gradient", gradient, ("bptt", "1997"))
    steps = check_positive_int("steps", steps)
    config = LSTMConfig() if config is None else config
    if not isinstance(config, LSTMConfig):
        raise TypeError(f"config must be an LSTMConfig or None; got {describe(config)}")
    rng = as_rng(seed)
    H = check_positive_int("hidden_size", hidden_size)
    params = init_lstm(input_size, H, config=config, rng=rng, unit_forget_bias=False)
    params["b"][H : 2 * H] = forget_bias
    params["V"] = glorot_uniform((H, output_size), rng)
    params["c"] = np.zeros(output_size)
    run = train_with_readout(
        params, lambda step: data_fn(batch_size, rng),
        lambda x, core: lstm_forward(x, core, config=config),
        lambda dhs, cache, x, core: _lstm_gradients(x, core, dhs, cache, config, gradient),
        LOSSES[loss], Adam(learning_rate=learning_rate, clipnorm=clipnorm), steps, target=target)
    history = np.full(steps, np.nan)
    history[: run.steps] = run.losses[: run.steps]
    diverged = run.diverged is not None  # params are then the last good ones
    return Trained(params=params, config=config, losses=history, diverged=diverged, target=target)


# --------------------------------------------------------------------------- continual Reber


def reber_stream_score(trained: Trained, n_streams: int = 8, length: int = 400, seed=1234) -> dict:
    """Score a network trained on continual Reber streams on long fresh streams.

    The network starts from a zero state and is never reset, exactly as in
    training but for much longer. A step is correct when every legal next
    symbol's sigmoid output is above 0.5 and every other one below.

    Returns
    -------
    dict
        ``step_accuracy`` (fraction of correct steps), ``late_accuracy`` (over
        the second half of each stream: has the state drifted?), ``test_loss``
        (the mean sigmoid cross-entropy, as in training) and ``strings`` (mean
        number of whole strings before the first error).
    """
    stream = tasks.continual_reber_stream(n_streams, length, as_rng(seed))
    logits, _ = model_logits(stream.x, trained.params, trained.config, "all")
    correct = tasks.reber_predictions_correct(sigmoid(logits), stream.y)
    with np.errstate(over="ignore", invalid="ignore"):
        test_loss = losses_mod.binary_crossentropy(logits, stream.y)[0]
    return {
        "step_accuracy": float(correct.mean()),
        "test_loss": float(test_loss),
        "late_accuracy": float(correct[:, length // 2 :].mean()),
        "strings": float(tasks.strings_before_first_error(correct, stream.string_start).mean()),
    }


def continual_reber_experiment(configs=None, seeds=(0, 1, 2), quick=None, hidden_size=None,
                               steps=None, learning_rate=3e-2, forget_bias=1.0,
                               keep_models=False) -> list:
    """Gers et al. (2000) in miniature: continual embedded Reber streams without resets.

    Parameters
    ----------
    configs : dict of str -> LSTMConfig, optional
        Default: ``{"forget gate": LSTMConfig(), "no forget gate (1997)": NFG}``.
    seeds : sequence of int
    quick : bool, optional
        Default :func:`lstm_teach.utils.is_quick`. Quick: 200 training steps
        and a 300-step test stream; otherwise 2,000 steps and 1,000.
    hidden_size, steps, learning_rate, forget_bias :
        Passed to :func:`train` (8 cells by default; windows of 30 symbols,
        16 per batch).
    keep_models : bool
        Also return each trained network under the key ``"model"``.

    Returns
    -------
    list of dict
        One row per (variant, seed): ``variant``, ``seed``, ``final_loss``,
        ``diverged`` and the scores of :func:`reber_stream_score`.
    """
    quick = is_quick() if quick is None else quick
    if configs is None:
        configs = {"forget gate": LSTMConfig(),
                   "no forget gate (1997)": LSTMConfig(forget_gate=False)}
    hidden_size = hidden_size or 8
    steps = steps or (200 if quick else 2000)
    length = 300 if quick else 1000
    data_fn = reber_window_sampler(30)
    rows = []
    for name, config in configs.items():
        for seed in seeds:
            trained = train(data_fn, 7, 7, config=config, hidden_size=hidden_size,
                            loss="bce", steps=steps, batch_size=16, learning_rate=learning_rate,
                            forget_bias=forget_bias, seed=seed)
            score = reber_stream_score(trained, length=length)
            rows.append({"variant": name, "seed": seed, "final_loss": trained.final_loss(),
                         "diverged": trained.diverged, **score})
            if keep_models:
                rows[-1]["model"] = trained
    return rows


def odyssey_experiment(variant_names: Sequence[str] | None = None, seeds=(0, 1, 2), quick=None,
                       **kwargs) -> list:
    """Greff et al. (2017) in miniature: every variant on the continual Reber stream.

    Returns the rows of :func:`continual_reber_experiment`, one per (variant, seed).
    """
    from .variants import GREFF_VARIANTS

    names = list(GREFF_VARIANTS) if variant_names is None else list(variant_names)
    configs = {name: GREFF_VARIANTS[name] for name in names}
    return continual_reber_experiment(configs, seeds=seeds, quick=quick, **kwargs)


def learning_rate_sweep(learning_rates=(3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1), config=None,
                        seed=0, quick=None, **kwargs) -> list:
    """Train one variant at several learning rates on the continual Reber stream.

    Returns
    -------
    list of dict
        ``learning_rate`` plus the fields of :func:`continual_reber_experiment`.
    """
    rows = []
    for lr in learning_rates:
        (row,) = continual_reber_experiment({"lr": config or LSTMConfig()}, seeds=(seed,),
                                            quick=quick, learning_rate=lr, **kwargs)
        rows.append({"learning_rate": lr, **row})
    return rows


# --------------------------------------------------------------------------- timing (Gers 2002)


def timing_score(trained: Trained, n: int = 200, seed=4321, **task) -> float:
    """Fraction of fresh sequences whose whole spike train is exactly right (threshold 0.5)."""
    x, y = timed_spikes_batch(n, as_rng(seed), **task)
    out = sigmoid(model_logits(x, trained.params, trained.config, "all")[0])
    return float(np.mean(np.all((out > 0.5) == (y > 0.5), axis=(1, 2))))


def timing_experiment(configs=None, seeds=(0, 1, 2), period=None, quick=None, steps=None,
                      hidden_size=4, learning_rate=2e-2) -> list:
    """Peepholes against no peepholes on :func:`timed_spikes_batch`.

    Returns
    -------
    list of dict
        ``variant``, ``seed``, ``final_loss`` and ``exact`` (the fraction of
        test sequences whose spike train is exactly right).
    """
    quick = is_quick() if quick is None else quick
    if configs is None:
        configs = {"peepholes": LSTMConfig(peepholes=True), "no peepholes": LSTMConfig()}
    period = period or (6 if quick else 10)
    steps = steps or (500 if quick else 3000)
    length = 6 * period + 5

    def data_fn(n, rng):
        return timed_spikes_batch(n, rng, period=period, length=length)

    rows = []
    for name, config in configs.items():
        for seed in seeds:
            trained = train(data_fn, 1, 1, config=config, hidden_size=hidden_size, loss="bce",
                            steps=steps, batch_size=16, learning_rate=learning_rate, seed=seed)
            rows.append({"variant": name, "seed": seed, "final_loss": trained.final_loss(),
                         "exact": timing_score(trained, period=period, length=length)})
    return rows


# --------------------------------------------------------------------------- temporal order


def temporal_order_experiment(T=None, quick=None, steps=None, hidden_size=8, seeds=(0,),
                              gradients=("1997", "bptt"), learning_rate=1e-2) -> list:
    """Hochreiter & Schmidhuber (1997, Experiment 6a): the 1997 cell, trained by the 1997 rule.

    The cell has no forget gate (``LSTMConfig(forget_gate=False)``); the
    gradient is the truncated one of :func:`lstm_teach.rtrl.truncated_1997_gradients`
    (and, for comparison, full BPTT).

    Returns
    -------
    list of dict
        ``gradient``, ``seed``, ``T``, ``final_loss`` and ``accuracy`` on 500
        fresh sequences (chance: 0.25).
    """
    quick = is_quick() if quick is None else quick
    T = T or (30 if quick else 100)
    steps = steps or (400 if quick else 5000)
    config = LSTMConfig(forget_gate=False)

    def data_fn(n, rng):
        x, y = tasks.temporal_order(n, T, rng)[:2]
        return x, y

    rows = []
    for gradient in gradients:
        for seed in seeds:
            trained = train(data_fn, 8, 4, config=config, hidden_size=hidden_size, loss="ce",
                            target="last", steps=steps, batch_size=32,
                            learning_rate=learning_rate, gradient=gradient, seed=seed)
            x, y = data_fn(500, as_rng(10_000 + seed))
            logits, _ = model_logits(x, trained.params, config, "last")
            rows.append({"gradient": gradient, "seed": seed, "T": T,
                         "final_loss": trained.final_loss(),
                         "accuracy": float(np.mean(logits.argmax(axis=1) == y))})
    return rows
