"""Realistic wrong answers and alternative right answers for hw2_mnist_mlp.

Each source replaces a whole solution cell of the notebook (identified by its grade_id). The hidden tests
run every function with the reference for the other graded functions, so a mistake costs points in its
own test cell. The long training runs first check every Part A function (``ready_for_training``) and the
PyTorch class (``check_hello_mlp_extended``) and stop at once when one disagrees with PyTorch: a mutant of
Part A therefore also loses the three numpy accuracy gates, a mutant of ``HelloMLPExtended`` the two
PyTorch accuracy gates, and no mutant costs minutes of training.

Not expressible here: a notebook that trains on, or tunes on, the test set. The grading sandbox does not
mount the test files (loading them fails there, and with it the training cell and its gates), but the
self-test grades without the sandbox, where such a notebook would simply score well.
"""

from nngrade.selftest import Alternative, Mutant

NUMPY_GATES = ("test_numpy_accuracy_95", "test_numpy_accuracy_97", "test_numpy_accuracy_98")
TORCH_GATES = ("test_torch_accuracy_97", "test_torch_accuracy_98")


def part_a(cell, description, source):
    """A Part A mutant: its own test and, since the final training refuses to start, the numpy gates."""
    return Mutant(cell=cell, description=description, source=source, fails=(f"test_{cell}", *NUMPY_GATES))


def part_b(cell, description, source):
    return Mutant(cell=cell, description=description, source=source, fails=(f"test_{cell}", *TORCH_GATES))


AFFINE_BACKWARD = '''

def affine_backward(dout, cache):
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    return dx, dw, dout.sum(axis=0)
'''

AFFINE_FORWARD = '''
def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w)

'''

RELU_FORWARD = '''
def relu_forward(x):
    return np.maximum(x, 0), x

'''

DROPOUT_BACKWARD = '''

def dropout_backward(dout, cache):
    return dout.copy() if cache is None else dout * cache
'''

MUTANTS = [
    # --- affine -------------------------------------------------------------------------------------------
    part_a("affine", "forgets the bias in the forward pass", '''
def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w, (x, w)
''' + AFFINE_BACKWARD),
    part_a("affine", "db sums over the outputs instead of the batch", AFFINE_FORWARD + '''
def affine_backward(dout, cache):
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    return dx, dw, dout.sum(axis=1)
'''),
    part_a("affine", "dw transposed (doutᵀ x)", AFFINE_FORWARD + '''
def affine_backward(dout, cache):
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = dout.T @ x.reshape(x.shape[0], -1)
    return dx, dw, dout.sum(axis=0)
'''),
    part_a("affine", "dx left flat (N, D) instead of the shape of x", AFFINE_FORWARD + '''
def affine_backward(dout, cache):
    x, w = cache
    dx = dout @ w.T
    dw = x.reshape(x.shape[0], -1).T @ dout
    return dx, dw, dout.sum(axis=0)
'''),
    # --- relu ---------------------------------------------------------------------------------------------
    part_a("relu", "lets the gradient through at x = 0 (x >= 0)", RELU_FORWARD + '''
def relu_backward(dout, cache):
    return dout * (cache >= 0)
'''),
    part_a("relu", "applies the ReLU to the upstream gradient", RELU_FORWARD + '''
def relu_backward(dout, cache):
    return np.maximum(dout, 0)
'''),
    part_a("relu", "zeroes the negative inputs in place", '''
def relu_forward(x):
    x[x < 0] = 0
    return x, x


def relu_backward(dout, cache):
    return dout * (cache > 0)
'''),
    # --- dropout ------------------------------------------------------------------------------------------
    part_a("dropout", "p used as the probability to keep a unit (the lecture's convention)", '''
def dropout_forward(x, p, *, train=True, rng=None):
    if not train or p == 0:
        return x.copy(), None
    scaled_mask = (rng.random(x.shape) < p) / (1 - p)
    return x * scaled_mask, scaled_mask
''' + DROPOUT_BACKWARD),
    part_a("dropout", "draws a mask even when p = 0 (nothing to drop, but the generator moves on)", '''
def dropout_forward(x, p, *, train=True, rng=None):
    if not train:
        return x.copy(), None
    scaled_mask = (rng.random(x.shape) >= p).astype(x.dtype) / x.dtype.type(1 - p)
    return x * scaled_mask, scaled_mask
''' + DROPOUT_BACKWARD),
    part_a("dropout", "no 1/(1 - p) scaling of the kept units", '''
def dropout_forward(x, p, *, train=True, rng=None):
    if not train or p == 0:
        return x.copy(), None
    mask = (rng.random(x.shape) >= p).astype(x.dtype)
    return x * mask, mask
''' + DROPOUT_BACKWARD),
    part_a("dropout", "the mask comes from np.random instead of rng", '''
def dropout_forward(x, p, *, train=True, rng=None):
    if not train or p == 0:
        return x.copy(), None
    scaled_mask = (np.random.rand(*x.shape) >= p) / (1 - p)
    return x * scaled_mask, scaled_mask
''' + DROPOUT_BACKWARD),
    part_a("dropout", "classic dropout: no scaling in training, x·(1 - p) in evaluation", '''
def dropout_forward(x, p, *, train=True, rng=None):
    if not train:
        return x * (1 - p), None
    mask = (rng.random(x.shape) >= p).astype(x.dtype)
    return x * mask, mask
''' + DROPOUT_BACKWARD),
    part_a("dropout", "backward ignores the mask", '''
def dropout_forward(x, p, *, train=True, rng=None):
    if not train or p == 0:
        return x.copy(), None
    scaled_mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * scaled_mask, scaled_mask


def dropout_backward(dout, cache):
    return dout.copy()
'''),
    # --- softmax_loss -------------------------------------------------------------------------------------
    part_a("softmax_loss", "sums over the batch: missing 1/N in loss and gradient", '''
def softmax_loss(scores, y):
    rows = np.arange(scores.shape[0])
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1
    return float(-log_probs[rows, y].sum()), dscores
'''),
    part_a("softmax_loss", "no max subtraction: exp overflows for large scores", '''
def softmax_loss(scores, y):
    n_samples = scores.shape[0]
    rows = np.arange(n_samples)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    loss = -np.log(probs[rows, y]).mean()
    probs[rows, y] -= 1
    return float(loss), probs / n_samples
'''),
    part_a("softmax_loss", "gradient with the wrong sign (onehot − softmax)", '''
def softmax_loss(scores, y):
    n_samples = scores.shape[0]
    rows = np.arange(n_samples)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    dscores = -np.exp(log_probs)
    dscores[rows, y] += 1
    return float(-log_probs[rows, y].mean()), dscores / n_samples
'''),
    part_a("softmax_loss", "shifts the caller's scores in place", '''
def softmax_loss(scores, y):
    n_samples = scores.shape[0]
    rows = np.arange(n_samples)
    scores -= scores.max(axis=1, keepdims=True)
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1
    return float(-log_probs[rows, y].mean()), dscores / n_samples
'''),
]

