"""The grading channel, kernel side: the only course code that runs in a student's kernel while grading.

While the grader checks a test cell, the kernel runs ``serve(path)``: it connects to the grader's
unix socket and answers requests until the grader ends the session. A request names a notebook
object (a global, an imported module, or a *handle* to an object an earlier request returned) and
an operation on it: call it, read an attribute, index it, apply an operator. Values cross the socket
as data only: JSON for structure and ``.npy`` frames for arrays, never pickles or code. What is not
data (a function, a model, an optimizer) stays in the kernel and crosses as a handle; what the
grader passes that is not data (a reference function, a spy) arrives here as a stub that calls back
into the grader. Torch tensors stay here as handles too (their autograd graph lives here); the grader
reads them with ``.numpy()`` or ``.item()``, and the tensors it sends arrive as new tensors.

Nothing here decides a score. The grader treats every reply as untrusted data and computes every
expected value in its own process (``nngrade.remote``, ``docs/threat-model.md``). This module only
has to be faithful for honest notebooks: the arrays a call changed in place are sent back, so
in-place semantics survive the crossing.
"""

from __future__ import annotations

import io
import json
import operator
import socket
import struct
import sys
import traceback

import numpy as np

_LENGTH = struct.Struct(">Q")
_NUMERIC_KINDS = "biufc"
_OPERATORS = {name: getattr(operator, name) for name in (
    "add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "pow", "neg", "pos", "abs", "invert",
    "lt", "le", "eq", "ne", "gt", "ge", "and_", "or_", "xor", "getitem", "setitem", "delitem", "contains",
    "truth", "length_hint")}
_BUILTINS = {"len": len, "iter": iter, "str": str, "repr": repr, "float": float, "int": int, "bool": bool,
             "isinstance": isinstance, "issubclass": issubclass, "index": operator.index}
_ABSENT = object()


