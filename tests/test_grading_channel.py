"""The grading channel: plain values round-trip; hostile frames are refused, not trusted."""

from __future__ import annotations

import base64
import json
import os
import struct
import threading

import numpy as np
import pytest

import lstm_teach
from lstm_teach.grading import channel
from lstm_teach.grading.channel import ChannelError, Opaque, decode, encode, receive, send
from lstm_teach.grading.review import leaning_on_reference, targets_for
from lstm_teach.grading.sandbox import Limits
from lstm_teach.grading.session import Session

EMPTY_NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def roundtrip(value):
    return decode(json.loads(json.dumps(encode(value))), allow_functions=True)


def test_plain_values_round_trip_with_their_types():
    value = {"W": np.arange(6.0).reshape(2, 3), "n": np.int64(3), "flag": np.bool_(True),
             "f32": np.ones((2, 2), np.float32).T, "t": (1, 2.5, "s", None, [True]),
             "empty": np.zeros((0, 4)), "nan": float("nan"), "c": np.complex128(1 + 2j)}
    back = roundtrip(value)
    assert back["W"].dtype == np.float64 and np.array_equal(back["W"], value["W"])
    assert type(back["n"]) is np.int64 and back["n"] == 3
    assert type(back["flag"]) is np.bool_
    assert back["f32"].dtype == np.float32 and back["f32"].flags.c_contiguous
    assert back["t"] == (1, 2.5, "s", None, [True]) and isinstance(back["t"], tuple)
    assert back["empty"].shape == (0, 4) and np.isnan(back["nan"])
    assert back["c"] == 1 + 2j
    assert back["W"].flags.writeable, "decoded arrays are the grader's own copies"


def test_generators_configs_and_package_functions_cross_by_value_or_name():
    rng = np.random.default_rng(7)
    rng.normal(size=3)
    copy = roundtrip(rng)
    assert copy is not rng and copy.normal() == rng.normal()
    config = lstm_teach.LSTMConfig(peepholes=True)
    assert roundtrip(config) == config
    from lstm_teach.grading.lstm_diagnosis import dict_step_backward

    assert roundtrip(dict_step_backward) is dict_step_backward
    with pytest.raises(ChannelError, match="unexpected tag 'F'"):
        decode(encode(dict_step_backward))  # the kernel may never name functions for us


def test_a_step_cache_crosses_as_a_step_cache_the_package_accepts():
    """The sequence exercises hand lists of step caches across, both ways."""
    rng = np.random.default_rng(0)
    params = lstm_teach.init_lstm(3, 4, rng=rng)
    x_t, h, c = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    cache = lstm_teach.lstm_step_forward(x_t, h, c, params)[2]
    copy = roundtrip([cache])[0]
    assert type(copy) is type(cache) and copy is not cache
    dh, dc = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    ours, theirs = (lstm_teach.lstm_step_backward(dh, dc, k) for k in (copy, cache))
    assert all(np.array_equal(a, b) for a, b in zip(ours[:3], theirs[:3], strict=True))
    assert all(np.array_equal(ours[3][k], theirs[3][k]) for k in params)


def test_other_objects_become_opaque_with_their_type_name():
    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

    got = roundtrip(np.zeros(3).view(Liar))
    assert isinstance(got, Opaque) and type(got).__name__ == "Liar"
    assert "Liar" not in dir(np) and not isinstance(got, np.ndarray)
    assert type(roundtrip(object())).__name__ == "object"


def _array_doc(dtype: str, shape, data: bytes) -> dict:
    return {"A": {"dtype": dtype, "shape": shape, "data": base64.b64encode(data).decode()}}


@pytest.mark.parametrize(("doc", "message"), [
    (_array_doc("O", [1], b"\0" * 8), "not allowed"),
    (_array_doc("<f8", [10**9, 10**9], b"\0" * 8), "invalid shape|does not match"),
    (_array_doc("<f8", [3], b"\0" * 8), "does not match"),
    (_array_doc("[('a', '<f8')]", [1], b"\0" * 8), "unknown dtype|not allowed"),
    ({"S": _array_doc("<f8", [2], b"\0" * 16)["A"]}, "shape"),
    ({"G": {"name": "Evil", "state": {}}}, "bit generator"),
    ({"C": {"name": "Popen", "fields": {}}}, "dataclass"),
    ({"Q": 1}, "unexpected tag"),
    ({"D": [[{"k": 1}, 2]]}, "dict entry"),
    ([1, 2], "unexpected list"),
])
def test_malformed_documents_are_refused(doc, message):
    with pytest.raises(ChannelError, match=message):
        decode(doc)


def test_too_many_values_are_refused():
    with pytest.raises(ChannelError, match="more than"):
        decode({"L": [None] * (channel.MAX_NODES + 1)})


def _pipe_with(data: bytes) -> int:
    read_fd, write_fd = os.pipe()
    threading.Thread(target=lambda: (os.write(write_fd, data), os.close(write_fd)),
                     daemon=True).start()
    return read_fd


