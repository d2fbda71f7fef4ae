"""lstm_teach: a small numpy reference implementation of the LSTM, for teaching.

The functional core is importable from the package directly, and it is the
*readable* reference the lessons teach (``lstm_teach/core/lstm.py``)::

    import lstm_teach as lt
    hs, cache = lt.lstm_forward(x, params)   # the reference: a loop over lt.lstm_step_forward

The same functions, vectorised for speed, are in :mod:`lstm_teach.kernels`
(``lt.kernels.lstm_forward``); tests hold the two equal.

The package is laid out by tier; imports run one way, down the list:

- ``course/``  (tasks, explorers, viz, analysis, symbolic, interop, sampling),
  ``lab/`` (variants, rtrl, evolino, convlstm, variant_lab), ``grading/``, ``repro/``;
- ``concise/`` (layers, model, optim, regularizers, training) and ``kernels/``;
- ``core/`` (activations, iir, rnn, lstm, init, losses, gradcheck, errors).

Every module is also reachable by its short name, imported on first use, so
``import lstm_teach`` stays cheap::

    lt.tasks.adding_problem(...)     # lstm_teach.course.tasks
    from lstm_teach import layers, optim, widgets
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

from .core.activations import get as get_activation
from .core.errors import NonFiniteError
from .core.gradcheck import check_gradients, numerical_gradient, rel_error
from .core.init import glorot_uniform, init_lstm, init_rnn, orthogonal, zeros
from .core.lstm import (
    LSTMCache,
    LSTMConfig,
    LSTMStepCache,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
)
from .core.rnn import RNNCache, rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

try:
    __version__ = version("lstm-teach")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "LSTMCache",
    "LSTMConfig",
    "LSTMStepCache",
    "NonFiniteError",
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

# Short names -> where each module lives in the tier layout.
MODULES = {
    "activations": "core.activations", "errors": "core.errors", "gradcheck": "core.gradcheck",
    "iir": "core.iir", "init": "core.init", "losses": "core.losses", "lstm": "core.lstm",
    "rnn": "core.rnn", "utils": "core.utils",
    "layers": "concise.layers", "model": "concise.model", "optim": "concise.optim",
    "regularizers": "concise.regularizers", "training": "concise.training",
    "analysis": "course.analysis", "explorers": "course.explorers", "interop": "course.interop",
    "sampling": "course.sampling", "symbolic": "course.symbolic", "tasks": "course.tasks",
    "viz": "course.viz", "widgets": "course.explorers",
    "convlstm": "lab.convlstm", "evolino": "lab.evolino", "rtrl": "lab.rtrl",
    "variant_lab": "lab.variant_lab", "variants": "lab.variants",
}
# Classes the concise side is usually reached by.
_ATTRIBUTES = {"Sequential": "concise.model", "load_model": "concise.model"}


def __getattr__(name):
    """Import a module (``lt.tasks``, ``lt.viz``, ``lt.kernels``, ...) on first access."""
    if name.startswith("_"):
        raise AttributeError(name)
    if name in _ATTRIBUTES:
        value = getattr(import_module(f"{__name__}.{_ATTRIBUTES[name]}"), name)
    else:
        target = MODULES.get(name, name)
        try:
            value = import_module(f"{__name__}.{target}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{target}":
                raise AttributeError(f"module 'lstm_teach' has no attribute {name!r}") from None
            raise
    globals()[name] = value
    return value
