"""Submissions that try to forge their test verdicts from inside the kernel are caught and flagged.

Each attack installs one hook in the `cube` solution cell next to a wrong `cube` (or from inside
the wrong `cube` while test_cube calls it), so the hook is what would have to earn test_cube its point. The grader's probes (nngrade.tamper) must find the
hook: test_cube scores 0 with the reason, the notebook carries a `tampering` flag naming the hook,
and test_square, graded before the hook existed, keeps its 2 points. `graded_attack` also checks
that alice's gradebook rows are unchanged and that no sandbox is left behind.
"""

from conftest import ASSIGNMENT
from test_hostile import FULL, check, graded_attack

from nngrade import flags

WRONG_CUBE = "def cube(x):\n    return np.asarray(x, dtype=float) ** 2"
# Clears the error of the running cell from IPython's ExecutionResult, so the kernel reports success:
# with no error output and an "ok" reply, nbgrader would give the failing test cell its points.
FORGET_ERROR = ("import sys\n\ndef forget_error(*args, **kwargs):\n    frame = sys._getframe()\n"
                "    while frame is not None:\n        result = frame.f_locals.get('result')\n"
                "        if hasattr(result, 'error_in_exec'):\n            result.error_in_exec = None\n"
                "        frame = frame.f_back\n    return []\n")
SKIP_TESTS = "def skip_tests(lines):\n    return ['pass\\n'] if any('cube(' in line for line in lines) else lines\n"


def tampering_flags(hostile, student) -> list[dict]:
    path = hostile.course.notebook("autograded", ASSIGNMENT, student)
    return [flag for flag in flags.read(path) if flag["kind"] == "tampering"]


def caught(hostile, student, attack, hook, code, cube=WRONG_CUBE):
    """Grade ``code`` + a wrong cube: test_cube must score 0 with the reason and a flag naming ``hook``."""
    graded = graded_attack(hostile, student, cube=code + "\n" + cube)
    scores, outputs = hostile.scores(student), hostile.outputs(student)
    found = tampering_flags(hostile, student)
    named = [flag for flag in found if hook in flag["reason"] and flag["cell"] == "test_cube"]
    ok = (graded.not_graded(student) is None and scores == {"test_square": 2.0, "test_cube": 0.0}
          and len(found) == 1 and named and "TamperingDetected" in outputs["test_cube"]
          and hook in outputs["test_cube"])
    observed = f"{scores}, flag: {found[0]['reason'].split('): ', 1)[-1][:70] if found else 'none'}"
    check(attack, f"test_cube 0, flagged naming {hook}", observed, graded.seconds, ok)


def test_input_transformer_cleanup_is_flagged(hostile):
    caught(hostile, "cleaner", "input_transformers_cleanup turns tests into pass", "input_transformers_cleanup",
           SKIP_TESTS + "get_ipython().input_transformers_cleanup.append(skip_tests)\n")


def test_input_transformer_post_is_flagged(hostile):
    caught(hostile, "poster", "input_transformers_post turns tests into pass", "input_transformers_post",
           SKIP_TESTS + "get_ipython().input_transformers_post.append(skip_tests)\n")


def test_ast_transformer_is_flagged(hostile):
    code = ("import ast\n\nclass EmptyTests(ast.NodeTransformer):\n    def visit_Module(self, node):\n"
            "        uses_cube = any(getattr(n, 'id', None) == 'cube' for n in ast.walk(node))\n"
            "        return ast.Module(body=[ast.Pass()], type_ignores=[]) if uses_cube else node\n\n"
            "get_ipython().ast_transformers.append(EmptyTests())\n")
    caught(hostile, "aster", "ast_transformers empty the tests", "ast_transformers", code)


def test_custom_exception_handler_is_flagged(hostile):
    caught(hostile, "customexc", "set_custom_exc swallows AssertionError", "custom_exceptions",
           FORGET_ERROR + "get_ipython().set_custom_exc((AssertionError,), forget_error)\n")


def test_patched_showtraceback_is_flagged(hostile):
    caught(hostile, "showtb", "showtraceback patched to hide failures", "showtraceback",
           FORGET_ERROR + "get_ipython().showtraceback = forget_error\n")


def test_patched_sys_excepthook_is_flagged(hostile):
    # IPython restores sys.excepthook when a cell ends: a hook that lasts is set after the cell.
    caught(hostile, "excepthook", "sys.excepthook patched after each cell", "sys.excepthook",
           FORGET_ERROR + "get_ipython().events.register('post_run_cell', "
                          "lambda result: setattr(sys, 'excepthook', forget_error))\n")


def test_reassigned_assert_allclose_is_flagged(hostile):
    caught(hostile, "allcloser", "np.testing.assert_allclose reassigned", "numpy.testing.assert_allclose",
           "np.testing.assert_allclose = lambda *args, **kwargs: None\n")


def test_reassigned_math_isclose_is_flagged(hostile):
    caught(hostile, "isclose", "math.isclose reassigned", "math.isclose",
           "import math\nmath.isclose = lambda *args, **kwargs: True\n")


def test_reassigned_hidden_comparison_helper_is_flagged(hostile):
    code = ("import nngrade.hidden\nnngrade.hidden._compare_values = lambda *args, **kwargs: None\n"
            "np.allclose = lambda *args, **kwargs: True\n")
    caught(hostile, "helper", "nngrade.hidden._compare_values + np.allclose reassigned",
           "nngrade.hidden._compare_values", code)


def test_hook_installed_by_the_tested_function_is_flagged(hostile):
    # The visible case passes; on a hidden case the function disables the comparison that checks it.
    cube = ("def cube(x):\n    x = np.asarray(x, dtype=float)\n    if x.shape != (1,):\n"
            "        import nngrade.hidden\n        nngrade.hidden._compare_values = lambda *args, **kwargs: None\n"
            "        return x ** 2\n    return x ** 3")
    caught(hostile, "inside", "cube() disables the hidden comparison",
           "(while test_cube ran): nngrade.hidden._compare_values", "", cube=cube)


def test_correct_submission_with_plots_warnings_and_prints_is_not_flagged(hostile):
    square = ("%matplotlib inline\nimport warnings\nwarnings.filterwarnings('ignore', category=DeprecationWarning)\n"
              "warnings.simplefilter('ignore')\nimport matplotlib.pyplot as plt\n"
              "plt.plot([0, 1], [0, 1])\nplt.show()\nprint('squares coming up')\n\n"
              "def square(x):\n    print('squaring', np.shape(x))\n    return np.asarray(x, dtype=float) ** 2")
    # No torch here: its first import can take longer than the fixture's 5 s per cell.
    cube = ("from tqdm.auto import tqdm\n\nfor _ in tqdm(range(3)):\n    pass\n"
            "print(np.ones(2).sum())\n\ndef cube(x):\n    return np.asarray(x, dtype=float) ** 3")
    graded = graded_attack(hostile, "honest", square=square, cube=cube)
    scores = hostile.scores("honest")
    found = tampering_flags(hostile, "honest") + tampering_flags(hostile, "alice")
    ok = graded.not_graded("honest") is None and scores == FULL and not found
    check("correct + %matplotlib, plots, tqdm, warnings, prints", "full marks, not flagged",
          f"{scores}, flags: {[flag['reason'][:60] for flag in found] or 'none'}", graded.seconds, ok)
