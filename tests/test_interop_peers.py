"""Interop against the real peers: PyTorch (stacked, bidirectional, cells, GRU) and Keras 3.

Keras runs on its torch backend (set here, before keras is imported); these tests skip
with the reason shown when torch or keras is absent.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

import lstm_teach as lt
from lstm_teach import interop
from lstm_teach.core.gru import GRUConfig, gru_backward, gru_forward, init_gru

os.environ["KERAS_BACKEND"] = "torch"  # Keras 3 defaults to TensorFlow, which the kit never uses

HAVE_KERAS = importlib.util.find_spec("keras") is not None and importlib.util.find_spec("torch")
needs_keras = pytest.mark.skipif(
    not HAVE_KERAS, reason="Keras 3 (torch backend) is not installed: pip install -e '.[keras]'"
)
TOL = {"float32": 2e-5, "float64": 1e-12}  # float32 keeps ~7 digits; sums of ~10 terms lose one


def _gru_params(rng, D, H, dtype=np.float64):
    p = init_gru(D, H, rng=rng)
    return {k: (v + 0.5 * rng.standard_normal(v.shape)).astype(dtype) for k, v in p.items()}


def _max_rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


# --------------------------------------------------------------------------- torch, pure layout


def test_gru_torch_layout_round_trip_without_torch(rng):
    params = _gru_params(rng, 3, 4)
    sd = interop.to_torch_gru(params)
    assert sd["weight_ih_l0"].shape == (12, 3) and sd["bias_hh_l0"].shape == (12,)
    back = interop.from_torch_gru(sd)
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])
    cell = interop.to_torch_gru(params, cell=True)
    assert set(cell) == {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}
    np.testing.assert_array_equal(interop.from_torch_gru(cell)["U"], params["U"])
    with pytest.raises(ValueError, match=r"no layers or directions; got layer=1"):
        interop.from_torch_gru(cell, layer=1)
    lstm_sd = interop.to_torch(lt.init_lstm(3, 4, rng=rng))
    with pytest.raises(ValueError, match=r"weight_hh_l0 must have shape \(3H, H\).*look like an LSTM \(use from_torch\)"):
        interop.from_torch_gru(lstm_sd)
    with pytest.raises(ValueError, match=r"weight_hh_l0 must have shape \(4H, H\).*look like a GRU \(use from_torch_gru\)"):
        interop.from_torch(sd)


def test_stacked_state_dict_is_never_cut_to_layer_0(rng):
    a, b = lt.init_lstm(3, 4, rng=rng), lt.init_lstm(8, 4, rng=rng)
    sd = {**interop.to_torch(a), **interop.to_torch(a, reverse=True),
          **interop.to_torch(b, layer=1), **interop.to_torch(b, layer=1, reverse=True)}
    assert interop.torch_layers(sd) == [(0, False), (0, True), (1, False), (1, True)]
    with pytest.raises(ValueError, match=r"holds layer 0 forward, layer 0 reverse, layer 1 forward, layer 1 reverse .*from_torch_all"):
        interop.from_torch(sd)
    with pytest.raises(ValueError, match=r"no layer 2 forward weights; it holds layer 0 forward"):
        interop.from_torch(sd, layer=2)
    np.testing.assert_array_equal(interop.from_torch(sd, layer=1, reverse=True)["W"], b["W"])
    layers = interop.from_torch_all(sd)
    assert len(layers) == 2 and set(layers[1]) == {"forward", "reverse"}
    np.testing.assert_array_equal(layers[0]["reverse"]["U"], a["U"])


# --------------------------------------------------------------------------- torch, real modules


def _bidirectional_stack(x, layers, forward):
    """Run the package layer by layer, direction by direction, as torch connects them."""
    inp = x
    for layer in layers:
        outs = [forward(inp, layer["forward"])[0]]
        if "reverse" in layer:
            outs.append(forward(inp[:, ::-1], layer["reverse"])[0][:, ::-1])
        inp = np.concatenate(outs, axis=-1)
    return inp


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_stacked_bidirectional_modules_convert_whole(rng, kind):
    torch = pytest.importorskip("torch")
    torch.manual_seed(3)
    cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    module = cls(3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype=torch.float64)
    convert_all = interop.from_torch_all if kind == "lstm" else interop.from_torch_gru_all
    forward = lt.lstm_forward if kind == "lstm" else gru_forward
    layers = convert_all(module)  # the module itself, or its state dict
    x = rng.normal(size=(2, 6, 3))
    ours = _bidirectional_stack(x, layers, forward)
    with torch.no_grad():
        theirs = module(torch.from_numpy(x))[0].numpy()
    assert ours.shape == theirs.shape == (2, 6, 8)
    assert np.max(np.abs(ours - theirs)) < 1e-12
    single = interop.from_torch if kind == "lstm" else interop.from_torch_gru
    with pytest.raises(ValueError, match="stacked or bidirectional"):
        single(module.state_dict())


@pytest.mark.torch
def test_lstm_cell_state_dict_converts(rng):
    torch = pytest.importorskip("torch")
    torch.manual_seed(4)
    cell = torch.nn.LSTMCell(3, 5, dtype=torch.float64)
    params = interop.from_torch(cell.state_dict())
    x, h0, c0 = rng.normal(size=(2, 3)), rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    with torch.no_grad():
        h_t, c_t = (t.numpy() for t in cell(torch.from_numpy(x), (torch.from_numpy(h0), torch.from_numpy(c0))))
    h, c, _ = lt.lstm_step_forward(x, h0, c0, params)
    assert np.max(np.abs(h - h_t)) < 1e-14 and np.max(np.abs(c - c_t)) < 1e-14
    with pytest.raises(ValueError, match="converts torch.nn.LSTM / nn.LSTMCell; got a GRUCell module .*from_torch_gru"):
        interop.from_torch(torch.nn.GRUCell(3, 5))


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gru_matches_torch_with_gradients_by_name(rng, dtype):
    """to_torch_gru maps our gradient dict onto torch's parameter names, and they agree."""
    torch = pytest.importorskip("torch")
    np_dtype = np.dtype(dtype)
    params = _gru_params(rng, 3, 5, np_dtype)
    module = interop.torch_gru(params)
    assert module.weight_ih_l0.dtype == getattr(torch, dtype)
    x = rng.normal(size=(2, 7, 3)).astype(np_dtype)
    h0 = rng.normal(size=(2, 5)).astype(np_dtype)
    G = rng.normal(size=(2, 7, 5)).astype(np_dtype)
    xt, h0t = torch.tensor(x, requires_grad=True), torch.tensor(h0[None], requires_grad=True)
    out, _ = module(xt, h0t)
    (out * torch.tensor(G)).sum().backward()
    hs, cache = gru_forward(x, params, h0)
    dx, dh0, grads = gru_backward(G, cache)
    tol = TOL[dtype]
    assert _max_rel(hs, out.detach().numpy()) < tol
    assert _max_rel(dx, xt.grad.numpy()) < tol and _max_rel(dh0, h0t.grad[0].numpy()) < tol
    by_name = interop.to_torch_gru(grads)
    for name, p in module.named_parameters():
        assert _max_rel(by_name[name], p.grad.numpy()) < tol, name
    back = interop.from_torch_gru(module)
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])


