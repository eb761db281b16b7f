"""The bubblewrap sandbox around a grading kernel, and its resource limits.

A grading kernel runs a student's code. With ``c.Sandbox.enabled = True`` (``nbgrader_config.py``)
`CourseKernelManager` starts it as::

    bwrap <private view of the file system> -- [setpriv <sandbox uid>] prlimit <limits> -- python -m ipykernel_launcher ...

What the kernel sees (``docs/threat-model.md`` explains why):

- read only: ``/usr`` (the system), a few files of ``/etc``, the Python installation and virtual
  environment, the student toolkit ``lib/nnkit`` (not the rest of ``lib/``: the reference ``nnref``
  and the grader ``nngrade`` are not there) and MNIST's two *training* files from
  ``$NNCOURSE_MNIST_DIR`` when set (the test set belongs to the grader);
- writable: a scratch home ``/home/student`` holding a copy of the student's own submission folder
  (the working directory) and matplotlib's font cache, thrown away afterwards; a small private
  ``/tmp``; the folder of its IPC sockets;
- nothing else: not ``source/``, ``solutions/``, the gradebook, ``nbgrader_config.py``, other
  students' folders or the instructor's home and environment variables;
- no network (a private network namespace; kernel traffic goes over unix sockets, ``transport="ipc"``),
  a private pid namespace (every process of the kernel dies with it), no capabilities, and when the
  grader runs as root, an unprivileged uid of the grading process's own (``sandbox_uid``).

Limits per kernel (``prlimit``): CPU seconds, address space, file size, open files, and processes
(enforced only when the grader runs as root: Linux counts processes per uid, and a user namespace's
processes are the grader's own). Wall time per cell and per submission is enforced by
``nngrade.kernel.GradingExecute``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from traitlets import Bool, Integer, List, Unicode
from traitlets.config import Configurable

# Grading as root, the kernels of each grading process run as uid SANDBOX_UID_BASE + its pid: a uid
# with no account, no files outside the sandbox, and unique among processes running at the same time.
# Linux counts RLIMIT_NPROC per uid, so a fork bomb fills only its own kernel's process table, not
# that of a kernel another job is grading next to it (as one shared ``nobody`` would).
SANDBOX_UID_BASE = 2**30
# The student toolkit, the only course code a kernel can import (nnkit.channel serves the grader):
# not lib/, which also holds the reference (nnref) and the grader (nngrade).
TOOLKIT_DIR = Path(__file__).resolve().parents[1] / "nnkit"
# Files of /etc a Python kernel needs (dynamic linker, user names, time zone, fonts); never shadow.
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf",
             "localtime", "fonts", "alternatives", "mime.types")
# The scratch home inside the sandbox; the working directory is its subfolder named as the assignment.
HOME_INSIDE = Path("/home/student")
# Environment variables passed into the sandbox (everything else of the grader's is dropped).
PASSED_VARIABLES = ("LANG", "LC_ALL", "TZ", "NNCOURSE_GRADING", "NNCOURSE_MNIST_DIR",
                    "MPLBACKEND", "PYTHONDONTWRITEBYTECODE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "MKL_NUM_THREADS")


class SandboxUnavailableError(RuntimeError):
    """The sandbox is enabled but bubblewrap is missing or cannot create namespaces here."""


@functools.cache
def bwrap_problem() -> str | None:
    """Why bubblewrap cannot be used on this machine, or None when a trial sandbox starts."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed: `make setup` installs it, or `apt-get install bubblewrap`"
    trial = subprocess.run([bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
                           capture_output=True, text=True, timeout=30)
    if trial.returncode != 0:
        return f"bubblewrap cannot create namespaces here: {trial.stderr.strip()[:200]}"
    return None


def _ancestors(path: Path) -> list[Path]:
    """``/a``, ``/a/b`` for ``/a/b/c``: the folders bwrap must create before binding ``path``."""
    return list(reversed(path.parents))[1:]


class Sandbox(Configurable):
    """Settings of the grading sandbox (``c.Sandbox.*``) and the command line that applies them."""

    enabled = Bool(False, help="Run grading kernels inside bubblewrap (see docs/threat-model.md).").tag(config=True)
    cpu_seconds = Integer(1800, help="CPU time of the kernel process (RLIMIT_CPU), seconds.").tag(config=True)
    memory_bytes = Integer(8 * 2**30, help="Address space of each kernel process (RLIMIT_AS), bytes.").tag(config=True)
    processes = Integer(256, help="Processes of the sandbox user (RLIMIT_NPROC; only when grading as root).").tag(config=True)
    file_bytes = Integer(256 * 2**20, help="Largest file the kernel may write (RLIMIT_FSIZE), bytes.").tag(config=True)
    open_files = Integer(1024, help="Open file descriptors (RLIMIT_NOFILE).").tag(config=True)
    tmp_bytes = Integer(256 * 2**20, help="Size of the sandbox's private /tmp (memory-backed), bytes.").tag(config=True)
    readable = List(Unicode(), help="Extra host folders visible read-only inside the sandbox.").tag(config=True)

    def check(self) -> None:
        """Raise `SandboxUnavailableError` when bubblewrap cannot be used."""
        problem = bwrap_problem()
        if problem:
            raise SandboxUnavailableError(problem)

    def readable_folders(self, env: Mapping[str, str]) -> list[Path]:
        """Host folders the kernel reads: Python, its environment, the toolkit ``nnkit``, and ``readable``."""
        folders = {Path(sys.prefix), Path(sys.base_prefix), Path(os.path.realpath(sys.executable)).parents[1],
                   TOOLKIT_DIR}
        folders.update(Path(folder) for folder in self.readable)
        existing = sorted(Path(os.path.realpath(folder)) for folder in folders if Path(folder).is_dir())
        # A folder inside another one already listed is bound with it.
        return [folder for folder in existing if not any(other in folder.parents for other in existing)]

    @staticmethod
    def readable_files(env: Mapping[str, str]) -> list[Path]:
        """Single host files the kernel reads: MNIST's *training* files. The test files stay out: the
        test set belongs to the grader, which computes test accuracy in its own process."""
        folder = env.get("NNCOURSE_MNIST_DIR")
        if not folder or not Path(folder).is_dir():
            return []
        return sorted(Path(os.path.realpath(path)) for path in Path(folder).glob("train-*") if path.is_file())

    def command(self, *, workdir: Path, ipc_dir: Path, env: Mapping[str, str]) -> list[str]:
        """The command prefix running a kernel in ``workdir``, a folder of the scratch home (`prepare_home`)."""
        home = workdir.parent
        args = ["bwrap", "--die-with-parent", "--unshare-pid", "--unshare-net", "--unshare-ipc",
                "--unshare-uts", "--unshare-cgroup-try", "--hostname", "grader"]
        as_root = os.geteuid() == 0
        if not as_root:
            args += ["--unshare-user"]
        args += ["--ro-bind", "/usr", "/usr"]
        for name in ("bin", "lib", "lib64", "sbin"):  # merged /usr: symlinks; otherwise real folders
            host = Path("/") / name
            if host.is_symlink():
                args += ["--symlink", os.readlink(host), str(host)]
            elif host.is_dir():
                args += ["--ro-bind", str(host), str(host)]
        for name in ETC_FILES:
            args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        args += ["--perms", "0755", "--dir", "/etc", "--proc", "/proc", "--dev", "/dev",
                 "--perms", "1777", "--size", str(self.tmp_bytes), "--tmpfs", "/tmp"]
        created: set[Path] = {Path("/"), Path("/usr"), Path("/tmp"), Path("/etc")}
        for path in [*self.readable_folders(env), *self.readable_files(env), ipc_dir, HOME_INSIDE]:
            for parent in _ancestors(path):
                if parent not in created:
                    args += ["--perms", "0755", "--dir", str(parent)]
                    created.add(parent)
            created.add(path)
        for path in [*self.readable_folders(env), *self.readable_files(env)]:
            args += ["--ro-bind", str(path), str(path)]
        args += ["--bind", str(ipc_dir), str(ipc_dir), "--bind", str(home), str(HOME_INSIDE),
                 "--chdir", str(HOME_INSIDE / workdir.name), "--"]
        if as_root:
            uid = sandbox_uid()
            args += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                     "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs"]
        args += ["prlimit", f"--cpu={self.cpu_seconds}", f"--as={self.memory_bytes}",
                 f"--fsize={self.file_bytes}", f"--nofile={self.open_files}", "--core=0"]
        if as_root:
            args += [f"--nproc={self.processes}"]
        return [*args, "--"]


