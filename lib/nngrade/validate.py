"""``nbgrader validate`` with a truthful verdict.

``nbgrader validate`` exits 0 even when tests fail, cells were changed, or the notebook could not be
run at all; the verdict is only in its text. ``parse_validate_output`` reads that text and anything
that is not an explicit success counts as a failure.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_FAILURES = (
    (r"THE TYPES OF (\d+) CELL\(S\) HAVE CHANGED", "{} cell(s) changed type"),
    (r"THE CONTENTS OF (\d+) TEST CELL\(S\) HAVE CHANGED", "{} locked test cell(s) were edited"),
    (r"VALIDATION FAILED ON (\d+) CELL\(S\)", "{} cell(s) fail their tests"),
    (r"NOTEBOOK PASSED ON (\d+) CELL\(S\)", "{} test cell(s) pass although they should not (--invert)"),
)
_SUCCESSES = ("Success! Your notebook passes all the tests.", "Success! The notebook does not pass any tests.")


@dataclass(frozen=True)
class Validation:
    passed: bool
    summary: str


def parse_validate_output(stdout: str, stderr: str = "") -> Validation:
    """The verdict of one ``nbgrader validate`` run from its stdout and stderr."""
    text = " ".join(stdout.split())  # nbgrader wraps its warnings at the terminal width
    for pattern, message in _FAILURES:
        match = re.search(pattern, text)
        if match:
            return Validation(False, message.format(match.group(1)))
    errors = [line.strip() for line in stderr.splitlines() if "ERROR" in line or "Error" in line]
    if errors:
        return Validation(False, errors[-1][:300])
    for success in _SUCCESSES:
        if success in text:
            return Validation(True, success)
    return Validation(False, "nbgrader validate printed no verdict (the notebook could not be run?)")


def run_validate(path: Path, *, invert: bool = False, env=None, timeout: float = 1800):
    """Run ``nbgrader validate`` on one notebook from its own folder, as a student would."""
    path = Path(path).resolve()
    command = [sys.executable, "-m", "nbgrader", "validate", str(path)] + (["--invert"] if invert else [])
    return subprocess.run(command, cwd=path.parent, env=env, capture_output=True, text=True, timeout=timeout)


def validate_notebook(path: Path, **options) -> Validation:
    """The verdict of ``nbgrader validate`` on one notebook (options as for ``run_validate``)."""
    finished = run_validate(path, **options)
    return parse_validate_output(finished.stdout, finished.stderr)


def validate_notebooks(paths, *, out=print) -> int:
    verdicts = [(path, validate_notebook(path)) for path in paths]
    for path, verdict in verdicts:
        out(f"{'PASS' if verdict.passed else 'FAIL'} {path}: {verdict.summary}")
    return 0 if all(verdict.passed for _, verdict in verdicts) else 1
