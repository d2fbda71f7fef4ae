"""The fast implementations: the same signatures as the readable core, vectorised.

``lstm_teach.kernels.lstm_forward`` computes exactly what
``lstm_teach.lstm_forward`` (the reference in :mod:`lstm_teach.core.lstm`)
computes, to rounding error, and its cache has the same public views
(``cache.c``, ``cache.h``, ``cache.gates[...]``). The layers, the experiments
and the benchmark use it wherever speed matters.

:func:`keep_freed_memory` is the kernels' one process-wide setting (glibc
keeps freed memory for reuse); nothing applies it at import: the command line
does, and a long training script can opt in.
"""

from ._runtime import keep_freed_memory
from .lstm import (
    LSTMCache,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
)

__all__ = ["LSTMCache", "keep_freed_memory", "lstm_backward", "lstm_forward", "lstm_step_backward",
           "lstm_step_forward"]
