"""Diagnosing a learner's sequence-level LSTM: the loop over time, forward and backward.

The learner's ``lstm_forward(x, params, h0=None, c0=None) -> (hs, caches)``
loops the package's ``lstm_step_forward`` over time, and
``lstm_backward(dhs, caches, dcT=None) -> (dx, dh0, dc0, grads)`` loops
``lstm_step_backward`` backwards. The step functions are given, so every
mistake is in the bookkeeping across time, and each is recognised by
comparing the learner's arrays with references into which that mistake was
put on purpose:

forward
    h or c not carried from one step to the next, the initial state ignored,
    h and c swapped in the step call, cell states returned instead of hidden
    states, time-major output;
backward
    dc_next or dh_next dropped, the loop running forwards in time, weight
    gradients overwritten, averaged, or summed over the wrong axis,
    dh0 and dc0 swapped, dcT ignored.

Every verdict starts with *where* the answer first goes wrong: the first
time step (forward), or the first step counting back from the last one
(backward). Only the public API of :mod:`lstm_teach` is used, so the step
caches are whatever ``lstm_step_forward`` returns.
"""

from __future__ import annotations

import numpy as np

from ..core.gradcheck import numerical_gradient, rel_error
from ..core.lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from .checks import probe_rng
from .feedback import Incorrect, as_result_array, call_learner, close, compare, unpack

GRAD_TOL = 1e-7
PARAM_KEYS = ("W", "U", "b")


def sequence_fixture(seed: int = 21, B: int = 2, T: int = 5, D: int = 3, H: int = 4) -> dict:
    """Inputs for one sequence: ``x`` (B, T, D), ``h0``/``c0``/``dcT`` (B, H), ``dhs`` (B, T, H).

    B, T, D and H differ, so an axis mix-up shows as a shape error. The
    forget bias is raised so that gradients reach the first step. Drawn from
    :func:`~lstm_teach.grading.checks.probe_rng`: fixed in the learner's kernel, new in
    every grading run.
    """
    rng = probe_rng(seed)
    params = {"W": rng.normal(0, 0.5, (D, 4 * H)), "U": rng.normal(0, 0.5, (H, 4 * H)),
              "b": rng.normal(0, 0.3, 4 * H)}
    params["b"][H:2 * H] += 1.0
    return {"x": rng.normal(size=(B, T, D)), "h0": rng.uniform(-0.5, 0.5, (B, H)),
            "c0": rng.normal(0, 0.5, (B, H)), "params": params,
            "dhs": rng.normal(size=(B, T, H)), "dcT": rng.normal(size=(B, H))}


def _copy(params: dict) -> dict:
    return {k: np.array(v, copy=True) for k, v in params.items()}


def _join(words) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# --------------------------------------------------------------------------- forward


def reference_forward(x, params, h0=None, c0=None, bug: str | None = None):
    """The step loop, optionally with a known mistake. Returns ``hs`` (B, T, H) and the caches.

    ``bug``: ``"h_not_carried"`` (h0 fed to every step), ``"c_not_carried"``,
    ``"c_zeroed"`` (c reset to zero every step), ``"zero_start"`` (h0 and c0
    ignored), ``"swapped_state"`` (``step(x_t, c, h)``), ``"hs_holds_c"``.
    """
    B, T, _ = x.shape
    H = params["U"].shape[0]
    h0 = np.zeros((B, H)) if h0 is None or bug == "zero_start" else h0
    c0 = np.zeros((B, H)) if c0 is None or bug == "zero_start" else c0
    h, c, hs, caches = h0, c0, [], []
    for t in range(T):
        h_in = h0 if bug == "h_not_carried" else h
        c_in = {"c_not_carried": c0, "c_zeroed": np.zeros((B, H))}.get(bug, c)
        if bug == "swapped_state":
            h_in, c_in = c_in, h_in
        h, c, cache = lstm_step_forward(x[:, t], h_in, c_in, params)
        hs.append(c if bug == "hs_holds_c" else h)
        caches.append(cache)
    return np.stack(hs, axis=1), caches


_FORWARD_HINTS = {
    "c_not_carried": "dc not carried forward: every step starts from c0 instead of the cell "
                     "state the previous step returned; keep the c that lstm_step_forward gives "
                     "you and pass it to the next step",
    "c_zeroed": "the cell state is reset to zero at every step: keep the c that "
                "lstm_step_forward returns and pass it to the next step (only h is not enough; "
                "the cell state is the LSTM's memory)",
    "h_not_carried": "every step starts from h0 instead of the previous step's h: pass the h "
                     "that lstm_step_forward returned to the next step",
    "zero_start": "h0 and c0 are ignored: the first step must start from the given h0 and c0 "
                  "(zeros only when they are None)",
    "swapped_state": "h and c are swapped in the call: the step is "
                     "lstm_step_forward(x_t, h_prev, c_prev, params)",
    "hs_holds_c": "hs holds the cell states c_t; it should hold the hidden states h_t",
}


