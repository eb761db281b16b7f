"""The targets of the benchmark metrics, and the table printed by ``python -m benchmarks``."""

from __future__ import annotations

import operator

# metric -> (comparison, bound, unit); a metric missing here is informational
TARGETS = {
    "mlp_epoch_ratio_numpy_over_torch": ("<=", 1.1, "x"),
    "mnist_numpy_test_accuracy": (">=", 0.985, ""),
    "mnist_torch_test_accuracy": (">=", 0.985, ""),
    "mnist_time_ratio_numpy_over_torch": ("<=", 1.2, "x"),
    "peak_rss_mb": ("<=", 1536.0, "MiB"),
    "autograde_course_seconds": ("<=", 540.0, "s"),
    "grade_parallel_speedup": (">=", 1.8, "x"),
}
LECTURE_AUTOGRADE_SECONDS = 30.0  # every lecture assignment and homework 1
HW2_AUTOGRADE_SECONDS = 300.0
HW2_PREFIX = "hw2"
LECTURE_AUTOGRADE_RATIO = 1.25  # autograde / plain execution of the solution, for the lecture assignments

_COMPARE = {"<=": operator.le, ">=": operator.ge}


def autograde_target(assignment: str) -> tuple:
    return ("<=", HW2_AUTOGRADE_SECONDS if assignment.startswith(HW2_PREFIX) else LECTURE_AUTOGRADE_SECONDS, "s")


def target_of(metric: str):
    """``(comparison, bound, unit)`` of ``metric`` (``autograde_seconds.<assignment>`` included), or None."""
    if metric.startswith("autograde_seconds."):
        return autograde_target(metric.split(".", 1)[1])
    if metric.startswith("autograde_ratio.") and metric[len("autograde_ratio."):][:2].isdigit():
        return ("<=", LECTURE_AUTOGRADE_RATIO, "x")  # lecture assignments are numbered; homework is reported
    return TARGETS.get(metric)


def passed(metric: str, value) -> bool | None:
    """True/False against the metric's target; None without a target or a value."""
    target = target_of(metric)
    if target is None or value is None:
        return None
    comparison, bound, _ = target
    return bool(_COMPARE[comparison](value, bound))


def flatten(metrics: dict) -> dict:
    """``{"autograde_seconds": {"a": 1}}`` -> ``{"autograde_seconds.a": 1}`` (one table row per value)."""
    flat = {}
    for name, value in metrics.items():
        if isinstance(value, dict):
            flat.update({f"{name}.{key}": inner for key, inner in value.items()})
        else:
            flat[name] = value
    return flat


def table(metrics: dict) -> str:
    """One row per metric: value, target, PASS/FAIL (or ``-`` when the metric has no target)."""
    rows = [("metric", "value", "target", "result")]
    for name, value in flatten(metrics).items():
        target = target_of(name)
        shown = "-" if value is None else (f"{value:.4g}" if isinstance(value, float) else str(value))
        goal = "" if target is None else f"{target[0]} {target[1]:g}{target[2] and ' ' + target[2]}"
        verdict = {True: "PASS", False: "FAIL", None: "-"}[passed(name, value)]
        rows.append((name, shown, goal, verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)
