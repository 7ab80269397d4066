# Bulut — every target installs what it needs on first use (a fresh Debian with Python 3.11+).
# `make help` lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
UV     := $(shell command -v uv 2>/dev/null || echo $(BIN)/uv)
STAMP  := $(VENV)/.installed
FUNCTIONS := $(sort $(dir $(wildcard functions/*/func.yaml functions/*/main.py)))
PYTEST_WORKERS ?= 2
BROWSER_PACKAGES := chromium chromium-driver

export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: help install up test lint typecheck imports unit integration contract test-functions browser haproxy \
        bench e2e render pipeline drill validate fmt clean

help: ## Show this help
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml $(wildcard uv.lock)
	@command -v uv >/dev/null 2>&1 || [ -x $(BIN)/uv ] || { $(PYTHON) -m venv $(VENV) && $(BIN)/pip install -q uv; }
	@$(UV) sync --quiet --compile-bytecode --python $(PYTHON)
	@$(BIN)/python -m compileall -q -j 0 platform/src >/dev/null  # start-up imports .pyc, not source
	@touch $@

install: $(STAMP) ## Create .venv with the platform and its dev tools (uv sync)

up: $(STAMP) ## Run the platform with the sample app (Ctrl-C stops it)
	$(BIN)/bulut up

test: lint typecheck imports unit test-functions ## Everything CI runs: lint, types, layers, all tests

lint: $(STAMP) ## ruff check + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP) ## Format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP) ## mypy --strict on the package, tests, bench and pipelines
	$(BIN)/mypy

imports: $(STAMP) ## import-linter layer contracts
	$(BIN)/lint-imports

# Each test module runs on one worker, in order: module-scoped platforms and the docs runner's
# block sequence stay together. (pytest-xdist's `loadgroup` cannot group under pytest 9.2: it
# renames items through an attribute pytest no longer reads, so `xdist_group` marks are ignored.)
unit: $(STAMP) browser haproxy ## The pytest suite (unit, contract, integration; e2e skips without a cluster)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -q

browser: ## Debian's chromium and chromium-driver for the dashboard's browser test, when missing
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing chromium and chromium-driver (apt-get)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null; \
	  else \
	    echo "note: the browser test needs: sudo apt-get install -y $(BROWSER_PACKAGES)"; \
	  fi; }

haproxy: ## Debian's haproxy for the HAProxy ingress's tests (bulut up --ingress haproxy), when missing
	@command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing haproxy (apt-get)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq haproxy >/dev/null; \
	  else \
	    echo "note: the HAProxy ingress tests need: sudo apt-get install -y haproxy"; \
	  fi; }

contract: $(STAMP) ## Only the contract tests
	$(BIN)/pytest -q tests/contract

integration: $(STAMP) browser haproxy ## Only the integration tests
	$(BIN)/pytest -q -m integration

test-functions: $(STAMP) ## Each function's own tests, in its own folder and environment
	@set -e; for fn in $(FUNCTIONS); do \
	  echo "== $$fn"; $(BIN)/bulut func test $$fn; \
	done

bench: $(STAMP) ## Benchmarks beside same-run baselines; figures to bench/history/<time>.json
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } \
	  || echo "wrk could not be installed: the data-plane bench uses its Python client"
	@command -v haproxy >/dev/null || { apt-get update -qq && apt-get install -y -qq haproxy >/dev/null; } \
	  || echo "haproxy could not be installed: bench_haproxy (ADR 0015) is skipped"
	@set -e; run=bench/history/$$(date -u +%Y%m%dT%H%M%SZ).json; \
	for b in bench/bench_*.py; do name=$$(basename $$b .py); echo "== $$b"; \
	  case $$name in bench_dataplane) flags="--floor --haproxy";; *) flags="";; esac; \
	  BULUT_BENCH_RUN=$$run $(BIN)/python -m bench.$$name $$flags; done; \
	echo "== $$run"; $(BIN)/python bench/compare.py

e2e: $(STAMP) ## Cluster suite (needs a kubeconfig; skips with the reason otherwise)
	$(BIN)/pytest -q -m e2e tests/e2e -rs

render: $(STAMP) ## Regenerate rendered YAML (functions, pipelines) into gitops/
	$(BIN)/bulut render
	$(BIN)/python -m pipelines.render

pipeline: $(STAMP) ## Run function-ci locally for one function: make pipeline FN=inventory
	$(BIN)/bulut pipeline run function-ci --function $(FN)

validate: $(STAMP) ## Build and validate every gitops overlay offline
	$(BIN)/bulut validate gitops

drill: $(STAMP) ## Run the standard local disaster-recovery drill
	$(BIN)/bulut dr drill disaster-recovery/drills/standard.yaml

clean: ## Remove local state (.bulut) and caches
	rm -rf .bulut .pytest_cache .mypy_cache .ruff_cache
