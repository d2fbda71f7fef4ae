"""Time series: sines, Mackey-Glass, superimposed sines and sliding windows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...core._checks import check_choice, check_positive_int
from ...core.utils import as_rng
from ._common import _int_at_least, _nonneg_int, _pair, _real

# --------------------------------------------------------------------------
# time series
# --------------------------------------------------------------------------


def sine_wave(length: int, period: float = 20.0, phase: float = 0.0, amplitude: float = 1.0):
    """``amplitude * sin(2 pi t / period + phase)`` for ``t = 0 .. length-1``; shape (length,)."""
    length = check_positive_int("length", length)
    period = _real("period", period, low=0.0, low_open=True)
    phase = _real("phase", phase)
    amplitude = _real("amplitude", amplitude)
    t = np.arange(length, dtype=np.float64)
    return amplitude * np.sin(2.0 * np.pi * t / period + phase)


def sine_batch(
    n: int,
    T: int,
    rng=None,
    period_range: Sequence[float] = (10.0, 40.0),
    amplitude_range: Sequence[float] = (0.5, 1.0),
    noise_std: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Sine waves with random period, amplitude and phase, for next-step prediction.

    Each sequence is ``a * sin(2 pi t / p + phi)`` with p uniform on
    ``period_range``, a uniform on ``amplitude_range`` and phi uniform on
    [0, 2 pi). The target at step t is the clean value at step t + 1; optional
    Gaussian noise is added to the inputs only.

    Baseline: predicting 0 gives MSE ``E[a^2] / 2`` (about 0.29 for the default
    amplitudes); repeating the current input ("persistence") is much better, so
    compare against that too.

    Returns
    -------
    x : np.ndarray, shape (n, T, 1), float64
    y : np.ndarray, shape (n, T, 1), float64
    """
    n = check_positive_int("n", n)
    T = check_positive_int("T", T)
    period_range = _pair("period_range", period_range)
    amplitude_range = _pair("amplitude_range", amplitude_range)
    p_lo = _real("period_range[0]", period_range[0], low=0.0, low_open=True)
    p_hi = _real("period_range[1]", period_range[1], low=p_lo)
    a_lo = _real("amplitude_range[0]", amplitude_range[0])
    a_hi = _real("amplitude_range[1]", amplitude_range[1], low=a_lo)
    noise_std = _real("noise_std", noise_std, low=0.0)
    rng = as_rng(rng)
    period = rng.uniform(p_lo, p_hi, size=(n, 1))
    amplitude = rng.uniform(a_lo, a_hi, size=(n, 1))
    phase = rng.uniform(0.0, 2.0 * np.pi, size=(n, 1))
    t = np.arange(T + 1, dtype=np.float64)[None, :]
    series = amplitude * np.sin(2.0 * np.pi * t / period + phase)
    x = series[:, :T].copy()
    if noise_std > 0:
        x += rng.normal(0.0, noise_std, size=x.shape)
    return x[..., None], series[:, 1:, None]


#: Angular frequencies of the superimposed sine benchmarks of Evolino.
EVOLINO_FREQUENCIES = (0.2, 0.311, 0.42, 0.51, 0.74)


def superimposed_sines(length: int, n_waves: int = 2, start: int = 0) -> np.ndarray:
    """Sum of sines with incommensurate frequencies (Schmidhuber et al. 2007, Evolino).

    ``s(t) = sum_k sin(lambda_k t)`` over the first ``n_waves`` of
    :data:`EVOLINO_FREQUENCIES` (0.2, 0.311, 0.42, 0.51, 0.74), for
    ``t = start .. start + length - 1``. The sum never repeats exactly, so a
    predictor must track several oscillations at once; Evolino's benchmark runs
    from two to five waves. Values lie in ``[-n_waves, n_waves]``; divide by
    ``n_waves`` to scale into [-1, 1].

    Returns
    -------
    np.ndarray, shape (length,), float64
    """
    length = check_positive_int("length", length)
    n_waves = _int_at_least("n_waves", n_waves, 1)
    if n_waves > len(EVOLINO_FREQUENCIES):
        raise ValueError(f"n_waves must be at most {len(EVOLINO_FREQUENCIES)}; got {n_waves}")
    start = _nonneg_int("start", start)
    t = np.arange(start, start + length, dtype=np.float64)
    return np.sin(np.outer(t, EVOLINO_FREQUENCIES[:n_waves])).sum(axis=1)


def _steps_per(name: str, span: float, dt: float) -> int:
    steps = span / dt
    if abs(steps - round(steps)) > 1e-9 * max(1.0, steps) or round(steps) < 1:
        raise ValueError(f"{name}={span} must be a positive whole multiple of dt={dt}")
    return int(round(steps))


