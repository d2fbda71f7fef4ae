"""Checks for solutions/08_rtrl.ipynb: real-time recurrent learning for the Elman RNN.

The RNN is ``h_t = tanh(x_t W + h_{t-1} U + b)``. The sensitivities are one
array per parameter, ``S["W"]`` (B, H, D, H), ``S["U"]`` (B, H, H, H) and
``S["b"]`` (B, H, H), with ``S[p][n, j, ...] = dh_t[n, j] / dp[...]``. One
step of the recursion is

    S_t[p] = (1 - h_t**2) * (sum_m U[m, j] S_{t-1}[p][m] + direct_t[p])

where the direct term is ``x_t[d]`` for ``W[d, j]``, ``h_{t-1}[m]`` for
``U[m, j]`` and 1 for ``b[j]``. Both checks compare with the reference (and
the gradients with BPTT, :func:`lstm_teach.rnn_backward`), then match the
answer against references with one known mistake each.
"""

from __future__ import annotations

import numpy as np

from ...core.rnn import rnn_backward, rnn_forward
from ..checks import probe_rng, register
from ..feedback import Incorrect, as_result_array, call_learner, close, compare, unpack

EXERCISE_SET = "08_rtrl"
KEYS = ("W", "U", "b")


def _direct(x_t, h_prev, H: int) -> dict:
    """dz_t[n, j] / dp[...] for the three parameters (the step's own inputs)."""
    eye = np.eye(H)
    B = x_t.shape[0]
    return {"W": np.einsum("nd,jk->njdk", x_t, eye),
            "U": np.einsum("nm,jk->njmk", h_prev, eye),
            "b": np.broadcast_to(eye, (B, H, H)).copy()}


def reference_rtrl_step(x_t, h_prev, h, S_prev: dict, params: dict, bug: str | None = None):
    """One step of the sensitivity recursion, optionally with a known mistake.

    ``bug``: ``"no_recurrence"``, ``"U_transposed"``, ``"no_derivative"``,
    ``"derivative_of_h_prev"``, ``"derivative_of_activated"``, ``"direct_U_with_h"``,
    ``"no_direct"``.
    """
    U = params["U"]
    H = U.shape[0]
    direct = _direct(x_t, h_prev, H)
    if bug == "direct_U_with_h":
        direct["U"] = _direct(x_t, h, H)["U"]
    if bug == "derivative_of_h_prev":
        deriv = 1 - h_prev**2
    elif bug == "derivative_of_activated":
        deriv = 1 - np.tanh(h) ** 2
    elif bug == "no_derivative":
        deriv = np.ones_like(h)
    else:
        deriv = 1 - h**2
    S = {}
    for k in KEYS:
        if bug == "no_recurrence":
            rec = 0.0
        elif bug == "U_transposed":
            rec = np.einsum("jm,nm...->nj...", U, S_prev[k])
        else:
            rec = np.einsum("mj,nm...->nj...", U, S_prev[k])
        total = rec if bug == "no_direct" else rec + direct[k]
        S[k] = deriv.reshape(deriv.shape + (1,) * (S_prev[k].ndim - 2)) * total
    return S


_STEP_HINTS = {
    "no_recurrence": "the sensitivities are not carried through time: z_t depends on the "
                     "parameters also through h_{t-1}, which adds sum_m U[m, j] S_prev[m] "
                     "(e.g. np.einsum('mj,nm...->nj...', U, S_prev[p]))",
    "U_transposed": "the recurrent term uses U transposed: z_t[j] reads h_{t-1}[m] through "
                    "U[m, j], so contract S_prev over m with U[m, j]",
    "no_derivative": "the tanh derivative is missing: multiply by 1 - h_t**2",
    "derivative_of_h_prev": "the tanh derivative is taken at h_prev; it belongs to this "
                            "step's output: 1 - h**2",
    "derivative_of_activated": "the derivative is applied to a value that is already "
                               "activated: h = tanh(z), so tanh'(z) = 1 - h**2, not "
                               "1 - tanh(h)**2",
    "direct_U_with_h": "the direct term of U uses the new state h; z_t reads the previous "
                       "state, so it is h_prev[m] for U[m, j]",
    "no_direct": "the direct term is missing: besides the path through h_{t-1}, z_t depends "
                 "on W, U and b directly (x_t[d] for W[d, j], h_prev[m] for U[m, j], 1 for "
                 "b[j])",
}


