"""Fairness: a correct submission's score does not depend on the machine's load.

A small training-gated assignment, built here: the student trains a logistic regression for a fixed
number of epochs (work, not seconds) with a generous wall-clock cap as a safety net, and exports its
weights. The hidden check computes the accuracy in the grader, on held-out data the kernel never sees,
and flags ``out_of_time`` when the notebook says the cap stopped its training. The solution is graded
once on a quiet machine and once next to two CPU-hog processes: same scores, no flag. A submission
whose cap is hit is flagged, so the instructor sees it instead of a silent loss of points.
"""

import subprocess
import sys

import nbformat
import pytest

from nngrade import flags, notebooks, release
from nngrade.config import Course
from nngrade.grade import autograde_one, cell_scores

ASSIGNMENT = "training"
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")]

IMPORTS = "import time\n\nimport numpy as np"
SOLUTION = '''def train_logistic(X, y, epochs, lr, time_cap_s):
    """Full-batch gradient descent on the mean logistic loss for ``epochs`` epochs (the work), stopping
    early only when ``time_cap_s`` seconds of wall clock have passed (a safety net).

    Returns (w, b, history) with history = {"epochs_run": int, "stopped_by_cap": bool}.
    """
    ### BEGIN SOLUTION
    w, b = np.zeros(X.shape[1]), 0.0
    started = time.perf_counter()
    for epoch in range(epochs):
        if time.perf_counter() - started > time_cap_s:
            return w, b, {"epochs_run": epoch, "stopped_by_cap": True}
        p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
        w = w - lr * X.T @ (p - y) / len(y)
        b = b - lr * float(np.mean(p - y))
    return w, b, {"epochs_run": epochs, "stopped_by_cap": False}
    ### END SOLUTION'''
DATA = '''def blobs(n, rng):
    y = rng.integers(0, 2, size=n)
    X = rng.normal(size=(n, 10)) + np.outer(2 * y - 1, np.linspace(0.1, 0.8, 10))
    return X, y.astype(float)

X_train, y_train = blobs(4000, np.random.default_rng(0))
CAP_SECONDS = 120.0  # generous: the training takes well under a second
w, b, history = train_logistic(X_train, y_train, epochs=150, lr=0.5, time_cap_s=CAP_SECONDS)'''
GATE = '''X_val, y_val = blobs(1000, np.random.default_rng(1))
assert np.mean((X_val @ w + b > 0) == y_val) >= 0.9, "validation accuracy below 90 %"
### BEGIN HIDDEN TESTS
import numpy as np
from nngrade.hidden import flag

if history["stopped_by_cap"]:
    flag("out_of_time", f"training stopped at its wall-clock cap after {history['epochs_run']} epochs: regrade")
weights, bias = np.asarray(w, dtype=float), float(b)
assert weights.shape == (10,), f"w should have shape (10,), got {weights.shape}"
rng = np.random.default_rng(2024)  # held-out data of the grader's own
labels = rng.integers(0, 2, size=5000)
X_test = rng.normal(size=(5000, 10)) + np.outer(2 * labels - 1, np.linspace(0.1, 0.8, 10))
accuracy = np.mean((X_test @ weights + bias > 0) == labels)
assert accuracy >= 0.9, f"test accuracy {accuracy:.3f} below 0.9"
### END HIDDEN TESTS'''


def cell(source, grade_id=None, *, solution=False, points=None):
    made = nbformat.v4.new_code_cell(source)
    if grade_id:
        made.metadata["nbgrader"] = {"grade_id": grade_id, "solution": solution, "grade": points is not None,
                                     "locked": not solution, "schema_version": 3, "task": False,
                                     **({"points": points} if points is not None else {})}
    return made


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    root = tmp_path_factory.mktemp("fairness")
    source = nbformat.v4.new_notebook(cells=[cell(IMPORTS), cell(SOLUTION, "train_logistic", solution=True),
                                             cell(DATA), cell(GATE, "test_accuracy_gate", points=2)])
    source.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebooks.write(source, root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    made = Course(root)
    assert release.build_each(made, [ASSIGNMENT]) == {}
    return made


def graded(course: Course, student: str, **replacements) -> tuple[dict, list]:
    released = notebooks.read(course.notebook("release", ASSIGNMENT))
    answers = notebooks.solutions_of(course.source_notebook(ASSIGNMENT))
    submission = notebooks.fill(released, answers)
    for each in submission.cells:
        for old, new in replacements.items():
            each.source = each.source.replace(old, new)
    notebooks.write(submission, course.notebook("submitted", ASSIGNMENT, student))
    assert autograde_one(course, student, ASSIGNMENT) is None
    scores = {name: score.score for name, score in cell_scores(course, ASSIGNMENT, student).items()}
    return scores, flags.read(course.notebook("autograded", ASSIGNMENT, student))


def test_the_same_submission_scores_the_same_next_to_cpu_hogs(course):
    quiet = graded(course, "quiet")
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        loaded = graded(course, "loaded")
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert quiet == ({"test_accuracy_gate": 2.0}, [])
    assert loaded == quiet


def test_a_training_stopped_by_its_cap_is_flagged_for_a_regrade(course):
    scores, found = graded(course, "capped", **{"CAP_SECONDS = 120.0": "CAP_SECONDS = 0.0"})
    assert [(flag["kind"], flag["cell"]) for flag in found] == [("out_of_time", "test_accuracy_gate")]
    assert "training stopped at its wall-clock cap after 0 epochs" in found[0]["reason"]
    assert scores == {"test_accuracy_gate": 0.0}  # an untrained model fails the gate, and the flag says why
