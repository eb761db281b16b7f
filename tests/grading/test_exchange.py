"""The submission workflow through nbgrader's exchange, headless, as an instructor and a student run it.

A temporary course (assignment 01) and a temporary exchange: the instructor publishes (`make publish`),
a student fetches with nbgrader's CLI in a home of their own and the settings `make student-env`
writes, solves and submits; the instructor collects, grades (autograde and feedback) and returns the
feedback; the student fetches it. The feedback loads MathJax from the Jupyter server, never from a CDN,
and a running server serves the page and that MathJax.
"""

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from nbconvert import HTMLExporter
from nngrade import notebooks
from nngrade.config import REPO_ROOT, Course
from nngrade.exchange import write_student_config

ASSIGNMENT = "01_perceptron"
BIN = Path(sys.executable).parent
REMOTE_MATHJAX = re.compile(r"https?://[^\"'\s]*mathjax", re.IGNORECASE)
LOCAL_MATHJAX = "static/jupyter_server_mathjax/MathJax.js"
# What the feedback page's loader does in the browser: the server's base URL is what precedes the
# server's route for the page (files/, formgrader/, nbconvert/, view/).
SERVER_BASE = re.compile(r"^(https?://[^?#]*?/)(?:files|formgrader|nbconvert|view)/")

pytestmark = pytest.mark.slow


def run(command, *, cwd, env, timeout=300) -> subprocess.CompletedProcess:
    """Run a command; fail the test with its output when it fails."""
    finished = subprocess.run([str(part) for part in command], check=False, cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=timeout)
    assert finished.returncode == 0, f"{command} exited {finished.returncode}\n{finished.stdout}\n{finished.stderr}"
    return finished


class Class:
    """The course root, the exchange, and the two people using them."""

    def __init__(self, base: Path):
        self.course = Course(base / "course")
        self.exchange = base / "exchange"
        self.student_home = base / "student"
        self.student_prefix = base / "student-env"  # stands for .venv-student: only its etc/jupyter is used
        for folder in (self.course.root, self.student_home, self.student_prefix):
            folder.mkdir()
        for step in ("source", "release"):
            shutil.copytree(REPO_ROOT / step / ASSIGNMENT, self.course.folder(step) / ASSIGNMENT)

    def instructor_env(self) -> dict:
        env = {name: value for name, value in os.environ.items() if not name.startswith(("JUPYTER", "NNCOURSE_"))}
        env.update(PYTHONPATH=str(REPO_ROOT / "lib"), MPLBACKEND="Agg", NNCOURSE_EXCHANGE=str(self.exchange),
                   PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        return env

    def student_env(self) -> dict:
        """A student's login: their own home, the student settings (which name the exchange), no reference
        or grader on the path."""
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("JUPYTER", "NNCOURSE_", "PYTHONPATH"))}
        env.update(HOME=str(self.student_home), MPLBACKEND="Agg",
                   JUPYTER_CONFIG_PATH=str(self.student_prefix / "etc" / "jupyter"),
                   PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        return env

    def nngrade(self, *args) -> str:
        return run([sys.executable, "-m", "nngrade", "--root", self.course.root, *args], cwd=self.course.root,
                   env=self.instructor_env(), timeout=600).stdout

    def student(self, *args) -> subprocess.CompletedProcess:
        return run([BIN / "nbgrader", *args], cwd=self.student_home, env=self.student_env())


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory) -> tuple[Class, dict]:
    """The whole round trip; the outputs of the instructor's commands, by step."""
    people = Class(tmp_path_factory.mktemp("exchange"))
    outputs = {"publish": people.nngrade("publish", "-a", ASSIGNMENT)}
    assert people.exchange.is_dir()  # the instructor's first command creates it

    write_student_config(people.student_prefix, people.exchange)  # what `make student-env` does
    people.student("fetch_assignment", ASSIGNMENT)
    fetched = people.student_home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert fetched.is_file()
    answers = notebooks.solutions_of(people.course.source_notebook(ASSIGNMENT))
    notebooks.write(notebooks.fill(notebooks.read(fetched), answers), fetched)
    people.student("submit", ASSIGNMENT)

    outputs["collect"] = people.nngrade("collect")
    outputs["grade"] = people.nngrade("grade")
    outputs["return-feedback"] = people.nngrade("return-feedback")
    people.student("fetch_feedback", ASSIGNMENT)
    return people, outputs


