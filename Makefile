# harmoni — everything a fresh machine needs is done by these targets.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export GX_ANALYTICS_ENABLED := false

.PHONY: install system-deps demo test ui bench lock clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## Run the whole pipeline on a generated sample landing zone (embedded Dagster + DuckDB).
demo: $(STAMP) system-deps
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/harmoni demo

## Debian packages the report needs, installed only when missing: pango (WeasyPrint's PDF
## layout), DejaVu fonts (maps and PDF), and for the report's tests chromium (a real-browser
## screenshot) and poppler-utils (pdftoppm), and RabbitMQ for the Celery workers' tests (tests/test_scaleout.py
## starts it when 127.0.0.1:5672 is down). Needs root (apt-get) only when something is missing.
SYSTEM_PACKAGES_MISSING = $(strip \
  $(if $(shell command -v chromium),,chromium) \
  $(if $(shell command -v pdftoppm),,poppler-utils) \
  $(if $(wildcard /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf),,fonts-dejavu-core) \
  $(if $(shell ldconfig -p 2>/dev/null | grep -F libpangoft2-1.0.so.0),,libpango-1.0-0 libpangoft2-1.0-0) \
  $(if $(shell command -v rabbitmq-server),,rabbitmq-server))

system-deps:
	@if [ -n "$(SYSTEM_PACKAGES_MISSING)" ]; then \
	  echo "installing Debian packages: $(SYSTEM_PACKAGES_MISSING)"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(SYSTEM_PACKAGES_MISSING); \
	fi

## Run the test suite (tests that need Postgres use 127.0.0.1:5432; the scale-out tests start RabbitMQ,
## a local S3 server and workers themselves).
test: $(STAMP) system-deps
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

## Dagster UI on the demo's instance (http://127.0.0.1:3000).
ui: $(STAMP)
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/dagster dev -m harmoni_pipeline.definitions -h 127.0.0.1 -p 3000

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

## Re-resolve requirements.lock from pyproject.toml (needs uv; dev-time only).
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header -o requirements.lock

clean:
	rm -rf $(VENV) .dagster_home data/warehouse data/landing .pytest_cache
