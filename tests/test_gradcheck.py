"""The gradient checker itself: it must accept right gradients and reject wrong ones."""

import numpy as np
import pytest

from lstm_teach.core.gradcheck import check_gradients, numerical_gradient, rel_error


def test_numerical_gradient_of_known_functions():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(v**3), x), 3 * x**2, rtol=1e-8)
    df = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(numerical_gradient(np.sin, x, df=df), np.cos(x) * df, rtol=1e-8)


def test_numerical_gradient_restores_its_input():
    x = np.random.default_rng(0).standard_normal(5)
    before = x.copy()
    numerical_gradient(lambda v: np.sum(v**2), x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_needs_a_float_array():
    with pytest.raises(TypeError, match="x must be a float numpy array"):
        numerical_gradient(np.sum, [1.0, 2.0])


def test_rel_error_properties():
    a = np.array([1.0, 2.0, 3.0])
    assert rel_error(a, a) == 0.0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0  # floored denominator
    assert rel_error(a, 2 * a) == pytest.approx(1 / 3)
    assert rel_error(a, 2 * a) == rel_error(2 * a, a)  # symmetric
    with pytest.raises(ValueError, match=r"one shape; got \(3,\) and \(2,\)"):
        rel_error(a, a[:2])


def test_check_gradients_reports_per_array_and_catches_a_bug():
    rng = np.random.default_rng(1)
    W = rng.standard_normal((3, 2))
    x = rng.standard_normal((4, 3))

    def loss():
        return np.sum(np.tanh(x @ W))

    d = 1 - np.tanh(x @ W) ** 2
    good = check_gradients(loss, {"W": W, "x": x}, {"W": x.T @ d, "x": d @ W.T})
    assert good.passed and max(good.errors.values()) < 1e-9
    bad = check_gradients(loss, {"W": W, "x": x}, {"W": x.T @ d * 1.01, "x": d @ W.T})
    assert not bad.passed
    assert bad.worst[0] == "W" and bad.errors["x"] < 1e-9
    text = str(bad)
    assert "W" in text and "NO" in text


def test_check_gradients_validates_shapes():
    W = np.ones((2, 2))
    with pytest.raises(
        ValueError, match=r"analytic\['W'\] must have the shape of W, \(2, 2\); got \(2,\)"
    ):
        check_gradients(lambda: np.sum(W), {"W": W}, {"W": np.ones(2)})
    with pytest.raises(ValueError, match="analytic is missing the gradient for 'W'"):
        check_gradients(lambda: np.sum(W), {"W": W}, {})
