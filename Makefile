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
export PYTHONDONTWRITEBYTECODE := 1
# Headless targets draw figures into files only; `make lab` leaves matplotlib to JupyterLab (inline figures).
test unit check release grade demo bench: export MPLBACKEND := Agg

# The student environment (`make student-env`): the toolkit, JupyterLab and nbgrader's student tools only.
STUDENT_VENV  := .venv-student
STUDENT_STAMP := $(STUDENT_VENV)/.installed-stamp
# Where pip finds torch for the student environment, e.g. TORCH_INDEX=https://download.pytorch.org/whl/cpu
# on Linux x86_64, where PyPI's torch brings gigabytes of CUDA libraries (README, "For students").
TORCH_INDEX ?=
# apt-get waits up to 10 minutes for another apt or unattended-upgrades to release its lock.
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq

.PHONY: help setup system-packages student-env test unit check release grade demo bench lab \
        publish collect return-feedback clean

help:
	@echo "make setup            create .venv and install everything (run by the other targets)"
	@echo "make demo             release, simulated class, autograde, feedback, grades table"
	@echo "make test             everything CI runs: library tests, autograder self-test, browser tests"
	@echo "make check            autograder self-test (solutions full marks, blank zero, mutants caught)"
	@echo "make release          source/ -> release/ and solutions/"
	@echo "make publish          release/ -> the exchange, students fetch from it   (A=<assignment>, FORCE=1)"
	@echo "make collect          the exchange's submissions -> submitted/"
	@echo "make grade            autograde submitted/, feedback, grades.csv   (JOBS=N for parallel)"
	@echo "make return-feedback  feedback/ -> the exchange, students fetch it"
	@echo "make bench            benchmarks -> benchmarks/results.json"
	@echo "make lab              JupyterLab with the reference on the path and the formgrader (instructors)"
	@echo "make student-env      $(STUDENT_VENV): what a student installs (toolkit, JupyterLab, student tools)"

setup: $(STAMP) system-packages
	@$(BIN)/python -m nngrade exchange

# bubblewrap is the grading sandbox (make grade); without it setup fails, unless NNCOURSE_SANDBOX=0
# (grading without the sandbox, docs/threat-model.md). PostgreSQL only backs one test.
system-packages:
	@if ! command -v bwrap >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing bubblewrap, the grading sandbox, with apt-get (under a minute; waits up to 10 min for an apt lock)"; \
	    $(APT_GET) update && $(APT_GET) install -y bubblewrap >/dev/null; \
	  fi; \
	fi; \
	if ! command -v bwrap >/dev/null 2>&1; then \
	  if [ "$${NNCOURSE_SANDBOX:-1}" = 0 ]; then \
	    echo "WARNING: bubblewrap (bwrap) is missing; NNCOURSE_SANDBOX=0, so make grade runs students' code unsandboxed"; \
	  elif [ "$$(id -u)" != 0 ]; then \
	    echo "WARNING: bubblewrap (bwrap) is missing and only root can install it: sudo apt-get install bubblewrap."; \
	    echo "         make demo and make check run without it; make grade refuses to grade until it is installed."; \
	  else \
	    echo "ERROR: bubblewrap (bwrap) is missing and could not be installed; make grade runs students' code in it."; \
	    echo "       Install it (sudo apt-get install bubblewrap) and run make setup again,"; \
	    echo "       or set NNCOURSE_SANDBOX=0 to grade without the sandbox (docs/threat-model.md)."; \
	    exit 1; \
	  fi; \
	fi
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing PostgreSQL with apt-get for tests/hostile/test_backends.py (1-2 minutes)"; \
	    $(APT_GET) update && $(APT_GET) install -y postgresql >/dev/null; \
	  fi; \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	    echo "WARNING: PostgreSQL is missing: apt-get install postgresql (tests/hostile/test_backends.py grades on a throwaway server)"; \
	fi

$(STAMP): pyproject.toml
	@echo "installing the course's pinned packages into $(VENV) (numpy, torch, scikit-learn, JupyterLab, nbgrader,"
	@echo "test tools): 3-5 minutes on a fresh machine, pip reports each package below"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[dev]"
	@echo "Validate through nnkit.lab: it runs in a process of its own and honours the per-cell time limits"
	$(BIN)/jupyter server extension disable --sys-prefix nbgrader.server_extensions.validate_assignment
	$(BIN)/python -m nngrade lab-config $(VENV)
	@echo "$(VENV) is ready"
	touch $(STAMP)

