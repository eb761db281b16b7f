"""A test cell's verdict, decided in the grader's process.

The kernel runs the visible part of a test cell, as the student saw it in JupyterLab; its outputs
decide nothing. Then the grader runs the whole cell's checks here: the visible part again and the
hidden part, against the kernel through ``nngrade.remote``. The cell's outputs are replaced by what
the grader printed and its verdict, so nbgrader scores what the grader decided.

Names a check uses resolve, in order, to what the check itself defines, Python's builtins, the
imports of the instructor's source notebook, and last the notebook's globals in the kernel (as data
or proxies). The *visible* part imports only the checking helpers here (numpy, ``nnkit.testing``,
``nnkit.gradcheck``, ``unittest.mock``); every other module it imports, or the notebook imports
(torch, scikit-learn, warnings, tempfile), is the kernel's, so that objects it builds live next to the
notebook's code, as in JupyterLab. A kernel can only make those checks fail, never pass the hidden
ones: the *hidden* part imports every module in the grader, computes every expected value here, and
reaches the notebook only through the names it calls (and ``nngrade.hidden.in_kernel``).

Rebinding a graded function's name in a check (``perceptron_epoch = scripted_epoch(...)``, also via
``nnkit.testing.known_good(globals(), ...)`` or ``mock.patch.dict(globals(), ...)``: ``globals()`` is
the check's namespace here) makes the notebook's other functions call the check's version during the
calls the check makes meanwhile, as rebinding the global in the notebook did. What a visible part
prints (``nnkit.testing.passed``'s line) comes before the grader's verdict in the cell's outputs.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import contextvars
import io
import warnings
from dataclasses import dataclass, field

from . import notebooks
from .remote import BadReply, ChannelClosed, ChannelTimeout, NotebookError, Session

# Modules a visible check uses in the grader's process: pure checking helpers.
GRADER_SIDE_VISIBLE = ("numpy", "nnkit.testing", "nnkit.gradcheck", "unittest")  # and their submodules
MAX_PRINTED = 20_000  # characters of what a check prints that the cell keeps

_current: contextvars.ContextVar[Session | None] = contextvars.ContextVar("grading_session", default=None)
_raised_flags: contextvars.ContextVar[list | None] = contextvars.ContextVar("grading_flags", default=None)


def current_session() -> Session:
    """The session of the test cell being checked (for ``nngrade.hidden``)."""
    session = _current.get()
    if session is None:
        raise RuntimeError("no notebook is being graded: hidden checks run inside the grader")
    return session


def raise_flag(kind: str, reason: str) -> None:
    """Flag the submission from a check (e.g. ``out_of_time``): recorded with the cell's verdict."""
    found = _raised_flags.get()
    if found is None:
        raise RuntimeError("no notebook is being graded: flags are raised by checks inside the grader")
    found.append((kind, reason))


@dataclass(frozen=True)
class NotebookContext:
    """What the grader takes from the instructor's source notebook: never from the submission."""

    graded_names: frozenset
    visible_imports: tuple
    hidden_imports: tuple

    @classmethod
    def from_source(cls, source_notebook) -> "NotebookContext":
        graded, imports = set(), []
        for cell in source_notebook.cells:
            if cell.cell_type != "code" or notebooks.is_autograded_test(cell):
                continue
            tree = _parse(notebooks.solution_text(cell) if notebooks.is_solution_cell(cell) else cell.source)
            for node in tree.body if tree is not None else []:
                if notebooks.is_solution_cell(cell) and isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    graded.add(node.name)
                elif not notebooks.is_solution_cell(cell) and isinstance(node, (ast.Import, ast.ImportFrom)):
                    imports.append(ast.unparse(node))
        imports = tuple(dict.fromkeys(imports))
        return cls(frozenset(graded), tuple(kernel_side_imports("\n".join(imports))), imports)


def _parse(source: str):
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def _grader_side(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in GRADER_SIDE_VISIBLE)


def kernel_side_imports(source: str) -> list[str]:
    """``source`` with each import of a module that is not a checking helper rewritten to bind the
    kernel's module (``import torch.nn as nn`` -> ``nn = __kernel_module__("torch.nn")``)."""
    tree = _parse(source)
    if tree is None:
        return [source]

    class Rewrite(ast.NodeTransformer):
        def visit_Import(self, node):
            if all(_grader_side(alias.name) for alias in node.names):
                return node
            return [_assign(alias.asname or alias.name.split(".")[0],
                            _kernel_module(alias.name if alias.asname else alias.name.split(".")[0]))
                    for alias in node.names]

        def visit_ImportFrom(self, node):
            if node.level or _grader_side(node.module or "") or any(alias.name == "*" for alias in node.names):
                return node
            return [_assign(alias.asname or alias.name, ast.Call(func=ast.Name("__kernel_from__", ast.Load()),
                                                                   args=[ast.Constant(node.module), ast.Constant(alias.name)],
                                                                   keywords=[]))
                    for alias in node.names]

    rewritten = ast.fix_missing_locations(Rewrite().visit(tree))
    return [ast.unparse(rewritten)]


def _kernel_module(name: str):
    return ast.Call(func=ast.Name("__kernel_module__", ast.Load()), args=[ast.Constant(name)], keywords=[])


