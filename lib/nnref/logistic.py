"""Binary logistic regression: one sigmoid neuron trained on the cross-entropy (decks 001 and 002).

Model: ``P(y = 1 | x) = σ(z)`` with ``z = x·w + b`` and ``σ(z) = 1 / (1 + e⁻ᶻ)``.

Two views of the same objective:

* **loss (PyTorch's convention, the default)**: mean binary cross-entropy
  ``L = −1/N Σₙ [yₙ log σ(zₙ) + (1 − yₙ) log(1 − σ(zₙ))]``, minimized by gradient *descent*;
  ``∂L/∂w = 1/N Xᵀ(σ(z) − y)``, ``∂L/∂b = 1/N Σₙ (σ(zₙ) − yₙ)``.
* **log-likelihood (deck 001)**: ``ll(w) = Σₙ log P(yₙ | xₙ; w) = −N·L``, maximized by gradient
  *ascent* ``w ← w + α ∇ll``. One ascent step with rate ``α`` equals one descent step on ``L`` with
  learning rate ``α·N``.

Both are computed from the logits with ``log σ(z) = −softplus(−z)``, so large ``|z|`` never overflows
or takes ``log 0``.
"""

from __future__ import annotations

import numpy as np

from nnkit.validation import as_float_array, check_positive, check_same_rows

from .activations import sigmoid
from .perceptron import check_linear_unit, net_input
from .training import (
    GradientDescentClassifier,
    check_count,
    check_fitted,
    check_rng,
    encode_labels,
    iterate_minibatches,
)

__all__ = [
    "logistic_loss_and_grad",
    "log_likelihood_and_grad",
    "logistic_log_likelihood",
    "gradient_ascent",
    "LogisticRegression",
]


