"""Put the instructor's test cells back into a submission before nbgrader grades it, and flag each repair.

A student can edit a test cell (its source, points, lock or cell type), delete it, strip or rename
its nbgrader metadata, or duplicate it. nbgrader's own sanitizing (``DeduplicateIds``,
``OverwriteCells`` with ``add_missing_cells``) restores the source, points, lock and type of a test
cell it finds by grade_id, but tells no one; it fails the whole submission when a test cell was
duplicated or its grade_id renamed (``add_missing_cells`` reads the grade_id of a cell whose
metadata ``DeduplicateIds`` or ``OverwriteCells`` has just emptied) and when the cell before a
deleted test cell is gone as well (``add_missing_cells`` looks that cell up by grade_id).

``RestoreTestCells`` runs before those steps (``Autograde.sanitize_preprocessors`` in
``nbgrader_config.py``) and hands them a notebook they leave as it is: every autograded test cell of
the gradebook exactly once, in the instructor's form (source with the hidden tests, points, lock,
code cell). A test cell is found by its grade_id, else in its place (between the instructor cells
around it) by its source (metadata stripped) or by the metadata that still calls it a test
(grade_id renamed); one that cannot be found is put back at the end of its place. Each
repair adds a ``test_cell_edited`` flag (``nngrade.flags``) whose reason says what was changed.

Solution cells and cells the student added keep their source. nbgrader metadata that names no cell
of the assignment is removed (nbgrader would fail the submission on it), and of several cells that
carry the same solution or locked cell's grade_id only the last keeps it, as ``DeduplicateIds`` does.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell
from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

from . import flags, notebooks

FLAG = "test_cell_edited"
# A cell without nbgrader metadata is taken for a test cell whose metadata was stripped when its source
# is at least this similar to the test's (``InstructorTest.similarity``): a copy with one changed
# number still is, a student's own code is not.
SAME_SOURCE_RATIO = 0.8
_TOKEN = re.compile(r"\w+|[^\w\s]")
# nbgrader finds the hidden-test markers without their "### ".
_HIDDEN_BEGIN, _HIDDEN_END = (marker.split(" ", 1)[1] for marker in notebooks.HIDDEN_MARKERS)
RESTORED = "the instructor's test cell was restored and graded"


@dataclass(frozen=True)
class InstructorTest:
    """An autograded test cell as the gradebook holds it."""

    grade_id: str
    source: str  # hidden tests included
    points: float

    @property
    def visible_source(self) -> str:
        """The source students received: the hidden-test regions removed line by line, as nbgrader's
        ``ClearHiddenTests`` removes them."""
        lines, hidden = [], False
        for line in self.source.split("\n"):
            if _HIDDEN_BEGIN in line:
                hidden = True
            elif _HIDDEN_END in line:
                hidden = False
            elif not hidden:
                lines.append(line)
        return "\n".join(lines)

    def is_its_source(self, source: str) -> bool:
        """Whether ``source`` is this test as released or as graded (trailing spaces and blank lines aside)."""
        return _normalised(source) in (_normalised(self.visible_source), _normalised(self.source))

    def similarity(self, source: str) -> float:
        """How close ``source`` is to this test's visible source, from 0 to 1: the share of their tokens
        (names, numbers, symbols, counted with repetition) they have in common. Linear in the length,
        unlike an edit distance, which takes seconds on a long solution cell."""
        mine, theirs = Counter(_TOKEN.findall(self.visible_source)), Counter(_TOKEN.findall(source))
        total = mine.total() + theirs.total()
        return 2 * (mine & theirs).total() / total if total else 1.0


def restore(nb: NotebookNode, tests: Sequence[InstructorTest],
            cell_order: Sequence[str]) -> list[tuple[str | None, str]]:
    """Repair the test cells of the submission ``nb`` in place; ``(grade_id, reason)`` per repair.

    ``tests`` are the notebook's autograded test cells; ``cell_order`` lists the grade_ids of all its
    nbgrader cells (solution, test and locked cells) in the instructor's order, which says where a
    lost test cell belongs. The grade_id of a repair is None for a cell that is not a test cell.
    """
    known = set(cell_order) | {test.grade_id for test in tests}
    repairs = []
    foreign = _remove_foreign_metadata(nb, known)
    _deduplicate(nb, known - {test.grade_id for test in tests})
    rank = {grade_id: index for index, grade_id in enumerate(cell_order)}
    for test in sorted(tests, key=lambda each: rank.get(each.grade_id, len(rank))):
        copies = [cell for cell in nb.cells if _grade_id(cell) == test.grade_id]
        if copies:
            cell, edits = _keep_one(nb, copies, test)
        else:
            cell, edits = _find_lost(nb, test, cell_order, foreign)
        if cell is None:
            edits = ["missing from the submission (deleted, or its metadata removed and its source changed)"]
            nb.cells.insert(_slot(nb, test.grade_id, cell_order)[1], _instructor_cell(nb, test, None))
        else:
            nb.cells[_index(nb, cell)] = _instructor_cell(nb, test, cell.get("id"))
        if edits:
            repairs.append((test.grade_id, f"{'; '.join(edits)}: {RESTORED}"))
    in_notebook = {id(cell) for cell in nb.cells if "nbgrader" not in cell.metadata}
    for cell, former in foreign:
        if id(cell) in in_notebook:
            named = (f"naming {former['grade_id']!r}" if isinstance(former, dict) and "grade_id" in former
                     else "without a grade_id")
            repairs.append((None, f"nbgrader metadata {named} (no cell of this assignment) was removed: "
                                  "the cell runs as the student's own code"))
    return repairs


def _normalised(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def _grade_id(cell) -> str | None:
    meta = cell.metadata.get("nbgrader")
    return meta.get("grade_id") if isinstance(meta, dict) else None


def _index(nb: NotebookNode, cell) -> int:
    """Where ``cell`` itself is (``list.index`` would find an equal copy)."""
    return next(index for index, candidate in enumerate(nb.cells) if candidate is cell)


def _remove_foreign_metadata(nb: NotebookNode, known: set) -> list[tuple[NotebookNode, object]]:
    """Remove nbgrader metadata that names no cell of the assignment; ``(cell, removed metadata)`` each."""
    foreign = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if "nbgrader" in cell.metadata and not (isinstance(meta, dict) and isinstance(meta.get("grade_id"), str)
                                                and meta["grade_id"] in known):
            foreign.append((cell, cell.metadata.pop("nbgrader")))
    return foreign


def _deduplicate(nb: NotebookNode, grade_ids: set) -> None:
    """Of cells sharing a (non-test) grade_id, only the last keeps its nbgrader metadata, as in ``DeduplicateIds``."""
    seen = set()
    for cell in reversed(nb.cells):
        grade_id = _grade_id(cell)
        if grade_id in grade_ids:
            if grade_id in seen:
                del cell.metadata["nbgrader"]
            seen.add(grade_id)


def _edits(cell, test: InstructorTest) -> list[str]:
    """What differs between a cell carrying the test's grade_id and the test as released."""
    meta = cell.metadata["nbgrader"]
    edits = []
    if cell.cell_type != "code":
        edits.append(f"cell type changed to {cell.cell_type}")
    if not test.is_its_source(cell.source):
        edits.append("source edited")
    try:
        same_points = float(meta.get("points")) == test.points
    except (TypeError, ValueError):
        same_points = False
    if not same_points:
        edits.append(f"points changed from {test.points:g} to {meta.get('points')!r}")
    if meta.get("grade") is not True or meta.get("solution"):
        edits.append("no longer marked as an autograded test")
    if meta.get("locked") is not True or cell.metadata.get("editable") is True:
        edits.append("unlocked")
    return edits


