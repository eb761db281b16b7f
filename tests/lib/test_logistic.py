"""nnref.logistic against torch autograd and scikit-learn's LogisticRegression."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.metrics import log_loss

from nnref.activations import sigmoid
from nnref.logistic import (
    LogisticRegression,
    gradient_ascent,
    log_likelihood_and_grad,
    logistic_log_likelihood,
    logistic_loss_and_grad,
)
from nnref.softmax_regression import softmax_log_likelihood


def _data(seed=0, n=30, d=4, scale=1.0):
    rng = np.random.default_rng(seed)
    return scale * rng.normal(size=(n, d)), rng.integers(0, 2, size=n).astype(float), rng.normal(size=d)


def _torch_bce(w, b, X, y):
    w_t = torch.tensor(w, requires_grad=True)
    b_t = torch.tensor(0.0 if b is None else b, dtype=torch.float64, requires_grad=b is not None)
    loss = F.binary_cross_entropy_with_logits(torch.tensor(X) @ w_t + b_t, torch.tensor(y))
    loss.backward()
    return loss.item(), w_t.grad.numpy(), None if b is None else b_t.grad.item()


@pytest.mark.parametrize("b", [0.3, None])
@pytest.mark.parametrize("scale", [1.0, 300.0], ids=["moderate", "huge logits"])
def test_loss_and_grad_equal_torch_autograd(b, scale):
    X, y, w = _data(scale=scale)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # no overflow, no log(0)
        loss, dw, db = logistic_loss_and_grad(w, b, X, y)
    loss_t, dw_t, db_t = _torch_bce(w, b, X, y)
    assert np.isfinite(loss)
    assert loss == pytest.approx(loss_t, rel=1e-12)
    np.testing.assert_allclose(dw, dw_t, rtol=1e-12, atol=1e-14)
    if b is None:
        assert db is None
    else:
        assert db == pytest.approx(db_t, rel=1e-12, abs=1e-14)


def test_soft_targets_equal_torch():
    X, _, w = _data(1)
    y = np.random.default_rng(1).uniform(size=len(X))
    loss, dw, db = logistic_loss_and_grad(w, -0.2, X, y)
    loss_t, dw_t, db_t = _torch_bce(w, -0.2, X, y)
    assert loss == pytest.approx(loss_t, rel=1e-12)
    np.testing.assert_allclose(dw, dw_t, rtol=1e-12)
    assert db == pytest.approx(db_t, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10**6), n=st.integers(1, 20), d=st.integers(1, 5), scale=st.sampled_from([0.1, 1.0, 50.0])
)
def test_random_problems_equal_torch(seed, n, d, scale):
    X, y, w = _data(seed, n, d, scale)
    loss, dw, db = logistic_loss_and_grad(w, 0.1, X, y)
    loss_t, dw_t, db_t = _torch_bce(w, 0.1, X, y)
    assert loss == pytest.approx(loss_t, rel=1e-10, abs=1e-14)
    np.testing.assert_allclose(dw, dw_t, rtol=1e-10, atol=1e-14)
    assert db == pytest.approx(db_t, rel=1e-10, abs=1e-14)


def test_log_likelihood_equals_torch_log_probabilities():
    # deck 001: ll = Σ log P(y | x; w), P(y=1) = σ(z), P(y=0) = 1 − σ(z) = σ(−z)
    X, y, w = _data(2)
    ll, dw, db = log_likelihood_and_grad(w, 0.5, X, y)
    w_t = torch.tensor(w, requires_grad=True)
    b_t = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    z = torch.tensor(X) @ w_t + b_t
    y_t = torch.tensor(y)
    ll_t = (y_t * F.logsigmoid(z) + (1 - y_t) * F.logsigmoid(-z)).sum()
    ll_t.backward()
    assert ll == pytest.approx(ll_t.item(), rel=1e-12)
    np.testing.assert_allclose(dw, w_t.grad.numpy(), rtol=1e-12)
    assert db == pytest.approx(b_t.grad.item(), rel=1e-12)


def _separable_blobs():
    return make_blobs(n_samples=60, centers=[[-1.5, -1], [1.5, 1]], cluster_std=0.6, random_state=3)


def _overlapping_blobs():
    return make_blobs(n_samples=80, centers=[[-0.5, 0], [0.5, 0.3]], cluster_std=1.0, random_state=4)


def test_batch_gradient_descent_converges_to_sklearns_unpenalized_solution():
    X, y = _overlapping_blobs()  # overlapping classes: the maximum-likelihood weights are finite
    model = LogisticRegression(lr=2.0, epochs=1500).fit(X, y)
    reference = SkLogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-5)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X), atol=1e-6)
    np.testing.assert_array_equal(model.predict(X), reference.predict(X))
    assert np.all(np.diff(model.loss_history_) <= 1e-15)  # full-batch GD with a small step never goes up


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lr=0.5, epochs=100),
        dict(lr=0.05, epochs=20, mode="sgd", rng=np.random.default_rng(0)),
        dict(lr=0.2, epochs=40, mode="minibatch", batch_size=10, rng=np.random.default_rng(1)),
    ],
    ids=["batch", "sgd", "minibatch"],
)
@pytest.mark.parametrize("data", [_separable_blobs, _overlapping_blobs])
def test_reaches_sklearn_accuracy(kwargs, data):
    X, y = data()
    ours = LogisticRegression(**kwargs).fit(X, y).score(X, y)
    theirs = SkLogisticRegression().fit(X, y).score(X, y)
    assert ours >= theirs - 0.02


def test_any_two_labels_and_probability_columns():
    X, y = _separable_blobs()
    labels = np.where(y == 1, "spam", "ham")
    model = LogisticRegression(lr=0.5, epochs=50).fit(X, labels)
    np.testing.assert_array_equal(model.classes_, ["ham", "spam"])
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 2) and model.coef_.shape == (1, 2) and model.intercept_.shape == (1,)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(proba[:, 1], sigmoid(model.decision_function(X)), rtol=1e-15)
    np.testing.assert_array_equal(model.predict(X), np.where(proba[:, 1] > 0.5, "spam", "ham"))
    assert model.score(X, labels) == 1.0


def test_inputs_are_not_mutated():
    X, y, w = _data(3)
    X0, y0, w0 = X.copy(), y.copy(), w.copy()
    logistic_loss_and_grad(w, 0.1, X, y)
    log_likelihood_and_grad(w, 0.1, X, y)
    LogisticRegression(epochs=3, mode="sgd", rng=np.random.default_rng(0)).fit(X, y)
    for a, a0 in [(X, X0), (y, y0), (w, w0)]:
        np.testing.assert_array_equal(a, a0)


def test_bad_input_messages():
    X, y, w = _data(4)
    with pytest.raises(ValueError, match=r"targets in \[0, 1\]"):
        logistic_loss_and_grad(w, 0.0, X, 2 * y - 1)
    with pytest.raises(ValueError, match=r"X has 4 features but w has 3 weights"):
        logistic_loss_and_grad(w[:3], 0.0, X, y)
    with pytest.raises(ValueError, match=r"X has shape \(30, 4\), y has shape \(29,\)"):
        logistic_loss_and_grad(w, 0.0, X, y[1:])
    with pytest.raises(ValueError, match=r"b must be 0-D, got shape \(2,\)"):
        logistic_loss_and_grad(w, np.zeros(2), X, y)
    with pytest.raises(ValueError, match="exactly two classes, got 3"):
        LogisticRegression().fit(X[:3], [0, 1, 2])
    with pytest.raises(ValueError, match="not fitted"):
        LogisticRegression().predict(X)
    with pytest.raises(ValueError, match="lr"):
        LogisticRegression(lr=0)
    with pytest.raises(ValueError, match="batch_size"):
        LogisticRegression(batch_size=0)


# --- assignment 02: mean log-likelihood and gradient ascent -----------------------------------------


def _torch_mean_log_likelihood(w, b, X, y):
    """Minus torch's mean binary cross-entropy with logits, and its autograd gradients."""
    w_t = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    b_t = torch.tensor(float(b), dtype=torch.float64, requires_grad=True)
    ll = -torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(X) @ w_t + b_t, torch.tensor(y))
    ll.backward()
    return ll.item(), w_t.grad.numpy(), b_t.grad.item()


