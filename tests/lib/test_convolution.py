"""nnref.convolution against torch: output shapes of nn.Conv2d, F.conv2d and F.max_pool2d with their
autograd (strides, padding, overlapping windows, ties), numerical gradients, parameter counts of
nn.Conv2d / nn.Linear, scipy's image shift, and SmallCNN against a numpy forward pass built from the
reference layers; deck 001's 7×7 input scanned by a 3×3 filter."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import ndimage

import nnkit.gradcheck
from nnref import convolution as conv
from torch_oracle import assert_close

RNG = np.random.default_rng(37)


@pytest.mark.parametrize("size", [1, 4, 7, 28])
@pytest.mark.parametrize("kernel", [1, 2, 3, 5])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", [0, 1, 2])
def test_conv_output_size_is_nn_conv2d_output_size(size, kernel, stride, padding):
    layer = torch.nn.Conv2d(1, 1, kernel, stride=stride, padding=padding)
    if kernel > size + 2 * padding:
        with pytest.raises(RuntimeError):
            layer(torch.zeros(1, 1, size, size))
        with pytest.raises(ValueError, match="larger than the padded input"):
            conv.conv_output_size(size, kernel, stride, padding)
        return
    with torch.no_grad():
        assert conv.conv_output_size(size, kernel, stride, padding) == layer(torch.zeros(1, 1, size, size)).shape[-1]


def test_conv_output_size_rejects_bad_arguments():
    for args in [(0, 1), (5, 0), (5, 3, 0), (5, 3, 1, -1), (5.0, 3), (True, 1)]:
        with pytest.raises(ValueError):
            conv.conv_output_size(*args)


CONV_CASES = [
    # (N, C, H, W), (F, HH, WW), stride, pad
    ((2, 3, 7, 7), (4, 3, 3), 1, 0),
    ((1, 1, 7, 7), (1, 3, 3), 2, 1),
    ((3, 2, 6, 5), (3, 2, 4), 2, 0),
    ((2, 2, 5, 8), (2, 3, 2), 3, 2),
    ((1, 4, 4, 4), (5, 4, 4), 1, 0),
    ((2, 1, 1, 1), (2, 1, 1), 1, 1),
]


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_conv2d_forward_and_backward_match_torch(x_shape, w_shape, stride, pad):
    F_, HH, WW = w_shape
    x = RNG.normal(size=x_shape)
    w, b = RNG.normal(size=(F_, x_shape[1], HH, WW)), RNG.normal(size=F_)
    out, cache = conv.conv2d_forward(x, w, b, {"stride": stride, "pad": pad})
    x_t, w_t, b_t = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out_t = F.conv2d(x_t, w_t, b_t, stride=stride, padding=pad)
    assert out.shape == tuple(out_t.shape)
    assert_close(out, out_t.detach().numpy())
    dout = RNG.normal(size=out.shape)
    out_t.backward(torch.from_numpy(dout))
    for got, want in zip(conv.conv2d_backward(dout, cache), (x_t.grad, w_t.grad, b_t.grad)):
        assert got.shape == tuple(want.shape)
        assert_close(got, want.numpy())


def test_conv2d_gradients_match_numerical_gradients():
    x, w, b = RNG.normal(size=(2, 2, 5, 4)), RNG.normal(size=(3, 2, 3, 2)), RNG.normal(size=3)
    param = {"stride": 2, "pad": 1}
    out, cache = conv.conv2d_forward(x, w, b, param)
    dout = RNG.normal(size=out.shape)

    def loss(x_, w_, b_):
        return float(np.sum(dout * conv.conv2d_forward(x_, w_, b_, param)[0]))

    report = nnkit.gradcheck.gradient_check(loss, [x, w, b], list(conv.conv2d_backward(dout, cache)), tol=1e-7)
    assert report.passed, report


def test_deck_001_seven_by_seven_input_and_three_by_three_filter():
    # "Scanning an image with a filter: at each location the filter and the underlying map values are
    # multiplied component wise, and the products are added along with the bias" (deck 001)
    x = RNG.integers(0, 2, size=(1, 1, 7, 7)).astype(float)
    w = RNG.integers(-1, 2, size=(1, 1, 3, 3)).astype(float)
    out, _ = conv.conv2d_forward(x, w, np.array([0.5]), {"stride": 1, "pad": 0})
    assert out.shape == (1, 1, 5, 5)
    by_hand = np.array([[np.sum(x[0, 0, i:i + 3, j:j + 3] * w[0, 0]) + 0.5 for j in range(5)] for i in range(5)])
    assert_close(out[0, 0], by_hand)
    assert conv.conv2d_forward(x, w, np.zeros(1), {"stride": 2, "pad": 0})[0].shape == (1, 1, 3, 3)
    assert conv.conv2d_forward(x, w, np.zeros(1), {"stride": 1, "pad": 1})[0].shape == (1, 1, 7, 7)


def test_conv2d_is_cross_correlation_and_shift_equivariant():
    x = np.zeros((1, 1, 9, 9))
    x[0, 0, 2, 3] = 1.0  # one bright pixel
    w = RNG.normal(size=(1, 1, 3, 3))
    out, _ = conv.conv2d_forward(x, w, np.zeros(1), {"stride": 1, "pad": 1})
    assert_close(out[0, 0, 1:4, 2:5], w[0, 0, ::-1, ::-1])  # the response is the flipped filter: no flip in the layer
    shifted, _ = conv.conv2d_forward(conv.shift_images(x, 3, 2), w, np.zeros(1), {"stride": 1, "pad": 1})
    assert_close(shifted, conv.shift_images(out, 3, 2))


POOL_CASES = [
    ((2, 3, 4, 4), 2, 2, 2),
    ((1, 2, 5, 7), 2, 3, 2),
    ((2, 1, 5, 5), 3, 3, 1),  # overlapping windows: gradients add up
    ((1, 1, 6, 4), 3, 2, 3),
]


@pytest.mark.parametrize("x_shape, ph, pw, stride", POOL_CASES)
@pytest.mark.parametrize("ties", [False, True])
def test_maxpool_forward_and_backward_match_torch(x_shape, ph, pw, stride, ties):
    x = RNG.integers(0, 3, size=x_shape).astype(float) if ties else RNG.normal(size=x_shape)
    out, cache = conv.maxpool_forward(x, {"pool_height": ph, "pool_width": pw, "stride": stride})
    x_t = torch.tensor(x, requires_grad=True)
    out_t = F.max_pool2d(x_t, (ph, pw), stride=stride)
    assert_close(out, out_t.detach().numpy())
    dout = RNG.normal(size=out.shape)
    out_t.backward(torch.from_numpy(dout))
    assert_close(conv.maxpool_backward(dout, cache), x_t.grad.numpy())


def test_maxpool_tie_goes_to_the_first_maximum_in_row_major_order():
    x = np.array([[[[1.0, 5.0], [5.0, 5.0]]]])
    out, cache = conv.maxpool_forward(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    assert_close(conv.maxpool_backward(np.array([[[[2.0]]]]), cache), [[[[0.0, 2.0], [0.0, 0.0]]]])


@pytest.mark.parametrize("in_shape, out_channels, kernel, stride, padding",
                         [((1, 28, 28), 8, 3, 1, 1), ((3, 7, 7), 2, 3, 1, 0), ((2, 10, 6), 4, 5, 2, 2)])
def test_conv_vs_dense_parameters_count_torch_layers(in_shape, out_channels, kernel, stride, padding):
    layer = torch.nn.Conv2d(in_shape[0], out_channels, kernel, stride=stride, padding=padding)
    with torch.no_grad():
        n_outputs = layer(torch.zeros(1, *in_shape)).numel()
    dense = torch.nn.Linear(int(np.prod(in_shape)), n_outputs)
    expected = (sum(p.numel() for p in layer.parameters()), sum(p.numel() for p in dense.parameters()))
    assert conv.conv_vs_dense_parameters(in_shape, out_channels, kernel, stride, padding) == expected


@pytest.mark.parametrize("shape", [(4, 6), (3, 5, 7), (2, 1, 6, 5)])
@pytest.mark.parametrize("dy, dx", [(0, 0), (2, 1), (-1, 3), (-4, -2), (6, 0), (0, -9)])
def test_shift_images_matches_scipy(shape, dy, dx):
    X = RNG.normal(size=shape)
    before = X.copy()
    shifted = conv.shift_images(X, dy, dx)
    expected = ndimage.shift(X, (0,) * (X.ndim - 2) + (dy, dx), order=0, mode="constant", cval=0.0)
    assert_close(shifted, expected)
    assert np.array_equal(X, before) and not np.shares_memory(shifted, X)


def _numpy_small_cnn(net, x):
    """SmallCNN's forward pass with the reference layers and the network's own parameters."""
    p = [t.detach().numpy().astype(np.float64) for t in net.parameters()]
    h = x[:, None].astype(np.float64)
    for layer in range(3):
        h, _ = conv.conv2d_forward(h, p[2 * layer], p[2 * layer + 1], {"stride": 1, "pad": 1})
        h = np.maximum(h, 0.0)
        if layer < 2:
            h, _ = conv.maxpool_forward(h, {"pool_height": 2, "pool_width": 2, "stride": 2})
    return h.max(axis=(2, 3)) @ p[6].T + p[7]


def test_small_cnn_parameters_and_forward_pass():
    torch.manual_seed(0)
    net = conv.SmallCNN()
    assert [tuple(p.shape) for p in net.parameters()] == [(8, 1, 3, 3), (8,), (16, 8, 3, 3), (16,), (32, 16, 3, 3),
                                                          (32,), (10, 32), (10,)]
    assert sum(p.numel() for p in net.parameters()) == 8 * 9 + 8 + 16 * 8 * 9 + 16 + 32 * 16 * 9 + 32 + 32 * 10 + 10
    x = RNG.random(size=(3, 12, 10)).astype(np.float32)
    with torch.no_grad():
        logits = net(torch.from_numpy(x)).numpy()
        assert_close(net(torch.from_numpy(x)[:, None]).numpy(), logits)
    assert_close(logits, _numpy_small_cnn(net, x), rtol=1e-5, atol=1e-6)
    small = conv.SmallCNN(num_classes=3, channels=(2, 3, 4))
    assert [tuple(p.shape) for p in small.parameters()][-2:] == [(3, 4), (3,)]


def test_small_cnn_is_invariant_to_shifts_by_the_pooling_grid():
    torch.manual_seed(1)
    net = conv.SmallCNN().eval()
    x = np.zeros((1, 56, 56), dtype=np.float32)
    x[0, 24:30, 22:28] = RNG.random(size=(6, 6))  # an object farther from the borders than the receptive field reaches
    with torch.no_grad():
        here = net(torch.from_numpy(x)).numpy()
        there = net(torch.from_numpy(conv.shift_images(x, 4, 8))).numpy()  # multiples of the total pooling stride 4
    assert_close(there, here, rtol=1e-5, atol=1e-6)


def test_errors_and_no_mutation():
    x, w, b = RNG.normal(size=(1, 2, 5, 5)), RNG.normal(size=(3, 2, 3, 3)), RNG.normal(size=3)
    with pytest.raises(ValueError, match="w must have 2 input channels"):
        conv.conv2d_forward(x, RNG.normal(size=(3, 1, 3, 3)), b, {"stride": 1, "pad": 0})
    with pytest.raises(ValueError, match=r"b must have shape \(3,\)"):
        conv.conv2d_forward(x, w, np.zeros(2), {"stride": 1, "pad": 0})
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv.conv2d_forward(x, RNG.normal(size=(3, 2, 6, 6)), b, {"stride": 1, "pad": 0})
    with pytest.raises(ValueError, match="pool_param needs the key"):
        conv.maxpool_forward(x, {"pool_height": 2, "stride": 2})
    before = copy.deepcopy((x, w, b))
    out, cache = conv.conv2d_forward(x, w, b, {"stride": 2, "pad": 1})
    conv.conv2d_backward(np.ones_like(out), cache)
    pooled, pool_cache = conv.maxpool_forward(x, {"pool_height": 2, "pool_width": 2, "stride": 1})
    conv.maxpool_backward(np.ones_like(pooled), pool_cache)
    for got, want in zip((x, w, b), before):
        assert np.array_equal(got, want)
    x += 1.0  # the caches keep their own copies
    assert_close(cache[0], before[0])
