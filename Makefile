# The quick start: `make demo` runs the whole job on real data; `make test` runs the test suite.
# Each creates (or reuses) a virtual environment in .venv and installs what it needs into it.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test oracles lint typecheck bench bench-scale clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "model-training needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[demo]'
	@touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(BIN)/model-training demo

# The SageMaker XGBoost container's code judges our outputs under each image's pinned libraries: one
# environment per image in .oracle-envs (built once; nothing happens without ../shared/oracles, except
# under CI, where that fails).
oracles: $(VENV)/.dev-installed
	$(BIN)/python tests/oracle/envs.py

# Tests run in one worker process per core (pytest-xdist), a module's tests in the same worker (its
# fixtures built once); `pytest tests/...` alone runs in one process.
test: oracles
	$(BIN)/python -m pytest -n auto --dist loadscope

# Every benchmark of `make bench` prints its targets as met or not (ours beside its baseline, in the same run);
# the last lines list them all from this run (benchmarks/targets.py). A failing script does not hide the others.
BENCHES      := cold_start_bench.py run_bench.py s3_bench.py split_bench.py
BENCH_REPORT := $(VENV)/bench-targets.jsonl

bench: $(VENV)/.dev-installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check polars pandas
	@rm -f $(BENCH_REPORT)
	-@for script in $(BENCHES); do echo "== $$script"; MODEL_TRAINING_BENCH_REPORT=$(BENCH_REPORT) $(BIN)/python benchmarks/$$script; done
	@$(BIN)/python benchmarks/targets.py $(BENCH_REPORT) $(BENCHES)

# Issue 15's figures, on the bank data x200 (1.9 GB; long, so not part of `make bench`): the split inside the Lambda
# function against the Processing job's command (moto's server), and local training with 1, 2 and 4 workers.
bench-scale: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/scale_bench.py

# Static checks: ruff's lint and format check, and the import contracts (the layers, pyproject.toml).
lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests $(wildcard benchmarks)
	$(BIN)/ruff format --check src tests $(wildcard benchmarks)
	$(BIN)/lint-imports

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .oracle-envs model-training-output .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
