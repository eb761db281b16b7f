"""Small datasets for the course, and the helpers every notebook needs to prepare data.

Every function that draws random numbers takes ``rng``: a ``np.random.Generator`` or an ``int`` seed
(keyword-only, required), so a notebook is reproducible without touching numpy's global state.
Unless a docstring says otherwise, features ``X`` are float64 of shape ``(N, D)`` (one sample per row,
the lectures' row-vector convention) and class labels ``y`` are int64 of shape ``(N,)``.
Datasets made of several classes are returned grouped by class (class 0 first); shuffle them with
``train_val_split`` or let the training loop shuffle its mini-batches.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
from sklearn.datasets import load_digits, make_circles, make_moons
from sklearn.model_selection import train_test_split

from nnkit.validation import as_float_array, check_labels, check_probability, check_same_rows

__all__ = [
    "BOOLEAN_FUNCTIONS",
    "boolean_table",
    "truth_table",
    "blobs",
    "linearly_separable",
    "noisy_linear",
    "spiral",
    "moons",
    "circles",
    "regression_1d",
    "digits",
    "train_val_split",
    "one_hot",
    "standardize",
]

# The named Boolean functions of decks 000 and 001, as functions of the list of input truth values.
BOOLEAN_FUNCTIONS: dict[str, Callable[..., bool]] = {
    "and": lambda *bits: all(bits),
    "or": lambda *bits: any(bits),
    "nand": lambda *bits: not all(bits),
    "nor": lambda *bits: not any(bits),
    # XOR of several inputs is their parity: true when an odd number of inputs are true.
    "xor": lambda *bits: sum(bits) % 2 == 1,
    "parity": lambda *bits: sum(bits) % 2 == 1,
}

_ENCODINGS = ("binary", "bipolar")


# ----------------------------------------------------------------------------------------------------
# Argument helpers
# ----------------------------------------------------------------------------------------------------


def _as_generator(rng) -> np.random.Generator:
    """Accept a ``Generator`` or an int seed; anything else (including ``None``) is a ``TypeError``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        "rng must be a np.random.Generator or an int seed, e.g. rng=np.random.default_rng(0); "
        f"got {type(rng).__name__}"
    )


def _positive_int(value, name: str, *, minimum: int = 1) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _sklearn_seed(rng: np.random.Generator) -> int:
    """An int seed for scikit-learn's ``random_state``, drawn from ``rng``."""
    return int(rng.integers(0, 2**31 - 1))


def _split_evenly(n_samples: int, n_parts: int) -> list[int]:
    """Sizes of ``n_parts`` groups adding up to ``n_samples``; the first groups get the remainder."""
    base, extra = divmod(n_samples, n_parts)
    return [base + (part < extra) for part in range(n_parts)]


# ----------------------------------------------------------------------------------------------------
# Boolean functions (decks 000 and 001)
# ----------------------------------------------------------------------------------------------------


def truth_table(fn: Callable[..., object], n_inputs: int, encoding: str = "binary"):
    """The full truth table of the Boolean function ``fn`` of ``n_inputs`` inputs.

    ``fn`` is called once per row with ``n_inputs`` Python booleans (``fn(x1, x2, ...)``); its result
    is read as a truth value. Rows enumerate the inputs in counting order, first input most
    significant: for two inputs (F,F), (F,T), (T,F), (T,T).

    ``encoding="binary"`` codes False/True as 0/1; ``encoding="bipolar"`` codes them as -1/+1 in both
    inputs and targets, as deck 001 does ("True is 1 and False is -1").

    Returns ``X`` float64 ``(2**n_inputs, n_inputs)`` and ``y`` int64 ``(2**n_inputs,)``.
    """
    if not callable(fn):
        raise TypeError(f"fn must be a callable taking {n_inputs} booleans, got {type(fn).__name__}")
    n_inputs = _positive_int(n_inputs, "n_inputs")
    if encoding not in _ENCODINGS:
        raise ValueError(f"encoding must be one of {_ENCODINGS}, got {encoding!r}")
    rows = list(itertools.product((False, True), repeat=n_inputs))
    truth_inputs = np.array(rows, dtype=bool).reshape(len(rows), n_inputs)
    truth_targets = np.array([bool(fn(*row)) for row in rows], dtype=bool)
    if encoding == "binary":
        return truth_inputs.astype(np.float64), truth_targets.astype(np.int64)
    return (2.0 * truth_inputs - 1.0), (2 * truth_targets.astype(np.int64) - 1)


