"""The parts of a course notebook the notebook tests look at: graded cells by kind, the visible part of a
test cell, the names a cell defines, and the quote markers of contract 5.

Cells are classified by their nbgrader metadata:

- a **solution cell** is a code cell with ``solution: true`` (the student writes its ``### BEGIN SOLUTION``
  region); its *graded names* are the functions and classes it defines at top level;
- an **autograded test cell** is a code cell with ``grade: true, solution: false`` (kind ``code``);
- a **written cell** is a markdown cell with ``grade: true, solution: true`` (kind ``written``, graded by hand);
- a **given cell** is any other code cell: the student receives it as it is.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from nngrade.config import REPO_ROOT

SOURCE = REPO_ROOT / "source"
SOLUTIONS = REPO_ROOT / "solutions"
HIDDEN_MARKER = "### BEGIN HIDDEN TESTS"

# <!-- quote: EXPR -->: EXPR is evaluated in the executed solution notebook and must give the text before it.
QUOTE_MARKER = re.compile(r"<!--\s*quote:(?P<expr>.*?)-->", re.DOTALL)
QUOTE_OPENING = re.compile(r"<!--\s*quote\b")


@dataclass(frozen=True)
class Cell:
    index: int
    cell_type: str
    source: str
    nbgrader: dict

    @property
    def grade_id(self) -> str:
        return self.nbgrader.get("grade_id", "")

    @property
    def points(self) -> float:
        return float(self.nbgrader.get("points", 0) or 0)

    @property
    def is_solution(self) -> bool:
        return self.cell_type == "code" and bool(self.nbgrader.get("solution"))

    @property
    def is_test(self) -> bool:
        return self.cell_type == "code" and bool(self.nbgrader.get("grade")) and not self.nbgrader.get("solution")

    @property
    def is_written(self) -> bool:
        return self.cell_type == "markdown" and bool(self.nbgrader.get("grade")) and bool(self.nbgrader.get("solution"))

    @property
    def is_given(self) -> bool:
        return self.cell_type == "code" and not self.is_solution and not self.is_test

    @property
    def graded_kind(self) -> str | None:
        """``"code"``, ``"written"`` or ``None`` (not graded)."""
        return "code" if self.is_test else "written" if self.is_written else None

    def label(self) -> str:
        return f"cell {self.index}" + (f" ({self.grade_id})" if self.grade_id else "")


def source_notebook_path(assignment: str) -> Path:
    return SOURCE / assignment / f"{assignment}.ipynb"


def solution_notebook_path(assignment: str) -> Path:
    return SOLUTIONS / assignment / f"{assignment}.ipynb"


def source_assignments() -> list[str]:
    return sorted(path.name for path in SOURCE.iterdir() if source_notebook_path(path.name).is_file())


@cache
def read_cells(path: Path) -> tuple[Cell, ...]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return tuple(
        Cell(index, cell["cell_type"], "".join(cell.get("source", "")),
             cell.get("metadata", {}).get("nbgrader", {}) or {})
        for index, cell in enumerate(notebook["cells"])
    )


def source_cells(assignment: str) -> tuple[Cell, ...]:
    return read_cells(source_notebook_path(assignment))


def visible_part(source: str) -> str:
    """A test cell's source up to its hidden tests (all of it when it has none)."""
    return source.split(HIDDEN_MARKER, 1)[0]


def python_source(source: str) -> str:
    """Cell source without IPython's line magics and shell escapes, so ``ast`` can parse it."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def parse(source: str) -> ast.Module:
    """The cell's syntax tree (``SyntaxError`` propagates: the caller reports the cell)."""
    return ast.parse(python_source(source))


def defined_names(source: str) -> dict[str, int]:
    """Names a cell binds at top level to a function, a class or a lambda: ``{name: line}``."""
    names = {}
    for node in parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = node.lineno
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
            names.update({target.id: node.lineno for target in node.targets if isinstance(target, ast.Name)})
    return names


def graded_names(assignment: str) -> dict[str, set[str]]:
    """``{solution cell grade_id: the functions and classes it defines}`` (what the assignment grades)."""
    found = {}
    for cell in source_cells(assignment):
        if cell.is_solution:
            try:
                found[cell.grade_id] = set(defined_names(cell.source))
            except SyntaxError:
                found[cell.grade_id] = set()
    return found


def released_code(cell: Cell) -> str | None:
    """The code of ``cell`` a student receives as it is: a given cell, or a test cell's visible part."""
    if cell.is_given:
        return cell.source
    if cell.is_test:
        return visible_part(cell.source)
    return None


@dataclass(frozen=True)
class Quote:
    cell_index: int
    expression: str
    text_before: str  # the cell's text up to the marker
    marker: str

    def describe(self) -> str:
        return f"cell {self.cell_index}, marker {self.marker!r}"


def quotes(cells) -> list[Quote]:
    """Every quote marker of the markdown cells, in order."""
    found = []
    for cell in cells:
        if cell.cell_type != "markdown":
            continue
        for match in QUOTE_MARKER.finditer(cell.source):
            found.append(Quote(cell.index, match.group("expr").strip(), cell.source[: match.start()], match.group(0)))
    return found
