"""Diagnosing a learner's LSTM step, forward and backward.

Forward: the learner's function is a black box returning ``(h, c)``. Its
*effective* gates are recovered from probes that isolate one term each:

* ``c = f * c_prev + i * g`` is linear in ``c_prev`` (no peepholes), so two
  calls that differ only in ``c_prev`` (0 and 1) give ``f`` exactly, and the
  call with ``c_prev = 0`` gives the product ``i * g``;
* ``h = o * tanh(c)`` is compared using the learner's own ``c``, so a wrong
  cell state does not make the output gate look wrong.

A wrong gate is then matched against a list of plausible mistakes (another
gate's slice of ``W``, ``U`` or ``b``; a missing term; the wrong activation)
to say *how* it is wrong.

Backward: every returned gradient is compared block by block with the
reference (the ``W``, ``U`` and ``b`` columns of each gate separately), and
the whole answer is compared with references into which known bugs were put
on purpose (a missing tanh, a derivative applied to an activated value, a
wrong bias slice, ...). A numerical gradient check reports the relative
error of each gradient.

The step cache the exercises use is a plain dict (see :func:`step_cache`).
"""

from __future__ import annotations

import numpy as np

from ..core import activations
from ..core.gradcheck import numerical_gradient, rel_error
from ..core.lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from .checks import probe_rng
from .feedback import Incorrect, call_learner, close, compare, unpack

GATES = ("i", "f", "g", "o")
GATE_NAMES = {"i": "input gate i", "f": "forget gate f", "g": "cell candidate g",
              "o": "output gate o"}
SLICES = {"i": "[0:H]", "f": "[H:2H]", "g": "[2H:3H]", "o": "[3H:4H]"}
GRAD_TOL = 1e-7

_sigmoid = activations.get("sigmoid").fn
_ACTS = {"sigmoid": _sigmoid, "tanh": np.tanh, "identity": lambda z: z}


def _block(k: str, H: int) -> slice:
    j = GATES.index(k)
    return slice(j * H, (j + 1) * H)


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def copy_params(params: dict) -> dict:
    return {k: np.array(v, copy=True) for k, v in params.items()}


# --------------------------------------------------------------------------- fixtures


def reference_gates(x, h_prev, params) -> dict[str, np.ndarray]:
    """The four gate activations of the standard LSTM, each (B, H), from the reference step."""
    step = lstm_step_forward(x, h_prev, np.zeros_like(h_prev), params)[2]
    return {k: getattr(step, k) for k in GATES}


def step_fixture(seed: int = 0, B: int = 3, D: int = 5, H: int = 4) -> dict:
    """Inputs for one step: ``x`` (B, D), ``h_prev``/``c_prev`` (B, H), ``params``.

    D != H != B so that a transposed or swapped array shows up as a shape
    error. The seed is advanced until every gate value is comfortably away
    from 0 and 1 (and g from 0), so that the probes divide safely and no two
    hypotheses coincide. Drawn from :func:`~lstm_teach.grading.checks.probe_rng`: fixed
    in the learner's kernel, new in every grading run.
    """
    for attempt in range(1000):
        rng = probe_rng(seed, attempt)
        params = {"W": rng.normal(0, 0.6, (D, 4 * H)), "U": rng.normal(0, 0.6, (H, 4 * H)),
                  "b": rng.normal(0, 0.5, 4 * H)}
        x = rng.normal(0, 1, (B, D))
        h_prev = rng.uniform(-0.9, 0.9, (B, H))
        c_prev = rng.normal(0, 1, (B, H))
        gates = reference_gates(x, h_prev, params)
        sig_ok = all(0.05 < gates[k].min() and gates[k].max() < 0.95 for k in "ifo")
        if sig_ok and np.abs(gates["g"]).min() > 0.15 and np.abs(c_prev).min() > 0.1:
            return {"x": x, "h_prev": h_prev, "c_prev": c_prev, "params": params}
    raise RuntimeError("no suitable fixture found")  # pragma: no cover


def step_cache(x, h_prev, c_prev, params) -> dict:
    """The dict cache of one step, as the exercises define it: the reference's step cache.

    Keys: ``x`` (B, D), ``h_prev``, ``c_prev`` (B, H), the gates ``i``, ``f``,
    ``g``, ``o`` (B, H), the new cell state ``c`` (B, H) and ``params``: the
    fields of :class:`lstm_teach.core.lstm.LSTMStepCache` by the same names.
    """
    return _as_dict(lstm_step_forward(x, h_prev, c_prev, params)[2], params)


