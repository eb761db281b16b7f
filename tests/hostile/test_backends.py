"""Parallel grading scores exactly like serial grading, on SQLite and on a real PostgreSQL server, and a
``--force`` regrade keeps the instructor's manual grades (hostile case 11).

One small class (a correct student, the blank release, a wrong ``cube``, an infinite loop that times
out) is graded four times by the real CLI in the sandbox: on SQLite (the suite's course) serially and
then again with ``--jobs 2``; on PostgreSQL (a copy of the course on a fresh database) with
``--jobs 2`` and then again serially. Between the two runs on each backend an instructor grades by
hand through nbgrader's Gradebook API, as the formgrader does, and one student changes a written
answer; the second run of each backend is the ``--force`` regrade of the same submissions.

The PostgreSQL server is a throwaway cluster: ``initdb`` in a temporary folder, a unix socket in that
folder and no TCP, run as ``postgres`` (else ``nobody``) when the tests run as root (PostgreSQL
refuses root), stopped and deleted at the end. The tests skip only when the PostgreSQL server is not
installed, and never in CI (``make setup`` and ``.ci/run`` install it).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ASSIGNMENT, CUBE, SQUARE, Graded, HostileCourse, record
from nngrade import notebooks

WRITTEN = "written_reason"  # the fixture's markdown answer graded by hand (1 point)
# student -> (answers by solution cell, expected autograder scores); "blank" hands in the release.
CLASS = {
    "right": ({"square": SQUARE, "cube": CUBE, WRITTEN: "Odd powers keep the sign."},
              {"test_square": 2.0, "test_cube": 1.0, WRITTEN: None}),
    "blank": (None, {"test_square": 0.0, "test_cube": 0.0, WRITTEN: 0.0}),
    "wrong_cube": ({"square": SQUARE, "cube": "def cube(x):\n    return np.asarray(x, dtype=float) ** 2",
                    WRITTEN: "Because 3 is odd."},
                   {"test_square": 2.0, "test_cube": 0.0, WRITTEN: None}),
    "sleeper": ({"square": "def square(x):\n    while True:\n        pass", "cube": CUBE},
                {"test_square": 0.0, "test_cube": 1.0, WRITTEN: 0.0}),
}
# Grading by hand: student -> {grade cell: (manual score, extra credit, comment, the answer cell that
# holds the comment)}. nbgrader keeps comments on answer cells only: the override of test_cube is
# explained on `cube`.
MANUAL = {
    "wrong_cube": {WRITTEN: (1.0, 0.25, "Right, and well put: an odd power keeps the sign.", WRITTEN),
                   "test_cube": (0.5, None, "Half a point: ** 2 is a typo, the idea is right.", "cube")},
    "right": {WRITTEN: (0.5, None, "Say why an odd power keeps the sign.", WRITTEN)},
}
# After grading by hand, "right" hands in a better written answer: its review must open again.
RESUBMITTED = {"right": {**CLASS["right"][0], WRITTEN: "A negative number to an odd power is negative."}}


# --- a throwaway PostgreSQL server ---------------------------------------------------------------------


def postgres_bin() -> Path | None:
    """The folder of the PostgreSQL server programs (Debian: /usr/lib/postgresql/<version>/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def server_account() -> pwd.struct_passwd:
    """The account the cluster runs as under root: Debian's ``postgres``, else ``nobody``. Not sharing
    ``nobody`` with the sandboxed kernels keeps their process limit from reaching the server."""
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return pwd.getpwnam("nobody")


class PostgresServer:
    """A PostgreSQL cluster in a temporary folder, listening on a unix socket in that folder only."""

    USER = "grader"

    def __init__(self, bindir: Path):
        self.bindir = bindir
        # /tmp: a short path (a socket path has ~100 bytes) that the cluster's owner can reach
        self.folder = Path(tempfile.mkdtemp(prefix="nngrade-pg-", dir="/tmp"))
        self.data = self.folder / "data"
        self.as_owner: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            owner = server_account()
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self.as_owner = ["setpriv", f"--reuid={owner.pw_uid}", f"--regid={owner.pw_gid}", "--clear-groups"]

    def _run(self, program: str, *args: str) -> None:
        # cwd: the owner may not be allowed into the caller's folder (a checkout under /root)
        done = subprocess.run([*self.as_owner, str(self.bindir / program), *args], cwd=self.folder,
                              capture_output=True, text=True)
        assert done.returncode == 0, f"{program} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}"

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", self.USER, "--auth=trust", "--no-sync",
                  "--encoding=UTF8", "--locale=C")
        options = f"-k {self.folder} -c listen_addresses='' -c fsync=off"  # no TCP; a test needs no durability
        self._run("pg_ctl", "start", "--wait", "-D", str(self.data), "-l", str(self.folder / "server.log"),
                  "-o", options)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "--wait", "--mode=fast", "-D", str(self.data))
        shutil.rmtree(self.folder)

    def create_database(self, name: str) -> str:
        """A new, empty database; its URL as an instructor writes it into ``NNCOURSE_DB_URL``."""
        import psycopg2

        connection = psycopg2.connect(host=str(self.folder), user=self.USER, dbname="postgres")
        try:
            connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return f"postgresql://{self.USER}@/{name}?host={self.folder}"


