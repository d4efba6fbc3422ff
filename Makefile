# Drug Ratings. `make demo` runs the product on SQLite with demo data; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
MANAGE := $(BIN)/python manage.py
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast bench validate eval-safety lint install serve clean

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (Python 3.11 is required)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: export DRUGRATINGS_MODE = demo
demo: $(STAMP)
	$(MANAGE) migrate --no-input -v0
	$(MANAGE) import_catalog
	$(MANAGE) import_taxonomy
	$(MANAGE) load_demo
	$(MANAGE) serve --port $(PORT)

serve: $(STAMP)
	$(MANAGE) serve --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not browser and not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run.py

validate: $(STAMP)
	$(BIN)/python -m ratingstats.validation --out reports/validation

eval-safety: $(STAMP)
	$(BIN)/python manage.py eval_safety

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf var reports .pytest_cache
