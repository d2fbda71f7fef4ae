"""The gated recurrent unit (GRU), written to be read beside the lesson.

The GRU (Cho et al. 2014) keeps one state, h, and two gates. This module uses
the formulation of PyTorch's ``nn.GRU`` and of Keras' ``GRU(reset_after=True)``
(the Keras default since TensorFlow 2): the reset gate multiplies the
*recurrent term of the candidate after* its matrix product::

    r_t = sigma_g(x_t W_r + b_r + h_{t-1} U_r + b_rec_r)       # reset gate
    z_t = sigma_g(x_t W_z + b_z + h_{t-1} U_z + b_rec_z)       # update gate
    n_t = sigma_c(x_t W_n + b_n + r_t * (h_{t-1} U_n + b_rec_n))  # candidate
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}                      # new state

The GRU as published by Cho et al. applies r_t to h_{t-1} *before* the product
with U_n (Keras' ``reset_after=False``), a slightly different network that is
not modelled here. sigma_g is the sigmoid and sigma_c the tanh unless a :class:`GRUConfig` says
otherwise. Read z_t as "keep": z = 1 copies the old state forward unchanged
(the GRU's constant error carousel), z = 0 replaces it by the candidate. In
the LSTM's terms the GRU is a CIFG cell (f = 1 - i, here z and 1 - z) whose
output gate is always open and whose state is its output.

Parameter layout (a plain dict, like the LSTM's)
------------------------------------------------
Gate blocks are in the order **[r, z, n]**: reset, update, candidate, which is
PyTorch's order, so converting from ``nn.GRU`` is a transpose::

    W      (D, 3H)   input weights            = weight_ih_l0.T
    U      (H, 3H)   recurrent weights        = weight_hh_l0.T
    b      (3H,)     input bias               = bias_ih_l0
    b_rec  (3H,)     recurrent bias           = bias_hh_l0

Why two biases: ``b_rec_n`` sits *inside* the reset gate's product, so it is
not the same as adding it to ``b_n``; ``reset_after`` needs it. (For r and z
only ``b + b_rec`` matters, as for PyTorch's two LSTM biases.) Keras stores
the same numbers as ``kernel`` (D, 3H), ``recurrent_kernel`` (H, 3H) and
``bias`` (2, 3H) = [b; b_rec], with the blocks in the order [z, r, h]; so
Keras needs one block swap (``lstm_teach.interop`` does both conversions).

Functions (same shape as the LSTM's and the RNN's)::

    h, cache = gru_step_forward(x_t, h_prev, params, config=None)
    dx_t, dh_prev, grads = gru_step_backward(dh, cache)
    hs, cache = gru_forward(x, params, h0=None, config=None)      # loops over the step
    dx, dh0, grads = gru_backward(dhs, cache)                      # loops back over the step

Recurrent dropout (the layer option ``recurrent_dropout``) needs one optional
argument, ``recurrent_mask`` (B, H): it multiplies h_{t-1} where h_{t-1} meets
U, in the three recurrent products, and nowhere else; the mix
``z_t * h_{t-1}`` keeps the unmasked state, as in Keras' ``GRUCell``. (In the
LSTM, h_{t-1} appears only in its product with U, so a layer can mask the
state it passes in; in the GRU it appears twice, hence the argument.) The
default, None, is the plain GRU above.

Shapes are batch-first: x (B, T, D), hs (B, T, H). The sequence functions
validate once and then call the same step functions the learner reads; speed is
not the aim here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import activations
from ._checks import (
    as_float_array,
    check_finite,
    check_ndim,
    check_positive_int,
    check_sequence_and_state,
    check_shape,
    describe,
    require_keys,
)
from .init import glorot_uniform, orthogonal
from .utils import as_rng

#: Gate blocks of W, U, b and b_rec, in order: reset, update, candidate.
GRU_GATES = ("r", "z", "n")
PARAM_KEYS = ("W", "U", "b", "b_rec")


@dataclass(frozen=True)
class GRUConfig:
    """The GRU's two activations (the defaults are PyTorch's and Keras').

    Parameters
    ----------
    activation : str
        sigma_c, applied to the candidate n (Keras ``activation``).
    recurrent_activation : str
        sigma_g, applied to the reset and update gates (Keras
        ``recurrent_activation``). Names as in :mod:`lstm_teach.activations`,
        e.g. ``"hard_sigmoid_keras3"``.
    """

    activation: str = "tanh"
    recurrent_activation: str = "sigmoid"

    def __post_init__(self):
        for name in ("activation", "recurrent_activation"):
            try:
                activations.get(getattr(self, name))
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"GRUConfig.{name}: {exc}") from None


DEFAULT_CONFIG = GRUConfig()


def init_gru(input_size: int, hidden_size: int, rng=None, dtype=np.float64) -> dict:
    """GRU parameters with Keras' default initialisers.

    Returns
    -------
    dict
        ``W`` (D, 3H) Glorot-uniform, ``U`` (H, 3H) orthogonal, ``b`` and
        ``b_rec`` (3H,) zeros. Blocks [r, z, n].
    """
    D = check_positive_int("input_size", input_size)
    H = check_positive_int("hidden_size", hidden_size)
    rng = as_rng(rng)
    return {
        "W": glorot_uniform((D, 3 * H), rng, dtype=dtype),
        "U": orthogonal((H, 3 * H), rng, dtype=dtype),
        "b": np.zeros(3 * H, dtype=dtype),
        "b_rec": np.zeros(3 * H, dtype=dtype),
    }


def gru_param_count(input_size: int, hidden_size: int) -> int:
    """Number of trainable numbers: 3 (D H + H H + 2 H), as Keras and PyTorch count them."""
    D = check_positive_int("input_size", input_size)
    H = check_positive_int("hidden_size", hidden_size)
    return 3 * (D * H + H * H + 2 * H)


@dataclass
class GRUStepCache:
    """What one step keeps for its backward pass. Every array is (B, ...) for that step.

    x_t (B, D), h_prev (B, H); the gates r, z (B, H); the candidate n (B, H);
    hn (B, H) = h_prev U_n + b_rec_n, the recurrent part of the candidate
    before the reset gate scales it; params (dict, in the computation dtype);
    config; recurrent_mask (B, H) or None: when given, the products above
    used (h_prev * recurrent_mask) U, hn included.
    """

    x_t: np.ndarray
    h_prev: np.ndarray
    r: np.ndarray
    z: np.ndarray
    n: np.ndarray
    hn: np.ndarray
    params: dict
    config: GRUConfig
    recurrent_mask: np.ndarray | None = None


@dataclass
class GRUCache:
    """The step caches of :func:`gru_forward`, with batch-first views by name.

    steps : list of :class:`GRUStepCache`, one per time step.
    Views (each (B, T, H)): :attr:`h`, and :attr:`gates` ``{"r", "z", "n"}``;
    :attr:`h0` and :attr:`hT` are (B, H).
    """

    steps: list
    hs: np.ndarray  # (B, T, H)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(B, T, D, H)."""
        B, T, H = self.hs.shape
        return B, T, self.steps[0].x_t.shape[1], H

    @property
    def h(self) -> np.ndarray:
        return self.hs

    @property
    def h0(self) -> np.ndarray:
        return self.steps[0].h_prev

    @property
    def hT(self) -> np.ndarray:
        return self.hs[:, -1]

    @property
    def gates(self) -> dict[str, np.ndarray]:
        """``"r"`` (reset), ``"z"`` (update) and ``"n"`` (candidate), each (B, T, H)."""
        return {g: np.stack([getattr(s, g) for s in self.steps], axis=1) for g in GRU_GATES}


