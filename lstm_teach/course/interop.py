"""Convert LSTM parameters between lstm_teach and the layouts learners meet elsewhere.

Every toolkit stores the same four affine maps (input gate, forget gate, cell
candidate, output gate); they differ only in how the blocks are packed,
transposed and ordered. The package layout is::

    W (D, 4H)    x_t W      column blocks [i, f, g, o]
    U (H, 4H)    h_{t-1} U  column blocks [i, f, g, o]
    b (4H,)

and the others, each with a converter pair here:

- per-gate: ``W_i`` (D, H), ``U_i`` (H, H), ``b_i`` (H,), one triple per gate;
  :func:`split_gates` / :func:`merge_gates`.
- PyTorch ``nn.LSTM``: ``weight_ih_l0`` (4H, D), ``weight_hh_l0`` (4H, H),
  ``bias_ih_l0`` and ``bias_hh_l0`` (4H,), rows in order i, f, g, o;
  :func:`from_torch` / :func:`to_torch` (and :func:`torch_lstm`). ``nn.LSTMCell``
  has the same keys without ``_l0``. A stacked or bidirectional module is
  converted one layer and direction at a time (``layer=``, ``reverse=``) or all
  at once with :func:`from_torch_all`; it is never silently cut to layer 0.
- Keras ``LSTM``: ``kernel`` (D, 4H), ``recurrent_kernel`` (H, 4H), ``bias``
  (4H,), order i, f, c, o (c is our g); :func:`from_keras` (a layer or its
  weights, returning the parameters *and* the ``LSTMConfig`` with the
  activations the layer uses) / :func:`to_keras` and :func:`keras_lstm`.
- the course-assignment packing: ``Wx`` (D, 4H), ``Wh`` (H, 4H), ``b`` (4H,)
  in order i, f, o, g; :func:`from_ifog` / :func:`to_ifog`.
- the concatenated layout: one ``Wf`` (n_a, n_a + n_x) per gate acting on the
  column vector [a_prev; x_t], biases ``bf`` (n_a, 1); :func:`from_concat` /
  :func:`to_concat`.

The GRU's converters (:func:`from_torch_gru`, :func:`to_torch_gru`,
:func:`from_keras_gru`, :func:`to_keras_gru`, ...) live in
:mod:`lstm_teach.course.interop_gru` and are reachable from here too.

Activation names: Keras 3's ``"hard_sigmoid"`` is clip(z/6 + 0.5), the
package's ``"hard_sigmoid_keras3"``; Keras 2's was clip(0.2 z + 0.5), the
package's ``"hard_sigmoid"`` (alias ``"hard_sigmoid_keras2"``).
:func:`keras_activation` translates, taking the Keras version into account.

Nothing here imports PyTorch or Keras at import time: tensors are accepted
wherever they can be turned into numpy arrays (``.detach().cpu().numpy()`` is
tried first). :func:`torch_lstm` and :func:`keras_lstm` build a peer layer
from package parameters and import the peer only when called.

PyTorch has two bias vectors per layer, ``b_ih`` and ``b_hh``, which are only
ever added together, so :func:`from_torch` sums them and :func:`to_torch`
puts the whole bias in ``bias_ih`` and zeros in ``bias_hh`` (or splits it in
halves, see ``bias_split``). A round trip package -> torch -> package is
exact; torch -> package -> torch preserves the sum of the two biases, which is
all the network ever sees.
"""

from __future__ import annotations

import numpy as np

from ..core import activations
from ..core._checks import check_choice, check_ndim, check_shape, require_keys
from ..core.lstm_config import LSTMConfig
from ._peers import (
    all_layers,
    as_numpy,
    check_package_params,
    import_keras,
    import_torch,
    keras3_activation_name,
    keras_activation,
    keras_activations,
    keras_kernels,
    keras_layer,
    keras_parts,
    read_torch,
    torch_layers,
    torch_state,
    torch_suffix,
)
from .interop_gru import (
    from_keras_gru,
    from_torch_gru,
    from_torch_gru_all,
    keras_gru,
    to_keras_gru,
    to_torch_gru,
    torch_gru,
)

