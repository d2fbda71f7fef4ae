"""The small training machinery shared by the reproductions.

A reproduction trains many tiny networks, so the loop is kept tight and
functional: the package's own ``lstm_forward`` / ``lstm_backward`` (or the RNN
versions), a linear readout of the last hidden state, a loss from
:mod:`lstm_teach.losses` and an optimizer from :mod:`lstm_teach.optim`. Nothing
here is specific to one paper.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..concise.training import readout_backward, readout_forward, train_with_readout
from ..core import init as init_module
from ..core import losses
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

    def core_forward(self, x, core=None):
        """The recurrent layer alone: ``(hs (B, T, H), cache)``."""
        core = self._core() if core is None else core
        if self.kind == "lstm":
            return lstm_forward(x, core, config=self.config)
        return rnn_forward(x, core)

    def core_backward(self, dhs, cache, x=None, core=None) -> dict:
        """Gradients of the recurrent layer's arrays from ``dhs`` (B, T, H)."""
        if self.kind == "lstm":
            return lstm_backward(dhs, cache)[3]
        return rnn_backward(dhs, cache)[2]

    def forward(self, x):
        """Predictions ``(B, O)`` for inputs ``x`` (B, T, D), and what backward needs."""
        hs, cache = self.core_forward(x)
        return readout_forward(hs[:, -1], self.params), (hs, cache)

    def backward(self, dy, state) -> dict:
        """Gradients of every parameter from ``dy`` = dL/dy, (B, O)."""
        hs, cache = state
        dtop, grads = readout_backward(hs[:, -1], dy, self.params)
        dhs = np.zeros_like(hs)
        dhs[:, -1] = dtop
        grads.update(self.core_backward(dhs, cache))
        return grads

    def predict(self, x, chunk: int = 4096) -> np.ndarray:
        """Predictions for a (possibly large) test set, in chunks."""
        return np.concatenate(
            [self.forward(x[i : i + chunk])[0] for i in range(0, len(x), chunk)]
        )


# --------------------------------------------------------------------------------------
# the loop
# --------------------------------------------------------------------------------------


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
    """Train ``net`` for up to ``steps`` updates with the kit's one training loop
    (:func:`lstm_teach.concise.training.train_with_readout`, reading out the last step).

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
        ``diverged`` (the loss, a gradient or an updated parameter was NaN or
        inf, or the loss exploded: training stopped, and the parameters are the
        last good ones), ``losses`` (training loss per attempted update),
        ``grad_norms`` (global gradient norm per update, before clipping).
    """
    run = train_with_readout(
        net.params, sample, net.core_forward, net.core_backward, losses.get(loss), optimizer,
        steps, target="last", check=check, check_every=check_every, progress=progress,
        desc=desc)
    return {"steps": run.steps, "stopped_early": run.stopped_early,
            "diverged": run.diverged is not None, "losses": run.losses,
            "grad_norms": run.grad_norms}
