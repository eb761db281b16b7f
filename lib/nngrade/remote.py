"""The grading channel, grader side: the notebook's objects as proxies, its answers as checked data.

A test cell's checks run in the grader's process. A name the checks use that the grader does not
define (a notebook function, a trained model, data from an earlier cell) is looked up in the kernel
through ``nnkit.channel``: plain data comes back as a copy, everything else as a ``Remote`` proxy
whose calls, attributes, items and operators are performed in the kernel. What the grader passes
to the kernel crosses as data too; grader functions (a reference for an isolated call, a spy) cross
as stubs that call back into this process.

Every reply is untrusted. It is parsed from JSON and ``.npy`` frames with ``allow_pickle=False``;
only numbers, strings, numeric arrays, lists, tuples and dicts of these, and handles (tensors, models,
functions: anything that is not data stays in the kernel) are accepted, within ``max_reply_bytes``. Anything else is a ``BadReply``:
a wrong answer whose message says what came back. A kernel that does not answer in time or hangs
up raises ``ChannelTimeout`` or ``ChannelClosed``, which no check catches.
"""

from __future__ import annotations

import builtins
import io
import json
import socket
import struct
from time import monotonic

import numpy as np

_LENGTH = struct.Struct(">Q")
_NUMERIC_KINDS = "biufc"
_MAX_DEPTH = 64
TORCH_DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
                "complex64", "complex128", "bfloat16")


class ChannelTimeout(BaseException):
    """The kernel did not answer in time (a BaseException: no check may take it for a wrong answer)."""


class ChannelClosed(BaseException):
    """The kernel hung up or its reply could not be framed; the channel cannot be used any more."""


class BadReply(Exception):
    """The kernel answered with something that is not data of the accepted kinds."""


class NotebookError(Exception):
    """An exception raised by the notebook's code in the kernel: its type name, message and location.

    Built with ``error_class``, so that a check's ``except ValueError`` catches a notebook's
    ``ValueError`` (only for Python's own exception types; anything else is a plain ``NotebookError``).
    """

    def __init__(self, info: dict):
        super().__init__(info["message"])
        self.info = info
        self.type_name = info["type"]
        self.mro = info["mro"]
        self.frames = info["frames"]
        self.name = info.get("name")  # after the base class's __init__, which sets NameError.name to None

    def __str__(self):
        return self.info["message"]

    def location(self) -> str:
        """`` (in f, line 3: y = ...)`` at the innermost frame of the notebook's own code, or ''."""
        cells = [frame for frame in self.frames if frame.get("cell")]
        if not cells:
            return ""
        frame = cells[-1]
        source = f": {frame['source']}" if frame.get("source") else ""
        return f" (in {frame['function']}, line {frame['line']}{source})"


_ERROR_CLASSES: dict[str, type] = {}


def error_class(type_name: str) -> type:
    """``NotebookError`` subclass that also subclasses Python's exception of that name (if any)."""
    if type_name not in _ERROR_CLASSES:
        builtin = getattr(builtins, type_name, None)
        usable = (isinstance(builtin, type) and issubclass(builtin, Exception)
                  and not issubclass(builtin, (StopIteration, StopAsyncIteration)))
        bases = (NotebookError, builtin) if usable else (NotebookError,)
        _ERROR_CLASSES[type_name] = type(type_name, bases, {"__module__": "notebook"})
    return _ERROR_CLASSES[type_name]


def _checked_text(value, limit: int = 4000) -> str:
    if not isinstance(value, str):
        raise BadReply(f"expected text, got {type(value).__name__}")
    return value[:limit]


def _checked_error(raw) -> dict:
    """The error description of a reply, as plain strings and ints (or BadReply)."""
    if not isinstance(raw, dict):
        raise BadReply("an error reply without a description")
    frames = []
    for frame in raw.get("frames", [])[:20] if isinstance(raw.get("frames"), list) else []:
        if isinstance(frame, dict):
            frames.append({"file": _checked_text(frame.get("file", ""), 300), "line": int(frame.get("line") or 0),
                           "function": _checked_text(frame.get("function", ""), 100),
                           "source": _checked_text(frame.get("source", ""), 300), "cell": frame.get("cell") is True})
    mro = [_checked_text(name, 100) for name in raw.get("mro", [])[:20]] if isinstance(raw.get("mro"), list) else []
    name = raw.get("name")
    return {"type": _checked_text(raw.get("type", "Exception"), 100), "mro": mro,
            "message": _checked_text(raw.get("message", "")), "frames": frames,
            "name": name[:200] if isinstance(name, str) else None}


