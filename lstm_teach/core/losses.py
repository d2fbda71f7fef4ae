"""Loss functions, each returning the loss and its gradient in one call.

Every loss has the signature ``loss, dpred = fn(pred, target)``:

``pred``
    the network output, shape ``(..., C)``: ``(B, C)`` for one output per
    sequence, ``(B, T, C)`` for one per time step. The cross-entropies take
    *logits* (the raw, unsquashed output); they apply the sigmoid or softmax
    themselves, in a numerically stable way.
``loss``
    a Python float: the mean over every leading axis (batch and time), so
    the loss does not grow with the batch size or the sequence length.
``dpred``
    d loss / d pred, same shape and dtype as ``pred``; it already includes
    the 1/N of the mean.

Stability: the softmax cross-entropy uses ``logsumexp(z) - z[label]`` with
the maximum subtracted, and the binary one uses the softplus
``log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|))``, so logits of +-1e4 give
finite losses and gradients.

Look losses up by name with :func:`get` (``"mse"``,
``"sparse_categorical_crossentropy"``, ...). ``"softmax_cross_entropy"`` is an
alias of the sparse categorical cross-entropy (integer labels), the name the
lessons use.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, describe


def _leading_count(shape) -> int:
    """Number of examples over which a per-example loss is averaged."""
    return int(np.prod(shape[:-1])) if len(shape) > 1 else 1


def _check_pair(pred: np.ndarray, target: np.ndarray, what: str) -> None:
    if pred.shape != target.shape:
        raise ValueError(
            f"{what}: target must have the shape of pred, {pred.shape}; got {target.shape}"
        )


def logsumexp(z: np.ndarray) -> np.ndarray:
    """``log(sum(exp(z), axis=-1))`` without overflow; shape ``z.shape[:-1]``."""
    zmax = np.max(z, axis=-1, keepdims=True)
    return (zmax + np.log(np.sum(np.exp(z - zmax), axis=-1, keepdims=True)))[..., 0]


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, stable; same shape as ``z``."""
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def mse(pred, target) -> tuple[float, np.ndarray]:
    """Mean squared error over all entries.

    Parameters
    ----------
    pred : array (..., C)
    target : array, same shape as pred

    Returns
    -------
    loss : float
        ``mean((pred - target) ** 2)``.
    dpred : array, shape of pred
        ``2 (pred - target) / pred.size``.
    """
    pred = as_float_array("pred", pred)
    target = as_float_array("target", target, dtype=pred.dtype)
    _check_pair(pred, target, "mse")
    diff = pred - target
    loss = float(np.mean(diff * diff))
    return loss, (2.0 / diff.size) * diff


def binary_crossentropy(logits, target) -> tuple[float, np.ndarray]:
    """Binary cross-entropy from logits (sigmoid applied inside, stably).

    Parameters
    ----------
    logits : array (..., C)
        Raw scores; ``sigmoid(logits)`` is the predicted probability of 1.
    target : array, same shape as logits
        Targets in [0, 1] (hard 0/1 labels or soft probabilities).

    Returns
    -------
    loss : float
        The mean over all entries of ``softplus(z) - y z``, which equals
        ``-y log p - (1 - y) log(1 - p)`` with ``p = sigmoid(z)``.
    dlogits : array, shape of logits
        ``(sigmoid(z) - y) / logits.size``.
    """
    z = as_float_array("logits", logits)
    y = as_float_array("target", target, dtype=z.dtype)
    _check_pair(z, y, "binary_crossentropy")
    outside = ~((y >= 0.0) & (y <= 1.0))  # NaN counts as outside
    if outside.any():
        first = tuple(int(i) for i in np.argwhere(outside)[0])
        raise ValueError(
            f"binary_crossentropy: target must lie in [0, 1] (labels or probabilities); "
            f"{int(outside.sum())} value(s) do not, the first at index {first}: {y[first]}"
        )
    softplus = np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))
    loss = float(np.mean(softplus - y * z))
    return loss, (_sigmoid(z) - y) / z.size


