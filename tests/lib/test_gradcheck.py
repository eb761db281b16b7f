"""nnkit.gradcheck: numerical gradients against torch autograd, error measure, report, bad input."""

import numpy as np
import pytest
import torch

from nnkit.gradcheck import GradCheckReport, gradient_check, numerical_gradient, relative_error
from torch_oracle import assert_close, torch_value_and_grads

RNG = np.random.default_rng(3)


def smooth(x):
    return float(np.sum(np.sin(x) * x ** 2) + np.prod(np.cos(x[:2])))


def torch_smooth(t):
    return (torch.sin(t) * t ** 2).sum() + torch.prod(torch.cos(t.reshape(-1)[:2]))


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 2, 3)])
def test_numerical_gradient_matches_torch(shape):
    x = RNG.standard_normal(shape)
    _, (expected,) = torch_value_and_grads(torch_smooth, x)
    flat_smooth = lambda a: smooth(a.reshape(-1))  # noqa: E731
    grad = numerical_gradient(flat_smooth, x)
    assert grad.shape == shape and grad.dtype == np.float64
    assert_close(grad, expected, rtol=1e-8, atol=1e-9)


def test_numerical_gradient_restores_x_and_evaluates_a_copy():
    x = RNG.standard_normal((3, 3))
    original = x.copy()
    seen = []
    numerical_gradient(lambda a: (seen.append(a), float(np.sum(a)))[1], x)
    assert np.array_equal(x, original)
    assert all(a is not x for a in seen)


def test_numerical_gradient_of_integer_and_float32_input():
    assert_close(numerical_gradient(lambda a: float(np.sum(a ** 2)), np.array([1, -2, 3])), [2.0, -4.0, 6.0], rtol=1e-8)
    x32 = np.array([0.5, -1.5], dtype=np.float32)
    assert_close(numerical_gradient(lambda a: float(np.sum(a ** 3)), x32), 3 * x32.astype(np.float64) ** 2, rtol=1e-8)


def test_relative_error_definition():
    assert relative_error(np.array([1.0]), np.array([1.1])) == pytest.approx(0.1 / 2.1)
    assert relative_error(np.array([1.0, 0.0]), np.array([1.0, 1e-10])) == pytest.approx(1e-10 / 1e-8)
    assert relative_error(np.array([1.0, 0.0]), np.array([1.0, 1e-10]), floor=1e-6) == pytest.approx(1e-4)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.zeros(0), np.zeros(0)) == 0.0
    assert np.isnan(relative_error(np.array([np.nan]), np.array([1.0])))


def test_gradient_check_passes_right_and_fails_wrong_gradients():
    w, b = RNG.standard_normal((3, 2)), RNG.standard_normal(2)
    X = RNG.standard_normal((4, 3))

    def loss(w_, b_):
        return float(np.sum(np.tanh(X @ w_ + b_) ** 2))

    (_, (dw, db)) = torch_value_and_grads(lambda w_, b_: (torch.tanh(torch.tensor(X) @ w_ + b_) ** 2).sum(), w, b)
    report = gradient_check(loss, [w, b], [dw, db], names=["w", "b"])
    assert isinstance(report, GradCheckReport) and report.passed
    assert report.names == ("w", "b") and report.shapes == ((3, 2), (2,))
    assert report.max_error < 1e-8
    wrong = gradient_check(loss, [w, b], [dw, db * 1.01], names=["w", "b"])
    assert not wrong.passed
    assert wrong.errors[0] < 1e-8 and wrong.errors[1] == pytest.approx(0.01 / 2.01, rel=1e-3)
    transposed_bug = gradient_check(loss, [w, b], [dw[::-1], db], names=["w", "b"])
    assert not transposed_bug.passed


def test_single_array_form_and_report_text(capfd):
    x = RNG.standard_normal(4)
    report = gradient_check(lambda a: float(np.sum(a ** 3)), x, 3 * x ** 2)
    assert report.passed and report.names == ("x",)
    text = str(report)
    assert text.splitlines()[0] == "gradient check: PASSED (tolerance 1e-06)"
    assert "x  shape (4,)" in text and "ok" in text
    failed = str(gradient_check(lambda a: float(np.sum(a ** 3)), x, 2 * x ** 2))
    assert "FAILED" in failed and "TOO LARGE" in failed
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # the check itself prints nothing


def test_inputs_are_not_modified_even_if_f_mutates_its_argument():
    x = RNG.standard_normal(3)
    original = x.copy()

    def rude(a):
        a *= 2.0  # f scribbles on what it is given: only the private copy suffers
        return float(np.sum(a))

    gradient_check(rude, [x], [np.ones(3)])
    numerical_gradient(rude, x)
    assert np.array_equal(x, original)


def test_bad_input_is_named():
    x = np.zeros(3)
    with pytest.raises(TypeError, match="f must be callable, got int"):
        numerical_gradient(3, x)
    with pytest.raises(TypeError, match=r"f must return a scalar \(the loss\), got a value of shape \(3,\)"):
        numerical_gradient(lambda a: a * 2, x)
    with pytest.raises(ValueError, match="h must be finite and > 0, got 0.0"):
        numerical_gradient(lambda a: 0.0, x, h=0.0)
    with pytest.raises(ValueError, match=r"x contains 1 NaN"):
        numerical_gradient(lambda a: 0.0, np.array([np.nan]))
    with pytest.raises(ValueError, match=r"a and b must have the same shape: a has shape \(3,\), b has shape \(2,\)"):
        relative_error(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match=r"analytic_grads must hold one gradient per input \(2\), got 1"):
        gradient_check(lambda a, b: 0.0, [x, x], [x])
    with pytest.raises(ValueError, match=r"analytic gradient of w has shape \(2,\), but w has shape \(3,\)"):
        gradient_check(lambda a: 0.0, [x], [np.zeros(2)], names=["w"])
    with pytest.raises(ValueError, match=r"names must hold one name per input \(1\), got 2"):
        gradient_check(lambda a: 0.0, [x], [x], names=["a", "b"])
