"""The training loop: shuffled mini-batches, per-epoch history, early stopping, progress bar.

* ``iterate_minibatches(X, y, batch_size, rng)`` yields the mini-batches of one epoch.
* ``fit(model, optimizer, X, y, *, epochs, batch_size, rng, ...) -> History`` trains any model that
  follows the contract of ``docs/architecture.md`` (``params``, ``loss_and_grads``, ``forward``,
  ``predict``) with any optimizer of ``nnref.optimizers``.
* ``SmoothedObjective``: deck 003's running estimate ``Q := λ 𝓛ᵢ + (1 − λ) Q`` of the objective.
* ``GradientDescentEstimator`` / ``GradientDescentClassifier``: the shared machinery of the
  sklearn-style linear learners (``nnref.delta_rule``, ``nnref.logistic``,
  ``nnref.softmax_regression``): batch, stochastic and mini-batch gradient descent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnkit.progress import progress
from nnkit.validation import as_float_array, check_ndim, check_positive, check_same_rows

from .optimizers import SGD

__all__ = [
    "iterate_minibatches",
    "History",
    "fit",
    "SmoothedObjective",
    "encode_labels",
    "ClassifierMixin",
    "GradientDescentEstimator",
    "GradientDescentClassifier",
]

MODES = ("batch", "sgd", "minibatch")


def check_rng(rng, name="rng", *, allow_none=True):
    if rng is None and allow_none:
        return None
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{name} must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
        )
    return rng


def check_count(value, name, *, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def iterate_minibatches(X, y, batch_size, rng):
    """Yield the mini-batches ``(X_batch, y_batch)`` of one epoch.

    Args:
        X: inputs, shape ``(N, ...)``.
        y: targets, shape ``(N, ...)``.
        batch_size: samples per batch; the last batch holds the remaining ``N mod batch_size`` samples
            (``torch.utils.data.DataLoader`` with ``drop_last=False``). ``None`` = the whole set.
        rng: ``np.random.Generator``: the batches follow ``rng.permutation(N)``;
            ``None`` keeps the samples in their order.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    check_same_rows(X, "X", y, "y")
    n = X.shape[0]
    batch_size = n if batch_size is None else check_count(batch_size, "batch_size")
    rng = check_rng(rng)
    order = np.arange(n) if rng is None else rng.permutation(n)
    for start in range(0, n, batch_size):
        batch = order[start : start + batch_size]
        yield X[batch], y[batch]


def _train_one_epoch(loss_and_grads, optimizer, X, y, batch_size, rng) -> float:
    """One pass over the data; returns the sample-weighted mean of the mini-batch losses."""
    total, count = 0.0, 0
    for X_batch, y_batch in iterate_minibatches(X, y, batch_size, rng):
        loss, grads = loss_and_grads(X_batch, y_batch)
        optimizer.step(grads)
        total += float(loss) * len(X_batch)
        count += len(X_batch)
    return total / count


@dataclass
class History:
    """What ``fit`` records, one entry per epoch.

    Attributes:
        train_loss: sample-weighted mean of the epoch's mini-batch losses (training mode, parameters
            changing during the epoch, like the running loss of a PyTorch loop).
        train_acc: accuracy of ``model.predict`` on the whole training set after the epoch
            (classification only: ``y`` holds integer class indices; empty otherwise).
        val_loss, val_acc: the same on the validation set, after the epoch (empty without one).
        lr: learning rate used in the epoch.
        best_epoch: index (from 0) of the epoch with the lowest ``val_loss``; ``None`` without
            validation data.
        stopped_early: whether early stopping ended training before ``epochs``.
    """

    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False


def _evaluation_loss(model, X, y) -> float:
    """Loss in evaluation mode: ``model.loss(X, y)`` when the model has one (e.g. to switch dropout
    off), else the loss of ``model.loss_and_grads(X, y)`` without ``rng``."""
    if hasattr(model, "loss"):
        return float(model.loss(X, y))
    return float(model.loss_and_grads(X, y)[0])


def _accuracy(model, X, y) -> float:
    return float(np.mean(np.asarray(model.predict(X)) == y))


def _check_validation_set(X, X_val, y_val):
    """Validate the optional validation set against the training inputs ``X``."""
    if (X_val is None) != (y_val is None):
        raise ValueError("pass both X_val and y_val, or neither")
    if X_val is None:
        return None, None
    X_val = as_float_array(X_val, "X_val")
    y_val = np.asarray(y_val)
    check_same_rows(X_val, "X_val", y_val, "y_val")
    if X_val.shape[1:] != X.shape[1:]:
        raise ValueError(
            f"X_val must have the sample shape of X: X has shape {X.shape}, X_val has shape {X_val.shape}"
        )
    return X_val, y_val


