"""Checks for solutions/06_training.ipynb: an Adam step, and sampling with a temperature."""

from __future__ import annotations

import numpy as np

from ..checks import probe_rng, register
from ..feedback import Incorrect, call_learner, close, compare

EXERCISE_SET = "06_training"


def adam_reference(p, g, m, v, t, lr, beta1, beta2, eps, variant=None):
    """Adam, Algorithm 1 of Kingma & Ba (2015); ``variant`` reproduces common mistakes."""
    with np.errstate(invalid="ignore", divide="ignore"):  # some mistakes give sqrt(< 0)
        return _adam(p, g, m, v, t, lr, beta1, beta2, eps, variant)


def _adam(p, g, m, v, t, lr, beta1, beta2, eps, variant):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * (g if variant == "v_without_square" else g * g)
    if variant == "no_bias_correction":
        m_hat, v_hat = m, v
    else:
        tt = t + 1 if variant == "t_plus_one" else t
        m_hat, v_hat = m / (1 - beta1**tt), v / (1 - beta2**tt)
    if variant == "eps_inside":
        step = m_hat / np.sqrt(v_hat + eps)
    else:
        step = m_hat / (np.sqrt(v_hat) + eps)
    return (p + lr * step if variant == "ascent" else p - lr * step), m, v


_ADAM_HINTS = {
    "no_bias_correction": "the bias corrections are missing: m_hat = m / (1 - beta1**t), "
                          "v_hat = v / (1 - beta2**t)",
    "t_plus_one": "the bias correction uses t + 1; t is already the 1-based step number",
    "eps_inside": "epsilon goes outside the square root: sqrt(v_hat) + eps",
    "v_without_square": "v averages the *squared* gradient: (1 - beta2) * g**2",
    "ascent": "the step goes uphill: subtract lr * m_hat / (sqrt(v_hat) + eps)",
}


def _package_adam(p, g, m, v, t, lr, beta1, beta2, eps):
    """The same step through lstm_teach.optim.Adam, when that module is available."""
    try:
        from ...concise.optim import Adam
    except ImportError:  # pragma: no cover - optim is part of the package
        return None
    opt = Adam(learning_rate=lr, beta_1=beta1, beta_2=beta2, epsilon=eps)
    opt.set_state({"iterations": t - 1, "slots": {"p": {"m": m, "v": v}}})
    params = {"p": p.copy()}
    opt.step(params, {"p": g})
    return params["p"], opt.state["p"]["m"], opt.state["p"]["v"]


@register("adam_step", EXERCISE_SET, points=3, title="One Adam step")
def check_adam_step(fn):
    """``fn(p, g, m, v, t, lr, beta1, beta2, eps) -> (p_new, m_new, v_new)``."""
    rng = probe_rng(2)
    lr, beta1, beta2 = 0.01, 0.9, 0.999
    # The usual epsilon (1e-8) first; then a large one, so that where epsilon goes
    # (outside or inside the square root) changes the step by far more than rounding.
    for t, eps in ((1, 1e-8), (2, 1e-8), (10, 1e-8), (3, 0.1)):
        p, g = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
        # |g| >= 0.04: with a tiny gradient, even eps = 1e-8 inside the root shows at t = 1,
        # and the diagnosis would name the first step rather than the large-eps one
        g += np.copysign(0.04, g) * (np.abs(g) < 0.04)
        m = np.zeros_like(p) if t == 1 else rng.normal(0, 0.1, p.shape)
        v = np.zeros_like(p) if t == 1 else rng.uniform(0, 0.1, p.shape)
        inputs = [a.copy() for a in (p, g, m, v)]
        result = call_learner(fn, *inputs, t, lr, beta1, beta2, eps, what="adam_step")
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            raise Incorrect("adam_step should return three arrays (p_new, m_new, v_new)")
        if not all(np.array_equal(a, b) for a, b in zip(inputs, (p, g, m, v), strict=True)):
            raise Incorrect("adam_step changed an input array in place; return new arrays "
                            "(p_new, m_new, v_new) instead")
        expected = adam_reference(p, g, m, v, t, lr, beta1, beta2, eps)
        package = _package_adam(p, g, m, v, t, lr, beta1, beta2, eps)
        if package is not None:  # the course's Adam and this reference must agree
            assert all(np.allclose(a, b) for a, b in zip(package, expected, strict=True))
        # m and v first: a wrong moment explains a wrong p, not the other way round.
        for index, label in ((1, "m_new"), (2, "v_new"), (0, "p_new")):
            where = f"step t = {t}" + ("" if eps == 1e-8 else f", eps = {eps:g}")
            problem = compare(f"{label} ({where})", result[index], expected[index])
            if problem is None:
                continue
            hints = [h for variant, h in _ADAM_HINTS.items()
                     if all(close(a, b) for a, b in zip(
                         result, adam_reference(p, g, m, v, t, lr, beta1, beta2, eps, variant),
                         strict=True))]
            raise Incorrect(problem, *[f"hint: {h}" for h in hints[:1]])
    return ["matches lstm_teach.optim.Adam (Kingma & Ba 2015, Algorithm 1)"]


