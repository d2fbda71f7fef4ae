"""Test inputs for the explorers: an impulse, a step, a pulse, a sine or noise."""

from __future__ import annotations

import numpy as np

from ...core._checks import check_choice, check_positive_int
from ...core.utils import as_rng

SIGNALS = ("impulse", "step", "pulse", "sine", "noise")


def make_signal(kind: str, n: int, rng=0) -> np.ndarray:
    """A test input of ``n`` samples, shape (n,).

    ``"impulse"``: 1 at t = 0, then 0. ``"step"``: 1 from t = 0 on.
    ``"pulse"``: 1 for a short block (t = n//8 .. n//4 - 1), 0 elsewhere.
    ``"sine"``: a sine with a period of 16 steps. ``"noise"``: Gaussian,
    standard deviation 0.5, drawn from ``rng`` (seed 0 by default, so the
    widgets are reproducible).
    """
    check_choice("signal", kind, SIGNALS)
    n = check_positive_int("n", n)
    t = np.arange(n)
    if kind == "impulse":
        return (t == 0).astype(float)
    if kind == "step":
        return np.ones(n)
    if kind == "pulse":
        return ((t >= n // 8) & (t < max(n // 4, n // 8 + 1))).astype(float)
    if kind == "sine":
        return np.sin(2 * np.pi * t / 16)
    return 0.5 * as_rng(rng).standard_normal(n)
