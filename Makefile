# Anagen: `make run` serves the demo clinic, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
# HL7's FHIR R5 definitions and examples (package.json, exact pins), for the FHIR tests.
NPM_REGISTRY ?= https://registry.npmjs.org
NODE_STAMP := node_modules/.installed-$(shell sha1sum package-lock.json | cut -c1-12)
# manage.py defaults to the local settings; the tests use pyproject's test settings.
unexport DJANGO_SETTINGS_MODULE

.PHONY: setup run demo test test-postgres guards lint format bench clean prod prod-stop prod-status bench-load

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

$(NODE_STAMP): package.json package-lock.json
	@npm ci --registry $(NPM_REGISTRY) --ignore-scripts --no-audit --no-fund --silent
	@touch $@

setup: $(STAMP) $(NODE_STAMP)

PORT ?= 8000

run: setup  ## set up, migrate, load the demo clinic, serve http://127.0.0.1:8000 (PORT=8080 make run)
	@mkdir -p var
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py collectstatic --noinput -v 0
	@$(PY) manage.py load_demo
	@$(PY) manage.py runserver 127.0.0.1:$(PORT)

demo: setup
	@$(PY) manage.py migrate --noinput -v 0 && $(PY) manage.py load_demo

lint: setup  ## ruff (format, lint) and mypy (configured in pyproject.toml)
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/mypy

format: setup
	@$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

test: setup lint  ## every test; under CI=true also against PostgreSQL/Redis/Chromium
	@mkdir -p var
	$(PY) -m pytest -n 2 --dist loadgroup
	@if [ -n "$$TEST_POSTGRES_URL" ]; then $(MAKE) --no-print-directory test-postgres; fi

test-postgres: setup  ## the clinic tests again on a real PostgreSQL server
	DATABASE_URL="$$TEST_POSTGRES_URL" ANAGEN_STATEFUL_EXAMPLES=200 $(PY) -m pytest -n 2 --dist loadgroup tests/clinic -m "not browser"

guards: setup  ## remove each clinical guard in a scratch copy; the pathway property test must catch it
	@mkdir -p var
	$(PY) -m tests.guards

bench: setup  ## speed and accuracy benchmarks; writes tables into README.md and docs/benchmarks/
	@for b in bench/*.py; do n=$$(basename $$b .py); case $$n in __init__|readme|locustfile|load) continue;; esac; \
	  echo "== bench $$n"; $(PY) -m bench.$$n || exit 1; done

prod: setup  ## production topology under var/prod: PostgreSQL, Redis, Celery worker+beat, gunicorn (DEMO=1 loads the demo)
	@PY=$(abspath $(PY)) ops/prod.sh start

prod-stop:  ## stop what `make prod` started (idempotent)
	@PY=$(abspath $(PY)) ops/prod.sh stop

prod-status:
	@PY=$(abspath $(PY)) ops/prod.sh status

bench-load: setup  ## locust against `make prod` with 10,000 synthetic patients; writes docs/benchmarks/load.md
	$(PY) -m bench.load

clean:
	rm -rf var/anagen.sqlite3 var/media var/static
