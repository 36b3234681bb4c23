# The two commands: `make run` (develop) and `make test` (the whole suite, as CI runs it).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
UV_VERSION := 0.13.9
PO_FILES := $(wildcard translations/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)
export FLASK_APP := wsgi

.PHONY: install lock lock-upgrade run test test-fast lint fmt translations-extract translations-update translations-compile bench clean

install: $(STAMP) $(MO_FILES)

# The versions come from the lock, so two fresh machines get the same ones; the project itself
# goes in editable without resolving anything again. uv is bootstrapped into the venv by pip.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet 'uv==$(UV_VERSION)'
	$(BIN)/uv pip sync --quiet --python $(BIN)/python $(LOCK)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

# Recompile the lock after changing the dependencies in pyproject.toml: the pins it already
# has are kept where they still fit. `make lock-upgrade` takes the newest allowed versions.
lock lock-upgrade:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet 'uv==$(UV_VERSION)'
	$(BIN)/uv pip compile --quiet --python $(BIN)/python $(if $(filter lock-upgrade,$@),--upgrade) \
		pyproject.toml --extra dev -o $(LOCK)

# One .mo per .po (messages, and Flask-Admin's and WTForms' domains where we ship them).
translations/%.mo: translations/%.po $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@ >/dev/null

translations-compile: $(MO_FILES)

translations-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k _ -k ngettext:1,2 -k lazy_ngettext:1,2 \
		--no-location --sort-by-file -o translations/messages.pot \
		platform_core loyalty messaging admin_views seeds

translations-update: translations-extract
	$(BIN)/pybabel update -i translations/messages.pot -d translations -D messages --no-fuzzy-matching --no-wrap --ignore-obsolete

run: install
	mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask seed demo
	$(BIN)/flask seed email-templates
	scripts/run-dev.sh

test: install
	scripts/run-tests.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy platform_core loyalty messaging admin_views

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	scripts/run-bench.sh

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache $(MO_FILES)
