"""Grading flags: raised by the grader's kernel runner, recorded in the gradebook, named in grades.csv.

The gradebook tests use a small sqlite gradebook holding one submission (answers ``square`` and
``cube``, tests ``test_square`` worth 2 and ``test_cube`` worth 1) and its autograded notebook; the
kernel tests run a few cells in a real (unsandboxed) grading kernel.
"""

import csv
import shutil

import tempfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.plugins import CsvExportPlugin

from nngrade import flags, notebooks
from nngrade.config import Course
from nngrade.grade import Problem, add_flags_column, record_flags
from nngrade.kernel import GradingExecute

ASSIGNMENT = "tiny"
COURSE_ID = "nn-foundations"
DIED = "the kernel died in cell test_cube (os._exit)"
CUT = "cell square wrote more than 100000 characters of stdout"
# nbgrader's own add_submission trips SQLAlchemy's autoflush notices; the CLI hides them too.
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


def code_cell(source, grade_id, *, solution=False, points=None):
    nbgrader = {"grade_id": grade_id, "solution": solution, "grade": points is not None, "locked": not solution,
                "schema_version": 3, "task": False, **({"points": points} if points is not None else {})}
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": nbgrader})


@pytest.fixture(scope="module")
def gradebook_file(tmp_path_factory):
    """A gradebook with ann's submission, autograded with full marks (made once: nbgrader runs alembic)."""
    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    with Gradebook(f"sqlite:///{path}", COURSE_ID) as gradebook:
        gradebook.add_assignment(ASSIGNMENT)
        gradebook.add_notebook(ASSIGNMENT, ASSIGNMENT)
        for answer in ("square", "cube"):
            gradebook.add_solution_cell(answer, ASSIGNMENT, ASSIGNMENT)
        gradebook.add_grade_cell("test_square", ASSIGNMENT, ASSIGNMENT, max_score=2, cell_type="code")
        gradebook.add_grade_cell("test_cube", ASSIGNMENT, ASSIGNMENT, max_score=1, cell_type="code")
        for student in ("ann", "bob", "cy"):
            gradebook.add_student(student)
        gradebook.add_submission(ASSIGNMENT, "ann")
        for grade in gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "ann").grades:
            grade.auto_score, grade.needs_manual_grade = grade.max_score, False
        gradebook.db.commit()
    return path


@pytest.fixture
def course(tmp_path, gradebook_file):
    """A course with a fresh copy of the gradebook and ann's autograded notebook, without flags yet."""
    shutil.copy(gradebook_file, tmp_path / "gradebook.db")
    course = Course(tmp_path, db_url=f"sqlite:///{tmp_path / 'gradebook.db'}")
    write_autograded(course)
    return course


def write_autograded(course, *found):
    """ann's autograded notebook carrying the flags ``found`` (kind, reason, cell)."""
    notebook = nbformat.v4.new_notebook(cells=[
        code_cell("import numpy as np", "imports"),
        code_cell("def square(x):\n    return x * x", "square", solution=True),
        code_cell("assert square(2) == 4", "test_square", points=2),
        code_cell("def cube(x):\n    return x ** 3", "cube", solution=True),
        code_cell("assert cube(2) == 8", "test_cube", points=1)])
    for kind, reason, cell in found:
        flags.add(notebook, kind, reason, cell=cell)
    notebooks.write(notebook, course.notebook("autograded", ASSIGNMENT, "ann"))


def rows(course):
    """``{cell name: (score, needs_manual_grade)}`` and ``{answer: (auto_comment, manual_comment)}`` of ann."""
    with Gradebook(course.db_url, COURSE_ID) as gradebook:
        notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "ann")
        return ({grade.name: (grade.score, grade.needs_manual_grade) for grade in notebook.grades},
                {comment.name: (comment.auto_comment, comment.manual_comment) for comment in notebook.comments})


def test_reasons_go_to_the_comment_of_the_answer_they_concern(course):
    with Gradebook(course.db_url, COURSE_ID) as gradebook:
        gradebook.find_comment("square", ASSIGNMENT, ASSIGNMENT, "ann").auto_comment = "No response."
        gradebook.find_comment("cube", ASSIGNMENT, ASSIGNMENT, "ann").manual_comment = "Instructor: nice idea."
        gradebook.db.commit()
    write_autograded(course, ("kernel_died", DIED, "test_cube"), ("output_limited", CUT, "square"),
                     ("kernel_killed", "the notebook used up its time", None))
    record_flags(course, ASSIGNMENT, "ann")
    record_flags(course, ASSIGNMENT, "ann")  # recording again adds nothing
    grades, comments = rows(course)
    assert comments == {"square": (f"No response.\n\n{CUT}", None),  # the answer cell itself
                        "cube": (DIED, "Instructor: nice idea.")}  # the answer above the flagged test cell
    assert grades == {"test_square": (2.0, False), "test_cube": (1.0, False)}  # scores come from the outputs


