"""Numerically stable activations, the softmax cross-entropy and accuracy, shared by the notebooks.

These are tools for given cells and visible checks (plots, training loops, progress read-outs), so
every notebook computes them the same way instead of pasting its own copy:

    sigmoid(x)                      1 / (1 + e^{-x}), elementwise, without overflow
    softmax(scores, axis=-1)        e^{s_k} / sum_j e^{s_j} along ``axis``
    log_softmax(scores, axis=-1)    s_k - log sum_j e^{s_j} along ``axis``
    cross_entropy(scores, y)        mean over rows of -log softmax(scores)[i, y_i]
    accuracy(scores_or_labels, y)   fraction of rows whose prediction equals y

Row-vector convention: ``scores`` has one row per sample, shape (N, K). Floating inputs keep their
dtype (float32 stays float32); integer and boolean inputs become float64. No function modifies its
input. Bad input raises ``TypeError``/``ValueError`` naming the argument and its shape.
"""

from __future__ import annotations

import numpy as np

from .validation import as_float_array, check_labels, check_same_rows

__all__ = ["accuracy", "cross_entropy", "log_softmax", "sigmoid", "softmax"]


def sigmoid(x):
    """The logistic function σ(x) = 1 / (1 + e^{−x}), elementwise.

    Inputs:
    - x: array of any shape (or a number).

    Returns:
    - array shaped like ``x`` with values in [0, 1]. Exponentials are only taken of −|x|, so inputs
      of ±1e3 give 0 and 1 without an overflow warning.
    """
    x = as_float_array(x, "x")
    e = np.exp(-np.abs(x))  # always in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def _check_axis(scores, axis, name):
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -scores.ndim <= axis < scores.ndim:
        raise ValueError(
            f"axis must be an int in [{-scores.ndim}, {scores.ndim}) for {name} of shape {scores.shape}, "
            f"got {axis!r}"
        )


def log_softmax(scores, axis=-1):
    """log softmax(s)_k = s_k − log Σ_j e^{s_j} along ``axis``.

    Inputs:
    - scores: array with at least one dimension, e.g. (N, K) class scores (logits).
    - axis: the class axis (default: the last).

    Returns:
    - array shaped like ``scores``. The maximum is subtracted first, so every exponent is ≤ 0 and
      scores of ±1e3 are handled exactly.
    """
    scores = as_float_array(scores, "scores")
    _check_axis(scores, axis, "scores")
    shifted = scores - scores.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(scores, axis=-1):
    """softmax(s)_k = e^{s_k} / Σ_j e^{s_j} along ``axis``.

    Inputs:
    - scores: array with at least one dimension, e.g. (N, K) class scores (logits).
    - axis: the class axis (default: the last).

    Returns:
    - array shaped like ``scores``, nonnegative, summing to 1 along ``axis`` (stable: the maximum is
      subtracted before exponentiating).
    """
    scores = as_float_array(scores, "scores")
    _check_axis(scores, axis, "scores")
    e = np.exp(scores - scores.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def cross_entropy(scores, y):
    """Mean softmax cross-entropy of integer labels: (1/N) Σ_i −log softmax(scores_i)[y_i].

    The same number as ``torch.nn.functional.cross_entropy(scores, y)`` (reduction "mean").

    Inputs:
    - scores: (N, K) class scores (logits), N ≥ 1.
    - y: (N,) integer labels in [0, K).

    Returns:
    - a Python float.
    """
    scores = as_float_array(scores, "scores", ndim=2)
    if scores.shape[0] == 0:
        raise ValueError(f"scores must hold at least one row, got shape {scores.shape}")
    y = check_labels(y, "y", n_classes=scores.shape[1])
    check_same_rows(scores, "scores", y, "y")
    log_probs = log_softmax(scores, axis=1)
    return float(-log_probs[np.arange(len(y)), y].mean())


def accuracy(scores_or_labels, y):
    """Fraction of samples whose predicted class equals the label.

    Inputs:
    - scores_or_labels: (N, K) class scores (the prediction is the argmax of each row) or (N,)
      predicted integer labels. Binary probabilities must be turned into labels first,
      e.g. ``(p >= 0.5).astype(int)``.
    - y: (N,) integer labels.

    Returns:
    - a Python float in [0, 1].
    """
    predictions = np.asarray(scores_or_labels)
    if predictions.ndim == 2:
        predictions = as_float_array(predictions, "scores_or_labels").argmax(axis=1)
    elif predictions.ndim == 1:
        predictions = check_labels(predictions, "scores_or_labels")
    else:
        raise ValueError(
            "scores_or_labels must be 2-D class scores (N, K) or 1-D predicted labels (N,), "
            f"got shape {predictions.shape}"
        )
    y = check_labels(y, "y")
    check_same_rows(predictions, "scores_or_labels", y, "y")
    if len(y) == 0:
        raise ValueError("y must hold at least one label, got shape (0,)")
    return float(np.mean(predictions == y))
