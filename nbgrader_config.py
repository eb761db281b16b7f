"""nbgrader settings of the course, read by every `nbgrader` app and by `python -m nngrade`.

`docs/grading.md` explains each choice. Run nbgrader through the make targets (`make release`,
`make grade`, `make check`, `make demo`): they set PYTHONPATH=lib, which this file and the grading
kernels need (hidden tests import the reference `nnref` and `nngrade.hidden`).
`python -m nngrade` then reads the file named by $NNCOURSE_CONFIG, if set, whose settings win
(e.g. `c.Sandbox.total_memory_bytes = 4 * 2**30` for one run; the tests set low limits that way).
"""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import nbgrader  # noqa: E402
import nngrade  # noqa: E402
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    DeduplicateIds,
    GetGrades,
    IgnorePattern,
    IncludeHeaderFooter,
    LimitOutput,
    LockCells,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)
from nngrade.exchange import exchange_root  # noqa: E402
from nngrade.kernel import GradingExecute  # noqa: E402
from nngrade.notebooks import HideTestTracebacks  # noqa: E402
from nngrade.restore import RestoreTestCells  # noqa: E402

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

# --- course and folders (nbgrader's layout; the gradebook lives in the course root) -------------
c.CourseDirectory.course_id = "nn-foundations"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.solution_directory = "solutions"
# The exchange (nbgrader's default, a folder): students fetch and submit through it, `make publish`,
# `make collect` and `make return-feedback` use it. $NNCOURSE_EXCHANGE, else
# ~/.local/share/nncourse/exchange; `make setup` creates it. A shared one: docs/jupyterhub.md.
c.Exchange.root = str(exchange_root())
# Default: sqlite:///<course root>/gradebook.db. For many graders or parallel grading use PostgreSQL,
# e.g. NNCOURSE_DB_URL=postgresql://grader:secret@dbhost/nncourse (docs/grading.md).
# SQLAlchemy 2.1 maps a bare postgresql:// to the psycopg 3 driver; the course installs psycopg2.
if os.environ.get("NNCOURSE_DB_URL"):
    c.CourseDirectory.db_url = re.sub(r"^postgresql://", "postgresql+psycopg2://", os.environ["NNCOURSE_DB_URL"])

# --- execution ------------------------------------------------------------------------------------
# Lecture notebooks run in under 25 s in total; 60 s per cell leaves room for a slow machine.
# A notebook may raise its own limit with metadata {"nncourse": {"timeout": <seconds>}}
# (homework 2 trains for minutes); `python -m nngrade` applies it per assignment.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
# The whole notebook: a submission that ignores interrupts or loops cell after cell stops here.
c.GradingExecute.submission_timeout = 1800
# Per submission, before and around nbgrader (nngrade.grade.SubmissionLimits): a notebook over 20 MiB
# or with more than 2000 cells is reported NOT GRADED before anything opens it; each submission's
# whole grading (checks, sanitising, the 1800 s above, feedback) runs in a process of its own that is
# stopped after `timeout` seconds, reported NOT GRADED, and the batch goes on.
c.SubmissionLimits.max_notebook_bytes = 20 * 2**20
c.SubmissionLimits.max_cells = 2000
c.SubmissionLimits.timeout = 2100
# Sandbox (docs/threat-model.md): grading kernels run in bubblewrap with a scratch copy of the
# submission, no network and resource limits. On with NNCOURSE_SANDBOX=1, which `make grade` sets
# (students' code); `make check` and `make demo` run the course's own code and leave it off.
c.Sandbox.enabled = os.environ.get("NNCOURSE_SANDBOX", "0") == "1"
# Per kernel process (prlimit): CPU seconds, address space, processes of the sandbox user, file size.
c.Sandbox.cpu_seconds = 1800
c.Sandbox.memory_bytes = 8 * 2**30
c.Sandbox.processes = 256
c.Sandbox.file_bytes = 256 * 2**20
# Per submission: all its memory, 8 GiB = the memory-backed /tmp (256 MiB) and home (512 MiB: the copy
# of the submission folder and all it writes) + what all its kernel's processes hold together, which
# the grader measures 4 times a second and kills the kernel beyond (flag `resource_limit`). Nothing
# else it can write is on the grader's disk but its socket folder, which must hold sockets only.
c.Sandbox.total_memory_bytes = 8 * 2**30
c.Sandbox.tmp_bytes = 256 * 2**20
c.Sandbox.home_bytes = 512 * 2**20
c.Sandbox.watch_seconds = 0.25
# Grading kernels: PYTHONPATH=lib, NNCOURSE_GRADING=1, MPLBACKEND=Agg, optional sandbox launcher
# (c.CourseKernelManager.launcher = [...]). nbgrader's own list, with Execute swapped.
c.Autograde.autograde_preprocessors = [
    GradingExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]

