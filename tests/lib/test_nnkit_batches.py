"""nnkit.batches.minibatches against torch's DataLoader and the reference training loop."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from nnkit.batches import minibatches
from nnref.training import iterate_minibatches


def data(n=23, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.integers(0, 4, size=n)


def torch_batches(X, y, batch_size, order):
    """DataLoader batches visiting the samples in ``order`` (drop_last=False)."""
    loader = DataLoader(TensorDataset(torch.tensor(X), torch.tensor(y)), batch_size=batch_size,
                        sampler=[int(i) for i in order])
    return [(xb.numpy(), yb.numpy()) for xb, yb in loader]


def assert_same_batches(ours, expected):
    assert len(ours) == len(expected)
    for (x_ours, y_ours), (x_expected, y_expected) in zip(ours, expected):
        np.testing.assert_array_equal(x_ours, x_expected)
        np.testing.assert_array_equal(y_ours, y_expected)


@pytest.mark.parametrize("batch_size", [1, 5, 23, 64])
def test_unshuffled_batches_are_the_dataloaders(batch_size):
    X, y = data()
    expected = [(xb.numpy(), yb.numpy()) for xb, yb in
                DataLoader(TensorDataset(torch.tensor(X), torch.tensor(y)), batch_size=batch_size, shuffle=False)]
    assert_same_batches(list(minibatches(X, y, batch_size, rng=None, shuffle=False)), expected)


@pytest.mark.parametrize("batch_size", [1, 4, 10, 23])
def test_shuffled_batches_follow_the_generators_permutation_like_the_dataloader(batch_size):
    X, y = data()
    ours = list(minibatches(X, y, batch_size, rng=np.random.default_rng(7)))
    order = np.random.default_rng(7).permutation(len(X))
    assert_same_batches(ours, torch_batches(X, y, batch_size, order))


def test_shuffled_batches_equal_the_reference_training_loop():
    X, y = data(n=37)
    ours, reference = np.random.default_rng(11), np.random.default_rng(11)
    for _ in range(3):  # consecutive epochs draw from the same generator in the same way
        assert_same_batches(list(minibatches(X, y, 8, rng=ours)), list(iterate_minibatches(X, y, 8, reference)))


def test_an_epoch_visits_every_sample_once_with_its_target_and_epochs_differ():
    X, y = data(n=30)
    rng = np.random.default_rng(3)
    epochs = [list(minibatches(X, y, 7, rng=rng)) for _ in range(2)]
    for batches in epochs:
        assert [len(xb) for xb, _ in batches] == [7, 7, 7, 7, 2]
        rows = np.concatenate([xb for xb, _ in batches])
        targets = np.concatenate([yb for _, yb in batches])
        order = [int(np.flatnonzero((X == row).all(axis=1))[0]) for row in rows]
        assert sorted(order) == list(range(30))
        np.testing.assert_array_equal(targets, y[order])
    assert not np.array_equal(epochs[0][0][0], epochs[1][0][0])


def test_multidimensional_inputs_and_one_hot_targets():
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(9, 1, 4, 4)), np.eye(3)[rng.integers(0, 3, size=9)]
    batches = list(minibatches(X, Y, 4, rng=rng))
    assert [xb.shape for xb, _ in batches] == [(4, 1, 4, 4), (4, 1, 4, 4), (1, 1, 4, 4)]
    assert [yb.shape for _, yb in batches] == [(4, 3), (4, 3), (1, 3)]


def test_batches_are_copies_and_the_inputs_stay_unchanged():
    X, y = data()
    X_before, y_before = X.copy(), y.copy()
    for shuffle in (True, False):
        for xb, yb in minibatches(X, y, 5, rng=np.random.default_rng(0), shuffle=shuffle):
            xb[...] = 0.0
            yb[...] = -1
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def test_the_generator_is_only_used_when_shuffling():
    X, y = data()
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    list(minibatches(X, y, 5, rng=rng, shuffle=False))
    assert rng.bit_generator.state == state


@pytest.mark.parametrize("call, error, words", [
    (lambda X, y: minibatches(X, y[:-1], 4, rng=np.random.default_rng(0)), ValueError, ["X", "y", "(23, 3)", "(22,)"]),
    (lambda X, y: minibatches(X, y, 0, rng=np.random.default_rng(0)), ValueError, ["batch_size", "0"]),
    (lambda X, y: minibatches(X, y, 2.5, rng=np.random.default_rng(0)), ValueError, ["batch_size"]),
    (lambda X, y: minibatches(X, y, True, rng=np.random.default_rng(0)), ValueError, ["batch_size"]),
    (lambda X, y: minibatches(X, y, 4, rng=0), TypeError, ["rng", "Generator", "int"]),
    (lambda X, y: minibatches(X, y, 4, rng=None), TypeError, ["rng", "shuffle=True"]),
    (lambda X, y: minibatches(X, y, 4, rng=None, shuffle="no"), TypeError, ["shuffle"]),
    (lambda X, y: minibatches(np.float64(1.0), y, 4, rng=None, shuffle=False), ValueError, ["X", "()"]),
])
def test_bad_arguments_raise_at_the_call_naming_the_argument(call, error, words):
    X, y = data()
    with pytest.raises(error) as raised:
        call(X, y)
    for word in words:
        assert word in str(raised.value), (word, str(raised.value))


def test_rng_is_keyword_only():
    X, y = data()
    with pytest.raises(TypeError):
        minibatches(X, y, 4, np.random.default_rng(0))
