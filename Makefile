# MTL Zoo: the two commands are `make demo` and `make test`.
# python3.11 when on the PATH, else python3 (which must be 3.11).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast venv postgres docs lint bench clean

# Creates .venv and installs the pinned requirements; reinstalls when requirements.txt changes.
venv: $(STAMP)
$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

# The main job, offline after the install: build data, train, evaluate, export, serve, query.
demo: venv
	bash scripts/demo.sh

# PostgreSQL's server binaries for the study test against a real server (installed with
# apt-get where missing and possible; otherwise that one test skips, saying why).
postgres:
	bash scripts/install_postgres.sh

# The whole test suite (slow-marked tests included), one worker process per core.
test: venv postgres
	$(PY) -m pytest -q -n auto --dist loadfile

# Everything except tests marked slow.
test-fast: venv
	$(PY) -m pytest -q -n auto --dist loadfile -m "not slow"

# The documentation site (docs/, mkdocs.yml) into site/ (ignored): open site/index.html. Strict:
# a broken link or anchor, or a page missing from the nav, fails (never add -q: it hides them).
docs: venv
	$(PY) -m mkdocs build --strict

lint: venv
	$(VENV)/bin/hadolint Dockerfile

bench: venv
	$(PY) bench/pipeline.py
	$(PY) bench/weighting_overhead.py
	$(PY) bench/serving.py
	$(PY) bench/serving_costs.py

clean:
	rm -rf runs exported site .pytest_cache
