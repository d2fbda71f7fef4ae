"""Initialisers and parameter builders."""

import numpy as np
import pytest

import lstm_teach as lt
from lstm_teach import init


def test_glorot_uniform_limits_and_determinism():
    a = init.glorot_uniform((30, 50), rng=0)
    limit = np.sqrt(6 / 80)
    assert np.abs(a).max() <= limit and np.abs(a).max() > 0.9 * limit
    np.testing.assert_array_equal(a, init.glorot_uniform((30, 50), rng=0))
    assert not np.array_equal(a, init.glorot_uniform((30, 50), rng=1))


@pytest.mark.parametrize("shape", [(8, 8), (8, 32), (32, 8)])
def test_orthogonal(shape):
    q = init.orthogonal(shape, rng=np.random.default_rng(2))
    small = min(shape)
    gram = q @ q.T if shape[0] <= shape[1] else q.T @ q
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)


def test_init_lstm_layout():
    p = lt.init_lstm(3, 4, rng=0)
    assert {k: v.shape for k, v in p.items()} == {"W": (3, 16), "U": (4, 16), "b": (16,)}
    np.testing.assert_array_equal(p["b"], np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    assert not lt.init_lstm(3, 4, rng=0, unit_forget_bias=False)["b"].any()
    peep = lt.init_lstm(3, 4, lt.LSTMConfig(peepholes=True), rng=0)
    assert peep["P"].shape == (3, 4)
    assert lt.init_lstm(3, 4, rng=0, dtype=np.float32)["W"].dtype == np.float32


def test_init_rnn_layout():
    p = lt.init_rnn(3, 4, rng=0)
    assert {k: v.shape for k, v in p.items()} == {"W": (3, 4), "U": (4, 4), "b": (4,)}


def test_bad_sizes_and_rng():
    with pytest.raises(ValueError, match="hidden_size must be a positive integer; got 0"):
        lt.init_lstm(3, 0)
    with pytest.raises(TypeError, match="input_size must be a positive integer; got float 2.5"):
        lt.init_lstm(2.5, 3)
    with pytest.raises(TypeError, match="rng must be None, an int seed or a np.random.Generator"):
        lt.init_lstm(2, 3, rng="seed")
    with pytest.raises(ValueError, match="unknown initializer 'he'"):
        init.get("he")
