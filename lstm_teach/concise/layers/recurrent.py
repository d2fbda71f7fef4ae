"""The recurrent layers: :class:`SimpleRNN` and :class:`LSTM`, thin objects around the kernels."""

from __future__ import annotations

import dataclasses

import numpy as np

from ...core import activations
from ...core._checks import as_float_array, check_bool, check_ndim, check_positive_int, describe
from ...core.lstm_config import LSTMConfig
from ...core.rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from ...core.utils import as_rng
from ...kernels.lstm import (
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
)
from .. import regularizers
from .base import (
    Layer,
    _dropout_mask,
    _fraction,
    _initialize,
    _initializer_name,
    _shape_str,
    get_initializer,
)

# --------------------------------------------------------------------------- recurrent layers


class _Recurrent(Layer):
    """What LSTM and SimpleRNN share: dropout masks, state handling, output selection."""

    n_states = 1  # 1 for the RNN (h), 2 for the LSTM (h, c)
    state_names: tuple[str, ...] = ("h",)
    n_blocks = 1  # columns of W per unit: 4 for the LSTM

    def __init__(self, units, use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 dropout=0.0, recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 stateful=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.use_bias = check_bool("use_bias", use_bias)
        for init_spec in (kernel_initializer, recurrent_initializer, bias_initializer):
            get_initializer(init_spec)
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.dropout = _fraction("dropout", dropout)
        self.recurrent_dropout = _fraction("recurrent_dropout", recurrent_dropout)
        self.return_sequences = check_bool("return_sequences", return_sequences)
        self.return_state = check_bool("return_state", return_state)
        self.stateful = check_bool("stateful", stateful)
        self.seed = seed
        self._rng = None if seed is None else as_rng(seed)
        self.states = None  # carried (h,) or (h, c) when stateful
        self.initial_state_grads = None

    # -- building -------------------------------------------------------------
    def _build(self, input_shape, rng):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(
                f"{type(self).__name__} expects inputs of shape (batch, timesteps, features) "
                f"with a known feature size; got input shape {_shape_str(input_shape)}"
            )
        if self._rng is None:
            self._rng = rng
        D, H, k = input_shape[-1], self.units, self.n_blocks
        # Draw in the order W, U, b (then P) so that default initializers give exactly
        # init_lstm / init_rnn with the same generator.
        self.params = {
            "W": _initialize(self.kernel_initializer, (D, k * H), rng, self.dtype),
            "U": _initialize(self.recurrent_initializer, (H, k * H), rng, self.dtype),
            "b": _initialize(self.bias_initializer, (k * H,), rng, self.dtype),
        }
        if not self.use_bias:
            self.params["b"][...] = 0.0  # kept at zero for the core, never trained
        self._build_extra(rng)
        self.weight_names = ["W", "U"] + (["b"] if self.use_bias else []) + self._extra_weights()
        self.regularizers = {}
        for key, reg in (("W", self.kernel_regularizer), ("U", self.recurrent_regularizer),
                         ("b", self.bias_regularizer if self.use_bias else None)):
            if reg is not None:
                self.regularizers[key] = reg

    def _build_extra(self, rng):
        pass

    def _extra_weights(self) -> list[str]:
        return []

    def compute_output_shape(self, input_shape):
        B, T = input_shape[0], input_shape[1]
        return (B, T, self.units) if self.return_sequences else (B, self.units)

    # -- states -----------------------------------------------------------------
    def reset_states(self) -> None:
        """Forget the carried state (stateful mode): the next batch starts from zeros."""
        self.states = None

    def _initial_states(self, B, initial_state, dtype):
        """(h0,) or (h0, c0), each (B, H) or None for zeros."""
        if initial_state is not None:
            states = initial_state if isinstance(initial_state, (list, tuple)) else [initial_state]
            if len(states) != self.n_states:
                raise ValueError(
                    f"initial_state must be a list of {self.n_states} arrays "
                    f"{list(self.state_names)}, each (batch, units); got {len(states)}"
                )
            return tuple(states)
        if self.stateful and self.states is not None:
            carried = self.states[0].shape[0]
            if carried != B:
                raise ValueError(
                    f"stateful layer {self.name!r} carries a state for batch size {carried} but "
                    f"got a batch of {B}; keep the batch size fixed (the number of samples must "
                    "be a multiple of batch_size) or call reset_states()"
                )
            return self.states
        return (None,) * self.n_states

    # -- forward / backward -------------------------------------------------------
    def _check_input(self, x):
        x = as_float_array("x", x)
        check_ndim("x", x, 3, "(batch, timesteps, features)")
        D = self.params["W"].shape[0]
        if x.shape[2] != D:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} was built for {D} input features; "
                f"got x of shape {x.shape}"
            )
        return x

    def forward(self, x, training=False, initial_state=None):
        """Run the layer over ``x`` (B, T, D).

        Parameters
        ----------
        x : array (B, T, D)
        training : bool
            Apply dropout masks (fixed for the whole sequence).
        initial_state : list of arrays (B, H), optional
            ``[h0, c0]`` for the LSTM, ``[h0]`` for the RNN; zeros (or the
            carried state when stateful) by default.

        Returns
        -------
        out : (B, T, H) if return_sequences else (B, H)
        and, with ``return_state=True``, the final states: ``(out, h_T, c_T)``
        for the LSTM, ``(out, h_T)`` for the RNN.
        """
        self._require_built("forward")
        x = self._check_input(x)
        B = x.shape[0]
        states0 = self._initial_states(B, initial_state, x.dtype)
        in_mask = rec_mask = None
        if training and self.dropout > 0:
            # One mask per sequence, shared by all time steps (Gal & Ghahramani 2016).
            in_mask = _dropout_mask(self._rng, (B, 1, x.shape[2]), self.dropout, x.dtype)
            x = x * in_mask
        if training and self.recurrent_dropout > 0:
            rec_mask = _dropout_mask(self._rng, (B, self.units), self.recurrent_dropout, x.dtype)
        if rec_mask is None:
            hs, core_cache, final = self._core_forward(x, states0)
        else:
            hs, core_cache, final = self._stepwise_forward(x, states0, rec_mask)
        if self.stateful:
            self.states = tuple(s.copy() for s in final)
        self._cache = (core_cache, in_mask, rec_mask, hs.shape)
        out = hs if self.return_sequences else hs[:, -1]
        if self.return_state:
            return (out, *final)
        return out

    def backward(self, dout):
        """Backpropagate ``dout`` (the gradient of the output) to the input.

        ``dout`` is (B, T, H) or (B, H) following ``return_sequences``; with
        ``return_state=True`` it may be a tuple ``(dout, dh_T[, dc_T])`` whose
        extra entries (or None) are the gradients reaching the final states.
        Returns dx (B, T, D). The gradients with respect to ``initial_state``
        are left in ``layer.initial_state_grads``.
        """
        core_cache, in_mask, rec_mask, hs_shape = self._check_cache()
        dstates = (None,) * self.n_states
        if isinstance(dout, (tuple, list)):
            if not self.return_state or len(dout) != 1 + self.n_states:
                raise ValueError(
                    f"dout must be one array, or with return_state=True a tuple of "
                    f"{1 + self.n_states} (output, {', '.join(self.state_names)} gradients)"
                )
            dout, *dstates = dout
        B, T, H = hs_shape
        dout = as_float_array("dout", dout)
        if self.return_sequences:
            if dout.shape != (B, T, H):
                raise ValueError(f"dout must have shape (B, T, H) = {(B, T, H)}; got {dout.shape}")
            dhs = dout.copy() if dstates[0] is not None else dout
        else:
            if dout.shape != (B, H):
                raise ValueError(f"dout must have shape (B, H) = {(B, H)}; got {dout.shape}")
            dhs = np.zeros((B, T, H), dtype=dout.dtype)
            dhs[:, -1] = dout
        if dstates[0] is not None:
            dhs[:, -1] += dstates[0]
        dfinal_c = dstates[1] if self.n_states == 2 else None
        if rec_mask is None:
            dx, dinit, grads = self._core_backward(dhs, core_cache, dfinal_c)
        else:
            dx, dinit, grads = self._stepwise_backward(dhs, core_cache, dfinal_c, rec_mask)
        if in_mask is not None:
            dx = dx * in_mask
        if not self.use_bias:
            grads.pop("b", None)
        self.initial_state_grads = dinit
        return self._finish_backward(grads, dx)

    # -- serialisation ----------------------------------------------------------
    def get_config(self):
        return {
            "units": self.units,
            "use_bias": self.use_bias,
            "kernel_initializer": _initializer_name(self.kernel_initializer) or "glorot_uniform",
            "recurrent_initializer": _initializer_name(self.recurrent_initializer) or "orthogonal",
            "bias_initializer": _initializer_name(self.bias_initializer) or "zeros",
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "stateful": self.stateful,
            "seed": self.seed,
            **super().get_config(),
        }


