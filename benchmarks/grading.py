"""Autograding speed, with the grading pipeline's own Python API (``nngrade``), in a scratch course.

* ``autograde_seconds[<assignment>]``: nbgrader autograde of the all-correct submission (the source
  solutions filled into the release, as ``make demo``'s ``alice_correct``), which must score full marks;
  ``autograde_course_seconds`` is their sum: the whole course for one student.
* ``execute_seconds[<assignment>]``: ``jupyter nbconvert --execute`` of the assignment's solution
  notebook, right after its autograde in the same run; ``autograde_ratio[<assignment>]`` is autograde
  over plain execution: what grading (the kernel's run plus the grader's checks through the channel,
  hidden tests included) costs beyond running the notebook once.
* ``grade_serial_seconds`` / ``grade_parallel_seconds``: a simulated class (``make demo``'s four
  students, repeated up to ``students``) × every assignment, autograded with 1 job and with ``jobs``
  jobs (``nngrade.grade.grade_all``, what ``make grade JOBS=2`` runs); the speedup is their ratio.

Nothing in the repository is touched: ``source/``, the mutant catalogues and the gradebook are copied
into a temporary folder first.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nngrade import grade, notebooks, release
from nngrade.config import REPO_ROOT, Course, warnings_to_stdout
from nngrade.demo import simulated_class

CORRECT_STUDENT = "bench_correct"


def scratch_course(folder: Path, assignments) -> Course:
    """A copy of the course (sources, mutant catalogues, gradebook) with fresh releases, under ``folder``."""
    course = Course(folder, db_url=f"sqlite:///{folder}/gradebook.db")
    for assignment in assignments:
        shutil.copytree(REPO_ROOT / "source" / assignment, course.folder("source") / assignment)
    if (REPO_ROOT / "tests" / "mutants").is_dir():
        shutil.copytree(REPO_ROOT / "tests" / "mutants", folder / "tests" / "mutants")
    if (REPO_ROOT / "gradebook.db").is_file():  # nbgrader creates a new gradebook slowly
        shutil.copy2(REPO_ROOT / "gradebook.db", folder / "gradebook.db")
    errors = release.build_each(course, assignments)
    if errors:
        raise RuntimeError("cannot release: " + "; ".join(f"{a}: {e}" for a, e in errors.items()))
    return course


def _timed_autograde(course: Course, student: str, assignment: str) -> float:
    started = time.perf_counter()
    problem = grade.autograde_one(course, student, assignment)
    seconds = time.perf_counter() - started
    if problem is not None:
        raise RuntimeError(f"could not autograde {problem}")
    return seconds


def _timed_execution(course: Course, assignment: str, folder: Path) -> float:
    """Seconds of ``jupyter nbconvert --execute`` of the solution notebook, run like a student would."""
    solution = course.notebook("solutions", assignment)
    command = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", str(solution),
               "--output-dir", str(folder), "--ExecutePreprocessor.timeout=600"]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=solution.parent)
    return time.perf_counter() - started


def _errors(course: Course, assignment: str, student: str, cells) -> list[str]:
    """``<grade_id>: <error>`` for each of ``cells`` in the autograded notebook (why it lost points)."""
    messages = []
    for cell in notebooks.read(course.notebook("autograded", assignment, student)).cells:
        if notebooks.grade_id(cell) in cells:
            errors = [f"{out.get('ename')}: {out.get('evalue', '')[:300]}" for out in cell.get("outputs", [])
                      if out.get("output_type") == "error"]
            messages.append(f"{notebooks.grade_id(cell)}: {' | '.join(errors) or 'no error output'}")
    return messages


def class_roster(course: Course, assignments, students: int) -> list[tuple[str, str]]:
    """Write ``students`` simulated submissions of every assignment; returns the (student, assignment) pairs."""
    pairs = []
    for assignment in assignments:
        personas = list(simulated_class(course, assignment).items())
        for index in range(students):
            persona, submission = personas[index % len(personas)]
            student = f"{persona}_{index // len(personas) + 1}"
            notebooks.write(submission, course.notebook("submitted", assignment, student))
            pairs.append((student, assignment))
    return pairs


def run(*, assignments=None, students=8, jobs=2, with_class=True, log=print) -> dict:
    warnings_to_stdout()
    assignments = list(assignments or Course(REPO_ROOT).assignments())
    metrics = {"autograde_seconds": {}, "execute_seconds": {}, "autograde_ratio": {}}
    details = {"assignments": assignments, "students": students, "jobs": jobs}
    with tempfile.TemporaryDirectory(prefix="nncourse-bench-") as scratch:
        course = scratch_course(Path(scratch) / "course", assignments)
        for assignment in assignments:
            solved = simulated_class(course, assignment)["alice_correct"]
            notebooks.write(solved, course.notebook("submitted", assignment, CORRECT_STUDENT))
            seconds = _timed_autograde(course, CORRECT_STUDENT, assignment)
            scores = grade.cell_scores(course, assignment, CORRECT_STUDENT)
            lost = sorted(cell for cell, score in scores.items() if not score.full)
            if lost:
                raise RuntimeError(f"the all-correct {assignment} lost points: "
                                   + "; ".join(_errors(course, assignment, CORRECT_STUDENT, lost)))
            metrics["autograde_seconds"][assignment] = seconds
            executed = _timed_execution(course, assignment, Path(scratch) / "executed")
            metrics["execute_seconds"][assignment] = executed
            metrics["autograde_ratio"][assignment] = seconds / executed
            log(f"  autograde {assignment} (all correct): {seconds:.1f} s; nbconvert --execute of the solution: "
                f"{executed:.1f} s; ratio {seconds / executed:.2f}")
        metrics["autograde_course_seconds"] = sum(metrics["autograde_seconds"].values())
        if with_class:
            shutil.rmtree(course.folder("submitted"))
            pairs = class_roster(course, assignments, students)
            for label, job_count in (("serial", 1), ("parallel", jobs)):
                started = time.perf_counter()
                problems = grade.grade_all(course, pairs, job_count)
                metrics[f"grade_{label}_seconds"] = time.perf_counter() - started
                if problems:
                    raise RuntimeError(f"{label} grading failed: " + "; ".join(map(str, problems)))
                log(f"  {len(pairs)} submissions with {job_count} job(s): {metrics[f'grade_{label}_seconds']:.1f} s")
            metrics["grade_parallel_speedup"] = metrics["grade_serial_seconds"] / metrics["grade_parallel_seconds"]
            details["submissions"] = len(pairs)
    return metrics, details
