"""Tamper detection: trusted probes that catch a submission forging the verdicts of its test cells.

The student's code and the hidden tests run in one kernel, so a submission can try to make failing
tests look passing: IPython input or AST transformers that rewrite the test cells, a custom
exception handler (``set_custom_exc``), a patched ``showtraceback`` or ``sys.excepthook``, or
reassigned comparison helpers (``np.testing.assert_allclose``, ``math.isclose``, the private
helpers of ``nngrade.hidden``, the reference functions of ``nnref``).

The grader, not the notebook, runs short *probes* in the kernel: one right after the kernel starts
(the baseline, before any student code), one before and one after each graded test cell, and one
after the last cell. A probe is an ``execute_request`` with empty code and one user expression, so
it is neither a notebook cell nor in the history, and input/AST transformers never see it. The
expression runs ``kernel_report`` (sent as source) with a fresh nonce from the grader process
(``secrets.token_hex``) and returns the state of every hook: ids and origins of the IPython
transformers, exception handlers and execution methods, ``sys`` hooks, builtins, ``math``,
``numpy``, ``numpy.testing`` and every loaded module of ``nngrade``, ``nnref`` and ``nnkit``.

``HookWatch`` compares each report with the baseline. A changed or removed entry, a new entry
defined by notebook code (a function compiled from a cell or a file outside the Python
installation and ``lib/``), or a report that is missing, garbled or carries the wrong nonce is
tampering: the notebook gets a ``tampering`` flag naming what changed (``nngrade.flags``), and the
graded test cell being checked and every later one get an error output with the reason, so they
score 0 until someone reviews the submission. Test cells that ran before a clean probe keep their
points. One kernel per notebook: a kernel that died or was killed is not probed any more.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import queue
import secrets
from pathlib import Path
from time import monotonic

from jupyter_core.utils import run_sync
from nbgrader.utils import is_grade

from . import flags, notebooks

LIB_DIR = Path(__file__).resolve().parents[1]
# Imported by the baseline probe, before any student code, so that their pristine state is the reference.
BASELINE_IMPORTS = ("math", "numpy", "numpy.testing", "nnkit.testing", "nngrade.hidden")
PROBE_TIMEOUT = 30  # seconds; a probe takes milliseconds, so no answer means a busy or hijacked kernel
# Hooks where installed libraries legitimately add entries (``%matplotlib inline`` registers a
# post_execute callback, some packages add import finders): an addition is accepted unless it was
# defined by notebook code; removing or replacing an entry is still tampering.
GROWING_KEYS = ("get_ipython().events.", "sys.meta_path", "sys.path_hooks")
SHOWN_CHANGES = 3  # changes named in a reason; the rest are counted


class ProbeError(Exception):
    """A probe got no usable report from the kernel (no answer, an error, a garbled or replayed report)."""


def kernel_report(nonce: str, trusted_roots: list, imports: list) -> str:
    """The state of every verdict-relevant hook of this Python process, as ``<digest>\\n<json>``.

    Runs inside the grading kernel: the grader sends this function's source, so it is
    self-contained. The JSON text is ``{"nonce": nonce, "entries": {key: [[mark, foreign], ...]}}``:
    per hook (``sys.excepthook``, ``get_ipython().ast_transformers``, ``math.isclose``, ...) the list
    of objects it holds, each as a mark (name, id, and for Python functions the id of their code and
    their defaults) and, when it was compiled outside ``trusted_roots`` and the Python installation,
    the file it comes from (None for installed code and C code). ``digest`` is the SHA-256 of
    ``nonce + text``. ``imports`` are imported first (the baseline: protected modules enter the
    reference before any student code).
    """
    import functools
    import hashlib
    import importlib
    import json
    import sys
    import sysconfig
    import types

    for name in imports:
        try:
            importlib.import_module(name)
        except ImportError:  # a module this kernel cannot import holds nothing to protect
            pass
    paths = sysconfig.get_paths()
    roots = tuple(trusted_roots) + tuple(
        {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")} | {sys.prefix, sys.base_prefix})
    missing = object()

    def module_file(name):
        """The file a module was loaded from: '' for built-in, frozen and unloaded (C-level) modules."""
        if name == "__main__":
            return "<the notebook>"
        module = sys.modules.get(name)
        spec = getattr(module, "__spec__", None)
        if module is None or name in sys.builtin_module_names:
            return ""
        if getattr(spec, "origin", None) in ("built-in", "frozen"):
            return ""
        return getattr(module, "__file__", None) or f"<module {name}>"

    def origin(value):
        """The file ``value`` was defined in ('' for C code)."""
        if isinstance(value, types.MethodType):
            value = value.__func__
        while isinstance(value, functools.partial):
            value = value.func
        if isinstance(value, types.FunctionType):
            filename = value.__code__.co_filename
            return "" if filename.startswith("<frozen ") else filename
        if isinstance(value, types.ModuleType):
            return module_file(value.__name__)
        if isinstance(value, type):  # where its methods were compiled, else its module
            files = [f.__code__.co_filename for f in vars(value).values() if isinstance(f, types.FunctionType)]
            compiled = [name for name in files if not name.startswith("<")]
            return compiled[0] if compiled else module_file(value.__module__)
        if value is None or isinstance(value, types.BuiltinFunctionType):
            return ""
        return module_file(type(value).__module__)

    def mark(value):
        if value is missing:
            return "missing"
        if value is None:
            return "None"
        target = value.__func__ if isinstance(value, types.MethodType) else value
        if isinstance(target, types.ModuleType):
            name = target.__name__
        else:  # e.g. numpy.testing.assert_allclose, __main__.forge, numpy.ufunc (no names of their own)
            module = getattr(target, "__module__", None) or type(target).__module__
            qualname = getattr(target, "__qualname__", None) or getattr(target, "__name__", None) \
                or type(target).__qualname__
            name = f"{module}.{qualname}"
        text = f"{name}#{id(target):x}"
        if isinstance(target, types.FunctionType):
            text += f" code#{id(target.__code__):x} defaults={target.__defaults__!r:.200}" \
                    f" kwdefaults={target.__kwdefaults__!r:.200}"
        return text

    entries = {}

    def add(key, values):
        items = []
        for value in values:
            try:
                where = "" if value is missing else origin(value)
                foreign = where if where and not where.startswith(roots) else None
                items.append([mark(value), foreign])
            except Exception as error:  # an object built to break inspection is itself suspect
                items.append([f"unreadable ({type(error).__name__})", "unreadable"])
        entries[key] = items

    def resolve(obj, dotted):
        for part in dotted.split("."):
            obj = getattr(obj, part, missing) if obj is not missing else missing
        return obj

    interactiveshell = sys.modules.get("IPython.core.interactiveshell")
    shell = getattr(getattr(interactiveshell, "InteractiveShell", None), "_instance", None)
    for attribute in ("input_transformers_cleanup", "input_transformers_post", "ast_transformers",
                      "custom_exceptions", "input_transformer_manager.line_transforms",
                      "input_transformer_manager.token_transformers"):
        value = resolve(shell, attribute)
        add(f"get_ipython().{attribute}", list(value) if isinstance(value, (list, tuple)) else [value])
    for attribute in ("CustomTB", "showtraceback", "_showtraceback", "showsyntaxerror", "showindentationerror",
                      "excepthook", "run_cell", "run_cell_async", "should_run_async", "transform_cell",
                      "transform_ast", "run_ast_nodes", "run_code", "user_expressions", "compile",
                      "compile.ast_parse", "compile.cache", "input_transformer_manager",
                      "input_transformer_manager.transform_cell", "InteractiveTB",
                      "InteractiveTB.structured_traceback", "display_pub", "displayhook",
                      "kernel.do_execute", "kernel.execute_request"):
        add(f"get_ipython().{attribute}", [resolve(shell, attribute)])
    callbacks = resolve(shell, "events.callbacks")
    for event, registered in (callbacks.items() if isinstance(callbacks, dict) else []):
        add(f"get_ipython().events.callbacks[{event!r}]", list(registered))
    add("sys.excepthook", [getattr(sys, "excepthook", missing)])
    add("sys.displayhook", [getattr(sys, "displayhook", missing)])
    add("sys.gettrace()", [sys.gettrace()])
    add("sys.getprofile()", [sys.getprofile()])
    add("sys.meta_path", list(sys.meta_path))
    add("sys.path_hooks", list(sys.path_hooks))

    def add_namespace(prefix, module, descend):
        for attribute, value in list(vars(module).items()):
            if attribute.startswith("__") and attribute not in ("__import__", "__build_class__"):
                continue
            if isinstance(value, types.ModuleType):
                # A private copy of a module (nngrade.hidden's comparison engine) is checked like a module.
                if descend and sys.modules.get(value.__name__) is not value:
                    add(f"{prefix}{attribute}", [value])
                    add_namespace(f"{prefix}{attribute}.", value, False)
            elif callable(value):
                add(f"{prefix}{attribute}", [value])

    for name in list(sys.modules):
        grader_package = name.split(".")[0] in ("nngrade", "nnref", "nnkit")
        if grader_package or name in ("builtins", "math", "numpy", "numpy.testing"):
            module = sys.modules.get(name)
            add(f"sys.modules[{name!r}]", [module])
            if isinstance(module, types.ModuleType):
                add_namespace(f"{name}.", module, grader_package)
    text = json.dumps({"nonce": nonce, "entries": entries})
    return hashlib.sha256((nonce + text).encode()).hexdigest() + "\n" + text


_KERNEL_REPORT_SOURCE = inspect.getsource(kernel_report)


def probe_expression(nonce: str, baseline: bool) -> str:
    """A user expression that runs ``kernel_report`` in a namespace of its own and returns the report.

    Only the name ``__builtins__`` is looked up in the notebook's namespace, so notebook variables
    that shadow ``exec`` or ``compile`` do not break the probe.
    """
    imports = list(BASELINE_IMPORTS) if baseline else []
    call = f"{kernel_report.__name__}({nonce!r}, {[str(LIB_DIR)]!r}, {imports!r})"
    return (f"(lambda namespace: (__builtins__.exec({_KERNEL_REPORT_SOURCE!r}, namespace), "
            f"__builtins__.eval({call!r}, namespace))[1])({{'__builtins__': __builtins__}})")


def read_report(reply: dict, nonce: str) -> dict:
    """The entries of a probe's report, from the content of its ``execute_reply``.

    Raises ProbeError when the reply holds no report, an error, a garbled text, or a report whose
    nonce or digest is not the one this probe sent.
    """
    if reply.get("status") != "ok":
        raise ProbeError(f"the kernel refused the probe ({reply.get('ename', reply.get('status'))})")
    result = reply.get("user_expressions", {}).get("report")
    if not isinstance(result, dict):
        raise ProbeError("the kernel's answer to the probe holds no report")
    if result.get("status") != "ok":
        raise ProbeError(f"the probe failed in the kernel: {result.get('ename')}: {result.get('evalue')}")
    try:
        digest, text = ast.literal_eval(result["data"]["text/plain"]).split("\n", 1)
        report = json.loads(text)
        entries = report["entries"]
    except (KeyError, ValueError, SyntaxError, TypeError, AttributeError) as error:
        raise ProbeError(f"the probe's report is garbled ({type(error).__name__})") from None
    if report.get("nonce") != nonce or digest != hashlib.sha256((nonce + text).encode()).hexdigest():
        raise ProbeError("the probe's report does not carry the nonce it was sent (a replayed or forged report)")
    if not isinstance(entries, dict):
        raise ProbeError("the probe's report is garbled (entries)")
    return entries


def _name(mark: str) -> str:
    """The readable part of a mark: ``__main__.forge`` of ``__main__.forge#7f3a... code#...``."""
    return mark.split("#", 1)[0]


