"""Layers: they reproduce the core exactly, their gradients pass a finite-difference check,
and every toolkit option (dropout, state, regularizers, freezing, ...) does what it says."""

from __future__ import annotations

import numpy as np
import pytest

import lstm_teach as lt
from lstm_teach import layers, regularizers
from lstm_teach.core.gradcheck import check_gradients


def _built(layer, shape, seed=0):
    layer.build((None,) + shape, rng=seed)
    return layer


def _layer_gradcheck(layer, x, training=False, reset=None, tol=1e-7):
    """Check d(sum(out * w))/d(params and x) of a layer against central differences."""
    rng = np.random.default_rng(42)
    out = layer.forward(x, training=training)
    w = rng.standard_normal(out.shape)

    def loss():
        if reset is not None:
            reset()
        return float(np.sum(layer.forward(x, training=training) * w))

    if reset is not None:
        reset()
    layer.forward(x, training=training)
    dx = layer.backward(w)
    arrays = {**layer.trainable_params(), "x": x}
    analytic = {**layer.grads, "x": dx}
    report = check_gradients(loss, arrays, analytic)
    assert report.passed, str(report)
    return report


# --------------------------------------------------------------------------- LSTM vs core


def test_default_lstm_layer_has_the_weights_of_init_lstm():
    """Same generator, same weights: the concise model can start where the from-scratch one does."""
    layer = _built(layers.LSTM(5), (7, 3), seed=11)
    ref = lt.init_lstm(3, 5, rng=11)
    for k in ("W", "U", "b"):
        np.testing.assert_array_equal(layer.params[k], ref[k])
    peep = _built(layers.LSTM(5, peepholes=True), (7, 3), seed=11)
    ref = lt.init_lstm(3, 5, config=lt.LSTMConfig(peepholes=True), rng=11)
    np.testing.assert_array_equal(peep.params["P"], ref["P"])


@pytest.mark.parametrize("return_sequences", [False, True])
def test_lstm_layer_output_is_the_core_output(rng, return_sequences):
    x = rng.standard_normal((4, 6, 3))
    layer = _built(layers.LSTM(5, return_sequences=return_sequences), (6, 3))
    hs, _ = lt.kernels.lstm_forward(x, layer.params)
    out = layer(x)
    expected = hs if return_sequences else hs[:, -1]
    np.testing.assert_array_equal(out, expected)
    assert layer.compute_output_shape((None, 6, 3)) == ((None, 6, 5) if return_sequences
                                                        else (None, 5))


def test_return_state_gives_the_final_h_and_c(rng):
    x = rng.standard_normal((2, 5, 3))
    layer = _built(layers.LSTM(4, return_state=True), (5, 3))
    out, h, c = layer(x)
    _, cache = lt.kernels.lstm_forward(x, layer.params)
    np.testing.assert_array_equal(h, cache.hT)
    np.testing.assert_array_equal(c, cache.cT)
    np.testing.assert_array_equal(out, h)
    # Gradients may arrive at the final states too; c_T's enters the core as dcT.
    dout, dh, dc = rng.standard_normal((3, 2, 4))
    dx = layer.backward((dout, dh, dc))
    dhs = np.zeros((2, 5, 4))
    dhs[:, -1] = dout + dh
    dx_ref, _, _, grads_ref = lt.kernels.lstm_backward(dhs, cache, dcT=dc)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-13)
    np.testing.assert_allclose(layer.grads["U"], grads_ref["U"], rtol=1e-13)


def test_initial_state_and_its_gradient(rng):
    x = rng.standard_normal((2, 4, 3))
    h0, c0 = rng.standard_normal((2, 2, 5))
    layer = _built(layers.LSTM(5, return_sequences=True), (4, 3))
    out = layer.forward(x, initial_state=[h0, c0])
    hs, cache = lt.kernels.lstm_forward(x, layer.params, h0, c0)
    np.testing.assert_array_equal(out, hs)
    dhs = rng.standard_normal(hs.shape)
    layer.backward(dhs)
    _, dh0, dc0, _ = lt.kernels.lstm_backward(dhs, cache)
    np.testing.assert_allclose(layer.initial_state_grads[0], dh0, rtol=1e-13)
    np.testing.assert_allclose(layer.initial_state_grads[1], dc0, rtol=1e-13)
    with pytest.raises(ValueError, match=r"initial_state must be a list of 2 arrays \['h', 'c'\]"):
        layer.forward(x, initial_state=[h0])