# --------------------------------------------------------------------------- validation


def _resolve_config(config) -> GRUConfig:
    if config is None:
        return DEFAULT_CONFIG
    if not isinstance(config, GRUConfig):
        raise TypeError(f"config must be a GRUConfig or None; got {describe(config)}")
    return config


def _validate(x, params, h0, names):
    """Check and convert. Returns (x (B, T, D), params, h0 (B, H)) in one float dtype."""
    xname, hname = names
    require_keys("params", params, PARAM_KEYS)
    p = {k: as_float_array(f"params[{k!r}]", params[k]) for k in PARAM_KEYS}
    check_ndim("params['U']", p["U"], 2, "(H, 3H)")
    H = p["U"].shape[0]
    check_shape("params['U']", p["U"], (H, 3 * H), "(H, 3H)")
    check_ndim("params['W']", p["W"], 2, "(D, 3H)")
    if p["W"].shape[1] != 3 * H:
        raise ValueError(
            f"params['W'] must have shape (D, 3H) with H={H} (from U); got {p['W'].shape}"
        )
    check_shape("params['b']", p["b"], (3 * H,), "(3H,)")
    check_shape("params['b_rec']", p["b_rec"], (3 * H,), "(3H,)")
    return check_sequence_and_state(xname, x, p, hname, h0, H)


