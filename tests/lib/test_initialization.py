"""nnref.initialization against torch.nn.init (the standard deviations and bounds of its samples), the
draw order of an explicit numpy generator, torch forward passes for the activation statistics, and the
variance argument itself (deep stacks keep their scale under Xavier/tanh and He/ReLU)."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnref import initialization as init
from torch_oracle import assert_close

RNG = np.random.default_rng(23)


def _torch_sample(fill, fan_in, fan_out, seed=0):
    """A (fan_out, fan_in) weight (nn.Linear's layout) filled by a torch.nn.init function."""
    weight = torch.empty(fan_out, fan_in, dtype=torch.float64)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        fill(weight)
    return weight.numpy()


@pytest.mark.parametrize("fan_in, fan_out", [(300, 500), (800, 200), (400, 400)])
def test_xavier_std_is_the_std_of_torch_xavier_normal(fan_in, fan_out):
    sample = _torch_sample(torch.nn.init.xavier_normal_, fan_in, fan_out)
    assert abs(sample.std() / init.xavier_std(fan_in, fan_out) - 1) < 0.01
    gain = 5 / 3  # torch's gain for tanh
    sample = _torch_sample(lambda t: torch.nn.init.xavier_normal_(t, gain=gain), fan_in, fan_out)
    assert abs(sample.std() / init.xavier_std(fan_in, fan_out, gain) - 1) < 0.01


@pytest.mark.parametrize("fan_in, fan_out", [(300, 500), (64, 10)])
def test_xavier_bound_is_the_range_of_torch_xavier_uniform(fan_in, fan_out):
    sample = _torch_sample(torch.nn.init.xavier_uniform_, fan_in, fan_out)
    bound = init.xavier_bound(fan_in, fan_out)
    assert np.abs(sample).max() <= bound
    assert np.abs(sample).max() > 0.99 * bound
    # U(-a, a) has the variance of xavier_std: a² / 3 = 2 / (fan_in + fan_out)
    assert_close(bound ** 2 / 3, init.xavier_std(fan_in, fan_out) ** 2)


@pytest.mark.parametrize("negative_slope", [0.0, 0.01, 0.3])
def test_he_std_is_the_std_of_torch_kaiming_normal_fan_in(negative_slope):
    fan_in, fan_out = 500, 400
    sample = _torch_sample(lambda t: torch.nn.init.kaiming_normal_(t, a=negative_slope, mode="fan_in",
                                                                   nonlinearity="leaky_relu"), fan_in, fan_out)
    assert abs(sample.std() / init.he_std(fan_in, negative_slope) - 1) < 0.01
    assert_close(init.he_std(fan_in, 0.0), np.sqrt(2.0 / fan_in))


def test_init_weights_shapes_zero_biases_and_draw_order():
    sizes = [5, 4, 3, 2]
    for scheme, std_of in [("small", lambda i, o: 0.01), ("normal", lambda i, o: 1.0),
                           ("xavier", lambda i, o: np.sqrt(2 / (i + o))), ("he", lambda i, o: np.sqrt(2 / i))]:
        weights, biases = init.init_weights(sizes, scheme, rng=np.random.default_rng(3))
        by_hand = np.random.default_rng(3)
        assert [W.shape for W in weights] == [(5, 4), (4, 3), (3, 2)]
        for W, b, (fan_in, fan_out) in zip(weights, biases, zip(sizes[:-1], sizes[1:])):
            assert_close(W, by_hand.normal(0.0, std_of(fan_in, fan_out), size=(fan_in, fan_out)))
            assert b.shape == (fan_out,) and not b.any()


def test_zeros_draws_nothing_and_every_scheme_keeps_the_generator_explicit():
    rng = np.random.default_rng(4)
    state = copy.deepcopy(rng.bit_generator.state)
    weights, biases = init.init_weights([3, 6, 2], "zeros", rng=rng)
    assert rng.bit_generator.state == state
    assert all(not W.any() for W in weights) and all(not b.any() for b in biases)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        init.init_weights([3, 2], "he", rng=0)
    with pytest.raises(ValueError, match="scheme must be one of"):
        init.init_weights([3, 2], "glorot", rng=rng)
    with pytest.raises(ValueError, match="layer_sizes needs at least"):
        init.init_weights([3], "he", rng=rng)


@pytest.mark.parametrize("scheme", ["xavier", "he"])
def test_init_weights_sample_std_matches_torch_init(scheme):
    fan_in, fan_out = 600, 300
    (W,), _ = init.init_weights([fan_in, fan_out], scheme, rng=np.random.default_rng(5))
    fill = torch.nn.init.xavier_normal_ if scheme == "xavier" else (
        lambda t: torch.nn.init.kaiming_normal_(t, mode="fan_in", nonlinearity="relu"))
    assert abs(W.std() / _torch_sample(fill, fan_in, fan_out).std() - 1) < 0.02


TORCH_ACTIVATIONS = {"identity": lambda t: t, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu,
                     "leaky_relu": F.leaky_relu}


@pytest.mark.parametrize("activation", sorted(init.STACK_ACTIVATIONS))
def test_activation_stats_match_a_torch_forward_pass(activation):
    sizes = [6, 5, 7, 4]
    X = RNG.normal(size=(9, 6))
    weights = [RNG.normal(size=(m, n)) for m, n in zip(sizes[:-1], sizes[1:])]
    biases = [RNG.normal(size=n) for n in sizes[1:]]
    means, stds = init.activation_stats(X, weights, biases, activation)
    a = torch.from_numpy(X)
    expected_means, expected_stds = [], []
    for W, b in zip(weights, biases):
        a = TORCH_ACTIVATIONS[activation](a @ torch.from_numpy(W) + torch.from_numpy(b))
        expected_means.append(a.mean().item())
        expected_stds.append(a.std(unbiased=False).item())
    assert means.shape == stds.shape == (3,)
    assert_close(means, expected_means)
    assert_close(stds, expected_stds)


def test_the_variance_argument_on_ten_layer_stacks():
    # unit-variance inputs, 10 layers of 400 units, biases 0: the deck-003 experiment
    X = np.random.default_rng(6).normal(size=(500, 400))
    sizes = [400] * 11

    def last_std(scheme, activation):
        weights, biases = init.init_weights(sizes, scheme, rng=np.random.default_rng(7))
        return init.activation_stats(X, weights, biases, activation)[1]

    small_tanh = last_std("small", "tanh")
    assert small_tanh[-1] < 1e-6  # 0.01 · √400 = 0.2 per layer, 0.2^10 ≈ 1e-7: the signal dies
    xavier_tanh = last_std("xavier", "tanh")
    assert 0.1 < xavier_tanh[-1] < xavier_tanh[0]  # shrinks slowly (tanh' < 1), stays alive
    normal_tanh = last_std("normal", "tanh")
    assert normal_tanh[-1] > 0.95  # saturated at ±1
    he_relu = last_std("he", "relu")
    assert 0.5 < he_relu[-1] / he_relu[0] < 2  # He keeps the scale of ReLU stacks
    xavier_relu = last_std("xavier", "relu")
    assert xavier_relu[-1] / xavier_relu[0] < 0.1  # Xavier halves E[a²] per ReLU layer: 2^-4.5 after 9 more


def test_activation_stats_errors_name_the_argument():
    X, W, b = np.zeros((2, 3)), np.zeros((3, 4)), np.zeros(4)
    with pytest.raises(ValueError, match=r"weights\[1\] must have 4 rows"):
        init.activation_stats(X, [W, np.zeros((3, 2))], [b, np.zeros(2)], "tanh")
    with pytest.raises(ValueError, match=r"biases\[0\] must have shape \(4,\)"):
        init.activation_stats(X, [W], [np.zeros(3)], "tanh")
    with pytest.raises(ValueError, match="activation must be one of"):
        init.activation_stats(X, [W], [b], "softplus")


def test_nothing_is_modified():
    X = RNG.normal(size=(4, 3))
    weights, biases = [RNG.normal(size=(3, 5)), RNG.normal(size=(5, 2))], [RNG.normal(size=5), RNG.normal(size=2)]
    before = copy.deepcopy((X, weights, biases))
    init.activation_stats(X, weights, biases, "relu")
    for got, want in zip((X, *weights, *biases), (before[0], *before[1], *before[2])):
        assert np.array_equal(got, want)
