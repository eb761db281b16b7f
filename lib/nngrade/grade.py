"""``make grade``: autograde ``submitted/``, write feedback HTML and ``grades.csv``.

One bad submission never stops the batch: each failure is reported as (student, assignment, reason)
and the command exits non-zero at the end. Autograding uses nbgrader's ``autograde`` (the gradebook
restores locked test cells, hidden tests included, by grade_id and checksum), feedback uses
``generate_feedback`` with hidden tests and test tracebacks removed (``nbgrader_config.py``), and the
export uses nbgrader's CSV export plugin.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from dataclasses import dataclass
from pathlib import Path

from . import release
from .config import Course, failure_reason, warnings_to_stdout


@dataclass(frozen=True)
class Problem:
    """A submission that could not be (fully) processed."""

    student: str
    assignment: str
    reason: str

    def __str__(self):
        return f"{self.student} / {self.assignment}: {self.reason}"


@dataclass(frozen=True)
class CellScore:
    score: float
    max_score: float

    @property
    def full(self) -> bool:
        return self.score >= self.max_score

    @property
    def zero(self) -> bool:
        return self.score == 0


def submissions(course: Course) -> tuple[list[tuple[str, str]], list[Problem]]:
    """``(student, assignment)`` pairs found in ``submitted/``, and folders that are not gradable."""
    found, problems = [], []
    known = set(course.assignments())
    submitted = course.folder("submitted")
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()) if submitted.is_dir() else []:
        for assignment_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
            student, assignment = student_dir.name, assignment_dir.name
            if assignment not in known:
                problems.append(Problem(student, assignment, "no such assignment in source/"))
            elif not (assignment_dir / f"{assignment}.ipynb").is_file():
                problems.append(Problem(student, assignment, f"{assignment}.ipynb is missing from the submission"))
            else:
                found.append((student, assignment))
    return found, problems


def autograde_one(course: Course, student: str, assignment: str) -> Problem | None:
    """Autograde one submission with nbgrader; a ``Problem`` when it could not be graded."""
    result = course.api(assignment).autograde(assignment, student, force=True, create=True)
    if result["success"] and course.notebook("autograded", assignment, student).is_file():
        return None
    return Problem(student, assignment, failure_reason(result.get("log", "") + "\n" + result.get("error", "")))


def autograde_all(course: Course, pairs, jobs: int = 1) -> list[Problem]:
    """Autograde ``pairs`` of (student, assignment), ``jobs`` at a time; the problems found."""
    if jobs <= 1 or len(pairs) <= 1:
        outcomes = [autograde_one(course, student, assignment) for student, assignment in pairs]
    else:
        context = multiprocessing.get_context("spawn")  # fresh interpreters: no inherited event loops
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                                    initializer=warnings_to_stdout) as pool:
            outcomes = list(pool.map(autograde_one, [course] * len(pairs), *zip(*pairs)))
    return [problem for problem in outcomes if problem is not None]


def feedback_and_export(course: Course, assignments, csv_path: Path | None = None) -> list[Problem]:
    """Feedback HTML for every autograded submission of ``assignments``, then ``grades.csv``."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    problems = []
    api = course.api()
    for assignment in assignments:
        result = api.generate_feedback(assignment, force=True)
        if not result["success"]:
            problems.append(Problem("*", assignment, "feedback: " + failure_reason(result.get("log", "") + result.get("error", ""))))
    csv_path = Path(csv_path or course.root / "grades.csv")
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gradebook:
        CsvExportPlugin(to=str(csv_path)).export(gradebook)
    return problems


def cell_scores(course: Course, assignment: str, student: str) -> dict[str, CellScore]:
    """``{grade_id: CellScore}`` of the autograded (code) test cells of one graded submission."""
    from nbgrader.api import Gradebook

    api = course.api()
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gradebook:
        notebook = gradebook.find_submission_notebook(assignment, assignment, student)
        return {grade.name: CellScore(float(grade.score), float(grade.max_score))
                for grade in notebook.grades if grade.to_dict()["cell_type"] == "code"}


def score_table(course: Course, pairs) -> str:
    """A student x assignment table of autograded points (``-`` where nothing was graded)."""
    students = sorted({student for student, _ in pairs})
    assignments = sorted({assignment for _, assignment in pairs})
    cells = {}
    for student, assignment in pairs:
        if course.notebook("autograded", assignment, student).is_file():
            scores = cell_scores(course, assignment, student).values()
            cells[student, assignment] = f"{sum(s.score for s in scores):g}/{sum(s.max_score for s in scores):g}"
    headers = _short_names(assignments)
    width = max([len("student")] + [len(s) for s in students])
    columns = [max(len(h), 7) for h in headers]
    lines = ["  ".join([f"{'student':<{width}}"] + [f"{h:>{w}}" for h, w in zip(headers, columns)])]
    for student in students:
        row = [f"{cells.get((student, a), '-'):>{w}}" for a, w in zip(assignments, columns)]
        lines.append("  ".join([f"{student:<{width}}"] + row))
    if headers != assignments:
        lines.append("columns: " + ", ".join(f"{h} = {a}" for h, a in zip(headers, assignments)))
    return "\n".join(lines)


def _short_names(assignments: list[str]) -> list[str]:
    """Column headers: the part before the first underscore (``02``, ``hw1``) when that is unambiguous."""
    short = [name.split("_", 1)[0] for name in assignments]
    return short if len(set(short)) == len(short) else list(assignments)


def grade(course: Course, *, jobs: int = 1, out=print) -> int:
    """The whole ``make grade``: returns the exit status (1 when anything could not be graded)."""
    pairs, problems = submissions(course)
    if not pairs and not problems:
        out(f"nothing to grade: {course.folder('submitted')} has no <student>/<assignment>/<assignment>.ipynb")
        return 0
    unregistered = release.register(course, sorted({assignment for _, assignment in pairs}))
    problems += [Problem(student, assignment, unregistered[assignment])
                 for student, assignment in pairs if assignment in unregistered]
    pairs = [(student, assignment) for student, assignment in pairs if assignment not in unregistered]
    assignments = sorted({assignment for _, assignment in pairs})
    out(f"autograding {len(pairs)} submission(s) of {len(assignments)} assignment(s) with {jobs} job(s)")
    problems += autograde_all(course, pairs, jobs)
    problems += feedback_and_export(course, assignments)
    out(score_table(course, pairs))
    out(f"feedback: {course.folder('feedback')}/<student>/<assignment>/   grades: {course.root / 'grades.csv'}")
    for problem in problems:
        out(f"NOT GRADED {problem}")
    return 1 if problems else 0
