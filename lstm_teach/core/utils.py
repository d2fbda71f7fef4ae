"""Small helpers used across the kit: random generators and the QUICK switch."""

from __future__ import annotations

import os

import numpy as np

QUICK_ENV = "LSTM_TEACH_QUICK"


def as_rng(rng=None) -> np.random.Generator:
    """Return a ``np.random.Generator``.

    Parameters
    ----------
    rng : None, int or np.random.Generator
        A Generator is returned unchanged (so callers share its stream); an int
        seeds a new one; None gives a fresh, unseeded one.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be None, an int seed or a np.random.Generator; got {rng!r}")


def is_quick() -> bool:
    """True when the environment asks for the small CI setting (``LSTM_TEACH_QUICK=1``).

    Notebooks read this to shrink long experiments; course CI sets it.
    """
    return os.environ.get(QUICK_ENV, "").strip().lower() not in ("", "0", "false", "no")