class Remote:
    """A kernel object: a notebook function or class, a model, a module. Operations run in the kernel.

    Its operators, comparisons and truth value are the kernel's answers, so they are refused while the
    session is ``strict`` (the hidden checks): there a notebook object never decides a check; its data
    is read explicitly (``.numpy()``, ``.item()``, attributes and items that are data). numpy never
    treats it as an array: ``np.asarray(remote)`` raises, and ``array - remote`` is the kernel's.
    """

    __slots__ = ("_session", "_handle", "_type", "_label", "__weakref__")
    __array_ufunc__ = None  # numpy's binary operators defer to the reflected ones below

    def __init__(self, session, handle: int, type_name: str, label: str):
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_label", label)

    @property
    def __name__(self):  # messages name a notebook function by the name the checks used for it
        return self._label

    def __repr__(self):
        return f"<notebook object {self._label} ({self._type})>"

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):  # protocol probes (numpy's __array__, ...) stay local
            raise AttributeError(name)
        return self._session.request({"op": "getattr", "target": self, "name": name},
                                     label=f"{self._label}.{name}")

    def __setattr__(self, name, value):
        self._session.request({"op": "setattr", "target": self, "name": name, "value": value})

    def __call__(self, *args, **kwargs):
        return self._session.call(self, args, kwargs)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __hash__(self):
        return object.__hash__(self)

    def __array__(self, *args, **kwargs):
        raise TypeError(f"{self._label} is a notebook object ({self._type}), not data: read it with .numpy(), "
                        ".item() or .tolist()")

    def _operator(self, name, *operands):
        if self._session.strict and name not in ("getitem", "setitem"):
            raise TypeError(f"a hidden check cannot rely on the notebook's answer to an operator: {self._label} "
                            f"is a notebook object ({self._type}), not data (numbers, arrays, lists, dicts)")
        return self._session.request({"op": "operator", "name": name, "args": list(operands)})

    def _builtin(self, name, *operands):
        return self._session.request({"op": "builtin", "name": name, "args": list(operands)})

    def __getitem__(self, key):
        return self._operator("getitem", self, key)

    def __setitem__(self, key, value):
        self._operator("setitem", self, key, value)

    def __contains__(self, item):
        return _expect(self._operator("contains", self, item), bool, "a membership test")

    def __len__(self):
        return _expect(self._builtin("len", self), int, "len()")

    def __bool__(self):
        return _expect(self._operator("truth", self), bool, "a truth value")

    def __float__(self):
        return float(_expect(self._builtin("float", self), float, "float()"))

    def __int__(self):
        return _expect(self._builtin("int", self), int, "int()")

    def __index__(self):
        return _expect(self._builtin("index", self), int, "an index")

    def __str__(self):
        return _expect(self._builtin("str", self), str, "str()")[:2000]

    def __iter__(self):
        iterator = self._builtin("iter", self)
        if not isinstance(iterator, Remote):
            raise BadReply(f"iter() of {self._label} returned {type(iterator).__name__}")
        while True:
            item = self._session.request({"op": "next", "target": iterator})
            if item is _STOP:
                return
            yield item

    def __enter__(self):
        return self._session.call(self._session.request({"op": "getattr", "target": self, "name": "__enter__"}), (), {})

    def __exit__(self, *exc):
        method = self._session.request({"op": "getattr", "target": self, "name": "__exit__"})
        self._session.call(method, (None, None, None), {})
        return False

    def __instancecheck__(self, instance):
        return _expect(self._builtin("isinstance", instance, self), bool, "isinstance()")

    def __subclasscheck__(self, subclass):
        return _expect(self._builtin("issubclass", subclass, self), bool, "issubclass()")

    def __eq__(self, other):
        return self._operator("eq", self, other)

    def __ne__(self, other):
        return self._operator("ne", self, other)

    def __neg__(self):
        return self._operator("neg", self)

    def __pos__(self):
        return self._operator("pos", self)

    def __abs__(self):
        return self._operator("abs", self)