def boolean_table(name: str, n_inputs: int = 2, *, encoding: str = "binary"):
    """Truth table of a named Boolean function: "and", "or", "nand", "nor", "xor" or "parity".

    All of them accept any number of inputs; "xor" and "parity" are the same function (true when an
    odd number of inputs are true). See ``truth_table`` for the row order, the encodings and the
    returned arrays. Example: ``X, y = boolean_table("xor")`` gives the XOR table of deck 000.
    """
    if not isinstance(name, str) or name.lower() not in BOOLEAN_FUNCTIONS:
        raise ValueError(f"name must be one of {sorted(BOOLEAN_FUNCTIONS)}, got {name!r}")
    return truth_table(BOOLEAN_FUNCTIONS[name.lower()], n_inputs, encoding)


# ----------------------------------------------------------------------------------------------------
# Two-dimensional classification problems
# ----------------------------------------------------------------------------------------------------


def blobs(n_samples: int = 200, centers=3, cluster_std: float = 0.5, *, rng):
    """Gaussian blobs: class ``k`` is drawn from N(center_k, cluster_std² I).

    ``centers`` is either an int ``K`` (K centers evenly spaced on a circle of radius 3 around the
    origin, far enough apart that the default blobs do not overlap) or an array ``(K, D)`` of centers.
    The ``n_samples`` points are split as evenly as possible between the classes.

    Returns ``X`` float64 ``(n_samples, D)`` and ``y`` int64 ``(n_samples,)`` with values ``0..K-1``.
    """
    rng = _as_generator(rng)
    n_samples = _positive_int(n_samples, "n_samples")
    if isinstance(centers, (int, np.integer)) and not isinstance(centers, bool):
        n_classes = _positive_int(centers, "centers")
        angles = 2 * np.pi * np.arange(n_classes) / n_classes
        center_points = 3.0 * np.column_stack([np.cos(angles), np.sin(angles)])
    else:
        center_points = as_float_array(centers, "centers", ndim=2).astype(np.float64)
    cluster_std = float(np.asarray(cluster_std))
    if not cluster_std >= 0:
        raise ValueError(f"cluster_std must be >= 0, got {cluster_std}")
    sizes = _split_evenly(n_samples, len(center_points))
    X = np.concatenate(
        [c + cluster_std * rng.standard_normal((size, c.size)) for c, size in zip(center_points, sizes)]
    )
    y = np.repeat(np.arange(len(center_points), dtype=np.int64), sizes)
    return X, y


def _random_hyperplane(n_features, max_offset, rng):
    """A hyperplane ``w·x + b = 0`` with a random unit normal ``w`` and ``|b| <= max_offset``.

    Over the box [-1, 1]^D, ``w·x`` takes every value in [-1, 1] (``‖w‖₁ >= ‖w‖₂ = 1``), so with
    ``max_offset < 1`` both sides of the hyperplane cut into the box.
    """
    w = rng.standard_normal(n_features)
    w /= np.linalg.norm(w)
    return w, rng.uniform(-max_offset, max_offset)


