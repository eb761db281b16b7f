"""Layers with a forward/backward API (lecture 002's "Forward/Backward API", CS231n style).

``<name>_forward(x, ...) -> (out, cache)`` and ``<name>_backward(dout, cache) -> dx`` (or
``(dx, dw, db)`` for the affine layer). ``dout`` = ∂L/∂out has the shape of ``out``; every returned
gradient has the shape of what it differentiates. Caches follow the lectures: ``affine`` keeps
``(x, w, b)`` (deck 002 calls ``affine_backward(dv, x, w, b)``), ``sigmoid``/``tanh`` keep their
output (deck 002 calls ``sigmoid_backward(err, a1)``), the piecewise-linear layers keep their input.

No function writes into its arguments. By default every argument is validated and caches hold
private copies, so changing an input after the forward pass does not change the backward pass.
``check=False`` is the fast path for a caller that owns its arrays (``nnref.mlp.MLP`` validates its
batch once and steps the optimizer only after backpropagation): no validation and no copies, so
caches and outputs may reference the arguments, which must stay unchanged until the backward pass.
"""

from __future__ import annotations

import numpy as np

from nnkit.validation import as_float_array, check_probability

from . import activations as act
from .losses import cross_entropy_loss

__all__ = [
    "affine_forward", "affine_backward",
    "identity_forward", "identity_backward",
    "sigmoid_forward", "sigmoid_backward",
    "tanh_forward", "tanh_backward",
    "relu_forward", "relu_backward",
    "leaky_relu_forward", "leaky_relu_backward",
    "hard_tanh_forward", "hard_tanh_backward",
    "dropout_forward", "dropout_backward",
    "softmax_loss",
    "ACTIVATION_LAYERS",
]


def _owned(arr, source):
    """``arr`` itself when validation already made a fresh array, else a private copy of it."""
    return arr.copy() if np.may_share_memory(arr, np.asarray(source)) else arr


def _owned_float(x, name, **kwargs):
    return _owned(as_float_array(x, name, **kwargs), x)


def _check_dout(dout, shape):
    """Validate the upstream gradient against the shape of the forward output."""
    dout = as_float_array(dout, "dout")
    if dout.shape != tuple(shape):
        raise ValueError(f"dout must have the shape of the forward output {tuple(shape)}, got shape {dout.shape}")
    return dout


def affine_forward(x, w, b, *, check=True):
    """Affine (fully connected) layer: out = x̃ W + b (row-vector convention, lecture 002: ŷ = XW + b).

    x: (N, d_1, ..., d_k), flattened to x̃ of shape (N, D) with D = d_1···d_k; w: (D, M); b: (M,).
    Returns out (N, M) and cache = (x, w, b) (private copies; the arguments themselves with
    ``check=False``, which assumes x, w, b of one float dtype and matching shapes).
    """
    if check:
        x, w, b = _checked_affine_arguments(x, w, b)
    out = x.reshape(x.shape[0], w.shape[0]) @ w
    out += b  # in place: out is a fresh array
    return out, (x, w, b)


def _checked_affine_arguments(x, w, b):
    """Validated private copies of the affine layer's arguments (messages name x, w, b and the shapes)."""
    x = _owned_float(x, "x")
    if x.ndim < 2:
        raise ValueError(f"x must be a batch of shape (N, d_1, ..., d_k) with k >= 1, got shape {x.shape}")
    w = _owned_float(w, "w", ndim=2)
    b = _owned_float(b, "b", ndim=1)
    flat_dim = int(np.prod(x.shape[1:]))
    if w.shape[0] != flat_dim:
        raise ValueError(
            f"w must have one row per input feature: x has shape {x.shape} ({flat_dim} features per "
            f"sample) but w has shape {w.shape}"
        )
    if b.shape != (w.shape[1],):
        raise ValueError(f"b must have shape ({w.shape[1]},) to match w of shape {w.shape}, got shape {b.shape}")
    return x, w, b


def affine_backward(dout, cache, *, input_grad=True, check=True):
    """Backward pass of ``affine_forward``: dx = dout Wᵀ, dW = x̃ᵀ dout, db = Σ_n dout_n.

    dout: (N, M). Returns dx shaped like x (N, d_1, ..., d_k), dw (D, M), db (M,).
    ``input_grad=False`` returns dx = None and skips its matrix product (for a network's first
    layer, whose input is data: like torch, which only differentiates what requires a gradient).
    The transposes are views: BLAS reads them in place, nothing is copied.
    """
    x, w, b = cache
    if check:
        dout = _check_dout(dout, (x.shape[0], w.shape[1]))
    dx = (dout @ w.T).reshape(x.shape) if input_grad else None
    dw = x.reshape(x.shape[0], w.shape[0]).T @ dout
    return dx, dw, dout.sum(axis=0)


def _layer_input(x, check):
    """A validated private copy of ``x``, or ``x`` itself on the ``check=False`` fast path."""
    return _owned_float(x, "x") if check else x


