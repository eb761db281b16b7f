"""nnkit.plots rendered with Agg: the artists hold the data they should (checked against the inputs,
geometry computed here, and scikit-learn's confusion_matrix), without warnings, stderr or plt.show()."""

import dataclasses

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from sklearn.metrics import confusion_matrix  # noqa: E402

from nnkit import plots  # noqa: E402

pytestmark = pytest.mark.filterwarnings("error")  # a warning would reach stderr in a notebook


@pytest.fixture(autouse=True)
def clean_figures_no_show_no_stderr(monkeypatch, capfd):
    def forbidden_show(*args, **kwargs):
        raise AssertionError("library code must not call plt.show()")

    monkeypatch.setattr(plt, "show", forbidden_show)
    yield
    for number in plt.get_fignums():
        plt.figure(number).canvas.draw()  # render everything: drawing errors surface here
    plt.close("all")
    assert capfd.readouterr().err == ""


def pixel_centers(image):
    """Centres of an image's pixels in data coordinates, from its extent and origin."""
    left, right, bottom, top = image.get_extent()
    rows, cols = image.get_array().shape
    xs = left + (np.arange(cols) + 0.5) * (right - left) / cols
    ys = bottom + (np.arange(rows) + 0.5) * (top - bottom) / rows
    if image.origin == "upper":  # row 0 is drawn at the top
        ys = ys[::-1]
    return np.meshgrid(xs, ys)


# ----------------------------------------------------------------------------------------------------
# Decision boundaries
# ----------------------------------------------------------------------------------------------------

X_THREE = np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, 2.0], [2.0, -1.0], [0.5, 0.5]])
Y_THREE = np.array([0, 1, 2, 1, 0])


def three_regions(points):
    """0 left of x1 = -0.33, 1 right of it below x2 = 0.77, 2 above (lines between grid points)."""
    return np.where(points[:, 0] < -0.33, 0, np.where(points[:, 1] < 0.77, 1, 2))


def test_decision_regions_are_the_predictions_at_the_pixel_centres():
    seen = []

    def predict(points):
        seen.append(points.copy())
        return three_regions(points)

    ax = plots.plot_decision_boundary(predict, X_THREE, Y_THREE, resolution=41, padding=0.5)
    (grid,) = seen
    assert grid.shape == (41 * 41, 2) and grid.dtype == np.float64
    np.testing.assert_allclose(grid.min(axis=0), X_THREE.min(axis=0) - 0.5)
    np.testing.assert_allclose(grid.max(axis=0), X_THREE.max(axis=0) + 0.5)
    (image,) = ax.images
    centers_x, centers_y = pixel_centers(image)
    expected = three_regions(np.column_stack([centers_x.ravel(), centers_y.ravel()])).reshape(41, 41)
    np.testing.assert_array_equal(image.get_array(), expected)
    # one scatter per class, at the class's points, in the colour of its region
    assert len(ax.collections) == 3
    for k, collection in enumerate(ax.collections):
        np.testing.assert_array_equal(collection.get_offsets(), X_THREE[Y_THREE == k])
        np.testing.assert_allclose(collection.get_facecolor()[0], image.cmap(image.norm(k)), atol=1e-12)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1", "class 2"]


def test_decision_boundary_takes_the_argmax_of_scores_and_an_existing_axes():
    _, ax = plt.subplots()
    returned = plots.plot_decision_boundary(lambda p: np.eye(3)[three_regions(p)], X_THREE, Y_THREE,
                                            ax=ax, resolution=21)
    assert returned is ax
    reference = plots.plot_decision_boundary(three_regions, X_THREE, Y_THREE, resolution=21)
    np.testing.assert_array_equal(ax.images[0].get_array(), reference.images[0].get_array())
    # a boolean region test gives classes 0 (False) and 1 (True)
    inside = plots.plot_decision_boundary(lambda p: p[:, 1] >= 0.77, X_THREE, Y_THREE > 0, resolution=21)
    _, centers_y = pixel_centers(inside.images[0])
    np.testing.assert_array_equal(inside.images[0].get_array(), centers_y >= 0.77)
    assert len(inside.collections) == 2


