"""The LSTM cell with frozen gates is the first tap of a gamma memory.

``gamma-equivalence``: hold the input gate at ``mu``, the forget gate at
``1 - mu`` and the output gate at 1, and make the cell candidate the identity
of the input. The cell state then follows ``c_t = (1 - mu) c_{t-1} + mu x_t``:
a leaky integrator, which is exactly tap 1 of the gamma memory of de Vries &
Principe (1992) (:func:`lstm_teach.iir.gamma_memory`). The check runs the
package's real ``lstm_forward``, not a re-implementation.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import iir
from ..core.lstm_config import LSTMConfig
from ..kernels.lstm import lstm_forward
from . import ReproResult, register

DE_VRIES_1992 = (
    "de Vries, B. & Principe, J. C. (1992). The gamma model: a new neural model for temporal "
    "processing. Neural Networks 5(4), 565-576."
)

SATURATED = 1000.0  # sigmoid(1000) is exactly 1.0 in floating point


def frozen_gate_lstm(mu: float, units: int = 1) -> tuple[dict, LSTMConfig]:
    """Parameters and config of an LSTM whose gates are the constants i = mu, f = 1 - mu, o = 1.

    Every gate weight is zero, so a gate is the sigmoid of its bias whatever the
    input: ``logit(mu)`` for i, ``logit(1 - mu)`` for f, and a saturated bias for o.
    The candidate is the identity of the input (``activation="identity"``),
    with input weight 1 (unit ``j`` reads input ``j``).

    Returns
    -------
    params : dict
        ``W`` (units, 4 units), ``U`` (units, 4 units) zeros, ``b`` (4 units,).
    config : LSTMConfig
        ``LSTMConfig(activation="identity")``.
    """
    if not 0.0 < mu < 1.0:
        raise ValueError(f"mu must lie in (0, 1) so that both gates are sigmoids; got {mu}")
    H = int(units)
    W = np.zeros((H, 4 * H))
    W[:, 2 * H : 3 * H] = np.eye(H)  # the candidate block g reads x_t
    logit = math.log(mu) - math.log1p(-mu)
    b = np.concatenate([np.full(H, logit), np.full(H, -logit), np.zeros(H), np.full(H, SATURATED)])
    return {"W": W, "U": np.zeros((H, 4 * H)), "b": b}, LSTMConfig(activation="identity")


def _plot_gamma(result: ReproResult, ax) -> None:
    c = result.curves
    t = np.arange(len(c["x"]))
    ax.plot(t, c["x"], color="0.75", lw=1, label="input x_t")
    ax.plot(t, c["cell"], lw=2.5, label=f"LSTM cell c_t (i = {c['mu']}, f = {1 - c['mu']:g})")
    ax.plot(t, c["tap1"], "k--", lw=1.2, label="gamma memory, tap 1")
    ax.set(title=f"Frozen-gate LSTM = gamma tap 1 (max |difference| {c['max_diff']:.1e})",
           xlabel="time step t", ylabel="signal (arbitrary units)")
    ax.legend(fontsize="small")


@register(
    "gamma-equivalence",
    title="An LSTM cell with frozen gates (i = mu, f = 1 - mu) equals tap 1 of a gamma memory",
    citation=DE_VRIES_1992,
    lesson="04_the_constant_error_carousel",
    plot=_plot_gamma,
    paper_figure="a gamma memory tap is a leaky integrator of the tap before it, set by one "
    "parameter mu (an identity to match, not a measurement)",
    our_figure="mu = 0.1, 0.3, 0.5, 0.9 over 200 steps: largest |c_t - tap 1| 8.9e-16 "
    "(rounding)",
)
def gamma_equivalence(seed: int = 0, quick: bool = False, progress: bool = False):
    """Compare ``lstm_forward`` with frozen gates against ``iir.gamma_memory(x, K=1, mu)``.

    Paper figure: de Vries & Principe (1992) define the gamma memory and show
    that it unifies tapped delay lines and leaky ("concentration-in-time")
    memories; the article's abstract was checked. Its exact notation for the
    tap recursion, including where the unit delay sits, was not verified
    against the full text. ``our_figure`` is the default setting, seed 0
    (quick and full are the same run).
    """
    rng = np.random.default_rng(seed)
    mus = [0.1, 0.3, 0.5, 0.9]
    T, B = 200, 4
    x = rng.standard_normal((B, T))
    diffs = {}
    for mu in mus:
        params, config = frozen_gate_lstm(mu)
        _, cache = lstm_forward(x[:, :, None], params, config=config)
        tap1 = iir.gamma_memory(x, K=1, mu=mu)[..., 0]
        diffs[mu] = float(np.max(np.abs(cache.c[..., 0] - tap1)))
        if mu == 0.3:
            shown = (x[0, :60], cache.c[0, :60, 0], tap1[0, :60])
    worst = max(diffs.values())
    return ReproResult(
        paper={"tap_1": "x_1(t) = (1 - mu) x_1(t-1) + mu x(t - 1) (one unit delay; our taps are "
               "indexed like the cell state, without the delay)"},
        measured={"max_abs_difference": {f"mu={m:g}": d for m, d in diffs.items()}},
        criterion="max |c_t - tap1_t| < 1e-12 for mu in {0.1, 0.3, 0.5, 0.9} over 200 steps",
        passed=worst < 1e-12,
        settings={"T": T, "batch": B, "mus": mus, "gates": "i = mu, f = 1 - mu, o = 1, "
                  "candidate = identity, all gate weights zero"},
        table=[(f"max |LSTM c_t - gamma tap 1|, mu = {m:g}", "equal by construction",
                f"{d:.1e}") for m, d in diffs.items()],
        notes=(
            "The gates are sigmoids of their biases, so i = mu and f = 1 - mu hold only up to "
            "rounding (about 1e-16); the differences are that rounding. Quick and full settings "
            "are identical."
        ),
        curves={"mu": 0.3, "x": shown[0], "cell": shown[1], "tap1": shown[2], "max_diff": worst},
    )
