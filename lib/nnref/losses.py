"""Loss functions (lectures 000, 002, 003 and 004), each returning ``(loss, dpred)``.

``loss`` is a Python float and ``dpred`` = ∂loss/∂pred, an array with the shape and dtype of the
prediction. ``reduction`` chooses the factor c in loss = c · Σ ℓ (and dpred = c · ℓ'):

=============  ======================  ==========================================================
reduction      c                       where it comes from
=============  ======================  ==========================================================
``"mean"``     1 / count               PyTorch's default (count = elements, or samples for the
                                       class losses)
``"sum"``      1                       lecture 003's categorical CE and squared hinge, deck 002's SSE
``"half_sum"`` 1/2                     deck 002's L = ½ Σ (ŷ − y)², lecture 003's sample-wise
                                       L_n = ½ Σ_m (a_m − y_m)²   (MSE only)
``"half_mean"`` 1 / (2 · count)        lecture 000's E = 1/(2K) Σ_k (o_k − d_k)² (MSE only)
=============  ======================  ==========================================================

Class losses (``cross_entropy_loss``, ``nll_loss``, ``categorical_cross_entropy``,
``multiclass_hinge_loss``) take scores of shape (N, K) and a target that is either N integer labels
in [0, K) or (except the hinge loss) an (N, K) array of one-hot rows / probabilities; their "mean"
divides by N, as PyTorch does.
"""

from __future__ import annotations

import numpy as np

from nnkit.validation import as_float_array, check_labels, check_positive, check_same_rows

from .activations import log_softmax, sigmoid

__all__ = [
    "mse_loss",
    "mae_loss",
    "msle_loss",
    "bce_loss",
    "bce_with_logits_loss",
    "cross_entropy_loss",
    "softmax_cross_entropy",
    "nll_loss",
    "categorical_cross_entropy",
    "multiclass_hinge_loss",
    "squared_hinge_loss",
    "l2_penalty",
]

# torch clamps log(p) at -100 in binary_cross_entropy and divides its gradient by max(p(1-p), 1e-12).
LOG_CLAMP = -100.0
GRAD_EPS = 1e-12

_MEAN_SUM = ("mean", "sum")
MSE_REDUCTIONS = ("mean", "sum", "half_sum", "half_mean")


def _reduction_scale(reduction, count, allowed=_MEAN_SUM):
    """The factor c of loss = c · Σ ℓ for ``reduction`` over ``count`` terms."""
    if reduction not in allowed:
        raise ValueError(f"reduction must be one of {', '.join(map(repr, allowed))}, got {reduction!r}")
    return {"mean": 1.0 / count, "sum": 1.0, "half_sum": 0.5, "half_mean": 0.5 / count}[reduction]


def _nonempty(x, name):
    if x.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {x.shape}")
    return x


def _pred_and_target(pred, target, pred_name="pred", target_name="target"):
    """Validate an elementwise (pred, target) pair of equal shapes; target gets pred's dtype."""
    pred = _nonempty(as_float_array(pred, pred_name), pred_name)
    target = as_float_array(target, target_name)
    if target.shape != pred.shape:
        raise ValueError(
            f"{pred_name} and {target_name} must have the same shape: "
            f"{pred_name} has shape {pred.shape}, {target_name} has shape {target.shape}"
        )
    return pred, target.astype(pred.dtype, copy=False)


def _check_range(x, name, low, high, *, open_low=False):
    """Raise ``ValueError`` unless every entry of ``x`` lies in [low, high] (or (low, high])."""
    below = x <= low if open_low else x < low
    if np.any(below) or np.any(x > high):
        interval = f"{'(' if open_low else '['}{low}, {high}]"
        raise ValueError(
            f"{name} must lie in {interval}, got values in [{x.min()}, {x.max()}] (shape {x.shape})"
        )