def _upstream(dout, shape, check):
    """The validated upstream gradient, or ``dout`` itself on the ``check=False`` fast path."""
    return _check_dout(dout, shape) if check else dout


def identity_forward(x, *, check=True):
    """Identity layer out = x (a copy; x itself with ``check=False``). The cache is the input shape."""
    x = _layer_input(x, check)
    return x, x.shape


def identity_backward(dout, cache, *, check=True):
    """dx = dout (a copy; dout itself with ``check=False``)."""
    return _owned(_check_dout(dout, cache), dout) if check else dout


def sigmoid_forward(x, *, check=True):
    """Sigmoid layer out = σ(x) = 1/(1 + e^{−x}) elementwise (deck 002). The cache is out."""
    out = act.sigmoid(x)
    return out, out.copy() if check else out


def sigmoid_backward(dout, cache, *, check=True):
    """dx = dout · σ(x)(1 − σ(x)) with σ(x) = cache (deck 002: ∂ŷ/∂v = ŷ − ŷ²)."""
    out = cache
    return _upstream(dout, out.shape, check) * out * (1.0 - out)


def tanh_forward(x, *, check=True):
    """tanh layer out = tanh(x) elementwise. The cache is out."""
    out = act.tanh(x)
    return out, out.copy() if check else out


def tanh_backward(dout, cache, *, check=True):
    """dx = dout · (1 − tanh²(x)) with tanh(x) = cache (lecture 003)."""
    out = cache
    return _upstream(dout, out.shape, check) * (1.0 - out * out)


def relu_forward(x, *, check=True):
    """ReLU layer out = max(x, 0) elementwise. The cache is x."""
    x = _layer_input(x, check)
    return np.maximum(x, 0.0), x


def relu_backward(dout, cache, *, check=True):
    """dx = dout · 1(x > 0) (ReLU'(0) = 0, as torch)."""
    x = cache
    return _upstream(dout, x.shape, check) * (x > 0)


def leaky_relu_forward(x, negative_slope=0.01, *, check=True):
    """Leaky ReLU layer out = x if x > 0 else a·x (lecture 004). The cache is (x, a)."""
    x = _layer_input(x, check)
    return act.leaky_relu(x, negative_slope), (x, negative_slope)


def leaky_relu_backward(dout, cache, *, check=True):
    """dx = dout · (1 if x > 0 else a)."""
    x, negative_slope = cache
    return _upstream(dout, x.shape, check) * act.leaky_relu_grad(x, negative_slope)


def hard_tanh_forward(x, *, check=True):
    """Hard tanh layer out = max(min(x, 1), −1) (lecture 003). The cache is x."""
    x = _layer_input(x, check)
    return act.hard_tanh(x), x


def hard_tanh_backward(dout, cache, *, check=True):
    """dx = dout · 1(−1 < x < 1) (0 at the kinks, as torch)."""
    x = cache
    return _upstream(dout, x.shape, check) * act.hard_tanh_grad(x)


def dropout_forward(x, p, *, train=True, rng=None, check=True):
    """Inverted dropout with drop probability p (torch's convention, lecture 004).

    Training: out = x ⊙ m / (1 − p) with m_i ~ Bernoulli(1 − p) drawn from ``rng``, so E[out] = x.
    Evaluation (``train=False``) or p = 0: out = x (a copy; x itself with ``check=False``), nothing
    is drawn. x: any shape; p in [0, 1); rng: ``np.random.Generator`` (required when training with
    p > 0). The cache is the scaled mask m / (1 − p), or None when nothing was dropped.
    """
    if check:
        x = as_float_array(x, "x")
        p = check_probability(p, "p")
    if not train or p == 0.0:
        return (_owned(x, x) if check else x), None
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator when train=True and p > 0, got {type(rng).__name__}")
    keep = rng.random(x.shape, dtype=np.float32 if x.dtype == np.float32 else np.float64) >= p
    scaled_mask = keep.astype(x.dtype) / x.dtype.type(1.0 - p)
    return x * scaled_mask, scaled_mask


def dropout_backward(dout, cache, *, check=True):
    """dx = dout ⊙ m / (1 − p) in training, dout (a copy; dout itself with ``check=False``) when the
    forward pass dropped nothing."""
    if cache is None:
        return _owned(as_float_array(dout, "dout"), dout) if check else dout
    return _upstream(dout, cache.shape, check) * cache


def softmax_loss(x, y):
    """Softmax classifier loss (CS231n name): mean cross-entropy of softmax(x) and its gradient.

    x: (N, K) scores; y: (N,) labels in [0, K). Returns (loss, dx) with dx = (softmax(x) − onehot(y))/N.
    """
    return cross_entropy_loss(x, y)


# name -> (forward, backward), used by nnref.mlp.MLP
ACTIVATION_LAYERS = {
    "identity": (identity_forward, identity_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "relu": (relu_forward, relu_backward),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward),
    "hard_tanh": (hard_tanh_forward, hard_tanh_backward),
}
