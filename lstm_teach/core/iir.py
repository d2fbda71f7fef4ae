"""The first-order IIR filter and the gamma memory: recurrence before neural networks.

The simplest recurrent system has one state ``y`` and one weight ``w``::

    y_t = w * y_{t-1} + b * x_t

It is an *infinite impulse response* (IIR) filter: a single input pulse keeps
echoing through the feedback loop as ``b * w**n`` for ever. Everything the
course says later about vanishing and exploding gradients is already visible
in that one power of ``w``.

The gamma memory (de Vries & Principe, 1992) chains ``K`` leaky integrators.
Its first tap is exactly the cell state of an LSTM whose gates are frozen at
``f = 1 - mu`` and ``i = mu`` (lesson 03).

Shapes
------
A signal is ``(T,)`` or a batch of signals ``(B, T)``: time is the last axis,
batch first, as everywhere in the package. The gamma memory adds its taps as
a trailing feature axis: ``(T, K)`` or ``(B, T, K)``.

Indexing convention (used for the filter *and* the gamma memory)
-----------------------------------------------------------------
Index ``t`` of an output holds the state *after* the input ``x_t`` has been
read, exactly like ``c_t`` of an LSTM: ``y[0] = w * y0 + b * x[0]``.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import as_float_array, check_finite, check_positive_int

STABILITY_CLASSES = ("stable", "integrator", "marginal", "unstable")


# --------------------------------------------------------------------------------------
# input validation shared by this module
# --------------------------------------------------------------------------------------
def _signal(name: str, x) -> np.ndarray:
    """Return ``x`` as a float array of shape (T,) or (B, T), or raise."""
    x = as_float_array(name, x)
    if x.ndim not in (1, 2) or x.shape[-1] == 0:
        raise ValueError(
            f"{name} must be a signal of shape (T,) or a batch of signals (B, T) with T >= 1; "
            f"got shape {x.shape}"
        )
    check_finite(name, x)
    return x


def _coefficient(name: str, value, batch: int | None, dtype) -> np.ndarray:
    """A filter coefficient: a scalar, or one value per batch row, shape () or (B,)."""
    arr = as_float_array(name, value).astype(dtype, copy=False)
    check_finite(name, arr)
    if arr.ndim == 0:
        return arr
    if batch is None or arr.shape != (batch,):
        expected = "a scalar" if batch is None else f"a scalar or shape ({batch},)"
        raise ValueError(f"{name} must be {expected}, one value per signal; got shape {arr.shape}")
    return arr


def _scalar(name: str, value) -> float:
    """A finite real scalar, or raise."""
    arr = as_float_array(name, value)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar; got an array of shape {arr.shape}")
    check_finite(name, arr)
    return float(arr)


# --------------------------------------------------------------------------------------
# the first-order filter
# --------------------------------------------------------------------------------------
def iir_filter(x, w, b=1.0, y0=0.0) -> np.ndarray:
    """Run the first-order IIR filter ``y_t = w * y_{t-1} + b * x_t``.

    Parameters
    ----------
    x : array, shape (T,) or (B, T)
        Input signal(s); time is the last axis.
    w : float or array of shape (B,)
        Feedback weight, the pole of the filter. An array gives every signal of
        the batch its own ``w`` (handy for comparing several filters at once).
    b : float or array of shape (B,)
        Input weight.
    y0 : float or array of shape (B,)
        The state before the first input, ``y_{-1}``.

    Returns
    -------
    y : array, same shape and dtype as ``x``
        ``y[..., t]`` is the state after reading ``x[..., t]``.

    Examples
    --------
    >>> iir_filter([1.0, 0.0, 0.0], w=0.5)
    array([1.  , 0.5 , 0.25])
    """
    x = _signal("x", x)
    batch = x.shape[0] if x.ndim == 2 else None
    w = _coefficient("w", w, batch, x.dtype)
    b = _coefficient("b", b, batch, x.dtype)
    y_prev = _coefficient("y0", y0, batch, x.dtype)
    y = np.empty_like(x)
    bx = b[..., None] * x if b.ndim else b * x  # the input term for every step at once
    with np.errstate(over="ignore", invalid="ignore"):  # |w| > 1 may legitimately blow up
        for t in range(x.shape[-1]):
            y_prev = w * y_prev + bx[..., t]
            y[..., t] = y_prev
    return y


def _impulse(n: int) -> np.ndarray:
    x = np.zeros(n)
    x[0] = 1.0
    return x


def _response(x: np.ndarray, w, b) -> np.ndarray:
    """Feed one probe signal ``x`` (n,) through a scalar filter or one filter per ``w``."""
    w_arr = as_float_array("w", w)
    if w_arr.ndim == 0:
        return iir_filter(x, w_arr, b)
    if w_arr.ndim != 1:
        raise ValueError(f"w must be a scalar or a 1-D array of weights; got shape {w_arr.shape}")
    return iir_filter(np.tile(x, (len(w_arr), 1)), w_arr, b)


def impulse_response(w, n: int, b=1.0) -> np.ndarray:
    """The first ``n`` samples of the filter's response to a unit impulse: ``b * w**k``.

    Computed by running the filter (not from the formula), so it shows what
    the recurrence does; the tests compare it with ``b * w**k``.

    Parameters
    ----------
    w : float or array of shape (B,)
        Feedback weight(s).
    n : int
        Number of samples.
    b : float or array of shape (B,)
        Input weight.

    Returns
    -------
    h : array, shape (n,) for a scalar ``w``, (B, n) for an array of weights
    """
    n = check_positive_int("n", n)
    return _response(_impulse(n), w, b)


def step_response(w, n: int, b=1.0) -> np.ndarray:
    """The first ``n`` samples of the response to a unit step (x_t = 1 for t >= 0).

    Sample ``k`` is ``b * (1 + w + ... + w**k)``, i.e. ``b * (1 - w**(k+1)) / (1 - w)``,
    and ``b * (k + 1)`` for the integrator ``w = 1``.

    Returns
    -------
    s : array, shape (n,) for a scalar ``w``, (B, n) for an array of weights
    """
    n = check_positive_int("n", n)
    return _response(np.ones(n), w, b)


def pole(w) -> float:
    """The pole of ``H(z) = b / (1 - w z^-1) = b z / (z - w)``: it sits at ``z = w``.

    The filter is stable exactly when the pole lies inside the unit circle.
    """
    return _scalar("w", w)


def classify_stability(w, tol: float = 1e-12) -> str:
    """Name the behaviour of ``y_t = w * y_{t-1} + b * x_t`` for a real weight ``w``.

    Returns
    -------
    str, one of
        ``"stable"``
            ``|w| < 1``: the impulse response ``w**n`` decays to zero, and a
            bounded input gives a bounded output (BIBO stable).
        ``"integrator"``
            ``w = 1``: the pole is on the unit circle at z = 1. The impulse
            response stays at ``b`` for ever and a step grows linearly without
            bound: the filter adds up (integrates) its input. Marginally stable.
        ``"marginal"``
            ``w = -1``: the pole is on the unit circle at z = -1. The impulse
            response flips sign every step (``b, -b, b, ...``) without decaying;
            an input alternating in sign at that rhythm grows linearly.
            Marginally stable, oscillating.
        ``"unstable"``
            ``|w| > 1``: the impulse response grows geometrically.

    ``tol`` is the distance from ``|w| = 1`` still counted as on the unit circle.
    """
    w = _scalar("w", w)
    if abs(w - 1.0) <= tol:
        return "integrator"
    if abs(w + 1.0) <= tol:
        return "marginal"
    return "stable" if abs(w) < 1.0 else "unstable"


def time_constant(w) -> float:
    """Steps for the impulse response to shrink by a factor e: ``-1 / ln|w|``.

    ``|w|**n = exp(-n / tau)``. Infinite for ``|w| = 1``; negative for an
    unstable filter (then ``-tau`` is the time to grow by a factor e); zero for ``w = 0``.
    """
    w = _scalar("w", w)
    if w == 0.0:
        return 0.0
    log_w = math.log(abs(w))
    return math.inf if log_w == 0.0 else -1.0 / log_w


def frequency_response(w, b=1.0, n: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """``H(e^{j omega}) = b / (1 - w e^{-j omega})`` on ``n`` frequencies in [0, pi].

    ``w > 0`` gives a low-pass filter (slow inputs pass, fast ones are damped),
    ``w < 0`` a high-pass one.

    Returns
    -------
    omega : array, shape (n,)
        Angular frequency in radians per sample.
    H : complex array, shape (n,)
    """
    w, b = _scalar("w", w), _scalar("b", b)
    n = check_positive_int("n", n)
    omega = np.linspace(0.0, np.pi, n)
    with np.errstate(divide="ignore"):
        return omega, b / (1.0 - w * np.exp(-1j * omega))


# --------------------------------------------------------------------------------------
# the gamma memory
# --------------------------------------------------------------------------------------
def _mu(mu) -> float:
    mu = _scalar("mu", mu)
    if not 0.0 < mu < 2.0:
        raise ValueError(f"mu must lie in (0, 2) for a stable gamma memory; got {mu}")
    return mu


def gamma_memory(x, K: int, mu, y0=0.0) -> np.ndarray:
    """Run a gamma memory: a cascade of ``K`` identical leaky integrators.

    De Vries & Principe (1992) write tap ``k`` as
    ``x_k(t) = (1 - mu) x_k(t-1) + mu x_{k-1}(t-1)`` with ``x_0`` the input:
    every stage, the first included, has one unit delay. We return the same
    taps one step earlier, indexed like an LSTM cell state (index ``t`` = state
    after reading ``x_t``)::

        tap_1[t] = (1 - mu) * tap_1[t-1] + mu * x[t]            # = c_t of the frozen-gate LSTM
        tap_k[t] = (1 - mu) * tap_k[t-1] + mu * tap_{k-1}[t-1]  # k = 2..K

    so ``tap_k[t]`` equals the published ``x_k(t + 1)``. Counting that read as
    one step of delay, the mean delay of tap ``k`` is ``k / mu``
    (see :func:`gamma_mean_delay`), and the memory depth is ``K / mu``.

    Parameters
    ----------
    x : array, shape (T,) or (B, T)
        Input signal(s).
    K : int
        Number of taps.
    mu : float in (0, 2)
        Feed-forward weight of every stage; ``1 - mu`` is its feedback. ``mu = 1``
        turns the memory into a plain tapped delay line (tap_k[t] = x[t - k + 1]);
        smaller ``mu`` reaches further back with less resolution.
    y0 : float or array of shape (K,)
        Initial state of the taps.

    Returns
    -------
    taps : array, shape (T, K) or (B, T, K)
    """
    x = _signal("x", x)
    K = check_positive_int("K", K)
    mu = _mu(mu)
    state = np.broadcast_to(as_float_array("y0", y0).astype(x.dtype), (*x.shape[:-1], K)).copy()
    taps = np.empty((*x.shape, K), dtype=x.dtype)
    for t in range(x.shape[-1]):
        # what feeds each stage: the fresh input for tap 1, the previous step of tap k-1 otherwise
        feed = np.concatenate([x[..., t, None], state[..., :-1]], axis=-1)
        state = (1.0 - mu) * state + mu * feed
        taps[..., t, :] = state
    return taps


def gamma_impulse_response(K: int, mu, n: int) -> np.ndarray:
    """The first ``n`` samples of every tap's response to a unit impulse at t = 0.

    Returns
    -------
    g : array, shape (n, K)
        ``g[t, k-1]`` equals ``gamma_kernel(k, mu, t + 1)``, the discrete gamma kernel.
    """
    n = check_positive_int("n", n)
    return gamma_memory(_impulse(n), K, mu)


def gamma_kernel(k: int, mu, m) -> np.ndarray:
    """The discrete gamma kernel of tap ``k``, closed form (de Vries & Principe, 1992).

    ``g_k(m) = C(m - 1, k - 1) * mu**k * (1 - mu)**(m - k)`` for ``m >= k`` and 0 before,
    where ``m`` counts unit delays since the impulse. It sums to 1 over ``m``,
    and its mean ``sum_m m g_k(m)`` is ``k / mu``.

    Parameters
    ----------
    k : int
        Tap number, 1-based.
    mu : float in (0, 2)
    m : int or array of ints
        Delays at which to evaluate the kernel.

    Returns
    -------
    array, same shape as ``m``
    """
    k = check_positive_int("k", k)
    mu = _mu(mu)
    m = np.asarray(m)
    if m.dtype.kind not in "iu":
        raise TypeError(f"m must be an integer delay or array of delays; got dtype {m.dtype}")
    out = np.zeros(m.shape)
    valid = m >= k
    binom = np.array([math.comb(int(mi) - 1, k - 1) for mi in m[valid]], dtype=float)
    out[valid] = binom * mu**k * (1.0 - mu) ** (m[valid] - k)
    return out


def gamma_mean_delay(k: int, mu) -> float:
    """The mean delay of tap ``k``: ``k / mu`` steps (each stage adds ``1 / mu``)."""
    return check_positive_int("k", k) / _mu(mu)


def memory_depth(K: int, mu) -> float:
    """The memory depth of a ``K``-tap gamma memory, ``D = K / mu``: the mean delay of its
    last tap. Its resolution, the number of taps per step of depth, is ``R = mu``."""
    return gamma_mean_delay(K, mu)


def describe_stability(w) -> str:
    """A one-line, learner-facing sentence about the filter with weight ``w``."""
    kind = classify_stability(w)
    sentences = {
        "stable": "|w| < 1: the echo of an impulse dies out as w**n (stable).",
        "integrator": "w = 1: the echo never fades; the filter sums its input (integrator).",
        "marginal": "w = -1: the echo flips sign for ever without fading (marginal).",
        "unstable": "|w| > 1: the echo grows as w**n (unstable).",
    }
    return sentences[kind]
