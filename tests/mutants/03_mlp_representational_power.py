"""Self-test catalogue of assignment 03_mlp_representational_power: wrong answers and alternative right ones.

Each ``Mutant`` replaces one solution cell of
``source/03_mlp_representational_power/03_mlp_representational_power.ipynb`` and must lose the points of
that function's test cell only; each ``Alternative`` is a different correct solution and must keep full
marks. The notebook's given helpers (``threshold_forward``, ``stack_units``, ``literal_vector``) are
available to every cell.
"""

from nngrade.selftest import Alternative, Mutant


def _variant(source: str, old: str, new: str) -> str:
    """``source`` with one fragment replaced (the fragment must be there: a typo must not pass silently)."""
    if source.count(old) != 1:
        raise ValueError(f"fragment not found exactly once: {old!r}")
    return source.replace(old, new)


# The source solutions the one-line variants below start from.
TREE = """
def xor_tree_network(n_inputs):
    network = []
    width = n_inputs
    while width > 1:
        n_pairs, odd = divmod(width, 2)
        n_hidden, n_out = 2 * n_pairs + odd, n_pairs + odd
        W1, b1 = np.zeros((width, n_hidden)), np.full(n_hidden, -1.0)
        W2, b2 = np.zeros((n_hidden, n_out)), np.full(n_out, 1.0)
        for p in range(n_pairs):
            W1[2 * p:2 * p + 2, 2 * p:2 * p + 2] = [[1.0, -1.0], [-1.0, 1.0]]
            W2[2 * p:2 * p + 2, p] = 1.0
        if odd:
            W1[-1, -1], b1[-1] = 1.0, 0.0
            W2[-1, -1], b2[-1] = 1.0, 0.0
        network += [(W1, b1), (W2, b2)]
        width = n_out
    return network
"""

UNION = """
def union_network(networks):
    W1 = np.hstack([network[0][0] for network in networks])
    b1 = np.concatenate([network[0][1] for network in networks])
    W2 = np.zeros((W1.shape[1], len(networks)))
    start = 0
    for k, network in enumerate(networks):
        hidden = network[1][0].shape[0]
        W2[start:start + hidden, k] = network[1][0][:, 0]
        start += hidden
    b2 = np.concatenate([network[1][1] for network in networks])
    return [(W1, b1), (W2, b2), (np.ones((len(networks), 1)), np.array([len(networks) - 1.0]))]
"""