__all__ = [
    "from_concat", "from_ifog", "from_keras", "from_keras_gru", "from_torch", "from_torch_all",
    "from_torch_gru", "from_torch_gru_all", "keras3_activation_name", "keras_activation",
    "keras_gru", "keras_lstm", "merge_gates", "reorder_gates", "split_gates", "to_concat",
    "to_ifog", "to_keras", "to_keras_gru", "to_torch", "to_torch_gru", "torch_gru",
    "torch_layers", "torch_lstm",
]

PACKAGE_ORDER = "ifgo"
#: Gate order of each layout, one letter per block; "g" is the cell candidate
#: (Keras and the concatenated course layout call it "c").
GATE_ORDERS = {
    "package": "ifgo",
    "torch": "ifgo",
    "keras": "ifgo",
    "ifog": "ifog",
}
GATES = ("i", "f", "g", "o")
#: Names the concatenated (n_a, n_a + n_x) layout uses for the four gates.
CONCAT_NAMES = {"i": "i", "f": "f", "g": "c", "o": "o"}


# --------------------------------------------------------------------------- helpers


def reorder_gates(a, src: str, dst: str, axis: int = -1) -> np.ndarray:
    """Permute the four gate blocks of ``a`` along ``axis`` from order ``src`` to ``dst``.

    Parameters
    ----------
    a : np.ndarray
        Any array whose ``axis`` has length 4H, e.g. W (D, 4H) or b (4H,).
    src, dst : str
        Gate orders as four letters, a permutation of ``"ifgo"``
        (e.g. ``"ifog"`` for the course-assignment packing).
    axis : int

    Returns
    -------
    np.ndarray
        A new array with the blocks in order ``dst``.
    """
    for name, order in (("src", src), ("dst", dst)):
        if not isinstance(order, str) or sorted(order) != sorted(PACKAGE_ORDER):
            raise ValueError(f"{name} must be a permutation of 'ifgo' (e.g. 'ifog'); got {order!r}")
    a = np.asarray(a)
    n = a.shape[axis]
    if n % 4:
        raise ValueError(f"axis {axis} of the array must have length 4H; got {n} (shape {a.shape})")
    H = n // 4
    blocks = {g: np.take(a, np.arange(k * H, (k + 1) * H), axis=axis) for k, g in enumerate(src)}
    return np.concatenate([blocks[g] for g in dst], axis=axis)


def _check_package(params) -> tuple[int, int]:
    """Validate a package LSTM parameter dict; return (D, H)."""
    return check_package_params(params, 4)


# --------------------------------------------------------------------------- per-gate


def split_gates(params) -> dict:
    """Unpack package parameters into one matrix per gate.

    Parameters
    ----------
    params : dict
        ``W`` (D, 4H), ``U`` (H, 4H), ``b`` (4H,).

    Returns
    -------
    dict
        ``W_i, W_f, W_g, W_o`` (D, H) acting on x_t; ``U_i, ..., U_o`` (H, H)
        acting on h_{t-1}; ``b_i, ..., b_o`` (H,). Copies, not views.
    """
    _, H = _check_package(params)
    out = {}
    for k, g in enumerate(GATES):
        cols = slice(k * H, (k + 1) * H)
        out[f"W_{g}"] = np.array(params["W"][:, cols])
        out[f"U_{g}"] = np.array(params["U"][:, cols])
        out[f"b_{g}"] = np.array(params["b"][cols])
    return out