def test_simple_rnn_layer_output_is_the_core_output(rng):
    x = rng.standard_normal((3, 5, 2))
    layer = _built(layers.SimpleRNN(4, activation="relu", return_sequences=True), (5, 2), seed=3)
    ref = lt.init_rnn(2, 4, rng=3)
    np.testing.assert_array_equal(layer.params["W"], ref["W"])
    hs, _ = lt.rnn_forward(x, layer.params, activation="relu")
    np.testing.assert_array_equal(layer(x), hs)


def test_variant_config_and_flag_overrides(rng):
    x = rng.standard_normal((2, 4, 3))
    cfg = lt.LSTMConfig(peepholes=True, output_activation="identity")
    layer = _built(layers.LSTM(3, config=cfg, return_sequences=True), (4, 3))
    assert layer.config == cfg and "P" in layer.weight_names
    hs, _ = lt.kernels.lstm_forward(x, layer.params, config=cfg)
    np.testing.assert_array_equal(layer(x), hs)
    # Individual kwargs override the config they are combined with.
    nfg = layers.LSTM(3, config=cfg, forget_gate=False, activation="identity")
    assert nfg.config == lt.LSTMConfig(peepholes=True, output_activation="identity",
                                       forget_gate=False, activation="identity")
    with pytest.raises(ValueError, match="coupled_input_forget=True"):
        layers.LSTM(3, coupled_input_forget=True, input_gate=False)


def test_parameter_counts_match_keras():
    assert _built(layers.LSTM(32), (50, 2)).count_params() == 4 * (2 * 32 + 32 * 32 + 32)  # 4480
    assert _built(layers.LSTM(32, use_bias=False), (50, 2)).count_params() == 4 * (2 + 32) * 32
    assert _built(layers.SimpleRNN(32), (50, 2)).count_params() == 2 * 32 + 32 * 32 + 32
    assert _built(layers.Dense(1), (32,)).count_params() == 33
    assert _built(layers.Embedding(30, 8), (10,)).count_params() == 240


def test_initializers_and_forget_bias():
    layer = _built(layers.LSTM(4, kernel_initializer="zeros", bias_initializer="ones"), (3, 2))
    assert not layer.params["W"].any()
    np.testing.assert_array_equal(layer.params["b"], np.r_[np.ones(4), 2 * np.ones(4), np.ones(8)])
    plain = _built(layers.LSTM(4, unit_forget_bias=False), (3, 2))
    assert not plain.params["b"].any()
    custom = _built(layers.LSTM(2, recurrent_initializer=lambda shape, rng: np.eye(*shape)), (3, 2))
    np.testing.assert_array_equal(custom.params["U"], np.eye(2, 8))
    with pytest.raises(ValueError, match="unknown initializer 'he_normal'; expected a callable"):
        layers.LSTM(4, kernel_initializer="he_normal")


def test_use_bias_false_keeps_b_at_zero_and_untrained(rng):
    layer = _built(layers.LSTM(3, use_bias=False), (4, 2))
    assert layer.weight_names == ["W", "U"]
    assert not layer.params["b"].any()
    layer(rng.standard_normal((2, 4, 2)))
    layer.backward(np.ones((2, 3)))
    assert set(layer.grads) == {"W", "U"}
    assert "b" not in layer.trainable_params()


# --------------------------------------------------------------------------- gradient checks


@pytest.mark.parametrize("kwargs", [
    {},
    {"return_sequences": True},
    {"peepholes": True, "return_sequences": True},
    {"kernel_regularizer": regularizers.l2(0.1), "recurrent_regularizer": "l1",
     "bias_regularizer": regularizers.l1_l2(0.01, 0.02)},
])
def test_lstm_layer_gradients(rng, kwargs):
    layer = _built(layers.LSTM(4, **kwargs), (5, 3))
    x = rng.standard_normal((2, 5, 3))
    if kwargs.get("kernel_regularizer") is None:
        _layer_gradcheck(layer, x)
        return
    # With regularizers the penalty is part of the loss the gradient refers to.
    w = rng.standard_normal((2, 4))
    layer.forward(x)
    layer.backward(w)
    report = check_gradients(
        lambda: float(np.sum(layer.forward(x) * w)) + layer.regularization_loss(),
        layer.trainable_params(), layer.grads,
    )
    assert report.passed, str(report)


def test_simple_rnn_and_dense_gradients(rng):
    _layer_gradcheck(_built(layers.SimpleRNN(4, return_sequences=True), (5, 3)),
                     rng.standard_normal((2, 5, 3)))
    _layer_gradcheck(_built(layers.Dense(3, activation="tanh"), (4, 5)),
                     rng.standard_normal((2, 4, 5)))


