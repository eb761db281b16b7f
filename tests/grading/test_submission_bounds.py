"""Per-submission bounds, piece by piece: what the CLI prints, oversized notebooks, the sandbox's
memory-backed home, the grader-side watchdog and the bounded grading process.
(`tests/hostile/test_bounds.py` runs the attacks through the CLI.)"""

import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

from nngrade import config, flags, grade, sandbox
from nngrade.config import load_nbgrader_config, printable
from nngrade.grade import SubmissionLimits, oversized
from nngrade.sandbox import HOME_INSIDE, SEED_INSIDE, Sandbox, SandboxLimitError, Watchdog, prepare_home

MiB = 2**20


# --- what the CLI prints -----------------------------------------------------------------------------

def test_printable_escapes_every_control_and_format_character_and_keeps_text():
    forged = "bob\x1b[2J\nFLAGGED alice / hw: forged\r\x07\u202eevil\u2028\x9b31m"
    shown = printable(forged)
    assert shown == "bob\\x1b[2J\\nFLAGGED alice / hw: forged\\r\\x07\\u202eevil\\u2028\\x9b31m"
    assert shown.isprintable() and printable(shown) == shown
    assert printable("Zoë Ünal 张伟 / hw1: cell #3 wrote more than 100 characters") == \
        "Zoë Ünal 张伟 / hw1: cell #3 wrote more than 100 characters"


def test_warnings_are_printed_as_one_escaped_line(capsys):
    import warnings

    config.warnings_to_stdout()
    warnings.warn_explicit("bad\nFLAGGED alice / hw: forged \x1b[31m", UserWarning, "somewhere.py", 3)
    printed = capsys.readouterr().out
    assert printed.count("\n") == 1 and "\x1b" not in printed and "\\nFLAGGED alice" in printed


def test_a_further_config_file_overrides_the_course_settings(tmp_path, monkeypatch):
    extra = tmp_path / "low.py"
    extra.write_text("c = get_config()\nc.Sandbox.total_memory_bytes = 2**30\nc.SubmissionLimits.max_cells = 7\n")
    monkeypatch.setenv("NNCOURSE_CONFIG", str(extra))
    loaded = load_nbgrader_config()
    assert loaded.Sandbox.total_memory_bytes == 2**30 and SubmissionLimits(config=loaded).max_cells == 7
    assert loaded.Execute.timeout == 60  # the rest of nbgrader_config.py stays
    monkeypatch.delenv("NNCOURSE_CONFIG")
    assert SubmissionLimits(config=load_nbgrader_config()).max_cells == 2000


def test_resource_limit_is_a_flag_kind():
    import nbformat

    notebook = nbformat.v4.new_notebook()
    flags.add(notebook, "resource_limit", "the submission's 4 processes held 900 MiB of memory")
    assert flags.of(notebook)[0]["kind"] == "resource_limit"


# --- oversized notebooks ---------------------------------------------------------------------------------

def notebook_file(path, cells):
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_a_notebook_over_the_size_limit_is_rejected_without_reading_it(tmp_path):
    path = tmp_path / "hw.ipynb"
    with open(path, "wb") as handle:
        handle.truncate(25 * MiB)  # sparse: no disk used, and not JSON, which must not matter
    reason = oversized(path, SubmissionLimits(max_notebook_bytes=20 * MiB))
    assert reason == ("hw.ipynb is 25.0 MiB, more than the 20 MiB a submitted notebook may be "
                      "(c.SubmissionLimits.max_notebook_bytes); it was not opened")


def test_too_many_cells_are_rejected_quickly_and_a_normal_notebook_passes(tmp_path):
    empty = {"cell_type": "markdown", "metadata": {}, "source": ""}
    many = notebook_file(tmp_path / "many.ipynb", [dict(empty, id=f"c{i}") for i in range(100_000)])
    limits = SubmissionLimits()
    started = time.monotonic()
    reason = oversized(many, limits)
    assert time.monotonic() - started < 5
    assert reason.startswith("many.ipynb has 100000 cells, more than the 2000 a submitted notebook may have")
    assert oversized(notebook_file(tmp_path / "fine.ipynb", [empty] * 2000), limits) is None
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ not json")
    assert oversized(broken, limits) is None  # nbgrader names that problem itself
    deep = tmp_path / "deep.ipynb"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    assert "nests its JSON too deeply" in oversized(deep, limits)


# --- the memory-backed home ------------------------------------------------------------------------------

