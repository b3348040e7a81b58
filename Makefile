# The two commands of the README: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: setup demo test lint format dev bench clean

setup: $(VENV)/.installed
	@test -x /usr/bin/chromium || echo "note: tests/test_ui_browser.py needs the distribution's Chromium: sudo apt-get install -y --no-install-recommends chromium"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: setup                      ## build the demo warehouse, every project partition, and the reports
	$(BIN)/cohort demo

test: setup                      ## the test suite (what CI runs), two workers, a test file each
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: setup
	$(BIN)/ruff check cohort tests benchmarks scripts
	$(BIN)/ruff format --check cohort tests benchmarks scripts

format: setup
	$(BIN)/ruff check --fix cohort tests benchmarks scripts
	$(BIN)/ruff format cohort tests benchmarks scripts

dev: setup                       ## the Dagster UI and daemon on http://127.0.0.1:3000 (DAGSTER_HOME=data/dagster)
	$(BIN)/cohort dev

bench: setup                     ## speed and memory figures at demo scale (scale 1.0: see README)
	$(BIN)/python benchmarks/warehouse.py
	$(BIN)/cohort warehouse build --scale 0.01 --seed 7 --out data/bench/warehouse
	$(BIN)/python benchmarks/longitudinal_cohort.py data/bench/warehouse
	$(BIN)/python benchmarks/labour_reserve.py --warehouse data/bench/warehouse
	$(BIN)/python benchmarks/disclosure.py
	$(BIN)/python benchmarks/reliability_checks.py --rows 1000000 --persons 100000

clean:
	rm -rf data/warehouse data/secure data/exports data/releases data/reports data/quarantine data/dagster
