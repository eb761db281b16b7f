"""The course's flows in a real browser, each step checked on what the page shows.

1. A student fetches 01_perceptron from the Assignment List, answers an exercise and a written question,
   runs the exercise's test cell, validates and submits.
2. A student validates a correct homework 2 without a false failure while the server keeps answering.
   It takes minutes, so it starts with the session and runs alongside the other scenarios.
3. The instructor collects and autogrades the submission, grades the written answer in the formgrader
   (the grade and comment survive a reload) and returns the feedback, which the student fetches and opens.
4. The feedback page renders its math with the server's MathJax, with no network.

The scenarios share one course, in this order: 3 and 4 continue from the submission of 1.
"""

from __future__ import annotations

import re
import shutil
import threading
import time

import pytest

pytest.importorskip("playwright.sync_api",
                    reason="Playwright is not installed: .venv/bin/pip install playwright==1.65.2")

from conftest import ASSIGNMENT, REPO, STUDENT_ID, record_timing
from labui import (
    RUN_TIMEOUT_MS,
    assignment_row,
    code_cell,
    markdown_cell,
    menu_entries,
    open_assignment_list,
    open_lab,
    replace_line,
    run_cell,
    run_menu_command,
    save_notebook,
    solution_lines,
    type_markdown_answer,
    wait_for_kernel_idle,
)
from playwright.sync_api import expect

EXERCISE = "hard_limit"  # a one-line answer, typed as a student would
WRITTEN = "written_decision_boundary"
WRITTEN_ANSWER = (r"Weights $w = (-1, 1)$: then $2w_1 + w_2 < 0$ and $w_1 + 2w_2 > 0$; "
                  r"$o(X) = 0$ is the line $x_2 = x_1$.")
MANUAL_SCORE = "2"
MANUAL_COMMENT = "Right inequalities and weights; describe the whole set of solutions for full marks."

HOMEWORK2 = "hw2_mnist_mlp"
# Homework 2 trains for minutes; Validate may take a while on two busy cores.
HOMEWORK2_VALIDATE_MS = 20 * 60_000
# A server that answers within this while a notebook validates has not stalled (a stalled one answers
# only when the whole notebook has run, minutes later).
RESPONSIVE_SECONDS = 15.0

STRAY_MATH = re.compile(r"\$[^$\n]+\$")


@pytest.fixture(scope="module")
def flow():
    """What the scenarios hand on to the next: the submission, the feedback page's address."""
    return {}


# --- scenario 2, started first: homework 2's Validate runs while the other scenarios do ------------------