def _first_wrong_step(got: np.ndarray, ref: np.ndarray, order) -> int | None:
    for t in order:
        if not close(got[:, t], ref[:, t]):
            return t
    return None


def diagnose_forward(fn, fx: dict) -> list[str]:
    """Check ``fn(x, params, h0, c0) -> (hs, caches)``; praise lines, or ``Incorrect``."""
    x, params, h0, c0 = fx["x"], fx["params"], fx["h0"], fx["c0"]
    B, T, _ = x.shape
    H = params["U"].shape[0]
    ref, _ = reference_forward(x, params, h0, c0)
    result = call_learner(fn, x.copy(), _copy(params), h0.copy(), c0.copy(), what="lstm_forward")
    hs, caches = unpack(result, 2, "(hs, caches)", "lstm_forward")
    got = as_result_array("hs", hs)
    if got.shape == (T, B, H) and close(got.swapaxes(0, 1), ref):
        raise Incorrect(f"hs has shape {got.shape}, time-major; the course is batch-first: "
                        f"hs is (B, T, H) = {ref.shape}, so stack the steps along axis=1")
    if got.shape == (B, H):
        hint = " (it is h_T)" if close(got, ref[:, -1]) else ""
        raise Incorrect(f"hs has shape {got.shape}: return every hidden state, (B, T, H) = "
                        f"{ref.shape}, not only the last one{hint}")
    problem = compare("hs", got, ref)
    if problem is not None:
        if "wrong values" not in problem:
            raise Incorrect(problem)
        first = _first_wrong_step(got, ref, range(T))
        where = ("hs is wrong from the very first step, t = 0" if first == 0 else
                 f"hs is right for t = 0 .. {first - 1} and first goes wrong at t = {first}")
        lines = [where]
        for bug, hint in _FORWARD_HINTS.items():
            if close(got, reference_forward(x, params, h0, c0, bug)[0]):
                lines.append(f"hint: {hint}")
                break
        else:
            if first > 0:
                lines.append("the first step is right, so the step call is fine: look at what "
                             "you pass from one step to the next")
        raise Incorrect(*lines)
    if not isinstance(caches, (list, tuple)) or len(caches) != T:
        size = len(caches) if isinstance(caches, (list, tuple)) else type(caches).__name__
        raise Incorrect(f"caches should be a list with one step cache per time step (T = {T}); "
                        f"got {size}")
    # The defaults: h0 = c0 = None means a zero initial state.
    result = call_learner(fn, x.copy(), _copy(params), what="lstm_forward (no h0, c0)")
    hs_default = unpack(result, 2, "(hs, caches)", "lstm_forward")[0]
    problem = compare("hs with h0=None, c0=None", hs_default, reference_forward(x, params)[0])
    if problem:
        raise Incorrect(problem, "when h0 or c0 is None, start from zeros of shape (B, H)")
    return [f"h and c are carried through all {T} steps"]


# --------------------------------------------------------------------------- backward


def reference_backward(dhs, caches, dcT=None, bug: str | None = None):
    """BPTT by looping ``lstm_step_backward``, optionally with a known mistake.

    ``bug``: ``"dc_dropped"`` (dc_next never passed on), ``"dh_dropped"``
    (dh_next never added), ``"both_dropped"``, ``"forward_order"`` (the loop
    runs t = 0 .. T-1), ``"grads_overwritten"`` (the weight gradients keep
    only the last call's, i.e. step 0's), ``"grads_last_step"`` (only step
    T-1's), ``"grads_averaged"`` (divided by T), ``"dcT_ignored"``.
    Returns ``(dx, dh0, dc0, grads)``.
    """
    B, T, H = dhs.shape
    dh_next = np.zeros((B, H))
    dc_next = np.zeros((B, H)) if dcT is None or bug == "dcT_ignored" else dcT
    dxs, per_step = [None] * T, [None] * T
    order = range(T) if bug == "forward_order" else range(T - 1, -1, -1)
    for t in order:
        dh = dhs[:, t] if bug in ("dh_dropped", "both_dropped") else dhs[:, t] + dh_next
        dc = 0 * dc_next if bug in ("dc_dropped", "both_dropped") and t < T - 1 else dc_next
        dxs[t], dh_next, dc_next, per_step[t] = lstm_step_backward(dh, dc, caches[t])
    if bug == "grads_overwritten":
        grads = dict(per_step[order[-1]])
    elif bug == "grads_last_step":
        grads = dict(per_step[T - 1])
    else:
        grads = {k: sum(g[k] for g in per_step) for k in per_step[0]}
        if bug == "grads_averaged":
            grads = {k: v / T for k, v in grads.items()}
    return np.stack(dxs, axis=1), dh_next, dc_next, grads


