"""``make grade``: autograde ``submitted/``, write feedback HTML and ``grades.csv``.

One bad submission never stops the batch: each failure is reported as (student, assignment, reason)
and the command exits non-zero at the end. Autograding uses nbgrader's ``autograde`` (the gradebook
restores locked test cells, hidden tests included, by grade_id and checksum), feedback uses
``generate_feedback`` with hidden tests and test tracebacks removed (``nbgrader_config.py``), and the
export uses nbgrader's CSV export plugin plus a ``flags`` column.

A submission that was graded although something went wrong (its kernel died, it answered the grader
with something that is not data, ...) carries flags (``nngrade.flags``): they are recorded in the gradebook, printed as
``FLAGGED`` lines and named in ``grades.csv``.

Bounds per submission (``c.SubmissionLimits.*``, ``nbgrader_config.py``): a notebook larger than
``max_notebook_bytes`` or with more than ``max_cells`` cells is not graded, before nbgrader opens it;
each submission is graded (checked, sanitised, run, its feedback written) in a process of its own that is
stopped, with every process it started, after ``timeout`` seconds: it is reported not graded and the batch
goes on. Its kernel's memory and disk are bounded by the sandbox (``nngrade.sandbox``).

Everything printed goes through `nngrade.config.printable`: text of a submission (folder names, reasons
that quote its output) cannot move the cursor, colour the terminal or start a line of its own.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path
from time import monotonic

import nbformat
from traitlets import Integer
from traitlets.config import Configurable

from . import flags, manual_grades, notebooks, release, sandbox
from .config import Course, failure_reason, printable, warnings_to_stdout
from .kernel import share_cores


class SubmissionLimits(Configurable):
    """Bounds of one submission that hold before and around nbgrader (``c.SubmissionLimits.*``)."""

    max_notebook_bytes = Integer(20 * 2**20, help="Largest submitted notebook file, bytes.").tag(config=True)
    max_cells = Integer(2000, help="Most cells a submitted notebook may have.").tag(config=True)
    timeout = Integer(2100, help="Wall time of one submission's whole grading (checks, sanitising, running it: "
                                 "c.GradingExecute.submission_timeout of it, feedback), seconds.").tag(config=True)


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


def oversized(path: Path, limits: SubmissionLimits) -> str | None:
    """Why the submitted notebook at ``path`` is too large to be graded, or None. Cheap on any input:
    the file's size first, then its cells counted without building a notebook."""
    size = path.stat().st_size
    if size > limits.max_notebook_bytes:
        return (f"{path.name} is {size / 2**20:.1f} MiB, more than the {limits.max_notebook_bytes / 2**20:.0f} MiB "
                "a submitted notebook may be (c.SubmissionLimits.max_notebook_bytes); it was not opened")
    try:
        content = json.loads(path.read_bytes())
    except RecursionError:
        return f"{path.name} nests its JSON too deeply to be read; it was not opened"
    except ValueError:  # not JSON: nbgrader reports that
        return None
    cells = content.get("cells") if isinstance(content, dict) else None
    if isinstance(cells, list) and len(cells) > limits.max_cells:
        return (f"{path.name} has {len(cells)} cells, more than the {limits.max_cells} a submitted notebook may "
                "have (c.SubmissionLimits.max_cells); it was not graded")
    return None


def autograde_one(course: Course, student: str, assignment: str) -> Problem | None:
    """Autograde one submission with nbgrader; a ``Problem`` when it could not be graded."""
    too_large = oversized(course.notebook("submitted", assignment, student), SubmissionLimits(config=course.config()))
    if too_large:
        return Problem(student, assignment, too_large)
    reviews = manual_grades.reviewed(course, assignment, student)
    sandbox.take_limits()  # only the kernels of this submission count
    result = course.api(assignment).autograde(assignment, student, force=True, create=True)
    killed = sandbox.take_limits()
    autograded = course.notebook("autograded", assignment, student)
    if result["success"] and autograded.is_file():
        if killed:
            notebook = nbformat.read(str(autograded), as_version=4)
            for reason in killed:
                flags.add(notebook, "resource_limit", reason)
            nbformat.write(notebook, str(autograded))
        manual_grades.keep_reviews(course, assignment, student, reviews)  # before the flags: those may reopen a review
        record_flags(course, assignment, student)
        return None
    return Problem(student, assignment, failure_reason(result.get("log", "") + "\n" + result.get("error", "")))


def grade_one(course: Course, student: str, assignment: str) -> Problem | None:
    """Autograde one submission and write its feedback; a ``Problem`` when either failed."""
    problem = autograde_one(course, student, assignment)
    if problem is not None:
        return problem
    result = course.api().generate_feedback(assignment, student, force=True)
    if not result["success"]:
        return Problem(student, assignment, "feedback: " + failure_reason(result.get("log", "") + result.get("error", "")))
    return None


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


