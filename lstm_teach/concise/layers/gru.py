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
    recurrent_dropout : float in [0, 1)
        Fraction of h_{t-1} dropped where it enters the recurrent weights U
        (the three products for r, z and n), in training only. As in Keras'
        ``GRUCell``, the mix ``h_t = (1 - z) n + z h_{t-1}`` keeps the unmasked
        h_{t-1}, so the state that z carries forward is never dropped. The
        mask is inverted dropout (kept units scaled by 1/(1 - rate), as Keras
        and this package's LSTM do, so inference needs no rescaling), drawn
        once per sequence and shared by all time steps (Gal & Ghahramani
        2016). One (B, H) mask serves all three products, as in this package's
        LSTM and SimpleRNN layers, so the three layers drop the same way. Keras
        3 draws an independent mask for each gate block instead (Gal and
        Ghahramani's untied variant): the weights, the network and its
        inference are the same, only the training noise differs, and with its
        three masks set equal Keras computes exactly this layer's numbers (a
        test checks it). The mask goes to the core through
        ``gru_forward(..., recurrent_mask=)``, so the layer needs no loop of its
        own and ``last_cache`` stays a :class:`GRUCache`.
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

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", **kwargs):
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

    def _core_forward(self, x, states0, rec_mask=None):
        hs, cache = gru_forward(x, self.params, states0[0], self.config, recurrent_mask=rec_mask)
        return hs, cache, (hs[:, -1].copy(),)

    def _core_backward(self, dhs, cache, dfinal_c):
        dx, dh0, grads = gru_backward(dhs, cache)  # the cache carries the mask, if any
        if not self.use_bias:
            grads.pop("b_rec")
        return dx, (dh0,), grads

    # Recurrent dropout: the core GRU takes the mask itself (see _core_forward), because
    # h_{t-1} is masked in h_{t-1} U only, not in the mix z h_{t-1}.
    def _stepwise_forward(self, x, states0, rec_mask):
        return self._core_forward(x, states0, rec_mask)

    def _stepwise_backward(self, dhs, cache, dfinal_c, rec_mask):
        return self._core_backward(dhs, cache, dfinal_c)

    def get_config(self):
        return {"activation": self.activation,
                "recurrent_activation": self.recurrent_activation, **super().get_config()}
