"""Self-test catalogue of assignment 07_initialization_normalization_convolution: wrong answers and
alternative right ones.

Each ``Mutant`` replaces one solution cell of
``source/07_initialization_normalization_convolution/07_initialization_normalization_convolution.ipynb`` and must
lose the points of that function's test cell only; each ``Alternative`` is a different correct solution and
must keep full marks. The notebook's given code (``sigmoid``, ``softmax``, ``ACTIVATIONS``, the training
helpers) is available to every cell.
"""

from nngrade.selftest import Alternative, Mutant


def _variant(source: str, old: str, new: str) -> str:
    """``source`` with one fragment replaced (the fragment must be there: a typo must not pass silently)."""
    if source.count(old) != 1:
        raise ValueError(f"fragment not found exactly once: {old!r}")
    return source.replace(old, new)


# The source solutions the variants below start from.
INIT_WEIGHTS = """
def init_weights(layer_sizes, scheme, *, rng):
    weights, biases = [], []
    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        if scheme == "zeros":
            W = np.zeros((fan_in, fan_out))
        else:
            std = {"small": 0.01, "normal": 1.0, "xavier": np.sqrt(2.0 / (fan_in + fan_out)),
                   "he": np.sqrt(2.0 / fan_in)}[scheme]
            W = rng.normal(0.0, std, size=(fan_in, fan_out))
        weights.append(W)
        biases.append(np.zeros(fan_out))
    return weights, biases
"""

ACTIVATION_STATS = """
def activation_stats(X, weights, biases, activation):
    f, _ = ACTIVATIONS[activation]
    means, stds = [], []
    a = X
    for W, b in zip(weights, biases):
        a = f(a @ W + b)
        means.append(a.mean())
        stds.append(a.std())
    return np.array(means), np.array(stds)
"""

GRADIENT_NORMS = """
def layer_gradient_norms(X, y, weights, biases, activation):
    f, f_prime = ACTIVATIONS[activation]
    a_values, z_values = [X], []
    for W, b in zip(weights[:-1], biases[:-1]):
        z = a_values[-1] @ W + b
        z_values.append(z)
        a_values.append(f(z))
    scores = a_values[-1] @ weights[-1] + biases[-1]
    delta = softmax(scores)
    delta[np.arange(len(y)), y] -= 1.0
    delta /= len(y)
    norms = []
    for layer in reversed(range(len(weights))):
        norms.append(np.linalg.norm(a_values[layer].T @ delta))
        if layer > 0:
            delta = (delta @ weights[layer].T) * f_prime(z_values[layer - 1])
    return np.array(norms[::-1])
"""

CLIP = """
def clip_grad_norm(grads, max_norm):
    total_norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
    coef = min(1.0, max_norm / (total_norm + 1e-6))
    return [g * coef for g in grads], total_norm
"""

DEAD = """
def dead_unit_fraction(X, weights, biases, negative_slope=0.0):
    fractions, a = [], X
    for W, b in zip(weights[:-1], biases[:-1]):
        z = a @ W + b
        fractions.append(np.mean(np.all(z <= 0, axis=0)))
        a = np.where(z > 0, z, negative_slope * z)
    return np.array(fractions)
"""

BN_FORWARD = """
def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    if mode == "train":
        if x.shape[0] < 2:
            raise ValueError("training mode needs at least 2 samples")
        mu, var = x.mean(axis=0), x.var(axis=0)
    else:
        mu, var = bn_param["running_mean"], bn_param["running_var"]
    std = np.sqrt(var + eps)
    x_hat = (x - mu) / std
    return gamma * x_hat + beta, (x_hat, gamma, std, mode)
"""

BN_BACKWARD = """
def batchnorm_backward(dout, cache):
    x_hat, gamma, std, mode = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    if mode == "train":
        dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / std
    else:
        dx = dx_hat / std
    return dx, dgamma, dbeta
"""

RUNNING = """
def update_running_stats(bn_param, x):
    new = dict(bn_param)
    if bn_param["mode"] == "train":
        if x.shape[0] < 2:
            raise ValueError("training mode needs at least 2 samples")
        m = bn_param.get("momentum", 0.1)
        D = x.shape[1]
        running_mean = bn_param.get("running_mean", np.zeros(D))
        running_var = bn_param.get("running_var", np.ones(D))
        new["running_mean"] = (1 - m) * running_mean + m * x.mean(axis=0)
        new["running_var"] = (1 - m) * running_var + m * x.var(axis=0, ddof=1)
    return new
"""

