"""Checks for solutions/07_gru.ipynb: one GRU step forward and backward (PyTorch's formulation).

The equations are those of :mod:`lstm_teach.core.gru` (``reset_after``, blocks
[r, z, n], two biases ``b`` and ``b_rec``)::

    r = sigmoid(x W_r + b_r + h_prev U_r + b_rec_r)
    z = sigmoid(x W_z + b_z + h_prev U_z + b_rec_z)
    hn = h_prev U_n + b_rec_n
    n = tanh(x W_n + b_n + r * hn)
    h = (1 - z) * n + z * h_prev

The step cache the exercises use is a dict: ``x_t``, ``h_prev``, ``r``, ``z``,
``n``, ``hn`` and ``params``. Both checks compare with the package and then
with references into which one known mistake was put.
"""

from __future__ import annotations

import numpy as np

from ...core.activations import get as get_activation
from ...core.gradcheck import numerical_gradient, rel_error
from ...core.gru import GRU_GATES, gru_step_backward, gru_step_forward
from ..checks import probe_rng, register
from ..feedback import Incorrect, as_result_array, call_learner, close, compare, unpack

EXERCISE_SET = "07_gru"
KEYS = ("W", "U", "b", "b_rec")
GRAD_TOL = 1e-7
_sigmoid = get_activation("sigmoid").fn


def _block(k: str, H: int) -> slice:
    j = GRU_GATES.index(k)
    return slice(j * H, (j + 1) * H)


def step_fixture(seed: int = 51, B: int = 3, D: int = 5, H: int = 4) -> dict:
    """Inputs for one step, with every gate comfortably inside (0.05, 0.95)."""
    for attempt in range(1000):
        rng = probe_rng(seed, attempt)
        params = {"W": rng.normal(0, 0.6, (D, 3 * H)), "U": rng.normal(0, 0.6, (H, 3 * H)),
                  "b": rng.normal(0, 0.4, 3 * H), "b_rec": rng.normal(0, 0.4, 3 * H)}
        x_t, h_prev = rng.normal(size=(B, D)), rng.uniform(-0.9, 0.9, (B, H))
        cache = reference_step(x_t, h_prev, params)[1]
        if all(0.05 < cache[k].min() and cache[k].max() < 0.95 for k in "rz"):
            return {"x_t": x_t, "h_prev": h_prev, "params": params}
    raise RuntimeError("no suitable fixture found")  # pragma: no cover


def reference_step(x_t, h_prev, params, bug: str | None = None):
    """One GRU step with the dict cache, optionally with a known mistake.

    ``bug``: ``"z_swapped"`` (h = z n + (1 - z) h_prev), ``"reset_before"`` (the
    reset gate on h_prev before U_n), ``"b_rec_outside"`` (b_rec_n outside the
    reset product), ``"no_b_rec"``, ``"rz_columns"`` (r and z from each other's
    columns), ``"n_sigmoid"``, ``"no_reset"`` (r = 1).
    """
    H = h_prev.shape[1]
    W, U, b, b_rec = (params[k] for k in KEYS)
    if bug == "no_b_rec":
        b_rec = np.zeros_like(b_rec)
    from_x, from_h = x_t @ W + b, h_prev @ U + b_rec
    pre = {k: from_x[:, _block(k, H)] + from_h[:, _block(k, H)] for k in ("r", "z")}
    if bug == "rz_columns":
        pre = {"r": pre["z"], "z": pre["r"]}
    r, z = _sigmoid(pre["r"]), _sigmoid(pre["z"])
    if bug == "no_reset":
        r = np.ones_like(r)
    cols = _block("n", H)
    hn = from_h[:, cols]
    act = _sigmoid if bug == "n_sigmoid" else np.tanh
    if bug == "reset_before":
        a_n = from_x[:, cols] + (r * h_prev) @ U[:, cols] + b_rec[cols]
    elif bug == "b_rec_outside":
        a_n = from_x[:, cols] + r * (hn - b_rec[cols]) + b_rec[cols]
    else:
        a_n = from_x[:, cols] + r * hn
    n = act(a_n)
    h = z * n + (1 - z) * h_prev if bug == "z_swapped" else (1 - z) * n + z * h_prev
    return h, {"x_t": x_t, "h_prev": h_prev, "r": r, "z": z, "n": n, "hn": hn, "params": params}


_FORWARD_HINTS = {
    "z_swapped": "the roles of z and 1 - z are swapped: in this course (and PyTorch, Keras) z "
                 "is the *keep* gate, h = (1 - z) * n + z * h_prev, so z = 1 copies h_prev",
    "reset_before": "the reset gate is applied to h_prev before the product with U_n (the "
                    "2014 paper's form, Keras' reset_after=False); here it scales the product: "
                    "n = tanh(x W_n + b_n + r * (h_prev U_n + b_rec_n))",
    "b_rec_outside": "b_rec_n belongs inside the reset gate's product: "
                     "r * (h_prev U_n + b_rec_n), not r * (h_prev U_n) + b_rec_n",
    "no_b_rec": "the recurrent bias b_rec is missing: every gate adds h_prev U + b_rec",
    "rz_columns": "r and z come from each other's columns: the blocks are [r, z, n], so r uses "
                  "columns [0:H] and z uses [H:2H]",
    "n_sigmoid": "the candidate n goes through a sigmoid; it uses tanh",
    "no_reset": "the reset gate is missing (as if r = 1): n = tanh(x W_n + b_n + r * hn)",
}


