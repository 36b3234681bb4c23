# The two commands: `make run` (develop) and `make test` (the whole suite, as CI runs it).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PO_FILES := $(wildcard translations/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)
export FLASK_APP := wsgi

.PHONY: install run test test-fast lint fmt translations-extract translations-update translations-compile bench clean

install: $(STAMP) $(MO_FILES)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

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

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	scripts/run-bench.sh

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache $(MO_FILES)
