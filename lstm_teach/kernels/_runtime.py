"""The kit's process-wide runtime settings, in one place: freed memory and BLAS threads.

Nothing here runs at import. :func:`keep_freed_memory` and
:func:`single_blas_thread` are applied by the entry points that need them (the
command line, the reproductions, the benchmark) or by a user who opts in.

**Freed memory.**

glibc hands large freed blocks (above an adaptive threshold that starts at
128 KiB) back to the operating system, so the next array of the same size
starts on fresh pages and pays one page fault per 4 KiB the first time each
page is written. One LSTM forward+backward at (B=32, T=100, D=32, H=128)
allocates about 20 MB for its cache and gradients, so every call of a
training loop took about 3,000-4,000 page faults; on a virtual machine those
cost as much as the arithmetic (see README, "Speed"). Raising glibc's mmap and
trim thresholds keeps such blocks in the process for reuse.

Importing the package changes nothing in the process. The setting is applied
explicitly, by :func:`keep_freed_memory`: the ``lstm-teach`` command line calls
it at start-up (so ``bench``, ``repro`` and ``grade`` get it), and a script or
notebook that trains for long can opt in with one line::

    from lstm_teach.kernels import keep_freed_memory
    keep_freed_memory()

Set ``LSTM_TEACH_TUNE=0`` to leave malloc alone even then; the setting is also
skipped when the user tunes malloc themselves. ``lstm-teach bench`` reports
whether it is on, and a test measures its benefit (page faults per pass).
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import sys

import numpy as np

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks up to this size come from the heap (glibc refuses more than 32 MiB on 64-bit).
MMAP_THRESHOLD = 32 * 2**20
# Free memory at the top of the heap goes back to the system only beyond this.
TRIM_THRESHOLD = 256 * 2**20

# Whether keep_freed_memory() has applied the setting in this process (for the bench report).
STATUS: dict[str, bool] = {"malloc_tuned": False}


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds; True if both were applied.

    Does nothing (returns False) off Linux, without glibc, with
    ``LSTM_TEACH_TUNE=0``, or when the user already tunes malloc through
    ``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_`` or ``GLIBC_TUNABLES``.
    """
    if os.environ.get("LSTM_TEACH_TUNE", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    user_set = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")
    if any(k in os.environ for k in user_set):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    applied = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    STATUS["malloc_tuned"] = STATUS["malloc_tuned"] or applied
    return applied


# --------------------------------------------------------------------------- BLAS threads


def _openblas_function(name):
    """numpy's OpenBLAS function ``name`` (e.g. ``"get_num_threads"``), or None if unknown."""
    folder = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(folder, "*openblas*")):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                function = getattr(lib, f"{prefix}_{name}{suffix}", None)
                if function is not None:
                    return function
    return None


def _openblas_controls():
    """(get, set) for the number of OpenBLAS threads numpy uses, or None if unknown."""
    get, set_ = _openblas_function("get_num_threads"), _openblas_function("set_num_threads")
    return None if get is None or set_ is None else (get, set_)


def blas_core() -> str | None:
    """The processor kernels numpy's OpenBLAS runs (e.g. ``"SkylakeX"``, ``"Haswell"``), or None.

    It decides the float32 speed of every matmul: ``"Haswell"`` kernels use 256-bit
    AVX2, ``"SkylakeX"`` and later use AVX-512, about twice the float32 throughput on
    a processor that executes AVX-512 at full width. OpenBLAS picks it from the
    processor unless the environment variable ``OPENBLAS_CORETYPE`` forces one.
    """
    corename = _openblas_function("get_corename")
    if corename is None:
        return None
    corename.restype = ctypes.c_char_p
    return corename().decode()


@contextlib.contextmanager
def single_blas_thread():
    """Run the block with numpy's OpenBLAS on one thread (restored afterwards).

    The experiments multiply tiny matrices thousands of times. Split over
    threads, each multiply spends more time waking the threads than computing,
    and on a busy machine the threads wait for each other: one thread is both
    faster and steadier. Where the library cannot be found this does nothing.
    """
    controls = _openblas_controls()
    if controls is None:
        yield
        return
    get, set_ = controls
    before = get()
    set_(1)
    try:
        yield
    finally:
        set_(before)
