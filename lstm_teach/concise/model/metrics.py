"""Metrics by name (``"accuracy"``, ...) for :meth:`Sequential.compile`."""

from __future__ import annotations

import numpy as np

from ...core._checks import describe


def _make_metric(spec, loss_name):
    """Return ``(name, fn(pred, y) -> float)``; accuracy adapts to the loss."""
    if callable(spec):
        return getattr(spec, "__name__", "metric"), spec
    if not isinstance(spec, str):
        raise TypeError(f"metrics must be names or callables; got {describe(spec)}")
    key = spec.lower()
    if key in ("accuracy", "acc"):
        if loss_name == "sparse_categorical_crossentropy":
            return "accuracy", _sparse_accuracy
        if loss_name == "categorical_crossentropy":
            return "accuracy", _categorical_accuracy
        if loss_name == "binary_crossentropy":
            return "accuracy", _binary_accuracy
        raise ValueError(
            f"metric 'accuracy' needs a classification loss (sparse_categorical_crossentropy, "
            f"categorical_crossentropy or binary_crossentropy); the model uses {loss_name!r}"
        )
    if key in ("mae", "mean_absolute_error"):
        return "mae", lambda p, y: float(np.mean(np.abs(p - y)))
    if key in ("mse", "mean_squared_error"):
        return "mse", lambda p, y: float(np.mean((p - y) ** 2))
    raise ValueError(f"unknown metric {spec!r}; expected 'accuracy', 'mae', 'mse' or a callable")


def _sparse_accuracy(logits, labels):
    labels = np.asarray(labels)
    if labels.shape == logits.shape[:-1] + (1,):
        labels = labels[..., 0]
    return float(np.mean(np.argmax(logits, axis=-1) == labels))


def _categorical_accuracy(logits, target):
    return float(np.mean(np.argmax(logits, axis=-1) == np.argmax(target, axis=-1)))


def _binary_accuracy(logits, target):
    return float(np.mean((np.asarray(logits) > 0) == (np.asarray(target) > 0.5)))
