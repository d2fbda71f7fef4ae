"""The fast implementations: the same signatures as the readable core, vectorised.

``lstm_teach.kernels.lstm_forward`` computes exactly what
``lstm_teach.lstm_forward`` (the reference in :mod:`lstm_teach.core.lstm`)
computes, to rounding error, and its cache has the same public views
(``cache.c``, ``cache.h``, ``cache.gates[...]``). The layers, the experiments
and the benchmark use it wherever speed matters.

The process-wide settings the kernels run best with live in one place,
:mod:`lstm_teach.kernels._runtime`: :func:`keep_freed_memory` (glibc keeps
freed memory for reuse) and :func:`single_blas_thread` (one OpenBLAS thread for
a block of tiny matrix products). Nothing applies them at import: the command
line and the reproductions do, and a long training script can opt in.
"""

from ._runtime import keep_freed_memory, single_blas_thread
from .lstm import (
    LSTMCache,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
)

__all__ = ["LSTMCache", "keep_freed_memory", "lstm_backward", "lstm_forward",
           "lstm_step_backward", "lstm_step_forward", "single_blas_thread"]
