"""Speed benchmark of the LSTM kernel, reported as ratios (``lstm-teach bench``).

Absolute times mean little across machines, so every number is a ratio
measured in the same run:

- against PyTorch's CPU ``nn.LSTM`` (float64 and float32), when torch is installed;
- against this machine's own float64 matrix-multiply throughput;
- microseconds per time step on a tiny model, where Python overhead dominates;
- the readable reference (``lt.lstm_*``) against the kernel (``lt.kernels.lstm_*``),
  reported without a budget: the reference is written to be read, not to be fast.

Machine speed drifts by tens of percent within a minute on shared or
virtual machines, so the two sides of every ratio are timed in alternating
blocks (ours, theirs, ours, theirs, ...) and the reported ratio is the median
of the per-round ratios; a slow minute then slows both sides alike. Each block
starts after a short pause, so that neither side's idle threads (which spin
for a while after a BLAS or OpenMP call) steal a core from the other.

Budgets (DESIGN.md section 9): ratio to PyTorch <= 1.0 in float64 and <= 1.5 in
float32; >= 50% of the matmul throughput at the large shape; <= 20 us/step at
B=1, H=16.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import time

import numpy as np

from .core import lstm as reference_lstm
from .core.init import init_lstm
from .kernels import _runtime  # reports the malloc setting and the BLAS kernels
from .kernels import lstm as kernel_lstm

BUDGETS = {
    "torch_ratio_float64": 1.0,
    "torch_ratio_float32": 1.5,
    "matmul_fraction_large": 0.5,
    "us_per_step_small": 20.0,
}


def _timings(fn, repeats: int) -> list[float]:
    fn()  # warm-up: first-touch page faults, BLAS thread start-up
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def lstm_flops(B: int, T: int, D: int, H: int) -> float:
    """Floating-point operations of the matmuls in one forward+backward pass.

    Forward: x W and h U; backward: dz U^T, dz W^T, x^T dz and h^T dz. Each is
    2 * (T B) * 4H * (D or H) flops, so 2 * T * B * 4H * (3D + 3H) in all.
    """
    return 2.0 * T * B * 4 * H * (3 * D + 3 * H)


def _interleaved(fns: dict, rounds: int, calls: int = 5, settle: float = 0.25) -> dict:
    """Time the callables in alternating blocks: ``rounds`` rounds, one block each per round.

    A block is: sleep ``settle`` seconds, one untimed call, then ``calls`` timed
    calls. The pause lets the other side's idle BLAS / OpenMP threads stop
    spinning (they would otherwise steal a core), and the untimed call wakes
    this side's threads and warms its caches.

    Returns ``{name: [median seconds per call in round 1, round 2, ...]}``.
    """
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            time.sleep(settle)
            fn()
            block = []
            for _ in range(calls):
                t0 = time.perf_counter()
                fn()
                block.append(time.perf_counter() - t0)
            out[name].append(statistics.median(block))
    return out


def _paired_ratio(num: list[float], den: list[float]) -> float:
    """Median over rounds of num/den: robust to the machine speeding up or slowing down."""
    return statistics.median(a / b for a, b in zip(num, den, strict=True))


def numpy_lstm_pass(B, T, D, H, dtype=np.float64, seed=0, impl="kernel"):
    """A callable running one forward+backward of the kernel (``impl="kernel"``) or of the
    readable reference (``impl="reference"``)."""
    lstm = {"kernel": kernel_lstm, "reference": reference_lstm}[impl]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, T, D)).astype(dtype)
    params = {k: v.astype(dtype) for k, v in init_lstm(D, H, rng=rng).items()}
    dhs = rng.standard_normal((B, T, H)).astype(dtype)

    def run():
        _, cache = lstm.lstm_forward(x, params)
        lstm.lstm_backward(dhs, cache)

    return run


def numpy_lstm_timings(B, T, D, H, dtype=np.float64, repeats=5, seed=0,
                       impl="kernel") -> list[float]:
    """Seconds per forward+backward pass of the kernel (or the reference, see
    :func:`numpy_lstm_pass`)."""
    return _timings(numpy_lstm_pass(B, T, D, H, dtype, seed, impl), repeats)


def torch_lstm_pass(B, T, D, H, dtype="float64", seed=0):
    """A callable running one forward+backward of ``torch.nn.LSTM`` (None without torch)."""
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(seed)
    tdtype = getattr(torch, dtype)
    model = torch.nn.LSTM(D, H, batch_first=True).to(tdtype)
    x = torch.randn(B, T, D, dtype=tdtype, requires_grad=True)
    dhs = torch.randn(B, T, H, dtype=tdtype)

    def run():
        model.zero_grad(set_to_none=True)
        x.grad = None
        out, _ = model(x)
        out.backward(dhs)

    return run


def matmul_pass(n: int = 1024):
    """A callable running one float64 (n x n) @ (n x n) product, 2 n^3 flops."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n))
    b = rng.standard_normal((n, n))
    out = np.empty((n, n))
    return lambda: np.matmul(a, b, out=out)


