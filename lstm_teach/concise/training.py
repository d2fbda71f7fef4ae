"""The training loop's safety net, shared by every trainer in the kit.

A training step can go wrong in two ways a learner should never have to debug:
the numbers blow up (NaN, inf, or a loss that explodes), or Ctrl-C arrives
halfway through a weight update. This module holds the one policy for both:
:class:`TrainingDivergedError` names the step and what went wrong, the last
good parameters are kept, and :func:`hold_interrupts` makes an update atomic.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Mapping

import numpy as np


class TrainingDivergedError(RuntimeError):
    """``fit`` met a NaN or inf (loss, gradient or updated weights).

    Attributes
    ----------
    epoch, batch : int
        0-based epoch and batch index of the failing step.
    step : int
        1-based global step number (counting every batch of every epoch).
    quantity : str
        ``"loss"``, ``"gradient"`` or ``"weights"``.
    value : float
        The offending value (the loss, or the gradient norm).
    history : History
        Everything recorded before the failure.
    """

    def __init__(self, message, *, epoch, batch, step, quantity, value, history):
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch
        self.step = step
        self.quantity = quantity
        self.value = value
        self.history = history


class _Diverged(Exception):
    def __init__(self, quantity, value):
        super().__init__(quantity)
        self.quantity, self.value = quantity, value


def _snapshot_buffers(params: Mapping[str, np.ndarray]) -> list:
    """Pairs (live array, private copy) used to restore the last good weights."""
    return [(p, p.copy()) for p in params.values()]


def _snapshot(good) -> None:
    for live, saved in good:
        np.copyto(saved, live)


def _restore(good) -> None:
    for live, saved in good:
        np.copyto(live, saved)


@contextlib.contextmanager
def hold_interrupts():
    """Delay Ctrl-C until the block has finished, so a weight update is never half-applied.

    Only in the main thread and only when SIGINT has a Python handler (the
    default one raises KeyboardInterrupt); otherwise a no-op.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous):
        yield
        return
    received = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            previous(signal.SIGINT, received[0])