def _softmax(z):
    z = z - z.max()
    e = np.exp(z)
    return e / e.sum()


@register("sample_with_temperature", EXERCISE_SET, points=2, title="Sampling with a temperature")
def check_sample_with_temperature(fn, n_samples: int = 3000):
    """``fn(logits, temperature, rng) -> int`` drawn from softmax(logits / temperature).

    Three temperatures on hand-chosen logits, then random logits at a random
    temperature (away from 1, where multiplying and dividing by it agree).
    """
    fixed = np.array([2.0, 1.0, 0.0, -1.0, 0.5])
    draw = probe_rng(12)
    drawn = (np.round(draw.normal(0, 1.2, size=int(draw.integers(3, 7))), 6),
             round(float(draw.choice([draw.uniform(0.4, 0.7), draw.uniform(1.5, 2.5)])), 6))
    for logits, temperature in ((fixed, 1.0), (fixed, 0.5), (fixed, 2.0), drawn):
        rng = probe_rng(11)
        draws = []
        for _ in range(n_samples):
            k = call_learner(fn, logits.copy(), temperature, rng, what="sample_with_temperature")
            if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
                raise Incorrect("sample_with_temperature should return one index (an int); "
                                f"got {type(k).__name__} {k!r:.40}")
            if not 0 <= k < len(logits):
                raise Incorrect(f"returned index {k} is outside 0 .. {len(logits) - 1}")
            draws.append(int(k))
        freq = np.bincount(draws, minlength=len(logits)) / n_samples
        expected = _softmax(logits / temperature)
        tolerance = 5 * np.sqrt(expected * (1 - expected) / n_samples) + 0.01
        if np.all(np.abs(freq - expected) < tolerance):
            continue
        lines = [f"at temperature {temperature} your sample frequencies "
                 f"{np.round(freq, 2).tolist()} do not match softmax(logits / temperature) = "
                 f"{np.round(expected, 2).tolist()}"]
        mistakes = (
            (_softmax(logits * temperature), "divide the logits by the temperature; you "
                                             "multiplied"),
            (_softmax(logits), "the temperature is not used"),
            (np.eye(len(logits))[np.argmax(logits)], "you always pick the most likely index: "
                                                     "sample from the distribution instead"),
        )
        lines += [f"hint: {hint}" for other, hint in mistakes
                  if np.all(np.abs(freq - other) < tolerance)][:1]
        raise Incorrect(*lines)
    big = np.array([1000.0, 999.0, -1000.0])
    overflow_hint = "hint: subtract the largest logit before np.exp (exp(1000) overflows)"
    try:
        with np.errstate(all="ignore"):
            k = call_learner(fn, big, 1.0, probe_rng(0),
                             what="sample_with_temperature with logits [1000, 999, -1000]")
    except Incorrect as exc:
        raise Incorrect(*exc.lines, overflow_hint) from None
    if not (isinstance(k, (int, np.integer)) and k in (0, 1)):
        raise Incorrect(f"with logits [1000, 999, -1000] your function returned {k!r:.30}; "
                        "it should return 0 or 1", overflow_hint)
    def twenty_draws():  # one draw could agree by chance; twenty in a row do not
        rng = probe_rng(5)
        return [int(call_learner(fn, fixed, 1.0, rng)) for _ in range(20)]

    if twenty_draws() != twenty_draws():
        raise Incorrect("the same rng seed gives different samples: draw only from the rng "
                        "argument (not np.random.* global functions)")
    return ["sharper below temperature 1, flatter above, and stable for huge logits"]
