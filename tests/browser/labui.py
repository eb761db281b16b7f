"""What a user does in JupyterLab, step by step, through the page (menus, buttons, the notebook's cells).

Every step waits on what the page shows (Playwright's auto-waiting `expect`), never on a fixed delay.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import UI_TIMEOUT_MS, LabServer
from playwright.sync_api import Locator, Page, expect

# A kernel that is busy with the grader, a fetch or another user's Validate answers late.
RUN_TIMEOUT_MS = 120_000
# A cell that was sent to the kernel shows `[*]` at once, whatever the kernel is doing.
QUEUED_TIMEOUT_MS = 15_000


def open_lab(context, server: LabServer, path: str = "lab") -> Page:
    """A new tab on the server's JupyterLab, returned once the workspace and its menu bar are shown."""
    page = context.new_page()
    # JupyterLab now and then asks for the kernel when a notebook opens on a busy machine; a user accepts
    # the preselected one, the notebook's own, whenever the dialog covers the page before an action.
    page.add_locator_handler(page.locator(".jp-Dialog", has_text="Select Kernel"),
                             lambda dialog: dialog.get_by_role("button", name="Select").click())
    page.goto(server.lab_url(path))
    expect(page.locator("#jp-main-dock-panel")).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(main_menu(page, "File")).to_be_visible()
    return page


def main_menu(page: Page, title: str) -> Locator:
    """A title of the main menu bar (File, Edit, ..., Nbgrader, ...)."""
    return page.get_by_role("menubar").get_by_role("menuitem", name=title, exact=True)


def menu_entries(page: Page, title: str) -> list[str]:
    """The entries of one main menu, read from the open menu, which is closed again."""
    main_menu(page, title).click()
    menu = page.locator(".lm-Menu:visible")
    entries = menu.get_by_role("menuitem")  # hidden entries (`lm-mod-hidden`) are not menu items to a user
    expect(entries.first).to_be_visible()
    labels = [label.strip() for label in entries.all_inner_texts()]
    menu.press("Escape")
    expect(menu).to_have_count(0)
    return labels


def run_menu_command(page: Page, title: str, entry: str) -> None:
    """Click `title` in the menu bar, then its entry `entry`."""
    main_menu(page, title).click()
    page.locator(".lm-Menu:visible").get_by_role("menuitem", name=entry, exact=True).click()


def open_assignment_list(page: Page) -> Locator:
    """Nbgrader ▸ Assignment List; the panel, once its three lists have loaded."""
    run_menu_command(page, "Nbgrader", "Assignment List")
    panel = page.locator("#nbgrader-assignment-list")
    expect(panel).to_be_visible()
    for listing in ("released", "fetched", "submitted"):
        expect(panel.locator(f"#{listing}_assignments_list_loading")).to_be_hidden(timeout=RUN_TIMEOUT_MS)
    return panel


def assignment_row(panel: Locator, listing: str, assignment: str) -> Locator:
    """The row of `assignment` in the Released (`released`), Downloaded (`fetched`) or Submitted
    (`submitted`) list of the Assignment List."""
    return panel.locator(f"#{listing}_assignments_list > .list_item", has_text=assignment)


# --- notebooks -----------------------------------------------------------------------------------------

def wait_for_kernel_idle(page: Page) -> None:
    """The notebook's kernel indicator says Idle (its kernel started and has nothing queued)."""
    expect(page.locator(".jp-NotebookPanel:visible .jp-Notebook-ExecutionIndicator[data-status='idle']")
           ).to_have_count(1, timeout=RUN_TIMEOUT_MS)


def code_cell(panel: Locator, contains: str) -> Locator:
    """The code cell whose source contains `contains` (the first one)."""
    return panel.locator(".jp-CodeCell").filter(
        has=panel.page.locator(".jp-InputArea-editor", has_text=contains)).first


def markdown_cell(panel: Locator, contains: str) -> Locator:
    """The markdown cell whose text contains `contains` (the first one)."""
    return panel.locator(".jp-MarkdownCell", has_text=contains).first


def type_markdown_answer(cell: Locator, answer: str) -> None:
    """Open a written-answer cell for editing (double click), type `answer` over `YOUR ANSWER HERE`
    and render the cell again (Shift+Enter)."""
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-RenderedMarkdown").dblclick()
    expect(cell.locator(".cm-content")).to_be_visible()
    replace_line(cell, "YOUR ANSWER HERE", answer)
    cell.page.keyboard.press("Shift+Enter")
    expect(cell.locator(".jp-RenderedMarkdown")).to_be_visible()


def replace_line(cell: Locator, old_line: str, new_text: str) -> None:
    """In the cell's editor, select the line that reads `old_line` and type `new_text` over it."""
    line = cell.locator(".cm-line", has_text=old_line).first
    line.scroll_into_view_if_needed()
    line.click()
    page = cell.page
    page.keyboard.press("End")
    page.keyboard.press("Shift+Home")  # CodeMirror: to the line's first character after the indentation
    page.keyboard.type(new_text)
    expect(cell.locator(".cm-content")).to_contain_text(new_text)


def run_cell(cell: Locator, attempts: int = 4) -> None:
    """Select the cell, Shift+Enter, and wait until it ran (an execution count instead of `[*]`).

    Right after a notebook opens, JupyterLab can show its kernel as idle while the session is still
    connecting; a Shift+Enter then only moves the selection and the prompt stays `[ ]`, as a student
    would see and simply press again. So does this: until the cell is queued (`[*]`) or has run."""
    prompt = cell.locator(".jp-InputPrompt")
    for attempt in range(attempts):
        prompt.scroll_into_view_if_needed()
        prompt.click()
        cell.page.keyboard.press("Shift+Enter")
        try:
            expect(prompt).to_have_text(re.compile(r"\[(\*|\d+)\]:"), timeout=QUEUED_TIMEOUT_MS)
            break
        except AssertionError:
            if attempt == attempts - 1:
                raise
    expect(prompt).to_have_text(re.compile(r"\[\d+\]:"), timeout=RUN_TIMEOUT_MS)


def save_notebook(page: Page) -> None:
    """Ctrl+S in the active notebook, waiting until its tab no longer shows unsaved changes."""
    page.keyboard.press("Control+s")
    expect(page.locator(".jp-mod-current.jp-mod-dirty")).to_have_count(0, timeout=UI_TIMEOUT_MS)


# --- reading the course's notebooks ------------------------------------------------------------------------

def solution_lines(notebook: Path, grade_id: str) -> list[str]:
    """The lines of a solution cell between `### BEGIN SOLUTION` and `### END SOLUTION`, dedented."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    cell = next(cell for cell in cells if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)
    source = "".join(cell["source"]).splitlines()
    begin = next(i for i, line in enumerate(source) if line.strip() == "### BEGIN SOLUTION")
    end = next(i for i, line in enumerate(source) if line.strip() == "### END SOLUTION")
    return [line.strip() for line in source[begin + 1:end]]