def _as_dict(step, params) -> dict:
    """The exercises' dict cache: the reference step cache's fields, copied, plus ``params``."""
    fields = ("x", "h_prev", "c_prev", *GATES, "c")
    return {**{k: np.array(getattr(step, k), copy=True) for k in fields}, "params": params}


# --------------------------------------------------------------------------- forward


def _gate_hypotheses(k: str, x, h_prev, params) -> list[tuple[str, np.ndarray]]:
    """Plausible wrong versions of gate ``k``: (hint, value), most specific first."""
    H = params["U"].shape[0]
    W, U, b = params["W"], params["U"], params["b"]
    xW = {j: x @ W[:, _block(j, H)] for j in GATES}
    hU = {j: h_prev @ U[:, _block(j, H)] for j in GATES}
    bb = {j: b[_block(j, H)] for j in GATES}
    right = "tanh" if k == "g" else "sigmoid"
    act = _ACTS[right]
    name, out = GATE_NAMES[k], []
    for j in GATES:
        if j == k:
            continue
        other = GATE_NAMES[j]
        out.append((f"{k} is computed from the columns of {other} (W, U and b{SLICES[j]}); the "
                    f"gate order is [i, f, g, o], so {k} uses columns {SLICES[k]}",
                    act(xW[j] + hU[j] + bb[j])))
    for j in GATES:
        if j == k:
            continue
        out.append((f"{k} uses the slice of b that belongs to {j}, b{SLICES[j]}; "
                    f"the slice for {k} is b{SLICES[k]}", act(xW[k] + hU[k] + bb[j])))
        out.append((f"{k} uses the slice of W that belongs to {j}, W[:, {SLICES[j][1:-1]}]; "
                    f"the slice for {k} is W[:, {SLICES[k][1:-1]}]", act(xW[j] + hU[k] + bb[k])))
        out.append((f"{k} uses the slice of U that belongs to {j}, U[:, {SLICES[j][1:-1]}]; "
                    f"the slice for {k} is U[:, {SLICES[k][1:-1]}]", act(xW[k] + hU[j] + bb[k])))
    out.append((f"{k} has no bias: add b{SLICES[k]}", act(xW[k] + hU[k])))
    out.append((f"{k} ignores h_prev: add the recurrent term h_prev @ U[:, {SLICES[k][1:-1]}]",
                act(xW[k] + bb[k])))
    out.append((f"{k} ignores the input: add x_t @ W[:, {SLICES[k][1:-1]}]", act(hU[k] + bb[k])))
    for act_name, fn in _ACTS.items():
        if act_name != right:
            out.append((f"{k} goes through {act_name}; the {name} uses {right}",
                        fn(xW[k] + hU[k] + bb[k])))
    out.append((f"the {name} is missing from the formula (it behaves as if {k} = 1)",
                np.ones_like(xW[k])))
    return out


def _call_step(fn, x, h_prev, c_prev, params, what="lstm_step_forward"):
    result = call_learner(fn, x.copy(), h_prev.copy(), c_prev.copy(), copy_params(params),
                          what=what)
    h, c = unpack(result, 2, "(h, c, cache)", what)
    return h, c


