"""Convert GRU parameters between lstm_teach and PyTorch / Keras.

The package's GRU (:mod:`lstm_teach.core.gru`) stores, with gate blocks in the
order [r, z, n] (reset, update, candidate)::

    W (D, 3H)   U (H, 3H)   b (3H,) input bias   b_rec (3H,) recurrent bias

- PyTorch ``nn.GRU`` / ``nn.GRUCell``: ``weight_ih_l0`` (3H, D), ``weight_hh_l0``
  (3H, H), ``bias_ih_l0`` and ``bias_hh_l0`` (3H,), rows in the same order
  r, z, n. So ``W = weight_ih.T``, ``U = weight_hh.T``, ``b = bias_ih`` and
  ``b_rec = bias_hh``: a transpose, and the two biases stay separate (unlike
  the LSTM's, they are not simply summed: ``bias_hh``'s candidate block is
  scaled by the reset gate). :func:`from_torch_gru` / :func:`to_torch_gru`.
- Keras ``GRU(reset_after=True)`` (the default): ``kernel`` (D, 3H),
  ``recurrent_kernel`` (H, 3H), ``bias`` (2, 3H) = [input bias; recurrent
  bias], blocks in the order **z, r, h** (h is the candidate): the first two
  blocks are swapped. :func:`from_keras_gru` / :func:`to_keras_gru`.
  ``reset_after=False`` (Keras 2's old default) is a different network, which
  the package does not model; it is refused by name.

Because ``b`` and ``b_rec`` map one to one onto ``bias_ih`` and ``bias_hh``,
:func:`to_torch_gru` also turns the gradient dict of
:func:`lstm_teach.core.gru.gru_backward` (same keys) into torch's parameter
names, to compare with ``module.named_parameters()`` gradients.
"""

from __future__ import annotations

import numpy as np

from ..core._checks import check_shape
from ..core.gru import GRUConfig
from ._peers import (
    all_layers,
    as_numpy,
    check_package_params,
    import_keras,
    import_torch,
    keras3_activation_name,
    keras_activations,
    keras_kernels,
    keras_layer,
    keras_parts,
    read_torch,
    torch_state,
    torch_suffix,
)

GRU_KEYS = ("W", "U", "b", "b_rec")


def _check_gru(params) -> tuple[int, int]:
    """Validate package GRU parameters; return (D, H)."""
    return check_package_params(params, 3, ("b", "b_rec"))


def _swap_rz(a) -> np.ndarray:
    """Swap the first two of three gate blocks on the last axis: [r, z, n] <-> [z, r, n]."""
    a = np.asarray(a)
    H = a.shape[-1] // 3
    return np.concatenate([a[..., H : 2 * H], a[..., :H], a[..., 2 * H :]], axis=-1)


# --------------------------------------------------------------------------- PyTorch


def from_torch_gru(state_dict, layer=None, reverse=None, dtype=None) -> dict:
    """Package GRU parameters from a ``torch.nn.GRU`` or ``nn.GRUCell`` (module or state dict).

    Parameters
    ----------
    state_dict : mapping or torch module
        ``weight_ih_l{k}`` (3H, D), ``weight_hh_l{k}`` (3H, H), ``bias_ih_l{k}``
        and ``bias_hh_l{k}`` (3H,) (absent for ``bias=False``: zeros); a
        ``nn.GRUCell`` has the same keys without ``_l{k}``.
    layer, reverse : optional
        Which layer and direction of a stacked or bidirectional GRU. Left unset,
        such a module raises a ValueError naming what it holds (see
        :func:`from_torch_gru_all` to convert them all).
    dtype : numpy dtype, optional

    Returns
    -------
    dict
        ``W`` (D, 3H) = weight_ih.T, ``U`` (H, 3H) = weight_hh.T,
        ``b`` (3H,) = bias_ih, ``b_rec`` (3H,) = bias_hh; blocks [r, z, n].
    """
    sd = torch_state(state_dict, "from_torch_gru")
    suffix = torch_suffix(sd, layer, reverse, "from_torch_gru")
    w_ih, w_hh, b_ih, b_hh = read_torch(sd, suffix, 3, dtype, "from_torch_gru")
    return {"W": np.ascontiguousarray(w_ih.T), "U": np.ascontiguousarray(w_hh.T),
            "b": b_ih, "b_rec": b_hh}


def from_torch_gru_all(state_dict, dtype=None) -> list[dict]:
    """Every layer and direction of a stacked and/or bidirectional ``torch.nn.GRU``.

    Returns ``layers[k]["forward"]`` (and ``["reverse"]``), each as
    :func:`from_torch_gru`; see :func:`lstm_teach.course.interop.from_torch_all` for
    how the layers and directions connect.
    """
    return all_layers(state_dict, lambda sd, **kw: from_torch_gru(sd, dtype=dtype, **kw),
                      "from_torch_gru")


def to_torch_gru(params, layer: int = 0, reverse: bool = False, cell: bool = False) -> dict:
    """``torch.nn.GRU`` state-dict entries (numpy arrays) for GRU parameters or their gradients.

    Parameters
    ----------
    params : dict
        ``W`` (D, 3H), ``U`` (H, 3H), ``b`` (3H,), ``b_rec`` (3H,). A gradient
        dict from ``gru_backward`` has the same keys and converts the same way,
        giving the gradients under torch's parameter names.
    layer, reverse :
        Which keys to produce (``weight_ih_l0``, ... or ``..._l1_reverse``).
    cell : bool
        ``nn.GRUCell`` names instead (``weight_ih``, no suffix).

    Returns
    -------
    dict of str -> np.ndarray
        ``weight_ih`` (3H, D), ``weight_hh`` (3H, H), ``bias_ih``, ``bias_hh`` (3H,).
    """
    _check_gru(params)
    suffix = "" if cell else f"_l{int(layer)}" + ("_reverse" if reverse else "")
    return {
        f"weight_ih{suffix}": np.ascontiguousarray(np.asarray(params["W"]).T),
        f"weight_hh{suffix}": np.ascontiguousarray(np.asarray(params["U"]).T),
        f"bias_ih{suffix}": np.array(params["b"]),
        f"bias_hh{suffix}": np.array(params["b_rec"]),
    }


