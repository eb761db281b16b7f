"""Manual grades across a ``--force`` regrade: an unchanged submission keeps the instructor's review.

nbgrader's autograde keeps what an instructor entered by hand (``Grade.manual_score``,
``Grade.extra_credit``, ``Comment.manual_comment``), but its ``SaveAutoGrades`` marks every cell with
a manual score as needing manual grading again. Re-running ``make grade`` after grading by hand (the
documented way to refresh feedback and ``grades.csv``) would thus put every reviewed answer back in the
formgrader's queue. Around each autograde, ``nngrade.grade`` takes the reviewed cells (manual score,
no longer needing manual grading) and the answers they were reviewed on (the solution cells of the
autograded notebook), and afterwards marks them reviewed again when the answers and the cell's
autograder score are the same. A changed submission stays marked for review, as nbgrader does.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import notebooks
from .config import Course


@dataclass(frozen=True)
class Reviews:
    """The reviewed grade cells of one submission, and what they were reviewed on."""

    answers: dict  # grade_id -> source of every solution cell of the autograded notebook
    auto_scores: dict  # grade_id of each reviewed grade cell -> its autograder score (None: written answer)


def _gradebook(course: Course):
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=course.config())
    return Gradebook(coursedir.db_url, coursedir.course_id)


def _answers(course: Course, assignment: str, student: str) -> dict | None:
    path = course.notebook("autograded", assignment, student)
    if not path.is_file():
        return None
    return {notebooks.grade_id(cell): cell.source for cell in notebooks.read(path).cells
            if notebooks.is_solution_cell(cell)}


def reviewed(course: Course, assignment: str, student: str) -> Reviews | None:
    """Before a regrade: the cells an instructor has graded by hand; None when there are none."""
    from nbgrader.api import MissingEntry

    answers = _answers(course, assignment, student)
    if answers is None:  # never autograded: nothing can have been reviewed
        return None
    with _gradebook(course) as gradebook:
        try:
            notebook = gradebook.find_submission_notebook(assignment, assignment, student)
        except MissingEntry:
            return None
        scores = {grade.name: grade.auto_score for grade in notebook.grades
                  if grade.manual_score is not None and not grade.needs_manual_grade}
    return Reviews(answers, scores) if scores else None


def keep_reviews(course: Course, assignment: str, student: str, before: Reviews | None) -> list[str]:
    """After the regrade: mark the cells of ``before`` reviewed again when neither the answers nor the
    cell's autograder score changed; the grade_ids marked."""
    from nbgrader.api import MissingEntry

    if before is None or _answers(course, assignment, student) != before.answers:
        return []
    kept = []
    with _gradebook(course) as gradebook:
        for name, auto_score in before.auto_scores.items():
            try:
                grade = gradebook.find_grade(name, assignment, assignment, student)
            except MissingEntry:  # the cell left the assignment since the review
                continue
            if grade.manual_score is not None and grade.auto_score == auto_score:
                grade.needs_manual_grade = False
                kept.append(name)
        gradebook.db.commit()
    return kept
