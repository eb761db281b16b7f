"""Figures the notebooks draw: decision regions, loss curves, weight images, confusion matrices, digits,
optimizer paths.

Every function draws with matplotlib and returns what it drew on (an ``Axes`` or a ``Figure``) so a
notebook can add titles or save it; none calls ``plt.show()`` (Jupyter shows figures by itself).
Functions taking ``ax=None`` draw on a new figure unless an ``Axes`` is given. Class ``k`` always has
the ``k``-th colour of matplotlib's "tab10" palette, in regions and in points alike.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from nnkit.validation import as_float_array, check_labels, check_ndim, check_same_rows

__all__ = [
    "plot_decision_boundary",
    "plot_line_boundary",
    "plot_curves",
    "plot_weights_as_images",
    "plot_confusion_matrix",
    "plot_digit_grid",
    "plot_trajectories",
]

CLASS_COLORS = plt.get_cmap("tab10").colors



def _set_labels(ax, **properties):
    """``ax.set`` for the given properties, skipping ``None`` so an existing title or limit survives."""
    ax.set(**{name: value for name, value in properties.items() if value is not None})

def _class_color(k: int):
    return CLASS_COLORS[k % len(CLASS_COLORS)]


def _axes(ax):
    """The given ``Axes``, or the ``Axes`` of a new figure."""
    if ax is None:
        _, ax = plt.subplots(layout="constrained")
    return ax


def _points_2d(X, name: str = "X") -> np.ndarray:
    X = as_float_array(X, name, ndim=2)
    if X.shape[1] != 2:
        raise ValueError(f"{name} must have 2 columns (points in the plane), got shape {X.shape}")
    return X


def _class_indices(values, name: str) -> np.ndarray:
    """Class labels as int64; booleans (a region test such as "inside") count as classes 0 and 1."""
    values = np.asarray(values)
    return check_labels(values.astype(np.int64) if values.dtype == bool else values, name)


def _optional_labels(values, name: str, X: np.ndarray):
    """``values`` as int64 labels, one per row of ``X``, or None."""
    if values is None:
        return None
    labels = _class_indices(values, name)
    check_same_rows(X, "X", labels, name)
    return labels


def _scatter_classes(ax, X: np.ndarray, labels: np.ndarray | None) -> None:
    """Scatter the points of each class in its colour (one artist per class, labelled for a legend)."""
    if labels is None:
        ax.scatter(X[:, 0], X[:, 1], color="k", s=20)
        return
    for k in np.unique(labels):
        members = labels == k
        ax.scatter(X[members, 0], X[members, 1], color=_class_color(k), edgecolors="k",
                   linewidths=0.5, s=25, label=f"class {k}")
    ax.legend(loc="best", fontsize="small")


def _padded_limits(values: np.ndarray, padding: float) -> tuple[float, float]:
    low, high = float(values.min()), float(values.max())
    return low - padding, high + padding


# ----------------------------------------------------------------------------------------------------
# Decision boundaries
# ----------------------------------------------------------------------------------------------------


def plot_decision_boundary(predict_fn: Callable[[np.ndarray], np.ndarray], X, y=None, ax=None, *,
                           resolution: int = 200, padding: float = 0.5, alpha: float = 0.3, title=None):
    """Colour the plane by the class ``predict_fn`` assigns, and scatter the data on top.

    ``predict_fn`` receives a float64 grid of points ``(resolution**2, 2)`` covering the range of
    ``X`` ``(N, 2)`` plus ``padding``, and returns class labels ``(M,)`` (booleans count as classes 0
    and 1) or per-class scores ``(M, K)`` (the arg-max is taken, e.g. a network's ``forward``). The
    regions are an image whose pixel centres are the grid points. ``y`` ``(N,)`` colours the points.

    Returns the ``Axes``.
    """
    if not callable(predict_fn):
        raise TypeError(f"predict_fn must be callable, got {type(predict_fn).__name__}")
    X = _points_2d(X)
    labels = _optional_labels(y, "y", X)
    ax = _axes(ax)
    x_low, x_high = _padded_limits(X[:, 0], padding)
    y_low, y_high = _padded_limits(X[:, 1], padding)
    grid_x, grid_y = np.meshgrid(np.linspace(x_low, x_high, resolution),
                                 np.linspace(y_low, y_high, resolution))
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    predicted = np.asarray(predict_fn(grid))
    if predicted.ndim == 2:
        predicted = predicted.argmax(axis=1) if predicted.shape[1] > 1 else predicted[:, 0]
    predicted = _class_indices(predicted, "predict_fn(grid)")
    if predicted.shape != (len(grid),):
        raise ValueError(f"predict_fn must return {len(grid)} labels for a grid of shape {grid.shape}, "
                         f"got shape {predicted.shape}")
    n_classes = int(max(predicted.max(), labels.max() if labels is not None else 0)) + 1
    half_x = (x_high - x_low) / (resolution - 1) / 2
    half_y = (y_high - y_low) / (resolution - 1) / 2
    ax.imshow(predicted.reshape(grid_x.shape), origin="lower", interpolation="nearest", aspect="auto",
              extent=(x_low - half_x, x_high + half_x, y_low - half_y, y_high + half_y),
              cmap=ListedColormap([_class_color(k) for k in range(n_classes)]),
              vmin=-0.5, vmax=n_classes - 0.5, alpha=alpha)
    _scatter_classes(ax, X, labels)
    _set_labels(ax, xlabel="$x_1$", ylabel="$x_2$", title=title)
    return ax


def plot_line_boundary(w, b: float = 0.0, X=None, y=None, ax=None, *, padding: float = 0.5,
                       label: str = "$w^T x + b = 0$", color="k", title=None):
    """Draw the decision boundary ``w₁x₁ + w₂x₂ + b = 0`` of a linear unit (decks 000 and 001).

    ``w`` has 2 entries (shape ``(2,)``, ``(2, 1)`` or ``(1, 2)``), ``b`` is a number. When ``X``
    ``(N, 2)`` (and ``y``) are given they are scattered first and the view is their range plus
    ``padding``; otherwise the line spans the current view of ``ax``. Returns the ``Axes``.
    """
    w = as_float_array(w, "w").ravel()
    if w.shape != (2,):
        raise ValueError(f"w must hold 2 weights for points in the plane, got {w.size} entries")
    if not np.any(w):
        raise ValueError("w is all zeros: w·x + b = 0 is not a line")
    b = float(np.asarray(b).squeeze())
    ax = _axes(ax)
    if X is not None:
        X = _points_2d(X)
        _scatter_classes(ax, X, _optional_labels(y, "y", X))
        ax.set_xlim(*_padded_limits(X[:, 0], padding))
        ax.set_ylim(*_padded_limits(X[:, 1], padding))
    x_low, x_high = ax.get_xlim()
    y_low, y_high = ax.get_ylim()
    # Solve for the coordinate with the larger weight: no division by (almost) zero, vertical lines work.
    if abs(w[1]) >= abs(w[0]):
        x1 = np.array([x_low, x_high])
        x2 = -(w[0] * x1 + b) / w[1]
    else:
        x2 = np.array([y_low, y_high])
        x1 = -(w[1] * x2 + b) / w[0]
    ax.plot(x1, x2, color=color, label=label)
    ax.set_xlim(x_low, x_high)
    ax.set_ylim(y_low, y_high)
    ax.legend(loc="best", fontsize="small")
    _set_labels(ax, xlabel="$x_1$", ylabel="$x_2$", title=title)
    return ax


# ----------------------------------------------------------------------------------------------------
# Training curves
# ----------------------------------------------------------------------------------------------------


def _numeric_series(value) -> bool:
    if value is None or isinstance(value, (str, bytes)):
        return False
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return array.ndim == 1 and array.size > 0


def _history_series(history) -> dict[str, np.ndarray]:
    """Name -> 1-D float series, from a mapping of lists or an object whose attributes are lists."""
    if isinstance(history, Mapping):
        items = dict(history)
    elif dataclasses.is_dataclass(history):
        items = {field.name: getattr(history, field.name) for field in dataclasses.fields(history)}
    elif hasattr(history, "__dict__"):
        items = vars(history)
    else:
        raise TypeError(f"history must be a dict of lists or a History object, got {type(history).__name__}")
    return {str(name): np.asarray(value, dtype=np.float64) for name, value in items.items()
            if _numeric_series(value)}


def plot_curves(history, ax=None, *, keys: Sequence[str] | None = None, xlabel: str = "epoch",
                ylabel: str | None = None, logy: bool = False, title=None):
    """Plot per-epoch curves (losses or accuracies) against the epoch number 1, 2, ...

    ``history`` is a dict of lists (``{"train_loss": [...], "val_loss": [...]}``) or a training
    ``History`` object whose attributes are such lists. ``keys`` picks the curves (default: every
    non-empty numeric series); plot losses and accuracies in separate calls, their scales differ.
    ``logy=True`` uses a logarithmic y axis. Returns the ``Axes``.
    """
    series = _history_series(history)
    if keys is None:
        keys = list(series)
    missing = [key for key in keys if key not in series]
    if missing or not keys:
        raise ValueError(
            f"keys {missing or list(keys)} are not curves of history; available: {sorted(series)}")
    ax = _axes(ax)
    for key in keys:
        values = series[key]
        ax.plot(np.arange(1, values.size + 1), values, marker="o" if values.size <= 30 else None,
                markersize=3, label=key)
    if logy:
        ax.set_yscale("log")
    ax.legend(loc="best", fontsize="small")
    _set_labels(ax, xlabel=xlabel, ylabel=ylabel, title=title)
    return ax


# ----------------------------------------------------------------------------------------------------
# Image grids
# ----------------------------------------------------------------------------------------------------


def _image_grid(n_images: int, ncols: int, cell_size: float = 1.4):
    """A figure with ``n_images`` image axes (extra cells hidden); returns the figure and the axes."""
    ncols = max(1, min(ncols, n_images))
    nrows = math.ceil(n_images / ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, layout="constrained",
                             figsize=(cell_size * ncols, cell_size * nrows + 0.2))
    axes = axes.ravel()
    for ax in axes:
        ax.set_axis_off()
    return fig, axes[:n_images]


def _image_shape(n_pixels: int, shape) -> tuple[int, ...]:
    if shape is None:
        side = math.isqrt(n_pixels)
        if side * side != n_pixels:
            raise ValueError(f"cannot guess the image shape of {n_pixels} pixels: pass shape=(rows, cols)")
        return (side, side)
    shape = tuple(int(s) for s in shape)
    if math.prod(shape) != n_pixels:
        raise ValueError(f"shape {shape} has {math.prod(shape)} pixels, the images have {n_pixels}")
    return shape


def plot_weights_as_images(W, shape=(28, 28), *, titles: Sequence[str] | None = None, ncols: int = 5,
                           cmap: str = "seismic"):
    """Show each output unit's weights as an image (the "templates" a linear classifier learns).

    ``W`` is ``(D, K)`` in the row-vector convention (``scores = X @ W``; column ``k`` is unit ``k``'s
    weights) with ``D = rows·cols``; ``(K, D)`` weights as scikit-learn's ``coef_`` or a torch
    ``Linear.weight`` are recognised too (when ``D != K``). Each image has a symmetric colour scale,
    so 0 is white: red pixels push towards the class, blue ones against it.

    Returns the ``Figure``; its first ``K`` axes hold the images, titled ``titles[k]`` (default ``k``).
    """
    W = as_float_array(W, "W", ndim=(1, 2))
    if W.ndim == 1:
        W = W[:, None]
    n_pixels = math.prod(shape)
    if W.shape[0] == n_pixels:
        templates = W.T
    elif W.shape[1] == n_pixels:
        templates = W
    else:
        raise ValueError(f"W must be (D, K) or (K, D) with D = {n_pixels} pixels for shape {tuple(shape)}, "
                         f"got shape {W.shape}")
    if titles is not None and len(titles) != len(templates):
        raise ValueError(f"titles must have {len(templates)} entries (one per unit), got {len(titles)}")
    fig, axes = _image_grid(len(templates), ncols)
    for k, (ax, template) in enumerate(zip(axes, templates)):
        limit = float(np.abs(template).max()) or 1.0
        ax.imshow(template.reshape(shape), cmap=cmap, vmin=-limit, vmax=limit)
        ax.set_title(str(titles[k] if titles is not None else k), fontsize="small")
    return fig


def plot_digit_grid(X, y=None, *, y_pred=None, n: int = 25, ncols: int = 5, shape=None,
                    cmap: str = "gray_r"):
    """Show the first ``n`` images of ``X`` in a grid, titled with their labels.

    ``X`` is ``(N, rows·cols)`` (e.g. ``(N, 784)``, the shape is guessed when square) or
    ``(N, rows, cols)``. Titles: the label ``y[i]``; with ``y_pred`` the prediction, and for a wrong
    prediction "pred (true label)" in red. Returns the ``Figure``.
    """
    X = as_float_array(X, "X", ndim=(2, 3))
    image_shape = X.shape[1:] if X.ndim == 3 else _image_shape(X.shape[1], shape)
    true, predicted = (_optional_labels(values, name, X) for values, name in ((y, "y"), (y_pred, "y_pred")))
    n_images = min(int(n), len(X))
    if n_images < 1:
        raise ValueError(f"nothing to show: n={n}, X has shape {X.shape}")
    fig, axes = _image_grid(n_images, ncols)
    for i, ax in enumerate(axes):
        ax.imshow(X[i].reshape(image_shape), cmap=cmap)
        title, color = "", "k"
        if predicted is not None:
            title = str(predicted[i])
            if true is not None and predicted[i] != true[i]:
                title, color = f"{predicted[i]} (true {true[i]})", "tab:red"
        elif true is not None:
            title = str(true[i])
        ax.set_title(title, color=color, fontsize="small")
    return fig


# ----------------------------------------------------------------------------------------------------
# Confusion matrix
# ----------------------------------------------------------------------------------------------------

_NORMALIZATIONS = (None, "true", "pred", "all")


def plot_confusion_matrix(y_true, y_pred, labels=None, ax=None, *, display_labels=None, normalize=None,
                          cmap: str = "Blues", title=None):
    """Draw the confusion matrix ``C[i, j]`` = number of samples of true class ``labels[i]`` predicted
    as ``labels[j]`` (scikit-learn's convention: rows are true classes, columns predictions).

    ``labels`` lists the classes and their order (default: every value in ``y_true`` or ``y_pred``,
    sorted); samples with other values are ignored. ``normalize`` = "true" (rows sum to 1), "pred"
    (columns sum to 1), "all" or None (counts). Each cell is annotated with its value.

    Returns the ``Axes``; ``ax.images[0].get_array()`` is the matrix.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    check_ndim(y_true, "y_true", 1)
    check_ndim(y_pred, "y_pred", 1)
    check_same_rows(y_true, "y_true", y_pred, "y_pred")
    if normalize not in _NORMALIZATIONS:
        raise ValueError(f"normalize must be one of {_NORMALIZATIONS}, got {normalize!r}")
    labels = np.unique(np.concatenate([y_true, y_pred])) if labels is None else np.asarray(labels)
    index = {label: i for i, label in enumerate(labels.tolist())}
    counts = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for true, predicted in zip(y_true.tolist(), y_pred.tolist()):
        if true in index and predicted in index:
            counts[index[true], index[predicted]] += 1
    matrix = counts if normalize is None else _normalized(counts, normalize)
    ax = _axes(ax)
    image = ax.imshow(matrix, cmap=cmap)
    threshold = matrix.max() / 2 if matrix.size else 0
    for (i, j), value in np.ndenumerate(matrix):
        text = f"{value:d}" if normalize is None else f"{value:.2f}"
        ax.text(j, i, text, ha="center", va="center", fontsize="small",
                color="white" if value > threshold else "black")
    names = [str(v) for v in (labels if display_labels is None else display_labels)]
    if len(names) != len(labels):
        raise ValueError(f"display_labels must have {len(labels)} entries, got {len(names)}")
    ticks = np.arange(len(labels))
    ax.set_xticks(ticks, names)
    ax.set_yticks(ticks, names)
    _set_labels(ax, xlabel="predicted class", ylabel="true class", title=title)
    ax.figure.colorbar(image, ax=ax)
    return ax


def _normalized(counts: np.ndarray, normalize: str) -> np.ndarray:
    totals = {"true": counts.sum(axis=1, keepdims=True), "pred": counts.sum(axis=0, keepdims=True),
              "all": counts.sum()}[normalize]
    # Empty rows/columns stay 0 instead of 0/0 = NaN.
    return np.divide(counts, totals, out=np.zeros(counts.shape), where=np.asarray(totals) > 0)


# ----------------------------------------------------------------------------------------------------
# Optimizer paths
# ----------------------------------------------------------------------------------------------------


def plot_trajectories(f: Callable[[np.ndarray, np.ndarray], np.ndarray], paths, ax=None, *,
                      xlim=None, ylim=None, levels=30, resolution: int = 200, title=None):
    """Contour lines of a function of two variables with optimizer paths drawn over them.

    ``f(x1, x2)`` must be vectorised: it receives two grid arrays of shape ``(resolution, resolution)``
    and returns the values on the grid (e.g. ``lambda a, b: a**2 + 10 * b**2``). ``paths`` is a dict
    ``{name: points}`` or a list of point arrays, each ``(T, 2)``: the iterates ``θ_0, θ_1, ...`` of an
    optimizer. ``xlim``/``ylim`` default to the paths' range plus 10 %. ``levels`` is passed to
    ``Axes.contour`` (a number or increasing values, e.g. ``np.logspace(-1, 3, 20)`` for steep
    functions). Returns the ``Axes``; the paths are its lines, in order, with a start marker.
    """
    if not callable(f):
        raise TypeError(f"f must be a vectorised function f(x1, x2), got {type(f).__name__}")
    named = paths.items() if isinstance(paths, Mapping) else ((None, p) for p in paths)
    tracks = [(name, _points_2d(points, f"paths[{name!r}]" if name is not None else f"paths[{i}]"))
              for i, (name, points) in enumerate(named)]
    if not tracks:
        raise ValueError("paths is empty: give at least one (T, 2) array of iterates")
    stacked = np.concatenate([points for _, points in tracks])
    xlim = _view_range(stacked[:, 0]) if xlim is None else xlim
    ylim = _view_range(stacked[:, 1]) if ylim is None else ylim
    grid_x, grid_y = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    values = np.asarray(f(grid_x, grid_y), dtype=np.float64)
    if values.shape != grid_x.shape:
        raise ValueError(f"f must return an array of shape {grid_x.shape} for grid arrays of that shape, "
                         f"got shape {values.shape}")
    ax = _axes(ax)
    ax.contour(grid_x, grid_y, values, levels=levels, cmap="viridis", linewidths=0.8)
    for i, (name, points) in enumerate(tracks):
        ax.plot(points[:, 0], points[:, 1], marker="o", markersize=3, markevery=[0],
                color=_class_color(i), label=name if name is not None else f"path {i}")
    ax.legend(loc="best", fontsize="small")
    _set_labels(ax, xlim=xlim, ylim=ylim, xlabel=r"$\theta_1$", ylabel=r"$\theta_2$", title=title)
    return ax


def _view_range(values: np.ndarray) -> tuple[float, float]:
    low, high = float(values.min()), float(values.max())
    margin = 0.1 * (high - low) or 1.0
    return low - margin, high + margin
