"""Oracle tests of nnref.representation (decks 000 and 001).

Oracles: truth tables enumerated with itertools and evaluated with Python's all/any/sum, torch for the
affine maps and the sigmoid, scikit-learn's MLPRegressor for the sigmoid network, matplotlib's Path for
polygon membership, and the unit/weight counts printed in deck 001.
"""

import itertools
import math
import warnings

import numpy as np
import pytest
import torch
from matplotlib.path import Path
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from nnref import representation as rep


def all_inputs(n):
    """Every ±1 input of n variables (True = +1), enumerated independently of the code under test."""
    return np.array(list(itertools.product((-1.0, 1.0), repeat=n)))


def run(network, X):
    return rep.threshold_forward(network, X).ravel()


def bipolar(truth_values):
    return np.where(np.asarray(truth_values, dtype=bool), 1.0, -1.0)


# --- collapse_linear_layers -------------------------------------------------------------------------


@pytest.mark.parametrize("D, H, M", [(3, 5, 2), (1, 1, 1), (4, 2, 6)])
def test_collapse_matches_two_torch_linear_layers(D, H, M):
    rng = np.random.default_rng(D * 100 + H * 10 + M)
    W1, b1, W2, b2 = rng.normal(size=(D, H)), rng.normal(size=H), rng.normal(size=(H, M)), rng.normal(size=M)
    X = rng.normal(size=(7, D))
    first, second = torch.nn.Linear(D, H).double(), torch.nn.Linear(H, M).double()
    with torch.no_grad():  # torch stores weights as (out, in): the transpose of the row convention
        first.weight.copy_(torch.from_numpy(W1.T)), first.bias.copy_(torch.from_numpy(b1))
        second.weight.copy_(torch.from_numpy(W2.T)), second.bias.copy_(torch.from_numpy(b2))
        expected = second(first(torch.from_numpy(X))).numpy()
    W, b = rep.collapse_linear_layers(W1, b1, W2, b2)
    assert W.shape == (D, M) and b.shape == (M,)
    np.testing.assert_allclose(X @ W + b, expected, rtol=1e-12, atol=1e-12)


def test_collapse_hand_example_and_no_mutation():
    W1, b1 = np.array([[1.0, 2.0]]), np.array([1.0, -1.0])
    W2, b2 = np.array([[3.0], [4.0]]), np.array([0.5])
    copies = [a.copy() for a in (W1, b1, W2, b2)]
    W, b = rep.collapse_linear_layers(W1, b1, W2, b2)
    # y = 3(x + 1) + 4(2x - 1) + 0.5 = 11x - 0.5
    np.testing.assert_array_equal(W, [[11.0]])
    np.testing.assert_array_equal(b, [-0.5])
    for original, copy in zip((W1, b1, W2, b2), copies):
        np.testing.assert_array_equal(original, copy)


def test_collapse_keeps_float32():
    W, b = rep.collapse_linear_layers(np.ones((2, 3), np.float32), np.ones(3, np.float32),
                                      np.ones((3, 1), np.float32), np.ones(1, np.float32))
    assert W.dtype == np.float32 and b.dtype == np.float32


@pytest.mark.parametrize("args, match", [
    ((np.ones((2, 3)), np.ones(3), np.ones((4, 1)), np.ones(1)), "do not chain"),
    ((np.ones((2, 3)), np.ones(2), np.ones((3, 1)), np.ones(1)), "b1"),
    ((np.ones((2, 3)), np.ones(3), np.ones((3, 1)), np.ones(2)), "b2"),
    ((np.ones(3), np.ones(3), np.ones((3, 1)), np.ones(1)), "W1"),
])
def test_collapse_rejects_bad_shapes(args, match):
    with pytest.raises(ValueError, match=match):
        rep.collapse_linear_layers(*args)


# --- hardlimit, threshold_forward, sigmoid_network_forward ------------------------------------------


def test_hardlimit_is_plus_one_at_zero():
    np.testing.assert_array_equal(rep.hardlimit(np.array([-2.0, -1e-12, 0.0, 3.0])), [-1, -1, 1, 1])


def test_threshold_forward_matches_a_per_sample_loop_with_ties():
    rng = np.random.default_rng(1)
    widths = [4, 5, 3, 2]
    network = [(rng.integers(-2, 3, size=(a, b)).astype(float), rng.integers(-2, 3, size=b).astype(float))
               for a, b in zip(widths[:-1], widths[1:])]
    X = all_inputs(4)
    expected = []
    for row in X:
        signal = list(row)
        for W, b in network:
            signal = [1.0 if sum(s * W[i, j] for i, s in enumerate(signal)) + b[j] >= 0 else -1.0
                      for j in range(W.shape[1])]
        expected.append(signal)
    pre_activations = X @ network[0][0] + network[0][1]
    assert np.any(pre_activations == 0), "the case must contain ties to test f(0) = +1"
    np.testing.assert_array_equal(rep.threshold_forward(network, X), expected)


