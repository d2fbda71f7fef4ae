# lstm-teach: the two commands a learner needs are `make lab` and `make test`.
#
# Everything runs from a project-local virtual environment, .venv, made with the
# system's `python3 -m venv`. The kit is installed into it in editable mode with the
# `dev` extra, and re-installed only when pyproject.toml changes (a stamp file in
# .venv remembers the last install).
#
# Knobs (set on the command line, e.g. `make lab PORT=9000`):
#   PYTHON        interpreter used to create .venv (default python3, needs >= 3.11)
#   PORT          JupyterLab port (default 8888)
#   IP            JupyterLab address (default 127.0.0.1; 0.0.0.0 to serve other machines)
#   JUPYTER_ARGS  extra arguments for `jupyter lab`, e.g. JUPYTER_ARGS="--ip=0.0.0.0"
#   WORKERS       pytest-xdist workers for `make test` (default 2)
#   PYTEST_ARGS   extra arguments for pytest, e.g. PYTEST_ARGS="-k lstm -x"

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.lstm-teach-installed

PORT ?= 8888
IP ?= 127.0.0.1
JUPYTER_ARGS ?=
# The learner's working copy: `make lab` serves work/ (untracked, see .gitignore), a copy
# of notebooks/, exercises/ and solutions/ made once and never overwritten, so `git pull`
# never fights the learner's edits and autosave never touches a tracked file.
WORK := work
START_NOTEBOOK := notebooks/00_start_here.ipynb
# Project Jupyter settings (lab/page_config.json turns off the news/update toast); added
# to Jupyter's config search path, so a learner's own ~/.jupyter settings still apply.
LAB_CONFIG := $(CURDIR)/tools/jupyter-config

WORKERS ?= 2
PYTEST_ARGS ?=
# `make test` runs the course in exactly the learner's setting: the environment of
# `make lab`, with LSTM_TEACH_QUICK removed (the lessons do not read it any more; removing
# it guards against a value left over in the caller's shell). Only two variables differ,
# and neither changes a single number the notebooks compute:
# * MPLBACKEND=Agg draws figures off screen instead of inline (same figures, no display);
# * one BLAS thread per test process: the xdist workers already fill both cores, and
#   oversubscribed OpenBLAS threads spin-wait (10-50x slower matmuls under load). Every
#   lesson seeds its generators explicitly, and the thread count changes at most the
#   order of floating-point additions inside a matmul (last-bit rounding), which no
#   notebook assertion is sensitive to.
BLAS_THREADS := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
TEST_ENV := env -u LSTM_TEACH_QUICK MPLBACKEND=Agg $(BLAS_THREADS)
# nbval runs every notebook found here; a folder that does not exist yet is left out.
NOTEBOOK_DIRS := $(wildcard notebooks solutions)

.PHONY: help install lab test test-browser app lint strip exercises bench clean distclean

help:  ## list the targets
	@echo "lstm-teach. The two commands:"
	@echo "  make lab    start JupyterLab on your working copy of the course ($(WORK)/)"
	@echo "  make test   run the whole test suite (unit tests, every notebook, hygiene)"
	@echo "Other targets:"
	@awk -F ':.*## ' '/^[a-z-]+:.*## / { printf "  make %-13s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

# --- environment ---------------------------------------------------------------

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "error: lstm-teach needs Python 3.11 or later; '$(PYTHON)' is" \
	       "$$($(PYTHON) --version 2>&1). Try: make PYTHON=python3.11 ..." >&2; exit 1; }
	@echo "creating $(VENV) with $(PYTHON) -m venv"
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "error: could not create $(VENV). On Debian/Ubuntu: apt-get install python3-venv" >&2; \
	  exit 1; }

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --no-input -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install the kit (only when pyproject.toml changed)

# --- the two commands ----------------------------------------------------------