def linearly_separable(
    n_samples: int = 100, *, n_features: int = 2, margin: float = 0.1, rng, return_boundary=False
):
    """Two linearly separable classes with a guaranteed margin.

    Points are uniform in the box ``[-1, 1]^D``, labelled 1 on the positive side of a random
    hyperplane ``w·x + b = 0`` (``‖w‖ = 1``) and 0 on the other side; points closer than ``margin``
    (in [0, 1)) to the hyperplane are redrawn, so every point has ``|w·x + b| >= margin``. The
    perceptron convergence theorem (decks 000 and 001) then guarantees the perceptron learns it.

    Returns ``X`` float64 ``(n_samples, n_features)``, ``y`` int64 ``(n_samples,)`` in {0, 1} and, with
    ``return_boundary=True``, also the true ``w`` ``(n_features,)`` and ``b`` (float).
    """
    rng = _as_generator(rng)
    n_samples = _positive_int(n_samples, "n_samples")
    n_features = _positive_int(n_features, "n_features")
    margin = check_probability(margin, "margin")
    # |b| <= (1 - margin) / 2 leaves room beyond the margin on both sides of the hyperplane.
    w, b = _random_hyperplane(n_features, (1.0 - margin) / 2, rng)
    kept = np.empty((0, n_features))
    while len(kept) < n_samples:  # rejection sampling: each round keeps a fixed fraction on average
        candidates = rng.uniform(-1.0, 1.0, size=(2 * n_samples, n_features))
        kept = np.concatenate([kept, candidates[np.abs(candidates @ w + b) >= margin]])
    X = kept[:n_samples]
    y = (X @ w + b > 0).astype(np.int64)
    return (X, y, w, float(b)) if return_boundary else (X, y)


def noisy_linear(n_samples: int = 100, *, n_features: int = 2, flip_fraction: float = 0.1, rng):
    """A linear problem with label noise: not linearly separable.

    Points uniform in ``[-1, 1]^D`` are labelled by the side of a random hyperplane, as in
    ``linearly_separable`` but without margin, then the labels of ``round(flip_fraction * n_samples)``
    randomly chosen points are flipped. Use it to show that the perceptron never settles while the
    delta rule / logistic regression still converge (deck 001, "perceptron vs delta rule").

    Returns ``X`` float64 ``(n_samples, n_features)`` and ``y`` int64 ``(n_samples,)`` in {0, 1}.
    """
    rng = _as_generator(rng)
    n_samples = _positive_int(n_samples, "n_samples")
    n_features = _positive_int(n_features, "n_features")
    flip_fraction = check_probability(flip_fraction, "flip_fraction", allow_one=True)
    w, b = _random_hyperplane(n_features, 0.5, rng)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, n_features))
    y = (X @ w + b > 0).astype(np.int64)
    flipped = rng.choice(n_samples, size=round(flip_fraction * n_samples), replace=False)
    y[flipped] = 1 - y[flipped]
    return X, y


def spiral(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, *, rng):
    """The spiral dataset of deck 004 and CS231n ("Linear classifier: 49%, Neural network: 98%").

    Class ``j`` has ``n_per_class`` points at radius ``r = linspace(0, 1, N)`` and angle
    ``θ = linspace(4j, 4(j+1), N) + noise · ε`` with ``ε ~ N(0, 1)``, placed at
    ``(r sin θ, r cos θ)``: exactly CS231n's construction, with the normal draws taken from ``rng``
    one class after the other.

    Returns ``X`` float64 ``(n_per_class * n_classes, 2)`` and ``y`` int64 with values ``0..K-1``.
    """
    rng = _as_generator(rng)
    n_per_class = _positive_int(n_per_class, "n_per_class")
    n_classes = _positive_int(n_classes, "n_classes")
    noise = float(noise)
    X = np.zeros((n_per_class * n_classes, 2))
    y = np.zeros(n_per_class * n_classes, dtype=np.int64)
    for j in range(n_classes):
        rows = slice(n_per_class * j, n_per_class * (j + 1))
        radius = np.linspace(0.0, 1.0, n_per_class)
        theta = np.linspace(j * 4, (j + 1) * 4, n_per_class) + noise * rng.standard_normal(n_per_class)
        X[rows] = np.column_stack([radius * np.sin(theta), radius * np.cos(theta)])
        y[rows] = j
    return X, y