# --------------------------------------------------------------------------- Keras 3


def _keras():
    import keras

    assert keras.backend.backend() == "torch", "keras was imported before KERAS_BACKEND was set"
    return keras


def _keras_run(layer, x, G):
    """Forward through a Keras layer on the torch backend and backprop sum(out * G)."""
    import torch

    xt = torch.tensor(x, requires_grad=True)
    out = layer(xt)
    (out * torch.tensor(G)).sum().backward()
    grads = {w.path.split("/")[-1]: w.value.grad.detach().numpy() for w in layer.trainable_weights}
    return out.detach().numpy(), xt.grad.numpy(), grads


@needs_keras
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("recurrent_activation", ["sigmoid", "hard_sigmoid"])
def test_keras_lstm_layer_outputs_and_gradients(rng, dtype, recurrent_activation):
    keras = _keras()
    B, T, D, H = 2, 6, 3, 4
    layer = keras.layers.LSTM(H, return_sequences=True, dtype=dtype,
                              recurrent_activation=recurrent_activation)
    layer.build((None, None, D))
    layer.set_weights([rng.normal(scale=0.5, size=w.shape).astype(dtype) for w in layer.get_weights()])
    params, config = interop.from_keras(layer)
    expected_rec = "hard_sigmoid_keras3" if recurrent_activation == "hard_sigmoid" else "sigmoid"
    assert config == lt.LSTMConfig(recurrent_activation=expected_rec)
    x, G = rng.normal(size=(B, T, D)).astype(dtype), rng.normal(size=(B, T, H)).astype(dtype)
    out, dx_ref, g = _keras_run(layer, x, G)
    hs, cache = lt.lstm_forward(x, params, config=config)
    dx, _, _, grads = lt.lstm_backward(G, cache)
    tol = TOL[dtype]
    assert hs.dtype == np.dtype(dtype)
    assert _max_rel(hs, out) < tol
    # torch's hardsigmoid backward multiplies by the float32 constant 1/6 (0.16666667163...)
    # even in float64, so its float64 gradients carry a relative error of ~3e-8; ours do not.
    grad_tol = 1e-7 if recurrent_activation == "hard_sigmoid" and dtype == "float64" else tol
    assert _max_rel(dx, dx_ref) < grad_tol
    for ours, theirs in (("W", "kernel"), ("U", "recurrent_kernel"), ("b", "bias")):
        assert _max_rel(grads[ours], g[theirs]) < grad_tol, ours
    if recurrent_activation == "hard_sigmoid":  # Keras 2's function would be visibly wrong
        wrong = lt.lstm_forward(x, params, config=lt.LSTMConfig(recurrent_activation="hard_sigmoid"))[0]
        assert np.max(np.abs(wrong - out)) > 1e-3