_BACKWARD_HINTS = {
    "dc_dropped": "dc not carried: the cell-state gradient dc_prev that step t returns must be "
                  "passed as dc into step t - 1's backward call (the constant error carousel)",
    "dh_dropped": "dh_next dropped: step t receives dhs[:, t] + dh_next, where dh_next is the "
                  "dh_prev returned by step t + 1",
    "both_dropped": "neither dh_next nor dc_next is passed back: step t must receive "
                    "dhs[:, t] + dh_next and dc_next from step t + 1",
    "forward_order": "the loop runs forwards in time; backpropagation through time starts at "
                     "the last step: for t in reversed(range(T))",
    "grads_overwritten": "the weight gradients hold only one step's contribution: add every "
                         "step's grads into a running total (+=) instead of replacing them",
    "grads_last_step": "the weight gradients hold only the last step's contribution: add every "
                       "step's grads into a running total",
    "grads_averaged": "the weight gradients are averaged over time; the loss is a sum over "
                      "steps, so its gradient is the plain sum of the steps' gradients",
    "dcT_ignored": "dcT is ignored: it is the gradient arriving at the final cell state, so "
                   "dc_next starts from dcT (zeros only when dcT is None)",
}


def _per_example_step_grads(fx: dict) -> dict:
    """Weight gradients of every (example, step) pair: key -> (B, T, *shape)."""
    x, params, h0, c0, dhs = fx["x"], fx["params"], fx["h0"], fx["c0"], fx["dhs"]
    B, T, _ = x.shape
    out = {k: np.zeros((B, T, *params[k].shape)) for k in PARAM_KEYS}
    for b in range(B):
        _, caches = reference_forward(x[b:b + 1], params, h0[b:b + 1], c0[b:b + 1])
        dh_next, dc_next = np.zeros((1, h0.shape[1])), np.zeros((1, h0.shape[1]))
        for t in range(T - 1, -1, -1):
            _, dh_next, dc_next, g = lstm_step_backward(dhs[b:b + 1, t] + dh_next, dc_next,
                                                        caches[t])
            for k in PARAM_KEYS:
                out[k][b, t] = g[k]
    return out


def _wrong_axis(name: str, got, fx: dict) -> str | None:
    """Say which axis a wrongly shaped weight gradient was summed over, if it was."""
    arr = np.asarray(got, float)
    per = _per_example_step_grads(fx)[name]  # (B, T, *shape)
    stacked = per.sum(axis=0)  # (T, *shape): one entry per step, as a loop would collect them
    candidates = [(stacked, "one per time step, not yet summed over time: add the steps' "
                            "gradients together"),
                  (per.sum(axis=1), "summed over time but not over the batch: also sum over "
                                    "the examples")]
    for axis in range(1, stacked.ndim):
        candidates.append((stacked.sum(axis=axis),
                           f"summed over axis {axis} of the stacked per-step gradients (shape "
                           f"{stacked.shape}); sum over axis 0, the time axis, instead"))
    for value, why in candidates:
        # A backward loop collects the steps from the last to the first: accept either order.
        orders = (value, value[::-1])
        if value.shape == arr.shape and any(close(arr, v) for v in orders):
            return f"hint: grads[{name!r}] has shape {arr.shape}: gradients {why}"
    return None


def numerical_line(arrays: dict, loss, got: dict, prefix: str = "") -> str:
    """One feedback line: the learner's gradients ``got[prefix + name]`` against central
    differences of ``loss()`` (which must read ``arrays`` through a closure)."""
    errors = {}
    for name, arr in arrays.items():
        try:
            errors[name] = rel_error(np.asarray(got[prefix + name], float),
                                     numerical_gradient(lambda _: loss(), arr))
        except (ValueError, TypeError):
            errors[name] = float("inf")
    bad = [f"{prefix}{k} {v:.1e}" for k, v in errors.items() if not v < GRAD_TOL]
    if not bad:
        return f"numerical gradient check: worst relative error {max(errors.values()):.1e}"
    return (f"numerical gradient check: relative error {', '.join(bad)} "
            f"(a correct backward pass gives < {GRAD_TOL:.0e})")


def _numerical_line(fx: dict, got: dict) -> str:
    """Gradient check of the learner's arrays against central differences of the package LSTM."""
    x, params, h0, c0 = fx["x"].copy(), _copy(fx["params"]), fx["h0"].copy(), fx["c0"].copy()
    dhs, dcT = fx["dhs"], fx["dcT"]

    def loss():
        hs, cache = lstm_forward(x, params, h0, c0)
        return np.sum(hs * dhs) + np.sum(cache.c[:, -1] * dcT)

    return numerical_line({"x": x, "h0": h0, "c0": c0, **params}, loss, got, prefix="d")


