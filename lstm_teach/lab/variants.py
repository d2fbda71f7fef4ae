"""LSTM variants that are reparametrisations of the one core: block mode, four input ports,
and the variant table of Greff et al. (2017).

Nothing here copies the cell. Each construction builds ordinary package
parameters (``W`` (D, 4H), ``U`` (H, 4H), ``b`` (4H,)) from its own, smaller
set, runs :func:`lstm_teach.lstm_forward` / :func:`lstm_teach.lstm_backward`,
and maps the gradients back with the transpose of the same linear map (the
chain rule for a linear reparametrisation ``theta_full = theta @ E`` is
``dL/dtheta = dL/dtheta_full @ E.T``).

**Block mode.** In the 1997 LSTM the cells come in *memory blocks*: the cells
of one block share one input gate, one forget gate and one output gate, while
each cell keeps its own cell input. With ``n_blocks`` blocks of ``block_size``
cells (H = n_blocks * block_size), the block parameters are::

    W (D, 3 n_blocks + H)   column groups [i (n_blocks), f (n_blocks), g (H), o (n_blocks)]
    U (H, 3 n_blocks + H)
    b (3 n_blocks + H,)

and the full gate columns are ``block columns @ E`` with the 0/1 expansion
matrix ``E`` (n_blocks, H), ``E[k, j] = 1`` when cell j belongs to block k.

**Four input ports.** The cell input and each gate may read a different input
signal: ``x_i``, ``x_f``, ``x_g``, ``x_o`` (B, T, D_k). That is exactly an
ordinary LSTM on the concatenated input ``[x_i, x_f, x_g, x_o]`` whose ``W``
is zero outside the four diagonal blocks (port k feeds only gate k). The
forward pass multiplies ``W`` by that 0/1 mask and the backward pass masks the
gradient, so the zeros stay zeros under training. Feeding the same signal to
all four ports gives back the ordinary single-input LSTM.

**Greff's variants.** :data:`GREFF_VARIANTS` maps the eight variant names of
"LSTM: A Search Space Odyssey" (Greff, Srivastava, Koutnik, Steunebrink &
Schmidhuber 2017) to :class:`~lstm_teach.LSTMConfig` objects. Note that the
paper's *vanilla* LSTM has peepholes; NP is the variant without them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core._checks import (
    as_float_array,
    check_ndim,
    check_positive_int,
    check_shape,
    describe,
    require_keys,
)
from ..core.init import glorot_uniform, orthogonal
from ..core.lstm_config import LSTMConfig
from ..core.utils import as_rng
from ..kernels.lstm import LSTMCache, lstm_backward, lstm_forward

__all__ = [
    "GREFF_FINDINGS",
    "GREFF_VARIANTS",
    "PORTS",
    "BlockCache",
    "FourPortCache",
    "block_backward",
    "block_expand",
    "block_forward",
    "block_gradients",
    "expansion_matrix",
    "four_port_backward",
    "four_port_forward",
    "four_port_mask",
    "four_port_params_from_single",
    "greff_config",
    "init_block_lstm",
    "init_four_port_lstm",
    "same_input_on_all_ports",
]

# --------------------------------------------------------------------------- Greff's table

#: The variants compared by Greff et al. (2017). The paper's "vanilla" LSTM has
#: peepholes, a forget gate and tanh on both the cell input and the output.
GREFF_VARIANTS: dict[str, LSTMConfig] = {
    "vanilla": LSTMConfig(peepholes=True),
    "NIG": LSTMConfig(peepholes=True, input_gate=False),
    "NFG": LSTMConfig(peepholes=True, forget_gate=False),
    "NOG": LSTMConfig(peepholes=True, output_gate=False),
    "NIAF": LSTMConfig(peepholes=True, activation="identity"),
    "NOAF": LSTMConfig(peepholes=True, output_activation="identity"),
    "NP": LSTMConfig(peepholes=False),
    "CIFG": LSTMConfig(peepholes=True, coupled_input_forget=True),
    "FGR": LSTMConfig(peepholes=True, full_gate_recurrence=True),
}

#: What the paper reports for each variant, in one line (our summary of its
#: conclusions on TIMIT speech, IAM Online handwriting and JSB Chorales music).
GREFF_FINDINGS: dict[str, str] = {
    "vanilla": "the reference; no variant beat it significantly",
    "NIG": "worse on speech and handwriting, not on music",
    "NFG": "significantly worse on all three datasets",
    "NOG": "worse on speech and handwriting, not on music",
    "NIAF": "worse on speech and handwriting, not on music",
    "NOAF": "significantly worse on all three datasets (the cell state is unbounded)",
    "NP": "no significant change (simpler)",
    "CIFG": "no significant change (simpler: one gate fewer)",
    "FGR": "no improvement; worse on music; many more parameters",
}


def greff_config(name: str) -> LSTMConfig:
    """The :class:`LSTMConfig` of one of Greff et al.'s variants (see :data:`GREFF_VARIANTS`)."""
    if name not in GREFF_VARIANTS:
        raise ValueError(f"unknown variant {name!r}; expected one of {list(GREFF_VARIANTS)}")
    return GREFF_VARIANTS[name]


