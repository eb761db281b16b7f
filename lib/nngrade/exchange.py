"""nbgrader's exchange for the course: where it is, and the instructor's three steps through it.

The exchange is the folder through which students fetch assignments, submit them and fetch their
feedback (nbgrader's default exchange: plain files, so students and instructors must all reach the
folder). It is ``$NNCOURSE_EXCHANGE`` when set, else ``~/.local/share/nncourse/exchange``
(``$XDG_DATA_HOME/nncourse/exchange``), for the instructor (``nbgrader_config.py``) and in the
student configuration written by ``make student-env``. ``docs/jupyterhub.md`` describes a shared one.

The steps (``make publish``, ``make collect``, ``make return-feedback``) run nbgrader's own exchange
apps (``release_assignment``, ``collect``, ``release_feedback``) through its Python API, one
assignment at a time, and print one line per assignment or submission.
"""

from __future__ import annotations

import json

import os
from pathlib import Path

from . import release
from .config import Course, failure_reason, load_nbgrader_config, printable


def exchange_root() -> Path:
    """The exchange folder: ``$NNCOURSE_EXCHANGE``, else ``$XDG_DATA_HOME/nncourse/exchange``."""
    if os.environ.get("NNCOURSE_EXCHANGE"):
        return Path(os.environ["NNCOURSE_EXCHANGE"]).expanduser().resolve()
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return (data_home / "nncourse" / "exchange").resolve()


def prepare(root: Path | None = None) -> str:
    """Create the exchange folder if it is missing; what was done, as a line to print."""
    root = exchange_root() if root is None else root
    if root.is_dir():
        return f"exchange: {root} (course id {course_id()})"
    root.mkdir(parents=True)
    return (f"exchange: created {root} (course id {course_id()}); students of a shared machine need write "
            "access to it, see docs/jupyterhub.md")


def course_id() -> str:
    return load_nbgrader_config().CourseDirectory.course_id


def published(course: Course) -> set[str]:
    """Assignments already in the exchange's ``outbound`` folder of the course."""
    outbound = exchange_root() / course_id() / "outbound"
    return {folder.name for folder in outbound.iterdir() if folder.is_dir()} if outbound.is_dir() else set()


def publish(course: Course, assignments=None, *, force: bool = False, out=print) -> int:
    """``nbgrader release_assignment`` for each assignment of ``release/`` (default: all): students can
    fetch it. An assignment already in the exchange is left as it is unless ``force`` (students who
    fetched it keep their copy). Returns the exit status: 1 when an assignment could not be published."""
    names = course.assignments() if assignments is None else list(assignments)
    unknown = [name for name in names if not course.notebook("release", name).is_file()]
    for name in unknown:
        out(printable(f"NOT PUBLISHED {name}: {course.notebook('release', name)} is missing (make release)"))
    names = [name for name in names if name not in unknown]
    out(prepare())
    failed = bool(unknown)
    unregistered = release.register(course, names)  # the gradebook knows each assignment before students submit
    already = published(course)
    api = course.api()
    for name in names:
        if name in unregistered:
            out(printable(f"NOT PUBLISHED {name}: {unregistered[name]}"))
            failed = True
            continue
        if name in already and not force:
            out(f"already published {name} (FORCE=1 replaces it; students who fetched it keep their copy)")
            continue
        if name in already:
            api.unrelease(name)
        result = api.release_assignment(name)
        if result["success"]:
            out(f"published {name}")
        else:
            out(printable(f"NOT PUBLISHED {name}: {failure_reason(result.get('log', '') + result.get('error', ''))}"))
            failed = True
    return 1 if failed else 0


def inbound_submissions(course: Course) -> dict[str, list[str]]:
    """``{assignment: [student, ...]}`` of the submissions waiting in the exchange's ``inbound`` folder
    (nbgrader names each ``<student>+<assignment>+<timestamp>[+<random>]``)."""
    inbound = exchange_root() / course_id() / "inbound"
    found: dict[str, set[str]] = {}
    if inbound.is_dir():
        for folder in inbound.iterdir():
            parts = folder.name.split("+")
            if folder.is_dir() and len(parts) >= 3:
                found.setdefault(parts[1], set()).add(parts[0])
    return {assignment: sorted(students) for assignment, students in sorted(found.items())}


