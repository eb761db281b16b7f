"""The trust boundary in the layout: what runs in the student's kernel, and what decides a score.

- ``nnkit`` runs in the student's kernel: it never imports the reference (``nnref``) or the grader
  (``nngrade``), and its grading channel (``nnkit.channel``) needs nothing beyond the standard library
  and numpy; the shared numerical helpers (``nnkit.numerics``, ``nnkit.batches``) need only numpy, so
  a notebook that uses them does not pay for importing torch (``nnkit.oracle`` is the torch side);
- ``nnref`` (the answers) never imports the grader;
- grading kernels can import neither: no ``PYTHONPATH``, and the sandbox shows them only ``lib/nnkit``;
- ``nngrade``'s modules import one another without cycles.
"""

import ast
from pathlib import Path

from nngrade import kernel, sandbox

LIB = Path(__file__).resolve().parents[1] / "lib"
CHANNEL_MAY_IMPORT = {"__future__", "io", "json", "operator", "socket", "struct", "sys", "traceback", "builtins",
                      "importlib", "numpy", "torch"}


def imported_modules(path: Path, *, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is None:  # from . import a, b
            found.update("." * node.level + alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + node.module)
    return found


def roots(modules) -> set[str]:
    return {module.split(".")[0] for module in modules if not module.startswith(".")}


def test_the_kernel_side_never_imports_the_reference_or_the_grader():
    for path in (LIB / "nnkit").glob("*.py"):
        assert not roots(imported_modules(path)) & {"nnref", "nngrade"}, path.name


def test_the_channel_needs_only_the_standard_library_and_numpy():
    assert roots(imported_modules(LIB / "nnkit" / "channel.py")) <= CHANNEL_MAY_IMPORT
    assert roots(imported_modules(LIB / "nnkit" / "channel.py", top_level_only=True)) <= CHANNEL_MAY_IMPORT - {"torch"}


def test_the_shared_numerical_helpers_need_only_numpy():
    for name in ("numerics", "batches"):
        modules = imported_modules(LIB / "nnkit" / f"{name}.py")
        assert roots(modules) <= {"__future__", "numpy"}, name
        assert {module for module in modules if module.startswith(".")} <= {".validation"}, name


def test_the_reference_never_imports_the_grader():
    for path in (LIB / "nnref").glob("*.py"):
        assert "nngrade" not in roots(imported_modules(path)), path.name


def test_grading_kernels_cannot_reach_the_reference_or_the_grader():
    environment = kernel.grading_environment({"PYTHONPATH": str(LIB), "PATH": "/usr/bin"})
    assert "PYTHONPATH" not in environment
    readable = sandbox.Sandbox().readable_folders(environment)
    assert sandbox.TOOLKIT_DIR in readable
    for folder in readable:  # the toolkit, or folders that hold no part of lib/ at all
        assert folder == sandbox.TOOLKIT_DIR or not (folder == LIB or folder in LIB.parents or LIB in folder.parents), folder


def test_the_grader_modules_import_each_other_without_cycles():
    modules = {path.stem: path for path in (LIB / "nngrade").glob("*.py")}
    graph = {}
    for name, path in modules.items():
        graph[name] = set()
        for module in imported_modules(path, top_level_only=True):
            if module.startswith("."):
                graph[name].add(module.lstrip(".").split(".")[0])
            elif module.startswith("nngrade."):
                graph[name].add(module.split(".")[1])
        graph[name] &= set(modules) - {name, "__init__"}
    visiting, done = set(), set()

    def visit(node, trail):
        assert node not in visiting, "import cycle: " + " -> ".join([*trail, node])
        if node in done:
            return
        visiting.add(node)
        for neighbour in sorted(graph[node]):
            visit(neighbour, [*trail, node])
        visiting.discard(node)
        done.add(node)

    for name in sorted(graph):
        visit(name, [])
