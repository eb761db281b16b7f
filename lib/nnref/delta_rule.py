"""The delta rule (LMS / Widrow–Hoff) and linear regression (decks 001 and 002).

Linear unit ``ŷ = x·w + b`` (row-vector convention: a batch ``X`` of shape ``(N, D)`` gives
``ŷ = Xw + b``). The bias is the weight of a constant input 1, so every rule below updates it like a
weight; pass ``b=None`` for a unit without bias (deck 001's ``wᵀx``).

* Per sample (deck 001, "Perceptron vs. Delta Rule"): ``w ← w + η (y⁽ⁿ⁾ − wᵀx⁽ⁿ⁾) x⁽ⁿ⁾``. It is one
  gradient step on ``½ (y − ŷ)²``.
* Batch: the mean of the per-sample steps, ``w ← w + η/N Σₙ (yₙ − ŷₙ) xₙ``, a gradient step on the
  half mean squared error ``E = 1/(2N) Σₙ (yₙ − ŷₙ)²`` (``reduction="sum"`` drops the ``1/N``).
* Closed form (deck 002): the normal equation ``ŵ = (XᵀX)⁻¹Xᵀy``.
"""

from __future__ import annotations

import numpy as np

from nnkit.validation import as_float_array, check_positive, check_same_rows

from .perceptron import check_linear_unit, net_input
from .training import GradientDescentEstimator, check_features, check_fitted

__all__ = [
    "add_bias_column",
    "half_mse_and_grad",
    "lms_update",
    "lms_epoch",
    "delta_rule_batch_step",
    "normal_equation",
    "LinearRegressionGD",
]


def add_bias_column(X):
    """The bias trick of deck 002: ``X̃ = [X | 1]``, shape ``(N, D + 1)``, so ``X̃ [w; b] = Xw + b``.

    The column of ones is appended last (the bias is the last weight, as in the deck). ``X`` ``(N, D)``
    keeps its floating dtype and is not modified.
    """
    X = as_float_array(X, "X", ndim=2)
    return np.hstack([X, np.ones((X.shape[0], 1), dtype=X.dtype)])


def half_mse_and_grad(w, b, X, y):
    """Half mean squared error of ``ŷ = Xw + b`` and its gradient.

    ``E = 1/(2N) Σₙ (yₙ − ŷₙ)²``, ``∂E/∂w = −1/N Xᵀ(y − ŷ)``, ``∂E/∂b = −1/N Σₙ (yₙ − ŷₙ)``.

    Args:
        w: ``(D,)``; b: scalar or ``None``; X: ``(N, D)``; y: ``(N,)``.

    Returns:
        ``(loss, dw, db)`` with ``db = None`` when ``b`` is ``None``.
    """
    w, b, X, y = check_linear_unit(w, b, X, y)
    residual = y - net_input(w, b, X)
    n = X.shape[0]
    loss = 0.5 * float(residual @ residual) / n
    dw = -(X.T @ residual) / n
    db = None if b is None else -float(residual.sum()) / n
    return loss, dw, db


def lms_update(w, b, x, y, eta):
    """One delta-rule (LMS) step on one sample: ``w ← w + η (y − wᵀx) x``, ``b ← b + η (y − ŷ)``.

    Args:
        w: ``(D,)``; b: scalar or ``None``; x: one sample ``(D,)``; y: its target (scalar); eta: ``η``.

    Returns:
        ``(w, b)`` (new values; the arguments are not modified).
    """
    x = as_float_array(x, "x", ndim=1)
    if np.shape(w) != x.shape:
        raise ValueError(
            f"x and w must have the same length: x has shape {x.shape}, w has shape {np.shape(w)}"
        )
    w, b, _, _ = check_linear_unit(w, b, x[np.newaxis, :])
    y = float(as_float_array(y, "y", ndim=0))
    eta = check_positive(eta, "eta")
    error = y - (float(x @ w) + (0.0 if b is None else b))
    return w + eta * error * x, None if b is None else b + eta * error


def lms_epoch(w, b, X, y, eta):
    """One pass of ``lms_update`` over the samples of ``X`` ``(N, D)`` / ``y`` ``(N,)`` in order.

    Returns ``(w, b)`` after the pass (new values).
    """
    w, b, X, y = check_linear_unit(w, b, X, y)
    for x_n, y_n in zip(X, y):
        w, b = lms_update(w, b, x_n, y_n, eta)
    return w, b


