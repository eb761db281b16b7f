"""The committed release/ and solutions/ are exactly what `make release` builds from source/."""

from nngrade import release
from nngrade.config import REPO_ROOT, Course


def test_release_and_solutions_are_up_to_date_with_source():
    course = Course(REPO_ROOT)
    assert course.assignments(), "source/ has no assignments"
    stale = release.stale_files(course)
    assert stale == [], "run `make release` and commit release/ and solutions/; stale: " + ", ".join(stale)
