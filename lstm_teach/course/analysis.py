"""Analysis tools: how a recurrent network carries (or loses) information back in time.

Backpropagation through time multiplies one Jacobian per step. For the Elman
RNN ``h_t = sigma(x_t W + h_{t-1} U + b)`` (row-vector convention, as in
:mod:`lstm_teach.rnn`) the step Jacobian is::

    J_t = dh_t / dh_{t-1} = diag(sigma'(z_t)) U^T        # (H, H)

and the gradient that reaches ``k`` steps back is the product
``dh_T / dh_{T-k} = J_T J_{T-1} ... J_{T-k+1}``. Its norm against the lag
``k`` is the picture behind "vanishing" and "exploding" gradients
(Bengio et al. 1994; Pascanu et al. 2013).
"""

from __future__ import annotations

import numpy as np

from ..core import activations
from ..core._checks import as_float_array, check_choice, check_ndim, check_positive_int
from ..core.rnn import rnn_forward
from ..core.utils import as_rng


def rnn_step_jacobians(params, x, h0=None, activation="tanh") -> np.ndarray:
    """The step Jacobians ``J_t = dh_t / dh_{t-1}`` of an Elman RNN along a sequence.

    Parameters
    ----------
    params : dict
        ``W`` (D, H), ``U`` (H, H), ``b`` (H,).
    x : array (B, T, D)
    h0 : array (B, H), optional
    activation : str

    Returns
    -------
    J : array (B, T, H, H)
        ``J[:, t-1]`` is ``dh_t / dh_{t-1}`` with ``J[..., i, j] = d h_t[i] / d h_{t-1}[j]``.
    """
    hs, _ = rnn_forward(x, params, h0=h0, activation=activation)
    slope = activations.get(activation).grad_from_output(hs)  # sigma'(z_t), (B, T, H)
    U = as_float_array("params['U']", params["U"])
    return slope[..., :, None] * U.T  # diag(sigma') @ U^T, row i scaled by sigma'_i


def jacobian_product_norms(jacobians, ord=2) -> np.ndarray:
    """Norms of the products ``J_T ... J_{T-k+1}`` for every lag ``k = 0..T``.

    Parameters
    ----------
    jacobians : array (B, T, H, H)
        Step Jacobians in time order (e.g. from :func:`rnn_step_jacobians`).
    ord : 2 or "fro"
        Spectral norm (largest singular value) or Frobenius norm.

    Returns
    -------
    norms : array (B, T + 1)
        ``norms[:, k] = ||dh_T / dh_{T-k}||``; lag 0 is the identity.
    """
    J = as_float_array("jacobians", jacobians)
    check_ndim("jacobians", J, 4, "(B, T, H, H)")
    check_choice("ord", ord, (2, "fro"))
    B, T, H, _ = J.shape
    product = np.broadcast_to(np.eye(H, dtype=J.dtype), (B, H, H)).copy()
    norms = np.empty((B, T + 1), dtype=J.dtype)
    norms[:, 0] = np.linalg.norm(product, ord=ord, axis=(-2, -1))
    with np.errstate(over="ignore", invalid="ignore"):  # exploding products may overflow
        for k in range(1, T + 1):
            product = product @ J[:, T - k]
            norms[:, k] = np.linalg.norm(product, ord=ord, axis=(-2, -1))
    return norms


def rnn_jacobian_norms(params, x, h0=None, activation="tanh", ord=2) -> np.ndarray:
    """``||dh_T / dh_{T-k}||`` against the lag ``k`` for an Elman RNN run on ``x``.

    Parameters
    ----------
    params : dict
        ``W`` (D, H), ``U`` (H, H), ``b`` (H,).
    x : array (B, T, D)
    h0 : array (B, H), optional
    activation : str
    ord : 2 or "fro"

    Returns
    -------
    norms : array (B, T + 1), indexed by lag ``k = 0..T``
    """
    return jacobian_product_norms(rnn_step_jacobians(params, x, h0, activation), ord=ord)


def matrix_with_spectral_radius(n: int, rho: float, kind="orthogonal", rng=None) -> np.ndarray:
    """A random ``(n, n)`` matrix whose eigenvalues have largest modulus ``rho``.

    Parameters
    ----------
    kind : "orthogonal" or "normal"
        ``"orthogonal"``: ``rho`` times a random orthogonal matrix. Every
        eigenvalue has modulus ``rho`` and every singular value is ``rho``, so
        in the linear regime ``||U^k|| = rho**k`` exactly.
        ``"normal"``: Gaussian entries rescaled so the largest eigenvalue
        modulus is ``rho``; its norm can exceed ``rho``, so short lags may
        grow before the ``rho**k`` trend sets in.
    """
    n = check_positive_int("n", n)
    rho = float(rho)
    if not np.isfinite(rho) or rho < 0:
        raise ValueError(f"rho must be a finite spectral radius >= 0; got {rho}")
    check_choice("kind", kind, ("orthogonal", "normal"))
    rng = as_rng(rng)
    A = rng.standard_normal((n, n))
    if kind == "orthogonal":
        Q, R = np.linalg.qr(A)
        return rho * Q * np.sign(np.diag(R))  # sign fix: Haar-distributed Q
    return rho * A / np.max(np.abs(np.linalg.eigvals(A)))


