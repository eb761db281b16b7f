"""nnkit.numerics against torch and scikit-learn: values, stability, dtypes, inputs left alone, bad input."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import accuracy_score, log_loss

from nnkit.numerics import accuracy, cross_entropy, log_softmax, sigmoid, softmax

RTOL, ATOL = 1e-12, 1e-14


def close(actual, expected, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64),
                               rtol=rtol, atol=atol)


@pytest.mark.parametrize("shape", [(), (7,), (3, 4), (2, 3, 5)])
def test_sigmoid_matches_torch(shape):
    x = np.random.default_rng(0).normal(scale=4.0, size=shape)
    close(sigmoid(x), torch.sigmoid(torch.tensor(x)).numpy())
    assert np.shape(sigmoid(x)) == shape


def test_sigmoid_of_extreme_inputs_is_exact_and_silent():
    x = np.array([-1e4, -745.0, -40.0, 0.0, 40.0, 745.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = sigmoid(x)
    # e^{-745} is the smallest subnormal: exact here, flushed to 0 by torch, hence a subnormal atol.
    close(result, torch.sigmoid(torch.tensor(x)).numpy(), atol=1e-320)
    assert result[0] == 0.0 and result[-1] == 1.0 and result[3] == 0.5


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax_match_torch(axis):
    scores = np.random.default_rng(1).normal(scale=3.0, size=(5, 4))
    expected = torch.tensor(scores)
    close(softmax(scores, axis=axis), torch.softmax(expected, dim=axis).numpy())
    close(log_softmax(scores, axis=axis), torch.log_softmax(expected, dim=axis).numpy())


def test_softmax_of_a_single_vector_and_a_3d_array():
    vector = np.array([1.0, 2.0, 3.0])
    close(softmax(vector), torch.softmax(torch.tensor(vector), dim=0).numpy())
    block = np.random.default_rng(2).normal(size=(2, 3, 4))
    close(log_softmax(block, axis=1), torch.log_softmax(torch.tensor(block), dim=1).numpy())


def test_softmax_of_huge_scores_is_finite_and_silent():
    scores = np.array([[1000.0, 0.0, -1000.0], [-1e4, -1e4, -1e4 + 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        probabilities, log_probabilities = softmax(scores), log_softmax(scores)
    close(probabilities, torch.softmax(torch.tensor(scores), dim=1).numpy())
    close(log_probabilities, torch.log_softmax(torch.tensor(scores), dim=1).numpy())
    assert np.isfinite(log_probabilities).all()


@pytest.mark.parametrize("n, k", [(1, 2), (6, 3), (50, 10)])
def test_cross_entropy_matches_torch_and_sklearn(n, k):
    rng = np.random.default_rng(n)
    scores, y = rng.normal(scale=2.0, size=(n, k)), rng.integers(0, k, size=n)
    loss = cross_entropy(scores, y)
    assert isinstance(loss, float)
    close(loss, F.cross_entropy(torch.tensor(scores), torch.tensor(y)).item())
    close(loss, log_loss(y, torch.softmax(torch.tensor(scores), dim=1).numpy(), labels=np.arange(k)), rtol=1e-9)


def test_cross_entropy_of_huge_scores_is_finite():
    scores, y = np.array([[1000.0, -1000.0], [0.0, 800.0]]), np.array([1, 0])
    close(cross_entropy(scores, y), F.cross_entropy(torch.tensor(scores), torch.tensor(y)).item())


def test_cross_entropy_accepts_integer_valued_float_labels():
    scores = np.random.default_rng(3).normal(size=(4, 3))
    assert cross_entropy(scores, np.array([0.0, 2.0, 1.0, 1.0])) == cross_entropy(scores, np.array([0, 2, 1, 1]))


def test_accuracy_of_scores_and_of_labels_matches_sklearn():
    rng = np.random.default_rng(4)
    scores, y = rng.normal(size=(40, 5)), rng.integers(0, 5, size=40)
    expected = accuracy_score(y, scores.argmax(axis=1))
    assert accuracy(scores, y) == pytest.approx(expected, abs=0)
    assert accuracy(scores.argmax(axis=1), y) == pytest.approx(expected, abs=0)
    assert isinstance(accuracy(scores, y), float)
    assert accuracy(y, y) == 1.0


def test_float_dtypes_are_kept_and_integers_become_float64():
    x32 = np.linspace(-3, 3, 6, dtype=np.float32).reshape(2, 3)
    for fn in (sigmoid, softmax, log_softmax):
        assert fn(x32).dtype == np.float32
        assert fn(np.array([[1, 2, 3]])).dtype == np.float64
    close(sigmoid(x32), torch.sigmoid(torch.tensor(x32)).numpy(), rtol=1e-6)


def test_inputs_are_left_unchanged():
    rng = np.random.default_rng(5)
    scores, y = rng.normal(size=(6, 3)), rng.integers(0, 3, size=6)
    scores_before, y_before = scores.copy(), y.copy()
    for call in (lambda: sigmoid(scores), lambda: softmax(scores), lambda: log_softmax(scores, axis=0),
                 lambda: cross_entropy(scores, y), lambda: accuracy(scores, y)):
        call()
        np.testing.assert_array_equal(scores, scores_before)
        np.testing.assert_array_equal(y, y_before)


@pytest.mark.parametrize("call, error, words", [
    (lambda: sigmoid("1.0"), TypeError, ["x", "numeric"]),
    (lambda: sigmoid(np.array([1.0, np.nan])), ValueError, ["x", "NaN"]),
    (lambda: softmax(np.zeros((2, 3)), axis=2), ValueError, ["axis", "(2, 3)"]),
    (lambda: softmax(np.float64(1.0)), ValueError, ["axis", "scores"]),
    (lambda: log_softmax(np.zeros(3), axis=1.0), ValueError, ["axis"]),
    (lambda: cross_entropy(np.zeros(3), np.array([0])), ValueError, ["scores", "2-D", "(3,)"]),
    (lambda: cross_entropy(np.zeros((2, 3)), np.array([0, 3])), ValueError, ["y", "3 classes"]),
    (lambda: cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2])), ValueError, ["scores", "y", "(2, 3)", "(3,)"]),
    (lambda: cross_entropy(np.zeros((2, 3)), np.array([0.5, 1.0])), TypeError, ["y", "integer"]),
    (lambda: cross_entropy(np.zeros((0, 3)), np.array([], dtype=int)), ValueError, ["scores", "(0, 3)"]),
    (lambda: accuracy(np.array([0.2, 0.9]), np.array([0, 1])), TypeError, ["scores_or_labels", "integer"]),
    (lambda: accuracy(np.zeros((2, 2, 2)), np.array([0, 1])), ValueError, ["scores_or_labels", "(2, 2, 2)"]),
    (lambda: accuracy(np.zeros((3, 2)), np.array([0, 1])), ValueError, ["scores_or_labels", "y", "(3,)", "(2,)"]),
    (lambda: accuracy(np.zeros(0, dtype=int), np.zeros(0, dtype=int)), ValueError, ["y", "(0,)"]),
])
def test_bad_input_names_the_argument_and_shape(call, error, words):
    with pytest.raises(error) as raised:
        call()
    for word in words:
        assert word in str(raised.value), (word, str(raised.value))