def _grouped_by_class(X, y):
    """Sort a scikit-learn dataset by class (stable), so every dataset here has the same layout."""
    order = np.argsort(y, kind="stable")
    return np.asarray(X, dtype=np.float64)[order], np.asarray(y, dtype=np.int64)[order]


def moons(n_samples: int = 200, *, noise: float = 0.1, rng):
    """Two interleaving half circles (scikit-learn's ``make_moons``), a classic non-linear problem.

    Without noise, class 0 lies on the upper unit half circle and class 1 on the lower half circle
    centred at (1, 0.5). Returns ``X`` float64 ``(n_samples, 2)`` and ``y`` int64 in {0, 1}.
    """
    rng = _as_generator(rng)
    n_samples = _positive_int(n_samples, "n_samples", minimum=2)
    X, y = make_moons(n_samples, noise=float(noise), random_state=_sklearn_seed(rng))
    return _grouped_by_class(X, y)


def circles(n_samples: int = 200, *, noise: float = 0.05, factor: float = 0.5, rng):
    """Two concentric circles (scikit-learn's ``make_circles``): class 0 outside, class 1 inside.

    Without noise, class 0 lies on the unit circle and class 1 on the circle of radius ``factor``.
    Returns ``X`` float64 ``(n_samples, 2)`` and ``y`` int64 in {0, 1}.
    """
    rng = _as_generator(rng)
    n_samples = _positive_int(n_samples, "n_samples", minimum=2)
    X, y = make_circles(n_samples, noise=float(noise), factor=float(factor), random_state=_sklearn_seed(rng))
    return _grouped_by_class(X, y)


# ----------------------------------------------------------------------------------------------------
# Regression and real data
# ----------------------------------------------------------------------------------------------------


def regression_1d(fn: Callable[[np.ndarray], np.ndarray], n_samples: int = 50, *, noise: float = 0.1,
                  x_range: tuple[float, float] = (-1.0, 1.0), rng):
    """Noisy samples of a function of one variable: ``y = fn(x) + noise · ε``, ``ε ~ N(0, 1)``.

    ``x`` is uniform in ``x_range`` and sorted (so ``plt.plot(X, y)`` draws a curve); ``fn`` must be
    vectorised (e.g. ``np.sin``). Returns ``X`` float64 ``(n_samples, 1)`` (one feature per row, ready
    for a network) and ``y`` float64 ``(n_samples,)``.
    """
    if not callable(fn):
        raise TypeError(f"fn must be a vectorised function of x, got {type(fn).__name__}")
    rng = _as_generator(rng)
    n_samples = _positive_int(n_samples, "n_samples")
    low, high = (float(v) for v in x_range)
    if not low < high:
        raise ValueError(f"x_range must be (low, high) with low < high, got {x_range}")
    x = np.sort(rng.uniform(low, high, size=n_samples))
    clean = np.asarray(fn(x.copy()), dtype=np.float64)  # a copy: fn cannot change our x
    if clean.shape != x.shape:
        raise ValueError(f"fn must map x of shape {x.shape} to the same shape, got shape {clean.shape}")
    return x[:, None], clean + float(noise) * rng.standard_normal(n_samples)


DIGITS_TEST_SIZE = 360  # one fifth of scikit-learn's 1797 digits
_DIGITS_SPLIT_SEED = 0


