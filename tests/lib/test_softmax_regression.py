"""nnref.softmax_regression against torch autograd, scikit-learn and a hand-computed hinge example."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from nnref.softmax_regression import (
    LinearSVM,
    SoftmaxRegression,
    softmax_log_likelihood,
    softmax_regression_loss_and_grad,
    svm_loss_and_grad,
)


def _problem(seed=0, n=20, d=4, k=3, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, rng.integers(0, k, size=n), scale * rng.normal(size=(d, k)), rng.normal(size=k)


def _torch_loss_and_grads(data_loss, W, b, X, y, reg):
    """Deck 004's L = data loss + λ Σ W², differentiated by torch."""
    W_t, b_t = torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)
    loss = data_loss(torch.tensor(X) @ W_t + b_t, torch.tensor(y)) + reg * (W_t**2).sum()
    loss.backward()
    return loss.item(), W_t.grad.numpy(), b_t.grad.numpy()


def _torch_hinge(scores, y, margin=1.0):
    # multi_margin_loss divides the sum over j ≠ yᵢ by K: multiply back to get deck 004's Lᵢ
    return F.multi_margin_loss(scores, y, margin=margin) * scores.shape[1]


def _torch_hinge_by_relu(scores, y, margin=1.0):
    # the same loss written with relu (gradient 0 at 0, as eq. 9's strict indicator)
    correct = scores.gather(1, y[:, None])
    margins = F.relu(scores - correct + margin)
    mask = torch.ones_like(scores).scatter_(1, y[:, None], 0.0)
    return (margins * mask).sum() / scores.shape[0]


