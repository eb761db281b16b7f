"""The student's JupyterLab side of time limits (``nnkit.lab``): nbclient's per-cell ``timeout_func``, and
Validate served by a real ``jupyter server`` without stalling it.

Oracles: the cells' own metadata for the limits; for the server, its ``/api/status`` answering within
2 s while a notebook with a 20 s cell validates, and nbgrader's reply format with the cell that ran
over its limit named (nbgrader's own handler, enabled in this environment too, would block the
server and report the ``NameError`` of the test cell after it instead).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from nnkit.lab import cell_timeout, cell_timeouts, notebook_default_timeout

TOKEN = "course-test-token"


def with_limit(cell, seconds):
    cell.metadata["nncourse"] = {"timeout": seconds}
    return cell


def test_cell_timeouts_gives_each_cells_own_limit_else_the_default():
    timeout_func = cell_timeouts(60)
    assert timeout_func(with_limit(new_code_cell("train()"), 300)) == 300
    assert timeout_func(with_limit(new_code_cell("x"), 0.5)) == 0.5
    assert timeout_func(new_code_cell("x")) == 60
    for nonsense in (0, -1, True, "300", None, float("nan"), float("inf"), {"seconds": 3}):
        assert timeout_func(with_limit(new_code_cell("x"), nonsense)) == 60  # never None: no cell runs unlimited
    assert cell_timeout(new_code_cell("x")) is None and cell_timeout({"metadata": {"nncourse": "300"}}) is None
    notebook = new_notebook()
    assert notebook_default_timeout(notebook, 60) == 60
    notebook.metadata["nncourse"] = {"timeout": 600, "data": ["mnist"]}
    assert notebook_default_timeout(notebook, 60) == 600
    for default in (0, None, -3, "60"):
        with pytest.raises(ValueError, match="default should be a positive number of seconds"):
            cell_timeouts(default)


def test_cell_timeouts_as_nbclients_timeout_func():
    from nbclient import NotebookClient

    client = NotebookClient(new_notebook(), timeout=5, timeout_func=cell_timeouts(45))
    assert client._get_timeout(with_limit(new_code_cell("train()"), 300)) == 300
    assert client._get_timeout(new_code_cell("x")) == 45


# --- Validate through a real Jupyter server -------------------------------------------------------------


def graded_test_cell(source: str, grade_id: str):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "locked": True, "points": 1,
                                 "schema_version": 3, "solution": False, "task": False}
    return cell


def notebook(*cells, default=None):
    built = new_notebook(cells=list(cells))
    built.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if default is not None:
        built.metadata["nncourse"] = {"timeout": default}
    return built


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(port: int, path: str, body: dict | None = None, timeout: float = 120):
    data = None if body is None else json.dumps(body).encode()
    call = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="GET" if body is None else "POST",
                                  headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(call, timeout=timeout) as reply:
        return json.loads(reply.read())


@pytest.fixture
def server(tmp_path):
    """A ``jupyter server`` with ``nnkit.lab`` enabled next to the environment's extensions (nbgrader's
    ``validate_assignment`` included), serving ``tmp_path / "work"``; yields its port."""
    work, config = tmp_path / "work", tmp_path / "config"
    work.mkdir()
    config.mkdir()
    # nbgrader's validate_assignment stays as the environment has it (enabled here); what the test does
    # not need is off, so that the server starts sooner.
    unneeded = ("jupyterlab", "notebook", "jupyter_lsp", "nbgrader.server_extensions.formgrader",
                "nbgrader.server_extensions.assignment_list", "nbgrader.server_extensions.course_list")
    extensions = {"nnkit.lab": True, **dict.fromkeys(unneeded, False)}
    (config / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {"jpserver_extensions": extensions}}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               PYTHONPATH=str(Path(__file__).resolve().parents[2] / "lib"))
    port = free_port()
    command = [sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
               f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={work}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
        command.append("--allow-root")
    with open(tmp_path / "server.log", "w") as log:
        process = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                request(port, "/api/status", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start:\n" + (tmp_path / "server.log").read_text()) from None
                time.sleep(0.3)
        yield port, work
    finally:
        stop_group(process)  # the server, its validations and their kernels


def stop_group(process) -> None:
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def test_validate_keeps_the_server_responsive_and_reports_a_cell_over_its_limit(server):
    port, work = server
    # Default 3 s; the training cell raises its own limit to 60 s and takes 20 s: it passes.
    nbformat.write(notebook(with_limit(new_code_cell("import time\ntime.sleep(20)\ntrained = True"), 60),
                            graded_test_cell("assert trained", "test_trained"), default=3), str(work / "raised.ipynb"))
    # The same cell under a 2 s limit of its own: interrupted, reported as a timeout, the test cell not run.
    nbformat.write(notebook(with_limit(new_code_cell("import time\ntime.sleep(20)\ntrained = True"), 2),
                            graded_test_cell("assert trained", "test_trained")), str(work / "over.ipynb"))
    with ThreadPoolExecutor(2) as pool:
        raised = pool.submit(request, port, "/assignments/validate", {"path": "raised.ipynb"})
        over = pool.submit(request, port, "/assignments/validate", {"path": "over.ipynb"})
        slowest_status = 0.0
        while not raised.done():
            started = time.monotonic()
            assert request(port, "/api/status", timeout=10)["started"]
            slowest_status = max(slowest_status, time.monotonic() - started)
            time.sleep(0.25)
    assert slowest_status < 2.0
    assert raised.result() == {"success": True, "value": {}}
    reply = over.result()
    assert reply["success"] is True and len(reply["value"]["failed"]) == 1
    failure = reply["value"]["failed"][0]
    assert failure["raw_error"].startswith("cell 1 ran longer than its limit of 2 s and was interrupted")
    assert failure["source"].startswith("import time") and "NameError" not in json.dumps(reply)
    assert request(port, "/nbgrader_version?version=0.9.6")["success"] is True  # nbgrader's UI version check
