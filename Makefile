# Every target works from a fresh clone: it builds what it needs (.venv, .venv-gen, .tools) on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
GEN_VENV := .venv-gen
TOOLS := .tools
BIN := $(VENV)/bin
# The newest installed pyenv Python of a series, or nothing when pyenv or that series is missing.
PYENV_PY = $(shell p=$$(pyenv prefix $$(pyenv latest $(1) 2>/dev/null) 2>/dev/null) && test -x "$$p/bin/python" && echo "$$p/bin/python")
PY39 := $(call PYENV_PY,3.9)
PY313 := $(call PYENV_PY,3.13)
SOURCES := $(shell find meganova custom -name '*.py' -o -name 'py.typed') setup.py pyproject.toml

.PHONY: help wheel generate check-generated lint lint-spec test test-dev test-wheels check-pythons demo fuzz bench bench-readme clean

help:
	@echo "make demo             run the README examples against the local MegaNova server (no API key needed)"
	@echo "make wheel            build the wheel into dist/ (pip install dist/meganova-*.whl)"
	@echo "make test             everything CI runs: generated code, spec, lint, types, tests on Python 3.9 and 3.13"
	@echo "make generate         regenerate meganova/ from openapi/meganova.yaml and generator/"
	@echo "make check-generated  fail if meganova/ differs from a fresh generation"
	@echo "make lint             ruff, and mypy --strict on custom/"
	@echo "make fuzz             the hypothesis properties, with many more examples"
	@echo "make bench            the benchmarks, side by side with raw httpx, openai-python and meganova 0.4.0"
	@echo "make bench-readme     rewrite the README's performance table from bench-results.json"

# --- environments -------------------------------------------------------------------------------
$(BIN)/.ready: requirements-dev.txt requirements-test.txt pyproject.toml setup.py
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q -e .
	touch $@

$(GEN_VENV)/.ready: generator/requirements.txt
	rm -rf $(GEN_VENV)
	$(PYTHON) -m venv $(GEN_VENV)
	$(GEN_VENV)/bin/pip install -q -r generator/requirements.txt
	touch $@

$(TOOLS)/.ready: tools/package.json
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "make: Node.js and npm are needed \
	(they install Prism and Redocly into $(TOOLS)/ for lint-spec and the contract tests): install them \
	(e.g. 'apt-get install nodejs npm', or nvm) and run make again" >&2; exit 1; }
	rm -rf $(TOOLS) && mkdir -p $(TOOLS)
	cp tools/package.json $(TOOLS)/
	cd $(TOOLS) && npm install --no-audit --no-fund --loglevel=error
	touch $@

# --- generated code ------------------------------------------------------------------------------
generate: $(GEN_VENV)/.ready
	rm -rf build/generated
	generator/generate.sh build/generated/meganova
	rm -rf meganova && mv build/generated/meganova meganova
	@echo "meganova/ regenerated from openapi/meganova.yaml"

check-generated: $(GEN_VENV)/.ready
	rm -rf build/check-generated
	generator/generate.sh build/check-generated/meganova
	@diff -r -u meganova build/check-generated/meganova -x __pycache__ \
	  && echo "check-generated: meganova/ matches a fresh generation" \
	  || { echo "check-generated: meganova/ differs from a fresh generation: run 'make generate' and commit"; exit 1; }

# --- static checks -------------------------------------------------------------------------------
lint-spec: $(BIN)/.ready $(TOOLS)/.ready
	$(BIN)/openapi-spec-validator openapi/meganova.yaml
	$(TOOLS)/node_modules/.bin/redocly lint openapi/meganova.yaml --format=stylish

