"""PyTorch and scikit-learn, the way lecture 000 ("Introduction to PyTorch", "Neural Networks in
scikit-learn") uses them: the reference for assignment ``06_pytorch_and_sklearn``.

* ``sigmoid_layer_backward``: a numpy backward pass that torch.autograd checks in the notebook;
* ``HelloMLP``: the lecture's 784-64-64-10 network, flattening with ``view``;
* ``cross_entropy_from_log_softmax``: ``nn.CrossEntropyLoss`` on logits = ``log_softmax`` + NLL;
* ``make_loader``, ``train_one_epoch``, ``evaluate_accuracy``: ``TensorDataset``/``DataLoader`` and the
  lecture's training loop (``zero_grad``, ``backward``, ``step``, running loss), ``eval()``;
* ``save_and_reload``: the lecture's ``state_dict`` round trip;
* ``sklearn_to_torch``: a trained ``MLPClassifier``/``MLPRegressor`` as an ``nn.Sequential``.

Shapes follow PyTorch's ``[batch, dim]`` for linear layers (lecture 000, "Data Format Shape for PyTorch
Modules"), i.e. the course's row-vector convention; ``nn.Linear`` stores its weight as
``(out_features, in_features)``, the transpose of the course's ``W``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from nnkit.validation import as_float_array, check_labels, check_positive, check_same_rows

from .layers import affine_backward, affine_forward, sigmoid_backward, sigmoid_forward

__all__ = [
    "sigmoid_layer_backward",
    "HelloMLP",
    "cross_entropy_from_log_softmax",
    "make_loader",
    "train_one_epoch",
    "evaluate_accuracy",
    "save_and_reload",
    "sklearn_to_torch",
    "SKLEARN_ACTIVATIONS",
]


def sigmoid_layer_backward(dY, X, W, b):
    """Gradients of a sigmoid layer Y = σ(XW + b) by the chain rule (deck 002's affine + sigmoid API).

    With Z = XW + b and the upstream gradient dY = ∂L/∂Y:
    dZ = dY ⊙ Y ⊙ (1 − Y),  dX = dZ Wᵀ,  dW = Xᵀ dZ,  db = Σ_n dZ_n.

    Shapes: dY (N, M), X (N, D), W (D, M), b (M,). Returns (dX (N, D), dW (D, M), db (M,)).
    """
    Z, affine_cache = affine_forward(X, W, b)
    Y, sigmoid_cache = sigmoid_forward(Z)
    dZ = sigmoid_backward(dY, sigmoid_cache)
    return affine_backward(dZ, affine_cache)


class HelloMLP(nn.Module):
    """Lecture 000's MLP: Linear(input_size, 64) → ReLU → Linear(64, 64) → ReLU → Linear(64, num_classes).

    ``forward`` flattens a batch (N, d_1, ..., d_k) to (N, input_size) with ``view`` (lecture: "Reshape
    input tensor (N, 28, 28) → (N, 784)") and returns the logits (N, num_classes): no softmax, which
    ``nn.CrossEntropyLoss`` applies itself.
    """

    def __init__(self, input_size=784, num_classes=10):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(input_size, 64),
            nn.ReLU(),
            nn.Linear(64, 64),
            nn.ReLU(),
            nn.Linear(64, num_classes),
        )

    def forward(self, x):
        x_ = x.view(x.size(0), -1)
        return self.mlp(x_)


def cross_entropy_from_log_softmax(logits, labels):
    """Mean cross-entropy of logits (N, K) and integer labels (N,) as log_softmax + negative log-likelihood.

    L = −(1/N) Σ_n log softmax(z_n)_{y_n},  log softmax(z)_k = z_k − log Σ_j e^{z_j}
    (lecture 000: E_CE = −Σ_c d_c log X_c with one-hot d). Equals ``nn.CrossEntropyLoss()(logits, labels)``.
    Returns a 0-dim tensor (differentiable with respect to ``logits``).
    """
    return F.nll_loss(F.log_softmax(logits, dim=1), labels)


def make_loader(X, y, batch_size, *, shuffle=False, seed=0):
    """A ``DataLoader`` over ``TensorDataset(float32 X, int64 y)``; shuffling draws from ``torch.Generator(seed)``.

    X: (N, ...) array of features, y: (N,) integer class labels.
    """
    X = as_float_array(X, "X")
    if X.ndim < 2:
        raise ValueError(f"X must have one sample per row, shape (N, ...), got shape {X.shape}")
    y = check_labels(y, "y")
    check_same_rows(X, "X", y, "y")
    if check_positive(batch_size, "batch_size") != int(batch_size):
        raise ValueError(f"batch_size must be a whole number of samples, got {batch_size}")
    batch_size = int(batch_size)
    dataset = TensorDataset(torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.int64))
    generator = torch.Generator().manual_seed(int(seed))
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator)


def train_one_epoch(net, loader, criterion, optimizer):
    """One pass over ``loader`` with the lecture's loop; returns the mean of the batch losses (a float).

    Per batch: ``zero_grad`` → forward → loss → ``backward`` → ``step``; ``running_loss += loss.item()``.
    The net is put in training mode first (it may have been left in ``eval()`` mode).
    """
    net.train()
    running_loss = 0.0
    for inputs, labels in loader:
        optimizer.zero_grad()
        loss = criterion(net(inputs), labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    return running_loss / len(loader)


def evaluate_accuracy(net, loader):
    """Fraction of samples of ``loader`` whose largest logit is the label, in ``eval()`` mode without gradients."""
    net.eval()
    correct = total = 0
    with torch.no_grad():
        for inputs, labels in loader:
            correct += (net(inputs).argmax(dim=1) == labels).sum().item()
            total += labels.numel()
    return correct / total


def save_and_reload(net, path, make_net):
    """Lecture 000's round trip: ``torch.save(net.state_dict(), path)``, then a fresh ``make_net()`` that
    ``load_state_dict(torch.load(path))`` and ``eval()``; returns that new net."""
    torch.save(net.state_dict(), path)
    model = make_net()
    model.load_state_dict(torch.load(path))
    model.eval()
    return model


# scikit-learn's hidden-layer activation names and the torch modules computing them.
SKLEARN_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "logistic": nn.Sigmoid, "identity": nn.Identity}


def sklearn_to_torch(mlp):
    """A fitted scikit-learn ``MLPClassifier``/``MLPRegressor`` as an ``nn.Sequential`` (float64).

    Layer i is ``nn.Linear`` with weight ``coefs_[i].T`` (scikit-learn stores (in, out), torch (out, in))
    and bias ``intercepts_[i]``; the hidden activation ``mlp.activation`` follows every layer but the
    last. The output is the last layer's pre-activation: the logits of a classifier (softmax of them is
    ``predict_proba`` for several classes), the prediction of a regressor.
    """
    if not hasattr(mlp, "coefs_"):
        raise ValueError(f"mlp must be a fitted MLPClassifier or MLPRegressor, got an unfitted {type(mlp).__name__}")
    if mlp.activation not in SKLEARN_ACTIVATIONS:
        raise ValueError(f"mlp.activation must be one of {sorted(SKLEARN_ACTIVATIONS)}, got {mlp.activation!r}")
    layers = []
    for index, (W, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        linear = nn.Linear(W.shape[0], W.shape[1], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T, dtype=np.float64)))
            linear.bias.copy_(torch.from_numpy(np.asarray(b, dtype=np.float64)))
        layers.append(linear)
        if index < len(mlp.coefs_) - 1:
            layers.append(SKLEARN_ACTIVATIONS[mlp.activation]())
    return nn.Sequential(*layers)