SHIFT = """
def shift_images(X, dy, dx):
    H, W = X.shape[-2:]
    out = np.zeros_like(X)
    if abs(dy) >= H or abs(dx) >= W:
        return out
    rows_to, rows_from = slice(max(dy, 0), H + min(dy, 0)), slice(max(-dy, 0), H + min(-dy, 0))
    cols_to, cols_from = slice(max(dx, 0), W + min(dx, 0)), slice(max(-dx, 0), W + min(-dx, 0))
    out[..., rows_to, cols_to] = X[..., rows_from, cols_from]
    return out
"""

OUTPUT_SIZE = """
def conv_output_size(size, kernel_size, stride=1, padding=0):
    if kernel_size > size + 2 * padding:
        raise ValueError("the kernel is larger than the padded input")
    return (size + 2 * padding - kernel_size) // stride + 1
"""

CONV_FORWARD = """
def conv2d_forward(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F_, _, HH, WW = w.shape
    H_out, W_out = conv_output_size(H, HH, stride, pad), conv_output_size(W, WW, stride, pad)
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F_, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = x_padded[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param)
"""

CONV_BACKWARD = """
def conv2d_backward(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F_, _, HH, WW = w.shape
    H_out, W_out = dout.shape[2], dout.shape[3]
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_padded, dw = np.zeros(x_padded.shape), np.zeros(w.shape)
    db = dout.sum(axis=(0, 2, 3))
    for i in range(H_out):
        for j in range(W_out):
            rows, cols = slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW)
            dw += np.tensordot(dout[:, :, i, j], x_padded[:, :, rows, cols], axes=([0], [0]))
            dx_padded[:, :, rows, cols] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    dx = dx_padded[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db
"""

POOL_FORWARD = """
def maxpool_forward(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = (H - ph) // stride + 1, (W - pw) // stride + 1
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw].max(axis=(2, 3))
    return out, (x, pool_param)
"""

POOL_BACKWARD = """
def maxpool_backward(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    k, l = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + k, j * stride + l] += dout[n, c, i, j]
    return dx
"""

PARAMETERS = """
def conv_vs_dense_parameters(in_shape, out_channels, kernel_size, stride=1, padding=0):
    C, H, W = in_shape
    H_out = conv_output_size(H, kernel_size, stride, padding)
    W_out = conv_output_size(W, kernel_size, stride, padding)
    conv = out_channels * C * kernel_size * kernel_size + out_channels
    outputs = out_channels * H_out * W_out
    dense = C * H * W * outputs + outputs
    return conv, dense
"""

SMALL_CNN = """
class SmallCNN(nn.Module):
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
            x = x.unsqueeze(1)
        return self.classifier(torch.amax(self.features(x), dim=(2, 3)))
"""

