# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?= config/demo.yaml
HOST   ?= 127.0.0.1
PORT   ?= 8000
MUTATION_CHILDREN ?= 2

.PHONY: run test lint bench confusables clean lock audit mutation

# Installs exactly the locked versions (hashes checked), then the project itself.
$(BIN)/sp4n-gateway: setup.cfg pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
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

# The look-alike table keyword matching uses (normalizer/confusables.py): rebuild it after
# upgrading confusable-homoglyphs or Python; a test fails while it is stale.
confusables: $(BIN)/sp4n-gateway
	$(BIN)/python -m normalizer.confusables

# Refresh requirements.lock from setup.cfg's lower bounds (newest versions that fit).
lock: $(BIN)/sp4n-gateway
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --extra postgres --extra test --extra learn --extra mutation \
		--output-file requirements.lock setup.cfg

# Mutation testing of forwarder/ and gateway/intake/ ([mutmut] in setup.cfg): prints the share
# of mutants killed (bench/RESULTS.md has the figure). Slow on first run; later runs test only
# what changed (rm -rf mutants for a fresh pass). Two cores: MUTATION_CHILDREN=1 to leave one.
mutation: $(BIN)/sp4n-gateway
	test -x $(BIN)/mutmut || $(BIN)/python -m pip install --quiet 'mutmut>=3.3,<4'
	$(BIN)/mutmut run --max-children $(MUTATION_CHILDREN)
	$(BIN)/mutmut export-cicd-stats
	$(BIN)/python scripts/mutation_score.py --fail-under 85

# Known vulnerabilities in the locked versions; exit 2 when it could not look (offline).
audit: $(BIN)/sp4n-gateway
	$(BIN)/python -m pip install --quiet pip-audit || { echo "could not audit: pip-audit cannot be installed (offline?)"; exit 2; }
	$(BIN)/python scripts/audit.py

clean:
	rm -rf $(VENV) data mutants .pytest_cache .mypy_cache .ruff_cache *.egg-info
