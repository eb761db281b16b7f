"""The hidden-test helpers (nngrade.hidden) and the visible-test helpers (nnkit.testing).

Oracles: torch.sigmoid / torch.relu for reference outputs, hand-made inputs for every check stage,
and for the checks run grader-side, a notebook whose buggy helper makes the result differ by a known amount.
"""

import math
import socket
import threading
import warnings
from time import monotonic

import numpy as np
import pytest
import torch

from nngrade import hidden, verdicts
from nngrade.hidden import check_globals, check_mutation, compare, random_cases
from nngrade.remote import Session
from nnkit import channel
from nnkit.testing import assert_close, assert_raises, assert_shape, known_good, passed


def torch_sigmoid(x, slope=1.0):
    return torch.sigmoid(torch.as_tensor(slope * np.asarray(x, dtype=np.float64))).numpy()


def sigmoid(x, slope=1.0):
    return 1.0 / (1.0 + np.exp(-slope * np.asarray(x, dtype=float)))


def sigmoid_case(rng):
    return {"args": (rng.normal(scale=3.0, size=(4, 5)),), "kwargs": {"slope": float(rng.uniform(0.5, 2.0))}}


CASES = random_cases(sigmoid_case, n=4, seed=3)


def failure(student, reference=torch_sigmoid, cases=CASES, **options) -> str:
    with pytest.raises(AssertionError) as error:
        compare(student, reference, cases, name="sigmoid", **options)
    return str(error.value)


def test_correct_and_alternative_implementations_pass():
    compare(sigmoid, torch_sigmoid, CASES)
    compare(lambda x, slope=1.0: 0.5 * (1 + np.tanh(0.5 * slope * x)), torch_sigmoid, CASES, name="sigmoid")


def test_random_cases_are_reproducible_and_match_default_rng():
    again = random_cases(sigmoid_case, n=4, seed=3)
    expected = np.random.default_rng(3).normal(scale=3.0, size=(4, 5))
    np.testing.assert_array_equal(CASES[0]["args"][0], expected)
    assert all(np.array_equal(a["args"][0], b["args"][0]) for a, b in zip(CASES, again))


def test_stage_raises_names_function_shapes_and_line():
    def broken(x, slope=1.0):
        return x @ np.ones(99)

    message = failure(broken)
    assert message.startswith("sigmoid(x: (4, 5) float64, slope: float)")  # shapes and types, never values
    assert "raised ValueError" in message and "x @ np.ones(99)" in message


def test_stage_raises_for_blank_function():
    def blank(x, slope=1.0):
        raise NotImplementedError()

    assert "not implemented yet" in failure(blank)


def test_stage_expected_exception_must_be_raised():
    def reference(x):
        if np.asarray(x).ndim != 2:
            raise ValueError("x must be 2-D")
        return np.asarray(x) * 2.0

    assert "should raise ValueError" in failure(lambda x: np.asarray(x) * 2.0, reference, [(np.ones(3),)])
    assert "should raise ValueError, but it raised TypeError" in failure(
        lambda x: (_ for _ in ()).throw(TypeError("no")), reference, [(np.ones(3),)])
    compare(reference, reference, [(np.ones(3),), (np.ones((2, 2)),)])  # both raise, then both agree


def test_stage_type():
    assert "should be a numpy array of shape (4, 5), got list of 4" in failure(lambda x, slope=1.0: sigmoid(x, slope).tolist())


def test_stage_shape():
    assert "should have shape (4, 5), got (5, 4)" in failure(lambda x, slope=1.0: sigmoid(x, slope).T.copy())


def test_stage_dtype_only_when_asked():
    float32 = lambda x, slope=1.0: sigmoid(x, slope).astype(np.float32)  # noqa: E731
    compare(float32, torch_sigmoid, CASES, name="sigmoid", rtol=1e-6, atol=1e-7)
    assert "should have dtype float64, got float32" in failure(float32, check_dtype=True, rtol=1e-6)


