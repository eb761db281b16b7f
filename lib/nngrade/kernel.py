"""The kernels that execute notebooks: their environment and a hook to wrap their launch.

Grading kernels run with ``PYTHONPATH=<repo>/lib`` (hidden tests import ``nnref`` and
``nngrade.hidden``), ``NNCOURSE_GRADING=1`` (progress bars fall silent) and ``MPLBACKEND=Agg``;
``NNCOURSE_MNIST_DIR`` passes through from the instructor's environment. Student kernels get the
same environment without ``PYTHONPATH``: only the installed ``nnkit`` is importable there.

``CourseKernelManager.launcher`` is a command prefix for the kernel process (configurable,
e.g. ``c.CourseKernelManager.launcher = ["bwrap", ..., "--"]``), the place to sandbox student code.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbgrader.preprocessors import Execute
from traitlets import Dict, List, Unicode

LIB_DIR = Path(__file__).resolve().parents[1]


def grading_environment(base: Mapping | None = None) -> dict:
    """The environment of a grading kernel, built from ``base`` (default: ``os.environ``)."""
    env = dict(os.environ if base is None else base)
    env.update(PYTHONPATH=str(LIB_DIR), NNCOURSE_GRADING="1", MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    return env


def student_environment(base: Mapping | None = None) -> dict:
    """The environment of a student's kernel: no ``PYTHONPATH``, so neither ``nnref`` nor ``nngrade``."""
    env = dict(os.environ if base is None else base)
    for name in ("PYTHONPATH", "NNCOURSE_GRADING"):
        env.pop(name, None)
    env["MPLBACKEND"] = "Agg"
    return env


class CourseKernelManager(AsyncKernelManager):
    """A kernel manager that sets the kernel's environment and can prefix its command line."""

    launcher = List(Unicode(), help="Command prefix wrapping the kernel process (e.g. a sandbox).").tag(config=True)
    kernel_env = Dict(help="The kernel's whole environment; empty means grading_environment().").tag(config=True)

    def format_kernel_cmd(self, extra_arguments=None):
        # The kernel's own log (e.g. its warning about unencrypted local TCP) is noise in every run.
        command = super().format_kernel_cmd([*(extra_arguments or []), "--IPKernelApp.log_level=ERROR"])
        return [*self.launcher, *command]

    async def _async_pre_start_kernel(self, **kw):
        kw["env"] = dict(self.kernel_env) or grading_environment(kw.get("env"))
        kw.setdefault("stderr", subprocess.STDOUT)  # the kernel process's own stderr joins stdout
        return await super()._async_pre_start_kernel(**kw)


class GradingExecute(Execute):
    """nbgrader's Execute preprocessor with kernels started by ``CourseKernelManager``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", CourseKernelManager)
        super().__init__(*args, **kwargs)
