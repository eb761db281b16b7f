"""Notebook plumbing: deterministic files, filling solution cells, finding leaked answers.

Cells are identified by their nbgrader ``grade_id`` (``sigmoid``, ``test_sigmoid``,
``written_<topic>``), the contract of docs/architecture.md.
"""

from __future__ import annotations

import html
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

# nbformat validates notebooks with jsonschema, which imports the optional IRI format checker
# rfc3987_syntax when it is installed (jupyter-events pulls it in). That module compiles an Earley
# grammar at import: about 3 s in every grading process and CLI run. Notebooks have no IRI fields,
# so the grader treats it as absent (jsonschema then skips that one format check).
sys.modules.setdefault("rfc3987_syntax", None)

import nbformat  # noqa: E402  (after the line above)
from nbgrader.preprocessors import NbGraderPreprocessor
from nnkit.lab import cell_timeout, notebook_default_timeout

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
MARK_SCHEME_MARKERS = ("=== BEGIN MARK SCHEME ===", "=== END MARK SCHEME ===")
_REFERENCE_IMPORT = re.compile(r"^\s*(?:from|import)\s+(?:nnref|nngrade)\b", re.MULTILINE)
_SIGNIFICANT_LINE_LENGTH = 10  # shorter lines ("return x", ")") are too common to prove a leak


