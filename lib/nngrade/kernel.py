"""The kernels that execute notebooks, their environment, and the executor that grades test cells.

Grading kernels run with ``NNCOURSE_GRADING=1`` (progress bars fall silent) and ``MPLBACKEND=Agg``,
and without ``PYTHONPATH``: like a student's kernel, they import only the installed toolkit ``nnkit``,
never the reference ``nnref`` or the grader ``nngrade``. ``NNCOURSE_MNIST_DIR`` passes through.

With ``c.Sandbox.enabled = True`` the kernel runs inside bubblewrap (``nngrade.sandbox``): a scratch
copy of the submission folder, read-only system and toolkit, no network, resource limits, and kernel
traffic over unix sockets. ``CourseKernelManager.launcher`` is a further command prefix (configurable).

``GradingExecute`` runs the notebook cell by cell. A graded test cell's visible part runs in the
kernel as the student saw it; then the grader decides the cell (``nngrade.verdicts``): it runs the
visible and hidden checks in its own process, calling the notebook through the grading channel
(``nnkit.channel`` in the kernel, ``nngrade.remote`` here), and the cell's outputs become the
grader's. It also bounds the wall time of each cell and of the whole notebook
(``c.GradingExecute.submission_timeout``): a cell that does not stop when interrupted gets its kernel
killed, and it and every later cell get an error output naming the reason, so they score 0 and the
rest of the batch goes on; a kernel that dies (``os._exit``, a segfault) is handled the same way. It
caps the output a cell keeps while it runs (``max_output_chars``). Each of these events flags the
notebook (``nngrade.flags``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from queue import Empty
from time import monotonic

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Dict, Integer, List, Unicode

from . import flags, notebooks, verdicts
from .remote import Session
from .sandbox import Sandbox, Watchdog, give_to_sandbox_user, prepare_home, sandbox_environment


def grading_environment(base: Mapping | None = None) -> dict:
    """The environment of a grading kernel, built from ``base`` (default: ``os.environ``): no
    ``PYTHONPATH``, so the kernel imports the installed ``nnkit`` and neither ``nnref`` nor ``nngrade``."""
    env = dict(os.environ if base is None else base)
    env.pop("PYTHONPATH", None)
    env.update(NNCOURSE_GRADING="1", MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    return env


def student_environment(base: Mapping | None = None) -> dict:
    """The environment of a student's kernel: no ``PYTHONPATH``, so neither ``nnref`` nor ``nngrade``."""
    env = dict(os.environ if base is None else base)
    for name in ("PYTHONPATH", "NNCOURSE_GRADING"):
        env.pop(name, None)
    env["MPLBACKEND"] = "Agg"
    return env


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def share_cores(jobs: int) -> None:
    """Give each of ``jobs`` concurrent grading kernels its share of the cores for numpy and torch threads.

    Called in every grading worker process; its kernels inherit the environment. Two kernels that
    each run a full set of BLAS/OpenMP threads on the same cores slow each other down several-fold
    (threads spin waiting for each other), which a time-budgeted training notebook cannot afford.
    A value the instructor set already is kept.
    """
    if jobs > 1:
        threads = str(max(1, (os.cpu_count() or 1) // jobs))
        for name in THREAD_VARIABLES:
            os.environ.setdefault(name, threads)


class CourseKernelManager(AsyncKernelManager):
    """A kernel manager that sets the kernel's environment, can sandbox it and prefix its command line.

    The kernel process's own stdout and stderr go nowhere: what a notebook prints reaches the grader
    as messages, never the instructor's terminal. A sandboxed kernel is watched (`Watchdog`): the
    memory of all its processes and its socket folder; beyond its limits it is killed.
    """

    launcher = List(Unicode(), help="Command prefix wrapping the kernel process.").tag(config=True)
    kernel_env = Dict(help="The kernel's whole environment; empty means grading_environment().").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.sandbox = Sandbox(parent=self)
        self._sandbox_dir: Path | None = None
        self._sandbox_prefix: list[str] = []
        self._channel_dir: Path | None = None
        self._watchdog: Watchdog | None = None

    def channel_dir(self) -> Path:
        """A folder the kernel can reach for the grading channel's socket: the sandbox's IPC folder."""
        if self._sandbox_dir is not None:
            return self._sandbox_dir / "ipc"
        if self._channel_dir is None:
            self._channel_dir = Path(tempfile.mkdtemp(prefix=f"nngrade-channel-{os.getpid()}-"))
        return self._channel_dir

    def format_kernel_cmd(self, extra_arguments=None):
        extra = [*(extra_arguments or [])]
        if self._sandbox_prefix:
            # Inside the pid namespace the kernel's parent is pid 1, which ipykernel's parent poller
            # takes for "orphaned" and exits; bwrap --die-with-parent does that job instead. Without
            # a parent, ipykernel prints a console banner unless its log level is CRITICAL.
            extra += ["--IPKernelApp.parent_handle=0", "--IPKernelApp.log_level=CRITICAL"]
        else:
            # The kernel's own log is noise in the grader's output: its warning about unencrypted local
            # TCP, and "KeyboardInterrupt caught in kernel" when a timed-out cell is interrupted.
            extra.append("--IPKernelApp.log_level=CRITICAL")
        return [*self._sandbox_prefix, *self.launcher, *super().format_kernel_cmd(extra)]

    async def _async_pre_start_kernel(self, **kw):
        kw["env"] = dict(self.kernel_env) or grading_environment(kw.get("env"))
        # Notebook output arrives as messages. The process's own file descriptors 1 and 2 (os.write,
        # a C library, a crash) would write straight into the grader's output: not there.
        kw["stdout"] = kw["stderr"] = subprocess.DEVNULL
        if self.sandbox.enabled:
            self._enter_sandbox(kw)
        return await super()._async_pre_start_kernel(**kw)

    async def _async_post_start_kernel(self, **kw):
        await super()._async_post_start_kernel(**kw)
        if self._sandbox_dir is not None and self.provisioner is not None and self.provisioner.process is not None:
            self._stop_watchdog()
            self._watchdog = Watchdog(self.provisioner.process, memory_bytes=self.sandbox.process_memory_bytes(),
                                      socket_folder=self._sandbox_dir / "ipc",
                                      allowed=[Path(self.connection_file).name],
                                      interval=self.sandbox.watch_seconds).start()

    def _enter_sandbox(self, kw: dict) -> None:
        """Sandbox the next kernel: scratch copy of its folder, IPC sockets, sandbox command and environment."""
        self.sandbox.check()
        workdir = Path(kw.get("cwd") or os.getcwd())
        self.sandbox.check_fits_home(workdir)
        self._remove_sandbox_dir()
        # Named after this process: `nngrade.grade` removes what a grading process it stopped left behind.
        self._sandbox_dir = Path(tempfile.mkdtemp(prefix=f"nngrade-kernel-{os.getpid()}-"))
        ipc_dir = self._sandbox_dir / "ipc"
        ipc_dir.mkdir(mode=0o700)
        give_to_sandbox_user([self._sandbox_dir, ipc_dir])
        workdir = prepare_home(workdir, self._sandbox_dir / "home")
        # A private network namespace cannot reach the host's loopback: unix sockets instead of TCP.
        self.transport = "ipc"
        self.ip = str(ipc_dir / "kernel")
        self.connection_file = str(ipc_dir / "kernel.json")
        # A signal to the kernel's process group would hit bubblewrap too: interrupt by message.
        self.kernel_spec.interrupt_mode = "message"
        self._sandbox_prefix = self.sandbox.command(workdir=workdir, ipc_dir=ipc_dir, env=kw["env"])
        kw["env"] = sandbox_environment(kw["env"])
        kw["cwd"] = str(self._sandbox_dir)

    def write_connection_file(self, **kwargs):
        super().write_connection_file(**kwargs)
        if self._sandbox_dir is not None:
            give_to_sandbox_user([Path(self.connection_file)])

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        self._stop_watchdog()
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self._remove_sandbox_dir()

    cleanup_resources = _async_cleanup_resources  # the public name is bound to the base class's coroutine

    def _stop_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.stop()
            self._watchdog = None

    def _remove_sandbox_dir(self) -> None:
        for folder in (self._sandbox_dir, self._channel_dir):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
        self._sandbox_dir = self._channel_dir = None


def error_output(ename: str, evalue: str) -> NotebookNode:
    """A notebook error output; in a test cell it scores 0, and feedback shows ``ename: evalue``."""
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GradingExecute(Execute):
    """nbgrader's Execute with ``CourseKernelManager`` kernels, grader-side verdicts of the test cells,
    and a wall-time limit per submission.

    Each cell gets its limit from the source notebook (``notebooks.CellLimits``: a cell's own
    ``nncourse.timeout``, else the notebook's, else ``timeout`` seconds), at most what is left of
    ``submission_timeout``, and so do the grader's checks of a test cell. A cell over its time is
    interrupted; when the kernel does not stop (SIGINT ignored) or the notebook is out of time, the
    kernel is killed and that cell and every later code cell get an error output with the reason
    instead of failing the whole submission; so when the kernel dies on its own. Output beyond
    ``max_output_chars`` is dropped as it arrives (``output``).
    """

    submission_timeout = Integer(1800, help="Wall time for the whole notebook, seconds (0: no limit).").tag(config=True)
    max_output_chars = Integer(100_000, help="Characters of stdout and of stderr a cell keeps, each, and of "
                                            "each error message.").tag(config=True)
    max_display_chars = Integer(4_000_000, help="Characters of rich displays (figures) and of each result a "
                                               "cell keeps: a figure is ~100 kB of base64.").tag(config=True)
    max_reply_bytes = Integer(256 * 2**20, help="Largest reply the grader reads from the kernel through the "
                                                "grading channel, bytes.").tag(config=True)
    source_notebook = Unicode("", help="The instructor's source notebook of the assignment (default: found "
                                       "from the course directory).").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", CourseKernelManager)
        super().__init__(*args, **kwargs)
        self._deadline: float | None = None
        self._stopped: tuple[str, str] | None = None  # (ename, evalue) once the kernel was killed
        self._context: verdicts.NotebookContext | None = None
        self._limits: notebooks.CellLimits | None = None
        self._channels = itertools.count(1)

    def preprocess(self, nb, resources=None, km=None):
        # One instance grades many notebooks: each gets its own time and a fresh kernel.
        self._deadline = monotonic() + self.submission_timeout if self.submission_timeout else None
        self._stopped = None
        source = notebooks.read(self._source_path(resources))
        self._context = verdicts.NotebookContext.from_source(source)
        self._limits = notebooks.CellLimits.of_source(source, self.timeout)
        return super().preprocess(nb, resources, km)

    def _source_path(self, resources) -> Path:
        """The source notebook of the assignment graded: the grader's knowledge, never the submission's."""
        if self.source_notebook:
            return Path(self.source_notebook)
        info = (resources or {}).get("nbgrader", {})
        coursedir = self.config.get("CourseDirectory", {})
        root = Path(coursedir.get("root", os.getcwd()))
        path = root / coursedir.get("source_directory", "source") / info["assignment"] / f"{info['notebook']}.ipynb"
        if not path.is_file():
            raise FileNotFoundError(f"the source notebook {path} is missing: the grader takes the names and "
                                    "imports of the checks from it")
        return path

    def _remaining(self) -> float | None:
        return None if self._deadline is None else self._deadline - monotonic()

    def _get_timeout(self, cell):
        """The cell's limit from the source notebook (``notebooks.CellLimits``), never from the
        submission's metadata alone, and never more than what is left of the submission's time.
        nbclient's ``timeout_func`` is ignored here: it would read the limit from the submission."""
        if cell is None or self._limits is None:
            timeout = self.timeout if self.timeout and self.timeout > 0 else None
        else:
            timeout = self._limits.of(cell)
        remaining = self._remaining()
        if remaining is None:
            return timeout
        return max(1, int(min(timeout or remaining, remaining)))

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if not notebooks.is_autograded_test(cell):
            return await self._run_in_kernel(cell, cell_index, execution_count, store_history)
        # The kernel runs what the student saw: the visible part. The grader decides the cell.
        source = cell.source
        cell.source = verdicts.split_hidden(source)[0]
        try:
            await self._run_in_kernel(cell, cell_index, execution_count, store_history)
        finally:
            cell.source = source
        if self._stopped is not None:  # the kernel was killed in this cell or before: that reason stands
            return cell
        timed_out = [output for output in cell.outputs
                     if output.output_type == "error" and output.get("ename") == "CellTimeoutError"]
        if timed_out:  # a failure the kernel reports about itself can only cost it: no second wait
            cell.outputs = [error_output("CellTimeoutError", f"{_cell_name(cell, cell_index)} did not finish "
                                         f"in {self._get_timeout(cell)} s and was interrupted")]
        else:
            await self._grade_test_cell(cell, cell_index)
        return cell

    async def _run_in_kernel(self, cell, cell_index, execution_count, store_history):
        if cell.cell_type != "code" or not cell.source.strip():
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        self._output_chars = {}  # what this cell has written so far, per channel (see ``output``)
        where = _cell_name(cell, cell_index)
        remaining = self._remaining()
        if self._stopped is None and remaining is not None and remaining <= 0:
            await self._stop(cell, "kernel_killed", "SubmissionTimeout",
                             f"the notebook used up its {self.submission_timeout} s of grading time before {where}; "
                             "it and every later cell were not run")
        if self._stopped is not None:
            cell.outputs = [error_output(*self._stopped)]
            return cell
        timeout = self._get_timeout(cell)
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except CellTimeoutError:
            # Interrupted, but still busy: the code ignores KeyboardInterrupt/SIGINT.
            await self._stop(cell, "kernel_killed", "CellTimeoutError",
                             f"{where} did not stop when interrupted after {timeout} s; "
                             "the kernel was killed and later cells were not run")
        except DeadKernelError:  # graded here, once: nbgrader 0.9 never re-runs (execute_retries is unused)
            await self._stop(cell, "kernel_died", "DeadKernelError",
                             f"the kernel died in {where} (the code ended the Python process: os._exit, a crash "
                             "such as a segmentation fault, or a resource limit); it and every later cell score 0")
        cell.outputs.append(error_output(*self._stopped))
        return cell

    async def _grade_test_cell(self, cell, cell_index) -> None:
        """Run the cell's checks in this process against the kernel; the cell's outputs become the verdict."""
        where = _cell_name(cell, cell_index)
        timeout = self._get_timeout(cell)
        path = self.km.channel_dir() / f"channel-{next(self._channels)}.sock"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(path))
            listener.listen(1)
            give_to_sandbox_user([path])
            msg_id = self.kc.execute(f"import nnkit.channel\nnnkit.channel.serve({str(path)!r})", silent=True,
                                     store_history=False, allow_stdin=False, stop_on_error=False)
            verdict = await asyncio.to_thread(self._check, listener, monotonic() + timeout, cell)
        finally:
            listener.close()
            path.unlink(missing_ok=True)
        if await self._serve_finished(msg_id, interrupt=verdict.channel_problem is not None) is None:
            if self._stopped is None:
                await self._stop(cell, "kernel_killed", "CellTimeoutError",
                                 f"{where}: your code did not stop when interrupted after {timeout} s; "
                                 "the kernel was killed and later cells were not run")
            cell.outputs = [error_output(*self._stopped)]
            return
        for what in verdict.suspicious:
            flags.add(self.nb, "suspicious", f"{where}: the kernel answered the grader with {what}",
                      cell=notebooks.grade_id(cell))
        for kind, reason in verdict.flags:
            flags.add(self.nb, kind, f"{where}: {reason}", cell=notebooks.grade_id(cell))
        outputs = [NotebookNode(output_type="stream", name="stdout", text=verdict.printed)] if verdict.printed else []
        if verdict.passed:
            outputs.append(NotebookNode(output_type="stream", name="stdout",
                                        text=f"\u2713 {notebooks.grade_id(cell)}: every check passed\n"))
        else:
            outputs.append(error_output(*verdict.error))
        cell.outputs = outputs

    def _check(self, listener, deadline: float, cell) -> verdicts.Verdict:
        listener.settimeout(max(0.5, min(30.0, deadline - monotonic())))
        try:
            connection, _ = listener.accept()
        except (socket.timeout, OSError):
            reason = "the notebook did not open the grading channel (it may have replaced how code runs in its kernel)"
            return verdicts.Verdict(False, error=("KernelError", reason), channel_problem=reason, suspicious=[reason])
        with connection:
            session = Session(connection, deadline=deadline, max_reply_bytes=self.max_reply_bytes)
            verdict = verdicts.check_cell(session, self._context, notebooks.grade_id(cell), cell.source)
            if verdict.channel_problem is None:
                session.end()
        return verdict

    async def _serve_finished(self, msg_id: str, *, interrupt: bool):
        """The kernel's reply to the channel's request; after an interrupt if the checks timed out.
        None when the kernel is dead or still busy (the caller kills it)."""
        reply = await self._reply(msg_id, 2.0 if interrupt else 30.0)
        if reply is None and await self.km.is_alive():
            await self.km.interrupt_kernel()
            reply = await self._reply(msg_id, 10.0)
        if reply is None and not await self.km.is_alive() and self._stopped is None:
            self._stopped = ("DeadKernelError", "the kernel died while the grader checked your code; "
                                                "this and every later cell score 0")
            flags.add(self.nb, "kernel_died", self._stopped[1])
        return reply

    async def _reply(self, msg_id: str, seconds: float):
        end = monotonic() + seconds
        while monotonic() < end:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=min(0.5, max(0.01, end - monotonic()))))
            except Empty:
                if not await self.km.is_alive():
                    return None
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg
        return None

    execute_cell = run_sync(async_execute_cell)  # nbclient binds its own coroutine otherwise

    async def _stop(self, cell, kind: str, ename: str, evalue: str) -> None:
        """Kill the kernel (and, in the sandbox, every process it started) and flag the submission with
        ``kind``; ``cell`` and every later code cell get the error ``ename: evalue``."""
        self._stopped = (ename, evalue)
        flags.add(self.nb, kind, evalue, cell=notebooks.grade_id(cell))
        try:
            await self.km.shutdown_kernel(now=True)
        except (RuntimeError, DeadKernelError):  # already gone
            pass

    def output(self, outs, msg, display_id, cell_index):
        """Record one output of the running cell, keeping at most ``max_output_chars`` of each channel.

        Printed text (stdout, stderr) and rich displays beyond the limit are dropped as they arrive, so
        a flood of output neither fills the grader's memory nor bloats the autograded notebook and the
        feedback (``LimitOutput`` cuts lines only after the cell has run). Errors and results decide the
        score: they are always kept, only their text is shortened. Any cut flags the submission."""
        out = super().output(outs, msg, display_id, cell_index)
        if out is None:  # handled by a widget
            return None
        rich = out.output_type in ("execute_result", "display_data", "update_display_data")
        limit = self.max_display_chars if rich else self.max_output_chars
        if out.output_type in ("error", "execute_result"):
            channel = "an error message" if out.output_type == "error" else "a result"
            shortened = {key: _shorten(out[key], limit) for key in ("evalue", "traceback", "data") if key in out}
            cut = any(shortened[key] != out[key] for key in shortened)
            out.update(shortened)
        else:
            channel = out.get("name", "displays")  # stdout, stderr or rich displays
            used = self._output_chars.get(channel, 0)
            size = len(out.text) if out.output_type == "stream" else len(json.dumps(out.get("data", {})))
            self._output_chars[channel] = used + size
            cut = used + size > limit
            if cut and out.output_type == "stream" and used < limit:
                out.text = _shorten(out.text, limit - used)  # the output that crosses the limit: its start
            elif cut:
                outs.pop()
                if display_id:
                    self._display_id_map[display_id][cell_index].pop()
                out = None
        if cut:
            cell = self.nb.cells[cell_index]
            flags.add(self.nb, "output_limited", f"{_cell_name(cell, cell_index)} wrote more than {limit} "
                      f"characters of {channel}; the grader kept only the first ones", cell=notebooks.grade_id(cell))
        return out


def _cell_name(cell, cell_index: int) -> str:
    """``cell <grade_id>``, or ``cell #<n>`` for a cell without one, as reasons name it."""
    return f"cell {notebooks.grade_id(cell) or f'#{cell_index + 1}'}"


def _shorten(value, limit: int):
    """``value`` with every string in it cut to ``limit`` characters, each saying that it was cut."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "\n[... cut here by the grader: too much output]\n"
    if isinstance(value, list):
        return [_shorten(item, limit) for item in value]
    if isinstance(value, dict):
        return NotebookNode({key: _shorten(item, limit) for key, item in value.items()})
    return value