def fit(
    model,
    optimizer,
    X,
    y,
    *,
    epochs,
    batch_size,
    rng,
    X_val=None,
    y_val=None,
    patience=None,
    show_progress=None,
    lr_schedule=None,
) -> History:
    """Train ``model`` with mini-batch gradient descent; return the per-epoch ``History``.

    Each epoch draws a permutation from ``rng`` and walks its mini-batches: ``loss, grads =
    model.loss_and_grads(X_batch, y_batch, rng=rng)`` (training mode) then
    ``optimizer.step(grads)``. After the epoch the validation loss is computed in evaluation mode,
    ``model.loss(X_val, y_val)`` when the model defines ``loss``, else
    ``model.loss_and_grads(X_val, y_val)[0]`` (no ``rng``); accuracies come from ``model.predict``.

    Args:
        model: object with ``params`` (list of arrays, the ones ``optimizer`` updates in place),
            ``loss_and_grads(X, y, *, rng=None) -> (loss, grads)``, ``predict(X)`` and optionally
            ``loss(X, y) -> float`` (evaluation mode, used for the validation loss).
        optimizer: e.g. ``nnref.optimizers.SGD(model.params, lr=0.1)``.
        X, y: training inputs ``(N, ...)`` and targets ``(N, ...)``; integer 1-D ``y`` means
            classification (accuracies are recorded).
        epochs: maximum number of passes over the data.
        batch_size: samples per mini-batch (``None``: full batch).
        rng: ``np.random.Generator`` for the shuffling and the model's randomness (dropout).
        X_val, y_val: optional validation set.
        patience: early stopping: stop after ``patience`` epochs without a lower validation loss.
            When training ends (stopped or not) the best epoch's parameters are copied back into
            ``model.params`` (in place). Requires a validation set. ``None``: train all epochs and
            keep the last parameters.
        show_progress: progress bar on stdout; ``None`` = on, except while grading.
        lr_schedule: optional ``epoch -> lr`` (see ``nnref.optimizers.step_decay``); sets
            ``optimizer.lr`` at the start of every epoch.
    """
    X = as_float_array(X, "X")
    y = np.asarray(y)
    check_same_rows(X, "X", y, "y")
    epochs = check_count(epochs, "epochs")
    batch_size = check_count(batch_size, "batch_size", allow_none=True)
    rng = check_rng(rng, allow_none=False)
    X_val, y_val = _check_validation_set(X, X_val, y_val)
    has_val = X_val is not None
    if patience is not None:
        patience = check_count(patience, "patience")
        if not has_val:
            raise ValueError("early stopping (patience) needs a validation set: pass X_val and y_val")
    classification = y.ndim == 1 and np.issubdtype(y.dtype, np.integer)

    history = History()
    best_loss, best_params, epochs_without_improvement = np.inf, None, 0
    with progress(range(epochs), enabled=show_progress, desc="epochs") as bar:
        for epoch in bar:
            if lr_schedule is not None:
                optimizer.lr = lr_schedule(epoch)
            history.lr.append(optimizer.lr)
            history.train_loss.append(
                _train_one_epoch(
                    lambda Xb, yb: model.loss_and_grads(Xb, yb, rng=rng),
                    optimizer, X, y, batch_size, rng,
                )
            )  # fmt: skip
            if classification:
                history.train_acc.append(_accuracy(model, X, y))
            postfix = {"loss": f"{history.train_loss[-1]:.4g}"}
            if has_val:
                val_loss = _evaluation_loss(model, X_val, y_val)
                history.val_loss.append(val_loss)
                postfix["val_loss"] = f"{val_loss:.4g}"
                if classification:
                    history.val_acc.append(_accuracy(model, X_val, y_val))
                if val_loss < best_loss:
                    best_loss, history.best_epoch, epochs_without_improvement = val_loss, epoch, 0
                    if patience is not None:
                        best_params = [p.copy() for p in model.params]
                else:
                    epochs_without_improvement += 1
            bar.set_postfix(postfix)
            if patience is not None and epochs_without_improvement >= patience:
                history.stopped_early = epoch < epochs - 1
                break
    if best_params is not None:
        for param, best in zip(model.params, best_params):
            param[...] = best
    return history


