"""nnkit.oracle: torch values and gradients against closed forms and centred finite differences."""

import numpy as np
import pytest
import torch

from nnkit.gradcheck import numerical_gradient
from nnkit.oracle import to_torch, torch_value_and_grads


def test_to_torch_gives_a_float64_copy():
    array = np.arange(6).reshape(2, 3)
    tensor = to_torch(array)
    assert tensor.dtype == torch.float64 and tuple(tensor.shape) == (2, 3) and not tensor.requires_grad
    np.testing.assert_array_equal(tensor.numpy(), array)
    floats = np.ones(3, dtype=np.float32)
    leaf = to_torch(floats, requires_grad=True)
    assert leaf.requires_grad and leaf.is_leaf and leaf.dtype == torch.float64
    with torch.no_grad():
        leaf.add_(1.0)
    np.testing.assert_array_equal(floats, np.ones(3, dtype=np.float32))


def test_to_torch_of_a_number():
    tensor = to_torch(2.5)
    assert tensor.shape == () and tensor.item() == 2.5


def test_value_and_gradients_of_a_quadratic_form_match_the_closed_form():
    rng = np.random.default_rng(0)
    A, x = rng.normal(size=(4, 4)), rng.normal(size=4)
    value, (dA, dx) = torch_value_and_grads(lambda A, x: x @ A @ x, A, x)
    assert isinstance(value, float)
    np.testing.assert_allclose(value, x @ A @ x, rtol=1e-12)
    np.testing.assert_allclose(dA, np.outer(x, x), rtol=1e-12)
    np.testing.assert_allclose(dx, (A + A.T) @ x, rtol=1e-12)
    assert dA.dtype == np.float64 and dx.dtype == np.float64


def test_gradients_of_a_softmax_loss_match_finite_differences():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 4, size=6)
    W, b = rng.normal(size=(3, 4)), rng.normal(size=4)

    def torch_loss(W, b):
        return torch.nn.functional.cross_entropy(to_torch(X) @ W + b, torch.tensor(y))

    def numpy_loss(W, b):
        scores = X @ W + b
        scores = scores - scores.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(scores).sum(axis=1)) - scores[np.arange(6), y]))

    value, (dW, db) = torch_value_and_grads(torch_loss, W, b)
    np.testing.assert_allclose(value, numpy_loss(W, b), rtol=1e-12)
    np.testing.assert_allclose(dW, numerical_gradient(lambda w: numpy_loss(w, b), W), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(db, numerical_gradient(lambda c: numpy_loss(W, c), b), rtol=1e-6, atol=1e-9)


def test_an_unused_argument_gets_a_zero_gradient_and_inputs_stay_unchanged():
    a, b = np.array([1.0, 2.0]), np.array([[3.0, 4.0]])
    a_before, b_before = a.copy(), b.copy()
    value, (da, db) = torch_value_and_grads(lambda a, b: (a ** 2).sum(), a, b)
    assert value == 5.0
    np.testing.assert_array_equal(da, 2 * a)
    np.testing.assert_array_equal(db, np.zeros((1, 2)))
    np.testing.assert_array_equal(a, a_before)
    np.testing.assert_array_equal(b, b_before)


def test_a_one_element_output_counts_as_a_scalar():
    value, (dx,) = torch_value_and_grads(lambda x: x.sum(dim=0, keepdim=True) * 3.0, np.array([1.0, 2.0]))
    assert value == 9.0
    np.testing.assert_array_equal(dx, [3.0, 3.0])


@pytest.mark.parametrize("call, error, words", [
    (lambda: torch_value_and_grads(lambda x: x * 2, np.ones(3)), ValueError, ["scalar", "(3,)"]),
    (lambda: torch_value_and_grads(lambda x: 1.0, np.ones(3)), TypeError, ["fn", "tensor", "float"]),
    (lambda: torch_value_and_grads("x ** 2", np.ones(3)), TypeError, ["fn", "callable", "str"]),
    (lambda: torch_value_and_grads(lambda x, y: (x * y).sum(), np.ones(2), "a"), TypeError, ["arrays[1]"]),
    (lambda: torch_value_and_grads(lambda x: x.sum(), np.array([np.inf])), ValueError, ["arrays[0]", "infinite"]),
    (lambda: to_torch(np.ones(2), requires_grad="yes"), TypeError, ["requires_grad"]),
    (lambda: to_torch(None), TypeError, ["array"]),
])
def test_bad_input_names_the_argument(call, error, words):
    with pytest.raises(error) as raised:
        call()
    for word in words:
        assert word in str(raised.value), (word, str(raised.value))
