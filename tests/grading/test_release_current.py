"""The committed release/ and solutions/ are exactly what `make release` builds from source/, and every
assignment folder of both carries the student conventions page as ``conventions.md``."""

import shutil
from pathlib import Path

from nngrade import release
from nngrade.config import REPO_ROOT, Course


def test_release_and_solutions_are_up_to_date_with_source():
    course = Course(REPO_ROOT)
    assert course.assignments(), "source/ has no assignments"
    stale = release.stale_files(course)
    assert stale == [], "run `make release` and commit release/ and solutions/; stale: " + ", ".join(stale)


def test_a_build_copies_the_student_conventions_page_next_to_both_notebooks(tmp_path: Path):
    assignment = "01_perceptron"
    course = Course(tmp_path, db_url=f"sqlite:///{tmp_path}/gradebook.db")
    shutil.copytree(REPO_ROOT / "source" / assignment, course.folder("source") / assignment)
    if (REPO_ROOT / "gradebook.db").is_file():  # saves nbgrader's slow creation of a new gradebook
        shutil.copy2(REPO_ROOT / "gradebook.db", tmp_path / "gradebook.db")
    page = (REPO_ROOT / "docs" / "student-conventions.md").read_bytes()
    for _ in range(2):  # a second build over the first one (nbgrader's force) keeps the page
        release.build(course, [assignment])
        for step in ("release", "solutions"):
            copied = course.folder(step) / assignment / "conventions.md"
            assert copied.is_file(), f"{step}/{assignment}/conventions.md is missing"
            assert copied.read_bytes() == page, f"{step}/{assignment}/conventions.md differs from the page"
