"""Self-test catalogue of assignment 04_backpropagation: wrong answers and alternative right ones.

Each ``Mutant`` replaces one solution cell of ``source/04_backpropagation/04_backpropagation.ipynb`` and
must lose the points of that function's test cell only; each ``Alternative`` is a different correct
solution and must keep full marks. The notebook's given code (``AddGate``, ``sigmoid`` from
``nnkit.numerics``, ``sigmoid_forward``, ``relu_forward``) is available to every cell.
"""

from nngrade.selftest import Alternative, Mutant


def _variant(source: str, old: str, new: str) -> str:
    """``source`` with one fragment replaced (the fragment must be there: a typo must not pass silently)."""
    if source.count(old) != 1:
        raise ValueError(f"fragment not found exactly once: {old!r}")
    return source.replace(old, new)


# The source solutions the one-line variants below start from.
MULTIPLY_GATE = """
class MultiplyGate:
    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dz):
        return self.y * dz, self.x * dz
"""

NUMERICAL_GRADIENT = """
def numerical_gradient(f, x, h=1e-5):
    point = np.array(x, dtype=float)
    grad = np.zeros_like(point)
    for index in np.ndindex(point.shape):
        original = point[index]
        point[index] = original + h
        f_plus = f(point)
        point[index] = original - h
        f_minus = f(point)
        point[index] = original
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad
"""

RELATIVE_ERROR = """
def relative_error(analytic, numerical):
    analytic, numerical = np.asarray(analytic, dtype=float), np.asarray(numerical, dtype=float)
    if analytic.size == 0:
        return 0.0
    scale = np.maximum(np.abs(analytic) + np.abs(numerical), 1e-8)
    return float(np.max(np.abs(analytic - numerical) / scale))
"""

NEURON_STEP = """
def sigmoid_neuron_step(X, y, w, b, lr):
    y_hat = sigmoid(X @ w + b)
    dv = (y_hat - y) * (y_hat - y_hat ** 2)
    dw, db = X.T @ dv, dv.sum()
    return y_hat, dw, db, w - lr * dw, b - lr * db
"""

AFFINE_FORWARD = """
def affine_forward(x, w, b):
    return x @ w + b, (x, w, b)
"""

AFFINE_BACKWARD = """
def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout @ w.T
    dw = x.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db
"""

SIGMOID_BACKWARD = """
def sigmoid_backward(dout, cache):
    out = cache
    return dout * (out - out * out)
"""

RELU_FORWARD = """
def relu_forward(x):
    x = np.asarray(x, dtype=float)
    return np.maximum(x, 0.0), x
"""

RELU_BACKWARD = RELU_FORWARD + """
def relu_backward(dout, cache):
    x = cache
    return dout * (x > 0)
"""

TWO_LAYER_NET = """
def two_layer_net(X, Y, w1, b1, w2, b2):
    v1, affine1_cache = affine_forward(X, w1, b1)
    a1, sigmoid1_cache = sigmoid_forward(v1)
    v2, affine2_cache = affine_forward(a1, w2, b2)
    a2, sigmoid2_cache = sigmoid_forward(v2)
    error = a2 - Y
    loss = 0.5 * np.sum(error ** 2)
    dv2 = sigmoid_backward(error, sigmoid2_cache)
    da1, dw2, db2 = affine_backward(dv2, affine2_cache)
    dv1 = sigmoid_backward(da1, sigmoid1_cache)
    _, dw1, db1 = affine_backward(dv1, affine1_cache)
    return loss, {"w1": dw1, "b1": db1, "w2": dw2, "b2": db2}
"""

MSE_GRADS = """
def two_layer_sigmoid_mse_grads(X, D, V, W, *, form="lecture000"):
    n_samples, n_outputs = D.shape
    factor = 1.0 / n_outputs if form == "lecture000" else 1.0
    Y = sigmoid(X @ V)
    O = sigmoid(Y @ W)
    E = factor * 0.5 * np.sum((O - D) ** 2) / n_samples
    output_error = factor * (O - D) * O * (1 - O)
    dE_dW = Y.T @ output_error / n_samples
    dE_dY = output_error @ W.T
    dE_dV = X.T @ (dE_dY * Y * (1 - Y)) / n_samples
    return E, dE_dV, dE_dW
"""