def diagnose_step_forward(fn, fx: dict) -> list[str] | None:
    """Check ``fn(x, h_prev, c_prev, params) -> (h, c, ...)``; raise ``Incorrect`` if wrong."""
    x, h_prev, c_prev, params = fx["x"], fx["h_prev"], fx["c_prev"], fx["params"]
    h_ref, c_ref, _ = lstm_step_forward(x, h_prev, c_prev, params)
    h_got, c_got = _call_step(fn, x, h_prev, c_prev, params)
    problem_c, problem_h = compare("c", c_got, c_ref), compare("h", h_got, h_ref)
    if problem_c is None and problem_h is None:
        return None
    for problem in (problem_h, problem_c):
        if problem and "wrong values" not in problem:
            raise Incorrect(problem)
    h_got, c_got = np.asarray(h_got, float), np.asarray(c_got, float)
    if close(h_got, c_ref) and close(c_got, h_ref):
        raise Incorrect("h and c are swapped: return them in the order (h, c, cache)")

    gates = reference_gates(x, h_prev, params)
    zero, one = np.zeros_like(c_prev), np.ones_like(c_prev)
    _, c0 = _call_step(fn, x, h_prev, zero, params)
    _, c1 = _call_step(fn, x, h_prev, one, params)
    _, c2 = _call_step(fn, x, h_prev, 2 * one, params)
    c0, c1, c2 = (np.asarray(a, float) for a in (c0, c1, c2))
    wrong, hints = [], []

    if not close(c2 - c0, 2 * (c1 - c0)):
        raise Incorrect("c should be f * c_prev + i * g, which changes linearly with c_prev; "
                        "yours does not (is c_prev inside an activation?)")
    f_eff = c1 - c0
    if not close(f_eff, gates["f"]):
        wrong.append("f")
        hints += [h for h, v in _gate_hypotheses("f", x, h_prev, params) if close(f_eff, v)][:1]
    if not close(c0, gates["i"] * gates["g"]):
        hyp_i = [h for h, v in _gate_hypotheses("i", x, h_prev, params)
                 if close(c0, v * gates["g"])]
        hyp_g = [h for h, v in _gate_hypotheses("g", x, h_prev, params)
                 if close(c0, gates["i"] * v)]
        if hyp_i:
            wrong.append("i")
            hints.append(hyp_i[0])
        elif hyp_g:
            wrong.append("g")
            hints.append(hyp_g[0])
        else:
            wrong += ["i", "g"]
            hints.append("the new-content term i * g is wrong: check both the input gate and "
                         "the candidate")
    tanh_c = np.tanh(c_got)
    if not close(h_got, gates["o"] * tanh_c):
        if close(h_got, gates["o"] * c_got):
            hints.append("h should be o * tanh(c): the tanh on the cell state is missing")
        elif close(h_got, gates["o"] * np.tanh(c_prev)):
            hints.append("h should use the new cell state c, not c_prev")
        else:
            wrong.append("o")
            hints += [h for h, v in _gate_hypotheses("o", x, h_prev, params)
                      if close(h_got, v * tanh_c)][:1]
    lines = []
    if problem_c is None:
        lines.append("c is right, but h is not")
    if wrong:
        right = [GATE_NAMES[k] for k in GATES if k not in wrong]
        verb = "is" if len(wrong) == 1 else "are"
        line = f"the {_join([GATE_NAMES[k] for k in wrong])} {verb} wrong"
        if right:
            line += f"; the {_join(right)} {'is' if len(right) == 1 else 'are'} right"
        lines.append(line)
    elif problem_c and not hints:
        lines.append("all four gates are right, but c is not f * c_prev + i * g")
    lines += [f"hint: {h}" for h in hints]
    if not lines:
        lines.append(problem_h or problem_c)
    raise Incorrect(*lines)


# --------------------------------------------------------------------------- backward references


def reference_step_backward(dh, dc, cache: dict, bug: str | None = None):
    """The backward pass of one step from the dict cache, optionally with a known bug.

    ``bug`` is one of ``None``, ``"no_tanh"``, ``"ignore_dc"``, ``"dc_prev_without_f"``,
    ``"activated:<gates>"`` (e.g. ``"activated:ifo"``) or ``"bias:<k><j>"``
    (db of gate k taken from the block of gate j, e.g. ``"bias:fi"``).
    Returns ``(dx, dh_prev, dc_prev, grads)``.
    """
    bug = bug or ""
    x, h_prev, c_prev, c = cache["x"], cache["h_prev"], cache["c_prev"], cache["c"]
    i, f, g, o = (cache[k] for k in GATES)
    W, U = cache["params"]["W"], cache["params"]["U"]
    H = c.shape[1]
    tanh_c = np.tanh(c)
    if bug == "no_tanh":
        do, dct = dh * c, dc + dh * o
    else:
        do, dct = dh * tanh_c, dc + dh * o * (1 - tanh_c**2)
    if bug == "ignore_dc":
        dct = dct - dc
    local = {"i": i * (1 - i), "f": f * (1 - f), "g": 1 - g**2, "o": o * (1 - o)}
    if bug.startswith("activated:"):
        for k in bug.split(":")[1]:
            y = (np.tanh if k == "g" else _sigmoid)(cache[k])
            local[k] = 1 - y**2 if k == "g" else y * (1 - y)
    upstream = {"i": dct * g, "f": dct * c_prev, "g": dct * i, "o": do}
    dz = np.concatenate([upstream[k] * local[k] for k in GATES], axis=1)
    dc_prev = dct if bug == "dc_prev_without_f" else dct * f
    grads = {"W": x.T @ dz, "U": h_prev.T @ dz, "b": dz.sum(axis=0)}
    if bug.startswith("bias:"):
        k, j = bug[5], bug[6]
        grads["b"][_block(k, H)] = dz[:, _block(j, H)].sum(axis=0)
    return dz @ W.T, dz @ U.T, dc_prev, grads


