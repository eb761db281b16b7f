"""nnkit.datasets against independent oracles: literal truth tables from decks 000/001, CS231n's spiral
code, linear programming (separability), scikit-learn (digits, scaler, SVM margin) and torch (one-hot)."""

import numpy as np
import pytest
import torch
from scipy.optimize import linprog
from sklearn.datasets import load_digits
from sklearn.linear_model import Perceptron
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from nnkit import datasets as ds

# ----------------------------------------------------------------------------------------------------
# Boolean functions
# ----------------------------------------------------------------------------------------------------

INPUTS_2 = [[0, 0], [0, 1], [1, 0], [1, 1]]
LITERAL_TABLES = {  # target column for the rows of INPUTS_2, written out by hand
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "nand": [1, 1, 1, 0],
    "nor": [1, 0, 0, 0],
    "xor": [0, 1, 1, 0],
    "parity": [0, 1, 1, 0],
}


@pytest.mark.parametrize("name", sorted(LITERAL_TABLES))
def test_two_input_tables_match_the_written_truth_tables(name):
    X, y = ds.boolean_table(name)
    np.testing.assert_array_equal(X, INPUTS_2)
    np.testing.assert_array_equal(y, LITERAL_TABLES[name])
    assert X.dtype == np.float64 and y.dtype == np.int64


def test_xor_matches_deck_000_table_in_any_row_order():
    # deck 000 lists XOR as (1,1)->0, (1,0)->1, (0,1)->1, (0,0)->0
    deck = {(1, 1): 0, (1, 0): 1, (0, 1): 1, (0, 0): 0}
    X, y = ds.boolean_table("XOR")
    assert {tuple(int(v) for v in row): int(t) for row, t in zip(X, y)} == deck


def test_bipolar_encoding_uses_plus_minus_one_as_deck_001():
    X, y = ds.boolean_table("xor", encoding="bipolar")
    np.testing.assert_array_equal(X, [[-1, -1], [-1, 1], [1, -1], [1, 1]])
    np.testing.assert_array_equal(y, [-1, 1, 1, -1])
    _, y_and = ds.boolean_table("and", encoding="bipolar")
    np.testing.assert_array_equal(y_and, [-1, -1, -1, 1])


def test_parity_of_three_inputs():
    X, y = ds.boolean_table("parity", 3)
    expected_rows = [[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)]
    np.testing.assert_array_equal(X, expected_rows)
    np.testing.assert_array_equal(y, [0, 1, 1, 0, 1, 0, 0, 1])


@pytest.mark.parametrize("n_inputs", [1, 4, 5])
def test_n_input_functions_follow_their_definition(n_inputs):
    rows = np.array([[int(bit) for bit in format(i, f"0{n_inputs}b")] for i in range(2**n_inputs)])
    ones = rows.sum(axis=1)
    expected = {"and": ones == n_inputs, "or": ones > 0, "nand": ones < n_inputs, "nor": ones == 0,
                "parity": ones % 2 == 1}
    for name, target in expected.items():
        X, y = ds.boolean_table(name, n_inputs)
        np.testing.assert_array_equal(X, rows)
        np.testing.assert_array_equal(y, target.astype(int), err_msg=name)


def test_truth_table_of_any_function():
    X, y = ds.truth_table(lambda a, b: (not a) or b, 2)  # implication a -> b
    np.testing.assert_array_equal(X, INPUTS_2)
    np.testing.assert_array_equal(y, [1, 1, 0, 1])
    _, y_bipolar = ds.truth_table(lambda a, b, c: a and (b or c), 3, "bipolar")
    np.testing.assert_array_equal(y_bipolar, [-1, -1, -1, -1, -1, 1, 1, 1])


def test_boolean_bad_arguments():
    with pytest.raises(ValueError, match="name must be one of"):
        ds.boolean_table("xnor")
    with pytest.raises(ValueError, match="encoding"):
        ds.boolean_table("and", encoding="signed")
    with pytest.raises(ValueError, match="n_inputs"):
        ds.boolean_table("and", 0)
    with pytest.raises(TypeError, match="fn must be a callable"):
        ds.truth_table("and", 2)


