"""Checks for solutions/04_sequence_lstm.ipynb: the LSTM over a whole sequence, forward and back.

The step functions are the package's, so both checks look only at the loop
over time (see :mod:`lstm_teach.grading.sequence_diagnosis`).
"""

from __future__ import annotations

from ..checks import register
from ..sequence_diagnosis import diagnose_backward, diagnose_forward, sequence_fixture

EXERCISE_SET = "04_sequence_lstm"


@register("lstm_forward", EXERCISE_SET, points=2, title="The LSTM over a sequence, forward")
def check_lstm_forward(fn):
    """``fn(x, params, h0=None, c0=None) -> (hs, caches)``."""
    lines = diagnose_forward(fn, sequence_fixture(21))
    diagnose_forward(fn, sequence_fixture(22, B=3, T=2, D=1, H=2))
    return lines


@register("lstm_backward", EXERCISE_SET, points=3,
          title="Backpropagation through time for the LSTM")
def check_lstm_backward(fn):
    """``fn(dhs, caches, dcT=None) -> (dx, dh0, dc0, grads)``."""
    lines = diagnose_backward(fn, sequence_fixture(23))
    diagnose_backward(fn, sequence_fixture(24, B=3, T=2, D=1, H=2))
    return lines