class StatusProbe(threading.Thread):
    """Asks the server's `/api/status` once a second and keeps each answer's delay (or its failure)."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.delays: list[float] = []
        self.failures: list[str] = []
        self.finished = threading.Event()

    def run(self):
        while not self.finished.wait(1.0):
            started = time.monotonic()
            try:
                status, _ = self.server.get("api/status", timeout=120)
                if status != 200:
                    self.failures.append(f"HTTP {status}")
            except OSError as error:
                self.failures.append(repr(error))
            self.delays.append(time.monotonic() - started)

    def stop(self):
        self.finished.set()
        self.join(timeout=150)


@pytest.fixture(scope="module", autouse=True)
def homework2_validation(request, course):
    """A second student opens the homework 2 solution, put in their home as their notebook, and presses
    Validate; `test_student_validates_homework_2` awaits the result. Started with the module, when that
    test is selected, on a server of its own."""
    if not any(item.name == "test_student_validates_homework_2" for item in request.session.items):
        yield None
        return
    if "NNCOURSE_MNIST_DIR" not in course.student_environment(course.student_home):
        yield {"skip": "homework 2 needs MNIST: set NNCOURSE_MNIST_DIR to a folder with the four "
                       "*-ubyte.gz files (docs/data.md); none was found"}
        return
    server = request.getfixturevalue("homework_lab")
    context = request.getfixturevalue("homework_context")
    folder = server.root / HOMEWORK2
    folder.mkdir()
    shutil.copy2(REPO / "solutions" / HOMEWORK2 / f"{HOMEWORK2}.ipynb", folder / f"{HOMEWORK2}.ipynb")
    page = open_lab(context, server, f"lab/tree/{HOMEWORK2}/{HOMEWORK2}.ipynb")
    expect(page.locator(".lm-TabBar-tab.jp-mod-current", has_text=f"{HOMEWORK2}.ipynb")).to_be_visible()
    wait_for_kernel_idle(page)
    probe = StatusProbe(server)
    probe.start()
    started = time.monotonic()
    page.locator(".jp-NotebookPanel:visible .validate-button").click()
    state = {"page": page, "probe": probe, "started": started}
    yield state
    probe.stop()


# --- scenario 1 --------------------------------------------------------------------------------------------

def test_student_sees_no_instructor_tools(student_lab, student_context, capture_on_failure):
    page = open_lab(student_context, student_lab, "lab/workspaces/menus")
    capture_on_failure.append(page)
    entries = menu_entries(page, "Nbgrader")
    assert "Assignment List" in entries
    assert "Formgrader" not in entries and "Create assignment" not in entries, f"the Nbgrader menu offers {entries}"
    expect(page.get_by_role("tab", name="Create Assignment")).to_have_count(0)
    status, _ = student_lab.get("formgrader")
    assert status == 404, f"the student's server answers /formgrader with HTTP {status}"
    page.close()


def test_student_fetches_answers_validates_and_submits(course, student_lab, student_context, capture_on_failure,
                                                       flow):
    started = time.monotonic()
    page = open_lab(student_context, student_lab, "lab/workspaces/student")
    capture_on_failure.append(page)

    panel = open_assignment_list(page)
    released = assignment_row(panel, "released", ASSIGNMENT)
    released.get_by_role("button", name="Fetch").click()
    fetched = assignment_row(panel, "fetched", ASSIGNMENT)
    expect(fetched).to_be_visible(timeout=RUN_TIMEOUT_MS)
    expect(panel.locator("#released_assignments_list_placeholder")).to_be_visible()  # nothing left to fetch

    # the downloaded assignment unfolds to its notebook, which opens in a tab with a running kernel
    fetched.locator("a.assignment-notebooks-link").click()
    notebook_row = panel.locator("#fetched_assignments_list .nested_list_item", has_text=ASSIGNMENT)
    notebook_row.get_by_role("link", name=ASSIGNMENT).click()
    expect(page.locator(".lm-TabBar-tab.jp-mod-current", has_text=f"{ASSIGNMENT}.ipynb")).to_be_visible()
    notebook = page.locator(".jp-NotebookPanel:visible")
    wait_for_kernel_idle(page)

    run_cell(code_cell(notebook, "from nnkit.testing import"))
    solution = code_cell(notebook, f"def {EXERCISE}(")
    answer = solution_lines(REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", EXERCISE)
    assert len(answer) == 1, f"the scenario types a one-line answer; {EXERCISE}'s solution has {len(answer)} lines"
    replace_line(solution, "raise NotImplementedError()", answer[0])
    run_cell(solution)
    test_cell = code_cell(notebook, f'passed("{EXERCISE}")')
    run_cell(test_cell)
    expect(test_cell.locator(".jp-OutputArea-output")).to_have_text(f"✓ {EXERCISE}: visible checks passed\n")
    expect(test_cell.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
           ).to_have_count(0)

    written = markdown_cell(notebook, "Written answer (3 points)")
    type_markdown_answer(written, WRITTEN_ANSWER)
    expect(written.locator(".jp-RenderedMarkdown")).to_contain_text("is the line")
    save_notebook(page)
    record_timing("scenario 1: fetch, answer, test cell, save", time.monotonic() - started)

    validate_started = time.monotonic()
    page.locator(".jp-NotebookPanel:visible .validate-button").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog.locator(".jp-Dialog-header")).to_have_text("Validation Results", timeout=RUN_TIMEOUT_MS * 3)
    record_timing("scenario 1: Validate 01_perceptron (dialog shown)", time.monotonic() - validate_started)
    # One exercise answered: Validate names the unanswered ones, not the answered one.
    message = dialog.locator("#validation-message")
    expect(message).to_have_class(re.compile(r"\bvalidation-failed\b"))
    expect(message).to_contain_text("The following cell failed:")
    expect(message).to_contain_text('passed("mcculloch_pitts")')
    expect(message).not_to_contain_text(f'passed("{EXERCISE}")')
    dialog.get_by_role("button", name="Ok").click()
    expect(dialog).to_have_count(0)

    panel = open_assignment_list(page)
    assignment_row(panel, "fetched", ASSIGNMENT).get_by_role("button", name="Submit").click()
    submitted = assignment_row(panel, "submitted", ASSIGNMENT)
    expect(submitted).to_be_visible(timeout=RUN_TIMEOUT_MS)
    expect(submitted).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"))
    flow["submitted"] = True
    flow["student_page"] = page
    record_timing("scenario 1: student, fetch to submit", time.monotonic() - started)


# --- scenario 3 --------------------------------------------------------------------------------------------

def formgrader_frame(page):
    return page.frame_locator(".jp-MainAreaWidget:visible iframe")


def test_instructor_grades_by_hand_and_returns_feedback(request, course, capture_on_failure, flow):
    if not flow.get("submitted"):
        pytest.skip("continues from the student's submission (scenario 1), which did not happen")
    instructor_lab = request.getfixturevalue("instructor_lab")
    instructor_context = request.getfixturevalue("instructor_context")
    started = time.monotonic()
    output = course.nngrade("collect").stdout
    assert f"collected {STUDENT_ID} / {ASSIGNMENT}" in output, output
    grading = course.nngrade("grade").stdout
    record_timing("scenario 3: collect and autograde (nngrade CLI)", time.monotonic() - started)
    assert course.notebook_path("feedback", STUDENT_ID).is_file(), grading

    page = open_lab(instructor_context, instructor_lab, "lab/workspaces/instructor")
    capture_on_failure.append(page)
    run_menu_command(page, "Nbgrader", "Formgrader")
    formgrader = formgrader_frame(page)
    breadcrumbs = formgrader.locator(".breadcrumb li")
    formgrader.get_by_role("link", name="Manual Grading").click()
    expect(breadcrumbs).to_have_text(["Manual Grading"])
    formgrader.locator("table").get_by_role("link", name=ASSIGNMENT, exact=True).click()
    expect(breadcrumbs).to_have_text(["Manual Grading", ASSIGNMENT])
    formgrader.locator("table").get_by_role("link", name=ASSIGNMENT, exact=True).click()  # its notebook
    expect(breadcrumbs).to_have_text(["Manual Grading", ASSIGNMENT, ASSIGNMENT])
    formgrader.get_by_role("link", name="Submission #1").click()

    # the autograded exercise shows its score; the written answer waits for a grade
    expect(formgrader.locator(f"input.score#test_{EXERCISE}")).to_have_attribute("placeholder", "2",
                                                                                timeout=RUN_TIMEOUT_MS)
    expect(formgrader.locator(".cell", has_text="is the line").first).to_be_visible()
    score = formgrader.locator(f"input.score#{WRITTEN}")
    comment = formgrader.locator(f"textarea#{WRITTEN}-comment")
    with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT"
                              ) as saved_score:
        score.fill(MANUAL_SCORE)
        score.press("Tab")
    assert saved_score.value.ok
    with page.expect_response(lambda r: "/formgrader/api/comment/" in r.url and r.request.method == "PUT"
                              ) as saved_comment:
        comment.fill(MANUAL_COMMENT)
        comment.press("Tab")
    assert saved_comment.value.ok

    formgrader.locator("body").evaluate("body => { body.dataset.beforeReload = 'yes'; window.location.reload(); }")
    expect(formgrader.locator("body[data-before-reload]")).to_have_count(0)  # a new page, not the old one
    expect(formgrader.locator(f"input.score#{WRITTEN}")).to_have_value(MANUAL_SCORE, timeout=RUN_TIMEOUT_MS)
    expect(formgrader.locator(f"textarea#{WRITTEN}-comment")).to_have_value(MANUAL_COMMENT)
    record_timing("scenario 3: formgrader, manual grade persisted", time.monotonic() - started)

    course.nbgrader("generate_feedback", ASSIGNMENT, "--force")  # the feedback now holds the manual grade
    returned = course.nngrade("return-feedback").stdout
    assert f"returned feedback {STUDENT_ID} / {ASSIGNMENT}" in returned, returned

    student_page = flow["student_page"]
    panel = open_assignment_list(student_page)
    submitted = assignment_row(panel, "submitted", ASSIGNMENT)
    submitted.get_by_role("button", name="Fetch Feedback").click()
    view = submitted.get_by_text("(view feedback)")
    expect(view).to_be_visible(timeout=RUN_TIMEOUT_MS)
    view.click()
    feedback_file = student_page.locator(".jp-DirListing-item", has_text=f"{ASSIGNMENT}.html")
    expect(feedback_file).to_be_visible()
    feedback_file.click(button="right")
    with student_page.context.expect_page() as opened:
        student_page.locator(".lm-Menu:visible").get_by_role("menuitem", name="Open in New Browser Tab").click()
    feedback = opened.value
    capture_on_failure.append(feedback)
    feedback.wait_for_load_state()
    expect(feedback.locator("body")).to_contain_text(MANUAL_COMMENT)
    expect(feedback.locator("body")).to_contain_text(f"{ASSIGNMENT}")
    flow["feedback_url"] = feedback.url
    feedback.close()
    record_timing("scenario 3: instructor, collect to the student's feedback", time.monotonic() - started)


# --- scenario 4 --------------------------------------------------------------------------------------------

def test_feedback_renders_math_offline(student_lab, student_context, capture_on_failure, flow):
    if not flow.get("feedback_url"):
        pytest.skip("continues from the returned feedback (scenario 3), which did not happen")
    student_lab.blocked.clear()
    page = student_context.new_page()
    capture_on_failure.append(page)
    page.goto(flow["feedback_url"])
    typeset = page.locator(".MathJax, .MathJax_CHTML, .MathJax_SVG, mjx-container")
    expect(typeset.first).to_be_attached()
    # MathJax typesets the page from top to bottom: wait until no markdown cell holds TeX source
    # (code may hold dollars: a matplotlib label is no formula of the page)
    markdown = page.locator(".text_cell_render")
    expect(markdown.first).to_be_visible()
    expect(markdown.filter(has_text=STRAY_MATH)).to_have_count(0, timeout=RUN_TIMEOUT_MS)
    expect(markdown.filter(has_text="is the line").locator(".MathJax, .MathJax_CHTML")).not_to_have_count(0)
    assert typeset.count() >= 10, f"only {typeset.count()} typeset formulas"
    assert student_lab.blocked == [], f"the feedback page reached for the network: {student_lab.blocked}"
    page.close()


# --- scenario 2, awaited last ------------------------------------------------------------------------------

def test_student_validates_homework_2(homework2_validation, capture_on_failure):
    if homework2_validation is None or "skip" in homework2_validation:
        pytest.skip(homework2_validation["skip"] if homework2_validation else "not selected")
    page, probe = homework2_validation["page"], homework2_validation["probe"]
    capture_on_failure.append(page)
    dialog = page.locator(".jp-Dialog")
    try:
        expect(dialog.locator(".jp-Dialog-header")).to_have_text("Validation Results",
                                                                 timeout=HOMEWORK2_VALIDATE_MS)
    finally:
        probe.stop()
    record_timing("scenario 2: Validate homework 2 (dialog shown)", time.monotonic() - homework2_validation["started"])
    assert probe.delays, "the server was never asked for its status while Validate ran"
    slowest = max(probe.delays)
    record_timing("scenario 2: slowest /api/status during Validate", slowest)

    problems = []  # all of them at once: a stalled server and a false failure are separate faults
    if probe.failures:
        problems.append(f"/api/status failed while Validate ran: {probe.failures[:3]}")
    if slowest >= RESPONSIVE_SECONDS:
        problems.append(f"the server stalled while Validate ran: /api/status took {slowest:.1f} s "
                        f"(asked {len(probe.delays)} times)")
    message = dialog.locator("#validation-message").inner_text()
    if message.strip() != "Success! Your notebook passes all the tests.":
        problems.append(f"Validate failed the correct homework 2:\n{message[:3000]}")
    assert not problems, "\n".join(problems)
