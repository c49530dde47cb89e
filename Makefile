# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?= config/demo.yaml
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint bench clean

$(BIN)/sp4n-gateway: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[postgres,test,learn]'
	touch $@

run: $(BIN)/sp4n-gateway
	$(BIN)/sp4n-gateway run --config $(CONFIG) --host $(HOST) --port $(PORT)

test: $(BIN)/sp4n-gateway
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(BIN)/sp4n-gateway
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(BIN)/sp4n-gateway
	$(BIN)/python bench/intake.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache *.egg-info
