"""The LSTM core: gradients of every variant, batched == stepwise, dtypes, reductions, errors."""

import warnings

import numpy as np
import pytest

import lstm_teach as lt
from lstm_teach import LSTMConfig

B, T, D, H = 3, 6, 4, 5

VARIANTS = {
    "vanilla": LSTMConfig(),
    "NIG": LSTMConfig(input_gate=False),
    "NFG": LSTMConfig(forget_gate=False),
    "NOG": LSTMConfig(output_gate=False),
    "NIAF": LSTMConfig(activation="identity"),
    "NOAF": LSTMConfig(output_activation="identity"),
    "peepholes": LSTMConfig(peepholes=True),
    "CIFG": LSTMConfig(coupled_input_forget=True),
    "CIFG+peepholes": LSTMConfig(coupled_input_forget=True, peepholes=True),
    "NFG+NOG+peepholes": LSTMConfig(forget_gate=False, output_gate=False, peepholes=True),
    "NIG+NOAF+peepholes": LSTMConfig(
        input_gate=False, output_activation="identity", peepholes=True
    ),
    "hard_sigmoid+relu": LSTMConfig(recurrent_activation="hard_sigmoid", activation="relu"),
    "all_gates_removed": LSTMConfig(
        input_gate=False, forget_gate=False, output_gate=False, activation="identity"
    ),
}


def make_problem(config, seed=0, dtype=np.float64):
    """Random inputs, initial states and non-trivial parameters for one variant."""
    rng = np.random.default_rng(seed)
    params = lt.init_lstm(D, H, config, rng=rng)
    for k in params:  # move away from the init so that every term matters
        params[k] = params[k] + 0.3 * rng.standard_normal(params[k].shape)
    if config.recurrent_activation == "hard_sigmoid":
        params["b"][: 2 * H] *= (
            0.1  # stay off the flat parts, where the kink breaks finite differences
        )
    params = {k: v.astype(dtype) for k, v in params.items()}
    x = rng.standard_normal((B, T, D)).astype(dtype)
    h0 = rng.standard_normal((B, H)).astype(dtype)
    c0 = rng.standard_normal((B, H)).astype(dtype)
    dhs = rng.standard_normal((B, T, H)).astype(dtype)
    dcT = rng.standard_normal((B, H)).astype(dtype)
    return x, params, h0, c0, dhs, dcT


@pytest.mark.parametrize("name", list(VARIANTS))
def test_gradient_check_every_variant(name):
    config = VARIANTS[name]
    x, params, h0, c0, dhs, dcT = make_problem(config)

    def loss():
        hs, cache = lt.lstm_forward(x, params, h0, c0, config)
        return np.sum(hs * dhs) + np.sum(cache.cT * dcT)

    _, cache = lt.lstm_forward(x, params, h0, c0, config)
    dx, dh0, dc0, grads = lt.lstm_backward(dhs, cache, dcT)
    assert set(grads) == set(params)
    report = lt.check_gradients(
        loss, {"x": x, "h0": h0, "c0": c0, **params}, {"x": dx, "h0": dh0, "c0": dc0, **grads}
    )
    assert report.passed, f"{name}:\n{report}"
    assert max(report.errors.values()) < 1e-7


@pytest.mark.parametrize(
    "name, block",
    [("NIG", 0), ("NFG", 1), ("NOG", 3), ("CIFG", 1), ("all_gates_removed", 0)],
)
def test_removed_gate_columns_get_zero_gradient(name, block):
    config = VARIANTS[name]
    x, params, h0, c0, dhs, dcT = make_problem(config)
    _, cache = lt.lstm_forward(x, params, h0, c0, config)
    *_, grads = lt.lstm_backward(dhs, cache, dcT)
    cols = slice(block * H, (block + 1) * H)
    for key in ("W", "U", "b"):
        assert np.all(grads[key][..., cols] == 0.0), key
    assert np.any(grads["W"] != 0.0)


