"""Checks for solutions/10_interop.ipynb: reading LSTM weights stored in other layouts.

Both exercises turn someone else's arrays into the package's ``W`` (D, 4H),
``U`` (H, 4H), ``b`` (4H,) with gate blocks [i, f, g, o]; the checks compare
with :mod:`lstm_teach.course.interop` and recognise the usual slips (a missing
transpose, one of PyTorch's two biases dropped, a gate order taken over
unchanged, the two halves of a stacked input swapped).
"""

from __future__ import annotations

import numpy as np

from ...course import interop
from ..checks import probe_rng, register
from ..feedback import Incorrect, call_learner, close, compare

EXERCISE_SET = "10_interop"
KEYS = ("W", "U", "b")


def _reorder(a, src: str, dst: str):
    return interop.reorder_gates(a, src, dst)


def _torch_fixture(seed: int = 61, D: int = 3, H: int = 2) -> dict:
    rng = probe_rng(seed)
    return {"weight_ih": rng.normal(size=(4 * H, D)), "weight_hh": rng.normal(size=(4 * H, H)),
            "bias_ih": rng.normal(size=4 * H), "bias_hh": rng.normal(size=4 * H)}


def _torch_candidates(fx: dict) -> dict:
    w_ih, w_hh, b_ih, b_hh = (fx[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    right = {"W": w_ih.T, "U": w_hh.T, "b": b_ih + b_hh}
    return {
        "bias_ih only": ({**right, "b": b_ih}, "PyTorch adds its two biases: b = bias_ih + "
                                               "bias_hh (you kept only bias_ih)"),
        "bias_hh only": ({**right, "b": b_hh}, "PyTorch adds its two biases: b = bias_ih + "
                                               "bias_hh (you kept only bias_hh)"),
        "bias mean": ({**right, "b": (b_ih + b_hh) / 2},
                      "the two biases are added, not averaged: b = bias_ih + bias_hh"),
        "reordered": ({k: _reorder(v, "ifog", "ifgo") for k, v in right.items()},
                      "PyTorch already uses the package's gate order [i, f, g, o]: no "
                      "reordering is needed, only the transpose"),
        "swapped": ({**right, "W": w_hh.T, "U": w_ih.T},
                    "weight_ih acts on the input x (it becomes W), weight_hh on h_prev (U)"),
    }


def _diagnose(got, ref: dict, candidates: dict, shape_hints) -> None:
    if not isinstance(got, dict) or any(k not in got for k in KEYS):
        raise Incorrect("return a dict with the keys 'W', 'U' and 'b'")
    for key in KEYS:
        value = np.asarray(got[key])
        if value.shape != ref[key].shape:
            hint = shape_hints(key, value)
            problem = compare(key, got[key], ref[key])
            raise Incorrect(problem, *([f"hint: {hint}"] if hint else []))
    problems = {k: compare(k, got[k], ref[k]) for k in KEYS}
    fatal = [p for p in problems.values() if p and "wrong values" not in p]
    if fatal:
        raise Incorrect(*fatal)
    wrong = [k for k in KEYS if problems[k]]
    if not wrong:
        return
    lines = [f"wrong: {', '.join(wrong)}"
             + (f"; right: {', '.join(k for k in KEYS if k not in wrong)}" if len(wrong) < 3
                else "")]
    for cand, hint in candidates.values():
        if all(close(got[k], cand[k]) for k in KEYS):
            lines.append(f"hint: {hint}")
            break
    raise Incorrect(*lines)


@register("params_from_torch", EXERCISE_SET, points=2, title="Weights from PyTorch's nn.LSTM")
def check_params_from_torch(fn):
    """``fn(weight_ih, weight_hh, bias_ih, bias_hh) -> {"W", "U", "b"}``."""
    for fx in (_torch_fixture(61), _torch_fixture(62, D=5, H=3)):
        ref = interop.from_torch({f"{k}_l0": v for k, v in fx.items()})
        got = call_learner(fn, *(fx[k].copy() for k in ("weight_ih", "weight_hh", "bias_ih",
                                                        "bias_hh")), what="params_from_torch")

        def shape_hint(key, value, ref=ref):
            if key in ("W", "U") and value.shape == ref[key].shape[::-1]:
                return ("PyTorch stores its weights as (4H, D) and (4H, H), acting on column "
                        "vectors; the package's W and U are their transposes")
            return None

        _diagnose(got, ref, _torch_candidates(fx), shape_hint)
    return ["a transpose and a bias sum: the same numbers, the same gate order"]


def _concat_fixture(seed: int = 63, n_x: int = 3, n_a: int = 2) -> dict:
    rng = probe_rng(seed)
    out = {}
    for name in ("f", "i", "c", "o"):
        out[f"W{name}"] = rng.normal(size=(n_a, n_a + n_x))
        out[f"b{name}"] = rng.normal(size=(n_a, 1))
    return out


def _concat_candidates(fx: dict) -> dict:
    n_a = fx["Wf"].shape[0]
    right = interop.from_concat(fx)
    x_first = interop.from_concat(fx, order="x_first")

    def gates_in(order: str) -> dict:
        """The blocks concatenated in ``order`` (letters of the course layout: f, i, c, o)."""
        W = np.concatenate([fx[f"W{g}"][:, n_a:].T for g in order], axis=1)
        U = np.concatenate([fx[f"W{g}"][:, :n_a].T for g in order], axis=1)
        b = np.concatenate([fx[f"b{g}"].reshape(-1) for g in order])
        return {"W": W, "U": U, "b": b}

    return {
        "x_first": (x_first, "the stacked column is [a_prev; x_t]: the first n_a columns of each "
                             "gate matrix act on a_prev (they become U), the rest on x_t (W)"),
        "fico": (gates_in("fico"), "the blocks are in the order f, i, c, o (the order the "
                                   "dict lists them); the package wants [i, f, g, o]: Wi, Wf, "
                                   "Wc, Wo"),
        "ifoc": (gates_in("ifoc"), "the blocks are in the order i, f, o, c; the candidate c is "
                                   "the package's g, third: [i, f, g, o]"),
        "reordered": ({k: _reorder(v, "ifog", "ifgo") for k, v in right.items()},
                      "the gate order is off: the package wants [i, f, g, o] = Wi, Wf, Wc, Wo"),
    }


@register("params_from_concat", EXERCISE_SET, points=3,
          title="Weights from the concatenated per-gate layout")
def check_params_from_concat(fn):
    """``fn(parameters) -> {"W", "U", "b"}``; Wf, Wi, Wc, Wo (n_a, n_a + n_x), bf, ... (n_a, 1)."""
    for fx in (_concat_fixture(63), _concat_fixture(64, n_x=4, n_a=3)):
        ref = interop.from_concat(fx)
        n_a = fx["Wf"].shape[0]
        n_x = fx["Wf"].shape[1] - n_a
        got = call_learner(fn, {k: v.copy() for k, v in fx.items()}, what="params_from_concat")

        def shape_hint(key, value, n_a=n_a, n_x=n_x):
            if key == "b" and value.shape == (4 * n_a, 1):
                return "the biases are (n_a, 1) columns: flatten them to one (4H,) vector"
            if key == "W" and value.shape == (4 * n_a, n_x) or key == "U" and value.shape == (
                    4 * n_a, n_a):
                return ("the gate matrices act on column vectors; the package's W and U act on "
                        "row vectors (x @ W), so transpose each block")
            if key in ("W", "U") and value.shape in ((n_a, 4 * n_a), (n_x, 4 * n_x)):
                return ("W takes the x_t part of each gate matrix (n_x rows after the "
                        "transpose), U the a_prev part (n_a rows)")
            return None

        _diagnose(got, ref, _concat_candidates(fx), shape_hint)
    return ["four matrices on a stacked column, split, transposed and put in the order "
            "[i, f, g, o]"]