def serve(path: str) -> None:
    """Answer the grader's requests on the unix socket ``path`` until it ends the session."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(path)
    try:
        _Session(connection).run()
    finally:
        connection.close()


class _GraderObject:
    """A grader object the kernel may call (a reference function, a spy): each call goes to the grader."""

    def __init__(self, session, ident: int, name: str):
        self._session, self._ident, self.__name__ = session, ident, name

    def __call__(self, *args, **kwargs):
        return self._session.request({"op": "call", "target": self._ident, "args": list(args), "kwargs": kwargs})

    def __repr__(self):
        return f"<grader function {self.__name__}>"


class GraderError(Exception):
    """A grader function that the notebook called raised this (its type and message)."""


class _Session:
    def __init__(self, connection):
        self.connection = connection
        self.handles: dict[int, object] = {}
        self.handle_ids: dict[int, int] = {}  # id(object) -> handle
        self.synced: dict[int, list] = {}  # sync id -> [array or generator, last state sent or received]
        self.namespace = _user_namespace()

    # --- transport ---------------------------------------------------------------------------------
    def send(self, message: dict) -> None:
        frames: list[bytes] = []
        message["synced"] = self._changed_synced(frames)
        body = {key: self.encode(value, frames) if key in ("value",) else value for key, value in message.items()}
        body["frames"] = len(frames)
        chunks = [json.dumps(body).encode()] + frames
        self.connection.sendall(b"".join(_LENGTH.pack(len(chunk)) + chunk for chunk in chunks))

    def receive(self) -> tuple[dict, list]:
        header = json.loads(self._read_frame())
        return header, [self._read_frame() for _ in range(int(header.get("frames", 0)))]

    def _read_frame(self) -> bytes:
        (length,) = _LENGTH.unpack(self._read_exactly(_LENGTH.size))
        return self._read_exactly(length)

    def _read_exactly(self, size: int) -> bytes:
        chunks, remaining = [], size
        while remaining:
            chunk = self.connection.recv(min(remaining, 1 << 20))
            if not chunk:
                raise ConnectionError("the grader closed the channel")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    # --- the request loop --------------------------------------------------------------------------
    def run(self) -> None:
        while True:
            header, frames = self.receive()
            if header.get("kind") == "end":
                return
            self.answer(header, frames)

    def request(self, message: dict):
        """Call back into the grader and return its answer (serving its nested requests meanwhile)."""
        frames: list[bytes] = []
        encoded = {key: self.encode(value, frames) for key, value in message.items()}
        encoded["kind"] = "callback"
        encoded["synced"] = self._changed_synced(frames)
        encoded["frames"] = len(frames)
        chunks = [json.dumps(encoded).encode()] + frames
        self.connection.sendall(b"".join(_LENGTH.pack(len(chunk)) + chunk for chunk in chunks))
        while True:
            header, frames = self.receive()
            if header.get("kind") == "reply":
                self._apply_synced(header, frames)
                return self.decode(header.get("value"), frames)
            if header.get("kind") == "error":
                error = header.get("error", {})
                raise _builtin_exception(error.get("type", ""))(error.get("message", ""))
            if header.get("kind") == "end":
                raise ConnectionError("the grader ended the session during a call")
            self.answer(header, frames)

    def answer(self, header: dict, frames: list) -> None:
        try:
            self._apply_synced(header, frames)
            value = self.perform(header, frames)
        except KeyboardInterrupt:  # the grader interrupted a call that ran out of time: end the session
            raise
        except BaseException as error:  # the notebook's exception (SystemExit too) is the answer
            self.send({"kind": "error", "error": _describe_error(error)})
            return
        self.send({"kind": "reply", "value": value})

    def perform(self, header: dict, frames: list):
        op = header.get("op")
        decode = lambda value: self.decode(value, frames)  # noqa: E731
        if op == "lookup":
            name = header["name"]
            if name not in self.namespace:
                raise NameError(f"name {name!r} is not defined in the notebook", name=name)
            return self.namespace[name]
        if op == "import":
            import importlib

            return importlib.import_module(header["name"])
        target = decode(header.get("target"))
        if op == "getattr":
            return getattr(target, header["name"])
        if op == "setattr":
            setattr(target, header["name"], decode(header.get("value")))
            return None
        if op == "call":
            args, kwargs = decode(header.get("args", [])), decode(header.get("kwargs", {}))
            with _Substituted(self.namespace, decode(header.get("isolate", {}))):
                return target(*args, **kwargs)
        if op == "operator":
            operands = decode(header.get("args", []))
            return _OPERATORS[header["name"]](*operands)
        if op == "builtin":
            operands = decode(header.get("args", []))
            return _BUILTINS[header["name"]](*operands)
        if op == "next":
            try:
                return next(target)
            except StopIteration:
                return _Stop
        if op == "globals_read":
            return _notebook_data_read(target, self.namespace)
        raise ValueError(f"unknown request {op!r}")

    # --- values ------------------------------------------------------------------------------------
    def encode(self, value, frames: list):
        """JSON-able form of ``value``: data as data, anything else as a handle."""
        if value is None or isinstance(value, (bool, str)) or type(value) in (int, float):
            return value
        if value is _Stop:
            return {"$stop": True}
        if _is_torch_size(value):
            return {"$tuple": [int(size) for size in value]}
        if isinstance(value, (list, tuple)):  # named tuples and other subclasses arrive as plain ones
            tag = "$tuple" if isinstance(value, tuple) else "$list"
            return {tag: [self.encode(item, frames) for item in value]}
        if isinstance(value, dict):  # an OrderedDict (a state_dict) too, as a plain dict in its order
            return {"$dict": [[self.encode(key, frames), self.encode(item, frames)] for key, item in value.items()]}
        if type(value) is np.ndarray and value.dtype.kind in _NUMERIC_KINDS and value.dtype.fields is None:
            return {"$array": _frame(frames, value)}
        if isinstance(value, np.generic) and value.dtype.kind in _NUMERIC_KINDS:
            return {"$scalar": _frame(frames, np.asarray(value))}
        if isinstance(value, np.dtype) and value.kind in _NUMERIC_KINDS:
            return {"$dtype": value.name}
        if _is_torch_dtype(value):
            return {"$torch_dtype": str(value).rsplit(".", 1)[-1]}
        if isinstance(value, np.random.Generator):  # a generator the grader shared goes back as the grader's own
            sync = next((sync for sync, entry in self.synced.items() if entry[0] is value), None)
            if sync is not None:
                return {"$synced": sync}
        return {"$handle": self._handle(value), "type": _type_name(value)}

    def decode(self, value, frames: list):
        if not isinstance(value, dict):
            if isinstance(value, list):
                return [self.decode(item, frames) for item in value]
            return value
        tag = next((key for key in value if key.startswith("$")), None)
        content = value.get(tag)
        if tag == "$list":
            return [self.decode(item, frames) for item in content]
        if tag == "$tuple":
            return tuple(self.decode(item, frames) for item in content)
        if tag == "$dict":
            return {_hashable(self.decode(key, frames)): self.decode(item, frames) for key, item in content}
        if tag == "$array":
            return self._synced_array(value, np.load(io.BytesIO(frames[content]), allow_pickle=False))
        if tag == "$synced":
            return self.synced[content][0]
        if tag == "$scalar":
            return np.load(io.BytesIO(frames[content]), allow_pickle=False)[()]
        if tag == "$tensor":
            import torch

            array = np.load(io.BytesIO(frames[content]), allow_pickle=False)
            return torch.from_numpy(array.copy()).requires_grad_(bool(value.get("requires_grad")))
        if tag == "$generator":
            known = self.synced.get(value["sync"])
            if known is not None and isinstance(known[0], np.random.Generator):
                known[0].bit_generator.state = content  # the grader drew from it: the same object follows
                known[1] = _state_of(known[0])
                return known[0]
            generator = np.random.Generator(np.random.PCG64())
            generator.bit_generator.state = content
            self.synced[value["sync"]] = [generator, _state_of(generator)]
            return generator
        if tag == "$handle":
            return self.handles[content]
        if tag == "$callback":
            return _GraderObject(self, content, value.get("name", "function"))
        if tag == "$slice":
            return slice(*(self.decode(item, frames) for item in content))
        if tag == "$ellipsis":
            return Ellipsis
        if tag == "$absent":
            return _ABSENT
        if tag == "$dtype":
            return np.dtype(content)
        if tag == "$nptype":
            return np.dtype(content).type
        if tag == "$torch_dtype":
            import torch

            return getattr(torch, content)
        raise ValueError(f"unknown value tag {tag!r}")

    def _handle(self, value) -> int:
        key = id(value)
        if key not in self.handle_ids:
            handle = len(self.handles) + 1
            self.handles[handle], self.handle_ids[key] = value, handle
        return self.handle_ids[key]

    # --- arrays shared with the grader -------------------------------------------------------------
    def _synced_array(self, value: dict, array: np.ndarray):
        sync = value.get("sync")
        if sync is None:
            return array
        known = self.synced.get(sync)
        if known is not None and known[0].shape == array.shape and known[0].dtype == array.dtype:
            np.copyto(known[0], array)  # the grader changed its array: the notebook's copy follows, same object
            known[1] = array.tobytes()
            return known[0]
        self.synced[sync] = [array, array.tobytes()]
        return array

    def _apply_synced(self, header: dict, frames: list) -> None:
        for value in (header.get("synced") or {}).values():
            self.decode(value, frames)  # copies the grader's new contents into the shared array

    def _changed_synced(self, frames: list) -> dict:
        """The shared arrays (and generators) the notebook changed since they were last exchanged."""
        changed = {}
        for sync, entry in self.synced.items():
            current = _state_of(entry[0])
            if current != entry[1]:
                entry[1] = current
                if isinstance(entry[0], np.ndarray):
                    changed[str(sync)] = {"$array": _frame(frames, entry[0]), "sync": sync}
                else:
                    changed[str(sync)] = {"$generator": entry[0].bit_generator.state, "sync": sync}
        return changed


class _StopType:
    pass


_Stop = _StopType()


class _Substituted:
    """Rebind notebook globals for one call: the grader's stand-ins for other graded functions."""

    def __init__(self, namespace: dict, replacements: dict):
        self.namespace, self.replacements, self.saved = namespace, replacements or {}, {}

    def __enter__(self):
        for name, replacement in self.replacements.items():
            self.saved[name] = self.namespace.get(name, _ABSENT)
            if replacement is _ABSENT:
                self.namespace.pop(name, None)
            else:
                self.namespace[name] = replacement

    def __exit__(self, *exc):
        for name, value in self.saved.items():
            if value is _ABSENT:
                self.namespace.pop(name, None)
            else:
                self.namespace[name] = value


