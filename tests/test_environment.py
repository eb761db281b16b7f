"""The two environment descriptions (pyproject.toml for pip, environment.yml for conda) pin the same
packages at the same versions, and the running environment has exactly those versions installed."""

import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml  # PyYAML: installed with jupyterlab (jupyter_server -> jupyter_events -> pyyaml)

REPO_ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([A-Za-z0-9.+!-]+)\s*$")


def normalized(name: str) -> str:
    """PEP 503 name normalization: "Scikit_Learn" and "scikit-learn" are the same package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pins(requirements, source: str) -> dict[str, str]:
    """name -> version from "name==version" lines; anything else (ranges, duplicates) is an error."""
    pins = {}
    for requirement in requirements:
        match = PIN.match(requirement)
        if not match:
            raise AssertionError(f"{source}: {requirement!r} is not an exact pin 'name==version'")
        name = normalized(match.group(1))
        if name in pins:
            raise AssertionError(f"{source}: {name} is listed twice")
        pins[name] = match.group(2)
    return pins


def pyproject_pins(text: str) -> dict[str, str]:
    project = tomllib.loads(text)["project"]
    requirements = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    return parse_pins(requirements, "pyproject.toml")


def conda_pip_pins(text: str) -> dict[str, str]:
    dependencies = yaml.safe_load(text)["dependencies"]
    pip_sections = [entry["pip"] for entry in dependencies if isinstance(entry, dict) and "pip" in entry]
    assert len(pip_sections) == 1, "environment.yml must have exactly one pip: section"
    # "-e ." installs the toolkit itself from the checkout; it is not a pinned dependency
    return parse_pins([r for r in pip_sections[0] if not r.startswith("-e ")], "environment.yml pip list")


def drift(pip_pins: dict[str, str], conda_pins: dict[str, str]) -> list[str]:
    """Human-readable differences between the two pin sets (empty when they agree)."""
    problems = [f"{name}=={pip_pins[name]} is in pyproject.toml but not in environment.yml"
                for name in sorted(pip_pins.keys() - conda_pins.keys())]
    problems += [f"{name}=={conda_pins[name]} is in environment.yml but not in pyproject.toml"
                 for name in sorted(conda_pins.keys() - pip_pins.keys())]
    problems += [f"{name}: pyproject.toml pins {pip_pins[name]}, environment.yml pins {conda_pins[name]}"
                 for name in sorted(pip_pins.keys() & conda_pins.keys())
                 if pip_pins[name] != conda_pins[name]]
    return problems


@pytest.fixture(scope="module")
def pins():
    return (pyproject_pins((REPO_ROOT / "pyproject.toml").read_text()),
            conda_pip_pins((REPO_ROOT / "environment.yml").read_text()))


def test_pyproject_and_environment_yml_pin_the_same_versions(pins):
    pip_pins, conda_pins = pins
    assert drift(pip_pins, conda_pins) == []
    assert len(pip_pins) >= 10


def test_torch_is_pinned_to_2_13_0(pins):
    for source in pins:
        assert source["torch"] == "2.13.0"


def test_installed_versions_equal_the_pins(pins):
    pip_pins, _ = pins
    wrong = []
    for name, pinned in sorted(pip_pins.items()):
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            wrong.append(f"{name}: pinned {pinned}, not installed")
            continue
        # a local build label is the same release: torch 2.13.0+cpu is torch 2.13.0
        if installed.split("+")[0] != pinned:
            wrong.append(f"{name}: pinned {pinned}, installed {installed}")
    assert wrong == []


def test_python_version_matches_both_files():
    requires = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11,<3.12"
    dependencies = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())["dependencies"]
    assert "python=3.11" in dependencies
    assert sys.version_info[:2] == (3, 11)


# The checks above must be able to fail: feed them drifted files.

PYPROJECT = """
[project]
dependencies = ["numpy==2.4.6", "torch==2.13.0", "Scikit_Learn==1.9.1"]
[project.optional-dependencies]
dev = ["pytest==9.2.0"]
"""

ENVIRONMENT = """
dependencies:
  - python=3.11
  - pip
  - pip:
      - numpy==2.4.6
      - torch==2.12.0   # drifted
      - scikit-learn==1.9.1
      - tqdm==4.70.1
      - -e .
"""


def test_drift_detection_reports_every_difference():
    problems = drift(pyproject_pins(PYPROJECT), conda_pip_pins(ENVIRONMENT))
    assert problems == [
        "pytest==9.2.0 is in pyproject.toml but not in environment.yml",
        "tqdm==4.70.1 is in environment.yml but not in pyproject.toml",
        "torch: pyproject.toml pins 2.13.0, environment.yml pins 2.12.0",
    ]


@pytest.mark.parametrize("requirement", ["numpy>=2.4", "numpy", "numpy==2.4.*; python_version<'4'"])
def test_loose_requirements_are_rejected(requirement):
    with pytest.raises(AssertionError, match="is not an exact pin"):
        parse_pins([requirement], "pyproject.toml")
