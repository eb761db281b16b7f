"""The course on disk: folders, assignments discovered from ``source/``, and nbgrader's configuration.

Every command works on a *course root* (the repository by default; tests and the self-test use
temporary copies). The nbgrader settings always come from the repository's ``nbgrader_config.py``,
then from the file named by ``$NNCOURSE_CONFIG`` when set (its settings win: e.g. other limits for
one run); only the root, the gradebook and the per-assignment timeout are overridden here.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from . import notebooks

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_FILE = REPO_ROOT / "nbgrader_config.py"


def load_nbgrader_config() -> Config:
    """The settings of ``nbgrader_config.py``, then of ``$NNCOURSE_CONFIG`` if set, as a traitlets ``Config``."""
    config = PyFileConfigLoader(CONFIG_FILE.name, path=str(CONFIG_FILE.parent)).load_config()
    extra = os.environ.get("NNCOURSE_CONFIG")
    if extra:
        path = Path(extra).resolve()
        config.merge(PyFileConfigLoader(path.name, path=str(path.parent)).load_config())
    return config


def printable(text) -> str:
    """``text`` as one line a terminal shows as it is: every control or format character (newline,
    carriage return, escape codes, bidirectional overrides, ...) written as its Python escape
    (``\\n``, ``\\x1b``, ``\\u202e``). Applied to everything the commands print that may hold text of a submission."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def warnings_to_stdout() -> None:
    """Show library warnings on stdout (the commands keep stderr clean), one `printable` line each;
    drop nbgrader's known noise."""
    from sqlalchemy.exc import SAWarning

    def show(message, category, filename, lineno, file=None, line=None):
        print(printable(warnings.formatwarning(message, category, filename, lineno, line).rstrip("\n")))

    warnings.showwarning = show
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", SAWarning)  # nbgrader's gradebook session autoflush notices


def failure_reason(log: str) -> str:
    """The most specific line of an nbgrader failure log (the exception that stopped it)."""
    exception_lines = re.findall(r"^\s*((?:[\w.]+\.)?\w*(?:Error|Exception|Exit)\b:?.*)$", log, re.MULTILINE)
    specific = [line.strip() for line in exception_lines if "Please see the" not in line]
    if specific:
        return specific[-1][:300]
    errors = [line for line in log.splitlines() if "[ERROR]" in line]
    return (errors[-1] if errors else "nbgrader failed without a message").strip()[:300]


def quiet_logger() -> logging.Logger:
    """A logger for nbgrader's apps that writes nowhere: ``capture_log`` collects what we report."""
    logger = logging.getLogger("nngrade.nbgrader")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    return logger


@dataclass(frozen=True)
class Course:
    """A course root laid out as nbgrader expects (see ``nbgrader_config.py``)."""

    root: Path
    db_url: str | None = None  # None: the config's (sqlite:///<root>/gradebook.db unless NNCOURSE_DB_URL)

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root).resolve())

    def folder(self, step: str) -> Path:
        """``source``, ``release``, ``submitted``, ``autograded``, ``feedback`` or ``solutions``."""
        return self.root / step

    def assignments(self) -> list[str]:
        """Assignment names: every ``source/<name>/`` holding ``<name>.ipynb``, sorted."""
        source = self.folder("source")
        if not source.is_dir():
            return []
        return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file())

    def notebook(self, step: str, assignment: str, student: str | None = None) -> Path:
        """The notebook of ``assignment`` in a step folder (per student for submitted/autograded/feedback)."""
        folder = self.folder(step) / student if student else self.folder(step)
        suffix = ".html" if step == "feedback" else ".ipynb"
        return folder / assignment / f"{assignment}{suffix}"

    def source_notebook(self, assignment: str):
        return notebooks.read(self.notebook("source", assignment))

    def mutants_file(self, assignment: str) -> Path:
        return self.root / "tests" / "mutants" / f"{assignment}.py"

    def timeout(self, assignment: str) -> int:
        """The time limit of the cells of ``assignment`` that ask for none of their own: the source
        notebook's ``metadata.nncourse.timeout``, else the configured ``Execute.timeout``."""
        default = load_nbgrader_config().Execute.timeout
        return notebooks.notebook_timeout(self.source_notebook(assignment), default)

    def cell_limits(self, assignment: str) -> notebooks.CellLimits:
        """Every cell's time limit in ``assignment``, from its source notebook (``notebooks.CellLimits``)."""
        default = load_nbgrader_config().Execute.timeout
        return notebooks.CellLimits.of_source(self.source_notebook(assignment), default)

    def config(self, assignment: str | None = None) -> Config:
        config = load_nbgrader_config()
        config.CourseDirectory.root = str(self.root)
        if self.db_url:
            config.CourseDirectory.db_url = self.db_url
        if assignment is not None:
            config.Execute.timeout = self.timeout(assignment)
        return config

    def api(self, assignment: str | None = None):
        """nbgrader's Python API for this course, logging into the void (results carry the log)."""
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        config = self.config(assignment)
        api = NbGraderAPI(CourseDirectory(config=config), config=config)
        api.log = quiet_logger()
        return api
