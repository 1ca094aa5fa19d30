# The two set-up commands of the README: `make demo` and `make test`.
# Each creates or refreshes .venv idempotently, installs the Debian data packages, then runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.relreps-installed

.PHONY: demo test venv system-data lint typecheck unit reproduce-quick bench clean

demo: venv system-data
	$(BIN)/relreps demo --overwrite $(ARGS)

test: venv system-data lint typecheck unit reproduce-quick

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
	$(BIN)/lint-imports

typecheck:
	$(BIN)/mypy

unit:
	$(BIN)/python -m pytest tests src/relreps -q $(PYTEST_ARGS)

# Every paper reproduction end to end, quick variants, into one report (the issue's 15-minute bar).
# Fails when an experiment is skipped as a whole (its data or models missing from the set-up).
QUICK_RUN := relreps-output/all-quick
reproduce-quick:
	rm -rf $(QUICK_RUN) && mkdir -p $(dir $(QUICK_RUN))
	start=$$(date +%s); \
	$(BIN)/relreps reproduce all --quick --jobs 2 -o $(QUICK_RUN) > $(QUICK_RUN).txt && \
	echo "reproduce all --quick: $$(( $$(date +%s) - start )) s wall"
	@cat $(QUICK_RUN).txt
	test -s $(QUICK_RUN)/report.md && test -s $(QUICK_RUN)/report.html
	! grep -E "^[a-z-]+: skipped" $(QUICK_RUN).txt

# Every benchmark script; each prints its figures beside their floor and peer, with the load.
# BENCH_ARGS go to every script (so only options all of them take).
bench:
	@for b in benchmarks/bench_*.py; do \
		echo "== $$b (load $$(cut -d' ' -f1-3 /proc/loadavg))"; \
		$(BIN)/python $$b $(BENCH_ARGS) || exit 1; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
