"""The hidden checks' helpers: compare a notebook function with the reference, in the grader's process.

A hidden test cell typically reads::

    from nngrade.hidden import compare, random_cases
    import nnref.activations as ref

    compare(sigmoid, ref.sigmoid, [(np.array([-1.0, 0.0, 2.0]),), {"args": (x,), "kwargs": {"slope": 2.0}}])
    compare(sigmoid, ref.sigmoid, random_cases(lambda rng: (rng.normal(size=(7, 3)),), n=5, seed=0))

It runs in the grader (``nngrade.verdicts``): ``sigmoid`` is the notebook's function, a proxy that
calls it in the kernel with the case's arguments sent as data (``nngrade.remote``); the reference runs
here. For every case ``compare`` checks, in order: raises -> type -> shape -> dtype -> finite ->
values, then that the inputs were not modified in place, and (once) that the function does not read
data from the notebook's global variables instead of its arguments. The first failure raises
``AssertionError`` with a message that names the function and the shapes and types of its inputs,
never the hidden input values or the reference's code (only a short slice of yours-vs-expected
values), and for an exception the line of the notebook's code that raised it.

The same helpers work on plain Python functions (the library's own tests use them so).
"""

from __future__ import annotations

import contextlib
import copy
import dis
import inspect
import io
import linecache  # IPython registers notebook cell sources with it
import types
import warnings
from collections.abc import Mapping

import numpy as np

from nnkit import testing as _testing

from .remote import ABSENT, NotebookError, Remote, remote_session
from .verdicts import current_session, raise_flag

__all__ = ["compare", "random_cases", "check_mutation", "check_globals", "assert_close", "in_kernel", "flag"]

_compare_values = _testing.compare_values
_describe = _testing.describe
_describe_call = _testing.describe_call
_ndarray = np.ndarray
_Generator = np.random.Generator
_MISSING = object()


def flag(kind: str, reason: str) -> None:
    """Flag the submission for the instructor (``nngrade.flags.KINDS``, e.g. ``out_of_time`` when
    training stopped at its wall-clock cap): a flag never changes a score by itself."""
    raise_flag(kind, reason)


def in_kernel(module_name: str) -> Remote:
    """The notebook kernel's module ``module_name`` (e.g. ``torch``): objects the notebook's code must
    receive (a network, a data loader, an optimizer) are built with it, in the kernel."""
    return current_session().module(module_name)


def assert_close(actual, expected, *, name: str = "value", rtol: float = 1e-7, atol: float = 1e-9,
                 check_dtype: bool = False) -> None:
    """``nnkit.testing.assert_close`` from the private copy (for hidden checks of attributes etc.)."""
    _compare_values(actual, expected, label=name, rtol=rtol, atol=atol, check_dtype=check_dtype)


def random_cases(make_case, n: int, seed: int) -> list:
    """``n`` cases drawn by ``make_case(rng)`` from ``np.random.default_rng(seed)``.

    ``make_case`` returns what ``compare`` accepts as one case: a tuple of arguments, a dict
    ``{"args": (...), "kwargs": {...}}``, or a single argument.
    """
    rng = np.random.default_rng(seed)
    return [make_case(rng) for _ in range(n)]