@pytest.mark.parametrize("reg", [0.0, 0.1, 2.5])
@pytest.mark.parametrize("scale", [1.0, 1e3], ids=["moderate", "huge scores"])
def test_softmax_loss_and_grad_equal_torch(reg, scale):
    X, y, W, b = _problem(scale=scale)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss, dW, db = softmax_regression_loss_and_grad(W, b, X, y, reg=reg)
    loss_t, dW_t, db_t = _torch_loss_and_grads(F.cross_entropy, W, b, X, y, reg)
    assert loss == pytest.approx(loss_t, rel=1e-12)
    np.testing.assert_allclose(dW, dW_t, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(db, db_t, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("reg", [0.0, 0.3])
@pytest.mark.parametrize("margin", [1.0, 0.25, 4.0])
def test_svm_loss_and_grad_equal_torch(reg, margin):
    X, y, W, b = _problem(1, k=4)
    loss, dW, db = svm_loss_and_grad(W, b, X, y, reg=reg, margin=margin)
    loss_t, _, _ = _torch_loss_and_grads(lambda s, t: _torch_hinge(s, t, margin), W, b, X, y, reg)
    relu_loss_t, dW_t, db_t = _torch_loss_and_grads(
        lambda s, t: _torch_hinge_by_relu(s, t, margin), W, b, X, y, reg
    )
    assert loss == pytest.approx(loss_t, rel=1e-12)
    assert loss == pytest.approx(relu_loss_t, rel=1e-12)
    np.testing.assert_allclose(dW, dW_t, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(db, db_t, rtol=1e-12, atol=1e-14)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(1, 12),
    d=st.integers(1, 5),
    k=st.integers(2, 6),
    reg=st.sampled_from([0.0, 0.01, 1.0]),
    svm=st.booleans(),
)
def test_random_problems_equal_torch(seed, n, d, k, reg, svm):
    X, y, W, b = _problem(seed, n, d, k)
    if svm:
        ours = svm_loss_and_grad(W, b, X, y, reg=reg)
        theirs = _torch_loss_and_grads(_torch_hinge_by_relu, W, b, X, y, reg)
    else:
        ours = softmax_regression_loss_and_grad(W, b, X, y, reg=reg)
        theirs = _torch_loss_and_grads(F.cross_entropy, W, b, X, y, reg)
    assert ours[0] == pytest.approx(theirs[0], rel=1e-10, abs=1e-13)
    for a, t in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(a, t, rtol=1e-10, atol=1e-13)


def test_hinge_loss_by_hand():
    # scores (3.2, 5.1, −1.7), true class 0, Δ = 1 (W = I, b = 0 so the scores are the inputs):
    # L = max(0, 5.1 − 3.2 + 1) + max(0, −1.7 − 3.2 + 1) = 2.9 + 0 = 2.9
    # one violated class (j = 1): ∂L/∂s = (−1, +1, 0); dW = xᵀ ∂L/∂s
    x = np.array([[3.2, 5.1, -1.7]])
    loss, dW, db = svm_loss_and_grad(np.eye(3), np.zeros(3), x, np.array([0]))
    assert loss == pytest.approx(2.9, rel=1e-14)
    np.testing.assert_allclose(db, [-1.0, 1.0, 0.0])
    np.testing.assert_allclose(dW, np.outer(x[0], [-1.0, 1.0, 0.0]))


def test_softmax_loss_by_hand():
    # equal scores for K = 3 classes: p = 1/3 each, L = log 3, ∂L/∂s = (1/3 − 1, 1/3, 1/3);
    # with reg λ = 0.5 and W = I₃ the penalty adds λ Σ W² = 1.5 and 2λW = I to dW
    x = np.array([[1.0, 1.0, 1.0]])
    loss, dW, db = softmax_regression_loss_and_grad(np.eye(3), np.zeros(3), x, np.array([0]), reg=0.5)
    assert loss == pytest.approx(np.log(3) + 1.5, rel=1e-14)
    np.testing.assert_allclose(db, [-2 / 3, 1 / 3, 1 / 3], rtol=1e-14)
    np.testing.assert_allclose(dW, np.outer(x[0], [-2 / 3, 1 / 3, 1 / 3]) + np.eye(3), rtol=1e-14)


def _blobs(seed=0, spread=1.0):
    return make_blobs(n_samples=90, centers=[[0, 3], [3, -1], [-3, -1]], cluster_std=spread, random_state=seed)


def test_regularized_softmax_regression_converges_to_sklearns_solution():
    # sklearn minimizes ½‖W‖² + C Σᵢ Lᵢ, i.e. (÷ CN) the mean loss + ‖W‖² / (2CN): our λ = 1 / (2CN)
    X, y = _blobs(1, spread=2.0)
    reg, n = 0.01, len(X)
    model = SoftmaxRegression(lr=0.5, epochs=1500, reg=reg).fit(X, y)
    reference = SkLogisticRegression(C=1 / (2 * reg * n), tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-5, atol=1e-7)
    # the intercepts are defined up to a common shift (softmax ignores it); compare them centred
    np.testing.assert_allclose(
        model.intercept_ - model.intercept_.mean(), reference.intercept_ - reference.intercept_.mean(), atol=1e-6
    )
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X), atol=1e-7)
    assert model.W_.shape == (2, 3) and model.coef_.shape == (3, 2)


@pytest.mark.parametrize(
    "cls, kwargs",
    [
        (SoftmaxRegression, dict(lr=0.5, epochs=100)),
        (SoftmaxRegression, dict(lr=0.05, epochs=10, mode="sgd", rng=np.random.default_rng(0))),
        (
            SoftmaxRegression,
            dict(lr=0.2, epochs=30, mode="minibatch", batch_size=16, rng=np.random.default_rng(1)),
        ),
        (LinearSVM, dict(lr=0.1, epochs=100, reg=1e-3)),
        (LinearSVM, dict(lr=0.01, epochs=10, mode="sgd", rng=np.random.default_rng(2))),
    ],
)
@pytest.mark.parametrize("spread", [0.7, 1.8], ids=["separated", "overlapping"])
def test_reaches_sklearn_accuracy(cls, kwargs, spread):
    X, y = _blobs(2, spread)
    ours = cls(**kwargs).fit(X, y).score(X, y)
    theirs = SkLogisticRegression().fit(X, y).score(X, y)
    assert ours >= theirs - 0.03