def merge_gates(gates) -> dict:
    """Inverse of :func:`split_gates`: pack per-gate matrices into ``W``, ``U``, ``b``."""
    keys = [f"{p}_{g}" for p in "WUb" for g in GATES]
    require_keys("gates", gates, keys)
    arrays = {k: as_numpy(f"gates[{k!r}]", gates[k]) for k in keys}
    check_ndim("gates['b_i']", arrays["b_i"], 1, "(H,)")
    check_ndim("gates['W_i']", arrays["W_i"], 2, "(D, H)")
    H, D = arrays["b_i"].shape[0], arrays["W_i"].shape[0]  # the sizes every block must share
    for g in GATES:
        check_shape(f"gates['W_{g}']", arrays[f"W_{g}"], (D, H), "(D, H)")
        check_shape(f"gates['U_{g}']", arrays[f"U_{g}"], (H, H), "(H, H)")
        check_shape(f"gates['b_{g}']", arrays[f"b_{g}"], (H,), "(H,)")
    return {p: np.concatenate([arrays[f"{p}_{g}"] for g in GATES], axis=-1) for p in "WUb"}


# --------------------------------------------------------------------------- PyTorch

def from_torch(state_dict, layer=None, reverse=None, dtype=None) -> dict:
    """Package parameters from a ``torch.nn.LSTM`` or ``nn.LSTMCell`` (module or state dict).

    Parameters
    ----------
    state_dict : mapping or torch module
        ``weight_ih_l{k}`` (4H, D), ``weight_hh_l{k}`` (4H, H) and, unless the
        module was built with ``bias=False``, ``bias_ih_l{k}`` and
        ``bias_hh_l{k}`` (4H,); an ``nn.LSTMCell`` has the same keys without
        the ``_l{k}`` suffix. Values may be tensors or arrays. Keys may carry a
        module prefix (``"lstm.weight_ih_l0"``) when that is unambiguous.
    layer : int, optional
        Which layer of a stacked LSTM.
    reverse : bool, optional
        The backward direction of a bidirectional LSTM (keys ending ``_reverse``).
        Leave both unset for a one-layer, one-direction module. A stacked or
        bidirectional one then raises a ValueError naming its layers and
        directions: pick one, or convert all with :func:`from_torch_all`.
    dtype : numpy dtype, optional
        Convert to this dtype (default: keep the tensors' dtype).

    Returns
    -------
    dict
        ``W`` (D, 4H) = weight_ih.T, ``U`` (H, 4H) = weight_hh.T,
        ``b`` (4H,) = bias_ih + bias_hh. The gate order of PyTorch is the
        package's [i, f, g, o], so no reordering is needed.
    """
    sd = torch_state(state_dict, "from_torch")
    suffix = torch_suffix(sd, layer, reverse, "from_torch")
    if f"weight_hr{suffix}" in sd:
        raise ValueError(
            "this LSTM has a projection (proj_size > 0, weight_hr_*), "
            "which lstm_teach does not model"
        )
    w_ih, w_hh, b_ih, b_hh = read_torch(sd, suffix, 4, dtype, "from_torch")
    return {"W": np.ascontiguousarray(w_ih.T), "U": np.ascontiguousarray(w_hh.T), "b": b_ih + b_hh}


def from_torch_all(state_dict, dtype=None) -> list[dict]:
    """Every layer and direction of a stacked and/or bidirectional ``torch.nn.LSTM``.

    Returns
    -------
    list of dict
        ``layers[k]["forward"]`` and, for a bidirectional module,
        ``layers[k]["reverse"]``: package parameters (as :func:`from_torch`).
        To reproduce the module: layer k's forward direction runs on its input,
        the reverse direction on the input reversed in time (``x[:, ::-1]``)
        with its outputs reversed back, and the next layer's input is the
        two output sequences concatenated on the feature axis, forward first.
    """
    return all_layers(state_dict, lambda sd, **kw: from_torch(sd, dtype=dtype, **kw), "from_torch")