def test_threshold_forward_dtype_and_no_mutation():
    network = [(np.ones((2, 1)), np.zeros(1))]
    X = np.array([[1, -1], [-1, -1]])
    out = rep.threshold_forward(network, X)
    assert out.dtype == np.float64 and out.shape == (2, 1)
    assert rep.threshold_forward(network, X.astype(np.float32)).dtype == np.float32
    np.testing.assert_array_equal(X, [[1, -1], [-1, -1]])


@pytest.mark.parametrize("network, error", [
    ([], TypeError),
    ([(np.ones((3, 1)), np.zeros(1))], ValueError),  # X has 2 columns
    ([(np.ones((2, 2)), np.zeros(3))], ValueError),
    ([(np.ones((2, 2)), np.zeros(2)), (np.ones((3, 1)), np.zeros(1))], ValueError),
    ([np.ones((2, 1))], TypeError),
])
def test_threshold_forward_rejects_bad_networks(network, error):
    with pytest.raises(error, match="network|X"):
        rep.threshold_forward(network, np.ones((4, 2)))


def test_sigmoid_network_forward_matches_sklearn_mlpregressor():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(20, 3))
    model = MLPRegressor(hidden_layer_sizes=(5, 4), activation="logistic", max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, rng.normal(size=20))
    network = list(zip(model.coefs_, model.intercepts_))
    np.testing.assert_allclose(rep.sigmoid_network_forward(network, X).ravel(), model.predict(X), rtol=1e-12)


def test_sigmoid_is_stable_for_steep_slopes():
    z = np.array([-1e6, -50.0, 0.0, 50.0, 1e6])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(rep.sigmoid(z), torch.sigmoid(torch.from_numpy(z)).numpy(), atol=1e-15)


# --- logic units, XOR, DNF ----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("kind, combine", [("and", all), ("or", any)])
def test_logic_unit_exhaustive(n, kind, combine):
    X = all_inputs(n)
    for literals in itertools.product((-1, 0, 1), repeat=n):
        used = [(i, sign) for i, sign in enumerate(literals) if sign]
        expected = bipolar([combine(row[i] == sign for i, sign in used) for row in X])
        W, b = rep.logic_unit(np.array(literals), kind)
        assert W.shape == (n, 1) and b.shape == (1,)
        np.testing.assert_array_equal(run([(W, b)], X), expected, err_msg=f"{kind} {literals}")


def test_not_unit_and_lecture_gates():
    np.testing.assert_array_equal(run([rep.logic_unit([-1])], all_inputs(1)), [1, -1])
    np.testing.assert_array_equal(run([rep.logic_unit([1, 1], "and")], all_inputs(2)), [-1, -1, -1, 1])
    np.testing.assert_array_equal(run([rep.logic_unit([1, 1], "or")], all_inputs(2)), [-1, 1, 1, 1])


@pytest.mark.parametrize("literals, kind", [([2, 0], "and"), ([1, 1], "xor"), (np.ones((2, 1)), "and")])
def test_logic_unit_rejects_bad_arguments(literals, kind):
    with pytest.raises(ValueError):
        rep.logic_unit(literals, kind)


def test_xor_network_truth_table_of_deck_000():
    # deck 000's table in 0/1: (1,1)->0, (1,0)->1, (0,1)->1, (0,0)->0
    X = all_inputs(2)
    expected = bipolar([(a > 0) != (b > 0) for a, b in X])
    np.testing.assert_array_equal(run(rep.xor_network(), X), expected)
    assert [W.shape for W, _ in rep.xor_network()] == [(2, 2), (2, 1)]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_dnf_network_computes_random_boolean_functions(n):
    rng = np.random.default_rng(n)
    X = all_inputs(n)
    for _ in range(10):
        y = bipolar(rng.random(2**n) < 0.5)
        network = rep.dnf_network(X, y)
        np.testing.assert_array_equal(run(network, X), y)
        assert network[0][0].shape == (n, int(np.sum(y > 0)))  # one hidden unit per positive row
        order = rng.permutation(2**n)  # the row order of the table does not matter
        np.testing.assert_array_equal(run(rep.dnf_network(X[order], y[order]), X), y)