def step_fixture(seed: int = 41, B: int = 2, D: int = 3, H: int = 4) -> dict:
    """A step with non-zero incoming sensitivities, so that the recurrent term shows."""
    rng = probe_rng(seed)
    params = {"W": rng.normal(0, 0.6, (D, H)), "U": rng.normal(0, 0.6, (H, H)),
              "b": rng.normal(0, 0.3, H)}
    x_t, h_prev = rng.normal(size=(B, D)), rng.uniform(-0.8, 0.8, (B, H))
    h = np.tanh(x_t @ params["W"] + h_prev @ params["U"] + params["b"])
    S_prev = {"W": rng.normal(0, 0.3, (B, H, D, H)), "U": rng.normal(0, 0.3, (B, H, H, H)),
              "b": rng.normal(0, 0.3, (B, H, H))}
    return {"x_t": x_t, "h_prev": h_prev, "h": h, "S_prev": S_prev, "params": params}


def _copy(d: dict) -> dict:
    return {k: np.array(v, copy=True) for k, v in d.items()}


def _as_sensitivities(S, what: str) -> dict:
    if not isinstance(S, dict) or any(k not in S for k in KEYS):
        raise Incorrect(f"{what} should return a dict with the keys 'W', 'U' and 'b'; got "
                        + (f"the keys {sorted(S)}" if isinstance(S, dict) else type(S).__name__))
    return S


@register("rtrl_step", EXERCISE_SET, points=3, title="One step of the RTRL sensitivities")
def check_rtrl_step(fn):
    """``fn(x_t, h_prev, h, S_prev, params) -> S``."""
    for fx in (step_fixture(41), step_fixture(42, B=3, D=1, H=2)):
        args = (fx["x_t"], fx["h_prev"], fx["h"], fx["S_prev"], fx["params"])
        ref = reference_rtrl_step(*args)
        got = _as_sensitivities(call_learner(
            fn, fx["x_t"].copy(), fx["h_prev"].copy(), fx["h"].copy(), _copy(fx["S_prev"]),
            _copy(fx["params"]), what="rtrl_step"), "rtrl_step")
        problems = {k: compare(f"S[{k!r}]", got[k], ref[k]) for k in KEYS}
        fatal = [p for p in problems.values() if p and "wrong values" not in p]
        if fatal:
            raise Incorrect(*fatal)
        wrong = [k for k in KEYS if problems[k]]
        if not wrong:
            continue
        lines = [f"wrong: {', '.join(f'S[{k!r}]' for k in wrong)}"
                 + (f"; right: {', '.join(f'S[{k!r}]' for k in KEYS if k not in wrong)}"
                    if len(wrong) < 3 else "")]
        for bug, hint in _STEP_HINTS.items():
            cand = reference_rtrl_step(*args, bug=bug)
            if all(close(got[k], cand[k]) for k in KEYS):
                lines.append(f"hint: {hint}")
                break
        else:
            if len(wrong) == 1:
                lines.append(f"only S[{wrong[0]!r}] is wrong, so the shared parts (the "
                             f"derivative, the recurrent term) are right: look at the direct "
                             f"term of {wrong[0]}")
        raise Incorrect(*lines)
    return ["the sensitivities follow the chain rule through one step"]