def _grade_in_process(course: Course, student: str, assignment: str, jobs: int, results) -> None:
    """The body of one submission's grading process: grade it, send the outcome to the batch."""
    _start_worker(jobs)
    try:
        outcome = grade_one(course, student, assignment)
    except Exception as error:  # a grader bug or a broken gradebook: this submission's problem only
        outcome = Problem(student, assignment, f"the grader failed: {type(error).__name__}: {error}"[:500])
    results.send(outcome)
    results.close()


@dataclass
class _Running:
    process: multiprocessing.Process
    results: multiprocessing.connection.Connection
    deadline: float
    started: float


def _duration(seconds: float) -> str:
    """``42 s`` or ``3 min 05 s``."""
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def grade_all(course: Course, pairs, jobs: int = 1, out=None) -> list[Problem]:
    """Grade ``pairs`` of (student, assignment) with their feedback, ``jobs`` at a time, each in a process
    of its own bounded by ``c.SubmissionLimits.timeout``; the problems found, in ``pairs`` order.
    With ``out``, one progress line per submission as it finishes: its time and the time so far."""
    pairs = list(pairs)
    if not pairs:
        return []
    batch_started = monotonic()
    seconds = SubmissionLimits(config=course.config()).timeout
    # Processes forked from a fresh server process (no inherited event loops or threads) that imported
    # nbgrader once: spawning each would import it again, seconds of CPU per submission.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["nngrade.grade", "nbgrader.apps"])
    pending, running, outcomes = longest_first(course, pairs), {}, {}
    try:
        while pending or running:
            while pending and len(running) < max(1, jobs):
                pair = pending.pop(0)
                results, sender = context.Pipe(duplex=False)
                process = context.Process(target=_grade_in_process, args=(course, *pair, jobs, sender),
                                          name=f"nngrade-submission-{len(outcomes) + len(running)}")
                process.start()
                sender.close()
                running[pair] = _Running(process, results, monotonic() + seconds, monotonic())
            waits = [job.results for job in running.values()] + [job.process.sentinel for job in running.values()]
            multiprocessing.connection.wait(waits, max(0.0, min(job.deadline for job in running.values()) - monotonic()))
            for pair, job in list(running.items()):
                outcome = _outcome(job, *pair, seconds)
                if outcome is not _RUNNING:
                    outcomes[pair] = outcome
                    del running[pair]
                    if out is not None:
                        verdict = "graded" if outcome is None else "NOT GRADED (reason below)"
                        out(printable(f"[{len(outcomes)}/{len(pairs)}] {verdict} {pair[0]} / {pair[1]} in "
                                      f"{_duration(monotonic() - job.started)} "
                                      f"({_duration(monotonic() - batch_started)} so far)"))
    finally:
        for job in running.values():  # interrupted: leave no grading process behind
            _stop(job.process)
    return [outcomes[pair] for pair in pairs if outcomes[pair] is not None]


_RUNNING = object()


def _outcome(job: _Running, student: str, assignment: str, seconds: int):
    """The outcome of a submission's process once it has one (stopping it at its deadline), else ``_RUNNING``."""
    if job.results.poll():
        try:
            outcome = job.results.recv()
        except (EOFError, OSError):
            job.process.join()
            outcome = Problem(student, assignment, f"its grading process ended without a result "
                                                   f"(exit status {job.process.exitcode})")
    elif not job.process.is_alive():
        outcome = Problem(student, assignment, f"its grading process ended without a result "
                                               f"(exit status {job.process.exitcode})")
    elif monotonic() >= job.deadline:
        _stop(job.process)
        outcome = Problem(student, assignment, f"grading it took more than {seconds} s in all (checks, sanitising, "
                                               "running the notebook and feedback; c.SubmissionLimits.timeout): "
                                               "it was stopped")
    else:
        return _RUNNING
    job.process.join(max(1.0, job.deadline - monotonic()))
    if job.process.is_alive():  # sent its outcome but does not end: what it still holds goes with it
        _stop(job.process)
    job.results.close()
    return outcome


