"""Activations: values, derivatives, stability and the registry."""

import warnings

import numpy as np
import pytest

from lstm_teach import activations
from lstm_teach.core.gradcheck import numerical_gradient, rel_error

NAMES = ["sigmoid", "tanh", "identity", "hard_sigmoid", "relu"]


@pytest.mark.parametrize("name", NAMES)
def test_derivatives_match_finite_differences(name):
    act = activations.get(name)
    # stay away from kinks (relu at 0, hard_sigmoid at +-2.5) where derivatives jump
    z = np.array([-3.1, -1.7, -0.4, 0.3, 1.2, 2.2, 4.0])
    numeric = numerical_gradient(lambda v: act.fn(v), z.copy())
    assert rel_error(act.grad(z), numeric) < 1e-9
    assert rel_error(act.grad_from_output(act.fn(z)), numeric) < 1e-9


@pytest.mark.parametrize("name", NAMES)
def test_kernel_in_place_equals_fn(name):
    act = activations.get(name)
    z = np.linspace(-6, 6, 25)
    buf = z.copy()
    with np.errstate(over="ignore"):
        act.kernel(buf, buf)
    np.testing.assert_array_equal(buf, act.fn(z))


def test_sigmoid_is_stable_and_exact_in_both_tails():
    z = np.array([-1e4, -745.0, -40.0, -1.0, 0.0, 1.0, 40.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = activations.sigmoid(z)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[4] == 0.5
    # relative precision in the far negative tail, where 1 - sigmoid(-z) would lose it all
    assert abs(s[2] / np.exp(-40.0) - 1) < 1e-14
    np.testing.assert_allclose(s[3] + s[5], 1.0, rtol=0, atol=1e-16)
    assert activations.sigmoid(np.float32(-100.0)) == 0.0


def test_sigmoid_accepts_scalars_and_ints():
    assert activations.sigmoid(0) == 0.5
    assert activations.sigmoid(np.array([0, 1])).dtype == np.float64


def test_hard_sigmoid_values():
    np.testing.assert_allclose(
        activations.hard_sigmoid(np.array([-3.0, 0.0, 1.0, 3.0])), [0, 0.5, 0.7, 1]
    )


def test_registry_lookup_and_errors():
    assert activations.get("tanh").name == "tanh"
    assert activations.get("linear").name == "identity"
    assert activations.get("TANH").name == "tanh"
    act = activations.get("relu")
    assert activations.get(act) is act
    assert set(NAMES) <= set(activations.names())
    with pytest.raises(ValueError, match=r"unknown activation 'softsign'; expected one of \["):
        activations.get("softsign")
    with pytest.raises(TypeError, match="activation must be a name"):
        activations.get(3)
