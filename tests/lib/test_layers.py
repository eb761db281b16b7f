"""nnref.layers against torch autograd, dropout statistics, caches, bad input, and an API-wide
check that no public function of the reference core mutates its inputs."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import nnkit.gradcheck
from nnref import activations, gates, layers, losses, mlp
from torch_oracle import assert_close, assert_matches_torch

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("x_shape", [(4, 6), (3, 2, 3, 2), (1, 5)])
def test_affine_matches_torch(x_shape):
    x = RNG.standard_normal(x_shape)
    w = RNG.standard_normal((int(np.prod(x_shape[1:])), 3))
    b = RNG.standard_normal(3)
    out, cache = layers.affine_forward(x, w, b)
    dout = RNG.standard_normal(out.shape)
    dx, dw, db = layers.affine_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    assert_matches_torch(out, [dx, dw, db], lambda x_, w_, b_: x_.reshape(x_shape[0], -1) @ w_ + b_,
                         x, w, b, upstream=dout)


def test_affine_backward_can_skip_the_input_gradient():
    x, w, b = RNG.standard_normal((4, 3)), RNG.standard_normal((3, 2)), RNG.standard_normal(2)
    _, cache = layers.affine_forward(x, w, b)
    dout = RNG.standard_normal((4, 2))
    dx, dw, db = layers.affine_backward(dout, cache, input_grad=False)
    _, dw_full, db_full = layers.affine_backward(dout, cache)
    assert dx is None
    assert_close(dw, dw_full)
    assert_close(db, db_full)


# name -> torch equivalent of the layer's forward
TORCH_ACTIVATIONS = {
    "identity": lambda t: t * 1.0,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "hard_tanh": F.hardtanh,
}


def test_every_activation_layer_has_an_oracle():
    assert set(TORCH_ACTIVATIONS) == set(layers.ACTIVATION_LAYERS)


@pytest.mark.parametrize("name", sorted(TORCH_ACTIVATIONS))
@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_activation_layers_match_torch(name, scale):
    forward, backward = layers.ACTIVATION_LAYERS[name]
    x = RNG.standard_normal((5, 4)) * scale
    x[0, :3] = [0.0, 1.0, -1.0]  # kinks
    out, cache = forward(x)
    dout = RNG.standard_normal(out.shape)
    assert_matches_torch(out, [backward(dout, cache)], TORCH_ACTIVATIONS[name], x, upstream=dout)


def test_leaky_relu_layer_slope_matches_torch():
    x = RNG.standard_normal((3, 4))
    out, cache = layers.leaky_relu_forward(x, negative_slope=0.3)
    dout = RNG.standard_normal(out.shape)
    assert_matches_torch(out, [layers.leaky_relu_backward(dout, cache)], lambda t: F.leaky_relu(t, 0.3), x, upstream=dout)


def test_deck_002_cache_conventions():
    # deck 002 calls sigmoid_backward(err, a1) with the layer's output and affine_backward(dv, x, w, b)
    x, w, b = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 2)), RNG.standard_normal(2)
    v, affine_cache = layers.affine_forward(x, w, b)
    a, sigmoid_cache = layers.sigmoid_forward(v)
    assert_close(sigmoid_cache, a)
    for cached, original in zip(affine_cache, (x, w, b)):
        assert_close(cached, original)
    err = RNG.standard_normal(a.shape)
    assert_close(layers.sigmoid_backward(err, a), err * a * (1 - a))


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_with_its_mask_matches_torch(p):
    x = RNG.standard_normal((6, 8)) + 3.0  # no exact zeros, so the mask is visible in the output
    out, cache = layers.dropout_forward(x, p, rng=np.random.default_rng(0))
    kept = out != 0
    assert 0 < kept.sum() < x.size
    assert set(np.unique(cache)) <= {0.0, 1.0 / (1.0 - p)}
    dout = RNG.standard_normal(x.shape)
    mask = torch.tensor(kept, dtype=torch.float64)
    assert_matches_torch(out, [layers.dropout_backward(dout, cache)], lambda t: t * mask / (1 - p), x, upstream=dout)


def test_dropout_eval_and_p0_are_identity_and_draw_nothing():
    x = RNG.standard_normal((4, 5))
    rng = np.random.default_rng(1)
    state = copy.deepcopy(rng.bit_generator.state)
    for kwargs in ({"p": 0.5, "train": False, "rng": rng}, {"p": 0.0, "rng": rng}, {"p": 0.5, "train": False}):
        out, cache = layers.dropout_forward(x, **kwargs)
        assert_close(out, x)
        assert out is not x
        dout = RNG.standard_normal(x.shape)
        assert_close(layers.dropout_backward(dout, cache), dout)
    assert rng.bit_generator.state == state


def test_dropout_same_seed_same_mask_and_float32():
    x = np.ones((50, 40), dtype=np.float32)
    a, _ = layers.dropout_forward(x, 0.3, rng=np.random.default_rng(5))
    b, _ = layers.dropout_forward(x, 0.3, rng=np.random.default_rng(5))
    assert a.dtype == np.float32 and np.array_equal(a, b)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(p=st.floats(0.05, 0.9), seed=st.integers(0, 2**32 - 1))
def test_dropout_preserves_the_expectation(p, seed):
    # each entry of out is 1/(1-p) with probability 1-p, else 0: mean 1, variance p/(1-p)
    n = 20000
    out, _ = layers.dropout_forward(np.ones(n), p, rng=np.random.default_rng(seed))
    standard_error = np.sqrt(p / (1 - p) / n)
    assert abs(out.mean() - 1.0) < 5 * standard_error


@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_softmax_loss_matches_torch(scale):
    x = RNG.standard_normal((6, 4)) * scale
    y = RNG.integers(0, 4, 6)
    loss, dx = layers.softmax_loss(x, y)
    assert_matches_torch(loss, [dx], lambda t: F.cross_entropy(t, torch.tensor(y)), x)


def test_caches_do_not_alias_inputs():
    x, w, b = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2)), RNG.standard_normal(2)
    dout = RNG.standard_normal((3, 2))
    _, cache = layers.affine_forward(x, w, b)
    expected = layers.affine_backward(dout, cache)
    _, fresh_cache = layers.affine_forward(x, w, b)
    x += 1.0
    w *= 2.0  # an optimizer step between forward and backward must not change the backward pass
    for got, want in zip(layers.affine_backward(dout, fresh_cache), expected):
        assert_close(got, want)
    for name, (forward, backward) in layers.ACTIVATION_LAYERS.items():
        z = RNG.standard_normal((3, 4))
        out, cache = forward(z)
        want = backward(np.ones_like(out), forward(z.copy())[1])
        z *= -5.0
        out *= 0.0
        assert_close(backward(np.ones_like(want), cache), want, what=name)


def test_layer_dtypes():
    x32 = RNG.standard_normal((3, 4)).astype(np.float32)
    w32 = RNG.standard_normal((4, 2)).astype(np.float32)
    out, cache = layers.affine_forward(x32, w32, np.zeros(2, np.float32))
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in layers.affine_backward(np.ones_like(out), cache))
    for forward, backward in layers.ACTIVATION_LAYERS.values():
        out, cache = forward(x32)
        assert out.dtype == np.float32 and backward(np.ones_like(out), cache).dtype == np.float32


def test_bad_layer_input_is_named():
    x, w, b = np.zeros((3, 4)), np.zeros((4, 2)), np.zeros(2)
    with pytest.raises(ValueError, match=r"w must have one row per input feature: x has shape \(3, 4\) \(4 features per sample\) but w has shape \(5, 2\)"):
        layers.affine_forward(x, np.zeros((5, 2)), b)
    with pytest.raises(ValueError, match=r"b must have shape \(2,\) to match w of shape \(4, 2\), got shape \(3,\)"):
        layers.affine_forward(x, w, np.zeros(3))
    with pytest.raises(ValueError, match=r"x must be a batch of shape \(N, d_1, ..., d_k\) with k >= 1, got shape \(4,\)"):
        layers.affine_forward(np.zeros(4), w, b)
    with pytest.raises(ValueError, match=r"w must be 2-D, got shape \(4,\)"):
        layers.affine_forward(x, np.zeros(4), b)
    _, cache = layers.affine_forward(x, w, b)
    with pytest.raises(ValueError, match=r"dout must have the shape of the forward output \(3, 2\), got shape \(2, 3\)"):
        layers.affine_backward(np.zeros((2, 3)), cache)
    _, cache = layers.relu_forward(x)
    with pytest.raises(ValueError, match=r"dout must have the shape of the forward output \(3, 4\), got shape \(3, 3\)"):
        layers.relu_backward(np.zeros((3, 3)), cache)
    with_nan = np.zeros((3, 4))
    with_nan[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"x contains 1 NaN or infinite value\(s\) \(shape \(3, 4\)"):
        layers.affine_forward(with_nan, w, b)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\), got 1.0"):
        layers.dropout_forward(x, 1.0, rng=RNG)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator when train=True and p > 0, got NoneType"):
        layers.dropout_forward(x, 0.5)


# ---- API-wide: no public function mutates its inputs -------------------------------------------

def _api_cases():
    """(name, callable, args, kwargs) for every public function of the reference core."""
    x = RNG.standard_normal((4, 3))
    probs = RNG.dirichlet(np.ones(3), 4)
    labels = np.array([0, 2, 1, 2])
    signs = np.sign(RNG.standard_normal((4, 3))) + (x == 0)
    w, b = RNG.standard_normal((3, 2)), RNG.standard_normal(2)
    cases = []
    for name in activations.__all__:
        fn = getattr(activations, name)
        cases.append((f"activations.{name}", fn, (x[0] if name == "softmax_jacobian" else x,), {}))
    loss_args = {
        "mse_loss": (x, probs), "mae_loss": (x, probs), "msle_loss": (probs, probs[::-1]),
        "bce_loss": (probs, probs[::-1]), "bce_with_logits_loss": (x, probs),
        "cross_entropy_loss": (x, labels), "softmax_cross_entropy": (x[0], probs[0]),
        "nll_loss": (np.log(probs), probs), "categorical_cross_entropy": (probs, labels),
        "multiclass_hinge_loss": (x, labels), "squared_hinge_loss": (x, signs), "l2_penalty": ([x, w], 0.1),
    }
    cases += [(f"losses.{n}", getattr(losses, n), args, {}) for n, args in loss_args.items()]
    out, affine_cache = layers.affine_forward(x, w, b)
    cases += [("layers.affine_forward", layers.affine_forward, (x, w, b), {}),
              ("layers.affine_backward", layers.affine_backward, (out, affine_cache), {}),
              ("layers.dropout_forward", layers.dropout_forward, (x, 0.5), {"rng": np.random.default_rng(0)}),
              ("layers.dropout_backward", layers.dropout_backward, (x, layers.dropout_forward(x, 0.5, rng=RNG)[1]), {}),
              ("layers.softmax_loss", layers.softmax_loss, (x, labels), {})]
    for name, (forward, backward) in layers.ACTIVATION_LAYERS.items():
        out, cache = forward(x)
        cases += [(f"layers.{name}_forward", forward, (x,), {}), (f"layers.{name}_backward", backward, (out, cache), {})]
    cases += [("layers.leaky_relu_forward(slope)", layers.leaky_relu_forward, (x, 0.2), {})]
    V, W = RNG.standard_normal((3, 5)), RNG.standard_normal((5, 3))
    model = mlp.MLP([3, 5, 3], rng=np.random.default_rng(0), dropout=0.3)
    cases += [("mlp.two_layer_sigmoid_forward", mlp.two_layer_sigmoid_forward, (x, V, W), {}),
              ("mlp.two_layer_sigmoid_mse_grads", mlp.two_layer_sigmoid_mse_grads, (x, probs, V, W), {}),
              ("mlp.init_std", mlp.init_std, (3, 5, "relu"), {}),
              ("MLP.loss_and_grads", model.loss_and_grads, (x, labels), {"rng": np.random.default_rng(0)}),
              ("MLP.forward", model.forward, (x,), {}),
              ("MLP.predict", model.predict, (x,), {}),
              ("MLP.predict_proba", model.predict_proba, (x,), {}),
              ("gradcheck.numerical_gradient", nnkit.gradcheck.numerical_gradient, (lambda a: float(np.sum(a ** 3)), x), {}),
              ("gradcheck.relative_error", nnkit.gradcheck.relative_error, (x, probs), {}),
              ("gradcheck.gradient_check", nnkit.gradcheck.gradient_check, (lambda a: float(np.sum(a ** 3)), x, 3 * x ** 2), {}),
              ("gates.numerical_gradient", gates.numerical_gradient, (lambda a: float(np.sum(a ** 3)), x), {}),
              ("gates.relative_error", gates.relative_error, (x, probs), {})]
    for gate_cls, args in ((gates.MultiplyGate, (x, probs)), (gates.AddGate, (x, probs)), (gates.SigmoidGate, (x,))):
        gate = gate_cls()
        cases.append((f"{gate_cls.__name__}.forward", gate.forward, args, {}))
        primed = gate_cls()
        primed.forward(*args)
        cases.append((f"{gate_cls.__name__}.backward", primed.backward, (x,), {}))
    return cases


API_CASES = _api_cases()


def test_the_mutation_check_covers_the_whole_public_api():
    covered = {name.split("(")[0] for name, *_ in API_CASES}
    for module, prefix in ((activations, "activations"), (losses, "losses"), (mlp, "mlp")):
        public = {f"{prefix}.{n}" for n in module.__all__ if callable(getattr(module, n)) and n != "MLP"}
        assert public <= covered, public - covered
    layer_functions = {f"layers.{n}" for n in layers.__all__ if callable(getattr(layers, n))}
    assert layer_functions <= covered, layer_functions - covered
    assert {f"gradcheck.{n}" for n in nnkit.gradcheck.__all__ if n != "GradCheckReport"} <= covered
    gate_classes = [g for g in gates.__all__ if isinstance(getattr(gates, g), type)]
    assert {f"{g}.{m}" for g in gate_classes for m in ("forward", "backward")} <= covered
    assert {f"gates.{n}" for n in gates.__all__ if n not in gate_classes} <= covered


def _snapshot(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return type(value)(_snapshot(v) for v in value)
    return value


def _assert_same(before, after, where):
    if isinstance(before, np.ndarray):
        assert after.dtype == before.dtype and np.array_equal(after, before), where
    elif isinstance(before, (list, tuple)):
        for i, (b, a) in enumerate(zip(before, after)):
            _assert_same(b, a, f"{where}[{i}]")


@pytest.mark.parametrize("case", API_CASES, ids=[c[0] for c in API_CASES])
def test_no_function_mutates_its_inputs(case):
    name, fn, args, kwargs = case
    before = _snapshot(list(args))
    result = fn(*args, **kwargs)
    _assert_same(before, list(args), name)
    # and the outputs are fresh arrays, so mutating them cannot reach back into the inputs
    outputs = result if isinstance(result, tuple) else (result,)
    for output in outputs:
        for arg in args:
            if isinstance(output, np.ndarray) and isinstance(arg, np.ndarray) and output.size:
                assert not np.shares_memory(output, arg), f"{name} returned a view of an input"


def test_unchecked_fast_path_computes_the_same_as_the_checked_one():
    # check=False (used inside the MLP's training loop) skips validation and cache copies only
    x, w, b = RNG.standard_normal((5, 4)), RNG.standard_normal((4, 3)), RNG.standard_normal(3)
    dout = RNG.standard_normal((5, 3))
    out, cache = layers.affine_forward(x, w, b)
    fast_out, fast_cache = layers.affine_forward(x, w, b, check=False)
    assert_close(fast_out, out)
    for fast, checked in zip(layers.affine_backward(dout, fast_cache, check=False),
                             layers.affine_backward(dout, cache)):
        assert_close(fast, checked)
    z = RNG.standard_normal((5, 3))
    for name, (forward, backward) in layers.ACTIVATION_LAYERS.items():
        out, cache = forward(z)
        fast_out, fast_cache = forward(z, check=False)
        assert_close(fast_out, out)
        assert_close(backward(dout, fast_cache, check=False), backward(dout, cache))
    out, cache = layers.dropout_forward(z, 0.3, rng=np.random.default_rng(1))
    fast_out, fast_cache = layers.dropout_forward(z, 0.3, rng=np.random.default_rng(1), check=False)
    assert_close(fast_out, out)
    assert_close(layers.dropout_backward(dout, fast_cache, check=False), layers.dropout_backward(dout, cache))
