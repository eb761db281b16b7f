"""nnref.perceptron against scikit-learn's Perceptron (update for update) and hand computations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.datasets import make_blobs
import torch
from sklearn.linear_model import Perceptron as SkPerceptron

from nnref.activations import hard_limit, relu, sigmoid
from nnref.perceptron import (
    Perceptron,
    boundary_line,
    mcculloch_pitts,
    neuron_output,
    perceptron_epoch,
    perceptron_predict,
    train_perceptron,
)

BOOLEAN_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


def _blobs(seed, n=40):
    X, y = make_blobs(n_samples=n, centers=[[-2, -2], [2, 2]], cluster_std=0.8, random_state=seed)
    return X, y


DATASETS = {
    "AND": (BOOLEAN_INPUTS, np.array([0, 0, 0, 1])),
    "OR": (BOOLEAN_INPUTS, np.array([0, 1, 1, 1])),
    "NAND": (BOOLEAN_INPUTS, np.array([1, 1, 1, 0])),
    "XOR": (BOOLEAN_INPUTS, np.array([0, 1, 1, 0])),
    "lecture X1/X2": (np.array([[2.0, 1.0], [1.0, 2.0]]), np.array([1, 2])),
    "blobs": _blobs(0),
    "overlapping blobs": make_blobs(n_samples=30, centers=2, cluster_std=3.0, random_state=7),
}
ENCODINGS = {
    "0/1": lambda y: y,
    "-1/+1": lambda y: np.where(y == y.max(), 1, -1),
    "strings": lambda y: np.where(y == y.max(), "yes", "no"),
}


def sklearn_perceptron(**kwargs):
    return SkPerceptron(eta0=1.0, shuffle=False, penalty=None, tol=None, **kwargs)


@pytest.mark.parametrize("encoding", ENCODINGS, ids=str)
@pytest.mark.parametrize("name", DATASETS, ids=str)
def test_every_single_update_equals_sklearn(name, encoding):
    X, y = DATASETS[name]
    y = ENCODINGS[encoding](y)
    classes = np.unique(y)
    signs = np.where(y == classes[1], 1.0, -1.0)
    reference = sklearn_perceptron()
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(4 if len(X) <= 4 else 2):  # epochs
        for i in range(len(X)):
            reference.partial_fit(X[i : i + 1], y[i : i + 1], classes=classes)
            w, b, _ = perceptron_epoch(w, b, X[i : i + 1], signs[i : i + 1], eta=1.0)
            np.testing.assert_allclose(w, reference.coef_[0], rtol=1e-12, atol=1e-12)
            assert b == pytest.approx(reference.intercept_[0], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("name", DATASETS, ids=str)
def test_fit_after_each_epoch_equals_sklearn(name, fit_intercept):
    X, y = DATASETS[name]
    for epochs in range(1, 9):
        ours = Perceptron(max_epochs=epochs, fit_intercept=fit_intercept).fit(X, y)
        theirs = sklearn_perceptron(max_iter=epochs, fit_intercept=fit_intercept).fit(X, y)
        np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(ours.classes_, theirs.classes_)
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
        np.testing.assert_allclose(ours.decision_function(X), theirs.decision_function(X), rtol=1e-12, atol=1e-12)
        assert ours.score(X, y) == theirs.score(X, y)


@pytest.mark.parametrize("eta", [0.1, 2.5])
def test_learning_rate_equals_sklearn_eta0(eta):
    X, y = DATASETS["blobs"]
    ours = Perceptron(eta=eta, max_epochs=5).fit(X, y)
    theirs = SkPerceptron(eta0=eta, shuffle=False, penalty=None, tol=None, max_iter=5).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-12)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    X=hnp.arrays(np.float64, st.tuples(st.integers(2, 8), st.integers(1, 3)), elements=st.integers(-3, 3)),
    data=st.data(),
)
def test_random_small_datasets_equal_sklearn(X, data):
    y = np.array(data.draw(st.lists(st.sampled_from([3, 7]), min_size=len(X), max_size=len(X))))
    if len(np.unique(y)) < 2:
        y[0], y[-1] = 3, 7
    ours = Perceptron(max_epochs=6).fit(X, y)
    theirs = sklearn_perceptron(max_iter=6).fit(X, y)
    np.testing.assert_array_equal(ours.coef_, theirs.coef_)  # integer data: exact
    np.testing.assert_array_equal(ours.intercept_, theirs.intercept_)


def test_boundary_sample_counts_as_a_mistake_for_both_classes():
    # sklearn updates when y·net ≤ 0: from w = 0 the first sample is corrected whatever its class
    x = np.array([[1.0, 2.0]])
    w, b, n = perceptron_epoch(np.zeros(2), 0.0, x, np.array([-1.0]))
    np.testing.assert_array_equal(w, [-1.0, -2.0])
    assert (b, n) == (-1.0, 1)
    w, b, n = perceptron_epoch(np.zeros(2), 0.0, x, np.array([1.0]))
    np.testing.assert_array_equal(w, [1.0, 2.0])
    assert (b, n) == (1.0, 1)


def test_net_zero_predicts_the_negative_class_as_sklearn():
    X, y = DATASETS["AND"]
    theirs = sklearn_perceptron(max_iter=1).fit(X, y)
    theirs.coef_, theirs.intercept_ = np.zeros((1, 2)), np.zeros(1)
    np.testing.assert_array_equal(perceptron_predict(np.zeros(2), 0.0, X), [-1, -1, -1, -1])
    np.testing.assert_array_equal(theirs.predict(X), [0, 0, 0, 0])


def test_lecture_example_x1_x2_by_hand():
    # Deck 000: X¹ = (2, 1) is class 1 (o < 0), X² = (1, 2) is class 2 (o > 0); o = w₁x₁ + w₂x₂.
    # Epoch 1: w = 0, X¹ (y = −1): net 0 → mistake, w = −(2, 1) = (−2, −1);
    #          X² (y = +1): net = −2 − 2 = −4 → mistake, w = (−2, −1) + (1, 2) = (−1, 1).
    # Epoch 2: X¹: net = −2 + 1 = −1 < 0 ✓; X²: net = −1 + 2 = 1 > 0 ✓ → converged.
    X, y = DATASETS["lecture X1/X2"]
    model = Perceptron(fit_intercept=False).fit(X, y)
    np.testing.assert_array_equal(model.coef_, [[-1.0, 1.0]])
    np.testing.assert_array_equal(model.intercept_, [0.0])
    assert (model.n_updates_, model.n_epochs_, model.converged_) == (2, 2, True)
    np.testing.assert_array_equal(model.decision_function(X), [-1.0, 1.0])
    np.testing.assert_array_equal(model.predict(X), [1, 2])
    # the decision boundary o(X) = 0 is the line x₂ = x₁
    np.testing.assert_array_equal(model.decision_function(np.array([[3.0, 3.0]])), [0.0])


@pytest.mark.parametrize("name", ["AND", "OR", "NAND", "blobs"])
def test_separable_data_converge_to_zero_training_error(name):
    X, y = DATASETS[name]
    model = Perceptron().fit(X, y)
    assert model.converged_
    assert model.n_epochs_ < 1000
    assert model.score(X, y) == 1.0
    # the last epoch made no update: one more epoch changes nothing
    w, b, n = perceptron_epoch(model.coef_[0], model.intercept_[0], X, np.where(y == model.classes_[1], 1, -1))
    assert n == 0


def test_xor_never_converges():
    X, y = DATASETS["XOR"]
    model = Perceptron(max_epochs=50).fit(X, y)
    assert not model.converged_
    assert model.n_epochs_ == model.n_iter_ == 50
    assert model.score(X, y) < 1.0
    assert model.n_updates_ >= 50  # at least one mistake per epoch


def test_shuffle_draws_from_rng_and_is_reproducible():
    X, y = _blobs(1, n=60)
    a = Perceptron(shuffle=True, rng=np.random.default_rng(5)).fit(X, y)
    b = Perceptron(shuffle=True, rng=np.random.default_rng(5)).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.converged_ and a.score(X, y) == 1.0
    with pytest.raises(TypeError, match="rng"):
        Perceptron(shuffle=True)


def test_mcculloch_pitts_truth_tables():
    # y = 1 when Σ wᵢxᵢ ≥ θ (deck 001): AND needs θ = 2, OR θ = 1 with unit weights; z = θ fires.
    np.testing.assert_array_equal(mcculloch_pitts(BOOLEAN_INPUTS, np.ones(2), 2), [0, 0, 0, 1])
    np.testing.assert_array_equal(mcculloch_pitts(BOOLEAN_INPUTS, np.ones(2), 1), [0, 1, 1, 1])
    np.testing.assert_array_equal(mcculloch_pitts(BOOLEAN_INPUTS, -np.ones(2), 0), [1, 0, 0, 0])  # NOR
    assert mcculloch_pitts(np.array([1.0, 1.0]), np.ones(2), 2) == 1.0
    assert mcculloch_pitts(np.array([1, 1], dtype=np.float32), np.ones(2), 3).dtype == np.float32


def test_inputs_are_not_mutated():
    X, y = DATASETS["blobs"]
    X0, y0 = X.copy(), y.copy()
    w, b = np.zeros(2), 0.0
    perceptron_epoch(w, b, X, np.where(y == 1, 1.0, -1.0))
    Perceptron().fit(X, y).predict(X)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(w, np.zeros(2))


def test_bad_input_messages():
    X, y = DATASETS["AND"]
    with pytest.raises(ValueError, match=r"exactly two classes, got 3"):
        Perceptron().fit(np.zeros((3, 2)), [0, 1, 2])
    with pytest.raises(ValueError, match=r"X must be 2-D, got shape \(4,\)"):
        Perceptron().fit(np.zeros(4), y)
    with pytest.raises(ValueError, match=r"X has shape \(4, 2\), y has shape \(3,\)"):
        Perceptron().fit(X, y[1:])
    with pytest.raises(ValueError, match=r"X has 2 features but w has 3 weights"):
        perceptron_epoch(np.zeros(3), 0.0, X, np.ones(4))
    with pytest.raises(ValueError, match=r"-1 and \+1"):
        perceptron_epoch(np.zeros(2), 0.0, X, np.array([0.0, 1, 1, 0]))
    with pytest.raises(ValueError, match="not fitted"):
        Perceptron().predict(X)
    with pytest.raises(ValueError, match=r"fitted with 2.*shape \(4, 3\)"):
        Perceptron().fit(X, y).predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"x has 2 inputs per sample but weights has 3"):
        mcculloch_pitts(X, np.ones(3), 1)
    with pytest.raises(ValueError, match="eta"):
        Perceptron(eta=0)


# --- neuron_output, boundary_line, train_perceptron (the functional forms notebook 01 grades) --------


@pytest.mark.parametrize("activation, torch_activation", [
    (hard_limit, lambda net: torch.where(net >= 0, 1.0, -1.0)),
    (sigmoid, torch.sigmoid),
    (relu, torch.relu),
    (np.tanh, torch.tanh),
], ids=["hard_limit", "sigmoid", "relu", "tanh"])
def test_neuron_output_equals_torch(activation, torch_activation):
    rng = np.random.default_rng(0)
    w, b, X = rng.normal(size=4), 0.7, rng.normal(size=(9, 4))
    net = torch.nn.functional.linear(torch.tensor(X), torch.tensor(w[None, :]), torch.tensor([b], dtype=torch.float64))
    expected = torch_activation(net[:, 0]).numpy()
    np.testing.assert_allclose(neuron_output(w, b, X, activation), expected, rtol=1e-12, atol=1e-12)


def test_neuron_output_lecture_example_and_no_bias():
    X = np.array([[2.0, 1.0], [1.0, 2.0]])  # deck 000: X1 in class 1 (o < 0), X2 in class 2 (o > 0)
    np.testing.assert_array_equal(neuron_output(np.array([-1.0, 1.0]), None, X, hard_limit), [-1.0, 1.0])
    with pytest.raises(TypeError, match="activation"):
        neuron_output(np.ones(2), 0.0, X, "relu")
    with pytest.raises(ValueError, match=r"X has 2 features but w has 3 weights"):
        neuron_output(np.ones(3), 0.0, X, relu)


@pytest.mark.parametrize("w, b, expected", [
    ((-1.0, 1.0), 0.0, (1.0, 0.0)),   # deck 000's example: the diagonal x2 = x1
    ((1.0, 2.0), 4.0, (-0.5, -2.0)),  # x1 + 2 x2 + 4 = 0  <=>  x2 = -x1/2 - 2
    ((3.0, -1.5), -3.0, (2.0, -2.0)),  # 3 x1 - 1.5 x2 - 3 = 0  <=>  x2 = 2 x1 - 2
])
def test_boundary_line_by_hand(w, b, expected):
    assert boundary_line(np.array(w), b) == pytest.approx(expected, rel=1e-15)


def test_boundary_line_points_lie_on_the_boundary():
    rng = np.random.default_rng(1)
    for _ in range(20):
        w, b = rng.normal(size=2), rng.normal()
        slope, intercept = boundary_line(w, b)
        x1 = rng.normal(size=5)
        np.testing.assert_allclose(w[0] * x1 + w[1] * (slope * x1 + intercept) + b, 0.0, atol=1e-9)


def test_boundary_line_rejects_vertical_lines_and_wrong_shapes():
    with pytest.raises(ValueError, match="vertical"):
        boundary_line(np.array([2.0, 0.0]), 1.0)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        boundary_line(np.ones(3))


@pytest.mark.parametrize("name", ["AND", "OR", "NAND", "blobs", "lecture X1/X2"])
@pytest.mark.parametrize("eta", [1.0, 0.25])
def test_train_perceptron_equals_sklearn(name, eta):
    X, y = DATASETS[name]
    signs = np.where(y == y.max(), 1, -1)
    w, b, updates = train_perceptron(X, signs, eta=eta)
    assert updates[-1] == 0 and all(n > 0 for n in updates[:-1])
    assert np.all(signs * (X @ w + b) > 0)  # separated: every sample strictly on its side
    epochs = len(updates)
    before_last, final = (SkPerceptron(eta0=eta, shuffle=False, penalty=None, tol=None, max_iter=k).fit(X, signs)
                          for k in (epochs - 1, epochs))  # from w = 0 the first epoch always updates: epochs >= 2
    np.testing.assert_allclose(w, final.coef_[0], rtol=1e-12, atol=1e-12)
    assert b == pytest.approx(final.intercept_[0], rel=1e-12, abs=1e-12)
    # sklearn's last epoch changed nothing either: it was the first epoch without a mistake
    np.testing.assert_array_equal(before_last.coef_, final.coef_)
    np.testing.assert_array_equal(before_last.intercept_, final.intercept_)


def test_train_perceptron_lecture_example_and_xor_by_hand():
    # deck 000: X1 = (2, 1) label -1 updates w = -(2, 1), b = -1; X2 = (1, 2) gives net = -5, so
    # w = (-1, 1), b = 0; the second epoch finds both correct.
    w, b, updates = train_perceptron(np.array([[2.0, 1.0], [1.0, 2.0]]), np.array([-1, 1]))
    np.testing.assert_array_equal(w, [-1.0, 1.0])
    assert (b, updates) == (0.0, [2, 0])
    # XOR in counting order from w = 0: (0,0)- → b=-1; (0,1)+ → w=(0,1), b=0; (1,0)+ (net 0) → w=(1,1), b=1;
    # (1,1)- (net 3) → w=(0,0), b=0: back at the start, 4 updates in every epoch.
    w, b, updates = train_perceptron(BOOLEAN_INPUTS, np.array([-1, 1, 1, -1]), max_epochs=6)
    np.testing.assert_array_equal(w, [0.0, 0.0])
    assert (b, updates) == (0.0, [4] * 6)


def test_train_perceptron_leaves_inputs_alone_and_checks_max_epochs():
    X, y = DATASETS["blobs"]
    signs = np.where(y == 1, 1, -1)
    X_copy, signs_copy = X.copy(), signs.copy()
    train_perceptron(X, signs)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(signs, signs_copy)
    with pytest.raises(ValueError, match="max_epochs"):
        train_perceptron(X, signs, max_epochs=0)
