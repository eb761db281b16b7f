"""nnref.gates against torch autograd, state handling and bad input."""

import numpy as np
import pytest
import torch

from nnref.gates import AddGate, MultiplyGate, SigmoidGate
from torch_oracle import assert_close, assert_matches_torch

RNG = np.random.default_rng(11)


@pytest.mark.parametrize("shape", [(), (5,), (3, 4)])
@pytest.mark.parametrize("gate_cls, torch_op", [(MultiplyGate, torch.mul), (AddGate, torch.add)])
def test_binary_gates_match_torch(shape, gate_cls, torch_op):
    x, y = RNG.standard_normal(shape), RNG.standard_normal(shape)
    gate = gate_cls()
    z = gate.forward(x, y)
    dout = RNG.standard_normal(shape)
    dx, dy = gate.backward(dout)
    assert np.shape(dx) == shape and np.shape(dy) == shape
    assert_matches_torch(z, [dx, dy], torch_op, x, y, upstream=dout)


@pytest.mark.parametrize("shape", [(), (4, 2)])
def test_sigmoid_gate_matches_torch(shape):
    v = RNG.standard_normal(shape) * 4
    gate = SigmoidGate()
    out = gate.forward(v)
    dout = RNG.standard_normal(shape)
    assert_matches_torch(out, [gate.backward(dout)], torch.sigmoid, v, upstream=dout)


def test_gates_compose_like_a_graph():
    # f(x, y, z) = (x·y + z)·x: x feeds two paths, so its gradient is the sum over both (lecture 000)
    x, y, z = RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal(3)
    mul1, add, mul2 = MultiplyGate(), AddGate(), MultiplyGate()
    f = mul2.forward(add.forward(mul1.forward(x, y), z), x)
    dsum, dx_direct = mul2.backward(np.ones(3))
    dprod, dz = add.backward(dsum)
    dx_path, dy = mul1.backward(dprod)
    assert_matches_torch(f, [dx_direct + dx_path, dy, dz], lambda a, b, c: (a * b + c) * a, x, y, z)


def test_gate_keeps_its_own_copies():
    x, y = RNG.standard_normal(4), RNG.standard_normal(4)
    gate = MultiplyGate()
    gate.forward(x, y)
    expected_dx, expected_dy = y.copy(), x.copy()
    x += 10.0
    y *= -1.0
    dx, dy = gate.backward(np.ones(4))
    assert_close(dx, expected_dx)
    assert_close(dy, expected_dy)


def test_backward_before_forward_is_an_error():
    for gate in (MultiplyGate(), AddGate(), SigmoidGate()):
        with pytest.raises(RuntimeError, match=f"{type(gate).__name__}.backward called before forward"):
            gate.backward(1.0)


def test_bad_gate_input_is_named():
    with pytest.raises(ValueError, match=r"x and y must have the same shape: x has shape \(3,\), y has shape \(2,\)"):
        MultiplyGate().forward(np.zeros(3), np.zeros(2))
    gate = AddGate()
    gate.forward(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"dout must have the shape of the forward output \(3,\), got shape \(4,\)"):
        gate.backward(np.zeros(4))
    with pytest.raises(ValueError, match="y contains 1 NaN or infinite"):
        AddGate().forward(1.0, float("nan"))
    with pytest.raises(TypeError, match="x must be a numeric array, got str"):
        MultiplyGate().forward("2", 3.0)


# --- the gradient check of assignment 04 ------------------------------------------------------------

from nnref.gates import numerical_gradient, relative_error  # noqa: E402

SMOOTH = [
    (lambda x: np.sum(np.sin(x) * x ** 2), lambda t: (torch.sin(t) * t ** 2).sum()),
    (lambda x: np.log(np.sum(np.exp(x))), lambda t: torch.logsumexp(t.reshape(-1), 0)),
    (lambda x: float(np.prod(np.tanh(x) + 2.0)), lambda t: (torch.tanh(t) + 2.0).prod()),
]


@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (2, 1, 3)])
@pytest.mark.parametrize("functions", SMOOTH)
def test_numerical_gradient_matches_torch_autograd(shape, functions):
    f, f_torch = functions
    x = np.random.default_rng(1).normal(size=shape)
    x_tensor = torch.tensor(x, requires_grad=True)
    f_torch(x_tensor).backward()
    x_before = x.copy()
    np.testing.assert_allclose(numerical_gradient(f, x), x_tensor.grad.numpy(), rtol=1e-7, atol=1e-8)
    np.testing.assert_array_equal(x, x_before)


def test_numerical_gradient_is_centred_with_the_given_step():
    # f = x³: the centred difference is 3x² + h², a forward difference 3x² + 3xh + h²
    grad = numerical_gradient(lambda x: float(np.sum(x ** 3)), np.array([2.0]), h=0.1)
    np.testing.assert_allclose(grad, [12.0 + 0.01], rtol=1e-12)


def test_numerical_gradient_of_integers_is_float():
    grad = numerical_gradient(lambda x: float(np.sum(x ** 2)), np.arange(3))
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, [0.0, 2.0, 4.0], atol=1e-8)


def test_numerical_gradient_rejects_bad_arguments():
    with pytest.raises(TypeError, match="callable"):
        numerical_gradient(3.0, np.zeros(2))
    with pytest.raises(ValueError, match="h must be a positive"):
        numerical_gradient(np.sum, np.zeros(2), h=0.0)


def test_relative_error_definition_and_floor():
    assert relative_error(np.array([1.0, 0.0]), np.array([1.0, 0.0])) == 0.0
    assert relative_error(np.array([2.0, 1e-12]), np.array([1.0, 0.0])) == pytest.approx(max(1 / 3, 1e-12 / 1e-8))
    assert relative_error(np.zeros((0, 2)), np.zeros((0, 2))) == 0.0
    with pytest.raises(ValueError, match="shape"):
        relative_error(np.zeros(2), np.zeros(3))


def test_relative_error_agrees_with_the_toolkit():
    from nnkit.gradcheck import relative_error as toolkit_relative_error
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    assert relative_error(a, b) == toolkit_relative_error(a, b)
