"""A small Keras-like ``Sequential`` model: compile, fit, predict, evaluate, save, load.

::

    from lstm_teach import layers, optim
    from lstm_teach import Sequential

    model = Sequential([layers.LSTM(32), layers.Dense(1)], seed=0)
    model.compile(optimizer=optim.Adam(learning_rate=1e-2, clipnorm=1.0), loss="mse")
    history = model.fit(x, y, batch_size=64, epochs=10, validation_data=(x_val, y_val))

The rooms: :mod:`.sequential` (the model), :mod:`.callbacks`, :mod:`.metrics`,
:mod:`.progress` and :mod:`.checkpoints`; the training step's safety net is in
:mod:`lstm_teach.concise.training`.
"""

from __future__ import annotations

from ..training import TrainingDivergedError
from .callbacks import Callback, EarlyStopping, History, LambdaCallback
from .sequential import Sequential, load_model

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "Sequential",
    "TrainingDivergedError",
    "load_model",
]
