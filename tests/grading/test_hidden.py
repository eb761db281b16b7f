"""The hidden-test helpers (nngrade.hidden) and the visible-test helpers (nnkit.testing).

Oracles: torch.sigmoid / torch.relu for reference outputs, hand-made inputs for every check stage.
"""

import math
import warnings

import numpy as np
import pytest
import torch

from nngrade import hidden
from nngrade.hidden import check_globals, check_mutation, compare, random_cases
from nnkit.testing import assert_close, assert_raises, assert_shape


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