BACKPROP = """
def backprop(X, Y, weights, biases):
    activations = [X]
    for W, b in zip(weights, biases):
        activations.append(sigmoid(activations[-1] @ W + b))
    output = activations[-1]
    loss = 0.5 * np.sum((output - Y) ** 2)
    delta = (output - Y) * output * (1 - output)
    dweights, dbiases = [None] * len(weights), [None] * len(biases)
    for layer in reversed(range(len(weights))):
        dweights[layer] = activations[layer].T @ delta
        dbiases[layer] = delta.sum(axis=0)
        if layer > 0:
            a = activations[layer]
            delta = (delta @ weights[layer].T) * a * (1 - a)
    return loss, dweights, dbiases
"""

MUTANTS = [
    # --- numerical_gradient --------------------------------------------------------------------------
    Mutant(cell="numerical_gradient", description="forward difference (f(x + h) - f(x)) / h",
           source=_variant(_variant(NUMERICAL_GRADIENT, "point[index] = original - h\n", ""),
                           "(f_plus - f_minus) / (2 * h)", "(f_plus - f_minus) / h")),
    Mutant(cell="numerical_gradient", description="centred difference divided by h instead of 2h",
           source=_variant(NUMERICAL_GRADIENT, "(f_plus - f_minus) / (2 * h)", "(f_plus - f_minus) / h")),
    Mutant(cell="numerical_gradient", description="perturbs the caller's x in place and never restores it",
           source=_variant(_variant(NUMERICAL_GRADIENT, "point = np.array(x, dtype=float)", "point = x"),
                           "        point[index] = original\n", "")),
    Mutant(cell="numerical_gradient", description="ignores h: a fixed step of 1e-5",
           source=_variant(NUMERICAL_GRADIENT, "    point = np.array(x, dtype=float)\n",
                           "    h = 1e-5\n    point = np.array(x, dtype=float)\n")),
    Mutant(cell="numerical_gradient", description="perturbs every entry at once (a directional derivative)",
           source="""
def numerical_gradient(f, x, h=1e-5):
    point = np.array(x, dtype=float)
    slope = (f(point + h) - f(point - h)) / (2 * h)
    return np.full_like(point, slope)
"""),
    Mutant(cell="numerical_gradient", description="an integer x is perturbed in an integer copy (the step is lost)",
           source=_variant(NUMERICAL_GRADIENT, "point = np.array(x, dtype=float)", "point = np.array(x)")),
    # --- relative_error ------------------------------------------------------------------------------
    Mutant(cell="relative_error", description="no floor: 0/0 gives nan where both gradients are 0",
           source=_variant(RELATIVE_ERROR, "np.maximum(np.abs(analytic) + np.abs(numerical), 1e-8)",
                           "np.abs(analytic) + np.abs(numerical)")),
    Mutant(cell="relative_error", description="the mean of the entrywise errors instead of the largest",
           source=_variant(RELATIVE_ERROR, "np.max(np.abs", "np.mean(np.abs")),
    Mutant(cell="relative_error", description="the absolute error, not divided by the size",
           source=_variant(RELATIVE_ERROR, "np.abs(analytic - numerical) / scale", "np.abs(analytic - numerical)")),
    Mutant(cell="relative_error", description="relative to the numerical gradient only",
           source=_variant(RELATIVE_ERROR, "np.maximum(np.abs(analytic) + np.abs(numerical), 1e-8)",
                           "np.maximum(np.abs(numerical), 1e-8)")),
    Mutant(cell="relative_error", description="norms instead of entries: |a - n| / (|a| + |n|) as whole vectors",
           source=_variant(RELATIVE_ERROR, "    scale = np.maximum(np.abs(analytic) + np.abs(numerical), 1e-8)\n    return float(np.max(np.abs(analytic - numerical) / scale))",
                           "    scale = max(np.linalg.norm(analytic) + np.linalg.norm(numerical), 1e-8)\n    return float(np.linalg.norm(analytic - numerical) / scale)")),
    # --- MultiplyGate ---------------------------------------------------------------------------------
    Mutant(
        cell="MultiplyGate",
        description="swaps the local gradients: dx = x · dz, dy = y · dz",
        source=_variant(MULTIPLY_GATE, "return self.y * dz, self.x * dz", "return self.x * dz, self.y * dz"),
    ),
    Mutant(
        cell="MultiplyGate",
        description="returns the local gradients only, forgetting the upstream gradient",
        source=_variant(MULTIPLY_GATE, "return self.y * dz, self.x * dz", "return self.y, self.x"),
    ),
    Mutant(
        cell="MultiplyGate",
        description="copy-paste slip: dy = y · dz as well",
        source=_variant(MULTIPLY_GATE, "return self.y * dz, self.x * dz", "return self.y * dz, self.y * dz"),
    ),
    Mutant(
        cell="MultiplyGate",
        description="keeps only the inputs of the first forward call",
        source=_variant(MULTIPLY_GATE, "        self.x, self.y = x, y\n",
                        "        if not hasattr(self, 'x'):\n            self.x, self.y = x, y\n"),
    ),
    # --- sigmoid_neuron_step --------------------------------------------------------------------------
    Mutant(
        cell="sigmoid_neuron_step",
        description="forgets the sigmoid's local gradient: ∂L/∂v = ŷ − y (the cross-entropy gradient)",
        source=_variant(NEURON_STEP, "dv = (y_hat - y) * (y_hat - y_hat ** 2)", "dv = y_hat - y"),
    ),
    Mutant(
        cell="sigmoid_neuron_step",
        description="deck 002's XOR sign y − ŷ, still subtracted in the update (gradient ascent)",
        source=_variant(NEURON_STEP, "dv = (y_hat - y) *", "dv = (y - y_hat) *"),
    ),
    Mutant(
        cell="sigmoid_neuron_step",
        description="averages the gradients over the samples instead of summing them",
        source=_variant(NEURON_STEP, "dw, db = X.T @ dv, dv.sum()", "dw, db = X.T @ dv / len(y), dv.mean()"),
    ),
    Mutant(
        cell="sigmoid_neuron_step",
        description="applies the derivative formula to the output: σ'(ŷ) instead of σ'(v)",
        source=_variant(NEURON_STEP, "(y_hat - y_hat ** 2)", "(sigmoid(y_hat) - sigmoid(y_hat) ** 2)"),
    ),
    Mutant(
        cell="sigmoid_neuron_step",
        description="updates the weights in place (w -= lr * dw), changing the caller's array",
        source=_variant(NEURON_STEP, "    return y_hat, dw, db, w - lr * dw, b - lr * db",
                        "    w -= lr * dw\n    return y_hat, dw, db, w, b - lr * db"),
    ),
    # --- affine_forward -------------------------------------------------------------------------------
    Mutant(
        cell="affine_forward",
        description="forgets the bias",
        source=_variant(AFFINE_FORWARD, "x @ w + b,", "x @ w,"),
    ),
    Mutant(
        cell="affine_forward",
        description="transposed weights: x @ w.T (deck 000 stores W as (outputs, inputs))",
        source=_variant(AFFINE_FORWARD, "x @ w + b,", "x @ w.T + b,"),
    ),
    Mutant(
        cell="affine_forward",
        description="caches the output instead of the input",
        source=_variant(AFFINE_FORWARD, "return x @ w + b, (x, w, b)", "out = x @ w + b\n    return out, (out, w, b)"),
    ),
    # --- affine_backward ------------------------------------------------------------------------------
    Mutant(
        cell="affine_backward",
        description="transposed weight gradient: dw = doutᵀ x",
        source=_variant(AFFINE_BACKWARD, "dw = x.T @ dout", "dw = dout.T @ x"),
    ),
    Mutant(
        cell="affine_backward",
        description="averages the bias gradient over the samples",
        source=_variant(AFFINE_BACKWARD, "db = dout.sum(axis=0)", "db = dout.mean(axis=0)"),
    ),
    Mutant(
        cell="affine_backward",
        description="sums the bias gradient over the wrong axis",
        source=_variant(AFFINE_BACKWARD, "db = dout.sum(axis=0)", "db = dout.sum(axis=1)"),
    ),
    Mutant(
        cell="affine_backward",
        description="forgets the transpose in dx: dout @ w",
        source=_variant(AFFINE_BACKWARD, "dx = dout @ w.T", "dx = dout @ w"),
    ),
    # --- sigmoid_backward -----------------------------------------------------------------------------
    Mutant(
        cell="sigmoid_backward",
        description="treats the cache as the input x: σ(cache)(1 − σ(cache))",
        source=_variant(SIGMOID_BACKWARD, "return dout * (out - out * out)",
                        "return dout * sigmoid(out) * (1 - sigmoid(out))"),
    ),
    Mutant(
        cell="sigmoid_backward",
        description="returns the local gradient only, forgetting dout",
        source=_variant(SIGMOID_BACKWARD, "return dout * (out - out * out)", "return out - out * out"),
    ),
    Mutant(
        cell="sigmoid_backward",
        description="uses tanh's derivative 1 − out²",
        source=_variant(SIGMOID_BACKWARD, "return dout * (out - out * out)", "return dout * (1 - out * out)"),
    ),
    # --- relu_backward --------------------------------------------------------------------------------
    Mutant(
        cell="relu_backward",
        description="lets the gradient through at x = 0 (ReLU'(0) = 1)",
        source=_variant(RELU_BACKWARD, "return dout * (x > 0)", "return dout * (x >= 0)"),
    ),
    Mutant(
        cell="relu_backward",
        description="applies the ReLU to the upstream gradient instead of masking it by x",
        source=_variant(RELU_BACKWARD, "return dout * (x > 0)", "return np.maximum(dout, 0)"),
    ),
    Mutant(
        cell="relu_backward",
        description="multiplies by the layer's output max(x, 0) instead of the derivative",
        source=_variant(RELU_BACKWARD, "return dout * (x > 0)", "return dout * np.maximum(x, 0)"),
    ),
    Mutant(
        cell="relu_backward",
        description="returns the mask only, forgetting dout",
        source=_variant(RELU_BACKWARD, "return dout * (x > 0)", "return (x > 0).astype(float)"),
    ),
    Mutant(
        cell="relu_backward",
        description="relu_forward caches its output instead of its input",
        source=_variant(RELU_BACKWARD, "return np.maximum(x, 0.0), x", "return np.maximum(x, 0.0), np.maximum(x, 0.0)"),
    ),
    Mutant(
        cell="relu_backward",
        description="relu_forward keeps the negative inputs: abs(x)",
        source=_variant(RELU_BACKWARD, "return np.maximum(x, 0.0), x", "return np.abs(x), x"),
    ),
    # --- two_layer_net --------------------------------------------------------------------------------
    Mutant(
        cell="two_layer_net",
        description="backpropagates deck 002's err = Y − a2 (the negative gradient)",
        source=_variant(TWO_LAYER_NET, "dv2 = sigmoid_backward(error, sigmoid2_cache)",
                        "dv2 = sigmoid_backward(-error, sigmoid2_cache)"),
    ),
    Mutant(
        cell="two_layer_net",
        description="skips the output sigmoid in the backward pass",
        source=_variant(TWO_LAYER_NET, "dv2 = sigmoid_backward(error, sigmoid2_cache)", "dv2 = error"),
    ),
    Mutant(
        cell="two_layer_net",
        description="passes the first layer's cache to the second affine backward",
        source=_variant(TWO_LAYER_NET, "da1, dw2, db2 = affine_backward(dv2, affine2_cache)",
                        "da1, dw2, db2 = affine_backward(dv2, affine1_cache)"),
    ),
    Mutant(
        cell="two_layer_net",
        description="uses the output layer's sigmoid cache for the hidden layer",
        source=_variant(TWO_LAYER_NET, "dv1 = sigmoid_backward(da1, sigmoid1_cache)",
                        "dv1 = sigmoid_backward(da1, sigmoid2_cache)"),
    ),
    Mutant(
        cell="two_layer_net",
        description="reports the mean squared error as the loss (deck 002's print) instead of ½ Σ",
        source=_variant(TWO_LAYER_NET, "loss = 0.5 * np.sum(error ** 2)", "loss = np.mean(error ** 2)"),
    ),
    # --- two_layer_sigmoid_mse_grads ------------------------------------------------------------------
    Mutant(
        cell="two_layer_sigmoid_mse_grads",
        description="forgets deck 000's 1/K",
        source=_variant(MSE_GRADS, 'factor = 1.0 / n_outputs if form == "lecture000" else 1.0', "factor = 1.0"),
    ),
    Mutant(
        cell="two_layer_sigmoid_mse_grads",
        description="always uses 1/K, ignoring form='lecture003'",
        source=_variant(MSE_GRADS, 'factor = 1.0 / n_outputs if form == "lecture000" else 1.0',
                        "factor = 1.0 / n_outputs"),
    ),
    Mutant(
        cell="two_layer_sigmoid_mse_grads",
        description="sums over the samples instead of averaging the gradients",
        source=_variant(_variant(MSE_GRADS, "dE_dW = Y.T @ output_error / n_samples", "dE_dW = Y.T @ output_error"),
                        "dE_dV = X.T @ (dE_dY * Y * (1 - Y)) / n_samples", "dE_dV = X.T @ (dE_dY * Y * (1 - Y))"),
    ),
    Mutant(
        cell="two_layer_sigmoid_mse_grads",
        description="forgets the hidden units' f'(net_j) = y_j(1 − y_j)",
        source=_variant(MSE_GRADS, "dE_dV = X.T @ (dE_dY * Y * (1 - Y)) / n_samples", "dE_dV = X.T @ dE_dY / n_samples"),
    ),
    Mutant(
        cell="two_layer_sigmoid_mse_grads",
        description="uses the desired output minus the output, d − o (gradient ascent)",
        source=_variant(MSE_GRADS, "output_error = factor * (O - D) * O * (1 - O)",
                        "output_error = factor * (D - O) * O * (1 - O)"),
    ),
    # --- backprop -------------------------------------------------------------------------------------
    Mutant(
        cell="backprop",
        description="forgets f'(z^[l-1]) in the recursion",
        source=_variant(BACKPROP, "delta = (delta @ weights[layer].T) * a * (1 - a)", "delta = delta @ weights[layer].T"),
    ),
    Mutant(
        cell="backprop",
        description="treats the output layer as linear: δ^[L] = a^[L] − y",
        source=_variant(BACKPROP, "delta = (output - Y) * output * (1 - output)", "delta = output - Y"),
    ),
    Mutant(
        cell="backprop",
        description="off-by-one: the loop stops before the first layer, whose gradients stay zero",
        source=_variant(_variant(BACKPROP, "for layer in reversed(range(len(weights))):",
                                 "for layer in reversed(range(1, len(weights))):"),
                        "dweights, dbiases = [None] * len(weights), [None] * len(biases)",
                        "dweights, dbiases = [np.zeros_like(W) for W in weights], [np.zeros_like(b) for b in biases]"),
    ),
    Mutant(
        cell="backprop",
        description="off-by-one layer index in the recursion: δ^[l] W^[l-1]ᵀ",
        source=_variant(BACKPROP, "delta = (delta @ weights[layer].T) * a * (1 - a)",
                        "delta = (delta @ weights[layer - 1].T) * a * (1 - a)"),
    ),
    Mutant(
        cell="backprop",
        description="averages the bias gradients over the samples",
        source=_variant(BACKPROP, "dbiases[layer] = delta.sum(axis=0)", "dbiases[layer] = delta.mean(axis=0)"),
    ),
]

