# Drug Ratings. `make demo` runs the product on SQLite with demo data; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
MANAGE := $(BIN)/python manage.py
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast bench bench-10x validate eval-safety lint install serve clean fuzz demo-load-check

$(STAMP): requirements-pip.lock requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (Python 3.11 is required)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-pip.lock
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

# axe-core (the browser tests' accessibility checks) from the npm registry, pinned by
# tests-browser/package-lock.json.
AXE := tests-browser/node_modules/axe-core/axe.min.js
$(AXE): tests-browser/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found (Node.js is needed for the browser tests' axe-core)"; exit 1; }
	cd tests-browser && npm ci --no-audit --no-fund --loglevel=error
	touch $(AXE)

test: $(STAMP) $(AXE)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not browser and not slow" $(PYTEST_ARGS)

# schemathesis over the whole served OpenAPI document (anonymous, physician token, pharma API
# key): no 5xx and responses matching the document. `make test` runs a short version.
FUZZ_EXAMPLES ?= 400
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_MIN_CALLS=$${FUZZ_MIN_CALLS:-20000} \
		$(BIN)/python -m pytest drugratings/api/tests/test_fuzz.py -p no:randomly -q -s $(PYTEST_ARGS)

# Fresh demo database, server + worker, requests from the first second through the first fit and
# release: prints the count of 5xx and the slowest answer (target 0 and < 10 s). Takes minutes.
demo-load-check: $(STAMP)
	$(BIN)/python bench/load_during_worker.py

bench: $(STAMP)
	$(BIN)/python bench/run.py

# Ten times launch on PostgreSQL (issue 17): drops and creates the database drugratings_10x,
# loads 2.52 M ratings, then times the loader, fit, releases, refit and serving with peak memory
# against the targets. Most of an hour on 2 cores. Smaller: BENCH_10X_ARGS="--scale 0.2".
BENCH_10X_ARGS ?=
bench-10x: $(STAMP)
	$(BIN)/python bench/bench_10x.py $(BENCH_10X_ARGS)

validate: $(STAMP)
	$(BIN)/python -m ratingstats.validation --out reports/validation

eval-safety: $(STAMP)
	$(BIN)/python manage.py eval_safety

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf var reports .pytest_cache
