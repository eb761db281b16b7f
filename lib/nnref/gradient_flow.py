"""How gradients flow through depth: vanishing and exploding gradients, gradient clipping and dead
ReLUs (deck 003's practical issue "vanishing and exploding gradient", deck 004's "sigmoids and tanhs
may saturate and kill gradients" and the dying ReLU that leaky ReLU fixes): the reference for
assignment ``07_initialization_normalization_convolution``.

* ``layer_gradient_norms(X, y, weights, biases, activation)``: ‖∂L/∂W_l‖ for every layer of an MLP
  with a softmax cross-entropy head, computed with ``nnref.layers``;
* ``clip_grad_norm(grads, max_norm)``: ``torch.nn.utils.clip_grad_norm_`` without the in-place update;
* ``dead_unit_fraction(X, weights, biases, negative_slope=0.0)``: the share of hidden (leaky) ReLU
  units whose pre-activation is ≤ 0 for every sample.

Row-vector convention (``W_l`` of shape (fan_in, fan_out)); nothing here modifies its arguments.
"""

from __future__ import annotations

import numpy as np

from nnkit.validation import as_float_array, check_labels, check_positive, check_same_rows

from . import layers
from .initialization import _check_network

__all__ = ["GRADIENT_ACTIVATIONS", "layer_gradient_norms", "clip_grad_norm", "CLIP_EPS", "dead_unit_fraction"]

GRADIENT_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "identity")
CLIP_EPS = 1e-6  # torch.nn.utils.clip_grad_norm_ divides by total_norm + 1e-6


def layer_gradient_norms(X, y, weights, biases, activation):
    """Frobenius norms ‖∂L/∂W_l‖ of the weight gradients of every layer, first layer first.

    The network: a_0 = X (N, D); hidden layers a_l = f(a_{l-1} W_l + b_l) for l = 1, ..., L − 1;
    a linear output layer s = a_{L-1} W_L + b_L (the logits, N × C); the loss is the mean softmax
    cross-entropy L = −(1/N) Σ_n log softmax(s_n)_{y_n} (``torch.nn.functional.cross_entropy``).
    ``activation`` is ``"sigmoid"``, ``"tanh"``, ``"relu"`` (also ``"leaky_relu"``, slope 0.01, and
    ``"identity"``); y: (N,) integer labels in [0, C). Returns an array of shape (L,).
    """
    X, weights, biases = _check_network(X, weights, biases)
    y = check_labels(y, "y", n_classes=weights[-1].shape[1])
    check_same_rows(X, "X", y, "y")
    if activation not in GRADIENT_ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(map(repr, GRADIENT_ACTIVATIONS))}, got {activation!r}")
    forward, backward = layers.ACTIVATION_LAYERS[activation]
    caches, a = [], X
    for W, b in zip(weights[:-1], biases[:-1]):
        z, affine_cache = layers.affine_forward(a, W, b)
        a, activation_cache = forward(z)
        caches.append((affine_cache, activation_cache))
    scores, output_cache = layers.affine_forward(a, weights[-1], biases[-1])
    _, dscores = layers.softmax_loss(scores, y)
    da, dW, _ = layers.affine_backward(dscores, output_cache)
    norms = [np.linalg.norm(dW)]
    for affine_cache, activation_cache in reversed(caches):
        da, dW, _ = layers.affine_backward(backward(da, activation_cache), affine_cache)
        norms.append(np.linalg.norm(dW))
    return np.array(norms[::-1])


def clip_grad_norm(grads, max_norm):
    """Rescale a list of gradients so that their total norm is at most ``max_norm``.

    total_norm = √(Σ_i ‖g_i‖²) over all the arrays together (one long vector, the 2-norm);
    coef = min(1, max_norm / (total_norm + 1e-6)); every array is multiplied by coef.
    Returns ``(clipped, total_norm)``: a list of new arrays and the norm **before** clipping (a float).
    This is ``torch.nn.utils.clip_grad_norm_(parameters, max_norm)`` (norm_type 2), which rescales the
    ``.grad`` tensors in place and returns the same total norm; here the inputs are left unchanged.
    """
    if isinstance(grads, np.ndarray) or not isinstance(grads, (list, tuple)):
        raise TypeError(f"grads must be a list of arrays, got {type(grads).__name__}")
    grads = [as_float_array(g, f"grads[{i}]") for i, g in enumerate(grads)]
    max_norm = check_positive(max_norm, "max_norm")
    total_norm = float(np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads)))
    coef = min(1.0, max_norm / (total_norm + CLIP_EPS))
    return [g * g.dtype.type(coef) for g in grads], total_norm


def dead_unit_fraction(X, weights, biases, negative_slope=0.0):
    """The fraction of dead units in every hidden layer of a (leaky) ReLU network on the data X.

    Forward pass: a_0 = X; z_l = a_{l-1} W_l + b_l and a_l = leaky_relu(z_l, negative_slope) for the
    hidden layers l = 1, ..., L − 1 (negative_slope = 0: the ReLU); the last (output) layer is not used.
    A hidden unit j of layer l is *dead on X* when z_l[n, j] ≤ 0 for every sample n: a ReLU then
    outputs 0 and passes no gradient for any of these samples (ReLU'(0) = 0), so gradient descent on
    them can never revive it. Returns an array of shape (L − 1,): the dead share of each hidden layer.
    """
    X, weights, biases = _check_network(X, weights, biases)
    negative_slope = check_positive(negative_slope, "negative_slope", allow_zero=True)
    fractions, a = [], X
    for W, b in zip(weights[:-1], biases[:-1]):
        z = a @ W + b
        fractions.append(np.mean(np.all(z <= 0, axis=0)))
        a = np.where(z > 0, z, negative_slope * z)
    return np.array(fractions, dtype=float)
