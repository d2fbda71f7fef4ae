"""The benchmark's arithmetic and report (the timing itself is not asserted in tests)."""

import os
import subprocess
import sys

import numpy as np
import pytest

from lstm_teach import _runtime, bench


def test_flop_count_matches_the_six_matmuls():
    B, T, D, H = 2, 3, 5, 7
    per_matmul = 2 * T * B * 4 * H
    assert bench.lstm_flops(B, T, D, H) == per_matmul * (D + H + H + D + D + H)


def test_timings_run_and_report_formats():
    times = bench.numpy_lstm_timings(2, 5, 3, 4, repeats=2)
    assert len(times) == 2 and all(t > 0 for t in times)
    fake = {
        "numpy": np.__version__,
        "torch": None,
        "mid_float64_ms": {"min": 40.0, "median": 42.0},
        "mid_float32_ms": {"min": 15.0, "median": 16.0},
        "matmul_gflops_float64": 100.0,
        "lstm_gflops_large": 60.0,
        "matmul_fraction_large": 0.6,
        "us_per_step_small": 11.0,
        "verdicts": {"matmul_fraction_large": "ok"},
    }
    text = bench.format_report(fake)
    assert "60% of this machine's matmul" in text
    assert "11.0 us per time step" in text


def test_interleaved_timing_alternates_and_pairs_rounds():
    calls = []
    fns = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    times = bench._interleaved(fns, rounds=2, calls=2, settle=0.0)
    assert set(times) == {"a", "b"} and all(len(v) == 2 for v in times.values())
    # per round: one untimed + two timed calls of a, then the same for b
    assert calls == ["a"] * 3 + ["b"] * 3 + ["a"] * 3 + ["b"] * 3
    assert bench._paired_ratio([2.0, 6.0, 3.0], [1.0, 2.0, 3.0]) == 2.0


def test_repeated_passes_reuse_memory_instead_of_page_faulting():
    """``import lstm_teach`` keeps freed memory (glibc); without it every pass page-faults.

    At this shape a pass allocates ~20 MB; with glibc's defaults that cost about
    4,000 page faults per pass on every call.
    """
    if not _runtime.STATUS["malloc_tuned"]:
        pytest.skip("malloc tuning not applied here (not glibc, or turned off by the environment)")
    assert bench.page_faults_per_pass(32, 100, 32, 128) < 100


def test_malloc_tuning_can_be_turned_off():
    env = dict(os.environ, LSTM_TEACH_TUNE="0")
    out = subprocess.run(
        [sys.executable, "-c", "import lstm_teach; print(lstm_teach._runtime.STATUS)"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    assert "'malloc_tuned': False" in out