def _marks(items: list) -> list[str]:
    return [mark for mark, _ in items]


def _describe_change(key: str, before: list, after: list) -> str:
    if len(before) == len(after) == 1:
        return f"{key} replaced by {_name(after[0][0])}"
    added = [_name(mark) for mark in _marks(after) if mark not in _marks(before)]
    removed = [_name(mark) for mark in _marks(before) if mark not in _marks(after)]
    parts = [f"added {name}" for name in added] + [f"removed {name}" for name in removed]
    return f"{key}: {', '.join(parts) or 'reordered'}"


class HookWatch:
    """The reference state of one kernel and the comparison of each new report with it.

    Entries compare by their marks (which object a hook holds); where an object comes from only
    decides whether an entry that is not in the reference yet may join it.
    """

    def __init__(self, baseline: dict):
        self.reference = {key: list(items) for key, items in baseline.items()}

    def changes(self, entries: dict) -> list[str]:
        """What differs from the reference, one description per hook (empty when nothing does).

        New entries that come from installed code (a module a hidden test imports, a callback that
        ``%matplotlib inline`` registers) join the reference, so later reports are checked against them.
        """
        found = []
        for key, before in self.reference.items():
            after = entries.get(key)
            if after is None:
                found.append(f"{key} removed")
            elif _marks(after) != _marks(before):
                added = [item for item in after if item[0] not in _marks(before)]
                kept = all(mark in _marks(after) for mark in _marks(before))
                if not (key.startswith(GROWING_KEYS) and kept and not any(foreign for _, foreign in added)):
                    found.append(_describe_change(key, before, after))
        for key, after in entries.items():
            foreign = [item for item in after if item[1]]
            if key not in self.reference and foreign:
                found.append(f"{key} is {_name(foreign[0][0])} from {foreign[0][1]}")
        if not found:
            for key, after in entries.items():
                if key.startswith(GROWING_KEYS) or key not in self.reference:
                    self.reference[key] = list(after)
        return found