@pytest.fixture(scope="module")
def postgres():
    bindir = postgres_bin()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("the PostgreSQL server (Debian package postgresql) is not installed; .ci/run installs it")
        pytest.skip("the PostgreSQL server is not installed (apt-get install postgresql; make setup does it as root)")
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


# --- the class, graded twice on one gradebook ------------------------------------------------------------


@dataclass
class BackendRuns:
    """The two CLI runs of the class on one gradebook, and the gradebook's rows after each."""

    backend: str
    jobs: tuple[int, int]
    first: Graded
    second: Graded
    first_rows: dict
    hand_graded_rows: dict  # after grading by hand, before the regrade
    second_rows: dict


def submit(course: HostileCourse, answers_by_student: dict) -> None:
    release = notebooks.read(course.course.notebook("release", ASSIGNMENT))
    for student, answers in answers_by_student.items():
        path = course.course.notebook("submitted", ASSIGNMENT, student)
        notebooks.write(notebooks.fill(release, answers or {}), path)


def gradebook_rows(db_url: str) -> dict:
    """``{student: {"grades": {grade_id: fields}, "comments": {grade_id: manual comment}}}`` of the class."""
    from nbgrader.api import Gradebook

    rows = {}
    with Gradebook(db_url, "nn-foundations") as gradebook:
        for student in CLASS:
            notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            grades = {grade.name: {"auto_score": grade.auto_score, "manual_score": grade.manual_score,
                                   "extra_credit": grade.extra_credit, "score": grade.score,
                                   "needs_manual_grade": grade.needs_manual_grade}
                      for grade in notebook.grades}
            rows[student] = {"grades": grades, "comments": {c.name: c.manual_comment for c in notebook.comments}}
    return rows


def auto_scores(rows: dict) -> dict:
    """``{student: {grade_id: autograder score}}``: what every run must agree on."""
    return {student: {name: fields["auto_score"] for name, fields in row["grades"].items()}
            for student, row in rows.items()}


