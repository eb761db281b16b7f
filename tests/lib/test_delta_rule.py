"""nnref.delta_rule: hand-computed LMS steps, torch autograd, the normal equation vs sklearn/numpy."""

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score

from nnref.delta_rule import (
    LinearRegressionGD,
    add_bias_column,
    delta_rule_batch_step,
    half_mse_and_grad,
    lms_epoch,
    lms_update,
    normal_equation,
)

# three samples used for the hand computations
X_HAND = np.array([[1.0, 2.0], [2.0, -1.0], [0.0, 1.0]])
Y_HAND = np.array([3.0, 1.0, -1.0])


def test_lms_trajectory_by_hand():
    # η = 0.1, w = (0, 0), b = 0; w ← w + η (y − ŷ) x, b ← b + η (y − ŷ).
    # 1) x = (1, 2), y = 3: ŷ = 0, error 3 → w = (0.3, 0.6), b = 0.3
    w, b = lms_update(np.zeros(2), 0.0, X_HAND[0], Y_HAND[0], 0.1)
    np.testing.assert_allclose(w, [0.3, 0.6], rtol=1e-15)
    assert b == pytest.approx(0.3, rel=1e-15)
    # 2) x = (2, −1), y = 1: ŷ = 0.6 − 0.6 + 0.3 = 0.3, error 0.7 → w = (0.44, 0.53), b = 0.37
    w, b = lms_update(w, b, X_HAND[1], Y_HAND[1], 0.1)
    np.testing.assert_allclose(w, [0.44, 0.53], rtol=1e-14)
    assert b == pytest.approx(0.37, rel=1e-14)
    # 3) x = (0, 1), y = −1: ŷ = 0.53 + 0.37 = 0.9, error −1.9 → w = (0.44, 0.34), b = 0.18
    w, b = lms_update(w, b, X_HAND[2], Y_HAND[2], 0.1)
    np.testing.assert_allclose(w, [0.44, 0.34], rtol=1e-14)
    assert b == pytest.approx(0.18, rel=1e-13)
    # and lms_epoch is the same three updates in order
    w_epoch, b_epoch = lms_epoch(np.zeros(2), 0.0, X_HAND, Y_HAND, 0.1)
    np.testing.assert_allclose(w_epoch, w, rtol=1e-15)
    assert b_epoch == pytest.approx(b, rel=1e-15)


def test_lms_without_bias_by_hand():
    # deck 001's w ← w + η (y − wᵀx) x with no bias: x = (1, 2), y = 3, η = 0.1 → w = (0.3, 0.6);
    # then x = (2, −1), y = 1: ŷ = 0.6 − 0.6 = 0, error 1 → w = (0.5, 0.5)
    w, b = lms_epoch(np.zeros(2), None, X_HAND[:2], Y_HAND[:2], 0.1)
    np.testing.assert_allclose(w, [0.5, 0.5], rtol=1e-15)
    assert b is None


def test_batch_step_by_hand():
    # from zero: errors (3, 1, −1); mean of error·x = ((3·1 + 1·2 + 0)/3, (3·2 − 1 − 1)/3) = (5/3, 4/3);
    # mean error = 1. η = 0.1 → w = (1/6, 2/15), b = 0.1. "sum" is N = 3 times larger.
    w, b = delta_rule_batch_step(np.zeros(2), 0.0, X_HAND, Y_HAND, 0.1)
    np.testing.assert_allclose(w, [1 / 6, 2 / 15], rtol=1e-14)
    assert b == pytest.approx(0.1, rel=1e-14)
    w, b = delta_rule_batch_step(np.zeros(2), 0.0, X_HAND, Y_HAND, 0.1, reduction="sum")
    np.testing.assert_allclose(w, [0.5, 0.4], rtol=1e-14)
    assert b == pytest.approx(0.3, rel=1e-14)


@pytest.mark.parametrize("with_bias", [True, False])
def test_half_mse_and_grad_equal_torch_autograd(with_bias):
    rng = np.random.default_rng(0)
    X, y, w = rng.normal(size=(15, 4)), rng.normal(size=15), rng.normal(size=4)
    b = 0.7 if with_bias else None
    loss, dw, db = half_mse_and_grad(w, b, X, y)
    w_t = torch.tensor(w, requires_grad=True)
    b_t = torch.tensor(0.7 if with_bias else 0.0, dtype=torch.float64, requires_grad=with_bias)
    loss_t = 0.5 * torch.nn.functional.mse_loss(torch.tensor(X) @ w_t + b_t, torch.tensor(y))
    loss_t.backward()
    assert loss == pytest.approx(loss_t.item(), rel=1e-13)
    np.testing.assert_allclose(dw, w_t.grad.numpy(), rtol=1e-12)
    if with_bias:
        assert db == pytest.approx(b_t.grad.item(), rel=1e-12)
    else:
        assert db is None


