"""The LSTM, written to be read beside lesson 03: one step, then a loop over the steps.

Equations (package notation, gate blocks in the order [i, f, g, o])::

    z_t = x_t W + h_{t-1} U + b                     # (B, 4H): all four blocks in one matmul
    i_t = sigma_g(z_i + P_i * c_{t-1})              # input gate      (peephole term optional)
    f_t = sigma_g(z_f + P_f * c_{t-1})              # forget gate
    g_t = sigma_c(z_g)                              # cell candidate
    c_t = f_t * c_{t-1} + i_t * g_t                 # cell state: the constant error carousel
    o_t = sigma_g(z_o + P_o * c_t)                  # output gate (sees the *new* cell state)
    h_t = o_t * sigma_h(c_t)                        # hidden state / output

Each :class:`LSTMConfig` variant is a labelled line in :func:`lstm_step_forward`
and :func:`lstm_step_backward`. A removed gate is held at 1 and keeps its
columns in ``W``, ``U`` and ``b``, which get a zero gradient.

This is the reference: clear rather than fast. :mod:`lstm_teach.kernels.lstm`
computes the same numbers (tests hold them equal to 1e-12) with the time loop
vectorised; the layers, the experiments and the benchmark use that one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import activations
from ._checks import as_float_array, check_finite, check_ndim, check_shape, describe
from .lstm_config import GATES, LSTMConfig, resolve_config, validate_lstm_inputs

__all__ = ["GATES", "LSTMCache", "LSTMConfig", "LSTMStepCache", "lstm_backward",
           "lstm_forward", "lstm_step_backward", "lstm_step_forward"]


@dataclass
class LSTMStepCache:
    """What one step remembers for its backward pass. Every array is (B, H) unless noted.

    ``x`` (B, D), ``h_prev``, ``c_prev``: the step's inputs; ``i``, ``f``, ``g``,
    ``o``: the gate activations (a removed gate shows its constant 1); ``c``:
    the new cell state; ``s``: sigma_h(c); ``h``: the new hidden state;
    ``gates_prev`` (B, 3H): the previous step's [i, f, o], used by FGR only
    (None otherwise); ``params`` and ``config``: the weights and variant used.
    """

    x: np.ndarray
    h_prev: np.ndarray
    c_prev: np.ndarray
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c: np.ndarray
    s: np.ndarray
    h: np.ndarray
    gates_prev: np.ndarray | None
    params: dict
    config: LSTMConfig

    @property
    def gates(self) -> dict[str, np.ndarray]:
        """The gate activations by name, ``"i"``, ``"f"``, ``"g"``, ``"o"``; each (B, H)."""
        return {name: getattr(self, name) for name in GATES}


def _step_forward(x, h_prev, c_prev, p, config, gates_prev=None):
    """One step on checked arrays of one dtype. Returns ``(h, c, LSTMStepCache)``."""
    sig_g = activations.get(config.recurrent_activation).fn
    sig_c = activations.get(config.activation).fn
    sig_h = activations.get(config.output_activation).fn
    ones = np.ones_like(c_prev)
    z = x @ p["W"] + h_prev @ p["U"] + p["b"]           # (B, 4H), blocks [i, f, g, o]
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=1)
    if config.full_gate_recurrence:                      # FGR: last step's [i, f, o] feed the gates
        r_i, r_f, r_o = np.split(gates_prev @ p["R"], 3, axis=1)
        z_i, z_f, z_o = z_i + r_i, z_f + r_f, z_o + r_o
    if config.peepholes:                                 # peepholes: i and f see c_{t-1}
        z_i, z_f = z_i + p["P"][0] * c_prev, z_f + p["P"][1] * c_prev
    i = sig_g(z_i) if config.input_gate else ones        # NIG: i = 1
    if config.coupled_input_forget:                      # CIFG: f = 1 - i
        f = 1.0 - i
    else:
        f = sig_g(z_f) if config.forget_gate else ones   # NFG: f = 1 (the 1997 cell)
    g = sig_c(z_g)                                       # sigma_c ("identity": NIAF)
    c = f * c_prev + i * g                               # the constant error carousel
    if config.peepholes:                                 # peephole: o sees the new c_t
        z_o = z_o + p["P"][2] * c
    o = sig_g(z_o) if config.output_gate else ones       # NOG: o = 1
    s = sig_h(c)                                         # sigma_h ("identity": NOAF)
    h = o * s
    cache = LSTMStepCache(x=x, h_prev=h_prev, c_prev=c_prev, i=i, f=f, g=g, o=o, c=c, s=s,
                          h=h, gates_prev=gates_prev, params=p, config=config)
    return h, c, cache


def lstm_step_forward(x_t, h_prev, c_prev, params, config=None, gates_prev=None):
    """One LSTM time step.

    Parameters
    ----------
    x_t : np.ndarray, (B, D)
    h_prev, c_prev : np.ndarray, (B, H)
        The previous hidden and cell state (None means zeros).
    params : dict
        ``W`` (D, 4H), ``U`` (H, 4H), ``b`` (4H,), gate blocks [i, f, g, o];
        ``P`` (3, H) with peepholes; ``R`` (3H, 3H) with full gate recurrence.
    config : LSTMConfig, optional
        The variant; the standard LSTM by default.
    gates_prev : np.ndarray, (B, 3H), optional
        FGR only: the previous step's gate activations [i, f, o] (zeros by default).

    Returns
    -------
    h, c : np.ndarray, (B, H)
        The new hidden and cell state.
    cache : LSTMStepCache
        Named fields: ``cache.x``, ``cache.i``, ``cache.f``, ``cache.g``, ``cache.o``, ``cache.c``.
    """
    config = resolve_config(config)
    x_t = as_float_array("x_t", x_t)
    check_ndim("x_t", x_t, 2, "(B, D)")
    x, W, U, b, P, R, h, c = validate_lstm_inputs(
        x_t[:, None, :], params, h_prev, c_prev, config, ("x_t", "h_prev", "c_prev"))
    p = _kept_params(W, U, b, P, R)
    B, H = h.shape
    if config.full_gate_recurrence:
        if gates_prev is None:
            gates_prev = np.zeros((B, 3 * H), dtype=x.dtype)
        gates_prev = as_float_array("gates_prev", gates_prev).astype(x.dtype, copy=False)
        check_shape("gates_prev", gates_prev, (B, 3 * H), "(B, 3H): the previous [i, f, o]")
        check_finite("gates_prev", gates_prev)
    elif gates_prev is not None:
        raise ValueError("gates_prev is used only with config.full_gate_recurrence=True; "
                         f"got {describe(gates_prev)} with {config.describe()}")
    return _step_forward(x[:, 0], h, c, p, config, gates_prev)


def _step_backward(dh, dc, cache, dgates=None):
    """Backward through one step. ``dgates`` (B, 3H) is dL/d[i, f, o] arriving through FGR's R.

    Returns ``(dx, dh_prev, dc_prev, dgates_prev, grads)``; ``dgates_prev`` is None without FGR.
    """
    k, p, config = cache, cache.params, cache.config
    dsig_g = activations.get(config.recurrent_activation).grad_from_output
    dsig_c = activations.get(config.activation).grad_from_output
    dsig_h = activations.get(config.output_activation).grad_from_output
    zeros = np.zeros_like(k.c)
    da_i, da_f, da_o = np.split(dgates, 3, axis=1) if dgates is not None else (0.0, 0.0, 0.0)
    do = dh * k.s + da_o                                 # h = o * s, plus o's use through R
    dc = dh * k.o * dsig_h(k.s) + (zeros if dc is None else dc)
    dz_o = do * dsig_g(k.o) if config.output_gate else zeros          # NOG: o is a constant
    if config.peepholes:                                 # o peeks at c_t
        dc = dc + dz_o * p["P"][2]
    di = dc * k.g + da_i
    df = dc * k.c_prev + da_f
    dg = dc * k.i
    if config.coupled_input_forget:                      # CIFG: f = 1 - i sends its share to i
        di, df = di - df, zeros
    dz_i = di * dsig_g(k.i) if config.input_gate else zeros           # NIG: i is a constant
    dz_f = df * dsig_g(k.f) if config.forget_gate else zeros          # NFG: f is a constant
    dz_g = dg * dsig_c(k.g)
    dc_prev = dc * k.f                                   # the carousel carries dc back
    if config.peepholes:                                 # i and f peek at c_{t-1}
        dc_prev = dc_prev + dz_i * p["P"][0] + dz_f * p["P"][1]
    dz = np.concatenate([dz_i, dz_f, dz_g, dz_o], axis=1)             # (B, 4H)
    grads = {"W": k.x.T @ dz, "U": k.h_prev.T @ dz, "b": dz.sum(axis=0)}
    if config.peepholes:
        grads["P"] = np.stack([(dz_i * k.c_prev).sum(0), (dz_f * k.c_prev).sum(0),
                               (dz_o * k.c).sum(0)])
    dgates_prev = None
    if config.full_gate_recurrence:                      # FGR: z_[i,f,o] += gates_prev @ R
        dz_ifo = np.concatenate([dz_i, dz_f, dz_o], axis=1)
        grads["R"] = k.gates_prev.T @ dz_ifo
        dgates_prev = dz_ifo @ p["R"].T
    return dz @ p["W"].T, dz @ p["U"].T, dc_prev, dgates_prev, grads


def lstm_step_backward(dh, dc, cache):
    """Backward pass of one :func:`lstm_step_forward` call.

    Parameters
    ----------
    dh, dc : np.ndarray, (B, H)
        dL/dh_t and dL/dc_t arriving at the step's outputs (``dc`` may be None for zero).
    cache : LSTMStepCache
        From :func:`lstm_step_forward`.

    Returns
    -------
    dx_t : np.ndarray, (B, D)
    dh_prev, dc_prev : np.ndarray, (B, H)
    grads : dict
        Same keys and shapes as the params.
    """
    if isinstance(cache, LSTMCache):
        raise ValueError("cache must come from lstm_step_forward (one time step); got a cache "
                         f"with T={len(cache.steps)}. Use lstm_backward for sequences.")
    if not isinstance(cache, LSTMStepCache):
        raise TypeError("cache must be the LSTMStepCache returned by lstm_step_forward; "
                        f"got {describe(cache)}")
    B, H = cache.c.shape
    dh = _checked_grad("dh", dh, (B, H), cache.c.dtype, "(B, H)")
    dc = None if dc is None else _checked_grad("dc", dc, (B, H), cache.c.dtype, "(B, H)")
    dx, dh_prev, dc_prev, _, grads = _step_backward(dh, dc, cache)
    return dx, dh_prev, dc_prev, grads


@dataclass
class LSTMCache:
    """The caches of every step of :func:`lstm_forward`, with batch-first views for plots.

    ``steps`` is the list of :class:`LSTMStepCache`, one per time step.
    Views: :attr:`c`, :attr:`h` and :attr:`gates` (each (B, T, H)), :attr:`x`,
    :meth:`step`, :meth:`step_gates`, :attr:`c0`, :attr:`h0`, :attr:`cT`, :attr:`hT`,
    :attr:`shape`, :attr:`dtype`.
    """

    steps: list
    config: LSTMConfig

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(B, T, D, H)."""
        (B, D), H = self.steps[0].x.shape, self.steps[0].c.shape[1]
        return B, len(self.steps), D, H

    @property
    def c(self) -> np.ndarray:
        """Cell states c_1..c_T, (B, T, H)."""
        return np.stack([s.c for s in self.steps], axis=1)

    @property
    def h(self) -> np.ndarray:
        """Hidden states h_1..h_T, (B, T, H)."""
        return np.stack([s.h for s in self.steps], axis=1)

    @property
    def gates(self) -> dict[str, np.ndarray]:
        """Gate activations by name ``"i"``, ``"f"``, ``"g"``, ``"o"``; each (B, T, H)."""
        return {n: np.stack([getattr(s, n) for s in self.steps], axis=1) for n in GATES}

    @property
    def dtype(self) -> np.dtype:
        return self.steps[0].c.dtype

    @property
    def x(self) -> np.ndarray:
        """The inputs, (B, T, D)."""
        return np.stack([s.x for s in self.steps], axis=1)

    def step(self, t: int) -> LSTMStepCache:
        """The cache of step ``t`` (0-based)."""
        return self.steps[t]

    def step_gates(self, t: int) -> np.ndarray:
        """The activations of step ``t`` (0-based), (4, B, H) in the order [i, f, g, o]."""
        return np.stack([getattr(self.steps[t], n) for n in GATES])

    @property
    def c0(self) -> np.ndarray:
        return self.steps[0].c_prev

    @property
    def h0(self) -> np.ndarray:
        return self.steps[0].h_prev

    @property
    def cT(self) -> np.ndarray:
        return self.steps[-1].c

    @property
    def hT(self) -> np.ndarray:
        return self.steps[-1].h