def to_torch(params, layer: int = 0, reverse: bool = False, bias_split: str = "ih") -> dict:
    """The ``torch.nn.LSTM`` state-dict entries (as numpy arrays) for package parameters.

    Parameters
    ----------
    params : dict
        ``W`` (D, 4H), ``U`` (H, 4H), ``b`` (4H,).
    layer, reverse :
        Which keys to produce (``weight_ih_l0``, ... or ``..._reverse``).
    bias_split : {"ih", "half"}
        PyTorch keeps two biases that are always summed. ``"ih"`` puts all of
        ``b`` in ``bias_ih`` and zeros in ``bias_hh``; ``"half"`` gives each
        half.

    Returns
    -------
    dict of str -> np.ndarray
        ``weight_ih`` (4H, D), ``weight_hh`` (4H, H), ``bias_ih``, ``bias_hh``
        (4H,). Load them with
        ``module.load_state_dict({k: torch.from_numpy(v) for k, v in d.items()})``.
    """
    check_choice("bias_split", bias_split, ("ih", "half"))
    _check_package(params)
    suffix = f"_l{int(layer)}" + ("_reverse" if reverse else "")
    b = np.asarray(params["b"])
    b_ih, b_hh = (b.copy(), np.zeros_like(b)) if bias_split == "ih" else (b / 2, b / 2)
    return {
        f"weight_ih{suffix}": np.ascontiguousarray(np.asarray(params["W"]).T),
        f"weight_hh{suffix}": np.ascontiguousarray(np.asarray(params["U"]).T),
        f"bias_ih{suffix}": b_ih,
        f"bias_hh{suffix}": b_hh,
    }


def torch_lstm(params, dtype=None):
    """A ``torch.nn.LSTM(batch_first=True)`` holding ``params`` (needs PyTorch).

    Parameters
    ----------
    params : dict
        Package parameters, ``W`` (D, 4H), ``U`` (H, 4H), ``b`` (4H,).
    dtype : torch dtype, optional
        Default: float64 for float64 parameters, else float32.

    Returns
    -------
    torch.nn.LSTM
    """
    torch = import_torch("torch_lstm")
    D, H = _check_package(params)
    if dtype is None:
        dtype = torch.float64 if np.asarray(params["W"]).dtype == np.float64 else torch.float32
    module = torch.nn.LSTM(D, H, batch_first=True, dtype=dtype)
    state = {k: torch.from_numpy(np.array(v)).to(dtype) for k, v in to_torch(params).items()}
    module.load_state_dict(state)
    return module


# --------------------------------------------------------------------------- Keras

def from_keras(source, dtype=None, *, activation=None, recurrent_activation=None):
    """Package parameters and config from a Keras ``LSTM`` layer or its weights.

    Parameters
    ----------
    source : keras.layers.LSTM, list or mapping
        A built Keras ``LSTM`` (or ``LSTMCell``) layer; or ``layer.get_weights()``:
        ``[kernel (D, 4H), recurrent_kernel (H, 4H), bias (4H,)]``, the first
        two only for ``use_bias=False``; or a mapping with keys ``"kernel"``,
        ``"recurrent_kernel"`` (``"bias"`` optional). Keras' gate order
        i, f, c, o is the package's [i, f, g, o].
    dtype : numpy dtype, optional
    activation, recurrent_activation : str, optional
        Only for weight lists, which do not record them: the Keras names
        (default ``"tanh"`` and ``"sigmoid"``, Keras' defaults), read as Keras 3
        reads them, so ``"hard_sigmoid"`` is clip(z/6 + 0.5). For weights from
        Keras 2 pass ``"hard_sigmoid_keras2"``. From a layer they are read from
        the layer itself, taking its Keras version into account.

    Returns
    -------
    params : dict
        ``W`` = kernel, ``U`` = recurrent_kernel, ``b`` = bias (zeros if absent).
    config : LSTMConfig
        The activations the layer uses: Keras applies its ``activation`` both to
        the candidate and to the cell state before the output gate.
    """
    info = keras_layer(source, ("LSTM", "LSTMCell"), "from_keras")
    if info is not None and (activation or recurrent_activation):
        raise ValueError("activation / recurrent_activation are read from the layer; "
                         "pass them only with a weight list")
    parts = keras_parts(info[0] if info else source, "from_keras")
    kernel, recurrent, H = keras_kernels(parts, 4, dtype)
    if len(parts) == 3:
        bias = as_numpy("bias", parts[2], dtype)
        check_shape("bias", bias, (4 * H,), "(4H,)")
    else:
        bias = np.zeros(4 * H, dtype=recurrent.dtype)
    act, rec = keras_activations(info, activation, recurrent_activation)
    config = LSTMConfig(activation=act, output_activation=act, recurrent_activation=rec)
    return {"W": kernel, "U": recurrent, "b": bias}, config


