"""Computational-graph gates with a forward/backward API (deck 002's MultiplyLayer / AddLayer).

A gate remembers what its backward pass needs during ``forward`` and turns the upstream gradient
∂L/∂z into the gradients of its inputs in ``backward`` (output gradient = upstream · local gradient).
Inputs are scalars or arrays of the same shape. Lecture 000's chain-rule example f = (x + y) z::

    add, mul = AddGate(), MultiplyGate()
    q = add.forward(-2.0, 5.0)          # 3
    f = mul.forward(q, -4.0)            # -12
    dq, dz = mul.backward(1.0)          # (-4, 3)
    dx, dy = add.backward(dq)           # (-4, -4)
"""

from __future__ import annotations

import numpy as np

from nnkit.validation import as_float_array

from .activations import sigmoid

__all__ = ["MultiplyGate", "AddGate", "SigmoidGate", "numerical_gradient", "relative_error"]


def numerical_gradient(f, x, h=1e-5):
    """Centred-difference gradient of a scalar function (assignment 04's gradient check).

    Inputs:
    - f: callable taking an array shaped like ``x`` and returning a number (the loss).
    - x: array of any shape (integers and booleans count as float64); never modified.
    - h: step, a positive number.

    Returns:
    - float64 array shaped like ``x``: entry i is (f(x + h eᵢ) − f(x − h eᵢ)) / (2h), eᵢ the i-th unit
      array; its error is O(h²) for a smooth f (a forward difference's is O(h)).
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    if not np.isscalar(h) or not h > 0:
        raise ValueError(f"h must be a positive number, got {h!r}")
    point = np.array(as_float_array(x, "x"), dtype=np.float64)  # our copy, perturbed one entry at a time
    flat = point.reshape(-1)
    grad = np.empty_like(flat)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + h
        f_plus = float(f(point))
        flat[i] = original - h
        f_minus = float(f(point))
        flat[i] = original
        grad[i] = (f_plus - f_minus) / (2.0 * h)
    return grad.reshape(point.shape)


def relative_error(analytic, numerical, floor=1e-8):
    """Largest elementwise relative error max_i |aᵢ − nᵢ| / max(|aᵢ| + |nᵢ|, floor).

    Inputs:
    - analytic, numerical: arrays (or numbers) of the same shape.
    - floor: positive number; keeps entries where both are ~0 from dividing by 0.

    Returns:
    - a float, 0.0 for empty arrays (``nnkit.gradcheck.relative_error``'s definition).
    """
    a = np.asarray(as_float_array(analytic, "analytic", finite=False), dtype=np.float64)
    n = np.asarray(as_float_array(numerical, "numerical", finite=False), dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"analytic has shape {a.shape} but numerical has shape {n.shape}: they must match")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), floor)))


def _operands(x, y):
    """Validate two gate inputs: numeric, finite, same shape; returns private float copies."""
    x = np.array(as_float_array(x, "x"))
    y = np.array(as_float_array(y, "y"))
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape: x has shape {x.shape}, y has shape {y.shape}")
    return x, y


class _Gate:
    """Shared bookkeeping: the output shape seen by ``forward`` checks ``dout`` in ``backward``."""

    _out_shape = None

    def _upstream(self, dout):
        if self._out_shape is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        dout = as_float_array(dout, "dout")
        if dout.shape != self._out_shape:
            raise ValueError(f"dout must have the shape of the forward output {self._out_shape}, got shape {dout.shape}")
        return dout


class MultiplyGate(_Gate):
    """z = x · y; backward: ∂L/∂x = y · ∂L/∂z, ∂L/∂y = x · ∂L/∂z (deck 002's MultiplyLayer)."""

    def forward(self, x, y):
        self.x, self.y = _operands(x, y)  # kept for the backward pass
        z = self.x * self.y
        self._out_shape = np.shape(z)
        return z

    def backward(self, dout):
        dz = self._upstream(dout)
        return self.y * dz, self.x * dz


class AddGate(_Gate):
    """z = x + y; backward: ∂L/∂x = ∂L/∂y = ∂L/∂z (the add gate distributes the gradient)."""

    def forward(self, x, y):
        x, y = _operands(x, y)
        z = x + y
        self._out_shape = np.shape(z)
        return z

    def backward(self, dout):
        dz = self._upstream(dout)
        return dz.copy(), dz.copy()


class SigmoidGate(_Gate):
    """ŷ = σ(v) = 1/(1 + e^{−v}); backward: ∂L/∂v = (ŷ − ŷ²) · ∂L/∂ŷ (deck 002's local gradient)."""

    def forward(self, v):
        self.out = sigmoid(v)
        self._out_shape = np.shape(self.out)
        return self.out.copy()

    def backward(self, dout):
        dout = self._upstream(dout)
        return (self.out - self.out * self.out) * dout
