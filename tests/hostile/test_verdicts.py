"""Submissions that attack the verdicts of the test cells gain nothing (grader-side verdicts).

The grader decides every test cell in its own process: the kernel runs the cell's visible part as
the student saw it, then the grader runs the visible and hidden checks, calling the notebook through
the data-only grading channel, and the cell's outputs become the grader's (``nngrade.verdicts``).
Each test here grades one attack class through the real CLI in the sandbox. The attack sits where an
answer should be and implements nothing there: that test cell must score 0, whatever the kernel
printed, displayed, replied or patched; the other cell keeps its score, a flag appears only where the
kernel did something suspicious, alice's grade rows stay as they were and no sandbox is left behind
(``graded_attack``). Attacks that look for the hidden tests must find none, and their canary must not
reach the autograded outputs of the test cells, the feedback or ``grades.csv``.

Strings a submission looks for are assembled at run time: the submission's own source lands in the
autograded notebook and its feedback, and must not carry what the suite searches for there.
"""

from __future__ import annotations

import json
import re

from conftest import ASSIGNMENT, CANARY_HIDDEN, CUBE, record
from nngrade import flags, notebooks
from test_hostile import FULL, check, graded_attack

SQUARE_ONLY = {"test_square": 0.0, "test_cube": 1.0}  # square attacked, cube answered correctly
NOTHING = {"test_square": 0.0, "test_cube": 0.0}  # both cells attacked
# What the kernel-side code searches for: the hidden tests' canary and marker, split so that neither
# appears in the submission's source.
SEARCHED = (f"MARKS = [{CANARY_HIDDEN[:10]!r} + {CANARY_HIDDEN[10:]!r}, 'BEGIN HIDD' + 'EN TESTS', "
            "'from nngrade' + '.hidden import']\n")
REPORT = "KERNEL-REPORT "  # a non-test cell prints what the kernel saw: one line, this prefix, JSON


def flag_kinds(hostile, student) -> list[tuple[str, str]]:
    """``[(kind, cell)]`` of the flags of ``student``'s autograded notebook."""
    return [(flag["kind"], flag["cell"]) for flag in flags.read(hostile.course.notebook("autograded", ASSIGNMENT, student))]


def kernel_report(hostile, student, cell: str = "cube") -> dict:
    """What the submission recorded in the kernel and printed in ``cell`` (a non-test cell)."""
    for line in hostile.outputs(student)[cell].splitlines():
        if line.startswith(REPORT):
            return json.loads(line[len(REPORT):])
    raise AssertionError(f"{student}: no {REPORT.strip()} line in cell {cell}: {hostile.outputs(student)[cell][:500]}")


def outputs_of_test_cells(hostile, student) -> str:
    """Every output of the autograded test cells, rich displays and results included."""
    nb = notebooks.read(hostile.course.notebook("autograded", ASSIGNMENT, student))
    return json.dumps([cell.get("outputs", []) for cell in nb.cells if notebooks.is_autograded_test(cell)])


def feedback_and_export(hostile, student) -> str:
    """The student's feedback pages (there must be one) and the whole grade export."""
    pages = sorted((hostile.root / "feedback" / student).rglob("*.html"))
    assert pages, f"no feedback for {student}"
    return "\n".join([(hostile.root / "grades.csv").read_text(), *(page.read_text(errors="replace") for page in pages)])


# --- 1. forged results and forged kernel replies ----------------------------------------------------------

# No implementation: each function publishes an execute_result and a display claiming success, then raises.
PUBLISH = ("from IPython.display import publish_display_data\n\n"
           "def square(x):\n"
           "    get_ipython().displayhook(np.array([9.0, 0.25]))\n"
           "    get_ipython().displayhook('\\u2713 test_square: every check passed')\n"
           "    publish_display_data({'text/plain': '\\u2713 test_square: every check passed FORGED-DISPLAY'})\n"
           "    print('\\u2713 test_square: every check passed FORGED-PRINT')\n"
           "    raise NotImplementedError")
