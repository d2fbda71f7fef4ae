"""Lesson 06 support code: the live gate monitor, temperature sampling, and the contract
between a hand-written truncated-BPTT loop and ``Sequential.fit`` that the workshop uses.

Everything runs headless: the monitor renders PNG bytes into an ``ipywidgets.Image``,
and a training callback drives it exactly as it does in the notebook.
"""

from __future__ import annotations

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest

import lstm_teach as lt
from lstm_teach import layers, losses, optim, sampling, tasks, widgets
from lstm_teach.concise.model import LambdaCallback, Sequential

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _no_figures_left_open():
    yield
    assert plt.get_fignums() == [], "the monitor left figures open under a headless backend"


def _probe_setup(seed=0, D=3, H=5, T=7):
    """A small LSTM and a probe sequence; the probe reads ``params`` when called."""
    rng = np.random.default_rng(seed)
    params = lt.init_lstm(D, H, rng=rng)
    x = rng.standard_normal((1, T, D))
    return params, x, (lambda: lt.lstm_forward(x, params)[1])


# --------------------------------------------------------------------------------------
# gate monitor: the compute function
# --------------------------------------------------------------------------------------


def test_monitor_data_picks_the_chosen_units_of_the_probe():
    params, x, probe = _probe_setup()
    cache = probe()
    r = widgets.gate_monitor_data(cache, units=[4, 1], labels="abcdefg", step=12,
                                  loss_steps=[1, 2], losses=[3.0, 2.5],
                                  val_steps=[2], val_losses=[2.7])
    np.testing.assert_array_equal(r["c"], cache.c[0][:, [4, 1]])
    for name in ("i", "f", "o"):
        np.testing.assert_array_equal(r[name], cache.gates[name][0][:, [4, 1]])
    assert r["c"].shape == (7, 2) and r["units"] == [4, 1] and r["step"] == 12
    assert r["labels"] == list("abcdefg")
    np.testing.assert_array_equal(r["t"], np.arange(7))
    np.testing.assert_array_equal(r["losses"], [3.0, 2.5])
    np.testing.assert_array_equal(r["val_steps"], [2.0])
    # the gates are sigmoids, the cell is their recurrence: check one value by hand
    i, f, g = (cache.gates[k][0, 0, 4] for k in "ifg")
    assert r["c"][0, 0] == pytest.approx(f * 0.0 + i * g)


def test_monitor_data_accepts_a_dict_and_copies():
    _, _, probe = _probe_setup()
    cache = probe()
    as_dict = {"c": cache.c.copy(), "gates": {k: v.copy() for k, v in cache.gates.items()}}
    r = widgets.gate_monitor_data(as_dict, units=[0])
    as_dict["c"][...] = 99.0
    assert np.all(r["c"] != 99.0)
    assert r["labels"] == [str(t) for t in range(7)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"units": [5]}, r"units must be a non-empty list of indices in \[0, 5\); got \[5\]"),
        ({"units": []}, r"units must be a non-empty list"),
        ({"units": [0], "labels": "abc"}, r"one label per probe step \(7\); got 3"),
        ({"units": [0], "loss_steps": [1, 2], "losses": [1.0]}, "loss_steps and losses"),
        ({"units": [0], "val_steps": [1], "val_losses": []}, "val_steps and val_losses"),
    ],
)
def test_monitor_data_rejects_bad_input(kwargs, message):
    _, _, probe = _probe_setup()
    with pytest.raises(ValueError, match=message):
        widgets.gate_monitor_data(probe(), **kwargs)


def test_monitor_data_needs_batched_cell_states():
    with pytest.raises(ValueError, match=r"shape \(B, T, H\); got \(7, 5\)"):
        widgets.gate_monitor_data({"c": np.zeros((7, 5)), "gates": {}}, units=[0])


