# The two promises of the README: `make demo` and `make test`, each from a fresh clone.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | cksum | cut -d' ' -f1)

.PHONY: install demo test test-fast lint typecheck evals clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# obp is installed in a second step, without its dependencies: obp 0.5.x declares python<3.11 and
# pins ancient versions, so a resolver silently picks obp 0.4.1 instead. scope-rl (in the `ope`
# extra) already brings every module obp imports. See README, "Dependencies and why they are pinned".
$(STAMP): pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[ope,dev]'
	$(BIN)/python -m pip install -q --no-deps --ignore-requires-python obp==0.5.7
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/growthhacker demo --output demo-output

lint: install
	$(BIN)/ruff check bot tests evals

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest -q -n 2

# The quick lane while working: every test not marked slow (no real OPE run, no end-to-end world),
# benchmarks aside (`make test` runs them once as a smoke test).
test-fast: install
	$(BIN)/python -m pytest -q -n 2 -m "not slow" --ignore=tests/benchmarks

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache

# The quick, honest benchmark of the bot (evals/README.md): the heuristic agent on every target, two
# iterations, 3 search + 3 validation + 3 held-out seeds (three agreeing seeds are the fewest that
# decide at the default level), two runs at a time; prints the table and writes evals/results/<today>/.
# Runs already recorded there are not run again.
evals: install
	$(BIN)/python -m evals run --frameworks heuristic --targets all --runs 1 --iterations 2 \
		--search-seeds 3 --validate-seeds 3 --confirm-seeds 3 --workers 2