def _call_backward(fn, dhs, caches, dcT):
    args = (dhs.copy(), list(caches)) + (() if dcT is None else (dcT.copy(),))
    result = call_learner(fn, *args, what="lstm_backward")
    dx, dh0, dc0, grads = unpack(result, 4, "(dx, dh0, dc0, grads)", "lstm_backward")
    if not isinstance(grads, dict) or any(k not in grads for k in PARAM_KEYS):
        raise Incorrect("grads should be a dict with the keys 'W', 'U' and 'b'; got "
                        f"{type(grads).__name__}"
                        + (f" with keys {sorted(grads)}" if isinstance(grads, dict) else ""))
    return {"dx": dx, "dh0": dh0, "dc0": dc0, "dW": grads["W"], "dU": grads["U"],
            "db": grads["b"]}


def _as_named(dx, dh0, dc0, grads) -> dict:
    return {"dx": dx, "dh0": dh0, "dc0": dc0, "dW": grads["W"], "dU": grads["U"], "db": grads["b"]}


def diagnose_backward(fn, fx: dict) -> list[str]:
    """Check ``fn(dhs, caches, dcT=None) -> (dx, dh0, dc0, grads)``; praise, or ``Incorrect``."""
    x, params, h0, c0, dhs, dcT = (fx[k] for k in ("x", "params", "h0", "c0", "dhs", "dcT"))
    B, T, _ = x.shape
    _, caches = reference_forward(x, params, h0, c0)
    _, core_cache = lstm_forward(x, params, h0, c0)
    for with_dcT in (False, True):
        ref = _as_named(*lstm_backward(dhs, core_cache, dcT if with_dcT else None))
        got = _call_backward(fn, dhs, caches, dcT if with_dcT else None)
        for name in ("dW", "dU", "db"):
            value = as_result_array(f"grads[{name[1]!r}]", got[name])
            if value.shape != ref[name].shape:
                hint = _wrong_axis(name[1], value, fx)
                raise Incorrect(f"grads[{name[1]!r}] has shape {value.shape}; expected "
                                f"{ref[name].shape}", hint or "")
        gdx = as_result_array("dx", got["dx"])
        if gdx.shape == (T, B, x.shape[2]) and close(gdx.swapaxes(0, 1), ref["dx"]):
            raise Incorrect(f"dx has shape {gdx.shape}, time-major; it should be (B, T, D) = "
                            f"{ref['dx'].shape}: stack the steps along axis=1")
        problems = {name: compare(name, got[name], ref[name]) for name in ref}
        fatal = [p for p in problems.values() if p and "wrong values" not in p]
        if fatal:
            raise Incorrect(*fatal)
        wrong = [name for name, p in problems.items() if p]
        if not wrong:
            continue
        lines = [f"wrong: {', '.join(wrong)}"
                 + (f"; right: {', '.join(n for n in ref if n not in wrong)}"
                    if len(wrong) < len(ref) else "")
                 + (" (when dcT is given)" if with_dcT else "")]
        first = _first_wrong_step(np.asarray(gdx, float), ref["dx"], range(T - 1, -1, -1))
        if first is not None:
            if first == T - 1:
                lines.append(f"dx is wrong already at the last step, t = {T - 1}, where the "
                             "backward pass starts")
            else:
                lines.append(f"dx is right for t = {T - 1} .. {first + 1} and first goes wrong "
                             f"at t = {first}, counting back from the last step")
        bugs = list(_BACKWARD_HINTS)
        if not with_dcT:
            bugs.remove("dcT_ignored")
        for bug in bugs:
            cand = _as_named(*reference_backward(dhs, caches, dcT if with_dcT else None, bug))
            if all(close(got[k], cand[k]) for k in cand):
                lines.append(f"hint: {_BACKWARD_HINTS[bug]}")
                break
        else:
            if close(got["dh0"], ref["dc0"]) and close(got["dc0"], ref["dh0"]):
                lines.append("hint: dh0 and dc0 are swapped: return (dx, dh0, dc0, grads)")
            elif all(not np.any(np.asarray(got[k], float)) for k in ref):
                lines.append("hint: every gradient is zero: is dhs[:, t] added into each "
                             "step's dh?")
        lines.append(_numerical_line(fx if with_dcT else _without_dcT(fx), got))
        raise Incorrect(*lines)
    got = _call_backward(fn, dhs, caches, dcT)
    return [f"the gradient flows back through all {T} steps, through both h and c",
            _numerical_line(fx, got)]


def _without_dcT(fx: dict) -> dict:
    return {**fx, "dcT": np.zeros_like(fx["dcT"])}