# --- per-cell time limits (shared with Validate in JupyterLab) ------------------------------------------
# A long cell carries its own limit, {"nncourse": {"timeout": s}} in its metadata (nnkit.lab); every other
# cell gets c.Execute.timeout. `nbgrader validate` reads it here; the grader takes the limits from the
# source notebook instead (nngrade.notebooks.CellLimits), so a submission cannot raise its own.
from nnkit.lab import cell_timeouts  # noqa: E402

c.Execute.timeout_func = cell_timeouts(c.Execute.timeout)

# --- autograding ------------------------------------------------------------------------------------
# A student who deleted a test cell gets it back (and is graded on it) instead of silently losing it.
c.OverwriteCells.add_missing_cells = True
# nbgrader's sanitizing with RestoreTestCells first: it puts back edited, deleted, stripped, duplicated
# and renamed test cells and flags each (nbgrader's steps would fail the submission on the last two).
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    RestoreTestCells,
    DeduplicateIds,
    OverwriteKernelspec,
    OverwriteCells,
    CheckCellMetadata,
]
# nbgrader scores a test cell 0 when anything reaches stderr. Library warnings (DeprecationWarning,
# RuntimeWarning from an overflowing exp, ...) do not make an answer wrong: drop those outputs.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"\b\w*Warning: "
# Grading flags (nngrade.flags: dead kernel, tampering, edited test cells) live in the notebook's
# metadata until nngrade records them in the gradebook and the export.
c.ClearMetadataPreprocessor.preserve_nb_metadata_mask = {("language_info", "name"), "nncourse"}
# Keep feedback readable and the gradebook small when a submission prints in a loop.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 40

# --- solutions and feedback never show hidden tests ----------------------------------------------------
c.GenerateSolution.preprocessors = [IncludeHeaderFooter, LockCells, ClearOutput, ClearMarkScheme, ClearHiddenTests]
# Written answers (`written_<topic>` markdown answer cells) may carry their rubric in a
# "=== BEGIN MARK SCHEME ===" region. nbgrader only accepts those in task cells and would refuse to
# build the solutions; removing the rubric from an answer cell is exactly what we want there.
c.ClearMarkScheme.enforce_metadata = False
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, HideTestTracebacks, CSSHTMLHeaderPreprocessor]


# --- math offline: MathJax served by the Jupyter server (jupyter-server-mathjax), never a CDN --------------
# The formgrader and the feedback pages call nbconvert's `mathjax()` macro without a URL, which means a
# CDN; lib/nngrade/templates/base/mathjax.html.j2 replaces that macro and loads
# <server>/static/jupyter_server_mathjax/MathJax.js from the server that shows the page. nbgrader's own
# templates come next (setting the list replaces nbgrader's default, which is that folder alone).
c.HTMLExporter.extra_template_basedirs = [
    os.path.join(os.path.dirname(nngrade.__file__), "templates"),
    os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader", "templates"),
]
c.HTMLExporter.mathjax_url = "static/jupyter_server_mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