def grade_by_hand(db_url: str) -> None:
    """What the formgrader does when an instructor enters a score (which ends the review), extra credit
    and a comment."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, "nn-foundations") as gradebook:
        for student, cells in MANUAL.items():
            for cell, (score, extra_credit, comment, answer_cell) in cells.items():
                grade = gradebook.find_grade(cell, ASSIGNMENT, ASSIGNMENT, student)
                grade.manual_score, grade.extra_credit, grade.needs_manual_grade = score, extra_credit, False
                gradebook.find_comment(answer_cell, ASSIGNMENT, ASSIGNMENT, student).manual_comment = comment
        gradebook.db.commit()


def grade_class(backend: str, course: HostileCourse, jobs: tuple[int, int], env_db_url: str | None = None):
    """Grade the class with ``jobs[0]`` jobs, grade by hand, resubmit, regrade with ``jobs[1]``.
    ``env_db_url`` is the gradebook given as ``NNCOURSE_DB_URL`` (None: the course's SQLite file)."""
    from nbgrader.coursedir import CourseDirectory

    with pytest.MonkeyPatch.context() as patch:
        if env_db_url:
            patch.setenv("NNCOURSE_DB_URL", env_db_url)  # read by nbgrader_config.py, in the CLI as here
        db_url = CourseDirectory(config=course.course.config()).db_url
        submit(course, {student: answers for student, (answers, _) in CLASS.items()})
        first = course.grade_only(*CLASS, jobs=jobs[0])
        first_rows = gradebook_rows(db_url)
        grade_by_hand(db_url)
        hand_graded_rows = gradebook_rows(db_url)
        submit(course, RESUBMITTED)
        second = course.grade_only(*CLASS, jobs=jobs[1])
        assert course.leftover_sandboxes() == []
        return BackendRuns(backend, jobs, first, second, first_rows, hand_graded_rows, gradebook_rows(db_url))


@pytest.fixture(scope="module")
def sqlite_runs(hostile) -> BackendRuns:
    """The class in the suite's course (SQLite): serially, then the regrade with two jobs."""
    alice_before = hostile.grade_rows_hash("alice")
    runs = grade_class("SQLite", hostile, jobs=(1, 2))
    assert hostile.grade_rows_hash("alice") == alice_before, "grading the class changed another student's grades"
    for student in CLASS:  # later tests grade everyone in submitted/: the sleeper would cost them its timeout
        shutil.rmtree(hostile.course.folder("submitted") / student)
    return runs


@pytest.fixture(scope="module")
def postgres_runs(hostile, postgres, tmp_path_factory, short_tmp) -> BackendRuns:
    """The class in a copy of the course on an empty PostgreSQL database: two jobs, then the serial regrade."""
    root = tmp_path_factory.mktemp("postgres_course")
    for folder in ("source", "release"):
        shutil.copytree(hostile.root / folder, root / folder)
    course = HostileCourse(root, short_tmp())
    return grade_class("PostgreSQL", course, jobs=(2, 1), env_db_url=postgres.create_database("nncourse"))


# --- the tests --------------------------------------------------------------------------------------------


def test_serial_and_parallel_grading_score_alike_on_sqlite_and_postgresql(sqlite_runs, postgres_runs):
    expected = {student: scores for student, (_, scores) in CLASS.items()}
    failures = []
    for runs in (sqlite_runs, postgres_runs):
        for jobs, graded, rows in zip(runs.jobs, (runs.first, runs.second), (runs.first_rows, runs.second_rows)):
            mode = "serial" if jobs == 1 else f"--jobs {jobs}"
            same = auto_scores(rows) == expected
            clean = graded.returncode == 0 and "database is locked" not in graded.stdout
            record(f"{runs.backend}, {mode}, {len(CLASS)} students", "the expected scores, exit 0",
                   f"{'same scores' if same else auto_scores(rows)}, exit {graded.returncode}", graded.seconds,
                   same and clean)
            if not (same and clean):
                failures.append(f"{runs.backend} {mode}: {auto_scores(rows)}\n{graded.stdout}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("backend", ["sqlite_runs", "postgres_runs"])
def test_force_regrade_keeps_manual_grades(backend, request):
    runs = request.getfixturevalue(backend)
    before, after = runs.hand_graded_rows, runs.second_rows
    lost = [f"{student}/{cell}" for student, cells in MANUAL.items()
            for cell, (score, extra_credit, comment, answer_cell) in cells.items()
            if (after[student]["grades"][cell]["manual_score"], after[student]["grades"][cell]["extra_credit"],
                after[student]["grades"][cell]["score"], after[student]["comments"][answer_cell])
            != (score, extra_credit, score + (extra_credit or 0), comment)]
    # The unchanged submission keeps every row as the instructor left it, the review included.
    unchanged_kept = after["wrong_cube"] == before["wrong_cube"]
    # The changed written answer keeps its manual score but goes back to the formgrader's queue.
    reopened = after["right"]["grades"][WRITTEN]["needs_manual_grade"] is True
    ok = not lost and unchanged_kept and reopened
    record(f"{runs.backend}: --force regrade after grading by hand", "manual scores, extra credit, comments kept",
           f"lost {lost or 'nothing'}, unchanged rows {'kept' if unchanged_kept else 'CHANGED'}, "
           f"changed answer {'reopened' if reopened else 'NOT reopened'}", runs.second.seconds, ok)
    assert not lost, lost
    assert unchanged_kept, (before["wrong_cube"], after["wrong_cube"])
    assert reopened, after["right"]


# --- the review rule of nngrade.manual_grades, without a kernel ----------------------------------------


@pytest.fixture(scope="module")
def gradebook_template(tmp_path_factory) -> Path:
    """A gradebook in which zoe's test_square was autograded 0 (nbgrader creates one slowly: copy it)."""
    from nbgrader.api import Gradebook

    path = tmp_path_factory.mktemp("template") / "gradebook.db"
    with Gradebook(f"sqlite:///{path}", "nn-foundations") as gradebook:
        gradebook.add_assignment(ASSIGNMENT)
        gradebook.add_notebook(ASSIGNMENT, ASSIGNMENT)
        gradebook.add_grade_cell("test_square", ASSIGNMENT, ASSIGNMENT, max_score=2, cell_type="code")
        gradebook.add_student("zoe")
        gradebook.add_submission(ASSIGNMENT, "zoe")
        grade = gradebook.find_grade("test_square", ASSIGNMENT, ASSIGNMENT, "zoe")
        grade.auto_score, grade.needs_manual_grade = 0.0, False
        gradebook.db.commit()
    return path


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's session autoflush notices
@pytest.mark.parametrize("change, kept", [(None, ["test_square"]), ("answer", []), ("auto_score", [])])
def test_a_review_is_kept_only_when_answers_and_autograder_score_are_unchanged(gradebook_template, tmp_path,
                                                                               change, kept):
    from nbformat.v4 import new_code_cell, new_notebook
    from nbgrader.api import Gradebook

    from nngrade import manual_grades
    from nngrade.config import Course

    shutil.copy(gradebook_template, tmp_path / "gradebook.db")
    course = Course(tmp_path, db_url=f"sqlite:///{tmp_path / 'gradebook.db'}")
    answer = new_code_cell(SQUARE, metadata={"nbgrader": {"solution": True, "grade": False, "grade_id": "square"}})
    autograded = course.notebook("autograded", ASSIGNMENT, "zoe")
    notebooks.write(new_notebook(cells=[answer]), autograded)
    assert manual_grades.reviewed(course, ASSIGNMENT, "zoe") is None  # nothing graded by hand yet
    with Gradebook(course.db_url, "nn-foundations") as gradebook:
        gradebook.find_grade("test_square", ASSIGNMENT, ASSIGNMENT, "zoe").manual_score = 1.5  # ends the review
        gradebook.db.commit()

    before = manual_grades.reviewed(course, ASSIGNMENT, "zoe")
    if change == "answer":
        notebooks.write(new_notebook(cells=[new_code_cell(CUBE, metadata=answer.metadata)]), autograded)
    with Gradebook(course.db_url, "nn-foundations") as gradebook:  # what nbgrader's regrade leaves behind
        grade = gradebook.find_grade("test_square", ASSIGNMENT, ASSIGNMENT, "zoe")
        grade.auto_score, grade.needs_manual_grade = (2.0 if change == "auto_score" else 0.0), True
        gradebook.db.commit()
    assert manual_grades.keep_reviews(course, ASSIGNMENT, "zoe", before) == kept
    with Gradebook(course.db_url, "nn-foundations") as gradebook:
        grade = gradebook.find_grade("test_square", ASSIGNMENT, ASSIGNMENT, "zoe")
        assert (grade.manual_score, grade.needs_manual_grade) == (1.5, not kept)