def compare(student, reference, cases, *, name: str | None = None, rtol: float = 1e-7, atol: float = 1e-9,
            check_dtype: bool = False, isolate: Mapping | None = None, check_inputs: bool = True,
            mutable=(), check_globals_use: bool = True) -> None:
    """Assert that ``student`` behaves like ``reference`` on every case.

    Args:
        student: the notebook's function (or class/callable).
        reference: the reference implementation with the same signature.
        cases: list of cases; each is a tuple of positional arguments, a dict
            ``{"args": tuple, "kwargs": dict}``, or a single (non-tuple) argument.
        name: the name used in messages (default: ``student.__name__``).
        rtol, atol: elementwise tolerance ``|yours - expected| <= atol + rtol * |expected|``.
        check_dtype: also require the output dtype of the reference.
        isolate: ``{global_name: replacement}`` rebound in the student function's globals during the
            student call, so a function that calls another graded function is tested with the
            reference for it (a bug costs points in one test cell only).
        check_inputs: fail when the student call modifies an argument in place.
        mutable: names (or positions) of arguments that may legitimately be modified in place.
        check_globals_use: fail when the function reads array/tensor/generator variables of the
            notebook instead of its arguments.

    Each argument is deep-copied for each call, so neither function sees the other's side effects,
    and a random generator passed as an argument starts from the same state for both.
    """
    name = name or getattr(student, "__name__", None) or getattr(reference, "__name__", "function")
    parameter_names = _parameter_names(reference) or _parameter_names(student)
    cases = list(cases)
    if not cases:
        raise ValueError("compare needs at least one case")
    if check_globals_use:  # first: reading a notebook array usually also breaks the values below
        args, kwargs = _normalise_case(cases[0])
        check_globals(student, args, kwargs, name=name, isolate=isolate)
    for case in cases:
        args, kwargs = _normalise_case(case)
        call = _describe_call(name, args, kwargs, parameter_names)
        expected_error, expected = _call_quietly(reference, *copy.deepcopy((args, kwargs)))
        student_args, student_kwargs = copy.deepcopy((args, kwargs))
        with _isolated(student, isolate):
            error, actual = _call_quietly(student, student_args, student_kwargs)
        if _check_raises(call, student, error, expected_error):
            continue
        _compare_values(actual, expected, label=f"{call} output", rtol=rtol, atol=atol,
                        check_dtype=check_dtype)
        if check_inputs:
            _check_unchanged(call, (args, kwargs), (student_args, student_kwargs), parameter_names, mutable)


def check_mutation(function, args=(), kwargs=None, *, name: str | None = None, mutable=()) -> None:
    """Call ``function`` on copies of the arguments and fail when it changed any of them in place."""
    name = name or getattr(function, "__name__", "function")
    kwargs = dict(kwargs or {})
    parameter_names = _parameter_names(function)
    call = _describe_call(name, args, kwargs, parameter_names)
    given = copy.deepcopy((tuple(args), kwargs))
    error, _ = _call_quietly(function, *given)
    if error is not None:
        raise AssertionError(f"{call} raised {_explain_error(error, function)}")
    _check_unchanged(call, (tuple(args), kwargs), given, parameter_names, mutable)


def check_globals(function, args=(), kwargs=None, *, name: str | None = None, isolate: Mapping | None = None) -> None:
    """Fail when ``function`` reads notebook data (arrays, tensors, generators) from its globals.

    The function's bytecode is scanned for global names bound to such data; when there are any, a
    clone of the function whose globals lack them is called on ``args``: a ``NameError`` for one of
    them proves the dependence. Modules, functions, classes and plain constants (numbers, strings)
    are legitimate globals and are kept. Non-function callables (classes, objects) are not checked.
    """
    if isinstance(function, Remote):
        _check_notebook_globals(function, args, kwargs, name=name, isolate=isolate)
        return
    if not isinstance(function, types.FunctionType):
        return
    name = name or function.__name__
    replacements = dict(isolate or {})
    notebook_data = {
        global_name: function.__globals__[global_name]
        for global_name in _global_names_read(function.__code__)
        if global_name not in replacements
        and global_name in function.__globals__
        and _is_notebook_data(function.__globals__[global_name])
    }
    if not notebook_data:
        return
    stripped_globals = {key: value for key, value in function.__globals__.items() if key not in notebook_data}
    stripped_globals.update(replacements)
    clone = types.FunctionType(function.__code__, stripped_globals, function.__name__,
                               function.__defaults__, function.__closure__)
    clone.__kwdefaults__ = function.__kwdefaults__
    error, _ = _call_quietly(clone, *copy.deepcopy((tuple(args), dict(kwargs or {}))))
    if isinstance(error, NameError) and getattr(error, "name", None) in notebook_data:
        used = error.name
        raise AssertionError(
            f"{name} reads the notebook variable '{used}' ({_describe(notebook_data[used])}) instead of "
            f"using its arguments; pass everything it needs as parameters"
        )