def test_recurrent_dropout_path_gradients(rng):
    """The step-by-step path (recurrent dropout) with a fixed mask passes the gradient check."""
    for layer in (layers.LSTM(4, dropout=0.3, recurrent_dropout=0.4, return_sequences=True),
                  layers.SimpleRNN(4, dropout=0.3, recurrent_dropout=0.4)):
        _built(layer, (5, 3))

        def same_masks(layer=layer):
            layer._rng = np.random.default_rng(7)

        _layer_gradcheck(layer, rng.standard_normal((3, 5, 3)), training=True, reset=same_masks)


def test_embedding_lookup_and_gradient(rng):
    layer = _built(layers.Embedding(6, 3), (4,))
    tokens = np.array([[0, 5, 5, 2], [1, 1, 1, 1]])
    out = layer(tokens)
    np.testing.assert_array_equal(out[0, 1], layer.params["E"][5])
    w = rng.standard_normal(out.shape)
    assert layer.backward(w) is None
    report = check_gradients(lambda: float(np.sum(layer.forward(tokens) * w)),
                             layer.trainable_params(), layer.grads)
    assert report.passed, str(report)
    assert not layer.grads["E"][[3, 4]].any()  # unused tokens get no gradient
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 6\); got values from 0 to 6"):
        layer(np.array([[0, 6]]))


# --------------------------------------------------------------------------- options


def test_dropout_differs_in_training_and_inference_is_deterministic(rng):
    x = rng.standard_normal((8, 6, 5))
    layer = _built(layers.LSTM(4, dropout=0.5, recurrent_dropout=0.5, seed=1), (6, 5))
    a, b = layer(x), layer(x)
    np.testing.assert_array_equal(a, b)  # inference: no dropout, same answer
    t1 = layer(x, training=True)
    t2 = layer(x, training=True)
    assert np.abs(t1 - a).max() > 1e-3 and np.abs(t1 - t2).max() > 1e-3
    hs, _ = lt.kernels.lstm_forward(x, layer.params)
    np.testing.assert_array_equal(a, hs[:, -1])


def test_input_dropout_mask_is_fixed_over_time(rng):
    x = rng.standard_normal((16, 5, 6))
    layer = _built(layers.LSTM(3, dropout=0.5, seed=2, return_sequences=True), (5, 6))
    out = layer(x, training=True)
    mask = layer._cache[1]
    assert mask.shape == (16, 1, 6)
    assert set(np.unique(mask)) == {0.0, 2.0}  # inverted dropout: kept units scaled by 1/(1-p)
    hs, _ = lt.kernels.lstm_forward(x * mask, layer.params)
    np.testing.assert_array_equal(out, hs)


def test_stateful_carries_state_across_batches(rng):
    """Two halves of one sequence, fed as consecutive batches, give the outputs of the whole."""
    x = rng.standard_normal((3, 10, 2))
    whole = _built(layers.LSTM(4, return_sequences=True), (10, 2), seed=5)
    full = whole(x)
    split = _built(layers.LSTM(4, return_sequences=True, stateful=True), (5, 2), seed=5)
    first, second = split(x[:, :5]), split(x[:, 5:])
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), full, rtol=1e-13)
    split.reset_states()
    np.testing.assert_array_equal(split(x[:, 5:]), whole(x[:, 5:]))
    with pytest.raises(ValueError, match="carries a state for batch size 3 but got a batch of 2"):
        split(x[:2, :5])

    rnn_whole = _built(layers.SimpleRNN(4, return_sequences=True), (10, 2), seed=5)
    rnn_split = _built(layers.SimpleRNN(4, return_sequences=True, stateful=True), (5, 2), seed=5)
    parts = [rnn_split(x[:, :5]), rnn_split(x[:, 5:])]
    np.testing.assert_allclose(np.concatenate(parts, axis=1), rnn_whole(x), rtol=1e-13)


def test_regularization_loss_and_gradient(rng):
    layer = _built(layers.LSTM(3, kernel_regularizer="l2", recurrent_regularizer=regularizers.l1(0.5)),
                   (4, 2))
    W, U = layer.params["W"], layer.params["U"]
    assert layer.regularization_loss() == pytest.approx(0.01 * np.sum(W**2) + 0.5 * np.abs(U).sum())
    x = rng.standard_normal((2, 4, 2))
    plain = _built(layers.LSTM(3), (4, 2))
    plain.set_params(layer.get_params())
    for lay in (layer, plain):
        lay(x)
        lay.backward(np.ones((2, 3)))
    np.testing.assert_allclose(layer.grads["W"] - plain.grads["W"], 0.02 * W, atol=1e-15)
    np.testing.assert_allclose(layer.grads["U"] - plain.grads["U"], 0.5 * np.sign(U), atol=1e-15)
    np.testing.assert_array_equal(layer.grads["b"], plain.grads["b"])