def _assign(name: str, value) -> ast.Assign:
    return ast.Assign(targets=[ast.Name(name, ast.Store())], value=value)


class CheckNamespace(dict):
    """The globals of a check: missing names are looked up in the notebook (after the builtins)."""

    def __init__(self, session: Session, context: NotebookContext, imports):
        super().__init__(__builtins__=builtins.__dict__, __name__="__grader__",
                         __kernel_module__=session.module, __kernel_from__=session.import_from)
        self._session, self._context, self._notebook = session, context, {}
        for statement in imports:
            exec(compile(statement, "<source notebook imports>", "exec"), self)

    def __missing__(self, name):
        if name in builtins.__dict__ or name.startswith("__"):
            raise KeyError(name)
        try:
            value = self._session.lookup(name)
        except NotebookError as error:
            if error.type_name == "NameError":
                raise NameError(f"name '{name}' is not defined in your notebook (run every cell above "
                                "before submitting)", name=name) from None
            raise
        self._notebook[name] = value
        self[name] = value
        return value

    def overrides(self) -> dict:
        """Graded functions this check has rebound: the notebook's code calls these during its calls."""
        return {name: self[name] for name in self._context.graded_names
                if dict.__contains__(self, name) and self[name] is not self._notebook.get(name)}


@dataclass
class Verdict:
    passed: bool
    printed: str = ""
    error: tuple[str, str] | None = None  # (ename, evalue) of the failing check
    channel_problem: str | None = None  # the kernel timed out or hung up: the runner must recover it
    suspicious: list = field(default_factory=list)  # what the kernel sent that was not data
    flags: list = field(default_factory=list)  # (kind, reason) raised by the checks


def split_hidden(source: str) -> tuple[str, str]:
    """``(visible, hidden)`` parts of a test cell's source (the hidden part without its markers)."""
    begin, end = notebooks.HIDDEN_MARKERS
    visible, hidden, inside = [], [], False
    for line in source.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        else:
            (hidden if inside else visible).append(line)
    return "\n".join(visible), "\n".join(hidden)


def check_cell(session: Session, context: NotebookContext, grade_id: str, source: str) -> Verdict:
    """Run every check of one test cell against the kernel; the grader's verdict for the cell."""
    visible, hidden = split_hidden(source)
    printed, raised = io.StringIO(), []
    token, flags_token = _current.set(session), _raised_flags.set(raised)
    try:
        verdict = _run_checks(session, context, grade_id, visible, hidden, printed)
    finally:
        session.overrides = lambda: {}
        _current.reset(token)
        _raised_flags.reset(flags_token)
    verdict.flags = raised
    return verdict


def _run_checks(session, context, grade_id, visible, hidden, printed) -> Verdict:
    """The verdict of the first part that fails. After a failing visible part the hidden part still
    runs, silently, for the flags it raises (a training stopped by its cap is flagged either way)."""
    verdict = None
    for part, code, imports in (("visible", visible, context.visible_imports), ("hidden", hidden, context.hidden_imports)):
        if not code.strip():
            continue
        if part == "visible":
            code = "\n".join(kernel_side_imports(code))
        outcome = _run_part(session, context, f"<{grade_id}: {part} checks>", code, imports,
                            printed if verdict is None else io.StringIO(), strict=part == "hidden")
        if verdict is None and outcome is not None:
            verdict = outcome
        if outcome is not None and outcome.channel_problem is not None:
            break
    if verdict is None:
        return Verdict(True, _cut(printed.getvalue()))
    verdict.printed = _cut(printed.getvalue())
    return verdict


def _run_part(session, context, filename, code, imports, printed, *, strict: bool) -> Verdict | None:
    """Run one part of a test cell; None when every check passed, else the failing verdict. ``strict``
    (the hidden part): a notebook object's operators and truth value are refused (``Remote``)."""
    namespace = CheckNamespace(session, context, imports)
    session.overrides = namespace.overrides
    session.strict = strict
    try:
        with contextlib.redirect_stdout(printed), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(code, filename, "exec"), namespace)
    except (ChannelTimeout, ChannelClosed) as problem:
        kind = "TimeoutError" if isinstance(problem, ChannelTimeout) else "KernelError"
        return Verdict(False, error=(kind, f"{problem}"), channel_problem=str(problem))
    except BadReply as error:
        message = f"your code returned something the grader cannot read: {error}"
        return Verdict(False, error=("AssertionError", message), suspicious=[str(error)])
    except NotebookError as error:
        return Verdict(False, error=(error.type_name, f"your code raised {error.type_name}: "
                                                      f"{_cut(str(error), 1000)}{error.location()}"))
    except AssertionError as error:
        return Verdict(False, error=("AssertionError", _cut(str(error) or "a check failed", 4000)))
    except Exception as error:  # a check crashed on what the notebook returned: a wrong answer too
        return Verdict(False, error=(type(error).__name__, f"the check could not use your result: "
                                                           f"{type(error).__name__}: {_cut(str(error), 1000)}"))
    finally:
        session.overrides = lambda: {}
        session.strict = False
    return None


def _cut(text: str, limit: int = MAX_PRINTED) -> str:
    return text if len(text) <= limit else text[:limit] + "\n[... cut by the grader]"
