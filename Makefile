# Storefront: `make run` serves the shop with demo data, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export STOREFRONT_ENV ?= development

.PHONY: run test test-fast test-e2e lint bench install install-test clean

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

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

clean:
	rm -rf $(VENV) instance outbox test-artifacts