def _user_namespace() -> dict:
    try:
        return get_ipython().user_ns  # noqa: F821 (IPython's builtin in a kernel)
    except NameError:
        return sys.modules["__main__"].__dict__


def _frame(frames: list, array: np.ndarray) -> int:
    buffer = io.BytesIO()
    np.save(buffer, array if array.flags.c_contiguous else array.copy(order="C"), allow_pickle=False)
    frames.append(buffer.getvalue())
    return len(frames) - 1


def _state_of(value):
    return value.tobytes() if isinstance(value, np.ndarray) else json.dumps(value.bit_generator.state, sort_keys=True)


def _is_torch_size(value) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and type(value) is torch.Size


def _is_torch_dtype(value) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.dtype)


def _type_name(value) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"[:200]


def _hashable(key):
    return tuple(_hashable(item) for item in key) if isinstance(key, list) else key


def _builtin_exception(name: str):
    import builtins

    kind = getattr(builtins, name, None)
    return kind if isinstance(kind, type) and issubclass(kind, Exception) else GraderError


def _describe_error(error: BaseException) -> dict:
    """Type, message and the notebook frames of an exception (innermost last)."""
    frames = [{"file": frame.filename, "line": frame.lineno, "function": frame.name, "source": frame.line or ""}
              for frame in traceback.extract_tb(error.__traceback__)
              if frame.filename != __file__]
    return {"type": type(error).__name__, "mro": [kind.__name__ for kind in type(error).__mro__][:20],
            "message": str(error)[:4000], "name": getattr(error, "name", None) if isinstance(error, (NameError, AttributeError)) else None,
            "frames": [dict(frame, cell=_is_cell(frame["file"])) for frame in frames[-20:]]}


def _is_cell(filename: str) -> bool:
    """A notebook cell's code (IPython names cells ``<ipython-input-…>`` or ``…/ipykernel_<pid>/<hash>.py``)."""
    return filename.startswith("<ipython-input") or "/ipykernel_" in filename


def _notebook_data_read(function, namespace: dict) -> dict:
    """``{name: kind}`` for the notebook's arrays, tensors and generators that ``function`` reads as globals."""
    code = getattr(getattr(function, "__func__", function), "__code__", None)
    if code is None:
        return {}
    names, stack = set(), [code]
    while stack:
        current = stack.pop()
        names.update(current.co_names)
        stack.extend(const for const in current.co_consts if hasattr(const, "co_names"))
    found = {}
    for name in sorted(names):
        value = namespace.get(name, _ABSENT)
        kind = _data_kind(value)
        if kind:
            found[name] = kind
    return found


def _data_kind(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array {tuple(value.shape)} {value.dtype}"
    if isinstance(value, np.random.Generator):
        return "random generator"
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return f"tensor {tuple(value.shape)}"
    if isinstance(value, (list, tuple)) and any(_data_kind(item) for item in value):
        return f"{type(value).__name__} of arrays"
    return ""