MUTANTS = [
    # --- init_weights ---------------------------------------------------------------------------------
    Mutant(
        cell="init_weights",
        description="LeCun's √(1/fan_in) taken for Xavier",
        source=_variant(INIT_WEIGHTS, '"xavier": np.sqrt(2.0 / (fan_in + fan_out))', '"xavier": np.sqrt(1.0 / fan_in)'),
    ),
    Mutant(
        cell="init_weights",
        description="He's variance 2/fan_in used as the standard deviation",
        source=_variant(INIT_WEIGHTS, '"he": np.sqrt(2.0 / fan_in)', '"he": 2.0 / fan_in'),
    ),
    Mutant(
        cell="init_weights",
        description="torch's layout: W drawn as (fan_out, fan_in)",
        source=_variant(INIT_WEIGHTS, "W = rng.normal(0.0, std, size=(fan_in, fan_out))",
                        "W = rng.normal(0.0, std, size=(fan_out, fan_in))"),
    ),
    Mutant(
        cell="init_weights",
        description="'zeros' drawn as N(0, 0): right values, but it consumes the generator",
        source=_variant(_variant(INIT_WEIGHTS, '        if scheme == "zeros":\n            W = np.zeros((fan_in, fan_out))\n'
                                 '        else:\n            std =', "        if True:\n            std ="),
                        '{"small": 0.01,', '{"zeros": 0.0, "small": 0.01,'),
    ),
    # --- activation_stats -----------------------------------------------------------------------------
    Mutant(
        cell="activation_stats",
        description="statistics of the pre-activations z instead of the activations",
        source=_variant(ACTIVATION_STATS, "        a = f(a @ W + b)\n        means.append(a.mean())\n        stds.append(a.std())",
                        "        z = a @ W + b\n        a = f(z)\n        means.append(z.mean())\n        stds.append(z.std())"),
    ),
    Mutant(
        cell="activation_stats",
        description="the sample standard deviation (ddof = 1)",
        source=_variant(ACTIVATION_STATS, "stds.append(a.std())", "stds.append(a.std(ddof=1))"),
    ),
    Mutant(
        cell="activation_stats",
        description="the mean of the per-unit standard deviations",
        source=_variant(ACTIVATION_STATS, "stds.append(a.std())", "stds.append(a.std(axis=0).mean())"),
    ),
    Mutant(
        cell="activation_stats",
        description="no activation at the last layer (treated as an output layer)",
        source=_variant(ACTIVATION_STATS, "    for W, b in zip(weights, biases):\n        a = f(a @ W + b)",
                        "    for l, (W, b) in enumerate(zip(weights, biases)):\n"
                        "        a = a @ W + b if l == len(weights) - 1 else f(a @ W + b)"),
    ),
    # --- layer_gradient_norms -------------------------------------------------------------------------
    Mutant(
        cell="layer_gradient_norms",
        description="forgets f'(z) in the δ recursion",
        source=_variant(GRADIENT_NORMS, "delta = (delta @ weights[layer].T) * f_prime(z_values[layer - 1])",
                        "delta = delta @ weights[layer].T"),
    ),
    Mutant(
        cell="layer_gradient_norms",
        description="the summed cross-entropy: no division by N",
        source=_variant(GRADIENT_NORMS, "    delta /= len(y)\n", ""),
    ),
    Mutant(
        cell="layer_gradient_norms",
        description="f' evaluated at the activation a instead of the pre-activation z",
        source=_variant(GRADIENT_NORMS, "f_prime(z_values[layer - 1])", "f_prime(a_values[layer])"),
    ),
    Mutant(
        cell="layer_gradient_norms",
        description="returns the norms in backward order, output layer first",
        source=_variant(GRADIENT_NORMS, "return np.array(norms[::-1])", "return np.array(norms)"),
    ),
    # --- clip_grad_norm -------------------------------------------------------------------------------
    Mutant(
        cell="clip_grad_norm",
        description="clips every array to max_norm separately",
        source="""
def clip_grad_norm(grads, max_norm):
    total_norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
    clipped = [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for g in grads]
    return clipped, total_norm
""",
    ),
    Mutant(
        cell="clip_grad_norm",
        description="always rescales to max_norm, also gradients that are smaller",
        source=_variant(CLIP, "coef = min(1.0, max_norm / (total_norm + 1e-6))", "coef = max_norm / (total_norm + 1e-6)"),
    ),
    Mutant(
        cell="clip_grad_norm",
        description="scales the given arrays in place, as clip_grad_norm_ does with .grad",
        source=_variant(CLIP, "    return [g * coef for g in grads], total_norm",
                        "    for g in grads:\n        g *= coef\n    return grads, total_norm"),
    ),
    Mutant(
        cell="clip_grad_norm",
        description="returns the norm after clipping",
        source=_variant(CLIP, "    return [g * coef for g in grads], total_norm",
                        "    return [g * coef for g in grads], total_norm * coef"),
    ),
    # --- dead_unit_fraction ---------------------------------------------------------------------------
    Mutant(
        cell="dead_unit_fraction",
        description="z < 0 instead of z <= 0: misses units stuck at exactly 0",
        source=_variant(DEAD, "np.all(z <= 0, axis=0)", "np.all(z < 0, axis=0)"),
    ),
    Mutant(
        cell="dead_unit_fraction",
        description="the share of inactive (sample, unit) pairs instead of units dead on every sample",
        source=_variant(DEAD, "np.mean(np.all(z <= 0, axis=0))", "np.mean(z <= 0)"),
    ),
    Mutant(
        cell="dead_unit_fraction",
        description="a unit counted dead when it is inactive on any sample",
        source=_variant(DEAD, "np.all(z <= 0, axis=0)", "np.any(z <= 0, axis=0)"),
    ),
    Mutant(
        cell="dead_unit_fraction",
        description="ignores negative_slope in the forward pass (always the ReLU)",
        source=_variant(DEAD, "a = np.where(z > 0, z, negative_slope * z)", "a = np.maximum(z, 0.0)"),
    ),
    # --- batchnorm_forward ----------------------------------------------------------------------------
    Mutant(
        cell="batchnorm_forward",
        description="normalises with the unbiased variance (ddof = 1)",
        source=_variant(BN_FORWARD, "mu, var = x.mean(axis=0), x.var(axis=0)", "mu, var = x.mean(axis=0), x.var(axis=0, ddof=1)"),
    ),
    Mutant(
        cell="batchnorm_forward",
        description="ε added after the square root",
        source=_variant(BN_FORWARD, "std = np.sqrt(var + eps)", "std = np.sqrt(var) + eps"),
    ),
    Mutant(
        cell="batchnorm_forward",
        description="evaluation mode uses the batch statistics too",
        source=_variant(BN_FORWARD, 'mu, var = bn_param["running_mean"], bn_param["running_var"]',
                        "mu, var = x.mean(axis=0), x.var(axis=0)"),
    ),
    Mutant(
        cell="batchnorm_forward",
        description="normalises each sample over its features (axis 1: layer norm)",
        source=_variant(BN_FORWARD, "mu, var = x.mean(axis=0), x.var(axis=0)",
                        "mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)"),
    ),
    Mutant(
        cell="batchnorm_forward",
        description="keeps the variance in the cache instead of std",
        source=_variant(BN_FORWARD, "(x_hat, gamma, std, mode)", "(x_hat, gamma, var, mode)"),
    ),
    # --- batchnorm_backward ---------------------------------------------------------------------------
    Mutant(
        cell="batchnorm_backward",
        description="treats μ and σ² as constants in training mode too: dx = dx̂ / std",
        source=_variant(BN_BACKWARD, "dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / std",
                        "dx = dx_hat / std"),
    ),
    Mutant(
        cell="batchnorm_backward",
        description="forgets the path through σ² (the x̂ term)",
        source=_variant(BN_BACKWARD, "dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / std",
                        "dx = (dx_hat - dx_hat.mean(axis=0)) / std"),
    ),
    Mutant(
        cell="batchnorm_backward",
        description="dγ without x̂ (the β formula)",
        source=_variant(BN_BACKWARD, "dgamma = (dout * x_hat).sum(axis=0)", "dgamma = dout.sum(axis=0)"),
    ),
    Mutant(
        cell="batchnorm_backward",
        description="forgets γ: dx̂ = dout",
        source=_variant(BN_BACKWARD, "dx_hat = dout * gamma", "dx_hat = dout"),
    ),
    # --- update_running_stats -------------------------------------------------------------------------
    Mutant(
        cell="update_running_stats",
        description="CS231n's convention: momentum weights the old running value",
        source=_variant(_variant(RUNNING, "(1 - m) * running_mean + m * x.mean(axis=0)", "m * running_mean + (1 - m) * x.mean(axis=0)"),
                        "(1 - m) * running_var + m * x.var(axis=0, ddof=1)", "m * running_var + (1 - m) * x.var(axis=0, ddof=1)"),
    ),
    Mutant(
        cell="update_running_stats",
        description="the biased batch variance in the running average",
        source=_variant(RUNNING, "x.var(axis=0, ddof=1)", "x.var(axis=0)"),
    ),
    Mutant(
        cell="update_running_stats",
        description="updates the given running arrays in place",
        source=_variant(RUNNING, '        new["running_mean"] = (1 - m) * running_mean + m * x.mean(axis=0)\n'
                                 '        new["running_var"] = (1 - m) * running_var + m * x.var(axis=0, ddof=1)',
                        '        running_mean *= 1 - m\n        running_mean += m * x.mean(axis=0)\n'
                        '        running_var *= 1 - m\n        running_var += m * x.var(axis=0, ddof=1)\n'
                        '        new["running_mean"], new["running_var"] = running_mean, running_var'),
    ),
    Mutant(
        cell="update_running_stats",
        description="also updates in evaluation mode",
        source=_variant(RUNNING, '    if bn_param["mode"] == "train":\n', '    if True:\n'),
    ),
    # --- shift_images ---------------------------------------------------------------------------------
    Mutant(
        cell="shift_images",
        description="np.roll: the content wraps around",
        source="""
def shift_images(X, dy, dx):
    return np.roll(X, (dy, dx), axis=(-2, -1))
""",
    ),
    Mutant(
        cell="shift_images",
        description="positive dy moves the content up",
        source=_variant(SHIFT, "rows_to, rows_from = slice(max(dy, 0), H + min(dy, 0)), slice(max(-dy, 0), H + min(-dy, 0))",
                        "rows_from, rows_to = slice(max(dy, 0), H + min(dy, 0)), slice(max(-dy, 0), H + min(-dy, 0))"),
    ),
    Mutant(
        cell="shift_images",
        description="only correct for shifts down and right (slices written for positive shifts)",
        source="""
def shift_images(X, dy, dx):
    H, W = X.shape[-2:]
    out = np.zeros_like(X)
    if abs(dy) >= H or abs(dx) >= W:
        return out
    out[..., dy:, dx:] = X[..., :H - dy, :W - dx]
    return out
""",
    ),
    Mutant(
        cell="shift_images",
        description="assumes (N, H, W) images",
        source=_variant(SHIFT, "out[..., rows_to, cols_to] = X[..., rows_from, cols_from]",
                        "out[:, rows_to, cols_to] = X[:, rows_from, cols_from]"),
    ),
    # --- conv_output_size -----------------------------------------------------------------------------
    Mutant(
        cell="conv_output_size",
        description="forgets the + 1",
        source=_variant(OUTPUT_SIZE, "// stride + 1", "// stride"),
    ),
    Mutant(
        cell="conv_output_size",
        description="padding on one side only",
        source=_variant(OUTPUT_SIZE, "return (size + 2 * padding - kernel_size) // stride + 1",
                        "return (size + padding - kernel_size) // stride + 1"),
    ),
    Mutant(
        cell="conv_output_size",
        description="rounds up: a partial window at the end counts",
        source=_variant(OUTPUT_SIZE, "return (size + 2 * padding - kernel_size) // stride + 1",
                        "return -(-(size + 2 * padding - kernel_size) // stride) + 1"),
    ),
    Mutant(
        cell="conv_output_size",
        description="no error for a kernel larger than the padded input",
        source=_variant(OUTPUT_SIZE, '    if kernel_size > size + 2 * padding:\n'
                                     '        raise ValueError("the kernel is larger than the padded input")\n', ""),
    ),
    # --- conv2d_forward -------------------------------------------------------------------------------
    Mutant(
        cell="conv2d_forward",
        description="flips the filter (convolution in the signal-processing sense)",
        source=_variant(CONV_FORWARD, "np.tensordot(window, w, axes", "np.tensordot(window, w[:, :, ::-1, ::-1], axes"),
    ),
    Mutant(
        cell="conv2d_forward",
        description="forgets the bias",
        source=_variant(CONV_FORWARD, "axes=([1, 2, 3], [1, 2, 3])) + b", "axes=([1, 2, 3], [1, 2, 3]))"),
    ),
    Mutant(
        cell="conv2d_forward",
        description="the window moves by 1 pixel whatever the stride",
        source=_variant(CONV_FORWARD, "window = x_padded[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]",
                        "window = x_padded[:, :, i:i + HH, j:j + WW]"),
    ),
    Mutant(
        cell="conv2d_forward",
        description="pads only the top and the left",
        source=_variant(CONV_FORWARD, "x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))",
                        "x_padded = np.pad(x, ((0, 0), (0, 0), (2 * pad, 0), (2 * pad, 0)))"),
    ),
    # --- conv2d_backward ------------------------------------------------------------------------------
    Mutant(
        cell="conv2d_backward",
        description="db of the first sample only",
        source=_variant(CONV_BACKWARD, "db = dout.sum(axis=(0, 2, 3))", "db = dout[0].sum(axis=(1, 2))"),
    ),
    Mutant(
        cell="conv2d_backward",
        description="returns dx with the padding",
        source=_variant(CONV_BACKWARD, "dx = dx_padded[:, :, pad:pad + H, pad:pad + W]", "dx = dx_padded"),
    ),
    Mutant(
        cell="conv2d_backward",
        description="overwrites dx instead of adding the contributions of overlapping windows",
        source=_variant(CONV_BACKWARD, "dx_padded[:, :, rows, cols] += np.tensordot", "dx_padded[:, :, rows, cols] = np.tensordot"),
    ),
    Mutant(
        cell="conv2d_backward",
        description="flips the filter in the input gradient",
        source=_variant(CONV_BACKWARD, "np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))",
                        "np.tensordot(dout[:, :, i, j], w[:, :, ::-1, ::-1], axes=([1], [0]))"),
    ),
    # --- maxpool_forward ------------------------------------------------------------------------------
    Mutant(
        cell="maxpool_forward",
        description="average pooling",
        source=_variant(POOL_FORWARD, ".max(axis=(2, 3))", ".mean(axis=(2, 3))"),
    ),
    Mutant(
        cell="maxpool_forward",
        description="the window moves by 1 pixel whatever the stride",
        source=_variant(POOL_FORWARD, "x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]",
                        "x[:, :, i:i + ph, j:j + pw]"),
    ),
    Mutant(
        cell="maxpool_forward",
        description="pool_height and pool_width swapped",
        source=_variant(POOL_FORWARD, 'ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]',
                        'pw, ph, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]'),
    ),
    # --- maxpool_backward -----------------------------------------------------------------------------
    Mutant(
        cell="maxpool_backward",
        description="passes the gradient to every entry that ties for the maximum",
        source=_variant(POOL_BACKWARD, "                    k, l = np.unravel_index(np.argmax(window), window.shape)\n"
                                       "                    dx[n, c, i * stride + k, j * stride + l] += dout[n, c, i, j]",
                        "                    mask = window == window.max()\n"
                        "                    dx[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw] += mask * dout[n, c, i, j]"),
    ),
    Mutant(
        cell="maxpool_backward",
        description="overwrites instead of adding where windows overlap",
        source=_variant(POOL_BACKWARD, "dx[n, c, i * stride + k, j * stride + l] += dout", "dx[n, c, i * stride + k, j * stride + l] = dout"),
    ),
    Mutant(
        cell="maxpool_backward",
        description="spreads the gradient evenly over the window (average pooling's backward pass)",
        source=_variant(POOL_BACKWARD, "                    k, l = np.unravel_index(np.argmax(window), window.shape)\n"
                                       "                    dx[n, c, i * stride + k, j * stride + l] += dout[n, c, i, j]",
                        "                    dx[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw] += dout[n, c, i, j] / window.size"),
    ),
    Mutant(
        cell="maxpool_backward",
        description="row and column of the maximum computed with the window height",
        source=_variant(POOL_BACKWARD, "k, l = np.unravel_index(np.argmax(window), window.shape)", "k, l = divmod(np.argmax(window), ph)"),
    ),
    # --- conv_vs_dense_parameters ---------------------------------------------------------------------
    Mutant(
        cell="conv_vs_dense_parameters",
        description="no weight sharing: one filter per output position (a locally connected layer)",
        source=_variant(PARAMETERS, "conv = out_channels * C * kernel_size * kernel_size + out_channels",
                        "conv = (out_channels * C * kernel_size * kernel_size + out_channels) * H_out * W_out"),
    ),
    Mutant(
        cell="conv_vs_dense_parameters",
        description="forgets the filters' biases",
        source=_variant(PARAMETERS, "conv = out_channels * C * kernel_size * kernel_size + out_channels",
                        "conv = out_channels * C * kernel_size * kernel_size"),
    ),
    Mutant(
        cell="conv_vs_dense_parameters",
        description="a filter that ignores the input channels (k² weights instead of C·k²)",
        source=_variant(PARAMETERS, "conv = out_channels * C * kernel_size * kernel_size + out_channels",
                        "conv = out_channels * kernel_size * kernel_size + out_channels"),
    ),
    Mutant(
        cell="conv_vs_dense_parameters",
        description="the dense layer without biases",
        source=_variant(PARAMETERS, "dense = C * H * W * outputs + outputs", "dense = C * H * W * outputs"),
    ),
    # --- SmallCNN -------------------------------------------------------------------------------------
    Mutant(
        cell="SmallCNN",
        description="global average pooling instead of the maximum",
        source=_variant(SMALL_CNN, "torch.amax(self.features(x), dim=(2, 3))", "self.features(x).mean(dim=(2, 3))"),
    ),
    Mutant(
        cell="SmallCNN",
        description="no ReLU after the third convolution",
        source=_variant(SMALL_CNN, "nn.Conv2d(c2, c3, kernel_size=3, padding=1), nn.ReLU(),", "nn.Conv2d(c2, c3, kernel_size=3, padding=1),"),
    ),
    Mutant(
        cell="SmallCNN",
        description="average pooling layers (nn.AvgPool2d) between the convolutions",
        source=SMALL_CNN.replace("nn.MaxPool2d(2)", "nn.AvgPool2d(2)"),
    ),
    Mutant(
        cell="SmallCNN",
        description="convolutions without padding",
        source=SMALL_CNN.replace("kernel_size=3, padding=1", "kernel_size=3"),
    ),
]

