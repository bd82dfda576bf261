# royalty-ledger — every target documents itself: `make help`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help setup browser demo test test-fuzz test-long bench lint fmt clean

help: ## List the targets with what they do
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

setup: $(STAMP) browser ## Install the virtualenv with the dev extras, and chromium for the browser tests

# The dashboard's browser tests drive Debian's chromium through Playwright (Playwright's own
# browser download is never used). Installed with apt-get when missing and running as root
# (CI runs as root); otherwise say how, and the browser tests skip (they fail when CI=true).
browser: ## Install Debian's chromium for the browser tests when it is missing (as root: apt-get)
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium for the browser tests (apt-get)"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium is missing: as root, apt-get install -y chromium (browser tests skip without it)"; fi

demo: $(STAMP) ## Set up (first run) and run the demo on the embedded SQLite store
	$(BIN)/royalty init
	$(BIN)/royalty demo

test: $(STAMP) browser ## Set up (first run) and run the whole test suite (CI=true: PostgreSQL and chromium must be there)
	$(BIN)/python -m pytest -n 2 --timeout=600 tests

test-fuzz: $(STAMP) ## A bigger schemathesis run of the API (ROYALTY_FUZZ_EXAMPLES per operation, default 200)
	ROYALTY_FUZZ_EXAMPLES=$${ROYALTY_FUZZ_EXAMPLES:-200} $(BIN)/python -m pytest -p no:xdist -s --timeout=0 tests/e2e/test_api_schemathesis.py

test-long: $(STAMP) ## Nightly-sized accounting machine: 200 examples × 200 steps per backend, every step checked
	CI=true ROYALTY_MACHINE_RANDOM=1 ROYALTY_MACHINE_EXAMPLES=200 ROYALTY_MACHINE_STEPS=200 ROYALTY_MACHINE_CHECK_EVERY=1 \
		$(BIN)/python -m pytest -p no:xdist --timeout=0 tests/properties/test_accounting_machine.py

bench: $(STAMP) ## Run the benchmarks, each figure beside its same-run baseline
	$(BIN)/python -m benchmarks

lint: $(STAMP) ## ruff, mypy --strict on src/, and the import-linter layer contracts
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src
	$(BIN)/lint-imports

fmt: $(STAMP) ## Format the code with ruff
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

clean: ## Remove the virtualenv, local stores and demo output
	rm -rf $(VENV) var demo-out .pytest_cache .hypothesis
