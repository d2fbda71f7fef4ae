"""The one training loop of the kit: a readout, a guarded optimizer step, one divergence policy.

A training step can go wrong in two ways a learner should never have to debug:
the numbers blow up, or Ctrl-C arrives halfway through a weight update. The
policy, the same for ``Sequential.fit``, the reproductions, the variant lab and
the ConvLSTM:

- **divergence** is a loss that is NaN or inf, or that explodes: more than
  ``explosion_factor`` (1e4) times the first step's loss (or than 1e4 when that
  was below 1), a gradient or an updated weight that is NaN or inf. Training
  stops with :class:`TrainingDivergedError`, which says what went wrong, and
  the parameters are those of the last step whose loss was fine;
- an update is **atomic**: :func:`hold_interrupts` delays Ctrl-C until every
  weight has been written.

:class:`TrainingGuard` applies the policy to one step at a time; the
``Sequential`` model uses it directly. :func:`train_with_readout` is the loop
for a recurrent core with a linear readout ``y = h V + c``, the shape of every
experiment in the kit.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..core.errors import NonFiniteError
from .optim import global_norm

#: A loss this many times the first step's (or this many times 1, if that was below 1) diverged.
EXPLOSION_FACTOR = 1e4
#: The readout's parameter names in a params dict: ``V`` (H, K) and ``c`` (K,).
READOUT_KEYS = ("V", "c")


class TrainingDivergedError(RuntimeError):
    """Training met a NaN or inf, or an exploding loss; the last good parameters are kept.

    Attributes
    ----------
    quantity : str
        ``"loss"``, ``"gradient"`` or ``"weights"``.
    value : float
        The offending value (the loss, or the gradient norm).
    epoch, batch : int or None
        0-based epoch and batch index of the failing step (``Sequential.fit``).
    step : int or None
        1-based global step number.
    history : History or None
        Everything ``Sequential.fit`` recorded before the failure.
    """

    def __init__(self, message, *, quantity, value, epoch=None, batch=None, step=None,
                 history=None):
        super().__init__(message)
        self.quantity = quantity
        self.value = value
        self.epoch = epoch
        self.batch = batch
        self.step = step
        self.history = history


def _diverged(quantity: str, value: float, why: str) -> TrainingDivergedError:
    return TrainingDivergedError(why, quantity=quantity, value=value)


class TrainingGuard:
    """The divergence policy for one set of parameters, applied step by step.

    Parameters
    ----------
    params : dict of str -> np.ndarray
        The live arrays the optimizer updates in place.
    explosion_factor : float or None
        See the module docstring; None turns the explosion test off (NaN and
        inf are always caught).
    """

    def __init__(self, params: Mapping[str, np.ndarray], explosion_factor=EXPLOSION_FACTOR):
        if explosion_factor is not None and not explosion_factor > 1:
            raise ValueError(f"explosion_factor must be > 1 or None; got {explosion_factor!r}")
        self.params = params
        self.explosion_factor = explosion_factor
        self.first_loss: float | None = None
        self._good = [(p, p.copy()) for p in params.values()]

    def restore(self) -> None:
        """Put back the parameters of the last step whose loss was fine."""
        for live, saved in self._good:
            np.copyto(live, saved)

    def check_loss(self, loss: float) -> None:
        """Raise (after restoring the last good parameters) if ``loss`` diverged, else remember
        the current parameters as the last good ones."""
        loss = float(loss)
        if not math.isfinite(loss):
            self.restore()
            raise _diverged("loss", loss, f"the loss is {loss}")
        if self.first_loss is None:
            self.first_loss = loss
        elif (self.explosion_factor is not None
              and loss > self.explosion_factor * max(self.first_loss, 1.0)):
            self.restore()
            raise _diverged("loss", loss, f"the loss exploded to {loss:.3g} (it started at "
                            f"{self.first_loss:.3g})")
        for live, saved in self._good:
            np.copyto(saved, live)

    def step(self, optimizer, loss: float, backward: Callable[[], dict], params=None) -> float:
        """One guarded update: check the loss, get the gradients, step, check the weights.

        Parameters
        ----------
        optimizer : lstm_teach.optim.Optimizer
        loss : float
            This step's loss (before the update).
        backward : callable
            ``backward() -> grads``, called only when the loss is fine; a
            :class:`~lstm_teach.core.errors.NonFiniteError` from it counts as a
            diverged gradient.
        params : dict, optional
            The arrays to update (default: the guarded ones).

        Returns
        -------
        float
            The global gradient norm (before any clipping).
        """
        params = self.params if params is None else params
        self.check_loss(loss)
        try:
            grads = backward()
        except NonFiniteError:  # the core refuses a NaN/inf gradient between layers
            raise _diverged("gradient", math.nan, "the gradient is not finite") from None
        norm = global_norm(grads)
        if not math.isfinite(norm):
            raise _diverged("gradient", norm, f"the gradient norm is {norm}")
        with hold_interrupts():
            optimizer.step(params, grads)
        if not all(np.isfinite(p).all() for p in params.values()):
            self.restore()
            raise _diverged("weights", norm, "the update made some weights non-finite")
        return norm


@contextlib.contextmanager
def hold_interrupts():
    """Delay Ctrl-C until the block has finished, so a weight update is never half-applied.

    Only in the main thread and only when SIGINT has a Python handler (the
    default one raises KeyboardInterrupt); otherwise a no-op.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous):
        yield
        return
    received = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            previous(signal.SIGINT, received[0])


