"""Tamper detection without a kernel: the probe's report of this very process, its comparison with a
baseline, and the checks of a probe's reply (the grading kernels are exercised by tests/hostile)."""

import builtins
import json
import math
import sys
import types
import warnings

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell

import nngrade.hidden
from nngrade import tamper
from nngrade.tamper import HookWatch, ProbeError, probe_expression, read_report, summarize


def report_text(nonce: str = "nonce-0", imports=()) -> str:
    return tamper.kernel_report(nonce, [str(tamper.LIB_DIR)], list(imports))


def entries() -> dict:
    """A later probe's entries (it imports nothing)."""
    return json.loads(report_text().split("\n", 1)[1])["entries"]


def baseline() -> HookWatch:
    """The watch made from a baseline probe, which imports the modules it protects first."""
    return HookWatch(json.loads(report_text(imports=tamper.BASELINE_IMPORTS).split("\n", 1)[1])["entries"])


def reply_with(value, status: str = "ok") -> dict:
    """The content of an execute_reply whose user expression evaluated to ``value``."""
    return {"status": "ok", "user_expressions": {"report": {"status": status, "data": {"text/plain": repr(value)}}}}


def forged(*args, **kwargs):
    """A notebook's stand-in for a comparison helper or a hook."""
    return True


class FakeShell:
    """The IPython hooks a submission can reach, on an object the probe finds as the running shell."""

    def __init__(self):
        self.input_transformer_manager = types.SimpleNamespace(
            cleanup_transforms=[], line_transforms=[], token_transformers=[])
        self.input_transformers_post = []
        self.ast_transformers = []
        self.custom_exceptions = ()
        self.events = types.SimpleNamespace(callbacks={"post_execute": [], "pre_run_cell": []})

    @property
    def input_transformers_cleanup(self):
        return self.input_transformer_manager.cleanup_transforms

    def showtraceback(self, *args, **kwargs):
        """IPython's traceback printer."""


@pytest.fixture
def shell(monkeypatch):
    fake = FakeShell()
    monkeypatch.setattr(InteractiveShell, "_instance", fake)
    return fake


# --- the report of an untouched process ---------------------------------------------------------------


def test_report_covers_the_hooks_and_helpers():
    found = entries()
    for key in ("sys.excepthook", "math.isclose", "numpy.testing.assert_allclose", "numpy.allclose",
                "builtins.isinstance", "builtins.__import__", "nngrade.hidden.compare",
                "nngrade.hidden._compare_values", "nngrade.hidden._testing.compare_values",
                "sys.modules['nngrade.hidden']", "get_ipython().ast_transformers"):
        assert key in found, key


def test_legitimate_imports_and_settings_change_nothing():
    watch = baseline()
    with warnings.catch_warnings(), np.printoptions(precision=3):
        warnings.simplefilter("ignore")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        import matplotlib.pyplot  # noqa: F401
        import tqdm.auto  # noqa: F401

        import nnref.activations  # noqa: F401 (what hidden tests import)
        print("a student's print")
        assert watch.changes(entries()) == []
    assert watch.changes(entries()) == []


@pytest.mark.slow
def test_importing_torch_changes_nothing():
    watch = baseline()
    import torch  # noqa: F401

    import nnref.frameworks  # noqa: F401
    assert watch.changes(entries()) == []


# --- what a submission can reassign -------------------------------------------------------------------


@pytest.mark.parametrize("owner, attribute, key", [
    (math, "isclose", "math.isclose"),
    (np.testing, "assert_allclose", "numpy.testing.assert_allclose"),
    (np.testing, "assert_array_equal", "numpy.testing.assert_array_equal"),
    (np, "allclose", "numpy.allclose"),
    (np, "isclose", "numpy.isclose"),
    (builtins, "isinstance", "builtins.isinstance"),
    (nngrade.hidden, "compare", "nngrade.hidden.compare"),
    (nngrade.hidden, "_compare_values", "nngrade.hidden._compare_values"),
    (nngrade.hidden._testing, "compare_values", "nngrade.hidden._testing.compare_values"),
    (sys, "excepthook", "sys.excepthook"),
])
def test_reassigned_helper_or_hook_is_named(monkeypatch, owner, attribute, key):
    watch = baseline()
    original = getattr(owner, attribute)
    replacement = lambda *args, **kwargs: original(*args, **kwargs)  # noqa: E731 (as a notebook would)
    monkeypatch.setattr(owner, attribute, replacement)
    assert watch.changes(entries()) == [f"{key} replaced by {replacement.__module__}.{replacement.__qualname__}"]


def test_changed_defaults_or_code_of_a_helper_are_detected(monkeypatch):
    watch = baseline()
    loose = {**nngrade.hidden.compare.__kwdefaults__, "rtol": 1e9}
    monkeypatch.setattr(nngrade.hidden.compare, "__kwdefaults__", loose)
    assert [change.split(" ")[0] for change in watch.changes(entries())] == ["nngrade.hidden.compare"]
    monkeypatch.undo()
    monkeypatch.setattr(nngrade.hidden.check_mutation, "__code__", forged.__code__)
    assert [change.split(" ")[0] for change in watch.changes(entries())] == ["nngrade.hidden.check_mutation"]