def test_draw_gate_monitor_plots_the_result():
    _, _, probe = _probe_setup()
    r = widgets.gate_monitor_data(probe(), [0, 2], labels=["a", " ", "\n", "b", "c", "d", "e"],
                                  step=3, loss_steps=[1, 2, 3], losses=[3, 2, 1])
    fig = widgets.draw_gate_monitor(r, reference_loss=2.5)
    try:
        ax_loss, ax_c, ax_i, ax_f, ax_o = fig.axes
        assert "step 3" in fig._suptitle.get_text()
        np.testing.assert_array_equal(ax_loss.lines[0].get_ydata(), [3, 2, 1])
        assert ax_loss.get_ylabel().startswith("cross-entropy")
        for ax, name in ((ax_c, "c"), (ax_i, "i"), (ax_f, "f"), (ax_o, "o")):
            np.testing.assert_array_equal(ax.lines[1].get_ydata(), r[name][:, 1])
            assert ax.get_title(loc="left")
            assert ax.get_ylabel()
        ticks = [t.get_text() for t in ax_o.get_xticklabels()]
        assert ticks[:3] == ["a", "␣", "⏎"]  # whitespace made visible
        assert ax_o.get_xlabel()
    finally:
        plt.close(fig)


# --------------------------------------------------------------------------------------
# gate monitor: the widget
# --------------------------------------------------------------------------------------


def test_monitor_refreshes_every_n_steps_and_follows_the_weights():
    params, x, probe = _probe_setup()
    monitor = widgets.GateMonitor(probe, units=[0, 3], labels=list("abcdefg"), every=3)
    assert isinstance(monitor, ipywidgets.VBox)
    assert monitor.n_refreshes == 1 and monitor.result["step"] is None
    first_png = bytes(monitor.image.value)  # the widget hands back a memoryview
    assert first_png.startswith(PNG_SIGNATURE)

    refreshed = []
    for step in range(1, 8):
        params["U"] *= 1.1  # training changes the weights in place
        refreshed.append(monitor.update(step, loss=10.0 - step))
    assert refreshed == [False, False, True, False, False, True, False]
    assert monitor.n_refreshes == 3 and [h["step"] for h in monitor.history] == [None, 3, 6]
    # the last refresh saw the weights as they were after step 6
    params["U"] /= 1.1
    expected = lt.lstm_forward(x, params)[1]
    np.testing.assert_allclose(monitor.result["f"], expected.gates["f"][0][:, [0, 3]])
    assert monitor.losses == [9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0]
    assert monitor.loss_steps == list(range(1, 8))
    assert bytes(monitor.image.value).startswith(PNG_SIGNATURE)
    assert bytes(monitor.image.value) != first_png
    assert "step 6" in monitor.status.value


def test_monitor_record_does_not_redraw_and_force_does():
    _, _, probe = _probe_setup()
    monitor = widgets.GateMonitor(probe, units=[1], every=100, draw=False)
    monitor.record(0, val_loss=4.0)
    assert monitor.n_refreshes == 1 and monitor.val_losses == [4.0]
    assert monitor.figure is None and bytes(monitor.image.value) == b""  # draw=False renders nothing
    assert monitor.update(5, loss=3.0, force=True)
    assert monitor.n_refreshes == 2 and monitor.result["losses"].tolist() == [3.0]


def test_monitor_rejects_a_probe_that_is_not_callable():
    with pytest.raises(TypeError, match="probe must be a callable"):
        widgets.GateMonitor("not a function", units=[0])
    _, _, probe = _probe_setup()
    with pytest.raises(ValueError, match="every must be a positive integer"):
        widgets.GateMonitor(probe, units=[0], every=0)


def _tiny_char_model(V=5, seed=0, stateful=False):
    model = Sequential([layers.Embedding(V, 3),
                        layers.LSTM(4, return_sequences=True, stateful=stateful),
                        layers.Dense(V)], seed=seed)
    model.compile(optim.Adam(learning_rate=0.05, clipnorm=1.0),
                  loss="sparse_categorical_crossentropy")
    return model