def test_dnf_network_constant_functions_and_0_1_targets():
    X = all_inputs(3)
    np.testing.assert_array_equal(run(rep.dnf_network(X, -np.ones(8)), X), -np.ones(8))
    np.testing.assert_array_equal(run(rep.dnf_network(X, np.ones(8)), X), np.ones(8))
    y01 = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    np.testing.assert_array_equal(run(rep.dnf_network(X, y01), X), 2 * y01 - 1)


def test_dnf_network_deck_001_five_variable_example():
    # y = X̄1X̄2X3X4X̄5 + X̄1X2X̄3X4X5 + X̄1X2X3X̄4X̄5 + X1X̄2X̄3X̄4X5 + X1X̄2X3X4X5 + X1X2X̄3X̄4X5
    terms = ["00110", "01011", "01100", "10001", "10111", "11001"]
    X = all_inputs(5)
    y = bipolar(["".join("1" if v > 0 else "0" for v in row) in terms for row in X])
    network = rep.dnf_network(X, y)
    assert rep.count_units_and_parameters(network)[0] == 6 + 1
    np.testing.assert_array_equal(run(network, X), y)


def test_dnf_network_rejects_binary_inputs():
    with pytest.raises(ValueError, match="bipolar"):
        rep.dnf_network(np.array([[0.0, 1.0], [1.0, 1.0]]), np.array([1, -1]))
    with pytest.raises(ValueError, match="same number"):
        rep.dnf_network(all_inputs(2), np.ones(3))


# --- parity: wide vs deep -----------------------------------------------------------------------------


def parity(X):
    return bipolar([sum(v > 0 for v in row) % 2 == 1 for row in X])


@pytest.mark.parametrize("n", range(2, 10))
def test_xor_tree_computes_parity_with_log_depth(n):
    X = all_inputs(n)
    network = rep.xor_tree_network(n)
    np.testing.assert_array_equal(run(network, X), parity(X))
    assert len(network) == 2 * math.ceil(math.log2(n))


@pytest.mark.parametrize("n", [2, 4, 8, 16])
def test_xor_tree_counts_of_deck_001_for_powers_of_two(n):
    # deck 001: 3(N-1) nodes, 9(N-1) weights and biases
    assert rep.count_units_and_parameters(rep.xor_tree_network(n)) == (3 * (n - 1), 9 * (n - 1))


@pytest.mark.parametrize("n", [3, 5, 6, 7])
def test_xor_tree_pass_through_cost(n):
    # every level with an odd number of signals adds one pass-through unit in each of its two layers
    signals, odd_levels = n, 0
    while signals > 1:
        odd_levels += signals % 2
        signals = (signals + 1) // 2
    units, parameters = rep.count_units_and_parameters(rep.xor_tree_network(n))
    assert (units, parameters) == (3 * (n - 1) + 2 * odd_levels, 9 * (n - 1) + 4 * odd_levels)


@pytest.mark.parametrize("n", [2, 3, 4, 6])
def test_wide_parity_counts_of_deck_001(n):
    X = all_inputs(n)
    network = rep.dnf_network(X, parity(X))
    np.testing.assert_array_equal(run(network, X), parity(X))
    # 2^(N-1) hidden units (+1 output); (N+2)2^(N-1) weights and biases plus the output unit's bias
    assert rep.count_units_and_parameters(network) == (2 ** (n - 1) + 1, (n + 2) * 2 ** (n - 1) + 1)


def test_xor_tree_rejects_bad_sizes():
    with pytest.raises(ValueError):
        rep.xor_tree_network(1)
    with pytest.raises(TypeError):
        rep.xor_tree_network(2.0)


def test_count_ignores_zero_weights_but_counts_every_bias():
    network = [(np.array([[1.0, 0.0, 2.0], [0.0, 0.0, -1.0]]), np.zeros(3)), (np.ones((3, 1)), np.array([5.0]))]
    assert rep.count_units_and_parameters(network) == (4, 3 + 3 + 3 + 1)


# --- decision regions ---------------------------------------------------------------------------------


def polygon(n_vertices, rng, centre=(0.0, 0.0)):
    """A random convex polygon: points at sorted angles on an ellipse, counter-clockwise."""
    angles = np.sort(rng.uniform(0, 2 * np.pi, n_vertices))
    radii = rng.uniform(0.5, 2.0, 2)
    return np.column_stack([radii[0] * np.cos(angles), radii[1] * np.sin(angles)]) + centre


def membership(vertices, points):
    """Inside/outside by matplotlib (boundary points excluded by the caller)."""
    return Path(np.vstack([vertices, vertices[:1]]), closed=True).contains_points(points)