def reference_rtrl_gradients(x, params, dhs, h0=None, bug: str | None = None):
    """RTRL over a sequence with the reference step; returns ``(hs, grads)``.

    ``bug``: ``"last_step_only"`` (only dhs[:, -1] used), ``"truncated"``
    (the one-step truncated gradient, as if the step ignored S_prev).
    """
    B, T, D = x.shape
    H = params["U"].shape[0]
    h = np.zeros((B, H)) if h0 is None else h0
    S = {"W": np.zeros((B, H, D, H)), "U": np.zeros((B, H, H, H)), "b": np.zeros((B, H, H))}
    grads = {k: np.zeros_like(params[k]) for k in KEYS}
    hs = []
    for t in range(T):
        h_new = np.tanh(x[:, t] @ params["W"] + h @ params["U"] + params["b"])
        S = reference_rtrl_step(x[:, t], h, h_new, S, params,
                                "no_recurrence" if bug == "truncated" else None)
        h = h_new
        hs.append(h)
        if bug != "last_step_only" or t == T - 1:
            for k in KEYS:
                grads[k] += np.einsum("nj,nj...->...", dhs[:, t], S[k])
    return np.stack(hs, axis=1), grads


def gradients_fixture(seed: int = 43, B: int = 2, T: int = 6, D: int = 3, H: int = 4) -> dict:
    rng = probe_rng(seed)
    params = {"W": rng.normal(0, 0.6, (D, H)), "U": rng.normal(0, 0.6, (H, H)),
              "b": rng.normal(0, 0.3, H)}
    return {"x": rng.normal(size=(B, T, D)), "params": params,
            "h0": rng.uniform(-0.5, 0.5, (B, H)), "dhs": rng.normal(size=(B, T, H))}


@register("rtrl_gradients", EXERCISE_SET, points=2, title="RTRL gradients equal BPTT")
def check_rtrl_gradients(fn):
    """``fn(x, params, dhs, h0=None) -> (hs, grads)``, compared with BPTT."""
    fx = gradients_fixture()
    x, params, h0, dhs = fx["x"], fx["params"], fx["h0"], fx["dhs"]
    hs_ref, cache = rnn_forward(x, params, h0)
    _, _, bptt = rnn_backward(dhs, cache)
    result = call_learner(fn, x.copy(), _copy(params), dhs.copy(), h0.copy(),
                          what="rtrl_gradients")
    hs, grads = unpack(result, 2, "(hs, grads)", "rtrl_gradients")
    problem = compare("hs", hs, hs_ref)
    if problem:
        raise Incorrect(problem, "the forward pass is wrong: h_t = tanh(x_t W + h_{t-1} U + b), "
                                 "starting from h0")
    grads = _as_sensitivities(grads, "rtrl_gradients (as grads)")
    problems = {k: compare(f"grads[{k!r}]", grads[k], bptt[k]) for k in KEYS}
    fatal = [p for p in problems.values() if p and "wrong values" not in p]
    if fatal:
        raise Incorrect(*fatal)
    wrong = [k for k in KEYS if problems[k]]
    if wrong:
        lines = [f"grads differ from BPTT (lt.rnn_backward) for {', '.join(wrong)}"]
        hints = {"last_step_only": "only dhs[:, -1] is used: RTRL adds dhs[:, t] . S_t to the "
                                   "gradient at *every* step t, as soon as S_t is known",
                 "truncated": "your gradient is the one-step truncated one: the sensitivities "
                              "are not carried from step to step (is rtrl_step right, and do "
                              "you pass it the S of the previous step?)"}
        for bug, hint in hints.items():
            if all(close(grads[k], reference_rtrl_gradients(x, params, dhs, h0, bug)[1][k])
                   for k in KEYS):
                lines.append(f"hint: {hint}")
                break
        else:
            lines.append("if rtrl_step passes its check, look at how the loop starts (S = 0, "
                         "since h0 does not depend on the parameters) and what it accumulates")
        raise Incorrect(*lines)
    result = call_learner(fn, x.copy(), _copy(params), dhs.copy(), what="rtrl_gradients")
    problem = compare("hs with h0=None", unpack(result, 2, "(hs, grads)", "rtrl_gradients")[0],
                      rnn_forward(x, params)[0])
    if problem:
        raise Incorrect(problem, "when h0 is None, start from zeros of shape (B, H)")
    arr = as_result_array("grads['U']", grads["U"])
    return [f"equal to BPTT to {np.abs(arr - bptt['U']).max():.0e}, computed forward in time"]
