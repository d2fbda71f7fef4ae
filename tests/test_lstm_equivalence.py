"""The readable reference (lt.lstm_*) and the fast kernel (lt.kernels.lstm_*) compute the same.

For every LSTMConfig variant, in float64 and float32: the hidden and cell
states, every gate, dx, dh0, dc0 and every weight gradient agree, to 1e-12
relative in float64 (float32: to its own rounding, 1e-5 relative).
"""

import warnings

import numpy as np
import pytest

import lstm_teach as lt
from lstm_teach import LSTMConfig
from lstm_teach import kernels as kl

B, T, D, H = 3, 7, 4, 5

VARIANTS = {
    "standard": LSTMConfig(),
    "NIG": LSTMConfig(input_gate=False),
    "NFG": LSTMConfig(forget_gate=False),
    "NOG": LSTMConfig(output_gate=False),
    "peepholes": LSTMConfig(peepholes=True),
    "CIFG": LSTMConfig(coupled_input_forget=True),
    "FGR": LSTMConfig(full_gate_recurrence=True),
    "NIAF": LSTMConfig(activation="identity"),
    "NOAF": LSTMConfig(output_activation="identity"),
    "hard_sigmoid gates": LSTMConfig(recurrent_activation="hard_sigmoid"),
    "relu candidate": LSTMConfig(activation="relu"),
    "CIFG+peepholes+FGR": LSTMConfig(coupled_input_forget=True, peepholes=True,
                                     full_gate_recurrence=True),
    "NIG+NOG+FGR": LSTMConfig(input_gate=False, output_gate=False, full_gate_recurrence=True),
    "NFG+peepholes+NOAF": LSTMConfig(forget_gate=False, peepholes=True,
                                     output_activation="identity"),
    "all gates removed": LSTMConfig(input_gate=False, forget_gate=False, output_gate=False),
}
TOL = {np.float64: 1e-12, np.float32: 1e-5}


def problem(config, dtype, seed=0):
    rng = np.random.default_rng(seed)
    params = lt.init_lstm(D, H, config, rng=rng)
    params = {k: (v + 0.3 * rng.standard_normal(v.shape)).astype(dtype) for k, v in params.items()}
    arrays = [rng.standard_normal(s).astype(dtype)
              for s in ((B, T, D), (B, H), (B, H), (B, T, H), (B, H))]
    return params, *arrays


def close(name, ours, theirs, dtype):
    """Relative agreement, measured against the array's scale (entries can be exactly 0)."""
    assert ours.dtype == theirs.dtype == dtype, f"{name}: dtypes {ours.dtype}, {theirs.dtype}"
    assert ours.shape == theirs.shape, f"{name}: shapes {ours.shape}, {theirs.shape}"
    scale = max(np.max(np.abs(theirs)), 1e-30)
    err = np.max(np.abs(ours.astype(np.float64) - theirs.astype(np.float64))) / scale
    assert err < TOL[dtype], f"{name}: relative difference {err:.2e} >= {TOL[dtype]:.0e}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(VARIANTS))
