"""The small training machinery shared by the reproductions.

A reproduction trains many tiny networks, so the loop is kept tight and
functional: the package's own ``lstm_forward`` / ``lstm_backward`` (or the RNN
versions), a linear readout of the last hidden state, a loss from
:mod:`lstm_teach.losses` and an optimizer from :mod:`lstm_teach.optim`. Nothing
here is specific to one paper.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
from collections.abc import Callable

import numpy as np

from ..core import init as init_module
from ..core import losses
from ..core.errors import NonFiniteError
from ..core.lstm_config import LSTMConfig
from ..core.rnn import rnn_backward, rnn_forward
from ..kernels.lstm import lstm_backward, lstm_forward

# --------------------------------------------------------------------------------------
# a recurrent layer plus a linear readout of its last hidden state
# --------------------------------------------------------------------------------------

CORE_KEYS = ("W", "U", "b", "P")


class SequenceNet:
    """An RNN or LSTM layer whose last hidden state feeds a linear readout.

    ``y = h_T V + c``: one prediction per sequence, as in the adding problem,
    temporal order or the latch.

    Parameters
    ----------
    kind : "lstm" or "rnn"
    input_size, hidden_size, output_size : int
        D, H and the number of outputs O.
    rng : np.random.Generator or int
    config : LSTMConfig, optional
        The LSTM variant (default: the standard LSTM with a forget gate).
    forget_bias : float
        Initial forget-gate bias of the LSTM (1.0 is the common "unit forget bias").
    input_bias : float
        Initial input-gate bias of the LSTM. Hochreiter & Schmidhuber (1997)
        started input gates negative so that cells stay quiet at first.
    recurrent_scale : float
        Multiplies the (orthogonal) initial recurrent matrix of the RNN: its
        spectral radius.
    output_bias : float or array (O,)
        Initial readout bias (e.g. the mean target).

    Attributes
    ----------
    params : dict
        The layer's arrays (``W``, ``U``, ``b``, and ``P`` with peepholes) plus the
        readout ``V`` (H, O) and ``c`` (O,).
    """

    def __init__(
        self,
        kind: str,
        input_size: int,
        hidden_size: int,
        output_size: int,
        rng,
        config: LSTMConfig | None = None,
        forget_bias: float = 1.0,
        input_bias: float = 0.0,
        recurrent_scale: float = 1.0,
        output_bias=0.0,
    ):
        if kind not in ("lstm", "rnn"):
            raise ValueError(f"kind must be 'lstm' or 'rnn'; got {kind!r}")
        self.kind = kind
        self.config = config if kind == "lstm" else None
        H = hidden_size
        if kind == "lstm":
            params = init_module.init_lstm(input_size, H, config=config, rng=rng)
            params["b"][:H] = input_bias
            params["b"][H : 2 * H] = forget_bias
        else:
            params = init_module.init_rnn(input_size, H, rng=rng)
            params["U"] *= recurrent_scale
        params["V"] = init_module.glorot_uniform((H, output_size), rng)
        params["c"] = np.zeros(output_size) + output_bias
        self.params = params

    def _core(self) -> dict:
        return {k: v for k, v in self.params.items() if k in CORE_KEYS}

    def forward(self, x):
        """Predictions ``(B, O)`` for inputs ``x`` (B, T, D), and what backward needs."""
        if self.kind == "lstm":
            hs, cache = lstm_forward(x, self._core(), config=self.config)
        else:
            hs, cache = rnn_forward(x, self._core())
        h_last = hs[:, -1]
        return h_last @ self.params["V"] + self.params["c"], (hs, cache)

    def backward(self, dy, state) -> dict:
        """Gradients of every parameter from ``dy`` = dL/dy, (B, O)."""
        hs, cache = state
        h_last = hs[:, -1]
        dhs = np.zeros_like(hs)
        dhs[:, -1] = dy @ self.params["V"].T
        if self.kind == "lstm":
            grads = lstm_backward(dhs, cache)[3]
        else:
            grads = rnn_backward(dhs, cache)[2]
        grads["V"] = h_last.T @ dy
        grads["c"] = dy.sum(axis=0)
        return grads

    def predict(self, x, chunk: int = 4096) -> np.ndarray:
        """Predictions for a (possibly large) test set, in chunks."""
        return np.concatenate(
            [self.forward(x[i : i + chunk])[0] for i in range(0, len(x), chunk)]
        )


# --------------------------------------------------------------------------------------
# the loop
# --------------------------------------------------------------------------------------


def _finite(grads: dict) -> bool:
    return all(np.isfinite(g).all() for g in grads.values())


def train(
    net: SequenceNet,
    sample: Callable[[int], tuple[np.ndarray, np.ndarray]],
    loss: str,
    optimizer,
    steps: int,
    check: Callable[[int], bool] | None = None,
    check_every: int = 100,
    progress: bool = False,
    desc: str = "training",
) -> dict:
    """Train ``net`` for up to ``steps`` updates.

    Parameters
    ----------
    net : SequenceNet
    sample : callable
        ``sample(step) -> (x, y)``, a fresh training batch.
    loss : str
        A name for :func:`lstm_teach.losses.get` (``"mse"``,
        ``"sparse_categorical_crossentropy"``).
    optimizer : lstm_teach.optim.Optimizer
        Updates ``net.params`` in place (clipping is its job).
    steps : int
        The budget of updates.
    check : callable, optional
        ``check(step) -> bool`` is called every ``check_every`` updates (and
        after the last); True stops training early (e.g. "solved").
    progress : bool
        Show a tqdm progress bar on stderr.

    Returns
    -------
    dict
        ``steps`` (updates done), ``stopped_early`` (check returned True),
        ``diverged`` (a loss, gradient or updated parameter was NaN or inf:
        training stopped, and the parameters are the last finite ones),
        ``losses`` (training loss per update), ``grad_norms`` (global gradient
        norm per update, before clipping).
    """
    from tqdm import tqdm

    loss_fn = losses.get(loss)
    history = {"losses": [], "grad_norms": []}
    stopped, diverged, done = False, False, 0
    bar = tqdm(total=steps, desc=desc, disable=None if progress else True, leave=False)
    try:
        for step in range(steps):
            x, y = sample(step)
            with np.errstate(over="ignore", invalid="ignore"):
                out, state = net.forward(x)
                value, dout = loss_fn(out, y)
                history["losses"].append(value)
                if not (np.isfinite(value) and np.isfinite(dout).all()):
                    diverged = True
                    break
                try:
                    grads = net.backward(dout, state)
                except NonFiniteError:  # the core refuses an overflowing gradient
                    diverged = True
                    break
            norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))
            history["grad_norms"].append(norm)
            if not _finite(grads):
                diverged = True
                break
            backup = {k: v.copy() for k, v in net.params.items()}
            optimizer.step(net.params, grads)
            if not all(np.isfinite(p).all() for p in net.params.values()):
                for k, v in backup.items():  # the update itself overflowed: undo it
                    net.params[k][...] = v
                diverged = True
                break
            done = step + 1
            bar.update(1)
            if check is not None and (done % check_every == 0 or done == steps) and check(done):
                stopped = True
                break
    finally:
        bar.close()
    return {"steps": done, "stopped_early": stopped, "diverged": diverged, **history}


# --------------------------------------------------------------------------------------
# one BLAS thread while an experiment runs
# --------------------------------------------------------------------------------------


def _openblas_controls():
    """(get, set) for the number of OpenBLAS threads numpy uses, or None if unknown."""
    folder = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(folder, "*openblas*")):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                set_ = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    return get, set_
    return None


@contextlib.contextmanager
def single_blas_thread():
    """Run the block with numpy's OpenBLAS on one thread (restored afterwards).

    The experiments multiply tiny matrices thousands of times. Split over
    threads, each multiply spends more time waking the threads than computing,
    and on a busy machine the threads wait for each other: one thread is both
    faster and steadier. Where the library cannot be found this does nothing.
    """
    controls = _openblas_controls()
    if controls is None:
        yield
        return
    get, set_ = controls
    before = get()
    set_(1)
    try:
        yield
    finally:
        set_(before)
