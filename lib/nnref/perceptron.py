"""The McCulloch–Pitts unit and Rosenblatt's perceptron (decks 000 and 001).

Perceptron neuron: ``net = Σᵢ wᵢxᵢ + b`` followed by a hard limit. Learning rule (deck 001, "Perceptron
Algorithm: Summary"): cycle through the training samples in order and update only on mistakes,
``w ← w + η x`` for a positive sample, ``w ← w − η x`` for a negative one, i.e. ``w ← w + η y x`` with
``y ∈ {−1, +1}``; the bias is the weight of a constant input 1, so ``b ← b + η y``.

What happens exactly on the boundary (``net = 0``) follows scikit-learn, so ``Perceptron`` here equals
``sklearn.linear_model.Perceptron(eta0=η, shuffle=False, penalty=None, tol=None)`` update for update:

* **learning**: a sample is a mistake when ``y · net ≤ 0`` (sklearn's perceptron loss is
  ``max(0, −y·net)`` with gradient ``−y`` whenever ``y·net ≤ 0``). A sample lying on the boundary
  is therefore corrected whatever its class; in particular the first sample always updates the
  all-zero start.
* **prediction**: the positive class when ``net > 0``, the negative class otherwise
  (``net = 0`` → negative). Deck 000's hard limit outputs ``+1`` at ``x ≥ 0``; the two agree
  everywhere except exactly on the boundary.

Labels may be ``±1`` or any two classes: as sklearn does, the larger label (``classes_[1]``) is the
positive class ``+1`` and the smaller one (``classes_[0]``) the negative class ``−1``.
"""

from __future__ import annotations

import numpy as np

from nnkit.validation import as_float_array, check_same_rows, check_positive

from .training import ClassifierMixin, check_count, check_features, check_fitted, check_rng, encode_labels

__all__ = [
    "mcculloch_pitts",
    "check_linear_unit",
    "net_input",
    "neuron_output",
    "boundary_line",
    "perceptron_predict",
    "perceptron_epoch",
    "Perceptron",
    "train_perceptron",
]


def mcculloch_pitts(x, weights, threshold):
    """McCulloch–Pitts binary threshold unit (deck 001): ``y = 1`` if ``z = Σᵢ wᵢxᵢ ≥ θ`` else ``0``.

    Args:
        x: inputs, shape ``(D,)`` for one sample or ``(N, D)`` for a batch.
        weights: ``(D,)``.
        threshold: ``θ``.

    Returns:
        ``0.``/``1.`` with shape ``()`` or ``(N,)``, in the dtype of ``x``.
    """
    x = as_float_array(x, "x", ndim=(1, 2))
    weights = as_float_array(weights, "weights", ndim=1)
    if x.shape[-1] != weights.shape[0]:
        raise ValueError(
            f"x has {x.shape[-1]} inputs per sample but weights has {weights.shape[0]}: "
            f"x has shape {x.shape}, weights has shape {weights.shape}"
        )
    z = x @ weights
    return (z >= threshold).astype(x.dtype)


def check_linear_unit(w, b, X, y=None):
    """Validate the arguments of a linear unit ``net = Xw + b``; return them as float arrays.

    ``w``: ``(D,)``; ``b``: scalar (returned as a float) or ``None`` (no bias); ``X``: ``(N, D)``;
    ``y``: optional targets ``(N,)``. Shared by the perceptron, delta-rule and logistic modules.
    """
    X = as_float_array(X, "X", ndim=2)
    w = as_float_array(w, "w", ndim=1)
    if X.shape[1] != w.shape[0]:
        raise ValueError(
            f"X has {X.shape[1]} features but w has {w.shape[0]} weights: "
            f"X has shape {X.shape}, w has shape {w.shape}"
        )
    if b is not None:
        b = float(as_float_array(b, "b", ndim=0))
    if y is not None:
        y = as_float_array(y, "y", ndim=1)
        check_same_rows(X, "X", y, "y")
    return w, b, X, y


def net_input(w, b, X):
    """``net = Xw + b`` for validated arguments (``b = None``: no bias), shape ``(N,)``."""
    return X @ w if b is None else X @ w + b