# The kernel answers its own requests: an ok execute_reply and an idle status for the request running it
# (the test cell's visible part, then the grader's channel), sent from inside the kernel, then raises.
FORGE_REPLIES = ("def forge_done():\n"
                 "    kernel = get_ipython().kernel\n"
                 "    parent = kernel.get_parent('shell')\n"
                 "    ident = kernel._parent_ident['shell']\n"
                 "    reply = {'status': 'ok', 'execution_count': 1, 'user_expressions': {}, 'payload': []}\n"
                 "    kernel.session.send(kernel.shell_stream, 'execute_reply', reply, parent, ident=ident)\n"
                 "    kernel.session.send(kernel.iopub_socket, 'execute_result', {'execution_count': 1, "
                 "'data': {'text/plain': 'FORGED-RESULT'}, 'metadata': {}}, parent, ident=kernel._topic('execute_result'))\n"
                 "    kernel.session.send(kernel.iopub_socket, 'status', {'execution_state': 'idle'}, parent, "
                 "ident=kernel._topic('status'))\n\n"
                 "def cube(x):\n"
                 "    forge_done()\n"
                 "    raise NotImplementedError")


def test_forged_results_and_forged_replies_score_zero(hostile):
    graded = graded_attack(hostile, "forger", square=PUBLISH, cube=FORGE_REPLIES)
    scores, outputs, found = hostile.scores("forger"), outputs_of_test_cells(hostile, "forger"), flag_kinds(hostile, "forger")
    forged_texts = [text for text in ("FORGED-DISPLAY", "FORGED-PRINT", "FORGED-RESULT") if text in outputs]
    ok = (graded.returncode == 0 and scores == NOTHING and forged_texts == [] and found == []
          # each function ran to its `raise`: every forged message was sent
          and "(in square, line" in hostile.outputs("forger")["test_square"]
          and "(in cube, line" in hostile.outputs("forger")["test_cube"])
    check("execute_result/display + forged execute_reply, idle", "0 each, no forged output kept",
          f"{scores}, forged kept: {forged_texts or 'none'}, flags {found or 'none'}", graded.seconds, ok)


# --- 2. reading the grader's expectations from the stack; values equal to anything --------------------------

# The function walks the kernel's call stack for the grader's expected values (locals named so, frames of
# nngrade.hidden.compare) and returns what it finds; finding nothing, it returns a value that claims to
# equal anything: an ndarray subclass (comparisons, __array__, ufuncs). `cube` returns a float subclass
# inside a tuple subclass that do the same.
EQUAL_TO_ANYTHING = (
    "class Yes(np.ndarray):\n"
    "    def __eq__(self, other):\n        return np.ones(np.shape(other), dtype=bool)\n"
    "    def __ne__(self, other):\n        return np.zeros(np.shape(other), dtype=bool)\n"
    "    __le__ = __ge__ = __eq__\n"
    "    __lt__ = __gt__ = __ne__\n"
    "    def __array__(self, dtype=None, copy=None):\n        return np.zeros(0)\n"
    "    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):\n        return Yes.anything()\n"
    "    def __sub__(self, other):\n        return Yes.anything()\n"
    "    __rsub__ = __abs__ = __add__ = __radd__ = __mul__ = __rmul__ = __truediv__ = __sub__\n"
    "    def __bool__(self):\n        return True\n"
    "    def all(self, *args, **kwargs):\n        return True\n"
    "    any = all\n"
    "    @staticmethod\n"
    "    def anything():\n        return np.zeros(2).view(Yes)\n\n"
    "class Same(float):\n"
    "    def __eq__(self, other):\n        return True\n"
    "    def __ne__(self, other):\n        return False\n"
    "    __le__ = __ge__ = __eq__\n"
    "    __lt__ = __gt__ = __ne__\n"
    "    def __sub__(self, other):\n        return Same(0.0)\n"
    "    __rsub__ = __add__ = __radd__ = __mul__ = __rmul__ = __sub__\n"
    "    def __abs__(self):\n        return Same(0.0)\n"
    "    __hash__ = float.__hash__\n\n"
    "class Matching(tuple):\n"
    "    def __eq__(self, other):\n        return True\n"
    "    __hash__ = tuple.__hash__\n\n")
STACK_WALK = (
    "import inspect, sys\n\n" + EQUAL_TO_ANYTHING +
    "SEEN = {'frames': [], 'found': []}\n\n"
    "def square(x):\n"
    "    for info in inspect.stack():\n"
    "        SEEN['frames'].append(info.filename.rsplit('/', 1)[-1] + ':' + info.function)\n"
    "        for name, value in info.frame.f_locals.items():\n"
    "            if name in ('expected', 'reference', 'ref', 'want', 'expected_error'):\n"
    "                SEEN['found'].append(name)\n"
    "                return value\n"
    "    frame = sys._getframe()\n"
    "    while frame is not None:\n"
    "        if 'compare' in frame.f_code.co_name or 'nngrade' in frame.f_code.co_filename:\n"
    "            SEEN['found'].append(frame.f_code.co_name)\n"
    "            return frame.f_locals.get('expected')\n"
    "        frame = frame.f_back\n"
    "    return Yes.anything()\n")