def _check_notebook_globals(function: Remote, args, kwargs, *, name, isolate) -> None:
    """``check_globals`` for a notebook function: call it with the notebook data it reads removed."""
    session = remote_session(function)
    name = name or function.__name__
    notebook_data = {key: kind for key, kind in session.notebook_data_read(function).items()
                     if key not in (isolate or {})}
    if not notebook_data:
        return
    hidden = {**(isolate or {}), **{key: ABSENT for key in notebook_data}}
    error, _ = _call_quietly(lambda *a, **k: session.call(function, a, k, isolate=hidden),
                             *copy.deepcopy((tuple(args), dict(kwargs or {}))))
    if isinstance(error, NotebookError) and error.type_name == "NameError" and error.name in notebook_data:
        raise AssertionError(
            f"{name} reads the notebook variable '{error.name}' ({notebook_data[error.name]}) instead of "
            f"using its arguments; pass everything it needs as parameters"
        )


# --- internals ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def _isolated(student, isolate):
    """While ``student`` is called, the notebook's other graded functions named in ``isolate`` are
    replaced: in the kernel for a notebook function (or a check's function calling one), in the
    function's globals for a plain Python function."""
    if not isolate:
        yield
        return
    session = remote_session(student)
    if session is None:
        try:
            session = current_session()
        except RuntimeError:  # not grading: a plain Python function and its own globals
            session = None
    if session is None:
        with _rebound(_globals_of(student), isolate):
            yield
        return
    session.substitutions.append(dict(isolate))
    try:
        yield
    finally:
        session.substitutions.pop()


def _normalise_case(case):
    if isinstance(case, Mapping) and set(case) <= {"args", "kwargs"}:
        return tuple(case.get("args", ())), dict(case.get("kwargs", {}))
    if isinstance(case, tuple):
        return case, {}
    return (case,), {}


