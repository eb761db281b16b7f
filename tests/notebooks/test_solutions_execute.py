"""Every solution notebook runs cleanly as a student would run it, and says what its own output says.

Each ``solutions/<a>/<a>.ipynb`` is executed once, top to bottom, in a temporary copy of its folder and a
fresh kernel whose environment has no ``PYTHONPATH`` (like a student's: the installed ``nnkit`` only, neither
``nnref`` nor ``nngrade``), with the per-cell time limits of contract 1 (``nnkit.lab.cell_timeouts``) and
``NNCOURSE_MNIST_DIR`` from the environment. The module-scoped fixture keeps that one run, and the tests read it:

- no cell raised, nothing went to stderr, no output mentions a ``...Warning``, and no test cell ends with
  an ``Out[..]`` (contract 2);
- every quote marker ``<!-- quote: EXPR -->`` of the SOURCE notebook's markdown (contract 5), evaluated in
  that kernel after the run, gives exactly the text right before the marker;
- ``nbgrader validate`` accepts the executed notebook and prints no warning. nbgrader's validator is run
  in-process on the notebook as executed above (its checks of cell types, locked cells and failing test
  cells, without a second execution: the command-line ``nbgrader validate`` would run the notebook again).

Assignments that read MNIST (``{"nncourse": {"data": ["mnist"]}}``) are skipped, with the reason, only when
the MNIST files cannot be found.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import nbgrader
import pytest
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader.preprocessors import CheckCellMetadata
from nbgrader.validator import Validator

from nngrade import syllabus
from nngrade.kernel import THREAD_VARIABLES, student_environment
from nngrade.validate import parse_validate_output
from nnkit.lab import cell_timeouts

from notebook_parts import quotes, solution_notebook_path, source_cells

pytestmark = pytest.mark.slow

ASSIGNMENTS = [name for name in syllabus.COURSE_ORDER if solution_notebook_path(name).is_file()]
DEFAULT_CELL_TIMEOUT = 60  # seconds, as nbgrader_config.py's Execute.timeout, unless the notebook sets its own
WARNING_WORD = re.compile(r"\b\w*Warning\b")
RESULTS_PREFIX = "NNCOURSE-QUOTES "

# Evaluates the quote expressions in the notebook's namespace and prints the results as one JSON line;
# it leaves no name behind.
QUOTE_PROBE = """
def _nncourse_quotes(expressions):
    import json
    results = []
    for expression in expressions:
        try:
            value = eval(expression, globals())
        except Exception as error:
            results.append({"error": f"raises {type(error).__name__}: {error}"})
            continue
        if isinstance(value, str):
            results.append({"value": value})
        else:
            results.append({"error": f"gives a {type(value).__name__}, not a str: {value!r:.80}"})
    print(PREFIX + json.dumps(results))
_nncourse_quotes(EXPRESSIONS)
del _nncourse_quotes
"""


@dataclass
class Run:
    assignment: str
    notebook: nbformat.NotebookNode
    seconds: float
    stopped: str | None = None  # why the run ended before the last cell (a time limit, a dead kernel)
    quote_results: list = field(default_factory=list)
    quote_probe_problem: str | None = None


def needs_mnist(notebook) -> bool:
    return "mnist" in notebook.metadata.get("nncourse", {}).get("data", [])


def mnist_missing_reason() -> str | None:
    from nnkit.mnist import MNISTNotFoundError, find_mnist_dir

    try:
        find_mnist_dir()
    except MNISTNotFoundError as error:  # the loader's own report of where it looked
        return f"the MNIST files are missing ({type(error).__name__}: {str(error).splitlines()[0]})"
    return None


def kernel_environment() -> dict:
    env = student_environment()
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    # One thread each for numpy and torch: the quoted numbers were computed that way (a sum split over more
    # threads rounds differently, and a training run drifts), and it is the fastest on a shared machine.
    env.update({name: "1" for name in THREAD_VARIABLES})
    return env


def text_of(output) -> str:
    """All the text of one output: stream text, plain-text data, or an error with its traceback."""
    if output.output_type == "stream":
        return output.text
    if output.output_type == "error":
        return "\n".join([f"{output.ename}: {output.evalue}", *output.traceback])
    return str(output.get("data", {}).get("text/plain", ""))


def execute(assignment: str) -> Run:
    path = solution_notebook_path(assignment)
    notebook = nbformat.read(path, as_version=4)
    if needs_mnist(notebook):
        reason = mnist_missing_reason()
        if reason:
            pytest.skip(f"{assignment} reads MNIST and {reason}")
    expressions = [quote.expression for quote in quotes(source_cells(assignment))]
    scratch = tempfile.TemporaryDirectory(prefix="nncourse-solution-")
    # A copy of the solution folder (what the notebook writes stays out of the repository), and IPC sockets
    # next to it: no TCP port, and no warning from the kernel about plain-text TCP.
    folder = Path(scratch.name) / assignment
    shutil.copytree(path.parent, folder)
    manager = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(Path(scratch.name) / "kernel"))
    default_timeout = notebook.metadata.get("nncourse", {}).get("timeout", DEFAULT_CELL_TIMEOUT)
    client = NotebookClient(notebook, km=manager, timeout=default_timeout, timeout_func=cell_timeouts(default_timeout),
                            allow_errors=True, resources={"metadata": {"path": str(folder)}})
    start = time.perf_counter()
    with scratch, client.setup_kernel(env=kernel_environment(), cwd=str(folder)), shut_down(manager):
        stopped = None
        for index, cell in enumerate(notebook.cells):
            try:
                client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
            except (CellTimeoutError, DeadKernelError) as error:
                stopped = f"cell {index} stopped the run ({type(error).__name__}: {str(error).splitlines()[0]})"
                break
        seconds = time.perf_counter() - start
        run = Run(assignment, notebook, seconds, stopped=stopped)
        if expressions and stopped is None:
            probe = nbformat.v4.new_code_cell(QUOTE_PROBE.replace("PREFIX", repr(RESULTS_PREFIX))
                                              .replace("EXPRESSIONS", repr(expressions)))
            notebook.cells.append(probe)
            try:
                client.execute_cell(probe, len(notebook.cells) - 1, store_history=False)
            finally:
                notebook.cells.pop()
            run.quote_results, run.quote_probe_problem = read_probe(probe, len(expressions))
    print(f"\n{assignment}: executed in {seconds:.1f} s")
    return run


@contextlib.contextmanager
def shut_down(manager):
    """Stop the kernel afterwards: the client only stops kernels it started itself."""
    try:
        yield
    finally:
        run_sync(manager.shutdown_kernel)(now=True)


def read_probe(probe, count: int):
    """The probe's results (the kernel may have sent its line in several stream messages)."""
    stdout = "".join(output.text for output in probe.outputs
                     if output.output_type == "stream" and output.name == "stdout")
    for line in stdout.splitlines():
        if line.startswith(RESULTS_PREFIX):
            results = json.loads(line[len(RESULTS_PREFIX):])
            if len(results) == count:
                return results, None
    shown = " | ".join(text_of(output)[:200] for output in probe.outputs) or "no output"
    return [], f"the kernel did not return the values of the quote markers ({shown})"


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def run(request) -> Run:
    return execute(request.param)