def sandbox_environment(env: Mapping[str, str]) -> dict:
    """The kernel's environment inside the sandbox: the grading variables only, the scratch home."""
    kept = {name: env[name] for name in PASSED_VARIABLES if name in env}
    kept.update(HOME=str(HOME_INSIDE), PATH=f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin")
    return kept


def prepare_home(workdir: Path, home: Path) -> Path:
    """A scratch home: a copy of ``workdir`` (the student's folder) and matplotlib's font cache.

    Returns the copy of ``workdir``. Everything belongs to the sandbox user. Without the font cache
    every kernel would rebuild it and log "Matplotlib is building the font cache" on stderr, which
    costs a test cell its points.
    """
    scratch = home / workdir.name
    shutil.copytree(workdir, scratch, symlinks=True)
    cache = home / ".cache" / "matplotlib"
    cache.mkdir(parents=True)
    for fontlist in Path(matplotlib_cache()).glob("fontlist-*.json"):
        shutil.copy(fontlist, cache)
    give_to_sandbox_user([home, *home.rglob("*")])
    return scratch


@functools.cache
def matplotlib_cache() -> str:
    """The grader's matplotlib cache folder, with the font list built (quietly) when missing."""
    import logging

    import matplotlib

    font_logger = logging.getLogger("matplotlib.font_manager")
    level = font_logger.level
    font_logger.setLevel(logging.ERROR)  # "building the font cache" is a warning on stderr
    try:
        import matplotlib.font_manager  # noqa: F401 (builds and saves the font list)
    finally:
        font_logger.setLevel(level)
    return matplotlib.get_cachedir()


def sandbox_uid() -> int:
    """The uid (and gid) the kernels of this grading process run as when it grades as root."""
    return SANDBOX_UID_BASE + os.getpid()


def give_to_sandbox_user(paths: Iterable[Path]) -> None:
    """Make ``paths`` the sandbox user's (``sandbox_uid``) when grading as root; no-op otherwise."""
    if os.geteuid() != 0:
        return
    uid = sandbox_uid()
    for path in paths:
        os.lchown(path, uid, uid)