def neuron_output(w, b, X, activation):
    """Output of one perceptron neuron (deck 000): ``o = f(net)`` with ``net = Xw + b``.

    Args:
        w: weights ``(D,)``.
        b: bias (scalar), or ``None`` for deck 000's ``o = f(Σᵢ wᵢxᵢ)``.
        X: inputs ``(N, D)``.
        activation: elementwise function ``f``, e.g. ``nnref.activations.hard_limit`` or ``sigmoid``.

    Returns:
        ``(N,)`` array ``f(net)``.
    """
    if not callable(activation):
        raise TypeError(f"activation must be a function of the net values, got {type(activation).__name__}")
    w, b, X, _ = check_linear_unit(w, b, X)
    return activation(net_input(w, b, X))


def boundary_line(w, b=0.0):
    """Deck 000's decision boundary ``o(X) = 0``, i.e. ``w₁x₁ + w₂x₂ + b = 0``, as a line ``x₂ = m·x₁ + c``.

    Args:
        w: weights ``(2,)``.
        b: bias (scalar).

    Returns:
        ``(m, c) = (−w₁/w₂, −b/w₂)``, a tuple of floats.

    Raises:
        ValueError: when ``w₂ = 0``: the boundary ``x₁ = −b/w₁`` is vertical and has no slope.
    """
    w = as_float_array(w, "w", ndim=1)
    if w.shape != (2,):
        raise ValueError(f"w must hold the 2 weights of a two-input unit, got shape {w.shape}")
    b = float(as_float_array(b, "b", ndim=0))
    if w[1] == 0:
        raise ValueError(f"the boundary is vertical (x1 = -b/w1) when w[1] = 0, got w = {w.tolist()}")
    return float(-w[0] / w[1]), float(-b / w[1])


def _net(w, b, x):
    """``net = w·x + b`` for one sample (``b = None``: no bias, deck 000's ``o = w₁x₁ + w₂x₂``)."""
    net = float(np.dot(x, w))
    return net if b is None else net + b


def perceptron_predict(w, b, X):
    """Hard-limit output of a perceptron: ``+1`` where ``net = Xw + b > 0``, else ``−1``.

    Args:
        w: weights ``(D,)``.
        b: bias (scalar), or ``None`` for a perceptron without bias.
        X: inputs ``(N, D)``.

    Returns:
        ``(N,)`` array of ``±1`` in the dtype of ``X`` (``net = 0`` gives ``−1``, as sklearn).
    """
    w, b, X, _ = check_linear_unit(w, b, X)
    return np.where(net_input(w, b, X) > 0, 1.0, -1.0).astype(X.dtype)


def perceptron_epoch(w, b, X, y, eta=1.0):
    """One pass of the perceptron learning rule over ``X`` in order.

    For each sample, ``net = w·x + b``; when ``y · net ≤ 0`` (a mistake, boundary included):
    ``w ← w + η y x`` and ``b ← b + η y``.

    Args:
        w: weights ``(D,)``; not modified.
        b: bias (scalar), or ``None`` to learn without bias.
        X: inputs ``(N, D)``.
        y: labels ``(N,)`` in ``{−1, +1}``.
        eta: learning rate ``η > 0``.

    Returns:
        ``(w, b, n_updates)``: the new weights (new array), the new bias (``None`` if ``b`` was) and
        the number of mistakes corrected during the pass.
    """
    w, b, X, y = check_linear_unit(w, b, X, y)
    if not np.all(np.abs(y) == 1):
        raise ValueError(
            f"y must hold the labels -1 and +1, got {np.unique(y)[:5].tolist()} (y has shape {y.shape})"
        )
    eta = check_positive(eta, "eta")
    w = w.copy()
    n_updates = 0
    for x_n, y_n in zip(X, y):
        if y_n * _net(w, b, x_n) <= 0:
            w += eta * y_n * x_n
            if b is not None:
                b += eta * y_n
            n_updates += 1
    return w, b, n_updates