@pytest.mark.parametrize("name", ["vanilla", "peepholes", "CIFG+peepholes", "NFG+NOG+peepholes"])
def test_sequence_equals_step_by_step(name):
    config = VARIANTS[name]
    x, params, h0, c0, dhs, dcT = make_problem(config, seed=1)
    hs, cache = lt.lstm_forward(x, params, h0, c0, config)
    dx, dh0, dc0, grads = lt.lstm_backward(dhs, cache, dcT)

    h, c, step_caches, step_hs = h0, c0, [], []
    for t in range(T):
        h, c, step_cache = lt.lstm_step_forward(x[:, t], h, c, params, config)
        step_caches.append(step_cache)
        step_hs.append(h)
    np.testing.assert_allclose(np.stack(step_hs, axis=1), hs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c, cache.cT, rtol=0, atol=1e-12)
    for name_, arr in cache.gates.items():
        stepwise = np.stack([sc.gates[name_] for sc in step_caches], axis=1)
        np.testing.assert_allclose(stepwise, arr, rtol=0, atol=1e-12)

    dh_next, dc_next = np.zeros((B, H)), dcT
    step_grads = {k: np.zeros_like(v) for k, v in params.items()}
    step_dx = np.zeros_like(x)
    for t in reversed(range(T)):
        dx_t, dh_next, dc_next, g = lt.lstm_step_backward(
            dhs[:, t] + dh_next, dc_next, step_caches[t]
        )
        step_dx[:, t] = dx_t
        for k in g:
            step_grads[k] += g[k]
    np.testing.assert_allclose(step_dx, dx, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dh_next, dh0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dc_next, dc0, rtol=0, atol=1e-12)
    for k in params:
        np.testing.assert_allclose(step_grads[k], grads[k], rtol=0, atol=1e-12)


def test_batch_items_are_independent():
    """Running the batch at once equals running each sequence alone."""
    x, params, h0, c0, dhs, dcT = make_problem(LSTMConfig(), seed=2)
    hs, cache = lt.lstm_forward(x, params, h0, c0)
    dx, *_ = lt.lstm_backward(dhs, cache, dcT)
    for bi in range(B):
        hs1, cache1 = lt.lstm_forward(x[bi : bi + 1], params, h0[bi : bi + 1], c0[bi : bi + 1])
        dx1, *_ = lt.lstm_backward(dhs[bi : bi + 1], cache1, dcT[bi : bi + 1])
        np.testing.assert_allclose(hs1[0], hs[bi], rtol=0, atol=1e-13)
        np.testing.assert_allclose(dx1[0], dx[bi], rtol=0, atol=1e-13)


def test_forward_matches_the_textbook_equations():
    """An independent, unvectorised reading of the equations (with peepholes)."""
    config = LSTMConfig(peepholes=True)
    x, p, h0, c0, _, _ = make_problem(config, seed=3)
    hs, cache = lt.lstm_forward(x, p, h0, c0, config)

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    h, c = h0, c0
    W, U, b, P = p["W"], p["U"], p["b"], p["P"]
    for t in range(T):
        z = x[:, t] @ W + h @ U + b
        zi, zf, zg, zo = np.split(z, 4, axis=1)
        i = sigmoid(zi + P[0] * c)
        f = sigmoid(zf + P[1] * c)
        g = np.tanh(zg)
        c = f * c + i * g
        o = sigmoid(zo + P[2] * c)
        h = o * np.tanh(c)
        np.testing.assert_allclose(hs[:, t], h, rtol=1e-13, atol=1e-14)
        for name, want in (("i", i), ("f", f), ("g", g), ("o", o)):
            np.testing.assert_allclose(cache.gates[name][:, t], want, rtol=1e-13, atol=1e-14)
            got_step = cache.step_gates(t)["ifgo".index(name)]
            np.testing.assert_array_equal(got_step, cache.gates[name][:, t])
        np.testing.assert_allclose(cache.c[:, t], c, rtol=1e-13, atol=1e-14)
    np.testing.assert_array_equal(np.stack([step.x for step in cache.steps], axis=1), x)
    np.testing.assert_array_equal(cache.h, hs)


def test_cache_exposes_states_and_gates_by_name():
    x, params, h0, c0, *_ = make_problem(LSTMConfig(forget_gate=False))
    hs, cache = lt.lstm_forward(x, params, h0, c0, LSTMConfig(forget_gate=False))
    assert cache.c.shape == cache.h.shape == (B, T, H)
    assert set(cache.gates) == {"i", "f", "g", "o"}
    for arr in cache.gates.values():
        assert arr.shape == (B, T, H)
    assert np.all(cache.gates["f"] == 1.0)  # NFG: the removed gate reads as its constant
    assert np.all((cache.gates["i"] > 0) & (cache.gates["i"] < 1))
    np.testing.assert_array_equal(cache.h, hs)
    np.testing.assert_array_equal(cache.c0, c0)
    np.testing.assert_array_equal(cache.h0, h0)