MLP_LOSS_TEMPLATE = '''
def mlp_loss(params, X, y=None, *, dropout=0.0, rng=None):
    training = y is not None
    n_layers = len(params) // 2
    h, caches = X, []
    for layer in range(n_layers):
        h, affine_cache = affine_forward(h, params[2 * layer], params[2 * layer + 1])
        relu_cache = dropout_cache = None
        if {relu_condition}:
            h, relu_cache = relu_forward(h)
        if layer < n_layers - 1:
            h, dropout_cache = dropout_forward(h, dropout, train={dropout_train}, rng=rng)
        caches.append((affine_cache, relu_cache, dropout_cache))
    if not training:
        return h
    loss, dout = softmax_loss(h, y)
    grads = [None] * len(params)
    for layer in reversed(range(n_layers)):
        affine_cache, relu_cache, dropout_cache = caches[layer]
        if layer < n_layers - 1:
            dout = {dropout_backward}
        if relu_cache is not None:
            dout = relu_backward(dout, relu_cache)
        dout, grads[2 * layer], grads[2 * layer + 1] = affine_backward(dout, affine_cache)
    return loss, {grads}
'''


def mlp_loss_source(relu_condition="layer < n_layers - 1", dropout_train="training",
                    dropout_backward="dropout_backward(dout, dropout_cache)", grads="grads"):
    return MLP_LOSS_TEMPLATE.format(relu_condition=relu_condition, dropout_train=dropout_train,
                                    dropout_backward=dropout_backward, grads=grads)


