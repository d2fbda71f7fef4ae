"""Forward-mode gradients: exact RTRL against BPTT, the 1997 truncated rule against its backward form."""

from __future__ import annotations

import numpy as np
import pytest

import lstm_teach as lt
from lstm_teach import LSTMConfig, rtrl

CONFIGS = [
    LSTMConfig(),
    LSTMConfig(forget_gate=False),
    LSTMConfig(peepholes=True),
    LSTMConfig(coupled_input_forget=True, peepholes=True),
    LSTMConfig(input_gate=False, output_gate=False, output_activation="identity"),
]


def _problem(rng, config, B=2, T=20, D=3, H=4):
    # T=20 > rtrl.CHUNK, so the chunked online forward pass is exercised too
    params = lt.init_lstm(D, H, config=config, rng=rng)
    params["b"] = rng.normal(size=4 * H)
    return (params, rng.normal(size=(B, T, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H)),
            rng.normal(size=(B, T, H)))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.describe())
def test_rtrl_equals_bptt(rng, config):
    params, x, h0, c0, G = _problem(rng, config)
    gc = rng.normal(size=h0.shape)
    hs, cache = lt.kernels.lstm_forward(x, params, h0, c0, config)
    bptt = lt.kernels.lstm_backward(G, cache, dcT=gc)[3]
    hs_rtrl, grads = rtrl.rtrl_gradients(x, params, G, h0, c0, config, dcT=gc)
    np.testing.assert_array_equal(hs_rtrl, hs)
    assert set(grads) == set(bptt)
    for k in bptt:
        assert np.max(np.abs(grads[k] - bptt[k])) < 1e-10, k


@pytest.mark.parametrize(
    "config", [LSTMConfig(forget_gate=False), LSTMConfig(), LSTMConfig(input_gate=False)],
    ids=lambda c: c.describe(),
)
def test_1997_rule_equals_truncated_backprop(rng, config):
    params, x, h0, c0, G = _problem(rng, config)
    hs, forward = rtrl.truncated_1997_gradients(x, params, G, h0, c0, config)
    hs_ref, backward = rtrl.truncated_bptt_reference(x, params, G, h0, c0, config)
    np.testing.assert_allclose(hs, hs_ref, rtol=0, atol=1e-14)
    for k in "WUb":
        assert np.max(np.abs(forward[k] - backward[k])) < 1e-12, k
    # ... and it is an approximation: the full gradient differs when h_{t-1} matters
    _, cache = lt.lstm_forward(x, params, h0, c0, config)
    full = lt.lstm_backward(G, cache)[3]
    assert lt.rel_error(forward["U"], full["U"]) > 1e-3


def test_1997_rule_is_exact_without_recurrent_weights(rng):
    """With U = 0 no error can flow through h_{t-1}: truncation loses nothing."""
    config = LSTMConfig(forget_gate=False)
    params, x, h0, c0, G = _problem(rng, config)
    params["U"][:] = 0.0
    _, trunc = rtrl.truncated_1997_gradients(x, params, G, h0, c0, config)
    _, cache = lt.lstm_forward(x, params, h0, c0, config)
    full = lt.lstm_backward(G, cache)[3]
    for k in "WUb":
        assert np.max(np.abs(trunc[k] - full[k])) < 1e-12, k


def test_unsupported_variants_and_bad_input(rng):
    params, x, h0, c0, G = _problem(rng, LSTMConfig(peepholes=True))
    with pytest.raises(ValueError, match="does not support peepholes=True"):
        rtrl.truncated_1997_gradients(x, params, G, config=LSTMConfig(peepholes=True))
    fgr = LSTMConfig(full_gate_recurrence=True)
    with pytest.raises(ValueError, match="does not support full_gate_recurrence=True"):
        rtrl.rtrl_gradients(x, lt.init_lstm(3, 4, config=fgr), G, config=fgr)
    with pytest.raises(ValueError, match=r"dhs must have shape .* = \(2, 20, 4\); got \(2, 5, 4\)"):
        rtrl.rtrl_gradients(x, lt.init_lstm(3, 4), G[:, :5])
    assert rtrl.truncated_1997_gradients(x, lt.init_lstm(3, 4), G, keep_outputs=False)[0] is None


def test_measured_costs_follow_the_theory():
    rows = rtrl.measure_costs(lengths=(32, 256), hidden_sizes=(4,), repeats=1)
    by = {(r["method"], r["T"]): r for r in rows}
    # BPTT stores the history: its memory grows with T ...
    assert by["BPTT", 256]["peak_bytes"] > 3 * by["BPTT", 32]["peak_bytes"]
    # ... the forward-mode methods do not (up to one chunk of activations)
    for method in ("RTRL", "1997 rule"):
        assert by[method, 256]["peak_bytes"] < 1.3 * by[method, 32]["peak_bytes"], method
    # RTRL's sensitivities are an (H, n_params) matrix: bigger than the 1997 rule's
    assert by["RTRL", 32]["peak_bytes"] > 2 * by["1997 rule", 32]["peak_bytes"]
    assert rtrl.n_parameters(lt.init_lstm(2, 4)) == 4 * 4 * (2 + 4 + 1)
    with pytest.raises(ValueError, match="unknown method"):
        rtrl.measure_costs(methods=("BPTT", "UORO"))