ALTERNATIVES = [
    Alternative(
        cell="init_weights",
        description="standard normal draws scaled by the std, an if/elif chain, a list comprehension for the biases",
        source="""
def init_weights(layer_sizes, scheme, *, rng):
    weights = []
    for fan_in, fan_out in zip(layer_sizes, layer_sizes[1:]):
        if scheme == "zeros":
            weights.append(np.zeros((fan_in, fan_out)))
            continue
        if scheme == "small":
            std = 0.01
        elif scheme == "normal":
            std = 1.0
        elif scheme == "xavier":
            std = (2.0 / (fan_in + fan_out)) ** 0.5
        else:
            std = (2.0 / fan_in) ** 0.5
        weights.append(std * rng.standard_normal((fan_in, fan_out)))
    return weights, [np.zeros(n) for n in layer_sizes[1:]]
""",
    ),
    Alternative(
        cell="activation_stats",
        description="its own activations and the standard deviation written out",
        source="""
def activation_stats(X, weights, biases, activation):
    functions = {"sigmoid": sigmoid, "tanh": np.tanh, "relu": lambda z: np.where(z > 0, z, 0.0)}
    means, stds = np.zeros(len(weights)), np.zeros(len(weights))
    a = X
    for l in range(len(weights)):
        a = functions[activation](np.dot(a, weights[l]) + biases[l])
        means[l] = np.mean(a)
        stds[l] = np.sqrt(np.mean((a - means[l]) ** 2))
    return means, stds
""",
    ),
    Alternative(
        cell="layer_gradient_norms",
        description="one-hot targets, the gradients first, the norms at the end",
        source="""
def layer_gradient_norms(X, y, weights, biases, activation):
    f, f_prime = ACTIVATIONS[activation]
    N, L = len(X), len(weights)
    zs, activations = [], [X]
    for l in range(L):
        z = activations[-1] @ weights[l] + biases[l]
        zs.append(z)
        activations.append(f(z) if l < L - 1 else z)
    onehot = np.zeros_like(activations[-1])
    onehot[np.arange(N), y] = 1.0
    delta = (softmax(activations[-1]) - onehot) / N
    grads = [None] * L
    for l in range(L - 1, -1, -1):
        grads[l] = activations[l].T @ delta
        if l > 0:
            delta = f_prime(zs[l - 1]) * (delta @ weights[l].T)
    return np.array([np.sqrt(np.sum(g ** 2)) for g in grads])
""",
    ),
    Alternative(
        cell="clip_grad_norm",
        description="one concatenated vector; rescales only above the threshold",
        source="""
def clip_grad_norm(grads, max_norm):
    total_norm = float(np.linalg.norm(np.concatenate([np.ravel(g) for g in grads])))
    if total_norm > max_norm:
        return [g * (max_norm / (total_norm + 1e-6)) for g in grads], total_norm
    return [np.array(g, dtype=float) for g in grads], total_norm
""",
    ),
    Alternative(
        cell="dead_unit_fraction",
        description="counts the units active on some sample; leaky ReLU as max(z, a·z)",
        source="""
def dead_unit_fraction(X, weights, biases, negative_slope=0.0):
    result = []
    a = X
    for l in range(len(weights) - 1):
        z = a.dot(weights[l]) + biases[l]
        alive = (z > 0).any(axis=0)
        result.append(1.0 - alive.sum() / z.shape[1])
        a = np.maximum(z, negative_slope * z)
    return np.array(result, dtype=float)
""",
    ),
    Alternative(
        cell="batchnorm_forward",
        description="the variance written out, eval mode first, .get for the keys",
        source="""
def batchnorm_forward(x, gamma, beta, bn_param):
    eps = bn_param.get("eps", 1e-5)
    if bn_param["mode"] == "eval":
        mean, var = bn_param.get("running_mean"), bn_param.get("running_var")
    else:
        N = len(x)
        if N < 2:
            raise ValueError("Expected more than 1 value per feature when training")
        mean = np.sum(x, axis=0) / N
        var = np.sum((x - mean) ** 2, axis=0) / N
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    out = x_hat * gamma + beta
    return out, (x_hat, gamma, std, bn_param["mode"])
""",
    ),
    Alternative(
        cell="batchnorm_backward",
        description="the staged CS231n derivation through dσ² and dμ",
        source="""
def batchnorm_backward(dout, cache):
    x_hat, gamma, std, mode = cache
    N = dout.shape[0]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    if mode != "train":
        return dx_hat / std, dgamma, dbeta
    x_mu = x_hat * std
    dvar = np.sum(dx_hat * x_mu, axis=0) * -0.5 * std ** -3
    dmu = np.sum(-dx_hat / std, axis=0) + dvar * np.mean(-2.0 * x_mu, axis=0)
    dx = dx_hat / std + dvar * 2.0 * x_mu / N + dmu / N
    return dx, dgamma, dbeta
""",
    ),
    Alternative(
        cell="update_running_stats",
        description="an early return in evaluation mode and a dict literal",
        source="""
def update_running_stats(bn_param, x):
    if bn_param["mode"] != "train":
        return dict(bn_param)
    N, D = x.shape
    if N <= 1:
        raise ValueError("need more than one sample per feature")
    momentum = bn_param.get("momentum", 0.1)
    mean = x.mean(axis=0)
    unbiased = ((x - mean) ** 2).sum(axis=0) / (N - 1)
    old_mean = bn_param.get("running_mean", np.zeros(D))
    old_var = bn_param.get("running_var", np.ones(D))
    return {**bn_param, "running_mean": old_mean + momentum * (mean - old_mean),
            "running_var": old_var + momentum * (unbiased - old_var)}
""",
    ),
    Alternative(
        cell="shift_images",
        description="pad with zeros, then crop",
        source="""
def shift_images(X, dy, dx):
    H, W = X.shape[-2:]
    py, px = min(abs(dy), H), min(abs(dx), W)
    padding = [(0, 0)] * (X.ndim - 2) + [(py, py), (px, px)]
    padded = np.pad(X, padding)
    top, left = py - max(-py, min(dy, py)), px - max(-px, min(dx, px))
    return padded[..., top:top + H, left:left + W].copy()
""",
    ),
    Alternative(
        cell="conv_output_size",
        description="floor of a true division; the check as an assert-like test on the result",
        source="""
import math

def conv_output_size(size, kernel_size, stride=1, padding=0):
    padded = size + 2 * padding
    if padded - kernel_size < 0:
        raise ValueError(f"kernel {kernel_size} does not fit in {padded} pixels")
    return int(math.floor((padded - kernel_size) / stride)) + 1
""",
    ),
    Alternative(
        cell="conv2d_forward",
        description="deck 001's scan written out: one loop per sample, filter and position",
        source="""
def conv2d_forward(x, w, b, conv_param):
    s, p = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F_, _, HH, WW = w.shape
    H_out = conv_output_size(H, HH, s, p)
    W_out = conv_output_size(W, WW, s, p)
    xp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    xp[:, :, p:p + H, p:p + W] = x
    out = np.empty((N, F_, H_out, W_out))
    for n in range(N):
        for f in range(F_):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, f, i, j] = np.sum(xp[n, :, i * s:i * s + HH, j * s:j * s + WW] * w[f]) + b[f]
    return out, (x, w, b, conv_param)
""",
    ),
    Alternative(
        cell="conv2d_backward",
        description="loops over the filter offsets (k, l) with strided slices and einsum",
        source="""
def conv2d_backward(dout, cache):
    x, w, b, conv_param = cache
    s, p = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F_, _, HH, WW = w.shape
    H_out, W_out = dout.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp = np.zeros_like(xp, dtype=float)
    dw = np.zeros(w.shape)
    for k in range(HH):
        for l in range(WW):
            patch = xp[:, :, k:k + s * (H_out - 1) + 1:s, l:l + s * (W_out - 1) + 1:s]
            dw[:, :, k, l] = np.einsum("nfij,ncij->fc", dout, patch)
            dxp[:, :, k:k + s * (H_out - 1) + 1:s, l:l + s * (W_out - 1) + 1:s] += np.einsum("nfij,fc->ncij", dout, w[:, :, k, l])
    return dxp[:, :, p:p + H, p:p + W], dw, dout.sum(axis=(0, 2, 3))
""",
    ),
    Alternative(
        cell="maxpool_forward",
        description="the output size from conv_output_size and np.max over each window, per sample and channel",
        source="""
def maxpool_forward(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = conv_output_size(H, ph, s), conv_output_size(W, pw, s)
    out = np.empty((N, C, H_out, W_out))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = np.max(x[n, c, i * s:i * s + ph, j * s:j * s + pw])
    return out, (x, pool_param)
""",
    ),
    Alternative(
        cell="maxpool_backward",
        description="vectorised: windows by reshaping, argmax on the last axis, np.add.at",
        source="""
def maxpool_backward(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    windows = np.empty((N, C, H_out, W_out, ph * pw))
    for i in range(H_out):
        for j in range(W_out):
            windows[:, :, i, j] = x[:, :, i * s:i * s + ph, j * s:j * s + pw].reshape(N, C, -1)
    first = windows.argmax(axis=-1)
    n, c, i, j = np.indices(dout.shape)
    dx = np.zeros(x.shape)
    np.add.at(dx, (n, c, i * s + first // pw, j * s + first % pw), dout)
    return dx
""",
    ),
    Alternative(
        cell="conv_vs_dense_parameters",
        description="the output size written inline, the dense count as inputs × outputs + outputs",
        source="""
def conv_vs_dense_parameters(in_shape, out_channels, kernel_size, stride=1, padding=0):
    channels, height, width = in_shape
    positions = ((height + 2 * padding - kernel_size) // stride + 1) * ((width + 2 * padding - kernel_size) // stride + 1)
    n_inputs, n_outputs = channels * height * width, out_channels * positions
    return (channels * kernel_size ** 2 + 1) * out_channels, n_inputs * n_outputs + n_outputs
""",
    ),
    Alternative(
        cell="SmallCNN",
        description="named layers registered classifier first, torch.nn.functional pooling",
        source="""
class SmallCNN(nn.Module):
    def __init__(self, num_classes=10, channels=(8, 16, 32)):
        super().__init__()
        c1, c2, c3 = channels
        self.fc = nn.Linear(c3, num_classes)
        self.conv3 = nn.Conv2d(c2, c3, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)

    def forward(self, x):
        x = x.view(x.shape[0], 1, x.shape[-2], x.shape[-1])
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.conv3(x))
        return self.fc(x.flatten(2).max(dim=2).values)
""",
    ),
    Alternative(
        cell="SmallCNN",
        description="one nn.Sequential with nn.AdaptiveMaxPool2d(1) and nn.Flatten",
        source="""
class SmallCNN(nn.Module):
    def __init__(self, num_classes=10, channels=(8, 16, 32)):
        super().__init__()
        c1, c2, c3 = channels
        self.net = nn.Sequential(
            nn.Conv2d(1, c1, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(c1, c2, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(c2, c3, 3, 1, 1), nn.ReLU(),
            nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(c3, num_classes))

    def forward(self, x):
        if x.ndim == 3:
            x = x[:, None]
        return self.net(x)
""",
    ),
]
