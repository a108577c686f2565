# Two commands for a newcomer: `make up` starts the stack, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: up test bench evalbar lint typecheck install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@# Workflow sandboxes re-import workflows/ for every new workflow: without .pyc files
	@# (PYTHONDONTWRITEBYTECODE) each import compiles the source again.
	$(BIN)/python -m compileall -q src workflows activities worker.py >/dev/null
	touch $(STAMP)

install: $(STAMP)

## Start the dev server (UI on :8233), the worker and the registry; Ctrl-C stops them.
up: $(STAMP)
	$(BIN)/agentreg up

## Run the whole test suite, then the linters and the type checker.
test: $(STAMP)
	$(BIN)/pytest
	$(MAKE) --no-print-directory lint typecheck

## Run every benchmark (not tests); each rewrites its section of docs/performance.md.
BENCHMARKS := lifecycle time_to_reviewer slack_ack idle_fleet drain_under_load catalog_scale eval_cost similarity probe_sandbox mcp_registry dashboard_scale real_client
bench: $(STAMP)
	@for name in $(BENCHMARKS); do echo "== bench.$$name"; $(BIN)/python -m bench.$$name || exit 1; done

## The eval bar on real public assets: prints false positives and misses (exit 1 unless 0).
evalbar: $(STAMP)
	$(BIN)/python -m bench.evalbar

## Lint, format check, and the import-layering contracts in pyproject.toml.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy src workflows activities worker.py

clean:
	rm -rf $(VENV) .agent-registry .pytest_cache .mypy_cache .ruff_cache