# --------------------------------------------------------------------------- forward


def _check_mask(recurrent_mask, h_prev):
    """None, or the mask as an array of h_prev's shape (B, H) and dtype."""
    if recurrent_mask is None:
        return None
    recurrent_mask = as_float_array("recurrent_mask", recurrent_mask)
    check_shape("recurrent_mask", recurrent_mask, h_prev.shape, "(B, H) like the state")
    check_finite("recurrent_mask", recurrent_mask)
    return recurrent_mask.astype(h_prev.dtype, copy=False)


def _step_forward(x_t, h_prev, p, config, recurrent_mask=None):
    """The four equations of the module docstring, for validated arrays."""
    H = h_prev.shape[1]
    sigma_g = activations.get(config.recurrent_activation)
    sigma_c = activations.get(config.activation)
    # Recurrent dropout masks h_{t-1} only where it meets U; the mix below keeps h_prev.
    h_rec = h_prev if recurrent_mask is None else h_prev * recurrent_mask
    from_x = x_t @ p["W"] + p["b"]  # (B, 3H): blocks [r, z, n]
    from_h = h_rec @ p["U"] + p["b_rec"]  # (B, 3H)
    with np.errstate(over="ignore"):  # the sigmoid may overflow exp to inf (giving exactly 0)
        r = sigma_g(from_x[:, :H] + from_h[:, :H])
        z = sigma_g(from_x[:, H : 2 * H] + from_h[:, H : 2 * H])
    hn = from_h[:, 2 * H :]
    n = sigma_c(from_x[:, 2 * H :] + r * hn)  # reset_after: r scales h U_n + b_rec_n
    h = (1.0 - z) * n + z * h_prev
    return h, GRUStepCache(x_t, h_prev, r, z, n, hn, p, config, recurrent_mask)


def gru_step_forward(x_t, h_prev, params, config=None, recurrent_mask=None):
    """One GRU step (the equations in the module docstring).

    Parameters
    ----------
    x_t : np.ndarray, (B, D)
    h_prev : np.ndarray, (B, H), or None for zeros
    params : dict
        ``W`` (D, 3H), ``U`` (H, 3H), ``b`` (3H,), ``b_rec`` (3H,); blocks [r, z, n].
    config : GRUConfig, optional
    recurrent_mask : np.ndarray, (B, H), optional
        Recurrent dropout: multiplies h_prev in ``h_prev @ U`` only (not in
        the mix ``z * h_prev``). None (the default) for no mask.

    Returns
    -------
    h : np.ndarray, (B, H)
    cache : GRUStepCache
    """
    config = _resolve_config(config)
    x_t = as_float_array("x_t", x_t)
    check_ndim("x_t", x_t, 2, "(B, D)")
    x, p, h_prev = _validate(x_t[:, None, :], params, h_prev, ("x_t", "h_prev"))
    return _step_forward(x[:, 0], h_prev, p, config, _check_mask(recurrent_mask, h_prev))


def gru_forward(x, params, h0=None, config=None, recurrent_mask=None):
    """Run a GRU over a batch of sequences, one :func:`gru_step_forward` per time step.

    Parameters
    ----------
    x : np.ndarray, (B, T, D)
    params : dict
        ``W`` (D, 3H), ``U`` (H, 3H), ``b`` (3H,), ``b_rec`` (3H,); blocks [r, z, n].
    h0 : np.ndarray, (B, H), optional
        Zeros by default.
    config : GRUConfig, optional
    recurrent_mask : np.ndarray, (B, H), optional
        Recurrent dropout: one mask per sequence, the same at every time step
        (see :func:`gru_step_forward`). :func:`gru_backward` reads it from the cache.

    Returns
    -------
    hs : np.ndarray, (B, T, H)
        h_1 .. h_T.
    cache : GRUCache
    """
    config = _resolve_config(config)
    x, p, h = _validate(x, params, h0, ("x", "h0"))
    recurrent_mask = _check_mask(recurrent_mask, h)
    B, T, _ = x.shape
    hs = np.empty((B, T, h.shape[1]), dtype=x.dtype)
    steps = []
    for t in range(T):
        h, step = _step_forward(x[:, t], h, p, config, recurrent_mask)
        hs[:, t] = h
        steps.append(step)
    return hs, GRUCache(steps=steps, hs=hs)


