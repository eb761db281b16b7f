"""Per-submission bounds (hostile cases 6 and 7), through the real CLI with the sandbox on.

A submission's memory is bounded in all (forked children together), what it writes is bounded in all
(memory-backed home and /tmp; nothing on the grader's disk), an oversized notebook is rejected before
anything opens it, a submission's whole grading is bounded in time, and nothing a kernel prints or a
folder name holds reaches the instructor's terminal raw. Low limits for a test come from a further
config file (``$NNCOURSE_CONFIG``), so no test needs gigabytes.
"""

import json
import re

import nbformat

from conftest import ASSIGNMENT, CUBE, SQUARE
from nngrade import flags, notebooks
from test_hostile import FULL, check, graded_attack


def low_limits(monkeypatch, tmp_path, **settings):
    """Grade with ``settings`` (``"Sandbox.total_memory_bytes": 2**30``, ...) on top of nbgrader_config.py."""
    path = tmp_path / "limits_config.py"
    path.write_text("c = get_config()  # noqa: F821\n" + "".join(f"c.{key} = {value!r}\n" for key, value in settings.items()))
    monkeypatch.setenv("NNCOURSE_CONFIG", str(path))


def kinds(hostile, student):
    return [(flag["kind"], flag["cell"]) for flag in flags.read(hostile.course.notebook("autograded", ASSIGNMENT, student))]


def test_forked_children_beyond_the_total_memory_are_killed_and_flagged(hostile, monkeypatch, tmp_path):
    # 1.5 GiB in all: /tmp (256 MiB) and home (512 MiB) leave 768 MiB to the processes. Three children of
    # 300 MiB each stay far below the 8 GiB each process may address, and pass the total together.
    low_limits(monkeypatch, tmp_path, **{"Sandbox.total_memory_bytes": 1536 * 2**20})
    forks = ("import os, time\n\nchildren = []\nfor _ in range(3):\n    pid = os.fork()\n    if pid == 0:\n"
             "        hoard = b'x' * (300 * 2**20)\n        time.sleep(60)\n        os._exit(0)\n"
             "    children.append(pid)\nfor pid in children:\n    os.waitpid(pid, 0)\n\n" + CUBE)
    graded = graded_attack(hostile, "forkhoarder", cube=forks)
    scores, found = hostile.scores("forkhoarder"), kinds(hostile, "forkhoarder")
    line = f"FLAGGED forkhoarder / {ASSIGNMENT}: resource_limit: the submission's "
    ok = (graded.returncode == 0 and scores == {"test_square": 2.0, "test_cube": 0.0}
          and ("resource_limit", None) in found and ("kernel_died", "cube") in found
          and line in graded.stdout and "more than the 768 MiB they may hold together" in graded.stdout
          and graded.seconds < 60)
    check("3 forked children x 300 MiB (total limit 1.5 GiB)", "killed in cube: test_cube 0, flag resource_limit",
          f"{scores}, flags {[kind for kind, _ in found]}", graded.seconds, ok)


def test_twelve_quarter_gigabyte_files_fill_only_the_memory_backed_home(hostile):
    # The attack: 12 x 250 MiB in the working directory. The home holds 512 MiB in all
    # (c.Sandbox.home_bytes), in memory, thrown away with the kernel: the disk never sees a byte.
    writer = ("written = 0\ntry:\n    for i in range(12):\n        with open(f'big{i}.bin', 'wb') as big:\n"
              "            for _ in range(250):\n                big.write(b'x' * 2**20)\n                written += 1\n"
              "except OSError as error:\n    print(f'wrote {written} MiB: {error}')\n\n" + SQUARE)
    graded = graded_attack(hostile, "diskfiller", square=writer)
    scores, printed = hostile.scores("diskfiller"), hostile.outputs("diskfiller")["square"]
    written = int(printed.split("wrote ")[1].split(" MiB")[0]) if "wrote " in printed else None
    ok = (scores == FULL and "No space left on device" in printed and written is not None and written < 512
          and graded.returncode == 0)
    check("12 files x 250 MiB in the home", "stopped below 512 MiB (No space left on device), full marks",
          f"{scores}, {printed.strip()[:60]}", graded.seconds, ok)


