"""The grading channel without a kernel: ``nnkit.channel`` (kernel side) and ``nngrade.remote`` (grader side)
over a socket pair, and a hostile kernel side that answers with raw bytes.

Oracles: the values themselves (a round trip must return what was sent, with its dtype), Python's own
exception types, and hand-built malformed replies that must never become grader values.
"""

import io
import json
import pickle
import socket
import struct
import threading
from collections import OrderedDict
from time import monotonic

import numpy as np
import pytest
import torch

from nnkit import channel
from nngrade.remote import ABSENT, BadReply, ChannelClosed, ChannelTimeout, NotebookError, Remote, Session


class Kernel:
    """A kernel-side channel session serving ``namespace`` in a thread, and the grader's session."""

    def __init__(self, namespace: dict, *, deadline: float = 10.0, max_reply_bytes: int = 64 * 2**20):
        grader_end, kernel_end = socket.socketpair()
        self.served = channel._Session(kernel_end)
        self.served.namespace = namespace
        self.thread = threading.Thread(target=self.served.run, daemon=True)
        self.thread.start()
        self.session = Session(grader_end, deadline=monotonic() + deadline, max_reply_bytes=max_reply_bytes)

    def close(self):
        self.session.end()
        self.thread.join(5)
        assert not self.thread.is_alive()


@pytest.fixture
def kernel():
    opened = []

    def start(namespace, **options):
        opened.append(Kernel(namespace, **options))
        return opened[-1].session

    yield start
    for each in opened:
        each.close()


def test_data_comes_back_as_plain_copies_with_its_types(kernel):
    values = {"a32": np.arange(6, dtype=np.float32).reshape(2, 3), "ints": np.array([1, -2], dtype=np.int64),
              "number": 2.5, "count": 3, "flag": True, "nothing": None, "text": "hé",
              "special": [float("nan"), float("inf")], "scalar": np.float32(1.5),
              "nested": {"w": (np.ones(2), [1, 2]), 3: "three"}, "ordered": OrderedDict(b=1, a=2),
              "size": torch.Size([4, 5]), "dtype": np.dtype("float16")}
    session = kernel(dict(values))
    a32 = session.lookup("a32")
    assert type(a32) is np.ndarray and a32.dtype == np.float32 and np.array_equal(a32, values["a32"])
    assert session.lookup("ints").dtype == np.int64
    assert [session.lookup(name) for name in ("number", "count", "flag", "nothing", "text")] == [2.5, 3, True, None, "hé"]
    special = session.lookup("special")
    assert np.isnan(special[0]) and special[1] == float("inf")
    scalar = session.lookup("scalar")
    assert type(scalar) is np.float32 and scalar == 1.5
    nested = session.lookup("nested")
    assert type(nested) is dict and type(nested["w"]) is tuple and nested[3] == "three"
    assert list(session.lookup("ordered")) == ["b", "a"] and type(session.lookup("ordered")) is dict
    assert session.lookup("size") == (4, 5)
    assert session.lookup("dtype") == np.dtype("float16")


def test_objects_stay_in_the_kernel_as_handles(kernel):
    class Model:
        def __init__(self):
            self.weights = np.zeros(3)

        def step(self, grad):
            self.weights -= grad
            return self

    session = kernel({"Model": Model, "tensor": torch.ones(2, requires_grad=True), "plain": torch.zeros(2)})
    model = session.lookup("Model")()
    assert isinstance(model, Remote)
    assert model.step(np.ones(3)) is model  # the same kernel object, the same proxy
    assert np.array_equal(model.weights, -np.ones(3))
    for name in ("tensor", "plain"):  # tensors keep their autograd graph in the kernel
        assert isinstance(session.lookup(name), Remote)
    loss = (session.lookup("tensor") * 3.0).sum()
    loss.backward()
    assert np.array_equal(session.lookup("tensor").grad.numpy(), [3.0, 3.0])
    assert isinstance(session.lookup("plain"), session.module("torch").Tensor)


