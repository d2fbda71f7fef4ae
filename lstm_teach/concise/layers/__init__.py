"""Keras-like layers on top of the functional core: LSTM, SimpleRNN, Dense, Embedding, Dropout.

These are the "concise implementation" of the course. Each layer is a thin
object around the core functions (the LSTM layer calls
:func:`lstm_teach.lstm_forward` and :func:`lstm_teach.lstm_backward`; there is
no second LSTM implementation here), so what a learner builds from scratch and
what the layer does are the same computation.

Every layer follows one protocol:

``build(input_shape, rng=None, dtype=None)``
    create the parameters for inputs of ``input_shape`` (batch axis first,
    ``None`` allowed for unknown sizes); ``rng`` makes the initialisation
    reproducible. Calling a layer on data builds it automatically.
``forward(x, training=False)``
    compute the output and keep what the backward pass needs;
    ``training=True`` switches dropout on.
``backward(dout)``
    given d loss / d output, fill ``layer.grads`` (same keys as
    ``layer.params``, regularization gradients included) and return
    d loss / d input, multiplied by ``gradient_scale``.

Weights are plain numpy arrays in ``layer.params`` with the core's names
(``W``, ``U``, ``b``, ``P``), so ``layer.set_params(init_lstm(...))`` gives a
layer the exact weights of a from-scratch model. ``get_weights()`` lists them
in Keras order (kernel, recurrent kernel, bias), and the gate order [i, f, g, o]
is also the Keras order, so weights can be copied from a Keras LSTM as they are.
"""

from __future__ import annotations

from .base import Layer, get_initializer
from .core import Dense, Dropout, Embedding
from .recurrent import LSTM, SimpleRNN

__all__ = ["LAYER_CLASSES", "LSTM", "Dense", "Dropout", "Embedding", "Layer", "SimpleRNN",
           "from_config", "get_initializer"]


LAYER_CLASSES = {cls.__name__: cls for cls in (Dense, Embedding, Dropout, SimpleRNN, LSTM)}


def from_config(class_name: str, config: dict) -> Layer:
    """Rebuild a layer from ``type(layer).__name__`` and ``layer.get_config()``."""
    if class_name not in LAYER_CLASSES:
        raise ValueError(
            f"unknown layer class {class_name!r}; expected one of {sorted(LAYER_CLASSES)}"
        )
    return LAYER_CLASSES[class_name].from_config(dict(config))
