"""Checks used by the visible tests of the notebooks.

Each check raises ``AssertionError`` with a message a student can act on: which value is wrong, its
shape, the largest absolute and relative error and where it occurs, and a short slice of your result
next to the expected one. The checks never print (``passed`` prints its one line) and never write to
stderr. In IPython a failed
check shows the message under the notebook's own lines only: the frames of this module are left out
of the traceback (``_render_traceback_``), so the message is not buried under the toolkit's code.

A test cell ends its visible part with ``passed("<function>")``. ``known_good(globals(), name=...)``
gives the function under test known-good versions of the functions it calls, for one ``with`` block.

The numerical core reaches numpy through its private modules, taken when this module is imported, so
a notebook that reassigns ``np.testing.assert_allclose``, ``np.allclose`` or ``math.isclose`` cannot
change the outcome of a check.
"""

from __future__ import annotations

import contextlib
import functools
import numbers
import types
from collections.abc import Mapping

from numpy._core import multiarray as _multiarray
from numpy._core import umath as _umath

__all__ = ["assert_close", "assert_shape", "assert_raises", "describe", "describe_call", "known_good", "passed"]

# Private references: a notebook can rebind ``np.abs`` or ``np.isfinite``, not these.
_ndarray = _multiarray.ndarray
_asarray = _multiarray.asarray
_generic = _multiarray.generic  # the base class of numpy scalars (np.float64, np.bool_, ...)
_absolute = _umath.absolute
_isfinite = _umath.isfinite
_isnan = _umath.isnan
_unravel_index = _multiarray.unravel_index
_where_true = _multiarray.where

_SLICE_LENGTH = 6  # how many neighbouring values a message shows


def describe(value) -> str:
    """A short description of a value for messages: shape and dtype of arrays, the value of scalars."""
    if isinstance(value, _ndarray):
        return f"{tuple(value.shape)} {value.dtype}"
    if _is_bool(value):
        return repr(bool(value))
    if _is_number(value):
        text = repr(value.item() if isinstance(value, _generic) else value)
        return text if len(text) <= 12 else _format_number(value)
    if hasattr(value, "shape") and hasattr(value, "dtype"):  # e.g. a torch tensor
        return f"{type(value).__name__} {tuple(value.shape)} {value.dtype}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of {len(value)}"
    if isinstance(value, str):
        return repr(value) if len(value) <= 20 else "str"
    if value is None:
        return "None"
    return type(value).__name__


def describe_call(function_name: str, args=(), kwargs=None, parameter_names=()) -> str:
    """``name(x: (3, 4) float64, slope: float)``: a call described by the shapes and types of its
    arguments, never their values (hidden inputs stay hidden)."""
    parts = []
    for position, arg in enumerate(args):
        label = parameter_names[position] if position < len(parameter_names) else None
        parts.append(f"{label}: {_describe_input(arg)}" if label else _describe_input(arg))
    parts.extend(f"{key}: {_describe_input(value)}" for key, value in (kwargs or {}).items())
    return f"{function_name}({', '.join(parts)})"


def _describe_input(value) -> str:
    """``describe`` without values: numbers, booleans and strings by their type."""
    if _is_bool(value) or _is_number(value) or isinstance(value, str):
        return type(value).__name__
    if isinstance(value, (list, tuple)) and value and all(_is_number(item) for item in value):
        return f"{type(value).__name__} of {len(value)} numbers"
    return describe(value)


def _reported_at_callers_line(check):
    """Decorate a public check: in IPython, its failure shows the notebook's lines and the message,
    without the frames of this module (which tell a student nothing about their code)."""

    @functools.wraps(check)
    def run(*args, **kwargs):
        __tracebackhide__ = True  # read by IPython and pytest when another error passes through
        try:
            return check(*args, **kwargs)
        except AssertionError as failure:
            # IPython formats an exception with its ``_render_traceback_()`` when it has one.
            failure._render_traceback_ = functools.partial(_traceback_without_toolkit_frames, failure)
            raise

    return run