def torch_gru(params, dtype=None):
    """A ``torch.nn.GRU(batch_first=True)`` holding ``params`` (needs PyTorch).

    ``dtype`` defaults to float64 for float64 parameters, else float32.
    """
    torch = import_torch("torch_gru")
    D, H = _check_gru(params)
    if dtype is None:
        dtype = torch.float64 if np.asarray(params["W"]).dtype == np.float64 else torch.float32
    module = torch.nn.GRU(D, H, batch_first=True, dtype=dtype)
    module.load_state_dict(
        {k: torch.from_numpy(np.array(v)).to(dtype) for k, v in to_torch_gru(params).items()}
    )
    return module


# --------------------------------------------------------------------------- Keras


def from_keras_gru(source, dtype=None, *, activation=None, recurrent_activation=None):
    """Package GRU parameters and config from a Keras ``GRU`` layer or its weights.

    Parameters
    ----------
    source : keras.layers.GRU, list or mapping
        A built Keras ``GRU`` (or ``GRUCell``) with ``reset_after=True``; or
        ``layer.get_weights()``: ``[kernel (D, 3H), recurrent_kernel (H, 3H),
        bias (2, 3H)]`` (the first two for ``use_bias=False``); or a mapping
        with those keys.
    dtype : numpy dtype, optional
    activation, recurrent_activation : str, optional
        Only for weight lists; Keras names read as Keras 3 reads them (see
        :func:`lstm_teach.course.interop.from_keras`). Defaults ``"tanh"``, ``"sigmoid"``.

    Returns
    -------
    params : dict
        ``W``, ``U``, ``b`` = bias[0], ``b_rec`` = bias[1], blocks moved from
        Keras' [z, r, h] to the package's [r, z, n].
    config : GRUConfig
        The activations the layer uses.
    """
    info = keras_layer(source, ("GRU", "GRUCell"), "from_keras_gru")
    if info is not None:
        if activation or recurrent_activation:
            raise ValueError("activation / recurrent_activation are read from the layer; "
                             "pass them only with a weight list")
        if not info[1].get("reset_after", True):
            raise ValueError(
                "this Keras GRU has reset_after=False (the reset gate acts before the "
                "recurrent matrix product), which lstm_teach does not model; build the layer "
                "with reset_after=True (the Keras default), the PyTorch formulation"
            )
    parts = keras_parts(info[0] if info else source, "from_keras_gru")
    kernel, recurrent, H = keras_kernels(parts, 3, dtype)
    if len(parts) == 3:
        bias = as_numpy("bias", parts[2], dtype)
        if bias.shape == (3 * H,):
            raise ValueError(
                f"bias has shape {bias.shape}, the layout of reset_after=False, which lstm_teach "
                "does not model; a reset_after=True GRU has bias (2, 3H)"
            )
        check_shape("bias", bias, (2, 3 * H), "(2, 3H) = [input bias; recurrent bias]")
    else:
        bias = np.zeros((2, 3 * H), dtype=recurrent.dtype)
    act, rec = keras_activations(info, activation, recurrent_activation)
    params = {"W": _swap_rz(kernel), "U": _swap_rz(recurrent),
              "b": _swap_rz(bias[0]), "b_rec": _swap_rz(bias[1])}
    return params, GRUConfig(activation=act, recurrent_activation=rec)


def to_keras_gru(params, config=None) -> list:
    """``[kernel (D, 3H), recurrent_kernel (H, 3H), bias (2, 3H)]`` for ``set_weights``.

    The blocks go back to Keras' order [z, r, h]. With ``config`` (a
    ``GRUConfig``), also checks that Keras 3 has both activations.
    """
    _check_gru(params)
    if config is not None:
        keras3_activation_name(config.activation)
        keras3_activation_name(config.recurrent_activation)
    bias = np.stack([_swap_rz(params["b"]), _swap_rz(params["b_rec"])])
    return [_swap_rz(params["W"]), _swap_rz(params["U"]), bias]


def keras_gru(params, config=None, return_sequences: bool = True, dtype=None):
    """A built Keras 3 ``keras.layers.GRU(reset_after=True)`` holding ``params``.

    ``config`` (a ``GRUConfig``) gives the activations; ``dtype`` defaults to
    ``"float64"`` for float64 parameters, else ``"float32"``.
    """
    keras = import_keras("keras_gru")
    D, H = _check_gru(params)
    act = keras3_activation_name(config.activation if config else "tanh")
    rec = keras3_activation_name(config.recurrent_activation if config else "sigmoid")
    if dtype is None:
        dtype = "float64" if np.asarray(params["W"]).dtype == np.float64 else "float32"
    layer = keras.layers.GRU(H, activation=act, recurrent_activation=rec, reset_after=True,
                             return_sequences=return_sequences, dtype=dtype)
    layer.build((None, None, D))
    layer.set_weights(to_keras_gru(params, config))
    return layer
