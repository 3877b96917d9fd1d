# PolicyHub: `make run` serves it, `make test` tests it. Each creates .venv by itself and installs exactly
# the versions in requirements/*.lock (what CI tested): serving needs serve.lock, testing dev.lock too.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SERVE  := $(VENV)/.serve-$(shell cat pyproject.toml requirements/serve.lock | cksum | cut -d' ' -f1)
DEV    := $(VENV)/.dev-$(shell cat pyproject.toml requirements/serve.lock requirements/dev.lock | cksum | cut -d' ' -f1)
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: run test lint bench reliability lock clean

$(SERVE): pyproject.toml requirements/serve.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "PolicyHub needs Python >= 3.11")'
	@test -x $(BIN)/python || { echo "make: creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "make: installing the locked serving dependencies (requirements/serve.lock) into $(VENV)"
	@$(PIP) -r requirements/serve.lock
	@$(PIP) --no-deps -e .
	@rm -f $(VENV)/.serve-* && touch $@

$(DEV): $(SERVE) requirements/dev.lock
	@echo "make: installing the locked test and lint tools (requirements/dev.lock) into $(VENV)"
	@$(PIP) -r requirements/dev.lock
	@rm -f $(VENV)/.dev-* && touch $@

run: $(SERVE)
	$(BIN)/policyhub serve

test: $(DEV)
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: $(DEV)
	$(BIN)/ruff check src tests bench reliability
	$(BIN)/lint-imports
	$(BIN)/mypy --strict src

bench: $(DEV)
	$(BIN)/python -m bench.writes $(BENCH_ARGS)

# The reliability suite (reliability/README.md): the long form on SQLite and PostgreSQL by default.
reliability: $(DEV)
	$(BIN)/python -m reliability --form long $(RELIABILITY_ARGS)

# Re-resolve the locks from pyproject.toml's ranges (newest versions), in throwaway venvs.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check .
	{ sed -n '1,2p' requirements/serve.lock; .lock-venv/bin/python -m pip freeze --exclude-editable \
	  | grep -iv '^policyhub' | sort -f; } > requirements/serve.lock.new
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check -c requirements/serve.lock.new '.[dev]'
	{ sed -n '1,3p' requirements/dev.lock; .lock-venv/bin/python -m pip freeze --exclude-editable \
	  | grep -iv '^policyhub' | sort -f | grep -vixF -f requirements/serve.lock.new; } > requirements/dev.lock
	mv requirements/serve.lock.new requirements/serve.lock && rm -rf .lock-venv

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