@needs_keras
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_keras_gru_layer_outputs_and_gradients(rng, dtype):
    keras = _keras()
    B, T, D, H = 2, 6, 3, 4
    layer = keras.layers.GRU(H, return_sequences=True, dtype=dtype)
    layer.build((None, None, D))
    layer.set_weights([rng.normal(scale=0.5, size=w.shape).astype(dtype) for w in layer.get_weights()])
    params, config = interop.from_keras_gru(layer)
    assert config == GRUConfig()
    x, G = rng.normal(size=(B, T, D)).astype(dtype), rng.normal(size=(B, T, H)).astype(dtype)
    out, dx_ref, g = _keras_run(layer, x, G)
    hs, cache = gru_forward(x, params, config=config)
    dx, _, grads = gru_backward(G, cache)
    tol = TOL[dtype]
    assert _max_rel(hs, out) < tol and _max_rel(dx, dx_ref) < tol
    kernel, recurrent, bias = interop.to_keras_gru(grads)  # gradients back in Keras' layout
    assert _max_rel(kernel, g["kernel"]) < tol
    assert _max_rel(recurrent, g["recurrent_kernel"]) < tol
    assert _max_rel(bias, g["bias"]) < tol


@needs_keras
@pytest.mark.parametrize("matmul", ["as shipped", "float64"])
def test_keras_gru_recurrent_dropout_with_the_same_mask(rng, monkeypatch, matmul):
    """Keras' GRU with recurrent_dropout, fed our layer's mask, computes our numbers.

    Keras draws its recurrent masks at random inside the cell: with recurrent_dropout > 0 it
    switches to ``implementation=1`` and draws three, one per gate block. To compare number
    for number we replace the cell's mask factory (the private
    ``DropoutRNNCell._create_dropout_mask``) with one that returns our (B, H) mask for all
    three blocks. Outputs and every gradient then agree, and masking h_{t-1} in the mix
    z h_{t-1} as well (the wrong reading) is visibly different from what Keras computes.

    That cell path multiplies with ``keras.ops.matmul``, whose type promotion turns float64
    into float32 on every backend but TensorFlow (``BIT64_TO_BIT32_DTYPE`` in
    ``keras/src/backend/common/dtypes.py``, to follow JAX), even in a float64 layer.
    "as shipped" compares with that Keras to float32 precision (the wrong reading is 1e3
    times further off); "float64" lifts the cast for this test alone and compares to 1e-12.
    """
    import torch

    keras = _keras()
    tol = TOL["float32"]  # measured: 3e-7 as shipped, 5e-16 with float64 products
    if matmul == "float64":
        from keras.src.backend.common import dtypes

        assert "float64" in dtypes.BIT64_TO_BIT32_DTYPE, "Keras changed its dtype promotion"
        monkeypatch.setitem(dtypes.BIT64_TO_BIT32_DTYPE, "float64", "float64")
        tol = 1e-12
    B, T, D, H, rate = 4, 6, 3, 5, 0.4
    theirs = keras.layers.GRU(H, recurrent_dropout=rate, return_sequences=True, dtype="float64")
    theirs.build((None, None, D))
    theirs.set_weights([rng.normal(scale=0.5, size=w.shape) for w in theirs.get_weights()])
    params, config = interop.from_keras_gru(theirs)
    ours = lt.layers.GRU(H, recurrent_dropout=rate, return_sequences=True, seed=5)
    ours.build((None, None, D), rng=0)
    ours.set_params(params)
    x, G = rng.normal(size=(B, T, D)), rng.normal(size=(B, T, H))
    hs = ours.forward(x, training=True)
    dx = ours.backward(G)
    mask = ours._cache[2]
    assert 0 < np.count_nonzero(mask) < mask.size

    cell = theirs.cell
    assert hasattr(cell, "_create_dropout_mask"), "Keras changed how its GRU cell draws masks"
    draws = []

    def our_mask(step_input, dropout_rate):
        draws.append((tuple(step_input.shape), dropout_rate))
        return [torch.tensor(mask)] * 3  # one mask per gate block [z, r, h]: all ours

    cell._create_dropout_mask = our_mask
    xt = torch.tensor(x, requires_grad=True)
    out = theirs(xt, training=True)
    (out * torch.tensor(G)).sum().backward()
    assert draws == [((B, H), rate)]  # drawn once per sequence, shared by all steps
    out = out.detach().numpy()
    assert _max_rel(hs, out) < tol
    assert _max_rel(dx, xt.grad.numpy()) < tol
    g = {w.path.split("/")[-1]: w.value.grad.detach().numpy() for w in theirs.trainable_weights}
    for name, ours_grad in zip(("kernel", "recurrent_kernel", "bias"),
                               interop.to_keras_gru(ours.grads), strict=True):
        assert _max_rel(ours_grad, g[name]) < tol, name

    # The wrong reading, the masked state also in the mix, is not what Keras computes.
    h, wrong = np.zeros((B, H)), np.empty((B, T, H))
    for t in range(T):
        h = lt.gru_step_forward(x[:, t], h * mask, params, config)[0]
        wrong[:, t] = h
    assert np.max(np.abs(wrong - out)) > 1e-2
    # Inference applies no mask, in Keras and here.
    inference = keras.ops.convert_to_numpy(theirs(x, training=False))
    assert _max_rel(gru_forward(x, params, config=config)[0], inference) < tol
    assert _max_rel(ours.forward(x), inference) < tol


