"""The pilot assignment end to end through the real CLI: release, demo (grade, feedback, export), check.

The pilot (tests/grading/fixtures/pilot) is a course folder of its own: `source/pilot/pilot.ipynb`
and its mutant catalogue `tests/mutants/pilot.py`. Its hidden tests use torch as the reference.
"""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from nngrade import notebooks, release
from nngrade.config import Course
from nngrade.kernel import CourseKernelManager, student_environment
from nngrade.validate import parse_validate_output, run_validate

PILOT = Path(__file__).parent / "fixtures" / "pilot"
LIB = Path(__file__).resolve().parents[2] / "lib"

pytestmark = pytest.mark.slow


def nngrade(root: Path, *args, timeout=900):
    """Run ``python -m nngrade --root <root> <args>`` as the Makefile does."""
    env = dict(os.environ, PYTHONPATH=str(LIB), MPLBACKEND="Agg")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run([sys.executable, "-m", "nngrade", "--root", str(root), *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def pilot(tmp_path_factory) -> Course:
    """A copy of the pilot course, released through the CLI."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(PILOT, root, dirs_exist_ok=True)
    result = nngrade(root, "release")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    return Course(root)


def solved(course: Course, **overrides):
    """The release notebook filled with the source solutions (and ``overrides``: grade_id -> source)."""
    answers = {**notebooks.solutions_of(course.source_notebook("pilot")), **overrides}
    return notebooks.fill(notebooks.read(course.notebook("release", "pilot")), answers)


def test_release_has_no_answers_and_is_reproducible(pilot):
    source = pilot.source_notebook("pilot")
    released = pilot.notebook("release", "pilot")
    assert notebooks.leaks(notebooks.visible_text(released), source) == []
    assert notebooks.reference_imports(notebooks.read(released)) == []
    solution = pilot.notebook("solutions", "pilot")
    assert notebooks.leaks(notebooks.visible_text(solution), source, solutions=False) == []
    assert "1.0 / (1.0 + np.exp(-slope * x))" in solution.read_text()  # the solutions are there
    assert release.stale_files(pilot) == []


def test_stale_release_is_detected(pilot, tmp_path):
    copy = Course(tmp_path / "copy")
    shutil.copytree(pilot.root, copy.root)
    source_path = copy.notebook("source", "pilot")
    notebook = json.loads(source_path.read_text())
    notebook["cells"][0]["source"] = ["# Pilot, revised after the release\n"]
    source_path.write_text(json.dumps(notebook))
    assert release.stale_files(copy) == ["release/pilot/pilot.ipynb", "solutions/pilot/pilot.ipynb"]


def test_release_runs_for_a_student_without_the_reference(pilot, tmp_path):
    """Only nnkit is importable in a student's kernel: the solved release runs, `import nnref` fails."""
    toolkit_only = tmp_path / "site"
    toolkit_only.mkdir()
    (toolkit_only / "nnkit").symlink_to(LIB / "nnkit")
    env = student_environment()
    env["PYTHONPATH"] = str(toolkit_only)  # what `pip install .` provides: nnkit alone

    def run(notebook):
        client = NotebookClient(notebook, timeout=120, kernel_manager_class=CourseKernelManager,
                                resources={"metadata": {"path": str(tmp_path)}})
        client.km = client.create_kernel_manager()
        client.km.kernel_env = env
        return client.execute()

    executed = run(solved(pilot))
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    stderr = [o for c in executed.cells if notebooks.is_autograded_test(c) for o in c.get("outputs", [])
              if o.output_type == "stream" and o.name == "stderr"]
    assert stderr and "RuntimeWarning" in stderr[0].text  # the pilot's harmless overflow warning
    with_reference = solved(pilot)
    with_reference.cells.insert(1, nbformat.v4.new_code_cell("import nnref"))
    with pytest.raises(CellExecutionError, match="No module named 'nnref'"):
        run(with_reference)


def test_validate_exits_zero_on_failure_and_we_parse_it(pilot, tmp_path):
    path = tmp_path / "pilot.ipynb"
    nbformat.write(solved(pilot, relu="def relu(x):\n    return np.abs(x)"), str(path))
    finished = run_validate(path, env=dict(os.environ, PYTHONPATH=str(LIB)))
    assert finished.returncode == 0  # nbgrader's own exit status says nothing
    verdict = parse_validate_output(finished.stdout, finished.stderr)
    # test_relu fails; test_sigmoid passes but shows numpy's overflow warning, and validate (unlike
    # autograde with IgnorePattern, see the demo test) counts any stderr output as a failure.
    assert not verdict.passed and verdict.summary == "2 cell(s) fail their tests"
    assert "RuntimeWarning: overflow encountered in exp" in finished.stdout


def test_demo_grades_the_class_and_survives_broken_submissions(pilot):
    crash = solved(pilot, relu="import os\nos._exit(3)")
    notebooks.write(crash, pilot.notebook("submitted", "pilot", "zoe_crash"))
    corrupt = pilot.notebook("submitted", "pilot", "yan_corrupt")
    corrupt.parent.mkdir(parents=True)
    corrupt.write_text("{ this is not a notebook")
    result = nngrade(pilot.root, "demo")
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert result.stderr == ""
    # one line per submission: autograded points, the written answer (1 point) waiting for a manual
    # grade, and the total that grades.csv exports
    rows = {line.split()[0]: line.split()[2:] for line in out.splitlines() if line.split()[1:2] == ["pilot"]}
    assert rows["alice_correct"] == ["5/5", "0/1", "pending", "5/6"]
    assert rows["bob_blank"] == ["0/5", "0/1", "0/6"]  # an untouched written answer scores 0 without review
    assert rows["carol_bugs"] == ["0/5", "0/1", "pending", "0/6"]  # the first typical bug of each function
    assert rows["dave_half"] == ["3/5", "0/1", "3/6"]  # sigmoid, relu done; not the rest
    # zoe's relu kills the kernel: graded, sigmoid keeps its 2 points, relu and dense_sigmoid score 0.
    assert rows["zoe_crash"] == ["2/5", "0/1", "pending", "2/6"]
    assert rows["yan_corrupt"] == ["-", "-", "-"]
    assert "written answers marked pending count 0 until graded by hand" in out
    assert len([line for line in out.splitlines() if re.match(r"\[\d/\d\] (graded|NOT GRADED)", line)]) == 6
    assert "FLAGGED zoe_crash / pilot: kernel_died: the kernel died in cell relu" in out
    assert "NOT GRADED zoe_crash" not in out
    assert "NOT GRADED yan_corrupt / pilot: " in out
    with open(pilot.root / "grades.csv") as handle:
        grades = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert float(grades["alice_correct"]["score"]) == 5.0 and float(grades["alice_correct"]["max_score"]) == 6.0
    assert float(grades["bob_blank"]["score"]) == 0.0
    assert grades["alice_correct"]["flags"] == ""
    assert grades["zoe_crash"]["flags"].startswith("kernel_died: the kernel died in cell relu")
    assert grades["yan_corrupt"]["flags"].startswith("not graded: ")
    source = pilot.source_notebook("pilot")
    for student in ("alice_correct", "bob_blank", "carol_bugs"):
        html = pilot.notebook("feedback", "pilot", student)
        assert notebooks.leaks(notebooks.visible_text(html), source, solutions=False) == []
    carol = notebooks.visible_text(pilot.notebook("feedback", "pilot", "carol_bugs"))
    assert "AssertionError: sigmoid([1], slope=2) is wrong" in carol


def test_check_passes_on_the_pilot(pilot):
    result = nngrade(pilot.root, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    row = next(line for line in result.stdout.splitlines() if line.startswith("pilot"))
    assert row.split()[1:7] == ["3", "5", "5", "0", "9/9", "3/3"]
