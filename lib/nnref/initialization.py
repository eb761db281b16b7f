"""Weight initialisation and the activation statistics it produces (deck 003's two "Initialization"
sections, decks 001 and 002's "initialize all weights to small random numbers" / "weights random,
bias zero"): the reference for assignment ``07_initialization_normalization_convolution``.

* ``xavier_std``, ``xavier_bound``, ``he_std``: the standard deviations (and the uniform bound) of
  Glorot and He initialisation, exactly those of ``torch.nn.init.xavier_normal_``,
  ``xavier_uniform_`` and ``kaiming_normal_(mode="fan_in")``;
* ``init_weights(layer_sizes, scheme, *, rng)``: the weights ``W_l`` (fan_in, fan_out) and zero biases
  of a fully connected network under one scheme (``"zeros"``, ``"small"``, ``"normal"``, ``"xavier"``,
  ``"he"``), drawn from an explicit ``np.random.Generator``;
* ``activation_stats(X, weights, biases, activation)``: the mean and standard deviation of every
  layer's activations in a deep stack, the measurement behind the variance argument.

Row-vector convention: a layer computes ``a_l = f(a_{l-1} W_l + b_l)`` with ``W_l`` of shape
``(fan_in, fan_out)``; ``nn.Linear`` stores the transpose. Nothing here modifies its arguments.
"""

from __future__ import annotations

import numpy as np

from nnkit.validation import as_float_array, check_positive

from . import activations as act

__all__ = [
    "SCHEMES",
    "STACK_ACTIVATIONS",
    "xavier_std",
    "xavier_bound",
    "he_std",
    "scheme_std",
    "init_weights",
    "activation_stats",
]

SCHEMES = ("zeros", "small", "normal", "xavier", "he")
SMALL_STD = 0.01  # "small random numbers" (decks 001, 003): N(0, 0.01²), CS231n's first try

# name -> activation function of a deep stack (every layer, including the last, applies it)
STACK_ACTIVATIONS = {
    "identity": act.identity,
    "sigmoid": act.sigmoid,
    "tanh": act.tanh,
    "relu": act.relu,
    "leaky_relu": act.leaky_relu,
}