def page_faults_per_pass(B, T, D, H, dtype=np.float64, repeats=3) -> float:
    """Minor page faults per forward+backward pass (0 once freed memory is reused)."""
    run = numpy_lstm_pass(B, T, D, H, dtype)
    run()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(repeats):
        run()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / repeats


def run_benchmarks(quick: bool = False) -> dict:
    """Run every measurement and return a JSON-ready dict of numbers, ratios and verdicts."""
    reps = 3 if quick else 15
    rounds = 2 if quick else 5
    res: dict = {"machine": platform.machine(), "numpy": np.__version__, "quick": quick}
    try:
        import torch

        res["torch"] = torch.__version__
        torch_threads = torch.get_num_threads()
    except ImportError:
        res["torch"] = None
        torch_threads = None

    mid = (32, 100, 32, 128)
    for dtype in ("float64", "float32"):
        fns = {"numpy": numpy_lstm_pass(*mid, dtype=np.dtype(dtype))}
        theirs = torch_lstm_pass(*mid, dtype=dtype)
        if theirs is not None:
            fns["torch"] = theirs
        if dtype == "float64":  # the readable reference, as a ratio to the kernel
            fns["reference"] = numpy_lstm_pass(*mid, dtype=np.dtype(dtype), impl="reference")
        times = _interleaved(fns, rounds)
        res[f"mid_{dtype}_ms"] = _summary(times["numpy"])
        if "reference" in times:
            res[f"reference_mid_{dtype}_ms"] = _summary(times["reference"])
            res[f"reference_ratio_mid_{dtype}"] = _paired_ratio(times["reference"], times["numpy"])
        if theirs is not None:
            res[f"torch_mid_{dtype}_ms"] = _summary(times["torch"])
            res[f"torch_ratio_{dtype}"] = _paired_ratio(times["numpy"], times["torch"])
            res[f"torch_ratio_{dtype}_best"] = min(times["numpy"]) / min(times["torch"])
    res["torch_threads"] = torch_threads
    res["page_faults_per_pass_mid_float64"] = page_faults_per_pass(*mid)
    res["malloc_tuned"] = _runtime.STATUS["malloc_tuned"]
    res["blas_core"] = _runtime.blas_core()
    res["openblas_coretype_env"] = os.environ.get("OPENBLAS_CORETYPE")
    res["openblas_threads_env"] = os.environ.get("OPENBLAS_NUM_THREADS")

    large = (64, 100, 64, 256)
    n = 1024
    times = _interleaved(
        {"lstm": numpy_lstm_pass(*large), "matmul": matmul_pass(n)}, rounds, calls=3
    )
    lstm_rates = [lstm_flops(*large) / t / 1e9 for t in times["lstm"]]
    matmul_rates = [2.0 * n**3 / t / 1e9 for t in times["matmul"]]
    res["matmul_gflops_float64"] = statistics.median(matmul_rates)
    res["lstm_gflops_large"] = statistics.median(lstm_rates)
    res["matmul_fraction_large"] = statistics.median(
        a / b for a, b in zip(lstm_rates, matmul_rates, strict=True)
    )

    B, T, D, H = 1, 200, 1, 16
    small = numpy_lstm_timings(B, T, D, H, repeats=reps * 3)
    res["us_per_step_small"] = statistics.median(small) / T * 1e6
    times = _interleaved({"reference": numpy_lstm_pass(B, T, D, H, impl="reference"),
                          "kernel": numpy_lstm_pass(B, T, D, H)}, rounds, settle=0.0)
    res["reference_ratio_small"] = _paired_ratio(times["reference"], times["kernel"])

    verdicts = {}
    for key, limit in BUDGETS.items():
        if key not in res:
            verdicts[key] = "skipped (torch not installed)"
        elif key == "matmul_fraction_large":
            verdicts[key] = "ok" if res[key] >= limit else "over budget"
        else:
            verdicts[key] = "ok" if res[key] <= limit else "over budget"
    res["verdicts"] = verdicts
    return res


