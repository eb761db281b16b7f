"""Static contracts of every source notebook (fast: nothing is executed).

- the header (contract 6): ``**Course order:**`` consistent with ``nngrade.syllabus.COURSE_ORDER`` (the one
  list, which ``docs/student-conventions.md`` states too), ``**Estimated time:**``, the ``**Conventions:**``
  link, and one exercise table listing every graded cell with the points of the nbgrader metadata;
- the rubric of every written cell (contract 7);
- every autograded test cell's visible part ends with ``passed("<function>")`` and no test cell ends with a
  bare expression (contract 2);
- no given cell hands out a function a later assignment grades, or redefines a helper ``nnkit`` provides
  (contract 4);
- every quote marker parses (contract 5).

Each test collects every problem of its notebook and reports them together, with the cell index, so
the failure message is a checklist.
"""

from __future__ import annotations

import ast
import re

import pytest

from nngrade import syllabus
from nngrade.config import REPO_ROOT

from notebook_parts import (
    HIDDEN_MARKER,
    QUOTE_OPENING,
    Cell,
    defined_names,
    graded_names,
    parse,
    quotes,
    released_code,
    source_assignments,
    source_cells,
    visible_part,
)

ASSIGNMENTS = [name for name in syllabus.COURSE_ORDER if name in source_assignments()]
STUDENT_PAGE = REPO_ROOT / "docs" / "student-conventions.md"

CONVENTIONS_LINE = "**Conventions:** [conventions.md](conventions.md)"
COURSE_ORDER_LINE = re.compile(
    r"\*\*Course order:\*\*\s*(?P<k>\d+)\s+of\s+(?P<n>\d+)\s*[—–-]+\s*after\s+`?(?P<prev>[\w.-]+)`?\s*,"
    r"\s*before\s+`?(?P<next>[\w.-]+)`?")
ESTIMATED_TIME_LINE = re.compile(r"\*\*Estimated time:\*\*\s*(?P<low>\d+(?:\.\d+)?)\s*–\s*(?P<high>\d+(?:\.\d+)?)\s+hours\b")
TABLE_HEADER = ["part", "exercise", "kind", "points"]
TOTAL_ROW = re.compile(r"^\|\s*\|\s*\*\*total\*\*\s*\|\s*\|\s*\*\*(?P<total>\d+(?:\.\d+)?)\*\*\s*\|$")
NUMBER = r"\d+(?:\.\d+)?"
POINTS_CELL = re.compile(rf"^{NUMBER}(?:\s*\+\s*{NUMBER})*$")

SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"
SCHEME_BEGIN, SCHEME_END = "=== BEGIN MARK SCHEME ===", "=== END MARK SCHEME ==="
RUBRIC_HEADER = re.compile(rf"^\*\*Rubric \((?P<points>{NUMBER}) points?\)\*\*$")
RUBRIC_BULLET = re.compile(rf"^- (?P<points>{NUMBER}) points?: \S")

# Helpers nnkit provides (contract 4): a given cell that defines one of these names redefines it.
NNKIT_HELPERS = {
    r"(stable_|numerically_stable_)?sigmoid": "nnkit.numerics.sigmoid",
    r"(stable_)?softmax": "nnkit.numerics.softmax",
    r"(stable_)?log_softmax": "nnkit.numerics.log_softmax",
    r"(softmax_)?cross_entropy(_loss)?|mean_cross_entropy": "nnkit.numerics.cross_entropy",
    r"(compute_|batch_|classification_)?accuracy": "nnkit.numerics.accuracy",
    r"(iterate_|iter_|make_)?minibatch(es)?|(iterate_|iter_)?batches": "nnkit.batches.minibatches",
    r"to_torch|as_torch|to_tensor": "nnkit.oracle.to_torch",
    r"torch_(value|loss)_and_grads?|torch_grads?|autograd_(value|loss)_and_grads?":
        "nnkit.oracle.torch_value_and_grads",
}


def number(text: str) -> float:
    return float(text)


