"""Representational power of multi-layer perceptrons (lecture decks 000 and 001).

Conventions (row vectors, as in the rest of the course): a batch ``X`` has shape ``(N, D)`` and a layer
computes ``X @ W + b`` with ``W`` of shape ``(D, M)`` and ``b`` of shape ``(M,)``.

A **network** is a list of layers ``[(W1, b1), (W2, b2), ...]``. A *threshold network* applies the
hard-limit of deck 000 after every layer,

    f(z) = +1 if z >= 0, else -1,

so its signals are ±1; Boolean inputs use the encoding of deck 001 (True = +1, False = -1). A
*sigmoid network* (universal approximation) applies σ(z) = 1 / (1 + e^{-z}) after every hidden layer
and nothing after the last one (a "summing" output unit).

Literals of a logic unit: ``+1`` uses x_i, ``-1`` uses ¬x_i, ``0`` ignores x_i.
"""

from __future__ import annotations

import numpy as np

from nnkit.validation import as_float_array, check_same_rows

__all__ = [
    "collapse_linear_layers",
    "hardlimit",
    "sigmoid",
    "threshold_forward",
    "sigmoid_network_forward",
    "logic_unit",
    "xor_network",
    "dnf_network",
    "xor_tree_network",
    "count_units_and_parameters",
    "convex_polygon_network",
    "union_network",
    "pulse_network",
]


# --------------------------------------------------------------------------------------------------
# Linear layers collapse
# --------------------------------------------------------------------------------------------------
def collapse_linear_layers(W1, b1, W2, b2):
    """Return ``(W, b)`` of the single affine map equal to two stacked affine layers.

    Deck 000 (column vectors): X2 = W2 (W1 X0 + b1) + b2 = (W2 W1) X0 + (W2 b1 + b2).
    Row vectors (this course): Y = (X W1 + b1) W2 + b2 = X (W1 W2) + (b1 W2 + b2).

    Shapes: W1 (D, H), b1 (H,), W2 (H, M), b2 (M,)  ->  W (D, M), b (M,).
    """
    W1 = as_float_array(W1, "W1", ndim=2)
    b1 = as_float_array(b1, "b1", ndim=1)
    W2 = as_float_array(W2, "W2", ndim=2)
    b2 = as_float_array(b2, "b2", ndim=1)
    _check_layer(W1, b1, "W1", "b1")
    _check_layer(W2, b2, "W2", "b2")
    if W1.shape[1] != W2.shape[0]:
        raise ValueError(
            f"W1 and W2 do not chain: W1 has shape {W1.shape} (H={W1.shape[1]}), "
            f"W2 has shape {W2.shape} (needs {W1.shape[1]} rows)"
        )
    return W1 @ W2, b1 @ W2 + b2


def _check_layer(W: np.ndarray, b: np.ndarray, w_name: str, b_name: str) -> None:
    if b.shape != (W.shape[1],):
        raise ValueError(
            f"{b_name} must have shape ({W.shape[1]},) to match {w_name} of shape {W.shape}, "
            f"got shape {b.shape}"
        )


# --------------------------------------------------------------------------------------------------
# Evaluating networks
# --------------------------------------------------------------------------------------------------
def hardlimit(z):
    """Hard-limit of deck 000: +1 where z >= 0, -1 elsewhere (same shape and dtype as ``z``)."""
    z = as_float_array(z, "z")
    return np.where(z >= 0, 1.0, -1.0).astype(z.dtype)


