"""Checks for solutions/05_gradients.ipynb: gradient norm against lag, and global-norm clipping."""

from __future__ import annotations

import numpy as np

from ...concise import optim
from ...core.rnn import rnn_forward
from ..checks import probe_rng, register
from ..feedback import Incorrect, call_learner, close, compare

EXERCISE_SET = "05_gradients"


def norms_by_lag(x, params, deriv="output", transpose=True) -> np.ndarray:
    """||dL/dh_{T-k}|| for k = 0 .. T-1, with L = sum(h_T) for a tanh RNN from h0 = 0.

    ``deriv``/``transpose`` switch in common mistakes for the diagnosis.
    """
    hs, _ = rnn_forward(x, params)
    T = hs.shape[1]
    U = params["U"].T if transpose else params["U"]
    dh = np.ones_like(hs[:, -1])
    norms = np.empty(T)
    for k in range(T):
        norms[k] = np.linalg.norm(dh)
        t = T - 1 - k  # dh is dL/dh at position t (0-based), i.e. h_{t+1}
        if deriv == "output":
            local = 1 - hs[:, t] ** 2
        elif deriv == "none":
            local = 1.0
        else:  # the state before, one step off
            local = 1 - (hs[:, t - 1] ** 2 if t > 0 else 0.0)
        dh = (dh * local) @ U
    return norms


@register("grad_norm_vs_lag", EXERCISE_SET, points=3, title="Gradient norm against lag")
def check_grad_norm_vs_lag(fn):
    """``fn(x, params) -> (T,)``: norms[k] = ||dL/dh_{T-k}||, L = sum(h_T)."""
    rng = probe_rng(0)
    B, T, D, H = 2, 12, 3, 6
    for scale in (0.5, 1.6):
        params = {"W": rng.normal(0, 0.5, (D, H)),
                  "U": rng.normal(0, scale / np.sqrt(H), (H, H)), "b": np.zeros(H)}
        x = rng.normal(size=(B, T, D))
        got = call_learner(fn, x.copy(), {k: v.copy() for k, v in params.items()},
                           what="grad_norm_vs_lag")
        expected = norms_by_lag(x, params)
        problem = compare("norms", got, expected)
        if problem is None:
            continue
        lines = [problem]
        if np.shape(got) == (T + 1,):
            lines.append(f"hint: return T = {T} norms, for lags 0 .. T-1 (dL/dh_T down to dL/dh_1)")
        mistakes = [
            (expected[::-1], "the order is reversed: norms[0] is the lag-0 gradient dL/dh_T"),
            (norms_by_lag(x, params, deriv="none"), "the tanh derivative (1 - h_t**2) is missing "
                                                     "from each backward step"),
            (norms_by_lag(x, params, deriv="prev"), "the tanh derivative is taken at the wrong "
                                                     "step: going back from h_t, use 1 - h_t**2"),
            (norms_by_lag(x, params, transpose=False), "going back through h_t = tanh(h_{t-1} U "
                                                       "+ ...) multiplies by U.T, not U"),
        ]
        lines += [f"hint: {h}" for value, h in mistakes if close(got, value)][:1]
        raise Incorrect(*lines)
    return ["the norm shrinks geometrically with a small U and grows with a large one"]


def _grads(rng, scale):
    return {"W": rng.normal(0, scale, (3, 4)), "U": rng.normal(0, scale, (4, 4)),
            "b": rng.normal(0, scale, 4)}


@register("clip_by_global_norm", EXERCISE_SET, points=2, title="Clipping by global norm")
def check_clip_by_global_norm(fn):
    """``fn(grads, max_norm) -> (clipped, norm)``: a new dict, and the norm before clipping."""
    rng = probe_rng(1)
    for scale, max_norm in ((3.0, 1.0), (0.05, 1.0), (1.0, 2.5)):
        grads = _grads(rng, scale)
        original = {k: v.copy() for k, v in grads.items()}
        result = call_learner(fn, grads, max_norm, what="clip_by_global_norm")
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise Incorrect("clip_by_global_norm should return a pair (clipped grads, norm)")
        clipped, norm = result
        expected, expected_norm = optim.clip_by_global_norm(original, max_norm)
        if not all(np.array_equal(grads[k], original[k]) for k in grads):
            raise Incorrect("your function changed the gradients passed in (in place); "
                            "return new arrays and leave the input alone")
        if not isinstance(clipped, dict) or set(clipped) != set(expected):
            raise Incorrect(f"the clipped gradients should be a dict with keys {sorted(expected)}")
        for key in expected:
            problem = compare(f"clipped[{key!r}]", clipped[key], expected[key])
            if problem is None:
                continue
            lines = [problem]
            per_array = {k: g * min(1.0, max_norm / np.linalg.norm(g)) for k, g in original.items()}
            if all(close(clipped[k], per_array[k]) for k in expected):
                lines.append("hint: you clipped each array by its own norm; global clipping "
                             "uses one norm over all arrays, so the direction is kept")
            elif expected_norm < max_norm:
                lines.append(f"hint: the global norm {expected_norm:.3g} is already below "
                             f"max_norm = {max_norm}: the gradients must come back unchanged")
            raise Incorrect(*lines)
        if not np.isscalar(norm) and np.ndim(norm) != 0:
            raise Incorrect("the second return value should be the norm, a single number")
        if not np.isclose(float(norm), expected_norm, rtol=1e-9):
            lines = [f"the returned norm is {float(norm):.6g}; the global norm before clipping "
                     f"is {expected_norm:.6g}"]
            if np.isclose(float(norm), min(expected_norm, max_norm)):
                lines.append("hint: return the norm measured before clipping (it is what you "
                             "log to spot exploding gradients)")
            raise Incorrect(*lines)
    return ["one norm over all gradients, rescaled only when it exceeds max_norm"]
