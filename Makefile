# The two set-up commands of the README. Both create (or reuse) the virtual environment .venv.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: serve test

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Start the service with a demo municipality on the embedded default (SQLite under ./var/),
## printing where to open it and a token per role.
serve: $(STAMP)
	$(VENV)/bin/ledger demo

## Run the whole test suite (SQLite and PostgreSQL).
test: $(STAMP)
	$(VENV)/bin/python -m pytest
