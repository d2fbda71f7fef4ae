"""Memory tasks: the latch problem (Bengio et al. 1994), the copy task, and the timed
spikes of Gers, Schraudolph & Schmidhuber (2002).
"""

from __future__ import annotations

import math

import numpy as np

from ...core._checks import check_positive_int
from ...core.utils import as_rng
from ._common import _int_at_least, _real

# --------------------------------------------------------------------------
# latch and copy
# --------------------------------------------------------------------------


def latch_problem(
    n: int,
    T: int,
    rng=None,
    L: int = 1,
    noise_std: float = math.sqrt(0.2),
    target: float = 0.8,
    value: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The information-latching problem (Bengio, Simard & Frasconi 1994).

    Two classes. In the first ``L`` steps the input carries the class: ``+value``
    for class 1 and ``-value`` for class 0. Every later step is Gaussian noise
    with mean 0 and standard deviation ``noise_std``. The target, read only at
    the last step, is ``+target`` or ``-target``. A single tanh unit
    ``h_t = tanh(w h_{t-1} + u x_t + b)`` solves it by *latching*: a recurrent
    weight w > 1 gives two stable states, and the class decides which one the
    unit falls into. Noise keeps pushing it, so learning needs gradients that
    survive T steps, which is exactly what becomes hard as T grows.

    Bengio et al. trained the class-dependent inputs of the first L steps
    themselves (one free value per class and step); to reproduce that, ignore
    ``x[:, :L]`` and add a trainable value chosen by the class
    (``y[:, 0] > 0``). The defaults (one class step, targets +-0.8, noise
    variance 0.2) follow the description of the task ("latch variant I") in
    Hochreiter & Schmidhuber's note on solving such benchmarks by random weight
    guessing (1996). Classes are balanced exactly (half each, in random order).

    Baseline: answering 0 gives MSE ``target**2`` (0.64) and 50% accuracy
    (class = sign of the output).

    Parameters
    ----------
    n : int
        Number of sequences.
    T : int
        Total sequence length, at least L + 1 (so that noise follows the class).
    rng : np.random.Generator or int, optional
    L : int
        Number of class-carrying steps at the start.
    noise_std : float
        Standard deviation of the noise after step L (default sqrt(0.2)).
    target, value : float
        Magnitudes of the target and of the class input.

    Returns
    -------
    x : np.ndarray, shape (n, T, 1), float64
    y : np.ndarray, shape (n, 1), float64
        ``+target`` for class 1, ``-target`` for class 0.
    """
    n = check_positive_int("n", n)
    L = check_positive_int("L", L)
    T = _int_at_least("T", T, L + 1, f"L={L} class steps followed by at least one noise step")
    noise_std = _real("noise_std", noise_std, low=0.0)
    target = _real("target", target)
    value = _real("value", value)
    rng = as_rng(rng)
    sign = np.where(rng.permutation(np.arange(n) % 2) == 1, 1.0, -1.0)
    x = np.empty((n, T, 1))
    x[:, :L, 0] = sign[:, None] * value
    x[:, L:, 0] = rng.normal(0.0, noise_std, size=(n, T - L)) if noise_std > 0 else 0.0
    y = (sign * target)[:, None]
    return x, y


def copy_task(n: int, T: int, rng=None, n_symbols: int = 8, length: int = 10):
    """The copy (memory) task in the layout of Arjovsky, Shah & Bengio (2016).

    Symbol ids ``0 .. n_symbols-1`` are data, ``n_symbols`` is the blank and
    ``n_symbols + 1`` the delimiter. The input is ``length`` data symbols drawn
    uniformly (with replacement), then ``T - 1`` blanks, the delimiter, and
    ``length`` more blanks: ``T + 2*length`` steps. The output is blank for the
    first ``T + length`` steps and then the data symbols in the original order,
    so the network has to hold them for T steps. (Hochreiter & Schmidhuber 1997
    used related "remember and reproduce" tasks; this layout is the modern
    standard.)

    Baseline: predicting blanks until the delimiter and then a uniform guess
    gives cross-entropy ``length * ln(n_symbols) / (T + 2*length)`` per step
    (:func:`copy_baseline_cross_entropy`; 10 ln 8 / 120 ~ 0.173 at T = 100).

    Returns
    -------
    x : np.ndarray, shape (n, T + 2*length, n_symbols + 2), float64
        One-hot inputs.
    y : np.ndarray, shape (n, T + 2*length), int64
        Target symbol ids.
    """
    n = check_positive_int("n", n)
    T = check_positive_int("T", T)
    n_symbols = check_positive_int("n_symbols", n_symbols)
    length = check_positive_int("length", length)
    rng = as_rng(rng)
    blank, delimiter = n_symbols, n_symbols + 1
    total = T + 2 * length
    data = rng.integers(0, n_symbols, size=(n, length))
    inputs = np.full((n, total), blank, dtype=np.int64)
    inputs[:, :length] = data
    inputs[:, T + length - 1] = delimiter
    y = np.full((n, total), blank, dtype=np.int64)
    y[:, T + length :] = data
    return np.eye(n_symbols + 2)[inputs], y


def copy_baseline_cross_entropy(T: int, n_symbols: int = 8, length: int = 10) -> float:
    """Mean per-step cross-entropy (nats) of the memoryless baseline of :func:`copy_task`."""
    T = check_positive_int("T", T)
    n_symbols = check_positive_int("n_symbols", n_symbols)
    length = check_positive_int("length", length)
    return length * math.log(n_symbols) / (T + 2 * length)


def timed_spikes_batch(n: int, rng=None, period: int = 6, length: int = 40, latest: int = 5):
    """A timing task in the spirit of Gers, Schraudolph & Schmidhuber (2002).

    A single trigger spike arrives at a random step ``t0`` in ``[1, latest]``.
    From then on the network must emit a spike exactly every ``period``
    steps (at ``t0 + period``, ``t0 + 2 period``, ...) and stay silent in
    between, with no further input to help it: it has to count time in its
    state and restart the count after every spike.

    Returns
    -------
    x : (n, length, 1) float64
        The trigger.
    y : (n, length, 1) float64
        The spike train to produce (0/1).
    """
    rng = as_rng(rng)
    t0 = rng.integers(1, latest + 1, size=n)
    x = np.zeros((n, length, 1))
    x[np.arange(n), t0, 0] = 1.0
    since = np.arange(length)[None, :] - t0[:, None]
    y = ((since > 0) & (since % period == 0)).astype(np.float64)[..., None]
    return x, y
