"""The concise side solves the adding problem, and the simple RNN does not.

Adding problem, [0, 1] form, T = 50 (Le et al. 2015): predicting the mean costs
MSE 1/6 ~ 0.167. With the same budget, about 1,500 Adam steps of batch 64
(lr 1e-2, global-norm clipping at 1), ``LSTM(32)`` must get below 0.01 while
``SimpleRNN(32)`` stays above 0.1, each in under 30 s on two cores.

The time limit is checked on the CPU time of this process (``time.process_time``),
which does not grow when other jobs share the machine; the wall time is printed.
"""

from __future__ import annotations

import time

import pytest

from lstm_teach import layers, optim, tasks
from lstm_teach.concise.model import Sequential

T = 50
N_TRAIN, BATCH, EPOCHS = 6400, 64, 15  # 100 steps per epoch: 1,500 steps
TIME_LIMIT_S = 30.0


def _train(recurrent_layer):
    x, y = tasks.adding_problem(N_TRAIN, T, rng=0)
    x_test, y_test = tasks.adding_problem(1000, T, rng=1)
    model = Sequential([recurrent_layer, layers.Dense(1)], seed=0)
    model.compile(optimizer=optim.Adam(learning_rate=1e-2, clipnorm=1.0), loss="mse")
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert model.optimizer.iterations == 1500
    return model.evaluate(x_test, y_test), cpu, wall


@pytest.mark.slow
def test_lstm_solves_the_adding_problem():
    mse, elapsed, wall = _train(layers.LSTM(32))
    print(f"LSTM(32): test MSE {mse:.5f} after 1500 steps, {elapsed:.1f} s CPU ({wall:.1f} s wall)")
    assert mse < 0.01, f"LSTM test MSE {mse:.4f} (baseline {tasks.ADDING_BASELINE_MSE:.3f})"
    assert elapsed < TIME_LIMIT_S, f"LSTM training took {elapsed:.1f} s of CPU time"


@pytest.mark.slow
def test_simple_rnn_does_not_with_the_same_budget():
    mse, elapsed, wall = _train(layers.SimpleRNN(32))
    print(f"SimpleRNN(32): test MSE {mse:.5f} after 1500 steps, {elapsed:.1f} s CPU "
          f"({wall:.1f} s wall)")
    assert mse > 0.1, f"SimpleRNN test MSE {mse:.4f}: it was expected to stay near the baseline"
    assert elapsed < TIME_LIMIT_S, f"SimpleRNN training took {elapsed:.1f} s of CPU time"