class SimpleRNN(_Recurrent):
    """An Elman RNN layer on :func:`lstm_teach.rnn_forward` / :func:`lstm_teach.rnn_backward`.

    Parameters
    ----------
    units : int
        Hidden size H.
    activation : str
        Default ``"tanh"``.
    use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
    kernel_regularizer, recurrent_regularizer, bias_regularizer, dropout,
    recurrent_dropout, return_sequences, return_state, stateful, seed :
        As for :class:`LSTM`.
    **kwargs
        ``name``, ``trainable``, ``keep_gradients``, ``gradient_scale``, ``dtype``.

    Shapes: ``x`` (B, T, D); ``W`` (D, H), ``U`` (H, H), ``b`` (H,);
    output (B, T, H) or (B, H); with ``return_state`` also ``h_T`` (B, H).
    """

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, **kwargs)
        self.activation = activations.get(activation).name

    def _core_forward(self, x, states0):
        hs, cache = rnn_forward(x, self.params, states0[0], activation=self.activation)
        return hs, cache, (cache.hT.copy(),)

    def _core_backward(self, dhs, cache, dfinal_c):
        dx, dh0, grads = rnn_backward(dhs, cache)
        return dx, (dh0,), grads

    def _stepwise_forward(self, x, states0, rec_mask):
        """Recurrent dropout: the mask multiplies h_{t-1} where it enters U, one step at a time."""
        B, T, _ = x.shape
        h = states0[0] if states0[0] is not None else np.zeros((B, self.units), x.dtype)
        hs = np.empty((B, T, self.units), dtype=x.dtype)
        caches = []
        for t in range(T):
            h, cache = rnn_step_forward(x[:, t], h * rec_mask, self.params, self.activation)
            hs[:, t] = h
            caches.append(cache)
        return hs, caches, (h,)

    def _stepwise_backward(self, dhs, caches, dfinal_c, rec_mask):
        B, T, _ = dhs.shape
        dx = np.empty((B, T, self.params["W"].shape[0]), dtype=dhs.dtype)
        grads = {k: np.zeros_like(self.params[k]) for k in ("W", "U", "b")}
        dh_next = np.zeros((B, self.units), dtype=dhs.dtype)
        for t in range(T - 1, -1, -1):
            dx[:, t], dh_masked, g = rnn_step_backward(dhs[:, t] + dh_next, caches[t])
            dh_next = dh_masked * rec_mask
            for k in grads:
                grads[k] += g[k]
        return dx, (dh_next,), grads

    def get_config(self):
        return {"activation": self.activation, **super().get_config()}