def test_stage_finite():
    def nan_somewhere(x, slope=1.0):
        out = sigmoid(x, slope)
        out[1, 2] = np.nan
        return out

    message = failure(nan_somewhere)
    assert "non-finite" in message and "index (1, 2)" in message and "yours nan" in message


def test_stage_values_reports_errors_location_and_a_small_slice():
    def off_by_a_bit(x, slope=1.0):
        out = sigmoid(x, slope)
        out[3, 1] += 0.125
        return out

    message = failure(off_by_a_bit)
    assert "1 of 20 values differ" in message
    assert "max abs error 0.125 at index (3, 1)" in message
    assert "max rel error" in message and "yours:" in message and "expected:" in message
    slice_line = next(line for line in message.splitlines() if line.strip().startswith("yours:"))
    assert slice_line.count(",") <= 5  # at most 6 values of the hidden result are shown


def test_structured_outputs_and_scalars():
    def reference(x):
        return {"loss": float(np.sum(x ** 2)), "grads": (2 * x, np.zeros(2))}

    def wrong_grad(x):
        return {"loss": float(np.sum(x ** 2)), "grads": (3 * x, np.zeros(2))}

    compare(reference, reference, [(np.arange(3.0),)])
    assert "output['grads'][0] is wrong" in failure(wrong_grad, reference, [(np.arange(3.0),)])
    assert "should be a single number" in failure(lambda x: np.array([1.0]), lambda x: 1.0, [(np.ones(1),)])


def test_tolerances_are_respected():
    nudged = lambda x, slope=1.0: sigmoid(x, slope) * (1 + 1e-6)  # noqa: E731
    assert "values differ" in failure(nudged)
    compare(nudged, torch_sigmoid, CASES, name="sigmoid", rtol=1e-5)


def test_detects_in_place_mutation_unless_allowed():
    def scales_in_place(x, slope=1.0):
        x *= slope
        return 1.0 / (1.0 + np.exp(-x))

    cases = [{"args": (np.linspace(-2, 2, 5),), "kwargs": {"slope": 2.0}}]  # one zero stays 0
    assert "modified its argument 'x' in place (4 of 5 values changed)" in failure(scales_in_place, cases=cases)
    compare(scales_in_place, torch_sigmoid, cases, name="sigmoid", mutable=("x",))
    with pytest.raises(AssertionError, match="modified its argument 'x'"):
        check_mutation(scales_in_place, (np.linspace(-2, 2, 6),), {"slope": 2.0})


def test_callers_inputs_are_never_touched():
    x = np.linspace(-2, 2, 6)
    before = x.copy()

    def scales_in_place(x, slope=1.0):
        x *= slope
        return sigmoid(x)

    failure(scales_in_place, cases=[{"args": (x,), "kwargs": {"slope": 3.0}}])
    np.testing.assert_array_equal(x, before)


def test_detects_dependence_on_notebook_globals():
    namespace = {"np": np, "X_train": np.ones((4, 5))}
    exec("def sigmoid(x, slope=1.0):\n    return 1 / (1 + np.exp(-slope * X_train))", namespace)
    message = failure(namespace["sigmoid"])
    assert "reads the notebook variable 'X_train' ((4, 5) float64)" in message
    with pytest.raises(AssertionError, match="X_train"):
        check_globals(namespace["sigmoid"], CASES[0]["args"], CASES[0]["kwargs"])


def test_legitimate_globals_are_not_flagged():
    namespace = {"np": np, "math": math, "EPS": 1e-12, "helper": lambda z: z,
                 "X_unused": np.ones(3)}  # read only in a branch that never runs
    exec("def sigmoid(x, slope=1.0):\n"
         "    if slope < 0:\n"
         "        return X_unused\n"
         "    return helper(1 / (1 + np.exp(-slope * x)) + EPS * 0 + math.pi * 0)", namespace)
    compare(namespace["sigmoid"], torch_sigmoid, CASES, name="sigmoid")


