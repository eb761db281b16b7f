"""Mini-batches of a data set, the way ``torch.utils.data.DataLoader`` cuts them.

    for X_batch, y_batch in minibatches(X, y, batch_size=32, rng=rng):
        ...

One call is one epoch. With ``shuffle=True`` the samples follow ``rng.permutation(N)`` (the same order
the reference training loop uses for the same generator state); the last batch holds the remaining
``N mod batch_size`` samples (``drop_last=False``). Every batch is a new array (rows are copied), so
changing a batch never changes ``X`` or ``y``.
"""

from __future__ import annotations

import numpy as np

from .validation import check_same_rows

__all__ = ["minibatches"]


def minibatches(X, y, batch_size, *, rng, shuffle=True):
    """Yield the mini-batches ``(X_batch, y_batch)`` of one epoch.

    Inputs:
    - X: inputs, shape (N, ...).
    - y: targets, shape (N, ...) (labels (N,) or targets (N, K)).
    - batch_size: samples per batch, an integer ≥ 1; a batch_size ≥ N gives one batch of all samples.
    - rng: ``np.random.Generator`` that orders the samples (``np.random.default_rng(seed)``);
      ignored, and may be ``None``, when ``shuffle=False``.
    - shuffle: ``True`` to visit the samples in the order ``rng.permutation(N)``, ``False`` to keep
      their order.

    Yields:
    - (X_batch, y_batch) of shapes (B, ...) and (B, ...), B = batch_size except for the last batch.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(
            f"X and y must have one row per sample, got X of shape {X.shape} and y of shape {y.shape}"
        )
    check_same_rows(X, "X", y, "y")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be True or False, got {type(shuffle).__name__}")
    if shuffle and not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy Generator (np.random.default_rng(seed)) when shuffle=True, "
            f"got {type(rng).__name__}"
        )
    return _batches(X, y, int(batch_size), rng.permutation(len(X)) if shuffle else np.arange(len(X)))


def _batches(X, y, batch_size, order):
    # A separate generator so that bad arguments raise at the call, not at the first ``next``.
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        yield X[rows], y[rows]