def sigmoid(z):
    """σ(z) = 1 / (1 + e^{-z}), written as (1 + tanh(z/2)) / 2 so steep slopes never overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _validated_layers(network, X: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Check that ``network`` is a non-empty list of chaining (W, b) pairs fed by ``X``."""
    if not isinstance(network, (list, tuple)) or len(network) == 0:
        raise TypeError(f"network must be a non-empty list of (W, b) layers, got {type(network).__name__}")
    layers = []
    width = X.shape[1]
    for index, layer in enumerate(network):
        if not isinstance(layer, (list, tuple)) or len(layer) != 2:
            raise TypeError(f"network[{index}] must be a pair (W, b), got {type(layer).__name__}")
        W = as_float_array(layer[0], f"network[{index}] W", ndim=2)
        b = as_float_array(layer[1], f"network[{index}] b", ndim=1)
        _check_layer(W, b, f"network[{index}] W", f"network[{index}] b")
        if W.shape[0] != width:
            raise ValueError(
                f"network[{index}] W has shape {W.shape} but its input has {width} columns "
                f"(X has shape {X.shape})"
            )
        layers.append((W, b))
        width = W.shape[1]
    return layers


def threshold_forward(network, X):
    """Output of a threshold network: every layer computes hardlimit(X @ W + b).

    network: list of (W, b) with W (D_in, D_out), b (D_out,); X: (N, D)  ->  (N, D_last), entries ±1,
    dtype of X (float64 for integer input).
    """
    X = as_float_array(X, "X", ndim=2)
    out = X
    for W, b in _validated_layers(network, X):
        out = hardlimit(out @ W.astype(X.dtype) + b.astype(X.dtype))
    return out


def sigmoid_network_forward(network, X):
    """Output of a sigmoid network: σ(X W + b) on every hidden layer, X W + b on the last one.

    network: list of (W, b); X: (N, D)  ->  (N, D_last), dtype of X.
    """
    X = as_float_array(X, "X", ndim=2)
    layers = _validated_layers(network, X)
    out = X
    for W, b in layers[:-1]:
        out = sigmoid(out @ W.astype(X.dtype) + b.astype(X.dtype))
    W, b = layers[-1]
    return out @ W.astype(X.dtype) + b.astype(X.dtype)


# --------------------------------------------------------------------------------------------------
# Boolean functions
# --------------------------------------------------------------------------------------------------
def _check_count(n, name: str, minimum: int) -> int:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}")
    if n < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {n}")
    return int(n)


def logic_unit(literals, kind="and"):
    """One threshold unit computing the AND (or the OR) of literals, for ±1 inputs.

    literals: (n,) with entries +1 (x_i), -1 (¬x_i) or 0 (x_i unused). With k non-zero literals the
    weighted sum w·x takes the values k, k-2, ..., -k, so
        AND: w = literals, b = -(k - 1)   (fires only when all k literals are true),
        OR:  w = literals, b = +(k - 1)   (fires unless all k literals are false).
    NOT x is ``logic_unit([-1])``. Returns W (n, 1), b (1,).
    """
    literals = as_float_array(literals, "literals", ndim=1)
    if not np.all(np.isin(literals, (-1.0, 0.0, 1.0))):
        raise ValueError(f"literals must hold only -1, 0 and +1, got {literals}")
    if kind not in ("and", "or"):
        raise ValueError(f"kind must be 'and' or 'or', got {kind!r}")
    k = np.count_nonzero(literals)
    bias = -(k - 1.0) if kind == "and" else k - 1.0
    return literals.reshape(-1, 1).copy(), np.array([bias])


def _stack_units(units) -> tuple[np.ndarray, np.ndarray]:
    """Put single-unit layers (W (n, 1), b (1,)) side by side into one layer (W (n, m), b (m,))."""
    return np.hstack([W for W, _ in units]), np.concatenate([b for _, b in units])


def xor_network():
    """XOR(x1, x2) = OR(AND(x1, ¬x2), AND(¬x1, x2)) (deck 001) as a 2-2-1 threshold network."""
    hidden = _stack_units([logic_unit([1, -1], "and"), logic_unit([-1, 1], "and")])
    return [hidden, logic_unit([1, 1], "or")]