def _summary(times: list[float]) -> dict:
    return {"min": 1e3 * min(times), "median": 1e3 * statistics.median(times)}


def format_report(res: dict) -> str:
    """The human-readable table printed by ``lstm-teach bench``."""
    lines = [f"lstm-teach bench (numpy {res['numpy']}, torch {res['torch'] or 'not installed'})"]
    for dtype in ("float64", "float32"):
        ours = res[f"mid_{dtype}_ms"]
        line = (
            f"  B=32 T=100 D=32 H=128 {dtype}: numpy {ours['median']:.1f} ms "
            f"(best {ours['min']:.1f})"
        )
        if f"torch_ratio_{dtype}" in res:
            theirs = res[f"torch_mid_{dtype}_ms"]
            line += (
                f", torch {theirs['median']:.1f} ms (best {theirs['min']:.1f}); "
                f"ratio {res[f'torch_ratio_{dtype}']:.2f} (median of rounds), "
                f"{res[f'torch_ratio_{dtype}_best']:.2f} best-of "
                f"[budget <= {BUDGETS[f'torch_ratio_{dtype}']}]"
            )
        lines.append(line)
    lines.append(
        f"  B=64 T=100 D=64 H=256 float64: {res['lstm_gflops_large']:.1f} GFLOP/s = "
        f"{100 * res['matmul_fraction_large']:.0f}% of this machine's matmul "
        f"({res['matmul_gflops_float64']:.1f} GFLOP/s) [budget >= 50%]"
    )
    lines.append(
        f"  B=1 T=200 D=1 H=16 float64: {res['us_per_step_small']:.1f} us per time step "
        "(forward+backward) [budget <= 20]"
    )
    if "reference_ratio_mid_float64" in res:
        lines.append(
            f"  readable reference (lt.lstm_*) / kernel (lt.kernels.lstm_*), float64: "
            f"{res['reference_ratio_mid_float64']:.1f}x at B=32 T=100 D=32 H=128, "
            f"{res['reference_ratio_small']:.1f}x at B=1 T=200 D=1 H=16 (reported, no budget)"
        )
    if "page_faults_per_pass_mid_float64" in res:
        lines.append(
            f"  page faults per mid float64 pass: {res['page_faults_per_pass_mid_float64']:.0f} "
            f"(freed memory kept for reuse: {'yes' if res.get('malloc_tuned') else 'no'})"
        )
    if "blas_core" in res:
        forced = res.get("openblas_coretype_env")
        lines.append(
            f"  numpy's OpenBLAS kernels: {res['blas_core'] or 'unknown'} "
            f"({'forced by OPENBLAS_CORETYPE=' + forced if forced else 'detected'}; "
            f"OPENBLAS_NUM_THREADS={res.get('openblas_threads_env') or 'unset'})"
        )
    lines.append("  verdicts: " + ", ".join(f"{k}: {v}" for k, v in res["verdicts"].items()))
    return "\n".join(lines)


def main(args) -> int:
    """Entry point of ``lstm-teach bench``; exits 0 (budgets are reported, not enforced)."""
    res = run_benchmarks(quick=getattr(args, "quick", False))
    print(format_report(res))
    if getattr(args, "json", None):
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=2)
    return 0
