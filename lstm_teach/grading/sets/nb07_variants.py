"""Checks for solutions/07_variants.ipynb: block mode, four input ports, Greff's variant table."""

from __future__ import annotations

import numpy as np

from ...core.lstm_config import LSTMConfig
from ...kernels.lstm import lstm_backward
from ...lab import variants
from ..checks import probe_rng, register
from ..feedback import Incorrect, call_learner, compare

EXERCISE_SET = "07_variants"


@register("expansion_matrix", EXERCISE_SET, points=1, title="The block expansion matrix E")
def check_expansion_matrix(fn):
    """``fn(hidden_size, block_size) -> E`` (n_blocks, H); E[k, j] = 1 iff cell j is in block k."""
    if fn is variants.expansion_matrix:
        raise Incorrect("that is the package's own expansion_matrix: write yours")
    n_blocks, size = (int(n) for n in probe_rng(30).integers(2, 41, size=2))
    for H, S in ((6, 3), (6, 2), (4, 1), (5, 5), (n_blocks * size, size)):
        got = call_learner(fn, H, S, what="expansion_matrix")
        expected = variants.expansion_matrix(H, S)
        problem = compare(f"E for H={H}, block_size={S}", got, expected, check_dtype=False)
        if problem is None:
            continue
        arr = np.asarray(got)
        lines = [problem]
        interleaved = (np.arange(H)[None, :] % (H // S) == np.arange(H // S)[:, None]).astype(float)
        if arr.shape == expected.shape and np.array_equal(arr, interleaved):
            lines.append("your blocks interleave the cells (cell j in block j % n_blocks); the "
                         "package numbers cells block by block: block 0 is cells 0 .. S-1")
        elif arr.shape == expected.T.shape:
            lines.append("E is (n_blocks, H): one row per block, so that gate columns = "
                         "block columns @ E")
        raise Incorrect(*lines)
    return ["one row per block, ones over that block's cells"]


def _block_fixture(seed=0, D=3, n_blocks=2, S=3):
    rng = probe_rng(seed)
    G = 3 * n_blocks + n_blocks * S
    return {"W": rng.normal(size=(D, G)), "U": rng.normal(size=(n_blocks * S, G)),
            "b": rng.normal(size=G)}, S


@register("block_expand", EXERCISE_SET, points=2, title="Block parameters to full LSTM parameters")
def check_block_expand(fn):
    """``fn(params, block_size) -> dict`` with W (D, 4H), U (H, 4H), b (4H,)."""
    for seed, (nb, S) in enumerate(((2, 3), (3, 2), (1, 4))):
        params, S = _block_fixture(seed, n_blocks=nb, S=S)
        got = call_learner(fn, {k: v.copy() for k, v in params.items()}, S, what="block_expand")
        if not isinstance(got, dict):
            raise Incorrect("block_expand should return a dict with W, U, b; "
                            f"got {type(got).__name__}")
        expected = variants.block_expand(params, S)
        H = nb * S
        for key in ("W", "U", "b"):
            if key not in got:
                raise Incorrect(f"the returned dict has no {key!r}")
            problem = compare(f"{key}", got[key], expected[key], check_dtype=False)
            if problem is None:
                continue
            arr = np.asarray(got[key])
            lines = [problem]
            if arr.shape == expected[key].shape:
                exp = expected[key].reshape(-1, 4, H)
                mine = arr.reshape(-1, 4, H)
                bad = [g for k, g in enumerate("ifgo") if not np.allclose(mine[:, k], exp[:, k])]
                lines.append(f"the {', '.join(bad)} block(s) of {key} are wrong, the others right")
                if bad == ["g"]:
                    lines.append("the cell inputs are NOT shared: the g columns (H of them) pass "
                                 "through unchanged (identity), only i, f, o are copied per block")
            raise Incorrect(*lines)
    return ["shared gate columns copied to every cell of their block; cell inputs unchanged"]


@register("block_gradients", EXERCISE_SET, points=2, title="Gradients back to block parameters")
def check_block_gradients(fn):
    """``fn(full_grads, hidden_size, block_size) -> dict`` of block-layout gradients."""
    rng = probe_rng(5)
    for nb, S in ((2, 3), (3, 1)):
        H, D = nb * S, 2
        full = {"W": rng.normal(size=(D, 4 * H)), "U": rng.normal(size=(H, 4 * H)),
                "b": rng.normal(size=4 * H)}
        got = call_learner(fn, {k: v.copy() for k, v in full.items()}, H, S,
                           what="block_gradients")
        if not isinstance(got, dict):
            raise Incorrect(f"block_gradients should return a dict; got {type(got).__name__}")
        expected = variants.block_gradients(full, H, S)
        for key in ("W", "U", "b"):
            if key not in got:
                raise Incorrect(f"the returned dict has no {key!r}")
            problem = compare(key, got[key], expected[key], check_dtype=False)
            if problem is None:
                continue
            lines = [problem]
            arr = np.asarray(got[key])
            if arr.shape == expected[key].shape and S > 1:
                gates = np.r_[0:nb, nb:2 * nb, 2 * nb + H:3 * nb + H]
                if np.allclose(arr[..., gates] * S, expected[key][..., gates]):
                    lines.append("your shared-gate gradients are the mean over the block; the "
                                 "chain rule gives the sum (every copy adds its share)")
            raise Incorrect(*lines)
    # the two functions must fit together: a gradient check through the block LSTM
    params, S = _block_fixture(7, D=2, n_blocks=2, S=2)
    x = rng.normal(size=(1, 4, 2))
    G = rng.normal(size=(1, 4, 4))
    _, cache = variants.block_forward(x, params, S)
    full_grads = lstm_backward(G, cache.core)[3]
    mine = call_learner(fn, full_grads, 4, S, what="block_gradients")
    for key, value in variants.block_backward(G, cache)[3].items():
        problem = compare(f"{key} (inside a real backward pass)", mine[key], value,
                          check_dtype=False)
        if problem:
            raise Incorrect(problem)
    return ["dL/dblock = dL/dfull @ C.T: a shared gate collects the gradient of all its copies"]


@register("four_port_mask", EXERCISE_SET, points=1, title="The four-port mask on W")
def check_four_port_mask(fn):
    """``fn(port_sizes, hidden_size) -> mask`` (sum of sizes, 4H), port k feeding gate k only."""
    drawn = [int(n) for n in probe_rng(31).integers(1, 17, size=5)]
    for sizes, H in (((1, 2, 3, 1), 2), ((2, 2, 2, 2), 3), ((1, 1, 1, 1), 1),
                     (tuple(drawn[:4]), drawn[4])):
        got = call_learner(fn, sizes, H, what="four_port_mask")
        expected = variants.four_port_mask(sizes, H)
        problem = compare(f"mask for port sizes {sizes}, H={H}", got, expected, check_dtype=False)
        if problem:
            lines = [problem]
            arr = np.asarray(got)
            if arr.shape == expected.T.shape:
                lines.append("the mask multiplies W, which is (D_i + D_f + D_g + D_o, 4H)")
            raise Incorrect(*lines)
    return ["block diagonal: rows of port k are ones in gate k's columns"]


_GREFF_NAMES = ("NFG", "NOAF", "NP", "CIFG")


@register("greff_variants", EXERCISE_SET, points=2, title="Greff et al.'s variants as LSTMConfig")
def check_greff_variants(fn):
    """``fn() -> dict`` mapping "NFG", "NOAF", "NP", "CIFG" to LSTMConfig objects."""
    obj = call_learner(fn, what="greff_configs")
    if not isinstance(obj, dict):
        raise Incorrect(f"greff_configs() should return a dict of LSTMConfig objects; "
                        f"got {type(obj).__name__}")
    missing = [n for n in _GREFF_NAMES if n not in obj]
    if missing:
        raise Incorrect(f"the dict lacks {missing}")
    for name in _GREFF_NAMES:
        got, expected = obj[name], variants.GREFF_VARIANTS[name]
        if not isinstance(got, LSTMConfig):
            raise Incorrect(f"{name} should be an LSTMConfig; got {type(got).__name__}")
        if got == expected:
            continue
        lines = [f"{name} is {got.describe()}; Greff et al.'s {name} is {expected.describe()}"]
        if got.peepholes != expected.peepholes:
            lines.append("remember: Greff's vanilla LSTM has peepholes, and every variant but "
                         "NP keeps them")
        raise Incorrect(*lines)
    return ["each variant changes exactly one thing of the peephole LSTM"]