def _binary(name):
    def forward(self, other):
        return self._operator(name, self, other)

    def reflected(self, other):
        return self._operator(name, other, self)

    return forward, reflected


for _name in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "pow", "and", "or", "xor"):
    _forward, _reflected = _binary(_name + "_" if _name in ("and", "or") else _name)
    setattr(Remote, f"__{_name}__", _forward)
    setattr(Remote, f"__r{_name}__", _reflected)
for _name in ("lt", "le", "gt", "ge"):
    setattr(Remote, f"__{_name}__", _binary(_name)[0])


def _expect(value, kind, what):
    if kind is float and isinstance(value, (int, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    if kind is bool and isinstance(value, np.bool_):
        return bool(value)
    if not isinstance(value, kind):
        raise BadReply(f"{what} answered {type(value).__name__}, not {kind.__name__}")
    return value


class _Stop:
    pass


_STOP = _Stop()
ABSENT = object()  # an ``isolate`` value: the global is removed for the call


class Session:
    """One conversation with a kernel's ``nnkit.channel.serve``: requests, callbacks and shared arrays."""

    def __init__(self, connection: socket.socket, *, deadline: float | None = None,
                 max_reply_bytes: int = 256 * 2**20):
        self.connection = connection
        self.deadline = deadline
        self.max_reply_bytes = max_reply_bytes
        self.remotes: dict[int, Remote] = {}
        self.callbacks: dict[int, object] = {}
        self.synced: dict[int, list] = {}  # sync id -> [grader array or generator, last state exchanged]
        self.sync_ids: dict[int, int] = {}
        self.substitutions: list[dict] = []
        self.overrides = lambda: {}  # notebook globals the running check has rebound (see nngrade.verdicts)
        self.broken: str | None = None  # why the channel cannot be used any more (a timeout, a hang-up)
        self.strict = False  # hidden checks: a notebook object's operators and truth value are refused

    # --- public operations -------------------------------------------------------------------------
    def lookup(self, name: str):
        return self.request({"op": "lookup", "name": name}, label=name)

    def module(self, name: str) -> Remote:
        """The kernel's module ``name`` (imported there if needed)."""
        return self.request({"op": "import", "name": name}, label=name)

    def import_from(self, module: str, name: str):
        """``from module import name`` in the kernel: the attribute, or the submodule if it is one."""
        try:
            return self.request({"op": "getattr", "target": self.module(module), "name": name}, label=name)
        except NotebookError as error:
            if error.type_name != "AttributeError":
                raise
            return self.module(f"{module}.{name}")

    def call(self, target, args, kwargs, isolate: dict | None = None):
        replacements = {}
        for layer in [self.overrides(), *self.substitutions, isolate or {}]:
            replacements.update(layer)
        return self.request({"op": "call", "target": target, "args": list(args), "kwargs": dict(kwargs),
                             "isolate": replacements})

    def notebook_data_read(self, function: Remote) -> dict:
        """``{global name: description}`` of notebook arrays/tensors/generators ``function`` reads."""
        found = self.request({"op": "globals_read", "target": function})
        if not isinstance(found, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in found.items()):
            raise BadReply("the notebook's globals could not be listed")
        return found

    def end(self) -> None:
        try:
            self._send({"kind": "end"}, [])
        except OSError:
            pass

    # --- requests and callbacks --------------------------------------------------------------------
    def request(self, message: dict, label: str | None = None):
        if self.broken is not None:  # a late answer to an abandoned request must never pass for a new one
            raise ChannelClosed(f"the channel is closed: {self.broken}")
        try:
            return self._request(message, label)
        except (ChannelTimeout, ChannelClosed) as problem:
            self.broken = str(problem)
            raise

    def _request(self, message: dict, label: str | None):
        frames: list[bytes] = []
        body = {key: (value if key in ("op", "name") else self.encode(value, frames)) for key, value in message.items()}
        body["kind"] = "request"
        self._send(body, frames, with_synced=True)
        while True:
            header, frames = self._receive()
            kind = header.get("kind")
            if kind == "reply":
                self._apply_synced(header, frames)
                return self.decode(header.get("value"), frames, label=label)
            if kind == "error":
                self._apply_synced(header, frames)
                info = _checked_error(header.get("error"))
                raise error_class(info["type"])(info)
            if kind == "callback":
                self._answer_callback(header, frames)
                continue
            raise ChannelClosed(f"the kernel sent a message of unknown kind {str(kind)[:40]!r}")

    def _answer_callback(self, header: dict, frames: list) -> None:
        try:
            self._apply_synced(header, frames)
            target = self.callbacks.get(header.get("target"))
            if header.get("op") != "call" or target is None:
                raise BadReply("a callback to an unknown grader function")
            args = self.decode(header.get("args"), frames)
            kwargs = self.decode(header.get("kwargs"), frames)
            if not isinstance(args, list) or not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
                raise BadReply("a callback with malformed arguments")
            value = target(*args, **kwargs)
        except (ChannelTimeout, ChannelClosed):
            raise
        except Exception as error:  # the grader function's error goes back to the notebook's caller
            message = str(error) if isinstance(error, (ValueError, TypeError, IndexError, KeyError)) else ""
            self._send({"kind": "error", "error": {"type": type(error).__name__, "message": message[:500]}}, [])
            return
        frames_out: list[bytes] = []
        try:
            encoded = self.encode(value, frames_out)
        except TypeError as error:
            self._send({"kind": "error", "error": {"type": "TypeError", "message": str(error)}}, [])
            return
        self._send({"kind": "reply", "value": encoded}, frames_out, with_synced=True)

    # --- transport ---------------------------------------------------------------------------------
    def _send(self, body: dict, frames: list, with_synced: bool = False) -> None:
        if with_synced:
            body["synced"] = self._changed_synced(frames)
        body["frames"] = len(frames)
        chunks = [json.dumps(body, allow_nan=True).encode()] + frames
        self._set_timeout()
        try:
            self.connection.sendall(b"".join(_LENGTH.pack(len(chunk)) + chunk for chunk in chunks))
        except socket.timeout:
            raise ChannelTimeout("the kernel did not read the request in time") from None
        except OSError as error:
            raise ChannelClosed(f"the kernel closed the channel ({error})") from None

    def _receive(self) -> tuple[dict, list]:
        budget = [self.max_reply_bytes]
        raw = self._read_frame(budget)
        try:
            header = json.loads(raw)
        except (ValueError, RecursionError) as error:
            raise ChannelClosed(f"the kernel's reply is not JSON ({str(error)[:80]})") from None
        if not isinstance(header, dict):
            raise ChannelClosed("the kernel's reply is not a JSON object")
        count = header.get("frames", 0)
        if not isinstance(count, int) or not 0 <= count <= 100_000:
            raise ChannelClosed("the kernel's reply announces an impossible number of frames")
        return header, [self._read_frame(budget) for _ in range(count)]

    def _read_frame(self, budget: list) -> bytes:
        (length,) = _LENGTH.unpack(self._read_exactly(_LENGTH.size))
        budget[0] -= length
        if budget[0] < 0:
            raise ChannelClosed(f"the kernel's reply is larger than {self.max_reply_bytes:,} bytes")
        return self._read_exactly(length)

    def _read_exactly(self, size: int) -> bytes:
        buffer, view, received = bytearray(size), None, 0
        view = memoryview(buffer)
        while received < size:
            self._set_timeout()
            try:
                count = self.connection.recv_into(view[received:], size - received)
            except socket.timeout:
                raise ChannelTimeout("the kernel did not answer in time") from None
            except OSError as error:
                raise ChannelClosed(f"the channel failed ({error})") from None
            if count == 0:
                raise ChannelClosed("the kernel closed the channel (it died, or its code ended the session)")
            received += count
        return bytes(buffer)

    def _set_timeout(self) -> None:
        if self.deadline is None:
            self.connection.settimeout(None)
            return
        remaining = self.deadline - monotonic()
        if remaining <= 0:
            raise ChannelTimeout("the kernel did not answer in time")
        self.connection.settimeout(remaining)

    # --- values ------------------------------------------------------------------------------------
    def encode(self, value, frames: list, depth: int = 0):
        """The JSON form of a grader value sent to the kernel."""
        if depth > _MAX_DEPTH:
            raise TypeError("a value nested too deeply to send to the notebook")
        if value is None or isinstance(value, (bool, str)) or type(value) in (int, float):
            return value
        if isinstance(value, Remote):
            if value._session is not self:
                raise TypeError("a notebook object of another grading session")
            return {"$handle": value._handle}
        if value is ABSENT:
            return {"$absent": True}
        if isinstance(value, (list, tuple)):
            tag = "$tuple" if isinstance(value, tuple) else "$list"
            return {tag: [self.encode(item, frames, depth + 1) for item in value]}
        if isinstance(value, dict):
            return {"$dict": [[self.encode(key, frames, depth + 1), self.encode(item, frames, depth + 1)]
                              for key, item in value.items()]}
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in _NUMERIC_KINDS or value.dtype.fields is not None:
                raise TypeError(f"an array of dtype {value.dtype} cannot be sent to the notebook")
            return self._shared(value, frames)
        if isinstance(value, np.generic):
            return {"$scalar": _frame(frames, np.asarray(value))}
        if isinstance(value, np.random.Generator):
            return self._shared(value, frames)
        if isinstance(value, np.dtype):
            return {"$dtype": value.name}
        if isinstance(value, type) and issubclass(value, np.generic):
            return {"$nptype": np.dtype(value).name}
        if isinstance(value, slice):
            return {"$slice": [self.encode(part, frames, depth + 1) for part in (value.start, value.stop, value.step)]}
        if value is Ellipsis:
            return {"$ellipsis": True}
        torch = _torch()
        if torch is not None and isinstance(value, torch.Tensor):
            return {"$tensor": _frame(frames, value.detach().cpu().numpy()), "requires_grad": bool(value.requires_grad)}
        if torch is not None and isinstance(value, torch.dtype):
            return {"$torch_dtype": str(value).rsplit(".", 1)[-1]}
        if callable(value):
            ident = id(value)
            self.callbacks[ident] = value
            return {"$callback": ident, "name": str(getattr(value, "__name__", "function"))[:100]}
        raise TypeError(f"a {type(value).__name__} cannot be sent to the notebook: pass data, or build the "
                        "object in the kernel (nngrade.hidden.in_kernel)")

    def _shared(self, value, frames: list) -> dict:
        """An array or generator the kernel shares with the grader: later changes flow both ways."""
        key = id(value)
        sync = self.sync_ids.get(key)
        state = _state_of(value)
        if sync is not None and self.synced[sync][0] is value and self.synced[sync][1] == state:
            return {"$synced": sync}
        if sync is None or self.synced[sync][0] is not value:
            sync = len(self.synced) + 1
            self.sync_ids[key] = sync
        self.synced[sync] = [value, state]
        return self._shared_form(value, sync, frames)

    @staticmethod
    def _shared_form(value, sync: int, frames: list) -> dict:
        if isinstance(value, np.ndarray):
            return {"$array": _frame(frames, value), "sync": sync}
        return {"$generator": value.bit_generator.state, "sync": sync}

    def _changed_synced(self, frames: list) -> dict:
        changed = {}
        for sync, entry in self.synced.items():
            state = _state_of(entry[0])
            if state != entry[1]:
                entry[1] = state
                changed[str(sync)] = self._shared_form(entry[0], sync, frames)
        return changed

    def _apply_synced(self, header: dict, frames: list) -> None:
        """Copy what the kernel changed in shared arrays and generators into the grader's own."""
        updates = header.get("synced") or {}
        if not isinstance(updates, dict):
            raise BadReply("malformed shared-array updates")
        for sync_text, update in updates.items():
            entry = self.synced.get(int(sync_text)) if str(sync_text).isdigit() else None
            if entry is None or not isinstance(update, dict):
                continue
            target = entry[0]
            if isinstance(target, np.ndarray) and "$array" in update:
                array = self._array(update["$array"], frames)
                if array.shape == target.shape:
                    np.copyto(target, array, casting="unsafe")
            elif isinstance(target, np.random.Generator) and "$generator" in update:
                try:
                    target.bit_generator.state = update["$generator"]
                except (TypeError, ValueError, KeyError):
                    raise BadReply("a malformed random generator state") from None
            entry[1] = _state_of(target)

    def decode(self, value, frames: list, depth: int = 0, label: str | None = None):
        """A grader value from the JSON form of a kernel reply, or ``BadReply``."""
        if depth > _MAX_DEPTH:
            raise BadReply("a value nested too deeply")
        if value is None or isinstance(value, (bool, str, float)):
            return value
        if isinstance(value, int):
            return value
        if isinstance(value, list):
            raise BadReply("an untagged list")
        if not isinstance(value, dict):
            raise BadReply(f"a value of JSON type {type(value).__name__}")
        tag = next((key for key in value if isinstance(key, str) and key.startswith("$")), None)
        content = value.get(tag)
        if tag in ("$list", "$tuple") and isinstance(content, list):
            items = [self.decode(item, frames, depth + 1) for item in content]
            return items if tag == "$list" else tuple(items)
        if tag == "$dict" and isinstance(content, list):
            result = {}
            for pair in content:
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise BadReply("a malformed dict")
                key = self.decode(pair[0], frames, depth + 1)
                try:
                    hash(key)
                except TypeError:
                    raise BadReply(f"a dict key of type {type(key).__name__}") from None
                if isinstance(key, Remote):
                    raise BadReply("a dict key that is not data")
                result[key] = self.decode(pair[1], frames, depth + 1)
            return result
        if tag == "$array":
            return self._array(content, frames)
        if tag == "$scalar":
            array = self._array(content, frames)
            if array.ndim != 0:
                raise BadReply("a scalar that is not 0-dimensional")
            return array[()]
        if tag == "$handle" and isinstance(content, int):
            return self._remote(content, value.get("type"), label)
        if tag == "$synced" and isinstance(content, int) and content in self.synced:
            return self.synced[content][0]  # a generator this grader shared, passed back (its state applied)
        if tag == "$stop":
            return _STOP
        if tag == "$dtype" and isinstance(content, str):
            try:
                dtype = np.dtype(content)
            except TypeError:
                raise BadReply(f"an unknown dtype {content[:40]!r}") from None
            if dtype.kind not in _NUMERIC_KINDS:
                raise BadReply(f"a dtype of kind {dtype.kind!r}")
            return dtype
        if tag == "$torch_dtype" and content in TORCH_DTYPES and _torch() is not None:
            return getattr(_torch(), content)
        raise BadReply(f"a value tagged {str(tag)[:40]!r}")

    def _array(self, index, frames: list) -> np.ndarray:
        if not isinstance(index, int) or not 0 <= index < len(frames):
            raise BadReply("an array reference to a missing frame")
        try:
            array = np.load(io.BytesIO(frames[index]), allow_pickle=False)
        except Exception as error:  # a malformed .npy frame: whatever numpy says about it
            raise BadReply(f"a malformed array ({type(error).__name__})") from None
        if not isinstance(array, np.ndarray) or array.dtype.kind not in _NUMERIC_KINDS or array.dtype.fields is not None:
            raise BadReply(f"an array of dtype {getattr(array, 'dtype', '?')}")
        return array

    def _remote(self, handle: int, type_name, label: str | None) -> Remote:
        remote = self.remotes.get(handle)
        if remote is None:
            type_name = type_name[:200] if isinstance(type_name, str) else "object"
            remote = Remote(self, handle, type_name, label or type_name.rsplit(".", 1)[-1])
            self.remotes[handle] = remote
        return remote


def _frame(frames: list, array: np.ndarray) -> int:
    buffer = io.BytesIO()
    np.save(buffer, array if array.flags.c_contiguous else array.copy(order="C"), allow_pickle=False)
    frames.append(buffer.getvalue())
    return len(frames) - 1


def _state_of(value):
    if isinstance(value, np.ndarray):
        return (value.shape, value.dtype.str, value.tobytes())
    return json.dumps(value.bit_generator.state, sort_keys=True)


def _torch():
    import sys

    return sys.modules.get("torch")


def remote_session(value) -> Session | None:
    return value._session if isinstance(value, Remote) else None


__all__ = ["ABSENT", "BadReply", "ChannelClosed", "ChannelTimeout", "NotebookError", "Remote", "Session",
           "error_class", "remote_session"]