# ----------------------------------------------------------------------------------------------------
# Randomness
# ----------------------------------------------------------------------------------------------------

RANDOM_DATASETS = {
    "blobs": lambda rng: ds.blobs(60, 3, rng=rng),
    "linearly_separable": lambda rng: ds.linearly_separable(50, rng=rng),
    "noisy_linear": lambda rng: ds.noisy_linear(50, rng=rng),
    "spiral": lambda rng: ds.spiral(20, 3, rng=rng),
    "moons": lambda rng: ds.moons(40, rng=rng),
    "circles": lambda rng: ds.circles(40, rng=rng),
    "regression_1d": lambda rng: ds.regression_1d(np.sin, 30, rng=rng),
}


@pytest.mark.parametrize("make", RANDOM_DATASETS.values(), ids=RANDOM_DATASETS.keys())
def test_random_datasets_are_reproducible_and_seeded_only_by_rng(make):
    state_before = np.random.get_state()[1].copy()
    X_seed, y_seed = make(7)
    X_gen, y_gen = make(np.random.default_rng(7))
    X_other, _ = make(np.random.default_rng(8))
    np.testing.assert_array_equal(X_seed, X_gen)
    np.testing.assert_array_equal(y_seed, y_gen)
    assert not np.array_equal(X_seed, X_other)
    np.testing.assert_array_equal(np.random.get_state()[1], state_before)  # global state untouched
    assert X_seed.dtype == np.float64 and X_seed.ndim == 2 and len(X_seed) == len(y_seed)


@pytest.mark.parametrize("bad_rng", [None, np.random.RandomState(0), 1.5, True])
def test_rng_must_be_a_generator_or_an_int(bad_rng):
    with pytest.raises(TypeError, match="rng must be a np.random.Generator"):
        ds.spiral(rng=bad_rng)


# ----------------------------------------------------------------------------------------------------
# Two-dimensional problems
# ----------------------------------------------------------------------------------------------------


def test_blobs_centers_spread_and_class_sizes():
    centers = np.array([[0.0, 0.0], [5.0, 1.0]])
    X, y = ds.blobs(2001, centers, cluster_std=0.7, rng=0)
    assert X.shape == (2001, 2) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [1001, 1000])
    for k, center in enumerate(centers):
        members = X[y == k]
        np.testing.assert_allclose(members.mean(axis=0), center, atol=4 * 0.7 / np.sqrt(len(members)))
        np.testing.assert_allclose(members.std(axis=0), 0.7, rtol=0.1)


def test_default_blobs_are_separable():
    X, y = ds.blobs(300, 4, rng=3)
    assert set(np.unique(y)) == {0, 1, 2, 3}
    assert SVC(kernel="linear", C=1e6).fit(X, y).score(X, y) == 1.0


def _separable_by_lp(X, y):
    """Linear programming oracle: is there (w, b) with (2y-1)(w·x + b) >= 1 for every sample?"""
    signs = 2 * y - 1
    A_ub = -signs[:, None] * np.column_stack([X, np.ones(len(X))])
    result = linprog(np.zeros(X.shape[1] + 1), A_ub=A_ub, b_ub=-np.ones(len(X)), bounds=(None, None))
    assert result.status in (0, 2), result.message
    return result.status == 0


@pytest.mark.parametrize("seed", range(4))
def test_linearly_separable_is_separable_with_the_margin(seed):
    X, y = ds.linearly_separable(80, margin=0.2, rng=seed)
    assert X.shape == (80, 2) and set(np.unique(y)) == {0, 1}
    assert np.all(np.abs(X) <= 1)
    assert _separable_by_lp(X, y)
    assert Perceptron(max_iter=1000, tol=None, random_state=0).fit(X, y).score(X, y) == 1.0
    svm = SVC(kernel="linear", C=1e8).fit(X, 2 * y - 1)  # hard margin: the widest separating band
    assert 1 / np.linalg.norm(svm.coef_) >= 0.2 - 1e-6


def test_linearly_separable_boundary_and_dimensions():
    X, y, w, b = ds.linearly_separable(200, n_features=5, margin=0.05, rng=1, return_boundary=True)
    assert X.shape == (200, 5) and w.shape == (5,)
    np.testing.assert_allclose(np.linalg.norm(w), 1.0)
    distance = X @ w + b
    assert np.all(np.abs(distance) >= 0.05)
    np.testing.assert_array_equal(y, distance > 0)
    assert _separable_by_lp(X, y)


