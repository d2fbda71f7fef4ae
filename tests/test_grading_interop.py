"""The layout checks (exercises 10_interop): each typical conversion slip gets its diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_teach.grading import check


def quiet(name, fn):
    return check(name, fn, verbose=False)


def from_torch(w_ih, w_hh, b_ih, b_hh, transpose=True, bias="sum", reorder=False, swap=False):
    W, U = (w_ih.T, w_hh.T) if transpose else (w_ih, w_hh)
    if swap:
        W, U = U, W
    b = {"sum": b_ih + b_hh, "ih": b_ih, "hh": b_hh, "mean": (b_ih + b_hh) / 2}[bias]
    params = {"W": W, "U": U, "b": b}
    if reorder:  # treats torch's [i, f, g, o] as if it were [i, f, o, g]
        H = b.shape[0] // 4
        params = {k: np.concatenate([v[..., :2 * H], v[..., 3 * H:], v[..., 2 * H:3 * H]],
                                    axis=-1) for k, v in params.items()}
    return params


def test_correct_torch_conversion_passes():
    result = quiet("params_from_torch", from_torch)
    assert result.passed and result.points == 2, result.message


@pytest.mark.parametrize("kwargs, phrases", [
    ({"transpose": False}, ["W has shape (8, 3); expected (3, 8)", "transposes"]),
    ({"bias": "ih"}, ["wrong: b; right: W, U", "you kept only bias_ih"]),
    ({"bias": "hh"}, ["you kept only bias_hh"]),
    ({"bias": "mean"}, ["added, not averaged"]),
    ({"reorder": True}, ["no reordering is needed"]),
])
def test_torch_mistakes_are_named(kwargs, phrases):
    result = quiet("params_from_torch", lambda *a: from_torch(*a, **kwargs))
    assert result.status == "failed"
    for phrase in phrases:
        assert phrase in result.message, result.message


def from_concat(parameters, order="ifco", x_first=False, transpose=True, flatten=True):
    n_a, total = parameters["Wf"].shape
    n_x = total - n_a
    h_cols, x_cols = (slice(n_x, None), slice(0, n_x)) if x_first else (slice(0, n_a),
                                                                          slice(n_a, None))
    t = (lambda a: a.T) if transpose else (lambda a: a)
    axis = 1 if transpose else 0
    W = np.concatenate([t(parameters[f"W{g}"][:, x_cols]) for g in order], axis=axis)
    U = np.concatenate([t(parameters[f"W{g}"][:, h_cols]) for g in order], axis=axis)
    b = np.concatenate([parameters[f"b{g}"].reshape(n_a) if flatten else parameters[f"b{g}"]
                        for g in order])
    return {"W": W, "U": U, "b": b}


def test_correct_concat_conversion_passes():
    result = quiet("params_from_concat", from_concat)
    assert result.passed and result.points == 3, result.message


@pytest.mark.parametrize("kwargs, phrases", [
    ({"order": "fico"}, ["wrong: W, U, b", "the order f, i, c, o"]),
    ({"order": "ifoc"}, ["the candidate c is the package's g, third"]),
    ({"x_first": True}, ["wrong: W, U; right: b", "first n_a columns"]),
    ({"transpose": False}, ["W has shape (8, 3); expected (3, 8)", "transpose each block"]),
    ({"flatten": False}, ["b has shape (8, 1); expected (8,)", "flatten them"]),
])
def test_concat_mistakes_are_named(kwargs, phrases):
    result = quiet("params_from_concat", lambda p: from_concat(p, **kwargs))
    assert result.status == "failed"
    for phrase in phrases:
        assert phrase in result.message, result.message