def test_a_file_in_the_socket_folder_is_killed_and_flagged(hostile):
    # The socket folder is the one folder on the grader's disk the kernel can write: sockets only.
    writer = ("import os, time\nfrom ipykernel.connect import get_connection_file\n\n"
              "with open(os.path.join(os.path.dirname(get_connection_file()), 'stash.bin'), 'wb') as stash:\n"
              "    stash.write(b'x' * 2**20)\ntime.sleep(4)\n\n" + CUBE)
    graded = graded_attack(hostile, "stasher", cube=writer)
    scores, found = hostile.scores("stasher"), kinds(hostile, "stasher")
    ok = (graded.returncode == 0 and scores == {"test_square": 2.0, "test_cube": 0.0}
          and ("resource_limit", None) in found
          and f"FLAGGED stasher / {ASSIGNMENT}: resource_limit: the kernel wrote files into the folder of its sockets"
          in graded.stdout)
    check("1 MiB file into the kernel's socket folder", "killed: test_cube 0, flag resource_limit",
          f"{scores}, flags {[kind for kind, _ in found]}", graded.seconds, ok)


def test_oversized_notebooks_are_rejected_before_anything_opens_them(hostile):
    alice_before = hostile.grade_rows_hash("alice")
    release = json.loads(hostile.course.notebook("release", ASSIGNMENT).read_text())
    many = dict(release, cells=release["cells"] + [{"cell_type": "markdown", "id": f"empty-{i}", "metadata": {},
                                                    "source": ""} for i in range(100_000)])
    huge = dict(release, cells=release["cells"] + [{"cell_type": "markdown", "id": "huge", "metadata": {},
                                                    "source": "x" * (21 * 2**20)}])
    for student, content in (("manycells", many), ("hugecell", huge)):
        path = hostile.course.notebook("submitted", ASSIGNMENT, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content))
    graded = hostile.grade_only("manycells", "hugecell")
    reasons = {student: graded.not_graded(student) or "" for student in ("manycells", "hugecell")}
    ok = (graded.returncode == 1 and hostile.grade_rows_hash("alice") == alice_before
          and reasons["manycells"].startswith(f"{ASSIGNMENT}: {ASSIGNMENT}.ipynb has 100007 cells, more than the 2000")
          and reasons["hugecell"].startswith(f"{ASSIGNMENT}: {ASSIGNMENT}.ipynb is 21.0 MiB, more than the 20 MiB")
          and graded.seconds < 60 and hostile.leftover_sandboxes() == [])
    check("100,000 empty cells; a 21 MiB cell", "NOT GRADED (cell count, size) at once",
          f"{reasons['manycells'][:40]}; {reasons['hugecell'][:40]}", graded.seconds, ok)


def test_a_submission_over_its_time_is_stopped_and_the_batch_goes_on(hostile, monkeypatch, tmp_path):
    # 15 s for a submission's whole grading; five cells of 4.5 s each (under the 5 s per cell) need more.
    low_limits(monkeypatch, tmp_path, **{"SubmissionLimits.timeout": 15})
    alice_before = hostile.grade_rows_hash("alice")
    path = hostile.submit("dawdler", square="import time\ntime.sleep(4.5)\n\n" + SQUARE,
                          cube="time.sleep(4.5)\n\n" + CUBE)
    notebook = notebooks.read(path)
    notebook.cells[3:3] = [nbformat.v4.new_code_cell("time.sleep(4.5)") for _ in range(3)]  # after square
    nbformat.write(notebook, str(path))
    hostile.submit("punctual")
    graded = hostile.grade_only("dawdler", "punctual")
    reason = graded.not_graded("dawdler") or ""
    ok = (graded.returncode == 1 and reason.startswith(f"{ASSIGNMENT}: grading it took more than 15 s in all")
          and graded.not_graded("punctual") is None and hostile.scores("punctual") == FULL
          and hostile.grade_rows_hash("alice") == alice_before and hostile.leftover_sandboxes() == []
          and graded.seconds < 90)
    check("5 cells x 4.5 s, 15 s per submission", "dawdler NOT GRADED (time), punctual full marks, nothing left",
          f"{reason[:45]}; punctual {hostile.scores('punctual')}", graded.seconds, ok)


