"""Sequential: whole-model gradient checks, the training loop and its callbacks, progress
output, and the faults (NaN, Ctrl-C, corrupt or mismatched checkpoints, atomic saves)."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from lstm_teach import layers, losses, optim, regularizers
from lstm_teach.concise.model import (
    Callback,
    EarlyStopping,
    LambdaCallback,
    Sequential,
    TrainingDivergedError,
    load_model,
)
from lstm_teach.core.gradcheck import check_gradients


def _toy_regression(rng, n=64, T=6, D=2):
    """y = mean of the first feature: learnable in a few epochs."""
    x = rng.standard_normal((n, T, D))
    return x, x[:, :, :1].mean(axis=1)


def _model(seed=0, units=8, **lstm_kwargs):
    model = Sequential([layers.LSTM(units, **lstm_kwargs), layers.Dense(1)], seed=seed)
    model.compile(optimizer=optim.Adam(learning_rate=0.01), loss="mse")
    return model


def _gradcheck_model(model, x, y):
    loss, grads = model.compute_gradients(x, y)
    params = model.params
    report = check_gradients(lambda: model.compute_gradients(x, y)[0], params,
                             {k: grads[k].copy() for k in params})
    assert report.passed, str(report)
    return report


# --------------------------------------------------------------------------- gradient checks


@pytest.mark.parametrize("regularized", [False, True])
def test_whole_model_gradient_check(rng, regularized):
    reg = {}
    if regularized:
        reg = {"kernel_regularizer": regularizers.l2(0.05), "recurrent_regularizer": "l1",
               "bias_regularizer": regularizers.l1_l2(0.01, 0.03)}
    model = Sequential([layers.LSTM(4, **reg),
                        layers.Dense(2, kernel_regularizer="l2" if regularized else None)], seed=1)
    model.compile(optimizer="adam", loss="mse")
    x, y = rng.standard_normal((3, 5, 2)), rng.standard_normal((3, 2))
    report = _gradcheck_model(model, x, y)
    assert max(report.errors.values()) < 1e-7
    if regularized:
        assert model.regularization_loss() > 0.01


@pytest.mark.parametrize("flags", [{"peepholes": True}, {"full_gate_recurrence": True},
                                   {"full_gate_recurrence": True, "peepholes": True}])
def test_variant_layers_build_their_extra_weights_and_pass_the_gradient_check(rng, flags):
    from lstm_teach import LSTMConfig

    model = Sequential([layers.LSTM(3, config=LSTMConfig(**flags)), layers.Dense(1)], seed=3)
    model.compile(optimizer="adam", loss="mse")
    x, y = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 1))
    _gradcheck_model(model, x, y)
    lstm = model.layers[0]
    assert ("R" in lstm.params) == flags.get("full_gate_recurrence", False)
    assert ("P" in lstm.params) == flags.get("peepholes", False)


def test_gradient_check_sequence_classifier(rng):
    """Embedding -> LSTM(return_sequences) -> Dense on every step -> sparse cross-entropy."""
    model = Sequential([layers.Embedding(5, 3), layers.LSTM(4, return_sequences=True),
                        layers.SimpleRNN(3, return_sequences=True), layers.Dense(5)], seed=2)
    model.compile(loss="sparse_categorical_crossentropy")
    tokens = rng.integers(0, 5, size=(2, 4))
    _gradcheck_model(model, tokens, np.roll(tokens, -1, axis=1))


def test_gradient_check_catches_a_wrong_gradient(rng):
    """The check is not vacuous: halving one layer's gradient makes it fail."""
    model = _model(units=3)
    x, y = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 1))
    _, grads = model.compute_gradients(x, y)
    wrong = {k: g.copy() for k, g in grads.items()}
    wrong["lstm/U"] *= 0.5
    report = check_gradients(lambda: model.compute_gradients(x, y)[0], model.params, wrong)
    assert not report.passed and report.worst[0] == "lstm/U"


# --------------------------------------------------------------------------- training loop


