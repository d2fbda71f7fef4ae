"""Gradient-descent optimizers: SGD (with momentum), RMSProp and Adam.

An optimizer updates a dict of parameter arrays **in place** from a dict of
gradients with the same keys, and keeps its own state (momentum, moment
estimates) per key::

    opt = Adam(learning_rate=1e-2, clipnorm=1.0)
    for step in range(n_steps):
        loss, grads = loss_and_grads(params)      # grads: same keys as params
        opt.step(params, grads)                   # params updated in place

Gradient clipping, applied before the update rule, in this order:

``clipvalue``
    clip every gradient entry to ``[-clipvalue, clipvalue]``.
``clipnorm``
    rescale **all** gradients together so that their global L2 norm,
    ``sqrt(sum over keys of sum(g ** 2))``, is at most ``clipnorm``
    (Pascanu et al. 2013). Note: Keras calls this ``global_clipnorm``; its
    ``clipnorm`` clips each tensor separately. Global clipping keeps the
    direction of the full gradient, which is what the exploding-gradient
    lesson wants.

The update rules are written out in each class docstring so that a
from-scratch implementation in a lesson can match them to rounding error.
Every optimizer is deterministic: the same gradients give the same updates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from ..core._checks import check_bool, describe


def global_norm(grads: Mapping[str, np.ndarray]) -> float:
    """``sqrt(sum_k sum(grads[k] ** 2))``, the L2 norm of all gradients seen as one vector.

    Computed as ``peak * sqrt(sum((g / peak) ** 2))`` with ``peak`` the largest
    magnitude, so huge gradients give their true (finite) norm instead of
    overflowing with a warning. NaN anywhere gives NaN, inf (and no NaN) inf.
    """
    arrays = [np.asarray(g).reshape(-1) for g in grads.values()]
    peaks = [float(np.max(np.abs(a))) for a in arrays if a.size]
    peak = max(peaks, default=0.0)
    if math.isnan(peak) or math.isinf(peak):
        return math.nan if any(np.isnan(a).any() for a in arrays) else math.inf
    if peak == 0.0:
        return 0.0
    total = 0.0
    for a in arrays:
        scaled = np.true_divide(a, peak, dtype=np.float64)
        total += float(np.dot(scaled, scaled))
    return peak * math.sqrt(total)


def clip_by_global_norm(
    grads: Mapping[str, np.ndarray], max_norm: float
) -> tuple[dict[str, np.ndarray], float]:
    """Rescale ``grads`` so that their global norm is at most ``max_norm``.

    Parameters
    ----------
    grads : dict of str -> array
        Gradients of any shapes.
    max_norm : float, > 0

    Returns
    -------
    clipped : dict of str -> array
        New arrays, ``g * min(1, max_norm / norm)``; the input is not modified.
    norm : float
        The global norm *before* clipping (useful to log exploding gradients).
    """
    max_norm = _positive_float("max_norm", max_norm)
    norm = global_norm(grads)
    scale = max_norm / norm if norm > max_norm else 1.0
    return {k: g * scale for k, g in grads.items()}, norm


def _positive_float(name: str, value, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a positive float; got {describe(value)}")
    value = float(value)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive finite float; got {value}")
    return value


def _fraction(name: str, value, lo_open: bool = False) -> float:
    value = float(value)
    ok = (0.0 < value < 1.0) if lo_open else (0.0 <= value < 1.0)
    if not ok:
        interval = "(0, 1)" if lo_open else "[0, 1)"
        raise ValueError(f"{name} must lie in {interval}; got {value}")
    return value


class Optimizer:
    """Base class: clipping, the step counter and per-key state.

    Parameters
    ----------
    learning_rate : float or callable
        The step size; a callable ``learning_rate(iteration) -> float`` is a
        schedule, called with the 0-based step number.
    clipnorm : float, optional
        Global-norm clipping threshold (see the module docstring).
    clipvalue : float, optional
        Elementwise clipping threshold.

    Attributes
    ----------
    iterations : int
        Number of ``step`` calls so far.
    state : dict of str -> dict of str -> array
        Per-parameter slots, e.g. ``state["W"]["m"]`` for Adam.
    last_grad_norm : float or None
        Global gradient norm of the last step, before clipping (``None`` if
        ``clipnorm`` is off and the norm was not needed).
    """

    slot_names: tuple[str, ...] = ()

    def __init__(self, learning_rate=0.01, clipnorm=None, clipvalue=None):
        if not callable(learning_rate):
            learning_rate = _positive_float("learning_rate", learning_rate)
        self.learning_rate = learning_rate
        self.clipnorm = _positive_float("clipnorm", clipnorm, allow_none=True)
        self.clipvalue = _positive_float("clipvalue", clipvalue, allow_none=True)
        self.iterations = 0
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.last_grad_norm: float | None = None

    # -- public API ---------------------------------------------------------
    def current_learning_rate(self) -> float:
        """The learning rate the next step will use."""
        lr = self.learning_rate
        return float(lr(self.iterations)) if callable(lr) else lr

    def clip(self, grads: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Apply ``clipvalue`` then ``clipnorm``; returns new arrays (input untouched)."""
        out = dict(grads)
        if self.clipvalue is not None:
            out = {k: np.clip(g, -self.clipvalue, self.clipvalue) for k, g in out.items()}
        if self.clipnorm is not None:
            out, self.last_grad_norm = clip_by_global_norm(out, self.clipnorm)
        return out

    def step(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """Update ``params`` in place from ``grads`` (same keys and shapes).

        The new values of every parameter and state slot are computed first and
        written afterwards, so an exception (bad shape, NaN check in a
        subclass) leaves both the parameters and the optimizer untouched.
        Keys of ``params`` missing from ``grads`` are left alone (frozen).
        """
        for key, g in grads.items():
            if key not in params:
                raise ValueError(
                    f"grads has key {key!r} that params lacks; params keys: {sorted(params)}"
                )
            if g.shape != params[key].shape:
                raise ValueError(
                    f"grads[{key!r}] must have the shape of params[{key!r}], "
                    f"{params[key].shape}; got {g.shape}"
                )
        grads = self.clip(grads)
        lr = self.current_learning_rate()
        t = self.iterations + 1  # 1-based step number used by bias corrections
        new_values = {}
        new_state = {}
        for key, g in grads.items():
            p = params[key]
            slots = self.state.get(key)
            if slots is None:
                slots = {name: np.zeros_like(p) for name in self.slot_names}
            new_p, new_slots = self._update(p, g, slots, lr, t)
            new_values[key] = new_p
            new_state[key] = new_slots
        # Commit: plain assignments, nothing here can fail half-way.
        for key, value in new_values.items():
            params[key][...] = value
        self.state.update(new_state)
        self.iterations = t

    def _update(self, p, g, slots, lr, t):
        """Return ``(new_p, new_slots)`` for one array; must not modify its inputs."""
        raise NotImplementedError

    # -- serialisation ------------------------------------------------------
    def get_config(self) -> dict:
        """JSON-friendly constructor arguments (a schedule is stored as ``None``)."""
        lr = self.learning_rate
        return {
            "class_name": type(self).__name__,
            "learning_rate": None if callable(lr) else lr,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            **self._extra_config(),
        }

    def _extra_config(self) -> dict:
        return {}

    def get_state(self) -> dict:
        """``{"iterations": int, "slots": {key: {slot: array}}}``, copied."""
        return {
            "iterations": self.iterations,
            "slots": {k: {n: a.copy() for n, a in s.items()} for k, s in self.state.items()},
        }

    def set_state(self, state: Mapping) -> None:
        """Restore what :meth:`get_state` returned (arrays are copied)."""
        slots = state.get("slots", {})
        for key, s in slots.items():
            missing = [n for n in self.slot_names if n not in s]
            if missing:
                raise ValueError(
                    f"optimizer state for {key!r} lacks slot(s) {missing} "
                    f"needed by {type(self).__name__}"
                )
        self.iterations = int(state.get("iterations", 0))
        self.state = {k: {n: np.array(s[n]) for n in self.slot_names} for k, s in slots.items()}

    def reset(self) -> None:
        """Forget all state (the step counter included)."""
        self.iterations = 0
        self.state = {}
        self.last_grad_norm = None

    def __repr__(self) -> str:
        cfg = self.get_config()
        cfg.pop("class_name")
        args = ", ".join(f"{k}={v!r}" for k, v in cfg.items() if v is not None)
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    Update for each parameter ``p`` with gradient ``g`` (the Keras form)::

        momentum == 0:  p <- p - lr * g
        otherwise:      v <- momentum * v - lr * g
                        p <- p + v                          (classical)
                        p <- p + momentum * v - lr * g      (nesterov=True)

    ``v`` starts at zero. With a constant learning rate this is the same
    trajectory as PyTorch's ``buf <- momentum * buf + g; p <- p - lr * buf``.
    """

    slot_names = ("velocity",)

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, clipnorm=None,
                 clipvalue=None):
        super().__init__(learning_rate, clipnorm, clipvalue)
        self.momentum = _fraction("momentum", momentum)
        self.nesterov = check_bool("nesterov", nesterov)
        if not self.momentum:
            self.slot_names = ()

    def _update(self, p, g, slots, lr, t):
        if not self.momentum:
            return p - lr * g, {}
        v = self.momentum * slots["velocity"] - lr * g
        if self.nesterov:
            return p + (self.momentum * v - lr * g), {"velocity": v}
        return p + v, {"velocity": v}

    def _extra_config(self) -> dict:
        return {"momentum": self.momentum, "nesterov": self.nesterov}


class RMSProp(Optimizer):
    """RMSProp (Hinton, lecture 6e of Neural Networks for Machine Learning, 2012).

    Update for each parameter ``p`` with gradient ``g``::

        s <- rho * s + (1 - rho) * g ** 2
        p <- p - lr * g / (sqrt(s) + epsilon)

    ``s`` starts at zero. Epsilon is added *outside* the square root (as in
    PyTorch and tf.keras 2; Keras 3 puts it inside).
    """

    slot_names = ("mean_square",)

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7, clipnorm=None, clipvalue=None):
        super().__init__(learning_rate, clipnorm, clipvalue)
        self.rho = _fraction("rho", rho)
        self.epsilon = _positive_float("epsilon", epsilon)

    def _update(self, p, g, slots, lr, t):
        s = self.rho * slots["mean_square"] + (1.0 - self.rho) * (g * g)
        return p - lr * g / (np.sqrt(s) + self.epsilon), {"mean_square": s}

    def _extra_config(self) -> dict:
        return {"rho": self.rho, "epsilon": self.epsilon}


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), exactly Algorithm 1 of the paper.

    At step ``t = 1, 2, ...``, for each parameter ``p`` with gradient ``g``::

        m <- beta_1 * m + (1 - beta_1) * g
        v <- beta_2 * v + (1 - beta_2) * g ** 2
        m_hat = m / (1 - beta_1 ** t)
        v_hat = v / (1 - beta_2 ** t)
        p <- p - lr * m_hat / (sqrt(v_hat) + epsilon)

    ``m`` and ``v`` start at zero. Epsilon placement: added to
    ``sqrt(v_hat)``, the bias-*corrected* second moment, as in the paper and
    in PyTorch. (Keras folds the corrections into the step size and adds
    epsilon to ``sqrt(v)``, which equals this rule with epsilon scaled by
    ``sqrt(1 - beta_2 ** t)``; the two differ only while ``sqrt(v_hat)`` is
    comparable to epsilon.) Defaults are the Keras ones; the paper uses
    ``epsilon=1e-8``.
    """

    slot_names = ("m", "v")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 clipnorm=None, clipvalue=None):
        super().__init__(learning_rate, clipnorm, clipvalue)
        self.beta_1 = _fraction("beta_1", beta_1)
        self.beta_2 = _fraction("beta_2", beta_2)
        self.epsilon = _positive_float("epsilon", epsilon)

    def _update(self, p, g, slots, lr, t):
        m = self.beta_1 * slots["m"] + (1.0 - self.beta_1) * g
        v = self.beta_2 * slots["v"] + (1.0 - self.beta_2) * (g * g)
        m_hat = m / (1.0 - self.beta_1**t)
        v_hat = v / (1.0 - self.beta_2**t)
        return p - lr * m_hat / (np.sqrt(v_hat) + self.epsilon), {"m": m, "v": v}

    def _extra_config(self) -> dict:
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


REGISTRY: dict[str, Callable[..., Optimizer]] = {"sgd": SGD, "rmsprop": RMSProp, "adam": Adam}


def get(spec) -> Optimizer:
    """An optimizer from a name (``"adam"``, ``"sgd"``, ``"rmsprop"``: default
    settings), a config dict from :meth:`Optimizer.get_config`, or an instance."""
    if isinstance(spec, Optimizer):
        return spec
    if isinstance(spec, str):
        key = spec.lower()
        if key not in REGISTRY:
            raise ValueError(f"unknown optimizer {spec!r}; expected one of {sorted(REGISTRY)}")
        return REGISTRY[key]()
    if isinstance(spec, Mapping):
        cfg = dict(spec)
        name = str(cfg.pop("class_name", "")).lower()
        if name not in REGISTRY:
            raise ValueError(f"optimizer config needs class_name in {sorted(REGISTRY)}; got {spec}")
        if cfg.get("learning_rate") is None:
            cfg.pop("learning_rate", None)
        return REGISTRY[name](**cfg)
    raise TypeError(
        f"optimizer must be a name, a config dict or an Optimizer; got {describe(spec)}"
    )