def _keras_lstm_names(config) -> tuple[str, str]:
    """Keras 3 (activation, recurrent_activation) for an LSTMConfig Keras can run."""
    if config is None:
        return "tanh", "sigmoid"
    variant = [f for f in ("peepholes", "coupled_input_forget", "full_gate_recurrence")
               if getattr(config, f)]
    variant += [f for f in ("input_gate", "forget_gate", "output_gate") if not getattr(config, f)]
    if variant:
        raise ValueError(f"Keras' LSTM has no counterpart for the variant {config.describe()} "
                         f"(fields {variant})")
    if activations.get(config.activation).name != activations.get(config.output_activation).name:
        raise ValueError(
            "Keras' LSTM uses one `activation` for the candidate and the cell output; got "
            f"activation={config.activation!r}, output_activation={config.output_activation!r}"
        )
    return keras3_activation_name(config.activation), keras3_activation_name(
        config.recurrent_activation)


def to_keras(params, config=None) -> list:
    """``[kernel (D, 4H), recurrent_kernel (H, 4H), bias (4H,)]`` for ``layer.set_weights``.

    With ``config``, also checks that Keras can run that LSTM (one activation for
    the candidate and the cell output, no peepholes or removed gates); build a
    matching layer with :func:`keras_lstm`.
    """
    _check_package(params)
    _keras_lstm_names(config)
    return [np.array(params["W"]), np.array(params["U"]), np.array(params["b"])]


def keras_lstm(params, config=None, return_sequences: bool = True, dtype=None):
    """A built Keras 3 ``keras.layers.LSTM`` holding ``params`` (the reverse of :func:`from_keras`).

    Parameters
    ----------
    params : dict
        ``W`` (D, 4H), ``U`` (H, 4H), ``b`` (4H,).
    config : LSTMConfig, optional
        Its activations become the layer's (see :func:`to_keras` for what Keras can run).
    return_sequences : bool
    dtype : str, optional
        Default ``"float64"`` for float64 parameters, else ``"float32"``.
    """
    keras = import_keras("keras_lstm")
    D, H = _check_package(params)
    act, rec = _keras_lstm_names(config)
    if dtype is None:
        dtype = "float64" if np.asarray(params["W"]).dtype == np.float64 else "float32"
    layer = keras.layers.LSTM(H, activation=act, recurrent_activation=rec,
                              return_sequences=return_sequences, dtype=dtype)
    layer.build((None, None, D))
    layer.set_weights(to_keras(params, config))
    return layer


# --------------------------------------------------------------------------- course layouts


def from_ifog(Wx, Wh, b) -> dict:
    """Package parameters from the (D, 4H) packing with gate order i, f, o, g.

    Many course assignments compute ``a = x Wx + h Wh + b`` and slice
    ``a`` into i, f, o, g in that order (the candidate last).

    Parameters
    ----------
    Wx : (D, 4H)
    Wh : (H, 4H)
    b : (4H,)

    Returns
    -------
    dict
        ``W``, ``U``, ``b`` with the blocks moved to [i, f, g, o].
    """
    Wx, Wh, b = (as_numpy(n, v) for n, v in (("Wx", Wx), ("Wh", Wh), ("b", b)))
    _check_package({"W": Wx, "U": Wh, "b": b})
    return {name: reorder_gates(a, "ifog", "ifgo") for name, a in (("W", Wx), ("U", Wh), ("b", b))}