def test_decision_boundary_bad_input():
    with pytest.raises(ValueError, match=r"X must have 2 columns.*\(4, 3\)"):
        plots.plot_decision_boundary(three_regions, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="predict_fn must return 100 labels"):
        plots.plot_decision_boundary(lambda p: np.zeros(3, int), X_THREE, resolution=10)
    with pytest.raises(TypeError, match="predict_fn"):
        plots.plot_decision_boundary(lambda p: p[:, 0] * 0.3, X_THREE, resolution=10)
    with pytest.raises(ValueError, match="X and y must have the same number of samples"):
        plots.plot_decision_boundary(three_regions, X_THREE, Y_THREE[:3], resolution=10)


def test_line_boundary_of_deck_000_perceptron():
    # deck 000: X1 = (2, 1) is class 1 (o < 0), X2 = (1, 2) is class 2 (o > 0); w = (-1, 1) does it
    X = np.array([[2.0, 1.0], [1.0, 2.0]])
    w, b = np.array([-1.0, 1.0]), 0.0
    ax = plots.plot_line_boundary(w, b, X, np.array([0, 1]))
    (line,) = ax.lines
    points = np.column_stack(line.get_data())
    np.testing.assert_allclose(points @ w + b, 0.0, atol=1e-12)
    np.testing.assert_allclose(points[:, 0], ax.get_xlim())  # spans the whole view
    assert ax.get_xlim() == (0.5, 2.5) and ax.get_ylim() == (0.5, 2.5)
    assert np.sign(X @ w + b).tolist() == [-1.0, 1.0]
    assert len(ax.collections) == 2


@pytest.mark.parametrize(("w", "b"), [([1.0, 0.0], -0.5), ([3.0, 0.01], 1.0), ([[0.0], [2.0]], 0.4)])
def test_line_boundary_steep_and_column_weights(w, b):
    _, ax = plt.subplots()
    ax.set(xlim=(-2, 2), ylim=(-3, 3))
    plots.plot_line_boundary(w, b, ax=ax)
    points = np.column_stack(ax.lines[0].get_data())
    np.testing.assert_allclose(points @ np.ravel(w) + b, 0.0, atol=1e-12)
    assert ax.get_xlim() == (-2, 2) and ax.get_ylim() == (-3, 3)


def test_line_boundary_bad_weights():
    with pytest.raises(ValueError, match="all zeros"):
        plots.plot_line_boundary([0.0, 0.0], 1.0)
    with pytest.raises(ValueError, match="w must hold 2 weights.*3 entries"):
        plots.plot_line_boundary([1.0, 2.0, 3.0], 0.0)


# ----------------------------------------------------------------------------------------------------
# Curves
# ----------------------------------------------------------------------------------------------------


def test_curves_from_a_dict():
    history = {"train_loss": [2.3, 1.1, 0.7], "val_loss": np.array([2.4, 1.3, 0.9]), "note": "run 1"}
    ax = plots.plot_curves(history)
    assert len(ax.lines) == 2
    for line, key in zip(ax.lines, ("train_loss", "val_loss")):
        np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
        np.testing.assert_array_equal(line.get_ydata(), history[key])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train_loss", "val_loss"]
    assert ax.get_xlabel() == "epoch"