def test_default_initial_state_is_zero():
    x, params, *_ = make_problem(LSTMConfig())
    hs_default, _ = lt.lstm_forward(x, params)
    hs_zero, _ = lt.lstm_forward(x, params, np.zeros((B, H)), np.zeros((B, H)))
    np.testing.assert_array_equal(hs_default, hs_zero)


def test_float32_stays_float32_end_to_end():
    x, params, h0, c0, dhs, dcT = make_problem(LSTMConfig(peepholes=True), dtype=np.float32)
    hs, cache = lt.lstm_forward(x, params, h0, c0, LSTMConfig(peepholes=True))
    dx, dh0, dc0, grads = lt.lstm_backward(dhs, cache, dcT)
    for arr in (hs, cache.c, dx, dh0, dc0, *grads.values(), *cache.gates.values()):
        assert arr.dtype == np.float32
    # and agrees with the float64 computation to float32 precision
    p64 = {k: v.astype(np.float64) for k, v in params.items()}
    hs64, cache64 = lt.lstm_forward(x.astype(np.float64), p64, h0, c0, LSTMConfig(peepholes=True))
    dx64, *_ = lt.lstm_backward(dhs, cache64, dcT)
    np.testing.assert_allclose(hs, hs64, atol=1e-5)
    np.testing.assert_allclose(dx, dx64, atol=1e-4)


def test_mixed_precision_promotes_to_float64():
    x, params, *_ = make_problem(LSTMConfig(), dtype=np.float32)
    params["W"] = params["W"].astype(np.float64)
    hs, _ = lt.lstm_forward(x, params)
    assert hs.dtype == np.float64


def test_integer_input_is_accepted_as_float64():
    _, params, *_ = make_problem(LSTMConfig())
    hs, _ = lt.lstm_forward(np.ones((2, 3, D), dtype=int), params)
    assert hs.dtype == np.float64