def lstm_forward(x, params, h0=None, c0=None, config=None):
    """Run an LSTM over a batch of sequences: :func:`lstm_step_forward` in a loop.

    Parameters
    ----------
    x : np.ndarray, (B, T, D)
        Input sequences, batch-first.
    params : dict
        As for :func:`lstm_step_forward`.
    h0, c0 : np.ndarray, (B, H), optional
        Initial hidden and cell state; zeros by default.
    config : LSTMConfig, optional

    Returns
    -------
    hs : np.ndarray, (B, T, H)
        Hidden states h_1..h_T.
    cache : LSTMCache
        For :func:`lstm_backward`; ``cache.c`` and ``cache.gates["i"|"f"|"g"|"o"]`` are (B, T, H).
    """
    config = resolve_config(config)
    x, W, U, b, P, R, h, c = validate_lstm_inputs(x, params, h0, c0, config)
    p = _kept_params(W, U, b, P, R)
    B, T, _ = x.shape
    gates_prev = np.zeros((B, 3 * h.shape[1]), dtype=x.dtype) if R is not None else None
    steps = []
    for t in range(T):
        h, c, step = _step_forward(x[:, t], h, c, p, config, gates_prev)
        steps.append(step)
        if R is not None:                                # FGR: this step's [i, f, o] feed the next
            gates_prev = np.concatenate([step.i, step.f, step.o], axis=1)
    return np.stack([s.h for s in steps], axis=1), LSTMCache(steps=steps, config=config)


