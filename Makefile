# MNIST Studio: `make run` starts the dashboard, `make test` runs every test.
# Both set up .venv from the pinned requirements first (once; again when they change).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
# This machine only; HOST=0.0.0.0 shares the studio on the network, behind a token (see README).
HOST ?= 127.0.0.1

.PHONY: run test test-fast setup browser bench clean mutation predictions

$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

setup: $(BIN)/.installed

# WORKERS=N on the command line (or in the environment): N Streamlit processes behind nginx, for a class at
# once (README, "Serving a class"); without it, one process. (`make test` reads WORKERS as its xdist workers.)
run: setup
	$(BIN)/python -m studio_ui.serve --host $(HOST) --port $(PORT)$(if $(filter command line environment,$(origin WORKERS)), --workers $(WORKERS))

# Debian's Chromium for the browser tests (Playwright cannot download its own here).
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# Two parts, both always run: what can share the machine in $(WORKERS) pytest-xdist workers (a test file stays
# on one worker, so its module fixtures are built once), then the `serial` tests alone (every browser test,
# Ray, many processes: tests/conftest.py). Each part prints its 20 slowest tests.
WORKERS ?= 2
test: setup browser
	$(BIN)/python -m pytest -m "not serial" -n $(WORKERS) --dist loadfile; parallel=$$?; \
	$(BIN)/python -m pytest -m serial; serial=$$?; \
	test $$parallel -eq 0 && test $$serial -eq 0

# N=2 (or N=auto) runs the fast tests in N pytest-xdist workers, as `make test` does (the serial ones left out).
test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not browser$(if $(N), and not serial)" $(if $(N),-n $(N) --dist loadfile)

# Mutation testing of the core's logic (config and test selection in pyproject.toml; not part of `make test`).
# mutmut keeps its results in mutants/ and re-tests only the functions that changed since the last run.
mutation: setup
	nice -n 10 $(BIN)/mutmut run --max-children 2
	$(BIN)/python tests/mutation_score.py

# The shipped models' test-set predictions, committed beside their cards so Inspect's first visit on a fresh
# clone predicts nothing. Run after replacing models/default or models/shapes (only stale ones are recomputed).
predictions: setup
	$(BIN)/python -m mnist_core.analysis.predictions default shapes

bench: setup
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache mutants