# --------------------------------------------------------------------------- block mode


def expansion_matrix(hidden_size: int, block_size: int, dtype=np.float64) -> np.ndarray:
    """The 0/1 matrix that copies one gate value to every cell of its block.

    Parameters
    ----------
    hidden_size : int
        H, the number of cells; must be a multiple of ``block_size``.
    block_size : int
        Cells per block.

    Returns
    -------
    np.ndarray, (n_blocks, H)
        ``E[k, j] = 1`` if cell j is in block k (cells are numbered block by
        block: block 0 holds cells 0 .. block_size - 1).
    """
    H = check_positive_int("hidden_size", hidden_size)
    S = check_positive_int("block_size", block_size)
    if H % S:
        raise ValueError(
            f"hidden_size must be a multiple of block_size; got hidden_size={H}, block_size={S}"
        )
    return np.kron(np.eye(H // S, dtype=dtype), np.ones((1, S), dtype=dtype))


def _column_expansion(hidden_size: int, block_size: int, dtype=np.float64) -> np.ndarray:
    """(3 n_blocks + H, 4H): block-diagonal [E, E, I_H, E] for the column groups [i, f, g, o]."""
    E = expansion_matrix(hidden_size, block_size, dtype)
    nb, H = E.shape
    full = np.zeros((3 * nb + H, 4 * H), dtype=dtype)
    full[:nb, :H] = E
    full[nb : 2 * nb, H : 2 * H] = E
    full[2 * nb : 2 * nb + H, 2 * H : 3 * H] = np.eye(H, dtype=dtype)
    full[2 * nb + H :, 3 * H :] = E
    return full


def _check_block_config(config) -> LSTMConfig:
    config = LSTMConfig() if config is None else config
    if not isinstance(config, LSTMConfig):
        raise TypeError(f"config must be an LSTMConfig or None; got {describe(config)}")
    if config.peepholes or config.full_gate_recurrence:
        raise ValueError(
            "block mode supports the gate switches, CIFG and the activations, but not "
            "peepholes or full_gate_recurrence: a shared gate would have to see every cell "
            f"of its block, which the diagonal peephole vector P cannot express; got {config}"
        )
    return config


def _block_sizes(params, block_size) -> tuple[int, int, int]:
    """Validate block parameters; return (D, H, n_blocks)."""
    require_keys("params", params, ("W", "U", "b"))
    S = check_positive_int("block_size", block_size)
    U = as_float_array("params['U']", params["U"])
    check_ndim("params['U']", U, 2, "(H, 3 n_blocks + H)")
    H = U.shape[0]
    if H % S:
        raise ValueError(f"H={H} (rows of params['U']) is not a multiple of block_size={S}")
    nb = H // S
    G = 3 * nb + H
    check_shape("params['U']", U, (H, G), f"(H, 3 n_blocks + H) with n_blocks={nb}")
    W = as_float_array("params['W']", params["W"])
    check_ndim("params['W']", W, 2, "(D, 3 n_blocks + H)")
    if W.shape[1] != G:
        raise ValueError(
            f"params['W'] must have shape (D, 3 n_blocks + H) = (D, {G}); got {W.shape}"
        )
    b = as_float_array("params['b']", params["b"])
    check_shape("params['b']", b, (G,), "(3 n_blocks + H,)")
    return W.shape[0], H, nb


def init_block_lstm(
    input_size: int,
    n_blocks: int,
    block_size: int,
    rng=None,
    unit_forget_bias: bool = True,
    dtype=np.float64,
) -> dict:
    """Parameters of a block-mode LSTM (cells of a block share their three gates).

    Parameters
    ----------
    input_size : int
        D.
    n_blocks, block_size : int
        H = n_blocks * block_size cells.
    rng : np.random.Generator or int, optional
    unit_forget_bias : bool
        Start the forget-gate biases at 1.

    Returns
    -------
    dict
        ``W`` (D, 3 n_blocks + H) Glorot-uniform, ``U`` (H, 3 n_blocks + H)
        orthogonal-based, ``b`` (3 n_blocks + H,); column groups
        [i (n_blocks), f (n_blocks), g (H), o (n_blocks)].
    """
    D = check_positive_int("input_size", input_size)
    nb = check_positive_int("n_blocks", n_blocks)
    S = check_positive_int("block_size", block_size)
    H = nb * S
    rng = as_rng(rng)
    # Draw full-size weights and average each gate over its block, so a block
    # gate starts with the scale of an ordinary gate.
    C = _column_expansion(H, S, dtype)
    average = C.T / C.sum(axis=1)  # (4H, 3 n_blocks + H): mean over the cells of a block
    params = {
        "W": glorot_uniform((D, 4 * H), rng, dtype=dtype) @ average,
        "U": orthogonal((H, 4 * H), rng, dtype=dtype) @ average,
        "b": np.zeros(3 * nb + H, dtype=dtype),
    }
    if unit_forget_bias:
        params["b"][nb : 2 * nb] = 1.0
    return params


def block_expand(params, block_size: int) -> dict:
    """The ordinary package parameters (D, 4H) / (H, 4H) / (4H,) of a block-mode LSTM.

    Each shared gate column is copied to every cell of its block:
    ``W_full = W_block @ C`` with ``C`` (3 n_blocks + H, 4H) = diag(E, E, I, E).
    """
    _, H, _ = _block_sizes(params, block_size)
    C = _column_expansion(H, block_size, np.result_type(params["W"], params["U"], params["b"]))
    return {k: np.asarray(params[k]) @ C for k in ("W", "U", "b")}


def block_gradients(full_grads, hidden_size: int, block_size: int) -> dict:
    """Map gradients of the expanded parameters back: ``dL/dblock = dL/dfull @ C.T``.

    A shared gate's gradient is the sum of the gradients of its copies.
    """
    require_keys("full_grads", full_grads, ("W", "U", "b"))
    C = _column_expansion(hidden_size, block_size, np.asarray(full_grads["W"]).dtype)
    return {k: np.asarray(full_grads[k]) @ C.T for k in ("W", "U", "b")}


@dataclass
class BlockCache:
    """Cache of :func:`block_forward`: the core cache plus the block structure.

    Attributes
    ----------
    core : LSTMCache
        The cache of the expanded ordinary LSTM (cell states, gates by name).
    block_size : int
    """

    core: LSTMCache
    block_size: int

    @property
    def block_gates(self) -> dict[str, np.ndarray]:
        """Shared gate activations ``"i"``, ``"f"``, ``"o"``, each (B, T, n_blocks)."""
        g = self.core.gates
        return {k: g[k][:, :, :: self.block_size] for k in ("i", "f", "o")}


def block_forward(x, params, block_size: int, h0=None, c0=None, config=None):
    """Run a block-mode LSTM.

    Parameters
    ----------
    x : np.ndarray, (B, T, D)
    params : dict
        Block parameters from :func:`init_block_lstm`.
    block_size : int
        Cells per block.
    h0, c0 : np.ndarray, (B, H), optional
    config : LSTMConfig, optional
        Gate switches, CIFG and activations; no peepholes, no FGR.

    Returns
    -------
    hs : np.ndarray, (B, T, H)
    cache : BlockCache
    """
    config = _check_block_config(config)
    hs, core = lstm_forward(x, block_expand(params, block_size), h0=h0, c0=c0, config=config)
    return hs, BlockCache(core=core, block_size=block_size)


def block_backward(dhs, cache, dcT=None):
    """Backward pass of :func:`block_forward`.

    Returns
    -------
    dx : (B, T, D)
    dh0, dc0 : (B, H)
    grads : dict
        ``W``, ``U``, ``b`` in the block layout (same shapes as the params).
    """
    if not isinstance(cache, BlockCache):
        raise TypeError(f"cache must be the BlockCache from block_forward; got {describe(cache)}")
    dx, dh0, dc0, full = lstm_backward(dhs, cache.core, dcT)
    H = cache.core.shape[3]
    return dx, dh0, dc0, block_gradients(full, H, cache.block_size)


# --------------------------------------------------------------------------- four input ports

#: The four ports, in the package's gate order: input gate, forget gate, cell input, output gate.
PORTS = ("i", "f", "g", "o")


def _port_sizes(port_sizes) -> tuple[int, int, int, int]:
    if isinstance(port_sizes, dict):
        require_keys("port_sizes", port_sizes, PORTS)
        port_sizes = [port_sizes[k] for k in PORTS]
    sizes = tuple(port_sizes)
    if len(sizes) != 4:
        raise ValueError(f"port_sizes needs four sizes (ports i, f, g, o); got {sizes}")
    return tuple(
        check_positive_int(f"port_sizes[{k!r}]", s) for k, s in zip(PORTS, sizes, strict=True)
    )


def four_port_mask(port_sizes, hidden_size: int, dtype=np.float64) -> np.ndarray:
    """The 0/1 mask on ``W`` that lets port k feed only gate k.

    Parameters
    ----------
    port_sizes : dict or sequence of 4 ints
        (D_i, D_f, D_g, D_o), the feature sizes of the four ports.
    hidden_size : int

    Returns
    -------
    np.ndarray, (D_i + D_f + D_g + D_o, 4H)
        Block diagonal: rows of port k (in the order i, f, g, o) are ones in
        the column block of gate k and zeros elsewhere.
    """
    sizes = _port_sizes(port_sizes)
    H = check_positive_int("hidden_size", hidden_size)
    mask = np.zeros((sum(sizes), 4 * H), dtype=dtype)
    start = 0
    for k, d in enumerate(sizes):
        mask[start : start + d, k * H : (k + 1) * H] = 1.0
        start += d
    return mask


def init_four_port_lstm(port_sizes, hidden_size: int, config=None, rng=None, dtype=np.float64):
    """Parameters of a four-port LSTM: ordinary params whose ``W`` is zero off the port blocks.

    Returns
    -------
    dict
        ``W`` (D_i + D_f + D_g + D_o, 4H) already masked, ``U`` (H, 4H),
        ``b`` (4H,), plus ``P`` / ``R`` as the config asks.
    """
    from ..core.init import init_lstm  # local: init_lstm is the one builder of LSTM params

    sizes = _port_sizes(port_sizes)
    params = init_lstm(sum(sizes), hidden_size, config=config, rng=rng, dtype=dtype)
    params["W"] *= four_port_mask(sizes, hidden_size, dtype)
    return params


def four_port_params_from_single(params) -> dict:
    """Four-port parameters that compute the same as a single-input LSTM when all ports get x.

    The (D, 4H) ``W`` becomes (4D, 4H) with gate k's columns in row block k:
    ``W4[k D:(k+1) D, k H:(k+1) H] = W[:, k H:(k+1) H]``.
    """
    require_keys("params", params, ("W", "U", "b"))
    W = as_float_array("params['W']", params["W"])
    check_ndim("params['W']", W, 2, "(D, 4H)")
    D, H4 = W.shape
    out = {k: np.array(v) for k, v in params.items()}
    out["W"] = np.tile(W, (4, 1)) * four_port_mask((D,) * 4, H4 // 4, W.dtype)
    return out


def same_input_on_all_ports(x) -> dict:
    """``{"i": x, "f": x, "g": x, "o": x}``: the four-port LSTM used as a single-port one."""
    return dict.fromkeys(PORTS, x)


@dataclass
class FourPortCache:
    """Cache of :func:`four_port_forward`: the core cache, the mask and the port sizes."""

    core: LSTMCache
    mask: np.ndarray
    port_sizes: tuple[int, int, int, int]


def four_port_forward(ports, params, h0=None, c0=None, config=None):
    """Run an LSTM whose input gate, forget gate, cell input and output gate read separate inputs.

    Parameters
    ----------
    ports : dict
        ``"i"``, ``"f"``, ``"g"``, ``"o"`` -> np.ndarray (B, T, D_k). The same
        array may be passed to several ports.
    params : dict
        ``W`` (D_i + D_f + D_g + D_o, 4H), ``U`` (H, 4H), ``b`` (4H,) (and
        ``P`` / ``R`` per config). Entries of ``W`` outside the port blocks
        are ignored.
    h0, c0 : (B, H), optional
    config : LSTMConfig, optional

    Returns
    -------
    hs : np.ndarray, (B, T, H)
    cache : FourPortCache
    """
    if not isinstance(ports, dict):
        raise TypeError(f"ports must be a dict with keys {PORTS}; got {describe(ports)}")
    require_keys("ports", ports, PORTS)
    arrays = []
    for k in PORTS:
        a = as_float_array(f"ports[{k!r}]", ports[k])
        check_ndim(f"ports[{k!r}]", a, 3, "(B, T, D_k)")
        arrays.append(a)
    if len({a.shape[:2] for a in arrays}) != 1:
        raise ValueError(
            "all ports must share batch size and length (B, T); got "
            + ", ".join(f"{k}: {a.shape}" for k, a in zip(PORTS, arrays, strict=True))
        )
    sizes = tuple(a.shape[2] for a in arrays)
    require_keys("params", params, ("W", "U", "b"))
    W = as_float_array("params['W']", params["W"])
    check_ndim("params['W']", W, 2, "(D_i + D_f + D_g + D_o, 4H)")
    H = W.shape[1] // 4
    if W.shape[0] != sum(sizes):
        raise ValueError(
            f"params['W'] has {W.shape[0]} rows, but the ports have {sum(sizes)} features in "
            f"total (sizes i, f, g, o = {sizes})"
        )
    mask = four_port_mask(sizes, H, W.dtype)
    masked = dict(params)
    masked["W"] = W * mask
    hs, core = lstm_forward(np.concatenate(arrays, axis=2), masked, h0=h0, c0=c0, config=config)
    return hs, FourPortCache(core=core, mask=mask, port_sizes=sizes)


def four_port_backward(dhs, cache, dcT=None):
    """Backward pass of :func:`four_port_forward`.

    Returns
    -------
    dports : dict
        ``"i"``, ``"f"``, ``"g"``, ``"o"`` -> (B, T, D_k): the gradient for
        each port's input. (If one array fed several ports, add them up.)
    dh0, dc0 : (B, H)
    grads : dict
        As the params; ``grads["W"]`` is masked (zero outside the port blocks).
    """
    if not isinstance(cache, FourPortCache):
        raise TypeError(
            f"cache must be the FourPortCache from four_port_forward; got {describe(cache)}"
        )
    dx, dh0, dc0, grads = lstm_backward(dhs, cache.core, dcT)
    grads["W"] = grads["W"] * cache.mask
    bounds = np.cumsum((0,) + cache.port_sizes)
    dports = {k: dx[:, :, bounds[j] : bounds[j + 1]] for j, k in enumerate(PORTS)}
    return dports, dh0, dc0, grads