MUTANTS = [
    # --- collapse_linear_layers ----------------------------------------------------------------------
    Mutant(
        cell="collapse_linear_layers",
        description="forgets that b1 goes through W2: b = b2",
        source='''
def collapse_linear_layers(W1, b1, W2, b2):
    return W1 @ W2, b2
''',
    ),
    Mutant(
        cell="collapse_linear_layers",
        description="adds the biases: b = b1 + b2",
        source='''
def collapse_linear_layers(W1, b1, W2, b2):
    return W1 @ W2, b1 + b2
''',
    ),
    Mutant(
        cell="collapse_linear_layers",
        description="copies deck 000's column-vector formula: W = W2 W1, b = W2 b1 + b2",
        source='''
def collapse_linear_layers(W1, b1, W2, b2):
    return W2 @ W1, W2 @ b1 + b2
''',
    ),
    Mutant(
        cell="collapse_linear_layers",
        description="forgets the second bias: b = b1 W2",
        source='''
def collapse_linear_layers(W1, b1, W2, b2):
    return W1 @ W2, b1 @ W2
''',
    ),
    # --- logic_unit ------------------------------------------------------------------------------------
    Mutant(
        cell="logic_unit",
        description="counts every entry (also the unused 0 literals) in the threshold",
        source='''
def logic_unit(literals, kind="and"):
    literals = np.asarray(literals, dtype=float)
    k = len(literals)
    bias = -(k - 1.0) if kind == "and" else k - 1.0
    return literals.reshape(-1, 1), np.array([bias])
''',
    ),
    Mutant(
        cell="logic_unit",
        description="ignores negations: weights |literals|",
        source='''
def logic_unit(literals, kind="and"):
    literals = np.asarray(literals, dtype=float)
    k = np.count_nonzero(literals)
    bias = -(k - 1.0) if kind == "and" else k - 1.0
    return np.abs(literals).reshape(-1, 1), np.array([bias])
''',
    ),
    Mutant(
        cell="logic_unit",
        description="thresholds from the 0/1 encoding: AND b = -(k - 0.5), OR b = -0.5",
        source='''
def logic_unit(literals, kind="and"):
    literals = np.asarray(literals, dtype=float)
    k = np.count_nonzero(literals)
    bias = -(k - 0.5) if kind == "and" else -0.5
    return literals.reshape(-1, 1), np.array([bias])
''',
    ),
    Mutant(
        cell="logic_unit",
        description="same bias sign for OR as for AND (every unit is an AND)",
        source='''
def logic_unit(literals, kind="and"):
    literals = np.asarray(literals, dtype=float)
    k = np.count_nonzero(literals)
    return literals.reshape(-1, 1), np.array([-(k - 1.0)])
''',
    ),
    Mutant(
        cell="logic_unit",
        description="returns W as a 1-D array (n,) instead of a column (n, 1)",
        source='''
def logic_unit(literals, kind="and"):
    literals = np.asarray(literals, dtype=float)
    k = np.count_nonzero(literals)
    bias = -(k - 1.0) if kind == "and" else k - 1.0
    return literals, np.array([bias])
''',
    ),
    # --- dnf_network ------------------------------------------------------------------------------------
    Mutant(
        cell="dnf_network",
        description="one hidden unit per negative row instead of per positive row",
        source='''
def dnf_network(X, y):
    rows = np.asarray(X, dtype=float)[np.asarray(y) < 0]
    n_rows, n_inputs = rows.shape
    return [(rows.T, np.full(n_rows, 1.0 - n_inputs)), (np.ones((n_rows, 1)), np.array([n_rows - 1.0]))]
''',
    ),
    Mutant(
        cell="dnf_network",
        description="hidden units are ORs of the row's literals (bias +(n - 1)) instead of ANDs",
        source='''
def dnf_network(X, y):
    rows = np.asarray(X, dtype=float)[np.asarray(y) > 0]
    n_rows, n_inputs = rows.shape
    return [(rows.T, np.full(n_rows, n_inputs - 1.0)), (np.ones((n_rows, 1)), np.array([n_rows - 1.0]))]
''',
    ),
    Mutant(
        cell="dnf_network",
        description="output unit is an AND of the hidden units (bias -(P - 1))",
        source='''
def dnf_network(X, y):
    rows = np.asarray(X, dtype=float)[np.asarray(y) > 0]
    n_rows, n_inputs = rows.shape
    return [(rows.T, np.full(n_rows, 1.0 - n_inputs)), (np.ones((n_rows, 1)), np.array([1.0 - n_rows]))]
''',
    ),
    Mutant(
        cell="dnf_network",
        description="output OR's bias from the number of inputs (n - 1) instead of the hidden units (P - 1)",
        source='''
def dnf_network(X, y):
    rows = np.asarray(X, dtype=float)[np.asarray(y) > 0]
    n_rows, n_inputs = rows.shape
    return [(rows.T, np.full(n_rows, 1.0 - n_inputs)), (np.ones((n_rows, 1)), np.array([n_inputs - 1.0]))]
''',
    ),
    Mutant(
        cell="dnf_network",
        description="AND bias off by one: -(n - 2) also fires on rows one input away",
        source='''
def dnf_network(X, y):
    rows = np.asarray(X, dtype=float)[np.asarray(y) > 0]
    n_rows, n_inputs = rows.shape
    return [(rows.T, np.full(n_rows, 2.0 - n_inputs)), (np.ones((n_rows, 1)), np.array([n_rows - 1.0]))]
''',
    ),
    # --- xor_tree_network --------------------------------------------------------------------------------
    Mutant(
        cell="xor_tree_network",
        description="XNOR blocks: AND(a, b), AND(NOT a, NOT b)",
        source=_variant(TREE, "[[1.0, -1.0], [-1.0, 1.0]]", "[[1.0, -1.0], [1.0, -1.0]]"),
    ),
    Mutant(
        cell="xor_tree_network",
        description="drops the odd signal out instead of passing it through",
        source='''
def xor_tree_network(n_inputs):
    network, width = [], n_inputs
    while width > 1:
        n_pairs = width // 2
        W1, b1 = np.zeros((width, 2 * n_pairs)), np.full(2 * n_pairs, -1.0)
        W2, b2 = np.zeros((2 * n_pairs, n_pairs)), np.full(n_pairs, 1.0)
        for p in range(n_pairs):
            W1[2 * p:2 * p + 2, 2 * p:2 * p + 2] = [[1.0, -1.0], [-1.0, 1.0]]
            W2[2 * p:2 * p + 2, p] = 1.0
        network += [(W1, b1), (W2, b2)]
        width = n_pairs
    return network
''',
    ),
    Mutant(
        cell="xor_tree_network",
        description="second layer with bias -1: ANDs the two halves of each XOR block instead of ORing them",
        source=_variant(TREE, "b2 = np.zeros((n_hidden, n_out)), np.full(n_out, 1.0)",
                            "b2 = np.zeros((n_hidden, n_out)), np.full(n_out, -1.0)"),
    ),
    Mutant(
        cell="xor_tree_network",
        description="pass-through unit reads the first signal instead of the odd one out (the last)",
        source=_variant(TREE, "W1[-1, -1], b1[-1] = 1.0, 0.0", "W1[0, -1], b1[-1] = 1.0, 0.0"),
    ),
    Mutant(
        cell="xor_tree_network",
        description="a chain ((x1 XOR x2) XOR x3) ... with pass-throughs: parity, but not the tree asked for",
        source='''
def xor_tree_network(n_inputs):
    network, width = [], n_inputs
    while width > 1:
        W1 = np.zeros((width, width))
        W1[:2, :2] = [[1.0, -1.0], [-1.0, 1.0]]
        W1[2:, 2:] = np.eye(width - 2)
        b1 = np.concatenate([[-1.0, -1.0], np.zeros(width - 2)])
        W2 = np.zeros((width, width - 1))
        W2[:2, 0] = 1.0
        W2[2:, 1:] = np.eye(width - 2)
        b2 = np.concatenate([[1.0], np.zeros(width - 2)])
        network += [(W1, b1), (W2, b2)]
        width -= 1
    return network
''',
    ),
    # --- count_units_and_parameters ----------------------------------------------------------------------
    Mutant(
        cell="count_units_and_parameters",
        description="counts every entry of W, also the zero (missing) connections",
        source='''
def count_units_and_parameters(network):
    units = sum(W.shape[1] for W, _ in network)
    return units, sum(W.size + b.size for W, b in network)
''',
    ),
    Mutant(
        cell="count_units_and_parameters",
        description="counts the inputs as units",
        source='''
def count_units_and_parameters(network):
    units = network[0][0].shape[0] + sum(W.shape[1] for W, _ in network)
    return units, sum(int(np.count_nonzero(W)) + W.shape[1] for W, _ in network)
''',
    ),
    Mutant(
        cell="count_units_and_parameters",
        description="forgets the biases",
        source='''
def count_units_and_parameters(network):
    units = sum(W.shape[1] for W, _ in network)
    return units, sum(int(np.count_nonzero(W)) for W, _ in network)
''',
    ),
    Mutant(
        cell="count_units_and_parameters",
        description="counts only the non-zero biases",
        source='''
def count_units_and_parameters(network):
    units = sum(W.shape[1] for W, _ in network)
    return units, sum(int(np.count_nonzero(W)) + int(np.count_nonzero(b)) for W, b in network)
''',
    ),
    # --- convex_polygon_network --------------------------------------------------------------------------
    Mutant(
        cell="convex_polygon_network",
        description="assumes counter-clockwise vertices (fails for clockwise polygons)",
        source='''
def convex_polygon_network(vertices):
    V = np.asarray(vertices, dtype=float)
    edges = np.roll(V, -1, axis=0) - V
    normals = np.column_stack([-edges[:, 1], edges[:, 0]])
    return [(normals.T, -np.sum(normals * V, axis=1)), (np.ones((len(V), 1)), np.array([1.0 - len(V)]))]
''',
    ),
    Mutant(
        cell="convex_polygon_network",
        description="forgets the closing edge v_{M-1} -> v_0",
        source='''
def convex_polygon_network(vertices):
    V = np.asarray(vertices, dtype=float)
    edges = V[1:] - V[:-1]
    area = 0.5 * np.sum(V[:-1, 0] * edges[:, 1] - V[:-1, 1] * edges[:, 0])
    normals = np.sign(area) * np.column_stack([-edges[:, 1], edges[:, 0]])
    m = len(edges)
    return [(normals.T, -np.sum(normals * V[:-1], axis=1)), (np.ones((m, 1)), np.array([1.0 - m]))]
''',
    ),
    Mutant(
        cell="convex_polygon_network",
        description="output unit ORs the half-planes (a union, not the intersection)",
        source='''
def convex_polygon_network(vertices):
    V = np.asarray(vertices, dtype=float)
    edges = np.roll(V, -1, axis=0) - V
    area = 0.5 * np.sum(V[:, 0] * edges[:, 1] - V[:, 1] * edges[:, 0])
    normals = np.sign(area) * np.column_stack([-edges[:, 1], edges[:, 0]])
    return [(normals.T, -np.sum(normals * V, axis=1)), (np.ones((len(V), 1)), np.array([len(V) - 1.0]))]
''',
    ),
    Mutant(
        cell="convex_polygon_network",
        description="bias with the wrong sign: b = +n·v_i",
        source='''
def convex_polygon_network(vertices):
    V = np.asarray(vertices, dtype=float)
    edges = np.roll(V, -1, axis=0) - V
    area = 0.5 * np.sum(V[:, 0] * edges[:, 1] - V[:, 1] * edges[:, 0])
    normals = np.sign(area) * np.column_stack([-edges[:, 1], edges[:, 0]])
    return [(normals.T, np.sum(normals * V, axis=1)), (np.ones((len(V), 1)), np.array([1.0 - len(V)]))]
''',
    ),
    # --- union_network -----------------------------------------------------------------------------------
    Mutant(
        cell="union_network",
        description="second layer not block-diagonal: every output unit reads all hidden units",
        source='''
def union_network(networks):
    W1 = np.hstack([network[0][0] for network in networks])
    b1 = np.concatenate([network[0][1] for network in networks])
    W2 = np.repeat(np.concatenate([network[1][0] for network in networks]), len(networks), axis=1)
    b2 = np.concatenate([network[1][1] for network in networks])
    return [(W1, b1), (W2, b2), (np.ones((len(networks), 1)), np.array([len(networks) - 1.0]))]
''',
    ),
    Mutant(
        cell="union_network",
        description="third layer ANDs the regions (an intersection) instead of ORing them",
        source=_variant(UNION, "np.array([len(networks) - 1.0])", "np.array([1.0 - len(networks)])"),
    ),
    Mutant(
        cell="union_network",
        description="drops the biases of the networks' output units",
        source=_variant(UNION, "b2 = np.concatenate([network[1][1] for network in networks])",
                             "b2 = np.zeros(len(networks))"),
    ),
    Mutant(
        cell="union_network",
        description="one hidden layer: ORs all hidden units directly, skipping the per-region ANDs",
        source='''
def union_network(networks):
    W1 = np.hstack([network[0][0] for network in networks])
    b1 = np.concatenate([network[0][1] for network in networks])
    return [(W1, b1), (np.ones((W1.shape[1], 1)), np.array([W1.shape[1] - 1.0]))]
''',
    ),
    # --- pulse_network -----------------------------------------------------------------------------------
    Mutant(
        cell="pulse_network",
        description="heights taken at the left edges f(e_k) instead of the centres",
        source='''
def pulse_network(f, lo, hi, n_pulses, slope):
    edges = np.linspace(lo, hi, n_pulses + 1)
    heights = np.asarray(f(edges[:-1]), dtype=float)
    thresholds = np.column_stack([edges[:-1], edges[1:]]).ravel()
    W2 = np.column_stack([heights, -heights]).reshape(-1, 1)
    return [(np.full((1, 2 * n_pulses), float(slope)), -slope * thresholds), (W2, np.zeros(1))]
''',
    ),
    Mutant(
        cell="pulse_network",
        description="bias without the slope: sigma(slope x - e) instead of sigma(slope (x - e))",
        source='''
def pulse_network(f, lo, hi, n_pulses, slope):
    edges = np.linspace(lo, hi, n_pulses + 1)
    heights = np.asarray(f((edges[:-1] + edges[1:]) / 2), dtype=float)
    thresholds = np.column_stack([edges[:-1], edges[1:]]).ravel()
    W2 = np.column_stack([heights, -heights]).reshape(-1, 1)
    return [(np.full((1, 2 * n_pulses), float(slope)), -thresholds), (W2, np.zeros(1))]
''',
    ),
    Mutant(
        cell="pulse_network",
        description="off by one: n edges (n - 1 pulses) instead of n + 1 edges",
        source='''
def pulse_network(f, lo, hi, n_pulses, slope):
    edges = np.linspace(lo, hi, n_pulses)
    heights = np.asarray(f((edges[:-1] + edges[1:]) / 2), dtype=float)
    thresholds = np.column_stack([edges[:-1], edges[1:]]).ravel()
    W2 = np.column_stack([heights, -heights]).reshape(-1, 1)
    return [(np.full((1, thresholds.size), float(slope)), -slope * thresholds), (W2, np.zeros(1))]
''',
    ),
    Mutant(
        cell="pulse_network",
        description="adds both sigmoids of a pulse (+h, +h) instead of subtracting them",
        source='''
def pulse_network(f, lo, hi, n_pulses, slope):
    edges = np.linspace(lo, hi, n_pulses + 1)
    heights = np.asarray(f((edges[:-1] + edges[1:]) / 2), dtype=float)
    thresholds = np.column_stack([edges[:-1], edges[1:]]).ravel()
    W2 = np.column_stack([heights, heights]).reshape(-1, 1)
    return [(np.full((1, 2 * n_pulses), float(slope)), -slope * thresholds), (W2, np.zeros(1))]
''',
    ),
]


