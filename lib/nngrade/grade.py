"""``make grade``: autograde ``submitted/``, write feedback HTML and ``grades.csv``.

One bad submission never stops the batch: each failure is reported as (student, assignment, reason)
and the command exits non-zero at the end. Autograding uses nbgrader's ``autograde`` (the gradebook
restores locked test cells, hidden tests included, by grade_id and checksum), feedback uses
``generate_feedback`` with hidden tests and test tracebacks removed (``nbgrader_config.py``), and the
export uses nbgrader's CSV export plugin plus a ``flags`` column.

A submission that was graded although something went wrong (its kernel died, it answered the grader
with something that is not data, ...) carries flags (``nngrade.flags``): they are recorded in the gradebook, printed as
``FLAGGED`` lines and named in ``grades.csv``.
"""

from __future__ import annotations

import concurrent.futures
import csv
import multiprocessing
from dataclasses import dataclass
from pathlib import Path

from . import flags, manual_grades, notebooks, release
from .config import Course, failure_reason, warnings_to_stdout
from .kernel import share_cores


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
    reviews = manual_grades.reviewed(course, assignment, student)
    result = course.api(assignment).autograde(assignment, student, force=True, create=True)
    if result["success"] and course.notebook("autograded", assignment, student).is_file():
        manual_grades.keep_reviews(course, assignment, student, reviews)  # before the flags: those may reopen a review
        record_flags(course, assignment, student)
        return None
    return Problem(student, assignment, failure_reason(result.get("log", "") + "\n" + result.get("error", "")))


def record_flags(course: Course, assignment: str, student: str) -> None:
    """Record the flags of an autograded submission in its gradebook rows.

    Each reason is added to the comment of the answer (solution) cell it concerns: the flagged cell
    itself, or for a test cell the closest answer above it (nbgrader keeps comments on answers only).
    It goes to ``auto_comment``, which the formgrader shows and the feedback prints; the instructor's
    ``manual_comment`` is left alone, and a ``--force`` regrade (whose ``SaveAutoGrades`` resets
    ``auto_comment``) replaces the reasons with those of the new run.
    """
    from nbgrader.api import Gradebook, MissingEntry

    notebook = notebooks.read(course.notebook("autograded", assignment, student))
    found = flags.of(notebook)
    if not found:
        return
    api = course.api()
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gradebook:
        for flag in found:
            answer = _answer_cell(notebook, flag["cell"])
            try:
                comment = gradebook.find_comment(answer, assignment, assignment, student) if answer else None
            except MissingEntry:  # an answer cell the gradebook does not know: the export still names the flag
                comment = None
            if comment is not None and flag["reason"] not in (comment.auto_comment or ""):
                comment.auto_comment = "\n\n".join(filter(None, [comment.auto_comment, flag["reason"]]))
        gradebook.db.commit()


def _answer_cell(notebook, grade_id: str | None) -> str | None:
    """The grade_id of the solution cell that is ``grade_id`` or the closest one above it; None if none."""
    answer = None
    for cell in notebook.cells:
        if notebooks.is_solution_cell(cell):
            answer = notebooks.grade_id(cell)
        if grade_id is not None and notebooks.grade_id(cell) == grade_id:
            return answer
    return None


def _start_worker(jobs: int) -> None:
    warnings_to_stdout()
    share_cores(jobs)


def autograde_all(course: Course, pairs, jobs: int = 1) -> list[Problem]:
    """Autograde ``pairs`` of (student, assignment), ``jobs`` at a time; the problems found, in ``pairs`` order."""
    pairs = list(pairs)
    if jobs <= 1 or len(pairs) <= 1:
        outcomes = [autograde_one(course, student, assignment) for student, assignment in pairs]
        return [problem for problem in outcomes if problem is not None]
    # Workers forked from a fresh server process (no inherited event loops) that imported nbgrader
    # once: spawning each worker would import it again, seconds of CPU per job.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["nngrade.grade", "nbgrader.apps"])
    ordered = longest_first(course, pairs)
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                                initializer=_start_worker, initargs=(jobs,)) as pool:
        outcomes = dict(zip(ordered, pool.map(autograde_one, [course] * len(ordered), *zip(*ordered))))
    return [outcomes[pair] for pair in pairs if outcomes[pair] is not None]


def longest_first(course: Course, items, assignment_of=lambda pair: pair[1]) -> list:
    """``items`` (by default (student, assignment) pairs) with the assignments that allow the longest
    cells first, in their given order otherwise.

    The per-cell timeout is the estimate of a submission's grading time. Handing the slowest
    submissions out first lets the short ones fill the gaps, so parallel jobs finish together instead
    of one grading the last slow submissions alone while the others wait.
    """
    items = list(items)
    timeouts = {name: course.timeout(name) for name in {assignment_of(item) for item in items}}
    return sorted(items, key=lambda item: -timeouts[assignment_of(item)])


def feedback_and_export(course: Course, assignments, csv_path: Path | None = None, not_graded=()) -> list[Problem]:
    """Feedback HTML for every autograded submission of ``assignments``, then ``grades.csv``, whose
    ``flags`` column also names the ``not_graded`` problems."""
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
    add_flags_column(course, csv_path, not_graded)
    return problems


def add_flags_column(course: Course, csv_path: Path, not_graded=()) -> None:
    """Append a ``flags`` column to nbgrader's grade export: per submission what went wrong while
    grading it, ``<kind>: <reason>`` of each flag of its autograded notebook joined by ``; ``, or
    ``not graded: <reason>`` for a ``not_graded`` problem; empty when nothing did."""
    reasons = {(problem.student, problem.assignment): problem.reason for problem in not_graded}
    with open(csv_path, newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    assignment_column, student_column = header.index("assignment"), header.index("student_id")
    header.append("flags")
    for row in rows[1:]:
        student, assignment = row[student_column], row[assignment_column]
        autograded = course.notebook("autograded", assignment, student)
        if (student, assignment) in reasons:
            row.append(f"not graded: {reasons[student, assignment]}")
        else:
            row.append("; ".join(map(flags.describe, flags.read(autograded))) if autograded.is_file() else "")
    with open(csv_path, "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


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
    """The whole ``make grade``: returns the exit status, 1 when anything could not be graded.

    A submission graded with flags (a dead kernel, a suspicious reply, cut output, ...) is printed as one
    ``FLAGGED <student> / <assignment>: <kind>: <reason>`` line per flag; its scores are in the
    gradebook, so flags alone keep the exit status 0. ``NOT GRADED`` lines name the failures.
    """
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
    problems += feedback_and_export(course, assignments, not_graded=problems)
    out(score_table(course, pairs))
    out(f"feedback: {course.folder('feedback')}/<student>/<assignment>/   grades: {course.root / 'grades.csv'}")
    failed = {(problem.student, problem.assignment) for problem in problems}
    for student, assignment in pairs:
        autograded = course.notebook("autograded", assignment, student)
        if (student, assignment) not in failed and autograded.is_file():
            for flag in flags.read(autograded):
                out(f"FLAGGED {student} / {assignment}: {flags.describe(flag)}")
    for problem in problems:
        out(f"NOT GRADED {problem}")
    return 1 if problems else 0