def _parameter_names(function) -> tuple:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return ()
    return tuple(p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


@contextlib.contextmanager
def _quiet():
    """Silence warnings and capture stdout/stderr: nothing of a hidden call reaches the cell output."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            yield


def _call_quietly(function, args, kwargs):
    """``(None, result)`` or ``(exception, None)``."""
    with _quiet():
        try:
            return None, function(*args, **kwargs)
        except Exception as error:  # the student's exception is a test outcome, not a crash
            return error, None


def _globals_of(function):
    """The globals dict a notebook function (or the methods of a notebook class) resolves names in."""
    function = getattr(function, "__func__", function)
    if isinstance(function, types.FunctionType):
        return function.__globals__
    if isinstance(function, type):
        for attribute in vars(function).values():
            attribute = getattr(attribute, "__func__", attribute)
            if isinstance(attribute, types.FunctionType):
                return attribute.__globals__
    return None


@contextlib.contextmanager
def _rebound(namespace, replacements):
    """Temporarily set ``namespace[key] = value`` for each replacement, restoring afterwards."""
    if not replacements:
        yield
        return
    if namespace is None:
        raise ValueError("isolate needs a Python function or class defined in the notebook")
    saved = {key: namespace.get(key, _MISSING) for key in replacements}
    namespace.update(replacements)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is _MISSING:
                namespace.pop(key, None)
            else:
                namespace[key] = value


def _check_raises(call, student, error, expected_error) -> bool:
    """Check the 'raises' stage; return True when both raised the same kind of error (case done)."""
    if expected_error is None:
        if error is not None:
            raise AssertionError(f"{call} raised {_explain_error(error, student)}")
        return False
    expected_name = type(expected_error).__name__
    if error is None:
        raise AssertionError(f"{call} should raise {expected_name} for this input, but it returned a result")
    if not _is_kind(error, type(expected_error)):
        raise AssertionError(f"{call} should raise {expected_name}, but it raised {_explain_error(error, student)}")
    return True


def _is_kind(error, kind: type) -> bool:
    """``isinstance`` that also knows the notebook's own exception types by name."""
    return isinstance(error, kind) or (isinstance(error, NotebookError) and kind.__name__ in error.mro)


def _explain_error(error, student) -> str:
    """``ValueError: message (in f, line 3: y = ...)``: the notebook's own line, never a check's."""
    if isinstance(error, NotImplementedError):
        return "NotImplementedError: the function is not implemented yet"
    if isinstance(error, NotebookError):
        return f"{error.type_name}: {str(error)[:1000]}{error.location()}"
    text = f"{type(error).__name__}: {error}"
    code = getattr(getattr(student, "__func__", student), "__code__", None)
    if code is None:
        return text
    location = None
    traceback = error.__traceback__
    while traceback is not None:  # innermost frame in the student's cell
        if traceback.tb_frame.f_code.co_filename == code.co_filename:
            location = traceback
        traceback = traceback.tb_next
    if location is None:
        return text
    line = _source_line(location.tb_frame.f_code, location.tb_lineno)
    return f"{text} (in {location.tb_frame.f_code.co_name}, line {location.tb_lineno}{line})"


def _source_line(code, lineno) -> str:
    text = linecache.getline(code.co_filename, lineno).strip()
    return f": {text}" if text else ""


def _check_unchanged(call, original, after_call, parameter_names, mutable) -> None:
    (args, kwargs), (args_after, kwargs_after) = original, after_call
    labelled = [(i, parameter_names[i] if i < len(parameter_names) else f"argument {i + 1}", before, after)
                for i, (before, after) in enumerate(zip(args, args_after))]
    labelled += [(key, key, kwargs[key], kwargs_after[key]) for key in kwargs]
    for position, label, before, after in labelled:
        if position in mutable or label in mutable:
            continue
        changed = _changed_elements(before, after)
        if changed:
            raise AssertionError(
                f"{call} modified its argument '{label}' in place ({changed}); work on a copy "
                f"(e.g. {label} = {label}.copy()) or build a new array instead"
            )


def _changed_elements(before, after) -> str:
    """A description of what changed between two copies of an argument, or '' when nothing did."""
    if isinstance(before, _ndarray):
        if not isinstance(after, _ndarray) or before.shape != after.shape:
            return f"it became {_describe(after)}"
        if before.dtype.kind not in "biufc":
            return ""
        differs = (before != after) & ~((before != before) & (after != after))  # NaN == NaN here
        count = int(differs.sum())
        return f"{count} of {before.size} values changed" if count else ""
    if isinstance(before, (list, tuple)) and isinstance(after, (list, tuple)):
        if len(before) != len(after):
            return f"its length changed from {len(before)} to {len(after)}"
        for index, (item_before, item_after) in enumerate(zip(before, after)):
            changed = _changed_elements(item_before, item_after)
            if changed:
                return f"item {index}: {changed}"
        return ""
    if isinstance(before, dict) and isinstance(after, dict):
        if before.keys() != after.keys():
            return "its keys changed"
        for key in before:
            changed = _changed_elements(before[key], after[key])
            if changed:
                return f"entry {key!r}: {changed}"
        return ""
    if _is_torch_tensor(before):
        return "" if bool((before == after).all()) else "tensor values changed"
    return ""


def _global_names_read(code) -> set:
    """Names a code object (and the functions, lambdas, comprehensions nested in it) loads as globals."""
    names = {ins.argval for ins in dis.get_instructions(code) if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _global_names_read(constant)
    return names


def _is_notebook_data(value) -> bool:
    """Arrays, tensors, random generators (and containers of them): data a function must take as input."""
    if isinstance(value, (_ndarray, _Generator)) or _is_torch_tensor(value):
        return True
    if isinstance(value, (list, tuple)):
        return any(_is_notebook_data(item) for item in value)
    if isinstance(value, dict):
        return any(_is_notebook_data(item) for item in value.values())
    return False


def _is_torch_tensor(value) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "shape") and hasattr(value, "dtype")
