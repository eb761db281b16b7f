"""Numerical gradient check: compare your backward pass with centred finite differences.

    ∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / (2h)

The error of this estimate shrinks like h², so in float64 an analytic gradient that is right agrees
to a relative error of about 1e-8 or better, and one that is wrong is usually off by 1e-2 or more.
Typical use::

    def loss(w, b):
        return my_loss(X, w, b)                      # a float

    report = gradient_check(loss, [w, b], [dw, db], names=["w", "b"])
    print(report)                                    # one line per array
    assert report.passed

Nothing here modifies the arrays you pass, and nothing is printed: ``print(report)`` is up to you.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .validation import as_float_array, check_positive

__all__ = ["numerical_gradient", "relative_error", "gradient_check", "GradCheckReport"]


def _scalar(value, name="f"):
    if np.ndim(value) != 0:
        raise TypeError(f"{name} must return a scalar (the loss), got a value of shape {np.shape(value)}")
    return float(value)


def numerical_gradient(f, x, h=1e-5):
    """Centred-difference gradient of the scalar function ``f`` at ``x``.

    f: callable taking an array shaped like ``x`` and returning a number. x: array of any shape.
    h: step (> 0). Returns a float64 array shaped like ``x``. ``f`` is evaluated on a float64 copy
    of ``x`` whose entries are perturbed one at a time and restored; ``x`` itself is never touched.
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    h = check_positive(h, "h")
    point = np.array(as_float_array(x, "x"), dtype=np.float64)  # private copy
    flat = point.reshape(-1)  # a view: writing flat[i] perturbs point
    grad = np.empty_like(flat)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + h
        f_plus = _scalar(f(point))
        flat[i] = original - h
        f_minus = _scalar(f(point))
        flat[i] = original
        grad[i] = (f_plus - f_minus) / (2.0 * h)
    return grad.reshape(point.shape)


def relative_error(a, b, floor=1e-8):
    """Largest elementwise relative error max_i |a_i − b_i| / max(|a_i| + |b_i|, floor).

    a, b: arrays of the same shape. ``floor`` stops entries where both are ~0 from dividing by 0.
    Returns 0.0 for empty arrays.
    """
    a = as_float_array(a, "a", finite=False)
    b = as_float_array(b, "b", finite=False)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape: a has shape {a.shape}, b has shape {b.shape}")
    if a.size == 0:
        return 0.0
    a, b = a.astype(np.float64), b.astype(np.float64)
    denominator = np.maximum(np.abs(a) + np.abs(b), check_positive(floor, "floor"))
    return float(np.max(np.abs(a - b) / denominator))


@dataclass(frozen=True)
class GradCheckReport:
    """Result of ``gradient_check``: the largest relative error of each checked array."""

    names: tuple
    shapes: tuple
    errors: tuple
    tol: float

    @property
    def passed(self) -> bool:
        """True when every array's largest relative error is at most ``tol``."""
        return all(error <= self.tol for error in self.errors)

    @property
    def max_error(self) -> float:
        return max(self.errors, default=0.0)

    def __str__(self):
        width = max((len(name) for name in self.names), default=0)
        lines = [f"gradient check: {'PASSED' if self.passed else 'FAILED'} (tolerance {self.tol:.0e})"]
        for name, shape, error in zip(self.names, self.shapes, self.errors):
            verdict = "ok" if error <= self.tol else "TOO LARGE"
            lines.append(f"  {name:<{width}}  shape {str(shape):<12}  max relative error {error:.2e}  {verdict}")
        return "\n".join(lines)


def gradient_check(f, inputs, analytic_grads, *, h=1e-5, tol=1e-6, names=None, floor=1e-8):
    """Compare analytic gradients with ``numerical_gradient``, one input array at a time.

    f: callable ``f(*inputs) -> float``. inputs: one array or a list/tuple of arrays.
    analytic_grads: the gradient(s) you computed, aligned with ``inputs`` (same shapes).
    names: labels for the report (default "x" or "inputs[i]"). Returns a ``GradCheckReport``
    (``report.passed``, ``report.errors``, ``print(report)``). ``f`` only ever sees float64 copies.
    """
    single = not isinstance(inputs, (list, tuple))
    inputs = [inputs] if single else list(inputs)
    grads = [analytic_grads] if single else analytic_grads
    if not isinstance(grads, (list, tuple)) or len(grads) != len(inputs):
        got = len(grads) if isinstance(grads, (list, tuple)) else type(grads).__name__
        raise ValueError(f"analytic_grads must hold one gradient per input ({len(inputs)}), got {got}")
    if names is None:
        names = ["x"] if single else [f"inputs[{i}]" for i in range(len(inputs))]
    if len(names) != len(inputs):
        raise ValueError(f"names must hold one name per input ({len(inputs)}), got {len(names)}")
    points = [np.array(as_float_array(x, name), dtype=np.float64) for x, name in zip(inputs, names)]
    errors = []
    for i, (point, grad, name) in enumerate(zip(points, grads, names)):
        grad = as_float_array(grad, f"analytic gradient of {name}")
        if grad.shape != point.shape:
            raise ValueError(f"analytic gradient of {name} has shape {grad.shape}, but {name} has shape {point.shape}")

        def f_of_one(x_i, i=i):
            return f(*points[:i], x_i, *points[i + 1:])

        errors.append(relative_error(grad, numerical_gradient(f_of_one, point, h), floor))
    return GradCheckReport(tuple(names), tuple(p.shape for p in points), tuple(errors), check_positive(tol, "tol"))