def test_solution_runs_without_errors_stderr_or_warnings(run):
    problems = [run.stopped] if run.stopped else []
    for index, cell in enumerate(run.notebook.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            text = text_of(output)
            if output.output_type == "error":
                problems.append(f"cell {index} raised {output.ename}: {output.evalue[:200]}")
            elif output.output_type == "stream" and output.name == "stderr":
                problems.append(f"cell {index} wrote to stderr: {text.strip()[:200]!r}")
            found = WARNING_WORD.search(text)
            if found and output.output_type != "error":
                line = next(line for line in text.splitlines() if found.group(0) in line)
                problems.append(f"cell {index} shows a warning ({found.group(0)}): {line.strip()[:200]!r}")
        nbgrader = cell.metadata.get("nbgrader", {})
        is_test = nbgrader.get("grade") and not nbgrader.get("solution")
        if is_test and any(output.output_type == "execute_result" for output in cell.get("outputs", [])):
            problems.append(f"test cell {index} ({nbgrader.get('grade_id')}) ends with a value (Out[..]); "
                            "it should end with passed(...)")
    assert not problems, f"{run.assignment} (solution, {run.seconds:.0f} s):\n" + "\n".join(
        f"  - {problem}" for problem in problems)


def test_quoted_numbers_match_the_notebooks_output(run):
    found = quotes(source_cells(run.assignment))
    if not found:
        return
    assert run.stopped is None, f"{run.assignment}: the quotes were not checked: {run.stopped}"
    assert run.quote_probe_problem is None, f"{run.assignment}: {run.quote_probe_problem}"
    problems = []
    for quote, result in zip(found, run.quote_results):
        if "error" in result:
            problems.append(f"{quote.describe()}: {quote.expression} {result['error']}")
            continue
        value = result["value"]
        if not value:
            problems.append(f"{quote.describe()}: {quote.expression} gives an empty string")
        elif not quote.text_before.endswith(value):
            shown = quote.text_before[-max(len(value), 20):]
            problems.append(f"{quote.describe()}: expected {value!r} right before the marker, found {shown!r}")
    assert not problems, (f"{run.assignment}: quoted numbers that differ from the notebook's output "
                          "(source notebook cells):\n" + "\n".join(f"  - {problem}" for problem in problems))


class _Records(logging.Handler):
    """The warnings nbgrader's validator logs. The validator's logger is traitlets' shared one, where
    jupyter_client also reports tearing down the kernel clients of earlier tests ("Could not destroy
    zmq context") whenever the garbage collector happens to run: those are not the validator's."""

    NBGRADER = str(Path(nbgrader.__file__).parent)

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines = []

    def emit(self, record):
        if record.pathname.startswith(self.NBGRADER):
            self.lines.append(f"{record.levelname}: {record.getMessage()}")


def test_nbgrader_validate_passes_without_warnings(run, tmp_path):
    assert run.stopped is None, f"{run.assignment}: not validated: {run.stopped}"
    path = tmp_path / f"{run.assignment}.ipynb"
    nbformat.write(run.notebook, path)
    validator = Validator()
    validator.preprocessors = [CheckCellMetadata]  # the notebook was executed above: no second run
    records = _Records()
    validator.log.addHandler(records)
    printed = io.StringIO()
    validator.stream = printed  # where nbgrader validate prints its verdict
    try:
        validator.validate_and_print(str(path))
    finally:
        validator.log.removeHandler(records)
    stdout = printed.getvalue()
    verdict = parse_validate_output(stdout, "\n".join(records.lines))
    assert verdict.passed, f"{run.assignment}: nbgrader validate fails: {verdict.summary}\n{stdout[-2000:]}"
    warnings = records.lines + [line for line in stdout.splitlines() if "WARNING" in line.upper()]
    assert not warnings, f"{run.assignment}: nbgrader validate printed warnings:\n" + "\n".join(warnings)
