"""The spectral-radius explorer (lesson 02): how the recurrent matrix's largest eigenvalue
scales the gradient flowing back through a simple RNN, computed and drawn without ipywidgets."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ...core._checks import check_positive_int
from ...core.rnn import rnn_forward
from ...core.utils import as_rng
from .. import analysis, viz


def spectral_radius_data(
    rho: float,
    input_scale: float = 0.0,
    matrix: str = "orthogonal",
    hidden_size: int = 32,
    T: int = 60,
    seed: int = 0,
) -> dict:
    """``||dh_T / dh_{T-k}||`` of a tanh RNN whose recurrent matrix has spectral radius ``rho``.

    The input weights are Gaussian with standard deviation ``input_scale``
    (per input) and the inputs are standard normal, so ``input_scale = 0``
    keeps ``h_t = 0`` and every ``tanh'`` at 1: the linear regime, where an
    orthogonal matrix gives exactly ``rho**k``. Larger inputs push the units
    into saturation, and ``tanh' < 1`` shortens the reach further.

    Returns
    -------
    dict with ``lags`` (T+1,), ``norms`` (T+1,) spectral norms, ``reference`` (T+1,)
    ``rho**lags``, ``measured_rho`` (largest |eigenvalue| of U), ``mean_slope`` (mean
    tanh' along the run), ``rho``, ``input_scale``, ``matrix``.
    """
    rng = as_rng(seed)
    H = check_positive_int("hidden_size", hidden_size)
    T = check_positive_int("T", T)
    D = 4
    params = {
        "W": input_scale * rng.standard_normal((D, H)),
        "U": analysis.matrix_with_spectral_radius(H, rho, kind=matrix, rng=rng),
        "b": np.zeros(H),
    }
    x = rng.standard_normal((1, T, D))
    jacobians = analysis.rnn_step_jacobians(params, x)
    lags = np.arange(T + 1)
    hs, _ = rnn_forward(x, params)
    slope = 1.0 - hs**2  # tanh' along the run: 1 in the linear regime, < 1 when saturating
    return {
        "lags": lags,
        "norms": analysis.jacobian_product_norms(jacobians)[0],
        "reference": float(rho) ** lags,
        "measured_rho": float(np.max(np.abs(np.linalg.eigvals(params["U"])))),
        "mean_slope": float(np.mean(slope)),
        "rho": float(rho),
        "input_scale": float(input_scale),
        "matrix": matrix,
    }


def draw_spectral_radius(result: dict):
    """Gradient norm against lag (log scale) with the linear-regime reference ``rho**k``."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2), layout="constrained")
    viz.plot_gradient_norms(
        result["norms"],
        lags=result["lags"],
        labels=[f"tanh RNN, mean tanh' = {result['mean_slope']:.2f}"],
        reference={f"rho^k, rho = {result['rho']:.2f}": result["reference"]},
        ax=ax,
        title=(
            f"||dh_T/dh_(T-k)||, {result['matrix']} U with spectral radius "
            f"{result['measured_rho']:.2f}, input scale {result['input_scale']:.2f}"
        ),
    )
    ax.axhline(1.0, color="0.6", lw=0.8)
    return fig
