"""Matching and restoring test cells (``nngrade.restore``) on small notebooks, without a kernel.

The submission is the release of a two-function notebook: ``imports``, ``f``, ``test_f`` (2 points),
``g``, ``test_g`` (1 point), ``written_why``. Each test makes one edit a student can make and checks
the repaired cells, the reasons, and that the student's own cells are left as they were.
"""

import copy

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader.api import Gradebook
from nbgrader.preprocessors import ClearHiddenTests, OverwriteCells
from nbgrader.utils import compute_checksum
from traitlets.config import Config

from nngrade import flags
from nngrade.restore import InstructorTest, RestoreTestCells, restore

TEST_F = InstructorTest("test_f", "assert f(1) == 2\n### BEGIN HIDDEN TESTS\nassert f(10) == 20\n### END HIDDEN TESTS", 2.0)
TEST_G = InstructorTest("test_g", "assert g(2) == 8\nassert g(0) == 0\n### BEGIN HIDDEN TESTS\nassert g(-1) == -1\n"
                                  "### END HIDDEN TESTS", 1.0)
TESTS = [TEST_F, TEST_G]
ORDER = ["imports", "f", "test_f", "g", "test_g", "written_why"]
F_ANSWER = "def f(x):\n    return 2 * x"
G_ANSWER = "def g(x):\n    return x ** 3"


def nbgrader_cell(cell, grade_id, **meta):
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "schema_version": 3, "task": False, "grade": False,
                                 "solution": False, "locked": False, **meta}
    cell.id = grade_id
    return cell


def released_test_cell(test):
    cell = nbgrader_cell(new_code_cell(test.visible_source), test.grade_id, grade=True, locked=True, points=int(test.points))
    cell.metadata.update(deletable=False, editable=False)
    return cell


def submission():
    """The release filled in by a student."""
    return new_notebook(cells=[
        nbgrader_cell(new_code_cell("import numpy as np"), "imports", locked=True),
        nbgrader_cell(new_code_cell(F_ANSWER), "f", solution=True),
        released_test_cell(TEST_F),
        nbgrader_cell(new_code_cell(G_ANSWER), "g", solution=True),
        released_test_cell(TEST_G),
        nbgrader_cell(new_markdown_cell("Because."), "written_why", solution=True, grade=True, points=1),
    ])


def grade_ids(nb):
    return [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells]