@needs_keras
def test_keras_builders_are_the_reverse(rng):
    _keras()
    x = rng.normal(size=(2, 5, 3))
    params = lt.init_lstm(3, 4, rng=rng)
    config = lt.LSTMConfig(recurrent_activation="hard_sigmoid_keras3")
    layer = interop.keras_lstm(params, config)
    assert layer.get_config()["recurrent_activation"] == "hard_sigmoid"
    y = np.asarray(layer(x).detach())
    assert np.max(np.abs(y - lt.lstm_forward(x, params, config=config)[0])) < 1e-12
    back, back_config = interop.from_keras(layer)
    assert back_config == config and np.array_equal(back["U"], params["U"])
    gp = _gru_params(rng, 3, 4)
    gru = interop.keras_gru(gp, GRUConfig(activation="relu"))
    y = np.asarray(gru(x).detach())
    assert np.max(np.abs(y - gru_forward(x, gp, config=GRUConfig(activation="relu"))[0])) < 1e-12
    back, back_config = interop.from_keras_gru(gru)
    assert back_config.activation == "relu" and all(np.array_equal(back[k], gp[k]) for k in gp)


@needs_keras
def test_keras_layers_that_do_not_convert_say_why():
    keras = _keras()
    gru = keras.layers.GRU(4, reset_after=False)
    gru.build((None, None, 3))
    with pytest.raises(ValueError, match="reset_after=False"):
        interop.from_keras_gru(gru)
    with pytest.raises(ValueError, match="reset_after=False"):
        interop.from_keras_gru(gru.get_weights())
    with pytest.raises(ValueError, match="from_keras converts a Keras LSTM / LSTMCell layer; got GRU; use interop.from_keras_gru"):
        interop.from_keras(gru)
    bi = keras.layers.Bidirectional(keras.layers.LSTM(4))
    bi.build((None, None, 3))
    with pytest.raises(ValueError, match="got Bidirectional; convert layer.forward_layer"):
        interop.from_keras(bi)
    with pytest.raises(ValueError, match="has no weights yet"):
        interop.from_keras(keras.layers.LSTM(4))
    with pytest.raises(ValueError, match="go_backwards=True"):
        back = keras.layers.LSTM(4, go_backwards=True)
        back.build((None, None, 3))
        interop.from_keras(back)