def test_any_labels_probabilities_and_predictions():
    X, y = _blobs(3)
    labels = np.array(["cat", "dog", "emu"])[y]
    model = SoftmaxRegression(lr=0.5, epochs=50).fit(X, labels)
    np.testing.assert_array_equal(model.classes_, ["cat", "dog", "emu"])
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_array_equal(model.predict(X), model.classes_[np.argmax(proba, axis=1)])
    np.testing.assert_allclose(model.decision_function(X), X @ model.W_ + model.b_, rtol=1e-15)
    assert model.score(X, labels) == 1.0
    svm = LinearSVM(epochs=50).fit(X, labels)
    assert svm.score(X, labels) == 1.0


def test_inputs_are_not_mutated():
    X, y, W, b = _problem(4)
    copies = [a.copy() for a in (X, y, W, b)]
    softmax_regression_loss_and_grad(W, b, X, y, reg=0.1)
    svm_loss_and_grad(W, b, X, y, reg=0.1)
    SoftmaxRegression(epochs=2).fit(X, y)
    for a, a0 in zip((X, y, W, b), copies):
        np.testing.assert_array_equal(a, a0)


def test_float32_stays_float32():
    X, y, W, b = (a.astype(np.float32) if a.dtype.kind == "f" else a for a in _problem(5))
    for fn in (softmax_regression_loss_and_grad, svm_loss_and_grad):
        _, dW, db = fn(W, b, X, y)
        assert dW.dtype == db.dtype == np.float32


def test_bad_input_messages():
    X, y, W, b = _problem(6)
    with pytest.raises(ValueError, match=r"X with shape \(20, 4\), W with shape \(3, 3\), b with shape \(3,\)"):
        softmax_regression_loss_and_grad(W[:3], b, X, y)
    with pytest.raises(ValueError, match=r"b with shape \(2,\)"):
        svm_loss_and_grad(W, b[:2], X, y)
    with pytest.raises(ValueError, match=r"class index 3 but there are only 3 classes"):
        softmax_regression_loss_and_grad(W, b, X, np.full(20, 3))
    with pytest.raises(ValueError, match=r"X has shape \(20, 4\), y has shape \(19,\)"):
        softmax_regression_loss_and_grad(W, b, X, y[1:])
    with pytest.raises(TypeError, match="y must hold integer class indices"):
        softmax_regression_loss_and_grad(W, b, X, y + 0.5)
    with pytest.raises(ValueError, match="reg"):
        softmax_regression_loss_and_grad(W, b, X, y, reg=-1.0)
    with pytest.raises(ValueError, match="margin"):
        svm_loss_and_grad(W, b, X, y, margin=0.0)
    with pytest.raises(ValueError, match="at least two classes"):
        SoftmaxRegression().fit(X, np.zeros(20, dtype=int))
    with pytest.raises(ValueError, match="fitted with 4"):
        SoftmaxRegression(epochs=1).fit(X, y).predict(X[:, :3])


# --- assignment 02: the mean log-likelihood for gradient ascent -----------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_softmax_log_likelihood_equals_minus_torch_cross_entropy(seed):
    rng = np.random.default_rng(seed)
    n, d, k = 6 + seed, 2 + seed, 3 + seed
    W, b, X = rng.normal(size=(d, k)), rng.normal(size=k), rng.normal(size=(n, d))
    y = rng.integers(0, k - 1, size=n)  # the last class absent: K comes from W
    W_t, b_t = torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)
    ll_t = -torch.nn.functional.cross_entropy(torch.tensor(X) @ W_t + b_t, torch.tensor(y))
    ll_t.backward()
    ll, dW, db = softmax_log_likelihood(W, b, X, y)
    np.testing.assert_allclose(ll, ll_t.item(), rtol=1e-12)
    np.testing.assert_allclose(dW, W_t.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(db, b_t.grad.numpy(), rtol=1e-10, atol=1e-14)
