# The two commands a newcomer needs: `make demo` and `make test`. Everything else is a step of them.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: venv demo test test-fast lint frontend api-types browser train bench clean

## venv: create .venv and install requirements; reused while requirements.txt is unchanged
venv:
	@bash deploy/scripts/ensure-venv.sh "$(VENV)"

## frontend: build the dashboard bundle (npm ci from the committed lockfile); reused while sources are unchanged
frontend:
	@bash deploy/scripts/ensure-frontend.sh

## api-types: regenerate the dashboard's API types (frontend/src/api/schema.gen.ts) from the OpenAPI schema
api-types: venv frontend
	@bash deploy/scripts/api-types.sh

## browser: install Debian's chromium (browser tests), nginx (the web image's config check), Pango (WeasyPrint's
## PDF reports) and poppler-utils (pdftotext/pdftoppm read the PDF back in tests) if missing
browser:
	@command -v chromium >/dev/null 2>&1 && command -v nginx >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 \
	  && /sbin/ldconfig -p | grep -q libpangoft2-1.0 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium nginx-light \
	    poppler-utils libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core >/dev/null)

## demo: set up, start the web app and a real Celery worker (embedded: SQLite + filesystem broker), analyse a sample clip
demo: venv frontend
	$(PY) -m workers.demo

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run --settings=config.settings.test

## test: the whole suite (lint, migrations check, unit, API, integration, browser) against the local Postgres and Redis
test: venv frontend browser lint
	cd frontend && npm test --silent
	$(PY) -m pytest

## test-fast: skip the tests that start processes or a browser
test-fast: venv
	$(PY) -m pytest -m "not integration and not browser and not chaos"

train: venv
	$(PY) -m detector.training.reproduce

bench: venv
	$(PY) bench/run.py

clean:
	rm -rf var/ frontend/dist artifacts/