def test_keras_names_and_unsupported_configs(rng):
    assert interop.keras_activation("hard_sigmoid") == "hard_sigmoid_keras3"
    assert interop.keras_activation("hard_sigmoid", keras_major=2) == "hard_sigmoid"
    assert interop.keras_activation("linear") == "identity"
    assert interop.keras3_activation_name("hard_sigmoid_keras3") == "hard_sigmoid"
    with pytest.raises(ValueError, match="Keras 3 has no built-in equivalent"):
        interop.keras3_activation_name("hard_sigmoid")
    with pytest.raises(ValueError, match="Keras activation 'swish' has no lstm_teach counterpart"):
        interop.from_keras(interop.to_keras(lt.init_lstm(2, 3, rng=rng)), activation="swish")
    params = lt.init_lstm(2, 3, rng=rng)
    with pytest.raises(ValueError, match=r"no counterpart for the variant LSTM\[CIFG\]"):
        interop.to_keras(params, lt.LSTMConfig(coupled_input_forget=True))
    with pytest.raises(ValueError, match="one `activation` for the candidate and the cell output"):
        interop.to_keras(params, lt.LSTMConfig(output_activation="identity"))
    with pytest.raises(ValueError, match=r"bias must have shape \(2, 3H\)"):
        interop.from_keras_gru([np.zeros((2, 9)), np.zeros((3, 9)), np.zeros((3, 9))])


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lstm_matches_torch_in_both_dtypes(rng, dtype):
    """torch_lstm / from_torch: outputs and gradients agree in float32 and float64."""
    torch = pytest.importorskip("torch")
    np_dtype = np.dtype(dtype)
    params = {k: v.astype(np_dtype) for k, v in lt.init_lstm(3, 5, rng=rng).items()}
    params["b"] = rng.normal(size=params["b"].shape).astype(np_dtype)
    module = interop.torch_lstm(params)
    x = rng.normal(size=(2, 7, 3)).astype(np_dtype)
    G = rng.normal(size=(2, 7, 5)).astype(np_dtype)
    xt = torch.tensor(x, requires_grad=True)
    out, _ = module(xt)
    (out * torch.tensor(G)).sum().backward()
    hs, cache = lt.lstm_forward(x, interop.from_torch(module))
    dx, _, _, grads = lt.lstm_backward(G, cache)
    tol = TOL[dtype]
    assert hs.dtype == np_dtype
    assert _max_rel(hs, out.detach().numpy()) < tol and _max_rel(dx, xt.grad.numpy()) < tol
    assert _max_rel(grads["W"], module.weight_ih_l0.grad.numpy().T) < tol
    assert _max_rel(grads["U"], module.weight_hh_l0.grad.numpy().T) < tol
    assert _max_rel(grads["b"], module.bias_hh_l0.grad.numpy()) < tol


@needs_keras
def test_keras_layers_without_bias_convert(rng):
    keras = _keras()
    x = rng.normal(size=(2, 5, 3))
    for layer, convert, forward in (
        (keras.layers.LSTM(4, use_bias=False, return_sequences=True, dtype="float64"),
         interop.from_keras, lt.lstm_forward),
        (keras.layers.GRU(4, use_bias=False, return_sequences=True, dtype="float64"),
         interop.from_keras_gru, gru_forward),
    ):
        layer.build((None, None, 3))
        assert len(layer.get_weights()) == 2
        params, config = convert(layer)
        assert all(np.all(params[k] == 0) for k in params if k.startswith("b"))
        y = keras.ops.convert_to_numpy(layer(x))
        assert np.max(np.abs(forward(x, params, config=config)[0] - y)) < 1e-12