def points_text(value: float) -> str:
    return f"{value:g}"


def first_markdown(assignment):
    return next((cell for cell in source_cells(assignment) if cell.cell_type == "markdown"), None)


def fail_with(assignment: str, problems: list[str], what: str) -> None:
    if problems:
        pytest.fail(f"{assignment}: {what}:\n" + "\n".join(f"  - {problem}" for problem in problems), pytrace=False)


# --- the course order ---------------------------------------------------------------------------


def test_the_course_order_lists_every_assignment_once():
    assert len(set(syllabus.COURSE_ORDER)) == len(syllabus.COURSE_ORDER), "an assignment appears twice"
    missing = sorted(set(source_assignments()) - set(syllabus.COURSE_ORDER))
    unknown = sorted(set(syllabus.COURSE_ORDER) - set(source_assignments()))
    assert not missing and not unknown, (
        f"nngrade.syllabus.COURSE_ORDER and source/ disagree: not in the order {missing}, no notebook {unknown}")
    for assignment, needed in syllabus.NEEDS.items():
        late = [name for name in needed if syllabus.position(name) >= syllabus.position(assignment)]
        assert not late, f"{assignment} needs {late}, which do not come before it"
    assert set(syllabus.NEEDS) == set(syllabus.COURSE_ORDER)