def _softplus(z):
    """``log(1 + eᶻ)`` without overflow."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def _check_binary_targets(y):
    if np.any((y < 0) | (y > 1)):
        raise ValueError(
            f"y must hold targets in [0, 1] (class 1 = 1, class 0 = 0), got values in "
            f"[{y.min()}, {y.max()}] (y has shape {y.shape})"
        )


def logistic_loss_and_grad(w, b, X, y):
    """Mean binary cross-entropy of ``σ(Xw + b)`` against ``y`` and its gradient.

    ``L = 1/N Σₙ [softplus(zₙ) − yₙ zₙ]`` (the BCE written on the logits ``z = Xw + b``),
    ``∂L/∂w = 1/N Xᵀ(σ(z) − y)``, ``∂L/∂b = 1/N Σₙ (σ(zₙ) − yₙ)``.
    Equals ``torch.nn.functional.binary_cross_entropy_with_logits`` (mean) and its gradient.

    Args:
        w: ``(D,)``; b: scalar, or ``None`` for no bias; X: ``(N, D)``;
        y: ``(N,)`` targets in ``[0, 1]`` (class labels ``0``/``1``).

    Returns:
        ``(loss, dw, db)`` with ``db = None`` when ``b`` is ``None``.
    """
    w, b, X, y = check_linear_unit(w, b, X, y)
    _check_binary_targets(y)
    z = net_input(w, b, X)
    n = X.shape[0]
    loss = float(np.mean(_softplus(z) - y * z))
    error = (sigmoid(z) - y) / n
    return loss, X.T @ error, None if b is None else float(error.sum())


def log_likelihood_and_grad(w, b, X, y):
    """Deck 001's log-likelihood ``ll = Σₙ log P(yₙ | xₙ; w)`` and its gradient (for ascent).

    ``ll = −N·L`` and ``∇ll = Xᵀ(y − σ(z))`` (``∂ll/∂b = Σₙ (yₙ − σ(zₙ))``), with ``L`` the mean
    cross-entropy of ``logistic_loss_and_grad``. Same arguments; returns ``(ll, dw, db)``.
    """
    loss, dw, db = logistic_loss_and_grad(w, b, X, y)
    n = np.shape(X)[0]
    return -n * loss, -n * dw, None if db is None else -n * db


def logistic_log_likelihood(w, b, X, y):
    """Mean log-likelihood ``ll = 1/N Σₙ log P(yₙ | xₙ; w)`` and its gradient, for gradient ascent.

    Deck 001's objective divided by ``N`` (so that a learning rate means the same for every batch
    size), i.e. minus the mean cross-entropy of ``logistic_loss_and_grad``:
    ``∂ll/∂w = 1/N Xᵀ(y − σ(z))``, ``∂ll/∂b = 1/N Σₙ (yₙ − σ(zₙ))``. Same arguments; returns
    ``(ll, dw, db)``.
    """
    loss, dw, db = logistic_loss_and_grad(w, b, X, y)
    return -loss, -dw, None if db is None else -db


def gradient_ascent(ll_and_grad, params, X, y, *, lr, epochs, batch_size=None, rng):
    """Deck 001's batch / stochastic / mini-batch gradient ascent on a mean log-likelihood.

    Args:
        ll_and_grad: ``ll_and_grad(*params, X_batch, y_batch) -> (ll, *grads)``, one gradient per
            parameter (e.g. ``logistic_log_likelihood`` with ``params = [w, b]``).
        params: the initial parameters (arrays or numbers); never modified.
        X, y: the training set, ``(N, ...)`` and ``(N,)``.
        lr: learning rate ``α``; epochs: passes over the data.
        batch_size: ``None`` (the whole set: batch ascent), ``1`` (stochastic) or in between.
        rng: ``np.random.Generator``; each epoch visits ``rng.permutation(N)`` in consecutive batches
            (``nnref.training.iterate_minibatches``), the last one possibly smaller.

    After each batch every parameter takes the step ``θ ← θ + α ∇θ ll(θ; X_batch, y_batch)``.

    Returns:
        ``(params, history)``: the final parameters (a list in the given order) and the mean
        log-likelihood on ``(X, y)`` before training and after each epoch, shape ``(epochs + 1,)``.
    """
    lr = check_positive(lr, "lr")
    epochs = check_count(epochs, "epochs")
    rng = check_rng(rng, allow_none=False)
    params = list(params)
    history = [float(ll_and_grad(*params, X, y)[0])]
    for _ in range(epochs):
        for X_batch, y_batch in iterate_minibatches(X, y, batch_size, rng):
            _, *grads = ll_and_grad(*params, X_batch, y_batch)
            params = [param + lr * grad for param, grad in zip(params, grads)]  # new objects
        history.append(float(ll_and_grad(*params, X, y)[0]))
    return params, np.array(history)


class LogisticRegression(GradientDescentClassifier):
    """Binary logistic regression trained by gradient descent on the mean cross-entropy, from zeros.

    Args: ``lr``, ``epochs``, ``mode`` (``"batch"``, ``"sgd"`` or ``"minibatch"``, deck 001's three
    ascent schemes), ``batch_size``, ``rng``: see ``nnref.training.GradientDescentEstimator``.
    No regularization (sklearn's ``LogisticRegression(penalty=None)``).

    Labels may be any two classes: ``classes_[1]`` (the larger) is the positive class ``y = 1``.
    Fitted attributes (sklearn's shapes): ``classes_`` ``(2,)``, ``coef_`` ``(1, D)``,
    ``intercept_`` ``(1,)``, ``loss_history_`` (mean cross-entropy after each epoch), ``n_iter_``.
    """

    def __init__(self, lr=0.1, epochs=100, mode="batch", batch_size=32, rng=None):
        super().__init__(lr, epochs, mode, batch_size, rng)

    def fit(self, X, y):
        """Fit on ``X`` ``(N, D)`` and two-class labels ``y`` ``(N,)``; returns ``self``."""
        X = as_float_array(X, "X", ndim=2)
        check_same_rows(X, "X", y, "y")
        self.classes_, indices = encode_labels(y, "y", binary=True)
        w, b = np.zeros(X.shape[1], dtype=X.dtype), np.zeros((), dtype=X.dtype)

        def loss_and_grads(X_batch, y_batch):
            loss, dw, db = logistic_loss_and_grad(w, b, X_batch, y_batch)
            return loss, [dw, np.asarray(db)]

        self._minimize(loss_and_grads, [w, b], X, indices.astype(X.dtype))
        self.coef_, self.intercept_ = w[np.newaxis, :], b.reshape(1)
        return self

    def decision_function(self, X):
        """Logits ``z = Xw + b``, shape ``(N,)``."""
        check_fitted(self)
        X = as_float_array(X, "X", ndim=2)
        w, b, X, _ = check_linear_unit(self.coef_[0], self.intercept_[0], X)
        return net_input(w, b, X)

    def predict_proba(self, X):
        """``(N, 2)``: columns ``P(classes_[0] | x)`` and ``P(classes_[1] | x) = σ(z)``."""
        p = sigmoid(self.decision_function(X))
        return np.stack([1.0 - p, p], axis=1)

    def predict(self, X):
        """``classes_[1]`` where ``σ(z) > ½`` (``z > 0``), else ``classes_[0]``."""
        positive = self.decision_function(X) > 0
        return self.classes_[positive.astype(int)]
