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

__all__ = ["MultiplyGate", "AddGate", "SigmoidGate"]


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
