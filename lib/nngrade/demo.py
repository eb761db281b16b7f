"""``make demo``: releases, a small simulated class, autograding, feedback and a score table.

The class is built from what every assignment already has, so no assignment needs demo code:
``alice_correct`` fills the release with the source solutions, ``bob_blank`` hands in the release
untouched, ``carol_bugs`` makes the first typical bug of the mutant catalogue in every graded function,
and ``dave_half`` solved only the first half of the solution cells.
"""

from __future__ import annotations

from time import monotonic

from . import grade, notebooks, release
from .config import Course
from .selftest import load_catalogue

STUDENTS = ("alice_correct", "bob_blank", "carol_bugs", "dave_half")


def simulated_class(course: Course, assignment: str) -> dict:
    """``{student: submission notebook}`` for one assignment (see the module docstring)."""
    release_notebook = notebooks.read(course.notebook("release", assignment))
    solutions = notebooks.solutions_of(course.source_notebook(assignment))
    first_bugs = {}
    if course.mutants_file(assignment).is_file():
        for mutant in load_catalogue(course.mutants_file(assignment))[0]:
            first_bugs.setdefault(mutant.cell, mutant.source)
    half = dict(list(solutions.items())[: len(solutions) // 2])
    return {
        "alice_correct": notebooks.fill(release_notebook, solutions),
        "bob_blank": release_notebook,
        "carol_bugs": notebooks.fill(release_notebook, {**solutions, **first_bugs}),
        "dave_half": notebooks.fill(release_notebook, half),
    }


def demo(course: Course, *, jobs: int = 2, out=print) -> int:
    assignments = course.assignments()
    if not assignments:
        out(f"no assignments in {course.folder('source')}")
        return 1
    out(f"building release/ and solutions/ for {len(assignments)} assignment(s), a few seconds each")
    errors = {}
    for index, assignment in enumerate(assignments, 1):
        started = monotonic()
        errors.update(release.build_each(course, [assignment]))
        out(f"[{index}/{len(assignments)}] {'NOT RELEASED' if assignment in errors else 'released'} {assignment} "
            f"({monotonic() - started:.0f} s)")
    for error in errors.values():
        out(f"NOT RELEASED {error}")
    for assignment in [a for a in assignments if a not in errors]:
        for student, submission in simulated_class(course, assignment).items():
            notebooks.write(submission, course.notebook("submitted", assignment, student))
    out(f"simulated class in {course.folder('submitted')}: {', '.join(STUDENTS)}")
    status = grade.grade(course, jobs=jobs, out=out)
    return 1 if errors else status