def _copy(params: dict) -> dict:
    return {k: np.array(v, copy=True) for k, v in params.items()}


def diagnose_forward(fn, fx: dict) -> list[str] | None:
    x_t, h_prev, params = fx["x_t"], fx["h_prev"], fx["params"]
    h_ref, cache_ref = reference_step(x_t, h_prev, params)
    result = call_learner(fn, x_t.copy(), h_prev.copy(), _copy(params), what="gru_step_forward")
    h, cache = unpack(result, 2, "(h, cache)", "gru_step_forward")
    problem = compare("h", h, h_ref)
    if problem:
        if "wrong values" not in problem:
            raise Incorrect(problem)
        lines = [problem]
        got = np.asarray(h, float)
        if isinstance(cache, dict):
            right = [k for k in ("r", "z", "n") if k in cache and close(cache[k], cache_ref[k])]
            wrong = [k for k in ("r", "z", "n") if k in cache and k not in right]
            if right or wrong:
                lines.append("in your cache, " + (f"right: {', '.join(right)}" if right else "")
                             + ("; " if right and wrong else "")
                             + (f"wrong: {', '.join(wrong)}" if wrong else ""))
        for bug, hint in _FORWARD_HINTS.items():
            if close(got, reference_step(x_t, h_prev, params, bug)[0]):
                lines.append(f"hint: {hint}")
                break
        raise Incorrect(*lines)
    if not isinstance(cache, dict) or any(k not in cache for k in ("r", "z", "n", "hn")):
        raise Incorrect("h is right, but the cache should be a dict with (at least) the keys "
                        "'x_t', 'h_prev', 'r', 'z', 'n', 'hn' and 'params' for the backward pass")
    for key in ("r", "z", "n", "hn"):
        problem = compare(f"cache[{key!r}]", cache[key], cache_ref[key])
        if problem:
            extra = (" (hn = h_prev @ U_n + b_rec_n, before the reset gate scales it)"
                     if key == "hn" else "")
            raise Incorrect(f"h is right, but {problem}{extra}")
    return None


@register("gru_step_forward", EXERCISE_SET, points=2, title="One GRU step forward")
def check_gru_step_forward(fn):
    """``fn(x_t, h_prev, params) -> (h, cache)`` with the dict cache."""
    diagnose_forward(fn, step_fixture(51))
    diagnose_forward(fn, step_fixture(52, B=1, D=2, H=3))
    return ["r, z and n are right, and the cache holds them for the backward pass"]


# --------------------------------------------------------------------------- backward


def reference_step_backward(dh, cache: dict, bug: str | None = None):
    """Backward of one step from the dict cache, optionally with a known mistake.

    ``bug``: ``"no_direct_path"`` (dh_prev misses dh * z), ``"dz_sign"``,
    ``"hn_unscaled"`` (dhn = da_n, the reset gate forgotten), ``"b_rec_like_b"``
    (db_rec = db), ``"activated"`` (the sigmoid's derivative applied to r, z
    again), ``"no_tanh_derivative"``.
    """
    x_t, h_prev, r, z, n, hn = (cache[k] for k in ("x_t", "h_prev", "r", "z", "n", "hn"))
    W, U = cache["params"]["W"], cache["params"]["U"]
    dn = dh * (1 - z)
    dz = dh * (n - h_prev) if bug == "dz_sign" else dh * (h_prev - n)
    da_n = dn if bug == "no_tanh_derivative" else dn * (1 - n**2)
    dr = da_n * hn
    dhn = da_n if bug == "hn_unscaled" else da_n * r
    if bug == "activated":
        sr, sz = _sigmoid(r), _sigmoid(z)
        da_r, da_z = dr * sr * (1 - sr), dz * sz * (1 - sz)
    else:
        da_r, da_z = dr * r * (1 - r), dz * z * (1 - z)
    d_x = np.concatenate([da_r, da_z, da_n], axis=1)
    d_h = np.concatenate([da_r, da_z, dhn], axis=1)
    grads = {"W": x_t.T @ d_x, "U": h_prev.T @ d_h, "b": d_x.sum(axis=0),
             "b_rec": (d_x if bug == "b_rec_like_b" else d_h).sum(axis=0)}
    dh_prev = d_h @ U.T + (0 if bug == "no_direct_path" else dh * z)
    return d_x @ W.T, dh_prev, grads


