"""Multi-class linear classifiers: softmax regression and the multiclass SVM (decks 001 and 004).

Score function (row-vector convention): ``f = xW + b`` with ``W`` of shape ``(D, K)`` and ``b`` of
shape ``(K,)``, so a batch ``X`` ``(N, D)`` gives scores ``S = XW + b`` ``(N, K)``. Deck 004 writes
``f = Wx + b`` with ``W`` of shape ``(K, D)``: its ``W`` is our ``Wᵀ`` (sklearn's ``coef_``).

Overall loss (deck 004, eq. 6): ``L = 1/N Σᵢ Lᵢ + λ R(W)`` with ``R(W) = Σₖ Σ_d W²ₖ,d`` (eq. 5), i.e.
``reg = λ`` multiplies the plain squared norm ``λ‖W‖²`` (not ``½λ‖W‖²``), whose gradient is ``2λW``.
The bias is not regularized. Plain gradient descent on this loss equals
``torch.optim.SGD(weight_decay=2λ)`` applied to ``W`` only.

* Softmax / cross-entropy (eqs. 2–3): ``Lᵢ = −log softmax(sᵢ)_{yᵢ}``;
  ``∂Lᵢ/∂sᵢ = softmax(sᵢ) − one_hot(yᵢ)``. Computed with the log-sum-exp shift, so large scores
  neither overflow nor give ``log 0``.
* Multiclass hinge (eqs. 7–9): ``Lᵢ = Σ_{j≠yᵢ} max(0, sᵢⱼ − sᵢ,yᵢ + Δ)``; the gradient counts the
  violated margins (strictly positive, as eq. 9's indicator): ``+xᵢ`` for each violating class ``j``,
  ``−(number of violations)·xᵢ`` for the true class.
"""

from __future__ import annotations

import numpy as np

from nnkit.validation import as_float_array, check_labels, check_positive, check_same_rows

from .activations import log_softmax, softmax
from .training import GradientDescentClassifier, check_features, check_fitted, encode_labels

__all__ = [
    "softmax_regression_loss_and_grad",
    "softmax_log_likelihood",
    "svm_loss_and_grad",
    "SoftmaxRegression",
    "LinearSVM",
]


def _check_linear_classifier(W, b, X, y, reg):
    """Validate ``W (D, K)``, ``b (K,)``, ``X (N, D)``, ``y (N,)`` and ``reg``; return the scores too."""
    X = as_float_array(X, "X", ndim=2)
    W = as_float_array(W, "W", ndim=2)
    b = as_float_array(b, "b", ndim=1)
    if X.shape[1] != W.shape[0] or b.shape[0] != W.shape[1]:
        raise ValueError(
            "expected X (N, D), W (D, K) and b (K,): got X with shape "
            f"{X.shape}, W with shape {W.shape}, b with shape {b.shape}"
        )
    y = check_labels(y, "y", n_classes=W.shape[1])
    check_same_rows(X, "X", y, "y")
    reg = check_positive(reg, "reg", allow_zero=True)
    return W, X, y, reg, X @ W + b


def _backprop_scores(W, X, dscores, reg):
    """Gradients of ``data loss + reg·‖W‖²`` given ``∂(data loss)/∂S``: ``(dW, db)``."""
    return X.T @ dscores + 2.0 * reg * W, dscores.sum(axis=0)


def softmax_regression_loss_and_grad(W, b, X, y, reg=0.0):
    """Softmax regression loss ``1/N Σᵢ −log softmax(xᵢW + b)_{yᵢ} + reg·‖W‖²`` and its gradient.

    Args:
        W: ``(D, K)``; b: ``(K,)``; X: ``(N, D)``; y: ``(N,)`` class indices in ``[0, K)``;
        reg: ``λ`` of deck 004's ``λ R(W)``, ``R(W) = Σ W²``.

    Returns:
        ``(loss, dW, db)``: ``dW = 1/N Xᵀ(P − Y) + 2λW``, ``db = 1/N Σᵢ (Pᵢ − Yᵢ)`` with ``P`` the
        softmax probabilities and ``Y`` the one-hot targets.
    """
    W, X, y, reg, scores = _check_linear_classifier(W, b, X, y, reg)
    n, rows = X.shape[0], np.arange(X.shape[0])
    log_probs = log_softmax(scores)
    loss = -float(log_probs[rows, y].mean()) + reg * float(np.sum(W * W))
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1.0
    return (loss, *_backprop_scores(W, X, dscores / n, reg))


def softmax_log_likelihood(W, b, X, y):
    """Mean log-likelihood of multi-class logistic regression (deck 001) and its gradient, for ascent.

    ``ll = 1/N Σᵢ log softmax(xᵢW + b)_{yᵢ}``, minus the unregularized loss of
    ``softmax_regression_loss_and_grad``: ``∂ll/∂W = 1/N Xᵀ(Y − P)``, ``∂ll/∂b = 1/N Σᵢ (Yᵢ − Pᵢ)``.
    Same arguments (without ``reg``); returns ``(ll, dW, db)``.
    """
    loss, dW, db = softmax_regression_loss_and_grad(W, b, X, y)
    return -loss, -dW, -db