def digits(*, flatten: bool = True):
    """scikit-learn's 8×8 handwritten digits, pixels scaled to [0, 1], with a fixed split.

    The 1797 images (pixel values 0..16, divided by 16) are split once and for all, stratified by
    class, into 1437 training and 360 test images; every call returns the same split.

    Returns ``((X_train, y_train), (X_test, y_test))``: ``X`` float64 ``(N, 64)`` (or ``(N, 8, 8)``
    with ``flatten=False``) and ``y`` int64 ``(N,)`` with values 0..9, like ``nnkit.mnist.load_mnist``.
    """
    bunch = load_digits()
    images = bunch.images.astype(np.float64) / 16.0
    X = images.reshape(len(images), -1) if flatten else images
    X_train, X_test, y_train, y_test = train_test_split(
        X, bunch.target.astype(np.int64), test_size=DIGITS_TEST_SIZE,
        stratify=bunch.target, random_state=_DIGITS_SPLIT_SEED,
    )
    return (X_train, y_train), (X_test, y_test)


# ----------------------------------------------------------------------------------------------------
# Preparing data
# ----------------------------------------------------------------------------------------------------


def train_val_split(X, y, val_fraction: float = 0.2, *, rng):
    """Shuffle and split ``(X, y)`` into a training and a validation part.

    ``round(val_fraction * N)`` random samples (at least one, and at least one left for training)
    go to the validation part. The inputs are not modified.

    Returns ``((X_train, y_train), (X_val, y_val))`` with the dtypes of the inputs.
    """
    rng = _as_generator(rng)
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"X and y must have one sample per row, got X shape {X.shape}, y shape {y.shape}")
    check_same_rows(X, "X", y, "y")
    n_samples = len(X)
    if n_samples < 2:
        raise ValueError(f"need at least 2 samples to split, X has shape {X.shape}")
    val_fraction = check_probability(val_fraction, "val_fraction")
    if val_fraction == 0:
        raise ValueError("val_fraction must be > 0 (and < 1), got 0.0")
    n_val = min(max(round(val_fraction * n_samples), 1), n_samples - 1)
    order = rng.permutation(n_samples)
    val, train = order[:n_val], order[n_val:]
    return (X[train], y[train]), (X[val], y[val])


def one_hot(y, n_classes: int | None = None) -> np.ndarray:
    """One-hot rows for class labels: ``T[i, y[i]] = 1``, all other entries 0.

    ``y`` int ``(N,)`` with values in ``0..n_classes-1`` (``n_classes`` defaults to ``max(y) + 1``).
    Returns float64 ``(N, n_classes)``, the target form of the lectures' cross-entropy sums.
    """
    if n_classes is not None:
        n_classes = _positive_int(n_classes, "n_classes")
    labels = check_labels(y, "y", n_classes)
    if n_classes is None:
        n_classes = int(labels.max()) + 1 if labels.size else 0
    encoded = np.zeros((labels.size, n_classes))
    encoded[np.arange(labels.size), labels] = 1.0
    return encoded


def standardize(X_train, *others):
    """Scale every feature to zero mean and unit variance, using statistics of ``X_train`` only.

    ``x' = (x − μ) / σ`` with ``μ`` and ``σ`` (population standard deviation, as scikit-learn's
    ``StandardScaler``) computed per column of ``X_train`` ``(N, D)``; the same ``μ, σ`` are applied
    to each array of ``others`` (validation and test sets: using their own statistics would leak
    information). Constant columns (``σ = 0``, e.g. MNIST's border pixels) are only centred.

    Returns the standardized ``X_train`` alone when no ``others`` are given, else a tuple
    ``(X_train, *others)``. Floating dtypes are kept; integer inputs become float64.
    """
    X_train = as_float_array(X_train, "X_train", ndim=2)
    arrays = [X_train]
    for position, other in enumerate(others):
        other = as_float_array(other, f"others[{position}]", ndim=2)
        if other.shape[1] != X_train.shape[1]:
            raise ValueError(
                f"others[{position}] must have {X_train.shape[1]} columns like X_train, "
                f"got shape {other.shape} (X_train has shape {X_train.shape})"
            )
        arrays.append(other)
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    scale = np.where(std > 0, std, 1.0).astype(X_train.dtype)
    scaled = tuple(((a - mean) / scale).astype(a.dtype, copy=False) for a in arrays)
    return scaled[0] if not others else scaled
