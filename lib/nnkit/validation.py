"""Argument checks shared by the toolkit and the reference implementation.

Every check raises ``TypeError`` (wrong kind of object or dtype) or ``ValueError`` (wrong shape or
values) with a message that names the argument and its shape, so a student sees *which* input was
wrong. No check modifies its input; ``as_float_array`` returns a new array only when it must convert.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "as_float_array",
    "check_ndim",
    "check_same_rows",
    "check_labels",
    "check_probability",
    "check_positive",
]


def _describe(x) -> str:
    shape = getattr(x, "shape", None)
    dtype = getattr(x, "dtype", None)
    if shape is None:
        return type(x).__name__
    return f"shape {tuple(shape)} and dtype {dtype}"


def as_float_array(x, name: str, *, ndim=None, finite: bool = True) -> np.ndarray:
    """Return ``x`` as a floating-point ndarray, validating it.

    Integer and boolean inputs become float64; float16/32/64 keep their dtype (no copy).
    ``ndim`` may be an int or a tuple of allowed ints. Raises ``TypeError`` for non-numeric input and
    ``ValueError`` for a wrong number of dimensions or (when ``finite``) NaN/inf entries.
    """
    if type(x) is np.ndarray and x.dtype.kind == "f":
        arr = x  # the common case, checked without the dtype-hierarchy lookups below
    else:
        arr = _converted_to_float(x, name)
    if ndim is not None:
        check_ndim(arr, name, ndim)
    if finite and not np.isfinite(arr).all():
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s) ({_describe(arr)})")
    return arr


def _converted_to_float(x, name: str) -> np.ndarray:
    """``x`` as an ndarray of a floating dtype (integers and booleans become float64)."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a numeric array, got {type(x).__name__}")
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got {_describe(arr)}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real-valued, got {_describe(arr)}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr


def check_ndim(arr: np.ndarray, name: str, ndim) -> None:
    """Raise ``ValueError`` unless ``arr.ndim`` is ``ndim`` (an int or a tuple of ints)."""
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if arr.ndim not in allowed:
        want = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(f"{name} must be {want}, got {_describe(arr)}")


def check_same_rows(a: np.ndarray, a_name: str, b: np.ndarray, b_name: str) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same number of rows (samples)."""
    if np.shape(a)[0] != np.shape(b)[0]:
        raise ValueError(
            f"{a_name} and {b_name} must have the same number of samples (rows): "
            f"{a_name} has shape {tuple(np.shape(a))}, {b_name} has shape {tuple(np.shape(b))}"
        )


def check_labels(y, name: str, n_classes: int | None = None) -> np.ndarray:
    """Return ``y`` as a 1-D int64 array of class indices in ``[0, n_classes)``."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class indices, got {_describe(arr)}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(np.mod(arr, 1) == 0):
            raise TypeError(f"{name} must hold integer class indices, got {_describe(arr)}")
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} has a negative class index {arr.min()} ({_describe(arr)})")
    if n_classes is not None and arr.size and arr.max() >= n_classes:
        raise ValueError(
            f"{name} has class index {arr.max()} but there are only {n_classes} classes "
            f"(valid: 0..{n_classes - 1}; {name} has {_describe(arr)})"
        )
    return arr


def check_probability(p: float, name: str, *, allow_one: bool = False) -> float:
    """Return ``p`` as a float in ``[0, 1)`` (or ``[0, 1]`` with ``allow_one``)."""
    if not isinstance(p, (int, float, np.floating, np.integer)) or isinstance(p, bool):
        raise TypeError(f"{name} must be a number, got {type(p).__name__}")
    p = float(p)
    upper_ok = p <= 1.0 if allow_one else p < 1.0
    if not (0.0 <= p and upper_ok):
        interval = "[0, 1]" if allow_one else "[0, 1)"
        raise ValueError(f"{name} must be in {interval}, got {p}")
    return p


def check_positive(x: float, name: str, *, allow_zero: bool = False) -> float:
    """Return ``x`` as a float, raising ``ValueError`` unless it is > 0 (or >= 0)."""
    if not isinstance(x, (int, float, np.floating, np.integer)) or isinstance(x, bool):
        raise TypeError(f"{name} must be a number, got {type(x).__name__}")
    x = float(x)
    if not np.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {x}")
    return x