@pytest.mark.parametrize("seed", range(4))
def test_logistic_log_likelihood_equals_minus_torch_bce(seed):
    rng = np.random.default_rng(seed)
    n, d = 5 + seed, 1 + seed
    w, b, X = rng.normal(size=d), float(rng.normal()), rng.normal(size=(n, d)) * 2
    y = (rng.random(n) < 0.5).astype(float)
    ll, dw, db = logistic_log_likelihood(w, b, X, y)
    ll_t, dw_t, db_t = _torch_mean_log_likelihood(w, b, X, y)
    np.testing.assert_allclose(ll, ll_t, rtol=1e-12)
    np.testing.assert_allclose(dw, dw_t, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(db, db_t, rtol=1e-10, atol=1e-14)


def test_logistic_log_likelihood_on_deck_002_table_equals_sklearn_log_loss():
    X = np.array([[-0.1, 0.2], [0.1, 0.8], [0.9, -0.2], [0.8, 0.8]])
    y = np.array([0.0, 0.0, 0.0, 1.0])
    w = np.array([0.5, 0.7])
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    ll, _, _ = logistic_log_likelihood(w, 0.0, X, y)
    np.testing.assert_allclose(ll, -log_loss(y, p), rtol=1e-12)
    # at w = 0: ll = log ½, dw = mean((y − ½) x) = (−0.0125, 0), db = −0.25 (by hand)
    ll, dw, db = logistic_log_likelihood(np.zeros(2), 0.0, X, y)
    np.testing.assert_allclose([ll, *dw, db], [np.log(0.5), -0.0125, 0.0, -0.25], rtol=1e-12, atol=1e-15)


def _torch_ascent(model, params, X, y, *, lr, epochs, batch_size, seed):
    """torch.optim.SGD(maximize=True) over the batches of rng.permutation(N), one per epoch."""
    tensors = [torch.tensor(np.asarray(p, dtype=np.float64), requires_grad=True) for p in params]
    optimizer = torch.optim.SGD(tensors, lr=lr, maximize=True)
    X_t, y_t = torch.tensor(X), torch.tensor(y)
    rng, history = np.random.default_rng(seed), []
    size = batch_size or len(y)
    with torch.no_grad():
        history.append(model(*tensors, X_t, y_t).item())
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), size):
            batch = torch.tensor(order[start:start + size])
            optimizer.zero_grad()
            model(*tensors, X_t[batch], y_t[batch]).backward()
            optimizer.step()
        with torch.no_grad():
            history.append(model(*tensors, X_t, y_t).item())
    return [t.detach().numpy() for t in tensors], np.array(history)