# --------------------------------------------------------------------------------------
# error flow: the gradient that an error injected at the last step sends back in time
# (lessons 04 and 05). The RNN carries it in h_t, the LSTM in its cell state c_t.
# --------------------------------------------------------------------------------------


def _error_vector(error, B: int, H: int, dtype) -> np.ndarray:
    """``error`` as a (B, H) array; None gives the unit vector (1, ..., 1) / sqrt(H)."""
    if error is None:
        return np.full((B, H), 1.0 / np.sqrt(H), dtype=dtype)
    e = as_float_array("error", error).astype(dtype, copy=False)
    if e.shape == (H,):
        e = np.broadcast_to(e, (B, H))
    if e.shape != (B, H):
        raise ValueError(
            f"error must have shape (H,) = ({H},) or (B, H) = ({B}, {H}); got {e.shape}"
        )
    return e


def rnn_error_flow(params, x, error=None, h0=None, activation="tanh") -> np.ndarray:
    """``dL/dh_t`` for every step, when the loss is ``L = error . h_T`` (an error injected at T).

    The gradient travels back one step at a time, ``dL/dh_{t-1} = dL/dh_t J_t`` with
    the step Jacobian ``J_t = diag(sigma'(z_t)) U^T`` of :func:`rnn_step_jacobians`;
    this is exactly what :func:`lstm_teach.rnn_backward` computes when the only
    gradient from above arrives at h_T.

    Parameters
    ----------
    params : dict
        ``W`` (D, H), ``U`` (H, H), ``b`` (H,).
    x : array (B, T, D)
    error : array (H,) or (B, H), optional
        The injected error dL/dh_T; default the unit vector (1, ..., 1) / sqrt(H).
    h0 : array (B, H), optional
    activation : str

    Returns
    -------
    grads : array (B, T, H)
        ``grads[:, t]`` is dL/dh_{t+1}, aligned with the hidden states ``hs[:, t]``
        of :func:`lstm_teach.rnn_forward`; the lag of index ``t`` is ``T - 1 - t``.
    """
    J = rnn_step_jacobians(params, x, h0=h0, activation=activation)  # (B, T, H, H)
    B, T, H, _ = J.shape
    grads = np.empty((B, T, H), dtype=J.dtype)
    g = _error_vector(error, B, H, J.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(T - 1, -1, -1):
            grads[:, t] = g
            g = np.einsum("bi,bij->bj", g, J[:, t])  # dL/dh_t -> dL/dh_{t-1}
    return grads


def lstm_error_flow(params, x, error=None, h0=None, c0=None, config=None) -> np.ndarray:
    """``dL/dc_t`` for every step, when the loss is ``L = error . c_T`` (an error injected at T).

    ``dL/dc_t`` is the *total* derivative that backpropagation through time keeps
    for the cell state: the carousel path (times ``f``) and every path through
    the gates. It is measured with the package's own backward pass: for each
    ``t`` the network is restarted from its state ``(h_t, c_t)`` and run to the
    end, :func:`lstm_teach.lstm_backward` with ``dcT = error`` gives ``dL/dc_t``
    with ``h_t`` held fixed, and the path through ``h_t = o_t sigma_h(c_t)`` is
    added. The cost grows with ``T**2``; it is meant for lessons (T of a few hundred).

    Parameters
    ----------
    params : dict
        ``W`` (D, 4H), ``U`` (H, 4H), ``b`` (4H,) (and ``P`` (3, H) with peepholes).
    x : array (B, T, D)
    error : array (H,) or (B, H), optional
        The injected error dL/dc_T; default the unit vector (1, ..., 1) / sqrt(H).
    h0, c0 : array (B, H), optional
    config : LSTMConfig, optional

    Returns
    -------
    grads : array (B, T, H)
        ``grads[:, t]`` is dL/dc_{t+1}, aligned with ``cache.c[:, t]``; the lag of
        index ``t`` is ``T - 1 - t``, and ``grads[:, -1]`` is the error itself.
    """
    from ..kernels import lstm as lstm_module

    _, cache = lstm_module.lstm_forward(x, params, h0=h0, c0=c0, config=config)
    config = cache.config
    B, T, D, H = cache.shape
    dtype = cache.dtype
    e = _error_vector(error, B, H, dtype)
    xb = np.ascontiguousarray(cache.x)  # (B, T, D) in the computation dtype
    o = cache.gates["o"]  # (B, T, H)
    sig_h = activations.get(config.output_activation)
    sig_g = activations.get(config.recurrent_activation)
    grads = np.empty((B, T, H), dtype=dtype)
    grads[:, -1] = e
    zeros = np.zeros((B, 1, H), dtype=dtype)
    for t in range(T - 1):  # grads[:, t] is dL/dc_{t+1}; restart after step t+1
        step = cache.step(t)  # step t+1 in the 1-based count of the docstring
        h_t, c_t = step.h, step.c
        _, sub = lstm_module.lstm_forward(xb[:, t + 1 :], params, h0=h_t, c0=c_t, config=config)
        dhs = np.broadcast_to(zeros, (B, T - 1 - t, H))
        _, dh, dc, _ = lstm_module.lstm_backward(dhs, sub, dcT=e)
        # the path through h_t = o_t sigma_h(c_t)
        dh_dc = o[:, t] * sig_h.grad(c_t)
        if config.peepholes and config.output_gate:
            dh_dc = dh_dc + sig_h.fn(c_t) * sig_g.grad_from_output(o[:, t]) * cache.params["P"][2]
        grads[:, t] = dc + dh * dh_dc
    return grads


def lstm_cell_jacobian(params, x, h0=None, c0=None, config=None) -> np.ndarray:
    """``dc_T / dc_0`` with ``h_0`` held fixed, row by row from the backward pass.

    Row ``k`` is ``dL/dc_0`` for ``L = c_T[k]``: :func:`lstm_teach.lstm_backward`
    with no gradient from above (``dhs = 0``) and ``dcT = e_k``. For one step and
    no peepholes the Jacobian is ``diag(f_1)``: the carousel, scaled by the
    forget gate. Over more steps the paths through the gates (via h) join in.

    Parameters
    ----------
    params : dict
    x : array (B, T, D)
    h0, c0 : array (B, H), optional
    config : LSTMConfig, optional

    Returns
    -------
    J : array (B, H, H)
        ``J[b, k, j] = d c_T[k] / d c_0[j]`` for sequence ``b``.
    """
    from ..kernels import lstm as lstm_module

    x = as_float_array("x", x)
    check_ndim("x", x, 3, "(B, T, D)")
    B, T, D = x.shape
    H = np.asarray(params["U"]).shape[0]
    # The batch axis carries the H basis vectors: sequence b is repeated H times.
    xr = np.repeat(x, H, axis=0)
    h0r = None if h0 is None else np.repeat(as_float_array("h0", h0), H, axis=0)
    c0r = None if c0 is None else np.repeat(as_float_array("c0", c0), H, axis=0)
    hs, cache = lstm_module.lstm_forward(xr, params, h0=h0r, c0=c0r, config=config)
    dcT = np.tile(np.eye(H, dtype=hs.dtype), (B, 1))
    _, _, dc0, _ = lstm_module.lstm_backward(np.zeros_like(hs), cache, dcT=dcT)
    return dc0.reshape(B, H, H)


def flow_norms(grads) -> np.ndarray:
    """Norm of the error at each lag, averaged (geometrically) over the batch.

    Parameters
    ----------
    grads : array (B, T, H)
        From :func:`rnn_error_flow` or :func:`lstm_error_flow`.

    Returns
    -------
    norms : array (T,)
        ``norms[k]`` is the geometric mean over sequences of ``||dL/d state||`` at
        lag ``k = 0 .. T-1`` (lag 0 is the last step). The geometric mean suits
        numbers that spread over many orders of magnitude.
    """
    g = as_float_array("grads", grads)
    check_ndim("grads", g, 3, "(B, T, H)")
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        per_sequence = np.linalg.norm(g, axis=-1)[:, ::-1]  # (B, T) indexed by lag
        return np.exp(np.mean(np.log(per_sequence), axis=0))


def spectral_radius_sweep(
    rhos, hidden_size: int = 32, T: int = 60, input_scale: float = 0.1, batch: int = 4, rng=None
) -> dict:
    """Error flow of tanh RNNs whose recurrent matrix has each spectral radius in ``rhos``.

    Each RNN has ``U = rho * Q`` with ``Q`` a random orthogonal matrix, Gaussian
    input weights of standard deviation ``input_scale`` and standard normal
    inputs. Small inputs keep the units near the linear regime, where the error
    shrinks or grows like ``rho**k`` (Pascanu et al. 2013: rho < 1 is sufficient
    for vanishing, rho > 1 necessary for exploding).

    Returns
    -------
    dict with ``lags`` (T,), ``rhos`` (R,) and ``norms`` (R, T): the geometric-mean
    norm of dL/dh at each lag (see :func:`flow_norms`).
    """
    rng = as_rng(rng)
    H = check_positive_int("hidden_size", hidden_size)
    T = check_positive_int("T", T)
    rhos = np.atleast_1d(as_float_array("rhos", rhos))
    D = 4
    norms = np.empty((len(rhos), T))
    for r, rho in enumerate(rhos):
        params = {
            "W": input_scale * rng.standard_normal((D, H)),
            "U": matrix_with_spectral_radius(H, rho, rng=rng),
            "b": np.zeros(H),
        }
        x = rng.standard_normal((batch, T, D))
        norms[r] = flow_norms(rnn_error_flow(params, x))
    return {"lags": np.arange(T), "rhos": rhos, "norms": norms}
