"""The LSTM's variants (:class:`LSTMConfig`) and the input checks shared by every implementation.

The readable reference (:mod:`lstm_teach.core.lstm`) and the fast kernel
(:mod:`lstm_teach.kernels.lstm`) take the same arguments; they validate them
here, once, so both give the same message for the same mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from . import activations
from ._checks import (
    as_float_array,
    check_finite,
    check_ndim,
    check_shape,
    describe,
    require_keys,
)

GATES = ("i", "f", "g", "o")


@dataclass(frozen=True)
class LSTMConfig:
    """Which LSTM variant to run. The defaults give the standard LSTM with a forget gate.

    Parameters
    ----------
    input_gate : bool
        False holds i = 1 (variant NIG: "no input gate").
    forget_gate : bool
        False holds f = 1: the original 1997 cell without forgetting (NFG).
    output_gate : bool
        False holds o = 1 (NOG).
    peepholes : bool
        The gates also see the cell state: i and f see c_{t-1}, o sees c_t
        (Gers & Schmidhuber 2000). Needs ``params["P"]`` of shape (3, H).
    coupled_input_forget : bool
        f = 1 - i (CIFG, as in the GRU). Needs both gates on.
    activation : str
        sigma_c, applied to the cell candidate g. "identity" gives NIAF.
    recurrent_activation : str
        sigma_g, applied to the gates.
    output_activation : str
        sigma_h, applied to the cell state before the output gate. "identity"
        gives NOAF.
    full_gate_recurrence : bool
        FGR (Greff et al. 2017; the gate-to-gate connections of the 1997 LSTM):
        every gate also receives the previous step's gate activations
        ``[i, f, o]_{t-1}`` through ``params["R"]`` of shape (3H, 3H), rows and
        column blocks in the order i, f, o (nine H x H matrices; the cell
        candidate g is not involved). The previous activations are zeros at the
        first step. Only the sequence functions support it: one
        :func:`lstm_step_forward` call has no previous gate activations.

    Raises
    ------
    ValueError
        For an impossible combination (CIFG without both gates) or an unknown
        activation name.
    """

    input_gate: bool = True
    forget_gate: bool = True
    output_gate: bool = True
    peepholes: bool = False
    coupled_input_forget: bool = False
    activation: str = "tanh"
    recurrent_activation: str = "sigmoid"
    output_activation: str = "tanh"
    full_gate_recurrence: bool = False

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("bool", bool) and not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"LSTMConfig.{f.name} must be True or False; got {value!r}")
        for name in ("activation", "recurrent_activation", "output_activation"):
            try:
                activations.get(getattr(self, name))
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"LSTMConfig.{name}: {exc}") from None
        if self.coupled_input_forget and not (self.input_gate and self.forget_gate):
            raise ValueError(
                "LSTMConfig: coupled_input_forget=True (CIFG, f = 1 - i) needs input_gate=True "
                f"and forget_gate=True; got input_gate={self.input_gate}, "
                f"forget_gate={self.forget_gate}"
            )

    def describe(self) -> str:
        """A short human-readable name such as ``"LSTM"``, ``"LSTM[NFG, peepholes]"``."""
        tags = []
        if not self.input_gate:
            tags.append("NIG")
        if not self.forget_gate:
            tags.append("NFG")
        if not self.output_gate:
            tags.append("NOG")
        if self.coupled_input_forget:
            tags.append("CIFG")
        if self.peepholes:
            tags.append("peepholes")
        if self.full_gate_recurrence:
            tags.append("FGR")
        if self.activation != "tanh":
            tags.append(f"sigma_c={self.activation}")
        if self.recurrent_activation != "sigmoid":
            tags.append(f"sigma_g={self.recurrent_activation}")
        if self.output_activation != "tanh":
            tags.append(f"sigma_h={self.output_activation}")
        return "LSTM" + (f"[{', '.join(tags)}]" if tags else "")


DEFAULT_CONFIG = LSTMConfig()


def resolve_config(config) -> LSTMConfig:
    """``config`` itself, or the standard LSTM for None; TypeError for anything else."""
    if config is None:
        return DEFAULT_CONFIG
    if not isinstance(config, LSTMConfig):
        raise TypeError(f"config must be an LSTMConfig or None; got {describe(config)}")
    return config


def validate_lstm_inputs(x, params, h0, c0, config, names=("x", "h0", "c0")):
    """Check and convert the inputs of an LSTM forward pass; shared by the reference and the kernel.

    ``x`` is (B, T, D); ``h0`` and ``c0`` are (B, H) or None (zeros). Every array
    is converted to one floating dtype (the widest given), and NaN or inf raises
    :class:`~lstm_teach.core.errors.NonFiniteError`. ``names`` are the argument
    names used in messages.

    Returns
    -------
    tuple
        ``(x, W, U, b, P, R, h0, c0)``; ``P`` and ``R`` are None unless the
        config uses peepholes / full gate recurrence.
    """
    xname, hname, cname = names
    require_keys("params", params, ("W", "U", "b"))
    if config.peepholes and "P" not in params:
        raise ValueError(
            "config.peepholes is True, so params must contain 'P' of shape (3, H) "
            "(peephole rows for i, f, o); got keys " + str(sorted(params))
        )
    if not config.peepholes and "P" in params:
        raise ValueError(
            "params contains peephole weights 'P' but config.peepholes is False; "
            "pass config=LSTMConfig(peepholes=True) (or drop 'P')"
        )
    if config.full_gate_recurrence and "R" not in params:
        raise ValueError(
            "config.full_gate_recurrence is True, so params must contain 'R' of shape (3H, 3H) "
            "(weights from the previous gate activations [i, f, o] to the gates [i, f, o]); "
            "got keys " + str(sorted(params))
        )
    if not config.full_gate_recurrence and "R" in params:
        raise ValueError(
            "params contains gate-recurrence weights 'R' but config.full_gate_recurrence is "
            "False; pass config=LSTMConfig(full_gate_recurrence=True) (or drop 'R')"
        )
    known = ("W", "U", "b", "P", "R")
    arrays = {k: as_float_array(f"params[{k!r}]", params[k]) for k in known if k in params}
    U = arrays["U"]
    check_ndim("params['U']", U, 2, "(H, 4H)")
    H = U.shape[0]
    check_shape("params['U']", U, (H, 4 * H), "(H, 4H)")
    W = arrays["W"]
    check_ndim("params['W']", W, 2, "(D, 4H)")
    if W.shape[1] != 4 * H:
        raise ValueError(f"params['W'] must have shape (D, 4H) with H={H} (from U); got {W.shape}")
    check_shape("params['b']", arrays["b"], (4 * H,), "(4H,)")
    if config.peepholes:
        check_shape("params['P']", arrays["P"], (3, H), "(3, H)")
    if config.full_gate_recurrence:
        check_shape("params['R']", arrays["R"], (3 * H, 3 * H), "(3H, 3H)")

    x = as_float_array(xname, x)
    check_ndim(xname, x, 3, "(B, T, D)")
    B, T, D = x.shape
    if D != W.shape[0]:
        raise ValueError(
            f"{xname} has feature size D={D} (shape {x.shape}), but params['W'] expects "
            f"D={W.shape[0]} (W has shape {W.shape})"
        )
    if T == 0 or B == 0:
        raise ValueError(
            f"{xname} must have at least one batch item and one time step; got {x.shape}"
        )
    states = []
    for name, s in ((hname, h0), (cname, c0)):
        if s is None:
            states.append(None)
            continue
        s = as_float_array(name, s)
        check_shape(name, s, (B, H), "(B, H)")
        states.append(s)

    dtype = np.result_type(x, *arrays.values(), *[s for s in states if s is not None])
    x = x.astype(dtype, copy=False)
    check_finite(xname, x)
    for k, a in arrays.items():
        arrays[k] = a.astype(dtype, copy=False)
        check_finite(f"params[{k!r}]", arrays[k])
    for j, (name, s) in enumerate(zip((hname, cname), states, strict=True)):
        if s is None:
            states[j] = np.zeros((B, H), dtype=dtype)
        else:
            states[j] = s.astype(dtype, copy=False)
            check_finite(name, states[j])
    return (x, arrays["W"], arrays["U"], arrays["b"], arrays.get("P"), arrays.get("R"),
            states[0], states[1])
