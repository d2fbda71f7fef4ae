"""The simple (Elman) RNN and backpropagation through time.

Equations::

    z_t = x_t W + h_{t-1} U + b        # (B, H)
    h_t = sigma(z_t)                    # tanh by default

It is the IIR filter y_t = w y_{t-1} + b x_t with a vector state and a
nonlinearity. Backpropagating through it multiplies, once per step, by the
Jacobian dh_t/dh_{t-1} = diag(sigma'(z_t)) U^T: the product of those factors is
what vanishes or explodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import activations
from ._checks import (
    as_float_array,
    check_finite,
    check_ndim,
    check_sequence_and_state,
    check_shape,
    describe,
    require_keys,
)


@dataclass
class RNNCache:
    """Time-major values kept for :func:`rnn_backward`.

    xs : (T, B, D) inputs; hs_tm : (T+1, B, H) hidden states with ``hs_tm[0]``
    = h0; params : dict; activation : the activation's name.
    :attr:`h` gives the batch-first (B, T, H) view.
    """

    xs: np.ndarray
    hs_tm: np.ndarray
    params: dict
    activation: str

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(B, T, D, H)."""
        T, B, D = self.xs.shape
        return B, T, D, self.hs_tm.shape[2]

    @property
    def h(self) -> np.ndarray:
        """Hidden states h_1..h_T, (B, T, H)."""
        return self.hs_tm[1:].transpose(1, 0, 2)

    @property
    def h0(self) -> np.ndarray:
        return self.hs_tm[0]

    @property
    def hT(self) -> np.ndarray:
        """The final hidden state h_T, (B, H)."""
        return self.hs_tm[-1]


def _validate(x, params, h0, names=("x", "h0")):
    xname, hname = names
    require_keys("params", params, ("W", "U", "b"))
    arrays = {k: as_float_array(f"params[{k!r}]", params[k]) for k in ("W", "U", "b")}
    U = arrays["U"]
    check_ndim("params['U']", U, 2, "(H, H)")
    H = U.shape[0]
    check_shape("params['U']", U, (H, H), "(H, H)")
    check_ndim("params['W']", arrays["W"], 2, "(D, H)")
    if arrays["W"].shape[1] != H:
        raise ValueError(
            f"params['W'] must have shape (D, H) with H={H} (from U); got {arrays['W'].shape}"
        )
    check_shape("params['b']", arrays["b"], (H,), "(H,)")
    return check_sequence_and_state(xname, x, arrays, hname, h0, H)


def _forward(x, params, h0, activation, names=("x", "h0")):
    act = activations.get(activation)
    x, p, h0 = _validate(x, params, h0, names)
    B, T, D = x.shape
    H = p["U"].shape[0]
    xs = np.ascontiguousarray(x.transpose(1, 0, 2))
    z = (xs.reshape(T * B, D) @ p["W"]).reshape(T, B, H)  # input projection, hoisted
    z += p["b"]
    hs = np.empty((T + 1, B, H), dtype=x.dtype)
    hs[0] = h0
    with np.errstate(over="ignore"):  # the sigmoid kernel may overflow exp to inf (exact 0)
        for t in range(T):
            z[t] += hs[t] @ p["U"]
            act.kernel(z[t], hs[t + 1])
    return RNNCache(xs=xs, hs_tm=hs, params=p, activation=act.name)


def rnn_forward(x, params, h0=None, activation="tanh"):
    """Run an Elman RNN over a batch of sequences.

    Parameters
    ----------
    x : np.ndarray, (B, T, D)
    params : dict
        ``W`` (D, H), ``U`` (H, H), ``b`` (H,).
    h0 : np.ndarray, (B, H), optional
        Zeros by default.
    activation : str
        Name of the activation (see :mod:`lstm_teach.activations`).

    Returns
    -------
    hs : np.ndarray, (B, T, H)
    cache : RNNCache
    """
    cache = _forward(x, params, h0, activation)
    return np.ascontiguousarray(cache.h), cache


