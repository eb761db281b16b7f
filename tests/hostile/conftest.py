"""The hostile-submission suite's course, CLI runner and result table.

Every attack is a submission of the tiny fixture assignment `hostile` (two functions, `square` worth
2 points and `cube` worth 1, 5 s per cell) graded by the real CLI (`python -m nngrade grade`) with
the sandbox on. A control student `alice` is graded first; every attack checks that her grade rows
stay as they were. At the end pytest prints one row per attack: attack, expected, observed, seconds.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from nngrade import notebooks
from nngrade.config import Course

FIXTURE = Path(__file__).parent / "fixtures" / "course"
LIB = Path(__file__).resolve().parents[2] / "lib"
ASSIGNMENT = "hostile"
CELL_TIMEOUT = 5  # the fixture notebook's {"nncourse": {"timeout": 5}}
# Canaries: strings planted where no submission may look; none may reach autograded/, feedback/ or grades.csv.
CANARY_NOTES = "CANARY-INSTRUCTOR-NOTES-91c4"
CANARY_ALICE = "CANARY-ALICE-PRIVATE-3d77"
CANARY_SOLUTION = "CANARY-SOLUTION-5b1e"  # in the source notebook's solution of `square`
CANARY_HIDDEN = "CANARY-HIDDEN-TEST-7f02"  # in both hidden tests: only the test cells of autograded/ may hold it
# The answers of a correct student (not the source solutions, which carry CANARY_SOLUTION).
SQUARE = "def square(x):\n    return np.asarray(x, dtype=float) ** 2"
CUBE = "def cube(x):\n    return np.asarray(x, dtype=float) ** 3"

TABLE_ROW = "hostile_row"  # the user property holding a test's table row (xdist carries it to the controller)


@dataclass
class Graded:
    """One CLI run: its output, exit status and wall time."""

    stdout: str
    returncode: int
    seconds: float

    def not_graded(self, student: str) -> str | None:
        """The reason reported for ``student`` in a ``NOT GRADED`` line, or None."""
        prefix = f"NOT GRADED {student} / "
        return next((line[len(prefix):] for line in self.stdout.splitlines() if line.startswith(prefix)), None)


class HostileCourse:
    """A released copy of the fixture course, and helpers to submit attacks and grade them."""

    def __init__(self, root: Path, tmp: Path):
        self.course = Course(root)
        self.root = root
        self.tmp = tmp  # TMPDIR of the grader: its sandbox folders appear (and must vanish) there
        self.alice_submission: Path | None = None  # the control student's notebook, set by the fixture

    def run(self, *args, jobs: int = 1, timeout: float = 240) -> Graded:
        env = dict(os.environ, PYTHONPATH=str(LIB), MPLBACKEND="Agg", NNCOURSE_SANDBOX="1", TMPDIR=str(self.tmp))
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        command = [sys.executable, "-m", "nngrade", "--root", str(self.root), *args]
        if args and args[0] == "grade":
            command += ["--jobs", str(jobs)]
        start = time.monotonic()
        finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
        assert finished.stderr == "", finished.stderr[-3000:]
        return Graded(finished.stdout, finished.returncode, time.monotonic() - start)

    def submit(self, student: str, **sources) -> Path:
        """Submit the release filled with correct answers, ``sources`` (grade_id -> code) replacing some."""
        answers = {"square": SQUARE, "cube": CUBE, **sources}
        filled = notebooks.fill(notebooks.read(self.course.notebook("release", ASSIGNMENT)), answers)
        path = self.course.notebook("submitted", ASSIGNMENT, student)
        notebooks.write(filled, path)
        return path

    def grade_only(self, *students: str, jobs: int = 1) -> Graded:
        """Grade exactly ``students``: the other submissions are moved aside for the run."""
        submitted = self.course.folder("submitted")
        aside = self.tmp / "aside"
        aside.mkdir(exist_ok=True)
        others = [p for p in submitted.iterdir() if p.name not in students] if submitted.is_dir() else []
        for folder in others:
            folder.rename(aside / folder.name)
        try:
            return self.run("grade", jobs=jobs)
        finally:
            for folder in others:
                (aside / folder.name).rename(submitted / folder.name)

    def _notebook_rows(self, student: str) -> tuple[list[dict], list[dict]]:
        """The gradebook's grade and comment rows of ``student``'s notebook, as dicts."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}", "nn-foundations") as gradebook:
            notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            grades = [{**g.to_dict(), "score": g.score} for g in notebook.grades]
            return grades, [c.to_dict() for c in notebook.comments]

    def scores(self, student: str) -> dict[str, float]:
        """``{test grade_id: score}`` of the student's autograded test cells, from the gradebook."""
        grades, _ = self._notebook_rows(student)
        return {g["name"]: g["score"] for g in grades if g["cell_type"] == "code"}

    def grade_rows_hash(self, student: str) -> str:
        """A hash of every gradebook row about ``student``'s grades and comments."""
        return hashlib.sha256(repr(self._notebook_rows(student)).encode()).hexdigest()

    def autograded_text(self, student: str) -> str:
        return self.course.notebook("autograded", ASSIGNMENT, student).read_text()

    def outputs(self, student: str) -> dict[str, str]:
        """``{grade_id: text of its outputs}`` in the student's autograded notebook."""
        result = {}
        for cell in notebooks.read(self.course.notebook("autograded", ASSIGNMENT, student)).cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            texts = [o.get("text", "") + o.get("ename", "") + ": " + o.get("evalue", "") for o in cell.get("outputs", [])]
            result[grade_id] = "\n".join(texts)
        return result

    def leftover_sandboxes(self) -> list[str]:
        """Sandbox folders still on disk, and processes still running from one (both must be gone)."""
        left = [str(p) for p in self.tmp.glob("nngrade-kernel-*")]
        for proc in Path("/proc").iterdir():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if f"{self.tmp}/nngrade-kernel-" in cmdline:
                left.append(f"pid {proc.name}: {cmdline[:120]}")
        return left