def test_reference_and_kernel_agree(name, dtype):
    config = VARIANTS[name]
    params, x, h0, c0, dhs, dcT = problem(config, dtype)
    hs_ref, cache_ref = lt.lstm_forward(x, params, h0, c0, config)
    hs_k, cache_k = kl.lstm_forward(x, params, h0, c0, config)
    close("h", hs_ref, hs_k, dtype)
    close("cache.h", cache_ref.h, cache_k.h, dtype)
    close("cache.c", cache_ref.c, cache_k.c, dtype)
    for gate in "ifgo":
        close(f"gate {gate}", cache_ref.gates[gate], cache_k.gates[gate], dtype)
    for t in (0, T - 1):
        close(f"step_gates({t})", cache_ref.step_gates(t), cache_k.step_gates(t), dtype)
    for view in ("c0", "h0", "cT", "hT", "x"):
        close(view, getattr(cache_ref, view), getattr(cache_k, view), dtype)
    assert cache_ref.shape == cache_k.shape == (B, T, D, H)
    assert cache_ref.dtype == cache_k.dtype == dtype
    for t in (0, 1, T - 1, -1):  # the same named step caches, FGR's previous gates included
        ours, theirs = cache_ref.step(t), cache_k.step(t)
        for field in ("x", "h_prev", "c_prev", "i", "f", "g", "o", "c", "s", "h"):
            close(f"step({t}).{field}", getattr(ours, field), getattr(theirs, field), dtype)
        if config.full_gate_recurrence:
            close(f"step({t}).gates_prev", ours.gates_prev, theirs.gates_prev, dtype)
        else:
            assert ours.gates_prev is None and theirs.gates_prev is None

    dx_r, dh0_r, dc0_r, g_r = lt.lstm_backward(dhs, cache_ref, dcT)
    dx_k, dh0_k, dc0_k, g_k = kl.lstm_backward(dhs, cache_k, dcT)
    close("dx", dx_r, dx_k, dtype)
    close("dh0", dh0_r, dh0_k, dtype)
    close("dc0", dc0_r, dc0_k, dtype)
    assert set(g_r) == set(g_k) == set(params)
    for k in params:
        close(f"grads[{k!r}]", g_r[k], g_k[k], dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", [n for n, c in VARIANTS.items() if not c.full_gate_recurrence])
def test_step_functions_agree(name, dtype):
    """One step: the same h, c, gates and gradients (dc given and dc = None)."""
    config = VARIANTS[name]
    params, x, h0, c0, dhs, dcT = problem(config, dtype, seed=1)
    h_r, c_r, step = lt.lstm_step_forward(x[:, 0], h0, c0, params, config)
    h_k, c_k, cache_k = kl.lstm_step_forward(x[:, 0], h0, c0, params, config)
    close("h", h_r, h_k, dtype)
    close("c", c_r, c_k, dtype)
    for field in ("x", "h_prev", "c_prev", "i", "f", "g", "o", "c", "s", "h"):
        close(f"step cache .{field}", getattr(step, field), getattr(cache_k, field), dtype)
    for gate in "ifgo":
        close(f"gates[{gate!r}]", step.gates[gate], cache_k.gates[gate], dtype)
    for dc in (dcT, None):
        out_r = lt.lstm_step_backward(dhs[:, 0], dc, step)
        out_k = kl.lstm_step_backward(dhs[:, 0], dc, cache_k)
        for label, a, b in zip(("dx", "dh_prev", "dc_prev"), out_r[:3], out_k[:3], strict=True):
            close(label, a, b, dtype)
        for k in params:
            close(f"grads[{k!r}]", out_r[3][k], out_k[3][k], dtype)


def test_the_sequence_is_a_loop_over_the_step():
    """lt.lstm_forward's caches are exactly what lt.lstm_step_forward returns, step by step."""
    config = LSTMConfig(peepholes=True)
    params, x, h0, c0, *_ = problem(config, np.float64)
    _, cache = lt.lstm_forward(x, params, h0, c0, config)
    h, c = h0, c0
    for t in range(T):
        h, c, step = lt.lstm_step_forward(x[:, t], h, c, params, config)
        for field in ("i", "f", "g", "o", "c", "h"):
            np.testing.assert_array_equal(getattr(step, field), getattr(cache.steps[t], field))


def test_reference_step_runs_fgr_with_the_previous_gates():
    config = LSTMConfig(full_gate_recurrence=True)
    params, x, h0, c0, *_ = problem(config, np.float64)
    hs, cache = lt.lstm_forward(x, params, h0, c0, config)
    h, c, gates_prev = h0, c0, None
    for t in range(T):
        h, c, step = lt.lstm_step_forward(x[:, t], h, c, params, config, gates_prev=gates_prev)
        gates_prev = np.concatenate([step.i, step.f, step.o], axis=1)
        np.testing.assert_array_equal(h, hs[:, t])
    with pytest.raises(ValueError, match=r"gates_prev must have shape \(B, 3H\).* = \(3, 15\); got \(3, 5\)"):
        lt.lstm_step_forward(x[:, 0], h0, c0, params, config, gates_prev=np.zeros((3, 5)))
    with pytest.raises(ValueError, match="gates_prev is used only with"):
        lt.lstm_step_forward(x[:, 0], h0, c0, {k: params[k] for k in "WUb"}, None,
                             gates_prev=np.zeros((3, 15)))


# ---------------------------------------------------------------- the kernel's own tricks
# The kernel computes the backward coefficients a block of time steps at a time
# (kernels.lstm._COEF_CHUNK_ELEMENTS). At the shapes above one block holds every step,
# so these tests shrink the block to two steps: T = 7 then crosses three block
# boundaries, one of them a partial block.


@pytest.fixture
def two_step_chunks(monkeypatch):
    from lstm_teach.kernels import lstm as kernel_lstm

    monkeypatch.setattr(kernel_lstm, "_COEF_CHUNK_ELEMENTS", 2 * B * H)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(VARIANTS))
