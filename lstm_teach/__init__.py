"""lstm_teach: a small numpy reference implementation of the LSTM, for teaching.

The functional core (``lstm_forward``, ``lstm_backward``, ``rnn_forward``, ...)
is importable from the package directly. Every other module is reachable as an
attribute, imported on first use, so ``import lstm_teach`` stays cheap::

    import lstm_teach as lt
    lt.tasks.adding_problem(...)     # imports lstm_teach.tasks on first access
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

from . import _runtime  # noqa: F401  (keeps freed memory for reuse; see _runtime.py)
from .activations import get as get_activation
from .gradcheck import check_gradients, numerical_gradient, rel_error
from .init import glorot_uniform, init_lstm, init_rnn, orthogonal, zeros
from .lstm import (
    LSTMCache,
    LSTMConfig,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
)
from .rnn import RNNCache, rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

try:
    __version__ = version("lstm-teach")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "LSTMCache",
    "LSTMConfig",
    "RNNCache",
    "check_gradients",
    "get_activation",
    "glorot_uniform",
    "init_lstm",
    "init_rnn",
    "lstm_backward",
    "lstm_forward",
    "lstm_step_backward",
    "lstm_step_forward",
    "numerical_gradient",
    "orthogonal",
    "rel_error",
    "rnn_backward",
    "rnn_forward",
    "rnn_step_backward",
    "rnn_step_forward",
    "zeros",
]


def __getattr__(name):
    """Import a submodule (``lstm_teach.tasks``, ``lstm_teach.viz``, ...) on first access."""
    if name.startswith("_"):
        raise AttributeError(name)
    if name == "Sequential":
        value = getattr(import_module(f"{__name__}.model"), name)
        globals()[name] = value
        return value
    try:
        module = import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{name}":
            raise AttributeError(f"module 'lstm_teach' has no attribute {name!r}") from None
        raise
    globals()[name] = module
    return module