def test_fit_learns_and_records_history(rng):
    x, y = _toy_regression(rng)
    model = _model()
    history = model.fit(x, y, batch_size=16, epochs=8, validation_data=(x[:16], y[:16]),
                        verbose=0)
    assert set(history.history) == {"loss", "val_loss"}
    assert len(history.history["loss"]) == 8 and history.epoch == list(range(8))
    assert len(history.batch_loss) == 8 * 4
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert model.history is history
    assert model.evaluate(x[:16], y[:16]) == pytest.approx(history.history["val_loss"][-1])


def test_fit_is_reproducible_with_a_seed(rng):
    x, y = _toy_regression(rng)
    weights = []
    for _ in range(2):
        model = _model(seed=3, dropout=0.2)
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_accuracy_metric_follows_the_loss(rng):
    x = rng.standard_normal((40, 5, 3))
    labels = (x[:, :, 0].sum(axis=1) > 0).astype(int)
    model = Sequential([layers.LSTM(6), layers.Dense(2)], seed=0)
    model.compile(optimizer=optim.Adam(0.02), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, labels, batch_size=8, epochs=6, verbose=0)
    loss, acc = model.evaluate(x, labels)
    logits = model.predict(x)
    assert acc == pytest.approx(np.mean(logits.argmax(axis=1) == labels))
    assert history.history["accuracy"][-1] > 0.7
    with pytest.raises(ValueError, match="metric 'accuracy' needs a classification loss"):
        model.compile(loss="mse", metrics=["accuracy"])


def test_callbacks_see_every_batch_and_epoch(rng):
    x, y = _toy_regression(rng, n=20)
    events = []
    cb = LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda e, logs: events.append(f"epoch_begin {e}"),
        on_batch_end=lambda b, logs: events.append(f"batch_end {b} {sorted(logs)}"),
        on_epoch_end=lambda e, logs: events.append(f"epoch_end {e} {sorted(logs)}"),
        on_train_end=lambda logs: events.append("train_end"),
    )
    model = _model()
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[cb])
    batch = "['loss', 'mae', 'size']"
    assert events[:6] == ["train_begin", "epoch_begin 0", f"batch_end 0 {batch}",
                          f"batch_end 1 {batch}", f"batch_end 2 {batch}",
                          "epoch_end 0 ['loss', 'mae']"]
    assert events[-1] == "train_end" and len(events) == 1 + 2 * 5 + 1


