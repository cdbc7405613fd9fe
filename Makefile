# The two set-up commands of the README. Both create (or reuse) the virtual environment .venv.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: serve test fuzz chromium screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Start the service with a demo municipality on the embedded default (SQLite under ./var/),
## printing where to open it and a token per role (`make serve PORT=8765` for another port;
## a busy port stops it with one line before anything is loaded or printed).
serve: $(STAMP)
	$(VENV)/bin/ledger demo --host $(HOST) --port $(PORT)

## Run the whole test suite (SQLite and PostgreSQL): two workers (pytest-xdist), then the tests
## that compare latencies under load (marked `alone`) by themselves.
test: $(STAMP) chromium
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile -m "not alone"
	$(VENV)/bin/python -m pytest -m alone

## The issue-21 bar of fuzzing: 200 examples per operation of the OpenAPI schema, on both stores
## (the suite runs LEDGER_FUZZ_EXAMPLES=12; figures in var/test-figures/fuzz-*.json, docs/reliability.md).
fuzz: $(STAMP)
	LEDGER_FUZZ_EXAMPLES=200 $(VENV)/bin/python -m pytest tests/api/test_fuzz.py -s

## Debian's Chromium for the web UI's browser tests, installed (as root) where it is missing;
## Playwright drives it as it is and downloads no browser of its own.
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
		|| echo "!!! chromium could not be installed: the browser tests are skipped, and fail under CI=true !!!"

## The web UI's screenshots in docs/screenshots/ (docs/brugervejledning.md, README), taken anew
## from a fresh demo in headless Chromium.
screenshots: $(STAMP) chromium
	$(VENV)/bin/python -m tests.e2e.screenshots