lint: $(BIN)/.ready $(TOOLS)/.ready
	$(BIN)/ruff check custom tests examples bench setup.py
	$(BIN)/ruff format --check custom tests examples bench setup.py
	@# mypy sees custom/ where it is installed, inside the package: a tree of links to both folders.
	rm -rf build/typecheck && mkdir -p build/typecheck/meganova
	for f in meganova/*; do ln -s "$$PWD/$$f" build/typecheck/meganova/; done
	ln -s "$$PWD/custom" build/typecheck/meganova/custom
	ln -s "$$PWD/custom/testing" build/typecheck/meganova/testing
	ln -s "$$PWD/custom/cloud" build/typecheck/meganova/cloud
	ln -s "$$PWD/custom/agents" build/typecheck/meganova/agents
	ln -s "$$PWD/custom/characters" build/typecheck/meganova/characters
	cd build/typecheck && ../../$(BIN)/mypy --strict --config-file ../../pyproject.toml -p meganova.custom  # custom/testing included (installed as meganova.testing)
	@# What users' type checkers see: a script using every public attribute, and the README's examples.
	$(BIN)/python tests/extract_readme_examples.py build/typecheck/readme_examples.py
	cp tests/typecheck_usage.py tests/typecheck_tools.py tests/typecheck_characters.py build/typecheck/
	@# The example programs are users' apps too: one per resource, a tool loop, a parse, a character chat.
	rm -rf build/typecheck/examples && cp -r examples build/typecheck/examples
	cd build/typecheck && ../../$(BIN)/mypy --strict --config-file ../../pyproject.toml typecheck_usage.py typecheck_tools.py typecheck_characters.py readme_examples.py
	cd build/typecheck && ../../$(BIN)/mypy --strict --config-file ../../pyproject.toml examples/*.py
	@# pyright (strict: no error, no Unknown) reads a real copy of the package as installed, and the
	@# dependencies from .venv's site-packages (not .venv itself: its editable install maps meganova/ only).
	rm -rf build/pyright && mkdir -p build/pyright && cp -rL build/typecheck/meganova build/pyright/
	cp build/typecheck/typecheck_usage.py build/typecheck/typecheck_tools.py build/typecheck/typecheck_characters.py build/typecheck/readme_examples.py build/pyright/
	cp -r examples build/pyright/examples
	echo '{"pythonVersion": "3.9", "strict": ["examples"], "extraPaths": ["'"$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"'"]}' > build/pyright/pyrightconfig.json
	cd build/pyright && ../../$(TOOLS)/node_modules/.bin/pyright typecheck_usage.py typecheck_tools.py typecheck_characters.py readme_examples.py
	cd build/pyright && ../../$(TOOLS)/node_modules/.bin/pyright examples

# --- tests ---------------------------------------------------------------------------------------
# The suite runs against the built wheel, installed into fresh venvs on Python 3.9 and 3.13, so that a
# 3.10+ construct or a file missing from the wheel cannot slip through.
dist/.wheel: $(BIN)/.ready $(SOURCES)
	rm -rf dist && $(BIN)/python -m build --wheel --outdir dist . >/dev/null
	touch $@

wheel: dist/.wheel
	@ls dist/*.whl

define TEST_ON
	rm -rf .venv-test-$(1)
	$(2) -m venv .venv-test-$(1)
	.venv-test-$(1)/bin/pip install -q --upgrade pip
	.venv-test-$(1)/bin/pip install -q -r requirements-test.txt dist/*.whl
	cd tests && ../.venv-test-$(1)/bin/python -c "import meganova, sys; print('testing meganova', meganova.__version__, 'from', meganova.__file__, 'on Python', sys.version.split()[0])"
	cd tests && MEGANOVA_PRISM=$(CURDIR)/$(TOOLS)/node_modules/.bin/prism MEGANOVA_SPEC=$(CURDIR)/openapi/meganova.yaml \
	  ../.venv-test-$(1)/bin/python -m pytest -q -p no:cacheprovider --rootdir=. .
endef

check-pythons:
	@test -n "$(PY39)" -a -n "$(PY313)" || { echo "make: the suite runs on Python 3.9 and 3.13 from pyenv, \
	and $(if $(shell command -v pyenv),pyenv has no $(if $(PY39),,3.9 )$(if $(PY313),,3.13 )installed: \
	run 'pyenv install 3.9 3.13',pyenv is not installed: see https://github.com/pyenv/pyenv#installation, \
	then 'pyenv install 3.9 3.13'); 'make test-dev' runs the suite on .venv's Python alone" >&2; exit 1; }

test-wheels: check-pythons dist/.wheel $(TOOLS)/.ready
	$(call TEST_ON,py39,$(PY39))
	$(call TEST_ON,py313,$(PY313))

test: check-generated lint-spec lint test-wheels
	@echo "make test: all checks passed"

test-dev: $(BIN)/.ready $(TOOLS)/.ready
	MEGANOVA_PRISM=$(CURDIR)/$(TOOLS)/node_modules/.bin/prism MEGANOVA_SPEC=$(CURDIR)/openapi/meganova.yaml \
	  $(BIN)/python -m pytest -q tests

fuzz: $(BIN)/.ready
	MEGANOVA_FUZZ_EXAMPLES=20000 $(BIN)/python -m pytest -q tests -k fuzz

demo: $(BIN)/.ready
	$(BIN)/python examples/demo.py
	$(BIN)/python examples/character_chat.py

# meganova 0.4.0 (the earlier SDK) is a contender too: its package name is ours, so it lives in its own venv.
.venv-bench04/.ready: bench/requirements-0.4.txt
	rm -rf .venv-bench04
	$(PYTHON) -m venv .venv-bench04
	.venv-bench04/bin/pip install -q -r bench/requirements-0.4.txt
	touch $@

bench: $(BIN)/.ready .venv-bench04/.ready
	$(BIN)/pip install -q -r bench/requirements.txt
	$(BIN)/python bench/run.py

bench-readme: $(BIN)/.ready
	$(BIN)/python bench/run.py --readme

clean:
	rm -rf $(VENV) $(GEN_VENV) .venv-test-* .venv-bench04 $(TOOLS) build dist *.egg-info