def _traceback_without_toolkit_frames(failure: BaseException) -> list:
    """The lines IPython shows for ``failure``: its traceback with the frames of this module removed."""
    from IPython import get_ipython  # only called by IPython, which is then importable

    kept = []
    entry = failure.__traceback__
    while entry is not None:
        if entry.tb_frame.f_globals.get("__name__") != __name__:
            kept.append(entry)
        entry = entry.tb_next
    traceback = None
    for entry in reversed(kept):
        traceback = types.TracebackType(traceback, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return get_ipython().InteractiveTB.structured_traceback(type(failure), failure, traceback)


@_reported_at_callers_line
def assert_close(actual, expected, *, name: str = "value", rtol: float = 1e-7, atol: float = 1e-9,
                 check_dtype: bool = False) -> None:
    """Assert ``|actual - expected| <= atol + rtol * |expected|`` elementwise (NaN matches NaN).

    ``expected`` may be a number, an array, a tuple/list of those, or a dict; ``actual`` must have the
    same structure. The checks run in order type -> shape -> dtype (only with ``check_dtype``) ->
    finite -> values, and the first failing one raises ``AssertionError`` naming ``name``.
    """
    compare_values(actual, expected, label=name, rtol=rtol, atol=atol, check_dtype=check_dtype)


@_reported_at_callers_line
def assert_shape(actual, shape, *, name: str = "value") -> None:
    """Assert that ``actual.shape == shape``; ``None`` in ``shape`` matches any size."""
    actual_shape = getattr(actual, "shape", None)
    if actual_shape is None:
        raise AssertionError(f"{name} should be an array of shape {tuple(shape)}, got {describe(actual)}")
    actual_shape, shape = tuple(actual_shape), tuple(shape)
    matches = len(actual_shape) == len(shape) and all(
        want is None or want == got for want, got in zip(shape, actual_shape)
    )
    if not matches:
        wanted = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise AssertionError(f"{name} should have shape {wanted}, got {actual_shape}")


@_reported_at_callers_line
def assert_raises(exc_type, fn, *args, **kwargs) -> BaseException:
    """Assert that ``fn(*args, **kwargs)`` raises ``exc_type`` (or a subclass); return the exception.

    A cell that ends with this call does not show the exception as its result (``Out[...]``), which
    nbgrader would read as a score: as a cell's last value the exception prints one line instead.
    """
    call = describe_call(getattr(fn, "__name__", "function"), args, kwargs)
    expected_name = getattr(exc_type, "__name__", str(exc_type))
    try:
        result = fn(*args, **kwargs)
    except exc_type as error:
        # IPython shows an object with ``_ipython_display_`` by calling it instead of publishing a result.
        with contextlib.suppress(AttributeError, TypeError):  # an exception type that refuses attributes
            error._ipython_display_ = functools.partial(print, f"raised as expected: {error!r}")
        return error
    except Exception as error:
        raise AssertionError(
            f"{call} should raise {expected_name}, but it raised {type(error).__name__}: {error}"
        ) from None
    raise AssertionError(f"{call} should raise {expected_name}, but it returned {describe(result)}")


def passed(name: str) -> None:
    """Print ``✓ <name>: visible checks passed``; the last line of the visible part of a test cell."""
    print(f"\u2713 {name}: visible checks passed")


_MISSING = object()  # marks a name that was not bound in the namespace before ``known_good``


@contextlib.contextmanager
def known_good(namespace, **replacements):
    """Rebind names in ``namespace`` (a notebook's ``globals()``) for the duration of a ``with`` block.

    A visible check uses it to test one function with known-good versions of the functions it calls,
    so that a mistake elsewhere does not fail this check: ``with known_good(globals(), relu=reference_relu):``.
    Every name gets its previous binding back when the block ends, also when it raises; a name that
    was not bound before is removed again.
    """
    if not isinstance(namespace, dict):
        raise TypeError(f"known_good: namespace should be a dict such as globals(), got {type(namespace).__name__}")
    previous = {name: namespace.get(name, _MISSING) for name in replacements}
    namespace.update(replacements)
    try:
        yield namespace
    finally:
        for name, value in previous.items():
            if value is _MISSING:
                namespace.pop(name, None)
            else:
                namespace[name] = value


# --- the comparison engine (shared with the hidden tests) ---------------------------------------


def compare_values(actual, expected, *, label: str, rtol: float, atol: float, check_dtype: bool) -> None:
    """Recursively compare ``actual`` with ``expected``; raise ``AssertionError`` at the first difference."""
    if isinstance(expected, Mapping):
        _compare_mappings(actual, expected, label, rtol, atol, check_dtype)
    elif isinstance(expected, (tuple, list)):
        _compare_sequences(actual, expected, label, rtol, atol, check_dtype)
    elif isinstance(expected, _ndarray) or _is_number(expected) or _is_bool(expected):
        _compare_arrays(actual, expected, label, rtol, atol, check_dtype)
    elif expected is None:
        if actual is not None:
            raise AssertionError(f"{label} should be None, got {describe(actual)}")
    else:
        if type(actual) is not type(expected):
            raise AssertionError(f"{label} should be a {type(expected).__name__}, got {describe(actual)}")
        if actual != expected:
            raise AssertionError(f"{label} is wrong: got {actual!r:.60}, expected {expected!r:.60}")


def _compare_mappings(actual, expected, label, rtol, atol, check_dtype):
    if not isinstance(actual, Mapping):
        raise AssertionError(f"{label} should be a dict with keys {sorted(map(str, expected))}, got {describe(actual)}")
    missing = [key for key in expected if key not in actual]
    extra = [key for key in actual if key not in expected]
    if missing or extra:
        raise AssertionError(f"{label} has the wrong keys: missing {missing}, unexpected {extra}")
    for key in expected:
        compare_values(actual[key], expected[key], label=f"{label}[{key!r}]", rtol=rtol, atol=atol,
                       check_dtype=check_dtype)


def _compare_sequences(actual, expected, label, rtol, atol, check_dtype):
    if not isinstance(actual, (tuple, list)):
        raise AssertionError(
            f"{label} should be a {type(expected).__name__} of {len(expected)} items, got {describe(actual)}"
        )
    if len(actual) != len(expected):
        raise AssertionError(f"{label} should have {len(expected)} items, got {len(actual)}")
    for index, (got, want) in enumerate(zip(actual, expected)):
        compare_values(got, want, label=f"{label}[{index}]", rtol=rtol, atol=atol, check_dtype=check_dtype)


def _compare_arrays(actual, expected, label, rtol, atol, check_dtype):
    expected_is_array = isinstance(expected, _ndarray) and expected.ndim > 0
    if expected_is_array:
        if not isinstance(actual, _ndarray):
            raise AssertionError(
                f"{label} should be a numpy array of shape {tuple(expected.shape)}, got {describe(actual)}"
            )
    elif not (_is_number(actual) or _is_bool(actual) or (isinstance(actual, _ndarray) and actual.ndim == 0)):
        raise AssertionError(f"{label} should be a single number, got {describe(actual)}")
    got, want = _asarray(actual), _asarray(expected)
    if got.shape != want.shape:
        raise AssertionError(f"{label} should have shape {want.shape}, got {got.shape}")
    if not _is_numeric_dtype(got):
        raise AssertionError(f"{label} should hold numbers ({want.dtype}), got dtype {got.dtype}")
    if check_dtype and not _same_dtype(got, want, expected_is_array):
        raise AssertionError(f"{label} should have dtype {want.dtype}, got {got.dtype}")
    got, want = got.astype(float), want.astype(float)
    finite_got, finite_want = _isfinite(got), _isfinite(want)
    both_nan = _isnan(got) & _isnan(want)
    same_inf = ~finite_got & ~finite_want & (got == want)
    bad_special = (~finite_got | ~finite_want) & ~both_nan & ~same_inf
    if bad_special.any():
        index = _where(bad_special.argmax(), got.shape)
        raise AssertionError(
            f"{label} has {int(bad_special.sum())} non-finite value(s) that differ from the expected "
            f"result, first at index {index}: yours {_format_number(got[index])}, "
            f"expected {_format_number(want[index])}" + _slices(got, want, bad_special.argmax())
        )
    compared = finite_got & finite_want  # matching NaN/inf positions were accepted above
    want_finite = _where_true(compared, want, 0.0)
    abs_error = _absolute(_where_true(compared, got, 0.0) - want_finite)
    magnitude = _absolute(want_finite)
    wrong = abs_error > atol + rtol * magnitude
    if not wrong.any():
        return
    rel_error = abs_error / (magnitude + (magnitude == 0)) * (magnitude != 0)  # 0 where expected is 0
    worst_abs, worst_rel = abs_error.argmax(), rel_error.argmax()
    if got.ndim == 0:
        raise AssertionError(
            f"{label} is wrong: yours {_format_number(got[()])}, expected {_format_number(want[()])} "
            f"(abs error {_format_number(abs_error[()])}; rtol={rtol:g}, atol={atol:g})"
        )
    raise AssertionError(
        f"{label} is wrong: {int(wrong.sum())} of {wrong.size} values differ (rtol={rtol:g}, atol={atol:g})\n"
        f"  max abs error {_format_number(abs_error.flat[worst_abs])} at index {_where(worst_abs, got.shape)}\n"
        f"  max rel error {_format_number(rel_error.flat[worst_rel])} at index {_where(worst_rel, got.shape)}"
        + _slices(got, want, worst_abs)
    )


def _slices(got, want, flat_index) -> str:
    """Up to ``_SLICE_LENGTH`` values around ``flat_index`` of the flattened arrays, side by side."""
    if got.ndim == 0:
        return ""
    start = max(0, min(int(flat_index) - _SLICE_LENGTH // 2, got.size - _SLICE_LENGTH))
    stop = min(got.size, start + _SLICE_LENGTH)
    where = f"flattened elements {start}..{stop - 1} of {got.size}"
    yours = ", ".join(_format_number(v) for v in got.ravel()[start:stop])
    expected = ", ".join(_format_number(v) for v in want.ravel()[start:stop])
    return f"\n  yours:    [{yours}]\n  expected: [{expected}]   ({where})"


def _where(flat_index, shape):
    if not shape:
        return ()
    return tuple(int(i) for i in _unravel_index(int(flat_index), shape))


def _is_bool(value) -> bool:
    return isinstance(value, bool) or (isinstance(value, _generic) and _asarray(value).dtype.kind == "b")


def _is_number(value) -> bool:
    if _is_bool(value):
        return False
    if isinstance(value, numbers.Real):
        return True
    return isinstance(value, _generic) and _asarray(value).dtype.kind in "iuf"


def _is_numeric_dtype(array) -> bool:
    return array.dtype.kind in "biuf"


def _same_dtype(got, want, expected_is_array: bool) -> bool:
    if expected_is_array:
        return got.dtype == want.dtype
    return got.dtype.kind == want.dtype.kind  # Python float vs np.float64 is not a difference


def _format_number(value) -> str:
    try:
        return f"{float(value):.6g}"
    except (TypeError, ValueError):
        return repr(value)