def test_a_notebook_exception_keeps_its_type_message_and_name(kernel):
    def broken(x):
        raise ValueError(f"bad shape {np.shape(x)}")

    session = kernel({"broken": broken})
    with pytest.raises(ValueError, match=r"bad shape \(2,\)") as error:
        session.lookup("broken")(np.zeros(2))
    assert isinstance(error.value, NotebookError) and error.value.type_name == "ValueError"
    with pytest.raises(NameError, match="missing"):
        session.lookup("missing")


def test_arrays_changed_in_place_by_the_kernel_change_the_graders_too(kernel):
    class Optimizer:
        def __init__(self, params):
            self.params = params

        def step(self):
            for p in self.params:
                p *= 0.5

    def scale(x):
        x *= 2.0

    session = kernel({"Optimizer": Optimizer, "scale": scale})
    weights = [np.ones(2), np.full(3, 4.0)]
    optimizer = session.lookup("Optimizer")(weights)
    optimizer.step()
    optimizer.step()  # the kernel keeps the same arrays between calls: identity survives the crossing
    assert np.array_equal(weights[0], [0.25, 0.25]) and np.array_equal(weights[1], [1.0, 1.0, 1.0])
    weights[0][:] = 8.0  # and the grader's changes reach the kernel's copy before the next call
    optimizer.step()
    assert np.array_equal(weights[0], [4.0, 4.0])
    x = np.arange(3.0)
    session.lookup("scale")(x)
    assert np.array_equal(x, [0.0, 2.0, 4.0])


def test_grader_functions_are_called_back_and_substitute_notebook_globals(kernel):
    namespace = {}
    exec("def helper(x):\n    return x + 1\n\ndef uses_helper(x):\n    return helper(x) * 10\n\n"
         "def apply(f, x):\n    return f(x)", namespace)
    session = kernel(namespace)
    calls = []

    def spy(x):
        calls.append(np.array(x))
        return x * 100

    assert session.lookup("apply")(spy, np.array([1.0])) == pytest.approx([100.0])
    assert len(calls) == 1
    uses_helper = session.lookup("uses_helper")
    assert session.call(uses_helper, (np.array([2.0]),), {}, isolate={"helper": spy}) == pytest.approx([2000.0])
    assert uses_helper(np.array([2.0])) == pytest.approx([30.0])  # restored after the call
    with pytest.raises(NameError) as missing:
        session.call(uses_helper, (1.0,), {}, isolate={"helper": ABSENT})
    assert missing.value.name == "helper"


class RawKernel:
    """A hostile kernel side: answers each request with the bytes ``reply`` returns."""

    def __init__(self, reply, *, deadline=2.0, max_reply_bytes=4096):
        grader_end, self.kernel_end = socket.socketpair()
        self.session = Session(grader_end, deadline=monotonic() + deadline, max_reply_bytes=max_reply_bytes)
        self.thread = threading.Thread(target=self._serve, args=(reply,), daemon=True)
        self.thread.start()

    def _serve(self, reply):
        try:
            self.kernel_end.recv(1 << 16)
            self.kernel_end.sendall(reply())
            self.kernel_end.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def frames(header: dict, *payloads: bytes) -> bytes:
    header = dict(header, frames=len(payloads))
    chunks = [json.dumps(header).encode(), *payloads]
    return b"".join(struct.pack(">Q", len(chunk)) + chunk for chunk in chunks)


