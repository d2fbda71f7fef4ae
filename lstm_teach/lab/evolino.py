"""Evolino: evolve an LSTM's hidden weights, solve for its output weights (Schmidhuber et al. 2007).

Evolino ("EVOlution of systems with LINear Outputs") trains an LSTM without
any gradient. It splits the network in two:

* the **hidden weights** (all of ``W``, ``U``, ``b`` and the peepholes) are
  searched by evolution;
* the **output weights** of a linear readout are not searched at all: for each
  candidate network, run the training sequence, collect the hidden states, and
  solve the least-squares problem ``states @ V ~ targets`` with the
  Moore-Penrose pseudo-inverse. Evolution only ever sees networks with their
  best possible readout.

The search follows the paper's Enforced SubPopulations (ESP; Gomez &
Miikkulainen 1997), simplified:

* there is one subpopulation per memory cell; an individual of subpopulation j
  is a *genome* holding every weight that belongs to cell j (its columns of
  ``W``, ``U`` and ``b`` for the four blocks i, f, g, o, and its three
  peephole weights);
* a network is built by picking one individual from each subpopulation; in
  each generation every individual takes part in ``trials`` networks, and its
  fitness is the mean error of the networks it joined;
* in each subpopulation the best quarter survives unchanged and the rest is
  replaced by children of random pairs of survivors: uniform crossover plus
  Cauchy-distributed mutations (heavy tails: mostly small steps, now and then a
  big jump).

A detail that makes this cheap in numpy: networks that do not interact form
one big LSTM whose recurrent matrix is block-diagonal. :func:`population_forward`
runs a whole generation of networks with a single call of
:func:`lstm_teach.lstm_forward`.

The fitness of a network is the squared error of its predictions with the
best readout: either one step ahead on held-out steps with the true signal as
input, or in free runs where its own prediction becomes its next input (see
:func:`evolve`). Simplifications compared with the paper (say so when you compare):
one training series rather than several; no burst mutation or subpopulation
restarts; fixed population sizes; our own choice of mutation scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core._checks import as_float_array, check_choice, check_ndim, check_positive_int
from ..core.lstm_config import LSTMConfig
from ..core.utils import as_rng
from ..kernels.lstm import lstm_forward

__all__ = [
    "EvolinoResult",
    "assemble",
    "evolve",
    "fit_readout",
    "free_run",
    "genome_size",
    "population_forward",
    "stack_population",
]

CONFIG = LSTMConfig(peepholes=True)  # Evolino's cells had forget gates and peepholes


def genome_size(input_size: int, n_cells: int) -> int:
    """Weights per cell: 4 columns of ``W`` (D each), of ``U`` (H each), 4 biases, 3 peepholes."""
    return 4 * (input_size + n_cells + 1) + 3


def assemble(genomes: np.ndarray, input_size: int) -> dict:
    """Build package parameters from one genome per cell.

    Parameters
    ----------
    genomes : np.ndarray, (H, G)
        Row j holds cell j's weights: ``W[:, block k col j]`` for k = i, f, g, o
        (4 D numbers), then ``U[:, block k col j]`` (4 H), then ``b`` (4), then
        the peepholes ``P[:, j]`` (3). G = :func:`genome_size`.
    input_size : int

    Returns
    -------
    dict
        ``W`` (D, 4H), ``U`` (H, 4H), ``b`` (4H,), ``P`` (3, H).
    """
    H, G = genomes.shape
    D = input_size
    if G != genome_size(D, H):
        raise ValueError(f"genomes must have shape (H, {genome_size(D, H)}) for D={D}, H={H}; "
                         f"got {genomes.shape}")
    w = genomes[:, : 4 * D].reshape(H, 4, D)  # (cell, block, input)
    u = genomes[:, 4 * D : 4 * (D + H)].reshape(H, 4, H)  # (cell, block, source cell)
    b = genomes[:, 4 * (D + H) : 4 * (D + H) + 4]  # (cell, block)
    p = genomes[:, 4 * (D + H) + 4 :]  # (cell, 3)
    # package column index of (block k, cell j) is k H + j
    return {
        "W": w.transpose(2, 1, 0).reshape(D, 4 * H),
        "U": u.transpose(2, 1, 0).reshape(H, 4 * H),
        "b": b.T.reshape(4 * H),
        "P": np.ascontiguousarray(p.T),
    }


def stack_population(nets: list[dict]) -> dict:
    """One LSTM that runs several independent networks side by side.

    Parameters
    ----------
    nets : list of N dicts
        Package parameters (``W`` (D, 4H), ``U`` (H, 4H), ``b``, ``P``), all
        with the same D and H.

    Returns
    -------
    dict
        Parameters of an LSTM with N D inputs and N H cells: network n reads
        input channels ``n D .. (n+1) D`` and owns cells ``n H .. (n+1) H``.
        ``W`` and ``U`` are block-diagonal (zeros elsewhere), so no network
        hears another.
    """
    N = len(nets)
    D, H4 = nets[0]["W"].shape
    H = H4 // 4
    W = np.zeros((N * D, 4, N * H))
    U = np.zeros((N * H, 4, N * H))
    b = np.zeros((4, N * H))
    P = np.zeros((3, N * H))
    for n, p in enumerate(nets):
        cells = slice(n * H, (n + 1) * H)
        W[n * D : (n + 1) * D, :, cells] = p["W"].reshape(D, 4, H)
        U[cells, :, cells] = p["U"].reshape(H, 4, H)
        b[:, cells] = p["b"].reshape(4, H)
        P[:, cells] = p["P"]
    return {"W": W.reshape(N * D, -1), "U": U.reshape(N * H, -1), "b": b.reshape(-1), "P": P}


def population_forward(x, nets: list[dict]):
    """Run several independent LSTMs on the same input with one call of the core.

    Parameters
    ----------
    x : np.ndarray, (B, T, D)
    nets : list of N dicts
        Package parameters, all with the same D and H.

    Returns
    -------
    np.ndarray, (N, B, T, H)
        The hidden states of each network.
    """
    N = len(nets)
    H = nets[0]["U"].shape[0]
    hs, _ = lstm_forward(np.tile(x, (1, 1, N)), stack_population(nets), config=CONFIG)
    B, T, _ = hs.shape
    return hs.reshape(B, T, N, H).transpose(2, 0, 1, 3)


def _features(hs):
    """Readout inputs: the hidden states plus a constant 1, (..., H + 1)."""
    return np.concatenate([hs, np.ones(hs.shape[:-1] + (1,))], axis=-1)


def fit_readout(states, targets, ridge: float = 0.0) -> np.ndarray:
    """Least-squares output weights by the pseudo-inverse: ``V = pinv([states, 1]) @ targets``.

    Parameters
    ----------
    states : np.ndarray, (n, H)
    targets : np.ndarray, (n, K)
    ridge : float
        Optional Tikhonov term (0 gives the pure pseudo-inverse of the paper).

    Returns
    -------
    np.ndarray, (H + 1, K)
        Readout weights, the last row being the bias.
    """
    Phi = _features(np.asarray(states))
    if ridge > 0:
        A = Phi.T @ Phi + ridge * np.eye(Phi.shape[1])
        return np.linalg.solve(A, Phi.T @ targets)
    return np.linalg.pinv(Phi) @ targets


@dataclass
class EvolinoResult:
    """What :func:`evolve` returns.

    Attributes
    ----------
    params : dict
        The best network's LSTM parameters (``W``, ``U``, ``b``, ``P``).
    readout : np.ndarray, (H + 1, 1)
        Its pseudo-inverse readout.
    best_error : list of float
        Best fitness (an MSE) in each generation (index 0: the random start).
    mean_error : list of float
        Median fitness over the networks of each generation.
    evaluations : int
        Networks evaluated.
    """

    params: dict
    readout: np.ndarray
    best_error: list = field(default_factory=list)
    mean_error: list = field(default_factory=list)
    evaluations: int = 0


def _score_one_step(series, nets, washout, n_fit):
    """Fit each readout on ``series[:n_fit]``; return the one-step MSE on the rest (teacher forced).

    The readout is fitted on steps ``washout .. n_fit - 1`` (input ``series[t]``,
    target ``series[t + 1]``); the fitness is the mean squared error of the
    predictions for the remaining steps, with the true signal as input.
    """
    N, H = len(nets), nets[0]["U"].shape[0]
    T = len(series) - 1
    hs, _ = lstm_forward(np.tile(series[None, :T, None], (1, 1, N)), stack_population(nets),
                         config=CONFIG)
    hs = hs[0].reshape(T, N, H)
    targets = series[1:]
    errors, readouts = np.empty(N), []
    for n in range(N):
        V = fit_readout(hs[washout:n_fit, n], targets[washout:n_fit, None])
        pred = _features(hs[n_fit:, n]) @ V
        errors[n] = np.mean((pred[:, 0] - targets[n_fit:]) ** 2)
        readouts.append(V)
    return errors, readouts


def _score_free_run(series, nets, washout, horizon, n_starts):
    """Fit each network's readout with teacher forcing, then let it run free; return MSEs.

    Teacher forcing over the whole series gives the states for the
    pseudo-inverse. Then, from ``n_starts`` points spread over the series, each
    network continues on its own, its prediction becoming its next input, for
    ``horizon`` steps; its fitness is the mean squared error of those free
    runs. (Outputs are clipped to +-3 so that an unstable network scores badly
    instead of overflowing.)
    """
    N, H = len(nets), nets[0]["U"].shape[0]
    T = len(series) - 1
    big = stack_population(nets)
    hs, cache = lstm_forward(np.tile(series[None, :T, None], (1, 1, N)), big, config=CONFIG)
    hs = hs[0].reshape(T, N, H)
    targets = series[1:]
    readouts = [fit_readout(hs[washout:, n], targets[washout:, None]) for n in range(N)]
    V = np.stack(readouts)[:, :, 0]  # (N, H + 1)
    starts = np.linspace(washout, T - horizon - 1, n_starts).astype(int)  # free runs begin here
    h = cache.h[0, starts]  # (K, N H): the state after reading series[start]
    c = cache.c[0, starts]
    pred = np.einsum("knh,nh->kn", _features(h.reshape(-1, N, H)), V)  # predicts series[start+1]
    errors = np.zeros(N)
    for t in range(horizon):
        pred = np.clip(pred, -3.0, 3.0)
        errors += np.sum((pred - series[starts + 1 + t][:, None]) ** 2, axis=0)
        step, cache = lstm_forward(pred[:, None, :], big, h0=h, c0=c, config=CONFIG)
        h, c = cache.hT, cache.cT
        pred = np.einsum("knh,nh->kn", _features(step[:, 0].reshape(-1, N, H)), V)
    return errors / (horizon * n_starts), readouts


def evolve(series, n_cells: int = 6, pop_size: int = 16, generations: int = 20, trials: int = 3,
           fitness: str = "one_step", washout: int = 20, fit_fraction: float = 0.6,
           horizon: int = 40, n_starts: int = 4, init_scale: float = 0.5,
           mutation_scale: float = 0.05, rng=None) -> EvolinoResult:
    """Evolino with enforced subpopulations, on predicting or generating a time series.

    Parameters
    ----------
    series : np.ndarray, (T,)
        A scalar time series; the network reads ``series[t]`` and predicts
        ``series[t + 1]``.
    n_cells : int
        H, one subpopulation per cell.
    pop_size : int
        Individuals per subpopulation.
    generations : int
    trials : int
        Networks each individual joins per generation.
    fitness : {"one_step", "free_run"}
        ``"one_step"``: fit the readout on the first ``fit_fraction`` of the
        series and score the one-step predictions on the rest, with the true
        signal as input. ``"free_run"``: fit the readout on the whole series,
        then score ``n_starts`` free runs of ``horizon`` steps started at
        points spread over the series, in which the network's own prediction
        is its next input (what generating the series requires).
    washout : int
        Initial steps ignored when fitting the readout (the state settles).
    fit_fraction : float
        For ``"one_step"``.
    horizon, n_starts : int
        For ``"free_run"``.
    init_scale, mutation_scale : float
        Scale of the initial uniform weights and of the Cauchy mutations.
    rng : np.random.Generator or int

    Returns
    -------
    EvolinoResult
    """
    series = as_float_array("series", series)
    check_ndim("series", series, 1, "(T,)")
    H = check_positive_int("n_cells", n_cells)
    S = check_positive_int("pop_size", pop_size)
    if S < 4:
        raise ValueError(f"pop_size must be at least 4 (a quarter must survive); got {S}")
    rng = as_rng(rng)
    G = genome_size(1, H)
    check_choice("fitness", fitness, ("one_step", "free_run"))
    n_fit = int(fit_fraction * (len(series) - 1))
    needed = washout + (horizon if fitness == "free_run" else 10) + 10
    if len(series) < needed or (fitness == "one_step" and not washout < n_fit < len(series) - 2):
        raise ValueError(f"series of length {len(series)} is too short for washout={washout}, "
                         f"fit_fraction={fit_fraction} and horizon={horizon}")

    def score(nets):
        if fitness == "one_step":
            return _score_one_step(series, nets, washout, n_fit)
        return _score_free_run(series, nets, washout, horizon, n_starts)

    pops = rng.uniform(-init_scale, init_scale, size=(H, S, G))
    result = EvolinoResult(params={}, readout=np.zeros((H + 1, 1)))
    best_ever = np.inf
    for _generation in range(generations + 1):
        # every individual joins `trials` networks: column k of a random permutation per cell
        picks = np.stack([np.concatenate([rng.permutation(S) for _ in range(trials)])
                          for _ in range(H)])  # (H, S * trials)
        nets = [assemble(pops[np.arange(H), picks[:, n]], 1) for n in range(picks.shape[1])]
        errors, readouts = score(nets)
        result.evaluations += len(nets)
        result.best_error.append(float(errors.min()))
        result.mean_error.append(float(np.median(errors)))
        n_best = int(errors.argmin())
        if errors[n_best] < best_ever:
            best_ever = errors[n_best]
            result.params, result.readout = nets[n_best], readouts[n_best]
        # fitness of an individual: mean error of the networks it joined
        credit = np.zeros((H, S))
        np.add.at(credit, (np.repeat(np.arange(H), picks.shape[1]), picks.ravel()),
                  np.tile(errors, H))
        credit /= trials
        # recombine within each subpopulation: the best quarter breeds the rest
        keep = max(1, S // 4)
        for j in range(H):
            order = np.argsort(credit[j])
            elite = pops[j, order[:keep]]
            parents = elite[rng.integers(0, keep, size=(S - keep, 2))]  # (S - keep, 2, G)
            mix = rng.random((S - keep, G)) < 0.5
            children = np.where(mix, parents[:, 0], parents[:, 1])
            children += mutation_scale * rng.standard_cauchy((S - keep, G)).clip(-20, 20)
            pops[j] = np.concatenate([elite, children])
    return result


def free_run(params, readout, warmup, steps: int) -> np.ndarray:
    """Let an Evolino network generate a series on its own.

    The network first reads ``warmup`` (the true signal, teacher forcing),
    then for ``steps`` more steps its own prediction becomes its next input.

    Returns
    -------
    np.ndarray, (steps,)
        The generated continuation.
    """
    warmup = as_float_array("warmup", warmup)
    check_ndim("warmup", warmup, 1, "(T,)")
    hs, cache = lstm_forward(warmup[None, :, None], params, config=CONFIG)
    h, c = cache.hT, cache.cT
    value = float((_features(hs[0, -1]) @ readout)[0])
    out = np.empty(steps)
    for t in range(steps):
        out[t] = value
        hs, cache = lstm_forward(np.array([[[value]]]), params, h0=h, c0=c, config=CONFIG)
        h, c = cache.hT, cache.cT
        value = float((_features(hs[0, -1]) @ readout)[0])
    return out
