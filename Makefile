PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench bench-peers lint soak clean

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
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Peers measured beside us (benchmarks/vs_peers.py), each built once into its own venv from PyPI:
# Hummingbot's sdist compiled with Cython + gcc (no dependencies but what its order book and tracker
# modules import), NautilusTrader's wheel. Slow the first time (Hummingbot: ~7 min on 2 busy cores); stamps after.
PEERS := .venv-peers
HB_VERSION := 20260922
NT_VERSION := 1.221.0
HB_STAMP := $(PEERS)/hummingbot/.installed-$(HB_VERSION)
NT_STAMP := $(PEERS)/nautilus/.installed-$(NT_VERSION)

$(HB_STAMP):
	$(PYTHON) -m venv $(PEERS)/hummingbot
	$(PEERS)/hummingbot/bin/python -m pip install --quiet --upgrade pip setuptools wheel 'numpy>=2.2.6' 'cython>=3.0.12'
	nice -n 19 $(PEERS)/hummingbot/bin/python -m pip install --quiet --no-deps --no-build-isolation --no-binary hummingbot hummingbot==$(HB_VERSION)
	$(PEERS)/hummingbot/bin/python -m pip install --quiet pandas cachetools 'async-timeout<5' pydantic hexbytes aiohttp ujson
	touch $@

$(NT_STAMP):
	$(PYTHON) -m venv $(PEERS)/nautilus
	nice -n 19 $(PEERS)/nautilus/bin/python -m pip install --quiet nautilus-trader==$(NT_VERSION)
	touch $@

bench-peers: $(STAMP) $(HB_STAMP) $(NT_STAMP)
	$(BIN)/python benchmarks/vs_peers.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/mypy

soak: $(STAMP)
	$(BIN)/python -m tests.chaos.soak --orders 20000 --report soak-report.json
	WINGBEAT_CRASH_ROUNDS=60 $(BIN)/python -m pytest -q tests/chaos/test_crash_recovery.py

clean:
	rm -rf $(VENV) build src/*.egg-info