MUTANTS += [
    # --- mlp_loss -----------------------------------------------------------------------------------------
    part_a("mlp_loss", "a ReLU after the output layer too", mlp_loss_source(relu_condition="True")),
    part_a("mlp_loss", "dropout also in evaluation mode", mlp_loss_source(dropout_train="True")),
    part_a("mlp_loss", "the mask is not applied in the backward pass", mlp_loss_source(dropout_backward="dout")),
    part_a("mlp_loss", "gradients listed from the last layer to the first",
           mlp_loss_source(grads="[g for layer in reversed(range(n_layers)) for g in grads[2 * layer:2 * layer + 2]]")),
    # --- adam_step ----------------------------------------------------------------------------------------
    part_a("adam_step", "no bias correction", '''
def adam_step(w, dw, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw * dw
    return w - lr * m / (np.sqrt(v) + eps), m, v
'''),
    part_a("adam_step", "eps inside the square root", '''
def adam_step(w, dw, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw * dw
    return w - lr * (m / (1 - beta1**t)) / np.sqrt(v / (1 - beta2**t) + eps), m, v
'''),
    part_a("adam_step", "updates w in place", '''
def adam_step(w, dw, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw * dw
    w -= lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return w, m, v
'''),
    part_a("adam_step", "bias correction with t - 1 (off by one)", '''
def adam_step(w, dw, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw * dw
    with np.errstate(divide="ignore", invalid="ignore"):
        return w - lr * (m / (1 - beta1 ** (t - 1))) / (np.sqrt(v / (1 - beta2 ** (t - 1))) + eps), m, v
'''),
]

TRAIN_MLP_TEMPLATE = '''
import itertools


def train_mlp(params, X, y, *, lr, epochs, batch_size, rng, dropout=0.0, lr_decay=1.0, time_budget_s=None,
              X_val=None, y_val=None):
    started = time.perf_counter()
    params = {copy}
    first_moments = [np.zeros_like(p) for p in params]
    second_moments = [np.zeros_like(p) for p in params]
    history = {{"train_loss": [], "batch_loss": [], "stopped_by_budget": False}}
    if X_val is not None:
        history.update(val_loss=[], val_acc=[])
    step, out_of_time = 0, False
    for epoch in {epochs_loop}:
        epoch_lr = {epoch_lr}
        order = {order}
        loss_sum, seen = 0.0, 0
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            loss, grads = mlp_loss(params, X[batch], y[batch], dropout=dropout, rng=rng)
            {record_batch}
            step += 1
            for i, grad in enumerate(grads):
                params[i], first_moments[i], second_moments[i] = adam_step(
                    params[i], grad, first_moments[i], second_moments[i], {step}, lr=epoch_lr)
            loss_sum += loss * len(batch)
            seen += len(batch)
            if {budget_check}:
                {on_cap} = True
                break
        history["train_loss"].append(loss_sum / seen)
        if X_val is not None:
            scores = mlp_loss(params, X_val)
            history["val_loss"].append(softmax_loss(scores, y_val)[0])
            history["val_acc"].append(float(np.mean(scores.argmax(axis=1) == y_val)))
        if {stop_training}:
            break
    return params, history
'''

BUDGET_CHECK = "time_budget_s is not None and time.perf_counter() - started >= time_budget_s"


def train_mlp_source(copy="[p.copy() for p in params]", epoch_lr="lr * lr_decay**epoch",
                     order="rng.permutation(len(X))", step="step", budget_check=BUDGET_CHECK,
                     epochs_loop="range(epochs)", on_cap='history["stopped_by_budget"]',
                     stop_training='history["stopped_by_budget"]', record_batch='history["batch_loss"].append(loss)'):
    return TRAIN_MLP_TEMPLATE.format(copy=copy, epoch_lr=epoch_lr, order=order, step=step, budget_check=budget_check,
                                     record_batch=record_batch,
                                     epochs_loop=epochs_loop, on_cap=on_cap, stop_training=stop_training)