def _fan(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def xavier_std(fan_in, fan_out, gain=1.0):
    """Glorot/Xavier normal std = gain · √(2 / (fan_in + fan_out)) (``nn.init.xavier_normal_``).

    The compromise between Var(w) = 1/fan_in (forward signals keep their variance) and
    Var(w) = 1/fan_out (backward gradients keep theirs), derived for units that are linear near 0
    (tanh, the sigmoid's centre).
    """
    fan_in, fan_out = _fan(fan_in, "fan_in"), _fan(fan_out, "fan_out")
    return float(check_positive(gain, "gain") * np.sqrt(2.0 / (fan_in + fan_out)))


def xavier_bound(fan_in, fan_out, gain=1.0):
    """Glorot/Xavier uniform bound a = gain · √(6 / (fan_in + fan_out)) (``nn.init.xavier_uniform_``):
    U(−a, a) has variance a²/3 = gain² · 2/(fan_in + fan_out), the variance of ``xavier_std``."""
    fan_in, fan_out = _fan(fan_in, "fan_in"), _fan(fan_out, "fan_out")
    return float(check_positive(gain, "gain") * np.sqrt(6.0 / (fan_in + fan_out)))


def he_std(fan_in, negative_slope=0.0):
    """He/Kaiming normal std = √(2 / ((1 + a²) · fan_in)) for a (leaky) ReLU with negative slope a
    (``nn.init.kaiming_normal_(mode="fan_in", nonlinearity="leaky_relu", a=a)``; a = 0 is the ReLU).

    A ReLU zeroes half of a symmetric input, so E[ReLU(z)²] = Var(z)/2: doubling Xavier's forward
    variance 1/fan_in keeps E[a²] constant through the layers.
    """
    fan_in = _fan(fan_in, "fan_in")
    negative_slope = check_positive(negative_slope, "negative_slope", allow_zero=True)
    return float(np.sqrt(2.0 / ((1.0 + negative_slope ** 2) * fan_in)))


def scheme_std(fan_in, fan_out, scheme):
    """The weight std of ``scheme`` for a (fan_in, fan_out) layer: 0 (``"zeros"``), 0.01 (``"small"``),
    1 (``"normal"``), ``xavier_std`` (``"xavier"``) or ``he_std`` (``"he"``)."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(map(repr, SCHEMES))}, got {scheme!r}")
    return {
        "zeros": lambda: 0.0,
        "small": lambda: SMALL_STD,
        "normal": lambda: 1.0,
        "xavier": lambda: xavier_std(fan_in, fan_out),
        "he": lambda: he_std(fan_in),
    }[scheme]()


def init_weights(layer_sizes, scheme, *, rng, dtype=np.float64):
    """Initial weights and biases of a fully connected network with ``layer_sizes = [D, H_1, ..., C]``.

    Layer l (l = 1, ..., L with L = len(layer_sizes) − 1) gets ``W_l`` of shape
    ``(fan_in, fan_out) = (layer_sizes[l-1], layer_sizes[l])`` and a zero bias ``b_l`` (fan_out,):

    * ``"zeros"``: W = 0 (draws nothing);
    * ``"small"``: W ~ N(0, 0.01²);
    * ``"normal"``: W ~ N(0, 1);
    * ``"xavier"``: W ~ N(0, 2 / (fan_in + fan_out)) (Glorot);
    * ``"he"``: W ~ N(0, 2 / fan_in) (Kaiming, for ReLU).

    The Gaussian layers draw ``rng.normal(0, std, size=(fan_in, fan_out))`` one layer after the other,
    from the first to the last, and nothing else. Returns ``(weights, biases)``, two lists of L arrays.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    sizes = [_fan(size, "every layer size") for size in layer_sizes]
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes needs at least an input and an output size, got {list(layer_sizes)}")
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        std = scheme_std(fan_in, fan_out, scheme)
        if scheme == "zeros":
            W = np.zeros((fan_in, fan_out))
        else:
            W = rng.normal(0.0, std, size=(fan_in, fan_out))
        weights.append(W.astype(dtype, copy=False))
        biases.append(np.zeros(fan_out, dtype=dtype))
    return weights, biases


def _check_network(X, weights, biases):
    """Validated ``X`` (N, D) and lists of weights (d_{l-1}, d_l) and biases (d_l,) that chain."""
    X = as_float_array(X, "X", ndim=2)
    if len(weights) != len(biases) or not weights:
        raise ValueError(f"weights and biases must be non-empty lists of the same length, got "
                         f"{len(weights)} and {len(biases)}")
    weights = [as_float_array(W, f"weights[{l}]", ndim=2) for l, W in enumerate(weights)]
    biases = [as_float_array(b, f"biases[{l}]", ndim=1) for l, b in enumerate(biases)]
    width = X.shape[1]
    for l, (W, b) in enumerate(zip(weights, biases)):
        if W.shape[0] != width:
            raise ValueError(f"weights[{l}] must have {width} rows (the width of the layer before), got shape {W.shape}")
        if b.shape != (W.shape[1],):
            raise ValueError(f"biases[{l}] must have shape ({W.shape[1]},) to match weights[{l}] of shape "
                             f"{W.shape}, got shape {b.shape}")
        width = W.shape[1]
    return X, weights, biases


def activation_stats(X, weights, biases, activation):
    """Mean and standard deviation of the activations of every layer of a deep stack.

    a_0 = X (N, D); a_l = f(a_{l-1} W_l + b_l) for l = 1, ..., L, the activation f applied at
    **every** layer (a stack of hidden layers, as in the experiment behind the variance argument).
    ``activation``: ``"sigmoid"``, ``"tanh"``, ``"relu"`` (also ``"identity"``, ``"leaky_relu"``).
    Returns ``(means, stds)``, two arrays of shape (L,): the mean and the (population, ddof = 0)
    standard deviation over all N × d_l entries of a_l.
    """
    X, weights, biases = _check_network(X, weights, biases)
    if activation not in STACK_ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(map(repr, STACK_ACTIVATIONS))}, got {activation!r}")
    f = STACK_ACTIVATIONS[activation]
    means, stds = [], []
    a = X
    for W, b in zip(weights, biases):
        a = f(a @ W + b)
        means.append(a.mean())
        stds.append(a.std())
    return np.array(means), np.array(stds)
