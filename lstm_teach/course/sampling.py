"""Sampling text from a character model, with a temperature.

A language model gives, at every step, logits ``z`` over the V characters.
Dividing them by a temperature ``tau`` before the softmax,

    p_k = exp(z_k / tau) / sum_j exp(z_j / tau),

sharpens the distribution (``tau < 1``: safer, more repetitive text) or
flattens it (``tau > 1``: more surprising text, more spelling mistakes).
``tau = 1`` is the model's own distribution and ``tau -> 0`` is greedy
decoding (always the most likely character), which ``temperature=0`` gives
exactly.

The model is reached through a *step function* ``step(ids) -> logits``: it
reads a 1-D array of ids (the prime text, then one id at a time), advances its
own hidden state over them, and returns the logits (V,) for the character that
follows the last one. :func:`model_stepper` makes one from a trained
``Sequential``; a from-scratch model writes its own in a few lines.

Every draw comes from an explicit ``np.random.Generator``, so the same seed
gives the same text (the workshop checks this after reloading a checkpoint).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..core._checks import as_float_array, check_positive_int, describe
from ..core.utils import as_rng


def _temperature(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"temperature must be a number >= 0; got {describe(value)}")
    value = float(value)
    if not (value >= 0.0 and np.isfinite(value)):
        raise ValueError(f"temperature must be a finite number >= 0; got {value}")
    return value


def softmax_with_temperature(logits, temperature: float = 1.0) -> np.ndarray:
    """Probabilities ``softmax(logits / temperature)`` over the last axis.

    Parameters
    ----------
    logits : array (..., V)
    temperature : float, >= 0
        0 puts all the mass on the largest logit (the first one on a tie).

    Returns
    -------
    np.ndarray, (..., V), float64; each row sums to 1.
    """
    z = as_float_array("logits", logits, dtype=np.float64)
    if z.ndim == 0 or z.shape[-1] == 0:
        raise ValueError(f"logits must have a last axis of V >= 1 classes; got shape {z.shape}")
    tau = _temperature(temperature)
    if tau == 0.0:
        probs = np.zeros_like(z)
        np.put_along_axis(probs, np.argmax(z, axis=-1)[..., None], 1.0, axis=-1)
        return probs
    z = z / tau
    z = z - np.max(z, axis=-1, keepdims=True)  # the largest exponent is 0: no overflow
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def sample_index(logits, temperature: float = 1.0, rng=None) -> int:
    """Draw one class index from ``softmax(logits / temperature)``.

    Exactly one uniform number ``u = rng.random()`` is used per draw (also at
    temperature 0, so that the random stream does not depend on the
    temperature), and the index is the first ``k`` with ``cumsum(p)[k] > u``:
    inverse-CDF sampling.

    Parameters
    ----------
    logits : array (V,)
    temperature : float, >= 0
    rng : np.random.Generator or int, optional

    Returns
    -------
    int in [0, V)
    """
    logits = as_float_array("logits", logits, dtype=np.float64)
    if logits.ndim != 1:
        raise ValueError(f"logits must be 1-D with shape (V,); got shape {logits.shape}")
    probs = softmax_with_temperature(logits, temperature)
    u = as_rng(rng).random()
    cdf = np.cumsum(probs)
    # u * cdf[-1] instead of u: the cumulative sum may end at 1 - 1e-16
    index = int(np.searchsorted(cdf, u * cdf[-1], side="right"))
    return min(index, probs.size - 1)


def sample_ids(
    step: Callable[[np.ndarray], np.ndarray],
    prime_ids,
    length: int,
    temperature: float = 1.0,
    rng=None,
) -> np.ndarray:
    """Generate ``length`` ids after a prime, one at a time.

    Parameters
    ----------
    step : callable
        ``step(ids)`` takes a 1-D int array, advances the model's state over
        it and returns the logits (V,) for the next id. It must start from a
        fresh state when this function starts (see :func:`model_stepper`).
    prime_ids : array_like of int, shape (P,), P >= 1
        The text the model reads before it starts writing.
    length : int
        How many ids to generate.
    temperature : float, >= 0
    rng : np.random.Generator or int, optional

    Returns
    -------
    np.ndarray, shape (length,), int64: the generated ids (the prime excluded).
    """
    prime = np.asarray(prime_ids)
    if prime.ndim != 1 or prime.size == 0 or prime.dtype.kind not in "iu":
        raise ValueError(f"prime_ids must be a non-empty 1-D array of ids; got {describe(prime)}")
    length = check_positive_int("length", length)
    temperature = _temperature(temperature)
    rng = as_rng(rng)
    out = np.empty(length, dtype=np.int64)
    logits = step(prime.astype(np.int64))
    for k in range(length):
        out[k] = sample_index(logits, temperature, rng)
        if k + 1 < length:
            logits = step(out[k : k + 1])
    return out


def sample_text(step, vocab, prime: str, length: int, temperature: float = 1.0, rng=None) -> str:
    """Like :func:`sample_ids`, with text in and text out through a ``CharVocab``.

    Returns the generated text only (without the prime).
    """
    if not isinstance(prime, str) or not prime:
        raise ValueError(f"prime must be a non-empty str; got {prime!r}")
    return vocab.decode(sample_ids(step, vocab.encode(prime), length, temperature, rng))


def model_stepper(model) -> Callable[[np.ndarray], np.ndarray]:
    """A step function for a ``Sequential`` character model, with its own carried state.

    The layers are run one after another on the ids given to ``step``, from
    their weights alone: recurrent layers (``LSTM``, ``SimpleRNN``) go through
    the functional core with the state carried from the previous call, so the
    layers' own caches and (stateful) training state are neither used nor
    changed. Typical model: ``Embedding``, then recurrent layers, then a
    ``Dense`` read-out of logits (``Dropout`` is skipped). Recurrent layers are
    stepped over every position whatever their ``return_sequences`` (only the
    last position is read out), so the logits are those the model gives for
    the last id it has read.

    Parameters
    ----------
    model : lstm_teach.model.Sequential
        Built (trained or loaded).

    Returns
    -------
    step : callable, ``step(ids (k,)) -> logits (V,)``
        Each call to :func:`model_stepper` starts from zero state.
    """
    from ..concise import layers as L
    from ..core.rnn import rnn_forward
    from ..kernels.lstm import lstm_forward

    if not getattr(model, "built", False):
        raise ValueError("model must be a built Sequential (train it, load it or call build)")
    states: dict[int, tuple] = {}
    for layer in model.layers:
        if not isinstance(layer, (L.Embedding, L.LSTM, L.SimpleRNN, L.Dense, L.Dropout)):
            raise ValueError(
                f"model_stepper supports Embedding, LSTM, SimpleRNN, Dense and Dropout layers; "
                f"got {type(layer).__name__}"
            )

    def step(ids) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.ndim != 1 or ids.size == 0 or ids.dtype.kind not in "iu":
            raise ValueError(f"ids must be a non-empty 1-D int array; got {describe(ids)}")
        x = ids[None, :]  # one sequence, (1, k)
        for k, layer in enumerate(model.layers):
            if isinstance(layer, L.LSTM):
                h0, c0 = states.get(k, (None, None))
                x, cache = lstm_forward(x, layer.params, h0, c0, layer.config)
                states[k] = (cache.hT.copy(), cache.cT.copy())
            elif isinstance(layer, L.SimpleRNN):
                x, cache = rnn_forward(x, layer.params, states.get(k), layer.activation)
                states[k] = x[:, -1].copy()
            elif isinstance(layer, L.Embedding):
                x = layer.params["E"][x]
            elif isinstance(layer, L.Dense):
                # the Dense forward, written out so that the layer's cache stays untouched
                x = x @ layer.params["W"]
                if layer.use_bias:
                    x = x + layer.params["b"]
                if layer.activation.name != "identity":
                    x = layer.activation.fn(x)
            # Dropout: the identity at inference
        return np.asarray(x)[0, -1].astype(np.float64)

    return step