class Perceptron(ClassifierMixin):
    """Rosenblatt's perceptron for two classes, trained with the perceptron learning rule.

    Starts from ``w = 0``, ``b = 0`` and runs ``perceptron_epoch`` until an epoch makes no update
    (converged: the data are separated) or ``max_epochs`` passes.

    Args:
        eta: learning rate ``η`` (``1`` in the lectures).
        max_epochs: maximum number of passes over the training set.
        shuffle: visit the samples in a new random order each epoch (drawn from ``rng``); the default
            visits them in their given order, as the lecture's algorithm.
        rng: ``np.random.Generator``, required when ``shuffle``.
        fit_intercept: learn a bias ``b``; ``False`` gives deck 000's ``o = Σᵢ wᵢxᵢ``.

    Fitted attributes (sklearn's shapes): ``classes_`` ``(2,)``, ``coef_`` ``(1, D)``,
    ``intercept_`` ``(1,)``, ``n_updates_`` (total mistakes corrected), ``n_epochs_`` and ``n_iter_``
    (passes run), ``epoch_updates_`` (list: the updates of each pass), ``converged_`` (whether the
    last pass made no update).
    """

    def __init__(self, eta=1.0, max_epochs=1000, shuffle=False, rng=None, fit_intercept=True):
        self.eta = check_positive(eta, "eta")
        self.max_epochs = check_count(max_epochs, "max_epochs")
        self.shuffle = bool(shuffle)
        self.rng = check_rng(rng, allow_none=not self.shuffle)
        self.fit_intercept = bool(fit_intercept)

    def fit(self, X, y):
        """Learn ``coef_`` and ``intercept_`` from ``X`` ``(N, D)`` and two-class labels ``y`` ``(N,)``."""
        X = as_float_array(X, "X", ndim=2)
        check_same_rows(X, "X", y, "y")
        self.classes_, indices = encode_labels(y, "y", binary=True)
        signs = np.where(indices == 1, 1.0, -1.0)
        w = np.zeros(X.shape[1], dtype=X.dtype)
        b = 0.0 if self.fit_intercept else None
        self.n_updates_, self.epoch_updates_, self.converged_ = 0, [], False
        for epoch in range(1, self.max_epochs + 1):
            order = self.rng.permutation(len(X)) if self.shuffle else np.arange(len(X))
            w, b, n_updates = perceptron_epoch(w, b, X[order], signs[order], self.eta)
            self.n_updates_ += n_updates
            self.epoch_updates_.append(n_updates)
            if n_updates == 0:
                self.converged_ = True
                break
        self.n_epochs_ = self.n_iter_ = epoch
        self.coef_ = w[np.newaxis, :]
        self.intercept_ = np.array([0.0 if b is None else b], dtype=X.dtype)
        return self

    def decision_function(self, X):
        """``net = X wᵀ + b``, shape ``(N,)``: positive on the side of ``classes_[1]``."""
        check_fitted(self)
        X = check_features(X, self.coef_.shape[1])
        return X @ self.coef_[0] + self.intercept_[0]

    def predict(self, X):
        """Class labels ``(N,)``: ``classes_[1]`` where ``net > 0``, else ``classes_[0]``."""
        positive = self.decision_function(X) > 0
        return self.classes_[positive.astype(int)]


def train_perceptron(X, y, eta=1.0, max_epochs=100):
    """Functional form of ``Perceptron.fit`` for labels ``±1`` (the training loop notebook 01 grades).

    Runs ``perceptron_epoch`` over the samples in order from ``w = 0``, ``b = 0`` until an epoch makes
    no update (deck 001: guaranteed for linearly separable data) or ``max_epochs`` epochs have run.

    Args:
        X: inputs ``(N, D)``.
        y: labels ``(N,)`` in ``{−1, +1}``.
        eta: learning rate ``η > 0``.
        max_epochs: the largest number of epochs.

    Returns:
        ``(w, b, updates)``: weights ``(D,)``, bias (float) and the list of the number of updates of
        every epoch run; it ends with the epoch of 0 updates when the data got separated.
    """
    model = Perceptron(eta=eta, max_epochs=max_epochs).fit(X, y)
    return model.coef_[0], float(model.intercept_[0]), model.epoch_updates_