EQUAL_CUBE = "import json\n\ndef cube(x):\n    return Matching((Same(0.0),))\n\nprint('" + REPORT + "' + json.dumps(SEEN))"


def test_stack_walks_and_values_equal_to_anything_score_zero(hostile):
    graded = graded_attack(hostile, "stacker", square=STACK_WALK, cube=EQUAL_CUBE)
    scores, found = hostile.scores("stacker"), flag_kinds(hostile, "stacker")
    seen = kernel_report(hostile, "stacker")
    grader_frames = [frame for frame in seen["frames"] if "nngrade" in frame or "compare" in frame]
    ok = (graded.returncode == 0 and scores == NOTHING and seen["frames"] != [] and seen["found"] == []
          and grader_frames == [])
    check("stack walk for expected/reference; __eq__ == anything", "0 each, no grader frame in the kernel",
          f"{scores}, grader frames {grader_frames or 'none'}, found {seen['found'] or 'nothing'}, flags "
          f"{[kind for kind, _ in found] or 'none'}", graded.seconds, ok)


# --- 3. the reference and the grader's helpers from the kernel ----------------------------------------------

DELEGATE = ("import importlib, os, sys\nimport nnkit\n\n"
            "# The folder the toolkit was installed from holds the reference and the grader next to it.\n"
            "sys.path.insert(0, os.path.dirname(os.path.dirname(nnkit.__file__)))\n"
            "TRIED = {}\n\n"
            "def delegate(x):\n"
            "    for name in ('nnref', 'nngrade', 'nngrade.hidden', 'nnref.activations'):\n"
            "        try:\n"
            "            TRIED[name] = type(importlib.import_module(name)).__name__\n"
            "        except Exception as error:\n"
            "            TRIED[name] = type(error).__name__\n"
            "    TRIED['sys.modules'] = sorted(key for key in sys.modules if key.startswith(('nnref', 'nngrade')))\n"
            "    for name in ('ref', 'compare', 'reference', 'expected', 'hidden'):\n"
            "        helper = globals().get(name)\n"
            "        TRIED['global ' + name] = type(helper).__name__\n"
            "        if callable(helper):\n"
            "            return helper(x)\n"
            "    for key in TRIED['sys.modules']:\n"
            "        if hasattr(sys.modules[key], 'square'):\n"
            "            return sys.modules[key].square(x)\n"
            "    raise NotImplementedError\n\n"
            "def square(x):\n"
            "    return delegate(x)\n")


def test_delegating_to_the_reference_or_the_grader_scores_zero(hostile):
    cube = "import json\n\n" + CUBE
    cube += "\n\ntry:\n    delegate(1.0)\nexcept NotImplementedError:\n    pass\nprint('" + REPORT + "' + json.dumps(TRIED))"
    graded = graded_attack(hostile, "delegator", square=DELEGATE, cube=cube)
    scores, found, tried = hostile.scores("delegator"), flag_kinds(hostile, "delegator"), kernel_report(hostile, "delegator")
    imports = {name: tried.get(name) for name in ("nnref", "nngrade", "nngrade.hidden", "nnref.activations")}
    ok = (graded.returncode == 0 and scores == SQUARE_ONLY and found == []
          and set(imports.values()) == {"ModuleNotFoundError"} and tried["sys.modules"] == []
          and all(tried[f"global {name}"] == "NoneType" for name in ("ref", "compare", "reference", "expected", "hidden")))
    check("import nnref/nngrade, sys.path, sys.modules, ref/compare", "square 0; imports fail in the sandbox",
          f"{scores}, imports {sorted(set(imports.values()))}, modules {tried['sys.modules'] or 'none'}",
          graded.seconds, ok)


# --- 4. patched checking helpers and hooks in the kernel ---------------------------------------------------

