"""The bubblewrap sandbox around a grading kernel, and its resource limits.

A grading kernel runs a student's code. With ``c.Sandbox.enabled = True`` (``nbgrader_config.py``)
`CourseKernelManager` starts it as::

    bwrap <private view of the file system> -- [setpriv <sandbox uid>] prlimit <limits> -- python -m ipykernel_launcher ...

What the kernel sees (``docs/threat-model.md`` explains why):

- read only: ``/usr`` (the system), a few files of ``/etc``, the Python installation and virtual
  environment, the student toolkit ``lib/nnkit`` (not the rest of ``lib/``: the reference ``nnref``
  and the grader ``nngrade`` are not there) and MNIST's two *training* files from
  ``$NNCOURSE_MNIST_DIR`` when set (the test set belongs to the grader);
- writable: a scratch home ``/home/student``, a memory-backed file system of ``home_bytes``
  into which the student's own submission folder (the working directory) and matplotlib's font cache
  are copied when the kernel starts, thrown away afterwards; a private ``/tmp`` of ``tmp_bytes``; the
  folder of its IPC sockets (watched: see below);
- nothing else: not ``source/``, ``solutions/``, the gradebook, ``nbgrader_config.py``, other
  students' folders or the instructor's home and environment variables;
- no network (a private network namespace; kernel traffic goes over unix sockets, ``transport="ipc"``),
  a private pid namespace (every process of the kernel dies with it), no capabilities, and when the
  grader runs as root, an unprivileged uid of the grading process's own (``sandbox_uid``).

Limits per kernel process (``prlimit``): CPU seconds, address space, file size, open files, and
processes (enforced only when the grader runs as root: Linux counts processes per uid, and a user
namespace's processes are the grader's own).

Limits per submission: its whole memory, ``total_memory_bytes``, and what it can write. Everything
writable is memory-backed and of a fixed size (``/tmp`` and the home), except the socket folder, so
a submission writes nothing to the grader's disk beyond that. `Watchdog` measures, from the grader's
side, the memory of all the kernel's processes (forked children included) and the socket folder
several times a second, and kills the kernel beyond its share (`record_limit`: ``nngrade.grade``
flags the submission ``resource_limit``). Wall time per cell and notebook is enforced by
``nngrade.kernel.GradingExecute``, that of the whole submission by ``nngrade.grade``.
"""

from __future__ import annotations

import functools
import os
import shutil
import stat
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

from traitlets import Bool, Float, Integer, List, Unicode
from traitlets.config import Configurable

from . import notebooks

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
# Where the kernel's first process finds the grader's copy of the home (read-only) to copy it into the
# memory-backed home before Python starts.
SEED_INSIDE = Path("/run/nngrade-home")
# The shell script that starts the kernel: ``sh -c FILL_HOME nngrade-home <seed> <home> <folder> -- <kernel
# command>`` copies the seed's two folders (`prepare_home`) into the home (keeping symlinks, modes and
# times), enters the submission folder and runs the kernel command in its place.
FILL_HOME = ('cd "$1" && cp -PR --preserve=mode,timestamps -- "$3" .cache "$2/" && cd "$2/$3" && shift 4 '
             '&& exec "$@"; exit 97')
