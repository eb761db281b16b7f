"""nnref.activations against torch (values and autograd derivatives), properties and bad input."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nnref import activations as act
from torch_oracle import assert_close, assert_matches_torch, torch_value_and_grads

# Random values plus every kink (0, ±1) and saturating magnitudes.
KINKS = np.array([0.0, 1.0, -1.0, 1e-12, -1e-12, 30.0, -30.0, 700.0, -700.0])


def sample(seed=0, shape=(6, 7)):
    values = np.random.default_rng(seed).standard_normal(shape) * 3.0
    values.flat[: KINKS.size] = KINKS
    return values


# name -> (numpy f, numpy f', torch equivalent)
ELEMENTWISE = {
    "identity": (act.identity, act.identity_grad, lambda t: t * 1.0),
    "sigmoid": (act.sigmoid, act.sigmoid_grad, torch.sigmoid),
    "sigmoid_slope_0.5": (lambda x: act.sigmoid(x, 0.5), lambda x: act.sigmoid_grad(x, 0.5), lambda t: torch.sigmoid(0.5 * t)),
    "sigmoid_slope_3": (lambda x: act.sigmoid(x, slope=3.0), lambda x: act.sigmoid_grad(x, slope=3.0), lambda t: torch.sigmoid(3.0 * t)),
    "tanh": (act.tanh, act.tanh_grad, torch.tanh),
    "relu": (act.relu, act.relu_grad, F.relu),
    "leaky_relu": (act.leaky_relu, act.leaky_relu_grad, F.leaky_relu),
    "leaky_relu_0.3": (lambda x: act.leaky_relu(x, 0.3), lambda x: act.leaky_relu_grad(x, 0.3), lambda t: F.leaky_relu(t, 0.3)),
    "hard_tanh": (act.hard_tanh, act.hard_tanh_grad, F.hardtanh),
    # torch.sign(0) = 0, the course's sign(0) = +1: the oracle is the lecture's hard limit
    "sign": (act.sign, act.sign_grad, lambda t: torch.where(t >= 0, 1.0, -1.0) + 0.0 * torch.sign(t)),
    "hard_limit_0.5": (lambda x: act.hard_limit(x, 0.5), lambda x: act.hard_limit_grad(x, 0.5),
                       lambda t: torch.where(t >= 0.5, 1.0, -1.0) + 0.0 * torch.sign(t)),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("seed", [0, 1])
def test_value_and_derivative_match_torch(name, seed):
    f, f_grad, torch_f = ELEMENTWISE[name]
    x = sample(seed)
    # f is elementwise, so autograd of Σ f(x) is exactly f'(x) entry by entry
    assert_matches_torch(f(x), [f_grad(x)], torch_f, x)


def test_kink_conventions_follow_torch():
    kinks = np.array([-1.0, 0.0, 1.0])
    assert act.relu_grad(kinks).tolist() == [0.0, 0.0, 1.0]
    assert act.leaky_relu_grad(kinks).tolist() == [0.01, 0.01, 1.0]
    assert act.hard_tanh_grad(kinks).tolist() == [0.0, 1.0, 0.0]
    assert act.sign(kinks).tolist() == [-1.0, 1.0, 1.0]
    assert act.sign_grad(kinks).tolist() == [0.0, 0.0, 0.0]


def test_hard_limit_is_lecture_000_rule():
    # lecture 000: output +1 if net >= θ, otherwise -1
    net = np.array([-2.0, 0.0, 0.49, 0.5, 3.0])
    assert act.hard_limit(net, threshold=0.5).tolist() == [-1.0, -1.0, -1.0, 1.0, 1.0]
    assert act.hard_limit(net).tolist() == [-1.0, 1.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize("f", [act.sigmoid, act.sigmoid_grad, act.tanh, act.softmax, act.log_softmax,
                               lambda x: act.sigmoid(x, slope=10.0)])
def test_huge_inputs_are_finite_and_warning_free(f):
    x = np.array([[-1e3, -745.0, 0.0, 745.0, 1e3]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
            out = f(x)
    assert np.all(np.isfinite(out))


def test_sigmoid_saturates_correctly():
    out = act.sigmoid(np.array([-1e3, 1e3, -40.0]))
    assert out[0] == 0.0 and out[1] == 1.0
    assert_close(out[2], np.exp(-40.0) / (1 + np.exp(-40.0)))  # no cancellation on the negative side


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_softmax_and_log_softmax_match_torch(axis, scale):
    x = sample(3, (5, 4)) * scale
    expected, _ = torch_value_and_grads(lambda t: torch.softmax(t, dim=axis), x)
    assert_close(act.softmax(x, axis=axis), expected)
    expected_log, _ = torch_value_and_grads(lambda t: torch.log_softmax(t, dim=axis), x)
    assert_close(act.log_softmax(x, axis=axis), expected_log)


@pytest.mark.parametrize("scale", [1.0, 50.0])
def test_softmax_jacobian_matches_torch(scale):
    x = np.random.default_rng(5).standard_normal(6) * scale
    expected = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, dim=0), torch.tensor(x))
    assert_close(act.softmax_jacobian(x), expected.numpy())


def test_dtypes_follow_the_input():
    x32 = sample(0).astype(np.float32)
    for f, f_grad, _ in ELEMENTWISE.values():
        assert f(x32).dtype == np.float32 and f_grad(x32).dtype == np.float32
    assert act.softmax(x32).dtype == np.float32 and act.log_softmax(x32).dtype == np.float32
    ints = np.array([[-2, 0, 3]])
    assert act.relu(ints).dtype == np.float64 and act.softmax(ints).dtype == np.float64


finite_matrices = arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)),
                         elements=st.floats(-1e3, 1e3, allow_nan=False))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(finite_matrices)
def test_softmax_rows_are_distributions(x):
    s = act.softmax(x)
    assert s.shape == x.shape
    assert np.all(s >= 0) and np.all(s <= 1)
    assert_close(s.sum(axis=1), np.ones(x.shape[0]), rtol=1e-12, atol=1e-12)
    assert_close(np.exp(act.log_softmax(x)), s, rtol=1e-10, atol=1e-300)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(finite_matrices)
def test_elementwise_shapes_and_ranges(x):
    for name, (f, f_grad, _) in ELEMENTWISE.items():
        assert f(x).shape == x.shape and f_grad(x).shape == x.shape, name
    assert np.all((act.sigmoid(x) >= 0) & (act.sigmoid(x) <= 1))
    assert set(np.unique(act.sign(x))) <= {-1.0, 1.0}
    assert np.all(np.abs(act.hard_tanh(x)) <= 1)


@pytest.mark.parametrize("f", [act.sigmoid, act.relu, act.tanh, act.softmax, act.sign, act.leaky_relu_grad])
def test_nan_and_inf_are_rejected_by_name(f):
    with pytest.raises(ValueError, match=r"x contains 1 NaN or infinite value\(s\) \(shape \(3,\)"):
        f(np.array([0.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match="x contains 1 NaN or infinite"):
        f(np.array([0.0, np.inf, 1.0]))


@pytest.mark.parametrize("bad", ["abc", None, np.array(["a", "b"]), np.array([1 + 2j])])
def test_non_numeric_input_is_a_type_error(bad):
    with pytest.raises(TypeError, match="x must be"):
        act.relu(bad)


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="slope must be finite and > 0, got -1.0"):
        act.sigmoid(np.zeros(2), slope=-1.0)
    with pytest.raises(ValueError, match=r"axis must be an int in \[-2, 2\) for x of shape \(2, 3\), got 2"):
        act.softmax(np.zeros((2, 3)), axis=2)
    with pytest.raises(ValueError, match=r"x must be 1-D, got shape \(2, 3\)"):
        act.softmax_jacobian(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"for x of shape \(\)"):
        act.softmax(np.float64(1.0))
