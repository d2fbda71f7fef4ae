"""The LSTM kernel: the equations of :mod:`lstm_teach.core.lstm`, vectorised for speed.

Same signatures, same variants (:class:`LSTMConfig`), same public cache views
as the readable reference; tests hold the two equal to 1e-12 in float64.

Why it is fast:

- the input projection ``x W + b`` is one matmul for all time steps, before
  the loop (the bias rides along as a column of ones next to x);
- inside the loop there is one (B, H) x (H, 4H) matmul per step, forward and
  backward, and a handful of in-place elementwise operations on
  preallocated arrays, each on contiguous memory (the gate-major layout below);
- with the logistic sigmoid, the forward loop's weights for o, i, f are stored
  negated, so the matmul yields -z and the sigmoid skips a negation pass;
- the backward pass multiplies by per-gate coefficients computed ahead of the
  loop, a cache-sized chunk of time steps at a time;
- dW, db and dU come out of ONE large matmul after the backward loop, because
  the forward pass keeps each step's sources ``[x_t, 1, h_{t-1}]`` side by side.

Internally arrays are time-major, (T, B, ...), so that each step reads
contiguous memory, and the gate blocks are kept in the order [o, i, f, g]
(see ``_O, _I, _F, _G``); the public API is batch-first, (B, T, ...), with
gate blocks [i, f, g, o]. The gate activations are stored gate-major, (T, 4, B, H):
each gate's (B, H) block of a step is one contiguous piece of memory, so the
elementwise work on it (a dozen numpy calls per step, forward and backward) runs
on numpy's contiguous fast path instead of row by row over strided views.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..core import activations
from ..core._checks import as_float_array, check_ndim, describe
from ..core.lstm import LSTMStepCache
from ..core.lstm_config import (
    GATES,
    LSTMConfig,
    checked_array,
    params_dict,
    resolve_config,
    validate_lstm_inputs,
)

# Inside the loops the four gate blocks are stored in the order [o, i, f, g], not
# the API order [i, f, g, o]: the three sigmoid gates (o, i, f) are then one
# contiguous block, squashed in one call, and the three blocks that receive
# dL/dc_t in the backward pass (i, f, g) are contiguous too. The parameters are
# reordered once per call; users only ever see the API order.
_LOOP_GATES = ("o", "i", "f", "g")
_O, _I, _F, _G = (_LOOP_GATES.index(name) for name in "oifg")
_API_TO_BLOCK = {name: _LOOP_GATES.index(name) for name in GATES}
_BLOCK_OF_API = [_API_TO_BLOCK[name] for name in GATES]  # API gate k is in loop block [k]
_API_OF_BLOCK = [GATES.index(name) for name in _LOOP_GATES]  # loop block k is API [k]
# The same two maps for FGR's three gate blocks: [i, f, o] (API) and [o, i, f] (loop).
_FGR_API, _FGR_LOOP = ("i", "f", "o"), _LOOP_GATES[:3]
_FGR_API_OF_BLOCK = [_FGR_API.index(name) for name in _FGR_LOOP]
_FGR_BLOCK_OF_API = [_FGR_LOOP.index(name) for name in _FGR_API]


def _reorder(a, order, axes=(-1,)):
    """Reorder the gate blocks of ``a`` along each of ``axes``: block k becomes block order[k]."""
    n = len(order)
    for axis in axes:
        axis %= a.ndim
        split = a.reshape(a.shape[:axis] + (n, a.shape[axis] // n) + a.shape[axis + 1 :])
        a = np.take(split, order, axis=axis).reshape(a.shape)
    return a


_SIGMOID_KERNEL = activations.get("sigmoid").kernel


def _sigmoid_of_negated(neg_z, out):
    """sigmoid(z) = 1 / (1 + exp(-z)), given ``neg_z`` = -z; ``out`` may be ``neg_z``.

    Three in-place passes instead of the four of :mod:`activations`' kernel. For
    z < -88 (float32) or -709 (float64) exp overflows to inf and 1 / (1 + inf) = 0,
    the correctly rounded answer; the loop silences that overflow flag.
    """
    np.exp(neg_z, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def _to_loop_order(a):
    """Columns [i, f, g, o] (API) -> [o, i, f, g] (the loops' order)."""
    return _reorder(a, _API_OF_BLOCK)


def _to_api_order(a):
    """Columns [o, i, f, g] (the loops' order) -> [i, f, g, o] (API)."""
    return _reorder(a, _BLOCK_OF_API)


@dataclass
class LSTMCache:
    """Everything the backward pass needs, kept time-major; read it through the properties.

    Attributes (time-major, for the backward pass)
    ----------------------------------------------
    xh : (T+1, B, D+1+H)
        Row t is ``[x_t, 1, h_{t-1}]``, the three sources of step t's gates side
        by side, so that one matmul gives dW, db and dU. Row T holds h_T (its
        x part is zero).
    xs : (T, B, D)
        The inputs, a view into ``xh``.
    hs_tm : (T+1, B, H)
        Hidden states h_0..h_T, a view into ``xh``.
    acts : (T, 4, B, H)
        Gate activations after the variant's fixes, gate-major, blocks in the
        loop order [o, i, f, g] (see :attr:`gates` for the API names).
    cs : (T+1, B, H)
        Cell states; ``cs[0]`` is c0.
    out_act : (T, B, H)
        sigma_h(c_t).
    params : dict
        The arrays used, in the computation dtype and the API layout; ``P``
        with peepholes and ``R`` with FGR.
    loop_params : dict
        The weights in the loops' layout: ``Wb`` (D+1, 4H) = [W; b] and
        ``U`` (H, 4H) with columns in the loop order, ``R`` (3H, 3H) in the
        order [o, i, f]. (The forward loop itself runs on copies whose sigmoid
        columns are negated; these are the true weights, for the backward pass.)
    config : LSTMConfig

    The public face, the same as the reference's :class:`lstm_teach.core.lstm.LSTMCache`:
    :attr:`c`, :attr:`h`, :attr:`gates` (each (B, T, H)), :attr:`x`, :meth:`step`
    (one step's named fields), :meth:`step_gates`, :attr:`c0`, :attr:`h0`,
    :attr:`cT`, :attr:`hT`, :attr:`shape`, :attr:`dtype`. The fields above are the
    kernel's own working arrays: no other module reads them.
    """

    xh: np.ndarray
    xs: np.ndarray
    hs_tm: np.ndarray
    acts: np.ndarray
    cs: np.ndarray
    out_act: np.ndarray
    params: dict
    loop_params: dict
    config: LSTMConfig

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(B, T, D, H)."""
        T, B, D = self.xs.shape
        return B, T, D, self.cs.shape[2]

    @property
    def c(self) -> np.ndarray:
        """Cell states c_1..c_T, (B, T, H)."""
        return self.cs[1:].transpose(1, 0, 2)

    @property
    def h(self) -> np.ndarray:
        """Hidden states h_1..h_T, (B, T, H)."""
        return self.hs_tm[1:].transpose(1, 0, 2)

    def step_gates(self, t: int) -> np.ndarray:
        """The activations of step ``t`` (0-based), (4, B, H) in the API order [i, f, g, o].

        A copy, so ``i, f, g, o = cache.step_gates(t)`` is safe to modify.
        """
        return self.acts[t][_BLOCK_OF_API]

    @property
    def gates(self) -> dict[str, np.ndarray]:
        """Gate activations by name: ``"i"``, ``"f"``, ``"g"`` (candidate), ``"o"``; each (B, T, H).

        A removed gate shows its constant value (1).
        """
        return {name: self.acts[:, k].transpose(1, 0, 2) for name, k in _API_TO_BLOCK.items()}

    @property
    def dtype(self) -> np.dtype:
        """The computation dtype (float32 or float64)."""
        return self.acts.dtype

    @property
    def x(self) -> np.ndarray:
        """The inputs, (B, T, D), in the computation dtype."""
        return self.xs.transpose(1, 0, 2)

    def step(self, t: int) -> LSTMStepCache:
        """Step ``t`` (0-based; negative counts from the end) as the reference's step cache.

        Views into this cache, not copies (do not modify them): ``x`` (B, D),
        ``h_prev``, ``c_prev``, ``i``, ``f``, ``g``, ``o``, ``c``, ``s`` =
        sigma_h(c), ``h`` (each (B, H)) and, with FGR, ``gates_prev`` (B, 3H).
        """
        T, _, H = self.out_act.shape
        t = range(T)[t]
        a = self.acts[t]
        gate = {name: a[k] for name, k in _API_TO_BLOCK.items()}
        gates_prev = None
        if self.config.full_gate_recurrence:  # the previous [i, f, o] (zeros before step 0)
            gates_prev = (np.zeros((a.shape[1], 3 * H), dtype=a.dtype) if t == 0 else
                          np.concatenate(self.acts[t - 1][_FGR_BLOCK_OF_API], axis=1))
        return LSTMStepCache(x=self.xs[t], h_prev=self.hs_tm[t], c_prev=self.cs[t],
                             c=self.cs[t + 1], s=self.out_act[t], h=self.hs_tm[t + 1],
                             gates_prev=gates_prev, params=self.params, config=self.config, **gate)

    @property
    def c0(self) -> np.ndarray:
        return self.cs[0]

    @property
    def h0(self) -> np.ndarray:
        return self.hs_tm[0]

    @property
    def cT(self) -> np.ndarray:
        return self.cs[-1]

    @property
    def hT(self) -> np.ndarray:
        return self.hs_tm[-1]


# --------------------------------------------------------------------------- forward


def _forward(x, params, h0, c0, config, names=("x", "h0", "c0")):
    config = resolve_config(config)
    x, W, U, b, P, R, h0, c0 = validate_lstm_inputs(x, params, h0, c0, config, names)
    B, T, D = x.shape
    H = U.shape[0]
    dtype = x.dtype
    sig_g = activations.get(config.recurrent_activation).kernel
    sig_c = activations.get(config.activation).kernel
    sig_h = activations.get(config.output_activation).kernel
    Wb = _to_loop_order(np.concatenate((W, b[None]), axis=0))  # (D+1, 4H): x_t W + b in one matmul
    U_loop = _to_loop_order(U)
    # FGR: rows (sources) and columns (targets) of R both to the loop order
    R_loop = None if R is None else _reorder(R, _FGR_API_OF_BLOCK, axes=(0, 1))
    # The forward loop's copies of the weights. With the logistic sigmoid, the columns of
    # the sigmoid gates (o, i, f) are negated, so the matmuls produce -z there and the
    # sigmoid 1 / (1 + exp(-z)) needs no separate negation pass over (B, 3H) every step
    # (about 15% of the forward's elementwise time). Negation is exact, so the
    # activations are bit for bit those of the unnegated formula. The cache keeps the
    # true weights for the backward pass.
    Wb_run, U_run, P_run, R_run = Wb, U_loop, P, R_loop
    if sig_g is _SIGMOID_KERNEL:
        sig_g = _sigmoid_of_negated
        Wb_run, U_run = Wb.copy(), U_loop.copy()
        Wb_run[:, : 3 * H] *= -1.0
        U_run[:, : 3 * H] *= -1.0
        P_run = None if P is None else -P  # the peephole terms add to -z too
        R_run = None if R is None else -R_loop  # FGR's targets are the three sigmoid gates

    # xh[t] = [x_t, 1, h_{t-1}]: x and the constant 1 are written now, h_t by step t.
    xh = np.empty((T + 1, B, D + 1 + H), dtype=dtype)
    xh[:T, :, :D] = x.transpose(1, 0, 2)
    xh[T, :, :D] = 0.0
    xh[:, :, D] = 1.0
    hs = xh[:, :, D + 1 :]  # (T+1, B, H), a view
    hs[0] = h0
    # The input projection of every step, hoisted out of the loop as one 2-D matmul
    # (a 3-D @ 2-D matmul would not reach BLAS as a single call).
    x_proj = (xh[:T].reshape(T * B, D + 1 + H)[:, : D + 1] @ Wb_run).reshape(T, B, 4, H)
    # z_t = x_proj[t] + h_{t-1} U lands gate-major in acts[t], (4, B, H): the add that
    # joins the two halves writes the transposed layout for free, and every later
    # operation on a gate block is on contiguous memory. Each step then overwrites z_t
    # with the activations, in place.
    acts = np.empty((T, 4, B, H), dtype=dtype)
    cs = np.empty((T + 1, B, H), dtype=dtype)
    out_act = np.empty((T, B, H), dtype=dtype)
    cs[0] = c0
    recurrent = np.empty((B, 4 * H), dtype=dtype)
    recurrent_blocks = recurrent.reshape(B, 4, H)
    ig = np.empty((B, H), dtype=dtype)

    # The variant, decided once: which blocks are squashed right after z_t (with
    # peepholes, o must wait for c_t) and which gates are held constant.
    squashed = slice(_O, _G) if P is None else slice(_I, _G)  # gate blocks
    hold_i, hold_o = not config.input_gate, not config.output_gate
    hold_f, cifg = not config.forget_gate, config.coupled_input_forget  # CIFG needs f on
    # Per-step views, made by iterating in C rather than by indexing in the loop.
    # z_t seen batch-major, (B, 4, H), as the add that joins x_proj and h U writes it.
    z_batch_major = acts.transpose(0, 2, 1, 3)
    steps = zip(acts, z_batch_major, acts[:, squashed], x_proj, hs[:-1], hs[1:], cs[:-1],
                cs[1:], out_act, strict=True)

    with np.errstate(over="ignore"):  # see activations: the sigmoid kernel may overflow exp to inf
        for t, (z, z_bm, gates, x_proj_t, h_prev, h_t, c_prev, c, sig_h_c) in enumerate(steps):
            np.dot(h_prev, U_run, out=recurrent)
            # z_t for all four blocks (-z_t for o, i, f: see U_run), (B, 4, H) -> (4, B, H)
            np.add(x_proj_t, recurrent_blocks, out=z_bm)
            o_t, i_t, f_t, g_t = z
            if R_run is not None and t > 0:  # FGR: the previous gate activations feed back
                gates_prev = np.concatenate(acts[t - 1, : _G], axis=1)  # (B, 3H), [o, i, f]
                z[: _G] += (gates_prev @ R_run).reshape(B, 3, H).transpose(1, 0, 2)
            if P is not None:
                i_t += c_prev * P_run[0]
                f_t += c_prev * P_run[1]
            sig_g(gates, gates)  # o, i, f in one call (i, f with peepholes)
            sig_c(g_t, g_t)
            if hold_i:
                i_t[...] = 1.0
            if cifg:
                np.subtract(1.0, i_t, out=f_t)
            elif hold_f:
                f_t[...] = 1.0
            np.multiply(f_t, c_prev, out=c)
            np.multiply(i_t, g_t, out=ig)
            c += ig
            if P is not None:
                o_t += c * P_run[2]  # the output gate peeks at the new cell state
                sig_g(o_t, o_t)
            if hold_o:
                o_t[...] = 1.0
            sig_h(c, sig_h_c)
            np.multiply(o_t, sig_h_c, out=h_t)

    kept = params_dict(W, U, b, P, R)
    loop_params = {"Wb": Wb, "U": U_loop}
    if R is not None:
        loop_params["R"] = R_loop
    return LSTMCache(xh=xh, xs=xh[:T, :, :D], hs_tm=hs, acts=acts, cs=cs, out_act=out_act,
                     params=kept, loop_params=loop_params, config=config)


def lstm_forward(x, params, h0=None, c0=None, config=None):
    """Run an LSTM over a batch of sequences.

    Parameters
    ----------
    x : np.ndarray, (B, T, D)
        Input sequences, batch-first.
    params : dict
        ``W`` (D, 4H), ``U`` (H, 4H), ``b`` (4H,), gate blocks [i, f, g, o];
        ``P`` (3, H) only when ``config.peepholes``.
    h0, c0 : np.ndarray, (B, H), optional
        Initial hidden and cell state; zeros by default.
    config : LSTMConfig, optional
        The variant; the standard LSTM by default.

    Returns
    -------
    hs : np.ndarray, (B, T, H)
        Hidden states h_1..h_T.
    cache : LSTMCache
        For :func:`lstm_backward`; also exposes ``cache.c`` and
        ``cache.gates["i"|"f"|"g"|"o"]``, each (B, T, H).

    The computation dtype follows the inputs: float32 everywhere stays float32.
    """
    cache = _forward(x, params, h0, c0, config)
    return np.ascontiguousarray(cache.hs_tm[1:].transpose(1, 0, 2)), cache


def lstm_step_forward(x_t, h_prev, c_prev, params, config=None):
    """One LSTM time step.

    Parameters
    ----------
    x_t : np.ndarray, (B, D)
    h_prev, c_prev : np.ndarray, (B, H)
        The previous hidden and cell state (None means zeros).
    params : dict
        As for :func:`lstm_forward`.
    config : LSTMConfig, optional

    Returns
    -------
    h, c : np.ndarray, (B, H)
        The new hidden and cell state.
    cache : KernelStepCache
        The reference's named step fields: ``cache.f``, ``cache.gates["f"]``, ... (B, H).
    """
    x_t = as_float_array("x_t", x_t)
    check_ndim("x_t", x_t, 2, "(B, D)")
    if config is not None and config.full_gate_recurrence:
        raise ValueError(
            "lstm_step_forward cannot run full_gate_recurrence=True: a single step has no "
            "previous gate activations; use lstm_forward on the whole sequence"
        )
    cache = _forward(x_t[:, None, :], params, h_prev, c_prev, config, ("x_t", "h_prev", "c_prev"))
    return cache.hs_tm[1].copy(), cache.cs[1].copy(), KernelStepCache.of(cache)


@dataclass
class KernelStepCache(LSTMStepCache):
    """The step cache of :func:`lstm_step_forward`: the reference's named fields (``x``,
    ``h_prev``, ``c_prev``, ``i``, ``f``, ``g``, ``o``, ``c``, ``s``, ``h``, each (B, H)),
    as views of the one-step kernel cache that :func:`lstm_step_backward` runs on."""

    kernel: LSTMCache | None = None

    @classmethod
    def of(cls, cache: LSTMCache) -> KernelStepCache:
        step = cache.step(0)
        return cls(**{f.name: getattr(step, f.name) for f in fields(step)}, kernel=cache)


# --------------------------------------------------------------------------- backward


# Elements of one (steps, B, H) block of backward coefficients: small enough that a chunk
# of coefficients stays in cache while the loop uses it, large enough that tiny models
# (B * H small) get a single chunk and pay no extra per-step overhead.
_COEF_CHUNK_ELEMENTS = 32768


def _local_coefficients(cache: LSTMCache, steps: slice):
    """What multiplies the incoming gradient to give dL/dz for each block, for ``steps``.

    Returns ``coef`` (n, 4, B, H), gate-major like the cache's ``acts``, blocks in
    the loop order [o, i, f, g], and ``o_dsig_h`` (n, B, H), n the number of
    steps in the slice, such that, at step t (row t - steps.start),

    - dL/dz_o = dL/dh_t * coef[t, 0]
    - dL/dz_i, dL/dz_f, dL/dz_g = dL/dc_t * coef[t, 1|2|3]
    - dL/dc_t receives dL/dh_t * o_dsig_h[t] through the output path.

    Every variant is decided here, vectorised over time, so the backward loop
    itself is the same for all of them: a removed gate is a constant, so its
    coefficient is zero and its columns get no gradient; CIFG (f = 1 - i)
    sends f's share to i with a minus sign.
    """
    config = cache.config
    a4 = cache.acts[steps]  # (n, 4, B, H)
    o, i, f, g = (a4[:, k] for k in range(4))
    c_prev = cache.cs[:-1][steps]
    out_act = cache.out_act[steps]
    dsig_g = activations.get(config.recurrent_activation).grad_from_output
    dsig_c = activations.get(config.activation).grad_from_output
    dsig_h = activations.get(config.output_activation).grad_from_output

    # One op on the whole contiguous (n, 4, B, H) chunk where possible; the gate-major
    # layout makes each block below n contiguous (B, H) pieces. The g block of the
    # first line is scratch; it is overwritten below.
    coef = dsig_g(a4, out=np.empty_like(a4))  # sigma_g' of o, i, f
    coef[:, _O] *= out_act  # h_t = o * sigma_h(c_t)
    if config.coupled_input_forget:  # c_t = (1 - i) c_{t-1} + i g
        coef[:, _I] *= g - c_prev
        coef[:, _F] = 0.0
    else:  # c_t = f c_{t-1} + i g
        coef[:, _I] *= g
        coef[:, _F] *= c_prev
    dsig_c(g, out=coef[:, _G])
    coef[:, _G] *= i
    for on, block in ((config.input_gate, _I), (config.forget_gate, _F),
                      (config.output_gate, _O)):
        if not on:
            coef[:, block] = 0.0
    o_dsig_h = dsig_h(out_act)
    o_dsig_h *= o
    return coef, o_dsig_h


def _gate_feedback_coefficients(cache: LSTMCache):
    """For FGR: ``gd`` (T, B, 3, H) with dL/dz_k = dL/da_k * gd[:, :, k], gates k = o, i, f.

    ``dL/da_k`` is the gradient reaching a gate *activation* through the
    gate-to-gate weights R. A removed gate is a constant (coefficient 0); with
    CIFG, f = 1 - i, so f's share is sent to i with a minus sign by the caller
    and f's own coefficient is 0.
    """
    config = cache.config
    T, _, B, H = cache.acts.shape
    acts = cache.acts
    dsig_g = activations.get(config.recurrent_activation).grad_from_output
    gd = np.zeros((T, B, 3, H), dtype=acts.dtype)
    if config.output_gate:
        gd[:, :, _O] = dsig_g(acts[:, _O])
    if config.input_gate:
        gd[:, :, _I] = dsig_g(acts[:, _I])
    if config.forget_gate and not config.coupled_input_forget:
        gd[:, :, _F] = dsig_g(acts[:, _F])
    return gd


def _backward(dhs_tm, cache: LSTMCache, dcT):
    """Backpropagation through time. ``dhs_tm`` is (T, B, H), ``dcT`` (B, H) or None."""
    B, T, D, H = cache.shape
    xh, cs = cache.xh, cache.cs
    Wb, R = cache.loop_params["Wb"], cache.loop_params.get("R")
    P = cache.params.get("P")
    dtype = cache.acts.dtype
    # dL/dh_{t-1} = dL/dz_t U^T: a contiguous copy of U^T makes this per-step matmul
    # faster than handing BLAS the transposed view.
    U_T = np.ascontiguousarray(cache.loop_params["U"].T)
    f = cache.acts[:, _F]  # (T, B, H)
    chunk = max(1, _COEF_CHUNK_ELEMENTS // (B * H))  # steps per block of coefficients

    dz = np.empty((T, B, 4 * H), dtype=dtype)
    dz4 = dz.reshape(T, B, 4, H)
    dh = np.empty((B, H), dtype=dtype)
    dh_next = np.zeros((B, H), dtype=dtype)
    through_h = np.empty((B, H), dtype=dtype)
    dc = np.zeros((B, H), dtype=dtype) if dcT is None else dcT.astype(dtype, copy=True)
    if R is not None:  # FGR: dL/d[o, i, f]_t arriving from step t+1 through R
        gd = _gate_feedback_coefficients(cache)
        da = np.zeros((B, 3, H), dtype=dtype)
        cifg = cache.config.coupled_input_forget
    # Per-step views, newest first, made by iterating in C rather than by indexing.
    # dz_t is batch-major, (B, 4, H), for the matmuls; d_o is its o block and d_ifg its
    # i, f, g blocks seen gate-major, (3, B, H), to match the coefficients.
    d_o_steps = dz4[::-1, :, _O]
    d_ifg_steps = dz4[::-1, :, _I:].transpose(0, 2, 1, 3)
    steps = zip(range(T - 1, -1, -1), dz[::-1], dz4[::-1], d_o_steps, d_ifg_steps,
                dhs_tm[::-1], f[::-1], strict=True)
    for t, dz_t, d, d_o, d_ifg, dh_above, f_t in steps:
        k = t % chunk
        if t == T - 1 or k == chunk - 1:  # entering a new block of steps (going backwards)
            coef, o_dsig_h = _local_coefficients(cache, slice(t - k, t + 1))
            coef_o, coef_ifg = coef[:, _O], coef[:, _I:]
        np.add(dh_above, dh_next, out=dh)  # from above, and from the future through h_t
        np.multiply(dh, coef_o[k], out=d_o)  # dL/dz_o
        if R is not None:
            d_o += da[:, _O] * gd[t, :, _O]
        np.multiply(dh, o_dsig_h[k], out=through_h)
        dc += through_h  # dL/dc_t: from the future (carousel) and through h_t
        if P is not None:
            dc += d_o * P[2]
        np.multiply(dc, coef_ifg[k], out=d_ifg)  # dL/dz_i, dL/dz_f, dL/dz_g
        if R is not None:
            d[:, _I : _F + 1] += da[:, _I : _F + 1] * gd[t, :, _I : _F + 1]
        dc *= f_t  # the carousel: dL/dc_{t-1} = f_t * dL/dc_t ...
        if P is not None:
            dc += d[:, _I] * P[0] + d[:, _F] * P[1]  # ... plus the peephole paths
        np.dot(dz_t, U_T, out=dh_next)
        if R is not None:
            da = (dz_t[:, : 3 * H] @ R.T).reshape(B, 3, H)
            if cifg:
                da[:, _I] -= da[:, _F]  # f = 1 - i

    # Weight gradients: ONE matmul over all T*B rows, after the loop. Row t of xh is
    # [x_t, 1, h_{t-1}], so the rows of the product are dW, db and dU.
    dz_flat = dz.reshape(T * B, 4 * H)
    K = D + 1 + H
    dWbU = _to_api_order(xh[:T].reshape(T * B, K).T @ dz_flat)  # (K, 4H)
    grads = {"W": dWbU[:D], "U": dWbU[D + 1 :], "b": dWbU[D]}
    if P is not None:
        grads["P"] = np.stack(
            [
                np.einsum("tbh,tbh->h", dz4[:, :, _I], cs[:-1]),
                np.einsum("tbh,tbh->h", dz4[:, :, _F], cs[:-1]),
                np.einsum("tbh,tbh->h", dz4[:, :, _O], cs[1:]),
            ]
        )
    if R is not None:
        # the previous [o, i, f] of every step, batch-major: ((T-1) B, 3H)
        gates_prev = cache.acts[:-1, : _G].transpose(0, 2, 1, 3).reshape((T - 1) * B, 3 * H)
        dR = gates_prev.T @ dz[1:, :, : 3 * H].reshape((T - 1) * B, 3 * H)
        grads["R"] = _reorder(dR, _FGR_BLOCK_OF_API, axes=(0, 1))
    dx = (dz_flat @ Wb[:D].T).reshape(T, B, D).transpose(1, 0, 2)
    return np.ascontiguousarray(dx), dh_next, dc, grads


def _check_cache(cache):
    if not isinstance(cache, LSTMCache):
        raise TypeError(
            "cache must be the LSTMCache returned by lstm_forward / lstm_step_forward; "
            f"got {describe(cache)}"
        )


def lstm_backward(dhs, cache, dcT=None):
    """Backpropagation through time for :func:`lstm_forward`.

    Parameters
    ----------
    dhs : np.ndarray, (B, T, H)
        dL/dh_t for every step (the gradient arriving from above).
    cache : LSTMCache
        From :func:`lstm_forward`.
    dcT : np.ndarray, (B, H), optional
        dL/dc_T, a gradient arriving at the final cell state (e.g. from the
        next chunk in truncated BPTT). Zeros by default.

    Returns
    -------
    dx : np.ndarray, (B, T, D)
    dh0, dc0 : np.ndarray, (B, H)
    grads : dict
        Same keys and shapes as the params: ``W`` (D, 4H), ``U`` (H, 4H),
        ``b`` (4H,) and ``P`` (3, H) with peepholes.
    """
    _check_cache(cache)
    B, T, D, H = cache.shape
    dtype = cache.acts.dtype
    dhs = checked_array("dhs", dhs, (B, T, H), dtype, "(B, T, H) matching the forward pass")
    dcT = checked_array("dcT", dcT, (B, H), dtype, "(B, H)")
    dhs_tm = np.ascontiguousarray(dhs.transpose(1, 0, 2), dtype=dtype)
    return _backward(dhs_tm, cache, dcT)


def lstm_step_backward(dh, dc, cache):
    """Backward pass of one :func:`lstm_step_forward` call.

    Parameters
    ----------
    dh, dc : np.ndarray, (B, H)
        dL/dh_t and dL/dc_t, the gradients arriving at the step's outputs
        (``dc`` may be None for zero).
    cache : LSTMCache
        The one-step cache from :func:`lstm_step_forward`.

    Returns
    -------
    dx_t : np.ndarray, (B, D)
    dh_prev, dc_prev : np.ndarray, (B, H)
    grads : dict
        Same keys and shapes as the params.
    """
    if isinstance(cache, KernelStepCache):
        cache = cache.kernel
    _check_cache(cache)
    B, T, D, H = cache.shape
    if T != 1:
        raise ValueError(
            f"cache must come from lstm_step_forward (one time step); got a cache with T={T}. "
            "Use lstm_backward for sequences."
        )
    dh = checked_array("dh", dh, (B, H), cache.dtype, "(B, H)")
    dc = checked_array("dc", dc, (B, H), cache.dtype, "(B, H)")
    dx, dh_prev, dc_prev, grads = _backward(dh[None], cache, dc)
    return dx[:, 0], dh_prev, dc_prev, grads
