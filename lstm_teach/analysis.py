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

from . import activations
from ._checks import as_float_array, check_choice, check_ndim, check_positive_int
from .rnn import rnn_forward
from .utils import as_rng


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
