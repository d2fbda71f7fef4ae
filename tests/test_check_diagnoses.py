"""Every exercise check names the real bug in a typical wrong answer.

For each registered check (the bug zoo's are tested with the zoo itself, in
test_grading_checks.py), the table below holds typical wrong answers, written the way a
learner writes them, and the words the feedback must contain: the gate, term, shape,
time step or formula that is wrong. The newer exercises keep their table in their own
test file (DIAGNOSED_IN_OWN_FILE below says where); a test makes sure that every check is
in one of the two places.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import lstm_teach as lt
from lstm_teach import variants
from lstm_teach.grading import check, checks, exercise_sets, exercises_for

BUG_ZOO = "04_bug_zoo"


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


# --------------------------------------------------------------------------- 01


def iir_swapped(x, w, b):
    y, out = 0.0, np.zeros(len(x))
    for t, xt in enumerate(x):
        y = b * y + w * xt
        out[t] = y
    return out


def iir_scaled_feedback(x, w, b):
    y, out = 0.0, np.zeros(len(x))
    for t, xt in enumerate(x):
        y = b * (w * y + xt)
        out[t] = y
    return out


def impulse_from_w(w, n):
    return w ** np.arange(1, n + 1)


def impulse_one_too_many(w, n):
    return w ** np.arange(n + 1)


def stability_forgets_minus_one(w):
    if abs(w) < 1:
        return "stable"
    return "integrator" if abs(w) == 1 else "unstable"


# --------------------------------------------------------------------------- 02


def rnn_sigmoid(x, h, p):
    return sig(x @ p["W"] + h @ p["U"] + p["b"])


def rnn_u_transposed(x, h, p):
    return np.tanh(x @ p["W"] + h @ p["U"].T + p["b"])


def make_bptt(derivative_of_activated=False, dU_with_current_state=False):
    def rnn_backward(dhs, cache):
        x, h0, hs, p = cache["x"], cache["h0"], cache["hs"], cache["params"]
        dx, grads = np.zeros_like(x), {k: np.zeros_like(v) for k, v in p.items()}
        dh_next = np.zeros_like(h0)
        for t in reversed(range(hs.shape[1])):
            prev = h0 if t == 0 else hs[:, t - 1]
            h = hs[:, t]
            local = 1 - np.tanh(h) ** 2 if derivative_of_activated else 1 - h**2
            dz = (dhs[:, t] + dh_next) * local
            dx[:, t] = dz @ p["W"].T
            grads["W"] += x[:, t].T @ dz
            grads["U"] += (h if dU_with_current_state else prev).T @ dz
            grads["b"] += dz.sum(0)
            dh_next = dz @ p["U"].T
        return dx, dh_next, grads

    return rnn_backward


# --------------------------------------------------------------------------- 03


def sigmoid_flipped(z):
    return 1 / (1 + np.exp(z))


def sigmoid_naive(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_where(z):
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))


def sigmoid_wrong_negative_branch(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1 / (1 + np.exp(-z[pos]))
    out[~pos] = 1 / (1 + np.exp(z[~pos]))
    return out


def make_lstm_step(mistake):
    def lstm_step_forward(x_t, h_prev, c_prev, params):
        H = h_prev.shape[1]
        z = x_t @ params["W"] + h_prev @ params["U"] + params["b"]
        i, f = sig(z[:, :H]), sig(z[:, H:2 * H])
        g, o = np.tanh(z[:, 2 * H:3 * H]), sig(z[:, 3 * H:])
        if mistake == "forget_without_h":
            f = sig(x_t @ params["W"][:, H:2 * H] + params["b"][H:2 * H])
        if mistake == "output_bias_of_input":
            o = sig(x_t @ params["W"][:, 3 * H:] + h_prev @ params["U"][:, 3 * H:]
                    + params["b"][:H])
        c = f * c_prev + i * g
        h = o * (c if mistake == "no_tanh" else np.tanh(c))
        return h, c, None

    return lstm_step_forward


# --------------------------------------------------------------------------- 04


def make_step_backward(mistake):
    def lstm_step_backward(dh, dc, cache):
        x, h_prev, c_prev, c = cache["x"], cache["h_prev"], cache["c_prev"], cache["c"]
        i, f, g, o = cache["i"], cache["f"], cache["g"], cache["o"]
        W, U = cache["params"]["W"], cache["params"]["U"]
        tanh_c = np.tanh(c)
        do = dh * tanh_c
        dct = dc + dh * o * (1 - tanh_c**2)
        di, df, dg = dct * g, dct * c_prev, dct * i
        dz = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2),
                             do * o * (1 - o)], axis=1)
        dc_prev = dct if mistake == "dc_prev_without_f" else dct * f
        grads = {"W": x.T @ dz, "U": h_prev.T @ dz, "b": dz.sum(axis=0)}
        return dz @ W.T, dz @ U.T, dc_prev, grads

    return lstm_step_backward


# --------------------------------------------------------------------------- 05


def norms_without_transpose(x, params):
    hs, _ = lt.rnn_forward(x, params)
    dh, out = np.ones_like(hs[:, -1]), []
    for k in range(hs.shape[1]):
        out.append(np.linalg.norm(dh))
        dh = (dh * (1 - hs[:, -1 - k] ** 2)) @ params["U"]
    return np.array(out)


def norms_reversed(x, params):
    hs, _ = lt.rnn_forward(x, params)
    dh, out = np.ones_like(hs[:, -1]), []
    for k in range(hs.shape[1]):
        out.append(np.linalg.norm(dh))
        dh = (dh * (1 - hs[:, -1 - k] ** 2)) @ params["U"].T
    return np.array(out[::-1])


def clip_returns_norm_after(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    scale = min(1.0, max_norm / norm)
    return {k: g * scale for k, g in grads.items()}, norm * scale


def clip_in_place(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    for g in grads.values():
        g *= min(1.0, max_norm / norm)
    return grads, norm


# --------------------------------------------------------------------------- 06


def adam_eps_inside(p, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return p - lr * m_hat / np.sqrt(v_hat + eps), m, v


def adam_uphill(p, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return p + lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def sample_argmax(logits, temperature, rng):
    return int(np.argmax(logits / temperature))


def sample_unshifted(logits, temperature, rng):
    p = np.exp(logits / temperature)
    return int(rng.choice(len(p), p=p / p.sum()))


def sample_global_rng(logits, temperature, rng):
    z = logits / temperature
    p = np.exp(z - z.max())
    return int(np.random.default_rng().choice(len(p), p=p / p.sum()))


# --------------------------------------------------------------------------- 07


def expansion_interleaved(hidden_size, block_size):
    n_blocks = hidden_size // block_size
    return (np.arange(hidden_size)[None, :] % n_blocks
            == np.arange(n_blocks)[:, None]).astype(float)


def expansion_transposed(hidden_size, block_size):
    return variants.expansion_matrix(hidden_size, block_size).T


def _swap_i_f(array, H):
    out = np.array(array, copy=True)
    out[..., :H], out[..., H:2 * H] = array[..., H:2 * H], array[..., :H]
    return out


def block_expand_i_f_swapped(params, block_size):
    full = variants.block_expand(params, block_size)
    H = params["U"].shape[0]
    return {k: _swap_i_f(v, H) for k, v in full.items()}


def block_gradients_mean(full_grads, hidden_size, block_size):
    grads = variants.block_gradients(full_grads, hidden_size, block_size)
    nb = hidden_size // block_size
    shared = np.r_[0:nb, nb:2 * nb, 2 * nb + hidden_size:3 * nb + hidden_size]
    for value in grads.values():
        value[..., shared] /= block_size
    return grads


def four_port_transposed(port_sizes, hidden_size):
    return variants.four_port_mask(port_sizes, hidden_size).T


def greff_without_peepholes():
    return {name: replace(config, peepholes=False)
            for name, config in variants.GREFF_VARIANTS.items()}


# --------------------------------------------------------------------------- the table

#: check name -> [(label, wrong answer, words the feedback must contain)]
WRONG_ANSWERS = {
    "iir_filter": [
        ("swapped w and b", iir_swapped, ["w and b have swapped roles"]),
        ("b scales the feedback too", iir_scaled_feedback, ["b multiplies only the new input"]),
    ],
    "impulse_response": [
        ("starts at w", impulse_from_w, ["the first sample is the impulse itself"]),
        ("n + 1 samples", impulse_one_too_many, ["shape (7,)", "return exactly n = 6 samples"]),
    ],
    "classify_stability": [
        ("w = -1 called unstable", stability_forgets_minus_one,
         ["w = -1.0: you said 'integrator', but it is 'marginal'", "flips sign"]),
    ],
    "rnn_step_forward": [
        ("sigmoid", rnn_sigmoid, ["the activation is the sigmoid; this RNN uses tanh"]),
        ("U transposed", rnn_u_transposed, ["U is transposed"]),
    ],
    "rnn_backward": [
        ("derivative of tanh(h)", make_bptt(derivative_of_activated=True),
         ["wrong: dx, dh0, dW, dU, db", "already tanh(z): use 1 - h**2"]),
        ("dU with h_t", make_bptt(dU_with_current_state=True),
         ["wrong: dU; right: dx, dh0, dW, db", "it should pair it with h_{t-1}", "dU "]),
    ],
    "stable_sigmoid": [
        ("flipped sign", sigmoid_flipped,
         ["for moderate z", "sigma(-z) = 1 - sigma(z): the sign of z is flipped"]),
        ("naive formula", sigmoid_naive,
         ["FloatingPointError", "`return 1 / (1 + np.exp(-z))`",
          "np.exp(-z) overflows for z = -1000"]),
        ("np.where", sigmoid_where,
         ["FloatingPointError", "np.where evaluates both branches"]),
        ("wrong negative branch", sigmoid_wrong_negative_branch,
         ["right for z >= 0 and wrong for z < 0"]),
    ],
    "lstm_step_forward": [
        ("forget gate ignores h_prev", make_lstm_step("forget_without_h"),
         ["the forget gate f is wrong", "f ignores h_prev"]),
        ("output gate with the input gate's bias", make_lstm_step("output_bias_of_input"),
         ["the output gate o is wrong", "o uses the slice of b that belongs to i"]),
        ("no tanh on c", make_lstm_step("no_tanh"),
         ["c is right, but h is not", "the tanh on the cell state is missing"]),
    ],
    "lstm_param_count": [
        ("three blocks", lambda D, H: 3 * (D * H + H * H + H),
         ["you get 135; the LSTM has 180", "four blocks, not three"]),
        ("no biases", lambda D, H: 4 * (D * H + H * H), ["the biases are missing"]),
        ("a float", lambda D, H: 4.0 * (D * H + H * H + H), ["return an int"]),
    ],
    "lstm_step_backward": [
        ("dc_prev without f", make_step_backward("dc_prev_without_f"),
         ["wrong: dc_prev", "dc_prev must be multiplied by f"]),
    ],
    "carousel_gradient": [
        ("sum instead of product", lambda fs, t: fs[:, t:].sum(axis=1),
         ["not a sum"]),
        ("ignores t", lambda fs, t: np.prod(fs, axis=1), ["does not depend on t"]),
    ],
    "grad_norm_vs_lag": [
        ("U instead of U.T", norms_without_transpose, ["multiplies by U.T, not U"]),
        ("reversed", norms_reversed, ["the order is reversed"]),
    ],
    "clip_by_global_norm": [
        ("norm after clipping", clip_returns_norm_after,
         ["the returned norm is 1", "return the norm measured before clipping"]),
        ("clips in place", clip_in_place, ["changed the gradients passed in (in place)"]),
    ],
    "adam_step": [
        ("eps inside the root", adam_eps_inside,
         ["p_new (step t = 3, eps = 0.1)", "epsilon goes outside the square root"]),
        ("goes uphill", adam_uphill, ["the step goes uphill"]),
    ],
    "sample_with_temperature": [
        ("argmax", sample_argmax, ["at temperature 1.0", "you always pick the most likely"]),
        ("no max subtraction", sample_unshifted,
         ["[1000, 999, -1000]", "subtract the largest logit"]),
        ("global generator", sample_global_rng,
         ["the same rng seed gives different samples", "rng argument"]),
    ],
    "expansion_matrix": [
        ("interleaved blocks", expansion_interleaved, ["your blocks interleave the cells"]),
        ("transposed", expansion_transposed, ["(transposed?)", "E is (n_blocks, H)"]),
    ],
    "block_expand": [
        ("i and f swapped", block_expand_i_f_swapped,
         ["the i, f block(s) of W are wrong, the others right"]),
    ],
    "block_gradients": [
        ("mean over the block", block_gradients_mean,
         ["W has the right shape but wrong values", "the chain rule gives the sum"]),
    ],
    "four_port_mask": [
        ("transposed", four_port_transposed,
         ["mask for port sizes (1, 2, 3, 1), H=2 has shape (8, 7)",
          "the mask multiplies W, which is (D_i + D_f + D_g + D_o, 4H)"]),
    ],
    "greff_variants": [
        ("no peepholes", greff_without_peepholes,
         ["NFG is", "Greff's vanilla LSTM has peepholes"]),
    ],
}

#: The checks whose typical wrong answers live in their exercise's own test file (each
#: slip is a keyword of one model answer there, which keeps those cases short): check name
#: -> that file. Every check is in exactly one of this and WRONG_ANSWERS.
DIAGNOSED_IN_OWN_FILE = {
    "lstm_forward": "test_grading_sequence_lstm.py",
    "lstm_backward": "test_grading_sequence_lstm.py",
    "latch_loss_and_grads": "test_grading_train_from_scratch.py",
    "train_latch": "test_grading_train_from_scratch.py",
    "gru_step_forward": "test_grading_gru.py",
    "gru_step_backward": "test_grading_gru.py",
    "rtrl_step": "test_grading_rtrl.py",
    "rtrl_gradients": "test_grading_rtrl.py",
    "params_from_torch": "test_grading_interop.py",
    "params_from_concat": "test_grading_interop.py",
}

CASES = [(name, label, fn, words) for name, cases in WRONG_ANSWERS.items()
         for label, fn, words in cases]


def test_every_check_outside_the_bug_zoo_has_typical_wrong_answers():
    registered = {ex.name for s in exercise_sets() if s != BUG_ZOO for ex in exercises_for(s)}
    assert not set(WRONG_ANSWERS) & set(DIAGNOSED_IN_OWN_FILE)
    assert registered == set(WRONG_ANSWERS) | set(DIAGNOSED_IN_OWN_FILE)


@pytest.mark.parametrize("name", sorted(DIAGNOSED_IN_OWN_FILE))
def test_a_check_tested_in_its_own_file_is_given_wrong_answers_there(name):
    """The file runs the check on answers that must fail, with the words they must show."""
    text = (Path(__file__).parent / DIAGNOSED_IN_OWN_FILE[name]).read_text(encoding="utf-8")
    calls = re.findall(rf'quiet\("{name}", .*\)\n\s+assert result.status == "failed"', text)
    assert calls, f"{DIAGNOSED_IN_OWN_FILE[name]} gives {name} no wrong answer to diagnose"
    assert "assert phrase in result.message" in text


@pytest.mark.parametrize("name, label, fn, words", CASES,
                         ids=[f"{name}-{label}" for name, label, _, _ in CASES])
def test_a_typical_wrong_answer_gets_the_right_diagnosis(name, label, fn, words):
    kwargs = {"n_samples": 2000} if name == "sample_with_temperature" else {}
    result = check(name, fn, verbose=False, **kwargs)
    assert not result.passed and result.status == "failed" and result.points == 0
    for phrase in words:
        assert phrase in result.message, f"{label}: {phrase!r} missing from\n{result.message}"


#: The grader's inputs are new in every run; so is this secret.
SECRET = secrets.randbits(64)
#: Words that name a hand-chosen case the wrong answer may fail *before* on random inputs
#: (eps inside the root shows at t = 1 too when a random p_new is near 0): the hint stays.
CASE_LABELS = {("adam_step", "eps inside the root"): "p_new (step t = 3, eps = 0.1)"}


@pytest.mark.parametrize("name, label, fn, words", CASES,
                         ids=[f"{name}-{label}" for name, label, _, _ in CASES])
def test_the_diagnosis_holds_on_the_graders_secret_inputs(name, label, fn, words):
    """The same wrong answer, given inputs drawn with a secret as the grader draws them."""
    kwargs = {"n_samples": 2000} if name == "sample_with_temperature" else {}
    with checks.secret_inputs(SECRET):
        result = check(name, fn, verbose=False, **kwargs)
    assert not result.passed and result.status == "failed" and result.points == 0
    for phrase in words:
        if CASE_LABELS.get((name, label)) == phrase:
            continue
        assert phrase in result.message, (f"{label} (secret {SECRET}): {phrase!r} missing "
                                          f"from\n{result.message}")
