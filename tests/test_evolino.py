"""Evolino: genome layout, the population-as-one-LSTM trick, the pseudo-inverse readout, evolution."""

from __future__ import annotations

import numpy as np
import pytest

import lstm_teach as lt
from lstm_teach import evolino as ev
from lstm_teach import tasks


def test_genome_layout_places_each_weight(rng):
    D, H = 2, 3
    G = ev.genome_size(D, H)
    assert G == 4 * (D + H + 1) + 3
    genomes = np.zeros((H, G))
    genomes[1, 2 * D + 1] = 7.0           # cell 1, block g (k=2), input 1  -> W[1, 2H + 1]
    genomes[2, 4 * D + 3 * H + 0] = 5.0   # cell 2, block o (k=3), source cell 0 -> U[0, 3H + 2]
    genomes[0, 4 * (D + H) + 1] = 3.0     # cell 0, forget bias -> b[H + 0]
    genomes[2, 4 * (D + H) + 4 + 2] = 2.0  # cell 2, output peephole -> P[2, 2]
    p = ev.assemble(genomes, D)
    assert p["W"].shape == (D, 4 * H) and p["U"].shape == (H, 4 * H) and p["P"].shape == (3, H)
    assert p["W"][1, 2 * H + 1] == 7.0 and np.count_nonzero(p["W"]) == 1
    assert p["U"][0, 3 * H + 2] == 5.0 and np.count_nonzero(p["U"]) == 1
    assert p["b"][H] == 3.0 and np.count_nonzero(p["b"]) == 1
    assert p["P"][2, 2] == 2.0 and np.count_nonzero(p["P"]) == 1
    with pytest.raises(ValueError, match="genomes must have shape"):
        ev.assemble(np.zeros((H, G + 1)), D)


def test_population_forward_equals_separate_runs(rng):
    nets = [ev.assemble(rng.normal(size=(3, ev.genome_size(1, 3))), 1) for _ in range(4)]
    x = rng.normal(size=(2, 12, 1))
    together = ev.population_forward(x, nets)
    assert together.shape == (4, 2, 12, 3)
    for n, p in enumerate(nets):
        alone = lt.lstm_forward(x, p, config=ev.CONFIG)[0]
        np.testing.assert_allclose(together[n], alone, rtol=0, atol=1e-13)


def test_fit_readout_recovers_a_linear_map(rng):
    states = rng.normal(size=(50, 4))
    V_true = rng.normal(size=(5, 2))
    targets = np.concatenate([states, np.ones((50, 1))], axis=1) @ V_true
    np.testing.assert_allclose(ev.fit_readout(states, targets), V_true, atol=1e-10)
    # the ridge version shrinks towards zero but stays close for a tiny ridge
    np.testing.assert_allclose(ev.fit_readout(states, targets, ridge=1e-8), V_true, atol=1e-6)


def test_evolution_improves_one_step_prediction():
    series = tasks.superimposed_sines(250, 2) / 2
    result = ev.evolve(series, n_cells=4, pop_size=8, generations=12, trials=2, rng=0)
    assert result.evaluations == 13 * 8 * 2
    assert len(result.best_error) == len(result.mean_error) == 13
    # evolution beats the random start (generation 0) by a wide margin
    assert min(result.best_error) < 0.3 * result.best_error[0]
    assert result.mean_error[-1] < 0.5 * result.mean_error[0]
    # the returned network is the best one seen, with its own readout
    assert result.readout.shape == (5, 1)
    again = ev.evolve(series, n_cells=4, pop_size=8, generations=12, trials=2, rng=0)
    assert again.best_error == result.best_error  # deterministic for a seed


def test_free_run_starts_with_the_one_step_prediction(rng):
    series = tasks.superimposed_sines(120, 2) / 2
    p = ev.assemble(0.3 * rng.normal(size=(3, ev.genome_size(1, 3))), 1)
    hs, _ = lt.lstm_forward(series[None, :80, None], p, config=ev.CONFIG)
    V = ev.fit_readout(hs[0, 10:], series[11:81, None])
    out = ev.free_run(p, V, series[:80], 5)
    expected = np.append(hs[0, -1], 1.0) @ V
    assert out.shape == (5,) and np.isclose(out[0], expected[0], atol=1e-14)


def test_free_run_fitness_and_input_checks():
    series = tasks.superimposed_sines(150, 1)
    result = ev.evolve(series, n_cells=3, pop_size=4, generations=2, trials=1,
                       fitness="free_run", horizon=20, n_starts=2, rng=1)
    assert np.all(np.isfinite(result.best_error))
    with pytest.raises(ValueError, match="fitness"):
        ev.evolve(series, fitness="gradient")
    with pytest.raises(ValueError, match="pop_size must be at least 4"):
        ev.evolve(series, pop_size=3)
    with pytest.raises(ValueError, match="too short"):
        ev.evolve(series[:30])


def test_burst_mutation_restarts_around_the_best_network_and_is_checked():
    series = tasks.superimposed_sines(150, 1)
    common = dict(n_cells=3, pop_size=4, generations=8, trials=1, fitness="free_run",
                  horizon=20, n_starts=2, rng=1)
    plain = ev.evolve(series, **common)
    burst = ev.evolve(series, burst_after=1, **common)
    assert len(burst.best_error) == len(plain.best_error) == 9
    assert burst.best_error != plain.best_error  # the restarts change the search
    # the returned network is the best one seen, also across restarts
    errors, _ = ev._score_free_run(series, [burst.params], 20, 20, 2)
    assert np.isclose(errors[0], min(burst.best_error), rtol=1e-10)
    with pytest.raises(ValueError, match="burst_after"):
        ev.evolve(series, burst_after=0, **common)
