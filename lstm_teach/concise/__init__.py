"""The concise side: Keras-like layers, the ``Sequential`` model, optimizers and
regularizers, and the one guarded training step they share (:mod:`.training`)."""