def test_frames_that_are_too_big_late_or_broken_are_refused():
    huge = struct.pack(">Q", channel.MAX_FRAME_BYTES + 1)
    with pytest.raises(ChannelError, match="larger than the limit"):
        receive(_pipe_with(huge))
    with pytest.raises(ChannelError, match="not a JSON frame"):
        receive(_pipe_with(struct.pack(">Q", 3) + b"{x]"))
    with pytest.raises(ChannelError, match="not a JSON frame"):  # 5000-digit integers
        receive(_pipe_with(struct.pack(">Q", 5002) + b"[" + b"9" * 5000 + b"]"))
    with pytest.raises(EOFError):
        receive(_pipe_with(struct.pack(">Q", 100) + b"{}"))
    read_fd, write_fd = os.pipe()
    with pytest.raises(TimeoutError):
        receive(read_fd, timeout=0.2)
    os.close(write_fd)
    read_fd, write_fd = os.pipe()
    send(write_fd, {"op": "x", "v": encode(np.eye(2))})
    assert np.array_equal(decode(receive(read_fd, timeout=1)["v"]), np.eye(2))


# --------------------------------------------------------------------------- the session


LEARNER = """
import numpy as np
def mutate(a, rng):
    a[0] = 99.0
    return rng.integers(0, 1000)
def slow(x):
    import time
    time.sleep(30)
def boom(x):
    return [1][x]
def big(n):
    return np.zeros(n)
def todo():
    raise NotImplementedError()
value = 3
"""


def test_a_session_calls_the_learner_and_defends_itself():
    from lstm_teach.grading.feedback import RemoteError

    session = Session(EMPTY_NOTEBOOK, Limits())
    try:
        assert session.run_cell(LEARNER, 30) == {"error": None, "timed_out": False}
        arr, rng = np.zeros(3), np.random.default_rng(5)
        twin = np.random.default_rng(5)
        got = session.call("mutate", (arr, rng), {}, 30)
        assert got == twin.integers(0, 1000), "the draw came from the same stream"
        assert arr[0] == 99.0, "an in-place change is copied back"
        assert rng.integers(0, 1000) == twin.integers(0, 1000), "and the generator advanced"
        with pytest.raises(RemoteError, match=r"IndexError.*line \d+ \(in boom\).*return \[1\]\[x\]"):
            session.call("boom", (5,), {}, 30)
        with pytest.raises(NotImplementedError):
            session.call("todo", (), {}, 30)
        with pytest.raises(RemoteError, match="does not define `nothing`"):
            session.call("nothing", (), {}, 30)
        with pytest.raises(RemoteError, match="expected a function `value`, but it is int"):
            session.call("value", (), {}, 30)
        with pytest.raises(RemoteError, match="did not return within 1 s"):
            session.call("slow", (1,), {}, 1.0)
        assert session.call("boom", (0,), {}, 30) == 1, "the session survives a slow call"
        assert session.run_cell("while True:\n    pass", 1.0)["timed_out"] is True
        assert session.run_cell("x = 1", 5)["error"] is None
        assert session.call("big", (2**20,), {}, 30).shape == (2**20,)
        with pytest.raises(RemoteError, match="larger than the limit"):
            session.call("big", (2**24,), {}, 30)  # 128 MB: the sandbox is stopped
        with pytest.raises(RemoteError, match="could not be asked any more"):
            session.call("big", (1,), {}, 30)
        assert session.sandbox.process.poll() is not None
    finally:
        session.close()


def test_reference_imports_are_found_only_in_the_answer_cells():
    nb = {"cells": [
        {"cell_type": "code", "source": "import lstm_teach as lt\nfrom lstm_teach import iir"},
        {"cell_type": "code", "source": "def iir_filter(x, w, b):\n    y = lt.iir_filter(x, w, b)"
                                        "\n    return y"},
        {"cell_type": "code", "source": "%time x = 1\ndef impulse_response(w, n):\n"
                                        "    return iir.impulse_response(w, n)"},
        {"cell_type": "code", "source": "def classify_stability(w):\n"
                                        "    return 'stable' if abs(w) < 1 else 'unstable'\n"
                                        "ref = lt.classify_stability"},
    ]}
    targets = targets_for("01_iir_filter", ["iir_filter", "impulse_response",
                                            "classify_stability"], nb)
    flags = leaning_on_reference(nb, targets)
    assert flags["iir_filter"] == "code cell 2, line 2: y = lt.iir_filter(x, w, b)"
    assert flags["impulse_response"].startswith("code cell 3, line 3:")
    assert flags["classify_stability"].startswith("code cell 4, line 3:")
    clean = {"cells": [nb["cells"][0], {"cell_type": "code", "source":
                                        "def iir_filter(x, w, b):\n    return x"}]}
    assert leaning_on_reference(clean, targets) == {}