def test_isolate_substitutes_and_restores_graded_dependencies():
    namespace = {"np": np}
    exec("def sigmoid(x, slope=1.0):\n    return np.zeros_like(x)\n"  # a broken dependency ...
         "def dense(X, W, b):\n    return sigmoid(X @ W + b)", namespace)

    def reference(X, W, b):
        return torch_sigmoid(X @ W + b)

    cases = random_cases(lambda rng: (rng.normal(size=(3, 2)), rng.normal(size=(2, 4)), rng.normal(size=4)), 3, 0)
    with pytest.raises(AssertionError):
        compare(namespace["dense"], reference, cases)
    compare(namespace["dense"], reference, cases, isolate={"sigmoid": torch_sigmoid})  # ... is not dense's fault
    assert namespace["sigmoid"] is not torch_sigmoid  # restored


def test_reassigned_numpy_and_math_comparisons_do_not_fool_it(monkeypatch):
    monkeypatch.setattr(np.testing, "assert_allclose", lambda *a, **k: None)
    monkeypatch.setattr(np.testing, "assert_array_equal", lambda *a, **k: None)
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(np, "isclose", lambda *a, **k: True)
    monkeypatch.setattr(np, "abs", lambda *a, **k: 0.0)
    monkeypatch.setattr(np, "isfinite", lambda *a, **k: True)
    monkeypatch.setattr(math, "isclose", lambda *a, **k: True)
    import nnkit.testing

    monkeypatch.setattr(nnkit.testing, "compare_values", lambda *a, **k: None)
    assert "values differ" in failure(lambda x, slope=1.0: sigmoid(x, slope) + 0.5)
    with pytest.raises(AssertionError):
        hidden.assert_close(np.ones(2), np.zeros(2))


def test_nothing_reaches_stderr_or_stdout(capfd):
    def noisy(x, slope=1.0):
        import sys

        print("debug", x)  # would leak hidden inputs into the feedback
        print("noise", file=sys.stderr)
        warnings.warn("a library warning", UserWarning)
        np.exp(np.array([1000.0]))  # RuntimeWarning: overflow
        return sigmoid(x, slope) + 1.0

    def overflowing_but_right(x, slope=1.0):
        np.exp(np.array([1e4]))
        return sigmoid(x, slope)

    failure(noisy)
    compare(overflowing_but_right, torch_sigmoid, CASES, name="sigmoid")
    assert_close(np.array([np.inf, 1.0]), np.array([np.inf, 1.0]))  # inf - inf must not warn
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


# --- nnkit.testing (the student-visible part) ---------------------------------------------------------


def test_assert_close_tolerance_boundary():
    assert_close(np.array([1.0 + 0.9e-7]), np.array([1.0]), name="x")  # within rtol=1e-7 (+ atol)
    with pytest.raises(AssertionError, match=r"^x is wrong: yours 1\.00001, expected 1"):
        assert_close(1.00001, 1.0, name="x")
    with pytest.raises(AssertionError, match="loss should be a single number"):
        assert_close(np.ones(2), 1.0, name="loss")
    assert_close(np.float32(0.5), 0.5)
    assert_close(np.array([np.nan, np.inf]), np.array([np.nan, np.inf]))


def test_assert_shape_and_assert_raises():
    assert_shape(np.zeros((2, 3)), (2, None), name="out")
    with pytest.raises(AssertionError, match=r"out should have shape \(3,\), got \(2, 3\)"):
        assert_shape(np.zeros((2, 3)), (3,), name="out")
    with pytest.raises(AssertionError, match="should be an array"):
        assert_shape([1, 2], (2,), name="out")
    error = assert_raises(ValueError, int, "x")
    assert isinstance(error, ValueError)
    with pytest.raises(AssertionError, match=r"int\(str\) should raise ValueError, but it returned 3"):
        assert_raises(ValueError, int, "3")
    with pytest.raises(AssertionError, match="but it raised TypeError"):
        assert_raises(ValueError, int, None)


def test_passed_prints_the_contract_line(capsys):
    assert passed("sigmoid") is None
    assert capsys.readouterr().out == "\u2713 sigmoid: visible checks passed\n"