def delta_rule_batch_step(w, b, X, y, eta, reduction="mean"):
    """One batch delta-rule step: ``w ← w + η/N Σₙ (yₙ − ŷₙ) xₙ`` (``reduction="sum"``: no ``1/N``).

    ``"mean"`` is gradient descent on ``E = 1/(2N) Σ (y − ŷ)²``; ``"sum"`` on ``½ Σ (y − ŷ)²``.
    Returns ``(w, b)`` (new values).
    """
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    eta = check_positive(eta, "eta")
    _, dw, db = half_mse_and_grad(w, b, X, y)
    scale = eta * (np.shape(X)[0] if reduction == "sum" else 1)
    w = as_float_array(w, "w")
    return w - scale * dw, None if b is None else float(b) - scale * db


def normal_equation(X, y, fit_intercept=True):
    """Least-squares weights in closed form (deck 002): ``ŵ = (XᵀX)⁻¹Xᵀy``.

    With ``fit_intercept`` the bias is the weight of an appended column of ones. Solved with
    ``np.linalg.lstsq`` instead of an explicit inverse: same answer when ``XᵀX`` is invertible, better
    rounding, and the minimum-norm solution when it is not.

    Args:
        X: ``(N, D)``.
        y: ``(N,)`` or ``(N, K)`` for ``K`` outputs.

    Returns:
        ``(w, b)``: ``w`` of shape ``(D,)`` or ``(D, K)``; ``b`` a float, a ``(K,)`` array, or ``0``
        without intercept.
    """
    X = as_float_array(X, "X", ndim=2)
    y = as_float_array(y, "y", ndim=(1, 2))
    check_same_rows(X, "X", y, "y")
    design = add_bias_column(X) if fit_intercept else X
    solution = np.linalg.lstsq(design, y, rcond=None)[0]
    if not fit_intercept:
        return solution, 0.0
    bias = solution[-1]
    return solution[:-1], float(bias) if y.ndim == 1 else bias


class LinearRegressionGD(GradientDescentEstimator):
    """Linear regression ``ŷ = Xw + b`` trained with the delta rule.

    Gradient descent on ``E = 1/(2N) Σ (y − ŷ)²`` from ``w = 0, b = 0``: ``mode="sgd"`` is the
    per-sample LMS rule, ``"batch"`` the batch delta rule, ``"minibatch"`` in between (see
    ``nnref.training.GradientDescentEstimator`` for ``lr``, ``epochs``, ``mode``, ``batch_size``,
    ``rng``).

    Fitted attributes (sklearn ``LinearRegression``'s shapes): ``coef_`` ``(D,)``, ``intercept_``
    (float), ``loss_history_`` (``E`` after each epoch), ``n_iter_``.
    """

    def __init__(self, lr=0.01, epochs=100, mode="batch", batch_size=32, rng=None):
        super().__init__(lr, epochs, mode, batch_size, rng)

    def fit(self, X, y):
        """Fit on ``X`` ``(N, D)`` and real targets ``y`` ``(N,)``; returns ``self``."""
        X = as_float_array(X, "X", ndim=2)
        y = as_float_array(y, "y", ndim=1)
        check_same_rows(X, "X", y, "y")
        w, b = np.zeros(X.shape[1], dtype=X.dtype), np.zeros((), dtype=X.dtype)

        def loss_and_grads(X_batch, y_batch):
            loss, dw, db = half_mse_and_grad(w, b, X_batch, y_batch)
            return loss, [dw, np.asarray(db)]

        self._minimize(loss_and_grads, [w, b], X, y)
        self.coef_, self.intercept_ = w, float(b)
        return self

    def predict(self, X):
        """``ŷ = Xw + b``, shape ``(N,)``."""
        check_fitted(self)
        X = check_features(X, self.coef_.shape[0])
        return X @ self.coef_ + self.intercept_

    def score(self, X, y):
        """Coefficient of determination ``R² = 1 − Σ (y − ŷ)² / Σ (y − ȳ)²`` (sklearn's ``score``)."""
        y = as_float_array(y, "y", ndim=1)
        predictions = self.predict(X)
        check_same_rows(predictions, "X", y, "y")
        return 1.0 - float(np.sum((y - predictions) ** 2)) / float(np.sum((y - y.mean()) ** 2))
