"""The sandbox's command line and environment, and one sandboxed kernel checked from the inside."""

import asyncio
import os
import socket
import time
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

from nngrade import notebooks, sandbox
from nngrade.kernel import CourseKernelManager, GradingExecute
from nngrade.sandbox import HOME_INSIDE, SEED_INSIDE, TOOLKIT_DIR, Sandbox, prepare_home, sandbox_environment


def test_command_shows_only_the_scratch_home_the_toolkit_and_python(tmp_path):
    course = tmp_path / "course"
    workdir = course / "autograded" / "zoe" / "hw"
    workdir.mkdir(parents=True)
    (course / "gradebook.db").write_text("secret")
    home = prepare_home(workdir, tmp_path / "sandbox" / "home")
    command = Sandbox(enabled=True).command(workdir=home / "hw", ipc_dir=tmp_path / "sandbox" / "ipc", env={})
    assert command[0] == "bwrap" and command[-1] == "--"
    for flag in ("--unshare-net", "--unshare-pid", "--die-with-parent"):
        assert flag in command
    binds = {(command[i], command[i + 1], command[i + 2]) for i in range(len(command) - 2)
             if command[i] in ("--bind", "--ro-bind")}
    assert ("--ro-bind", str(TOOLKIT_DIR), str(TOOLKIT_DIR)) in binds
    lib = TOOLKIT_DIR.parent  # the reference (nnref) and the grader (nngrade) live next to the toolkit
    under_lib = {source for _, source, _ in binds if Path(source) == lib or lib in Path(source).parents}
    assert under_lib == {str(TOOLKIT_DIR)}
    # The grader's copy of the submission is read-only; the kernel's home is memory-backed, filled from it.
    assert ("--ro-bind", str(home), str(SEED_INSIDE)) in binds
    assert any(command[i:i + 2] == ["--tmpfs", str(HOME_INSIDE)] for i in range(len(command) - 1))
    writable = sorted(source for kind, source, _ in binds if kind == "--bind")
    assert writable == [str(tmp_path / "sandbox" / "ipc")]
    assert not any(str(course) in argument for argument in command)  # no course folder at all
    assert command[-4:-1] == [str(SEED_INSIDE), str(HOME_INSIDE), "hw"]  # the kernel starts in its copy


def test_the_kernels_copy_of_the_notebook_has_no_hidden_tests(tmp_path):
    """nbgrader writes the notebook being graded with its hidden tests restored; the kernel's copy has none."""
    workdir = tmp_path / "autograded" / "zoe" / "hw"
    workdir.mkdir(parents=True)
    test = new_code_cell("assert square(2) == 4\n### BEGIN HIDDEN TESTS\nsecret_case = 'HIDDEN-7'\n"
                         "### END HIDDEN TESTS\nprint('after')", metadata={"nbgrader": {
                             "grade": True, "solution": False, "locked": True, "grade_id": "test_square", "points": 1}})
    notebooks.write(new_notebook(cells=[new_code_cell("def square(x):\n    return x * x"), test]), workdir / "hw.ipynb")
    (workdir / "broken.ipynb").write_text("{ not json ### BEGIN HIDDEN TESTS HIDDEN-7")
    (workdir / "data.txt").write_text("the student's own file")
    scratch = prepare_home(workdir, tmp_path / "sandbox" / "home")
    copied = notebooks.read(scratch / "hw.ipynb")
    assert [cell.source for cell in copied.cells] == ["def square(x):\n    return x * x",
                                                     "assert square(2) == 4\nprint('after')"]
    assert not (scratch / "broken.ipynb").exists()  # not readable as a notebook: not copied at all
    assert (scratch / "data.txt").read_text() == "the student's own file"
    assert "HIDDEN-7" in (workdir / "hw.ipynb").read_text()  # the grader's own file is untouched


def test_environment_keeps_grading_variables_and_drops_secrets():
    env = sandbox_environment({"PYTHONPATH": "/lib", "NNCOURSE_GRADING": "1", "MPLBACKEND": "Agg",
                               "NNCOURSE_DB_URL": "postgresql://grader:secret@db/course", "AWS_SECRET": "x"})
    assert env["NNCOURSE_GRADING"] == "1" and env["HOME"] == str(HOME_INSIDE)
    assert "PYTHONPATH" not in env  # the kernel imports the installed toolkit, never lib/
    assert "NNCOURSE_DB_URL" not in env and "AWS_SECRET" not in env


def test_cell_timeout_never_exceeds_what_is_left_of_the_submission():
    execute = GradingExecute(timeout=60, submission_timeout=100)
    execute._deadline = None
    assert execute._get_timeout(None) == 60
    execute._deadline = time.monotonic() + 7.5
    assert execute._get_timeout(None) == 7
    execute._deadline = time.monotonic() - 3
    assert execute._get_timeout(None) == 1


def test_sandboxed_kernel_is_unprivileged_offline_alone_and_leaves_nothing(tmp_path):
    workdir = tmp_path / "hw"
    workdir.mkdir()
    (workdir / "data.txt").write_text("the student's own file")
    config = Config()
    config.Sandbox.enabled = True

    async def run(code):
        manager = CourseKernelManager(config=config)
        await manager.start_kernel(cwd=str(workdir))
        sandbox_dir = manager._sandbox_dir
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            outputs = []
            reply = await client.execute_interactive(code, timeout=60, output_hook=lambda msg: outputs.append(
                msg["content"].get("text", "")))
        finally:
            client.stop_channels()
            await manager.shutdown_kernel(now=True)
        return reply["content"]["status"], "".join(outputs), sandbox_dir

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        code = (f"import os, socket\nprint('uid=', os.getuid(), sep='')\nprint('cwd=', os.getcwd(), sep='')\n"
                "print('own=', open('data.txt').read(), sep='')\n"
                "print('pids=', len([p for p in os.listdir('/proc') if p.isdigit()]), sep='')\n"
                f"print('host_tmp=', os.path.exists({str(tmp_path)!r}), sep='')\n"
                f"try:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n    print('network=yes')\n"
                "except OSError:\n    print('network=no')\n")
        status, text, sandbox_dir = asyncio.run(run(code))
    assert status == "ok", text
    seen = dict(line.split("=", 1) for line in text.strip().splitlines())
    assert seen["uid"] == str(sandbox.sandbox_uid() if os.geteuid() == 0 else os.geteuid())
    assert seen["cwd"] == str(HOME_INSIDE / "hw")
    assert seen["own"] == "the student's own file"
    assert int(seen["pids"]) <= 3  # bwrap's init and the kernel: no process of the host
    assert seen["host_tmp"] == "False"
    assert seen["network"] == "no"
    assert not Path(sandbox_dir).exists()
    assert (workdir / "data.txt").read_text() == "the student's own file"


def test_missing_bubblewrap_is_an_error_naming_the_fix(monkeypatch):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    sandbox.bwrap_problem.cache_clear()
    try:
        with pytest.raises(sandbox.SandboxUnavailableError, match="bubblewrap .* not installed.*make setup"):
            Sandbox(enabled=True).check()
    finally:
        sandbox.bwrap_problem.cache_clear()
