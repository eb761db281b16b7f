# Neural Network Foundations: one command per job. `make help` lists them.
# Every target that needs the environment depends on `setup`, so `make demo` and `make test`
# work on a fresh clone.

PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
JOBS   ?= 1

# nbgrader shells out to `alembic`, so the venv's bin/ must be on PATH.
export PATH := $(BIN):$(PATH)
# The reference (nnref) and the grader (nngrade) are reached through PYTHONPATH, never installed.
export PYTHONPATH := $(CURDIR)/lib
# MNIST: use the course's shared copy when it is there (the loader also reads its own config/cache).
SHARED_MNIST := $(abspath $(CURDIR)/../shared/data/mnist)
ifneq ($(wildcard $(SHARED_MNIST)/train-images-idx3-ubyte.gz),)
export NNCOURSE_MNIST_DIR ?= $(SHARED_MNIST)
endif
export MPLBACKEND ?= Agg
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup test unit check release grade demo bench lab clean

help:
	@echo "make setup    create .venv and install everything (run by the other targets)"
	@echo "make demo     release, simulated class, autograde, feedback, grades table"
	@echo "make test     everything CI runs: library tests, autograder self-test"
	@echo "make check    autograder self-test (solutions full marks, blank zero, mutants caught)"
	@echo "make release  source/ -> release/ and solutions/"
	@echo "make grade    autograde submitted/, feedback, grades.csv   (JOBS=N for parallel)"
	@echo "make bench    benchmarks -> benchmarks/results.json"
	@echo "make lab      JupyterLab with the reference on the path (instructors)"

setup: $(STAMP)
	@command -v bwrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; } || \
	  echo "bubblewrap (bwrap) is missing: apt-get install bubblewrap (make grade runs kernels in it)"
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } || \
	  echo "PostgreSQL is missing: apt-get install postgresql (tests/hostile/test_backends.py grades on a throwaway server)"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The hostile-submission suite runs on its own (its sandboxed kernels have 5 s per cell, and sharing
# the two cores with the library tests made one of its runs flaky), a test file per worker.
test: setup
	$(BIN)/python -m pytest -n 2 tests --ignore=tests/hostile
	$(BIN)/python -m pytest -n 2 --dist loadfile tests/hostile
	$(BIN)/python -m nngrade check

unit: setup
	$(BIN)/python -m pytest -n 2 tests/lib

check: setup
	$(BIN)/python -m nngrade check

release: setup
	$(BIN)/python -m nngrade release

# Students' code runs in the bubblewrap sandbox (docs/threat-model.md); NNCOURSE_SANDBOX=0 to opt out.
grade: setup
	NNCOURSE_SANDBOX=$${NNCOURSE_SANDBOX:-1} $(BIN)/python -m nngrade grade --jobs $(JOBS)

demo: setup
	$(BIN)/python -m nngrade demo

bench: setup
	$(BIN)/python -m benchmarks

lab: setup
	$(BIN)/jupyter lab

clean:
	rm -rf submitted feedback gradebook.db grades.csv .pytest_cache
	find autograded -mindepth 1 ! -name README.md -exec rm -rf {} +
