# bianmin — `make demo` and `make test` work on a fresh Debian machine with Python 3.11.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
OUT     ?= out
REGION  ?= data/chengdu
# Debian packages: CJK fonts + Pango for the PDF route sheets; Chromium for the map tests;
# poppler-utils to look at PDFs in tests; osmium-tool for the own-region walk-through;
# postgresql: the ledger's tests start a throw-away cluster (tests/conftest.py).
DEB_DEMO := fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0
DEB_TEST := $(DEB_DEMO) chromium poppler-utils osmium-tool postgresql
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint typecheck bench sysdeps-demo sysdeps-test clean

$(VENV)/.main: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.main
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $@

sysdeps-demo:
	@missing=$$(for p in $(DEB_DEMO); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing Debian packages: $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; fi

sysdeps-test:
	@missing=$$(for p in $(DEB_TEST); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing Debian packages: $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; fi

demo: sysdeps-demo $(VENV)/.main
	$(BIN)/bianmin demo --region $(REGION) --out $(OUT)

lint: $(VENV)/.test typecheck
	$(BIN)/ruff check .

# mypy over gis, routing and maps (configured in pyproject.toml [tool.mypy])
typecheck: $(VENV)/.test
	$(BIN)/mypy

test: sysdeps-test $(VENV)/.test lint
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

bench: $(VENV)/.test
	$(BIN)/python benchmarks/bench_coverage.py

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache
