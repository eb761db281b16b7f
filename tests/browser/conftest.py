"""Browser tests of the course in JupyterLab: the student's and the instructor's flows, as they see them.

Each session builds a throwaway course: a course root (a copy of the repository's `nbgrader_config.py`
and of the assignments the scenarios use), an nbgrader exchange, a student's home and an instructor's
home, and runs two JupyterLab servers the way the course starts them (the student's in their home,
where fetched assignments land; the instructor's in the course root, as `make lab`). One Debian
chromium, driven by Playwright, serves every scenario; each role has its own browser context (cookies).
Nothing leaves the machine: requests to any host but the local servers are refused.

A failing test leaves a screenshot and the HTML of each of its pages in `tests/browser/artifacts/`.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nngrade.kernel import THREAD_VARIABLES

try:
    from playwright import sync_api
except ImportError:  # the browser fixture skips, naming the install command
    sync_api = None

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ASSIGNMENT = "01_perceptron"
# nbgrader's exchange names a submission after the Unix account that submitted it
STUDENT_ID = pwd.getpwuid(os.getuid()).pw_name
# What a student installs (`make student-env`): the toolkit, JupyterLab and nbgrader's student tools only.
STUDENT_VENV = REPO / ".venv-student"
# Chromium reaches for Google's services at start-up unless told not to; this machine refuses them.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Generous limits: the two cores are shared with kernels, the other server and the grader.
SERVER_START_SECONDS = 120
UI_TIMEOUT_MS = 60_000
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

TIMINGS: dict[str, float] = {}


def record_timing(name: str, seconds: float) -> None:
    """Keep a duration for the summary printed at the end of the session (`-v` or not)."""
    TIMINGS[name] = seconds


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("browser timings")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name:<60} {seconds:7.1f} s")


# --- artifacts of a failed test ------------------------------------------------------------------------

@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def save_artifacts(name: str, pages) -> None:
    """A screenshot and the HTML of every open page (and of its iframes), named after the test."""
    ARTIFACTS.mkdir(exist_ok=True)
    for index, page in enumerate(pages):
        if page.is_closed():
            continue
        stem = ARTIFACTS / f"{name}-{index}"
        try:
            page.screenshot(path=f"{stem}.png", full_page=True, timeout=15_000)
        except sync_api.Error:
            pass  # a page in the middle of navigating cannot be captured; its HTML may still be
        for frame_index, frame in enumerate(page.frames):  # the main page, then its iframes (formgrader)
            path = Path(f"{stem}.html" if frame_index == 0 else f"{stem}-frame{frame_index}.html")
            try:
                path.write_text(frame.content(), encoding="utf-8")
            except sync_api.Error:
                pass


# --- the course on disk --------------------------------------------------------------------------------

def base_environment(home: Path, bin_dir: Path) -> dict[str, str]:
    """The variables of a fresh login in `home` with the venv `bin_dir` first on PATH, Jupyter's
    folders under the home (no state from the machine's own ~/.jupyter), MNIST from the shared copy."""
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith(("JUPYTER", "PYTHONPATH", "NNCOURSE_", "MPLBACKEND"))}
    environment.update(HOME=str(home), PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
                       PYTHONDONTWRITEBYTECODE="1")
    # The users' kernels run side by side on a small machine: one numpy/torch thread each, as parallel
    # grading gives each kernel its share of the cores (nngrade.kernel.share_cores).
    environment.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    mnist = os.environ.get("NNCOURSE_MNIST_DIR") or str(REPO.parent / "shared" / "data" / "mnist")
    if Path(mnist, "train-images-idx3-ubyte.gz").is_file():
        environment["NNCOURSE_MNIST_DIR"] = mnist
    return environment


