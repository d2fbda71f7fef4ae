"""The concise side refuses bad input clearly and stops a blown-up training with its last good
weights: targets with NaN, empty predictions, string flags, BCE targets, doctored checkpoints,
exploding losses, and overflow in the gradient norm."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import lstm_teach as lt
from lstm_teach import layers, losses, optim
from lstm_teach.concise.model import Callback, Sequential, TrainingDivergedError
from lstm_teach.concise.training import TrainingGuard, train_with_readout


def _data(rng, n=16, T=5, D=2):
    x = rng.standard_normal((n, T, D))
    return x, x[:, :, :1].mean(axis=1)


def _model(lr=0.01, seed=0):
    model = Sequential([layers.LSTM(4), layers.Dense(1)], seed=seed)
    model.compile(optimizer=optim.Adam(learning_rate=lr), loss="mse")
    return model


# --------------------------------------------------------------------------- input checks


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_fit_checks_y_and_validation_y_for_nan_and_inf(rng, bad):
    x, y = _data(rng)
    y[5, 0] = bad
    model = _model()
    with pytest.raises(lt.NonFiniteError, match=r"y contains 1 non-finite value.*index \(5, 0\)"):
        model.fit(x, y, verbose=0)
    _, y_ok = _data(rng)
    with pytest.raises(ValueError, match=r"y_val contains 1 non-finite"):
        model.fit(x, y_ok, validation_data=(x, y), verbose=0)
    x[0, 0, 0] = bad
    with pytest.raises(ValueError, match=r"x contains 1 non-finite"):
        model.fit(x, y_ok, verbose=0)
    assert model.optimizer.iterations == 0  # refused before any step


def test_fit_and_train_on_batch_reject_non_numeric_targets(rng):
    x, _ = _data(rng, n=4)
    with pytest.raises(TypeError, match="y must hold numbers; got dtype <U1"):
        _model().fit(x, np.array(["a", "b", "c", "d"]), verbose=0)
    with pytest.raises(lt.NonFiniteError, match="y contains"):
        _model().train_on_batch(x, np.full((4, 1), np.nan))


def test_predict_on_zero_samples_says_so(rng):
    model = _model()
    x, _ = _data(rng)
    model.predict(x)  # built
    with pytest.raises(ValueError, match=r"predict needs at least one sample; x has shape \(0, 5, 2\)"):
        model.predict(x[:0])
    with pytest.raises(ValueError, match="predict needs at least one sample"):
        _model().predict(np.zeros((0, 5, 2)))


@pytest.mark.parametrize("make", [
    lambda v: layers.LSTM(3, return_sequences=v),
    lambda v: layers.LSTM(3, return_state=v),
    lambda v: layers.LSTM(3, stateful=v),
    lambda v: layers.LSTM(3, unit_forget_bias=v),
    lambda v: layers.SimpleRNN(3, use_bias=v),
    lambda v: layers.Dense(3, use_bias=v),
    lambda v: layers.Dense(3, trainable=v),
    lambda v: optim.SGD(0.1, nesterov=v),
])
def test_boolean_options_reject_strings(make):
    with pytest.raises(TypeError, match=r"must be True or False; got str 'no'"):
        make("no")
    with pytest.raises(TypeError, match=r"must be True or False; got int 1"):
        make(1)
    make(True), make(np.bool_(False))  # real booleans are fine


def test_binary_crossentropy_rejects_targets_outside_0_1():
    logits = np.zeros((2, 3))
    for bad, shown in ((1.5, "1.5"), (-0.25, "-0.25"), (np.nan, "nan")):
        target = np.full((2, 3), 0.5)
        target[1, 2] = bad
        with pytest.raises(ValueError, match=rf"target must lie in \[0, 1\].*1 value\(s\) do not, "
                                             rf"the first at index \(1, 2\): {shown}"):
            losses.binary_crossentropy(logits, target)
    value, _ = losses.binary_crossentropy(logits, np.array([[0.0, 1.0, 0.3], [1.0, 0.0, 0.5]]))
    assert value == pytest.approx(np.log(2.0))  # soft targets in [0, 1] are fine


# --------------------------------------------------------------------------- checkpoints


def _saved(tmp_path, rng):
    model = _model()
    x, y = _data(rng)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    return path, json.loads(str(arrays.pop("__config__"))), arrays


def _write(path, config, arrays):
    np.savez(path, __config__=np.array(json.dumps(config)), **arrays)
    return path


@pytest.mark.parametrize("doctor, message", [
    (lambda c, a: c["layers"][0]["config"].update(units=10**9),
     r"layer 'lstm': units=1000000000 matches none of its stored weights"),
    (lambda c, a: c["layers"][0]["config"].update(units="4"),
     r"layer 'lstm': units must be a positive int; got '4'"),
    (lambda c, a: c["layers"][1]["config"].update(units=-1),
     r"layer 'dense': units must be a positive int; got -1"),
    (lambda c, a: c.update(input_shape=[None, -5, 2]),
     r"input_shape must be a list of positive ints or null"),
    (lambda c, a: c.update(input_shape="(None, 5, 2)"),
     r"input_shape must be a list"),
    (lambda c, a: c.update(dtype="float16"), r"dtype must be 'float32' or 'float64'"),
    (lambda c, a: c["layers"].append({"class_name": "Conv2D", "config": {"name": "c"}}),
     r"layer 2 must be \{'class_name': one of"),
    (lambda c, a: c.update(layers=[]), r"layers must be a non-empty list"),
    (lambda c, a: c.update(compile={"loss": 3}), r"compile must be null or"),
    (lambda c, a: a.__setitem__("weights/lstm/W", np.full_like(a["weights/lstm/W"], np.nan)),
     r"weights/lstm/W holds \d+ NaN or inf value"),
    (lambda c, a: a["weights/dense/b"].__setitem__(0, np.inf),
     r"weights/dense/b holds 1 NaN or inf value"),
    (lambda c, a: a.__setitem__("optimizer_iterations", np.array(-3)),
     r"optimizer_iterations must be a non-negative integer"),
    (lambda c, a: a.__setitem__("optimizer_iterations", np.array(2.5)),
     r"optimizer_iterations must be a non-negative integer"),
])
def test_checkpoint_loading_validates_before_building(tmp_path, rng, doctor, message):
    path, config, arrays = _saved(tmp_path, rng)
    doctor(config, arrays)
    bad = _write(tmp_path / "bad.npz", config, arrays)
    with pytest.raises(ValueError, match=message):
        Sequential.load(bad)
    target = _model()
    target.build((None, 5, 2))
    before = [w.copy() for w in target.get_weights()]
    with pytest.raises(ValueError, match=message):
        target.load_weights(bad)
    for a, b in zip(target.get_weights(), before, strict=True):  # nothing changed
        np.testing.assert_array_equal(a, b)
    Sequential.load(path)  # the untouched file still loads


# --------------------------------------------------------------------------- divergence


def test_adam_at_a_huge_learning_rate_stops_and_keeps_the_last_good_weights(rng):
    """No NaN ever appears: the loss just explodes (3.5e11 before this policy)."""
    x, y = _data(rng, n=64)
    model = _model(lr=1e6)
    model.build((None, 5, 2))
    start = [w.copy() for w in model.get_weights()]
    seen = []

    class Record(Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(([w.copy() for w in model.get_weights()], logs["loss"]))

    with pytest.raises(TrainingDivergedError, match=r"the loss exploded to .* \(it started at") \
            as err:
        model.fit(x, y, batch_size=8, epochs=5, shuffle=False, verbose=0, callbacks=[Record()])
    assert err.value.quantity == "loss" and np.isfinite(err.value.value)
    assert err.value.value > 1e4 * max(seen[0][1], 1.0)
    # the weights of the last step whose loss was fine: those the failing step's
    # predecessor started from (the initial ones if step 2 already exploded)
    k = err.value.step  # 1-based; steps 1 .. k-1 completed
    expected = start if k == 2 else seen[k - 3][0]
    for a, b in zip(model.get_weights(), expected, strict=True):
        np.testing.assert_array_equal(a, b)
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_explosion_factor_can_be_turned_off_but_nan_is_always_caught(rng):
    guard = TrainingGuard({"w": np.ones(2)}, explosion_factor=None)
    guard.check_loss(1.0)
    guard.check_loss(1e30)  # allowed: the explosion test is off
    with pytest.raises(TrainingDivergedError, match="the loss is nan"):
        guard.check_loss(np.nan)
    with pytest.raises(ValueError, match="explosion_factor must be > 1 or None"):
        TrainingGuard({"w": np.ones(2)}, explosion_factor=0.5)


def test_the_readout_loop_restores_the_last_good_params_on_explosion(rng):
    """The loop shared by the reproductions, the variant lab and the ConvLSTM."""
    params = lt.init_lstm(1, 3, rng=rng)
    params.update(V=rng.standard_normal((3, 1)), c=np.zeros(1))
    x, y = rng.standard_normal((8, 4, 1)), rng.standard_normal((8, 1))
    history = []

    def sample(step):
        history.append({k: v.copy() for k, v in params.items()})
        return x, y

    run = train_with_readout(
        params, sample, lambda xb, core: lt.kernels.lstm_forward(xb, core),
        lambda dhs, cache, xb, core: lt.kernels.lstm_backward(dhs, cache)[3],
        losses.mse, optim.SGD(1e8), 10, target="last")
    assert run.diverged is not None and run.diverged.quantity in ("loss", "weights")
    assert run.steps < 10 and len(run.grad_norms) == run.steps
    last_good = history[run.steps - 1] if run.diverged.quantity == "loss" else history[run.steps]
    for k in params:
        np.testing.assert_array_equal(params[k], last_good[k])


# --------------------------------------------------------------------------- global_norm


def test_global_norm_does_not_overflow_or_warn():
    big = {"a": np.full(10, 1e200), "b": np.array([1e300, -1e300]), "c": np.full(3, 1e30, np.float32)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert optim.global_norm(big) == pytest.approx(np.sqrt(2) * 1e300, rel=1e-12)
        assert optim.global_norm({"a": np.full(4, 1e200)}) == pytest.approx(2e200, rel=1e-12)
        assert optim.global_norm({"a": np.array([3.0, 4.0]), "b": np.array([12.0])}) == 13.0
        assert optim.global_norm({"a": np.array([np.inf, 1.0])}) == np.inf
        assert np.isnan(optim.global_norm({"a": np.array([np.nan, np.inf])}))
        assert optim.global_norm({"a": np.zeros(3)}) == 0.0
        clipped, norm = optim.clip_by_global_norm({"a": np.full(4, 1e200)}, 1.0)
        np.testing.assert_allclose(clipped["a"], 0.5, rtol=1e-12)