# --------------------------------------------------------------------------- backward


def _step_backward(dh, c: GRUStepCache):
    """Backward through the four equations, last to first."""
    p = c.params
    sigma_g = activations.get(c.config.recurrent_activation)
    sigma_c = activations.get(c.config.activation)
    # h = (1 - z) n + z h_prev
    dn = dh * (1.0 - c.z)
    dz = dh * (c.h_prev - c.n)
    dh_prev = dh * c.z  # the direct path: z = 1 passes the gradient back unchanged
    # n = sigma_c(a_n), a_n = x W_n + b_n + r * hn
    da_n = dn * sigma_c.grad_from_output(c.n)
    dr = da_n * c.hn
    dhn = da_n * c.r
    # r = sigma_g(a_r), z = sigma_g(a_z)
    da_r = dr * sigma_g.grad_from_output(c.r)
    da_z = dz * sigma_g.grad_from_output(c.z)
    d_from_x = np.concatenate([da_r, da_z, da_n], axis=1)  # (B, 3H) = dL/d(x W + b)
    d_from_h = np.concatenate([da_r, da_z, dhn], axis=1)  # (B, 3H) = dL/d(h U + b_rec)
    mask = c.recurrent_mask
    h_rec = c.h_prev if mask is None else c.h_prev * mask  # what met U in the forward pass
    grads = {
        "W": c.x_t.T @ d_from_x,
        "U": h_rec.T @ d_from_h,
        "b": d_from_x.sum(axis=0),
        "b_rec": d_from_h.sum(axis=0),
    }
    dx_t = d_from_x @ p["W"].T
    dh_rec = d_from_h @ p["U"].T
    dh_prev = dh_prev + (dh_rec if mask is None else dh_rec * mask)  # h_rec = h_prev * mask
    return dx_t, dh_prev, grads


def _check_upstream(name, value, shape, layout, dtype):
    value = as_float_array(name, value)
    check_shape(name, value, shape, layout)
    check_finite(name, value)
    return value.astype(dtype, copy=False)


def gru_step_backward(dh, cache):
    """Backward pass of one :func:`gru_step_forward` call.

    Parameters
    ----------
    dh : np.ndarray, (B, H)
        dL/dh_t.
    cache : GRUStepCache

    Returns
    -------
    dx_t : np.ndarray, (B, D)
    dh_prev : np.ndarray, (B, H)
    grads : dict
        ``W`` (D, 3H), ``U`` (H, 3H), ``b`` (3H,), ``b_rec`` (3H,).
    """
    if not isinstance(cache, GRUStepCache):
        raise TypeError(
            "cache must be the GRUStepCache returned by gru_step_forward (for a whole "
            f"sequence use gru_backward); got {describe(cache)}"
        )
    dh = _check_upstream("dh", dh, cache.h_prev.shape, "(B, H)", cache.h_prev.dtype)
    return _step_backward(dh, cache)


def gru_backward(dhs, cache):
    """Backpropagation through time for :func:`gru_forward`, one step backward at a time.

    Parameters
    ----------
    dhs : np.ndarray, (B, T, H)
        dL/dh_t for every step (a loss on the last state only puts it in
        ``dhs[:, -1]``).
    cache : GRUCache

    Returns
    -------
    dx : np.ndarray, (B, T, D)
    dh0 : np.ndarray, (B, H)
    grads : dict
        ``W`` (D, 3H), ``U`` (H, 3H), ``b`` (3H,), ``b_rec`` (3H,), summed over time.
    """
    if not isinstance(cache, GRUCache):
        raise TypeError(
            f"cache must be the GRUCache returned by gru_forward; got {describe(cache)}"
        )
    B, T, D, H = cache.shape
    dhs = _check_upstream("dhs", dhs, (B, T, H), "(B, T, H) matching the forward pass",
                          cache.hs.dtype)
    dx = np.empty((B, T, D), dtype=cache.hs.dtype)
    grads = {k: np.zeros_like(v) for k, v in cache.steps[0].params.items()}
    dh_next = np.zeros((B, H), dtype=cache.hs.dtype)  # dL/dh_t through h_{t+1}
    for t in range(T - 1, -1, -1):
        dx[:, t], dh_next, step_grads = _step_backward(dhs[:, t] + dh_next, cache.steps[t])
        for k in grads:
            grads[k] += step_grads[k]
    return dx, dh_next, grads
