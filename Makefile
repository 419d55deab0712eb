PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/wingbeat demo

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/mypy

soak: $(STAMP)
	$(BIN)/python -m tests.chaos.soak --orders 20000 --report soak-report.json
	WINGBEAT_CRASH_ROUNDS=60 $(BIN)/python -m pytest -q tests/chaos/test_crash_recovery.py

clean:
	rm -rf $(VENV) build src/*.egg-info