def categorical_crossentropy(logits, target) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy from logits, with one-hot or probability targets.

    Parameters
    ----------
    logits : array (..., C)
        Raw class scores over the last axis.
    target : array, same shape as logits
        A distribution over the C classes for each example (rows sum to 1).

    Returns
    -------
    loss : float
        Mean over the leading axes of ``-sum_c y_c log softmax(z)_c``.
    dlogits : array, shape of logits
        ``(softmax(z) * sum_c y_c - y) / N`` with N the number of examples.
    """
    z = as_float_array("logits", logits)
    y = as_float_array("target", target, dtype=z.dtype)
    _check_pair(z, y, "categorical_crossentropy")
    n = _leading_count(z.shape)
    lse = logsumexp(z)
    mass = np.sum(y, axis=-1)
    loss = float(np.sum(mass * lse - np.sum(y * z, axis=-1)) / n)
    dz = (softmax(z) * mass[..., None] - y) / n
    return loss, dz


def sparse_categorical_crossentropy(logits, labels) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy from logits, with integer class labels.

    Parameters
    ----------
    logits : array (..., C)
        Raw class scores, e.g. ``(B, C)`` or ``(B, T, C)``.
    labels : int array (...)
        Class indices in ``[0, C)``, shape ``logits.shape[:-1]``.

    Returns
    -------
    loss : float
        Mean over the leading axes of ``logsumexp(z) - z[label]``.
    dlogits : array, shape of logits
        ``(softmax(z) - onehot(label)) / N``.
    """
    z = as_float_array("logits", logits)
    labels = np.asarray(labels)
    if labels.dtype.kind == "f" and np.all(labels == np.round(labels)):
        labels = labels.astype(np.int64)  # integer-valued floats, e.g. from a float array
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"labels must be integer class indices; got {describe(labels)}"
        )
    if labels.shape == z.shape[:-1] + (1,):
        labels = labels[..., 0]  # Keras accepts a trailing axis of 1
    if labels.shape != z.shape[:-1]:
        raise ValueError(
            f"labels must have shape logits.shape[:-1] = {z.shape[:-1]}; got {labels.shape}"
        )
    n_classes = z.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"labels must lie in [0, {n_classes}); got values from {labels.min()} to {labels.max()}"
        )
    n = _leading_count(z.shape)
    flat_z = z.reshape(-1, n_classes)
    flat_labels = labels.reshape(-1)
    rows = np.arange(flat_labels.size)
    loss = float(np.sum(logsumexp(flat_z) - flat_z[rows, flat_labels]) / n)
    dz = softmax(flat_z)
    dz[rows, flat_labels] -= 1.0
    dz /= n
    return loss, dz.reshape(z.shape)


REGISTRY = {
    "mse": mse,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}
ALIASES = {
    "mean_squared_error": "mse",
    "softmax_cross_entropy": "sparse_categorical_crossentropy",
    "bce": "binary_crossentropy",
}


def get(name):
    """Look up a loss by name; a callable is returned unchanged.

    Known names: ``mse`` (alias ``mean_squared_error``), ``binary_crossentropy``
    (alias ``bce``), ``categorical_crossentropy``,
    ``sparse_categorical_crossentropy`` (alias ``softmax_cross_entropy``).
    """
    if callable(name):
        return name
    if not isinstance(name, str):
        raise TypeError(f"loss must be a name (str) or a callable; got {describe(name)}")
    key = ALIASES.get(name.lower(), name.lower())
    if key not in REGISTRY:
        raise ValueError(
            f"unknown loss {name!r}; expected one of {sorted(REGISTRY) + sorted(ALIASES)}"
        )
    return REGISTRY[key]


def canonical_name(loss) -> str | None:
    """The registry name of ``loss`` (a name or one of the functions here), else ``None``."""
    if isinstance(loss, str):
        key = loss.lower()
        key = ALIASES.get(key, key)
        return key if key in REGISTRY else None
    for name, fn in REGISTRY.items():
        if fn is loss:
            return name
    return None