def _clamped_log(p):
    """log(p) clamped below at -100 like torch, without a divide-by-zero warning at p = 0."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(p), LOG_CLAMP)


def mse_loss(pred, target, reduction="mean"):
    """Mean squared error ℓ = (a − y)², ℓ' = 2(a − y) (lecture 003; lecture 000 with "half_mean").

    pred, target: arrays of the same shape. Reductions: "mean", "sum", "half_sum", "half_mean".
    """
    pred, target = _pred_and_target(pred, target)
    c = _reduction_scale(reduction, pred.size, MSE_REDUCTIONS)
    diff = pred - target
    return float(c * np.sum(diff * diff)), (2.0 * c) * diff


def mae_loss(pred, target, reduction="mean"):
    """Mean absolute error ℓ = |a − y|, ℓ' = sign(a − y) with sign(0) = 0 as torch (lecture 003)."""
    pred, target = _pred_and_target(pred, target)
    c = _reduction_scale(reduction, pred.size)
    diff = pred - target
    return float(c * np.sum(np.abs(diff))), c * np.sign(diff)


def msle_loss(pred, target, reduction="mean"):
    """Mean squared logarithmic error ℓ = (log(1 + a) − log(1 + y))² (lecture 003).

    ℓ' = 2 (log(1 + a) − log(1 + y)) / (1 + a). pred and target must be > −1.
    """
    pred, target = _pred_and_target(pred, target)
    _check_range(pred, "pred", -1.0, np.inf, open_low=True)
    _check_range(target, "target", -1.0, np.inf, open_low=True)
    c = _reduction_scale(reduction, pred.size)
    log_ratio = np.log1p(pred) - np.log1p(target)
    return float(c * np.sum(log_ratio * log_ratio)), (2.0 * c) * log_ratio / (1.0 + pred)


def bce_loss(pred, target, reduction="mean"):
    """Binary cross-entropy from probabilities (lecture 003): ℓ = −[y log a + (1 − y) log(1 − a)].

    pred: probabilities in [0, 1]; target: values in [0, 1], same shape. As in
    ``torch.nn.functional.binary_cross_entropy`` each log is clamped at −100 and the gradient is
    (a − y) / max(a(1 − a), 1e-12), so a = 0 or 1 gives a finite loss and gradient.
    """
    pred, target = _pred_and_target(pred, target)
    _check_range(pred, "pred", 0.0, 1.0)
    _check_range(target, "target", 0.0, 1.0)
    c = _reduction_scale(reduction, pred.size)
    losses = -(target * _clamped_log(pred) + (1.0 - target) * _clamped_log(1.0 - pred))
    dpred = c * (pred - target) / np.maximum(pred * (1.0 - pred), GRAD_EPS)
    return float(c * np.sum(losses)), dpred


def bce_with_logits_loss(pred, target, reduction="mean"):
    """Binary cross-entropy of σ(z) from logits z, computed stably.

    ℓ = max(z, 0) − z·y + log(1 + e^{−|z|}) (equal to −[y log σ(z) + (1 − y) log(1 − σ(z))]),
    ℓ' = σ(z) − y. pred: logits; target: values in [0, 1], same shape.
    """
    logits, target = _pred_and_target(pred, target)
    _check_range(target, "target", 0.0, 1.0)
    c = _reduction_scale(reduction, logits.size)
    losses = np.maximum(logits, 0.0) - logits * target + np.log1p(np.exp(-np.abs(logits)))
    return float(c * np.sum(losses)), c * (sigmoid(logits) - target)


def _labels(target, scores, scores_name, target_name):
    """``target`` as N class indices in [0, K) for ``scores`` of shape (N, K)."""
    labels = check_labels(target, target_name, n_classes=scores.shape[1])
    check_same_rows(scores, scores_name, labels, target_name)
    return labels


def _target_distribution(target, scores, scores_name, target_name):
    """Class targets as an (N, K) array of rows: one-hot rows for labels, or the given probabilities."""
    n_samples, n_classes = scores.shape
    target = np.asarray(target)
    if target.ndim == 1:
        one_hot = np.zeros_like(scores)
        one_hot[np.arange(n_samples), _labels(target, scores, scores_name, target_name)] = 1.0
        return one_hot
    if target.shape != scores.shape:
        raise ValueError(
            f"{target_name} must be {n_samples} class indices or an array of shape {scores.shape} "
            f"like {scores_name}, got shape {target.shape}"
        )
    probabilities = as_float_array(target, target_name).astype(scores.dtype, copy=False)
    _check_range(probabilities, target_name, 0.0, 1.0)
    return probabilities


