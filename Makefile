# Every target creates .venv and installs the locked dependencies first, so a fresh
# machine needs only Python 3.11+, pip and make (and, for `make test` and `make local`, Go
# 1.26+, which builds the pinned LiveKit server once).
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

# The open-source LiveKit server the tests and `make local` run on loopback: pinned, built once
# from the Go module proxy into a folder named for its version (a new pin builds anew).
LIVEKIT_SERVER_VERSION := v1.13.5
LIVEKIT_SERVER := .tools/livekit-server-$(LIVEKIT_SERVER_VERSION)/server
LIVEKIT_SERVER_LINK := .tools/bin/livekit-server

.PHONY: synth test lint format bench install livekit-server local

$(UV_HOME)/bin/uv:
	$(BASE_PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target $(UV_HOME) uv

$(VENV)/.synced: pyproject.toml uv.lock | $(if $(findstring $(UV_HOME),$(UV)),$(UV_HOME)/bin/uv)
	$(UV) sync --locked
	@touch $@

install: $(VENV)/.synced

$(LIVEKIT_SERVER):
	@command -v go >/dev/null || { echo "make: Go 1.26+ is needed to build the tests' LiveKit server (https://go.dev/dl/)" >&2; exit 1; }
	@echo "building livekit-server $(LIVEKIT_SERVER_VERSION) (first time only, about 2 minutes)"
	GOBIN=$(abspath $(dir $(LIVEKIT_SERVER))) go install github.com/livekit/livekit-server/cmd/server@$(LIVEKIT_SERVER_VERSION)

$(LIVEKIT_SERVER_LINK): $(LIVEKIT_SERVER)
	@mkdir -p $(dir $@)
	ln -sf $(abspath $(LIVEKIT_SERVER)) $@

# Run the LiveKit server on loopback (ws://127.0.0.1:7880, the key pair in
# meridian/local/livekit.yaml), for `python -m agent dev` and friends.
livekit-server: $(LIVEKIT_SERVER_LINK)
	$(LIVEKIT_SERVER_LINK) --config meridian/local/livekit.yaml

# Everything on this machine: the LiveKit server, one region's agent worker and its dispatch.
local: install $(LIVEKIT_SERVER_LINK)
	$(RUN) python -m meridian.local $(LOCAL_ARGS)

# e.g. make synth SYNTH_ARGS="--manifest tests/fixtures/regions-models.yaml"
synth: install
	$(RUN) python scripts/synth.py $(SYNTH_ARGS)

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: install
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

test: lint $(LIVEKIT_SERVER_LINK)
	LIVEKIT_SERVER_BIN=$(abspath $(LIVEKIT_SERVER_LINK)) $(RUN) pytest

# `install` syncs exactly the default groups, which removes the bench group's packages
# (Pipecat Smart Turn and onnxruntime), so bench re-adds them on every run (a no-op
# check of well under a second once installed).
bench: install $(LIVEKIT_SERVER_LINK)
	$(UV) sync --locked --group bench --inexact
	LIVEKIT_SERVER_BIN=$(abspath $(LIVEKIT_SERVER_LINK)) $(RUN) python -m benchmarks $(BENCH_ARGS)