def _regression_data(seed=0, n=40, d=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ np.array([1.5, -2.0, 0.5])[:d] + 0.3 + 0.1 * rng.normal(size=n)
    return X, y


def test_normal_equation_equals_sklearn_and_the_explicit_formula():
    X, y = _regression_data()
    w, b = normal_equation(X, y)
    reference = LinearRegression().fit(X, y)
    np.testing.assert_allclose(w, reference.coef_, rtol=1e-10)
    assert b == pytest.approx(reference.intercept_, rel=1e-10)
    # deck 002's ŵ = (XᵀX)⁻¹Xᵀy on the design matrix with a column of ones
    A = np.hstack([X, np.ones((len(X), 1))])
    explicit = np.linalg.inv(A.T @ A) @ A.T @ y
    np.testing.assert_allclose(np.append(w, b), explicit, rtol=1e-9)


def test_normal_equation_without_intercept_and_with_several_outputs():
    X, y = _regression_data(1)
    Y = np.stack([y, 2 * y - 1], axis=1)
    w, b = normal_equation(X, Y)
    reference = LinearRegression().fit(X, Y)
    np.testing.assert_allclose(w, reference.coef_.T, rtol=1e-10)
    np.testing.assert_allclose(b, reference.intercept_, rtol=1e-10)
    w, b = normal_equation(X, y, fit_intercept=False)
    np.testing.assert_allclose(w, LinearRegression(fit_intercept=False).fit(X, y).coef_, rtol=1e-10)
    assert b == 0.0


def test_normal_equation_rank_deficient_gives_minimum_norm_solution():
    X = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])  # second column = 2 × first
    y = np.array([1.0, 2.0, 3.0])
    w, _ = normal_equation(X, y, fit_intercept=False)
    np.testing.assert_allclose(w, np.linalg.pinv(X) @ y, rtol=1e-12)
    np.testing.assert_allclose(w, [0.2, 0.4], rtol=1e-12)  # (1, 2)/5: y = x₁ with the least ‖w‖


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    X=hnp.arrays(np.float64, st.tuples(st.integers(5, 12), st.integers(1, 3)), elements=st.floats(-5, 5)),
    data=st.data(),
)
def test_normal_equation_random_data_equals_sklearn(X, data):
    y = data.draw(hnp.arrays(np.float64, len(X), elements=st.floats(-5, 5)))
    centered = X - X.mean(axis=0)
    # a unique, well-conditioned answer (otherwise sklearn and lstsq may pick different solutions)
    # (subnormal-scale columns pass a rank test yet lose all precision: require a usable spread too)
    assume(centered.std(axis=0).min() > 1e-3)
    assume(np.linalg.matrix_rank(centered) == X.shape[1] and np.linalg.cond(centered) < 1e6)
    w, b = normal_equation(X, y)
    reference = LinearRegression().fit(X, y)
    np.testing.assert_allclose(w, reference.coef_, rtol=1e-6, atol=1e-8)
    assert b == pytest.approx(reference.intercept_, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lr=0.1, epochs=400, mode="batch"),
        dict(lr=0.01, epochs=60, mode="sgd", rng=np.random.default_rng(0)),
        dict(lr=0.05, epochs=200, mode="minibatch", batch_size=8, rng=np.random.default_rng(1)),
    ],
    ids=["batch", "sgd", "minibatch"],
)
def test_gradient_descent_reaches_the_least_squares_solution(kwargs):
    X, y = _regression_data(2)
    model = LinearRegressionGD(**kwargs).fit(X, y)
    reference = LinearRegression().fit(X, y)
    tolerance = 1e-6 if kwargs["mode"] == "batch" else 2e-2  # SGD hovers around the optimum
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=tolerance)
    assert model.intercept_ == pytest.approx(reference.intercept_, abs=tolerance)
    assert model.score(X, y) == pytest.approx(r2_score(y, reference.predict(X)), abs=1e-3)
    assert model.score(X, y) == pytest.approx(r2_score(y, model.predict(X)), rel=1e-12)
    assert len(model.loss_history_) == model.n_iter_ == kwargs["epochs"]


def test_batch_loss_history_decreases_and_is_the_half_mse():
    X, y = _regression_data(3)
    model = LinearRegressionGD(lr=0.05, epochs=50).fit(X, y)
    assert np.all(np.diff(model.loss_history_) < 0)
    expected = 0.5 * np.mean((y - model.predict(X)) ** 2)
    assert model.loss_history_[-1] == pytest.approx(expected, rel=1e-12)


