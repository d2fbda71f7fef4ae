"""Accuracy and speed of the concise side on the adding problem ([0, 1] form, T = 50).

Trains ``Sequential([LSTM(32), Dense(1)])`` and ``Sequential([SimpleRNN(32), Dense(1)])``
with Adam(1e-2, clipnorm=1.0), batch 64, 1,500 steps, and prints each test MSE
against its bar (LSTM < 0.01, SimpleRNN > 0.1; the constant baseline is 1/6) and
each training time against the 30 s budget, as ratios. Exits 1 if a bar is missed.

Usage: python benchmarks/bench_training.py [--steps N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from lstm_teach import layers, optim, tasks
from lstm_teach.concise.model import Sequential

T, BATCH, N_TRAIN, TIME_LIMIT_S = 50, 64, 6400, 30.0


def run(cell: str, steps: int, seed: int = 0) -> dict:
    """Train one model; returns test MSE, CPU and wall seconds."""
    x, y = tasks.adding_problem(N_TRAIN, T, rng=seed)
    x_test, y_test = tasks.adding_problem(1000, T, rng=seed + 1)
    recurrent = layers.LSTM(32) if cell == "LSTM" else layers.SimpleRNN(32)
    model = Sequential([recurrent, layers.Dense(1)], seed=seed)
    model.compile(optimizer=optim.Adam(learning_rate=1e-2, clipnorm=1.0), loss="mse")
    epochs = max(1, round(steps * BATCH / N_TRAIN))
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"cell": cell, "steps": model.optimizer.iterations,
            "test_mse": float(model.evaluate(x_test, y_test)), "cpu_s": cpu, "wall_s": wall}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    ok = True
    results = []
    for cell, bar, better in (("LSTM", 0.01, "below"), ("SimpleRNN", 0.1, "above")):
        r = run(cell, args.steps)
        passed_mse = r["test_mse"] < bar if better == "below" else r["test_mse"] > bar
        passed_time = r["cpu_s"] < TIME_LIMIT_S
        ok &= passed_mse and passed_time
        r.update(bar=bar, passed=passed_mse and passed_time)
        results.append(r)
        print(f"{cell:>9}: test MSE {r['test_mse']:.5f} (must be {better} {bar}; "
              f"baseline {tasks.ADDING_BASELINE_MSE:.3f}) | {r['steps']} steps in "
              f"{r['cpu_s']:.1f} s CPU = {r['cpu_s'] / TIME_LIMIT_S:.2f} x the 30 s budget "
              f"({r['wall_s']:.1f} s wall) | {'ok' if r['passed'] else 'FAIL'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
