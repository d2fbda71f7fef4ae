"""The convolutional LSTM (Shi et al. 2015): forward and backward in numpy, and a moving-dot task.

Replace every matrix product of the LSTM by a 2-D convolution and every vector
by a stack of feature maps, and you get a cell whose state is an *image*: each
pixel has its own cell, and neighbouring cells talk through the convolution
kernels. Shi et al. (2015) used it for precipitation nowcasting::

    Z_t = W_x * X_t + W_h * H_{t-1} + b                (B, Y, X, 4F): blocks [i, f, g, o]
    i_t = sigmoid(Z_i + P_i o C_{t-1})                 o: elementwise (Hadamard) product
    f_t = sigmoid(Z_f + P_f o C_{t-1})
    g_t = tanh(Z_g)
    C_t = f_t o C_{t-1} + i_t o g_t
    o_t = sigmoid(Z_o + P_o o C_t)
    H_t = o_t o tanh(C_t)

Shapes are batch-first and channels-last (as in Keras' ``ConvLSTM2D``):

- ``x`` (B, T, Y, X, C): T frames of Y x X pixels with C channels;
- ``Wx`` (k, k, C, 4F), ``Wh`` (k, k, F, 4F), ``b`` (4F,): kernels with an odd
  size k and 'same' padding, so every map keeps its Y x X size;
- ``P`` (3, Y, X, F), optional peepholes (one weight per pixel and feature,
  as in the paper), rows i, f, o;
- ``hs`` (B, T, Y, X, F) hidden maps, ``c`` likewise.

Convolutions are done by *im2col*: every k x k patch of the (zero-padded)
input is copied into one row of a matrix, with
``numpy.lib.stride_tricks.sliding_window_view``, so the convolution becomes one
matrix product; its backward pass is the transposed product plus *col2im*, which
adds every row back onto its patch.

A check worth knowing (the tests do it): a ConvLSTM *is* an ordinary LSTM with
H = Y X F cells whose weight matrices are the (very sparse, translation
invariant) matrices of the convolutions; :func:`as_dense_lstm` builds them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..concise.training import readout_forward, train_with_readout
from ..core._checks import (
    as_float_array,
    check_finite,
    check_ndim,
    check_positive_int,
    check_shape,
    describe,
    require_keys,
)
from ..core.activations import sigmoid
from ..core.init import glorot_uniform
from ..core.utils import as_rng
from ..course.tasks import moving_dot_batch

__all__ = [
    "ConvLSTMCache",
    "as_dense_lstm",
    "conv2d_same",
    "conv2d_same_backward",
    "convlstm_backward",
    "convlstm_forward",
    "init_convlstm",
    "moving_dot_batch",
    "train_moving_dot",
]


# --------------------------------------------------------------------------- convolution


def _im2col(inp: np.ndarray, k: int) -> np.ndarray:
    """(N, Y, X, C) -> (N * Y * X, k * k * C): the zero-padded k x k patch of every pixel."""
    p = k // 2
    padded = np.pad(inp, ((0, 0), (p, p), (p, p), (0, 0)))
    windows = sliding_window_view(padded, (k, k), axis=(1, 2))  # (N, Y, X, C, k, k), a view
    N, Y, X, C = inp.shape
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(N * Y * X, k * k * C)  # one copy


def conv2d_same(inp, kernel):
    """2-D convolution with 'same' zero padding and stride 1 (cross-correlation, as in DL toolkits).

    Parameters
    ----------
    inp : np.ndarray, (N, Y, X, C)
    kernel : np.ndarray, (k, k, C, O), k odd

    Returns
    -------
    out : np.ndarray, (N, Y, X, O)
        ``out[n, y, x, o] = sum_{a, b, c} pad(inp)[n, y + a, x + b, c] kernel[a, b, c, o]``.
    cols : np.ndarray, (N Y X, k k C)
        The im2col matrix, for :func:`conv2d_same_backward`.
    """
    k = kernel.shape[0]
    N, Y, X, _ = inp.shape
    cols = _im2col(inp, k)
    out = cols @ kernel.reshape(-1, kernel.shape[-1])
    return out.reshape(N, Y, X, kernel.shape[-1]), cols


def conv2d_same_backward(dout, cols, kernel, input_shape, need_input_grad=True):
    """Gradients of :func:`conv2d_same`.

    Parameters
    ----------
    dout : np.ndarray, (N, Y, X, O)
    cols : np.ndarray, (N Y X, k k C)
        From the forward pass.
    kernel : np.ndarray, (k, k, C, O)
    input_shape : tuple (N, Y, X, C)
    need_input_grad : bool

    Returns
    -------
    dinp : np.ndarray, (N, Y, X, C) or None
    dkernel : np.ndarray, (k, k, C, O)
    """
    k, _, C, O = kernel.shape
    d2 = dout.reshape(-1, O)
    dkernel = (cols.T @ d2).reshape(kernel.shape)
    if not need_input_grad:
        return None, dkernel
    N, Y, X, _ = input_shape
    dcols = (d2 @ kernel.reshape(-1, O).T).reshape(N, Y, X, k, k, C)
    p = k // 2
    dpad = np.zeros((N, Y + 2 * p, X + 2 * p, C), dtype=dout.dtype)
    for a in range(k):  # col2im: each patch entry goes back where it came from
        for b in range(k):
            dpad[:, a : a + Y, b : b + X, :] += dcols[:, :, :, a, b, :]
    return dpad[:, p : p + Y, p : p + X, :], dkernel


# --------------------------------------------------------------------------- parameters


def init_convlstm(in_channels: int, features: int, kernel_size: int = 3, grid=None,
                  peepholes: bool = False, rng=None, unit_forget_bias: bool = True,
                  dtype=np.float64) -> dict:
    """Parameters of a ConvLSTM cell.

    Parameters
    ----------
    in_channels : int
        C, channels of the input frames.
    features : int
        F, feature maps of the state.
    kernel_size : int
        k, odd.
    grid : (Y, X), optional
        Needed only with peepholes, whose weights are per pixel.
    peepholes : bool
    rng : np.random.Generator or int, optional
    unit_forget_bias : bool

    Returns
    -------
    dict
        ``Wx`` (k, k, C, 4F) and ``Wh`` (k, k, F, 4F), Glorot-uniform with fan-in
        k k C (resp. k k F); ``b`` (4F,) zeros (forget block ones); ``P``
        (3, Y, X, F) zeros with peepholes.
    """
    C = check_positive_int("in_channels", in_channels)
    F = check_positive_int("features", features)
    k = check_positive_int("kernel_size", kernel_size)
    if k % 2 == 0:
        raise ValueError(f"kernel_size must be odd for 'same' padding; got {k}")
    rng = as_rng(rng)
    params = {
        "Wx": glorot_uniform((k * k * C, 4 * F), rng, dtype=dtype).reshape(k, k, C, 4 * F),
        "Wh": glorot_uniform((k * k * F, 4 * F), rng, dtype=dtype).reshape(k, k, F, 4 * F),
        "b": np.zeros(4 * F, dtype=dtype),
    }
    if unit_forget_bias:
        params["b"][F : 2 * F] = 1.0
    if peepholes:
        if grid is None:
            raise ValueError("peepholes=True needs grid=(Y, X): the peephole weights are per pixel")
        Y, X = (check_positive_int("grid[0]", grid[0]), check_positive_int("grid[1]", grid[1]))
        params["P"] = np.zeros((3, Y, X, F), dtype=dtype)
    return params


def _validate(x, params, h0, c0):
    require_keys("params", params, ("Wx", "Wh", "b"))
    x = as_float_array("x", x)
    check_ndim("x", x, 5, "(B, T, Y, X, C)")
    B, T, Y, X, C = x.shape
    Wh = as_float_array("params['Wh']", params["Wh"])
    check_ndim("params['Wh']", Wh, 4, "(k, k, F, 4F)")
    k, _, F, F4 = Wh.shape
    if k % 2 == 0 or Wh.shape[1] != k or F4 != 4 * F:
        raise ValueError(f"params['Wh'] must have shape (k, k, F, 4F) with k odd; got {Wh.shape}")
    Wx = as_float_array("params['Wx']", params["Wx"])
    check_shape("params['Wx']", Wx, (k, k, C, 4 * F), "(k, k, C, 4F) matching Wh and x")
    b = as_float_array("params['b']", params["b"])
    check_shape("params['b']", b, (4 * F,), "(4F,)")
    P = None
    if "P" in params:
        P = as_float_array("params['P']", params["P"])
        check_shape("params['P']", P, (3, Y, X, F), "(3, Y, X, F)")
    dtype = np.result_type(x, Wx, Wh, b, *([P] if P is not None else []))
    states = []
    for name, s in (("h0", h0), ("c0", c0)):
        if s is None:
            states.append(np.zeros((B, Y, X, F), dtype=dtype))
        else:
            s = as_float_array(name, s)
            check_shape(name, s, (B, Y, X, F), "(B, Y, X, F)")
            states.append(s.astype(dtype, copy=False))
    arrays = {"x": x, "Wx": Wx, "Wh": Wh, "b": b}
    if P is not None:
        arrays["P"] = P
    for name, a in arrays.items():
        check_finite(name, a)
    cast = {k_: a.astype(dtype, copy=False) for k_, a in arrays.items()}
    return cast, states[0], states[1]


# --------------------------------------------------------------------------- forward / backward


@dataclass
class ConvLSTMCache:
    """Values kept for :func:`convlstm_backward` (time-major).

    xs (T, B, Y, X, C); acts (T, B, Y, X, 4F) gate activations [i, f, g, o];
    cs, hs_tm (T+1, B, Y, X, F) with index 0 the initial state; tanh_c (T, B,
    Y, X, F); cols_x and cols_h, the im2col matrices of the inputs and of
    h_{t-1}; params.
    """

    xs: np.ndarray
    acts: np.ndarray
    cs: np.ndarray
    hs_tm: np.ndarray
    tanh_c: np.ndarray
    cols_x: np.ndarray
    cols_h: np.ndarray
    params: dict

    @property
    def gates(self) -> dict:
        """Gate maps by name, each (B, T, Y, X, F)."""
        F = self.cs.shape[-1]
        return {n: np.moveaxis(self.acts[..., j * F : (j + 1) * F], 0, 1)
                for j, n in enumerate("ifgo")}

    @property
    def c(self) -> np.ndarray:
        """Cell maps C_1..C_T, (B, T, Y, X, F)."""
        return np.moveaxis(self.cs[1:], 0, 1)


def convlstm_forward(x, params, h0=None, c0=None):
    """Run a ConvLSTM over a batch of frame sequences.

    Parameters
    ----------
    x : np.ndarray, (B, T, Y, X, C)
    params : dict
        ``Wx`` (k, k, C, 4F), ``Wh`` (k, k, F, 4F), ``b`` (4F,), optional
        ``P`` (3, Y, X, F).
    h0, c0 : np.ndarray, (B, Y, X, F), optional

    Returns
    -------
    hs : np.ndarray, (B, T, Y, X, F)
    cache : ConvLSTMCache
    """
    p, h0, c0 = _validate(x, params, h0, c0)
    x = p["x"]
    B, T, Y, X, C = x.shape
    F = p["b"].shape[0] // 4
    Wx, Wh, b, P = p["Wx"], p["Wh"], p["b"], p.get("P")
    xs = np.ascontiguousarray(np.moveaxis(x, 1, 0))  # (T, B, Y, X, C)
    # The input convolution of every frame at once, before the loop.
    zx, cols_x = conv2d_same(xs.reshape(T * B, Y, X, C), Wx)
    acts = zx.reshape(T, B, Y, X, 4 * F) + b
    cs = np.empty((T + 1, B, Y, X, F), dtype=x.dtype)
    hs = np.empty((T + 1, B, Y, X, F), dtype=x.dtype)
    tanh_c = np.empty((T, B, Y, X, F), dtype=x.dtype)
    cols_h = np.empty((T, B * Y * X, Wh.shape[0] ** 2 * F), dtype=x.dtype)
    cs[0], hs[0] = c0, h0
    for t in range(T):
        zh, cols_h[t] = conv2d_same(hs[t], Wh)
        z = acts[t]
        z += zh
        i, f, g, o = (z[..., j * F : (j + 1) * F] for j in range(4))  # views into acts[t]
        if P is not None:
            i += P[0] * cs[t]
            f += P[1] * cs[t]
        i[...] = sigmoid(i)
        f[...] = sigmoid(f)
        np.tanh(g, out=g)
        cs[t + 1] = f * cs[t] + i * g
        if P is not None:
            o += P[2] * cs[t + 1]
        o[...] = sigmoid(o)
        np.tanh(cs[t + 1], out=tanh_c[t])
        hs[t + 1] = o * tanh_c[t]
    kept = {"Wx": Wx, "Wh": Wh, "b": b, **({"P": P} if P is not None else {})}
    cache = ConvLSTMCache(xs, acts, cs, hs, tanh_c, cols_x, cols_h, kept)
    return np.ascontiguousarray(np.moveaxis(hs[1:], 0, 1)), cache


def convlstm_backward(dhs, cache, dcT=None):
    """Backpropagation through time for :func:`convlstm_forward`.

    Parameters
    ----------
    dhs : np.ndarray, (B, T, Y, X, F)
        dL/dH_t for every step.
    cache : ConvLSTMCache
    dcT : np.ndarray, (B, Y, X, F), optional
        dL/dC_T.

    Returns
    -------
    dx : np.ndarray, (B, T, Y, X, C)
    dh0, dc0 : np.ndarray, (B, Y, X, F)
    grads : dict
        ``Wx``, ``Wh``, ``b`` (and ``P``), shaped like the params.
    """
    if not isinstance(cache, ConvLSTMCache):
        raise TypeError(
            f"cache must be the ConvLSTMCache from convlstm_forward; got {describe(cache)}"
        )
    T, B, Y, X, C = cache.xs.shape
    F = cache.cs.shape[-1]
    dhs = as_float_array("dhs", dhs)
    check_shape("dhs", dhs, (B, T, Y, X, F), "(B, T, Y, X, F) matching the forward pass")
    dtype = cache.acts.dtype
    dhs_tm = np.moveaxis(dhs, 1, 0).astype(dtype, copy=False)
    Wx, Wh, P = cache.params["Wx"], cache.params["Wh"], cache.params.get("P")
    dz = np.empty_like(cache.acts)  # (T, B, Y, X, 4F)
    dWh = np.zeros_like(Wh)
    dP = np.zeros_like(P) if P is not None else None
    dh_next = np.zeros((B, Y, X, F), dtype=dtype)
    if dcT is None:
        dc = np.zeros((B, Y, X, F), dtype=dtype)
    else:
        dc = as_float_array("dcT", dcT).astype(dtype, copy=True)
        check_shape("dcT", dc, (B, Y, X, F), "(B, Y, X, F)")
    for t in range(T - 1, -1, -1):
        a = cache.acts[t]
        i, f, g, o = (a[..., j * F : (j + 1) * F] for j in range(4))
        d = dz[t]
        c_prev, c = cache.cs[t], cache.cs[t + 1]
        dh = dhs_tm[t] + dh_next
        d[..., 3 * F :] = dh * cache.tanh_c[t] * o * (1 - o)  # dL/dZ_o
        dc = dc + dh * o * (1 - cache.tanh_c[t] ** 2)
        if P is not None:
            dc += d[..., 3 * F :] * P[2]
            dP[2] += np.sum(d[..., 3 * F :] * c, axis=0)
        d[..., :F] = dc * g * i * (1 - i)
        d[..., F : 2 * F] = dc * c_prev * f * (1 - f)
        d[..., 2 * F : 3 * F] = dc * i * (1 - g * g)
        dc = dc * f
        if P is not None:
            dc += d[..., :F] * P[0] + d[..., F : 2 * F] * P[1]
            dP[0] += np.sum(d[..., :F] * c_prev, axis=0)
            dP[1] += np.sum(d[..., F : 2 * F] * c_prev, axis=0)
        dh_next, dWh_t = conv2d_same_backward(d, cache.cols_h[t], Wh, (B, Y, X, F))
        dWh += dWh_t
    dx_flat, dWx = conv2d_same_backward(dz.reshape(T * B, Y, X, 4 * F), cache.cols_x, Wx,
                                        (T * B, Y, X, C))
    grads = {"Wx": dWx, "Wh": dWh, "b": dz.reshape(-1, 4 * F).sum(axis=0)}
    if P is not None:
        grads["P"] = dP
    dx = np.moveaxis(dx_flat.reshape(T, B, Y, X, C), 0, 1)
    return np.ascontiguousarray(dx), dh_next, dc, grads


# --------------------------------------------------------------------------- the dense view


def _conv_matrix(kernel: np.ndarray, Y: int, X: int) -> np.ndarray:
    """The (Y X C, Y X O) matrix M with ``flat(conv2d_same(inp, kernel)) = flat(inp) @ M``."""
    k, _, C, O = kernel.shape
    p = k // 2
    M = np.zeros((Y, X, C, Y, X, O), dtype=kernel.dtype)
    for y in range(Y):
        for x in range(X):
            for a in range(k):
                for b in range(k):
                    sy, sx = y + a - p, x + b - p  # the source pixel of this tap
                    if 0 <= sy < Y and 0 <= sx < X:
                        M[sy, sx, :, y, x, :] += kernel[a, b]
    return M.reshape(Y * X * C, Y * X * O)


def as_dense_lstm(params, grid) -> dict:
    """The ordinary-LSTM parameters that compute the same as a ConvLSTM (for checking; small grids).

    With H = Y X F cells numbered (y, x, feature), the input and recurrent
    convolutions become matrices ``W`` (Y X C, 4H) and ``U`` (H, 4H); the
    gate blocks are reordered from per-pixel [i, f, g, o] to the package's
    block layout. Peepholes become the package's ``P`` (3, H).

    Parameters
    ----------
    params : dict
        ConvLSTM parameters.
    grid : (Y, X)

    Returns
    -------
    dict
        ``W``, ``U``, ``b`` (and ``P``) for :func:`lstm_teach.lstm_forward`
        with ``LSTMConfig(peepholes="P" in params)``; feed it frames flattened
        to (B, T, Y X C) and read hidden states as (B, T, Y, X, F).
    """
    Y, X = grid
    F = params["b"].shape[0] // 4

    def blocks(M):  # columns (y, x, gate, feature) -> (gate, y, x, feature)
        rows = M.shape[0]
        return M.reshape(rows, Y, X, 4, F).transpose(0, 3, 1, 2, 4).reshape(rows, 4 * Y * X * F)

    out = {
        "W": blocks(_conv_matrix(np.asarray(params["Wx"]), Y, X)),
        "U": blocks(_conv_matrix(np.asarray(params["Wh"]), Y, X)),
        "b": blocks(np.tile(np.asarray(params["b"]), (Y * X, 1)).reshape(1, -1))[0],
    }
    if "P" in params:
        out["P"] = np.asarray(params["P"]).reshape(3, Y * X * F)
    return out


# ------------------------------------------------------------- training on the moving dot


def train_moving_dot(steps: int = 200, features: int = 8, length: int = 8, size: int = 8,
                     batch_size: int = 8, learning_rate: float = 0.01, seed=0):
    """Train a ConvLSTM + 1x1 readout to predict the next frame of :func:`moving_dot_batch`.

    The loss is the per-pixel sigmoid cross-entropy. Returns ``(params,
    losses)`` where ``params`` holds the cell (``Wx``, ``Wh``, ``b``) and the
    readout (``V`` (F, 1), ``c`` (1,)).
    """
    from ..concise.optim import Adam
    from ..core.losses import binary_crossentropy

    rng = as_rng(seed)
    params = init_convlstm(1, features, 3, rng=rng)
    params["V"] = glorot_uniform((features, 1), rng)
    params["c"] = np.array([-3.0])  # the background is almost always dark
    run = train_with_readout(
        params, lambda step: moving_dot_batch(batch_size, length, size, rng),
        lambda x, cell: convlstm_forward(x, cell),
        lambda dhs, cache, x, cell: convlstm_backward(dhs, cache)[3],
        binary_crossentropy, Adam(learning_rate=learning_rate, clipnorm=1.0), steps)
    if run.diverged is not None:
        raise run.diverged  # the parameters are the last good ones; the message says why
    return params, np.array(run.losses)


def predict_next_frames(params, x):
    """Sigmoid next-frame predictions (B, T, Y, X, 1) of a model from :func:`train_moving_dot`."""
    hs, _ = convlstm_forward(x, {k: params[k] for k in ("Wx", "Wh", "b")})
    return sigmoid(readout_forward(hs, params))  # a 1x1 convolution