@pytest.fixture(scope="session")
def short_tmp():
    """Makes grader TMPDIRs with short paths, removed at the end: a kernel's sockets live in a folder of
    the grader's TMPDIR, and a unix socket's path has at most 107 bytes (pytest's folders under xdist
    come close)."""
    made = []

    def make() -> Path:
        made.append(Path(tempfile.mkdtemp(prefix="nnh-")))
        return made[-1]

    yield make
    for folder in made:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def hostile(tmp_path_factory, short_tmp) -> HostileCourse:
    """The released fixture course with the control student ``alice`` graded (full marks)."""
    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(FIXTURE, root, dirs_exist_ok=True)
    tmp = short_tmp()
    course = HostileCourse(root, tmp)
    released = course.run("release")
    assert released.returncode == 0, released.stdout
    (root / "instructor_notes.txt").write_text(f"exam answers: {CANARY_NOTES}\n")
    alice = course.submit("alice", cube="def cube(x):\n    # " + CANARY_ALICE + "\n    return np.asarray(x, dtype=float) ** 3")
    graded = course.grade_only("alice")
    assert graded.returncode == 0, graded.stdout
    assert course.scores("alice") == {"test_square": 2.0, "test_cube": 1.0}, graded.stdout
    course.alice_submission = alice
    return course


_running = []  # the test item running in this process, for ``record``


@pytest.fixture(autouse=True)
def _current_test(request):
    _running[:] = [request.node]
    yield
    _running.clear()


def record(attack: str, expected: str, observed: str, seconds: float, ok: bool) -> None:
    """One row of the table printed at the end of the run."""
    _running[0].user_properties.append((TABLE_ROW, (attack, expected, observed, round(seconds, 1), ok)))


def pytest_terminal_summary(terminalreporter):
    rows = [tuple(value) for outcome in ("passed", "failed") for report in terminalreporter.stats.get(outcome, [])
            if report.when == "call" for name, value in report.user_properties if name == TABLE_ROW]
    if not rows:
        return
    write = terminalreporter.write_line
    widths = [max(len(row[i]) for row in rows + [("attack", "expected", "observed")]) for i in range(3)]
    widths = [min(w, 60) for w in widths]
    write("")
    write("hostile submissions: attack | expected | observed | seconds")
    write("  ".join(["   ", f"{'attack':<{widths[0]}}", f"{'expected':<{widths[1]}}", f"{'observed':<{widths[2]}}", "seconds"]))
    for attack, expected, observed, seconds, ok in rows:
        write("  ".join(["ok " if ok else "MISS", f"{attack:<{widths[0]}}", f"{expected:<{widths[1]}}",
                         f"{observed[:widths[2]]:<{widths[2]}}", f"{seconds:7.1f}"]))