FORGED = ("\x1b[2J\x1b[31mFLAGGED alice / hostile: kernel_died: FORGED-7c1\n"
          "NOT GRADED alice / hostile: FORGED-7c1\n\x1b]0;FORGED-7c1\x07\r")


def test_what_a_kernel_prints_never_reaches_the_terminal(hostile):
    # print, the process's own file descriptors 1 and 2, every other inherited descriptor that is no
    # socket, and a child process writing to them: none of it may appear in the CLI's output.
    printer = ("import os, stat, subprocess\n\nforged = " + repr(FORGED) + "\nprint(forged)\n"
               "for fd in range(1, 64):\n    try:\n        if not stat.S_ISSOCK(os.fstat(fd).st_mode):\n"
               "            os.write(fd, forged.encode())\n    except OSError:\n        pass\n"
               "subprocess.run(['sh', '-c', 'printf \"%s\" \"$0\" >&1; printf \"%s\" \"$0\" >&2', forged])\n\n" + SQUARE)
    graded = graded_attack(hostile, "forger", square=printer)
    lines = graded.stdout.splitlines()
    forged_lines = [line for line in lines if line.startswith(("FLAGGED alice", "NOT GRADED alice"))]
    ok = (hostile.scores("forger") == FULL and "FORGED-7c1" not in graded.stdout and "\x1b" not in graded.stdout
          and "\r" not in graded.stdout and forged_lines == [] and graded.returncode == 0)
    check("forged FLAGGED/NOT GRADED lines + escape codes from the kernel", "none in the CLI output, full marks",
          f"{hostile.scores('forger')}, {len(forged_lines)} forged line(s)", graded.seconds, ok)


# Where a student's folder name may appear: after the grader's own start of a line (a table row is
# indented, a progress line starts with its count), never at the start of one.
GRADER_LINE = re.compile(r"  |NOT GRADED |\[\d+/\d+\] ")


def test_a_student_folder_name_is_printed_escaped(hostile):
    # A folder name (student controlled where students name their folders) with escape codes and a newline.
    student = "eve\x1b[2J\nFLAGGED alice : FORGED-9d2"
    alice_before = hostile.grade_rows_hash("alice")
    path = hostile.course.notebook("submitted", ASSIGNMENT, student)
    path.parent.mkdir(parents=True)
    path.write_text("{ not json")
    try:
        graded = hostile.grade_only(student)
    finally:
        path.unlink()
        path.parent.rmdir()
        path.parent.parent.rmdir()
    lines = graded.stdout.splitlines()
    escaped = "eve\\x1b[2J\\nFLAGGED alice : FORGED-9d2"
    ok = (graded.returncode == 1 and "\x1b" not in graded.stdout
          and [line for line in lines if "FORGED-9d2" in line and not GRADER_LINE.match(line)] == []
          and any(line.startswith(f"NOT GRADED {escaped} / {ASSIGNMENT}: ") for line in lines)
          and hostile.grade_rows_hash("alice") == alice_before)
    check("student folder named with ESC codes and a newline", "printed escaped, inside the grader's lines",
          next((line[:60] for line in lines if line.startswith("NOT GRADED")), "no NOT GRADED line"), graded.seconds, ok)