def _stop(process: multiprocessing.Process) -> None:
    """Kill a submission's grading process and every process it started (its kernels), and remove the
    sandbox and channel folders it left in the temporary folder."""
    for pid in sandbox.process_tree(process.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:  # ended meanwhile
            pass
    process.join()
    for kind in ("kernel", "channel"):  # named by CourseKernelManager after the process that made them
        for folder in Path(tempfile.gettempdir()).glob(f"nngrade-{kind}-{process.pid}-*"):
            shutil.rmtree(folder, ignore_errors=True)


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


def export(course: Course, csv_path: Path | None = None, not_graded=()) -> None:
    """``grades.csv``: nbgrader's CSV export, whose ``flags`` column also names the ``not_graded`` problems."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    api = course.api()
    csv_path = Path(csv_path or course.root / "grades.csv")
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gradebook:
        CsvExportPlugin(to=str(csv_path)).export(gradebook)
    add_flags_column(course, csv_path, not_graded)


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
            row.append(printable(f"not graded: {reasons[student, assignment]}"))
        else:
            row.append(printable("; ".join(map(flags.describe, flags.read(autograded)))) if autograded.is_file() else "")
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


@dataclass(frozen=True)
class Points:
    """One graded submission's points as ``grades.csv`` counts them: autograded test cells, and written
    answers (graded by hand in the formgrader; 0 until then)."""

    auto: float
    auto_max: float
    written: float
    written_max: float
    written_pending: int  # written answers still waiting for a manual grade

    @property
    def total(self) -> float:
        return self.auto + self.written

    @property
    def total_max(self) -> float:
        return self.auto_max + self.written_max


def submission_points(course: Course, assignment: str, student: str) -> Points:
    """The gradebook's points of one graded submission (`Points`), extra credit included as nbgrader does."""
    from nbgrader.api import Gradebook

    api = course.api()
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gradebook:
        notebook = gradebook.find_submission_notebook(assignment, assignment, student)
        auto = [grade for grade in notebook.grades if grade.to_dict()["cell_type"] == "code"]
        written = [grade for grade in notebook.grades if grade.to_dict()["cell_type"] != "code"]
        return Points(auto=sum(float(grade.score) for grade in auto),
                      auto_max=sum(float(grade.max_score) for grade in auto),
                      written=sum(float(grade.score) for grade in written),
                      written_max=sum(float(grade.max_score) for grade in written),
                      written_pending=sum(1 for grade in written if grade.needs_manual_grade))


def score_table(course: Course, pairs) -> str:
    """One line per submission: autograded points, written points (``pending`` while a written answer
    waits for its manual grade) and the total that ``grades.csv`` exports (``-`` where nothing was
    graded). Every line is indented, so no student's name starts one."""
    rows = []
    for student, assignment in sorted(pairs):
        if course.notebook("autograded", assignment, student).is_file():
            points = submission_points(course, assignment, student)
            auto = f"{points.auto:g}/{points.auto_max:g}"
            written = (f"{points.written:g}/{points.written_max:g}" + (" pending" if points.written_pending else "")
                       if points.written_max else "-")
            total = f"{points.total:g}/{points.total_max:g}"
        else:
            auto = written = total = "-"
        rows.append((printable(student), printable(assignment), auto, written, total))
    headers = ("student", "assignment", "autograded", "written", "total")
    widths = [max(len(row[column]) for row in [headers, *rows]) for column in range(len(headers))]
    lines = ["  ".join(f"{cell:<{width}}" for cell, width in zip(row, widths)).rstrip() for row in [headers, *rows]]
    if any(row[3].endswith("pending") for row in rows):
        lines.append("written answers marked pending count 0 until graded by hand in the formgrader "
                     "(make lab, Formgrader > Manual Grading); then run make grade again to refresh grades.csv")
    return "\n".join("  " + line for line in lines)


def grade(course: Course, *, jobs: int = 1, out=print) -> int:
    """The whole ``make grade``: returns the exit status, 1 when anything could not be graded.

    A submission graded with flags (a dead kernel, a suspicious reply, cut output, ...) is printed as one
    ``FLAGGED <student> / <assignment>: <kind>: <reason>`` line per flag; its scores are in the
    gradebook, so flags alone keep the exit status 0. ``NOT GRADED`` lines name the failures. Each line
    is passed through `printable`: a line starts with the grader's words, and what a submission wrote
    shows as text.
    """
    def say(text: str) -> None:
        for line in text.split("\n"):
            out(printable(line))

    pairs, problems = submissions(course)
    if not pairs and not problems:
        say(f"nothing to grade: {course.folder('submitted')} has no <student>/<assignment>/<assignment>.ipynb")
        return 0
    unregistered = release.register(course, sorted({assignment for _, assignment in pairs}))
    problems += [Problem(student, assignment, unregistered[assignment])
                 for student, assignment in pairs if assignment in unregistered]
    pairs = [(student, assignment) for student, assignment in pairs if assignment not in unregistered]
    assignments = sorted({assignment for _, assignment in pairs})
    say(f"autograding {len(pairs)} submission(s) of {len(assignments)} assignment(s) with {jobs} job(s); "
        "a line per submission as it finishes (seconds to a minute each; homework 2 several minutes)")
    problems += grade_all(course, pairs, jobs, out=out)
    export(course, not_graded=problems)
    say(score_table(course, pairs))
    say(f"feedback: {course.folder('feedback')}/<student>/<assignment>/   grades: {course.root / 'grades.csv'}")
    failed = {(problem.student, problem.assignment) for problem in problems}
    for student, assignment in pairs:
        autograded = course.notebook("autograded", assignment, student)
        if (student, assignment) not in failed and autograded.is_file():
            for flag in flags.read(autograded):
                out(printable(f"FLAGGED {student} / {assignment}: {flags.describe(flag)}"))
    for problem in problems:
        out(printable(f"NOT GRADED {problem}"))
    return 1 if problems else 0