# The token is made here (or taken from JUPYTER_TOKEN) and handed to Jupyter through
# the environment, so the URL printed below is exactly the one the server accepts.
# --port-retries=0: if PORT is taken, fail instead of silently moving to another port.
# .venv/bin goes first on PATH, so JupyterLab's terminals find `lstm-teach` and `python`.
# The server's root is the working copy $(WORK)/; tools/working_copy.py copies in only the
# notebooks that are not there yet (a new lesson after `git pull`), never over your work.
lab: $(STAMP)  ## start JupyterLab on your working copy work/ (PORT, IP, JUPYTER_ARGS)
	@$(PY) tools/working_copy.py $(WORK)
	@token="$${JUPYTER_TOKEN:-$$($(PY) -c 'import secrets; print(secrets.token_hex(24))')}"; \
	ip='$(IP)'; port='$(PORT)'; args=(); next=''; \
	for arg in $(JUPYTER_ARGS); do \
	  case "$$next:$$arg" in \
	    ip:*) ip="$$arg"; next='' ;; \
	    port:*) port="$$arg"; next='' ;; \
	    :--ip=*|:--ServerApp.ip=*) ip="$${arg#*=}" ;; \
	    :--port=*|:--ServerApp.port=*) port="$${arg#*=}" ;; \
	    :--ip|:--ServerApp.ip) next=ip ;; \
	    :--port|:--ServerApp.port) next=port ;; \
	    *) args+=("$$arg") ;; \
	  esac; \
	done; \
	if [ -z "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ] && [ "$$(uname -s)" != Darwin ]; then \
	  args+=(--no-browser); fi; \
	if [ "$$(id -u)" = 0 ]; then args+=(--allow-root); fi; \
	case "$$ip" in 0.0.0.0|'*'|''|'::') host=127.0.0.1 ;; *) host="$$ip" ;; esac; \
	echo; \
	echo "  JupyterLab is starting. Open the course at:"; \
	echo; \
	echo "      http://$$host:$$port/lab/tree/$(START_NOTEBOOK)?token=$$token"; \
	echo; \
	if [ "$$host" != "$$ip" ]; then \
	  echo "  (From another machine, use this machine's address instead of $$host.)"; fi; \
	echo "  (Stop the server with Ctrl-C, twice.)"; \
	echo; \
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" VIRTUAL_ENV="$(CURDIR)/$(VENV)" JUPYTER_TOKEN="$$token" \
	  JUPYTER_CONFIG_PATH="$(LAB_CONFIG)$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
	  exec $(VENV)/bin/jupyter lab \
	  --ServerApp.root_dir='$(CURDIR)/$(WORK)' \
	  --ServerApp.ip="$$ip" --ServerApp.port="$$port" --ServerApp.port_retries=0 \
	  --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
	  --LabApp.default_url='/lab/tree/$(START_NOTEBOOK)' "$${args[@]}"

# One pytest run decides pass or fail: unit tests (tests/), every lesson and solution
# notebook through nbval, the exercise-sync check and the hygiene checks. loadscope keeps
# each notebook on one worker, which nbval needs.
test: $(STAMP)  ## run the whole suite: unit tests + nbval over notebooks/ and solutions/
	$(TEST_ENV) $(PY) -m pytest \
	  -n $(WORKERS) --dist loadscope --nbval-lax \
	  tests $(NOTEBOOK_DIRS) $(PYTEST_ARGS)

test-browser: $(STAMP)  ## only the real-browser tests (need chromium + the browser extra)
	@if [ ! -d tests/browser ]; then echo "no browser tests yet (tests/browser/)"; exit 0; fi
	$(TEST_ENV) $(PY) -m pytest -m browser tests/browser $(PYTEST_ARGS)

# --- everyday helpers ------------------------------------------------------------

lint: $(STAMP)  ## ruff check (the config lives in pyproject.toml)
	$(VENV)/bin/ruff check .

strip: $(STAMP)  ## remove outputs, execution counts and widget state from every notebook
	$(PY) tools/strip_notebooks.py notebooks solutions exercises apps

exercises: $(STAMP)  ## INSTRUCTORS ONLY: regenerate exercises/ from solutions/ (refuses to overwrite edits)
	$(VENV)/bin/lstm-teach exercises build

# Some machines force numpy's OpenBLAS onto older kernels (OPENBLAS_CORETYPE, with
# OPENBLAS_L2_SIZE), because old OpenBLAS builds misbehave on their processors. numpy's
# own OpenBLAS does not, and the forced kernels halve its float32 speed, so the benchmark
# unsets both for itself alone (tests and lessons keep the machine's setting); its report
# names the kernels numpy then runs.
bench: $(STAMP)  ## time the LSTM against its peers and limits (BENCH_ARGS="--quick")
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(VENV)/bin/lstm-teach bench $(BENCH_ARGS)

# --- make app -------------------------------------------------------------------
# The gate explorer and the IIR explorer (apps/gate_explorer.ipynb) as a standalone web
# page: Voila shows the widgets and plots, never the code. Voila is the optional `app`
# extra, installed on first use. No token: like `make lab`, it listens on 127.0.0.1 only
# unless IP says otherwise. MPLBACKEND is cleared so the kernel draws inline.
# --VoilaExecutor.timeout: Voila's executor (nbclient) can stall on a cell that fills an
# Output widget until a receive times out (jupyter/nbclient#312); with no timeout, about
# one page load in seven hung for minutes here. 20 s bounds that stall, and execution
# then goes on normally; the app's cells each take about a second.
#   APP_PORT    Voila port (default 8866);  VOILA_ARGS  extra arguments for `voila`
APP_PORT ?= 8866
APP_NOTEBOOK := apps/gate_explorer.ipynb
VOILA_ARGS ?=

app: $(STAMP)  ## serve the gate + IIR explorers as a Voila app (APP_PORT, IP, VOILA_ARGS)
	@$(PY) -c 'import voila' 2>/dev/null || $(PY) -m pip install --no-input -e '.[app]'
	@case '$(IP)' in 0.0.0.0|'*'|''|'::') host=127.0.0.1 ;; *) host='$(IP)' ;; esac; \
	echo; \
	echo "  The explorers are starting (Voila). Open:"; \
	echo; \
	echo "      http://$$host:$(APP_PORT)/"; \
	echo; \
	echo "  (Stop the server with Ctrl-C.)"; \
	echo; \
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" VIRTUAL_ENV="$(CURDIR)/$(VENV)" \
	  exec env -u MPLBACKEND $(VENV)/bin/voila $(APP_NOTEBOOK) --no-browser \
	  --Voila.ip='$(IP)' --Voila.port='$(APP_PORT)' --Voila.port_retries=0 \
	  --VoilaExecutor.timeout=20 $(VOILA_ARGS)

clean:  ## remove caches and build leftovers (keeps .venv)
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf

distclean: clean  ## also remove .venv
	rm -rf $(VENV)