class SmoothedObjective:
    """Deck 003's running estimate of the objective during SGD: ``Q := λ 𝓛ᵢ + (1 − λ) Q``.

    Args:
        smoothing: ``λ`` in ``(0, 1]`` (``1`` = the last loss only; small = long memory).
        initial: the starting ``Q``, e.g. the objective ``Q(w)`` evaluated on the whole training set
            as on the slide. ``None``: the first loss starts the estimate.

    Use ``q.update(loss)`` after every sample; ``q.value`` holds the current ``Q``.
    """

    def __init__(self, smoothing, initial=None):
        self.smoothing = check_positive(smoothing, "smoothing")
        if self.smoothing > 1:
            raise ValueError(f"smoothing must be in (0, 1], got {self.smoothing}")
        self.value = None if initial is None else float(initial)

    def update(self, loss) -> float:
        """Fold one sample's loss into ``Q``; return the new ``Q``."""
        loss = float(loss)
        if self.value is None:
            self.value = loss
        else:
            self.value = self.smoothing * loss + (1.0 - self.smoothing) * self.value
        return self.value


def encode_labels(y, name="y", *, binary=False):
    """Map arbitrary class labels to indices ``0..K-1`` in sorted label order (as sklearn's ``classes_``).

    Returns ``(classes, indices)`` with ``classes[indices] == y``. Needs at least two classes, exactly
    two when ``binary``.
    """
    y = np.asarray(y)
    check_ndim(y, name, 1)
    classes, indices = np.unique(y, return_inverse=True)
    if len(classes) < 2 or (binary and len(classes) != 2):
        want = "exactly two" if binary else "at least two"
        raise ValueError(
            f"{name} must hold {want} classes, got {len(classes)} ({classes[:5].tolist()}) "
            f"in {name} of shape {y.shape}"
        )
    return classes, indices


def check_fitted(estimator) -> None:
    """Raise ``ValueError`` unless ``estimator.fit`` has run (it sets ``coef_``)."""
    if not hasattr(estimator, "coef_"):
        raise ValueError(f"this {type(estimator).__name__} is not fitted yet: call fit(X, y) first")


def check_features(X, n_features: int):
    """``X`` as a 2-D float array with the ``n_features`` columns the estimator was fitted with."""
    X = as_float_array(X, "X", ndim=2)
    if X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} features but the model was fitted with {n_features}: "
                         f"X has shape {X.shape}")
    return X


class GradientDescentEstimator:
    """Shared base of the linear learners trained by plain gradient descent.

    Args:
        lr: learning rate.
        epochs: passes over the training set.
        mode: ``"batch"`` (one step per epoch on the whole set), ``"sgd"`` (one step per sample,
            deck 001's stochastic gradient) or ``"minibatch"`` (``batch_size`` samples per step).
        batch_size: used by ``"minibatch"``.
        rng: ``np.random.Generator`` that shuffles the samples every epoch in ``"sgd"`` and
            ``"minibatch"`` modes; ``None`` keeps their order.

    After ``fit``: ``loss_history_[e]`` is the training objective on the whole set after epoch ``e``.
    """

    def __init__(self, lr, epochs, mode, batch_size, rng):
        self.lr = check_positive(lr, "lr")
        self.epochs = check_count(epochs, "epochs")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        self.batch_size = check_count(batch_size, "batch_size")
        self.rng = check_rng(rng)

    def _minimize(self, loss_and_grads, params, X, y) -> None:
        """Run the epochs on ``params`` (updated in place); fill ``loss_history_``."""
        batch_size = {"batch": None, "sgd": 1, "minibatch": self.batch_size}[self.mode]
        optimizer = SGD(params, lr=self.lr)
        self.loss_history_ = []
        for _ in range(self.epochs):
            _train_one_epoch(loss_and_grads, optimizer, X, y, batch_size, self.rng)
            self.loss_history_.append(float(loss_and_grads(X, y)[0]))
        self.n_iter_ = self.epochs


class ClassifierMixin:
    """``score`` = accuracy of ``predict``, for the sklearn-style classifiers."""

    def score(self, X, y) -> float:
        """Mean accuracy of ``predict(X)`` against ``y``."""
        y = np.asarray(y)
        predictions = self.predict(X)
        check_same_rows(predictions, "X", y, "y")
        return float(np.mean(predictions == y))


class GradientDescentClassifier(ClassifierMixin, GradientDescentEstimator):
    """A ``GradientDescentEstimator`` that predicts class labels; ``score`` is the accuracy."""