def test_known_good_rebinds_and_restores_also_on_error():
    namespace = {"relu": "student relu", "helper": "student helper"}
    with known_good(namespace, relu="known relu", extra="new name") as inside:
        assert inside is namespace and namespace["relu"] == "known relu" and namespace["extra"] == "new name"
    assert namespace == {"relu": "student relu", "helper": "student helper"}
    with pytest.raises(ZeroDivisionError), known_good(namespace, helper="known helper"):
        assert namespace["helper"] == "known helper"
        1 / 0
    assert namespace == {"relu": "student relu", "helper": "student helper"}
    with pytest.raises(TypeError, match="namespace should be a dict such as globals"):
        with known_good(["not", "a", "namespace"], relu=None):
            pass


def test_assert_raises_returns_the_exception_without_becoming_a_cell_result(capsys):
    error = assert_raises(ValueError, int, "x")
    error._ipython_display_()  # what IPython calls instead of showing Out[...] when a cell ends with it
    assert capsys.readouterr().out.startswith("raised as expected: ValueError(")


def test_a_failed_check_keeps_its_message_and_lists_only_the_callers_frames():
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.InteractiveTB.set_mode("Context")
    try:
        assert_close(np.ones(3), np.zeros(3), name="out")
    except AssertionError as failure:
        lines = "\n".join(failure._render_traceback_())
    assert "out is wrong: 3 of 3 values differ" in lines
    assert "test_hidden.py" in lines and "testing.py" not in lines


# --- the same helpers in a visible check run by the grader (nngrade.verdicts) -------------------------

NOTEBOOK = """
import numpy as np

def helper(x):
    return x + 2  # the bug: a known-good helper adds 1

def uses_helper(x):
    return helper(x) * 10
"""
CHECK_IMPORTS = ("import numpy as np", "from unittest import mock",
                 "from nnkit.testing import assert_close, known_good, passed")


def grader_verdict(visible_checks: str) -> verdicts.Verdict:
    """The grader's verdict on a test cell whose visible part is ``visible_checks``, against a kernel
    side serving ``NOTEBOOK`` over a socket pair."""
    namespace = {}
    exec(NOTEBOOK, namespace)
    grader_end, kernel_end = socket.socketpair()
    served = channel._Session(kernel_end)
    served.namespace = namespace
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    session = Session(grader_end, deadline=monotonic() + 20, max_reply_bytes=2**20)
    context = verdicts.NotebookContext(frozenset({"helper", "uses_helper"}),
                                       tuple(verdicts.kernel_side_imports("\n".join(CHECK_IMPORTS))), CHECK_IMPORTS)
    try:
        return verdicts.check_cell(session, context, "test_uses_helper", visible_checks)
    finally:
        session.end()
        thread.join(5)


@pytest.mark.parametrize("substitution", ["known_good(globals(), helper=lambda x: x + 1)",
                                          "mock.patch.dict(globals(), helper=lambda x: x + 1)"])
def test_grader_side_known_good_substitutes_like_patch_dict_and_passed_prints(substitution):
    verdict = grader_verdict(
        f"with {substitution}:\n"
        "    assert_close(uses_helper(np.array([2.0])), np.array([30.0]), name='with the known-good helper')\n"
        "assert_close(uses_helper(np.array([2.0])), np.array([40.0]), name='after the block: the notebook helper')\n"
        "passed('uses_helper')\n"
        "### BEGIN HIDDEN TESTS\n"
        f"with {substitution}:\n"
        "    assert_close(uses_helper(np.array([5.0])), np.array([60.0]))\n"
        "### END HIDDEN TESTS")
    assert verdict.passed, verdict.error
    assert verdict.printed == "\u2713 uses_helper: visible checks passed\n"


def test_grader_side_known_good_failure_is_the_checks_message():
    verdict = grader_verdict("with known_good(globals(), helper=lambda x: x + 1):\n"
                             "    assert_close(uses_helper(np.array([2.0])), np.array([31.0]), name='uses_helper(x)')\n"
                             "passed('uses_helper')")
    assert not verdict.passed and verdict.printed == ""
    assert verdict.error[0] == "AssertionError" and verdict.error[1].startswith("uses_helper(x) is wrong: 1 of 1 values differ")
    assert "yours:    [30]" in verdict.error[1]
