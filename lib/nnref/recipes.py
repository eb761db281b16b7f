"""Reference training recipes of homework 2 (``hw2_mnist_mlp``): MNIST with a numpy MLP (Part A) and with
lecture 000's ``HelloMLP`` extended in PyTorch (Part B). The notebook's functions reach ≥ 98 % within the
grading budget; ``NUMPY_RECIPE``/``TORCH_RECIPE`` are the longer reference runs of ``make bench`` (≥ 98.5 %).

Part A, numpy (the reference of the notebook's functions of the same names):

* ``mlp_loss(params, X, y=None, *, dropout=0.0, rng=None)``: scores of an affine → ReLU → dropout stack
  (``y=None``, evaluation mode), or its mean softmax cross-entropy and gradients (training mode);
* ``train_mlp(params, X, y, *, lr, epochs, batch_size, rng, ...) -> (params, history)``: shuffled
  mini-batches, Adam with a per-epoch learning-rate decay; the length of training is ``epochs``, and a
  wall-clock cap ``time_budget_s`` (a safety net, checked after every mini-batch) stops it early and
  says so in the history;
* ``init_mlp_params``, ``mlp_accuracy`` (the accuracy of a parameter list, recomputed from the
  parameters: what the hidden tests grade).

Part B, PyTorch: ``HelloMLPExtended`` (any hidden sizes, dropout after every hidden ReLU),
``train_torch_model`` (the lecture's loop with Adam, the same decay and cap) and ``torch_accuracy``.

Grading from exported arrays (the hidden accuracy gates run in the grader, on the test set, which the
notebook never sees): ``export_problem`` validates what a notebook exported, ``mlp_accuracy`` grades
Part A's ``[W_1 (D, H_1), b_1, ...]``, and ``linear_layers_accuracy`` grades Part B's export
``linear_layer_arrays(net)`` = ``[W_1 (H_1, D), b_1, ...]`` (every ``nn.Linear``'s weight and bias in
``net.modules()`` order) with a numpy forward pass, without torch. ``stopped_at_cap`` and
``cap_report`` read and describe a history whose training hit its wall-clock cap.

``NUMPY_RECIPE`` and ``TORCH_RECIPE`` hold the hyper-parameters; ``train_numpy_recipe`` and
``train_torch_recipe`` run them. A history is a dict of per-epoch lists ``train_loss`` (batch-size
weighted mean of the epoch's mini-batch losses), ``val_loss`` and ``val_acc`` (evaluation mode, after
the epoch; only with a validation set), the list ``batch_loss`` of every mini-batch's loss in training
order (the fine-grained learning curve), plus ``stopped_by_budget`` (``True`` when the wall-clock cap
ended training before its epochs were done).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from nnkit.validation import as_float_array, check_labels, check_positive, check_probability, check_same_rows

from .losses import cross_entropy_loss
from .mlp import MLP, init_std
from .optimizers import Adam, adam_step
from .training import check_count, check_rng, iterate_minibatches

__all__ = [
    "Recipe",
    "NUMPY_RECIPE",
    "TORCH_RECIPE",
    "VALIDATION_FRACTION",
    "SPLIT_SEED",
    "init_mlp_params",
    "mlp_loss",
    "mlp_accuracy",
    "train_mlp",
    "train_numpy_recipe",
    "HelloMLPExtended",
    "train_torch_model",
    "torch_accuracy",
    "train_torch_recipe",
    "linear_layer_arrays",
    "linear_layers_to_params",
    "linear_layers_scores",
    "linear_layers_accuracy",
    "export_problem",
    "stopped_at_cap",
    "cap_report",
]

# The validation split of the notebook (``nnkit.mnist.validation_split``): 5000 of the 60000 training images.
VALIDATION_FRACTION = 1 / 12
SPLIT_SEED = 0


@dataclass(frozen=True)
class Recipe:
    """Hyper-parameters of one training run (the keyword arguments of ``train_mlp``/``train_torch_model``).

    ``lr`` is Adam's initial learning rate, multiplied by ``lr_decay`` after every epoch;
    ``dropout`` is the drop probability after every hidden ReLU; ``seed`` seeds the initial weights,
    the shuffling and the dropout masks; training lasts ``epochs`` epochs, unless the wall-clock cap
    ``time_budget_s`` (seconds, ``None``: no cap) stops it first.
    """

    hidden_sizes: tuple
    lr: float
    lr_decay: float
    batch_size: int
    epochs: int
    dropout: float
    seed: int
    time_budget_s: float | None

    def training_kwargs(self) -> dict:
        """The keyword arguments shared by ``train_mlp`` and ``train_torch_model`` (dropout is the model's)."""
        return {"lr": self.lr, "lr_decay": self.lr_decay, "batch_size": self.batch_size, "epochs": self.epochs,
                "time_budget_s": self.time_budget_s}


# The reference runs of ``make bench``: 784-512-256-10, Adam 1e-3 decayed by 0.85 per epoch, batches of 128,
# dropout 0.3, 15 epochs on the 60000 training images: 98.50 % test accuracy with numpy and 98.55 % with
# PyTorch (one thread each). The notebook's solution uses a cheaper setting (Adam 2e-3 decayed by 0.75,
# batches of 256, dropout 0.2, 10 epochs: 98.4 % and 98.3 %) that fits its 5-minute grading budget.
NUMPY_RECIPE = Recipe(hidden_sizes=(512, 256), lr=1e-3, lr_decay=0.85, batch_size=128, epochs=15, dropout=0.3,
                      seed=0, time_budget_s=None)
TORCH_RECIPE = NUMPY_RECIPE


# ----------------------------------------------------------------------------------------------------
# Part A: numpy
# ----------------------------------------------------------------------------------------------------


def init_mlp_params(layer_sizes, *, rng, dtype=np.float32):
    """He-initialised parameters [W_1, b_1, ..., W_L, b_L] of a ReLU MLP with ``layer_sizes`` [D, H_1, ..., C].

    W_l ~ N(0, 2 / fan_in) of shape (H_{l−1}, H_l), b_l = 0 (the initialisation of ``nnref.mlp.MLP``).
    """
    rng = check_rng(rng, allow_none=False)
    sizes = [check_count(size, "layer_sizes[i]") for size in layer_sizes]
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes must list at least the input and output sizes, got {layer_sizes!r}")
    dtype = np.dtype(dtype)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        std = dtype.type(init_std(fan_in, fan_out, "relu"))
        params += [rng.standard_normal((fan_in, fan_out), dtype=dtype) * std, np.zeros(fan_out, dtype=dtype)]
    return params


def _check_params(params):
    """[W_1, b_1, ..., W_L, b_L] with chaining shapes; returns the layer sizes [D, H_1, ..., C]."""
    params = list(params)
    if not params or len(params) % 2:
        raise ValueError(f"params must be [W_1, b_1, ..., W_L, b_L], got {len(params)} arrays")
    sizes = []
    for layer in range(len(params) // 2):
        W = as_float_array(params[2 * layer], f"params[{2 * layer}]", ndim=2)
        b = as_float_array(params[2 * layer + 1], f"params[{2 * layer + 1}]", ndim=1)
        if sizes and W.shape[0] != sizes[-1]:
            raise ValueError(f"params[{2 * layer}] has shape {W.shape} but the previous layer has {sizes[-1]} outputs")
        if b.shape != (W.shape[1],):
            raise ValueError(f"params[{2 * layer + 1}] must have shape ({W.shape[1]},), got {b.shape}")
        sizes = sizes or [W.shape[0]]
        sizes.append(W.shape[1])
    return sizes


def _network(params, dropout):
    """An ``nnref.mlp.MLP`` (ReLU, softmax cross-entropy head) around ``params`` (no copy when they are
    already of one float dtype; the network never writes into them)."""
    _check_params(params)
    dtype = np.result_type(*params)
    dtype = dtype if dtype in (np.float32, np.float64) else np.float64
    return MLP.from_params([np.asarray(p, dtype=dtype) for p in params], activation="relu", head="ce",
                           dropout=dropout)


def mlp_loss(params, X, y=None, *, dropout=0.0, rng=None):
    """The numpy MLP of Part A: (affine → ReLU → dropout) × (L − 1) → affine → softmax cross-entropy.

    params: [W_1 (D, H_1), b_1 (H_1,), ..., W_L (H_{L−1}, C), b_L (C,)]; X: (N, D).
    ``y=None``: evaluation mode, returns the scores (N, C) (no dropout).
    ``y`` (N,) labels: training mode, returns (loss, grads) with the mean cross-entropy
    L = −(1/N) Σ_n log softmax(s_n)_{y_n} and grads = [∂L/∂W_1, ∂L/∂b_1, ...] aligned with params;
    inverted dropout with drop probability ``dropout`` after every hidden ReLU, masks drawn from ``rng``
    layer by layer (``nnref.layers.dropout_forward``).
    """
    net = _network(params, dropout)
    if y is None:
        return net.forward(X)
    return net.loss_and_grads(X, y, rng=rng)


def mlp_accuracy(params, X, y, *, batch_size=10000):
    """Fraction of samples whose largest score (``mlp_loss(params, X)``, evaluation mode) is the label.

    Recomputed from the parameters alone, so a reported accuracy can be checked.
    """
    y = check_labels(y, "y")
    X = as_float_array(X, "X", ndim=2)
    check_same_rows(X, "X", y, "y")
    net = _network(params, 0.0)
    batch_size = check_count(batch_size, "batch_size")
    correct = sum(int(np.count_nonzero(net.predict(X[start:start + batch_size]) == y[start:start + batch_size]))
                  for start in range(0, len(X), batch_size))
    return correct / len(X)


def _check_budget(time_budget_s):
    return None if time_budget_s is None else check_positive(time_budget_s, "time_budget_s")


def _new_history(has_val):
    history = {"train_loss": [], "batch_loss": [], "stopped_by_budget": False}
    return {**history, "val_loss": [], "val_acc": []} if has_val else history


def train_mlp(params, X, y, *, lr, epochs, batch_size, rng, dropout=0.0, lr_decay=1.0, time_budget_s=None,
              X_val=None, y_val=None):
    """Train the MLP of ``mlp_loss`` with shuffled mini-batches and Adam; returns (params, history).

    ``params`` is copied, never modified. Adam (``nnref.optimizers.adam_step``, β₁ = 0.9, β₂ = 0.999,
    ε = 1e-8) keeps m, v per parameter and one step counter t = 1, 2, ... over all mini-batches; epoch e
    (from 0) uses the learning rate lr · lr_decay^e. Each epoch walks ``rng.permutation(N)`` in batches of
    ``batch_size`` (the last one smaller) and computes ``mlp_loss(params, X_b, y_b, dropout=dropout,
    rng=rng)``. Training lasts ``epochs`` epochs. ``time_budget_s`` is a wall-clock cap, a safety net:
    after every mini-batch the clock is read, and once ``time_budget_s`` seconds have passed training
    stops (``history["stopped_by_budget"] = True``) and the partial epoch is recorded.
    ``history["batch_loss"]`` lists the loss of every mini-batch, in training order.
    """
    X = as_float_array(X, "X", ndim=2)
    y = check_labels(y, "y")
    check_same_rows(X, "X", y, "y")
    _check_params(params)
    epochs = check_count(epochs, "epochs")
    batch_size = check_count(batch_size, "batch_size")
    rng = check_rng(rng, allow_none=False)
    dropout = check_probability(dropout, "dropout")
    check_positive(lr, "lr")
    check_positive(lr_decay, "lr_decay")
    time_budget_s = _check_budget(time_budget_s)
    if (X_val is None) != (y_val is None):
        raise ValueError("pass both X_val and y_val, or neither")

    params = [np.array(p) for p in params]
    first_moments = [np.zeros_like(p) for p in params]
    second_moments = [np.zeros_like(p) for p in params]
    step = 0

    def train_batch(epoch, X_batch, y_batch):
        nonlocal step
        loss, grads = mlp_loss(params, X_batch, y_batch, dropout=dropout, rng=rng)
        step += 1
        for i, grad in enumerate(grads):
            params[i], first_moments[i], second_moments[i] = adam_step(
                params[i], grad, first_moments[i], second_moments[i], step, lr=lr * lr_decay**epoch)
        return loss

    history = _run_epochs(train_batch, lambda X_eval: mlp_loss(params, X_eval), X, y, epochs=epochs,
                          batch_size=batch_size, rng=rng, time_budget_s=time_budget_s, X_val=X_val, y_val=y_val)
    return params, history


def _run_epochs(train_batch, scores_of, X, y, *, epochs, batch_size, rng, time_budget_s, X_val, y_val):
    """The epoch loop of ``train_mlp`` and ``train_numpy_recipe``; returns the history.

    ``train_batch(epoch, X_batch, y_batch)`` takes one optimisation step and returns the batch loss;
    ``scores_of(X)`` returns evaluation-mode scores. The clock is read after every mini-batch.
    """
    started = time.perf_counter()
    history = _new_history(X_val is not None)
    for epoch in range(epochs):
        loss_sum, seen = 0.0, 0
        for X_batch, y_batch in iterate_minibatches(X, y, batch_size, rng):
            loss = float(train_batch(epoch, X_batch, y_batch))
            history["batch_loss"].append(loss)
            loss_sum += loss * len(y_batch)
            seen += len(y_batch)
            if time_budget_s is not None and time.perf_counter() - started >= time_budget_s:
                history["stopped_by_budget"] = True
                break
        history["train_loss"].append(loss_sum / seen)
        if X_val is not None:
            scores = scores_of(X_val)
            history["val_loss"].append(cross_entropy_loss(scores, y_val)[0])
            history["val_acc"].append(float(np.mean(scores.argmax(axis=1) == y_val)))
        if history["stopped_by_budget"]:
            break
    return history


def train_numpy_recipe(X, y, X_val=None, y_val=None, *, recipe=NUMPY_RECIPE):
    """Part A's reference run, on the fast path of the reference library; returns (params, history).

    The algorithm of ``train_mlp`` (He initialisation, shuffled mini-batches, dropout, Adam with the
    learning rate lr · lr_decay^epoch), but with ``nnref.mlp.MLP`` and the in-place
    ``nnref.optimizers.Adam`` instead of the homework's functional ``mlp_loss``/``adam_step``: the same
    arithmetic without re-validating and copying every parameter at every step. The history is that of
    ``train_mlp``.
    """
    rng = np.random.default_rng(recipe.seed)
    X = as_float_array(X, "X", ndim=2)
    params = init_mlp_params([X.shape[1], *recipe.hidden_sizes, int(np.max(y)) + 1], rng=rng, dtype=X.dtype)
    net = MLP.from_params(params, activation="relu", head="ce", dropout=recipe.dropout)
    optimizer = Adam(net.params, lr=recipe.lr)

    def train_batch(epoch, X_batch, y_batch):
        optimizer.lr = recipe.lr * recipe.lr_decay**epoch
        loss, grads = net.loss_and_grads(X_batch, y_batch, rng=rng)
        optimizer.step(grads)
        return loss

    history = _run_epochs(train_batch, net.forward, X, y, epochs=recipe.epochs, batch_size=recipe.batch_size, rng=rng,
                          time_budget_s=_check_budget(recipe.time_budget_s), X_val=X_val, y_val=y_val)
    return net.params, history


# ----------------------------------------------------------------------------------------------------
# Part B: PyTorch
# ----------------------------------------------------------------------------------------------------


class HelloMLPExtended(nn.Module):
    """Lecture 000's ``HelloMLP`` with any hidden sizes and dropout:
    (Linear → ReLU → Dropout(p)) for each hidden size → Linear(·, num_classes).

    ``HelloMLPExtended(784, (64, 64), 10)`` is the lecture's network (no Dropout module when
    ``dropout=0``). ``forward`` flattens (N, d_1, ..., d_k) to (N, input_size) and returns logits.
    """

    def __init__(self, input_size=784, hidden_sizes=(64, 64), num_classes=10, dropout=0.0):
        super().__init__()
        layers = []
        fan_in = input_size
        for width in hidden_sizes:
            layers += [nn.Linear(fan_in, width), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            fan_in = width
        layers.append(nn.Linear(fan_in, num_classes))
        self.mlp = nn.Sequential(*layers)

    def forward(self, x):
        return self.mlp(x.reshape(x.size(0), -1))


def _as_tensors(X, y):
    X = torch.as_tensor(as_float_array(X, "X"), dtype=torch.float32)
    y = torch.as_tensor(check_labels(y, "y"), dtype=torch.int64)
    check_same_rows(X, "X", y, "y")
    return X, y


def _evaluate(net, X, y, batch_size=10000):
    """(mean cross-entropy, accuracy) of ``net`` in evaluation mode; leaves the net in evaluation mode."""
    net.eval()
    loss_sum, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            logits = net(X[start:start + batch_size])
            labels = y[start:start + batch_size]
            loss_sum += F.cross_entropy(logits, labels, reduction="sum").item()
            correct += (logits.argmax(dim=1) == labels).sum().item()
    return loss_sum / len(X), correct / len(X)


def train_torch_model(net, X, y, *, lr, epochs, batch_size, seed, lr_decay=1.0, time_budget_s=None,
                      X_val=None, y_val=None):
    """Lecture 000's training loop with ``torch.optim.Adam``; trains ``net`` in place and returns its history.

    Epoch e (from 0) uses lr · lr_decay^e; the batches follow ``torch.randperm`` drawn from
    ``torch.Generator().manual_seed(seed)``; ``zero_grad`` → forward → ``nn.CrossEntropyLoss`` →
    ``backward`` → ``step`` per batch, for ``epochs`` epochs; the clock is read after every batch and
    training stops once the wall-clock cap of ``time_budget_s`` seconds has passed. Returns the history
    dict of ``train_mlp``.
    """
    X, y = _as_tensors(X, y)
    epochs = check_count(epochs, "epochs")
    batch_size = check_count(batch_size, "batch_size")
    time_budget_s = _check_budget(time_budget_s)
    has_val = X_val is not None
    if has_val:
        X_val, y_val = _as_tensors(X_val, y_val)
    started = time.perf_counter()
    generator = torch.Generator().manual_seed(int(seed))
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    history = _new_history(has_val)
    for epoch in range(epochs):
        for group in optimizer.param_groups:
            group["lr"] = lr * lr_decay**epoch
        net.train()
        loss_sum, seen = 0.0, 0
        for batch in torch.randperm(len(X), generator=generator).split(batch_size):
            optimizer.zero_grad()
            loss = F.cross_entropy(net(X[batch]), y[batch])
            loss.backward()
            optimizer.step()
            history["batch_loss"].append(loss.item())
            loss_sum += loss.item() * len(batch)
            seen += len(batch)
            if time_budget_s is not None and time.perf_counter() - started >= time_budget_s:
                history["stopped_by_budget"] = True
                break
        history["train_loss"].append(loss_sum / seen)
        if has_val:
            val_loss, val_acc = _evaluate(net, X_val, y_val)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
        if history["stopped_by_budget"]:
            break
    net.eval()
    return history


def torch_accuracy(net, X, y):
    """Accuracy of ``net`` (evaluation mode, no gradients) on inputs X (N, ...) and labels y (N,)."""
    return _evaluate(net, *_as_tensors(X, y))[1]


def train_torch_recipe(X, y, X_val=None, y_val=None, *, recipe=TORCH_RECIPE):
    """Part B's reference run: ``HelloMLPExtended(784, recipe.hidden_sizes, 10, recipe.dropout)`` trained by
    ``train_torch_model``; returns (net, history)."""
    torch.manual_seed(recipe.seed)
    X = as_float_array(X, "X")
    net = HelloMLPExtended(int(np.prod(X.shape[1:])), recipe.hidden_sizes, int(np.max(y)) + 1, recipe.dropout)
    history = train_torch_model(net, X, y, seed=recipe.seed, X_val=X_val, y_val=y_val, **recipe.training_kwargs())
    return net, history


# ----------------------------------------------------------------------------------------------------
# Grading exported parameters (in the grader, on the test set)
# ----------------------------------------------------------------------------------------------------

MAX_EXPORTED_PARAMETERS = 10_000_000  # 19 times the solution's 784-512-256-10: keeps the grader's pass short


def linear_layer_arrays(net) -> list:
    """Part B's export: ``[W_1, b_1, ..., W_L, b_L]``, the weight ``(out_features, in_features)`` and bias
    ``(out_features,)`` of every ``nn.Linear`` of ``net`` in the order of ``net.modules()``, as numpy
    copies (float32 for a float32 network)."""
    arrays = []
    for module in net.modules():
        if isinstance(module, nn.Linear):
            if module.bias is None:
                raise ValueError("every nn.Linear of the network needs a bias")
            arrays += [module.weight.detach().cpu().numpy().copy(), module.bias.detach().cpu().numpy().copy()]
    return arrays


def linear_layers_to_params(arrays) -> list:
    """Part B's ``[W_1 (H_1, D), b_1, ...]`` (``nn.Linear``'s layout) as Part A's ``[W_1 (D, H_1), b_1, ...]``."""
    return [np.asarray(a).T if i % 2 == 0 else np.asarray(a) for i, a in enumerate(arrays)]


def linear_layers_scores(arrays, X) -> np.ndarray:
    """Evaluation-mode logits of the network of ``linear_layer_arrays``: Linear → ReLU for every layer but
    the last, then Linear; no dropout (``nn.Dropout`` is the identity in evaluation mode). Numpy only.
    ``X`` is ``(N, D)`` or ``(N, d_1, ..., d_k)`` (flattened like ``HelloMLPExtended.forward``)."""
    X = as_float_array(X, "X")
    return mlp_loss(linear_layers_to_params(arrays), X.reshape(len(X), -1))


def linear_layers_accuracy(arrays, X, y, *, batch_size=10000) -> float:
    """Accuracy of ``linear_layers_scores(arrays, X)`` on the labels ``y``: Part B's model, graded from its
    exported arrays without torch."""
    X = as_float_array(X, "X")
    return mlp_accuracy(linear_layers_to_params(arrays), X.reshape(len(X), -1), y, batch_size=batch_size)


def _what(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


def export_problem(arrays, *, name: str = "params", layout: str = "numpy", input_size: int = 784,
                   num_classes: int = 10, max_parameters: int = MAX_EXPORTED_PARAMETERS) -> str | None:
    """Why ``arrays`` is not an exported MLP the grader can evaluate, or ``None`` when it is.

    ``arrays`` must be a list (or tuple) ``[W_1, b_1, ..., W_L, b_L]`` of float32/float64 numpy arrays with
    finite values, 2-D weights and 1-D biases whose shapes chain from ``input_size`` inputs to
    ``num_classes`` outputs, at most ``max_parameters`` numbers in all. ``layout="numpy"`` is Part A's
    ``W_l`` of shape ``(fan_in, fan_out)``; ``layout="linear"`` is ``nn.Linear``'s ``(fan_out, fan_in)``
    (``linear_layer_arrays``). The message names the first array that is wrong, its shape and the
    expected one; ``name`` is the notebook variable.
    """
    if layout not in ("numpy", "linear"):
        raise ValueError(f"layout must be 'numpy' or 'linear', got {layout!r}")
    form = "(fan_in, fan_out)" if layout == "numpy" else "(out_features, in_features), as in nn.Linear"
    if not isinstance(arrays, (list, tuple)):
        return f"{name} must be a list of numpy arrays [W_1, b_1, ..., W_L, b_L], got {_what(arrays)}"
    if not arrays or len(arrays) % 2:
        return f"{name} must list a weight and a bias per layer [W_1, b_1, ..., W_L, b_L], got {len(arrays)} arrays"
    for index, value in enumerate(arrays):
        if not isinstance(value, np.ndarray):
            return (f"{name}[{index}] must be a numpy array, got {_what(value)} (a tensor becomes one with "
                    f".detach().numpy())")
        if value.dtype not in (np.float32, np.float64):
            return f"{name}[{index}] must be float32 or float64, got {_what(value)}"
    if sum(value.size for value in arrays) > max_parameters:
        return (f"{name} holds {sum(value.size for value in arrays)} numbers, more than the {max_parameters} "
                f"the grader evaluates")
    fan_in = input_size
    for layer in range(len(arrays) // 2):
        W, b = arrays[2 * layer], arrays[2 * layer + 1]
        if W.ndim != 2:
            return f"{name}[{2 * layer}] (W_{layer + 1}) must be 2-D {form}, got {_what(W)}"
        rows_in = W.shape[0] if layout == "numpy" else W.shape[1]
        fan_out = W.shape[1] if layout == "numpy" else W.shape[0]
        if rows_in != fan_in:
            expected = f"({fan_in}, ·)" if layout == "numpy" else f"(·, {fan_in})"
            source = f"the {input_size} input pixels" if layer == 0 else f"the {fan_in} outputs of layer {layer}"
            return (f"{name}[{2 * layer}] (W_{layer + 1}) has shape {W.shape}, expected {expected} "
                    f"{form}: it must take {source}")
        if b.shape != (fan_out,):
            return f"{name}[{2 * layer + 1}] (b_{layer + 1}) has shape {b.shape}, expected ({fan_out},) like W_{layer + 1}"
        fan_in = fan_out
    if fan_in != num_classes:
        return f"the last layer of {name} has {fan_in} outputs, expected one per class ({num_classes})"
    for index, value in enumerate(arrays):
        if not np.isfinite(value).all():
            return f"{name}[{index}] contains NaN or infinite values"
    return None


def stopped_at_cap(history) -> bool:
    """True when a training history says its wall-clock cap stopped it (``history["stopped_by_budget"]``)."""
    return isinstance(history, dict) and isinstance(history.get("stopped_by_budget"), (bool, np.bool_)) \
        and bool(history["stopped_by_budget"])


def cap_report(part: str, history, accuracy, threshold: float) -> str:
    """The reason of an ``out_of_time`` flag: where the capped run stopped and what its parameters reach
    (``accuracy`` is ``None`` when they could not be evaluated)."""
    done = len(history.get("train_loss", [])) if isinstance(history, dict) else "?"
    reached = ("its exported parameters could not be evaluated" if accuracy is None
               else f"its parameters reach {accuracy:.2%} test accuracy (gate {threshold:.0%})")
    return (f"{part} training stopped at its wall-clock cap during epoch {done}, before its prescribed epochs; "
            f"{reached}: regrade on an unloaded machine")
