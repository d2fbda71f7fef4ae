"""Block mode, four input ports, full gate recurrence (FGR) and Greff's variant table."""

from __future__ import annotations

import numpy as np
import pytest

import lstm_teach as lt
from lstm_teach import LSTMConfig, variants
from lstm_teach.core.activations import sigmoid

TOL = 1e-7  # float64 gradient checks


def _gradcheck(loss, arrays, analytic):
    report = lt.check_gradients(loss, arrays, analytic)
    assert report.passed, str(report)
    return report


# --------------------------------------------------------------------------- block mode


def test_expansion_matrix():
    E = variants.expansion_matrix(6, 3)
    np.testing.assert_array_equal(E, [[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]])
    with pytest.raises(ValueError, match="multiple of block_size; got hidden_size=6, block_size=4"):
        variants.expansion_matrix(6, 4)


def test_block_mode_shares_gates_within_a_block(rng):
    params = variants.init_block_lstm(3, n_blocks=2, block_size=3, rng=rng)
    assert params["W"].shape == (3, 3 * 2 + 6) and params["b"].shape == (12,)
    np.testing.assert_array_equal(params["b"][2:4], 1.0)  # unit forget bias, one per block
    hs, cache = variants.block_forward(rng.normal(size=(2, 5, 3)), params, block_size=3)
    assert hs.shape == (2, 5, 6)
    gates = cache.core.gates
    for name in "ifo":
        g = gates[name].reshape(2, 5, 2, 3)  # (B, T, block, cell)
        np.testing.assert_array_equal(g, np.broadcast_to(g[..., :1], g.shape))
        np.testing.assert_array_equal(cache.block_gates[name], g[..., 0])
    # the cell inputs are not shared
    g = gates["g"].reshape(2, 5, 2, 3)
    assert np.ptp(g, axis=-1).min() > 0


def test_block_size_one_is_the_ordinary_lstm(rng):
    params = lt.init_lstm(3, 4, rng=rng)
    x = rng.normal(size=(2, 5, 3))
    hs_block, _ = variants.block_forward(x, params, block_size=1)
    np.testing.assert_array_equal(hs_block, lt.kernels.lstm_forward(x, params)[0])