def _keep_one(nb: NotebookNode, copies: list, test: InstructorTest) -> tuple[NotebookNode, list[str]]:
    """Of the cells carrying the test's grade_id keep one (the last unedited, else the last) and its edits.

    The others are removed when they hold the test's own source (nothing of the student's is lost)
    and otherwise stay as the student's own code, without nbgrader metadata.
    """
    unedited = [cell for cell in copies if not _edits(cell, test)]
    kept = (unedited or copies)[-1]
    edits = _edits(kept, test)
    if len(copies) > 1:
        removed = 0
        for cell in copies:
            if cell is kept:
                continue
            if test.is_its_source(cell.source) or not cell.source.strip():
                del nb.cells[_index(nb, cell)]
                removed += 1
            else:
                del cell.metadata["nbgrader"]
        edits.insert(0, f"duplicated ({len(copies)} cells carried its grade_id; unchanged copies removed: {removed}, "
                        f"edited copies kept as the student's own code: {len(copies) - 1 - removed})")
    return kept, edits


def _slot(nb: NotebookNode, grade_id: str, cell_order: Sequence[str]) -> tuple[int, int]:
    """The cells between the nearest instructor cells before and after ``grade_id`` that ``nb`` still has."""
    at = {}
    for index, cell in enumerate(nb.cells):
        at.setdefault(_grade_id(cell), index)
    place = cell_order.index(grade_id) if grade_id in cell_order else len(cell_order)
    before = [at[other] for other in cell_order[:place] if other in at]
    after = [at[other] for other in cell_order[place + 1:] if other in at]
    start = max(before) + 1 if before else 0
    return start, max(start, min(after) if after else len(nb.cells))


