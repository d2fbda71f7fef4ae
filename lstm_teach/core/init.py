"""Weight initialisers and the parameter builders for the RNN and the LSTM.

All take an explicit random generator (``rng``: a ``np.random.Generator`` or an
int seed); nothing here touches numpy's global random state.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_positive_int
from .utils import as_rng


def zeros(shape, rng=None, dtype=np.float64) -> np.ndarray:
    """An array of zeros (``rng`` is accepted and ignored, for a uniform signature)."""
    return np.zeros(shape, dtype=dtype)


def glorot_uniform(shape, rng=None, dtype=np.float64) -> np.ndarray:
    """Glorot & Bengio (2010) uniform: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)).

    For a 2-D ``shape = (fan_in, fan_out)``; a packed (D, 4H) kernel counts
    4H as fan_out, exactly as Keras does.
    """
    shape = tuple(shape)
    fan_in, fan_out = (shape[0], shape[-1]) if len(shape) >= 2 else (shape[0], shape[0])
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return as_rng(rng).uniform(-limit, limit, size=shape).astype(dtype)


def orthogonal(shape, rng=None, gain: float = 1.0, dtype=np.float64) -> np.ndarray:
    """A (semi-)orthogonal matrix (Saxe et al. 2014), times ``gain``.

    For ``shape = (H, 4H)`` the rows are orthonormal; each (H, H) gate block of
    a recurrent matrix is then a slice of an orthogonal matrix.
    """
    rows, cols = shape
    a = as_rng(rng).standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # makes the distribution uniform (Haar) over orthogonal matrices
    if rows < cols:
        q = q.T
    return (gain * q[:rows, :cols]).astype(dtype)


INITIALIZERS = {"zeros": zeros, "glorot_uniform": glorot_uniform, "orthogonal": orthogonal}


def get(name):
    """Look up an initialiser by name; a callable is returned unchanged."""
    if callable(name):
        return name
    if name not in INITIALIZERS:
        raise ValueError(f"unknown initializer {name!r}; expected one of {sorted(INITIALIZERS)}")
    return INITIALIZERS[name]


def init_rnn(input_size: int, hidden_size: int, rng=None, dtype=np.float64) -> dict:
    """Parameters of an Elman RNN.

    Returns
    -------
    dict
        ``W`` (D, H) Glorot-uniform, ``U`` (H, H) orthogonal, ``b`` (H,) zeros.
    """
    D = check_positive_int("input_size", input_size)
    H = check_positive_int("hidden_size", hidden_size)
    rng = as_rng(rng)
    return {
        "W": glorot_uniform((D, H), rng, dtype=dtype),
        "U": orthogonal((H, H), rng, dtype=dtype),
        "b": zeros((H,), dtype=dtype),
    }


def init_lstm(
    input_size: int,
    hidden_size: int,
    config=None,
    rng=None,
    unit_forget_bias: bool = True,
    dtype=np.float64,
) -> dict:
    """Parameters of an LSTM, in the package layout (gate blocks [i, f, g, o]).

    Parameters
    ----------
    input_size, hidden_size : int
        D and H.
    config : LSTMConfig, optional
        Only ``config.peepholes`` matters here: it adds ``P``.
    rng : np.random.Generator or int, optional
    unit_forget_bias : bool
        Start the forget-gate bias at 1, so the cell remembers by default
        (Gers et al. 2000; Jozefowicz et al. 2015).

    Returns
    -------
    dict
        ``W`` (D, 4H) Glorot-uniform, ``U`` (H, 4H) orthogonal, ``b`` (4H,)
        zeros (forget block ones if ``unit_forget_bias``), with peepholes
        ``P`` (3, H) small uniform values (rows i, f, o), and with
        ``config.full_gate_recurrence`` ``R`` (3H, 3H) small uniform values.
    """
    D = check_positive_int("input_size", input_size)
    H = check_positive_int("hidden_size", hidden_size)
    rng = as_rng(rng)
    params = {
        "W": glorot_uniform((D, 4 * H), rng, dtype=dtype),
        "U": orthogonal((H, 4 * H), rng, dtype=dtype),
        "b": zeros((4 * H,), dtype=dtype),
    }
    if unit_forget_bias:
        params["b"][H : 2 * H] = 1.0
    if config is not None and config.peepholes:
        params["P"] = rng.uniform(-0.1, 0.1, size=(3, H)).astype(dtype)
    if config is not None and config.full_gate_recurrence:
        # FGR: gate-to-gate weights (3H, 3H), small like the peepholes
        params["R"] = rng.uniform(-0.1, 0.1, size=(3 * H, 3 * H)).astype(dtype)
    return params