_CONFIG_FLAGS = ("input_gate", "forget_gate", "output_gate", "peepholes", "coupled_input_forget")


class LSTM(_Recurrent):
    """A Keras-like LSTM layer on the core :func:`lstm_teach.lstm_forward` and ``lstm_backward``.

    Parameters
    ----------
    units : int
        Number of cells H (the size of h and c).
    activation, recurrent_activation, output_activation : str, optional
        sigma_c (on the cell candidate), sigma_g (on the gates) and sigma_h (on
        the cell state before the output gate). Default from ``config``
        (``"tanh"``, ``"sigmoid"``, ``"tanh"``).
    use_bias : bool
        False keeps ``b`` at zero and never trains it.
    kernel_initializer, recurrent_initializer, bias_initializer : str or callable
        For ``W`` (D, 4H), ``U`` (H, 4H) and ``b`` (4H,); defaults
        ``"glorot_uniform"``, ``"orthogonal"``, ``"zeros"``.
    unit_forget_bias : bool
        Add 1 to the forget-gate bias at initialisation (default True).
    kernel_regularizer, recurrent_regularizer, bias_regularizer :
        L1 / L2 / L1L2 objects, names such as ``"l2"``, or None.
    dropout : float in [0, 1)
        Fraction of the input features dropped in training; the mask is drawn
        once per sequence and shared by all time steps.
    recurrent_dropout : float in [0, 1)
        Fraction of h_{t-1} dropped where it enters the recurrent weights U,
        one mask per sequence (Gal & Ghahramani 2016). The core has no hook for
        this yet, so training with it runs the step functions in a Python loop
        (slower); inference is unaffected.
    return_sequences : bool
        Output all hidden states (B, T, H) instead of the last one (B, H).
    return_state : bool
        Also return the final ``h_T`` and ``c_T`` (each (B, H)):
        ``out, h, c = layer(x)``. Not usable inside ``Sequential``.
    stateful : bool
        Carry the final (h, c) of each batch into the next batch as its initial
        state (sample i continues sample i); gradients are not carried
        (truncated BPTT). ``reset_states()`` starts again from zeros.
    config : LSTMConfig, optional
        The variant (gates on/off, peepholes, CIFG, activations).
    input_gate, forget_gate, output_gate, peepholes, coupled_input_forget : bool, optional
        Individual :class:`LSTMConfig` flags; they override ``config``.
    seed : int, optional
        Seeds the layer's dropout generator (the model's generator otherwise).
    **kwargs
        ``name``, ``trainable``, ``keep_gradients``, ``gradient_scale``, ``dtype``
        (see :class:`Layer`).

    Attributes
    ----------
    params : dict
        ``W`` (D, 4H), ``U`` (H, 4H), ``b`` (4H,), and ``P`` (3, H) with
        peepholes; gate blocks [i, f, g, o].
    last_cache : LSTMCache
        The core cache of the last forward pass (gates and cell states by name,
        for plots), or a list of one-step caches with recurrent dropout.
    """

    n_states = 2
    state_names = ("h", "c")
    n_blocks = 4

    def __init__(self, units, activation=None, recurrent_activation=None, output_activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, config=None, input_gate=None, forget_gate=None,
                 output_gate=None, peepholes=None, coupled_input_forget=None, **kwargs):
        super().__init__(units, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        if config is None:
            config = LSTMConfig()
        elif isinstance(config, dict):
            config = LSTMConfig(**config)
        elif not isinstance(config, LSTMConfig):
            raise TypeError(f"config must be an LSTMConfig, a dict or None; got {describe(config)}")
        overrides = {
            "activation": activation,
            "recurrent_activation": recurrent_activation,
            "output_activation": output_activation,
            "input_gate": input_gate,
            "forget_gate": forget_gate,
            "output_gate": output_gate,
            "peepholes": peepholes,
            "coupled_input_forget": coupled_input_forget,
        }
        overrides = {k: v for k, v in overrides.items() if v is not None}
        for key in ("activation", "recurrent_activation", "output_activation"):
            if key in overrides:
                overrides[key] = activations.get(overrides[key]).name
        self.config = dataclasses.replace(config, **overrides)
        self.unit_forget_bias = check_bool("unit_forget_bias", unit_forget_bias)

    @property
    def activation(self) -> str:
        return self.config.activation

    @property
    def recurrent_activation(self) -> str:
        return self.config.recurrent_activation

    @property
    def output_activation(self) -> str:
        return self.config.output_activation

    def _build_extra(self, rng):
        H = self.units
        if self.unit_forget_bias and self.use_bias:
            self.params["b"][H : 2 * H] += 1.0
        if self.config.peepholes:
            # Same draw as init_lstm, so default layers match the from-scratch parameters.
            self.params["P"] = rng.uniform(-0.1, 0.1, size=(3, H)).astype(self.dtype)
        if self.config.full_gate_recurrence:
            self.params["R"] = rng.uniform(-0.1, 0.1, size=(3 * H, 3 * H)).astype(self.dtype)

    def _extra_weights(self):
        return [k for k, on in (("P", self.config.peepholes),
                                ("R", self.config.full_gate_recurrence)) if on]

    @property
    def last_cache(self):
        return None if self._cache is None else self._cache[0]

    def _core_forward(self, x, states0):
        hs, cache = lstm_forward(x, self.params, states0[0], states0[1], self.config)
        return hs, cache, (cache.hT.copy(), cache.cT.copy())

    def _core_backward(self, dhs, cache, dfinal_c):
        dx, dh0, dc0, grads = lstm_backward(dhs, cache, dcT=dfinal_c)
        return dx, (dh0, dc0), grads

    def _stepwise_forward(self, x, states0, rec_mask):
        """Recurrent dropout: the mask multiplies h_{t-1} where it enters U, one step at a time.

        In the LSTM step h_{t-1} is used only in ``h_{t-1} U``, so masking the
        h passed to the step function is exactly masking the recurrent input.
        """
        B, T, _ = x.shape
        H = self.units
        h = states0[0] if states0[0] is not None else np.zeros((B, H), x.dtype)
        c = states0[1] if states0[1] is not None else np.zeros((B, H), x.dtype)
        hs = np.empty((B, T, H), dtype=x.dtype)
        caches = []
        for t in range(T):
            h, c, cache = lstm_step_forward(x[:, t], h * rec_mask, c, self.params, self.config)
            hs[:, t] = h
            caches.append(cache)
        return hs, caches, (h, c)

    def _stepwise_backward(self, dhs, caches, dfinal_c, rec_mask):
        B, T, _ = dhs.shape
        dx = np.empty((B, T, self.params["W"].shape[0]), dtype=dhs.dtype)
        grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        dh_next = np.zeros((B, self.units), dtype=dhs.dtype)
        dc = dfinal_c
        for t in range(T - 1, -1, -1):
            dx[:, t], dh_masked, dc, g = lstm_step_backward(dhs[:, t] + dh_next, dc, caches[t])
            dh_next = dh_masked * rec_mask
            for k in grads:
                grads[k] += g[k]
        return dx, (dh_next, dc), grads

    def get_config(self):
        return {
            "unit_forget_bias": self.unit_forget_bias,
            "config": dataclasses.asdict(self.config),
            **super().get_config(),
        }