def collect(course: Course, *, out=print) -> int:
    """``nbgrader collect --update`` for every assignment with submissions in the exchange: each
    student's latest submission lands in ``submitted/<student>/<assignment>/``. Returns the exit status."""
    out(prepare())
    waiting = inbound_submissions(course)
    if not waiting:
        out(f"no submissions in {exchange_root() / course_id() / 'inbound'}")
        return 0
    known = set(course.assignments())
    api = course.api()
    failed = False
    for assignment, students in waiting.items():
        if assignment not in known:
            out(printable(f"NOT COLLECTED {assignment}: no such assignment in source/ "
                          f"(submitted by {', '.join(students)})"))
            failed = True
            continue
        result = api.collect(assignment, update=True)
        if not result["success"]:
            out(printable(f"NOT COLLECTED {assignment}: "
                          f"{failure_reason(result.get('log', '') + result.get('error', ''))}"))
            failed = True
            continue
        for student in students:
            out(printable(f"collected {student} / {assignment} -> "
                          f"{course.notebook('submitted', assignment, student).parent}"))
    out("next: make grade")
    return 1 if failed else 0


def return_feedback(course: Course, *, out=print) -> int:
    """``nbgrader release_feedback`` for every feedback page of a submission that came through the
    exchange (its folder has nbgrader's ``submission_secret.txt``); the student fetches it from the
    Assignment List. Other feedback (e.g. ``make demo``'s simulated class) is named, not released."""
    out(prepare())
    feedback = course.folder("feedback")
    pages = sorted(feedback.glob("*/*/*.html")) if feedback.is_dir() else []
    if not pages:
        out(f"no feedback in {feedback} (make grade writes it)")
        return 0
    api = course.api()
    failed = False
    for page in pages:
        folder = page.parent
        student, assignment = folder.parent.name, folder.name
        if not (folder / "submission_secret.txt").is_file():
            out(printable(f"skipped {student} / {assignment}: not submitted through the exchange; "
                          f"hand {page} to the student"))
            continue
        result = api.release_feedback(assignment, student)
        if result["success"]:
            out(printable(f"returned feedback {student} / {assignment}"))
        else:
            out(printable(f"NOT RETURNED {student} / {assignment}: "
                          f"{failure_reason(result.get('log', '') + result.get('error', ''))}"))
            failed = True
    return 1 if failed else 0


# The student's nbgrader settings, written to <venv>/etc/jupyter/nbgrader_config.py by `make student-env`
# (nbgrader reads that folder in every app of the environment: Assignment List, Validate, the CLI).
STUDENT_CONFIG = '''\
"""nbgrader settings of the Neural Network Foundations course, for students (written by `make student-env`).

Where assignments are fetched from and submitted to: the course's exchange. Set NNCOURSE_EXCHANGE to
use another one (your instructor tells you which); docs/jupyterhub.md in the course repository explains.
"""

import os

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = os.environ.get("NNCOURSE_EXCHANGE") or {exchange!r}

# Validate gives each cell the grader's default time limit, in seconds, and a long cell the limit in its
# metadata, {{"nncourse": {{"timeout": s}}}}, as the grader does.
from nnkit.lab import cell_timeouts

c.Execute.timeout = {timeout!r}
c.Execute.timeout_func = cell_timeouts({timeout!r})
'''


def write_student_config(prefix: Path, exchange: Path | None = None) -> Path:
    """Write the student's nbgrader settings into the environment at ``prefix`` (a venv), naming
    ``exchange`` (default: `exchange_root`); the file written."""
    config = load_nbgrader_config()
    exchange = exchange_root() if exchange is None else Path(exchange)
    path = Path(prefix) / "etc" / "jupyter" / "nbgrader_config.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STUDENT_CONFIG.format(course_id=config.CourseDirectory.course_id, exchange=str(exchange),
                                          timeout=config.Execute.timeout), encoding="utf-8")
    return path


def enable_course_validate(prefix: Path) -> Path:
    """Make the environment at ``prefix`` (a venv) serve Validate through ``nnkit.lab``: it runs each
    Validate in a process of its own, so JupyterLab stays responsive, with the per-cell time limits.
    Writes the server-extension settings file that a package would install; the file written.
    (nbgrader's own ``validate_assignment`` extension is disabled by ``make setup``/``make student-env``;
    ``nnkit.lab`` routes ahead of it even when it is not.)"""
    path = Path(prefix) / "etc" / "jupyter" / "jupyter_server_config.d" / "nnkit.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"ServerApp": {"jpserver_extensions": {"nnkit.lab": True}}}, indent=2) + "\n",
                    encoding="utf-8")
    return path