def mackey_glass(
    length: int,
    tau: float = 17.0,
    beta: float = 0.2,
    gamma: float = 0.1,
    exponent: float = 10.0,
    dt: float = 0.1,
    sample_every: float = 1.0,
    x0: float = 1.2,
    discard: float = 500.0,
) -> np.ndarray:
    """The Mackey-Glass delay differential equation, sampled at regular times.

    ``dx/dt = beta * x(t - tau) / (1 + x(t - tau)**exponent) - gamma * x(t)``
    (Mackey & Glass 1977). With the standard ``tau = 17``, beta 0.2, gamma 0.1
    and exponent 10 the series is chaotic but quasi-periodic (a dominant
    period of about 50 time units), stays within about [0.4, 1.35] and has a
    mean near 0.93; it is a classic benchmark for time-series prediction with
    recurrent networks (e.g. Gers, Eck & Schmidhuber 2001; Evolino).

    Integration: fourth-order Runge-Kutta with step ``dt`` on a grid where tau
    is a whole number of steps; the delayed value at RK4's half steps is the
    mean of the two neighbouring grid values. The history for t <= 0 is the
    constant ``x0``; the first ``discard`` time units (the transient) are
    dropped, then one value is kept every ``sample_every`` time units. The
    result is deterministic given the parameters.

    Returns
    -------
    np.ndarray, shape (length,), float64
    """
    length = check_positive_int("length", length)
    tau = _real("tau", tau, low=0.0, low_open=True)
    beta = _real("beta", beta)
    gamma = _real("gamma", gamma)
    exponent = _real("exponent", exponent)
    dt = _real("dt", dt, low=0.0, low_open=True)
    sample_every = _real("sample_every", sample_every, low=0.0, low_open=True)
    x0 = _real("x0", x0, low=0.0, low_open=True)
    discard = _real("discard", discard, low=0.0)
    lag = _steps_per("tau", tau, dt)
    stride = _steps_per("sample_every", sample_every, dt)
    skip = 0 if discard == 0 else _steps_per("discard", discard, dt)

    def rate(x_now, x_delayed):
        return beta * x_delayed / (1.0 + x_delayed**exponent) - gamma * x_now

    n_steps = skip + length * stride
    x = np.empty(lag + 1 + n_steps)
    x[: lag + 1] = x0  # constant history on [-tau, 0]
    for i in range(lag, lag + n_steps):
        now, d0, d1 = x[i], x[i - lag], x[i - lag + 1]
        d_half = 0.5 * (d0 + d1)
        k1 = rate(now, d0)
        k2 = rate(now + 0.5 * dt * k1, d_half)
        k3 = rate(now + 0.5 * dt * k2, d_half)
        k4 = rate(now + dt * k3, d1)
        x[i + 1] = now + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    begin = lag + skip + stride  # x[lag] is t = 0; the first kept sample is one stride later
    return x[begin : begin + length * stride : stride].copy()


def sliding_windows(
    series, T: int, horizon: int = 1, stride: int = 1, target: str = "sequence"
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a 1-D series into windows for ``horizon``-step-ahead prediction.

    Window i starts at ``s = i * stride``; its input is ``series[s : s + T]``.
    With ``target="sequence"`` the target is ``series[s + horizon : s + T +
    horizon]`` (a prediction at every step); with ``target="last"`` it is only
    ``series[s + T - 1 + horizon]``.

    Parameters
    ----------
    series : array_like, shape (L,)
    T : int
        Window length.
    horizon : int
        How far ahead to predict (1 = next step).
    stride : int
        Step between window starts.
    target : {"sequence", "last"}

    Returns
    -------
    x : np.ndarray, shape (N, T, 1), float64
    y : np.ndarray, shape (N, T, 1) or (N, 1), float64
        ``N = (L - T - horizon) // stride + 1``.
    """
    series = np.asarray(series, dtype=np.float64)
    if series.ndim != 1:
        raise ValueError(f"series must be 1-D with shape (L,); got shape {series.shape}")
    T = check_positive_int("T", T)
    horizon = check_positive_int("horizon", horizon)
    stride = check_positive_int("stride", stride)
    check_choice("target", target, ("sequence", "last"))
    span = T + horizon
    if series.size < span:
        raise ValueError(
            f"series is too short: windows of T={T} with horizon={horizon} need at least "
            f"{span} values; got {series.size}"
        )
    starts = np.arange(0, series.size - span + 1, stride)
    x = series[starts[:, None] + np.arange(T)[None, :]][..., None]
    if target == "sequence":
        y = series[starts[:, None] + horizon + np.arange(T)[None, :]][..., None]
    else:
        y = series[starts + T - 1 + horizon][:, None]
    return x, y
