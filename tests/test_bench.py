"""The benchmark's arithmetic and report (the timing itself is not asserted in tests)."""

import os
import platform
import subprocess
import sys

import numpy as np
import pytest

from lstm_teach import bench


def test_flop_count_matches_the_six_matmuls():
    B, T, D, H = 2, 3, 5, 7
    per_matmul = 2 * T * B * 4 * H
    assert bench.lstm_flops(B, T, D, H) == per_matmul * (D + H + H + D + D + H)


def test_timings_run_and_report_formats():
    times = bench.numpy_lstm_timings(2, 5, 3, 4, repeats=2)
    assert len(times) == 2 and all(t > 0 for t in times)
    assert len(bench.numpy_lstm_timings(2, 5, 3, 4, repeats=1, impl="reference")) == 1
    fake = {
        "numpy": np.__version__,
        "torch": None,
        "mid_float64_ms": {"min": 40.0, "median": 42.0},
        "mid_float32_ms": {"min": 15.0, "median": 16.0},
        "matmul_gflops_float64": 100.0,
        "lstm_gflops_large": 60.0,
        "matmul_fraction_large": 0.6,
        "us_per_step_small": 11.0,
        "reference_ratio_mid_float64": 1.6,
        "reference_ratio_small": 17.25,
        "verdicts": {"matmul_fraction_large": "ok"},
    }
    text = bench.format_report(fake)
    assert "OpenBLAS kernels" not in text  # not measured, not reported
    assert "1.6x at B=32 T=100 D=32 H=128, 17.2x at B=1" in text
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


_FAULTS = (
    "import sys; from lstm_teach import bench; from lstm_teach.kernels import _runtime; "
    "tuned = _runtime.keep_freed_memory() if sys.argv[1] == 'on' else False; "
    "print(tuned, bench.page_faults_per_pass(32, 100, 32, 128))"
)


def _faults(mode, **env):
    out = subprocess.run([sys.executable, "-c", _FAULTS, mode], env=dict(os.environ, **env),
                         capture_output=True, text=True, check=True).stdout.split()
    return out[0] == "True", float(out[1])


def test_keeping_freed_memory_stops_page_faults():
    """With the setting, repeated passes reuse memory; without it every pass page-faults.

    At this shape a pass allocates ~20 MB; with glibc's defaults that cost about
    4,000 page faults per pass on every call.
    """
    tuned, with_tuning = _faults("on")
    if not tuned:
        pytest.skip("malloc tuning not available here (not glibc)")
    _, without = _faults("off")
    assert with_tuning < 100
    assert without > 10 * max(with_tuning, 100)


def test_import_changes_nothing_and_the_setting_can_be_turned_off():
    code = ("import lstm_teach, lstm_teach.kernels as k; print(k._runtime.STATUS['malloc_tuned'], "
            "k.keep_freed_memory())")
    run = lambda **env: subprocess.run(  # noqa: E731
        [sys.executable, "-c", code], env=dict(os.environ, **env),
        capture_output=True, text=True, check=True).stdout.split()
    assert run(LSTM_TEACH_TUNE="0") == ["False", "False"]
    assert run()[0] == "False"  # import lstm_teach alone leaves malloc alone


def test_report_names_the_blas_kernels_and_whether_they_were_forced():
    from lstm_teach.kernels import _runtime

    core = _runtime.blas_core()
    assert core is None or (isinstance(core, str) and core)
    fake = {"numpy": np.__version__, "torch": None,
            "mid_float64_ms": {"min": 40.0, "median": 42.0},
            "mid_float32_ms": {"min": 15.0, "median": 16.0},
            "matmul_gflops_float64": 100.0, "lstm_gflops_large": 60.0,
            "matmul_fraction_large": 0.6, "us_per_step_small": 11.0, "verdicts": {}}
    forced = bench.format_report({**fake, "blas_core": "Haswell",
                                  "openblas_coretype_env": "Haswell",
                                  "openblas_threads_env": None})
    assert "OpenBLAS kernels: Haswell (forced by OPENBLAS_CORETYPE=Haswell; " \
           "OPENBLAS_NUM_THREADS=unset)" in forced
    detected = bench.format_report({**fake, "blas_core": "SkylakeX",
                                    "openblas_coretype_env": None, "openblas_threads_env": "1"})
    assert "OpenBLAS kernels: SkylakeX (detected; OPENBLAS_NUM_THREADS=1)" in detected


def test_blas_core_follows_openblas_coretype():
    """OPENBLAS_CORETYPE, read when numpy loads OpenBLAS, is what blas_core reports."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("Haswell is an x86-64 kernel set")
    code = ("from lstm_teach.kernels import _runtime; "
            "print(_runtime._openblas_controls() is not None, _runtime.blas_core())")
    env = dict(os.environ, OPENBLAS_CORETYPE="Haswell")
    found, core = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                 text=True, check=True).stdout.split()
    if found != "True":
        pytest.skip("numpy's OpenBLAS not found here")
    assert core == "Haswell"


def test_profile_script_splits_the_pass_into_matmuls_and_the_rest():
    script = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks", "profile_lstm.py")
    out = subprocess.run([sys.executable, script, "--shape", "2,3,2,4", "--rounds", "1",
                          "--dtype", "float64"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("B=2 T=3 D=2 H=4 float64; OpenBLAS kernels ")
    for name in ("forward", "backward", "forward+backward", "matmuls only"):
        assert f"  {name} " in out
    assert "elementwise, copies and Python: " in out
