"""The narrow channel between the grader and a sandboxed notebook: frames of plain data.

The grader never unpickles anything from a submission, never reads a file the
submission wrote, and never trusts a value it did not decode itself. What
crosses the channel is a JSON document (one *frame*, length-prefixed) in which
the only structured values are:

========================  ===============================================
``{"A": {...}}``          a numpy array: dtype (bool, int, uint, float or
                          complex, at most 16 bytes), shape, base64 bytes
``{"S": {...}}``          a numpy scalar, encoded like a 0-d array
``{"L": [...]}``          a list;  ``{"T": [...]}`` a tuple
``{"D": [[k, v], ...]}``  a dict with str / int / float / bool keys
``{"G": {...}}``          a ``np.random.Generator`` (bit generator name and
                          state), so a learner's draws advance the grader's
                          generator exactly as they would in-process
``{"C": {...}}``          an allow-listed dataclass (``LSTMConfig``,
                          ``LSTMStepCache``) by fields
``{"F": "module:name"}``  (grader to kernel only) a function of this package
``{"X": {...}}``          anything else: its type name and a short repr
========================  ===============================================

plus JSON's own null, booleans, numbers and strings. :func:`decode` rebuilds
fresh, plain objects: a returned "array" is a real ``np.ndarray`` built from
bytes, whatever object the kernel held, so it cannot lie about its values by
overriding ``__eq__`` or ``__array__``. Frames larger than
:data:`MAX_FRAME_BYTES`, documents nested deeper than :data:`MAX_DEPTH` or
with more than :data:`MAX_NODES` values are refused.
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import json
import os
import select
import struct
import time

import numpy as np

MAX_FRAME_BYTES = 16 * 2**20
MAX_DEPTH = 32
MAX_NODES = 200_000
MAX_STR = 100_000
MAX_INT_DIGITS = 400
#: Lists and objects one frame may hold: a valid document has at most about three per
#: value (``{"A": {..., "shape": [...]}}``). ``json.loads`` builds them all before
#: :func:`decode` can count values: 16 MB of ``[{}, {}, ...]`` took 420 MB.
MAX_FRAME_CONTAINERS = 4 * MAX_NODES + 64
_ARRAY_KINDS = "biufc"
_HEADER = struct.Struct(">Q")


class ChannelError(Exception):
    """The other side sent something that is not a valid frame (or nothing in time)."""


# --------------------------------------------------------------------------- encoding


def _dataclass_allowlist() -> dict[str, type]:
    import lstm_teach
    from lstm_teach.core.lstm import LSTMStepCache

    # plain records of arrays, dicts and configs: rebuilt field by field, never trusted
    # further (the sequence exercises hand step caches both ways)
    return {"LSTMConfig": lstm_teach.LSTMConfig, "LSTMStepCache": LSTMStepCache}


def _encode_array(arr: np.ndarray) -> dict:
    arr = np.array(arr, order="C", copy=True)  # (ascontiguousarray makes 0-d arrays 1-d)
    return {"dtype": arr.dtype.str, "shape": list(arr.shape),
            "data": base64.b64encode(arr.tobytes()).decode("ascii")}


def encode(obj, *, _depth: int = 0):
    """A JSON-ready document for ``obj`` (see the module docstring); never raises."""
    if _depth > MAX_DEPTH:
        return {"X": {"type": type(obj).__name__, "repr": "(nested too deeply)"}}
    if obj is None or isinstance(obj, (bool, str)):
        return obj if not isinstance(obj, str) else obj[:MAX_STR]
    if type(obj) is int:
        return obj if abs(obj) < 10**MAX_INT_DIGITS else float("inf") * (1 if obj > 0 else -1)
    if type(obj) is float:
        return obj
    if isinstance(obj, np.ndarray) and type(obj) is np.ndarray and obj.dtype.kind in _ARRAY_KINDS:
        return {"A": _encode_array(obj)}
    if isinstance(obj, np.generic) and obj.dtype.kind in _ARRAY_KINDS:
        return {"S": _encode_array(np.asarray(obj))}
    if type(obj) in (list, tuple):
        return {"L" if type(obj) is list else "T": [encode(v, _depth=_depth + 1) for v in obj]}
    if type(obj) is dict:
        items = [[k, encode(v, _depth=_depth + 1)] for k, v in obj.items()
                 if type(k) in (str, int, float, bool)]
        return {"D": items}
    if type(obj) is np.random.Generator:
        bitgen = obj.bit_generator
        return {"G": {"name": type(bitgen).__name__, "state": bitgen.state}}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        name = type(obj).__name__
        if _dataclass_allowlist().get(name) is type(obj):
            fields = {f.name: encode(getattr(obj, f.name), _depth=_depth + 1)
                      for f in dataclasses.fields(obj)}
            return {"C": {"name": name, "fields": fields}}
    if callable(obj) and getattr(obj, "__module__", "").startswith("lstm_teach."):
        return {"F": f"{obj.__module__}:{obj.__qualname__}"}
    try:
        text = repr(obj)[:200]
    except Exception:
        text = "(no repr)"
    return {"X": {"type": type(obj).__name__[:80], "repr": text}}


# --------------------------------------------------------------------------- decoding


class Opaque:
    """A value the channel cannot carry, seen from the grader: only its type name and repr."""

    def __init__(self, type_name: str, text: str):
        self.type_name, self.text = type_name, text

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text


#: Distinct type names one reply may bring (more are plain :class:`Opaque`).
MAX_OPAQUE_TYPES = 100


def _opaque_class(type_name: str, classes: dict[str, type]) -> type:
    """A subclass of :class:`Opaque` named like the learner's type, so feedback can name it.

    ``classes`` belongs to one :func:`decode` call. (A cache shared by the whole grader
    let one submission fill it with made-up names, so that every later submission's
    feedback said "got Opaque" instead of its own type.)
    """
    name = type_name if type_name.isidentifier() else "object"
    if name not in classes and len(classes) < MAX_OPAQUE_TYPES:
        classes[name] = type(name, (Opaque,), {})
    return classes.get(name, Opaque)


def _decode_array(spec) -> np.ndarray:
    if not isinstance(spec, dict):
        raise ChannelError("array without a description")
    try:
        dtype = np.dtype(str(spec["dtype"])[:8])
    except (TypeError, ValueError, KeyError):
        raise ChannelError("array with an unknown dtype") from None
    if dtype.kind not in _ARRAY_KINDS or dtype.fields or dtype.subdtype or dtype.itemsize > 16:
        raise ChannelError(f"array dtype {dtype} is not allowed")
    shape = spec.get("shape")
    if not (isinstance(shape, list) and len(shape) <= 32
            and all(type(n) is int and 0 <= n < 2**40 for n in shape)):
        raise ChannelError("array with an invalid shape")
    data = spec.get("data")
    if not isinstance(data, str):
        raise ChannelError("array without data")
    raw = base64.b64decode(data.encode("ascii"), validate=True)
    if len(raw) != int(np.prod(shape, dtype=object)) * dtype.itemsize:
        raise ChannelError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _resolve_function(ref: str):
    module, _, qualname = ref.partition(":")
    if not module.startswith("lstm_teach.") or not qualname.isidentifier():
        raise ChannelError(f"function {ref!r} is not allowed")
    return getattr(importlib.import_module(module), qualname)


def decode(doc, *, allow_functions: bool = False, _state: list | None = None):
    """Rebuild plain objects from a document; raise :class:`ChannelError` on anything else."""
    state = [0, {}] if _state is None else _state  # values seen, opaque classes made
    state[0] += 1
    if state[0] > MAX_NODES:
        raise ChannelError(f"more than {MAX_NODES} values")
    if doc is None or isinstance(doc, (bool, float, str)):
        return doc
    if isinstance(doc, int):
        return doc
    if not isinstance(doc, dict) or len(doc) != 1:
        raise ChannelError(f"unexpected {type(doc).__name__} in a frame")
    (tag, body), = doc.items()

    def sub(value):
        return decode(value, allow_functions=allow_functions, _state=state)

    if tag == "A":
        return _decode_array(body)
    if tag == "S":
        arr = _decode_array(body)
        if arr.shape != ():
            raise ChannelError("a scalar must have shape ()")
        return arr[()]
    if tag in ("L", "T") and isinstance(body, list):
        items = [sub(v) for v in body]
        return items if tag == "L" else tuple(items)
    if tag == "D" and isinstance(body, list):
        out = {}
        for pair in body:
            if not (isinstance(pair, list) and len(pair) == 2
                    and isinstance(pair[0], (str, int, float, bool))):
                raise ChannelError("invalid dict entry")
            out[pair[0]] = sub(pair[1])
        return out
    if tag == "G" and isinstance(body, dict):
        bitgen_cls = {"PCG64": np.random.PCG64, "PCG64DXSM": np.random.PCG64DXSM,
                      "MT19937": np.random.MT19937, "Philox": np.random.Philox,
                      "SFC64": np.random.SFC64}.get(body.get("name"))
        if bitgen_cls is None:
            raise ChannelError("unknown bit generator")
        bitgen = bitgen_cls()
        try:
            bitgen.state = body.get("state")
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            raise ChannelError(f"invalid generator state ({exc})") from None
        return np.random.Generator(bitgen)
    if tag == "C" and isinstance(body, dict):
        cls = _dataclass_allowlist().get(body.get("name"))
        fields = body.get("fields")
        if cls is None or not isinstance(fields, dict):
            raise ChannelError("unknown dataclass")
        values = {str(k): sub(v) for k, v in fields.items()}
        try:
            return cls(**values)
        except Exception as exc:  # the learner's config was invalid: say so, as a value
            return Opaque(cls.__name__, f"an invalid {cls.__name__} ({type(exc).__name__}: "
                                        f"{str(exc)[:150]})")
    if tag == "F" and isinstance(body, str) and allow_functions:
        return _resolve_function(body)
    if tag == "X" and isinstance(body, dict):
        type_name = str(body.get("type", "object"))[:80]
        return _opaque_class(type_name, state[1])(type_name, str(body.get("repr", ""))[:200])
    raise ChannelError(f"unexpected tag {tag!r}")


# --------------------------------------------------------------------------- frames


def dumps(message: dict) -> bytes:
    data = json.dumps(message, allow_nan=True, separators=(",", ":")).encode("utf-8")
    return _HEADER.pack(len(data)) + data


def send(fd: int, message: dict, timeout: float | None = None) -> None:
    """Write one frame to the file descriptor ``fd``; ``TimeoutError`` after ``timeout`` s.

    With a ``timeout`` the descriptor is made non-blocking: the grader's writes must
    have a deadline too. A sandbox whose main thread stops reading (a signal handler
    that sleeps, a patched ``os.read``) leaves the pipe full, and a blocking write of a
    frame larger than the pipe's buffer (a long cell, big arguments) then waited
    forever, and the whole class with it.
    """
    view = memoryview(dumps(message))
    deadline = None
    if timeout is not None:
        deadline = time.monotonic() + timeout
        os.set_blocking(fd, False)
    while view:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise TimeoutError
            _, ready, _ = select.select([], [fd], [], wait)
            if not ready:
                raise TimeoutError
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            if deadline is None:
                select.select([], [fd], [])
            continue
        view = view[written:]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, remaining = [], n
    while remaining:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                raise TimeoutError
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def json_containers(raw: bytes, limit: int) -> int:
    """How many lists and objects the JSON text ``raw`` holds (exactly, once over ``limit``).

    Brackets inside strings do not count. The exact count reads 4 MB at a time, with
    numpy, so that it costs little memory even for a 50 MB notebook.
    """
    count = raw.count(b"[") + raw.count(b"{")
    if count <= limit:
        return count
    # drop escaped backslashes, then escaped quotes: every '"' left opens or closes a string
    data = np.frombuffer(raw.replace(b"\\\\", b"").replace(b'\\"', b""), np.uint8)
    count, inside, step = 0, 0, 1 << 22
    for begin in range(0, data.size, step):
        chunk = data[begin:begin + step]
        parity = (np.cumsum(chunk == ord('"'), dtype=np.uint8) + inside) & 1
        opening = (chunk == ord("[")) | (chunk == ord("{"))
        count += int(np.count_nonzero(opening & (parity == 0)))
        inside = int(parity[-1])
    return count


def receive(fd: int, timeout: float | None = None) -> dict:
    """Read one frame from ``fd``; ``TimeoutError``, ``EOFError`` or :class:`ChannelError`."""
    deadline = None if timeout is None else time.monotonic() + timeout
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    if size > MAX_FRAME_BYTES:
        raise ChannelError(f"a frame of {size} bytes is larger than the limit "
                           f"({MAX_FRAME_BYTES} bytes)")
    raw = _read_exact(fd, size, deadline)
    if json_containers(raw, MAX_FRAME_CONTAINERS) > MAX_FRAME_CONTAINERS:
        raise ChannelError(f"a frame with more than {MAX_FRAME_CONTAINERS} lists and objects")
    try:
        message = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ChannelError(f"not a JSON frame ({type(exc).__name__})") from None
    if not isinstance(message, dict):
        raise ChannelError("a frame must be a JSON object")
    return message