def test_removed_grader_module_is_detected(monkeypatch):
    watch = baseline()
    monkeypatch.delitem(sys.modules, "nngrade.hidden")
    assert "sys.modules['nngrade.hidden'] removed" in watch.changes(entries())


def test_module_imported_later_joins_the_reference_and_is_checked_from_then_on(monkeypatch):
    watch = baseline()
    later = types.ModuleType("nnref.later")
    later.__file__ = str(tamper.LIB_DIR / "nnref" / "later.py")
    later.dumps = json.dumps  # installed code: accepted
    monkeypatch.setitem(sys.modules, "nnref.later", later)
    assert watch.changes(entries()) == []
    monkeypatch.setattr(later, "dumps", forged)
    assert watch.changes(entries()) == [f"nnref.later.dumps replaced by {forged.__module__}.forged"]


def test_module_imported_later_with_notebook_code_in_it_is_detected(monkeypatch):
    watch = baseline()
    patched = types.ModuleType("nnref.patched")
    patched.__file__ = str(tamper.LIB_DIR / "nnref" / "patched.py")
    patched.sigmoid = forged  # compiled outside the Python installation and lib/: notebook code
    monkeypatch.setitem(sys.modules, "nnref.patched", patched)
    assert watch.changes(entries()) == [f"nnref.patched.sigmoid is {forged.__module__}.forged from {__file__}"]


# --- IPython's hooks (a stand-in shell: the real one lives in the kernel) ------------------------------


@pytest.mark.parametrize("install, key", [
    (lambda shell: shell.input_transformers_cleanup.append(forged), "get_ipython().input_transformers_cleanup"),
    (lambda shell: shell.input_transformers_post.append(forged), "get_ipython().input_transformers_post"),
    (lambda shell: shell.ast_transformers.append(object()), "get_ipython().ast_transformers"),
    (lambda shell: setattr(shell, "custom_exceptions", (AssertionError,)), "get_ipython().custom_exceptions"),
    (lambda shell: setattr(shell, "showtraceback", forged), "get_ipython().showtraceback"),
    (lambda shell: shell.events.callbacks["post_execute"].append(forged),
     "get_ipython().events.callbacks['post_execute']"),
])
def test_installed_ipython_hook_is_named(shell, install, key):
    watch = baseline()
    install(shell)
    changes = watch.changes(entries())
    assert len(changes) == 1 and changes[0].startswith(key), changes


def test_event_callback_of_an_installed_library_is_accepted_but_not_its_removal(shell):
    watch = baseline()
    shell.events.callbacks["post_execute"].append(json.dumps)  # as %matplotlib inline registers flush_figures
    assert watch.changes(entries()) == []
    shell.events.callbacks["post_execute"].clear()
    assert watch.changes(entries()) == ["get_ipython().events.callbacks['post_execute']: removed json.dumps"]


# --- the probe's reply -----------------------------------------------------------------------------------


def test_probe_expression_runs_in_its_own_namespace():
    notebook = {"__builtins__": builtins, "exec": None, "eval": None, "compile": None, "json": None}
    text = eval(probe_expression("nonce-1", baseline=True), notebook)  # noqa: S307 (what the kernel does)
    assert set(read_report(reply_with(text), "nonce-1")) == set(entries())
    assert set(notebook) == {"__builtins__", "exec", "eval", "compile", "json"}


def test_report_with_the_wrong_nonce_is_rejected():
    with pytest.raises(ProbeError, match="nonce"):
        read_report(reply_with(report_text("nonce-old")), "nonce-new")


def test_report_changed_after_its_digest_is_rejected():
    digest, text = report_text("nonce-2").split("\n", 1)
    with pytest.raises(ProbeError, match="nonce"):
        read_report(reply_with(digest + "\n" + text.replace("builtins", "Builtins", 1)), "nonce-2")


@pytest.mark.parametrize("reply, message", [
    ({"status": "error", "ename": "KeyboardInterrupt"}, "refused the probe"),
    ({"status": "ok", "user_expressions": {}}, "holds no report"),
    ({"status": "ok", "user_expressions": {"report": {"status": "error", "ename": "NameError", "evalue": "x"}}},
     "failed in the kernel: NameError"),
    (reply_with("no digest line"), "garbled"),
    ({"status": "ok", "user_expressions": {"report": {"status": "ok", "data": {"text/plain": "pass"}}}}, "garbled"),
    ({"status": "ok", "user_expressions": {"report": {"status": "ok", "data": {}}}}, "garbled"),
])
def test_missing_or_garbled_report_is_rejected(reply, message):
    with pytest.raises(ProbeError, match=message):
        read_report(reply, "nonce-3")


def test_summary_names_the_first_changes_and_counts_the_rest():
    assert summarize(["a", "b", "c", "d", "e"]) == "a; b; c (and 2 more)"
    assert summarize(["a"]) == "a"