def dnf_network(X, y):
    """One-hidden-layer threshold network (OR of ANDs) computing a Boolean function (deck 001).

    X: (R, n) truth-table rows in ±1 encoding; y: (R,) their values, true where y > 0 (±1, 0/1 or bool).
    One hidden AND unit per positive row (its literals are the row itself) and one OR output unit, so
    the network outputs +1 exactly on the positive rows. Returns [(W1 (n, P), b1 (P,)),
    (W2 (P, 1), b2 (1,))] with P the number of positive rows.
    """
    X = as_float_array(X, "X", ndim=2)
    y = as_float_array(y, "y", ndim=1)
    check_same_rows(X, "X", y, "y")
    if not np.all(np.isin(X, (-1.0, 1.0))):
        raise ValueError(f"X must hold only -1 and +1 (bipolar encoding), got {X.shape} with other values")
    hidden = [logic_unit(row, "and") for row in X[y > 0]]
    W1, b1 = _stack_units(hidden) if hidden else (np.zeros((X.shape[1], 0)), np.zeros(0))
    return [(W1, b1), logic_unit(np.ones(len(hidden)), "or")]


def xor_tree_network(n_inputs):
    """Parity of n ±1 inputs as a balanced tree of 2-input XOR blocks (deck 001, "a better architecture").

    Each level of the tree takes two layers: signals are paired left to right, (s0, s1), (s2, s3), ...;
    a pair becomes AND(a, ¬b), AND(¬a, b) in the first layer and their OR in the second. With an odd
    number of signals the last one is passed through by one unit (w = 1, b = 0) in each of the two
    layers. Depth 2⌈log2 n⌉; 3(n-1) units when n is a power of two.
    """
    n_inputs = _check_count(n_inputs, "n_inputs", 2)
    network = []
    width = n_inputs
    while width > 1:
        pairs, odd = divmod(width, 2)
        first = []
        for a in range(0, 2 * pairs, 2):
            first += [logic_unit(_literals(width, {a: 1, a + 1: -1}), "and"),
                      logic_unit(_literals(width, {a: -1, a + 1: 1}), "and")]
        if odd:
            first.append(_pass_through(width, width - 1))
        hidden = len(first)
        second = [logic_unit(_literals(hidden, {u: 1, u + 1: 1}), "or") for u in range(0, 2 * pairs, 2)]
        if odd:
            second.append(_pass_through(hidden, hidden - 1))
        network += [_stack_units(first), _stack_units(second)]
        width = len(second)
    return network


def _literals(width: int, signs: dict[int, int]) -> np.ndarray:
    """A literal vector of length ``width``: ``signs[i]`` at position i, 0 elsewhere."""
    literals = np.zeros(width)
    for index, sign in signs.items():
        literals[index] = sign
    return literals


def _pass_through(width: int, index: int) -> tuple[np.ndarray, np.ndarray]:
    """A unit copying signal ``index``: the AND of that single literal (w = 1, b = 0)."""
    return logic_unit(_literals(width, {index: 1}), "and")


def count_units_and_parameters(network):
    """``(units, parameters)`` of a network: units = Σ layer widths (inputs are not units),
    parameters = number of non-zero weights (connections) + one bias per unit.
    """
    if not isinstance(network, (list, tuple)) or len(network) == 0:
        raise TypeError(f"network must be a non-empty list of (W, b) layers, got {type(network).__name__}")
    units = parameters = 0
    for W, _ in network:
        W = np.asarray(W)
        units += W.shape[1]
        parameters += int(np.count_nonzero(W)) + W.shape[1]
    return units, parameters