@pytest.mark.parametrize("seed", range(4))
def test_noisy_linear_is_not_separable_but_is_without_noise(seed):
    X, y = ds.noisy_linear(100, flip_fraction=0.1, rng=seed)
    assert X.shape == (100, 2) and y.dtype == np.int64
    assert not _separable_by_lp(X, y)
    X_clean, y_clean = ds.noisy_linear(100, flip_fraction=0.0, rng=seed)
    np.testing.assert_array_equal(X_clean, X)  # same points, only labels differ
    assert _separable_by_lp(X_clean, y_clean)
    assert np.sum(y != y_clean) == 10


def test_spiral_is_cs231n_code():
    # CS231n "Putting it together: minimal neural network case study", np.random.randn -> rng draws
    rng = np.random.default_rng(42)
    N, D, K = 100, 2, 3
    X_ref = np.zeros((N * K, D))
    y_ref = np.zeros(N * K, dtype="uint8")
    for j in range(K):
        ix = range(N * j, N * (j + 1))
        r = np.linspace(0.0, 1, N)
        t = np.linspace(j * 4, (j + 1) * 4, N) + rng.standard_normal(N) * 0.2
        X_ref[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y_ref[ix] = j
    X, y = ds.spiral(rng=np.random.default_rng(42))
    np.testing.assert_allclose(X, X_ref, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(y, y_ref)
    assert X.dtype == np.float64 and y.dtype == np.int64


def test_spiral_geometry():
    X, y = ds.spiral(500, 4, noise=0.3, rng=5)
    for j in range(4):
        members = X[y == j]
        np.testing.assert_allclose(np.hypot(members[:, 0], members[:, 1]), np.linspace(0, 1, 500), atol=1e-12)
        angle = np.arctan2(members[:, 0], members[:, 1])  # x = r sin t, y = r cos t
        residual = np.angle(np.exp(1j * (angle - np.linspace(4 * j, 4 * j + 4, 500))))[1:]  # r=0 has no angle
        assert 0.25 < residual.std() < 0.35


def test_moons_and_circles_without_noise_lie_on_their_curves():
    X, y = ds.moons(100, noise=0.0, rng=0)
    np.testing.assert_array_equal(np.bincount(y), [50, 50])
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)
    assert np.all(upper[:, 1] >= -1e-12)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    X, y = ds.circles(100, noise=0.0, factor=0.3, rng=0)
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0)
    np.testing.assert_allclose(np.hypot(*X[y == 1].T), 0.3)
    assert np.all(np.diff(y) >= 0)  # grouped by class


# ----------------------------------------------------------------------------------------------------
# Regression and real data
# ----------------------------------------------------------------------------------------------------


def test_regression_1d():
    X, y = ds.regression_1d(np.sin, 40, noise=0.0, x_range=(-3, 3), rng=0)
    assert X.shape == (40, 1) and y.shape == (40,)
    assert np.all(np.diff(X[:, 0]) >= 0) and X.min() >= -3 and X.max() <= 3
    np.testing.assert_allclose(y, [np.sin(v) for v in X[:, 0]])
    X, y = ds.regression_1d(lambda x: 2 * x + 1, 4000, noise=0.5, rng=0)
    assert abs((y - (2 * X[:, 0] + 1)).std() - 0.5) < 0.03
    with pytest.raises(ValueError, match="same shape"):
        ds.regression_1d(lambda x: x[:3], 10, rng=0)
    with pytest.raises(ValueError, match="x_range"):
        ds.regression_1d(np.sin, 10, x_range=(1, 1), rng=0)