def to_ifog(params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of :func:`from_ifog`: ``(Wx (D, 4H), Wh (H, 4H), b (4H,))`` in order i, f, o, g."""
    _check_package(params)
    return tuple(reorder_gates(params[k], "ifgo", "ifog") for k in ("W", "U", "b"))


def from_concat(parameters, order: str = "h_first") -> dict:
    """Package parameters from the per-gate concatenated layout.

    In this layout (common in course notebooks that work with column vectors)
    each gate has one matrix acting on the stacked vector of the previous
    hidden state and the input::

        f_t = sigmoid(Wf @ concat[a_prev; x_t] + bf)      Wf (n_a, n_a + n_x), bf (n_a, 1)

    and likewise ``Wi, bi`` (input gate), ``Wc, bc`` (candidate), ``Wo, bo``.

    Parameters
    ----------
    parameters : mapping
        ``Wf, Wi, Wc, Wo`` (n_a, n_a + n_x) and ``bf, bi, bc, bo`` (n_a, 1) or
        (n_a,). Extra keys (``Wy``, ``by``) are ignored.
    order : {"h_first", "x_first"}
        Whether the stacked vector is [a_prev; x_t] (``"h_first"``) or
        [x_t; h_{t-1}] (``"x_first"``, e.g. an N_c x (N_i + N_c) matrix).

    Returns
    -------
    dict
        ``W`` (n_x, 4H), ``U`` (n_a, 4H), ``b`` (4H,), H = n_a.
    """
    check_choice("order", order, ("h_first", "x_first"))
    keys = [f"{p}{CONCAT_NAMES[g]}" for g in GATES for p in "Wb"]
    require_keys("parameters", parameters, keys)
    Wg = {g: as_numpy(f"W{CONCAT_NAMES[g]}", parameters[f"W{CONCAT_NAMES[g]}"]) for g in GATES}
    check_ndim("Wf", Wg["f"], 2, "(n_a, n_a + n_x)")
    n_a, total = Wg["f"].shape
    n_x = total - n_a
    if n_x < 1:
        raise ValueError(f"Wf must have shape (n_a, n_a + n_x) with n_x >= 1; got {Wg['f'].shape}")
    W, U, b = [], [], []
    for g in GATES:
        name = f"W{CONCAT_NAMES[g]}"
        check_shape(name, Wg[g], (n_a, n_a + n_x), "(n_a, n_a + n_x)")
        bname = f"b{CONCAT_NAMES[g]}"
        bg = as_numpy(bname, parameters[bname])
        if bg.shape not in ((n_a, 1), (n_a,)):
            raise ValueError(
                f"{bname} must have shape (n_a, 1) or (n_a,) with n_a={n_a}; got {bg.shape}"
            )
        if order == "h_first":
            h_cols, x_cols = slice(0, n_a), slice(n_a, None)
        else:
            h_cols, x_cols = slice(n_x, None), slice(0, n_x)
        U.append(Wg[g][:, h_cols].T)
        W.append(Wg[g][:, x_cols].T)
        b.append(bg.reshape(n_a))
    return {"W": np.concatenate(W, axis=1), "U": np.concatenate(U, axis=1), "b": np.concatenate(b)}


def to_concat(params, order: str = "h_first", column_bias: bool = True) -> dict:
    """Inverse of :func:`from_concat`: ``Wf, bf, Wi, bi, Wc, bc, Wo, bo``.

    Parameters
    ----------
    params : dict
        ``W`` (D, 4H), ``U`` (H, 4H), ``b`` (4H,).
    order : {"h_first", "x_first"}
    column_bias : bool
        Biases as (H, 1) columns (True) or (H,) vectors.
    """
    check_choice("order", order, ("h_first", "x_first"))
    _, H = _check_package(params)
    out = {}
    for k, g in enumerate(GATES):
        cols = slice(k * H, (k + 1) * H)
        Ug, Wg = np.asarray(params["U"])[:, cols].T, np.asarray(params["W"])[:, cols].T
        stacked = (Ug, Wg) if order == "h_first" else (Wg, Ug)
        name = CONCAT_NAMES[g]
        out[f"W{name}"] = np.concatenate(stacked, axis=1)
        bg = np.array(np.asarray(params["b"])[cols])
        out[f"b{name}"] = bg.reshape(H, 1) if column_bias else bg
    return out