def test_saturated_gates_are_finite_and_silent():
    """Huge pre-activations must not overflow or warn (the sigmoid kernel relies on errstate)."""
    _, params, *_ = make_problem(LSTMConfig())
    x = np.full((1, 4, D), 1e4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hs, cache = lt.lstm_forward(x, params)
        lt.lstm_backward(np.ones_like(hs), cache)
    assert np.all(np.isfinite(hs))


# --------------------------------------------------------------------- reductions


def test_fixed_gates_reduce_the_lstm_to_the_simple_rnn():
    """i = 1, f = 0, o = 1 and sigma_h = identity: h_t = tanh(x W_g + h U_g + b_g)."""
    rng = np.random.default_rng(4)
    rnn = lt.init_rnn(D, H, rng=rng)
    rnn["b"] = 0.1 * rng.standard_normal(H)
    config = LSTMConfig(input_gate=False, output_gate=False, output_activation="identity")
    params = {"W": np.zeros((D, 4 * H)), "U": np.zeros((H, 4 * H)), "b": np.zeros(4 * H)}
    params["W"][:, 2 * H : 3 * H] = rnn["W"]
    params["U"][:, 2 * H : 3 * H] = rnn["U"]
    params["b"][2 * H : 3 * H] = rnn["b"]
    params["b"][H : 2 * H] = -1e4  # forget gate saturated shut: sigmoid(-1e4) == 0.0 exactly
    x = rng.standard_normal((B, T, D))
    h0 = rng.standard_normal((B, H))
    hs_lstm, cache = lt.lstm_forward(x, params, h0, rng.standard_normal((B, H)), config)
    hs_rnn, _ = lt.rnn_forward(x, rnn, h0)
    assert np.all(cache.gates["f"] == 0.0)
    np.testing.assert_allclose(hs_lstm, hs_rnn, rtol=0, atol=1e-15)


@pytest.mark.parametrize("mu", [0.1, 0.5, 0.9])
def test_frozen_gates_make_the_cell_tap_one_of_the_gamma_memory(mu):
    """f = 1 - mu, i = mu (CIFG with a constant input gate), identity candidate and output."""
    config = LSTMConfig(
        coupled_input_forget=True,
        output_gate=False,
        activation="identity",
        output_activation="identity",
    )
    params = {"W": np.zeros((1, 4)), "U": np.zeros((1, 4)), "b": np.zeros(4)}
    params["b"][0] = np.log(mu / (1 - mu))  # sigmoid(logit(mu)) = mu
    params["W"][0, 2] = 1.0  # the candidate is the input itself
    x = np.random.default_rng(5).standard_normal((2, 40, 1))
    hs, cache = lt.lstm_forward(x, params, config=config)
    taps = lt.iir.gamma_memory(x[..., 0], K=3, mu=mu)  # (B, T, K)
    np.testing.assert_allclose(cache.c[..., 0], taps[..., 0], rtol=0, atol=1e-14)
    np.testing.assert_allclose(hs[..., 0], taps[..., 0], rtol=0, atol=1e-14)
    # and it is the first-order IIR filter with pole 1 - mu
    np.testing.assert_allclose(hs[..., 0], lt.iir.iir_filter(x[..., 0], w=1 - mu, b=mu), atol=1e-14)


def test_nfg_carousel_is_exactly_constant():
    """Without a forget gate, dL/dc_{t-1} = dL/dc_t exactly, when no other path (U) returns."""
    config = LSTMConfig(forget_gate=False)
    x, params, h0, c0, _, dcT = make_problem(config)
    params["U"][:] = 0.0  # otherwise error also re-enters the cell through h_{t-1}
    _, cache = lt.lstm_forward(x, params, h0, c0, config)
    _, _, dc0, _ = lt.lstm_backward(np.zeros((B, T, H)), cache, dcT)
    np.testing.assert_array_equal(dc0, dcT)


# --------------------------------------------------------------------- config


def test_config_rejects_impossible_combinations():
    with pytest.raises(ValueError, match="coupled_input_forget.*input_gate=False"):
        LSTMConfig(coupled_input_forget=True, input_gate=False)
    with pytest.raises(ValueError, match="coupled_input_forget.*forget_gate=False"):
        LSTMConfig(coupled_input_forget=True, forget_gate=False)


def test_config_rejects_unknown_activation_names():
    with pytest.raises(ValueError, match=r"LSTMConfig.activation: unknown activation 'tanhh'"):
        LSTMConfig(activation="tanhh")
    with pytest.raises(ValueError, match="recurrent_activation.*'softmax'.*expected one of"):
        LSTMConfig(recurrent_activation="softmax")


def test_config_rejects_non_bool_flags():
    with pytest.raises(TypeError, match="LSTMConfig.peepholes must be True or False; got 'yes'"):
        LSTMConfig(peepholes="yes")


def test_config_describe():
    assert LSTMConfig().describe() == "LSTM"
    assert LSTMConfig(forget_gate=False, peepholes=True).describe() == "LSTM[NFG, peepholes]"


# --------------------------------------------------------------------- bad input


@pytest.fixture
def good():
    x, params, h0, c0, dhs, dcT = make_problem(LSTMConfig())
    return x, params, h0, c0


@pytest.mark.parametrize(
    "mutate, exc, message",
    [
        (
            lambda x, p, h, c: (x[0], p, h, c),
            ValueError,
            r"x must be 3-D with shape \(B, T, D\); got 2-D shape \(6, 4\)",
        ),
        (
            lambda x, p, h, c: (x[..., :3], p, h, c),
            ValueError,
            r"x has feature size D=3 .* params\['W'\] expects D=4",
        ),
        (
            lambda x, p, h, c: (x, {**p, "W": p["W"][:, :-1]}, h, c),
            ValueError,
            r"params\['W'\] must have shape \(D, 4H\) with H=5 \(from U\); got \(4, 19\)",
        ),
        (
            lambda x, p, h, c: (x, {**p, "U": p["U"][:-1]}, h, c),
            ValueError,
            r"params\['U'\] must have shape \(H, 4H\) = \(4, 16\); got \(4, 20\)",
        ),
        (
            lambda x, p, h, c: (x, {**p, "b": p["b"][:-2]}, h, c),
            ValueError,
            r"params\['b'\] must have shape \(4H,\) = \(20,\); got \(18,\)",
        ),
        (
            lambda x, p, h, c: (x, {k: v for k, v in p.items() if k != "U"}, h, c),
            ValueError,
            r"params is missing key\(s\) \['U'\]",
        ),
        (
            lambda x, p, h, c: (x, p, h[:, :-1], c),
            ValueError,
            r"h0 must have shape \(B, H\) = \(3, 5\); got \(3, 4\)",
        ),
        (
            lambda x, p, h, c: (x, p, h, c[:1]),
            ValueError,
            r"c0 must have shape \(B, H\) = \(3, 5\); got \(1, 5\)",
        ),
        (
            lambda x, p, h, c: (np.where(np.arange(4) == 2, np.nan, x), p, h, c),
            ValueError,
            r"x contains 18 non-finite value\(s\) \(NaN or inf\); the first is at index \(0, 0, 2\)",
        ),
        (
            lambda x, p, h, c: (x, {**p, "U": p["U"] * np.inf}, h, c),
            ValueError,
            r"params\['U'\] contains .* non-finite",
        ),
        (
            lambda x, p, h, c: (x, p, np.full_like(h, np.inf), c),
            ValueError,
            r"h0 contains 15 non-finite",
        ),
        (
            lambda x, p, h, c: (x.astype(str), p, h, c),
            TypeError,
            r"x must be a real numeric array \(float32 or float64\); got dtype <U",
        ),
        (lambda x, p, h, c: (None, p, h, c), TypeError, r"x must be a numeric array; got None"),
        (
            lambda x, p, h, c: (x, [p["W"], p["U"]], h, c),
            TypeError,
            r"params must be a dict of arrays; got list",
        ),
        (
            lambda x, p, h, c: (x, {**p, "b": "zeros"}, h, c),
            TypeError,
            r"params\['b'\] must be a real numeric array",
        ),
    ],
    ids=[
        "x-2d",
        "x-features",
        "W-shape",
        "U-shape",
        "b-shape",
        "missing-U",
        "h0-shape",
        "c0-shape",
        "x-nan",
        "U-inf",
        "h0-inf",
        "x-strings",
        "x-none",
        "params-list",
        "b-string",
    ],
)
def test_bad_input_raises_a_clear_error(good, mutate, exc, message):
    x, p, h, c = mutate(*good)
    with pytest.raises(exc, match=message):
        lt.lstm_forward(x, p, h, c)


def test_peepholes_without_P_and_P_without_peepholes(good):
    x, params, h0, c0 = good
    with pytest.raises(
        ValueError, match=r"config.peepholes is True, so params must contain 'P' of shape \(3, H\)"
    ):
        lt.lstm_forward(x, params, config=LSTMConfig(peepholes=True))
    with pytest.raises(
        ValueError, match="params contains peephole weights 'P' but config.peepholes is False"
    ):
        lt.lstm_forward(x, {**params, "P": np.zeros((3, H))})
    with pytest.raises(
        ValueError, match=r"params\['P'\] must have shape \(3, H\) = \(3, 5\); got \(2, 5\)"
    ):
        lt.lstm_forward(x, {**params, "P": np.zeros((2, H))}, config=LSTMConfig(peepholes=True))


def test_bad_config_type(good):
    x, params, *_ = good
    with pytest.raises(TypeError, match="config must be an LSTMConfig or None; got dict"):
        lt.lstm_forward(x, params, config={"peepholes": True})


def test_backward_rejects_mismatched_dhs_and_foreign_cache(good):
    x, params, h0, c0 = good
    hs, cache = lt.lstm_forward(x, params, h0, c0)
    with pytest.raises(
        ValueError,
        match=r"dhs must have shape \(B, T, H\) matching the forward pass = \(3, 6, 5\); got \(3, 5, 5\)",
    ):
        lt.lstm_backward(hs[:, 1:], cache)
    with pytest.raises(ValueError, match=r"dcT must have shape \(B, H\) = \(3, 5\); got \(5,\)"):
        lt.lstm_backward(hs, cache, dcT=np.zeros(H))
    with pytest.raises(ValueError, match="dhs contains 1 non-finite"):
        bad = hs.copy()
        bad[0, 0, 0] = np.nan
        lt.lstm_backward(bad, cache)
    with pytest.raises(TypeError, match="cache must be the LSTMCache returned by lstm_forward"):
        lt.lstm_backward(hs, {"W": 1})
    with pytest.raises(
        ValueError, match="cache must come from lstm_step_forward .* got a cache with T=6"
    ):
        lt.lstm_step_backward(hs[:, 0], None, cache)


def test_step_functions_name_their_own_arguments(good):
    x, params, h0, c0 = good
    with pytest.raises(ValueError, match=r"x_t must be 2-D with shape \(B, D\); got 3-D"):
        lt.lstm_step_forward(x, h0, c0, params)
    with pytest.raises(ValueError, match=r"h_prev must have shape \(B, H\)"):
        lt.lstm_step_forward(x[:, 0], h0[:1], c0, params)
    with pytest.raises(ValueError, match=r"c_prev contains"):
        lt.lstm_step_forward(x[:, 0], h0, c0 * np.nan, params)
    h, c, cache = lt.lstm_step_forward(x[:, 0], h0, c0, params)
    with pytest.raises(ValueError, match=r"dh must have shape \(B, H\) = \(3, 5\); got \(3, 4\)"):
        lt.lstm_step_backward(h[:, :-1], c, cache)