# Entries of the socket folder: the kernel's sockets, the grading channel's and the connection file.
# A kernel that puts anything else there (a file, a folder) or more entries writes to the grader's disk.
SOCKET_FOLDER_ENTRIES = 64
# Environment variables passed into the sandbox (everything else of the grader's is dropped).
PASSED_VARIABLES = ("LANG", "LC_ALL", "TZ", "NNCOURSE_GRADING", "NNCOURSE_MNIST_DIR",
                    "MPLBACKEND", "PYTHONDONTWRITEBYTECODE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "MKL_NUM_THREADS")


class SandboxUnavailableError(RuntimeError):
    """The sandbox is enabled but bubblewrap is missing or cannot create namespaces here."""


class SandboxLimitError(RuntimeError):
    """A submission does not fit the sandbox's limits before it runs (its folder is too large)."""


# Room kept in the home for matplotlib's font cache and IPython's files when checking a submission's size.
HOME_RESERVE = 16 * 2**20


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
    total_memory_bytes = Integer(8 * 2**30, help="Memory of one submission in all, bytes: what all its kernel's "
                                 "processes hold (proportional set size) plus the full sizes of its /tmp and home "
                                 "(memory-backed). The grader kills the kernel beyond it.").tag(config=True)
    processes = Integer(256, help="Processes of the sandbox user (RLIMIT_NPROC; only when grading as root).").tag(config=True)
    file_bytes = Integer(256 * 2**20, help="Largest file the kernel may write (RLIMIT_FSIZE), bytes.").tag(config=True)
    open_files = Integer(1024, help="Open file descriptors (RLIMIT_NOFILE).").tag(config=True)
    tmp_bytes = Integer(256 * 2**20, help="Size of the sandbox's private /tmp (memory-backed), bytes.").tag(config=True)
    home_bytes = Integer(512 * 2**20, help="Size of the scratch home (memory-backed), bytes: the copy of the "
                                           "submission folder and everything the kernel writes there.").tag(config=True)
    watch_seconds = Float(0.25, help="How often the grader measures a kernel's memory and socket folder, "
                                     "seconds.").tag(config=True)
    readable = List(Unicode(), help="Extra host folders visible read-only inside the sandbox.").tag(config=True)

    def check(self) -> None:
        """Raise `SandboxUnavailableError` when bubblewrap cannot be used, `ValueError` when the limits
        leave the kernel's processes no memory."""
        problem = bwrap_problem()
        if problem:
            raise SandboxUnavailableError(problem)
        if self.process_memory_bytes() <= 0:
            raise ValueError(f"c.Sandbox.total_memory_bytes ({self.total_memory_bytes}) must exceed "
                             f"tmp_bytes + home_bytes ({self.tmp_bytes + self.home_bytes})")

    def process_memory_bytes(self) -> int:
        """What the kernel's processes may hold together: the total less the two memory-backed folders."""
        return self.total_memory_bytes - self.tmp_bytes - self.home_bytes

    def check_fits_home(self, workdir: Path) -> None:
        """Raise `SandboxLimitError` when the submission folder ``workdir`` does not fit the scratch home."""
        size = folder_bytes(workdir)
        if size > self.home_bytes - HOME_RESERVE:
            raise SandboxLimitError(f"the submission folder holds {size / 2**20:.1f} MiB, more than the "
                                    f"{(self.home_bytes - HOME_RESERVE) / 2**20:.0f} MiB its kernel's home "
                                    "can take (c.Sandbox.home_bytes)")

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
        for path in [*self.readable_folders(env), *self.readable_files(env), ipc_dir, HOME_INSIDE, SEED_INSIDE]:
            for parent in _ancestors(path):
                if parent not in created:
                    args += ["--perms", "0755", "--dir", str(parent)]
                    created.add(parent)
            created.add(path)
        for path in [*self.readable_folders(env), *self.readable_files(env)]:
            args += ["--ro-bind", str(path), str(path)]
        # The home is memory-backed and of a fixed size: what the kernel writes never reaches the disk.
        # Its first process copies the grader's copy (read-only at SEED_INSIDE) into it.
        args += ["--bind", str(ipc_dir), str(ipc_dir), "--ro-bind", str(home), str(SEED_INSIDE),
                 "--perms", "0777", "--size", str(self.home_bytes), "--tmpfs", str(HOME_INSIDE),
                 "--chdir", str(HOME_INSIDE), "--"]
        if as_root:
            uid = sandbox_uid()
            args += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                     "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs"]
        args += ["prlimit", f"--cpu={self.cpu_seconds}", f"--as={self.memory_bytes}",
                 f"--fsize={self.file_bytes}", f"--nofile={self.open_files}", "--core=0"]
        if as_root:
            args += [f"--nproc={self.processes}"]
        # The kernel command follows the final "--"; it starts in the copy of the submission folder.
        args += ["--", "/bin/sh", "-c", FILL_HOME, "nngrade-home", str(SEED_INSIDE), str(HOME_INSIDE), workdir.name]
        return [*args, "--"]


