"""nnref.losses against torch.nn.functional (values and autograd gradients), sklearn and bad input."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import log_loss

from nnref import losses
from torch_oracle import assert_close, assert_matches_torch

RNG = np.random.default_rng(2024)
N, K = 7, 5
PRED = RNG.standard_normal((N, K))
TARGET = RNG.standard_normal((N, K))
PROBS = RNG.uniform(0.02, 0.98, (N, K))
BINARY = RNG.uniform(0, 1, (N, K)).round(1)  # soft targets, incl. exact 0 and 1
LABELS = RNG.integers(0, K, N)
SIGNS = np.where(RNG.random((N, K)) < 0.5, -1.0, 1.0)


def check(loss_fn, args, torch_fn, *, reduction):
    """loss_fn(*args, reduction) against torch_fn(pred_tensor) via autograd w.r.t. the first arg."""
    loss, dpred = loss_fn(*args, reduction=reduction)
    assert isinstance(loss, float)
    assert dpred.shape == np.shape(args[0]) and dpred.dtype == np.float64
    assert_matches_torch(loss, [dpred], torch_fn, args[0])


def t(a):
    return torch.tensor(np.asarray(a, dtype=np.float64))


# torch reductions; the lectures' half forms are ½·sum and ½·mean
TORCH_REDUCE = {
    "mean": lambda v: v.mean(),
    "sum": lambda v: v.sum(),
    "half_sum": lambda v: 0.5 * v.sum(),
    "half_mean": lambda v: 0.5 * v.mean(),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "half_sum", "half_mean"])
def test_mse(reduction):
    check(losses.mse_loss, (PRED, TARGET),
          lambda p: TORCH_REDUCE[reduction](F.mse_loss(p, t(TARGET), reduction="none")), reduction=reduction)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_is_torch_mse_loss(reduction):
    check(losses.mse_loss, (PRED, TARGET), lambda p: F.mse_loss(p, t(TARGET), reduction=reduction), reduction=reduction)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mae(reduction):
    target = PRED.copy()
    target[0] += 1.0  # rows 1.. tie exactly: torch's subgradient there is 0
    target[2] = RNG.standard_normal(K)
    check(losses.mae_loss, (PRED, target), lambda p: F.l1_loss(p, t(target), reduction=reduction), reduction=reduction)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_msle(reduction):
    pred, target = np.abs(PRED) * 3, np.abs(TARGET) * 3
    check(losses.msle_loss, (pred, target),
          lambda p: F.mse_loss(torch.log1p(p), torch.log1p(t(target)), reduction=reduction), reduction=reduction)


def test_msle_lecture_003_clarification():
    # lecture 003's table: MSE punishes (3000 vs 3200) far more than (3 vs 5), MSLE the other way round
    # (the slide's MSLE column, 0.22 and 0.02, matches no log base; only the ordering is checked)
    assert losses.mse_loss([3.0], [5.0])[0] == 4.0 and losses.mse_loss([3000.0], [3200.0])[0] == 40000.0
    assert losses.msle_loss([3000.0], [3200.0])[0] < losses.msle_loss([3.0], [5.0])[0]
    assert losses.msle_loss([3.0], [5.0])[0] == pytest.approx(np.log(6 / 4) ** 2)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bce(reduction):
    check(losses.bce_loss, (PROBS, BINARY),
          lambda p: F.binary_cross_entropy(p, t(BINARY), reduction=reduction), reduction=reduction)


def test_bce_clamps_like_torch_at_zero_and_one():
    probs = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    target = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    check(losses.bce_loss, (probs, target),
          lambda p: F.binary_cross_entropy(p, t(target)), reduction="mean")
    assert losses.bce_loss(probs, target)[0] == pytest.approx((100 + 100 + np.log(2)) / 5)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_bce_with_logits(reduction, scale):
    logits = PRED * scale
    check(losses.bce_with_logits_loss, (logits, BINARY),
          lambda z: F.binary_cross_entropy_with_logits(z, t(BINARY), reduction=reduction), reduction=reduction)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_cross_entropy_with_labels(reduction, scale):
    logits = PRED * scale
    check(losses.cross_entropy_loss, (logits, LABELS),
          lambda z: F.cross_entropy(z, torch.tensor(LABELS), reduction=reduction), reduction=reduction)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_cross_entropy_with_probability_targets(reduction, scale):
    logits = PRED * scale
    soft = RNG.dirichlet(np.ones(K), N)
    soft[0] *= 0.5  # a row that does not sum to 1: the gradient is softmax·Σy − y
    check(losses.cross_entropy_loss, (logits, soft),
          lambda z: F.cross_entropy(z, t(soft), reduction=reduction), reduction=reduction)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_unchecked_path_is_the_same_loss(reduction, dtype):
    # check=False is what MLP calls on its own logits and checked labels: same loss, same dtype
    logits = (PRED * 30).astype(dtype)
    loss, dlogits = losses.cross_entropy_loss(logits, LABELS, reduction, check=False)
    assert dlogits.dtype == dtype
    expected, expected_grad = losses.cross_entropy_loss(logits, LABELS, reduction)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(loss, expected, rtol=rtol)
    np.testing.assert_allclose(dlogits, expected_grad, rtol=rtol, atol=rtol / N)
    z = torch.tensor(logits.astype(np.float64), requires_grad=True)
    F.cross_entropy(z, torch.tensor(LABELS), reduction=reduction).backward()
    np.testing.assert_allclose(dlogits, z.grad.numpy(), rtol=rtol, atol=rtol / N)


def test_cross_entropy_one_hot_equals_labels_and_sklearn():
    one_hot = np.eye(K)[LABELS]
    by_labels = losses.cross_entropy_loss(PRED, LABELS)
    by_one_hot = losses.cross_entropy_loss(PRED, one_hot)
    assert_close(by_labels[0], by_one_hot[0])
    assert_close(by_labels[1], by_one_hot[1])
    softmax = np.exp(PRED) / np.exp(PRED).sum(axis=1, keepdims=True)
    assert_close(by_labels[0], log_loss(LABELS, softmax, labels=np.arange(K)))


@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_softmax_cross_entropy_single_vector_is_homework_1_1(scale):
    # lecture 004 Homework 1-1: ∂CE/∂θ = ŷ − y for one logit vector θ and a one-hot y
    theta = PRED[0] * scale
    y = np.eye(K)[3]
    loss, dtheta = losses.softmax_cross_entropy(theta, y)
    assert dtheta.shape == (K,)
    assert_matches_torch(loss, [dtheta], lambda z: F.cross_entropy(z[None], torch.tensor([3])), theta)
    by_label = losses.softmax_cross_entropy(theta, 3)
    assert_close(by_label[0], loss)
    assert_close(by_label[1], dtheta)


def test_softmax_cross_entropy_batch():
    check(losses.softmax_cross_entropy, (PRED, LABELS),
          lambda z: F.cross_entropy(z, torch.tensor(LABELS)), reduction="mean")


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("one_hot", [False, True])
def test_nll_loss_takes_log_probabilities(reduction, one_hot):
    log_probs = np.log(RNG.dirichlet(np.ones(K), N))
    target = np.eye(K)[LABELS] if one_hot else LABELS
    check(losses.nll_loss, (log_probs, target),
          lambda lp: F.nll_loss(lp, torch.tensor(LABELS), reduction=reduction), reduction=reduction)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_categorical_cross_entropy_from_probabilities(reduction):
    probs = RNG.dirichlet(np.ones(K), N)
    check(losses.categorical_cross_entropy, (probs, LABELS),
          lambda p: F.nll_loss(torch.log(p), torch.tensor(LABELS), reduction=reduction), reduction=reduction)


def test_categorical_cross_entropy_mean_is_sklearn_log_loss():
    probs = RNG.dirichlet(np.ones(K), N)
    assert_close(losses.categorical_cross_entropy(probs, LABELS)[0], log_loss(LABELS, probs, labels=np.arange(K)))


def test_categorical_cross_entropy_zero_probability_is_finite():
    probs = np.array([[0.0, 1.0], [0.5, 0.5]])
    loss, dprobs = losses.categorical_cross_entropy(probs, [0, 1])
    assert loss == pytest.approx((100 + np.log(2)) / 2)
    assert np.all(np.isfinite(dprobs))


@pytest.mark.parametrize("margin", [1.0, 2.5])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_multiclass_hinge_matches_torch_multi_margin_times_k(margin, reduction):
    # torch's multi_margin_loss divides each sample's Σ_{j≠y} by K; lecture 004's eq. 7 does not
    check(lambda s, y, reduction: losses.multiclass_hinge_loss(s, y, margin=margin, reduction=reduction),
          (PRED, LABELS),
          lambda s: K * F.multi_margin_loss(s, torch.tensor(LABELS), margin=margin, reduction=reduction),
          reduction=reduction)


def test_multiclass_hinge_lecture_004_formulas():
    # eq. 7 on CS231n's cat example scores: s = (3.2, 5.1, -1.7), y = 0, Δ = 1 → 2.9 + 0 = 2.9
    loss, ds = losses.multiclass_hinge_loss(np.array([[3.2, 5.1, -1.7]]), [0])
    assert loss == pytest.approx(2.9)
    assert ds.tolist() == [[-1.0, 1.0, 0.0]]  # eqs. 8-9: −(count of active margins) and the indicators


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_squared_hinge(reduction):
    check(losses.squared_hinge_loss, (PRED, SIGNS),
          lambda a: TORCH_REDUCE[reduction](torch.clamp(1 - t(SIGNS) * a, min=0) ** 2), reduction=reduction)


def test_l2_penalty_matches_torch():
    weights = [RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))]
    value, grads = losses.l2_penalty(weights, 0.3)
    assert_matches_torch(value, grads, lambda a, b: 0.3 * ((a ** 2).sum() + (b ** 2).sum()), *weights)
    single_value, single_grad = losses.l2_penalty(weights[0], 0.3)
    assert_close(single_value, 0.3 * np.sum(weights[0] ** 2))
    assert_close(single_grad, grads[0])


def test_float32_predictions_keep_float32_gradients():
    p32 = PROBS.astype(np.float32)
    for loss_fn, args in [(losses.mse_loss, (p32, TARGET)), (losses.bce_loss, (p32, BINARY)),
                          (losses.cross_entropy_loss, (p32, LABELS)), (losses.multiclass_hinge_loss, (p32, LABELS)),
                          (losses.bce_with_logits_loss, (p32, BINARY)), (losses.categorical_cross_entropy, (p32 / p32.sum(1, keepdims=True), LABELS))]:
        loss, grad = loss_fn(*args)
        assert grad.dtype == np.float32, loss_fn.__name__
        assert loss == pytest.approx(loss_fn(*(a.astype(np.float64) if a is not LABELS else a for a in args))[0], rel=1e-5)


# ---- bad input ------------------------------------------------------------------------------------

def test_shape_mismatch_names_both_arguments():
    with pytest.raises(ValueError, match=r"pred and target must have the same shape: pred has shape \(7, 5\), target has shape \(7, 4\)"):
        losses.mse_loss(PRED, TARGET[:, :4])


def test_label_problems_are_named():
    with pytest.raises(ValueError, match=r"target has class index 5 but there are only 5 classes"):
        losses.cross_entropy_loss(PRED, np.array([0, 1, 2, 3, 4, 5, 0]))
    with pytest.raises(ValueError, match=r"target has a negative class index -1"):
        losses.multiclass_hinge_loss(PRED, np.array([0, 1, 2, 3, 4, -1, 0]))
    with pytest.raises(ValueError, match=r"logits and target must have the same number of samples \(rows\): logits has shape \(7, 5\), target has shape \(6,\)"):
        losses.cross_entropy_loss(PRED, LABELS[:6])
    with pytest.raises(TypeError, match="target must hold integer class indices"):
        losses.nll_loss(PRED, LABELS + 0.5)
    with pytest.raises(ValueError, match=r"target must be 7 class indices or an array of shape \(7, 5\) like logits, got shape \(7, 4\)"):
        losses.cross_entropy_loss(PRED, np.ones((7, 4)) / 4)


def test_values_out_of_range_are_named():
    with pytest.raises(ValueError, match=r"pred must lie in \[0.0, 1.0\], got values in \[-0.5, "):
        losses.bce_loss(np.array([-0.5, 0.5]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"target must lie in \[0.0, 1.0\]"):
        losses.bce_with_logits_loss(np.zeros(2), np.array([0.0, 2.0]))
    with pytest.raises(ValueError, match=r"pred must lie in \(-1.0, inf\]"):
        losses.msle_loss(np.array([-1.0, 0.5]), np.zeros(2))
    with pytest.raises(ValueError, match=r"target must hold only -1 and \+1"):
        losses.squared_hinge_loss(PRED, np.zeros_like(PRED))
    with pytest.raises(ValueError, match=r"probs must lie in \[0.0, 1.0\]"):
        losses.categorical_cross_entropy(PRED, LABELS)
    with pytest.raises(ValueError, match=r"target must lie in \[0.0, 1.0\]"):
        losses.cross_entropy_loss(PRED, -np.eye(K)[LABELS])


def test_bad_reduction_margin_and_lambda_are_named():
    with pytest.raises(ValueError, match=r"reduction must be one of 'mean', 'sum', got 'half_sum'"):
        losses.cross_entropy_loss(PRED, LABELS, reduction="half_sum")
    with pytest.raises(ValueError, match=r"reduction must be one of 'mean', 'sum', 'half_sum', 'half_mean', got 'avg'"):
        losses.mse_loss(PRED, TARGET, reduction="avg")
    with pytest.raises(ValueError, match="margin must be finite and > 0"):
        losses.multiclass_hinge_loss(PRED, LABELS, margin=0.0)
    with pytest.raises(ValueError, match="lam must be finite and >= 0"):
        losses.l2_penalty([PRED], -1.0)


def test_nan_empty_and_wrong_ndim_are_named():
    with pytest.raises(ValueError, match=r"pred contains 1 NaN or infinite value\(s\) \(shape \(2,\)"):
        losses.mse_loss(np.array([np.nan, 1.0]), np.zeros(2))
    with pytest.raises(ValueError, match=r"target contains 1 NaN"):
        losses.mse_loss(np.zeros(2), np.array([np.inf, 1.0]))
    with pytest.raises(ValueError, match=r"pred must not be empty, got shape \(0,\)"):
        losses.mae_loss(np.zeros(0), np.zeros(0))
    with pytest.raises(ValueError, match=r"logits must be 2-D, got shape \(5,\)"):
        losses.cross_entropy_loss(np.zeros(5), [1])
    with pytest.raises(ValueError, match=r"y must have the shape of theta \(5,\)"):
        losses.softmax_cross_entropy(np.zeros(5), np.zeros(4))
    with pytest.raises(TypeError, match="pred must be a numeric array, got str"):
        losses.mse_loss("abc", np.zeros(2))