def _find_lost(nb: NotebookNode, test: InstructorTest, cell_order: Sequence[str],
               foreign: list) -> tuple[NotebookNode | None, list[str]]:
    """The cell that was the test before its grade_id was lost, and how it was lost (None: not found).

    Candidates are the cells without nbgrader metadata in the test's place: one whose source is the
    test's (stripped metadata) or whose removed metadata still called it an autograded test (renamed
    grade_id); the most similar wins.
    """
    start, end = _slot(nb, test.grade_id, cell_order)
    removed = {id(cell): former for cell, former in foreign}
    best, best_similarity = None, -1.0
    for cell in nb.cells[start:end]:
        if "nbgrader" in cell.metadata:
            continue
        former = removed.get(id(cell))
        called_test = isinstance(former, dict) and bool(former.get("grade")) and not former.get("solution")
        similarity = test.similarity(cell.source)
        same_source = similarity >= SAME_SOURCE_RATIO and cell.source.strip() != ""  # an empty cell is nobody's test
        if (same_source or called_test) and similarity > best_similarity:
            best, best_similarity = cell, similarity
    if best is None:
        return None, []
    former = removed.get(id(best))
    if former is None:
        edits = ["nbgrader metadata removed"]
    elif isinstance(former, dict):
        edits = [f"grade_id renamed to {former['grade_id']!r}" if "grade_id" in former else "grade_id removed"]
    else:
        edits = ["nbgrader metadata corrupted"]
    if best.cell_type != "code":
        edits.append(f"cell type changed to {best.cell_type}")
    if not test.is_its_source(best.source):
        edits.append("source edited")
    return best, edits


def _instructor_cell(nb: NotebookNode, test: InstructorTest, cell_id: str | None) -> NotebookNode:
    """The test cell as nbgrader grades it (hidden tests included), with a cell id the notebook can take."""
    cell = new_code_cell(source=test.source, metadata={
        "deletable": False, "editable": False,
        "nbgrader": {"cell_type": "code", "grade": True, "grade_id": test.grade_id, "locked": True,
                     "points": test.points, "schema_version": 3, "solution": False, "task": False}})
    if nb.get("nbformat_minor", 0) < 5:  # notebooks before format 4.5 have no cell ids
        del cell["id"]
        return cell
    taken = {other.get("id") for other in nb.cells}
    candidates = itertools.chain([test.grade_id], (f"{test.grade_id}-{n}" for n in itertools.count(1)))
    cell.id = cell_id or next(candidate for candidate in candidates if candidate not in taken)
    return cell


class RestoreTestCells(NbGraderPreprocessor):
    """Sanitizing step before nbgrader's: ``restore`` with the gradebook's test cells, one flag per repair."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources["nbgrader"]
        # Grading flags are the grader's: whatever the submission carries under that key is dropped.
        nb.metadata.pop(flags.METADATA_KEY, None)
        tests, recorded_order = self._gradebook_cells(info["db_url"], info["assignment"], info["notebook"])
        cell_order = list(dict.fromkeys([*self._source_order(info["assignment"], info["notebook"]), *recorded_order]))
        for grade_id, reason in restore(nb, tests, cell_order):
            flags.add(nb, FLAG, reason, cell=grade_id)
        return nb, resources

    @staticmethod
    def _gradebook_cells(db_url: str, assignment: str, notebook: str) -> tuple[list[InstructorTest], list[str]]:
        """The notebook's autograded test cells, and the grade_id of every cell the gradebook knows."""
        with Gradebook(db_url) as gradebook:
            found = gradebook.find_notebook(notebook, assignment)
            sources = {cell.name: cell.source for cell in found.source_cells}
            solutions = {cell.name for cell in found.solution_cells}
            tests = [InstructorTest(cell.name, sources[cell.name], float(cell.max_score)) for cell in found.grade_cells
                     if cell.cell_type == "code" and cell.name not in solutions]
            names = [*sources, *(cell.name for cell in [*found.grade_cells, *found.solution_cells, *found.task_cells])]
        return tests, names

    def _source_order(self, assignment: str, notebook: str) -> list[str]:
        """The grade_ids of the source notebook in order (the gradebook keeps no order); empty without one."""
        coursedir = CourseDirectory(config=self.config)
        path = Path(coursedir.format_path(coursedir.source_directory, ".", assignment)) / f"{notebook}.ipynb"
        if not path.is_file():
            return []
        return [grade_id for cell in notebooks.read(path).cells if (grade_id := notebooks.grade_id(cell))]
