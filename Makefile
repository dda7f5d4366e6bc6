# Every target creates .venv and installs the locked dependencies first, so a fresh
# machine needs only Python 3.11+, pip and make.
SHELL := /bin/bash
PYTHON ?= python3
# The interpreter the virtualenv was made from: inside an activated virtualenv, `python3` is the
# virtualenv's, which has neither uv nor, for uv-made ones, pip.
BASE_PYTHON := $(shell $(PYTHON) -c 'import os, sys; print(os.path.join(sys.base_prefix, "bin", "python3"))')
# uv: on PATH, else importable by that interpreter, else a copy installed under .tools/uv (pip
# --target works in and out of a virtualenv and where the system refuses --user, PEP 668; a
# --user install would land in ~/.local/bin, often not on PATH).
UV_HOME := .tools/uv
UV := $(or $(shell command -v uv 2>/dev/null),$(shell $(BASE_PYTHON) -m uv --version >/dev/null 2>&1 && echo $(BASE_PYTHON) -m uv),$(UV_HOME)/bin/uv)
VENV := .venv
RUN := $(UV) run --locked --no-sync

.PHONY: synth test lint format bench install

$(UV_HOME)/bin/uv:
	$(BASE_PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target $(UV_HOME) uv

$(VENV)/.synced: pyproject.toml uv.lock | $(if $(findstring $(UV_HOME),$(UV)),$(UV_HOME)/bin/uv)
	$(UV) sync --locked
	@touch $@

install: $(VENV)/.synced

# e.g. make synth SYNTH_ARGS="--manifest tests/fixtures/regions-models.yaml"
synth: install
	$(RUN) python scripts/synth.py $(SYNTH_ARGS)

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: install
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

test: lint
	$(RUN) pytest

# `install` syncs exactly the default groups, which removes the bench group's packages
# (Pipecat Smart Turn and onnxruntime), so bench re-adds them on every run (a no-op
# check of well under a second once installed).
bench: install
	$(UV) sync --locked --group bench --inexact
	$(RUN) python -m benchmarks $(BENCH_ARGS)