def test_the_home_is_a_memory_backed_file_system_of_fixed_size(tmp_path):
    workdir = tmp_path / "submitted" / "hw"
    workdir.mkdir(parents=True)
    (workdir / "data.txt").write_text("the student's own file")
    home = tmp_path / "sandbox" / "home"
    scratch = prepare_home(workdir, home)
    ipc = tmp_path / "sandbox" / "ipc"
    ipc.mkdir()
    command = Sandbox(enabled=True, home_bytes=64 * MiB).command(workdir=scratch, ipc_dir=ipc, env={})
    tmpfs = [command[i + 1:i + 5] for i, arg in enumerate(command) if arg == "--size"]
    assert ["67108864", "--tmpfs", str(HOME_INSIDE)] in [t[:3] for t in tmpfs]
    binds = [tuple(command[i:i + 3]) for i, arg in enumerate(command) if arg in ("--bind", "--ro-bind")]
    assert ("--ro-bind", str(home), str(SEED_INSIDE)) in binds
    assert [source for kind, source, _ in binds if kind == "--bind"] == [str(ipc)]  # the one host folder it writes
    if sandbox.bwrap_problem() is not None:
        pytest.fail(sandbox.bwrap_problem())
    script = ("import os\nprint(os.getcwd(), open('data.txt').read())\nst = os.statvfs('.')\n"
              "print(st.f_blocks * st.f_frsize)\n"
              "try:\n    open('big', 'wb').write(b'x' * 70 * 2**20)\nexcept OSError as error:\n    print(error.errno)\n")
    finished = subprocess.run([*command, sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    lines = finished.stdout.splitlines()
    assert lines[0] == f"{HOME_INSIDE / 'hw'} the student's own file", finished.stdout + finished.stderr
    assert int(lines[1]) == 64 * MiB and lines[2] == "28"  # ENOSPC
    assert not (home / "hw" / "big").exists()


def test_the_limits_are_checked_before_a_kernel_starts(tmp_path):
    with pytest.raises(ValueError, match="must exceed tmp_bytes"):
        Sandbox(total_memory_bytes=700 * MiB, tmp_bytes=256 * MiB, home_bytes=512 * MiB).check()
    assert Sandbox(total_memory_bytes=8 * 2**30).process_memory_bytes() == 8 * 2**30 - 768 * MiB
    folder = tmp_path / "hw"
    (folder / "data").mkdir(parents=True)
    with open(folder / "data" / "big.bin", "wb") as handle:
        handle.truncate(600 * MiB)  # sparse
    with pytest.raises(SandboxLimitError, match=r"holds 600\.0 MiB, more than the 496 MiB"):
        Sandbox(home_bytes=512 * MiB).check_fits_home(folder)
    Sandbox(home_bytes=1024 * MiB).check_fits_home(folder)


# --- the watchdog ----------------------------------------------------------------------------------------

def hoarder(children: int, mib: int) -> subprocess.Popen:
    """A Python process whose ``children`` forked children each hold ``mib`` MiB (and end with it)."""
    code = textwrap.dedent(f"""
        import os, sys, time
        parent = os.getpid()
        for _ in range({children}):
            if os.fork() == 0:
                hoard = b"x" * ({mib} * 2**20)
                os.write(1, b"ready\\n")
                while os.getppid() == parent:
                    time.sleep(0.05)
                os._exit(0)
        time.sleep(60)
    """)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_process_tree_and_memory_count_forked_children_once(tmp_path):
    process = hoarder(2, 100)
    try:
        for _ in range(2):
            assert process.stdout.readline() == "ready\n"
        tree = sandbox.process_tree(process.pid)
        assert tree[0] == process.pid and len(tree) == 3
        resident = sum(map(sandbox.resident_bytes, tree))
        proportional = sum(map(sandbox.proportional_bytes, tree))
        assert 200 * MiB < proportional <= resident < 400 * MiB
    finally:
        process.kill()
        process.wait()


def test_watchdog_kills_a_process_tree_beyond_its_memory_and_records_why(tmp_path):
    sandbox.take_limits()
    process = hoarder(3, 100)
    watchdog = Watchdog(process, memory_bytes=200 * MiB, socket_folder=tmp_path, interval=0.05).start()
    try:
        assert process.wait(timeout=30) == -9
    finally:
        watchdog.stop()
        process.kill()
    assert watchdog.reason.startswith("the submission's ") and "more than the 200 MiB" in watchdog.reason
    assert sandbox.take_limits() == [watchdog.reason] and sandbox.take_limits() == []


def test_watchdog_leaves_a_kernel_within_its_limits_alone(tmp_path):
    process = hoarder(1, 20)
    watchdog = Watchdog(process, memory_bytes=400 * MiB, socket_folder=tmp_path, interval=0.05).start()
    try:
        assert process.stdout.readline() == "ready\n"
        time.sleep(0.5)
        assert process.poll() is None and watchdog.reason is None
    finally:
        watchdog.stop()
        process.kill()
        process.wait()


def test_watchdog_allows_only_sockets_and_the_graders_files_in_the_socket_folder(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        watchdog = Watchdog(process, memory_bytes=2**40, socket_folder=tmp_path, allowed=["kernel.json"])
        (tmp_path / "kernel.json").write_text("{}")
        with socket.socket(socket.AF_UNIX) as listener:
            listener.bind(str(tmp_path / "kernel-1"))
            assert watchdog.measure() is None
            (tmp_path / "stash.bin").write_bytes(b"x")
            assert "wrote files into the folder of its sockets" in watchdog.measure()
            (tmp_path / "stash.bin").unlink()
            for index in range(sandbox.SOCKET_FOLDER_ENTRIES):
                os.symlink("nowhere", tmp_path / f"link-{index}")
            assert "entries in the folder of its sockets" in watchdog.measure()
    finally:
        process.kill()
        process.wait()


# --- the bounded grading process -------------------------------------------------------------------------

def test_stopping_a_grading_process_kills_its_children_and_removes_its_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    process = multiprocessing.get_context("fork").Process(
        target=os.system, args=("sleep 60 & sleep 60",), daemon=True)
    process.start()
    deadline = time.monotonic() + 10
    while len(sandbox.process_tree(process.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    tree = sandbox.process_tree(process.pid)
    assert len(tree) >= 3
    (tmp_path / f"nngrade-kernel-{process.pid}-abc" / "home").mkdir(parents=True)
    (tmp_path / f"nngrade-channel-{process.pid}-def").mkdir()
    (tmp_path / f"nngrade-kernel-{process.pid + 1}-ghi").mkdir()  # another process's: kept
    grade._stop(process)
    assert not process.is_alive()
    time.sleep(0.2)
    assert [pid for pid in tree if os.path.exists(f"/proc/{pid}") and _state(pid) != "Z"] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"nngrade-kernel-{process.pid + 1}-ghi"]


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"
