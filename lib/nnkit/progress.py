"""Progress bars that never break grading.

nbgrader scores a test cell 0 when anything reaches stderr, and tqdm writes to stderr by default.
``progress`` writes to stdout instead and is silent while the autograder runs (``NNCOURSE_GRADING=1``)
or when ``enabled=False``.
"""

from __future__ import annotations

import os
import sys

from tqdm import tqdm  # the text bar: tqdm.auto may warn on stderr without ipywidgets

__all__ = ["progress", "grading"]


def grading() -> bool:
    """True while the autograder executes the notebook."""
    return os.environ.get("NNCOURSE_GRADING", "") not in ("", "0")


def progress(iterable=None, *, enabled: bool | None = None, **tqdm_kwargs):
    """Wrap ``iterable`` in a tqdm bar on stdout; a no-op wrapper while grading or when disabled."""
    disable = grading() if enabled is None else not enabled
    tqdm_kwargs.setdefault("file", sys.stdout)
    tqdm_kwargs.setdefault("leave", False)
    return tqdm(iterable, disable=disable, **tqdm_kwargs)
