# Storefront: `make run` serves the shop with demo data, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export STOREFRONT_ENV ?= development
# Keep compiled bytecode, and pytest's rewritten test modules, inside the venv: a shell with
# PYTHONDONTWRITEBYTECODE set would otherwise recompile every module on every run, which
# costs each pytest process (and each server a test starts) several seconds.
export PYTHONDONTWRITEBYTECODE :=
export PYTHONPYCACHEPREFIX ?= $(CURDIR)/$(VENV)/pycache

.PHONY: run test test-e2e screenshots chromium lint bench install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/storefront demo --port $(PORT)

test: install-test
	@start=$$(date +%s); \
	$(BIN)/python -m pytest -n 2 -m "not e2e" $(PYTEST_ARGS); status=$$?; \
	echo "fast suite took $$(( $$(date +%s) - start )) s"; exit $$status

CHROMIUM ?= /usr/bin/chromium
E2E_REPORT := test-artifacts/e2e-junit.xml

# Debian's Chromium drives the browser suite (Playwright cannot download browsers here).
chromium:
	@test -x $(CHROMIUM) || (apt-get update -qq && apt-get install -y -qq chromium)

# The browser suite: Playwright + Chromium against a live server; prints how many tests ran.
test-e2e: install-test chromium
	@mkdir -p test-artifacts; start=$$(date +%s); \
	$(BIN)/python -m pytest -m e2e --junitxml=$(E2E_REPORT) $(PYTEST_ARGS); status=$$?; \
	$(BIN)/python -c "import sys, xml.etree.ElementTree as t; s = t.parse(sys.argv[1]).getroot().find('testsuite'); \
	print('e2e tests run:', s.get('tests'), '| failures:', s.get('failures'), '| errors:', s.get('errors'), '| skipped:', s.get('skipped'))" $(E2E_REPORT) || true; \
	echo "browser suite took $$(( $$(date +%s) - start )) s"; exit $$status

# Every page at 360 px and 1280 px, into test-artifacts/screens/<page>-<width>.png.
screenshots: install-test chromium
	$(BIN)/python -m pytest -q -m e2e tests/e2e/test_screens.py $(PYTEST_ARGS)
	@ls test-artifacts/screens

# Benchmarks: the shop beside a bare-Flask ceiling (see README "Performance"); BENCH_ARGS=--help.
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

clean:
	rm -rf $(VENV) instance outbox test-artifacts