@pytest.mark.parametrize(
    "config",
    [LSTMConfig(), LSTMConfig(forget_gate=False), LSTMConfig(coupled_input_forget=True),
     LSTMConfig(output_activation="identity", output_gate=False)],
    ids=lambda c: c.describe(),
)
def test_block_mode_gradient_check(rng, config):
    B, T, D, nb, S = 2, 4, 3, 2, 2
    H = nb * S
    params = variants.init_block_lstm(D, nb, S, rng=rng)
    params["b"] = rng.normal(size=params["b"].shape)
    x, h0, c0 = rng.normal(size=(B, T, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    G, gc = rng.normal(size=(B, T, H)), rng.normal(size=(B, H))

    def loss():
        hs, cache = variants.block_forward(x, params, S, h0, c0, config)
        return np.sum(hs * G) + np.sum(cache.core.cT * gc)

    _, cache = variants.block_forward(x, params, S, h0, c0, config)
    dx, dh0, dc0, grads = variants.block_backward(G, cache, dcT=gc)
    assert {k: v.shape for k, v in grads.items()} == {k: v.shape for k, v in params.items()}
    _gradcheck(loss, {**params, "x": x, "h0": h0, "c0": c0}, {**grads, "x": dx, "h0": dh0, "c0": dc0})


def test_block_mode_rejects_peepholes_and_bad_shapes(rng):
    params = variants.init_block_lstm(3, 2, 2, rng=rng)
    x = rng.normal(size=(1, 2, 3))
    with pytest.raises(ValueError, match="not peepholes or full_gate_recurrence"):
        variants.block_forward(x, params, 2, config=LSTMConfig(peepholes=True))
    with pytest.raises(ValueError, match="not a multiple of block_size=3"):
        variants.block_forward(x, params, 3)
    with pytest.raises(TypeError, match="BlockCache"):
        variants.block_backward(np.zeros((1, 2, 4)), lt.lstm_forward(x, lt.init_lstm(3, 4))[1])


# --------------------------------------------------------------------------- four ports


def test_four_port_mask_is_block_diagonal():
    M = variants.four_port_mask((1, 2, 1, 3), hidden_size=2)
    assert M.shape == (7, 8)
    expected_rows = {0: [0, 1], 1: [2, 3], 2: [2, 3], 3: [4, 5], 4: [6, 7], 5: [6, 7], 6: [6, 7]}
    for row, cols in expected_rows.items():
        np.testing.assert_array_equal(np.flatnonzero(M[row]), cols)


def test_same_input_on_all_ports_is_the_ordinary_lstm(rng):
    params = lt.init_lstm(3, 4, rng=rng)
    x = rng.normal(size=(2, 6, 3))
    p4 = variants.four_port_params_from_single(params)
    assert p4["W"].shape == (12, 16)
    hs4, cache4 = variants.four_port_forward(variants.same_input_on_all_ports(x), p4)
    hs, cache = lt.lstm_forward(x, params)
    np.testing.assert_allclose(hs4, hs, rtol=0, atol=1e-14)
    G = rng.normal(size=hs.shape)
    dports, *_ , grads4 = variants.four_port_backward(G, cache4)
    dx, *_ , grads = lt.lstm_backward(G, cache)
    # one signal feeding four ports: its gradient is the sum over ports
    np.testing.assert_allclose(sum(dports.values()), dx, rtol=0, atol=1e-13)
    for k in range(4):  # port k's block of W4 carries gate k's gradient
        np.testing.assert_allclose(grads4["W"][3 * k:3 * k + 3, 4 * k:4 * k + 4],
                                   grads["W"][:, 4 * k:4 * k + 4], rtol=0, atol=1e-13)


def test_four_ports_equal_per_gate_inputs(rng):
    """Port k feeds gate k only: compare one step against the per-gate formulas."""
    sizes = {"i": 2, "f": 1, "g": 3, "o": 2}
    H = 3
    params = variants.init_four_port_lstm(sizes, H, rng=rng)
    params["W"] += 0.0  # already masked: check it
    np.testing.assert_array_equal(params["W"] * (1 - variants.four_port_mask(sizes, H)), 0.0)
    ports = {k: rng.normal(size=(2, 1, d)) for k, d in sizes.items()}
    h0, c0 = rng.normal(size=(2, H)), rng.normal(size=(2, H))
    hs, _ = variants.four_port_forward(ports, params, h0, c0)
    rows = np.cumsum([0] + [sizes[k] for k in "ifgo"])
    z = {}
    for k, name in enumerate("ifgo"):
        cols = slice(k * H, (k + 1) * H)
        Wk = params["W"][rows[k]:rows[k + 1], cols]
        z[name] = ports[name][:, 0] @ Wk + h0 @ params["U"][:, cols] + params["b"][cols]
    c = sigmoid(z["f"]) * c0 + sigmoid(z["i"]) * np.tanh(z["g"])
    np.testing.assert_allclose(hs[:, 0], sigmoid(z["o"]) * np.tanh(c), rtol=0, atol=1e-14)


@pytest.mark.parametrize("config", [LSTMConfig(), LSTMConfig(peepholes=True)], ids=["plain", "peepholes"])
def test_four_port_gradient_check_and_masked_gradient(rng, config):
    sizes = (2, 1, 2, 3)
    H = 3
    params = variants.init_four_port_lstm(sizes, H, config=config, rng=rng)
    ports = {k: rng.normal(size=(2, 4, d)) for k, d in zip(variants.PORTS, sizes, strict=True)}
    G = rng.normal(size=(2, 4, H))

    def loss():
        return np.sum(variants.four_port_forward(ports, params, config=config)[0] * G)

    _, cache = variants.four_port_forward(ports, params, config=config)
    dports, dh0, dc0, grads = variants.four_port_backward(G, cache)
    mask = variants.four_port_mask(sizes, H)
    np.testing.assert_array_equal(grads["W"] * (1 - mask), 0.0)  # training keeps the zeros
    arrays = {**params, **{f"x_{k}": v for k, v in ports.items()}}
    analytic = {**grads, **{f"x_{k}": v for k, v in dports.items()}}
    _gradcheck(loss, arrays, analytic)


def test_four_port_input_errors(rng):
    params = variants.init_four_port_lstm((1, 1, 1, 1), 2, rng=rng)
    x = rng.normal(size=(2, 3, 1))
    with pytest.raises(ValueError, match="ports"):
        variants.four_port_forward({"i": x, "f": x, "g": x}, params)
    with pytest.raises(ValueError, match=r"share batch size and length \(B, T\)"):
        variants.four_port_forward({"i": x, "f": x, "g": x, "o": x[:, :2]}, params)
    with pytest.raises(ValueError, match="has 4 rows, but the ports have 5 features"):
        variants.four_port_forward({"i": x, "f": x, "g": x, "o": np.concatenate([x, x], 2)}, params)


# --------------------------------------------------------------------------- full gate recurrence

FGR_CONFIGS = [
    LSTMConfig(full_gate_recurrence=True),
    LSTMConfig(full_gate_recurrence=True, peepholes=True),
    LSTMConfig(full_gate_recurrence=True, coupled_input_forget=True),
    LSTMConfig(full_gate_recurrence=True, coupled_input_forget=True, peepholes=True),
    LSTMConfig(full_gate_recurrence=True, input_gate=False, output_activation="identity"),
    LSTMConfig(full_gate_recurrence=True, forget_gate=False, output_gate=False, peepholes=True),
]


def _fgr_problem(rng, config, B=2, T=5, D=3, H=4):
    params = lt.init_lstm(D, H, config=config, rng=rng)
    params["b"] = 0.5 * rng.normal(size=4 * H)
    params["R"] = 0.5 * rng.normal(size=(3 * H, 3 * H))  # large enough to matter
    x, h0, c0 = rng.normal(size=(B, T, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    return params, x, h0, c0


@pytest.mark.parametrize("config", FGR_CONFIGS, ids=lambda c: c.describe())
def test_fgr_gradient_check(rng, config):
    params, x, h0, c0 = _fgr_problem(rng, config)
    G, gc = rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 4))

    def loss():
        hs, cache = lt.lstm_forward(x, params, h0, c0, config)
        return np.sum(hs * G) + np.sum(cache.cT * gc)

    _, cache = lt.lstm_forward(x, params, h0, c0, config)
    dx, dh0, dc0, grads = lt.lstm_backward(G, cache, dcT=gc)
    assert grads["R"].shape == (12, 12)
    _gradcheck(loss, {**params, "x": x, "h0": h0, "c0": c0}, {**grads, "x": dx, "h0": dh0, "c0": dc0})


def test_fgr_matches_a_hand_written_loop(rng):
    config = LSTMConfig(full_gate_recurrence=True)
    params, x, h0, c0 = _fgr_problem(rng, config)
    H = 4
    hs, _ = lt.lstm_forward(x, params, h0, c0, config)
    h, c = h0, c0
    prev = np.zeros((2, 3 * H))  # [i, f, o] of the previous step; zeros before the first
    for t in range(x.shape[1]):
        z = x[:, t] @ params["W"] + h @ params["U"] + params["b"]
        fb = prev @ params["R"]
        i = sigmoid(z[:, :H] + fb[:, :H])
        f = sigmoid(z[:, H:2 * H] + fb[:, H:2 * H])
        o = sigmoid(z[:, 3 * H:] + fb[:, 2 * H:])
        c = f * c + i * np.tanh(z[:, 2 * H:3 * H])
        h = o * np.tanh(c)
        prev = np.concatenate([i, f, o], axis=1)
        np.testing.assert_allclose(hs[:, t], h, rtol=0, atol=1e-14)


def test_fgr_with_zero_R_is_the_plain_lstm(rng):
    params, x, h0, c0 = _fgr_problem(rng, LSTMConfig(full_gate_recurrence=True))
    params["R"][:] = 0.0
    plain = {k: v for k, v in params.items() if k != "R"}
    hs_fgr, _ = lt.lstm_forward(x, params, h0, c0, LSTMConfig(full_gate_recurrence=True))
    np.testing.assert_array_equal(hs_fgr, lt.lstm_forward(x, plain, h0, c0)[0])


def test_fgr_validation_messages(rng):
    fgr = LSTMConfig(full_gate_recurrence=True)
    params = lt.init_lstm(2, 3, config=fgr, rng=rng)
    assert params["R"].shape == (9, 9) and np.abs(params["R"]).max() <= 0.1
    x = rng.normal(size=(1, 2, 2))
    with pytest.raises(ValueError, match=r"must contain 'R' of shape \(3H, 3H\)"):
        lt.lstm_forward(x, {k: v for k, v in params.items() if k != "R"}, config=fgr)
    with pytest.raises(ValueError, match="config.full_gate_recurrence is False"):
        lt.lstm_forward(x, params)
    with pytest.raises(ValueError, match=r"params\['R'\].*\(9, 9\)"):
        lt.lstm_forward(x, {**params, "R": np.zeros((9, 12))}, config=fgr)
    with pytest.raises(ValueError, match="use lstm_forward on the whole sequence"):
        lt.kernels.lstm_step_forward(x[:, 0], None, None, params, config=fgr)
    assert fgr.describe() == "LSTM[FGR]"
    # one step: R gets a zero gradient (there is no previous step to feed back)
    _, cache = lt.lstm_forward(x[:, :1], params, config=fgr)
    np.testing.assert_array_equal(lt.lstm_backward(np.ones((1, 1, 3)), cache)[3]["R"], 0.0)


# --------------------------------------------------------------------------- Greff's table


def test_greff_table_runs_every_variant(rng):
    assert list(variants.GREFF_VARIANTS) == [
        "vanilla", "NIG", "NFG", "NOG", "NIAF", "NOAF", "NP", "CIFG", "FGR"]
    assert set(variants.GREFF_FINDINGS) == set(variants.GREFF_VARIANTS)
    assert variants.greff_config("vanilla").peepholes and not variants.greff_config("NP").peepholes
    x = rng.normal(size=(2, 3, 2))
    outs = {}
    for name, config in variants.GREFF_VARIANTS.items():
        params = lt.init_lstm(2, 3, config=config, rng=np.random.default_rng(1))
        params["b"] += 0.3
        outs[name] = lt.lstm_forward(x, params, config=config)[0]
    # every variant computes something different from the vanilla LSTM
    for name, hs in outs.items():
        if name != "vanilla":
            assert np.abs(hs - outs["vanilla"]).max() > 1e-6, name
    with pytest.raises(ValueError, match="unknown variant 'GRU'"):
        variants.greff_config("GRU")


# --------------------------------------------------------------------------- the training loop


def test_variant_lab_train_learns_and_is_deterministic():
    from lstm_teach import variant_lab

    data_fn = variant_lab.reber_window_sampler(T=20, pool_streams=4, pool_length=200)
    x, y = data_fn(3, np.random.default_rng(0))
    assert x.shape == y.shape == (3, 20, 7)
    np.testing.assert_array_equal(x[:, 0].argmax(-1), 0)  # every window opens with a B
    a = variant_lab.train(data_fn, 7, 7, steps=60, learning_rate=0.03, seed=3)
    b = variant_lab.train(data_fn, 7, 7, steps=60, learning_rate=0.03, seed=3)
    np.testing.assert_array_equal(a.losses, b.losses)
    assert not a.diverged and a.losses[-10:].mean() < 0.6 * a.losses[:10].mean()
    score = variant_lab.reber_stream_score(a, n_streams=2, length=60)
    assert 0.0 <= score["step_accuracy"] <= 1.0 and score["test_loss"] > 0


def test_variant_lab_train_stops_on_divergence_and_keeps_finite_params():
    from lstm_teach import variant_lab

    def exploding(n, rng):  # targets far beyond what an unbounded NOAF output can track
        x = rng.normal(size=(n, 30, 1)) * 1e3
        return x, np.cumsum(x, axis=1) * 1e150

    trained = variant_lab.train(exploding, 1, 1, config=LSTMConfig(output_activation="identity"),
                                loss="mse", steps=20, learning_rate=1.0, seed=0)
    assert trained.diverged and trained.final_loss() == float("inf")
    assert all(np.all(np.isfinite(v)) for v in trained.params.values())
    with pytest.raises(ValueError, match="gradient"):
        variant_lab.train(exploding, 1, 1, gradient="rtrl")


def test_timed_spikes_batch():
    from lstm_teach import variant_lab

    x, y = variant_lab.timed_spikes_batch(5, np.random.default_rng(1), period=4, length=20)
    t0 = x[:, :, 0].argmax(axis=1)
    for b in range(5):
        np.testing.assert_array_equal(np.flatnonzero(y[b, :, 0]), np.arange(t0[b] + 4, 20, 4))