def summarize(changes: list[str]) -> str:
    """The first few changes, and how many more there are."""
    shown = "; ".join(changes[:SHOWN_CHANGES])
    more = len(changes) - SHOWN_CHANGES
    return shown + (f" (and {more} more)" if more > 0 else "")


class TamperProbes:
    """Mixin for nbgrader's ``Execute`` (``GradingExecute``): probes around every graded test cell.

    See the module docstring. Each tampering found adds one ``tampering`` flag to the notebook; the
    graded test cell being checked and every later one get an error output with the reason.
    """

    def preprocess(self, nb, resources=None, km=None):
        self._watch: HookWatch | None = None
        self._tampering: str | None = None  # the reason, once tampering was found
        self._unprobed = True  # code ran since the last probe
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if self._watch is None:
            self._probe(None)
        graded = cell.cell_type == "code" and is_grade(cell)
        grade_id = notebooks.grade_id(cell) if graded else None
        if graded and self._unprobed:
            self._probe(f"before {grade_id} ran", grade_id)
        cell, resources = super().preprocess_cell(cell, resources, index)
        self._unprobed = self._unprobed or cell.cell_type == "code"
        if graded:  # the student's function, called by the test, may have installed a hook
            self._probe(f"while {grade_id} ran", grade_id)
        if index == len(self.nb.cells) - 1 and self._unprobed:
            self._probe("after the last cell")
        if graded and self._tampering is not None:
            from .kernel import error_output  # here: kernel.py imports this module

            cell.outputs.insert(0, error_output("TamperingDetected", self._tampering))
        return cell, resources

    async def _async_probe(self, moment: str | None, grade_id: str | None = None) -> None:
        """Probe the kernel; ``moment`` None takes the baseline, otherwise it says when, for the reason."""
        if self._tampering is not None or (moment is not None and self._watch is None):
            return  # every later test cell scores 0 already, or there is no baseline to compare with
        if not await self.km.is_alive():
            return  # a dead or killed kernel is reported by GradingExecute, not as tampering
        self._unprobed = False
        nonce = secrets.token_hex(16)
        try:
            entries = read_report(await self._ask(nonce, baseline=moment is None), nonce)
        except ProbeError as error:
            if not await self.km.is_alive():
                return  # a dead or killed kernel is reported by GradingExecute, not as tampering
            if moment is None:
                raise ProbeError(f"the grader's baseline probe of a fresh kernel failed: {error}") from None
            changes = [str(error)]
        else:
            if moment is None:
                self._watch = HookWatch(entries)
                return
            changes = self._watch.changes(entries)
        if not changes:
            return
        self._tampering = (f"the grading hooks were tampered with ({moment}): {summarize(changes)}; "
                           "this and every later test cell score 0 until the submission is reviewed")
        flags.add(self.nb, "tampering", self._tampering, cell=grade_id)

    _probe = run_sync(_async_probe)

    async def _ask(self, nonce: str, baseline: bool) -> dict:
        """Send one probe and return the content of its ``execute_reply``."""
        msg_id = self.kc.execute("", silent=True, store_history=False, allow_stdin=False,
                                 user_expressions={"report": probe_expression(nonce, baseline)})
        deadline = monotonic() + PROBE_TIMEOUT
        while True:
            try:
                # An earlier cell's late reply may still be queued: skip replies to other requests.
                message = await self.kc.shell_channel.get_msg(timeout=max(0.0, deadline - monotonic()))
            except queue.Empty:
                raise ProbeError(f"the kernel did not answer the grader's probe within {PROBE_TIMEOUT} s") from None
            if message["parent_header"].get("msg_id") == msg_id:
                return message["content"]
