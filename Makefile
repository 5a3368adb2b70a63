# Two entry points a newcomer needs: `make serve` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= ./trainjobs-data

TEST_POSTGRES_URL ?= postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres

# constraints.txt: refresh after changing dependencies (in a venv with every extra).
.PHONY: constraints install install-test sandbox-tool serve test test-sqlite test-postgres test-ray lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e '.[examples]'

install-test: $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'

# Runs are sandboxed with bubblewrap: installed here when root can, else named.
sandbox-tool:
	@if [ -z "$$TRAINJOBS_NO_SANDBOX" ] && ! command -v bwrap >/dev/null; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	    else \
	        echo "error: trainjobs sandboxes runs with bubblewrap, which is not installed:"; \
	        echo "  sudo apt-get install bubblewrap    (Fedora: sudo dnf install bubblewrap)"; \
	        echo "or run without a sandbox (tenants' code gets the server's rights): TRAINJOBS_NO_SANDBOX=1 make serve"; \
	        exit 1; \
	    fi; \
	fi

serve: install sandbox-tool
	$(BIN)/trainjobs serve --data-dir $(DATA_DIR)

# The whole suite: lint and types, the tests on SQLite, the API tests again on
# PostgreSQL, and the Ray executor on a real Ray cluster. The last two need a
# PostgreSQL server and root; without them they say so and are skipped, unless
# TRAINJOBS_REQUIRE_ALL=1 (as CI sets) makes that an error.
test: lint test-sqlite test-postgres test-ray

lint: install-test
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy

test-sqlite: install-test sandbox-tool
	$(BIN)/pytest

# The PostgreSQL run repeats what the database serves: the API, identity, scheduling,
# several servers on one database. Suites whose subject does not touch it (the
# client side, the browser, the object endpoint and stores, the sandbox and what
# runs see, the request fuzzers, the make targets) run on SQLite only.
POSTGRES_SKIPS := --ignore=tests/sdk --ignore=tests/cli --ignore=tests/ray \
	--ignore=tests/webconsole --ignore=tests/s3 --ignore=tests/test_fuzz.py \
	--ignore=tests/test_hostile_text.py --ignore=tests/test_moxing.py \
	--ignore=tests/test_objectstore.py --ignore=tests/test_s3.py \
	--ignore=tests/test_sandbox.py --ignore=tests/test_sandbox_serve.py \
	--ignore=tests/test_run_links.py \
	--ignore=tests/test_exits.py --ignore=tests/test_prepared_runs.py \
	--ignore=tests/test_examples.py \
	--ignore=tests/test_modelarts_runs.py --ignore=tests/test_otcextensions.py \
	--ignore=tests/test_observability.py --ignore=tests/test_access_log.py \
	--ignore=tests/test_require_all.py --ignore=tests/test_architecture.py

test-postgres: install-test
	@if $(BIN)/python -c "import sqlalchemy as sa; sa.create_engine('$(TEST_POSTGRES_URL)').connect().close()" 2>/dev/null; then \
	    TRAINJOBS_TEST_POSTGRES_URL='$(TEST_POSTGRES_URL)' $(BIN)/pytest tests $(POSTGRES_SKIPS); \
	elif [ -n "$$TRAINJOBS_REQUIRE_ALL" ]; then \
	    echo "error: no PostgreSQL at $(TEST_POSTGRES_URL)"; exit 1; \
	else \
	    echo "skipped: the PostgreSQL run needs a server at $(TEST_POSTGRES_URL) (set TEST_POSTGRES_URL)"; \
	fi

# The Ray executor against a real Ray cluster in a loopback-only namespace (needs root).
test-ray: install-test
	@if [ "$$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null; then \
	    $(BIN)/pip install -q -c constraints.txt -e '.[test,ray]' && VENV=$(abspath $(VENV)) tests/ray/run.sh; \
	elif [ -n "$$TRAINJOBS_REQUIRE_ALL" ]; then \
	    echo "error: the Ray run needs root, unshare and ip"; exit 1; \
	else \
	    echo "skipped: the Ray run needs root, unshare and ip (a private network namespace)"; \
	fi

bench: install
	$(BIN)/python bench/list_versions.py
	$(BIN)/python bench/console_pages.py

constraints: $(BIN)/python
	$(BIN)/pip install -q -e '.[test,ray,examples]'
	{ sed -n '/^#/p' constraints.txt; $(BIN)/pip freeze --exclude-editable | sort -f; } > constraints.new
	mv constraints.new constraints.txt

clean:
	rm -rf $(VENV) $(DATA_DIR) .pytest_cache .mypy_cache .ruff_cache