_STEP_BUG_HINTS = {
    "no_tanh": "your gradients treat the output as h = o * c, but it is h = o * tanh(c): use "
               "tanh(c) for do, and include its derivative (1 - tanh(c)**2) in dc",
    "ignore_dc": "the incoming dc is lost: the cell's total gradient is dc + dh * o * "
                 "(1 - tanh(c)**2)",
    "dc_prev_without_f": "dc_prev must be multiplied by f, because c = f * c_prev + i * g",
}


def _bug_hint(bug: str) -> str:
    if bug in _STEP_BUG_HINTS:
        return _STEP_BUG_HINTS[bug]
    if bug.startswith("activated:"):
        gates = bug.split(":")[1]
        names = _join([GATE_NAMES[k] for k in gates])
        start = (f"for the {names}, the activation's derivative is applied to a value that is "
                 "already activated: the cache holds ")
        if gates == "g":
            return start + "g = tanh(z), whose derivative is 1 - g**2, not 1 - tanh(g)**2"
        return (start + "y = sigmoid(z), whose derivative is y * (1 - y), not "
                "sigmoid(y) * (1 - sigmoid(y))" + (" (and for g = tanh(z): 1 - g**2)"
                                                  if "g" in gates else ""))
    k, j = bug[5], bug[6]
    return (f"db{SLICES[k]} (the bias of the {GATE_NAMES[k]}) is taken from the dz block of the "
            f"{GATE_NAMES[j]}, dz[:, {SLICES[j][1:-1]}]: each gate's bias gradient is the batch "
            "sum of its own block")


def _step_bugs() -> list[str]:
    bugs = ["no_tanh", "ignore_dc", "dc_prev_without_f"]
    bugs += [f"activated:{k}" for k in ("ifgo", "ifo", "i", "f", "g", "o")]
    bugs += [f"bias:{k}{j}" for k in GATES for j in GATES if j != k]
    return bugs


# --------------------------------------------------------------------------- backward diagnosis


def _as_grads(grads, what: str) -> dict:
    if not isinstance(grads, dict):
        raise Incorrect(f"{what} should return grads as a dict with keys 'W', 'U', 'b'; "
                        f"got {type(grads).__name__}")
    missing = [k for k in ("W", "U", "b") if k not in grads]
    if missing:
        raise Incorrect(f"grads is missing the key(s) {missing}")
    return grads


def compare_gradients(got: dict, ref: dict, H: int) -> tuple[list[str], list[str], dict]:
    """Compare named gradients; ``dW``/``dU``/``db`` are compared per gate block.

    ``got`` and ``ref`` map names (``"dx"``, ``"dW"``, ...) to arrays.
    Returns (fatal problems, right names, wrong) where ``wrong`` maps each
    wrong name to the gates whose block is wrong (empty for dx, dh_prev, ...).
    """
    fatal, right, wrong = [], [], {}
    for name, ref_value in ref.items():
        problem = compare(name, got[name], ref_value)
        if problem is None:
            right.append(name)
        elif "wrong values" not in problem:
            fatal.append(problem)
        elif name in ("dW", "dU", "db"):
            value = np.asarray(got[name], float)
            wrong[name] = [k for k in GATES
                           if not close(value[..., _block(k, H)], ref_value[..., _block(k, H)])]
        else:
            wrong[name] = []
    return fatal, right, wrong


def _describe_wrong(wrong: dict, right: list[str]) -> list[str]:
    """Feedback lines for the wrong gradients: which, which gate blocks, and what that implies."""
    parts = []
    for name, gates in wrong.items():
        if not gates or len(gates) == 4:
            parts.append(name)
        else:
            parts.append(f"{name} (the {', '.join(gates)} block{'s' if len(gates) > 1 else ''})")
    lines = [f"wrong: {', '.join(parts)}" + (f"; right: {', '.join(right)}" if right else "")]
    blocks = [name for name in ("dW", "dU", "db") if name in wrong]
    whole = [k for k in GATES if all(k in wrong.get(n, ()) for n in ("dW", "dU", "db"))]
    if 0 < len(whole) < 4:
        names = _join([GATE_NAMES[k] for k in whole])
        lines.append(f"dW, dU and db are wrong in the block of the {names} only: the gradient at "
                     f"{'its' if len(whole) == 1 else 'their'} pre-activation (dz) is wrong")
    elif blocks == ["db"]:
        lines.append("dW and dU are right but db is not: check how you sum dz into db")
    elif not blocks and set(wrong) & {"dx", "dh_prev", "dh0"}:
        lines.append("dW, dU and db are right, so dz is right: check how you send it back "
                     "(dx = dz @ W.T, dh_prev = dz @ U.T)")
    return lines


