# Every target creates .venv and installs the locked dependencies first, so a fresh
# machine needs only Python 3.11+, pip and make.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(PYTHON) -m uv
endif
VENV := .venv
RUN := $(UV) run --locked --no-sync

.PHONY: synth test lint format bench install

$(VENV)/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user uv || $(PYTHON) -m pip install --quiet uv
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
