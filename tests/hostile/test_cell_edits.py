"""Edited, deleted, duplicated test cells (hostile case 8): restored and graded as if untouched, and flagged.

One submission per edit of a test cell (source, points, lock, cell type, deletion, stripped metadata,
duplication, renamed grade_id), all graded in one run of the real CLI in the sandbox. Each must be
graded, score exactly what the same answers score untouched (an edit that tries to pass a wrong
answer earns nothing), carry a ``test_cell_edited`` flag that says what was changed, and keep the
student's own cells; the batch keeps going, alice's grade rows stay as they were, no submitted file
changes and no sandbox is left behind. The seconds recorded for each edit are those of the shared run.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from conftest import ASSIGNMENT, CUBE, SQUARE, Graded
from nngrade import flags, notebooks
from nngrade.grade import cell_scores
from test_hostile import FULL, check

WRONG_SQUARE = "def square(x):\n    return np.asarray(x, dtype=float) * 2"
WRONG_CUBE = "def cube(x):\n    return np.asarray(x, dtype=float) ** 2"
SCRATCH = "print(square(3))  # the student's own check"
POINTS = {"test_square": 2.0, "test_cube": 1.0}


def cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def edit_source(nb):
    cell(nb, "test_square").source = "pass"


def change_points(nb):
    cell(nb, "test_square").metadata.nbgrader["points"] = 100


def unlock(nb):
    test = cell(nb, "test_cube")
    test.metadata.nbgrader["locked"] = False
    test.metadata["editable"] = True
    test.source = "assert True"


def make_markdown(nb):
    test = cell(nb, "test_square")
    test.cell_type = "markdown"
    del test["outputs"], test["execution_count"]


def delete(nb):
    test = cell(nb, "test_square")
    nb.cells[nb.cells.index(test)] = new_code_cell(SCRATCH)


def strip_metadata(nb):
    cell(nb, "test_square").metadata = {}


def duplicate(nb):
    test = cell(nb, "test_square")
    pasted = copy.deepcopy(test)
    pasted.id = "pasted"
    nb.cells.insert(nb.cells.index(test), pasted)


def rename(nb):
    test = cell(nb, "test_square")
    test.metadata.nbgrader["grade_id"] = "test_square_mine"
    test.source = "pass"


@dataclass(frozen=True)
class Edit:
    attack: str
    change: Callable
    reason: str  # what the flag's reason starts with
    graded_cell: str  # the test cell the flag names
    answers: dict  # solution cell -> source, on top of the correct answers
    expected: dict  # the scores of the same answers untouched


EDITS = {
    "edit_source": Edit("test cell edited to `pass`, wrong answer", edit_source, "source edited", "test_square",
                        {"square": WRONG_SQUARE}, {"test_square": 0.0, "test_cube": 1.0}),
    "edit_points": Edit("test cell worth 100 points", change_points, "points changed from 2 to 100", "test_square",
                        {}, FULL),
    "edit_unlock": Edit("test cell unlocked and rewritten, wrong answer", unlock, "source edited; unlocked", "test_cube",
                        {"cube": WRONG_CUBE}, {"test_square": 2.0, "test_cube": 0.0}),
    "edit_markdown": Edit("test cell turned markdown", make_markdown, "cell type changed to markdown", "test_square",
                          {}, FULL),
    "edit_delete": Edit("test cell deleted", delete, "missing from the submission", "test_square", {}, FULL),
    "edit_strip": Edit("test cell metadata stripped", strip_metadata, "nbgrader metadata removed", "test_square",
                       {}, FULL),
    "edit_duplicate": Edit("test cell duplicated", duplicate, "duplicated (2 cells carried its grade_id", "test_square",
                           {}, FULL),
    "edit_rename": Edit("grade_id renamed, cell emptied, wrong answer", rename, "grade_id renamed to 'test_square_mine'",
                        "test_square", {"square": WRONG_SQUARE}, {"test_square": 0.0, "test_cube": 1.0}),
}


@dataclass
class Batch:
    graded: Graded
    alice_unchanged: bool
    submissions_unchanged: bool
    leftovers: list


@pytest.fixture(scope="module")
def batch(hostile) -> Batch:
    """Every edit submitted and graded in one CLI run."""
    alice_before = hostile.grade_rows_hash("alice")
    submitted = {}
    for student, edit in EDITS.items():
        path = hostile.submit(student, **edit.answers)
        nb = notebooks.read(path)
        edit.change(nb)
        nbformat.write(nb, str(path))  # as Jupyter saves it: a pasted cell keeps its own id
        submitted[path] = hashlib.sha256(path.read_bytes()).hexdigest()
    graded = hostile.grade_only(*EDITS)
    return Batch(graded, hostile.grade_rows_hash("alice") == alice_before,
                 all(hashlib.sha256(path.read_bytes()).hexdigest() == digest for path, digest in submitted.items()),
                 hostile.leftover_sandboxes())


def test_an_untouched_submission_has_no_flag(hostile):
    alice_flags = flags.read(hostile.course.notebook("autograded", ASSIGNMENT, "alice"))
    assert [flag for flag in alice_flags if flag["kind"] == "test_cell_edited"] == []
    assert hostile.scores("alice") == FULL


@pytest.mark.parametrize("student", EDITS)
def test_edited_test_cell_is_restored_graded_and_flagged(hostile, batch, student):
    edit = EDITS[student]
    assert batch.graded.returncode == 0 and batch.graded.not_graded(student) is None, batch.graded.stdout
    assert batch.alice_unchanged, "an edit changed another student's grades"
    assert batch.submissions_unchanged, "grading changed a file under submitted/"
    assert batch.leftovers == []
    autograded = hostile.course.notebook("autograded", ASSIGNMENT, student)
    scores = hostile.scores(student)
    max_scores = {grade_id: score.max_score for grade_id, score in cell_scores(hostile.course, ASSIGNMENT, student).items()}
    found = [flag for flag in flags.read(autograded) if flag["kind"] == "test_cell_edited"]
    reasons = [flag["reason"] for flag in found if flag["cell"] == edit.graded_cell]
    nb = notebooks.read(autograded)
    test_cells = [c for c in nb.cells if notebooks.is_autograded_test(c)]
    ok = (scores == edit.expected and max_scores == POINTS and len(found) == 1 and len(reasons) == 1
          and reasons[0].startswith(edit.reason) and reasons[0].endswith("restored and graded")
          and [notebooks.grade_id(c) for c in test_cells] == ["test_square", "test_cube"]
          and all("### BEGIN HIDDEN TESTS" in c.source for c in test_cells)
          and cell(nb, "square").source == edit.answers.get("square", SQUARE)
          and cell(nb, "cube").source == edit.answers.get("cube", CUBE))
    if edit.change is delete:  # the student's cell that took the test's place stays, before the restored test
        sources = [c.source for c in nb.cells]
        ok = ok and SCRATCH in sources and sources.index(SCRATCH) < nb.cells.index(cell(nb, "test_square"))
    check(edit.attack, f"scores {edit.expected}, flagged", f"{scores}; {reasons[0][:40] if reasons else found}",
          batch.graded.seconds, ok)