# --------------------------------------------------------------------------------------------------
# Decision regions
# --------------------------------------------------------------------------------------------------
def convex_polygon_network(vertices):
    """A 2-layer threshold network firing (+1) inside a convex polygon (boundary included).

    vertices: (M, 2), M >= 3, in counter-clockwise or clockwise order. Hidden unit i fires on the inner
    side of the edge v_i -> v_{i+1}: for counter-clockwise order that is the left side,
    (v_{i+1} - v_i) × (x - v_i) >= 0, i.e. w = (-Δy, Δx), b = Δy·x_i - Δx·y_i. The output ANDs them:
    the polygon is the intersection of M half-planes. Returns [(W1 (2, M), b1 (M,)), (W2 (M, 1), b2 (1,))].
    """
    vertices = as_float_array(vertices, "vertices", ndim=2)
    if vertices.shape[1] != 2 or vertices.shape[0] < 3:
        raise ValueError(f"vertices must have shape (M, 2) with M >= 3, got shape {vertices.shape}")
    edges = np.roll(vertices, -1, axis=0) - vertices
    twice_signed_area = np.sum(vertices[:, 0] * edges[:, 1] - vertices[:, 1] * edges[:, 0])
    if twice_signed_area == 0:
        raise ValueError(f"vertices enclose no area (all collinear), got {vertices}")
    orientation = np.sign(twice_signed_area)  # +1 counter-clockwise, -1 clockwise
    normals = orientation * np.column_stack([-edges[:, 1], edges[:, 0]])
    W1 = normals.T
    b1 = -np.sum(normals * vertices, axis=1)
    return [(W1, b1), logic_unit(np.ones(len(vertices)), "and")]


def union_network(networks):
    """OR of several 2-layer single-output threshold networks on the same input: a 3-layer network.

    Their hidden layers sit side by side, their output units become a block-diagonal second layer,
    and a third layer ORs them (deck 001: "OR two polygons, a third layer is required").
    """
    if not isinstance(networks, (list, tuple)) or len(networks) == 0:
        raise TypeError("networks must be a non-empty list of 2-layer networks")
    for index, network in enumerate(networks):
        if len(network) != 2 or np.shape(network[1][0])[1] != 1:
            raise ValueError(f"networks[{index}] must be a 2-layer network with one output unit")
    W1, b1 = _stack_units([network[0] for network in networks])
    W2 = np.zeros((W1.shape[1], len(networks)))
    start = 0
    for column, (_, (W_out, _)) in enumerate(networks):
        W2[start:start + len(W_out), column] = np.ravel(W_out)  # unit k reads network k's units only
        start += len(W_out)
    b2 = np.concatenate([np.asarray(b_out, dtype=float) for _, (_, b_out) in networks])
    return [(W1, b1), (W2, b2), logic_unit(np.ones(len(networks)), "or")]


# --------------------------------------------------------------------------------------------------
# Universal approximation
# --------------------------------------------------------------------------------------------------
def pulse_network(f, lo, hi, n_pulses, slope):
    """A 1-hidden-layer sigmoid network approximating f on [lo, hi] by a sum of square pulses (deck 001).

    Edges e_k = lo + k (hi - lo) / n for k = 0..n; pulse k has height h_k = f(c_k) at its centre
    c_k = (e_k + e_{k+1}) / 2 and is the difference of two steep sigmoids,
        h_k [σ(λ(x - e_k)) - σ(λ(x - e_{k+1}))],     λ = slope.
    Hidden unit 2k computes σ(λ(x - e_k)), unit 2k+1 computes σ(λ(x - e_{k+1})); the linear output
    sums them with weights +h_k, -h_k. f must accept a 1-D array. Returns
    [(W1 (1, 2n), b1 (2n,)), (W2 (2n, 1), b2 (1,))], evaluated by ``sigmoid_network_forward``.
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    n_pulses = _check_count(n_pulses, "n_pulses", 1)
    slope = float(slope)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"need finite lo < hi, got lo={lo}, hi={hi}")
    if not (np.isfinite(slope) and slope > 0):
        raise ValueError(f"slope must be finite and > 0, got {slope}")
    edges = np.linspace(lo, hi, n_pulses + 1)
    centres = 0.5 * (edges[:-1] + edges[1:])
    heights = np.broadcast_to(np.asarray(f(centres), dtype=float), centres.shape)
    rising, falling = edges[:-1], edges[1:]
    thresholds = np.column_stack([rising, falling]).ravel()
    W1 = np.full((1, 2 * n_pulses), slope)
    b1 = -slope * thresholds
    W2 = np.column_stack([heights, -heights]).reshape(-1, 1)
    return [(W1, b1), (W2, np.zeros(1))]
