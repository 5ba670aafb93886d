# Two commands on a fresh machine:
#   make run    the main job (environment, embedded PostgreSQL unless PG* is set, synthetic data,
#               dbt build, quality checks, docs site, readouts)
#   make test   every test (lint, dbt unit and data tests, pytest on real PostgreSQL)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LEARNERS ?= 10000

.PHONY: run test env assets lint docs bench clean lock db-down

# The environment, once (about a minute): a line per step and per package, so it is not silence.
PIP_PROGRESS := awk -v total="$$(grep -c '^[^\#]' requirements.txt)" \
	'/^(Collecting|Processing) / {name = $$2; sub(/.*\//, "", name); printf "    [%d/%d] %s\n", ++n, total, name; fflush()} \
	 /^Installing collected packages/ {print "    installing them..."; fflush()} /^ERROR/ {print; fflush()}'
$(STAMP): requirements.txt pyproject.toml
	@echo "==> creating the Python environment in $(VENV)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> upgrading pip"
	$(BIN)/pip install --quiet --upgrade pip
	@echo "==> installing the pinned dependencies of requirements.txt"
	@set -o pipefail; $(BIN)/pip install -r requirements.txt 2>&1 | $(PIP_PROGRESS)
	@echo "==> installing lpdata (editable) and its lp command"
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)
	@echo "==> environment ready: $(BIN)/lp"

# Headless Chromium renders the docs site in the tests (Debian package; needs root or sudo).
CHROMIUM_STAMP := $(VENV)/.chromium
$(CHROMIUM_STAMP): | $(STAMP)
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	touch $(CHROMIUM_STAMP)

env: $(STAMP)

# The pages' JavaScript and CSS (package.json, exact versions in package-lock.json), loaded from
# local copies so that every page opens without network; lp installs them too when missing.
ASSETS_STAMP := node_modules/.package-lock.json
$(ASSETS_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(ASSETS_STAMP)

assets: $(ASSETS_STAMP)

run: env assets
	$(BIN)/lp run --learners $(LEARNERS)

test: env assets $(CHROMIUM_STAMP)
	$(BIN)/lp test

lint: env
	$(BIN)/lp lint

bench: env
	$(BIN)/lp bench

db-down: env
	$(BIN)/lp db down

lock: env
	$(BIN)/pip freeze --exclude-editable | grep -v '^lpdata' > requirements.txt.new
	(echo '# Exact pins of every Python dependency (pip freeze of the ranges in pyproject.toml).'; \
	 echo '# Regenerate: make lock'; cat requirements.txt.new) > requirements.txt; rm requirements.txt.new

clean:
	rm -rf target target_* logs artifacts