def cell_of(nb, grade_id):
    [cell] = [cell for cell in nb.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    return cell


def assert_instructor_form(nb, test):
    cell = cell_of(nb, test.grade_id)
    meta = cell.metadata["nbgrader"]
    assert cell.cell_type == "code" and cell.source == test.source and cell.outputs == []
    assert (meta["grade"], meta["locked"], meta["solution"], meta["points"]) == (True, True, False, test.points)
    assert cell.metadata["editable"] is False


def assert_students_cells_kept(nb):
    assert cell_of(nb, "f").source == F_ANSWER and cell_of(nb, "g").source == G_ANSWER
    assert cell_of(nb, "written_why").source == "Because."


def repaired(nb):
    repairs = restore(nb, TESTS, ORDER)
    nbformat.validate(nb)
    return repairs


def test_visible_source_is_what_nbgrader_releases():
    for test in TESTS:
        released = released_test_cell(test)
        released.source = test.source
        ClearHiddenTests().preprocess_cell(released, {}, 0)
        assert test.visible_source == released.source


def test_untouched_submission_needs_no_repair_and_gets_the_hidden_tests():
    nb = submission()
    assert repaired(nb) == []
    assert grade_ids(nb) == ORDER
    assert_instructor_form(nb, TEST_F)
    assert_instructor_form(nb, TEST_G)
    assert_students_cells_kept(nb)


def test_trailing_spaces_and_blank_lines_are_not_edits():
    nb = submission()
    cell_of(nb, "test_f").source = "\n" + TEST_F.visible_source + "   \n\n"
    assert repaired(nb) == []


@pytest.mark.parametrize("edit, reason", [
    (lambda cell: setattr(cell, "source", "pass"), "source edited"),
    (lambda cell: cell.metadata.nbgrader.update(points=200), "points changed from 2 to 200"),
    (lambda cell: cell.metadata.nbgrader.update(points="lots"), "points changed from 2 to 'lots'"),
    (lambda cell: cell.metadata.nbgrader.update(locked=False), "unlocked"),
    (lambda cell: cell.metadata.update(editable=True), "unlocked"),
    (lambda cell: cell.metadata.nbgrader.update(grade=False), "no longer marked as an autograded test"),
    (lambda cell: cell.metadata.nbgrader.update(solution=True), "no longer marked as an autograded test"),
])
def test_an_edited_test_cell_is_restored_with_the_reason(edit, reason):
    nb = submission()
    edit(cell_of(nb, "test_f"))
    [(grade_id, why)] = repaired(nb)
    assert grade_id == "test_f" and why.startswith(reason) and why.endswith("restored and graded")
    assert grade_ids(nb) == ORDER
    assert_instructor_form(nb, TEST_F)
    assert_students_cells_kept(nb)


def test_a_test_cell_turned_markdown_is_a_code_cell_again():
    nb = submission()
    nb.cells[2] = nbgrader_cell(new_markdown_cell(TEST_F.visible_source), "test_f", grade=True, locked=True, points=2)
    assert repaired(nb) == [("test_f", "cell type changed to markdown: the instructor's test cell was restored and graded")]
    assert_instructor_form(nb, TEST_F)


def test_a_deleted_test_cell_returns_after_the_students_cells_of_its_section():
    nb = submission()
    del nb.cells[2]
    scratch = new_code_cell("print(f(3))  # trying it out")
    nb.cells.insert(2, scratch)
    [(grade_id, why)] = repaired(nb)
    assert grade_id == "test_f" and why.startswith("missing from the submission")
    assert grade_ids(nb) == ["imports", "f", None, "test_f", "g", "test_g", "written_why"]
    assert nb.cells[2] is scratch and scratch.source == "print(f(3))  # trying it out"
    assert_instructor_form(nb, TEST_F)
    assert nb.cells[3].id == "test_f"


def test_a_deleted_test_cell_finds_its_place_when_its_solution_cell_is_gone_too():
    nb = submission()
    del nb.cells[1:3]
    nb.cells.insert(1, new_code_cell(F_ANSWER))  # the student's answer, without its metadata
    [(grade_id, _)] = repaired(nb)
    assert grade_ids(nb) == ["imports", None, "test_f", "g", "test_g", "written_why"]
    assert_instructor_form(nb, TEST_F)


def test_every_test_cell_deleted():
    nb = submission()
    del nb.cells[4]
    del nb.cells[2]
    assert [grade_id for grade_id, _ in repaired(nb)] == ["test_f", "test_g"]
    assert grade_ids(nb) == ORDER


def test_a_test_cell_whose_metadata_was_stripped_is_recognised_by_its_source():
    nb = submission()
    cell_of(nb, "test_f").metadata = {}
    nb.cells[2].source = TEST_F.visible_source.replace("2", "3")  # and a number changed
    assert repaired(nb) == [("test_f", "nbgrader metadata removed; source edited: the instructor's test cell was "
                                       "restored and graded")]
    assert grade_ids(nb) == ORDER
    assert_instructor_form(nb, TEST_F)


def test_a_stripped_test_cell_changed_beyond_recognition_stays_as_the_students_code():
    nb = submission()
    nb.cells[2].metadata = {}
    nb.cells[2].source = "print(f(1))"  # about half the test's tokens
    [(grade_id, why)] = repaired(nb)
    assert grade_id == "test_f" and why.startswith("missing from the submission")
    assert grade_ids(nb) == ["imports", "f", None, "test_f", "g", "test_g", "written_why"]
    assert nb.cells[2].source == "print(f(1))"


def test_a_copy_of_the_test_in_another_section_is_not_taken_for_it():
    nb = submission()
    del nb.cells[2]
    elsewhere = new_code_cell(TEST_F.visible_source)
    nb.cells.insert(3, elsewhere)  # between g and test_g
    [(grade_id, why)] = repaired(nb)
    assert why.startswith("missing from the submission")
    assert grade_ids(nb) == ["imports", "f", "test_f", "g", None, "test_g", "written_why"]
    assert nb.cells[4] is elsewhere


def test_a_renamed_test_cell_is_recognised_by_its_place_even_when_emptied():
    nb = submission()
    cell_of(nb, "test_f").metadata.nbgrader["grade_id"] = "test_f_mine"
    nb.cells[2].source = "pass"
    assert repaired(nb) == [("test_f", "grade_id renamed to 'test_f_mine'; source edited: the instructor's test "
                                       "cell was restored and graded")]
    assert grade_ids(nb) == ORDER
    assert_instructor_form(nb, TEST_F)


def test_a_test_cell_without_grade_id_is_recognised():
    nb = submission()
    del cell_of(nb, "test_f").metadata.nbgrader["grade_id"]
    assert repaired(nb) == [("test_f", "grade_id removed: the instructor's test cell was restored and graded")]
    assert grade_ids(nb) == ORDER


def test_a_renamed_solution_cell_is_never_taken_for_a_test():
    nb = submission()
    cell_of(nb, "f").metadata.nbgrader["grade_id"] = "my_f"
    del nb.cells[2]  # and the test deleted: the renamed solution sits in the test's place
    repairs = repaired(nb)
    assert nb.cells[1].source == F_ANSWER and "nbgrader" not in nb.cells[1].metadata
    assert repairs == [
        ("test_f", "missing from the submission (deleted, or its metadata removed and its source changed): the "
                   "instructor's test cell was restored and graded"),
        (None, "nbgrader metadata naming 'my_f' (no cell of this assignment) was removed: the cell runs as the "
               "student's own code")]
    assert grade_ids(nb) == ["imports", None, "test_f", "g", "test_g", "written_why"]


def test_an_empty_cell_is_not_taken_for_a_test_without_visible_tests():
    hidden_only = InstructorTest("test_f", "### BEGIN HIDDEN TESTS\nassert f(10) == 20\n### END HIDDEN TESTS", 2.0)
    nb = submission()
    del nb.cells[2]
    nb.cells.append(new_code_cell(""))
    [(grade_id, why)] = restore(nb, [hidden_only, TEST_G], ORDER)
    assert why.startswith("missing") and grade_ids(nb) == ORDER + [None]


def test_an_unchanged_duplicate_is_removed():
    nb = submission()
    nb.cells.insert(2, copy.deepcopy(nb.cells[2]))
    nb.cells[2].id = "pasted"
    assert repaired(nb) == [("test_f", "duplicated (2 cells carried its grade_id; unchanged copies removed: 1, "
                                       "edited copies kept as the student's own code: 0): the instructor's test cell "
                                       "was restored and graded")]
    assert grade_ids(nb) == ORDER


def test_of_duplicates_the_unedited_one_is_graded_and_an_edited_copy_stays_as_student_code():
    nb = submission()
    edited = copy.deepcopy(nb.cells[2])
    edited.source, edited.id = "assert True  # my own check", "pasted"
    nb.cells.insert(2, edited)  # before the real one
    [(grade_id, why)] = repaired(nb)
    assert why.startswith("duplicated (2 cells carried its grade_id; unchanged copies removed: 0, edited copies kept")
    assert grade_ids(nb) == ["imports", "f", None, "test_f", "g", "test_g", "written_why"]
    assert nb.cells[2] is edited and edited.source == "assert True  # my own check"
    assert_instructor_form(nb, TEST_F)


def test_of_duplicates_all_edited_the_last_is_graded():
    nb = submission()
    nb.cells[2].source = "pass"
    nb.cells.insert(4, copy.deepcopy(nb.cells[2]))
    nb.cells[4].id, nb.cells[4].source = "pasted", "assert f(1) == 2  # kept only the visible part"
    [(grade_id, why)] = repaired(nb)
    assert why.endswith("kept as the student's own code: 1); source edited: the instructor's test cell was restored and graded")
    assert grade_ids(nb) == ["imports", "f", None, "g", "test_f", "test_g", "written_why"]
    assert nb.cells[2].source == "pass"


def test_duplicated_solution_cells_keep_the_last_like_nbgrader_without_a_flag():
    nb = submission()
    first = nbgrader_cell(new_code_cell("def f(x):\n    return x"), "f", solution=True)
    first.id = "first-try"
    nb.cells.insert(1, first)
    assert repaired(nb) == []
    assert grade_ids(nb) == ["imports", None, "f", "test_f", "g", "test_g", "written_why"]
    assert nb.cells[1].source == "def f(x):\n    return x"


def test_unknown_or_broken_nbgrader_metadata_on_a_students_cell_is_removed_and_flagged():
    nb = submission()
    nb.cells.append(new_code_cell("x = 1", metadata={"nbgrader": {"grade_id": "notes", "grade": False}}))
    nb.cells.append(new_code_cell("y = 2", metadata={"nbgrader": "garbage"}))
    repairs = repaired(nb)
    assert [grade_id for grade_id, _ in repairs] == [None, None]
    assert "naming 'notes'" in repairs[0][1] and "without a grade_id" in repairs[1][1]
    assert [cell.source for cell in nb.cells[-2:]] == ["x = 1", "y = 2"]
    assert grade_ids(nb) == ORDER + [None, None]


def test_a_notebook_without_cell_ids_gets_none():
    nb = submission()
    nb.nbformat_minor = 4
    for cell in nb.cells:
        del cell["id"]
    del nb.cells[2]
    repaired(nb)
    assert all("id" not in cell for cell in nb.cells)


def test_an_inserted_cell_takes_a_free_id():
    nb = submission()
    del nb.cells[2]
    nb.cells[1].id = "test_f"  # the student's solution cell happens to carry that cell id
    repaired(nb)
    ids = [cell.id for cell in nb.cells]
    assert len(set(ids)) == len(ids) and cell_of(nb, "test_f").id == "test_f-1"


# --- the preprocessor on a real gradebook and source notebook ----------------------------------------


@pytest.fixture
def course(tmp_path):
    """A course folder whose gradebook and source notebook hold the notebook ``nb`` of assignment ``a``."""
    source = submission()
    cell_of(source, "test_f").source, cell_of(source, "test_g").source = TEST_F.source, TEST_G.source
    (tmp_path / "source" / "a").mkdir(parents=True)
    nbformat.write(source, str(tmp_path / "source" / "a" / "nb.ipynb"))
    db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(db_url) as gradebook:
        gradebook.add_assignment("a")
        gradebook.add_notebook("nb", "a")
        for cell in reversed(source.cells):  # the gradebook's order must not matter
            meta = cell.metadata.nbgrader
            if meta["grade"]:
                gradebook.add_grade_cell(meta["grade_id"], "nb", "a", max_score=meta["points"], cell_type=cell.cell_type)
            if meta["solution"]:
                gradebook.add_solution_cell(meta["grade_id"], "nb", "a")
            gradebook.add_source_cell(meta["grade_id"], "nb", "a", cell_type=cell.cell_type, source=cell.source,
                                      locked=bool(meta["locked"] or meta["grade"]) and not meta["solution"],
                                      checksum=compute_checksum(cell))
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    return config, {"nbgrader": {"db_url": db_url, "assignment": "a", "notebook": "nb", "student": "s"}}


def test_preprocessor_restores_from_the_gradebook_and_flags(course):
    config, resources = course
    nb = submission()
    del nb.cells[2]
    nb.cells.insert(3, new_code_cell("print(g(2))"))
    cell_of(nb, "test_g").metadata.nbgrader["points"] = 50
    nb, _ = RestoreTestCells(config=config).preprocess(nb, resources)
    assert grade_ids(nb) == ["imports", "f", "test_f", "g", None, "test_g", "written_why"]
    assert [(flag["kind"], flag["cell"]) for flag in flags.of(nb)] == [("test_cell_edited", "test_f"),
                                                                      ("test_cell_edited", "test_g")]
    assert "points changed from 1 to 50" in flags.of(nb)[1]["reason"]
    assert_instructor_form(nb, TEST_F)
    assert_instructor_form(nb, TEST_G)
    overwrite = OverwriteCells(config=config)  # nbgrader's own step afterwards finds nothing to change
    before = copy.deepcopy(nb.cells)
    nb, _ = overwrite.preprocess(nb, resources)
    assert [(cell.source, cell.cell_type) for cell in nb.cells] == [(cell.source, cell.cell_type) for cell in before]