def test_backward_across_coefficient_blocks_agrees(name, dtype, two_step_chunks):
    config = VARIANTS[name]
    params, x, h0, c0, dhs, dcT = problem(config, dtype, seed=2)
    _, cache_ref = lt.lstm_forward(x, params, h0, c0, config)
    _, cache_k = kl.lstm_forward(x, params, h0, c0, config)
    out_r = lt.lstm_backward(dhs, cache_ref, dcT)
    out_k = kl.lstm_backward(dhs, cache_k, dcT)
    for label, a, b in zip(("dx", "dh0", "dc0"), out_r[:3], out_k[:3], strict=True):
        close(label, a, b, dtype)
    for k in params:
        close(f"grads[{k!r}]", out_r[3][k], out_k[3][k], dtype)


@pytest.mark.parametrize("name", ["standard", "peepholes", "CIFG+peepholes+FGR",
                                  "hard_sigmoid gates", "NIG+NOG+FGR"])
def test_kernel_gradient_check(name, two_step_chunks):
    """The kernel's backward against central differences (float64, relative error < 1e-7)."""
    config = VARIANTS[name]
    params, x, h0, c0, dhs, dcT = problem(config, np.float64, seed=3)

    def loss():
        hs, cache = kl.lstm_forward(x, params, h0, c0, config)
        return np.sum(hs * dhs) + np.sum(cache.cT * dcT)

    _, cache = kl.lstm_forward(x, params, h0, c0, config)
    dx, dh0, dc0, grads = kl.lstm_backward(dhs, cache, dcT)
    report = lt.check_gradients(loss, {**params, "x": x, "h0": h0, "c0": c0},
                                {**grads, "x": dx, "h0": dh0, "c0": dc0})
    assert report.passed, str(report)


@pytest.mark.parametrize("name", ["standard", "peepholes", "CIFG+peepholes+FGR"])
def test_float32_stays_float32_inside_the_kernel(name):
    """No float64 scalar or array may promote the float32 work, in any working array."""
    config = VARIANTS[name]
    params, x, h0, c0, dhs, dcT = problem(config, np.float32)
    hs, cache = kl.lstm_forward(x, params, h0, c0, config)
    working = {"hs": hs, "xh": cache.xh, "acts": cache.acts, "cs": cache.cs,
               "out_act": cache.out_act, **{f"loop {k}": v for k, v in cache.loop_params.items()}}
    dx, dh0, dc0, grads = kl.lstm_backward(dhs, cache, dcT)
    working.update(dx=dx, dh0=dh0, dc0=dc0, **{f"d{k}": v for k, v in grads.items()})
    assert {k: v.dtype for k, v in working.items()} == dict.fromkeys(working, np.dtype(np.float32))


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("sign", [1.0, -1.0], ids=["positive", "negative"])
def test_kernel_saturated_gates_are_exact_and_silent(sign, dtype):
    """|z| far beyond exp's range: no warning, and the gates are exactly 0 or 1 as in the
    reference (the kernel's sigmoid works on -z, so both signs reach exp's overflow)."""
    config = VARIANTS["peepholes"]
    params, x, h0, c0, dhs, dcT = problem(config, dtype)
    x = np.full_like(x, sign * 1e4)
    with np.errstate(over="raise", invalid="raise", divide="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        hs, cache = kl.lstm_forward(x, params, h0, c0, config)
        out = kl.lstm_backward(dhs, cache, dcT)
    _, cache_ref = lt.lstm_forward(x, params, h0, c0, config)
    n_saturated = 0
    for gate in "ifo":
        ours, theirs = cache.gates[gate], cache_ref.gates[gate]
        close(f"gate {gate}", theirs, ours, dtype)
        exact = (theirs == 0.0) | (theirs == 1.0)
        np.testing.assert_array_equal(ours[exact], theirs[exact])
        n_saturated += np.count_nonzero(exact)
    assert n_saturated > B * T * H  # most of the 3 B T H gate values are pinned at 0 or 1
    assert all(np.all(np.isfinite(a)) for a in (hs, *out[:3], *out[3].values()))