@pytest.mark.parametrize("n_vertices", [3, 4, 5, 8])
@pytest.mark.parametrize("clockwise", [False, True])
def test_convex_polygon_network_membership(n_vertices, clockwise):
    rng = np.random.default_rng(n_vertices)
    vertices = polygon(n_vertices, rng)
    if clockwise:
        vertices = vertices[::-1]
    points = rng.uniform(-2.5, 2.5, size=(2000, 2))
    expected = membership(vertices, points)
    network = rep.convex_polygon_network(vertices)
    assert [W.shape for W, _ in network] == [(2, n_vertices), (n_vertices, 1)]
    np.testing.assert_array_equal(run(network, points), bipolar(expected))
    assert expected.any() and not expected.all()


def test_convex_polygon_unit_square_by_hand():
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    points = np.array([[0.5, 0.5], [1.5, 0.5], [0.5, -0.1], [-0.1, 0.9], [0.2, 1.01], [1.0, 1.0]])
    np.testing.assert_array_equal(run(rep.convex_polygon_network(square), points), [1, -1, -1, -1, -1, 1])


def test_convex_polygon_rejects_degenerate_input():
    with pytest.raises(ValueError):
        rep.convex_polygon_network(np.array([[0.0, 0.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="collinear"):
        rep.convex_polygon_network(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]))


def test_union_network_is_the_or_of_polygons():
    rng = np.random.default_rng(3)
    shapes = [polygon(4, rng, (-1.0, 0.0)), polygon(5, rng, (1.2, 0.5))[::-1], polygon(3, rng, (0.0, -1.5))]
    network = rep.union_network([rep.convex_polygon_network(v) for v in shapes])
    assert len(network) == 3
    points = rng.uniform(-3, 3, size=(3000, 2))
    expected = np.any([membership(v, points) for v in shapes], axis=0)
    np.testing.assert_array_equal(run(network, points), bipolar(expected))


# --- universal approximation ------------------------------------------------------------------------


def torch_sigmoid(z):
    return torch.sigmoid(torch.as_tensor(z, dtype=torch.float64)).numpy()


def test_single_pulse_is_difference_of_two_sigmoids():
    x = np.linspace(-1, 3, 101)[:, None]
    network = rep.pulse_network(lambda t: np.ones_like(t), 0.5, 1.5, 1, 40.0)
    expected = torch_sigmoid(40 * (x - 0.5)) - torch_sigmoid(40 * (x - 1.5))
    assert [W.shape for W, _ in network] == [(1, 2), (2, 1)]  # the 3-unit MLP of deck 001
    np.testing.assert_allclose(rep.sigmoid_network_forward(network, x), expected, atol=1e-12)


def test_pulse_sum_matches_its_formula():
    x = np.linspace(-0.5, 2.5, 77)[:, None]
    n, slope, lo, hi = 5, 25.0, 0.0, 2.0
    edges = [lo + k * (hi - lo) / n for k in range(n + 1)]
    expected = sum(math.cos(3 * (edges[k] + edges[k + 1]) / 2)
                   * (torch_sigmoid(slope * (x - edges[k])) - torch_sigmoid(slope * (x - edges[k + 1])))
                   for k in range(n))
    network = rep.pulse_network(lambda t: np.cos(3 * t), lo, hi, n, slope)
    np.testing.assert_allclose(rep.sigmoid_network_forward(network, x), expected, atol=1e-12)


def test_pulse_error_shrinks_as_pulses_narrow():
    f = lambda t: np.sin(2 * t) + 0.5 * t  # noqa: E731  Lipschitz constant 2.5
    x = np.linspace(0.0, 3.0, 3001)
    errors = []
    for n in (4, 8, 16, 32, 64):
        width = 3.0 / n
        network = rep.pulse_network(f, 0.0, 3.0, n, slope=200.0 / width)
        error = np.abs(rep.sigmoid_network_forward(network, x[:, None]).ravel() - f(x))
        distance_to_edge = np.abs(x / width - np.round(x / width)) * width
        inner = distance_to_edge > 0.05 * width  # the sigmoids have settled there
        assert np.max(error[inner]) <= 2.5 * width / 2 + 1e-3  # Lipschitz bound for the midpoint height
        errors.append(np.mean(error))
    assert all(later < earlier for earlier, later in zip(errors, errors[1:]))


def test_pulse_network_rejects_bad_arguments():
    with pytest.raises(ValueError):
        rep.pulse_network(np.sin, 1.0, 0.0, 3, 10.0)
    with pytest.raises(ValueError):
        rep.pulse_network(np.sin, 0.0, 1.0, 0, 10.0)
    with pytest.raises(ValueError):
        rep.pulse_network(np.sin, 0.0, 1.0, 3, -1.0)
    with pytest.raises(TypeError):
        rep.pulse_network(3.0, 0.0, 1.0, 3, 1.0)
