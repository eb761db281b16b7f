"""The course's JupyterLab: per-cell time limits, and a Validate button that never stalls the server.

A long cell (homework 2 trains for minutes) carries its own time limit in its metadata,
``{"nncourse": {"timeout": <seconds>}}``; every other cell has the notebook's default
(``{"nncourse": {"timeout": ...}}`` in the notebook's metadata, else 60 s). Validate in JupyterLab,
``nbgrader validate`` and the grader all honour these limits:

- ``cell_timeouts(default)`` is nbclient's ``timeout_func``: ``c.Execute.timeout_func =
  cell_timeouts(60)`` in ``nbgrader_config.py`` gives ``nbgrader validate`` the per-cell limits (nbclient
  hands the function the cell alone, so there ``default`` stands for the notebook's default too).
- This module is also a Jupyter server extension serving nbgrader's ``POST /assignments/validate``.
  nbgrader 0.9's own handler runs the whole notebook inside the server's event loop: the server answers
  nothing until the notebook has run, and a cell over its limit shows up as the errors of the cells
  after it (``NameError``), the reason only in the server's log. Here each Validate runs in a process of
  its own, awaited from a worker thread (nbgrader's Validator changes the working directory and the
  environment while it runs, which must not happen to the server's), with the per-cell limits and
  the notebook's default; a cell over its limit is reported as such and the cells after it are not run.
  The handler is placed ahead of every other route, so it answers even while nbgrader's
  ``validate_assignment`` extension is enabled; the course's install disables that one anyway:

      jupyter server extension disable --sys-prefix nbgrader.server_extensions.validate_assignment
      jupyter server extension enable --sys-prefix nnkit.lab

Only the standard library is imported at the top: the grader imports ``cell_timeout`` from here, and
Jupyter and nbgrader are imported by the functions that need them.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import html
import json
import math
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["DEFAULT_CELL_TIMEOUT", "cell_timeout", "cell_timeouts", "notebook_default_timeout", "validate"]

DEFAULT_CELL_TIMEOUT = 60  # seconds a cell gets when neither it nor its notebook asks for another limit


def _seconds(value) -> float | None:
    """``value`` if it is a usable time limit (a finite positive number of seconds), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        return None
    return value


def _nncourse(node) -> dict:
    metadata = node.get("metadata") if isinstance(node, dict) else None
    settings = metadata.get("nncourse") if isinstance(metadata, dict) else None
    return settings if isinstance(settings, dict) else {}


def cell_timeout(cell) -> float | None:
    """The time limit, in seconds, that a cell asks for in ``metadata.nncourse.timeout``; None when it
    asks for none (or for something that is not a positive number of seconds)."""
    return _seconds(_nncourse(cell).get("timeout"))


def notebook_default_timeout(notebook, default: float = DEFAULT_CELL_TIMEOUT) -> float:
    """The limit of the notebook's cells that ask for none: ``metadata.nncourse.timeout`` of the
    notebook, else ``default``."""
    return _seconds(_nncourse(notebook).get("timeout")) or default


def cell_timeouts(default: float):
    """nbclient's ``timeout_func``: each cell's own ``metadata.nncourse.timeout``, else ``default``
    seconds (never None, so no cell runs without a limit)."""
    if _seconds(default) is None:
        raise ValueError(f"cell_timeouts: default should be a positive number of seconds, got {default!r}")

    def timeout_func(cell) -> float:
        own = cell_timeout(cell)
        return default if own is None else own

    return timeout_func


def timeout_message(cell_number: int, seconds: float) -> str:
    """What Validate says about a cell that ran longer than its limit."""
    return (f"cell {cell_number} ran longer than its limit of {seconds:g} s and was interrupted; the cells after "
            "it were not run. The grader gives this cell the same limit: make it faster, or run it on its own "
            "to see how long it takes.")


# --- validation ------------------------------------------------------------------------------------------


def validate(path, config=None) -> dict:
    """Validate the notebook at ``path`` as nbgrader's Validator does, with per-cell time limits.

    Returns nbgrader's result dict (``{"failed": [{"source", "error", "raw_error"}, ...]}`` and the like,
    ``{}`` when every test passes). A cell that ran longer than its limit comes first among the failed
    cells, with ``timeout_message``; the cells after it are not run, so their failures (the names the
    interrupted cell did not define) are not reported. ``config``: a traitlets ``Config`` (default:
    nbgrader's, from the Jupyter config folders and the working directory, as its handler loads it).
    """
    import nbformat

    path = Path(path).resolve()
    config = copy.deepcopy(_nbgrader_config() if config is None else config)
    configured = _seconds(config.Execute.timeout) if "timeout" in config.Execute else None
    default = notebook_default_timeout(nbformat.read(str(path), as_version=4), configured or DEFAULT_CELL_TIMEOUT)
    config.Execute.timeout = default
    config.Execute.timeout_func = cell_timeouts(default)
    validator = _validator_class()(config=config)
    results = validator.validate(str(path))
    if validator.timed_out is not None and not (results.get("changed") or results.get("type_changed")):
        source, cell_number, seconds = validator.timed_out
        message = timeout_message(cell_number, seconds)
        timed_out = {"source": source.strip(), "error": html.escape(message), "raw_error": message}
        others = [failed for failed in results.get("failed", []) if failed["source"] != timed_out["source"]]
        results["failed"] = [timed_out, *others]  # a test cell over its limit is listed once, as a timeout
    return results