ALTERNATIVES = [
    Alternative(cell="numerical_gradient", description="flat view of a float copy, the sum of two evaluations",
                source="""
def numerical_gradient(f, x, h=1e-5):
    point = np.asarray(x, dtype=np.float64).copy()
    flat = point.reshape(-1)
    grad = np.empty(flat.size)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + h
        upper = float(f(point))
        flat[i] = saved - h
        lower = float(f(point))
        flat[i] = saved
        grad[i] = (upper - lower) / (2.0 * h)
    return grad.reshape(point.shape)
"""),
    Alternative(cell="relative_error", description="a loop over the flattened entries",
                source="""
def relative_error(analytic, numerical):
    worst = 0.0
    for a, n in zip(np.ravel(analytic), np.ravel(numerical)):
        worst = max(worst, abs(a - n) / max(abs(a) + abs(n), 1e-8))
    return float(worst)
"""),
    Alternative(
        cell="MultiplyGate",
        description="keeps a cache tuple and uses np.multiply",
        source="""
class MultiplyGate:
    def forward(self, x, y):
        self.cache = (x, y)
        return np.multiply(x, y)

    def backward(self, dz):
        x, y = self.cache
        return np.multiply(dz, y), np.multiply(dz, x)
""",
    ),
    Alternative(
        cell="sigmoid_neuron_step",
        description="one sample at a time, as on the slides, summing the per-sample gradients",
        source="""
def sigmoid_neuron_step(X, y, w, b, lr):
    y_hat = np.array([sigmoid(x_i @ w + b) for x_i in X])
    dw, db = np.zeros_like(w, dtype=float), 0.0
    for x_i, y_i, y_hat_i in zip(X, y, y_hat):
        dL_dv = (y_hat_i - y_i) * y_hat_i * (1 - y_hat_i)
        dw = dw + dL_dv * x_i
        db = db + dL_dv
    return y_hat, dw, db, w - lr * dw, b - lr * db
""",
    ),
    Alternative(
        cell="sigmoid_neuron_step",
        description="deck 000's derivative e^(-v) / (1 + e^(-v))² written out",
        source="""
def sigmoid_neuron_step(X, y, w, b, lr):
    v = np.dot(X, w) + b
    y_hat = 1 / (1 + np.exp(-v))
    dv = (y_hat - y) * np.exp(-v) / (1 + np.exp(-v)) ** 2
    dw = np.dot(dv, X)
    db = float(np.sum(dv))
    return y_hat, dw, db, w - lr * dw, b - lr * db
""",
    ),
    Alternative(
        cell="affine_forward",
        description="np.dot with an explicitly broadcast bias",
        source="""
def affine_forward(x, w, b):
    out = np.dot(x, w) + b[np.newaxis, :]
    return out, (x, w, b)
""",
    ),
    Alternative(
        cell="affine_backward",
        description="index-form sums with einsum",
        source="""
def affine_backward(dout, cache):
    x, w, b = cache
    dx = np.einsum("nj,ij->ni", dout, w)
    dw = np.einsum("ni,nj->ij", x, dout)
    db = np.einsum("nj->j", dout)
    return dx, dw, db
""",
    ),
    Alternative(
        cell="affine_backward",
        description="per-sample outer products summed in a loop",
        source="""
def affine_backward(dout, cache):
    x, w, b = cache
    dx = np.zeros_like(x, dtype=float)
    dw = np.zeros_like(w, dtype=float)
    db = np.zeros_like(b, dtype=float)
    for n in range(x.shape[0]):
        dx[n] = w @ dout[n]
        dw += np.outer(x[n], dout[n])
        db += dout[n]
    return dx, dw, db
""",
    ),
    Alternative(
        cell="sigmoid_backward",
        description="σ(1 − σ) written as a product of three factors",
        source="""
def sigmoid_backward(dout, cache):
    return dout * cache * (1.0 - cache)
""",
    ),
    Alternative(
        cell="relu_backward",
        description="np.where on a copy",
        source=RELU_FORWARD + """
def relu_backward(dout, cache):
    return np.where(cache > 0, dout, 0.0)
""",
    ),
    Alternative(
        cell="relu_backward",
        description="zeroes a copy of dout where x <= 0",
        source=RELU_FORWARD + """
def relu_backward(dout, cache):
    dx = np.array(dout, dtype=float)
    dx[cache <= 0] = 0.0
    return dx
""",
    ),
    Alternative(
        cell="two_layer_net",
        description="loops over a list of layers, CS231n style",
        source="""
def two_layer_net(X, Y, w1, b1, w2, b2):
    h, caches = X, []
    for w, b in ((w1, b1), (w2, b2)):
        h, affine_cache = affine_forward(h, w, b)
        h, sigmoid_cache = sigmoid_forward(h)
        caches.append((affine_cache, sigmoid_cache))
    loss = 0.5 * float(np.sum((h - Y) ** 2))
    dh, grads = h - Y, []
    for affine_cache, sigmoid_cache in reversed(caches):
        dh, dw, db = affine_backward(sigmoid_backward(dh, sigmoid_cache), affine_cache)
        grads = [dw, db] + grads
    return loss, dict(zip(["w1", "b1", "w2", "b2"], grads))
""",
    ),
    Alternative(
        cell="two_layer_sigmoid_mse_grads",
        description="deck 003's sample-wise loop with ε_m and ε_h, averaged at the end",
        source="""
def two_layer_sigmoid_mse_grads(X, D, V, W, *, form="lecture000"):
    n_samples, n_outputs = D.shape
    scale = 1.0 / n_outputs if form == "lecture000" else 1.0
    E, dE_dV, dE_dW = 0.0, np.zeros(V.shape), np.zeros(W.shape)
    for x_n, d_n in zip(X, D):
        alpha = sigmoid(x_n @ V)
        a = sigmoid(alpha @ W)
        eps_m = scale * (a - d_n)
        E += 0.5 * scale * np.sum((a - d_n) ** 2)
        sigma_m = a * (1 - a)
        eps_h = W @ (eps_m * sigma_m)
        dE_dW += np.outer(alpha, eps_m * sigma_m)
        dE_dV += np.outer(x_n, eps_h * alpha * (1 - alpha))
    return E / n_samples, dE_dV / n_samples, dE_dW / n_samples
""",
    ),
    Alternative(
        cell="backprop",
        description="deck 001's 'for each training example' loop, summing per-sample gradients",
        source="""
def backprop(X, Y, weights, biases):
    loss = 0.0
    dweights = [np.zeros(W.shape) for W in weights]
    dbiases = [np.zeros(b.shape) for b in biases]
    for x, y in zip(X, Y):
        a = [x]
        for W, b in zip(weights, biases):
            a.append(sigmoid(a[-1] @ W + b))
        loss += 0.5 * np.sum((a[-1] - y) ** 2)
        delta = (a[-1] - y) * a[-1] * (1 - a[-1])
        for l in range(len(weights) - 1, -1, -1):
            dweights[l] += np.outer(a[l], delta)
            dbiases[l] += delta
            delta = (weights[l] @ delta) * a[l] * (1 - a[l])
    return loss, dweights, dbiases
""",
    ),
    Alternative(
        cell="backprop",
        description="recursive: the gradient of layer l from the error arriving at its output",
        source="""
def backprop(X, Y, weights, biases):
    def backward_from(layer, a_in):
        a_out = sigmoid(a_in @ weights[layer] + biases[layer])
        if layer == len(weights) - 1:
            loss, da_out, grads = 0.5 * np.sum((a_out - Y) ** 2), a_out - Y, []
        else:
            loss, da_out, grads = backward_from(layer + 1, a_out)
        delta = da_out * a_out * (1 - a_out)
        return loss, delta @ weights[layer].T, [(a_in.T @ delta, delta.sum(axis=0))] + grads

    loss, _, grads = backward_from(0, X)
    return loss, [dW for dW, _ in grads], [db for _, db in grads]
""",
    ),
]
