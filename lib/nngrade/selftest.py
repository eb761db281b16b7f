"""``make check``: prove, for every assignment in ``source/``, that the autograder can be trusted.

Per assignment, with the real nbgrader autograde and gradebook scores:

* the release notebook filled with the source solutions scores full marks;
* the unmodified release scores 0 on every autograded test cell and is graded without crashing;
* every realistic wrong answer of ``tests/mutants/<assignment>.py`` (``MUTANTS``, at least 3 per graded
  function) loses points in exactly the test cells it names and nowhere else;
* every alternative correct answer (``ALTERNATIVES``) keeps full marks;
* ``release/`` holds no solution code, hidden test or import of ``nnref``/``nngrade``; ``solutions/``
  and feedback HTML hold no hidden test; both folders are up to date with ``source/``.

Speed: mutants of different cells share one submission (hidden tests isolate each function, so they
do not interfere; a bundle that shows cross-talk is re-run one mutant at a time; a cell that several
members declare, such as an accuracy gate downstream of every layer, is verified for the bundle as a
whole, while each member's own test cells are attributed exactly), alternatives are
bundled the same way, and submissions are graded by parallel workers, each with its own nbgrader
course folder and gradebook in a temporary directory.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import multiprocessing
import os
import shutil
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from . import notebooks, release
from .config import Course, warnings_to_stdout
from .grade import autograde_one, cell_scores, longest_first
from .kernel import share_cores

MIN_MUTANTS_PER_FUNCTION = 3


@dataclass(frozen=True)
class Mutant:
    """A realistic wrong answer: ``source`` replaces the whole solution cell ``cell`` (its grade_id).

    It must lose points in the test cells ``fails`` (default ``("test_<cell>",)``) and nowhere else.
    """

    cell: str
    description: str
    source: str
    fails: tuple = None

    def __post_init__(self):
        object.__setattr__(self, "fails", tuple(self.fails) if self.fails else (f"test_{self.cell}",))


@dataclass(frozen=True)
class Alternative:
    """A different but correct answer for solution cell ``cell``: it must keep full marks."""

    cell: str
    description: str
    source: str


def load_catalogue(path: Path) -> tuple[list[Mutant], list[Alternative]]:
    """``MUTANTS`` and ``ALTERNATIVES`` of a catalogue file (loaded by path, not imported by name)."""
    spec = importlib.util.spec_from_file_location(f"nngrade_catalogue_{Path(path).stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(getattr(module, "MUTANTS", [])), list(getattr(module, "ALTERNATIVES", []))


# --- grading jobs (run in worker processes, each with its own course copy) ---------------------------


@dataclass(frozen=True)
class Job:
    assignment: str
    student: str
    answers: dict | None  # grade_id -> new source; None = the unmodified release
    feedback: bool = False  # also generate feedback HTML and look for leaks in it


@dataclass
class Outcome:
    scores: dict | None  # grade_id -> CellScore; None when the submission could not be graded
    problem: str | None
    seconds: float
    leaks: list = field(default_factory=list)


_worker_course: Course | None = None


def _start_worker(template: str, scratch: str, jobs: int) -> None:
    """Give this worker process its own copy of the course (folders and gradebook) and its share of the cores."""
    global _worker_course
    warnings_to_stdout()
    share_cores(jobs)
    root = Path(scratch) / f"worker-{os.getpid()}"
    shutil.copytree(template, root)
    _worker_course = Course(root, db_url=f"sqlite:///{root}/gradebook.db")


def _run(job: Job) -> Outcome:
    course = _worker_course
    release_notebook = notebooks.read(course.notebook("release", job.assignment))
    submission = release_notebook if job.answers is None else notebooks.fill(release_notebook, job.answers)
    notebooks.write(submission, course.notebook("submitted", job.assignment, job.student))
    started = time.perf_counter()
    problem = autograde_one(course, job.student, job.assignment)
    seconds = time.perf_counter() - started
    if problem is not None:
        return Outcome(None, problem.reason, seconds)
    leaks = []
    if job.feedback:
        result = course.api().generate_feedback(job.assignment, job.student, force=True)
        html = course.notebook("feedback", job.assignment, job.student)
        if not result["success"] or not html.is_file():
            leaks.append("feedback could not be generated")
        else:
            leaks += [f"feedback: {leak}" for leak in
                      notebooks.leaks(notebooks.visible_text(html), course.source_notebook(job.assignment),
                                      solutions=False)]
    return Outcome(cell_scores(course, job.assignment, job.student), None, seconds, leaks)


# --- the self-test of one assignment ---------------------------------------------------------------


@dataclass
class Report:
    assignment: str
    graded_cells: int = 0
    points: float = 0.0
    solution_score: float | None = None
    blank_score: float | None = None
    mutants_caught: int = 0
    mutants_total: int = 0
    alternatives_accepted: int = 0
    alternatives_total: int = 0
    seconds: float = 0.0
    misses: list = field(default_factory=list)

    ROW = "{:<40} {:>5} {:>6} {:>9} {:>6} {:>8} {:>6} {:>7}"
    HEADER = ROW.format("assignment", "cells", "points", "solution", "blank", "mutants", "alts", "seconds")

    def row(self) -> str:
        def score(value):
            return "-" if value is None else f"{value:g}"

        return self.ROW.format(self.assignment[:40], self.graded_cells, f"{self.points:g}", score(self.solution_score),
                               score(self.blank_score), f"{self.mutants_caught}/{self.mutants_total}",
                               f"{self.alternatives_accepted}/{self.alternatives_total}", f"{self.seconds:.1f}")


class _Plan:
    """The jobs of one assignment and how to judge their outcomes."""

    def __init__(self, course: Course, assignment: str, report: Report):
        self.assignment, self.report = assignment, report
        source = course.source_notebook(assignment)
        self.solutions = notebooks.solutions_of(source)
        self.test_cells = {notebooks.grade_id(c) for c in source.cells if notebooks.is_autograded_test(c)}
        self.mutants, self.alternatives = self._catalogue(course)
        self.mutant_bundles = self._bundles(self.mutants)
        self.alternative_bundles = self._bundles(self.alternatives)
        self.entries = {}  # student id of a single-entry rerun -> its Mutant or Alternative
        self.solution_losses = set()  # cells the solution itself fails (already a miss): not evidence

    def _catalogue(self, course: Course):
        path = course.mutants_file(self.assignment)
        if not path.is_file():
            self.report.misses.append(f"no mutant catalogue {path.relative_to(course.root)}")
            return [], []
        mutants, alternatives = load_catalogue(path)
        valid_mutants = [m for m in mutants if self._valid(m.cell, m.fails, m.description)]
        valid_alternatives = [a for a in alternatives if self._valid(a.cell, (), a.description)]
        graded_functions = sorted(cell for cell in self.solutions if f"test_{cell}" in self.test_cells)
        per_cell = defaultdict(int)
        for mutant in valid_mutants:
            per_cell[mutant.cell] += 1
        for cell in graded_functions:
            if per_cell[cell] < MIN_MUTANTS_PER_FUNCTION:
                self.report.misses.append(f"only {per_cell[cell]} mutant(s) for {cell} (need {MIN_MUTANTS_PER_FUNCTION})")
        return valid_mutants, valid_alternatives

    def _valid(self, cell, fails, description) -> bool:
        unknown = ([cell] if cell not in self.solutions else []) + [f for f in fails if f not in self.test_cells]
        if unknown:
            self.report.misses.append(f"catalogue entry {description!r} names unknown cell(s) {unknown}")
        return not unknown

    @staticmethod
    def _bundles(entries):
        """The k-th bundle holds the k-th entry (mutant or alternative) of every cell: one per cell."""
        by_cell = defaultdict(list)
        for entry in entries:
            by_cell[entry.cell].append(entry)
        size = max((len(group) for group in by_cell.values()), default=0)
        return [[group[k] for group in by_cell.values() if k < len(group)] for k in range(size)]

    def first_round(self) -> list[Job]:
        a = self.assignment
        jobs = [Job(a, "solution", dict(self.solutions), feedback=True), Job(a, "blank", None, feedback=True)]
        jobs += [Job(a, f"alternatives{k}", self._answers(bundle)) for k, bundle in enumerate(self.alternative_bundles)]
        jobs += [Job(a, f"mutants{k}", self._answers(bundle)) for k, bundle in enumerate(self.mutant_bundles)]
        return jobs

    def _answers(self, replacements) -> dict:
        return {**self.solutions, **{r.cell: r.source for r in replacements}}

    def judge_first_round(self, outcomes: dict) -> list[Job]:
        """Judge solution, blank and the bundles; return the single-entry jobs needed to attribute misses."""
        report, reruns = self.report, []
        solution, blank = outcomes["solution"], outcomes["blank"]
        report.seconds = solution.seconds
        for name, outcome in (("solution", solution), ("blank release", blank)):
            if outcome.scores is None:
                report.misses.append(f"the {name} could not be graded: {outcome.problem}")
            report.misses += outcome.leaks
        if solution.scores is not None:
            self.solution_losses = {cell for cell, s in solution.scores.items() if not s.full}
            report.graded_cells = len(solution.scores)
            report.points = sum(s.max_score for s in solution.scores.values())
            report.solution_score = sum(s.score for s in solution.scores.values())
            report.misses += [f"solution loses points in {cell}" for cell, s in solution.scores.items() if not s.full]
        if blank.scores is not None:
            report.blank_score = sum(s.score for s in blank.scores.values())
            report.misses += [f"blank release scores points in {cell}" for cell, s in blank.scores.items() if not s.zero]
        report.alternatives_total = len(self.alternatives)
        for k, bundle in enumerate(self.alternative_bundles):
            outcome = outcomes[f"alternatives{k}"]
            lost = self._lost(outcome)
            own_test = {alternative: f"test_{alternative.cell}" for alternative in bundle}
            if lost is not None and lost <= set(own_test.values()):
                # every loss is in the test of one member: the others are accepted, the suspects re-run
                report.alternatives_accepted += sum(test not in lost for test in own_test.values())
                suspects = [alternative for alternative in bundle if own_test[alternative] in lost]
            else:
                suspects = bundle
            reruns += [self._alone(f"alternative{k}-{i}", alt) for i, alt in enumerate(bundle) if alt in suspects]
        report.mutants_total = len(self.mutants)
        for k, bundle in enumerate(self.mutant_bundles):
            outcome = outcomes[f"mutants{k}"]
            expected = [set(m.fails) for m in bundle]
            union = set().union(*expected)
            lost = self._lost(outcome)
            # cells several members expect to fail (e.g. an accuracy gate downstream of every layer) are
            # judged for the bundle as a whole; each member must also expect a cell of its own
            shared = {cell for cell in union if sum(cell in cells for cells in expected) > 1}
            if lost is not None and lost <= union and shared <= lost and all(cells - shared for cells in expected):
                for mutant in bundle:  # no unexplained loss and every member's own cells attributable
                    self._judge_mutant(mutant, lost & set(mutant.fails))
            else:
                reruns += [self._alone(f"mutant{k}-{i}", mutant) for i, mutant in enumerate(bundle)]
        return reruns

    def _lost(self, outcome: Outcome) -> set | None:
        """Cells that lost points which the solution keeps full marks in (None: not graded)."""
        if outcome.scores is None:
            return None
        return {cell for cell, s in outcome.scores.items() if not s.full} - self.solution_losses

    def _alone(self, student: str, entry) -> Job:
        """A job that grades one catalogue entry on its own (remembered for ``judge_rerun``)."""
        self.entries[student] = entry
        return Job(self.assignment, student, self._answers([entry]))

    def judge_rerun(self, job: Job, outcome: Outcome) -> None:
        entry = self.entries[job.student]
        if isinstance(entry, Alternative):
            lost = self._lost(outcome)
            if lost == set():
                self.report.alternatives_accepted += 1
            else:
                why = "could not be graded" if lost is None else "loses points in " + ", ".join(sorted(lost))
                self.report.misses.append(f"alternative {entry.description!r} ({entry.cell}) {why}")
            return
        if outcome.scores is None:
            self.report.misses.append(f"mutant {entry.description!r} ({entry.cell}) could not be graded: {outcome.problem}")
            return
        self._judge_mutant(entry, self._lost(outcome))

    def _judge_mutant(self, mutant: Mutant, lost: set) -> None:
        expected = set(mutant.fails) - self.solution_losses
        if not expected:
            self.report.misses.append(f"mutant {mutant.description!r} ({mutant.cell}) cannot be judged: "
                                      f"the solution already loses points in {', '.join(mutant.fails)}")
            return
        if lost == expected:
            self.report.mutants_caught += 1
            return
        missing, extra = sorted(expected - lost), sorted(lost - expected)
        why = []
        if missing:
            why.append("keeps full marks in " + ", ".join(missing))
        if extra:
            why.append("also loses points in " + ", ".join(extra))
        self.report.misses.append(f"mutant {mutant.description!r} ({mutant.cell}) {'; '.join(why)}")


def _static_checks(course: Course, fresh: Course, assignment: str) -> list[str]:
    """Leaks in the freshly built release/solutions, and committed folders that are out of date."""
    source = fresh.source_notebook(assignment)
    release_path = fresh.notebook("release", assignment)
    misses = [f"release: {leak}" for leak in notebooks.leaks(notebooks.visible_text(release_path), source)]
    misses += [f"release imports the reference: {line}" for line in notebooks.reference_imports(notebooks.read(release_path))]
    solution_leaks = notebooks.leaks(notebooks.visible_text(fresh.notebook("solutions", assignment)), source,
                                     solutions=False)
    misses += [f"solutions: {leak}" for leak in solution_leaks]
    for step in ("release", "solutions"):
        stale = release._differences(course.folder(step) / assignment, fresh.folder(step) / assignment)
        if stale:
            misses.append(f"{step}/{assignment} is out of date with source/ (run `make release`): {', '.join(stale)}")
    return misses


def _missing_data(course: Course, assignments) -> dict[str, str]:
    """``{assignment: reason}`` for the assignments whose data set (``metadata.nncourse.data``) is not here.

    Homework 2 trains on MNIST: without the files its solution cannot score, which says nothing about
    the grader. Such an assignment is reported as SKIPPED, with where the loader looked.
    """
    from nnkit.mnist import MNISTNotFoundError, find_mnist_dir

    missing = {}
    for assignment in assignments:
        if "mnist" in course.source_notebook(assignment).metadata.get("nncourse", {}).get("data", []):
            try:
                find_mnist_dir()
            except MNISTNotFoundError as error:
                missing[assignment] = f"the MNIST files are not found (set NNCOURSE_MNIST_DIR): {error}"[:500]
    return missing


def _progress(outcomes, jobs: list[Job], verb: str, out):
    """Pass ``outcomes`` through, printing a line as each arrives: the self-test runs for minutes."""
    for number, (job, outcome) in enumerate(zip(jobs, outcomes), start=1):
        out(f"  [{number}/{len(jobs)}] {verb}: {job.assignment} {job.student} ({outcome.seconds:.0f} s)")
        yield outcome


def run(course: Course, assignments=None, *, jobs: int = 2, out=print) -> int:
    """Self-test ``assignments`` (default: all of ``source/``); print one row each; 1 on any miss."""
    assignments = list(assignments or course.assignments())
    if not assignments:
        out(f"no assignments in {course.folder('source')}")
        return 1
    skipped = _missing_data(course, assignments)
    for assignment, reason in skipped.items():
        out(f"SKIPPED {assignment}: {reason}")
    assignments = [assignment for assignment in assignments if assignment not in skipped]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nngrade-check-") as scratch:
        template = Course(Path(scratch) / "template", db_url=f"sqlite:///{scratch}/template/gradebook.db")
        template.folder("source").mkdir(parents=True)
        for assignment in assignments:
            shutil.copytree(course.folder("source") / assignment, template.folder("source") / assignment)
        if (course.root / "gradebook.db").is_file():  # nbgrader creates a new gradebook slowly
            shutil.copy2(course.root / "gradebook.db", template.root / "gradebook.db")
        reports = {a: Report(a) for a in assignments}
        for assignment, error in release.build_each(template, assignments).items():
            reports[assignment].misses.append(error)
        buildable = [a for a in assignments if not reports[a].misses]
        plans = {a: _Plan(course, a, reports[a]) for a in buildable}
        for assignment in buildable:
            reports[assignment].misses += _static_checks(course, template, assignment)
        context = multiprocessing.get_context("spawn")
        workers = max(1, jobs)
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                                    initargs=(str(template.root), scratch, workers)) as pool:
            first = longest_first(template, [job for plan in plans.values() for job in plan.first_round()],
                                  lambda job: job.assignment)
            outcomes = list(zip(first, _progress(pool.map(_run, first), first, "graded", out)))
            reruns = []
            for assignment, plan in plans.items():
                by_student = {job.student: outcome for job, outcome in outcomes if job.assignment == assignment}
                reruns += plan.judge_first_round(by_student)
            for job, outcome in zip(reruns, _progress(pool.map(_run, reruns), reruns, "re-run alone", out)):
                plans[job.assignment].judge_rerun(job, outcome)
    out(Report.HEADER)
    for report in reports.values():
        out(report.row())
    misses = [(a, miss) for a, report in reports.items() for miss in report.misses]
    for assignment, miss in misses:
        out(f"MISS {assignment}: {miss}")
    out(f"{'FAILED' if misses else 'OK'}: {len(assignments)} assignment(s), {len(misses)} miss(es), "
        f"{len(skipped)} skipped for missing data, "
        f"{time.perf_counter() - started:.0f} s")
    return 1 if misses else 0