MUTANTS += [
    # --- train_mlp ----------------------------------------------------------------------------------------
    part_a("train_mlp", "no shuffling: the same order every epoch", train_mlp_source(order="np.arange(len(X))")),
    part_a("train_mlp", "Adam's step counter restarts every epoch",
           train_mlp_source(step="step - epoch * ((len(X) + batch_size - 1) // batch_size)")),
    part_a("train_mlp", "ignores the wall-clock cap", train_mlp_source(budget_check="False")),
    part_a("train_mlp", "stops at the cap without saying so in the history",
           train_mlp_source(on_cap="out_of_time", stop_training="out_of_time")),
    part_a("train_mlp", "the cap ends the current epoch only: training goes on with the next one",
           train_mlp_source(stop_training="False")),
    part_a("train_mlp", "the cap is the length of training: with a cap it trains until the cap, ignoring epochs",
           train_mlp_source(epochs_loop="(range(epochs) if time_budget_s is None else itertools.count())")),
    part_a("train_mlp", "decays the learning rate already in the first epoch",
           train_mlp_source(epoch_lr="lr * lr_decay ** (epoch + 1)")),
    part_a("train_mlp", "trains the caller's parameter list (no copy)", train_mlp_source(copy="params")),
    part_a("train_mlp", "history['batch_loss'] records the running mean of the epoch instead of each batch's loss",
           train_mlp_source(record_batch='history["batch_loss"].append((loss_sum + loss * len(batch)) / (seen + len(batch)))')),
    # --- HelloMLPExtended ---------------------------------------------------------------------------------
    part_b("HelloMLPExtended", "no ReLU: a stack of Linear layers is one linear map", '''
class HelloMLPExtended(nn.Module):
    def __init__(self, input_size=784, hidden_sizes=(64, 64), num_classes=10, dropout=0.0):
        super().__init__()
        layers, fan_in = [], input_size
        for width in hidden_sizes:
            layers.append(nn.Linear(fan_in, width))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            fan_in = width
        self.mlp = nn.Sequential(*layers, nn.Linear(fan_in, num_classes))

    def forward(self, x):
        return self.mlp(x.reshape(x.size(0), -1))
'''),
    part_b("HelloMLPExtended", "ignores hidden_sizes: always the lecture's 64-64", '''
class HelloMLPExtended(nn.Module):
    def __init__(self, input_size=784, hidden_sizes=(64, 64), num_classes=10, dropout=0.0):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(input_size, 64), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(64, 64), nn.ReLU(), nn.Dropout(dropout), nn.Linear(64, num_classes))

    def forward(self, x):
        return self.mlp(x.reshape(x.size(0), -1))
'''),
    part_b("HelloMLPExtended", "keeps the lecture's commented nn.Softmax at the end", '''
class HelloMLPExtended(nn.Module):
    def __init__(self, input_size=784, hidden_sizes=(64, 64), num_classes=10, dropout=0.0):
        super().__init__()
        layers, fan_in = [], input_size
        for width in hidden_sizes:
            layers += [nn.Linear(fan_in, width), nn.ReLU(), nn.Dropout(dropout)]
            fan_in = width
        self.mlp = nn.Sequential(*layers, nn.Linear(fan_in, num_classes), nn.Softmax(dim=1))

    def forward(self, x):
        return self.mlp(x.reshape(x.size(0), -1))
'''),
    part_b("HelloMLPExtended", "forward does not flatten images", '''
class HelloMLPExtended(nn.Module):
    def __init__(self, input_size=784, hidden_sizes=(64, 64), num_classes=10, dropout=0.0):
        super().__init__()
        layers, fan_in = [], input_size
        for width in hidden_sizes:
            layers += [nn.Linear(fan_in, width), nn.ReLU(), nn.Dropout(dropout)]
            fan_in = width
        self.mlp = nn.Sequential(*layers, nn.Linear(fan_in, num_classes))

    def forward(self, x):
        return self.mlp(x)
'''),
]

