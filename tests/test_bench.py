"""The benchmark's arithmetic and report (the timing itself is not asserted in tests)."""

import numpy as np

from lstm_teach import bench


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
