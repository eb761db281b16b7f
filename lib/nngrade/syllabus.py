"""The course order: the one list every notebook header and the student conventions page follow.

Each assignment's header states ``**Course order:** <k> of 9 — after <previous>, before <next>``
(contract checked by ``tests/notebooks/test_notebook_contracts.py``), and
``docs/student-conventions.md`` lists the same order with what each assignment needs from the earlier
ones. Change the order here and in that page together; the test compares all three.
"""

from __future__ import annotations

__all__ = ["COURSE_ORDER", "NEEDS", "later_than", "neighbours", "position"]

COURSE_ORDER = (
    "01_perceptron",
    "02_delta_rule_and_logistic_regression",
    "03_mlp_representational_power",
    "04_backpropagation",
    "hw1_softmax_cross_entropy",
    "05_training_neural_networks",
    "06_pytorch_and_sklearn",
    "hw2_mnist_mlp",
    "07_initialization_normalization_convolution",
)

# What each assignment uses from the earlier ones (the student page states the same).
NEEDS = {
    "01_perceptron": (),
    "02_delta_rule_and_logistic_regression": ("01_perceptron",),
    "03_mlp_representational_power": ("01_perceptron", "02_delta_rule_and_logistic_regression"),
    "04_backpropagation": ("02_delta_rule_and_logistic_regression", "03_mlp_representational_power"),
    "hw1_softmax_cross_entropy": ("02_delta_rule_and_logistic_regression", "04_backpropagation"),
    "05_training_neural_networks": ("04_backpropagation", "hw1_softmax_cross_entropy"),
    "06_pytorch_and_sklearn": ("04_backpropagation", "05_training_neural_networks"),
    "hw2_mnist_mlp": ("04_backpropagation", "hw1_softmax_cross_entropy", "05_training_neural_networks",
                      "06_pytorch_and_sklearn"),
    "07_initialization_normalization_convolution": ("05_training_neural_networks", "06_pytorch_and_sklearn",
                                                    "hw2_mnist_mlp"),
}


def position(assignment: str) -> int:
    """1-based place of ``assignment`` in the course order; ``KeyError`` for an unknown name."""
    if assignment not in COURSE_ORDER:
        raise KeyError(f"{assignment!r} is not in the course order {list(COURSE_ORDER)}")
    return COURSE_ORDER.index(assignment) + 1


def neighbours(assignment: str) -> tuple[str | None, str | None]:
    """``(previous, next)`` assignment in the course order (``None`` at either end)."""
    index = position(assignment) - 1
    previous = COURSE_ORDER[index - 1] if index > 0 else None
    following = COURSE_ORDER[index + 1] if index + 1 < len(COURSE_ORDER) else None
    return previous, following


def later_than(assignment: str) -> tuple[str, ...]:
    """The assignments that come after ``assignment``."""
    return COURSE_ORDER[position(assignment):]