# Correct and as fast as the solution: training must fit its time budget, so an alternative that is
# 10x slower (einsum without BLAS) or silently float64 (a float64 mask or one-hot matrix) is not "correct" here.
ALTERNATIVES = [
    Alternative(cell="affine", description="np.dot and einsum (optimize=True: BLAS), cache (x, w, b)", source='''
def affine_forward(x, w, b):
    flat = x.reshape(len(x), w.shape[0])
    return np.dot(flat, w) + b, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    flat = x.reshape(len(x), w.shape[0])
    return (np.einsum("nm,dm->nd", dout, w, optimize=True).reshape(x.shape),
            np.einsum("nd,nm->dm", flat, dout, optimize=True), np.sum(dout, axis=0))
'''),
    Alternative(cell="relu", description="multiplication by the mask, the output as cache", source='''
def relu_forward(x):
    out = x * (x > 0)
    return out, out


def relu_backward(dout, cache):
    return np.where(cache > 0, dout, 0.0)
'''),
    Alternative(cell="dropout", description="Bernoulli mask from rng.binomial", source='''
def dropout_forward(x, p, *, train=True, rng=None):
    if train and p > 0:
        keep = rng.binomial(1, 1 - p, size=x.shape).astype(x.dtype)
        return x * keep / (1 - p), keep / (1 - p)
    return np.array(x, copy=True), None


def dropout_backward(dout, cache):
    return np.array(dout, copy=True) if cache is None else dout * cache
'''),
    Alternative(cell="softmax_loss", description="one-hot matrix and log-sum-exp", source='''
def softmax_loss(scores, y):
    n_samples, n_classes = scores.shape
    one_hot = np.eye(n_classes, dtype=scores.dtype)[y]
    row_max = scores.max(axis=1, keepdims=True)
    log_sum_exp = row_max + np.log(np.exp(scores - row_max).sum(axis=1, keepdims=True))
    loss = np.sum(one_hot * (log_sum_exp - scores)) / n_samples
    return float(loss), (np.exp(scores - log_sum_exp) - one_hot) / n_samples
'''),
    Alternative(cell="mlp_loss", description="separate cache lists and a reversed walk", source='''
def mlp_loss(params, X, y=None, *, dropout=0.0, rng=None):
    weights, biases = params[0::2], params[1::2]
    affine_caches, relu_caches, dropout_caches = [], [], []
    h = X
    for W, b in zip(weights[:-1], biases[:-1]):
        h, cache = affine_forward(h, W, b)
        affine_caches.append(cache)
        h, cache = relu_forward(h)
        relu_caches.append(cache)
        h, cache = dropout_forward(h, dropout, train=y is not None, rng=rng)
        dropout_caches.append(cache)
    scores, last_cache = affine_forward(h, weights[-1], biases[-1])
    if y is None:
        return scores
    loss, dscores = softmax_loss(scores, y)
    dh, dW, db = affine_backward(dscores, last_cache)
    grads = [db, dW]
    for affine_cache, relu_cache, dropout_cache in zip(affine_caches[::-1], relu_caches[::-1], dropout_caches[::-1]):
        dh, dW, db = affine_backward(relu_backward(dropout_backward(dh, dropout_cache), relu_cache), affine_cache)
        grads += [db, dW]
    return loss, grads[::-1]
'''),
    Alternative(cell="adam_step", description="bias correction folded into the step size", source='''
def adam_step(w, dw, m, v, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m_new = beta1 * m + (1 - beta1) * dw
    v_new = beta2 * v + (1 - beta2) * np.square(dw)
    root_correction = np.sqrt(1 - beta2**t)
    step_size = lr * root_correction / (1 - beta1**t)
    return w - step_size * m_new / (np.sqrt(v_new) + eps * root_correction), m_new, v_new
'''),
    Alternative(cell="train_mlp", description="rng.shuffle of an index array, batches by slicing", source='''
def train_mlp(params, X, y, *, lr, epochs, batch_size, rng, dropout=0.0, lr_decay=1.0, time_budget_s=None,
              X_val=None, y_val=None):
    deadline = None if time_budget_s is None else time.perf_counter() + time_budget_s
    params = [np.array(p) for p in params]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    history = {"train_loss": [], "batch_loss": [], "val_loss": [], "val_acc": [], "stopped_by_budget": False}
    t = 0
    for epoch in range(epochs):
        indices = np.arange(len(X))
        rng.shuffle(indices)
        batch_losses, batch_sizes = [], []
        for batch in (indices[i:i + batch_size] for i in range(0, len(X), batch_size)):
            loss, grads = mlp_loss(params, X[batch], y[batch], dropout=dropout, rng=rng)
            t += 1
            for i, (grad, (m, v)) in enumerate(zip(grads, moments)):
                params[i], m, v = adam_step(params[i], grad, m, v, t, lr=lr * lr_decay**epoch)
                moments[i] = (m, v)
            batch_losses.append(loss)
            batch_sizes.append(len(batch))
            history["batch_loss"].append(loss)
            if deadline is not None and time.perf_counter() >= deadline:
                history["stopped_by_budget"] = True
                break
        history["train_loss"].append(float(np.average(batch_losses, weights=batch_sizes)))
        if X_val is not None:
            scores = mlp_loss(params, X_val)
            history["val_loss"].append(softmax_loss(scores, y_val)[0])
            history["val_acc"].append(float(np.mean(np.argmax(scores, axis=1) == y_val)))
        if history["stopped_by_budget"]:
            break
    return params, history
'''),
    Alternative(cell="HelloMLPExtended", description="ModuleList with F.relu and F.dropout, dropout before the ReLU",
                source='''
class HelloMLPExtended(nn.Module):
    def __init__(self, input_size=784, hidden_sizes=(64, 64), num_classes=10, dropout=0.0):
        super().__init__()
        sizes = [input_size, *hidden_sizes]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.output = nn.Linear(sizes[-1], num_classes)
        self.dropout = dropout

    def forward(self, x):
        h = torch.flatten(x, start_dim=1)
        for layer in self.hidden:
            h = F.relu(F.dropout(layer(h), self.dropout, training=self.training))
        return self.output(h)
'''),
]
