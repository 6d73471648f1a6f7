# Trustframe: `make run` (server on SQLite with a demo tenant) and `make test` (lint + the test suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Development defaults for `make run` only; production configures the environment (see .env.example).
RUN_ENV := DEBUG=$${DEBUG:-true} IDENTITY_BASE_URL=$${IDENTITY_BASE_URL:-http://$(HOST):$(PORT)}

.PHONY: setup run test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) 2>/dev/null || { rm -rf $(VENV) && $(PYTHON) -m venv --without-pip $(VENV) \
		&& $(BIN)/python scripts/bootstrap_pip.py; }

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $@

setup: $(VENV)/.installed

run: setup
	mkdir -p var
	$(RUN_ENV) $(BIN)/python manage.py migrate --no-input
	$(RUN_ENV) $(BIN)/python manage.py demotenant --credentials-file var/demo-credentials.json
	$(RUN_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: setup
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
