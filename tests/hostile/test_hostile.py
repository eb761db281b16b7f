"""Hostile submissions graded through the real CLI in the sandbox: each is contained and scored truthfully.

Each test submits one attack (a solution cell replaced by hostile code), grades it, and checks the
attacker's scores and reasons, that the control student ``alice`` kept her exact grade rows, that no
sandbox folder or process is left behind, and records a row of the table printed at the end.
"""

import socket

from conftest import (ASSIGNMENT, CANARY_ALICE, CANARY_HIDDEN, CANARY_NOTES, CANARY_SOLUTION, CELL_TIMEOUT, CUBE,
                      SQUARE, record)
from nngrade import flags

FULL = {"test_square": 2.0, "test_cube": 1.0}
FORK_BOMB = ("import os, time\n\ndef square(x):\n    while True:\n        if os.fork() == 0:\n"
             "            time.sleep(300)\n            os._exit(0)")


def check(attack: str, expected: str, observed: str, seconds: float, ok: bool) -> None:
    record(attack, expected, observed, seconds, ok)
    assert ok, f"{attack}: expected {expected}, observed {observed}"


def graded_attack(hostile, student, **sources):
    """Submit and grade one attack; also check alice's rows and that nothing of the sandbox is left."""
    alice_before = hostile.grade_rows_hash("alice")
    hostile.submit(student, **sources)
    graded = hostile.grade_only(student)
    assert hostile.grade_rows_hash("alice") == alice_before, "the attack changed another student's grades"
    assert hostile.leftover_sandboxes() == []
    return graded


def test_infinite_loop_scores_that_cell_zero_and_the_rest_normally(hostile):
    baseline = hostile.grade_only("alice").seconds
    graded = graded_attack(hostile, "loop", square="def square(x):\n    while True:\n        pass")
    scores, outputs = hostile.scores("loop"), hostile.outputs("loop")
    extra = graded.seconds - baseline
    ok = (scores == {"test_square": 0.0, "test_cube": 1.0} and "CellTimeoutError" in outputs["test_square"]
          and extra <= CELL_TIMEOUT + 15)
    check("while True: pass", f"test_square 0 (timeout), test_cube 1, <= {CELL_TIMEOUT + 15} s over baseline",
          f"{scores}, +{extra:.0f} s", graded.seconds, ok)