PATCHES = (
    "import ast, sys, threading, time\nimport numpy, numpy.testing\nimport nnkit.testing\n\n"
    "def always(*args, **kwargs):\n    return True\n\n"
    "def quiet(*args, **kwargs):\n    return None\n\n"
    "def patch():\n"
    "    nnkit.testing.assert_close = nnkit.testing.compare_values = quiet\n"
    "    nnkit.testing._compare_arrays = nnkit.testing._compare_sequences = quiet\n"
    "    numpy.testing.assert_allclose = numpy.testing.assert_array_equal = quiet\n"
    "    numpy.allclose = numpy.array_equal = always\n"
    "    numpy.isclose = lambda a, b, *args, **kwargs: numpy.ones(numpy.shape(b), dtype=bool)\n"
    "    sys.excepthook = quiet\n\n"
    "patch()\n"
    "shell = get_ipython()\n"
    "# Test cells become `pass`: the line transformers see each cell before it runs.\n"
    "shell.input_transformers_cleanup.append(lambda lines: ['pass\\n'] if any('square(' in line for line in lines) else lines)\n"
    "shell.input_transformers_post.append(lambda lines: ['pass\\n'] if any('square(' in line for line in lines) else lines)\n\n"
    "class NoAsserts(ast.NodeTransformer):\n"
    "    def visit_Assert(self, node):\n        return ast.Pass()\n\n"
    "shell.ast_transformers.append(NoAsserts())\n"
    "shell.set_custom_exc((Exception,), lambda shell, etype, value, tb, tb_offset=None: None)\n"
    "shell.showtraceback = quiet\n\n"
    "def keep_patching():\n"
    "    while True:\n        patch()\n        time.sleep(0.001)\n\n"
    "threading.Thread(target=keep_patching, daemon=True).start()\n\n"
    "def square(x):\n"
    "    patch()\n"
    "    raise NotImplementedError\n")


def test_patched_helpers_and_hooks_in_the_kernel_score_zero(hostile):
    graded = graded_attack(hostile, "patcher", square=PATCHES)
    scores, found = hostile.scores("patcher"), flag_kinds(hostile, "patcher")
    ok = graded.returncode == 0 and scores == SQUARE_ONLY and found == []
    check("patch assert_close/numpy/excepthook, transformers, thread", "square 0, cube 1, no flag",
          f"{scores}, flags {found or 'none'}", graded.seconds, ok)


# --- 5. the hidden tests from IPython's history ----------------------------------------------------------

HISTORY = (
    "import sys\nfrom IPython.display import display\n" + SEARCHED +
    "SEEN = {}\n\n"
    "def histories():\n"
    "    shell = get_ipython()\n"
    "    texts = {'In': '\\n'.join(shell.user_ns.get('In', [])), '_ih': '\\n'.join(shell.user_ns.get('_ih', [])),\n"
    "             'Out': repr(shell.user_ns.get('Out', {})),\n"
    "             'input_hist_raw': '\\n'.join(shell.history_manager.input_hist_raw),\n"
    "             'input_hist_parsed': '\\n'.join(shell.history_manager.input_hist_parsed)}\n"
    "    try:\n"
    "        texts['history'] = '\\n'.join(str(entry[2]) for entry in shell.history_manager.get_range(0, 1, None, raw=True))\n"
    "        texts['search'] = '\\n'.join(str(entry[2]) for entry in shell.history_manager.search('*'))\n"
    "    except Exception as error:\n"
    "        texts['history'] = type(error).__name__\n"
    "    return texts\n\n"
    "def look():\n"
    "    for name, text in histories().items():\n"
    "        found = [mark[:4] for mark in MARKS if mark in text]\n"
    "        SEEN[name] = sorted(set(SEEN.get(name, []) + found))\n\n"
    "def spill(where):\n"
    "    for name, text in histories().items():\n"
    "        print(where, name, text)\n"
    "        print(where, name, text, file=sys.stderr)\n"
    "        display({'text/plain': text}, raw=True)\n\n"
    "def square(x):\n"
    "    look()\n"
    "    spill('during a test')\n"
    "    raise NotImplementedError\n")