def student_id() -> str:
    from nbgrader.utils import get_username

    return get_username()


def test_a_submission_goes_round_the_exchange(graded_class):
    people, outputs = graded_class
    student = student_id()
    assert f"published {ASSIGNMENT}" in outputs["publish"]
    assert f"collected {student} / {ASSIGNMENT}" in outputs["collect"]
    submitted = people.course.notebook("submitted", ASSIGNMENT, student)
    assert submitted.is_file() and (submitted.parent / "timestamp.txt").is_file()
    # one progress line per graded submission, then the table: 25 autograded points of 25, and the 8
    # points of the two written answers waiting for the instructor
    assert re.search(rf"\[1/1\] graded {student} / {ASSIGNMENT} in \d+ s", outputs["grade"]), outputs["grade"]
    row = next(line.split() for line in outputs["grade"].splitlines() if line.split()[:2] == [student, ASSIGNMENT])
    assert row[2:] == ["25/25", "0/8", "pending", "25/33"], outputs["grade"]
    assert "graded by hand in the formgrader" in outputs["grade"]
    assert f"returned feedback {student} / {ASSIGNMENT}" in outputs["return-feedback"]
    pages = list((people.student_home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
    assert len(pages) == 1, "the student's fetch_feedback brought no feedback page"
    assert "test_mcculloch_pitts" in pages[0].read_text()


def test_collecting_again_and_publishing_again_change_nothing(graded_class):
    people, _ = graded_class
    again = people.nngrade("publish", "-a", ASSIGNMENT)
    assert f"already published {ASSIGNMENT}" in again
    assert f"collected {student_id()} / {ASSIGNMENT}" in people.nngrade("collect")


def test_feedback_and_exports_load_mathjax_from_the_server(graded_class):
    people, _ = graded_class
    page = next((people.student_home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html")).read_text()
    assert REMOTE_MATHJAX.findall(page) == [] and LOCAL_MATHJAX in page
    exported, _ = HTMLExporter(config=people.course.config()).from_filename(
        str(people.course.notebook("autograded", ASSIGNMENT, student_id())))
    assert REMOTE_MATHJAX.findall(exported) == [] and LOCAL_MATHJAX in exported


@pytest.fixture
def student_server(graded_class):
    """A Jupyter server in the student's home (their JupyterLab's server), with a token; its URL and token."""
    people, _ = graded_class
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = secrets.token_hex(16)
    command = [BIN / "jupyter", "server", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={people.student_home}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = people.student_home.parent / "server.log"
    with log.open("w") as handle:
        server = subprocess.Popen([str(part) for part in command], cwd=people.student_home, env=people.student_env(),
                                  stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if get(url + "api/status", token)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.25)
        yield url, token
    finally:
        server.terminate()
        server.wait(timeout=30)


def get(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def test_the_students_server_serves_the_feedback_and_its_mathjax(graded_class, student_server):
    people, _ = graded_class
    url, token = student_server
    page = next((people.student_home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
    page_url = url + "files/" + urllib.parse.quote(page.relative_to(people.student_home).as_posix())
    status, body = get(page_url, token)
    assert status == 200 and b"test_mcculloch_pitts" in body
    loader = re.search(r'var local = "([^"]+)"', body.decode())
    assert loader, "the feedback page has no MathJax loader"
    mathjax_url = SERVER_BASE.match(page_url).group(1) + loader.group(1)
    assert mathjax_url.startswith(url + LOCAL_MATHJAX)
    status, script = get(mathjax_url, token)
    assert status == 200 and b"MathJax" in script
    assert get(url + "static/jupyter_server_mathjax/config/TeX-AMS-MML_HTMLorMML-full.js", token)[0] == 200