def npy(array, allow_pickle=False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


@pytest.mark.parametrize("reply, reason", [
    (lambda: frames({"kind": "reply", "value": {"$array": 0}}, npy(np.array([{"x": 1}], dtype=object), True)),
     "malformed array"),
    (lambda: frames({"kind": "reply", "value": {"$array": 0}}, pickle.dumps(np.ones(2))), "malformed array"),
    (lambda: frames({"kind": "reply", "value": {"$array": 0}}, npy(np.array(["text"]))), "dtype <U4"),
    (lambda: frames({"kind": "reply", "value": {"$array": 3}}, npy(np.ones(1))), "missing frame"),
    (lambda: frames({"kind": "reply", "value": {"$pickle": "gASV"}}), r"tagged '\$pickle'"),
    (lambda: frames({"kind": "reply", "value": [1, 2]}), "untagged list"),
    (lambda: frames({"kind": "reply", "value": {"$dict": [[{"$list": []}, 1]]}}), "dict key"),
    (lambda: frames({"kind": "reply", "value": {"$scalar": 0}}, npy(np.ones(2))), "not 0-dimensional"),
    (lambda: frames({"kind": "reply", "value": {"$torch_dtype": "__import__"}}), r"tagged '\$torch_dtype'"),
    (lambda: frames({"kind": "reply", "value": json.loads('{"$list": [' * 80 + "]}" * 80)}), "nested too deeply"),
])
def test_a_reply_that_is_not_plain_data_is_a_bad_reply(reply, reason):
    raw = RawKernel(reply)
    with pytest.raises(BadReply, match=reason):
        raw.session.lookup("anything")


@pytest.mark.parametrize("reply, error, reason", [
    (lambda: b"", ChannelClosed, "closed the channel"),
    (lambda: struct.pack(">Q", 10**9), ChannelClosed, "larger than"),
    (lambda: frames({"kind": "reply", "value": 1}, b"x" * 8192), ChannelClosed, "larger than"),
    (lambda: struct.pack(">Q", 5) + b"nope!", ChannelClosed, "not JSON"),
    (lambda: frames({"kind": "verdict", "passed": True}), ChannelClosed, "unknown kind"),
])
def test_a_reply_that_cannot_be_framed_ends_the_channel(reply, error, reason):
    raw = RawKernel(reply)
    with pytest.raises(error, match=reason):
        raw.session.lookup("anything")


def test_a_kernel_that_does_not_answer_times_out_at_the_deadline():
    grader_end, kernel_end = socket.socketpair()
    session = Session(grader_end, deadline=monotonic() + 0.5)
    started = monotonic()
    with pytest.raises(ChannelTimeout):
        session.lookup("anything")
    assert monotonic() - started < 2
    kernel_end.close()


def test_after_a_timeout_the_channel_stays_closed_even_if_the_answer_comes_late():
    grader_end, kernel_end = socket.socketpair()
    session = Session(grader_end, deadline=monotonic() + 0.3)
    with pytest.raises(ChannelTimeout):
        session.lookup("slow")
    kernel_end.sendall(frames({"kind": "reply", "value": 42}))  # the late answer to the abandoned request
    session.deadline = monotonic() + 5
    with pytest.raises(ChannelClosed, match="did not answer in time"):
        session.lookup("next")


def test_timeouts_and_hang_ups_are_not_exceptions_a_check_can_swallow():
    for kind in (ChannelTimeout, ChannelClosed):
        assert not issubclass(kind, Exception)


def test_a_value_equal_to_everything_arrives_as_a_handle_not_as_a_number(kernel):
    class Anything(float):
        def __eq__(self, other):
            return True

        __hash__ = float.__hash__

    session = kernel({"sly": Anything(1.0), "sly_tuple": type("T", (tuple,), {"__eq__": lambda s, o: True})((1, 2))})
    assert isinstance(session.lookup("sly"), Remote)  # never a float the grader would compare as one
    assert session.lookup("sly_tuple") == (1, 2) and type(session.lookup("sly_tuple")) is tuple


def test_in_hidden_checks_a_notebook_object_never_decides_a_comparison(kernel):
    class Anything:
        def __eq__(self, other):
            return True

        def __sub__(self, other):
            return 0.0

        def __bool__(self):
            return True

    session = kernel({"sly": Anything()})
    sly = session.lookup("sly")
    assert sly == 1.0  # a visible check runs with the kernel's answers, as in JupyterLab
    session.strict = True  # a hidden check
    for attempt in (lambda: sly == 1.0, lambda: bool(sly), lambda: sly - 1.0, lambda: np.array([1.0]) - sly,
                    lambda: 1.0 in sly):
        with pytest.raises(TypeError, match="not data"):
            attempt()
    for attempt in (lambda: np.asarray(sly), lambda: np.allclose(sly, 1.0)):
        with pytest.raises(TypeError, match="read it with .numpy"):
            attempt()
