"""The lectures' forms equal the PyTorch forms the reference uses (docs/conventions.md).

Each test runs the lecture's formula (as implemented in nnref) and the torch form side by side and
compares the whole trajectory.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnref import delta_rule, logistic, optimizers, softmax_regression

N_STEPS = 30
RTOL, ATOL = 1e-10, 1e-12


def gradient_sequence(shape, n_steps=N_STEPS, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) for _ in range(n_steps)]


def torch_step(param, optimizer, grad):
    param.grad = torch.tensor(grad)
    optimizer.step()
    return param.detach().numpy()


@pytest.mark.parametrize("lr, momentum", [(0.1, 0.9), (0.01, 0.5), (0.3, 0.0)])
def test_deck000_delta_w_momentum_is_torch_sgd_momentum(lr, momentum):
    # ΔWᵗ = −η g + m ΔWᵗ⁻¹ with ΔW⁰ = 0  ⇔  torch: v = m v + g (v = g at step 1), p −= η v.
    # Mapping: v_torch = −ΔW / η (so ΔW = −η v_torch and both add the same step to W).
    rng = np.random.default_rng(1)
    w = rng.normal(size=(3, 2))
    delta = np.zeros_like(w)
    param = torch.tensor(w, requires_grad=True)
    reference = torch.optim.SGD([param], lr=lr, momentum=momentum)
    for grad in gradient_sequence(w.shape):
        w, delta = optimizers.momentum_step(w, grad, delta, lr=lr, momentum=momentum)
        np.testing.assert_allclose(w, torch_step(param, reference, grad), rtol=RTOL, atol=ATOL)
        if momentum:
            np.testing.assert_allclose(-delta / lr, reference.state[param]["momentum_buffer"].numpy(), rtol=1e-9)


def _objective(theta):
    """A non-quadratic test function (so the look-ahead point matters): Σ log cosh(Aθ − c) + ¼‖θ‖⁴."""
    a = torch.tensor([[1.0, 2.0, -1.0], [0.5, -1.0, 3.0], [2.0, 0.0, 1.0]], dtype=torch.float64)
    c = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    return torch.log(torch.cosh(a @ theta - c)).sum() + 0.25 * (theta @ theta) ** 2


def _gradient(theta):
    t = torch.tensor(theta, requires_grad=True)
    _objective(t).backward()
    return t.grad.numpy()


@pytest.mark.parametrize("lr, momentum", [(0.05, 0.9), (0.1, 0.5)])
def test_deck003_nesterov_lookahead_is_torch_nesterov(lr, momentum):
    # Deck 003: vₜ = μ vₜ₋₁ + ε ∇f(θₜ₋₁ − μ vₜ₋₁), θₜ = θₜ₋₁ − vₜ.
    # torch keeps the look-ahead point: p_t = θₜ − μ vₜ, and its buffer is vₜ / ε.
    theta = np.array([0.8, -1.2, 0.4])
    velocity = np.zeros(3)
    param = torch.tensor(theta, requires_grad=True)
    reference = torch.optim.SGD([param], lr=lr, momentum=momentum, nesterov=True)
    for _ in range(N_STEPS):
        theta, velocity = optimizers.nesterov_step(theta, velocity, _gradient, lr=lr, momentum=momentum)
        reference.zero_grad()
        _objective(param).backward()
        reference.step()
        np.testing.assert_allclose(theta - momentum * velocity, param.detach().numpy(), rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(velocity / lr, reference.state[param]["momentum_buffer"].numpy(), rtol=1e-9)


def test_deck003_adagrad_is_torch_adagrad():
    w = np.linspace(-1, 1, 6)
    accumulator = np.zeros_like(w)
    param = torch.tensor(w, requires_grad=True)
    reference = torch.optim.Adagrad([param], lr=0.1)
    for grad in gradient_sequence(w.shape):
        w, accumulator = optimizers.adagrad_step(w, grad, accumulator, lr=0.1)
        np.testing.assert_allclose(w, torch_step(param, reference, grad), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("beta", [0.99, 0.9])
def test_deck003_rmsprop_is_torch_rmsprop(beta):
    w = np.linspace(-1, 1, 6)
    square_avg = np.zeros_like(w)
    param = torch.tensor(w, requires_grad=True)
    reference = torch.optim.RMSprop([param], lr=0.01, alpha=beta)
    for grad in gradient_sequence(w.shape):
        w, square_avg = optimizers.rmsprop_step(w, grad, square_avg, lr=0.01, beta=beta)
        np.testing.assert_allclose(w, torch_step(param, reference, grad), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.9)])
def test_deck003_adam_is_torch_adam(betas):
    w = np.linspace(-1, 1, 6)
    m, s = np.zeros_like(w), np.zeros_like(w)
    param = torch.tensor(w, requires_grad=True)
    reference = torch.optim.Adam([param], lr=0.01, betas=betas)
    for t, grad in enumerate(gradient_sequence(w.shape), start=1):
        w, m, s = optimizers.adam_step(w, grad, m, s, t, lr=0.01, beta1=betas[0], beta2=betas[1])
        np.testing.assert_allclose(w, torch_step(param, reference, grad), rtol=RTOL, atol=ATOL)


def test_deck004_l2_penalty_is_torch_weight_decay_times_two():
    # L = mean CE + λ Σ W² (deck 004, eqs. 5-6); its gradient adds 2λW, which is torch's weight_decay=2λ.
    # Only W is regularized: in torch, W and b are two parameter groups.
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(20, 4)), rng.integers(0, 3, size=20)
    W, b = rng.normal(size=(4, 3)), np.zeros(3)
    reg, lr = 0.05, 0.2
    W_t, b_t = torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)
    reference = torch.optim.SGD(
        [{"params": [W_t], "weight_decay": 2 * reg}, {"params": [b_t], "weight_decay": 0.0}], lr=lr
    )
    for _ in range(N_STEPS):
        _, dW, db = softmax_regression.softmax_regression_loss_and_grad(W, b, X, y, reg=reg)
        W, b = W - lr * dW, b - lr * db
        reference.zero_grad()
        F.cross_entropy(torch.tensor(X) @ W_t + b_t, torch.tensor(y)).backward()
        reference.step()
        np.testing.assert_allclose(W, W_t.detach().numpy(), rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(b, b_t.detach().numpy(), rtol=RTOL, atol=ATOL)


def test_deck001_gradient_ascent_on_log_likelihood_is_descent_on_mean_bce_with_lr_times_n():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(25, 3)), rng.integers(0, 2, size=25).astype(float)
    w, b, alpha = np.zeros(3), 0.0, 0.01
    w_t = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    b_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    reference = torch.optim.SGD([w_t, b_t], lr=alpha * len(X))
    for _ in range(N_STEPS):
        _, dw, db = logistic.log_likelihood_and_grad(w, b, X, y)
        w, b = w + alpha * dw, b + alpha * db  # ascent: w ← w + α ∇ll
        reference.zero_grad()
        F.binary_cross_entropy_with_logits(torch.tensor(X) @ w_t + b_t, torch.tensor(y)).backward()
        reference.step()
        np.testing.assert_allclose(w, w_t.detach().numpy(), rtol=RTOL, atol=ATOL)
        assert b == pytest.approx(b_t.item(), rel=RTOL, abs=ATOL)


def _torch_half_squared_error_descent(X, y, lr, batches, reduction):
    w_t = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    reference = torch.optim.SGD([w_t, b_t], lr=lr)
    for rows in batches:
        reference.zero_grad()
        prediction = torch.tensor(X[rows]) @ w_t + b_t
        (0.5 * F.mse_loss(prediction, torch.tensor(y[rows]), reduction=reduction)).backward()
        reference.step()
    return w_t.detach().numpy(), b_t.item()


def test_deck001_lms_rule_is_per_sample_sgd_on_half_squared_error():
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(12, 3)), rng.normal(size=12)
    w, b = np.zeros(3), 0.0
    for _ in range(3):
        w, b = delta_rule.lms_epoch(w, b, X, y, eta=0.05)
    batches = [[i] for _ in range(3) for i in range(len(X))]
    w_t, b_t = _torch_half_squared_error_descent(X, y, 0.05, batches, "mean")
    np.testing.assert_allclose(w, w_t, rtol=RTOL, atol=ATOL)
    assert b == pytest.approx(b_t, rel=RTOL, abs=ATOL)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_batch_delta_rule_is_gradient_descent_on_half_squared_error(reduction):
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(10, 2)), rng.normal(size=10)
    lr = 0.1 if reduction == "mean" else 0.01
    w, b = np.zeros(2), 0.0
    for _ in range(N_STEPS):
        w, b = delta_rule.delta_rule_batch_step(w, b, X, y, lr, reduction=reduction)
    w_t, b_t = _torch_half_squared_error_descent(X, y, lr, [slice(None)] * N_STEPS, reduction)
    np.testing.assert_allclose(w, w_t, rtol=RTOL, atol=ATOL)
    assert b == pytest.approx(b_t, rel=RTOL, abs=ATOL)


def test_dropout_contract_of_the_student_page_p_is_the_drop_probability_like_torch():
    # p = probability of dropping, inverted scaling 1/(1 − p): the kept fraction and the mean match torch's nn.Dropout.
    # That p = 0 and evaluation mode draw nothing: test_layers.py::test_dropout_eval_and_p0_are_identity_and_draw_nothing.
    from nnref.layers import dropout_forward

    torch.manual_seed(8)
    x, p = np.ones((400, 500)), 0.3
    out, _ = dropout_forward(x, p, train=True, rng=np.random.default_rng(8))
    torch_out = torch.nn.Dropout(p)(torch.ones(400, 500, dtype=torch.float64)).numpy()
    for values in (out, torch_out):
        assert set(np.unique(values)) <= {0.0, 1 / (1 - p)}
        assert abs(np.mean(values != 0) - (1 - p)) < 0.01
        assert abs(values.mean() - 1.0) < 0.015