def sandbox_environment(env: Mapping[str, str]) -> dict:
    """The kernel's environment inside the sandbox: the grading variables only, the scratch home."""
    kept = {name: env[name] for name in PASSED_VARIABLES if name in env}
    kept.update(HOME=str(HOME_INSIDE), PATH=f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin")
    return kept


def prepare_home(workdir: Path, home: Path) -> Path:
    """A scratch home: a copy of ``workdir`` (the student's folder) and matplotlib's font cache.

    The copy's notebooks lose their hidden tests: nbgrader has written the notebook being graded
    into ``workdir`` with them restored, and the grader runs them in its own process.
    Returns the copy of ``workdir``. Everything belongs to the sandbox user. Without the font cache
    every kernel would rebuild it and log "Matplotlib is building the font cache" on stderr, which
    costs a test cell its points.
    """
    scratch = home / workdir.name
    shutil.copytree(workdir, scratch, symlinks=True)
    for copied in scratch.rglob("*.ipynb"):  # the notebook being graded holds the hidden tests
        if copied.is_file() and not copied.is_symlink():
            notebooks.hide_hidden_tests(copied)
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


def folder_bytes(folder: Path) -> int:
    """What ``folder`` takes in a memory-backed file system: its files, each rounded up to whole pages
    (symbolic links are not followed)."""
    page = os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [Path(folder)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    total += -(-entry.stat(follow_symlinks=False).st_size // page) * page
    return total


def process_tree(root: int) -> list[int]:
    """``root`` and every running process descending from it, from ``/proc``: in the sandbox, every
    process of the kernel (an orphan is adopted by the sandbox's init, itself a child of ``root``)."""
    children = defaultdict(list)
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                line = handle.read()
            # "pid (command) state ppid ...": the command may hold spaces and parentheses.
            parent = int(line[line.rindex(b")") + 2:].split(None, 2)[1])
        except (OSError, ValueError, IndexError):  # ended meanwhile
            continue
        children[parent].append(int(name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, ()))
    return found


def resident_bytes(pid: int) -> int:
    """The resident memory of process ``pid`` (0 when it has ended)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def proportional_bytes(pid: int) -> int:
    """The proportional set size of process ``pid``: its private memory plus its share of pages it
    shares with other processes (a forked child's inherited pages count once among them all).
    The resident memory when the kernel does not tell; 0 when the process has ended."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return resident_bytes(pid)


def _mib(size: int) -> str:
    return f"{size / 2**20:.0f} MiB"


# Why the grader killed kernels of this process (`Watchdog`), oldest first, until `take_limits`.
_limits: list[str] = []
_limits_lock = threading.Lock()


def record_limit(reason: str) -> None:
    with _limits_lock:
        _limits.append(reason)


def take_limits() -> list[str]:
    """The reasons recorded since the last call (``nngrade.grade`` flags them ``resource_limit``)."""
    with _limits_lock:
        found = list(_limits)
        _limits.clear()
    return found


class Watchdog:
    """Watches one sandboxed kernel from the grader's side and kills it beyond its limits.

    Every ``interval`` seconds it measures the memory of the kernel's process and of every process
    descending from it (proportional set size, forked children included: the sum no process can hide
    from), and the kernel's socket folder, the one folder it can write on the grader's disk: only
    sockets and the grader's own ``allowed`` files belong there. Beyond ``memory_bytes``, or with
    anything else or more than `SOCKET_FOLDER_ENTRIES` entries in that folder, it kills the kernel
    (bubblewrap's pid namespace takes every process of the kernel with it) and records the reason
    (`record_limit`). A burst between two measurements can pass the bound by what the processes
    allocate in that time; each process's own address space stays bounded by ``prlimit``.
    """

    def __init__(self, process: subprocess.Popen, *, memory_bytes: int, socket_folder: Path,
                 allowed: Iterable[str] = (), interval: float = 0.25):
        self.process = process
        self.memory_bytes = memory_bytes
        self.socket_folder = Path(socket_folder)
        self.allowed = set(allowed)
        self.interval = interval
        self.reason: str | None = None  # why the kernel was killed
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nngrade-watchdog", daemon=True)

    def start(self) -> Watchdog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def measure(self) -> str | None:
        """Why the kernel must be killed now, or None."""
        pids = process_tree(self.process.pid)
        if sum(map(resident_bytes, pids)) > self.memory_bytes:  # cheap first; the exact sum only then
            used = sum(map(proportional_bytes, pids))
            if used > self.memory_bytes:
                return (f"the submission's {len(pids)} processes held {_mib(used)} of memory, more than the "
                        f"{_mib(self.memory_bytes)} they may hold together; the grader killed its kernel")
        try:
            with os.scandir(self.socket_folder) as scan:
                entries = list(scan)
        except OSError:
            return None
        if len(entries) > SOCKET_FOLDER_ENTRIES:
            return (f"the kernel created {len(entries)} entries in the folder of its sockets on the grader's disk; "
                    "the grader killed its kernel")
        for entry in entries:
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue
            if entry.name not in self.allowed and not stat.S_ISSOCK(mode):
                return ("the kernel wrote files into the folder of its sockets on the grader's disk (everything "
                        "else it may write is memory-backed and limited); the grader killed its kernel")
        return None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if self.process.poll() is not None:
                return
            try:
                reason = self.measure()
            except OSError:  # /proc changed under the measurement: measure again next time
                continue
            if reason is not None:
                self.reason = reason
                record_limit(reason)
                self.process.kill()
                return
