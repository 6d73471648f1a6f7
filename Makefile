# Trustframe: `make run` (server on SQLite with a demo tenant), `make run-tls` (the same over https, with a
# local CA, for MSAL) and `make test` (lint + the test suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Development defaults for `make run` only; production configures the environment (see .env.example).
RUN_ENV := DEBUG=$${DEBUG:-true} IDENTITY_BASE_URL=$${IDENTITY_BASE_URL:-http://$(HOST):$(PORT)}
DEMO_CREDENTIALS ?= var/demo-credentials.json
# `make run-tls`: granian over TLS on 8443 unless PORT is given, with the CA and certificate of
# `manage.py localtls` (kept in TLS_DIR; the CA is reused, never replaced unless asked).
TLS_PORT := $(if $(filter command line environment environment override,$(origin PORT)),$(PORT),8443)
TLS_DIR ?= var/tls
TLS_ENV := DEBUG=$${DEBUG:-true} IDENTITY_BASE_URL=$${IDENTITY_BASE_URL:-https://localhost:$(TLS_PORT)}

.PHONY: setup run run-tls test lint clean

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
	$(RUN_ENV) $(BIN)/python manage.py demotenant --credentials-file $(DEMO_CREDENTIALS)
	$(RUN_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

run-tls: setup
	mkdir -p var
	$(TLS_ENV) $(BIN)/python manage.py migrate --no-input
	$(TLS_ENV) $(BIN)/python manage.py collectstatic --no-input --verbosity 0
	$(TLS_ENV) $(BIN)/python manage.py localtls --dir $(TLS_DIR)
	$(TLS_ENV) $(BIN)/python manage.py demotenant --credentials-file $(DEMO_CREDENTIALS) --ca-file $(TLS_DIR)/ca.pem
	$(TLS_ENV) $(BIN)/granian --interface wsgi --host $(HOST) --port $(TLS_PORT) --blocking-threads 2 --no-ws \
		--ssl-certificate $(TLS_DIR)/server.pem --ssl-keyfile $(TLS_DIR)/server-key.pem \
		--static-path-mount var/static --access-log identity.wsgi:application

lint: setup
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest -q

# Keeps var/tls: its CA may be trusted by a browser or the system (`rm -rf var/tls` drops it).
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
	find var -mindepth 1 -maxdepth 1 ! -name tls -exec rm -rf {} + 2>/dev/null || true