def test_curves_from_a_history_object_with_selected_keys():
    @dataclasses.dataclass
    class History:
        train_loss: list
        train_acc: list
        val_acc: list
        val_loss: list | None = None

    history = History([1.0, 0.5], [0.6, 0.8], [0.55, 0.75])
    ax = plots.plot_curves(history, keys=["val_acc", "train_acc"], logy=True, ylabel="accuracy")
    assert [line.get_label() for line in ax.lines] == ["val_acc", "train_acc"]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [0.55, 0.75])
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "accuracy"

    class Plain:
        def __init__(self):
            self.loss = [3.0, 2.0, 1.0]
            self.val_loss = None

    assert [line.get_label() for line in plots.plot_curves(Plain()).lines] == ["loss"]
    with pytest.raises(ValueError, match=r"\['val_loss'\] are not curves of history; available: \['loss'\]"):
        plots.plot_curves(Plain(), keys=["val_loss"])


# ----------------------------------------------------------------------------------------------------
# Images
# ----------------------------------------------------------------------------------------------------


def visible_images(fig):
    return [ax.images[0] for ax in fig.axes if ax.images]


def test_weights_as_images_row_vector_and_sklearn_orientation():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((784, 7))
    fig = plots.plot_weights_as_images(W, ncols=5)
    images = visible_images(fig)
    assert len(fig.axes) == 10 and len(images) == 7
    for k, image in enumerate(images):
        np.testing.assert_array_equal(image.get_array(), W[:, k].reshape(28, 28))
        low, high = image.get_clim()
        assert low == -high == -np.abs(W[:, k]).max()
    assert [ax.get_title() for ax in fig.axes if ax.images] == [str(k) for k in range(7)]
    fig_coef = plots.plot_weights_as_images(W.T, titles=list("abcdefg"))
    for image, expected in zip(visible_images(fig_coef), visible_images(fig)):
        np.testing.assert_array_equal(image.get_array(), expected.get_array())
    assert [ax.get_title() for ax in fig_coef.axes if ax.images] == list("abcdefg")


def test_weights_as_images_bad_shape():
    with pytest.raises(ValueError, match=r"D = 64 pixels.*\(10, 10\)"):
        plots.plot_weights_as_images(np.zeros((10, 10)), shape=(8, 8))
    with pytest.raises(ValueError, match="titles must have 3 entries"):
        plots.plot_weights_as_images(np.zeros((64, 3)), shape=(8, 8), titles=["a"])


def test_digit_grid_titles_and_images():
    rng = np.random.default_rng(1)
    X = rng.random((6, 64))
    y = np.arange(6) % 10
    fig = plots.plot_digit_grid(X, y)  # fewer images than the default n = 25
    images = visible_images(fig)
    assert len(images) == 6 and len(fig.axes) == 10
    np.testing.assert_array_equal(images[3].get_array(), X[3].reshape(8, 8))
    assert [ax.get_title() for ax in fig.axes][:4] == ["0", "1", "2", "3"]
    y_pred = y.copy()
    y_pred[1] = 7
    fig = plots.plot_digit_grid(X, y, y_pred=y_pred, n=3, ncols=3)
    titles = [ax.title for ax in fig.axes]
    assert [t.get_text() for t in titles] == ["0", "7 (true 1)", "2"]
    assert to_rgba(titles[1].get_color()) == to_rgba("tab:red")
    assert to_rgba(titles[0].get_color()) == to_rgba("k")
    fig = plots.plot_digit_grid(X.reshape(6, 4, 16), n=2)
    assert visible_images(fig)[0].get_array().shape == (4, 16)
    with pytest.raises(ValueError, match="shape=\\(rows, cols\\)"):
        plots.plot_digit_grid(np.zeros((3, 10)))


# ----------------------------------------------------------------------------------------------------
# Confusion matrix
# ----------------------------------------------------------------------------------------------------