def _class_scores(scores, name):
    return _nonempty(as_float_array(scores, name, ndim=2), name)


def _label_cross_entropy(logits, labels, scale):
    """Softmax cross-entropy of validated logits (N, K) and labels (N,) in [0, K), without checks.

    Returns (scale · Σ_i L_i, scale · (ŷ − y)) with L_i = log Σ_k e^{z_ik} − z_{i,y_i}, computed on
    z − max_k z (stable). Each row's label entry is picked instead of multiplying by one-hot rows.
    """
    rows = np.arange(len(labels))
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    sums = probs.sum(axis=1, keepdims=True)
    loss = scale * (np.log(sums).sum() - shifted[rows, labels].sum())
    probs /= sums
    probs[rows, labels] -= 1.0  # ŷ − y
    probs *= scale
    return float(loss), probs


def _softmax_cross_entropy(logits, target, reduction, logits_name, target_name):
    logits = _class_scores(logits, logits_name)
    c = _reduction_scale(reduction, logits.shape[0])
    if np.ndim(target) == 1:
        return _label_cross_entropy(logits, _labels(target, logits, logits_name, target_name), c)
    y = _target_distribution(target, logits, logits_name, target_name)
    log_probs = log_softmax(logits)
    # ∂/∂z of −Σ_k y_k log softmax(z)_k is softmax(z)·Σ_k y_k − y, i.e. ŷ − y for one-hot y.
    dlogits = c * (np.exp(log_probs) * y.sum(axis=1, keepdims=True) - y)
    return float(-c * np.sum(y * log_probs)), dlogits


def cross_entropy_loss(logits, target, reduction="mean", *, check=True):
    """Softmax cross-entropy from logits, like ``torch.nn.functional.cross_entropy``.

    L_i = −Σ_k y_ik log softmax(z_i)_k (lecture 004 eq. 3); ∂L_i/∂z_i = softmax(z_i)·Σ_k y_ik − y_i,
    which is ŷ − y for one-hot targets. logits: (N, K); target: (N,) labels or (N, K) probabilities.
    Stable for logits of ±1e3 (log-softmax is computed with the max subtracted).
    ``check=False`` is the fast path of a caller that has validated its arguments (``nnref.mlp.MLP``):
    float logits (N, K) and int labels (N,) in [0, K) only, nothing is checked.
    """
    if not check:
        return _label_cross_entropy(logits, target, _reduction_scale(reduction, logits.shape[0]))
    return _softmax_cross_entropy(logits, target, reduction, "logits", "target")


def softmax_cross_entropy(theta, y, reduction="mean"):
    """Homework 1-1 of lecture 004: CE(y, ŷ) = −Σ_i y_i log ŷ_i with ŷ = softmax(θ); ∂CE/∂θ = ŷ − y.

    theta: one logit vector (K,) with y a one-hot/probability vector (K,) or an integer label,
    or a batch (N, K) with y as in ``cross_entropy_loss``. Returns (loss, dtheta), dtheta shaped as
    theta. For one vector the reduction does not matter (N = 1).
    """
    theta = as_float_array(theta, "theta", ndim=(1, 2))
    if theta.ndim == 2:
        return _softmax_cross_entropy(theta, y, reduction, "theta", "y")
    y = np.asarray(y)
    if y.ndim == 1 and y.shape != theta.shape:
        raise ValueError(f"y must have the shape of theta {theta.shape} (or be one label), got shape {y.shape}")
    if y.ndim > 1:
        raise ValueError(f"y must be one label or a vector of shape {theta.shape} for 1-D theta, got shape {y.shape}")
    batch_y = y.reshape(1) if y.ndim == 0 else y[np.newaxis, :]
    loss, dtheta = _softmax_cross_entropy(theta[np.newaxis, :], batch_y, reduction, "theta", "y")
    return loss, dtheta[0]