def test_digits_split():
    (X_train, y_train), (X_test, y_test) = ds.digits()
    assert X_train.shape == (1437, 64) and X_test.shape == (360, 64)
    assert X_train.dtype == np.float64 and y_train.dtype == np.int64
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    reference = load_digits()
    all_rows = np.concatenate([X_train, X_test]) * 16
    order = np.lexsort(all_rows.T)
    ref_order = np.lexsort(reference.data.T)
    np.testing.assert_array_equal(all_rows[order], reference.data[ref_order])
    np.testing.assert_array_equal(np.concatenate([y_train, y_test])[order], reference.target[ref_order])
    # stratified: every class keeps its share of the test set (within one sample)
    expected_test = np.bincount(reference.target) * 360 / 1797
    assert np.all(np.abs(np.bincount(y_test) - expected_test) <= 1)
    (again, _), _ = ds.digits()
    np.testing.assert_array_equal(again, X_train)
    (images, _), _ = ds.digits(flatten=False)
    np.testing.assert_array_equal(images.reshape(-1, 64), X_train)


# ----------------------------------------------------------------------------------------------------
# Preparing data
# ----------------------------------------------------------------------------------------------------


def test_train_val_split_partitions_and_keeps_pairs():
    X = np.arange(50, dtype=np.float32).reshape(25, 2)
    y = np.arange(25) * 10
    X_before, y_before = X.copy(), y.copy()
    (X_tr, y_tr), (X_val, y_val) = ds.train_val_split(X, y, 0.2, rng=0)
    assert len(X_val) == 5 and len(X_tr) == 20 and X_tr.dtype == np.float32
    np.testing.assert_array_equal(np.sort(np.concatenate([y_tr, y_val])), y)
    np.testing.assert_array_equal(X_tr[:, 0] * 5, y_tr)  # rows stay paired with their labels
    np.testing.assert_array_equal(X_val[:, 0] * 5, y_val)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    (_, y_tr2), _ = ds.train_val_split(X, y, 0.2, rng=0)
    np.testing.assert_array_equal(y_tr2, y_tr)


def test_train_val_split_bad_input():
    with pytest.raises(ValueError, match=r"X and y must have the same number of samples.*\(10, 2\).*\(9,\)"):
        ds.train_val_split(np.zeros((10, 2)), np.zeros(9), rng=0)
    with pytest.raises(ValueError, match="val_fraction"):
        ds.train_val_split(np.zeros((10, 2)), np.zeros(10), 1.0, rng=0)
    (_, y_tr), (_, y_val) = ds.train_val_split(np.zeros((3, 1)), np.arange(3), 0.01, rng=0)
    assert len(y_val) == 1 and len(y_tr) == 2


def test_one_hot_matches_torch():
    y = np.array([2, 0, 1, 2, 4])
    expected = torch.nn.functional.one_hot(torch.tensor(y), num_classes=6).numpy()
    encoded = ds.one_hot(y, 6)
    np.testing.assert_array_equal(encoded, expected)
    assert encoded.dtype == np.float64
    np.testing.assert_array_equal(ds.one_hot(y), torch.nn.functional.one_hot(torch.tensor(y)).numpy())
    with pytest.raises(ValueError, match="class index 4 but there are only 3 classes"):
        ds.one_hot(y, 3)
    with pytest.raises(TypeError, match="integer class indices"):
        ds.one_hot(np.array([0.5, 1.0]))


def test_standardize_matches_sklearn_scaler():
    rng = np.random.default_rng(0)
    X_train = rng.normal(3.0, 2.0, size=(50, 4))
    X_train[:, 2] = 7.0  # a constant feature, like MNIST's border pixels
    X_test = rng.normal(3.0, 2.0, size=(20, 4))
    before = X_train.copy(), X_test.copy()
    scaler = StandardScaler().fit(X_train)
    train_std, test_std = ds.standardize(X_train, X_test)
    np.testing.assert_allclose(train_std, scaler.transform(X_train), atol=1e-12)
    np.testing.assert_allclose(test_std, scaler.transform(X_test), atol=1e-12)
    np.testing.assert_array_equal(X_train, before[0])
    np.testing.assert_array_equal(X_test, before[1])
    single = ds.standardize(X_train.astype(np.float32))
    assert isinstance(single, np.ndarray) and single.dtype == np.float32
    np.testing.assert_allclose(single, scaler.transform(X_train), atol=1e-5)
    with pytest.raises(ValueError, match=r"others\[0\] must have 4 columns.*\(3, 2\)"):
        ds.standardize(X_train, np.zeros((3, 2)))