ALTERNATIVES = [
    Alternative(
        cell="collapse_linear_layers",
        description="probes the linear network with the zero vector and the unit vectors",
        source='''
def collapse_linear_layers(W1, b1, W2, b2):
    def two_layers(X):
        return (X @ W1 + b1) @ W2 + b2
    b = two_layers(np.zeros((1, W1.shape[0])))[0]
    W = two_layers(np.eye(W1.shape[0])) - b
    return W, b
''',
    ),
    Alternative(
        cell="logic_unit",
        description="thresholds at the other end of the valid range: AND b = -k, OR b = k - 2",
        source='''
def logic_unit(literals, kind="and"):
    w = np.array(literals, dtype=float).reshape(-1, 1)
    k = int(np.sum(w != 0))
    if kind == "and":
        return w, np.array([-float(k)])
    return w, np.array([k - 2.0])
''',
    ),
    Alternative(
        cell="count_units_and_parameters",
        description="explicit loops over the entries",
        source='''
def count_units_and_parameters(network):
    units = parameters = 0
    for W, b in network:
        for column in range(W.shape[1]):
            units += 1
            parameters += 1
            for row in range(W.shape[0]):
                if W[row, column] != 0:
                    parameters += 1
    return units, parameters
''',
    ),
    Alternative(
        cell="pulse_network",
        description="all rising-edge units first, then all falling-edge units",
        source='''
def pulse_network(f, lo, hi, n_pulses, slope):
    width = (hi - lo) / n_pulses
    rising = lo + width * np.arange(n_pulses)
    heights = np.array([f(np.array([c]))[0] for c in rising + width / 2])
    thresholds = np.concatenate([rising, rising + width])
    W1 = slope * np.ones((1, 2 * n_pulses))
    W2 = np.concatenate([heights, -heights])[:, None]
    return [(W1, -slope * thresholds), (W2, np.array([0.0]))]
''',
    ),
    Alternative(
        cell="dnf_network",
        description="one AND unit per positive row, stacked with the given stack_units helper",
        source='''
def dnf_network(X, y):
    units = []
    for row, value in zip(np.asarray(X, dtype=float), np.asarray(y)):
        if value > 0:
            units.append((row.reshape(-1, 1), np.array([-(len(row) - 1.0)])))
    output = (np.ones((len(units), 1)), np.array([len(units) - 1.0]))
    return [stack_units(units), output]
''',
    ),
    Alternative(
        cell="xor_tree_network",
        description="unit by unit with the given literal_vector and stack_units helpers, thresholds -0.5 / +0.5",
        source='''
def xor_tree_network(n_inputs):
    network, width = [], n_inputs
    while width > 1:
        first, second = [], []
        for a in range(0, width - 1, 2):
            first.append((literal_vector(width, {a: 1, a + 1: -1})[:, None], np.array([-1.5])))
            first.append((literal_vector(width, {a: -1, a + 1: 1})[:, None], np.array([-1.5])))
        if width % 2:
            first.append((literal_vector(width, {width - 1: 1})[:, None], np.array([0.0])))
        for u in range(0, 2 * (width // 2), 2):
            second.append((literal_vector(len(first), {u: 1, u + 1: 1})[:, None], np.array([0.5])))
        if width % 2:
            second.append((literal_vector(len(first), {len(first) - 1: 1})[:, None], np.array([0.0])))
        network += [stack_units(first), stack_units(second)]
        width = len(second)
    return network
''',
    ),
    Alternative(
        cell="convex_polygon_network",
        description="orientation from the first two edges, unit-length normals, a loop over edges",
        source='''
def convex_polygon_network(vertices):
    V = np.asarray(vertices, dtype=float)
    m = len(V)
    (ax, ay), (bx, by) = V[1] - V[0], V[2] - V[1]
    orientation = 1.0 if ax * by - ay * bx > 0 else -1.0  # z of the cross product of the first two edges
    W1, b1 = np.zeros((2, m)), np.zeros(m)
    for i in range(m):
        dx, dy = V[(i + 1) % m] - V[i]
        normal = orientation * np.array([-dy, dx]) / np.hypot(dx, dy)
        W1[:, i] = normal
        b1[i] = -normal @ V[i]
    return [(W1, b1), (np.ones((m, 1)), np.array([1.0 - m]))]
''',
    ),
    Alternative(
        cell="union_network",
        description="block-diagonal matrix from np.block with zero blocks, OR threshold at K - 1.5",
        source='''
def union_network(networks):
    W1 = np.hstack([W for (W, _), _ in networks])
    b1 = np.hstack([b for (_, b), _ in networks])
    rows = [[W if j == i else np.zeros((W.shape[0], 1)) for j in range(len(networks))]
            for i, (_, (W, _)) in enumerate(networks)]
    W2 = np.block(rows)
    b2 = np.hstack([b for _, (_, b) in networks])
    return [(W1, b1), (W2, b2), (np.ones((len(networks), 1)), np.array([len(networks) - 1.5]))]
''',
    ),
]
