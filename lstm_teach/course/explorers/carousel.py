"""The carousel explorer (lesson 04): the cell state forward, the error backward, computed
and drawn without ipywidgets.

An LSTM layer reads a fixed random sequence. Forward, we show its cell states
``c_t``. Backward, we inject an error at the last cell state (``L = e . c_T``)
and show what reaches every earlier step: the full gradient ``dL/dc_t`` that
backpropagation through time computes, beside the carousel's own share, the
error multiplied only by the forget gates on the way back. The controls are
the forget-gate bias (shown with the half-life it gives), the gate paths
(cut them by zeroing the recurrent weights ``U``, as lesson 04 does) and the
peepholes.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from ...core._checks import check_positive_int
from ...core.init import init_lstm
from ...core.lstm_config import LSTMConfig
from ...kernels.lstm import lstm_forward
from .. import analysis, diagrams


def half_life(f: float) -> float:
    """Steps after which a value kept with factor ``f`` per step has halved: ``ln 2 / -ln f``.

    ``inf`` for ``f = 1`` (nothing is lost), 0 for ``f = 0``.
    """
    f = float(f)
    if not 0.0 <= f <= 1.0:
        raise ValueError(f"f must lie in [0, 1]; got {f}")
    if f == 1.0:
        return math.inf
    if f == 0.0:
        return 0.0
    return math.log(2.0) / -math.log(f)


def carousel_explorer_data(forget_bias: float = 3.0, gate_paths: bool = True,
                           peepholes: bool = False, T: int = 60, units: int = 8,
                           seed: int = 0) -> dict:
    """Run one LSTM layer forward and an injected error backward; split off the carousel.

    Parameters
    ----------
    forget_bias : float
        Every forget-gate bias; at initialisation ``f_t`` sits near ``sigmoid(forget_bias)``.
    gate_paths : bool
        False sets the recurrent weights ``U`` to zero, so nothing reaches the
        gates through ``h_{t-1}`` and only the carousel (and any peepholes)
        carries the error back.
    peepholes : bool
        Use the peephole cell (``LSTMConfig(peepholes=True)``), whose gates also
        read the cell state.
    T : int
        Sequence length (the longest lag shown is ``T - 1``).
    units : int
        Number of cells ``H``.
    seed : int
        Seed of the weights and of the input sequence.

    Returns
    -------
    dict with ``t`` (T,) time steps 1..T; ``c`` (T, H) cell states; ``f`` (T, H)
    forget gates; ``lags`` (T,); ``flow`` (T, H) the full ``dL/dc`` at each
    lag (lag 0 first, the injected error); ``full_norm`` and ``carousel_norm``
    (T,) the norms of the full gradient and of the carousel's share
    ``e * f_T * f_(T-1) ...``; ``f_mean`` and ``half_life`` (the half-life of
    the mean forget gate, in steps); and the settings.
    """
    T = check_positive_int("T", T)
    units = check_positive_int("units", units)
    rng = np.random.default_rng(seed)
    config = LSTMConfig(peepholes=bool(peepholes))
    params = init_lstm(3, units, config=config, rng=rng, unit_forget_bias=False)
    params["b"][units:2 * units] = float(forget_bias)
    if not gate_paths:
        params["U"][:] = 0.0
    x = rng.standard_normal((1, T, 3))
    _, cache = lstm_forward(x, params, config=config)
    e = np.full(units, 1.0 / math.sqrt(units))
    flow = analysis.lstm_error_flow(params, x, error=e, config=config)[0][::-1]   # lag 0 first
    f_back = cache.gates["f"][0, ::-1]                                           # f_T first
    carousel = np.vstack([np.ones(units), np.cumprod(f_back, axis=0)[:-1]]) * e
    f_mean = float(cache.gates["f"].mean())
    return {
        "t": np.arange(1, T + 1),
        "c": cache.c[0].copy(),
        "f": cache.gates["f"][0].copy(),
        "lags": np.arange(T),
        "flow": flow,
        "full_norm": np.linalg.norm(flow, axis=-1),
        "carousel_norm": np.linalg.norm(carousel, axis=-1),
        "f_mean": f_mean,
        "half_life": half_life(f_mean),
        "forget_bias": float(forget_bias),
        "gate_paths": bool(gate_paths),
        "peepholes": bool(peepholes),
    }


def draw_carousel_explorer(result: dict, fixed_ylim: bool = True):
    """The paths diagram, the cell states forward and the error backward, in one figure.

    ``fixed_ylim`` keeps the axes' limits the same whatever the controls, so
    that moving a slider shows a change of size, not a change of scale.
    """
    fig = plt.figure(figsize=(13, 7.2), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=(1.05, 1))
    diagrams.carousel_paths(gate_paths=result["gate_paths"], peepholes=result["peepholes"],
                            f=result["f_mean"], ax=top.subplots())
    ax_c, ax_e = bottom.subplots(1, 2)
    ax_c.plot(result["t"], result["c"], lw=1.2)
    ax_c.axhline(0, color="0.7", lw=0.8)
    ax_c.set(title="forward: the cell states c_t (one line per cell)", xlabel="time step t",
             ylabel="c_t")
    lags = result["lags"]
    ax_e.semilogy(lags, result["full_norm"], "k", lw=2.2, label="full gradient ||dL/dc||")
    ax_e.semilogy(lags, result["carousel_norm"], "--", color=diagrams.COLORS["c"], lw=2,
                  label="the carousel's share")
    ax_e.set(title="backward: the error injected at the last step, k steps earlier",
             xlabel="lag k (time steps)", ylabel="norm (log scale)")
    if fixed_ylim:
        ax_c.set_ylim(-6, 6)
        ax_e.set_ylim(1e-16, 1e3)
    ax_e.legend(loc="lower left", fontsize="small")
    hl = result["half_life"]
    fig.suptitle(f"forget bias {result['forget_bias']:g}: mean f = {result['f_mean']:.3f}, "
                 f"half-life {'infinite' if math.isinf(hl) else f'{hl:.1f} steps'};  "
                 f"gate paths {'on' if result['gate_paths'] else 'cut'}, "
                 f"peepholes {'on' if result['peepholes'] else 'off'}")
    return fig