def test_the_student_page_states_the_same_course_order():
    text = STUDENT_PAGE.read_text(encoding="utf-8")
    section = text.split("## Course order", 1)
    assert len(section) == 2, f"{STUDENT_PAGE.name} has no '## Course order' section"
    body = section[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\d+\. `([\w-]+)`", body, flags=re.MULTILINE)
    assert listed == list(syllabus.COURSE_ORDER), (
        f"{STUDENT_PAGE.name} lists the course order {listed}, nngrade.syllabus.COURSE_ORDER is "
        f"{list(syllabus.COURSE_ORDER)}")
    for position, line in enumerate(re.findall(r"^\d+\. `[\w-]+`.*?(?=^\d+\. |\Z)", body, flags=re.MULTILINE | re.DOTALL), 1):
        assignment = syllabus.COURSE_ORDER[position - 1]
        for needed in syllabus.NEEDS[assignment]:
            short = needed.split("_")[0]
            assert re.search(rf"\b{short}\b", line), (
                f"{STUDENT_PAGE.name}: item {position} ({assignment}) does not say it needs {needed} ({short})")


# --- contract 6: the header ---------------------------------------------------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_header_states_course_order_time_and_conventions(assignment):
    header = first_markdown(assignment)
    if header is None:
        pytest.fail(f"{assignment}: the notebook has no markdown cell", pytrace=False)
    where = f"the first markdown cell (cell {header.index})"
    problems = []
    k = syllabus.position(assignment)
    previous, following = syllabus.neighbours(assignment)
    expected = (f"**Course order:** {k} of {len(syllabus.COURSE_ORDER)} — after {previous or 'none'}, "
                f"before {following or 'none'}")
    match = COURSE_ORDER_LINE.search(header.source)
    if match is None:
        problems.append(f"{where} has no course-order line; expected: {expected}")
    else:
        found = (int(match["k"]), int(match["n"]), match["prev"], match["next"])
        if found != (k, len(syllabus.COURSE_ORDER), previous or "none", following or "none"):
            problems.append(f"{where} says {match.group(0)!r}; expected: {expected}")
    time_match = ESTIMATED_TIME_LINE.search(header.source)
    if time_match is None:
        problems.append(f"{where} has no line '**Estimated time:** <a>–<b> hours' (an en dash between a and b)")
    elif not 0 < number(time_match["low"]) < number(time_match["high"]):
        problems.append(f"{where}: the estimated time {time_match.group(0)!r} should be a range a–b with 0 < a < b")
    if CONVENTIONS_LINE not in header.source:
        problems.append(f"{where} lacks the line {CONVENTIONS_LINE}")
    fail_with(assignment, problems, "contract 6 (header)")


def exercise_table(text: str):
    """``(rows, total, problems)``: the rows after the ``| part | exercise | kind | points |`` header."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if _table_cells(line) == TABLE_HEADER]
    if len(starts) != 1:
        count = f"{len(starts)} exercise tables with the header | part | exercise | kind | points |"
        return None, None, [f"{count} (expected exactly one)"]
    rows, total, problems = [], None, []
    separator = lines[starts[0] + 1] if starts[0] + 1 < len(lines) else ""
    if not re.fullmatch(r"\|(\s*:?-+:?\s*\|){4}", separator.strip()):
        problems.append("the table header is not followed by a separator line |---|---|---|---|")
    for line in lines[starts[0] + 2:]:
        line = line.strip()
        if not line.startswith("|"):
            break
        total_match = TOTAL_ROW.match(line)
        if total_match:
            total = number(total_match["total"])
            continue
        if total is not None:
            problems.append(f"the row {line!r} comes after the total row")
        cells = _table_cells(line)
        if len(cells) != 4:
            problems.append(f"the row {line!r} does not have 4 columns")
            continue
        rows.append(cells)
    if total is None:
        problems.append("the table does not end with the row | | **total** | | **<N>** |")
    return rows, total, problems


def _table_cells(line: str) -> list[str]:
    line = line.strip()
    if not (line.startswith("|") and line.endswith("|")):
        return []
    return [cell.strip() for cell in line[1:-1].split("|")]


def _expected_rows(graded) -> str:
    return "\n".join(f"      | … | {cell.grade_id[5:] if cell.is_test else cell.grade_id} | {cell.graded_kind} | "
                     f"{points_text(cell.points)} |   <- cell {cell.index}" for cell in graded)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercise_table_lists_every_graded_cell_with_its_points(assignment):
    """Rows follow the notebook order; a row covers the next graded cell(s) of its kind: one cell, or as many as
    its points column adds terms (``2 + 2 + 2``), or consecutive cells whose points add up to the row's.
    A code row names the function it grades (the test cell's grade_id without ``test_``, or a function its
    solution cell defines)."""
    cells = source_cells(assignment)
    graded = [cell for cell in cells if cell.graded_kind]
    header = first_markdown(assignment)
    rows, total, problems = exercise_table(header.source if header else "")
    solutions = graded_names(assignment)
    metadata_total = sum(cell.points for cell in graded)
    if rows is not None:
        next_cell = 0
        for part, exercise, kind, points in rows:
            row = f"row | {part} | {exercise} | {kind} | {points} |"
            if kind not in ("code", "written"):
                problems.append(f"{row}: kind must be 'code' or 'written'")
                continue
            if not POINTS_CELL.match(points):
                problems.append(f"{row}: points must be a number or a sum like '2 + 2 + 2'")
                continue
            terms = [number(term) for term in points.split("+")]
            claimed = []
            if len(terms) > 1:
                claimed = list(graded[next_cell: next_cell + len(terms)])
                matches = [cell.points for cell in claimed] == terms
            else:
                while next_cell + len(claimed) < len(graded) and sum(c.points for c in claimed) < terms[0]:
                    claimed.append(graded[next_cell + len(claimed)])
                matches = sum(c.points for c in claimed) == terms[0]
            matches = matches and bool(claimed) and all(cell.graded_kind == kind for cell in claimed)
            if not matches:
                upcoming = ", ".join(f"{c.label()} {c.graded_kind} {points_text(c.points)}"
                                     for c in graded[next_cell: next_cell + 3]) or "no graded cell left"
                problems.append(f"{row} does not match the next graded cells in notebook order ({upcoming})")
                break
            next_cell += len(claimed)
            for cell in claimed:
                function = cell.grade_id.removeprefix("test_")
                names = {function} | solutions.get(function, set())
                if kind == "code" and function in solutions and not any(
                        re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", exercise) for name in names):
                    problems.append(f"{row} covers {cell.label()} but names none of {sorted(names)}")
        else:
            if next_cell < len(graded):
                problems.append("no row covers " + ", ".join(c.label() for c in graded[next_cell:]))
    if total is not None and total != metadata_total:
        problems.append(f"the total row says {points_text(total)}, the nbgrader metadata of the graded cells "
                        f"adds up to {points_text(metadata_total)}")
    if rows is not None and total is not None:
        row_sum = sum(sum(number(t) for t in row[3].split("+")) for row in rows
                      if POINTS_CELL.match(row[3]) and row[2] in ("code", "written"))
        if row_sum != total:
            problems.append(f"the rows add up to {points_text(row_sum)}, the total row says {points_text(total)}")
    if problems:
        problems.append("graded cells in notebook order (nbgrader metadata):\n" + _expected_rows(graded))
    fail_with(assignment, problems, "contract 6 (exercise table in the first markdown cell)")


# --- contract 7: rubrics ------------------------------------------------------------------------


def rubric_problems(cell) -> list[str]:
    where = cell.label()
    text = cell.source
    if text.count(SOLUTION_BEGIN) != 1 or text.count(SOLUTION_END) != 1:
        return [f"{where}: needs exactly one '{SOLUTION_BEGIN}' and one '{SOLUTION_END}'"]
    solution = text.split(SOLUTION_BEGIN, 1)[1].split(SOLUTION_END, 1)[0]
    if solution.count(SCHEME_BEGIN) != 1 or solution.count(SCHEME_END) != 1:
        return [f"{where}: the solution region needs exactly one '{SCHEME_BEGIN}' … '{SCHEME_END}' block"]
    answer, scheme = solution.split(SCHEME_BEGIN, 1)
    scheme, after = scheme.split(SCHEME_END, 1)
    problems = []
    if not answer.strip():
        problems.append(f"{where}: no model answer between '{SOLUTION_BEGIN}' and '{SCHEME_BEGIN}'")
    if after.strip():
        problems.append(f"{where}: text after '{SCHEME_END}' inside the solution region: {after.strip()[:60]!r}")
    lines = [line.rstrip() for line in scheme.strip("\n").splitlines()]
    while lines and not lines[0].strip():
        lines.pop(0)
    header = RUBRIC_HEADER.match(lines[0].strip()) if lines else None
    if header is None:
        problems.append(f"{where}: the mark scheme must start with '**Rubric (<N> points)**', "
                        f"found {lines[0].strip()[:60]!r}" if lines else f"{where}: the mark scheme is empty")
        return problems
    declared = number(header["points"])
    if declared != cell.points:
        problems.append(f"{where}: the rubric says {points_text(declared)} points, the nbgrader metadata "
                        f"{points_text(cell.points)}")
    bullets = []
    for line in lines[1:]:
        if not line.strip() or line.startswith((" ", "\t")):
            continue  # blank lines and indented continuations
        bullet = RUBRIC_BULLET.match(line)
        if bullet is None:
            problems.append(f"{where}: mark-scheme line is not '- <p> point(s): <criterion>': {line[:60]!r}")
        else:
            bullets.append(number(bullet["points"]))
    if not bullets:
        problems.append(f"{where}: the rubric has no '- <p> point(s): <criterion>' bullet")
    elif sum(bullets) != declared:
        problems.append(f"{where}: the bullets add up to {points_text(sum(bullets))} points, "
                        f"the rubric says {points_text(declared)}")
    return problems


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_written_cell_has_a_rubric_in_the_course_format(assignment):
    problems = [problem for cell in source_cells(assignment) if cell.is_written for problem in rubric_problems(cell)]
    fail_with(assignment, problems, "contract 7 (rubric format)")


# --- contract 2: test cells end with passed(...) --------------------------------------------------


def _passed_name(statement) -> str | None:
    """The string of a ``passed("<name>")`` statement, else ``None``."""
    if (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
            and isinstance(statement.value.func, ast.Name) and statement.value.func.id == "passed"
            and len(statement.value.args) == 1 and not statement.value.keywords
            and isinstance(statement.value.args[0], ast.Constant) and isinstance(statement.value.args[0].value, str)):
        return statement.value.args[0].value
    return None


def _is_bare_expression(statement) -> bool:
    return isinstance(statement, ast.Expr) and not isinstance(statement.value, ast.Call)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_test_cell_ends_its_visible_part_with_passed(assignment):
    solutions = graded_names(assignment)
    problems = []
    for cell in source_cells(assignment):
        if not cell.is_test:
            continue
        where = cell.label()
        function = cell.grade_id.removeprefix("test_")
        try:
            visible = parse(visible_part(cell.source)).body
            whole = parse(cell.source).body
        except SyntaxError as error:
            problems.append(f"{where}: does not parse ({error.msg}, line {error.lineno})")
            continue
        name = _passed_name(visible[-1]) if visible else None
        allowed = ({function} | solutions[function]) if function in solutions else None
        if name is None:
            last = ast.get_source_segment(visible_part(cell.source), visible[-1]) if visible else "nothing"
            problems.append(f"{where}: the visible part must end with passed(\"{function}\") "
                            f"(the line before '{HIDDEN_MARKER}'); it ends with {str(last).splitlines()[0][:60]!r}")
        elif allowed is not None and name not in allowed:
            problems.append(f"{where}: passed({name!r}) should name the function tested: one of {sorted(allowed)}")
        elif not name.strip():
            problems.append(f"{where}: passed() needs the name of the function tested")
        if name is not None and HIDDEN_MARKER in cell.source:
            trailing = visible_part(cell.source).rstrip().splitlines()[-1:]
            if not trailing[0].startswith("passed("):
                problems.append(f"{where}: the line just before '{HIDDEN_MARKER}' must be the passed(...) call")
        if whole and _is_bare_expression(whole[-1]):
            problems.append(f"{where}: ends with a bare expression (it would print Out[..]); end with a statement")
    fail_with(assignment, problems, "contract 2 (test cells)")


# --- contract 4 and no later answers: what given cells define ----------------------------------


def _later_graded(assignment) -> dict[str, str]:
    """``{function or class name: the later assignment that grades it}``."""
    later = {}
    for other in reversed(syllabus.later_than(assignment)):  # the earliest later one wins
        for names in graded_names(other).values():
            later.update({name: other for name in names})
    return later


def _released_definitions(assignment):
    """The functions and classes the student's version defines outside solution regions: a list of
    ``(where, name, line)``, and the cells that do not parse."""
    definitions, problems = [], []
    for cell in source_cells(assignment):
        code = released_code(cell)
        if code is None:
            continue
        try:
            names = defined_names(code)
        except SyntaxError as error:
            problems.append(f"{cell.label()}: does not parse ({error.msg}, line {error.lineno})")
            continue
        where = f"{'the visible part of test cell' if cell.is_test else 'given cell'} {cell.index}"
        definitions += [(where, name, line) for name, line in names.items()]
    return definitions, problems


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_given_cells_do_not_hand_out_later_answers(assignment):
    later = _later_graded(assignment)
    definitions, problems = _released_definitions(assignment)
    problems += [f"{where} defines {name} (line {line}), which {later[name]} asks students to write"
                 for where, name, line in definitions if name in later]
    fail_with(assignment, problems, "a given cell hands out a later assignment's answer")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_given_cells_use_the_nnkit_helpers_instead_of_redefining_them(assignment):
    definitions, problems = _released_definitions(assignment)
    problems += [f"{where} defines {name} (line {line}): import {helper} instead"
                 for where, name, line in definitions
                 for pattern, helper in NNKIT_HELPERS.items() if re.fullmatch(pattern, name)]
    fail_with(assignment, problems, "contract 4 (a helper nnkit provides is redefined)")


# --- contract 5: quote markers parse --------------------------------------------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_quote_markers_parse(assignment):
    cells = source_cells(assignment)
    problems = []
    found = quotes(cells)
    for cell in cells:
        if cell.cell_type != "markdown":
            continue
        opened = len(QUOTE_OPENING.findall(cell.source))
        closed = sum(1 for quote in found if quote.cell_index == cell.index)
        if opened != closed:
            problems.append(f"cell {cell.index}: {opened - closed} quote marker(s) not of the form <!-- quote: EXPR -->")
    for quote in found:
        try:
            ast.parse(quote.expression, mode="eval")
        except SyntaxError as error:
            problems.append(f"{quote.describe()}: {quote.expression!r} is not a Python expression ({error.msg})")
            continue
        if not quote.text_before or quote.text_before[-1].isspace():
            problems.append(f"{quote.describe()}: the marker must follow the quoted text immediately (no space)")
    fail_with(assignment, problems, "contract 5 (quote markers)")


# --- the checks themselves, on small made-up cells ------------------------------------------------


def written_cell(text, points=3):
    return Cell(7, "markdown", text, {"grade": True, "solution": True, "grade_id": "written_topic", "points": points})


GOOD_RUBRIC = """Question?

### BEGIN SOLUTION
The model answer.

=== BEGIN MARK SCHEME ===
**Rubric (3 points)**
- 2 points: the derivation
  (with every step)
- 1 point: the conclusion
=== END MARK SCHEME ===
### END SOLUTION
"""


@pytest.mark.parametrize("text, points, expected", [
    (GOOD_RUBRIC, 3, []),
    (GOOD_RUBRIC, 4, ["the rubric says 3 points, the nbgrader metadata 4"]),
    (GOOD_RUBRIC.replace("- 1 point", "- 2 points"), 3, ["the bullets add up to 4 points"]),
    (GOOD_RUBRIC.replace("- 1 point: the", "- one point for the"), 3,
     ["is not '- <p> point(s): <criterion>'", "the bullets add up to 2 points"]),
    (GOOD_RUBRIC.replace("**Rubric (3 points)**", "Rubric: 3 points"), 3, ["must start with '**Rubric (<N> points)**'"]),
    (GOOD_RUBRIC.replace("The model answer.", ""), 3, ["no model answer"]),
    (GOOD_RUBRIC.replace("=== END MARK SCHEME ===\n", ""), 3, ["exactly one '=== BEGIN MARK SCHEME ==='"]),
    ("An answer without markers", 3, ["exactly one '### BEGIN SOLUTION'"]),
])
def test_rubric_check_on_made_up_cells(text, points, expected):
    problems = rubric_problems(written_cell(text, points))
    assert len(problems) == len(expected), problems
    for problem, words in zip(problems, expected):
        assert words in problem, (words, problem)


def test_exercise_table_parser_reads_rows_and_total():
    text = """intro

| part | exercise | kind | points |
|---|---|---|---|
| 1 | `affine_forward`, `affine_backward` | code | 3 |
| A | test accuracy ≥ 95 %, ≥ 97 % | code | 2 + 2 |
| W1 | written: curves | written | 3 |
| | **total** | | **10** |

after"""
    rows, total, problems = exercise_table(text)
    assert problems == [] and total == 10
    assert rows == [["1", "`affine_forward`, `affine_backward`", "code", "3"],
                    ["A", "test accuracy ≥ 95 %, ≥ 97 %", "code", "2 + 2"], ["W1", "written: curves", "written", "3"]]
    assert exercise_table(text.replace("| | **total** | | **10** |\n", ""))[2] == [
        "the table does not end with the row | | **total** | | **<N>** |"]


def test_passed_and_bare_expression_detection():
    assert _passed_name(ast.parse('passed("relu")').body[0]) == "relu"
    assert _passed_name(ast.parse('print("relu: passed")').body[0]) is None
    assert _is_bare_expression(ast.parse("losses[-1]").body[0])
    assert not _is_bare_expression(ast.parse("compare(f, g, cases)").body[0])