def lstm_backward(dhs, cache, dcT=None):
    """Backpropagation through time for :func:`lstm_forward`: :func:`lstm_step_backward`
    in a loop, newest step first.

    Parameters
    ----------
    dhs : np.ndarray, (B, T, H)
        dL/dh_t for every step (the gradient arriving from above).
    cache : LSTMCache
        From :func:`lstm_forward`.
    dcT : np.ndarray, (B, H), optional
        dL/dc_T arriving at the final cell state (e.g. from the next chunk of
        truncated BPTT). Zeros by default.

    Returns
    -------
    dx : np.ndarray, (B, T, D)
    dh0, dc0 : np.ndarray, (B, H)
    grads : dict
        Same keys and shapes as the params.
    """
    if not isinstance(cache, LSTMCache):
        raise TypeError("cache must be the LSTMCache returned by lstm_forward; "
                        f"got {describe(cache)}")
    B, T, D, H = cache.shape
    dtype = cache.steps[0].c.dtype
    dhs = _checked_grad("dhs", dhs, (B, T, H), dtype, "(B, T, H) matching the forward pass")
    dc = None if dcT is None else _checked_grad("dcT", dcT, (B, H), dtype, "(B, H)")
    dh_next = np.zeros((B, H), dtype=dtype)              # dL/dh_t arriving from step t+1
    dgates = None                                        # FGR: dL/d[i, f, o]_t from step t+1
    dx = np.empty((B, T, D), dtype=dtype)
    total = None
    for t in reversed(range(T)):
        dx[:, t], dh_next, dc, dgates, grads = _step_backward(
            dhs[:, t] + dh_next, dc, cache.steps[t], dgates)
        total = grads if total is None else {k: total[k] + grads[k] for k in total}
    return dx, dh_next, dc, total


def _kept_params(W, U, b, P, R) -> dict:
    """The checked weights as a dict; ``P`` and ``R`` only when the variant uses them."""
    p = {"W": W, "U": U, "b": b}
    p.update({k: v for k, v in (("P", P), ("R", R)) if v is not None})
    return p


def _checked_grad(name, value, shape, dtype, expected) -> np.ndarray:
    """``value`` as a finite array of ``shape`` in the forward pass's dtype, or a clear error."""
    value = as_float_array(name, value)
    check_shape(name, value, shape, expected)
    check_finite(name, value)
    return value.astype(dtype, copy=False)