def nll_loss(log_probs, target, reduction="mean"):
    """Negative log-likelihood of **log-probabilities**, like ``torch.nn.functional.nll_loss``.

    L_i = −Σ_k y_ik log p_ik; ∂L/∂(log p) = −c·y. log_probs: (N, K); target: (N,) labels or (N, K).
    For probabilities themselves use ``categorical_cross_entropy``.
    """
    log_probs = _class_scores(log_probs, "log_probs")
    y = _target_distribution(target, log_probs, "log_probs", "target")
    c = _reduction_scale(reduction, log_probs.shape[0])
    return float(-c * np.sum(y * log_probs)), -c * y


def categorical_cross_entropy(probs, target, reduction="mean"):
    """Categorical cross-entropy from probabilities (lecture 003): L_i = −Σ_k y_ik log a_ik.

    ∂L_i/∂a_ik = −y_ik / a_ik. probs: (N, K) in [0, 1]; target: (N,) labels or (N, K) one-hot /
    probabilities. As in ``bce_loss`` the log is clamped at −100 and the division uses
    max(a, 1e-12), so a zero probability gives a finite loss and gradient.
    """
    probs = _class_scores(probs, "probs")
    _check_range(probs, "probs", 0.0, 1.0)
    y = _target_distribution(target, probs, "probs", "target")
    c = _reduction_scale(reduction, probs.shape[0])
    return float(-c * np.sum(y * _clamped_log(probs))), -c * y / np.maximum(probs, GRAD_EPS)


def multiclass_hinge_loss(scores, target, margin=1.0, reduction="mean"):
    """Multiclass SVM loss (lecture 004 eqs. 7-9): L_i = Σ_{j≠y_i} max(0, s_j − s_{y_i} + Δ).

    ∂L_i/∂s_j = 1(s_j − s_{y_i} + Δ > 0) for j ≠ y_i and ∂L_i/∂s_{y_i} = −Σ_{j≠y_i} 1(...).
    scores: (N, K); target: (N,) labels; margin: Δ > 0. "mean" is lecture 004's (1/N) Σ_i L_i.
    (torch's ``multi_margin_loss`` additionally divides each L_i by K.)
    """
    scores = _class_scores(scores, "scores")
    labels = check_labels(target, "target", n_classes=scores.shape[1])
    check_same_rows(scores, "scores", labels, "target")
    margin = check_positive(margin, "margin")
    c = _reduction_scale(reduction, scores.shape[0])
    rows = np.arange(scores.shape[0])
    margins = scores - scores[rows, labels][:, np.newaxis] + margin
    margins[rows, labels] = 0.0  # the sum runs over j ≠ y_i
    active = (margins > 0).astype(scores.dtype)
    active[rows, labels] = -active.sum(axis=1)
    return float(c * np.sum(np.maximum(margins, 0.0))), c * active


def squared_hinge_loss(pred, target, reduction="mean"):
    """Binary squared hinge loss (lecture 003): ℓ = max(0, 1 − y·a)², targets y ∈ {−1, +1}.

    ℓ' = −2 y max(0, 1 − y·a). pred, target: same shape. Lecture 003 writes the "sum" form.
    """
    pred, target = _pred_and_target(pred, target)
    if not np.all(np.abs(target) == 1.0):
        raise ValueError(f"target must hold only -1 and +1, got values {np.unique(target)[:5]} (shape {target.shape})")
    c = _reduction_scale(reduction, pred.size)
    slack = np.maximum(1.0 - target * pred, 0.0)
    return float(c * np.sum(slack * slack)), (-2.0 * c) * target * slack


def l2_penalty(params, lam):
    """L2 regularisation λ R(W) with R(W) = Σ_k Σ_d W_kd² (lecture 004 eqs. 5-6).

    params: one array or a list/tuple of arrays (pass the weights, not the biases); lam: λ ≥ 0.
    Returns (value, grads) with grads = 2 λ W, a list aligned with ``params`` (or one array).
    """
    lam = check_positive(lam, "lam", allow_zero=True)
    single = not isinstance(params, (list, tuple))
    arrays = [as_float_array(p, "params" if single else f"params[{i}]")
              for i, p in enumerate([params] if single else params)]
    value = lam * sum(float(np.sum(w * w)) for w in arrays)
    grads = [(2.0 * lam) * w for w in arrays]
    return value, grads[0] if single else grads
