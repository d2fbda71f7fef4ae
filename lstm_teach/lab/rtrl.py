"""Gradients computed forward in time: exact RTRL, and the truncated learning rule of 1997.

Backpropagation through time (BPTT, :func:`lstm_teach.lstm_backward`) stores
the whole forward pass and then runs backwards. Two older ways of training an
LSTM compute the gradient *while the sequence is read*, so they need no
stored history:

**Real-time recurrent learning (RTRL, Williams & Zipser 1989).** Carry the
sensitivities ``dh_t/dtheta`` and ``dc_t/dtheta`` of the state to *every*
parameter, and update them with the chain rule at each step. The gradient of
``L = sum_t l_t(h_t)`` is then ``sum_t dL/dh_t . dh_t/dtheta``, available
online. It is exact (:func:`rtrl_gradients` agrees with BPTT to rounding),
but the sensitivities are an (H, n_params) matrix per sequence and updating
them costs O(H^2 n_params) = O(H^3 (D + H)) per step, against O(H (D + H)) for
BPTT.

**The 1997 rule (Hochreiter & Schmidhuber 1997, appendix A.1).** The LSTM was
introduced with a *truncated* RTRL: errors that reach the net inputs of the
cell input and the gates are used to update their incoming weights but are
not sent further back in time through the recurrent connections; only inside
the cell, along the constant error carousel, does error flow back over time.
Then the cell state of cell j depends on the weights into cell j only, and
the partial derivatives ``ds_j/dw`` for the weights into cell j's input and
input gate can be carried forward with one multiply-add per weight and step
(:func:`truncated_1997_gradients`). The output gate needs no history at all.
Cost and memory are O(H (D + H)) per step, like BPTT, but nothing is stored
over time.

Approximations and choices in :func:`truncated_1997_gradients` (say them out
loud when you compare with the paper):

- our cell reads ``[x_t, h_{t-1}]``; in the 1997 network every unit (inputs,
  gates, cells, other hidden units) could feed every gate and cell;
- we use the package activations (sigmoid gates, tanh for g and h); the paper
  used logistic functions scaled to [-2, 2] for g and [-1, 1] for h;
- the rule returns the gradient of a whole sequence with fixed weights; the
  paper also allowed updating the weights after every step;
- a forget gate (Gers, Schmidhuber & Cummins 2000) is supported by the same
  trick: its partials decay with f, ``ds/dw_f(t) = f_t ds/dw_f(t-1) + s_{t-1}
  sigma'(.) y_m``. The 1997 cell is ``LSTMConfig(forget_gate=False)``.
  Peepholes, CIFG and FGR are not supported.

:func:`truncated_bptt_reference` computes the same truncated gradient the
other way round, backwards with the core's step functions (dropping
dL/dh_{t-1}); the two agree to rounding, which is how we know the forward
partials are right.

:func:`measure_costs` times all three methods and records their peak memory
(``tracemalloc`` sees numpy's allocations).
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

from ..core import activations
from ..core._checks import as_float_array, check_ndim, check_shape, describe, require_keys
from ..core.init import init_lstm
from ..core.lstm_config import LSTMConfig
from ..core.utils import as_rng
from ..kernels.lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward

__all__ = [
    "measure_costs",
    "n_parameters",
    "rtrl_gradients",
    "truncated_1997_gradients",
    "truncated_bptt_reference",
]

PARAM_ORDER = ("W", "U", "b", "P")


def n_parameters(params) -> int:
    """Number of scalar parameters in ``W``, ``U``, ``b`` (and ``P``)."""
    return int(sum(np.asarray(params[k]).size for k in PARAM_ORDER if k in params))


#: Steps per call of the core forward pass. The forward-mode methods read the
#: activations of a chunk, use them, and drop them: their memory does not grow with T.
CHUNK = 16


def _prepare(x, params, dhs, h0, c0, config, supported):
    """Validate the inputs of the forward-mode methods. Returns (config, x, dhs, B, T, D, H)."""
    config = LSTMConfig() if config is None else config
    if not isinstance(config, LSTMConfig):
        raise TypeError(f"config must be an LSTMConfig or None; got {describe(config)}")
    for flag in ("peepholes", "coupled_input_forget", "full_gate_recurrence"):
        if getattr(config, flag) and flag not in supported:
            raise ValueError(f"this method does not support {flag}=True; got {config}")
    require_keys("params", params, ("W", "U", "b"))
    x = as_float_array("x", x)
    check_ndim("x", x, 3, "(B, T, D)")
    # One cheap step through the core validates shapes, dtypes and finiteness.
    _, probe = lstm_forward(x[:, :1], params, h0=h0, c0=c0, config=config)
    B, _, D, H = probe.shape
    T = x.shape[1]
    dhs = as_float_array("dhs", dhs)
    check_shape("dhs", dhs, (B, T, H), "(B, T, H) matching x")
    return config, x, dhs.astype(probe.dtype, copy=False), B, T, D, H


def _online_steps(x, params, h0, c0, config, hs_out=None):
    """Run the core chunk by chunk and yield, for each step t, ``(t, step)``.

    ``step`` is step t's cache with named fields (``step.x``, ``step.h_prev``,
    ``step.c_prev``, ``step.i`` ... ``step.c``, ``step.s`` = sigma_h(c_t)), read
    from the kernel cache of the chunk holding it. Nothing older than one chunk
    is kept alive.
    """
    h, c = h0, c0
    T = x.shape[1]
    for start in range(0, T, CHUNK):
        hs, cache = lstm_forward(x[:, start : start + CHUNK], params, h0=h, c0=c, config=config)
        if hs_out is not None:
            hs_out[:, start : start + hs.shape[1]] = hs
        for s in range(hs.shape[1]):
            yield start + s, cache.step(s)
        h, c = cache.hT.copy(), cache.cT.copy()


# --------------------------------------------------------------------------- exact RTRL


def rtrl_gradients(x, params, dhs, h0=None, c0=None, config=None, dcT=None, keep_outputs=True):
    """Exact gradients by real-time recurrent learning (forward-mode differentiation).

    Parameters
    ----------
    x : np.ndarray, (B, T, D)
    params : dict
        ``W`` (D, 4H), ``U`` (H, 4H), ``b`` (4H,), and ``P`` (3, H) with peepholes.
    dhs : np.ndarray, (B, T, H)
        dL/dh_t for every step, as for :func:`lstm_teach.lstm_backward`. RTRL
        uses ``dhs[:, t]`` as soon as step t has been computed.
    h0, c0 : np.ndarray, (B, H), optional
    config : LSTMConfig, optional
        Gate switches, CIFG, peepholes and activations; not FGR.
    dcT : np.ndarray, (B, H), optional
        dL/dc_T.
    keep_outputs : bool
        False returns ``hs=None`` and stores nothing of length T.

    Returns
    -------
    hs : np.ndarray, (B, T, H)
    grads : dict
        Same keys and shapes as the params.

    Notes
    -----
    The sensitivities ``S_h = dh_t/dtheta`` and ``S_c = dc_t/dtheta`` are
    arrays (B, H, n) with n the number of parameters; the per-step update
    contracts ``U`` with ``S_h`` (B * 4H * H * n multiply-adds), which is what
    makes RTRL expensive. This implementation favours clarity over speed.
    """
    config, x, dhs, B, T, D, H = _prepare(
        x, params, dhs, h0, c0, config, ("peepholes", "coupled_input_forget")
    )
    dtype = dhs.dtype
    p = {k: np.asarray(params[k], dtype=dtype) for k in PARAM_ORDER if k in params}
    keys = list(p)
    sizes = [p[k].size for k in keys]
    offsets = dict(zip(keys, np.cumsum([0] + sizes[:-1]), strict=True))
    n = sum(sizes)
    sig_g = activations.get(config.recurrent_activation)
    sig_c = activations.get(config.activation)
    sig_h = activations.get(config.output_activation)

    # Index arrays for the "direct" part of dz_t/dtheta (theta flattened row-major).
    cols = np.arange(4 * H)
    w_idx = offsets["W"] + np.arange(D)[:, None] * 4 * H + cols  # (D, 4H): dz[:, c]/dW[d, c]
    u_idx = offsets["U"] + np.arange(H)[:, None] * 4 * H + cols  # (H, 4H)
    b_idx = offsets["b"] + cols
    jj = np.arange(H)
    bidx = np.arange(B)[:, None, None]

    S_h = np.zeros((B, H, n), dtype=dtype)
    S_c = np.zeros((B, H, n), dtype=dtype)
    grad = np.zeros(n, dtype=dtype)
    hs = np.empty((B, T, H), dtype=dtype) if keep_outputs else None
    for t, step in _online_steps(x, params, h0, c0, config, hs):
        i, f, g, o = step.i, step.f, step.g, step.o
        c_prev, c, h_prev = step.c_prev, step.c, step.h_prev
        # dz_t/dtheta: through h_{t-1} (the expensive contraction) plus the direct terms.
        Sz = np.einsum("kc,bkn->bcn", p["U"], S_h)  # (B, 4H, n)
        Sz[bidx, cols[None, None, :], w_idx[None]] += step.x[:, :, None]
        Sz[bidx, cols[None, None, :], u_idx[None]] += h_prev[:, :, None]
        Sz[:, cols, b_idx] += 1.0
        Sz = Sz.reshape(B, 4, H, n)
        if config.peepholes:
            P = p["P"]
            Sz[:, 0] += P[0][:, None] * S_c
            Sz[:, 1] += P[1][:, None] * S_c
            Sz[:, 0, jj, offsets["P"] + jj] += c_prev
            Sz[:, 1, jj, offsets["P"] + H + jj] += c_prev
        S_i = sig_g.grad_from_output(i)[:, :, None] * Sz[:, 0] if config.input_gate else 0.0
        if config.coupled_input_forget:
            S_f = -S_i
        elif config.forget_gate:
            S_f = sig_g.grad_from_output(f)[:, :, None] * Sz[:, 1]
        else:
            S_f = 0.0
        S_g = sig_c.grad_from_output(g)[:, :, None] * Sz[:, 2]
        S_c = (S_f * c_prev[:, :, None] + f[:, :, None] * S_c
               + S_i * g[:, :, None] + i[:, :, None] * S_g)
        S_zo = Sz[:, 3]
        if config.peepholes:
            S_zo = S_zo + p["P"][2][:, None] * S_c
            S_zo[:, jj, offsets["P"] + 2 * H + jj] += c
        S_o = sig_g.grad_from_output(o)[:, :, None] * S_zo if config.output_gate else 0.0
        s_h = step.s
        S_h = S_o * s_h[:, :, None] + (o * sig_h.grad_from_output(s_h))[:, :, None] * S_c
        grad += np.einsum("bj,bjn->n", dhs[:, t], S_h)  # the online gradient contribution
    if dcT is not None:
        dcT = as_float_array("dcT", dcT)
        check_shape("dcT", dcT, (B, H), "(B, H)")
        grad += np.einsum("bj,bjn->n", dcT, S_c)
    grads = {k: grad[offsets[k] : offsets[k] + p[k].size].reshape(p[k].shape) for k in keys}
    return hs, grads


# --------------------------------------------------------------------------- the 1997 rule


def truncated_1997_gradients(x, params, dhs, h0=None, c0=None, config=None, keep_outputs=True):
    """The truncated gradient of Hochreiter & Schmidhuber (1997), computed forward in time.

    Parameters
    ----------
    x : np.ndarray, (B, T, D)
    params : dict
        ``W`` (D, 4H), ``U`` (H, 4H), ``b`` (4H,).
    dhs : np.ndarray, (B, T, H)
        dL/dh_t arriving from the layer above at each step.
    h0, c0 : np.ndarray, (B, H), optional
    config : LSTMConfig, optional
        Use ``LSTMConfig(forget_gate=False)`` for the 1997 cell. Gate switches
        and activations are supported; peepholes, CIFG and FGR are not.
    keep_outputs : bool
        False returns ``hs=None`` and stores nothing of length T.

    Returns
    -------
    hs : np.ndarray, (B, T, H)
    grads : dict
        ``W``, ``U``, ``b``: the truncated gradient (see the module docstring).

    Notes
    -----
    With sources ``y_t = [x_t, h_{t-1}, 1]`` (M = D + H + 1 of them), every
    cell j keeps the partials of its own state with respect to the weights
    into its own cell input, input gate and forget gate, each an (M,) vector::

        ds_j/dw_g(t) = f_j(t) ds_j/dw_g(t-1) + i_j(t) sigma_c'(.) y_t
        ds_j/dw_i(t) = f_j(t) ds_j/dw_i(t-1) + g_j(t) sigma_g'(.) y_t
        ds_j/dw_f(t) = f_j(t) ds_j/dw_f(t-1) + s_j(t-1) sigma_g'(.) y_t

    and at every step adds ``e_s_j(t) ds_j/dw(t)`` to the gradient, where
    ``e_s_j(t) = dL/dh_j(t) o_j(t) sigma_h'(s_j(t))`` is the error that the
    output at time t sends into the cell. The output gate uses the error of
    the current step only: ``dL/dh_j(t) sigma_h(s_j(t)) sigma_g'(.) y_t``.
    Memory: three (B, M, H) arrays, whatever T is.
    """
    config, x, dhs, B, T, D, H = _prepare(x, params, dhs, h0, c0, config, ())
    dtype = dhs.dtype
    M = D + H + 1
    sig_g = activations.get(config.recurrent_activation)
    sig_c = activations.get(config.activation)
    sig_h = activations.get(config.output_activation)
    sources = np.empty((B, M), dtype=dtype)
    sources[:, -1] = 1.0
    ds_dg = np.zeros((B, M, H), dtype=dtype)  # ds_j/dw for the weights into cell j's input
    ds_di = np.zeros((B, M, H), dtype=dtype)  # ... into cell j's input gate
    ds_df = np.zeros((B, M, H), dtype=dtype)  # ... into cell j's forget gate
    grad = np.zeros((M, 4 * H), dtype=dtype)  # rows: [x (D), h_prev (H), bias]; cols [i f g o]
    hs = np.empty((B, T, H), dtype=dtype) if keep_outputs else None
    for t, step in _online_steps(x, params, h0, c0, config, hs):
        i, f, g, o = step.i, step.f, step.g, step.o
        sources[:, :D] = step.x
        sources[:, D : D + H] = step.h_prev
        y = sources[:, :, None]  # (B, M, 1)
        # Carry the partials forward along the carousel (f = 1 without a forget gate).
        if config.forget_gate:
            ds_dg *= f[:, None, :]
            ds_di *= f[:, None, :]
            ds_df *= f[:, None, :]
            ds_df += y * (step.c_prev * sig_g.grad_from_output(f))[:, None, :]
        ds_dg += y * (i * sig_c.grad_from_output(g))[:, None, :]
        if config.input_gate:
            ds_di += y * (g * sig_g.grad_from_output(i))[:, None, :]
        # The error of this step's output, entering the cell and the output gate.
        s_h = step.s
        e_s = dhs[:, t] * o * sig_h.grad_from_output(s_h)  # (B, H)
        grad[:, 2 * H : 3 * H] += np.einsum("bmh,bh->mh", ds_dg, e_s)
        if config.input_gate:
            grad[:, :H] += np.einsum("bmh,bh->mh", ds_di, e_s)
        if config.forget_gate:
            grad[:, H : 2 * H] += np.einsum("bmh,bh->mh", ds_df, e_s)
        if config.output_gate:
            delta_o = dhs[:, t] * s_h * sig_g.grad_from_output(o)
            grad[:, 3 * H :] += sources.T @ delta_o
    return hs, {"W": grad[:D], "U": grad[D : D + H], "b": grad[-1]}


def truncated_bptt_reference(x, params, dhs, h0=None, c0=None, config=None):
    """The same truncated gradient, computed backwards with the core's step functions.

    Runs :func:`lstm_teach.lstm_step_forward` step by step, then walks back
    with :func:`lstm_teach.lstm_step_backward`, passing dL/dc back along the
    cell (the carousel) but *dropping* dL/dh_{t-1}: the error never leaves the
    cell backwards in time. Slow and memory-hungry on purpose: it is the
    specification that :func:`truncated_1997_gradients` is tested against.

    Returns
    -------
    hs : (B, T, H)
    grads : dict with ``W``, ``U``, ``b``
    """
    x = as_float_array("x", x)
    check_ndim("x", x, 3, "(B, T, D)")
    B, T, _ = x.shape
    h, c = h0, c0
    caches, outs = [], []
    for t in range(T):
        h, c, cache = lstm_step_forward(x[:, t], h, c, params, config)
        caches.append(cache)
        outs.append(h)
    dhs = as_float_array("dhs", dhs)
    grads = {k: np.zeros_like(np.asarray(params[k], dtype=h.dtype)) for k in ("W", "U", "b")}
    dc = None
    for t in range(T - 1, -1, -1):
        _, _dh_prev_dropped, dc, g = lstm_step_backward(dhs[:, t], dc, caches[t])
        for k in grads:
            grads[k] += g[k]
    return np.stack(outs, axis=1), grads


# --------------------------------------------------------------------------- costs


def _bptt(x, params, dhs, config):
    _, cache = lstm_forward(x, params, config=config)
    return lstm_backward(dhs, cache)[3]


METHODS = {
    "BPTT": _bptt,
    "RTRL": lambda x, p, d, cfg: rtrl_gradients(x, p, d, config=cfg, keep_outputs=False)[1],
    "1997 rule": lambda x, p, d, cfg: truncated_1997_gradients(
        x, p, d, config=cfg, keep_outputs=False)[1],
}


def measure_costs(lengths=(25, 50, 100), hidden_sizes=(4, 8, 16), input_size=2, batch_size=1,
                  methods=("BPTT", "RTRL", "1997 rule"), repeats=3, config=None, rng=0) -> list:
    """Time per sequence and peak memory of each gradient method, over T and over H.

    Parameters
    ----------
    lengths : sequence of int
        Sequence lengths T to try (at the median hidden size).
    hidden_sizes : sequence of int
        Hidden sizes H to try (at the median length).
    input_size, batch_size : int
    methods : sequence of str
        Any of ``"BPTT"``, ``"RTRL"``, ``"1997 rule"``.
    repeats : int
        The time is the best of this many runs.
    config : LSTMConfig, optional
        Default: the 1997 cell, ``LSTMConfig(forget_gate=False)``.
    rng : int or np.random.Generator

    Returns
    -------
    list of dict
        One row per (method, T, H): ``method``, ``T``, ``H``, ``seconds``
        (best time for one forward + gradient over the batch), ``peak_bytes``
        (peak traced allocation during one run) and ``n_params``.
    """
    config = LSTMConfig(forget_gate=False) if config is None else config
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; expected some of {list(METHODS)}")
    rng = as_rng(rng)
    T_mid = sorted(lengths)[len(lengths) // 2]
    H_mid = sorted(hidden_sizes)[len(hidden_sizes) // 2]
    grid = [(T, H_mid) for T in lengths] + [(T_mid, H) for H in hidden_sizes if H != H_mid]
    rows = []
    for T, H in grid:
        params = init_lstm(input_size, H, config=config, rng=rng)
        x = rng.normal(size=(batch_size, T, input_size))
        dhs = rng.normal(size=(batch_size, T, H))
        for method in methods:
            fn = METHODS[method]
            best = np.inf
            for _ in range(repeats):
                start = time.perf_counter()
                fn(x, params, dhs, config)
                best = min(best, time.perf_counter() - start)
            tracemalloc.start()
            try:
                fn(x, params, dhs, config)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            rows.append({"method": method, "T": T, "H": H, "seconds": best,
                         "peak_bytes": int(peak), "n_params": n_parameters(params)})
    return rows