def read(path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def write(notebook, path) -> None:
    """Write ``notebook`` in a byte-for-byte reproducible form (see ``normalise``)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(normalise(notebook), str(path))


def normalise(notebook) -> nbformat.NotebookNode:
    """Drop what changes from run to run (execution counts, timings) and give every cell a stable id."""
    notebook = nbformat.from_dict(notebook)
    for index, cell in enumerate(notebook.cells):
        cell.id = grade_id(cell) or cell.get("id") or f"cell-{index}"
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.execution_count = None
    return notebook


def hide_hidden_tests(path) -> None:
    """Remove every hidden-test region from the notebook file at ``path``, in place; a file that is
    not a readable notebook is deleted. For the grading kernel's scratch copy of the folder being
    graded, where nbgrader has written the notebook with its hidden tests restored: the kernel must
    not read them (the grader runs them in its own process)."""
    path = Path(path)
    try:
        notebook = read(path)
    except Exception:  # noqa: BLE001 (any unreadable file: nothing of it reaches the kernel)
        path.unlink()
        return
    begin, end = (marker.split(" ", 1)[1].lower() for marker in HIDDEN_MARKERS)
    changed = False
    for cell in notebook.cells:
        if begin not in cell.source.lower():
            continue
        kept, inside = [], False
        for line in cell.source.splitlines(keepends=True):
            if begin in line.lower():
                inside = True
            elif end in line.lower() and inside:
                inside = False
            elif not inside:
                kept.append(line)
        cell.source, changed = "".join(kept), True
    if changed:
        nbformat.write(notebook, str(path))


def nbgrader_metadata(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell) -> str | None:
    return nbgrader_metadata(cell).get("grade_id")


def is_solution_cell(cell) -> bool:
    return bool(nbgrader_metadata(cell).get("solution"))


def is_autograded_test(cell) -> bool:
    """A locked code cell with points: a test cell (``test_<function>``)."""
    meta = nbgrader_metadata(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def notebook_timeout(notebook, default: int) -> int:
    """The limit of a notebook's cells that ask for none of their own: ``metadata.nncourse.timeout``
    of the notebook (or ``default``)."""
    return _whole_seconds(notebook_default_timeout(notebook, default))


@dataclass(frozen=True)
class CellLimits:
    """The time limits of an assignment's cells, seconds, all taken from its source notebook.

    A cell may ask for its own limit (``{"nncourse": {"timeout": <seconds>}}`` in its metadata, e.g. a
    training cell); the others get ``default``. A submitted cell with a ``grade_id`` of the source
    gets the source cell's limit, whatever its own metadata says; any other submitted cell (one the
    student added, or a given cell nbgrader does not track) keeps the limit in its own metadata but
    never more than ``largest``, the longest limit of the source: a student cannot buy time by
    editing metadata.
    """

    default: int
    largest: int
    by_grade_id: dict  # grade_id -> the source cell's limit, for the source's cells that have a grade_id

    @classmethod
    def of_source(cls, source_notebook, default: int) -> "CellLimits":
        notebook_default = notebook_timeout(source_notebook, default)
        own = [(grade_id(cell), cell_timeout(cell)) for cell in source_notebook.cells]
        by_grade_id = {name: _whole_seconds(limit or notebook_default) for name, limit in own if name is not None}
        largest = max([notebook_default, *(_whole_seconds(limit) for _, limit in own if limit is not None)])
        return cls(notebook_default, largest, by_grade_id)

    def of(self, cell) -> int:
        """The limit of a submitted ``cell``, seconds."""
        name = grade_id(cell)
        if name in self.by_grade_id:
            return self.by_grade_id[name]
        own = cell_timeout(cell)
        return self.default if own is None else min(_whole_seconds(own), self.largest)


def _whole_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds))  # nbclient reads a limit of 0 as "no limit"


def solution_text(cell) -> str:
    """What a student who solved the cell would have written: no nbgrader markers, no rubric."""
    lines, in_mark_scheme = [], False
    for line in cell.source.splitlines():
        if MARK_SCHEME_MARKERS[0] in line:
            in_mark_scheme = True
        elif MARK_SCHEME_MARKERS[1] in line:
            in_mark_scheme = False
        elif not in_mark_scheme and not any(marker in line for marker in SOLUTION_MARKERS):
            lines.append(line)
    return "\n".join(lines).strip("\n")


def fill(release_notebook, answers: dict) -> nbformat.NotebookNode:
    """A copy of ``release_notebook`` with the source of each solution cell in ``answers`` replaced.

    ``answers`` maps a solution cell's grade_id to its new source; a grade_id that is not a
    solution cell of the notebook raises ``KeyError`` (a catalogue typo must not pass silently).
    """
    notebook = nbformat.from_dict(release_notebook)
    solution_ids = {grade_id(cell) for cell in notebook.cells if is_solution_cell(cell)}
    unknown = sorted(set(answers) - solution_ids)
    if unknown:
        raise KeyError(f"no solution cell with grade_id {unknown}; solution cells: {sorted(solution_ids)}")
    for cell in notebook.cells:
        if is_solution_cell(cell) and grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    return notebook


def solutions_of(source_notebook) -> dict:
    """``{grade_id: solution text}`` for every solution cell of a source notebook."""
    return {grade_id(cell): solution_text(cell) for cell in source_notebook.cells if is_solution_cell(cell)}


# --- leak detection ------------------------------------------------------------------------------


def _region_lines(source: str, markers, *, whole_cell: bool = False) -> tuple[set, set]:
    """Significant lines inside ``markers`` regions (or the whole cell) and the lines outside them."""
    inside, outside, in_region = set(), set(), whole_cell
    for line in source.splitlines():
        if markers[0] in line:
            in_region = True
        elif markers[1] in line:
            in_region = False
        else:
            (inside if in_region else outside).add(line.strip())
    return {line for line in inside if len(line) >= _SIGNIFICANT_LINE_LENGTH}, outside


def secret_lines(source_notebook, markers) -> set:
    """Lines that only occur inside ``markers`` regions of the source notebook (answers, hidden tests).

    A markdown solution cell (a written answer) without solution markers is an answer as a whole:
    nbgrader replaces all of it; with markers, only the marked region (the question above it stays).
    """
    inside, outside = set(), set()
    for cell in source_notebook.cells:
        written_answer = (markers == SOLUTION_MARKERS and cell.cell_type == "markdown" and is_solution_cell(cell)
                          and markers[0] not in cell.source)
        cell_inside, cell_outside = _region_lines(cell.source, markers, whole_cell=written_answer)
        inside |= cell_inside
        outside |= cell_outside
    return inside - outside


def visible_text(path) -> str:
    """The text a reader of a notebook or an HTML page sees (tags stripped, entities decoded)."""
    path = Path(path)
    if path.suffix == ".ipynb":
        notebook = read(path)
        parts = [cell.source for cell in notebook.cells]
        for cell in notebook.cells:
            for output in cell.get("outputs", []):
                parts.append(output.get("text", ""))
                parts.extend(output.get("traceback", []))
                parts.append(str(output.get("data", {}).get("text/plain", "")))
        return "\n".join(parts)
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


def leaks(text: str, source_notebook, *, solutions: bool = True) -> list[str]:
    """Hidden tests (and, with ``solutions``, solution code) of ``source_notebook`` found in ``text``.

    Feedback and solution notebooks legitimately show solution code, so they are checked with
    ``solutions=False``.
    """
    found = []
    kinds = (("solution code", SOLUTION_MARKERS),) if solutions else ()
    for kind, markers in kinds + (("hidden test", HIDDEN_MARKERS),):
        if any(marker.split(" ", 1)[1] in text for marker in markers):
            found.append(f"{kind} marker present")
        leaked = sorted(line for line in secret_lines(source_notebook, markers) if line in text)
        if leaked:
            found.append(f"{kind} present: {leaked[0]!r}" + (f" and {len(leaked) - 1} more" if len(leaked) > 1 else ""))
    return found


def reference_imports(notebook) -> list[str]:
    """Lines of code cells that import the reference or the grader (a release must have none)."""
    return [match.group(0).strip() for cell in notebook.cells if cell.cell_type == "code"
            for match in _REFERENCE_IMPORT.finditer(cell.source)]


class HideTestTracebacks(NbGraderPreprocessor):
    """Feedback: reduce the traceback of a failed test cell to its last line.

    An IPython traceback quotes the lines around the failing call, which in a test cell are hidden
    tests. The last line (``AssertionError: <message>``) carries what the student needs.
    """

    def preprocess_cell(self, cell, resources, index):
        if is_autograded_test(cell):
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