def test_loop_ignoring_sigint_is_killed_and_scored_zero(hostile):
    loop = ("import signal\n\ndef square(x):\n    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "    while True:\n        pass")
    graded = graded_attack(hostile, "stubborn", square=loop)
    scores, outputs = hostile.scores("stubborn"), hostile.outputs("stubborn")
    ok = (graded.not_graded("stubborn") is None and scores == {"test_square": 0.0, "test_cube": 0.0}
          and "did not stop when interrupted" in outputs["test_square"] and "was killed" in outputs["test_cube"]
          and graded.seconds < 120)
    check("SIGINT ignored + loop", "graded 0 with a reason, kernel killed, nothing left",
          f"{scores}; {outputs['test_cube'][:50]}", graded.seconds, ok)


def kernel_death(hostile, student, attack, code):
    """``code`` kills the kernel in the cube cell: graded, test_square keeps its points, test_cube 0 with the reason."""
    graded = graded_attack(hostile, student, cube=code + "\n\n" + CUBE)
    scores, outputs = hostile.scores(student), hostile.outputs(student)
    found = flags.read(hostile.course.notebook("autograded", ASSIGNMENT, student))
    ok = (graded.returncode == 0 and graded.not_graded(student) is None
          and scores == {"test_square": 2.0, "test_cube": 0.0}
          and "died" in outputs["cube"] and "died" in outputs["test_cube"]
          and [(flag["kind"], flag["cell"]) for flag in found] == [("kernel_died", "cube")]
          and f"FLAGGED {student} / {ASSIGNMENT}: kernel_died: the kernel died in cell cube" in graded.stdout)
    check(attack, "graded: test_square 2, test_cube 0 (died), flag kernel_died",
          f"{scores}, flags {[flag['kind'] for flag in found]}", graded.seconds, ok)


def test_os_exit_is_graded_and_flagged(hostile):
    kernel_death(hostile, "exiter", "os._exit(0)", "import os\nos._exit(0)")


def test_segfault_is_graded_and_flagged(hostile):
    kernel_death(hostile, "segfault", "segfault via ctypes", "import ctypes\nctypes.string_at(0)")


def failing_square(hostile, student, attack, code, evidence):
    """An attack in the square cell that must cost test_square its points and nothing else."""
    graded = graded_attack(hostile, student, square=code)
    scores, outputs = hostile.scores(student), hostile.outputs(student)
    found = evidence in outputs["square"] + outputs["test_square"]
    ok = scores == {"test_square": 0.0, "test_cube": 1.0} and found
    check(attack, f"test_square 0 ({evidence}), test_cube 1", f"{scores}, {evidence} {'seen' if found else 'missing'}",
          graded.seconds, ok)


def test_memory_bomb_is_contained(hostile):
    failing_square(hostile, "memory", "bytearray(10**11)",
                   "def square(x):\n    hoard = bytearray(10**11)\n    return np.asarray(x, dtype=float) ** 2",
                   "MemoryError")


def test_fork_bomb_is_contained(hostile):
    failing_square(hostile, "forker", "fork bomb", FORK_BOMB, "BlockingIOError")


def test_fork_bomb_does_not_reach_a_kernel_graded_next_to_it(hostile):
    # Two jobs grade the bomb and a neighbour at the same time. The neighbour starts threads while the
    # bomb fills its process table (its cell runs until the 5 s timeout): that must not cost it points.
    threads = ("import threading, time\n\ntime.sleep(2)\nworkers = [threading.Thread(target=time.sleep, args=(0.5,))"
               " for _ in range(16)]\nfor worker in workers:\n    worker.start()\nfor worker in workers:\n"
               "    worker.join()\n\n" + SQUARE)
    alice_before = hostile.grade_rows_hash("alice")
    hostile.submit("bomber", square=FORK_BOMB)
    hostile.submit("neighbour", square=threads)
    graded = hostile.grade_only("bomber", "neighbour", jobs=2)
    scores = {student: hostile.scores(student) for student in ("bomber", "neighbour")}
    ok = (scores == {"bomber": {"test_square": 0.0, "test_cube": 1.0}, "neighbour": FULL}
          and hostile.grade_rows_hash("alice") == alice_before and hostile.leftover_sandboxes() == [])
    check("fork bomb next to a student starting threads (--jobs 2)", "bomber test_square 0; neighbour full marks",
          str(scores), graded.seconds, ok)


def test_ten_gigabyte_file_is_contained(hostile):
    writer = ("with open('big.bin', 'wb') as big:\n    for _ in range(10 * 1024):\n"
              "        big.write(bytes(2**20))\n\n" + SQUARE)
    failing_square(hostile, "filler", "10 GB file write", writer, "File too large")


def test_network_is_unreachable(hostile):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        probe = (f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n"
                 "    print('NETWORK REACHED')\nexcept OSError as error:\n    print('no network:', error)\n\n" + CUBE)
        graded = graded_attack(hostile, "netter", cube=probe)
        try:
            listener.accept()
            connected = True
        except BlockingIOError:
            connected = False
    scores, outputs = hostile.scores("netter"), hostile.outputs("netter")
    ok = not connected and "no network" in outputs["cube"] and scores == FULL
    check("connect to the host's 127.0.0.1", "refused inside; full marks otherwise",
          " ".join(outputs["cube"].split())[:60], graded.seconds, ok)


def test_reading_course_files_finds_nothing(hostile):
    root = hostile.root
    targets = ["../../source", "../../gradebook.db", "../../instructor_notes.txt", "../../submitted/alice",
               f"{root}/source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb", f"{root}/gradebook.db",
               f"{root}/instructor_notes.txt", f"{root}/submitted/alice/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
               f"{root}/solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb", "/proc/1/environ"]
    spy = ("import os\nfor target in " + repr(targets) + ":\n    try:\n"
           "        if os.path.isdir(target):\n            print('FOUND', target, os.listdir(target))\n"
           "        else:\n            print('FOUND', target, open(target, errors='replace').read())\n"
           "    except OSError as error:\n        print('nothing at', target, type(error).__name__)\n\n" + SQUARE)
    graded = graded_attack(hostile, "spy", square=spy)
    assert hostile.run("grade").returncode in (0, 1)  # feedback and export for everyone, spy included
    texts = [hostile.autograded_text("spy"), (root / "grades.csv").read_text(),
             *(p.read_text(errors="replace") for p in (root / "feedback").rglob("*.html"))]
    # The autograded notebook holds the hidden tests in its test cells; feedback and grades.csv never do.
    leaked = sorted({c for c in (CANARY_NOTES, CANARY_SOLUTION) for t in texts if c in t}
                    | {CANARY_ALICE for t in texts[:1] if CANARY_ALICE in t}
                    | {CANARY_HIDDEN for t in texts[1:] if CANARY_HIDDEN in t})
    found = hostile.outputs("spy")["square"].count("FOUND")
    ok = not leaked and found == 0 and hostile.scores("spy") == FULL
    check("read source/, gradebook, notes, alice", "nothing found, no canary anywhere",
          f"{found} found, leaked {leaked or 'nothing'}", graded.seconds, ok)


def test_writing_course_files_is_impossible(hostile):
    root = hostile.root
    source = root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    before = {path: path.read_bytes() for path in (source, hostile.alice_submission)}
    vandal = (
        "import os, sqlite3\n"
        f"for db in ['../../gradebook.db', {str(root / 'gradebook.db')!r}]:\n"
        "    try:\n        with sqlite3.connect(db) as c:\n"
        "            c.execute('UPDATE grade SET auto_score = 100, manual_score = 100')\n"
        "        print('WROTE', db)\n    except Exception as error:\n        print('no gradebook at', db, error)\n"
        f"for path in ['../../source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb', {str(source)!r}, {str(hostile.alice_submission)!r}]:\n"
        "    try:\n        open(path, 'w').write('{}')\n        print('WROTE', path)\n"
        "    except OSError as error:\n        print('cannot write', path, type(error).__name__)\n\n" + CUBE)
    graded = graded_attack(hostile, "vandal", cube=vandal)
    unchanged = all(path.read_bytes() == content for path, content in before.items())
    wrote = hostile.outputs("vandal")["cube"].count("WROTE")
    ok = unchanged and wrote == 0 and hostile.scores("vandal") == FULL
    check("write gradebook, source/, alice", "impossible; alice's rows hash unchanged",
          f"{wrote} writes, files {'unchanged' if unchanged else 'CHANGED'}", graded.seconds, ok)


def test_warnings_on_stderr_keep_full_marks(hostile):
    square = ("import warnings\n\ndef square(x):\n    warnings.warn('square: large inputs may overflow', RuntimeWarning)\n"
              "    return np.asarray(x, dtype=float) ** 2")
    cube = "def cube(x):\n    np.exp(np.array([1000.0]))  # numpy's overflow warning\n    return np.asarray(x, dtype=float) ** 3"
    graded = graded_attack(hostile, "warner", square=square, cube=cube)
    scores = hostile.scores("warner")
    check("correct answers + stderr warnings", "full marks", str(scores), graded.seconds, scores == FULL)


def test_broken_submissions_are_reported_and_the_batch_continues(hostile):
    submitted = hostile.course.folder("submitted")
    (submitted / "missing" / ASSIGNMENT).mkdir(parents=True)
    (submitted / "missing" / ASSIGNMENT / "notes.txt").write_text("forgot the notebook")
    renamed = hostile.submit("renamed")
    renamed.rename(renamed.with_name("my_work.ipynb"))
    hostile.submit("corrupt").write_text("{ not json")
    large = hostile.submit("large")
    with open(large.with_name("data.bin"), "wb") as handle:
        handle.truncate(200 * 2**20)  # sparse: 200 MB to copy, nothing to write
    hostile.submit("bob")
    alice_before = hostile.grade_rows_hash("alice")
    graded = hostile.grade_only("missing", "renamed", "corrupt", "large", "bob")
    reasons = {student: graded.not_graded(student) for student in ("missing", "renamed", "corrupt", "large")}
    ok = (all(reasons[s] for s in ("missing", "renamed", "corrupt")) and reasons["large"] is None
          and hostile.scores("large") == FULL and hostile.scores("bob") == FULL
          and hostile.grade_rows_hash("alice") == alice_before and hostile.leftover_sandboxes() == [])
    observed = "; ".join(f"{s}: {(r or 'graded').split(': ', 1)[-1][:28]}" for s, r in reasons.items())
    check("missing/renamed/corrupt notebook, 200 MB extra file", "a reason each, the rest graded",
          observed, graded.seconds, ok)
