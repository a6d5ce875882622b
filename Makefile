# Two promises from the README: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PG_BIN ?= /usr/lib/postgresql/15/bin

.PHONY: run test install install-test system-test-deps lint bench clean docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24,<27"

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test system-test-deps

# The suite starts a real PostgreSQL server from Debian's binaries, and drives Debian's Chromium
# for the console's browser tests (Playwright cannot download browsers here); install them when
# missing.
system-test-deps:
	@if [ ! -x "$(PG_BIN)/initdb" ]; then \
		echo "Installing PostgreSQL 15 server binaries for the test suite"; \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
		$(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null; \
	fi
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Chromium for the browser tests"; \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
		$(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# The gateway, its delivery worker and a demo webhook receiver in one terminal (Ctrl-C stops
# all three): migrates, loads the demo data, prints the URLs and credentials, then each webhook.
# `make run PORT=18433` serves there, and the public base URL follows.
PORT ?= 8000
run: install
	$(BIN)/wijkgateway demo run --host 127.0.0.1 --port $(PORT)

lint: install-test
	$(BIN)/ruff check gateway adapters schemas consent tests bench
	$(BIN)/lint-imports

# Two workers (CI has two cores), each with its own PostgreSQL; a module's tests stay together
# so its server-backed fixtures start once. `make test TEST_WORKERS=0` runs in one process.
TEST_WORKERS ?= 2
test: install-test lint
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadscope

# The documentation site (mkdocs-material) into site/; `make test` builds it with --strict too
# (tests/docs/test_site.py), so a broken link fails the suite.
docs: $(VENV)/.installed-test  # mkdocs only: no PostgreSQL or Chromium needed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

bench: install-test
	$(BIN)/python bench/referrals.py
	$(BIN)/python bench/consent_decisions.py
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/who_else_helps.py
	$(BIN)/python bench/youth_dossier.py
	$(BIN)/python bench/plan_updates.py
	$(BIN)/python bench/bulk_import.py

# The container image of deploy/ (compose and Kubernetes), built from this checkout's Dockerfile.
IMAGE ?= wijkgateway:local
.PHONY: image
image:
	@command -v docker >/dev/null 2>&1 || { echo "make image: docker not found; install Docker to build $(IMAGE) from the Dockerfile (docs/deployment.md)" >&2; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "make image: docker is installed but its daemon is not reachable; start it, then run make image again" >&2; exit 1; }
	docker build --tag $(IMAGE) .

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
