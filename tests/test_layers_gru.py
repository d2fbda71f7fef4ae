"""The concise GRU layer: it is the core GRU, its gradients check, its options work, it trains."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

import lstm_teach as lt
from lstm_teach import layers, optim, regularizers
from lstm_teach.core.gradcheck import check_gradients


def _built(layer, D, seed=0):
    layer.build((None, None, D), rng=seed)
    return layer


def test_layer_is_the_core_gru(rng):
    layer = _built(layers.GRU(5, return_sequences=True), 3)
    assert set(layer.params) == {"W", "U", "b", "b_rec"} and layer.params["W"].shape == (3, 15)
    x = rng.normal(size=(2, 6, 3))
    h0 = rng.normal(size=(2, 5))
    out = layer(x, initial_state=[h0])
    np.testing.assert_array_equal(out, lt.gru_forward(x, layer.params, h0)[0])
    assert layer.count_params() == 3 * (3 * 5 + 5 * 5 + 2 * 5) == 150
    assert layer.last_cache.gates["z"].shape == (2, 6, 5)


def test_layer_gradient_check(rng):
    layer = _built(layers.GRU(4, return_sequences=False, bias_initializer="random_normal",
                              kernel_regularizer=regularizers.L2(0.01),
                              bias_regularizer=regularizers.L2(0.02)), 3, seed=1)
    x = rng.normal(size=(2, 5, 3))
    w = rng.normal(size=(2, 4))

    def loss():
        return float(np.sum(layer.forward(x) * w)) + layer.regularization_loss()

    layer.forward(x)
    dx = layer.backward(w)
    assert set(layer.grads) == {"W", "U", "b", "b_rec"}
    report = check_gradients(loss, {**layer.trainable_params(), "x": x}, {**layer.grads, "x": dx})
    assert report.passed, str(report)


def test_options_bias_state_and_config_round_trip(rng):
    x = rng.normal(size=(2, 4, 3))
    no_bias = _built(layers.GRU(4, use_bias=False), 3)
    assert no_bias.weight_names == ["W", "U"] and no_bias.count_params() == 3 * (12 + 16)
    no_bias.forward(x)
    no_bias.backward(np.ones((2, 4)))
    assert set(no_bias.grads) == {"W", "U"}

    stateful = _built(layers.GRU(4, stateful=True, return_state=True), 3)
    out, h = stateful(x)
    np.testing.assert_array_equal(out, h)
    out2, _ = stateful(x)  # continues from h
    np.testing.assert_array_equal(out2, lt.gru_forward(x, stateful.params, h)[0][:, -1])

    relu = _built(layers.GRU(4, activation="relu", recurrent_activation="hard_sigmoid_keras3"), 3)
    clone = layers.from_config("GRU", relu.get_config())
    assert clone.config == relu.config == lt.GRUConfig("relu", "hard_sigmoid_keras3")

    for bad in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=rf"recurrent_dropout must be a float in \[0, 1\); "
                                             rf"got {bad}"):
            layers.GRU(4, recurrent_dropout=bad)
    with pytest.raises(TypeError, match=r"recurrent_dropout must be a float in \[0, 1\); got 'x'"):
        layers.GRU(4, recurrent_dropout="x")
    assert layers.from_config("GRU", layers.GRU(4, recurrent_dropout=0.25).get_config()
                              ).recurrent_dropout == 0.25
    with pytest.raises(ValueError, match="unknown activation 'tanhh'"):
        layers.GRU(4, activation="tanhh")


# --------------------------------------------------------------------------- recurrent dropout


def test_recurrent_dropout_is_the_core_with_the_layer_mask(rng):
    """Training: the core GRU with one (B, H) inverted-dropout mask; inference: no mask."""
    layer = _built(layers.GRU(5, recurrent_dropout=0.4, return_sequences=True, seed=3), 3)
    x, h0 = rng.normal(size=(8, 6, 3)), rng.normal(size=(8, 5))
    out = layer(x, training=True, initial_state=[h0])
    mask = layer._cache[2]
    assert mask.shape == (8, 5)
    np.testing.assert_allclose(np.unique(mask), [0.0, 1 / 0.6], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(out, lt.gru_forward(x, layer.params, h0, recurrent_mask=mask)[0])
    assert layer.last_cache.steps[-1].recurrent_mask is mask  # one mask for every step

    inference = layer(x, initial_state=[h0])  # training=False: the mask is not applied
    np.testing.assert_array_equal(inference, lt.gru_forward(x, layer.params, h0)[0])
    assert layer._cache[2] is None and layer.last_cache.steps[0].recurrent_mask is None
    assert np.max(np.abs(inference - out)) > 1e-2
    again = layer(x, training=True, initial_state=[h0])  # a fresh mask for the next batch
    assert np.max(np.abs(again - out)) > 1e-3


def test_recurrent_dropout_gradient_check(rng):
    """Layer backward with input and recurrent dropout (fixed masks): x, h0 and every weight."""
    layer = _built(layers.GRU(4, dropout=0.3, recurrent_dropout=0.4, return_sequences=True,
                              bias_initializer="random_normal"), 3, seed=2)
    x, h0 = rng.normal(size=(3, 5, 3)), rng.normal(size=(3, 4))
    w = rng.normal(size=(3, 5, 4))

    def loss():
        layer._rng = np.random.default_rng(7)  # the same masks at every evaluation
        return float(np.sum(layer.forward(x, training=True, initial_state=[h0]) * w))

    loss()
    assert layer._cache[1] is not None and 0 < np.count_nonzero(layer._cache[2]) < 12
    dx = layer.backward(w)
    (dh0,) = layer.initial_state_grads
    report = check_gradients(loss, {**layer.trainable_params(), "x": x, "h0": h0},
                             {**layer.grads, "x": dx, "h0": dh0})
    assert report.passed, str(report)
    assert max(report.errors.values()) < 1e-7


def _fit_copy_task(x, y, seed, layer_seed=None):
    model = lt.Sequential([layers.GRU(8, recurrent_dropout=0.25, seed=layer_seed),
                           layers.Dense(1)], seed=seed)
    model.compile(optimizer=optim.Adam(learning_rate=0.02), loss="mse")
    before = model.evaluate(x, y)
    model.fit(x, y, epochs=120, batch_size=16, verbose=0)
    return model, before, model.evaluate(x, y)


def test_recurrent_dropout_trains_and_is_deterministic_with_a_seed(rng):
    x = rng.normal(size=(64, 6, 1))
    y = x[:, 1, :]  # remember the second input until the end
    model, before, after = _fit_copy_task(x, y, seed=0)
    assert after < 0.25 * before  # 0.04-0.12 of the starting loss over data/model seeds 0-7
    twin, _, twin_after = _fit_copy_task(x, y, seed=0)
    assert twin_after == after
    np.testing.assert_array_equal(twin.predict(x), model.predict(x))
    # another dropout seed (same initial weights) gives another run: the masks are used
    other, _, _ = _fit_copy_task(x, y, seed=0, layer_seed=123)
    assert np.max(np.abs(other.predict(x) - model.predict(x))) > 1e-6


def test_gru_model_learns_and_saves(tmp_path, rng):
    """A small GRU model fits a delayed-copy target and survives save/load."""
    x = rng.normal(size=(64, 6, 1))
    y = x[:, 1, :]  # remember the second input until the end
    model = lt.Sequential([layers.GRU(8), layers.Dense(1)], seed=0)
    model.compile(optimizer=optim.Adam(learning_rate=0.02), loss="mse")
    before = model.evaluate(x, y)
    model.fit(x, y, epochs=40, batch_size=16, verbose=0)
    after = model.evaluate(x, y)
    assert after < 0.2 * before
    path = tmp_path / "gru.npz"
    model.save(path)
    again = lt.load_model(path)
    np.testing.assert_array_equal(again.predict(x), model.predict(x))


@pytest.mark.skipif(
    importlib.util.find_spec("keras") is None or importlib.util.find_spec("torch") is None,
    reason="Keras 3 (torch backend) is not installed: pip install -e '.[keras]'",
)
def test_parameter_count_and_outputs_match_keras(rng):
    os.environ["KERAS_BACKEND"] = "torch"
    import keras

    from lstm_teach import interop

    theirs = keras.layers.GRU(6, dtype="float64")
    theirs.build((None, None, 3))
    ours = _built(layers.GRU(6), 3)
    assert ours.count_params() == theirs.count_params()
    params, config = interop.from_keras_gru(theirs)
    ours.set_params(params)
    x = rng.normal(size=(2, 5, 3))
    y = keras.ops.convert_to_numpy(theirs(x))
    assert np.max(np.abs(ours(x) - y)) < 1e-12