def _nbgrader_config():
    """nbgrader's configuration as its Validate handler loads it (Jupyter config folders, working directory)."""
    from nbgrader.apps import NbGrader

    app = NbGrader()
    app.load_config_file()
    return app.config


@functools.cache
def _validator_class():
    """nbgrader's Validator whose Execute step records a cell over its limit and stops there."""
    from jupyter_core.utils import run_sync
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, Execute
    from nbgrader.validator import Validator

    class LimitedExecute(Execute):
        async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
            if self.parent.timed_out is not None:  # what follows a cell over its limit fails for that reason
                return cell
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)

        execute_cell = run_sync(async_execute_cell)  # nbclient binds its own coroutine otherwise

        async def _async_handle_timeout(self, timeout, cell=None):
            number = next((index + 1 for index, each in enumerate(self.nb.cells) if each is cell), 0)
            self.parent.timed_out = (cell.source if cell is not None else "", number, timeout)
            return await super()._async_handle_timeout(timeout, cell)

    class LimitedValidator(Validator):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.preprocessors = [CheckCellMetadata, ClearOutput, LimitedExecute]
            self.timed_out: tuple[str, int, float] | None = None  # (source, 1-based cell number, limit)

    return LimitedValidator


def _validate_and_report(path: str) -> dict:
    """The reply of the Validate handler for ``path``: ``{"success": bool, "value": results or message}``."""
    try:
        return {"success": True, "value": validate(path)}
    except Exception as error:  # noqa: BLE001 (every failure is the student's answer: nbgrader's handler does the same)
        import traceback

        from nbgrader.nbgraderformat import SchemaTooNewError, SchemaTooOldError

        if isinstance(error, SchemaTooOldError):
            message = (f"The notebook '{path}' uses an old version of the nbgrader metadata format. Please **back up "
                       f"this notebook** and then update the metadata using:\n\nnbgrader update {path}\n")
        elif isinstance(error, SchemaTooNewError):
            message = (f"The notebook '{path}' uses a newer version of the nbgrader metadata format. Please update "
                       "your version of nbgrader to the latest version to be able to use this notebook.")
        else:
            message = traceback.format_exc()
        return {"success": False, "value": message}


def _validate_in_subprocess(path: Path) -> tuple[dict, str]:
    """Run ``python -m nnkit.lab <path>`` (the Validate of one notebook); its reply and its log."""
    finished = subprocess.run([sys.executable, "-m", "nnkit.lab", str(path)], capture_output=True, text=True,
                              cwd=os.getcwd(), check=False)
    lines = finished.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1]), finished.stderr
    except (IndexError, json.JSONDecodeError):
        reason = finished.stderr.strip().splitlines()[-1:] or [f"exit status {finished.returncode}"]
        return {"success": False, "value": f"Validate could not run the notebook: {reason[0]}"}, finished.stderr


def _main(argv) -> int:
    """``python -m nnkit.lab NOTEBOOK``: validate one notebook, print the handler's JSON reply on the last line."""
    if len(argv) != 1:
        print("usage: python -m nnkit.lab NOTEBOOK", file=sys.stderr)
        return 2
    # nbformat validates with jsonschema, which imports the optional IRI checker rfc3987_syntax when it
    # is installed; that compiles a grammar for seconds on every Validate. Notebooks have no IRI fields.
    sys.modules.setdefault("rfc3987_syntax", None)
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries the reply alone
        reply = _validate_and_report(argv[0])
    print(json.dumps(reply))
    return 0


# --- the Jupyter server extension --------------------------------------------------------------------


def _jupyter_server_extension_points():
    return [{"module": "nnkit.lab"}]


def _handlers():
    """Tornado handlers for nbgrader's Validate URLs: ours for validating, nbgrader's for its version check."""
    from jupyter_server.base.handlers import JupyterHandler
    from nbgrader.server_extensions.validate_assignment.handlers import NbGraderVersionHandler
    from tornado import web

    class ValidateHandler(JupyterHandler):
        @web.authenticated
        async def post(self):
            try:
                path = self.get_argument("path")
            except web.MissingArgumentError:
                path = (self.get_json_body() or {}).get("path")
            if not isinstance(path, str) or not path:
                raise web.HTTPError(400, "no notebook path given")
            root = Path(self.settings["root_dir"]).resolve()
            target = (root / path).resolve()
            if not target.is_relative_to(root):
                raise web.HTTPError(403, "Access denied: path outside allowed directory")
            reply, log = await asyncio.to_thread(_validate_in_subprocess, target)
            if log.strip():
                self.log.info("Validate %s:\n%s", target, log.rstrip())
            self.finish(json.dumps(reply))

    return [(r"/assignments/validate", ValidateHandler), (r"/nbgrader_version", NbGraderVersionHandler)]


def _load_jupyter_server_extension(server_app):
    """Route nbgrader's Validate URLs to this module, ahead of every other route."""
    from jupyter_server.utils import url_path_join

    web_app = server_app.web_app
    web_app.settings.setdefault("root_dir", server_app.root_dir)
    base_url = web_app.settings["base_url"]
    rules = web_app.default_router.rules
    before = list(rules)
    web_app.add_handlers(".*$", [(url_path_join(base_url, pattern), handler) for pattern, handler in _handlers()])
    # Tornado routes a request to the first rule that matches: ours first, whatever loaded before or after.
    added = [rule for rule in rules if not any(rule is old for old in before)]
    rules[:] = added + [rule for rule in rules if not any(rule is new for new in added)]
    server_app.log.info("nnkit.lab: Validate runs each notebook in a process of its own, with per-cell time limits")


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
