"""nnref.gradient_flow against torch.autograd (per-layer gradient norms), numerical gradients,
torch.nn.utils.clip_grad_norm_ (the clipped gradients and the returned norm) and torch forward passes
(dead units), plus the lecture facts the assignment relies on (|w σ'| ≤ 1/4, dead ReLUs get no gradient)."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import nnkit.gradcheck
from nnref import gradient_flow as flow
from torch_oracle import assert_close

RNG = np.random.default_rng(29)
TORCH_ACTIVATIONS = {"identity": lambda t: t, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu,
                     "leaky_relu": F.leaky_relu}


def _network(sizes, scale=1.0):
    weights = [RNG.normal(scale=scale, size=(m, n)) for m, n in zip(sizes[:-1], sizes[1:])]
    biases = [RNG.normal(size=n) for n in sizes[1:]]
    return weights, biases


def _torch_gradient_norms(X, y, weights, biases, activation):
    Ws = [torch.tensor(W, requires_grad=True) for W in weights]
    bs = [torch.tensor(b, requires_grad=True) for b in biases]
    a = torch.from_numpy(X)
    for W, b in zip(Ws[:-1], bs[:-1]):
        a = TORCH_ACTIVATIONS[activation](a @ W + b)
    F.cross_entropy(a @ Ws[-1] + bs[-1], torch.from_numpy(y)).backward()
    return np.array([torch.linalg.norm(W.grad).item() for W in Ws])


@pytest.mark.parametrize("activation", flow.GRADIENT_ACTIVATIONS)
@pytest.mark.parametrize("sizes", [[4, 3], [5, 6, 3], [3, 4, 4, 4, 2]])
def test_layer_gradient_norms_match_autograd(activation, sizes):
    weights, biases = _network(sizes)
    X, y = RNG.normal(size=(7, sizes[0])), RNG.integers(0, sizes[-1], size=7)
    norms = flow.layer_gradient_norms(X, y, weights, biases, activation)
    assert norms.shape == (len(sizes) - 1,)
    assert_close(norms, _torch_gradient_norms(X, y, weights, biases, activation))


def test_layer_gradient_norms_match_numerical_gradients():
    weights, biases = _network([3, 4, 3])
    X, y = RNG.normal(size=(5, 3)), np.array([0, 2, 1, 1, 0])

    def loss(W1, W2):
        h = np.tanh(X @ W1 + biases[0])
        s = h @ W2 + biases[1]
        s = s - s.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(s).sum(axis=1)) - s[np.arange(5), y]))

    numeric = [np.linalg.norm(nnkit.gradcheck.numerical_gradient(lambda W: loss(W, weights[1]), weights[0])),
               np.linalg.norm(nnkit.gradcheck.numerical_gradient(lambda W: loss(weights[0], W), weights[1]))]
    assert_close(flow.layer_gradient_norms(X, y, weights, biases, "tanh"), numeric, rtol=1e-6)


def test_sigmoid_gradients_vanish_through_depth():
    # deck 003/004: σ' ≤ 1/4, so with |w| ≤ 1 each layer multiplies the backpropagated error by ≤ 1/4
    z = np.linspace(-10, 10, 2001)
    sigma = 1 / (1 + np.exp(-z))
    assert (sigma * (1 - sigma)).max() == pytest.approx(0.25)
    sizes = [20] * 11
    weights = [np.random.default_rng(l).uniform(-1, 1, size=(20, 20)) / np.sqrt(20) for l in range(10)]
    biases = [np.zeros(20) for _ in range(10)]
    X, y = np.random.default_rng(1).normal(size=(50, 20)), np.random.default_rng(2).integers(0, 20, size=50)
    norms = flow.layer_gradient_norms(X, y, weights, biases, "sigmoid")
    assert len(norms) == len(sizes) - 1
    assert norms[0] < 1e-3 * norms[-2]


def _torch_clip(grads, max_norm):
    params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad.numpy() for p in params], total.item()


@pytest.mark.parametrize("scale, max_norm", [(1.0, 0.5), (1.0, 100.0), (3.0, 1.0), (1e-3, 1.0), (0.0, 1.0)])
def test_clip_grad_norm_matches_torch(scale, max_norm):
    grads = [RNG.normal(scale=scale, size=shape) for shape in [(3, 4), (4,), (), (2, 2, 2)]]
    before = copy.deepcopy(grads)
    clipped, total = flow.clip_grad_norm(grads, max_norm)
    expected, expected_total = _torch_clip(grads, max_norm)
    assert isinstance(total, float)
    assert_close(total, expected_total)
    for got, want, original, kept in zip(clipped, expected, grads, before):
        assert got.shape == want.shape
        assert_close(got, want)
        assert np.array_equal(original, kept)  # torch clips in place, we do not
    assert np.sqrt(sum((g ** 2).sum() for g in clipped)) <= max_norm + 1e-9 or total <= max_norm


def test_clip_grad_norm_exactly_at_the_threshold_and_errors():
    g = [np.array([3.0, 4.0])]
    clipped, total = flow.clip_grad_norm(g, 5.0)  # 5 / (5 + 1e-6) < 1: torch scales by that too
    assert_close(clipped[0], _torch_clip(g, 5.0)[0][0])
    assert total == 5.0
    with pytest.raises(TypeError, match="grads must be a list of arrays"):
        flow.clip_grad_norm(np.ones(3), 1.0)
    with pytest.raises(ValueError, match="max_norm must be finite and > 0"):
        flow.clip_grad_norm(g, 0.0)


def test_dead_unit_fraction_by_hand_and_against_torch():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    W1 = np.array([[1.0, -1.0, 0.0, 2.0], [1.0, -1.0, 0.0, -3.0]])
    b1 = np.array([0.0, 0.0, 0.0, -5.0])
    # unit 0: z = (1, 1, -2) alive; unit 1: (-1, -1, 2) alive; unit 2: z = 0 everywhere (dead: ReLU'(0) = 0);
    # unit 3: (-3, -8, -4) dead
    W2, b2 = np.ones((4, 2)), np.zeros(2)
    assert_close(flow.dead_unit_fraction(X, [W1, W2], [b1, b2]), [0.5])
    weights, biases = _network([5, 8, 6, 7, 3])
    biases = [b - 1.5 for b in biases]
    X = RNG.normal(size=(10, 5))
    for slope in (0.0, 0.3):
        a, expected = torch.from_numpy(X), []
        for W, b in zip(weights[:-1], biases[:-1]):
            z = a @ torch.from_numpy(W) + torch.from_numpy(b)
            expected.append((z <= 0).all(dim=0).double().mean().item())
            a = F.leaky_relu(z, slope)
        assert_close(flow.dead_unit_fraction(X, weights, biases, negative_slope=slope), expected)


def test_dead_relu_units_get_no_gradient():
    weights, biases = _network([4, 6, 3])
    biases[0][:3] = -100.0  # units 0..2 dead on any reasonable input
    X, y = RNG.normal(size=(8, 4)), RNG.integers(0, 3, size=8)
    assert flow.dead_unit_fraction(X, weights, biases)[0] == 0.5
    W1 = torch.tensor(weights[0], requires_grad=True)
    h = F.relu(torch.from_numpy(X) @ W1 + torch.from_numpy(biases[0]))
    F.cross_entropy(h @ torch.from_numpy(weights[1]) + torch.from_numpy(biases[1]), torch.from_numpy(y)).backward()
    assert not W1.grad[:, :3].any() and W1.grad[:, 3:].any()


def test_nothing_is_modified():
    weights, biases = _network([3, 4, 2])
    X, y = RNG.normal(size=(5, 3)), np.array([0, 1, 1, 0, 1])
    before = copy.deepcopy((X, weights, biases))
    flow.layer_gradient_norms(X, y, weights, biases, "relu")
    flow.dead_unit_fraction(X, weights, biases, 0.1)
    for got, want in zip((X, *weights, *biases), (before[0], *before[1], *before[2])):
        assert np.array_equal(got, want)
