# Every target bootstraps what it needs: a virtual environment in .venv, the Python dependencies
# from pyproject.toml, and (for the infrastructure tests) the pinned CDK CLI from package.json.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# jsii's end-of-life banner, silenced per Node major version (a list, not a flag).
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 18,20,22
export CDK_DISABLE_CLI_TELEMETRY := 1

.PHONY: serve demo test lint typecheck unit integration e2e infra browser bench security smoke clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The local stack needs only the runtime and moto.
$(VENV)/.local-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[local]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[local,dev,infra]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

serve: $(VENV)/.local-installed
	PORT=$(PORT) $(BIN)/python -m local_stack

$(VENV)/.examples-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[local,examples]'
	touch $@

# The local stack, the web app (code flow) and the backend service (client credentials).
demo: $(VENV)/.examples-installed
	PORT=$(PORT) $(BIN)/python -m examples.demo

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

# Everything: lint, types, unit, integration, end-to-end, infrastructure and browser tests.
test: $(VENV)/.dev-installed node_modules/.installed lint typecheck
	scripts/ensure-chromium
	$(BIN)/pytest -n 2 --dist loadgroup

unit integration e2e infra: $(VENV)/.dev-installed
	$(BIN)/pytest tests/$@

# After a deploy: `make smoke STACK=OAuthServer` (your AWS credentials); without STACK, against
# a local stack started for it. Discovery, JWKS, a throw-away client's token, the API.
smoke: $(VENV)/.dev-installed
ifdef STACK
	$(BIN)/oauthctl --stack $(STACK) smoke
else
	$(BIN)/python -m local_stack.smoke
endif

# Only the tests named after SECURITY.md rows, and a table: row, result, tests.
security: $(VENV)/.dev-installed node_modules/.installed
	scripts/ensure-chromium
	$(BIN)/pytest -n 2 -q --security

bench: $(VENV)/.dev-installed
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache .mypy_cache .ruff_cache test-output