@dataclass
class Course:
    """The throwaway course: its root, its exchange and the environments of its two users."""

    root: Path
    exchange: Path
    student_home: Path
    instructor_home: Path

    def instructor_environment(self) -> dict[str, str]:
        environment = base_environment(self.instructor_home, Path(sys.executable).parent)
        environment.update(PYTHONPATH=str(REPO / "lib"), NNCOURSE_EXCHANGE=str(self.exchange))
        return environment

    def student_environment(self, home: Path) -> dict[str, str]:
        # The student environment: its own venv first on PATH, no PYTHONPATH to the reference or the grader.
        environment = base_environment(home, STUDENT_VENV / "bin")
        environment.update(NNCOURSE_EXCHANGE=str(self.exchange))
        return environment

    def notebook_path(self, step: str, student: str) -> Path:
        """The course's file of the assignment for `student` in `step` (`submitted`, `feedback`, ...)."""
        suffix = ".html" if step == "feedback" else ".ipynb"
        return self.root / step / student / ASSIGNMENT / f"{ASSIGNMENT}{suffix}"

    def instructor(self, *command: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """Run an instructor's command in the course root; fail the test with its output if it fails."""
        environment = self.instructor_environment() | {"MPLBACKEND": "Agg"}  # as the headless make targets
        result = subprocess.run(command, cwd=self.root, env=environment, timeout=timeout,
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0, (
            f"{' '.join(command)} exited with {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        return result

    def nbgrader(self, *arguments: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return self.instructor(str(Path(sys.executable).parent / "nbgrader"), *arguments, timeout=timeout)

    def nngrade(self, *arguments: str, timeout: float = 900) -> subprocess.CompletedProcess:
        """`python -m nngrade --root <course root> ...`: the command behind the make targets."""
        return self.instructor(sys.executable, "-m", "nngrade", "--root", str(self.root), *arguments,
                               timeout=timeout)


@pytest.fixture(scope="session")
def course(tmp_path_factory) -> Course:
    """A course root holding 01_perceptron, published to a fresh exchange (`make publish A=01_perceptron`)."""
    base = tmp_path_factory.mktemp("browser-course")
    course = Course(root=base / "course", exchange=base / "exchange", student_home=base / "student",
                    instructor_home=base / "instructor")
    for folder in (course.root, course.student_home, course.instructor_home):
        folder.mkdir()
    shutil.copy2(REPO / "nbgrader_config.py", course.root / "nbgrader_config.py")
    for step in ("source", "release"):
        shutil.copytree(REPO / step / ASSIGNMENT, course.root / step / ASSIGNMENT)

    started = time.monotonic()
    course.nngrade("publish", "-a", ASSIGNMENT)
    record_timing(f"instructor: publish {ASSIGNMENT} to the exchange", time.monotonic() - started)
    return course


# --- JupyterLab servers --------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LabServer:
    """A running `jupyter lab`: its URL, token and log; `get` calls its REST API."""

    name: str
    root: Path
    port: int
    token: str
    process: subprocess.Popen
    log: Path
    start_seconds: float = 0.0
    blocked: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lab_url(self, path: str = "lab") -> str:
        return f"{self.url}/{path}?token={self.token}"

    def get(self, path: str, timeout: float = 10) -> tuple[int, bytes]:
        request = urllib.request.Request(f"{self.url}/{path}", headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def log_tail(self, characters: int = 4000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-characters:]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)


def start_lab(name: str, *, bin_dir: Path, root: Path, environment: dict[str, str], log_dir: Path,
              options=()) -> LabServer:
    """`<bin_dir>/jupyter lab` in `root` on a free port with a token, in its own process group; returns
    once `/api/status` answers."""
    port, token = free_port(), secrets.token_hex(16)
    command = [
        str(bin_dir / "jupyter"), "lab", *options, "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        # no update checks or news fetched from the internet, which this machine does not reach
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.news_url=",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")  # CI containers run as root
    log = log_dir / f"{name}-server.log"
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as log_file:
        process = subprocess.Popen(command, cwd=root, env=environment, stdout=log_file, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = LabServer(name=name, root=root, port=port, token=token, process=process, log=log)
    deadline = started + SERVER_START_SECONDS
    while True:
        if process.poll() is not None:
            pytest.fail(f"the {name}'s JupyterLab exited with {process.returncode}:\n{server.log_tail()}")
        try:
            status, _ = server.get("api/status", timeout=5)
            if status == 200:
                break
        except (OSError, urllib.error.URLError):
            pass  # not listening yet
        if time.monotonic() > deadline:
            server.stop()
            pytest.fail(f"the {name}'s JupyterLab did not answer /api/status within {SERVER_START_SECONDS} s:\n"
                        f"{server.log_tail()}")
        time.sleep(0.25)
    server.start_seconds = time.monotonic() - started
    record_timing(f"{name}: JupyterLab answers /api/status", server.start_seconds)
    return server


def start_student_lab(course: Course, home: Path, log_dir: Path) -> LabServer:
    """A student's JupyterLab as the README starts it: the student environment's `jupyter lab`, in the
    folder where the student keeps their coursework (their home: fetched assignments land there)."""
    if not (STUDENT_VENV / ".installed-stamp").is_file():
        pytest.skip(f"the student environment {STUDENT_VENV.name} is missing: make student-env")
    return start_lab(home.name, bin_dir=STUDENT_VENV / "bin", root=home,
                     environment=course.student_environment(home), log_dir=log_dir)


@pytest.fixture(scope="session")
def student_lab(course, tmp_path_factory):
    server = start_student_lab(course, course.student_home, tmp_path_factory.mktemp("logs"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def homework_lab(course, tmp_path_factory):
    """A second student's JupyterLab, for homework 2's long Validate: what it does to its server is
    measured there, and the first student's scenarios do not wait for it."""
    home = course.student_home.with_name("homework-student")
    home.mkdir()
    server = start_student_lab(course, home, tmp_path_factory.mktemp("logs"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def instructor_lab(course, tmp_path_factory):
    """The instructor's JupyterLab as `make lab` starts it, in the course root (the formgrader's course)."""
    template_dirs = REPO / "lib" / "nngrade" / "templates"
    mathjax = "static/jupyter_server_mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
    server = start_lab("instructor", bin_dir=Path(sys.executable).parent, root=course.root,
                       environment=course.instructor_environment(), log_dir=tmp_path_factory.mktemp("logs"),
                       options=[f"--HTMLExporter.extra_template_basedirs={template_dirs}",
                                f"--HTMLExporter.mathjax_url={mathjax}"])
    yield server
    server.stop()


# --- the browser -----------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    if sync_api is None:
        pytest.skip("Playwright is not installed: .venv/bin/pip install playwright==1.65.2 (make setup does)")
    sync_api.expect.set_options(timeout=UI_TIMEOUT_MS)  # every `expect` waits as long as an action may
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)")
    with sync_api.sync_playwright() as playwright:
        # launch() gives chromium a fresh, temporary user-data folder of its own
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def offline_context(browser, server: LabServer):
    """A browser context for one user: requests to any host but the local servers are aborted (and kept
    in `server.blocked`, so a test can say what a page tried to fetch)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(UI_TIMEOUT_MS)

    def only_local(route):
        host = urllib.parse.urlsplit(route.request.url).hostname
        if host in LOCAL_HOSTS or route.request.url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            server.blocked.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_local)
    return context


@pytest.fixture(scope="session")
def student_context(browser, student_lab):
    context = offline_context(browser, student_lab)
    yield context
    context.close()


@pytest.fixture(scope="session")
def homework_context(browser, homework_lab):
    context = offline_context(browser, homework_lab)
    yield context
    context.close()


@pytest.fixture(scope="session")
def instructor_context(browser, instructor_lab):
    context = offline_context(browser, instructor_lab)
    yield context
    context.close()


@pytest.fixture
def capture_on_failure(request):
    """Register pages (`capture_on_failure.append(page)`) to be saved to artifacts/ if the test fails."""
    pages = []
    yield pages
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        save_artifacts(request.node.name, pages)
