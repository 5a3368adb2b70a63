# Two entry points a newcomer needs: `make serve` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= ./trainjobs-data

.PHONY: install install-test serve test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e '.[examples]'

install-test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

serve: install
	$(BIN)/trainjobs serve --data-dir $(DATA_DIR)

test: install-test
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/list_versions.py

clean:
	rm -rf $(VENV) $(DATA_DIR) .pytest_cache .mypy_cache .ruff_cache
