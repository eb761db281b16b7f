"""Activation functions and their derivatives (lectures 000, 003 and 004).

Every function takes an array ``x`` of any shape and returns a new array of the same shape and dtype
(integer/bool inputs become float64). ``f_grad(x)`` is the elementwise derivative ``f'(x)``.

Derivatives at kinks follow PyTorch's autograd (``docs/conventions.md`` lists them):

- ``relu_grad(0) = 0``; ``leaky_relu_grad(0) = negative_slope``;
- ``hard_tanh_grad(±1) = 0`` (the derivative is 1 only strictly inside ``(-1, 1)``; lecture 003 writes
  the closed interval ``[-1, 1]``, which differs only at the two kinks);
- ``sign_grad`` and ``hard_limit_grad`` are 0 everywhere, including at 0.

``softmax`` and ``log_softmax`` work along one axis (the last by default); ``softmax_jacobian`` gives
the full ``(K, K)`` Jacobian for a single vector.
"""

from __future__ import annotations

import numpy as np

from nnkit.validation import as_float_array, check_positive

__all__ = [
    "identity", "identity_grad",
    "hard_limit", "hard_limit_grad",
    "sign", "sign_grad",
    "sigmoid", "sigmoid_grad",
    "tanh", "tanh_grad",
    "relu", "relu_grad",
    "leaky_relu", "leaky_relu_grad",
    "hard_tanh", "hard_tanh_grad",
    "softmax", "log_softmax", "softmax_jacobian",
]


def identity(x):
    """σ(x) = x (lecture 003). Returns a copy, so the result never aliases ``x``."""
    return as_float_array(x, "x").copy()


def identity_grad(x):
    """σ'(x) = 1 (lecture 003)."""
    return np.ones_like(as_float_array(x, "x"))


def hard_limit(x, threshold=0.0):
    """Lecture 000's hard-limiting function: f(x) = +1 if x ≥ θ, else −1.

    ``threshold`` is θ (0 in the lecture's activation slide). Output in {−1, +1}, dtype of ``x``.
    """
    x = as_float_array(x, "x")
    threshold = float(threshold)
    return np.where(x >= threshold, 1.0, -1.0).astype(x.dtype, copy=False)


def hard_limit_grad(x, threshold=0.0):
    """Derivative of the hard limit: 0 everywhere (torch's convention for ``sign`` at the jump too)."""
    return np.zeros_like(as_float_array(x, "x"))


def sign(x):
    """Lecture 003's sign activation with values ±1 and **sign(0) = +1** (the hard limit at θ = 0).

    This differs from ``np.sign``/``torch.sign``, which return 0 at 0: a unit's output must be a
    class decision, so 0 is assigned to the +1 side exactly as lecture 000's hard limit does.
    """
    return hard_limit(x, 0.0)


def sign_grad(x):
    """σ'(x) = 0 everywhere (lecture 003: "0 everywhere except x = 0"; at 0 we use torch's 0)."""
    return hard_limit_grad(x)


def _sigmoid_of(z):
    """Stable 1/(1+e^{−z}) for a float array: exp is only taken of −|z|, so it never overflows."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def sigmoid(x, slope=1.0):
    """Lecture 000's sigmoid with slope λ: f(x) = 1 / (1 + e^{−λx}).

    Stable for |x| ~ 1e3 (no overflow warning); values lie in [0, 1].
    """
    x = as_float_array(x, "x")
    slope = check_positive(slope, "slope")
    return _sigmoid_of(slope * x)


def sigmoid_grad(x, slope=1.0):
    """f'(x) = λ f(x) (1 − f(x)) (lecture 000 for λ = 1: o(1 − o))."""
    s = sigmoid(x, slope)
    return slope * s * (1.0 - s)


def tanh(x):
    """tanh(x) = (e^{2x} − 1)/(e^{2x} + 1) (lecture 003)."""
    return np.tanh(as_float_array(x, "x"))


def tanh_grad(x):
    """tanh'(x) = 1 − tanh²(x) (lecture 003)."""
    t = tanh(x)
    return 1.0 - t * t


def relu(x):
    """ReLU(x) = max(x, 0) (lectures 000, 003, 004)."""
    x = as_float_array(x, "x")
    return np.maximum(x, 0.0)


def relu_grad(x):
    """ReLU'(x) = 1 for x > 0, else 0 (ReLU'(0) = 0 as in torch)."""
    x = as_float_array(x, "x")
    return (x > 0).astype(x.dtype)


def leaky_relu(x, negative_slope=0.01):
    """Leaky ReLU f(x) = x for x > 0, a·x otherwise (lecture 004: max(ax, x) for 0 < a < 1).

    ``negative_slope`` is a (torch's default 0.01; the lecture's example uses 0.3).
    """
    x = as_float_array(x, "x")
    negative_slope = check_positive(negative_slope, "negative_slope", allow_zero=True)
    return np.where(x > 0, x, negative_slope * x).astype(x.dtype, copy=False)


def leaky_relu_grad(x, negative_slope=0.01):
    """f'(x) = 1 for x > 0, a otherwise (at 0 the slope a, as in torch)."""
    x = as_float_array(x, "x")
    negative_slope = check_positive(negative_slope, "negative_slope", allow_zero=True)
    return np.where(x > 0, 1.0, negative_slope).astype(x.dtype, copy=False)


def hard_tanh(x):
    """Hard tanh σ(x) = max(min(x, 1), −1) (lecture 003)."""
    x = as_float_array(x, "x")
    return np.clip(x, -1.0, 1.0).astype(x.dtype, copy=False)


def hard_tanh_grad(x):
    """σ'(x) = 1 for −1 < x < 1, else 0 (torch: 0 at the kinks ±1; lecture 003 writes [−1, 1])."""
    x = as_float_array(x, "x")
    return ((x > -1.0) & (x < 1.0)).astype(x.dtype)


def _check_axis(x, axis):
    """Raise ``ValueError`` unless ``axis`` indexes a dimension of ``x`` (so 0-d ``x`` is rejected)."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool) or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis must be an int in [{-x.ndim}, {x.ndim}) for x of shape {x.shape}, got {axis!r}")


def log_softmax(x, axis=-1):
    """log softmax(x)_i = x_i − log Σ_j e^{x_j}, computed as (x − max) − log Σ e^{x − max}.

    Shifting by the maximum keeps every exponent ≤ 0, so logits of ±1e3 are exact and warning-free.
    """
    x = as_float_array(x, "x")
    _check_axis(x, axis)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(x, axis=-1):
    """softmax(x)_i = e^{x_i} / Σ_j e^{x_j} along ``axis`` (lecture 004 eq. 2, lecture 000).

    Stable (the maximum is subtracted first); every slice along ``axis`` sums to 1.
    """
    x = as_float_array(x, "x")
    _check_axis(x, axis)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_jacobian(x):
    """Jacobian of softmax at one logit vector ``x`` of shape (K,): J = diag(s) − s sᵀ, s = softmax(x).

    J[i, j] = ∂s_i/∂x_j = s_i (δ_ij − s_j). Returns a (K, K) array.
    """
    x = as_float_array(x, "x", ndim=1)
    s = softmax(x)
    return np.diag(s) - np.outer(s, s)
