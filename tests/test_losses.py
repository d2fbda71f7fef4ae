"""Losses: values against the textbook formulas, gradients against finite differences,
stability for huge logits, averaging over batch and time, and the error messages."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_teach import losses
from lstm_teach.core.gradcheck import numerical_gradient, rel_error


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _grad_error(fn, pred, target):
    """Relative error between a loss's analytic and numerical gradient."""
    _, analytic = fn(pred, target)
    numeric = numerical_gradient(lambda p: fn(p, target)[0], pred)
    return rel_error(analytic, numeric)


@pytest.mark.parametrize("shape", [(4, 3), (3, 5, 2)])
def test_mse_value_and_gradient(rng, shape):
    pred, target = rng.standard_normal(shape), rng.standard_normal(shape)
    loss, dpred = losses.mse(pred, target)
    assert loss == pytest.approx(np.mean((pred - target) ** 2), rel=1e-14)
    np.testing.assert_allclose(dpred, 2 * (pred - target) / pred.size, rtol=1e-14)
    assert _grad_error(losses.mse, pred, target) < 1e-9


@pytest.mark.parametrize("shape", [(6, 1), (2, 4, 3)])
def test_binary_crossentropy_matches_the_probability_formula(rng, shape):
    z = rng.standard_normal(shape) * 2
    y = rng.random(shape)  # soft targets are allowed
    p = 1 / (1 + np.exp(-z))
    expected = np.mean(-y * np.log(p) - (1 - y) * np.log(1 - p))
    loss, _ = losses.binary_crossentropy(z, y)
    assert loss == pytest.approx(expected, rel=1e-12)
    assert _grad_error(losses.binary_crossentropy, z, y) < 1e-9


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4)])
def test_categorical_crossentropy_matches_minus_log_softmax(rng, shape):
    z = rng.standard_normal(shape)
    y = _softmax(rng.standard_normal(shape))  # probability targets
    n = int(np.prod(shape[:-1]))
    expected = -np.sum(y * np.log(_softmax(z))) / n
    loss, _ = losses.categorical_crossentropy(z, y)
    assert loss == pytest.approx(expected, rel=1e-12)
    assert _grad_error(losses.categorical_crossentropy, z, y) < 1e-9


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4)])
def test_sparse_crossentropy_equals_categorical_with_one_hot(rng, shape):
    z = rng.standard_normal(shape)
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    one_hot = np.eye(shape[-1])[labels]
    loss_s, grad_s = losses.sparse_categorical_crossentropy(z, labels)
    loss_c, grad_c = losses.categorical_crossentropy(z, one_hot)
    assert loss_s == pytest.approx(loss_c, rel=1e-13)
    np.testing.assert_allclose(grad_s, grad_c, atol=1e-15)
    assert _grad_error(lambda p, t: losses.sparse_categorical_crossentropy(p, t), z, labels) < 1e-9


def test_losses_average_over_batch_and_time(rng):
    """A (B, T, C) output gives the same loss as the (B*T, C) rows: a mean over both axes."""
    z = rng.standard_normal((3, 4, 5))
    labels = rng.integers(0, 5, size=(3, 4))
    loss_3d, grad_3d = losses.sparse_categorical_crossentropy(z, labels)
    loss_2d, grad_2d = losses.sparse_categorical_crossentropy(z.reshape(12, 5), labels.reshape(12))
    assert loss_3d == pytest.approx(loss_2d, rel=1e-14)
    np.testing.assert_allclose(grad_3d.reshape(12, 5), grad_2d, atol=1e-16)


def test_huge_logits_stay_finite():
    z = np.array([[1e4, -1e4, 0.0]])
    loss, grad = losses.sparse_categorical_crossentropy(z, np.array([1]))
    assert loss == pytest.approx(2e4)  # logsumexp = 1e4, minus z[1] = -1e4
    np.testing.assert_allclose(grad, [[1.0, -1.0, 0.0]], atol=1e-12)

    zb = np.array([[1000.0], [-1000.0]])
    loss, grad = losses.binary_crossentropy(zb, np.array([[0.0], [1.0]]))
    assert loss == pytest.approx(1000.0)  # each example costs 1000
    np.testing.assert_allclose(grad, [[0.5], [-0.5]])


def test_float32_is_kept(rng):
    z = rng.standard_normal((4, 3)).astype(np.float32)
    for fn, target in [
        (losses.mse, z * 0),
        (losses.binary_crossentropy, (z > 0).astype(np.float32)),
        (losses.sparse_categorical_crossentropy, np.array([0, 1, 2, 0])),
    ]:
        _, grad = fn(z, target)
        assert grad.dtype == np.float32, fn.__name__


def test_registry_names_and_aliases():
    assert losses.get("softmax_cross_entropy") is losses.sparse_categorical_crossentropy
    assert losses.get("MSE") is losses.mse
    assert losses.get("mean_squared_error") is losses.mse
    assert losses.canonical_name("softmax_cross_entropy") == "sparse_categorical_crossentropy"
    assert losses.canonical_name(losses.mse) == "mse"
    with pytest.raises(ValueError, match="unknown loss 'hinge'.*sparse_categorical_crossentropy"):
        losses.get("hinge")


def test_error_messages_name_the_problem():
    z = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"target must have the shape of pred, \(2, 3\); got \(2,"):
        losses.mse(z, np.zeros((2,)))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\); got values from 0 to 3"):
        losses.sparse_categorical_crossentropy(z, np.array([0, 3]))
    with pytest.raises(TypeError, match="labels must be integer class indices"):
        losses.sparse_categorical_crossentropy(z, np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match=r"labels must have shape logits.shape\[:-1\] = \(2,\)"):
        losses.sparse_categorical_crossentropy(z, np.array([0, 1, 2]))
