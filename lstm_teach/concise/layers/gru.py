"""The Keras-like :class:`GRU` layer, a thin object around the readable core GRU."""

from __future__ import annotations

from ...core import activations
from ...core.gru import GRUConfig, gru_backward, gru_forward
from .base import _initialize
from .recurrent import _Recurrent


class GRU(_Recurrent):
    """A GRU layer on :func:`lstm_teach.gru_forward` / :func:`lstm_teach.gru_backward`.

    The formulation is PyTorch's and Keras' ``reset_after=True`` (see
    :mod:`lstm_teach.core.gru`): gate blocks [r, z, n], an input bias ``b`` and a
    recurrent bias ``b_rec``. The parameter count is 3 (D H + H H + 2 H),
    Keras' count for the same layer.

    Parameters
    ----------
    units : int
        Hidden size H.
    activation : str
        sigma_c, on the candidate (default ``"tanh"``).
    recurrent_activation : str
        sigma_g, on the reset and update gates (default ``"sigmoid"``).
    use_bias : bool
        False keeps ``b`` and ``b_rec`` at zero and never trains them.
    kernel_initializer, recurrent_initializer, bias_initializer : str or callable
        For ``W`` (D, 3H), ``U`` (H, 3H), and both ``b`` and ``b_rec`` (3H,).
    kernel_regularizer, recurrent_regularizer, bias_regularizer :
        As for :class:`LSTM`; the bias regularizer applies to both biases, as in Keras.
    dropout : float in [0, 1)
        Input dropout, one mask per sequence.
    recurrent_dropout : float
        Must be 0: in a GRU, h_{t-1} enters both the recurrent products (where
        Keras masks it) and the final mix z h_{t-1} (where it does not), and the
        core step has no hook for that split yet. A ValueError says so.
    return_sequences, return_state, stateful, seed, **kwargs :
        As for :class:`LSTM`; the one state is h, so ``return_state`` gives
        ``out, h_T``.

    Attributes
    ----------
    params : dict
        ``W`` (D, 3H), ``U`` (H, 3H), ``b`` (3H,), ``b_rec`` (3H,).
    last_cache : GRUCache
        The core cache of the last forward pass (``cache.gates["z"]`` etc.).
    """

    n_states = 1
    state_names = ("h",)
    n_blocks = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 recurrent_dropout=0.0, **kwargs):
        if recurrent_dropout:
            raise ValueError(
                f"GRU supports recurrent_dropout=0 only; got {recurrent_dropout!r} (the core GRU "
                "step has no hook to mask h_{t-1} in the recurrent products only). Use dropout="
                " for the inputs, or the LSTM layer, which has recurrent_dropout"
            )
        super().__init__(units, **kwargs)
        self.config = GRUConfig(activation=activations.get(activation).name,
                                recurrent_activation=activations.get(recurrent_activation).name)

    @property
    def activation(self) -> str:
        return self.config.activation

    @property
    def recurrent_activation(self) -> str:
        return self.config.recurrent_activation

    def _build(self, input_shape, rng):
        super()._build(input_shape, rng)
        if self.bias_regularizer is not None and self.use_bias:
            self.regularizers["b_rec"] = self.bias_regularizer

    def _build_extra(self, rng):
        self.params["b_rec"] = _initialize(self.bias_initializer, (3 * self.units,), rng,
                                           self.dtype)
        if not self.use_bias:
            self.params["b_rec"][...] = 0.0

    def _extra_weights(self):
        return ["b_rec"] if self.use_bias else []

    @property
    def last_cache(self):
        return None if self._cache is None else self._cache[0]

    def _core_forward(self, x, states0):
        hs, cache = gru_forward(x, self.params, states0[0], self.config)
        return hs, cache, (hs[:, -1].copy(),)

    def _core_backward(self, dhs, cache, dfinal_c):
        dx, dh0, grads = gru_backward(dhs, cache)
        if not self.use_bias:
            grads.pop("b_rec")
        return dx, (dh0,), grads

    def get_config(self):
        return {"activation": self.activation,
                "recurrent_activation": self.recurrent_activation, **super().get_config()}