def test_sgd_mode_without_rng_is_lms_epochs_in_order():
    X, y = _regression_data(4, n=10)
    model = LinearRegressionGD(lr=0.02, epochs=3, mode="sgd").fit(X, y)
    w, b = np.zeros(3), 0.0
    for _ in range(3):
        w, b = lms_epoch(w, b, X, y, 0.02)
    np.testing.assert_allclose(model.coef_, w, rtol=1e-12)
    assert model.intercept_ == pytest.approx(b, rel=1e-12)


def test_inputs_are_not_mutated():
    X, y = _regression_data(5, n=10)
    X0, y0, w0 = X.copy(), y.copy(), np.ones(3)
    w = w0.copy()
    lms_epoch(w, 0.5, X, y, 0.1)
    delta_rule_batch_step(w, 0.5, X, y, 0.1)
    half_mse_and_grad(w, 0.5, X, y)
    normal_equation(X, y)
    LinearRegressionGD(epochs=2).fit(X, y)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(w, w0)


def test_float32_stays_float32():
    X, y = _regression_data(6, n=10)
    w, b = lms_epoch(np.zeros(3, np.float32), 0.0, X.astype(np.float32), y.astype(np.float32), 0.1)
    assert w.dtype == np.float32
    _, dw, _ = half_mse_and_grad(np.zeros(3, np.float32), 0.0, X.astype(np.float32), y.astype(np.float32))
    assert dw.dtype == np.float32


def test_bad_input_messages():
    with pytest.raises(ValueError, match=r"X has 2 features but w has 3 weights"):
        half_mse_and_grad(np.zeros(3), 0.0, X_HAND, Y_HAND)
    with pytest.raises(ValueError, match=r"X has shape \(3, 2\), y has shape \(2,\)"):
        lms_epoch(np.zeros(2), 0.0, X_HAND, Y_HAND[:2], 0.1)
    with pytest.raises(ValueError, match=r"x has shape \(2,\), w has shape \(3,\)"):
        lms_update(np.zeros(3), 0.0, X_HAND[0], 1.0, 0.1)
    with pytest.raises(ValueError, match=r"x must be 1-D, got shape \(1, 2\)"):
        lms_update(np.zeros(2), 0.0, X_HAND[:1], 1.0, 0.1)
    with pytest.raises(ValueError, match="reduction"):
        delta_rule_batch_step(np.zeros(2), 0.0, X_HAND, Y_HAND, 0.1, reduction="max")
    with pytest.raises(ValueError, match="eta"):
        lms_epoch(np.zeros(2), 0.0, X_HAND, Y_HAND, -0.1)
    with pytest.raises(ValueError, match="mode"):
        LinearRegressionGD(mode="adam")
    with pytest.raises(ValueError, match="not fitted"):
        LinearRegressionGD().predict(X_HAND)
    with pytest.raises(TypeError, match="rng"):
        LinearRegressionGD(rng=0)
    with pytest.raises(ValueError, match=r"y must be 1-D or 2-D"):
        normal_equation(X_HAND, np.zeros((3, 1, 1)))


# --- add_bias_column (assignment 02's bias trick) -------------------------------------------------


def test_add_bias_column_appends_a_column_of_ones_last():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    X_tilde = add_bias_column(X)
    np.testing.assert_array_equal(X_tilde, [[1.0, 2.0, 1.0], [3.0, 4.0, 1.0], [5.0, 6.0, 1.0]])  # by hand
    np.testing.assert_array_equal(X, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])  # not modified
    # The bias trick of deck 002: [X | 1] @ [w; b] = Xw + b, with w = (0.5, -1), b = 2:
    # 0.5 - 2 + 2 = 0.5,  1.5 - 4 + 2 = -0.5,  2.5 - 6 + 2 = -1.5
    np.testing.assert_allclose(X_tilde @ np.array([0.5, -1.0, 2.0]), [0.5, -0.5, -1.5])


def test_add_bias_column_keeps_float32_and_makes_ints_float64():
    assert add_bias_column(np.ones((2, 3), dtype=np.float32)).dtype == np.float32
    assert add_bias_column(np.arange(6).reshape(3, 2)).dtype == np.float64


def test_add_bias_column_rejects_a_vector():
    with pytest.raises(ValueError, match=r"X must be 2-D, got shape \(3,\)"):
        add_bias_column(np.ones(3))


def test_normal_equation_with_add_bias_column_equals_sklearn():
    rng = np.random.default_rng(12)
    X = rng.normal(loc=3.0, size=(25, 4))
    y = X @ rng.normal(size=4) - 1.5 + 0.1 * rng.normal(size=25)
    X_tilde = add_bias_column(X)
    w_tilde = np.linalg.solve(X_tilde.T @ X_tilde, X_tilde.T @ y)  # the normal equation itself
    fitted = LinearRegression().fit(X, y)
    np.testing.assert_allclose(w_tilde[:-1], fitted.coef_, rtol=1e-9)
    np.testing.assert_allclose(w_tilde[-1], fitted.intercept_, rtol=1e-9)