def numerical_report(cache: dict, dh, dc, got: dict) -> tuple[str, float]:
    """Numerical gradient check of a step backward; returns (one line, worst error)."""
    params = copy_params(cache["params"])
    arrays = {"x": cache["x"].copy(), "h_prev": cache["h_prev"].copy(),
              "c_prev": cache["c_prev"].copy(), "W": params["W"], "U": params["U"],
              "b": params["b"]}

    def loss(_):
        h, c, _c = lstm_step_forward(arrays["x"], arrays["h_prev"], arrays["c_prev"], params)
        return np.sum(h * dh) + np.sum(c * dc)

    errors = {}
    for name in ("x", "h_prev", "c_prev", "W", "U", "b"):
        num = numerical_gradient(loss, arrays[name])
        try:
            errors[name] = rel_error(np.asarray(got["d" + name], float), num)
        except (ValueError, TypeError):
            errors[name] = float("inf")
    worst = max(errors.values())
    bad = [f"d{k} {v:.1e}" for k, v in errors.items() if not v < GRAD_TOL]
    if not bad:
        return f"numerical gradient check: worst relative error {worst:.1e}", worst
    return (f"numerical gradient check: relative error {', '.join(bad)} "
            f"(a correct backward pass gives < {GRAD_TOL:.0e})"), worst


def diagnose_step_backward(fn, fx: dict, extra_bugs=None) -> list[str]:
    """Check ``fn(dh, dc, cache) -> (dx, dh_prev, dc_prev, grads)`` on the dict cache.

    Returns the praise lines on a pass; raises ``Incorrect`` otherwise.
    """
    cache = step_cache(fx["x"], fx["h_prev"], fx["c_prev"], fx["params"])
    H = cache["c"].shape[1]
    rng = probe_rng(7)
    dh, dc = rng.normal(size=cache["c"].shape), rng.normal(size=cache["c"].shape)
    core_cache = lstm_step_forward(cache["x"], cache["h_prev"], cache["c_prev"], cache["params"])[2]
    dx, dh_prev, dc_prev, grads = lstm_step_backward(dh, dc, core_cache)
    ref = {"dx": dx, "dh_prev": dh_prev, "dc_prev": dc_prev,
           "dW": grads["W"], "dU": grads["U"], "db": grads["b"]}

    learner_cache = {k: (copy_params(v) if k == "params" else v.copy()) for k, v in cache.items()}
    result = call_learner(fn, dh.copy(), dc.copy(), learner_cache,
                          what=getattr(fn, "__name__", "lstm_step_backward"))
    g_dx, g_dh, g_dc, g_grads = unpack(result, 4, "(dx, dh_prev, dc_prev, grads)",
                                       "lstm_step_backward")
    g_grads = _as_grads(g_grads, "lstm_step_backward")
    got = {"dx": g_dx, "dh_prev": g_dh, "dc_prev": g_dc,
           "dW": g_grads["W"], "dU": g_grads["U"], "db": g_grads["b"]}
    fatal, right, wrong = compare_gradients(got, ref, H)
    if fatal:
        raise Incorrect(*fatal)
    line, _ = numerical_report(cache, dh, dc, got)
    if not wrong:
        return [line]
    lines = _describe_wrong(wrong, right)
    for bug in list(extra_bugs or []) + _step_bugs():
        bdx, bdh, bdc, bgrads = reference_step_backward(dh, dc, cache, bug)
        candidate = {"dx": bdx, "dh_prev": bdh, "dc_prev": bdc,
                     "dW": bgrads["W"], "dU": bgrads["U"], "db": bgrads["b"]}
        if all(close(got[k], candidate[k]) for k in candidate):
            lines.append(f"hint: {_bug_hint(bug)}")
            break
    lines.append(line)
    raise Incorrect(*lines)


# --------------------------------------------------------------------------- sequences