def rnn_step_forward(x_t, h_prev, params, activation="tanh"):
    """One RNN step: h = sigma(x_t W + h_prev U + b).

    Parameters
    ----------
    x_t : np.ndarray, (B, D)
    h_prev : np.ndarray, (B, H) (None means zeros)
    params : dict
        ``W`` (D, H), ``U`` (H, H), ``b`` (H,).

    Returns
    -------
    h : np.ndarray, (B, H)
    cache : RNNCache (one step)
    """
    x_t = as_float_array("x_t", x_t)
    check_ndim("x_t", x_t, 2, "(B, D)")
    cache = _forward(x_t[:, None, :], params, h_prev, activation, ("x_t", "h_prev"))
    return cache.hs_tm[1].copy(), cache


def _backward(dhs_tm, cache: RNNCache):
    xs, hs, p = cache.xs, cache.hs_tm, cache.params
    T, B, D = xs.shape
    H = hs.shape[2]
    deriv = activations.get(cache.activation).grad_from_output(hs[1:])  # (T, B, H), vectorised
    dz = np.empty((T, B, H), dtype=hs.dtype)
    dh_next = np.zeros((B, H), dtype=hs.dtype)
    for t in range(T - 1, -1, -1):
        np.multiply(dhs_tm[t] + dh_next, deriv[t], out=dz[t])
        dh_next = dz[t] @ p["U"].T  # one factor of the Jacobian product diag(sigma') U^T
    dz_flat = dz.reshape(T * B, H)
    grads = {
        "W": xs.reshape(T * B, D).T @ dz_flat,
        "U": hs[:-1].reshape(T * B, H).T @ dz_flat,
        "b": dz_flat.sum(axis=0),
    }
    dx = (dz_flat @ p["W"].T).reshape(T, B, D).transpose(1, 0, 2)
    return np.ascontiguousarray(dx), dh_next, grads


def _check_cache(cache):
    if not isinstance(cache, RNNCache):
        raise TypeError(
            "cache must be the RNNCache returned by rnn_forward / rnn_step_forward; "
            f"got {describe(cache)}"
        )


def rnn_backward(dhs, cache):
    """Backpropagation through time for :func:`rnn_forward`.

    Parameters
    ----------
    dhs : np.ndarray, (B, T, H)
        dL/dh_t for every step.
    cache : RNNCache

    Returns
    -------
    dx : np.ndarray, (B, T, D)
    dh0 : np.ndarray, (B, H)
    grads : dict
        ``W`` (D, H), ``U`` (H, H), ``b`` (H,).
    """
    _check_cache(cache)
    B, T, D, H = cache.shape
    dhs = as_float_array("dhs", dhs)
    check_shape("dhs", dhs, (B, T, H), "(B, T, H) matching the forward pass")
    check_finite("dhs", dhs)
    return _backward(np.ascontiguousarray(dhs.transpose(1, 0, 2), dtype=cache.hs_tm.dtype), cache)


def rnn_step_backward(dh, cache):
    """Backward pass of one :func:`rnn_step_forward` call.

    Parameters
    ----------
    dh : np.ndarray, (B, H)
        dL/dh_t.
    cache : RNNCache (one step)

    Returns
    -------
    dx_t : np.ndarray, (B, D)
    dh_prev : np.ndarray, (B, H)
    grads : dict
    """
    _check_cache(cache)
    B, T, D, H = cache.shape
    if T != 1:
        raise ValueError(f"cache must come from rnn_step_forward (one time step); got T={T}")
    dh = as_float_array("dh", dh)
    check_shape("dh", dh, (B, H), "(B, H)")
    check_finite("dh", dh)
    dx, dh_prev, grads = _backward(dh[None].astype(cache.hs_tm.dtype), cache)
    return dx[:, 0], dh_prev, grads
