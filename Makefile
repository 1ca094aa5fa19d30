# The two set-up commands of the README: `make demo` and `make test`.
# Each creates or refreshes .venv idempotently, installs the Debian data packages, then runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.relreps-installed

.PHONY: demo test venv system-data lint typecheck unit bench clean

demo: venv system-data
	$(BIN)/relreps demo --overwrite $(ARGS)

test: venv system-data lint typecheck unit

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[all,dev]'
	touch $(STAMP)

system-data:
	@scripts/install_system_data.sh

lint:
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck:
	$(BIN)/mypy

unit:
	$(BIN)/python -m pytest tests src/relreps -q $(PYTEST_ARGS)

bench:
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
