"""Grading flags: what went wrong while grading one submission, carried to the gradebook and the export.

A preprocessor that finds a problem (a dead kernel, an edited test cell, a kernel that answered the
grader with something that is not data) adds a
flag to the notebook it is grading: ``{"kind": ..., "reason": ..., "cell": grade_id or None}`` in
the notebook metadata under ``nncourse.flags``, which ``nbgrader_config.py`` keeps through
``ClearMetadataPreprocessor``. After autograding, ``nngrade.grade`` reads the flags of the autograded
notebook back, records them in the gradebook and names them in the grade export.
"""

from __future__ import annotations

from pathlib import Path

from nbformat import NotebookNode

from . import notebooks

METADATA_KEY = "nncourse"
# kernel_died: the submission ended its kernel (os._exit, a segfault, a resource limit); kernel_killed:
# the grader killed a kernel that ignored an interrupt or used up the notebook's time; output_limited:
# the grader dropped output beyond its size limit while the cell ran; suspicious: the kernel answered the
# grading channel with something that is not data, or never opened it (worth an instructor's look; the
# cell already scored 0); out_of_time: training stopped at its wall-clock cap before its prescribed work;
# resource_limit: the grader killed the kernel for holding more memory than the submission's total
# (all its processes together) or writing to the grader's disk (nngrade.sandbox.Watchdog).
KINDS = ("kernel_died", "kernel_killed", "suspicious", "test_cell_edited", "output_limited", "out_of_time",
         "resource_limit")


def add(nb: NotebookNode, kind: str, reason: str, cell: str | None = None) -> None:
    """Flag the notebook being graded: ``kind`` (one of ``KINDS``), a reason a person can act on, and
    the grade_id of the affected cell (None: the whole submission)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    flag = {"kind": kind, "reason": str(reason), "cell": cell}
    found = nb.metadata.setdefault(METADATA_KEY, {}).setdefault("flags", [])
    if flag not in found:
        found.append(flag)


def of(nb: NotebookNode) -> list[dict]:
    """The flags added to ``nb`` (a list of ``{"kind", "reason", "cell"}``; empty when none)."""
    return list(nb.metadata.get(METADATA_KEY, {}).get("flags", []))


def read(path: Path) -> list[dict]:
    """The flags of the notebook at ``path`` (an autograded notebook); empty when it has none."""
    return of(notebooks.read(path))


def describe(flag: dict) -> str:
    """``<kind>: <reason>``, how the CLI and the grade export name a flag."""
    return f"{flag['kind']}: {flag['reason']}"