def sequence_fixture(seed: int = 3, B: int = 2, T: int = 5, D: int = 3, H: int = 4) -> dict:
    """Inputs for a sequence (drawn from :func:`~lstm_teach.grading.checks.probe_rng`)."""
    rng = probe_rng(seed)
    params = {"W": rng.normal(0, 0.5, (D, 4 * H)), "U": rng.normal(0, 0.5, (H, 4 * H)),
              "b": rng.normal(0, 0.3, 4 * H)}
    params["b"][H : 2 * H] += 1.0  # forget gates mostly open: gradients travel far
    return {"x": rng.normal(size=(B, T, D)), "h0": rng.uniform(-0.5, 0.5, (B, H)),
            "c0": rng.normal(0, 0.5, (B, H)), "params": params,
            "dhs": rng.normal(size=(B, T, H))}


def step_caches(x, h0, c0, params) -> list[dict]:
    """Run the sequence one step at a time; the list of dict caches (one per step)."""
    caches, h, c = [], h0, c0
    for t in range(x.shape[1]):
        h, c, step = lstm_step_forward(x[:, t], h, c, params)
        caches.append(_as_dict(step, params))
    return caches


def dict_step_backward(dh, dc, cache: dict):
    """A correct step backward on the dict cache (what the sequence exercises are given)."""
    return reference_step_backward(dh, dc, cache)


def diagnose_sequence_backward(fn, fx: dict) -> list[str]:
    """Check ``fn(dhs, caches, step_backward) -> (dx, dh0, dc0, grads)``."""
    x, h0, c0, params, dhs = fx["x"], fx["h0"], fx["c0"], fx["params"], fx["dhs"]
    B, T, D = x.shape
    H = h0.shape[1]
    _, core_cache = lstm_forward(x, params, h0, c0)
    dx, dh0, dc0, grads = lstm_backward(dhs, core_cache)
    ref = {"dx": dx, "dh0": dh0, "dc0": dc0, "dW": grads["W"], "dU": grads["U"], "db": grads["b"]}
    caches = step_caches(x, h0, c0, params)
    result = call_learner(fn, dhs.copy(), caches, dict_step_backward,
                          what=getattr(fn, "__name__", "lstm_backward"))
    g = unpack(result, 4, "(dx, dh0, dc0, grads)", "lstm_backward")
    g_grads = _as_grads(g[3], "lstm_backward")
    got = {"dx": g[0], "dh0": g[1], "dc0": g[2],
           "dW": g_grads["W"], "dU": g_grads["U"], "db": g_grads["b"]}
    fatal, right, wrong = compare_gradients(got, ref, H)
    if fatal:
        raise Incorrect(*fatal)
    if not wrong:
        return ["the gradient flows back through all "
                f"{T} steps, through both h and c"]
    lines = _describe_wrong(wrong, right)[:1]
    gdx = np.asarray(got["dx"], float)
    good_steps = [t for t in range(T) if close(gdx[:, t], dx[:, t])]
    if good_steps == [T - 1] or (T - 1 in good_steps and len(good_steps) < T):
        lines.append(f"dx is right at the last step (t = {T - 1}) but wrong before it: part of "
                     "the gradient is not carried back across time")
    for carry in ("h", "c"):
        bdx, bdh0, bdc0, bgrads = reference_sequence_backward(dhs, caches, drop=carry)
        if close(gdx, bdx) and close(got["dW"], bgrads["W"]):
            name, returned, into, state = (
                ("dh_next", "dh_prev", "added to the dh of the call for step t - 1", "dh0")
                if carry == "h" else
                ("dc_next", "dc_prev", "passed as the dc of the call for step t - 1", "dc0"))
            lines.append(f"hint: {name} is dropped: the {returned} that the backward call for "
                         f"step t returns (the gradient through "
                         f"{'h' if carry == 'h' else 'the cell state c'}) must be {into}, "
                         f"and the last one returned as {state}")
    raise Incorrect(*lines)


def reference_sequence_backward(dhs, caches, drop: str | None = None):
    """BPTT over dict caches; ``drop="h"``/``"c"`` simulates losing dh_next / dc_next."""
    B, T, H = dhs.shape
    dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
    dxs, total = [], None
    for t in range(T - 1, -1, -1):
        dx_t, dh_prev, dc_prev, grads = reference_step_backward(
            dhs[:, t] + (0 if drop == "h" else dh_next), 0 * dc_next if drop == "c" else dc_next,
            caches[t])
        dxs.append(dx_t)
        total = grads if total is None else {k: total[k] + grads[k] for k in grads}
        dh_next, dc_next = dh_prev, dc_prev
    return np.stack(dxs[::-1], axis=1), dh_next, dc_next, total
