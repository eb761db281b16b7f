"""Faults are graded with a reason and named in the export (hostile cases 3 and 4).

A flood of printed output is cut while the cell runs (the autograded notebook and the feedback stay
small, the tests grade as usual, the submission is flagged ``output_limited``); a kernel that dies in a
test cell costs that cell and the later ones their points, with the reason in the gradebook's comment of
the answer; ``grades.csv`` names every flag and every submission that could not be graded.
"""

import csv

from nbgrader.api import Gradebook

from conftest import ASSIGNMENT, CELL_TIMEOUT, SQUARE
from nngrade import flags
from test_hostile import FULL, check, graded_attack

SMALL = 2**20  # bytes: "small" for an autograded notebook or a feedback page


def test_a_million_printed_lines_keep_notebook_and_feedback_small(hostile):
    baseline = hostile.grade_only("alice").seconds
    # The loop runs after `square` is defined: its test must grade as usual, however long the loop runs.
    graded = graded_attack(hostile, "printer", square=SQUARE + "\n\nfor i in range(10**6):\n    print(i)")
    scores, printed = hostile.scores("printer"), hostile.outputs("printer")["square"]
    autograded = hostile.course.notebook("autograded", ASSIGNMENT, "printer")
    feedback = hostile.course.notebook("feedback", ASSIGNMENT, "printer")
    sizes = (autograded.stat().st_size, feedback.stat().st_size if feedback.is_file() else None)
    found = flags.read(autograded)
    extra = graded.seconds - baseline
    ok = (scores == FULL and sizes[1] is not None and max(sizes) < SMALL
          and printed.startswith("0\n1\n2\n") and "Output truncated" in printed
          and [(flag["kind"], flag["cell"]) for flag in found] == [("output_limited", "square")]
          and f"FLAGGED printer / {ASSIGNMENT}: output_limited: cell square wrote more than" in graded.stdout
          and graded.returncode == 0 and extra <= CELL_TIMEOUT + 15)
    check("10**6 printed lines",
          f"full marks, notebook and feedback < 1 MB, flagged, <= {CELL_TIMEOUT + 15} s over baseline",
          f"{scores}, {sizes[0]} B + {sizes[1]} B, +{extra:.0f} s", graded.seconds, ok)


def test_grades_csv_names_flags_and_submissions_not_graded(hostile):
    # The kernel dies in test_cube (the hidden test calls cube): its reason goes to the comment of `cube`.
    dier = graded_attack(hostile, "dier", cube="import os\n\ndef cube(x):\n    os._exit(0)")
    hostile.course.notebook("submitted", ASSIGNMENT, "broken").parent.mkdir(parents=True)
    hostile.course.notebook("submitted", ASSIGNMENT, "broken").write_text("{ not json")
    alice_before = hostile.grade_rows_hash("alice")
    broken = hostile.grade_only("broken")
    assert hostile.grade_rows_hash("alice") == alice_before and hostile.leftover_sandboxes() == []
    with open(hostile.root / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    with Gradebook(f"sqlite:///{hostile.root / 'gradebook.db'}", "nn-foundations") as gradebook:
        cube_comment = gradebook.find_comment("cube", ASSIGNMENT, ASSIGNMENT, "dier").auto_comment
    ok = (dier.returncode == 0 and hostile.scores("dier") == {"test_square": 2.0, "test_cube": 0.0}
          and "the kernel died in cell test_cube" in cube_comment
          and rows["dier"]["flags"].startswith("kernel_died: the kernel died in cell test_cube")
          and rows["dier"]["score"] == "2.0"  # graded in the first run, still named in the second run's export
          and rows["broken"]["flags"].startswith("not graded: nbformat.reader.NotJSONError")
          and broken.returncode == 1 and rows["alice"]["flags"] == "")
    check("os._exit in a test cell; corrupt notebook", "grades.csv: kernel_died / not graded; reason in comment",
          f"dier: {rows['dier']['flags'][:24]}; broken: {rows['broken']['flags'][:24]}",
          dier.seconds + broken.seconds, ok)