def test_reading_history_during_a_test_finds_no_hidden_test(hostile):
    cube = "import json\n\n" + CUBE + "\n\nlook()\nprint('" + REPORT + "' + json.dumps(SEEN))\nspill('after a test')"
    graded = graded_attack(hostile, "historian", square=HISTORY, cube=cube)  # feedback and grades.csv too
    scores, seen = hostile.scores("historian"), kernel_report(hostile, "historian")
    found = {name: marks for name, marks in seen.items() if marks}
    leaked = [where for where, text in (("test-cell outputs", outputs_of_test_cells(hostile, "historian")),
                                        ("all outputs", json.dumps(hostile.outputs("historian"))),
                                        ("feedback/grades.csv", feedback_and_export(hostile, "historian")))
              if CANARY_HIDDEN in text]
    ok = graded.returncode == 0 and scores == SQUARE_ONLY and found == {} and leaked == [] and "In" in seen
    check("read In/_ih/Out/history during a test, print it", "square 0; no hidden test anywhere",
          f"{scores}, found {found or 'nothing'} in {len(seen)} histories, leaked {leaked or 'nowhere'}",
          graded.seconds, ok)


# --- 6. forged grader lines and terminal escapes on the kernel's own outputs -----------------------------------

FORGED_LINES = ("FLAGGED alice / hostile: kernel_died: FORGED-BY-SUBMISSION",
                "NOT GRADED alice / hostile: FORGED-BY-SUBMISSION")
ESCAPES = "\x1b[2J\x1b[H\x1b[31m\x1b]0;FORGED-TITLE\x07\r"
# Printed, written to the process's own stdout/stderr and file descriptors 1 and 2, raised as an error
# message; and the name of a class the grader quotes when `cube`'s answer is not data (iterating it
# yields a tuple, not an iterator): that reason reaches the CLI as a `suspicious` flag.
FORGER = (
    "import os, sys\n"
    f"LINES = {list(FORGED_LINES)!r}\n"
    f"ESCAPES = {ESCAPES!r}\n\n"
    "def shout():\n"
    "    for line in LINES:\n"
    "        text = ESCAPES + '\\n' + line + '\\n'\n"
    "        print(text)\n"
    "        print(text, file=sys.stderr)\n"
    "        sys.__stdout__.write(text)\n"
    "        sys.__stdout__.flush()\n"
    "        sys.__stderr__.write(text)\n"
    "        sys.__stderr__.flush()\n"
    "        os.write(1, text.encode())\n"
    "        os.write(2, text.encode())\n\n"
    "shout()\n\n"
    "class Loud:\n"
    "    def __len__(self):\n        return 2\n"
    "    def __getitem__(self, index):\n        return 0.0\n"
    "    def __iter__(self):\n        return Shouting(())\n\n"
    "class Shouting(tuple):\n"
    "    def __next__(self):\n        raise StopIteration\n\n"
    "Loud.__qualname__ = Loud.__name__ = ESCAPES + '\\n'.join([''] + LINES + [''])\n\n"
    "def square(x):\n"
    "    shout()\n"
    "    raise ValueError(ESCAPES + '\\n'.join([''] + LINES))\n\n"
    "def cube(x):\n"
    "    shout()\n"
    "    return Loud()\n\n"
    "import nnkit.channel as channel  # answers the grader with forged text where data should be\n"
    "plain_encode = channel._Session.encode\n\n"
    "def forging_encode(self, value, frames):\n"
    "    if isinstance(value, Loud):\n"
    "        return {'$' + ESCAPES + '\\n'.join(LINES): 1}\n"
    "    return plain_encode(self, value, frames)\n\n"
    "channel._Session.encode = forging_encode\n")


def test_forged_grader_lines_and_escape_codes_never_reach_the_cli_raw(hostile):
    graded = graded_attack(hostile, "shouter", square=FORGER, cube="shout()  # `cube` is defined above\n")
    scores, found = hostile.scores("shouter"), flag_kinds(hostile, "shouter")
    raw = [line for line in graded.stdout.splitlines() if line.startswith(FORGED_LINES)]
    control = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
    escapes = len(control.findall(graded.stdout)) + len(control.findall((hostile.root / "grades.csv").read_text()))
    flagged = [line for line in graded.stdout.splitlines() if line.startswith("FLAGGED shouter / ")]
    ok = (graded.returncode == 0 and scores == NOTHING and raw == [] and escapes == 0
          and found == [("suspicious", "test_cube")] and len(flagged) == 1)
    record("forged FLAGGED/NOT GRADED lines + ANSI escapes, fd 1/2", "0 each; nothing raw in CLI output, grades.csv",
           f"{scores}, forged lines {len(raw)}, control bytes {escapes}, flags {[kind for kind, _ in found] or 'none'}",
           graded.seconds, ok)
    assert ok, f"{scores}, flags {found}, CLI output:\n{graded.stdout[-3000:]}"