def test_frozen_layer_still_passes_gradients(rng):
    layer = _built(layers.LSTM(3, trainable=False), (4, 2))
    assert layer.trainable_params() == {}
    layer(rng.standard_normal((2, 4, 2)))
    dx = layer.backward(np.ones((2, 3)))
    assert dx.shape == (2, 4, 2) and np.abs(dx).sum() > 0


def test_keep_gradients_and_gradient_scale(rng):
    x = rng.standard_normal((2, 4, 2))
    keep = _built(layers.LSTM(3, keep_gradients=True, gradient_scale=0.25), (4, 2), seed=1)
    ref = _built(layers.LSTM(3), (4, 2), seed=1)
    with pytest.raises(RuntimeError, match="has not run a backward pass yet"):
        keep.get_gradients()
    dx_keep = (keep(x), keep.backward(np.ones((2, 3))))[1]
    dx_ref = (ref(x), ref.backward(np.ones((2, 3))))[1]
    np.testing.assert_allclose(dx_keep, 0.25 * dx_ref, rtol=1e-15)  # only dx is scaled
    for k in ("W", "U", "b"):
        np.testing.assert_array_equal(keep.get_gradients()[k], ref.grads[k])
    assert keep.get_gradients()["W"] is not keep.grads["W"]  # a copy, safe from later steps
    with pytest.raises(RuntimeError, match="create it with keep_gradients=True"):
        ref.get_gradients()


def test_dense_applies_to_the_last_axis(rng):
    layer = _built(layers.Dense(3), (4, 5))
    x = rng.standard_normal((2, 4, 5))
    out = layer(x)
    assert out.shape == (2, 4, 3)
    np.testing.assert_allclose(out[:, 2], x[:, 2] @ layer.params["W"] + layer.params["b"])
    with pytest.raises(ValueError, match="loss='sparse_categorical_crossentropy'"):
        layers.Dense(3, activation="softmax")


def test_float32_input_builds_a_float32_layer(rng):
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    layer = layers.LSTM(5)
    out = layer(x)
    assert layer.params["W"].dtype == np.float32 and out.dtype == np.float32
    assert layer.backward(np.ones((2, 5), np.float32)).dtype == np.float32


def test_input_and_weight_errors_are_clear(rng):
    layer = _built(layers.LSTM(3), (4, 2))
    with pytest.raises(ValueError, match=r"x must be 3-D with shape \(batch, timesteps, features\)"):
        layer(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"was built for 2 input features; got x of shape \(1, 4, 5\)"):
        layer(np.zeros((1, 4, 5)))
    with pytest.raises(ValueError, match=r"params\['U'\] must have shape \(3, 12\); got \(3, 3\)"):
        layer.set_params({"W": np.zeros((2, 12)), "U": np.zeros((3, 3)), "b": np.zeros(12)})
    with pytest.raises(ValueError, match=r"missing \['b'\]"):
        layer.set_params({"W": np.zeros((2, 12)), "U": np.zeros((3, 12))})
    with pytest.raises(ValueError, match=r"dropout must be a float in \[0, 1\); got 1.0"):
        layers.LSTM(3, dropout=1.0)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        _built(layers.LSTM(3), (4, 2)).backward(np.zeros((1, 3)))


def test_set_params_from_a_from_scratch_model(rng):
    params = lt.init_lstm(2, 3, rng=9)
    layer = _built(layers.LSTM(3), (4, 2), seed=0)
    W_array = layer.params["W"]
    layer.set_params(params)
    assert layer.params["W"] is W_array  # copied in place: references stay valid
    np.testing.assert_array_equal(layer.params["U"], params["U"])
    layer.set_weights(layer.get_weights())


def test_layer_config_round_trip():
    layer = layers.LSTM(7, dropout=0.2, peepholes=True, kernel_regularizer="l2",
                        return_sequences=True, name="enc", gradient_scale=0.5)
    twin = layers.from_config("LSTM", layer.get_config())
    assert twin.get_config() == layer.get_config()
    assert twin.config.peepholes and isinstance(twin.kernel_regularizer, regularizers.L2)