def test_monitor_callback_is_fed_by_fit():
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 5, size=(24, 6))
    model = _tiny_char_model()
    model.build((None, 6))
    probe_ids = np.array([0, 1, 2, 3])
    emb, lstm, _ = model.layers
    monitor = widgets.GateMonitor(
        lambda: lt.lstm_forward(emb.params["E"][probe_ids][None], lstm.params)[1],
        units=[0, 1], labels="abcd", every=2, draw=False)
    history = model.fit(ids[:, :-1], ids[:, 1:], batch_size=8, epochs=2, shuffle=False,
                        verbose=0, validation_data=(ids[:4, :-1], ids[:4, 1:]),
                        callbacks=[monitor.callback()])
    assert monitor.losses == history.batch_loss and monitor.loss_steps == list(range(1, 7))
    assert monitor.val_steps == [3, 6] and monitor.val_losses == history.history["val_loss"]
    # refreshes at steps 2, 4, 6; the end of training needs no extra one
    assert [h["step"] for h in monitor.history] == [None, 2, 4, 6]
    final = lt.lstm_forward(emb.params["E"][probe_ids][None], lstm.params)[1]
    np.testing.assert_array_equal(monitor.result["c"], final.c[0][:, [0, 1]])


def test_monitor_callback_refreshes_at_the_end_of_training():
    ids = np.random.default_rng(2).integers(0, 5, size=(10, 4))
    model = _tiny_char_model()
    model.build((None, 3))
    emb, lstm, _ = model.layers
    monitor = widgets.GateMonitor(
        lambda: lt.lstm_forward(emb.params["E"][[0, 1]][None], lstm.params)[1],
        units=[2], every=4, draw=False)
    model.fit(ids[:, :-1], ids[:, 1:], batch_size=2, epochs=1, shuffle=False, verbose=0,
              callbacks=[monitor.callback()])
    assert [h["step"] for h in monitor.history] == [None, 4, 5]  # 5 steps; a final refresh


# --------------------------------------------------------------------------------------
# sampling with temperature
# --------------------------------------------------------------------------------------


def test_softmax_with_temperature():
    z = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 3.0]])
    p1 = sampling.softmax_with_temperature(z, 1.0)
    np.testing.assert_allclose(p1, np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(sampling.softmax_with_temperature(z, 0.5),
                               sampling.softmax_with_temperature(2 * z, 1.0))
    np.testing.assert_array_equal(sampling.softmax_with_temperature(z, 0), [[0, 1, 0], [0, 0, 1]])
    entropies = [-(p * np.log(p)).sum() for p in
                 (sampling.softmax_with_temperature(z[0], tau) for tau in (0.3, 1.0, 3.0, 30.0))]
    assert np.all(np.diff(entropies) > 0) and entropies[-1] < np.log(3)
    big = sampling.softmax_with_temperature(np.array([1e4, -1e4]), 1e-3)  # no overflow
    np.testing.assert_array_equal(big, [1.0, 0.0])


@pytest.mark.parametrize(
    ("temperature", "error", "message"),
    [(-0.5, ValueError, r"temperature must be a finite number >= 0; got -0.5"),
     (np.inf, ValueError, "finite"),
     (True, TypeError, "temperature must be a number"),
     ("hot", TypeError, "temperature must be a number")],
)
def test_temperature_is_validated(temperature, error, message):
    with pytest.raises(error, match=message):
        sampling.softmax_with_temperature([1.0, 2.0], temperature)


def test_sample_index_is_inverse_cdf_with_one_uniform_per_draw():
    logits = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
    gen, twin = np.random.default_rng(5), np.random.default_rng(5)
    draws = [sampling.sample_index(logits, 1.0, gen) for _ in range(2000)]
    u = twin.random(2000)
    np.testing.assert_array_equal(draws, np.searchsorted([0.1, 0.3, 0.6, 1.0], u, side="right"))
    freq = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.3, 0.4], atol=0.03)
    # temperature 0: always the argmax, and the stream still advances by one number per draw
    gen, twin = np.random.default_rng(6), np.random.default_rng(6)
    assert [sampling.sample_index(logits, 0, gen) for _ in range(3)] == [3, 3, 3]
    twin.random(3)
    assert gen.random() == twin.random()