def svm_loss_and_grad(W, b, X, y, reg=0.0, margin=1.0):
    """Multiclass SVM (hinge) loss ``1/N Σᵢ Σ_{j≠yᵢ} max(0, sᵢⱼ − sᵢ,yᵢ + Δ) + reg·‖W‖²``, gradient.

    Args:
        W, b, X, y, reg: as ``softmax_regression_loss_and_grad``; margin: ``Δ > 0``.

    Returns:
        ``(loss, dW, db)`` (deck 004, eqs. 8–9, averaged over the batch, plus ``2λW``).
    """
    W, X, y, reg, scores = _check_linear_classifier(W, b, X, y, reg)
    margin = check_positive(margin, "margin")
    n, rows = X.shape[0], np.arange(X.shape[0])
    margins = np.maximum(0.0, scores - scores[rows, y][:, np.newaxis] + margin)
    margins[rows, y] = 0.0  # the sum runs over j ≠ yᵢ
    loss = float(margins.sum()) / n + reg * float(np.sum(W * W))
    violated = (margins > 0).astype(scores.dtype)
    violated[rows, y] = -violated.sum(axis=1)
    return (loss, *_backprop_scores(W, X, violated / n, reg))


class _LinearMulticlassClassifier(GradientDescentClassifier):
    """Scores ``S = XW + b``, prediction ``argmax``; trained from zeros on ``self._loss_and_grad``."""

    def __init__(self, lr, epochs, reg, mode, batch_size, rng):
        super().__init__(lr, epochs, mode, batch_size, rng)
        self.reg = check_positive(reg, "reg", allow_zero=True)

    def fit(self, X, y):
        """Fit on ``X`` ``(N, D)`` and labels ``y`` ``(N,)`` (any labels, ≥ 2 classes); returns ``self``."""
        X = as_float_array(X, "X", ndim=2)
        check_same_rows(X, "X", y, "y")
        self.classes_, indices = encode_labels(y, "y")
        W = np.zeros((X.shape[1], len(self.classes_)), dtype=X.dtype)
        b = np.zeros(len(self.classes_), dtype=X.dtype)

        def loss_and_grads(X_batch, y_batch):
            loss, dW, db = self._loss_and_grad(W, b, X_batch, y_batch)
            return loss, [dW, db]

        self._minimize(loss_and_grads, [W, b], X, indices)
        self.W_, self.b_ = W, b
        self.coef_, self.intercept_ = W.T, b  # sklearn's (K, D) layout
        return self

    def decision_function(self, X):
        """Class scores ``S = XW + b``, shape ``(N, K)``."""
        check_fitted(self)
        X = check_features(X, self.W_.shape[0])
        return X @ self.W_ + self.b_

    def predict(self, X):
        """The label of the highest score, shape ``(N,)``."""
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]


class SoftmaxRegression(_LinearMulticlassClassifier):
    """Multi-class logistic regression (softmax + cross-entropy) trained by gradient descent.

    Args: ``lr``, ``epochs``, ``reg`` (``λ`` of ``λ‖W‖²``), ``mode``, ``batch_size``, ``rng``
    (see ``nnref.training.GradientDescentEstimator``).
    Fitted attributes: ``classes_``, ``W_`` ``(D, K)``, ``b_`` ``(K,)``, ``coef_ = W_ᵀ`` ``(K, D)``,
    ``intercept_`` ``(K,)``, ``loss_history_``, ``n_iter_``.
    """

    def __init__(self, lr=0.1, epochs=100, reg=0.0, mode="batch", batch_size=32, rng=None):
        super().__init__(lr, epochs, reg, mode, batch_size, rng)

    def _loss_and_grad(self, W, b, X, y):
        return softmax_regression_loss_and_grad(W, b, X, y, reg=self.reg)

    def predict_proba(self, X):
        """Class probabilities ``softmax(XW + b)``, shape ``(N, K)``."""
        return softmax(self.decision_function(X))


class LinearSVM(_LinearMulticlassClassifier):
    """Multiclass linear SVM (deck 004's hinge loss with margin ``Δ``) trained by gradient descent.

    Same arguments and attributes as ``SoftmaxRegression``, plus ``margin`` (``Δ``).
    """

    def __init__(self, lr=0.1, epochs=100, reg=0.0, margin=1.0, mode="batch", batch_size=32, rng=None):
        super().__init__(lr, epochs, reg, mode, batch_size, rng)
        self.margin = check_positive(margin, "margin")

    def _loss_and_grad(self, W, b, X, y):
        return svm_loss_and_grad(W, b, X, y, reg=self.reg, margin=self.margin)
