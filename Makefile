# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
# Prefect's temporary server gets 20 s to start by default; a loaded machine has needed more (exit 1).
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 240
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test lint bench install clean browser

install: $(STAMP)

# torch goes first and pinned: the CPU build lies on this machine's disk, and an unpinned torch
# lets the resolver pull a CUDA build. pyproject.toml only adds the package itself (no deps).
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/s3text run --config configs/default.yaml

# Real Chromium for the review-page tests, from Debian's packages (root with apt, as in CI);
# elsewhere the browser tests skip with a message, except under CI where they must run.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q chromium chromium-driver >/dev/null; }; \
	  else echo "chromium/chromedriver missing: browser tests will be skipped"; fi; }

test: $(STAMP) browser
	$(VENV)/bin/ruff check s3text pipeline tests bench scripts
	$(VENV)/bin/mypy
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/bench_run.py
	test -f out/s3text.duckdb || $(VENV)/bin/s3text run --config configs/default.yaml
	$(PY) bench/bench_web.py
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_crawl.py
	$(PY) bench/bench_repro.py
	$(PY) bench/bench_stability.py --embeddings-from out/s3text.duckdb

clean:
	rm -rf out .prefect .pytest_cache .mypy_cache .ruff_cache
