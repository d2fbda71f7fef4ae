"""Reading PyTorch modules and state dicts and Keras layers: shared by the interop modules.

:mod:`lstm_teach.course.interop` (the LSTM) and :mod:`lstm_teach.course.interop_gru` (the
GRU) convert parameters; this module holds what both need: turning tensors into
numpy arrays, finding the layers and directions in a torch state dict, reading
a Keras layer's weights, config and version, and translating activation names
between Keras and the package. Nothing here imports torch or Keras at module
level.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence

import numpy as np

from ..core import activations
from ..core._checks import check_ndim, check_shape, describe, require_keys


def as_numpy(name: str, value, dtype=None) -> np.ndarray:
    """A numpy copy of an array or tensor (torch tensors go through ``.detach().cpu()``)."""
    if hasattr(value, "detach"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    elif hasattr(value, "numpy") and not isinstance(value, np.ndarray):  # tf / keras variables
        value = value.numpy()
    try:
        arr = np.array(value, dtype=dtype)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be an array or tensor of numbers; got {describe(value)}"
        ) from None
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold numbers; got dtype {arr.dtype}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    return arr


def strip_prefix(state_dict: Mapping) -> dict:
    """Drop a common module prefix such as ``"lstm."`` from the keys, if there is exactly one."""
    keys = list(state_dict)
    if any(k.startswith("weight_") for k in keys):
        return dict(state_dict)
    prefixes = {
        k.rsplit(".", 1)[0]
        for k in keys
        if "." in k and k.rsplit(".", 1)[1].startswith(("weight_", "bias_"))
    }
    if len(prefixes) == 1:
        (p,) = prefixes
        return {k[len(p) + 1:]: v for k, v in state_dict.items() if k.startswith(p + ".")}
    if len(prefixes) > 1:
        raise ValueError(
            f"state_dict holds several LSTM modules ({sorted(prefixes)}); "
            "pass the sub-dict of one, "
            "e.g. {k.split('.', 1)[1]: v for k, v in sd.items() if k.startswith('lstm.')}"
        )
    return dict(state_dict)


_TORCH_KEY = re.compile(r"^(?:weight|bias)_(?:ih|hh|hr)_l(\d+)(_reverse)?$")


def torch_state(source, who: str) -> dict:
    """A plain dict of arrays from a torch module or a state dict (module prefix stripped)."""
    if hasattr(source, "state_dict") and callable(source.state_dict):
        kind = type(source).__name__
        expected = {"from_torch": ("LSTM", "LSTMCell"), "from_torch_gru": ("GRU", "GRUCell")}[who]
        if kind not in expected:
            raise ValueError(
                f"{who} converts torch.nn.{' / nn.'.join(expected)}; got a {kind} module"
                + (" (use interop.from_torch_gru)" if kind.startswith("GRU") else "")
                + (" (use interop.from_torch)" if kind.startswith("LSTM") else "")
            )
        source = source.state_dict()
    if not isinstance(source, Mapping):
        raise TypeError(
            f"state_dict must be a mapping of names to tensors (or the torch module); "
            f"got {describe(source)}"
        )
    return strip_prefix(source)


def torch_layers(state_dict) -> list[tuple[int, bool]]:
    """The (layer, reverse) pairs a ``torch.nn.LSTM`` / ``nn.GRU`` state dict holds, sorted.

    ``[(0, False)]`` for a one-layer module, ``[(0, False), (0, True), (1, False),
    (1, True)]`` for ``num_layers=2, bidirectional=True``, and ``[]`` for a
    ``nn.LSTMCell`` / ``nn.GRUCell`` (whose keys have no ``_l0`` suffix).
    """
    found = set()
    for key in state_dict:
        match = _TORCH_KEY.match(key)
        if match:
            found.add((int(match.group(1)), bool(match.group(2))))
    return sorted(found)


def describe_layers(found) -> str:
    return ", ".join(f"layer {k} {'reverse' if r else 'forward'}" for k, r in found)


def torch_suffix(sd: dict, layer, reverse, who: str) -> str:
    """The key suffix to read: ``"_l0"``, ``"_l1_reverse"``, or ``""`` for a cell.

    With ``layer`` and ``reverse`` left as None, the state dict must hold exactly
    one set of weights: a stacked or bidirectional module raises a ValueError that
    names what it holds, rather than quietly returning layer 0.
    """
    found = torch_layers(sd)
    if not found and "weight_ih" in sd:  # nn.LSTMCell / nn.GRUCell
        if layer not in (None, 0) or reverse not in (None, False):
            raise ValueError(
                f"this state dict is a single cell (keys weight_ih, weight_hh, ...), which has "
                f"no layers or directions; got layer={layer!r}, reverse={reverse!r}"
            )
        return ""
    if layer is None and reverse is None:
        if found in ([], [(0, False)]):
            return "_l0"  # a missing key is reported by the caller, by name
        raise ValueError(
            f"state_dict holds {describe_layers(found)} (a stacked or bidirectional module); "
            f"pick one with {who}(..., layer=k, reverse=False or True), or convert them all "
            f"with {who}_all(...)"
        )
    layer = 0 if layer is None else int(layer)
    reverse = bool(reverse)
    if found and (layer, reverse) not in found:
        raise ValueError(
            f"state_dict has no layer {layer} {'reverse' if reverse else 'forward'} "
            f"weights; it holds {describe_layers(found)}"
        )
    return f"_l{layer}" + ("_reverse" if reverse else "")


def read_torch(sd: dict, suffix: str, gates: int, dtype, who: str):
    """Validated (weight_ih, weight_hh, bias_ih, bias_hh) for one layer and direction."""
    names = [f"{k}{suffix}" for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    require_keys("state_dict", sd, names[:2])
    n = f"{gates}H"
    w_ih = as_numpy(names[0], sd[names[0]], dtype)
    w_hh = as_numpy(names[1], sd[names[1]], dtype)
    check_ndim(names[1], w_hh, 2, f"({n}, H)")
    H = w_hh.shape[1]
    if w_hh.shape != (gates * H, H):
        other = {4: "an LSTM (use from_torch)", 3: "a GRU (use from_torch_gru)"}
        hint = next((f": {w_hh.shape[0] // H}H rows look like {other[g]}"
                     for g in other if g != gates and w_hh.shape == (g * H, H)), "")
        raise ValueError(f"{names[1]} must have shape ({n}, H) = {(gates * H, H)} for "
                         f"{who}; got {w_hh.shape}{hint}")
    check_ndim(names[0], w_ih, 2, f"({n}, D)")
    if w_ih.shape[0] != gates * H:
        raise ValueError(f"{names[0]} must have shape ({n}, D) with H={H}; got {w_ih.shape}")
    biases = []
    for name in names[2:]:
        part = (as_numpy(name, sd[name], dtype) if name in sd
                else np.zeros(gates * H, dtype=w_hh.dtype))  # bias=False modules
        check_shape(name, part, (gates * H,), f"({n},)")
        biases.append(part)
    return w_ih, w_hh, biases[0], biases[1]


def all_layers(state_dict, convert, who: str) -> list[dict]:
    sd = torch_state(state_dict, who)
    found = torch_layers(sd)
    if not found:
        raise ValueError(f"state_dict has no layered keys (weight_ih_l0, ...); got {sorted(sd)}")
    layers = [{} for _ in range(max(k for k, _ in found) + 1)]
    for k, rev in found:
        layers[k]["reverse" if rev else "forward"] = convert(sd, layer=k, reverse=rev)
    return layers


def import_torch(who: str):
    try:
        import torch
    except ImportError as exc:  # optional peer
        raise ImportError(f"{who} needs PyTorch: pip install 'lstm-teach[torch]'") from exc
    return torch


# Keras 3 activation names -> package names. Keras 3's "hard_sigmoid" is clip(z/6 + 1/2);
# Keras 2 (tf.keras) used the same name for clip(0.2 z + 1/2), the package's "hard_sigmoid".
_KERAS3_TO_PACKAGE = {"hard_sigmoid": "hard_sigmoid_keras3", "linear": "identity"}
_PACKAGE_TO_KERAS3 = {"hard_sigmoid_keras3": "hard_sigmoid", "identity": "linear"}


def keras_activation(name: str, keras_major: int = 3) -> str:
    """The package activation for a Keras activation name.

    ``"hard_sigmoid"`` means clip(z/6 + 0.5) in Keras 3 (``keras_major=3``,
    package name ``"hard_sigmoid_keras3"``) and clip(0.2 z + 0.5) in Keras 2
    (``keras_major=2``, package name ``"hard_sigmoid"``). A package name such
    as ``"hard_sigmoid_keras2"`` is accepted as it is.
    """
    if not isinstance(name, str):
        raise ValueError(
            f"the Keras activation must be a built-in one named by a string; got {describe(name)} "
            "(a custom activation has no lstm_teach counterpart)"
        )
    key = name.lower()
    if keras_major >= 3:
        key = _KERAS3_TO_PACKAGE.get(key, key)
    try:
        return activations.get(key).name
    except ValueError:
        raise ValueError(
            f"Keras activation {name!r} has no lstm_teach counterpart; known: "
            f"{sorted(set(activations.names()) | {'linear'})}"
        ) from None


def keras3_activation_name(name: str) -> str:
    """The Keras 3 name for a package activation; ValueError if Keras 3 has none.

    Keras 3 has no function for Keras 2's hard sigmoid (package ``"hard_sigmoid"``).
    """
    act = activations.get(name).name
    if act == "hard_sigmoid":
        raise ValueError(
            "activation 'hard_sigmoid' is Keras 2's clip(0.2 z + 0.5); Keras 3's "
            "'hard_sigmoid' is clip(z/6 + 0.5) (package name 'hard_sigmoid_keras3'), so "
            "Keras 3 has no built-in equivalent"
        )
    return _PACKAGE_TO_KERAS3.get(act, act)


def keras_layer(source, expected: tuple[str, ...], who: str):
    """(weights, config, keras major version) of a Keras layer, or None for a weight list."""
    if not (hasattr(source, "get_weights") and hasattr(source, "get_config")):
        return None
    kind = type(source).__name__
    if kind not in expected:
        pair = {"LSTM": "from_keras", "GRU": "from_keras_gru"}
        hint = next((f"; use interop.{f}" for k, f in pair.items() if kind.startswith(k)), "")
        if kind == "Bidirectional":
            hint = ("; convert layer.forward_layer and layer.backward_layer one at a time "
                    "(the backward one runs on the input reversed in time)")
        raise ValueError(f"{who} converts a Keras {' / '.join(expected)} layer; got {kind}{hint}")
    config = source.get_config()
    if config.get("go_backwards"):
        raise ValueError(
            f"this Keras {kind} has go_backwards=True: convert its weights with "
            f"{who}(layer.get_weights(), ...) and run the package on x[:, ::-1]"
        )
    weights = source.get_weights()
    if not weights:
        raise ValueError(
            f"this Keras {kind} has no weights yet; build it first, e.g. call it on an "
            "input or layer.build((None, None, D))"
        )
    top = sys.modules.get(type(source).__module__.split(".")[0])
    version = getattr(top, "__version__", "3")
    return weights, config, int(str(version).split(".")[0])


def keras_activations(layer_info, activation, recurrent_activation):
    """Package names of (activation, recurrent_activation) for a layer or a weight list."""
    if layer_info is not None:
        _, config, major = layer_info
        return (keras_activation(config["activation"], major),
                keras_activation(config["recurrent_activation"], major))
    return (keras_activation(activation or "tanh"),
            keras_activation(recurrent_activation or "sigmoid"))


def keras_parts(weights, who: str) -> list:
    if isinstance(weights, Mapping):
        require_keys("weights", weights, ("kernel", "recurrent_kernel"))
        return [weights[k] for k in ("kernel", "recurrent_kernel", "bias") if k in weights]
    if isinstance(weights, Sequence) and not isinstance(weights, str):
        parts = list(weights)
        if len(parts) not in (2, 3):
            raise ValueError(
                "weights must be [kernel, recurrent_kernel, bias] (or the first two for "
                f"use_bias=False); got a list of {len(parts)} arrays"
            )
        return parts
    raise TypeError(
        f"{who} takes a Keras layer, a list from layer.get_weights() or a mapping; "
        f"got {describe(weights)}"
    )


def import_keras(who: str):
    if "keras" not in sys.modules:
        # Keras 3 defaults to TensorFlow; this kit's only tensor library is PyTorch.
        os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ImportError as exc:  # optional peer
        raise ImportError(f"{who} needs Keras 3: pip install 'lstm-teach[keras]'") from exc
    return keras


def keras_kernels(parts: Sequence, gates: int, dtype):
    """Keras' ``kernel`` (D, nH) and ``recurrent_kernel`` (H, nH) as checked arrays, and H.

    ``gates`` is n, the number of gate blocks: 4 for the LSTM, 3 for the GRU.
    """
    n = f"{gates}H" if gates > 1 else "H"
    kernel = as_numpy("kernel", parts[0], dtype)
    recurrent = as_numpy("recurrent_kernel", parts[1], dtype)
    check_ndim("recurrent_kernel", recurrent, 2, f"(H, {n})")
    H = recurrent.shape[0]
    check_shape("recurrent_kernel", recurrent, (H, gates * H), f"(H, {n})")
    check_ndim("kernel", kernel, 2, f"(D, {n})")
    if kernel.shape[1] != gates * H:
        raise ValueError(f"kernel must have shape (D, {n}) with H={H}; got {kernel.shape}")
    return kernel, recurrent, H


def check_package_params(params, gates: int, bias_keys: Sequence[str] = ("b",)):
    """Check a package parameter dict with ``gates`` blocks; return (D, H).

    ``W`` (D, nH), ``U`` (H, nH) and each of ``bias_keys`` (nH,), with n = ``gates``:
    4 for the LSTM, 3 for the GRU (which also has ``b_rec``).
    """
    n = f"{gates}H"
    require_keys("params", params, ("W", "U", *bias_keys))
    U = np.asarray(params["U"])
    check_ndim("params['U']", U, 2, f"(H, {n})")
    H = U.shape[0]
    check_shape("params['U']", U, (H, gates * H), f"(H, {n})")
    W = np.asarray(params["W"])
    check_ndim("params['W']", W, 2, f"(D, {n})")
    if W.shape[1] != gates * H:
        raise ValueError(f"params['W'] must have shape (D, {n}) with H={H} (from U); got {W.shape}")
    for k in bias_keys:
        check_shape(f"params[{k!r}]", np.asarray(params[k]), (gates * H,), f"({n},)")
    return W.shape[0], H
