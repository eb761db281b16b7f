"""``make release``: ``source/`` -> ``release/`` (student notebooks) and ``solutions/`` (no hidden tests).

Both folders are committed. nbgrader's ``generate_assignment`` and ``GenerateSolution`` do the work
(and register each assignment, with its hidden tests, in the gradebook); the notebooks are then
rewritten in a normalised form so that building twice gives identical bytes and "up to date" is a
plain file comparison. Every assignment folder of both also gets the student conventions page,
``docs/student-conventions.md``, copied as ``conventions.md``: the notebooks link to it by that name.
"""

from __future__ import annotations

import filecmp
import shutil
import tempfile
from pathlib import Path

from nbgrader.converters import GenerateSolution
from nbgrader.utils import capture_log, temp_attrs

from . import notebooks
from .config import REPO_ROOT, Course, failure_reason

STUDENT_CONVENTIONS = REPO_ROOT / "docs" / "student-conventions.md"
CONVENTIONS_NAME = "conventions.md"  # the name the notebooks' headers link to


class ReleaseError(RuntimeError):
    """nbgrader could not build an assignment; the message carries its log."""


def build_each(course: Course, assignments=None) -> dict:
    """``build`` one assignment at a time: ``{assignment: error message}`` for those that failed."""
    errors = {}
    for assignment in course.assignments() if assignments is None else assignments:
        try:
            build(course, [assignment])
        except ReleaseError as error:
            errors[assignment] = str(error)
    return errors


def build(course: Course, assignments=None, *, solutions: bool = True) -> None:
    """Generate the release (and solution) notebooks of ``assignments`` (default: all) in ``course``.

    Raises ``ReleaseError`` with nbgrader's reason at the first assignment that fails.
    """
    api = course.api()
    for assignment in course.assignments() if assignments is None else assignments:
        _check(api.generate_assignment(assignment, force=True, create=True), "generate_assignment", assignment)
        _normalise_folder(course.folder("release") / assignment)
        _add_conventions(course.folder("release") / assignment)
        if solutions:
            with temp_attrs(api.coursedir, assignment_id=assignment):
                app = GenerateSolution(coursedir=api.coursedir, parent=api)
                app.force = True
                _check(capture_log(app), "generate_solution", assignment)
            _normalise_folder(course.folder("solutions") / assignment)
            _add_conventions(course.folder("solutions") / assignment)


def register(course: Course, assignments=None) -> dict:
    """Bring the gradebook up to date with ``source/`` (hidden tests included) without touching ``release/``.

    Returns ``{assignment: error message}`` for the assignments nbgrader could not process.
    """
    errors = {}
    with tempfile.TemporaryDirectory(prefix="nngrade-register-") as scratch:
        api = course.api()
        api.coursedir.release_directory = scratch  # an absolute path wins over the course root
        for assignment in course.assignments() if assignments is None else assignments:
            try:
                _check(api.generate_assignment(assignment, force=True, create=True), "generate_assignment", assignment)
            except ReleaseError as error:
                errors[assignment] = str(error)
    return errors


def stale_files(course: Course) -> list[str]:
    """Files of ``release/`` and ``solutions/`` that differ from a fresh build of ``source/``."""
    with tempfile.TemporaryDirectory(prefix="nngrade-release-") as scratch:
        fresh = Course(Path(scratch), db_url=f"sqlite:///{scratch}/gradebook.db")
        shutil.copytree(course.folder("source"), fresh.folder("source"))
        if (course.root / "gradebook.db").is_file():  # saves nbgrader's slow creation of a new gradebook
            shutil.copy2(course.root / "gradebook.db", fresh.root / "gradebook.db")
        problems = [f"source/{name} cannot be built ({error})" for name, error in build_each(fresh).items()]
        for step in ("release", "solutions"):
            problems += [f"{step}/{name}" for name in _differences(course.folder(step), fresh.folder(step))]
        return problems


def _check(result: dict, what: str, assignment: str) -> None:
    if not result["success"]:
        log = result.get("log", "") + "\n" + result.get("error", "")
        raise ReleaseError(f"{assignment}: nbgrader {what} failed: {failure_reason(log)}")


def _add_conventions(folder: Path) -> None:
    """Copy the student conventions page into an assignment folder (nbgrader rebuilt it without)."""
    shutil.copyfile(STUDENT_CONVENTIONS, folder / CONVENTIONS_NAME)


def _normalise_folder(folder: Path) -> None:
    for path in folder.glob("*.ipynb"):
        notebooks.write(notebooks.read(path), path)


def _differences(committed: Path, fresh: Path, relative: str = "") -> list[str]:
    """Relative paths that are missing, extra or different between two folder trees."""
    if not committed.is_dir():
        return [relative or "(folder missing)"] if fresh.is_dir() and any(fresh.iterdir()) else []
    comparison = filecmp.dircmp(committed, fresh, ignore=["README.md", ".ipynb_checkpoints", "__pycache__"])
    found = [f"{relative}{name}" for name in comparison.left_only + comparison.right_only]
    _, mismatch, errors = filecmp.cmpfiles(committed, fresh, comparison.common_files, shallow=False)
    found += [f"{relative}{name}" for name in mismatch + errors]
    for name in comparison.common_dirs:
        found += _differences(committed / name, fresh / name, f"{relative}{name}/")
    return sorted(found)