def _torch_logistic_ll(w, b, X, y):
    return -torch.nn.functional.binary_cross_entropy_with_logits(X @ w + b, y)


def _torch_softmax_ll(W, b, X, y):
    return -torch.nn.functional.cross_entropy(X @ W + b, y)


@pytest.mark.parametrize("batch_size, epochs", [(None, 3), (1, 2), (3, 2), (4, 1), (10, 2)])
def test_gradient_ascent_on_logistic_regression_equals_torch_sgd(batch_size, epochs):
    rng = np.random.default_rng(21)
    X = rng.normal(size=(10, 3))
    y = (rng.random(10) < 0.5).astype(float)
    w0, b0 = rng.normal(size=3) * 0.1, 0.2
    params, history = gradient_ascent(logistic_log_likelihood, [w0, b0], X, y, lr=0.5, epochs=epochs,
                                      batch_size=batch_size, rng=np.random.default_rng(5))
    (w_t, b_t), history_t = _torch_ascent(_torch_logistic_ll, [w0, b0], X, y, lr=0.5, epochs=epochs,
                                          batch_size=batch_size, seed=5)
    np.testing.assert_allclose(params[0], w_t, rtol=1e-10)
    np.testing.assert_allclose(params[1], b_t, rtol=1e-10)
    np.testing.assert_allclose(history, history_t, rtol=1e-10)
    assert history.shape == (epochs + 1,)


def test_gradient_ascent_on_softmax_regression_equals_torch_sgd():
    rng = np.random.default_rng(22)
    X, y = rng.normal(size=(9, 2)), rng.integers(0, 3, size=9)
    W0, b0 = rng.normal(size=(2, 3)), np.zeros(3)
    params, history = gradient_ascent(softmax_log_likelihood, [W0, b0], X, y, lr=1.0, epochs=3,
                                      batch_size=2, rng=np.random.default_rng(6))
    expected, history_t = _torch_ascent(_torch_softmax_ll, [W0, b0], X, y, lr=1.0, epochs=3, batch_size=2, seed=6)
    for got, want in zip(params, expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(history, history_t, rtol=1e-10)


def test_gradient_ascent_leaves_the_initial_parameters_alone():
    X, y = np.eye(3), np.array([0.0, 1.0, 1.0])
    w0 = np.zeros(3)
    params, _ = gradient_ascent(logistic_log_likelihood, [w0, 0.0], X, y, lr=1.0, epochs=2, batch_size=1,
                                rng=np.random.default_rng(0))
    np.testing.assert_array_equal(w0, np.zeros(3))
    assert np.any(params[0] != 0)


def test_gradient_ascent_rejects_bad_arguments():
    X, y = np.eye(2), np.array([0.0, 1.0])
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        gradient_ascent(logistic_log_likelihood, [np.zeros(2), 0.0], X, y, lr=1.0, epochs=1, rng=0)
    with pytest.raises(ValueError, match="lr must be finite and > 0"):
        gradient_ascent(logistic_log_likelihood, [np.zeros(2), 0.0], X, y, lr=-1.0, epochs=1,
                        rng=np.random.default_rng(0))
