# Everything a new machine needs is built from here: the venv, the package, a native TimescaleDB for the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The state folder follows FITBIT_STATE_DIR, as the pipeline does; a DAGSTER_HOME given by the user is kept, so the
# data and the Dagster instance never end up in different places.
STATE := $(if $(FITBIT_STATE_DIR),$(abspath $(FITBIT_STATE_DIR)),$(CURDIR)/.state)
DAGSTER_HOME ?= $(STATE)/dagster_home
export DAGSTER_HOME
# The local instance (the file to edit; deploy/dagster.yaml is the production one the images carry), copied into
# DAGSTER_HOME. Without DAGSTER_HOME, `dagster dev` and `dg` in this folder read it directly.
LOCAL_INSTANCE := dagster.yaml
# make dev HOST=0.0.0.0 PORT=3300, make serve API_PORT=8080
HOST ?= 127.0.0.1
PORT ?= 3000
API_PORT ?= 8000
INSTALLED := $(VENV)/.installed
# TimescaleDB's unmodified source (shared by this project's machines), built into the venv's embedded PostgreSQL.
TIMESCALEDB_SOURCE ?= ../shared/vendor/timescaledb-2.23.1.tar.gz

.PHONY: install demo dev test register clean bench bench-quick bench-staging bench-ui-scale serve browser timescaledb topology

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(INSTALLED)

# Copied when missing. An instance file already there (yours, or an older copy) is kept: a changed template only
# prints a note.
$(DAGSTER_HOME)/dagster.yaml: $(LOCAL_INSTANCE)
	@mkdir -p $(@D)
	@if [ ! -f $@ ]; then cp $< $@ && echo "copied $< to $@"; \
	elif ! cmp -s $< $@; then echo "note: kept $@ (it differs from $<; delete it to take the template)"; touch $@; fi

## make demo: a synthetic cohort (3 participants x 7 days) end to end through Dagster on the embedded database
demo: install $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/fitbit-assets demo

## make dev: the Dagster UI (http://$(HOST):$(PORT), default 127.0.0.1:3000) on the same embedded database and state
# register also creates the instance's storage in one process, before the webserver, daemon and code server load it.
# What `dagster dev` runs, but with the project's daemon (fitbit_assets/daemon.py: the backfill daemon loops every 2 s,
# not 30, so a UI backfill starts at once): `dagster dev` always starts the stock `dagster-daemon run`. The daemon
# stops with the webserver (Ctrl-C reaches both).
dev: install $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/fitbit-assets register || true
	$(PY) -m fitbit_assets.daemon -w workspace.yaml & daemon=$$!; trap 'kill $$daemon 2>/dev/null' EXIT; \
		$(VENV)/bin/dagster-webserver -w workspace.yaml -h $(HOST) -p $(PORT)

register: install $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/fitbit-assets register

## make timescaledb: build TimescaleDB from $(TIMESCALEDB_SOURCE) into the venv's embedded PostgreSQL (2-3 min on
## 2 cores, once: the installed extension is the marker; the build stays in $(VENV)/timescaledb-build). Without the
## source the TimescaleDB tests skip with a reason locally and fail in CI (CI=1).
timescaledb: install
	$(PY) -m fitbit_assets.warehouse.native_timescaledb install --if-source --source $(TIMESCALEDB_SOURCE) \
		--build-dir $(VENV)/timescaledb-build

## make serve: the HTTP API + coordinator dashboard (http://$(HOST):$(API_PORT), default 127.0.0.1:8000, OpenAPI at
## /openapi.json) on the embedded database; without users it serves loopback only
serve: install
	$(VENV)/bin/fitbit-assets serve --host $(HOST) --port $(API_PORT)

## make topology: the services of docker-compose.yml as local processes (no Docker engine; the default run launcher
## instead of DockerRunLauncher): both databases, gRPC code server, webserver (http://127.0.0.1:$(PORT)), daemon,
## API (http://127.0.0.1:$(API_PORT)), with $(TOPOLOGY_PARTICIPANTS) synthetic participants; prints the URLs,
## Ctrl-C stops every service and deletes the databases. Set .env values with TOPOLOGY_SET="VAR=value ...".
TOPOLOGY_PARTICIPANTS ?= 3
TOPOLOGY_SET ?=
topology: install timescaledb
	$(PY) -m fitbit_assets.devtools.compose_topology --synthetic-participants $(TOPOLOGY_PARTICIPANTS) \
		--set DAGSTER_WEBSERVER_PORT=$(PORT) --set FITBIT_API_PORT=$(API_PORT) $(addprefix --set ,$(TOPOLOGY_SET))

# Headless Chromium for the dashboard browser test: Debian's package, installed when missing and running as root
# (CI machines). Otherwise the test skips with a reason locally and fails when CI is set.
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get install -y --no-install-recommends chromium || (apt-get update && apt-get install -y --no-install-recommends chromium)); \
	else echo "chromium not found and not root: the dashboard browser test will be skipped (it fails when CI is set)"; fi

## make test: build everything, then the whole suite (unit + integration on real PostgreSQL and TimescaleDB)
test: install timescaledb browser
	$(PY) -m pytest

## make bench: load/backfill/query/storage/scale benchmarks on a dedicated embedded PostgreSQL (.state/bench), < 10 min;
## writes benchmarks/RESULTS.md. make bench-quick: the same code at tiny sizes (< 1 min), for CI.
bench: install timescaledb
	$(PY) -m benchmarks.run

bench-quick: install timescaledb
	$(PY) -m benchmarks.run --quick

## make bench-staging: export staging time vs number of exports (~5 min), the "Export staging" section of RESULTS.md.
bench-staging: install
	$(PY) -m benchmarks.staging

## make bench-ui-scale: the Dagster UI's GraphQL at study scale, the "UI at study scale" section of
## RESULTS.md; SIZES=100x365,300x730,500x1095 for more sizes (each builds its instance state first: minutes to an hour).
SIZES ?= 100x365
bench-ui-scale: install
	$(PY) -m benchmarks.ui_scale --sizes $(SIZES)

# The embedded PostgreSQL keeps running between commands (runs, the UI, the API share it): stop it first.
clean:
	-@[ -x $(VENV)/bin/fitbit-assets ] && $(VENV)/bin/fitbit-assets db stop
	rm -rf $(STATE)