# --- 7. benign notebooks stay benign -------------------------------------------------------------------

BENIGN_SQUARE = (
    "import sys, warnings\nfrom tqdm import tqdm\nfrom tqdm.auto import tqdm as auto_tqdm\n\n"
    "def announce(info):\n    print('about to run a cell', file=sys.stderr)\n\n"
    "get_ipython().events.register('pre_run_cell', announce)\n\n"
    "def square(x):\n"
    "    for _ in tqdm(range(3), desc='square'):\n        pass\n"
    "    for _ in auto_tqdm(range(3)):\n        pass\n"
    "    warnings.warn('square: large inputs may overflow', RuntimeWarning)\n"
    "    warnings.warn('square: an old parameter', DeprecationWarning)\n"
    "    return np.asarray(x, dtype=float) ** 2\n")


def test_benign_hooks_progress_bars_and_warnings_keep_full_marks(hostile):
    cube = "import warnings\n\n" + CUBE.replace("    return", "    warnings.warn('cube: fine', UserWarning)\n    return")
    graded = graded_attack(hostile, "benign", square=BENIGN_SQUARE, cube=cube)
    scores, found = hostile.scores("benign"), flag_kinds(hostile, "benign")
    ok = graded.returncode == 0 and scores == FULL and found == [] and "FLAGGED benign" not in graded.stdout
    check("pre_run_cell callback on stderr, tqdm, warnings", "full marks, no flag",
          f"{scores}, flags {found or 'none'}", graded.seconds, ok)


# --- what the sandbox shows a submission -------------------------------------------------------------

SPY = (
    "import glob, importlib, json, os, sys\n" + SEARCHED +
    "def hidden_marks(text):\n    return [mark[:4] for mark in MARKS if mark in text]\n\n"
    "def look():\n"
    "    shell = get_ipython()\n"
    "    seen = {}\n"
    "    for name in ('nnref', 'nngrade', 'nngrade.hidden', 'nngrade.remote'):\n"
    "        try:\n            importlib.import_module(name)\n            seen['import ' + name] = 'imported'\n"
    "        except Exception as error:\n            seen['import ' + name] = type(error).__name__\n"
    "    seen['modules'] = sorted(key for key in sys.modules if key.startswith(('nnref', 'nngrade')))\n"
    "    seen['In'] = hidden_marks('\\n'.join(shell.user_ns['In']))\n"
    "    seen['_ih'] = hidden_marks('\\n'.join(shell.user_ns['_ih']))\n"
    "    seen['cells'] = len(shell.user_ns['In'])\n"
    "    return seen\n\n"
    "SEEN = {}\n\n"
    "def square(x):\n"
    "    SEEN['during test_square'] = look()\n"
    "    return np.asarray(x, dtype=float) ** 2\n")


def test_inside_the_sandbox_the_grader_and_the_hidden_tests_are_out_of_reach(hostile):
    cube = (CUBE + "\n\nSEEN['after test_square'] = look()\n"
            "SEEN['files'] = {path: hidden_marks(open(path, errors='replace').read())\n"
            "                 for path in glob.glob('**/*', recursive=True) if os.path.isfile(path)}\n"
            "print('" + REPORT + "' + json.dumps(SEEN))")
    graded = graded_attack(hostile, "insider", square=SPY, cube=cube)
    scores, seen = hostile.scores("insider"), kernel_report(hostile, "insider")
    views = [seen.get("during test_square", {}), seen.get("after test_square", {})]
    imports = sorted({value for view in views for key, value in view.items() if key.startswith("import ")})
    history = {f"{key} {when}": view[key] for when, view in zip(("during", "after"), views)
               for key in ("In", "_ih") if view.get(key)}
    files = {path: marks for path, marks in seen.get("files", {}).items() if marks}
    ok = (graded.returncode == 0 and scores == FULL and len(views[0]) > 0 and imports == ["ModuleNotFoundError"]
          and all(view["modules"] == [] for view in views) and history == {} and files == {})
    check("import nnref/nngrade, In/_ih, files, from inside", "imports fail; no hidden test in history or files",
          f"imports {imports}, hidden in history {history or 'nowhere'}, in files {files or 'none'}",
          graded.seconds, ok)