def test_confusion_matrix_counts_equal_sklearn():
    rng = np.random.default_rng(2)
    y_true = rng.integers(0, 4, 200)
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, 4, 200))
    ax = plots.plot_confusion_matrix(y_true, y_pred)
    expected = confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(ax.images[0].get_array(), expected)
    assert [t.get_text() for t in ax.texts] == [str(v) for v in expected.ravel()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1", "2", "3"]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"


def test_confusion_matrix_label_subsets_strings_and_normalization():
    y_true = np.array(["cat", "dog", "dog", "bird", "cat", "dog"])
    y_pred = np.array(["cat", "cat", "dog", "dog", "bird", "dog"])
    labels = ["dog", "cat"]
    ax = plots.plot_confusion_matrix(y_true, y_pred, labels)
    np.testing.assert_array_equal(ax.images[0].get_array(), confusion_matrix(y_true, y_pred, labels=labels))
    assert [t.get_text() for t in ax.get_xticklabels()] == labels
    for normalize in ("true", "pred", "all"):
        ax = plots.plot_confusion_matrix(y_true, y_pred, normalize=normalize, display_labels=["B", "C", "D"])
        np.testing.assert_allclose(ax.images[0].get_array(),
                                   confusion_matrix(y_true, y_pred, normalize=normalize), atol=1e-12)
        assert [t.get_text() for t in ax.get_yticklabels()] == ["B", "C", "D"]
    with pytest.raises(ValueError, match="normalize must be one of"):
        plots.plot_confusion_matrix(y_true, y_pred, normalize="rows")
    with pytest.raises(ValueError, match="y_true and y_pred must have the same number of samples"):
        plots.plot_confusion_matrix(y_true, y_pred[:2])


# ----------------------------------------------------------------------------------------------------
# Optimizer paths
# ----------------------------------------------------------------------------------------------------


def bowl(a, b):
    return a**2 + 10 * b**2


def test_trajectories_contour_and_paths():
    sgd = np.array([[2.0, 1.0], [1.0, -0.5], [0.2, 0.1]])
    adam = np.array([[2.0, 1.0], [1.5, 0.5], [1.0, 0.0], [0.0, 0.0]])
    ax = plots.plot_trajectories(bowl, {"SGD": sgd, "Adam": adam}, levels=12)
    assert len(ax.lines) == 2
    for line, path in zip(ax.lines, (sgd, adam)):
        np.testing.assert_array_equal(np.column_stack(line.get_data()), path)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SGD", "Adam"]
    (contours,) = ax.collections
    assert len(contours.levels) > 5
    # default view: the paths' range plus 10 %
    np.testing.assert_allclose(ax.get_xlim(), (-0.2, 2.2))
    np.testing.assert_allclose(ax.get_ylim(), (-0.65, 1.15))


def test_trajectories_list_of_paths_explicit_view_and_levels():
    ax = plots.plot_trajectories(bowl, [np.array([[1.0, 1.0], [0.0, 0.0]])], xlim=(-3, 3), ylim=(-2, 2),
                                 levels=[1.0, 5.0, 20.0])
    assert ax.get_xlim() == (-3, 3) and ax.get_ylim() == (-2, 2)
    contours = ax.collections[0]
    np.testing.assert_array_equal(contours.levels, [1.0, 5.0, 20.0])
    for level, path in zip(contours.levels, contours.get_paths()):  # each contour line lies on f = level
        x, y = path.vertices.T
        assert len(x) > 20
        np.testing.assert_allclose(bowl(x, y), level, rtol=0.02)
    assert ax.lines[0].get_label() == "path 0"
    with pytest.raises(ValueError, match="f must return an array of shape"):
        plots.plot_trajectories(lambda a, b: 1.0, [np.zeros((2, 2))])
    with pytest.raises(ValueError, match=r"paths\['SGD'\] must have 2 columns"):
        plots.plot_trajectories(bowl, {"SGD": np.zeros((3, 3))})


def test_a_second_plot_on_the_same_axes_keeps_its_title():
    ax = plots.plot_line_boundary(np.array([-1.0, 1.0]), 0.0, title="X1 vs X2")
    plots.plot_line_boundary(np.array([1.0, 1.0]), -3.0, ax=ax)
    assert ax.get_title() == "X1 vs X2"
    plt.close(ax.figure)