# What a student installs (README, "For students"), in a venv of its own: the toolkit nnkit (never the
# reference or the grader), JupyterLab, nbgrader without its instructor tools, the course's nbgrader
# settings (exchange, course id, time limits) in $(STUDENT_VENV)/etc/jupyter/nbgrader_config.py.
student-env: $(STUDENT_STAMP)

$(STUDENT_STAMP): pyproject.toml nbgrader_config.py lib/nngrade/exchange.py $(wildcard lib/nnkit/*.py)
	@echo "installing the student environment into $(STUDENT_VENV) (the toolkit, torch, JupyterLab, nbgrader's student"
	@echo "tools): 3-5 minutes on a fresh machine, pip reports each package below"
	test -x $(STUDENT_VENV)/bin/python || $(PYTHON) -m venv $(STUDENT_VENV)
	$(STUDENT_VENV)/bin/python -m pip install --upgrade pip
	$(if $(TORCH_INDEX),$(STUDENT_VENV)/bin/python -m pip install torch==2.13.0 --index-url $(TORCH_INDEX))
	$(STUDENT_VENV)/bin/python -m pip install .
	@echo "hiding nbgrader's instructor tools (Formgrader, Create Assignment, Courses) from the student environment"
	$(STUDENT_VENV)/bin/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader:formgrader
	$(STUDENT_VENV)/bin/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader:create-assignment
	$(STUDENT_VENV)/bin/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader:course-list
	$(STUDENT_VENV)/bin/jupyter server extension disable --sys-prefix nbgrader.server_extensions.formgrader
	$(STUDENT_VENV)/bin/jupyter server extension disable --sys-prefix nbgrader.server_extensions.course_list
	@echo "Validate through nnkit.lab: it runs in a process of its own and honours the per-cell time limits"
	$(STUDENT_VENV)/bin/jupyter server extension disable --sys-prefix nbgrader.server_extensions.validate_assignment
	PYTHONPATH=$(CURDIR)/lib $(STUDENT_VENV)/bin/python -m nngrade student-config $(STUDENT_VENV)
	@echo "$(STUDENT_VENV) is ready: $(STUDENT_VENV)/bin/jupyter lab, in the folder where you keep your coursework"
	touch $(STUDENT_STAMP)

# The hostile-submission suite runs on its own (its sandboxed kernels have 5 s per cell, and sharing
# the two cores with the library tests made one of its runs flaky), a test file per worker.
test: setup student-env
	$(BIN)/python -m pytest -n 2 tests --ignore=tests/hostile --ignore=tests/browser
	$(BIN)/python -m pytest -n 2 --dist loadfile tests/hostile
	$(BIN)/python -m pytest tests/browser
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

# The course root is the server's root (the formgrader needs the course inside it). JupyterLab refuses to
# run as root without --allow-root; a container or a fresh VM often has no other user.
# Exported notebooks load MathJax from this server too (lib/nngrade/templates, nbgrader_config.py).
lab: setup
	@if [ "$$(id -u)" = 0 ]; then \
	  echo "make lab: running as root, so JupyterLab is started with --allow-root (it refuses root otherwise);"; \
	  echo "          a normal user account is safer: notebooks run with the server's rights"; \
	fi
	cd $(CURDIR) && env -u MPLBACKEND $(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) \
	  $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) \
	  --HTMLExporter.extra_template_basedirs=$(CURDIR)/lib/nngrade/templates \
	  '--HTMLExporter.mathjax_url=static/jupyter_server_mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe'

# nbgrader's exchange (docs/jupyterhub.md): $$NNCOURSE_EXCHANGE, else ~/.local/share/nncourse/exchange.
publish: setup
	$(BIN)/python -m nngrade publish $(if $(A),-a $(A)) $(if $(FORCE),--force)

collect: setup
	$(BIN)/python -m nngrade collect

return-feedback: setup
	$(BIN)/python -m nngrade return-feedback

clean:
	rm -rf submitted feedback gradebook.db grades.csv .pytest_cache
	find autograded -mindepth 1 ! -name README.md -exec rm -rf {} +