_BACKWARD_HINTS = {
    "no_direct_path": "dh_prev misses the direct path: h = (1 - z) * n + z * h_prev, so "
                      "dh * z goes straight back to h_prev (the GRU's carousel)",
    "dz_sign": "dz has the wrong sign: dh/dz = h_prev - n",
    "hn_unscaled": "the recurrent part of the candidate is scaled by the reset gate, so its "
                   "gradient is dhn = da_n * r (this feeds the n block of dU and db_rec)",
    "b_rec_like_b": "db_rec is not db: b_rec_n sits inside the reset product, so db_rec's n "
                    "block is the batch sum of da_n * r",
    "activated": "the sigmoid's derivative is applied to a value that is already activated: "
                 "the cache holds r = sigmoid(a_r), whose derivative is r * (1 - r)",
    "no_tanh_derivative": "the tanh derivative of the candidate is missing: da_n = dn * "
                          "(1 - n**2)",
}


def _numerical_line(fx: dict, dh, got: dict) -> str:
    x_t, h_prev, params = fx["x_t"].copy(), fx["h_prev"].copy(), _copy(fx["params"])
    arrays = {"x_t": x_t, "h_prev": h_prev, **params}

    def loss(_):
        return np.sum(reference_step(x_t, h_prev, params)[0] * dh)

    errors = {}
    for name, arr in arrays.items():
        try:
            errors[name] = rel_error(np.asarray(got[name], float), numerical_gradient(loss, arr))
        except (ValueError, TypeError):
            errors[name] = float("inf")
    bad = [f"d{k} {v:.1e}" for k, v in errors.items() if not v < GRAD_TOL]
    if not bad:
        return f"numerical gradient check: worst relative error {max(errors.values()):.1e}"
    return (f"numerical gradient check: relative error {', '.join(bad)} "
            f"(a correct backward pass gives < {GRAD_TOL:.0e})")


def diagnose_backward(fn, fx: dict) -> list[str]:
    x_t, h_prev, params = fx["x_t"], fx["h_prev"], fx["params"]
    H = h_prev.shape[1]
    _, cache = reference_step(x_t, h_prev, params)
    dh = probe_rng(9).normal(size=h_prev.shape)
    _, package_cache = gru_step_forward(x_t, h_prev, params)
    dx, dh_prev, grads = gru_step_backward(dh, package_cache)
    ref = {"x_t": dx, "h_prev": dh_prev, **grads}
    learner_cache = {k: (_copy(v) if k == "params" else v.copy()) for k, v in cache.items()}
    result = call_learner(fn, dh.copy(), learner_cache, what="gru_step_backward")
    g_dx, g_dh, g_grads = unpack(result, 3, "(dx_t, dh_prev, grads)", "gru_step_backward")
    if not isinstance(g_grads, dict) or any(k not in g_grads for k in KEYS):
        raise Incorrect(f"grads should be a dict with the keys {list(KEYS)}")
    got = {"x_t": g_dx, "h_prev": g_dh, **{k: g_grads[k] for k in KEYS}}
    labels = {"x_t": "dx_t", "h_prev": "dh_prev", "W": "dW", "U": "dU", "b": "db",
              "b_rec": "db_rec"}
    problems = {k: compare(labels[k], got[k], ref[k]) for k in ref}
    fatal = [p for p in problems.values() if p and "wrong values" not in p]
    if fatal:
        raise Incorrect(*fatal)
    wrong = [k for k in ref if problems[k]]
    if not wrong:
        return [_numerical_line(fx, dh, got)]
    parts = []
    for k in wrong:
        if k in ("x_t", "h_prev"):
            parts.append(labels[k])
            continue
        value = as_result_array(labels[k], got[k])
        blocks = [g for g in GRU_GATES
                  if not close(value[..., _block(g, H)], ref[k][..., _block(g, H)])]
        plural = "s" if len(blocks) > 1 else ""
        parts.append(labels[k] + (f" (the {', '.join(blocks)} block{plural})"
                                  if 0 < len(blocks) < 3 else ""))
    lines = [f"wrong: {', '.join(parts)}"
             + (f"; right: {', '.join(labels[k] for k in ref if k not in wrong)}"
                if len(wrong) < len(ref) else "")]
    for bug, hint in _BACKWARD_HINTS.items():
        bdx, bdh, bgrads = reference_step_backward(dh, cache, bug)
        cand = {"x_t": bdx, "h_prev": bdh, **bgrads}
        if all(close(got[k], cand[k]) for k in cand):
            lines.append(f"hint: {hint}")
            break
    lines.append(_numerical_line(fx, dh, got))
    raise Incorrect(*lines)


@register("gru_step_backward", EXERCISE_SET, points=3, title="One GRU step backward")
def check_gru_step_backward(fn):
    """``fn(dh, cache) -> (dx_t, dh_prev, grads)`` with the dict cache."""
    lines = diagnose_backward(fn, step_fixture(53))
    diagnose_backward(fn, step_fixture(54, B=1, D=2, H=3))
    return lines
