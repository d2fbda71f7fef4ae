"""Where the kernel's time goes: forward, backward, and the share of the matmuls.

Usage: python benchmarks/profile_lstm.py [--dtype float32] [--rounds 7]

For one shape (B=32 T=100 D=32 H=128 by default), timed in alternating blocks
like ``lstm-teach bench`` (so a slow minute slows every side alike):

- the kernel's forward pass and its backward pass, each in ms and us per step;
- "matmuls only": the same BLAS calls as one forward+backward (the input
  projection, the 2T per-step products, the weight-gradient and dx products)
  with no elementwise work; the kernel's time minus this is what numpy's
  elementwise calls, copies and Python cost;
- PyTorch's ``nn.LSTM`` forward+backward, when torch is installed.

The numbers depend on numpy's OpenBLAS kernels (printed; see
``lstm_teach.kernels._runtime.blas_core``) and on OPENBLAS_NUM_THREADS.
"""

import argparse
import os
import statistics

import numpy as np

from lstm_teach import bench
from lstm_teach.core.init import init_lstm
from lstm_teach.kernels import _runtime, keep_freed_memory
from lstm_teach.kernels import lstm as kernel_lstm


def matmuls_only(B, T, D, H, dtype):
    """A callable making the BLAS calls of one kernel forward+backward, and nothing else."""
    rng = np.random.default_rng(0)
    K = D + 1 + H
    xh = rng.standard_normal((T + 1, B, K)).astype(dtype)
    Wb = rng.standard_normal((D + 1, 4 * H)).astype(dtype)
    U = rng.standard_normal((H, 4 * H)).astype(dtype)
    U_T = np.ascontiguousarray(U.T)
    dz = rng.standard_normal((T, B, 4 * H)).astype(dtype)
    recurrent = np.empty((B, 4 * H), dtype=dtype)
    dh = np.empty((B, H), dtype=dtype)

    def run():
        xh[:T].reshape(T * B, K)[:, : D + 1] @ Wb  # input projection
        for t in range(T):
            np.dot(xh[t, :, D + 1 :], U, out=recurrent)  # forward steps
        for t in range(T):
            np.dot(dz[t], U_T, out=dh)  # backward steps
        xh[:T].reshape(T * B, K).T @ dz.reshape(T * B, 4 * H)  # dW, db, dU
        dz.reshape(T * B, 4 * H) @ Wb[:D].T  # dx

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--shape", default="32,100,32,128", help="B,T,D,H")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    keep_freed_memory()
    B, T, D, H = (int(n) for n in args.shape.split(","))
    dtype = np.dtype(args.dtype)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, D)).astype(dtype)
    params = {k: v.astype(dtype) for k, v in init_lstm(D, H, rng=rng).items()}
    dhs = rng.standard_normal((B, T, H)).astype(dtype)
    _, cache = kernel_lstm.lstm_forward(x, params)

    fns = {
        "forward": lambda: kernel_lstm.lstm_forward(x, params),
        "backward": lambda: kernel_lstm.lstm_backward(dhs, cache),
        "forward+backward": bench.numpy_lstm_pass(B, T, D, H, dtype),
        "matmuls only": matmuls_only(B, T, D, H, dtype),
    }
    theirs = bench.torch_lstm_pass(B, T, D, H, dtype=args.dtype)
    if theirs is not None:
        fns["torch"] = theirs
    times = bench._interleaved(fns, args.rounds)
    ms = {name: 1e3 * statistics.median(t) for name, t in times.items()}

    print(f"B={B} T={T} D={D} H={H} {args.dtype}; OpenBLAS kernels {_runtime.blas_core()}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
          f"load {os.getloadavg()[0]:.1f}")
    for name in ("forward", "backward", "forward+backward", "matmuls only", "torch"):
        if name in ms:
            print(f"  {name:17s} {ms[name]:8.2f} ms  {1e3 * ms[name] / T:8.1f} us/step")
    rest = ms["forward+backward"] - ms["matmuls only"]
    print(f"  elementwise, copies and Python: {rest:.2f} ms "
          f"({100 * rest / ms['forward+backward']:.0f}% of the pass)")
    if "torch" in times:
        for name in ("forward+backward", "matmuls only"):
            ratio = bench._paired_ratio(times[name], times["torch"])
            print(f"  {name} / torch: {ratio:.2f}")


if __name__ == "__main__":
    main()