def test_a_suspicious_reply_is_noted_for_the_instructor_and_changes_no_score_or_review(course):
    # The grader already scored the cell from its own verdict; the flag only tells an instructor where to look.
    reason = "cell test_cube: the kernel answered the grader with an array of dtype object"
    write_autograded(course, ("suspicious", reason, "test_cube"))
    record_flags(course, ASSIGNMENT, "ann")
    grades, comments = rows(course)
    assert grades == {"test_square": (2.0, False), "test_cube": (1.0, False)}
    assert comments["cube"] == (reason, None)
    assert comments["square"] == (None, None)


def test_the_flags_column_names_flags_and_reasons_for_not_grading(course):
    write_autograded(course, ("kernel_died", DIED, "test_cube"), ("output_limited", CUT, "square"))
    path = course.root / "grades.csv"
    with Gradebook(course.db_url, COURSE_ID) as gradebook:
        CsvExportPlugin(to=str(path)).export(gradebook)
    with open(path, newline="") as handle:
        exported = list(csv.DictReader(handle))
    add_flags_column(course, path, [Problem("bob", ASSIGNMENT, 'Error: bad, "quoted" notebook')])
    with open(path, newline="") as handle:
        with_flags = list(csv.DictReader(handle))
    assert [{key: value for key, value in row.items() if key != "flags"} for row in with_flags] == exported
    assert {row["student_id"]: row["flags"] for row in with_flags} == {
        "ann": f"kernel_died: {DIED}; output_limited: {CUT}",
        "bob": 'not graded: Error: bad, "quoted" notebook',
        "cy": ""}


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind must be one of .*'oops'"):
        flags.add(nbformat.v4.new_notebook(), "oops", "a reason")


def run_cells(*cells, **options):
    """Execute ``cells`` in a fresh grading kernel (the notebook is its own source); the executed notebook."""
    notebook = nbformat.v4.new_notebook(cells=list(cells))
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "source.ipynb"
        nbformat.write(notebook, str(source))
        executed, _ = GradingExecute(timeout=30, source_notebook=str(source), **options).preprocess(
            notebook, {"metadata": {"path": "."}})
    return executed


def test_a_dead_kernel_scores_its_cell_and_the_later_ones_zero_with_the_reason():
    executed = run_cells(code_cell("print('before')", "square", solution=True),
                         code_cell("import os\nos._exit(0)", "test_square", points=2),
                         code_cell("print('never')", "test_cube", points=1))
    before, killer, later = (cell.outputs for cell in executed.cells)
    assert [output.text for output in before] == ["before\n"]
    assert [(output.output_type, output.ename) for output in killer + later] == [("error", "DeadKernelError")] * 2
    assert "the kernel died in cell test_square" in later[0].evalue
    assert [(flag["kind"], flag["cell"]) for flag in flags.of(executed)] == [("kernel_died", "test_square")]


def test_a_notebook_out_of_time_is_stopped_and_flagged():
    # 20 s: the kernel surely starts within them (they count). The first sleeper is interrupted at the
    # whole seconds left (at least 1 s), so less than a second remains for the second one: it is either
    # interrupted after 1 s or, when the first interrupt took longer than what was left, never started.
    # Either way the deadline has passed when the test cell's turn comes.
    sleeper = "import time\ntime.sleep(120)"
    executed = run_cells(code_cell(sleeper, "square", solution=True), code_cell(sleeper, "cube", solution=True),
                         code_cell("print('never')", "test_square", points=2), submission_timeout=20)
    first, second, skipped = (cell.outputs for cell in executed.cells)
    second_errors = [output.get("ename") for output in second]
    assert "KeyboardInterrupt" in [output.get("ename") for output in first]
    assert [(output.ename, "used up its 20 s" in output.evalue) for output in skipped] == [("SubmissionTimeout", True)]
    stopped_at = "cube" if second_errors == ["SubmissionTimeout"] else "test_square"
    assert stopped_at == "cube" or "KeyboardInterrupt" in second_errors, second_errors
    assert [(flag["kind"], flag["cell"]) for flag in flags.of(executed)] == [("kernel_killed", stopped_at)]


def test_output_beyond_the_limit_is_dropped_while_the_cell_runs():
    executed = run_cells(
        code_cell("import sys\nprint('x' * 150)\nsys.stdout.flush()\nprint('y' * 150)\nsys.stderr.write('warn')",
                  "loud", solution=True),
        code_cell("from IPython.display import display\nfor i in range(20):\n    display(i)", "displays"),
        code_cell("raise ValueError('v' * 150)", "boom", solution=True),
        max_output_chars=100, max_display_chars=100)
    loud, displays, failing = (cell.outputs for cell in executed.cells)
    stdout = "".join(output.text for output in loud if output.get("name") == "stdout")
    assert stdout.startswith("x" * 100 + "\n[... cut here by the grader") and "yyy" not in stdout
    assert [output.text for output in loud if output.get("name") == "stderr"] == ["warn"]  # its own limit
    assert 0 < len(displays) < 20
    assert [output.ename for output in failing] == ["ValueError"]  # errors are always kept, shortened
    assert failing[0].evalue.startswith("v" * 100 + "\n[... cut here") and "v" * 101 not in failing[0].evalue
    assert [(flag["kind"], flag["cell"]) for flag in flags.of(executed)] == [
        ("output_limited", "loud"), ("output_limited", "displays"), ("output_limited", "boom")]