def test_sample_index_rejects_a_batch_of_logits():
    with pytest.raises(ValueError, match=r"logits must be 1-D with shape \(V,\); got shape \(2, 3\)"):
        sampling.sample_index(np.zeros((2, 3)))


def _counter_step(V=6):
    """A fake model whose most likely next id is (last id + 1) mod V."""
    calls = []

    def step(ids):
        calls.append(np.array(ids))
        logits = np.zeros(V)
        logits[(int(ids[-1]) + 1) % V] = 5.0
        return logits

    return step, calls


def test_sample_ids_feeds_back_what_it_drew():
    step, calls = _counter_step()
    out = sampling.sample_ids(step, [4, 2], 5, temperature=0)
    np.testing.assert_array_equal(out, [3, 4, 5, 0, 1])
    np.testing.assert_array_equal(calls[0], [4, 2])  # the prime is read once, in one call
    assert [c.tolist() for c in calls[1:]] == [[3], [4], [5], [0]]
    step, _ = _counter_step()
    a = sampling.sample_ids(step, [0], 50, temperature=2.0, rng=np.random.default_rng(9))
    step, _ = _counter_step()
    b = sampling.sample_ids(step, [0], 50, temperature=2.0, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(a, b)
    assert len(set(a.tolist())) > 1  # at temperature 2 it does not just count


def test_sample_text_and_its_errors():
    vocab = tasks.CharVocab("abcdef")
    step, _ = _counter_step()
    assert sampling.sample_text(step, vocab, "ca", 4, temperature=0) == "bcde"
    with pytest.raises(ValueError, match="prime must be a non-empty str"):
        sampling.sample_text(step, vocab, "", 4)
    with pytest.raises(ValueError, match="prime_ids must be a non-empty 1-D array"):
        sampling.sample_ids(step, [], 4)
    with pytest.raises(ValueError, match="length must be a positive integer"):
        sampling.sample_ids(step, [1], 0)


def test_model_stepper_matches_the_whole_sequence_and_leaves_the_model_alone():
    rng = np.random.default_rng(3)
    model = _tiny_char_model(stateful=True)
    model.build((None, 6))
    ids = rng.integers(0, 5, size=9)
    model.predict(ids[None, :4])  # give the stateful layer a carried state to protect
    carried = [s.copy() for s in model.layers[1].states]
    whole = lt.lstm_forward(model.layers[0].params["E"][ids][None], model.layers[1].params)[0]
    expected = whole @ model.layers[2].params["W"] + model.layers[2].params["b"]

    step = sampling.model_stepper(model)
    got = [step(ids[:3])] + [step(ids[k : k + 1]) for k in range(3, 9)]
    np.testing.assert_allclose(np.array(got), expected[0, 2:], rtol=0, atol=1e-12)
    for before, after in zip(carried, model.layers[1].states, strict=True):
        np.testing.assert_array_equal(before, after)
    # a new stepper starts from zero state again
    np.testing.assert_allclose(sampling.model_stepper(model)(ids[:3]), expected[0, 2], atol=1e-12)


def test_model_stepper_rejects_what_it_cannot_step():
    model = Sequential([layers.LSTM(3), layers.Dense(2)])
    with pytest.raises(ValueError, match="must be a built Sequential"):
        sampling.model_stepper(model)

    class Doubler(layers.Layer):
        def forward(self, x, training=False):
            return 2 * x

    model = Sequential([layers.Embedding(4, 2), Doubler(), layers.LSTM(3), layers.Dense(4)])
    model.build((None, 5))
    with pytest.raises(ValueError, match="supports Embedding, LSTM, .* got Doubler"):
        sampling.model_stepper(model)


def test_model_stepper_with_a_last_step_lstm_gives_the_models_prediction():
    model = Sequential([layers.Embedding(4, 2), layers.LSTM(3), layers.Dense(4)], seed=1)
    ids = np.array([3, 0, 2, 1, 1])
    expected = model.predict(ids[None])[0]  # (4,): logits after the whole sequence
    step = sampling.model_stepper(model)
    step(ids[:2])
    got = [step(ids[k : k + 1]) for k in range(2, 5)][-1]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------------------
# the workshop's contract: a hand-written TBPTT loop == Sequential.fit
# --------------------------------------------------------------------------------------


def test_handwritten_tbptt_loop_equals_stateful_sequential_fit():
    """Clip-then-Adam, chunks in order, state carried, reset at each pass: the same losses."""
    text = "the cat sat on the mat. the dog ate the hat.\n" * 6
    vocab = tasks.CharVocab(text)
    ids = vocab.encode(text)
    V, E, H, B, T, lr = vocab.size, 4, 6, 3, 5, 0.02

    model = Sequential([layers.Embedding(V, E), layers.LSTM(H, return_sequences=True,
                                                             stateful=True), layers.Dense(V)],
                       seed=7)
    model.compile(optim.Adam(learning_rate=lr, epsilon=1e-8, clipnorm=0.5),
                  loss="sparse_categorical_crossentropy")
    model.build((None, T))
    # the same seed drawn in build order gives the same initial weights
    gen = np.random.default_rng(7)
    emb = gen.uniform(-0.05, 0.05, size=(V, E))
    p = {"E": emb, **lt.init_lstm(E, H, rng=gen), "Wy": lt.glorot_uniform((H, V), gen),
         "by": np.zeros(V)}
    names = {"embedding/E": "E", "lstm/W": "W", "lstm/U": "U", "lstm/b": "b",
             "dense/W": "Wy", "dense/b": "by"}
    for key, ours in names.items():
        np.testing.assert_array_equal(model.params[key], p[ours])

    # the hand-written loop, from package pieces
    adam = optim.Adam(learning_rate=lr, epsilon=1e-8, clipnorm=0.5)
    expected = []
    for _ in range(2):
        h = c = np.zeros((B, H))
        for x_ids, y_ids in tasks.char_batches(ids, B, T):
            hs, cache = lt.lstm_forward(p["E"][x_ids], p, h, c)
            loss, dlogits = losses.sparse_categorical_crossentropy(hs @ p["Wy"] + p["by"], y_ids)
            dx, _, _, grads = lt.lstm_backward(dlogits @ p["Wy"].T, cache)
            grads["Wy"] = hs.reshape(-1, H).T @ dlogits.reshape(-1, V)
            grads["by"] = dlogits.sum(axis=(0, 1))
            grads["E"] = np.zeros_like(p["E"])
            np.add.at(grads["E"], x_ids.reshape(-1), dx.reshape(-1, E))
            h, c = cache.hT.copy(), cache.cT.copy()  # carried, computed before the update
            adam.step(p, grads)
            expected.append(loss)

    xs = np.concatenate([x for x, _ in tasks.char_batches(ids, B, T)])
    ys = np.concatenate([y for _, y in tasks.char_batches(ids, B, T)])
    initial = model.get_weights()
    reset = LambdaCallback(on_epoch_begin=lambda epoch, logs: model.reset_states())
    history = model.fit(xs, ys, batch_size=B, epochs=2, shuffle=False, verbose=0,
                        callbacks=[reset])
    assert len(history.batch_loss) == len(expected) == 2 * len(xs) // B
    np.testing.assert_allclose(history.batch_loss, expected, rtol=0, atol=1e-12)
    for key, ours in names.items():
        np.testing.assert_allclose(model.params[key], p[ours], rtol=0, atol=1e-12)

    # Without the reset, the second pass starts from the state at the end of the first:
    # the first pass still matches, the second does not (the comparison has teeth).
    model.set_weights(initial)
    model.optimizer.reset()
    model.reset_states()
    carried = model.fit(xs, ys, batch_size=B, epochs=2, shuffle=False, verbose=0).batch_loss
    half = len(expected) // 2
    np.testing.assert_allclose(carried[:half], expected[:half], rtol=0, atol=1e-12)
    assert abs(carried[half] - expected[half]) > 1e-6
