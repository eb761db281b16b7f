"""Convolutional layers with a forward/backward API, their shape and parameter arithmetic, shifted
images, and a small CNN (deck 001: "the need for shift invariance", "convolutional layers: locality
and weight sharing", the 7×7 input scanned by a 3×3 filter, convolution as an inductive bias; deck 000:
``nn.Conv2d``, ``nn.MaxPool2d`` and the ``[batch, channel, height, width]`` layout): the reference
for assignment ``07_initialization_normalization_convolution``.

* ``conv_output_size(size, kernel_size, stride=1, padding=0)``: ⌊(size + 2·padding − kernel) / stride⌋ + 1;
* ``conv2d_forward(x, w, b, conv_param) -> (out, cache)``, ``conv2d_backward(dout, cache) -> (dx, dw, db)``:
  ``torch.nn.functional.conv2d(x, w, b, stride, padding)`` and its autograd, naive-free (im2col by
  ``sliding_window_view``);
* ``maxpool_forward(x, pool_param) -> (out, cache)``, ``maxpool_backward(dout, cache) -> dx``:
  ``torch.nn.functional.max_pool2d`` (ties: the first maximum in row-major order gets the gradient,
  as torch; overlapping windows add up);
* ``conv_vs_dense_parameters(in_shape, out_channels, kernel_size, stride=1, padding=0)``;
* ``shift_images(X, dy, dx)``: translated images, zero-filled;
* ``SmallCNN``: conv–ReLU–pool ×2, conv–ReLU, global max pooling, linear, in PyTorch.

Layout: x is ``(N, C, H, W)`` (torch's ``[batch, channel, height, width]``), filters ``w`` are
``(F, C, HH, WW)`` and biases ``(F,)``, as ``nn.Conv2d(C, F, (HH, WW)).weight`` / ``.bias``. Like
every deep-learning library, the "convolution" is a cross-correlation: the filter is not flipped.
Caches follow CS231n: ``(x, w, b, conv_param)`` and ``(x, pool_param)`` (private copies). Nothing
here modifies its arguments.
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn

from nnkit.validation import as_float_array

from .layers import _check_dout

__all__ = [
    "conv_output_size",
    "conv2d_forward",
    "conv2d_backward",
    "maxpool_forward",
    "maxpool_backward",
    "conv_vs_dense_parameters",
    "shift_images",
    "SmallCNN",
]


def _integer(value, name, *, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def conv_output_size(size, kernel_size, stride=1, padding=0):
    """Output length of a convolution (or pooling) along one axis: ⌊(size + 2p − k) / s⌋ + 1.

    size: input length (≥ 1); kernel_size k (≥ 1); stride s (≥ 1); padding p (≥ 0) zeros on **each**
    side. Windows that would run past the padded input are dropped (the floor), as in ``nn.Conv2d``.
    Raises ``ValueError`` when the kernel is larger than the padded input (k > size + 2p).
    """
    size = _integer(size, "size", minimum=1)
    kernel_size = _integer(kernel_size, "kernel_size", minimum=1)
    stride = _integer(stride, "stride", minimum=1)
    padding = _integer(padding, "padding", minimum=0)
    if kernel_size > size + 2 * padding:
        raise ValueError(f"kernel_size {kernel_size} is larger than the padded input {size} + 2·{padding}")
    return (size + 2 * padding - kernel_size) // stride + 1


def _conv_param(conv_param):
    if not isinstance(conv_param, dict):
        raise TypeError(f"conv_param must be a dict with 'stride' and 'pad', got {type(conv_param).__name__}")
    stride = _integer(conv_param.get("stride", 1), "conv_param['stride']", minimum=1)
    pad = _integer(conv_param.get("pad", 0), "conv_param['pad']", minimum=0)
    return stride, pad


def _windows(x_padded, height, width, stride):
    """All (height, width) windows of x_padded (N, C, H, W) taken every ``stride`` pixels:
    a read-only view of shape (N, C, H', W', height, width)."""
    return sliding_window_view(x_padded, (height, width), axis=(2, 3))[:, :, ::stride, ::stride]


def conv2d_forward(x, w, b, conv_param):
    """Convolutional layer (cross-correlation, as ``torch.nn.functional.conv2d``).

    x: (N, C, H, W); w: (F, C, HH, WW); b: (F,); conv_param: ``{"stride": s, "pad": p}`` (defaults 1
    and 0), p zeros on each side of H and W. With x̃ the padded input,
    out[n, f, i, j] = b[f] + Σ_{c, k, l} x̃[n, c, i·s + k, j·s + l] · w[f, c, k, l],
    out: (N, F, H', W') with H' = conv_output_size(H, HH, s, p), W' = conv_output_size(W, WW, s, p).
    Returns ``(out, cache)`` with cache = ``(x, w, b, conv_param)``.
    """
    x = as_float_array(x, "x", ndim=4).copy()
    w = as_float_array(w, "w", ndim=4).copy()
    b = as_float_array(b, "b", ndim=1).copy()
    stride, pad = _conv_param(conv_param)
    N, C, H, W = x.shape
    F, C_w, HH, WW = w.shape
    if C_w != C:
        raise ValueError(f"w must have {C} input channels like x {x.shape}, got w of shape {w.shape}")
    if b.shape != (F,):
        raise ValueError(f"b must have shape ({F},), one bias per filter of w {w.shape}, got shape {b.shape}")
    H_out = conv_output_size(H, HH, stride, pad)
    W_out = conv_output_size(W, WW, stride, pad)
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = _windows(x_padded, HH, WW, stride)[:, :, :H_out, :W_out]
    out = np.einsum("nchwkl,fckl->nfhw", windows, w, optimize=True) + b[:, None, None]
    return out, (x, w, b, {"stride": stride, "pad": pad})


def conv2d_backward(dout, cache):
    """Backward pass of ``conv2d_forward``: ``(dx, dw, db)`` from dout = ∂L/∂out (N, F, H', W').

    db[f] = Σ_{n,i,j} dout[n, f, i, j];
    dw[f, c, k, l] = Σ_{n,i,j} dout[n, f, i, j] · x̃[n, c, i·s + k, j·s + l];
    dx̃[n, c, i·s + k, j·s + l] += Σ_f dout[n, f, i, j] · w[f, c, k, l] (every window an input pixel
    belongs to adds its share), and dx is dx̃ without the padding. Shapes: those of x, w, b.
    """
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out, W_out = conv_output_size(H, HH, stride, pad), conv_output_size(W, WW, stride, pad)
    dout = _check_dout(dout, (N, F, H_out, W_out))
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = _windows(x_padded, HH, WW, stride)[:, :, :H_out, :W_out]
    db = dout.sum(axis=(0, 2, 3))
    dw = np.einsum("nchwkl,nfhw->fckl", windows, dout, optimize=True)
    dx_padded = np.zeros_like(x_padded)
    rows, cols = stride * (H_out - 1) + 1, stride * (W_out - 1) + 1
    for k in range(HH):
        for l in range(WW):
            dx_padded[:, :, k:k + rows:stride, l:l + cols:stride] += np.einsum("nfhw,fc->nchw", dout, w[:, :, k, l])
    dx = dx_padded[:, :, pad:pad + H, pad:pad + W].copy()
    return dx, dw, db


def _pool_param(pool_param):
    if not isinstance(pool_param, dict):
        raise TypeError("pool_param must be a dict with 'pool_height', 'pool_width' and 'stride', got "
                        f"{type(pool_param).__name__}")
    try:
        sizes = [pool_param[key] for key in ("pool_height", "pool_width", "stride")]
    except KeyError as missing:
        raise ValueError(f"pool_param needs the key {missing}") from None
    height, width, stride = (_integer(v, f"pool_param[{k!r}]", minimum=1)
                             for v, k in zip(sizes, ("pool_height", "pool_width", "stride")))
    return height, width, stride


def maxpool_forward(x, pool_param):
    """Max pooling (``torch.nn.functional.max_pool2d(x, (ph, pw), stride)``, no padding).

    x: (N, C, H, W); pool_param: ``{"pool_height": ph, "pool_width": pw, "stride": s}``.
    out[n, c, i, j] = max_{0≤k<ph, 0≤l<pw} x[n, c, i·s + k, j·s + l], out: (N, C, H', W') with
    H' = ⌊(H − ph)/s⌋ + 1, W' = ⌊(W − pw)/s⌋ + 1. Returns ``(out, cache)``, cache = ``(x, pool_param)``.
    """
    x = as_float_array(x, "x", ndim=4).copy()
    height, width, stride = _pool_param(pool_param)
    H_out = conv_output_size(x.shape[2], height, stride)
    W_out = conv_output_size(x.shape[3], width, stride)
    windows = _windows(x, height, width, stride)[:, :, :H_out, :W_out]
    out = windows.max(axis=(4, 5))
    return out, (x, {"pool_height": height, "pool_width": width, "stride": stride})


def maxpool_backward(dout, cache):
    """Backward pass of ``maxpool_forward``: dx (N, C, H, W) from dout (N, C, H', W').

    Each window passes its upstream gradient to the position of its maximum, the **first** one in
    row-major order when several entries tie (as torch); positions shared by overlapping windows
    (stride < pool size) add up the gradients of every window that chose them; all others get 0.
    """
    x, pool_param = cache
    height, width, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = conv_output_size(H, height, stride), conv_output_size(W, width, stride)
    dout = _check_dout(dout, (N, C, H_out, W_out))
    windows = _windows(x, height, width, stride)[:, :, :H_out, :W_out].reshape(N, C, H_out, W_out, height * width)
    first_max = windows.argmax(axis=4)
    n, c, i, j = np.indices((N, C, H_out, W_out))
    rows = i * stride + first_max // width
    cols = j * stride + first_max % width
    dx = np.zeros_like(x)
    np.add.at(dx, (n, c, rows, cols), dout)
    return dx


def conv_vs_dense_parameters(in_shape, out_channels, kernel_size, stride=1, padding=0):
    """Parameters of a conv layer and of the fully connected layer it replaces: ``(conv, dense)``.

    in_shape = (C, H, W); the conv layer has ``out_channels`` filters of size kernel × kernel over all C
    channels, shared by every position (weight sharing), one bias each:
    conv = out_channels · C · k² + out_channels.
    The dense layer maps the same C·H·W inputs to the same out_channels · H' · W' outputs
    (H', W' from ``conv_output_size``), every output with its own weights to every input and its own bias:
    dense = (C·H·W) · (out_channels·H'·W') + out_channels·H'·W'. Both are Python ints.
    """
    if len(in_shape) != 3:
        raise ValueError(f"in_shape must be (C, H, W), got {in_shape!r}")
    C, H, W = (_integer(v, f"in_shape[{i}]", minimum=1) for i, v in enumerate(in_shape))
    out_channels = _integer(out_channels, "out_channels", minimum=1)
    kernel_size = _integer(kernel_size, "kernel_size", minimum=1)
    outputs = out_channels * conv_output_size(H, kernel_size, stride, padding) * conv_output_size(W, kernel_size, stride, padding)
    conv = out_channels * C * kernel_size * kernel_size + out_channels
    dense = C * H * W * outputs + outputs
    return conv, dense


def _shift_slices(shift, size):
    """(source, destination) slices that move a length-``size`` axis by ``shift`` (positive: forward)."""
    if abs(shift) >= size:
        return slice(0, 0), slice(0, 0)
    if shift >= 0:
        return slice(0, size - shift), slice(shift, size)
    return slice(-shift, size), slice(0, size + shift)


def shift_images(X, dy, dx):
    """Images translated by dy pixels down and dx pixels right (negative: up, left), zero-filled.

    X: (..., H, W), e.g. (N, H, W) or (N, C, H, W); the last two axes are rows and columns.
    out[..., r, c] = X[..., r − dy, c − dx] where that pixel exists, else 0 (nothing wraps around;
    |dy| ≥ H or |dx| ≥ W gives an all-zero image). Returns a new array with the dtype of X.
    """
    X = as_float_array(X, "X")
    if X.ndim < 2:
        raise ValueError(f"X must have at least 2 dimensions (..., H, W), got shape {X.shape}")
    dy = _integer(dy, "dy", minimum=-np.iinfo(np.int64).max)
    dx = _integer(dx, "dx", minimum=-np.iinfo(np.int64).max)
    H, W = X.shape[-2:]
    (rows_from, rows_to), (cols_from, cols_to) = _shift_slices(dy, H), _shift_slices(dx, W)
    out = np.zeros_like(X)
    out[..., rows_to, cols_to] = X[..., rows_from, cols_from]
    return out


class SmallCNN(nn.Module):
    """A small CNN for MNIST-sized images with global max pooling (about 6.2k parameters by default).

    features: Conv2d(1, c1, 3, padding=1) → ReLU → MaxPool2d(2) → Conv2d(c1, c2, 3, padding=1) → ReLU →
    MaxPool2d(2) → Conv2d(c2, c3, 3, padding=1) → ReLU; then the maximum of each of the c3 feature maps
    over all positions (global max pooling) and Linear(c3, num_classes).

    ``forward`` takes a batch (N, H, W) (one channel added) or (N, 1, H, W) with H, W ≥ 4 and returns the
    logits (N, num_classes). The convolutions are shift-equivariant, the global maximum discards where a
    feature was found: the network is shift-invariant up to the pooling grid and the image borders.
    """

    def __init__(self, num_classes=10, channels=(8, 16, 32)):
        super().__init__()
        c1, c2, c3 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, kernel_size=3, padding=1), nn.ReLU(),
        )
        self.classifier = nn.Linear(c3, num_classes)

    def forward(self, x):
        if x.dim() == 3:
            x = x.unsqueeze(1)  # (N, H, W) -> (N, 1, H, W)
        features = self.features(x)
        return self.classifier(torch.amax(features, dim=(2, 3)))