def test_a_callback_can_stop_training(rng):
    x, y = _toy_regression(rng, n=40)

    class StopAtThird(Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 2:
                self.model.stop_training = True

    model = _model()
    history = model.fit(x, y, batch_size=4, epochs=5, verbose=0, callbacks=[StopAtThird()])
    assert len(history.batch_loss) == 3 and len(history.epoch) == 1
    assert model.optimizer.iterations == 3


def test_early_stopping_patience_and_restore(rng):
    x, y = _toy_regression(rng, n=16)
    model = _model()
    model.compile(optimizer=optim.SGD(learning_rate=1e-12), loss="mse")  # the loss cannot move
    stopper = EarlyStopping(monitor="loss", patience=2, min_delta=1e-3)
    history = model.fit(x, y, batch_size=16, epochs=20, verbose=0, callbacks=[stopper])
    assert len(history.epoch) == 3 and stopper.stopped_epoch == 2 and stopper.best_epoch == 0

    # restore_best_weights: drive the hooks directly with made-up losses.
    stopper = EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    stopper.set_model(model)
    stopper.on_train_begin()
    best = model.get_weights()
    stopper.on_epoch_end(0, {"val_loss": 1.0})
    model.set_weights([w + 1 for w in best])
    stopper.on_epoch_end(1, {"val_loss": 2.0})
    assert model.stop_training
    stopper.on_train_end()
    for a, b in zip(model.get_weights(), best, strict=True):
        np.testing.assert_array_equal(a, b)

    with pytest.raises(ValueError, match="EarlyStopping monitors 'val_loss'.*pass validation_data"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[EarlyStopping()])


def test_progress_output(rng, capsys):
    x, y = _toy_regression(rng, n=16)
    model = _model()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    model.fit(x, y, batch_size=8, epochs=2, verbose=1)
    err = capsys.readouterr().err
    assert "Epoch 1/2" in err and "Epoch 2/2" in err and "2/2" in err and "loss=" in err
    model.fit(x, y, batch_size=8, epochs=2, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("Epoch 2/2  loss=")


def test_predict_evaluate_and_batching(rng):
    x, y = _toy_regression(rng, n=30)
    model = _model()
    full = model.predict(x)
    np.testing.assert_allclose(model.predict(x, batch_size=7), full, rtol=1e-14)
    assert full.shape == (30, 1)
    assert model.evaluate(x, y, batch_size=7) == pytest.approx(np.mean((full - y) ** 2))
    with pytest.raises(ValueError, match=r"x and y must hold the same number of samples; got 30"):
        model.fit(x, y[:10], verbose=0)


def test_weights_get_set_and_summary(rng):
    model = _model(units=32)
    model.build((None, 50, 2))
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(2, 128), (32, 128), (128,), (32, 1), (1,)]
    model.set_weights([np.zeros_like(w) for w in weights])
    assert not model.params["lstm/W"].any()
    model.set_weights({"lstm/W": weights[0], "lstm/U": weights[1], "lstm/b": weights[2],
                       "dense": {"W": weights[3], "b": weights[4]}})
    np.testing.assert_array_equal(model.params["lstm/U"], weights[1])
    with pytest.raises(ValueError, match=r"set_weights: dense/W must have shape \(32, 1\); got"):
        model.set_weights(weights[:3] + [np.zeros((3, 1)), weights[4]])
    np.testing.assert_array_equal(model.params["lstm/U"], weights[1])  # unchanged by the failure
    text = model.summary(print_fn=None)
    assert "lstm (LSTM)" in text and "(None, 32)" in text and "4,480" in text
    assert "Total params: 4,513" in text and "Non-trainable params: 0" in text
    model.layers[0].trainable = False
    assert "Trainable params: 33" in model.summary(print_fn=None)


def test_frozen_layer_is_not_updated(rng):
    x, y = _toy_regression(rng, n=16)
    model = Sequential([layers.LSTM(4, trainable=False), layers.Dense(1)], seed=0)
    model.compile(optimizer="adam", loss="mse")
    model.build((None, 6, 2))
    frozen = model.layers[0].get_weights()
    dense = model.layers[1].get_weights()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    for a, b in zip(model.layers[0].get_weights(), frozen, strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.abs(model.layers[1].get_weights()[0] - dense[0]).max() > 0


def test_return_state_and_duplicate_names_are_refused():
    with pytest.raises(ValueError, match="return_state=True.*cannot pass"):
        Sequential([layers.LSTM(3, return_state=True)])
    with pytest.raises(ValueError, match="layer name 'a' is used twice"):
        Sequential([layers.LSTM(3, name="a"), layers.Dense(1, name="a")])
    names = [lay.name for lay in Sequential([layers.LSTM(3, return_sequences=True),
                                             layers.LSTM(3), layers.Dense(1)]).layers]
    assert names == ["lstm", "lstm_1", "dense"]


def test_float32_training_stays_float32(rng):
    x, y = _toy_regression(rng, n=16)
    model = _model()
    model.fit(x.astype(np.float32), y.astype(np.float32), batch_size=8, verbose=0)
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert model.predict(x.astype(np.float32)).dtype == np.float32


# --------------------------------------------------------------------------- faults


def test_nan_loss_stops_with_a_clear_error_and_restores_weights(rng):
    x, y = _toy_regression(rng, n=32)
    calls = []

    def nan_on_the_third_step(pred, target):
        calls.append(1)
        value, d = losses.mse(pred, target)
        return (np.nan if len(calls) == 3 else value), d

    seen = []
    model = _model()
    model.compile(optimizer=optim.Adam(learning_rate=0.01), loss=nan_on_the_third_step)
    cb = LambdaCallback(on_batch_end=lambda b, logs: seen.append(model.get_weights()))
    with pytest.raises(TrainingDivergedError, match=r"epoch 1, batch 3 \(step 3\): the loss is nan"
                       ) as err:
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0, callbacks=[cb])
    assert isinstance(err.value, RuntimeError)
    assert (err.value.epoch, err.value.batch, err.value.step) == (0, 2, 3)
    assert len(err.value.history.batch_loss) == 2 and model.history is err.value.history
    # Restored: the weights used by step 2, the last step with a finite loss.
    for a, b in zip(model.get_weights(), seen[0], strict=True):
        np.testing.assert_array_equal(a, b)


def test_exploding_update_stops_with_inf(rng):
    x, y = _toy_regression(rng, n=8)
    model = Sequential([layers.Dense(1)], seed=0)
    model.compile(optimizer=optim.SGD(learning_rate=1e200), loss="mse")
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(TrainingDivergedError, match=r"epoch 1, batch 2 \(step 2\)") as err:
            model.fit(x[:, 0], y, batch_size=4, epochs=3, shuffle=False, verbose=0)
    assert err.value.quantity in ("loss", "weights")
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_non_finite_gradient_applies_no_update(rng):
    x, y = _toy_regression(rng, n=8)
    calls = []

    def bad_gradient_loss(pred, target):
        calls.append(1)
        d = 2 * (pred - target) / pred.size
        if len(calls) == 2:
            d[0] = np.inf
        return float(np.mean((pred - target) ** 2)), d

    model = _model()
    model.compile(optimizer="adam", loss=bad_gradient_loss)
    model.build((None, 6, 2))
    with pytest.raises(TrainingDivergedError, match="the gradient is not finite; no update was applied"):
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert model.optimizer.iterations == 1


def test_keyboard_interrupt_stops_cleanly_and_keeps_history(rng, capsys):
    x, y = _toy_regression(rng, n=32)
    after_step = []

    class CtrlC(Callback):
        def on_batch_end(self, batch, logs=None):
            after_step.append(self.model.get_weights())
            if len(after_step) == 11:  # epoch 2 (0-based 1), batch 3 (0-based 2)
                raise KeyboardInterrupt

    model = _model()
    history = model.fit(x, y, batch_size=4, epochs=5, verbose=0, callbacks=[CtrlC()])
    assert history.interrupted and len(history.batch_loss) == 11 and history.epoch == [0]
    assert "Training interrupted at epoch 2, batch 3" in capsys.readouterr().out
    for a, b in zip(model.get_weights(), after_step[-1], strict=True):
        np.testing.assert_array_equal(a, b)
    more = model.fit(x, y, batch_size=4, epochs=1, verbose=0)  # the model is still usable
    assert len(more.epoch) == 1 and not more.interrupted


def test_ctrl_c_during_an_update_is_held_until_the_step_is_complete(rng):
    """A real SIGINT that arrives between two weight writes must not leave a half-updated model."""

    class InterruptingAdam(optim.Adam):
        def _update(self, p, g, slots, lr, t):
            self.calls = getattr(self, "calls", 0) + 1
            if self.calls == 5 * 5 + 2:  # step 6, second of its five arrays
                os.kill(os.getpid(), signal.SIGINT)
            return super()._update(p, g, slots, lr, t)

    x, y = _toy_regression(rng, n=40)
    model = Sequential([layers.LSTM(4), layers.Dense(1)], seed=0)
    model.compile(optimizer=InterruptingAdam(learning_rate=0.01), loss="mse")
    history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert history.interrupted and model.optimizer.iterations == 6

    reference = Sequential([layers.LSTM(4), layers.Dense(1)], seed=0)
    reference.compile(optimizer=optim.Adam(learning_rate=0.01), loss="mse")
    reference.fit(x[:24], y[:24], batch_size=4, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # exactly six complete steps


# --------------------------------------------------------------------------- checkpoints


def test_save_load_round_trip_continues_identically(rng, tmp_path):
    x, y = _toy_regression(rng, n=32)
    model = Sequential([layers.LSTM(5, peepholes=True, kernel_regularizer="l2", dropout=0.1),
                        layers.Dense(1)], seed=0)
    model.compile(optimizer=optim.Adam(0.01, clipnorm=1.0), loss="mse", metrics=["mae"])
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    path = tmp_path / "model.npz"
    model.save(path)
    twin = Sequential.load(path)
    np.testing.assert_array_equal(twin.predict(x), model.predict(x))
    assert twin.optimizer.get_config() == model.optimizer.get_config()
    assert twin.optimizer.iterations == model.optimizer.iterations == 8
    assert twin.summary(print_fn=None) == model.summary(print_fn=None)
    assert twin.layers[0].config.peepholes and twin.metrics[0][0] == "mae"
    # Same weights, same Adam moments, same seed for shuffling and dropout: same future.
    model.rng, twin.rng = np.random.default_rng(1), np.random.default_rng(1)
    model.layers[0]._rng, twin.layers[0]._rng = model.rng, twin.rng
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    twin.fit(x, y, batch_size=8, epochs=1, verbose=0)
    for a, b in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert isinstance(load_model(path), Sequential)


def test_load_weights_into_a_fresh_model(rng, tmp_path):
    model = _model()
    model.build((None, 6, 2))
    model.save(tmp_path / "m.npz", include_optimizer=False)
    fresh = _model(seed=99)
    fresh.load_weights(tmp_path / "m.npz")
    for a, b in zip(fresh.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_checkpoint_gives_a_clear_error(rng, tmp_path, damage):
    path = tmp_path / "m.npz"
    model = _model()
    model.build((None, 6, 2))
    model.save(path)
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"not a zip" * 50,
                      "empty": b""}[damage])
    with pytest.raises(ValueError, match=r"cannot read checkpoint .*m\.npz.*truncated or corrupt"):
        Sequential.load(path)


def test_npz_that_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(ValueError, match="not an lstm_teach checkpoint: it has no __config__"):
        Sequential.load(path)
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        Sequential.load(tmp_path / "missing.npz")


def test_mismatched_architecture_is_refused_and_changes_nothing(tmp_path):
    saved = _model(units=8)
    saved.build((None, 6, 2))
    saved.save(tmp_path / "m.npz")

    wider = _model(units=16)
    wider.build((None, 6, 2))
    before = wider.get_weights()
    with pytest.raises(ValueError, match=r"weight 'lstm/W' has shape \(2, 32\) in the file but "
                                         r"\(2, 64\) in the model"):
        wider.load_weights(tmp_path / "m.npz")
    for a, b in zip(wider.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)

    other = Sequential([layers.SimpleRNN(8), layers.Dense(1)])
    other.build((None, 6, 2))
    with pytest.raises(ValueError, match=r"holds layers \['LSTM', 'Dense'\], this model has "
                                         r"\['SimpleRNN', 'Dense'\]"):
        other.load_weights(tmp_path / "m.npz")


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    model = _model()
    model.build((None, 6, 2))
    model.save(path)
    original = path.read_bytes()
    model.set_weights([w + 1 for w in model.get_weights()])

    def crash_mid_write(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash_mid_write)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == original  # the old checkpoint is intact ...
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]  # ... and no temp file is left

    def crash_on_rename(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", crash_on_rename)
    with pytest.raises(OSError, match="rename failed"):
        model.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
    Sequential.load(path)


def test_stateful_validation_neither_uses_nor_overwrites_the_training_state():
    """Validation is a separate stream: a different batch size must not crash fit, and the
    carried training state after fit equals the one without validation."""
    from lstm_teach import layers
    from lstm_teach.concise.model import Sequential
    from lstm_teach.concise.optim import SGD

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 5, 3)), rng.standard_normal((8, 1))

    def trained(validation):
        model = Sequential([layers.LSTM(4, stateful=True), layers.Dense(1)], seed=1)
        model.compile(optimizer=SGD(learning_rate=0.01), loss="mse")
        model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0,
                  validation_data=validation)
        return model

    plain = trained(None)
    with_val = trained((x[:3], y[:3]))  # batch of 3 against a carried state for 4
    np.testing.assert_array_equal(with_val.layers[0].states[0], plain.layers[0].states[0])
    for a, b in zip(with_val.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