# --------------------------------------------------------------------------- readout models


def readout_forward(h: np.ndarray, params: Mapping[str, np.ndarray]) -> np.ndarray:
    """``h V + c``: (..., H) -> (..., K). A 1x1 convolution when ``h`` is a feature map."""
    return h @ params["V"] + params["c"]


def readout_backward(h: np.ndarray, dlogits: np.ndarray, params) -> tuple[np.ndarray, dict]:
    """Gradients of the readout: returns ``dL/dh`` (..., H) and ``{"V": (H, K), "c": (K,)}``."""
    H, K = params["V"].shape
    grads = {"V": h.reshape(-1, H).T @ dlogits.reshape(-1, K),
             "c": dlogits.reshape(-1, K).sum(axis=0)}
    return dlogits @ params["V"].T, grads


@dataclass
class TrainingRun:
    """What :func:`train_with_readout` did.

    ``losses`` has one entry per attempted step (the last is the diverging loss,
    if any); ``grad_norms`` one per completed update; ``steps`` counts the
    completed updates; ``diverged`` is the error that stopped training, or None.
    """

    losses: list = field(default_factory=list)
    grad_norms: list = field(default_factory=list)
    steps: int = 0
    stopped_early: bool = False
    diverged: TrainingDivergedError | None = None


def train_with_readout(params, sample, forward, backward, loss, optimizer, steps: int, *,
                       target: str = "all", check=None, check_every: int = 100,
                       progress: bool = False, desc: str = "training",
                       explosion_factor=EXPLOSION_FACTOR) -> TrainingRun:
    """Train a recurrent core and a linear readout ``y = h V + c``, one guarded step per batch.

    Parameters
    ----------
    params : dict
        The core's arrays and the readout's ``V`` (H, K) and ``c`` (K,), updated in place.
    sample : callable
        ``sample(step) -> (x, y)``, a fresh batch.
    forward : callable
        ``forward(x, core) -> (hs, cache)``, ``hs`` (B, T, ..., H); ``core`` is
        ``params`` without the readout.
    backward : callable
        ``backward(dhs, cache, x, core) -> grads`` of the core's arrays.
    loss : callable
        ``loss(logits, y) -> (value, dlogits)``.
    optimizer : lstm_teach.optim.Optimizer
    steps : int
    target : {"all", "last"}
        Read out every step, or only the last one (``hs[:, -1]``).
    check : callable, optional
        ``check(done) -> bool``, called every ``check_every`` updates and after
        the last; True stops early (e.g. "solved").
    progress : bool
        A tqdm progress bar on stderr.

    Returns
    -------
    TrainingRun
        On divergence, ``run.diverged`` holds the error and ``params`` are the
        last good ones.
    """
    from tqdm import tqdm

    if target not in ("all", "last"):
        raise ValueError(f"target must be 'all' or 'last'; got {target!r}")
    core = {k: v for k, v in params.items() if k not in READOUT_KEYS}
    guard = TrainingGuard(params, explosion_factor)
    run = TrainingRun()
    bar = tqdm(total=steps, desc=desc, disable=None if progress else True, leave=False)
    try:
        for step in range(steps):
            x, y = sample(step)
            with np.errstate(over="ignore", invalid="ignore"):
                hs, cache = forward(x, core)
                top = hs if target == "all" else hs[:, -1]
                value, dlogits = loss(readout_forward(top, params), y)
            run.losses.append(float(value))

            def gradients(top=top, dlogits=dlogits, hs=hs, cache=cache, x=x):
                dtop, grads = readout_backward(top, dlogits, params)
                if target == "all":
                    dhs = dtop
                else:
                    dhs = np.zeros_like(hs)
                    dhs[:, -1] = dtop
                grads.update(backward(dhs, cache, x, core))
                return grads

            try:
                run.grad_norms.append(guard.step(optimizer, value, gradients))
            except TrainingDivergedError as err:
                run.diverged = err
                break
            run.steps = step + 1
            bar.update(1)
            if check is not None and (run.steps % check_every == 0 or run.steps == steps) \
                    and check(run.steps):
                run.stopped_early = True
                break
    finally:
        bar.close()
    return run
