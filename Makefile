# Every target bootstraps what it needs: a virtual environment in .venv, the Python dependencies
# from pyproject.toml, and (for the infrastructure tests) the pinned CDK CLI from package.json.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# jsii's end-of-life banner, silenced per Node major version (a list, not a flag).
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 18,20,22
export CDK_DISABLE_CLI_TELEMETRY := 1

.PHONY: serve demo test lint typecheck unit integration e2e infra browser bench security smoke clean \
	install-cli venv-runtime venv-local venv-examples venv-dev

# One virtual environment and one install marker (.venv/.installed, the extras installed so
# far): whichever target installed a superset satisfies the others (dev includes local and
# examples). A .venv of a Python that requires-python excludes is rebuilt (scripts/ensure-venv).
ENSURE_VENV = VENV=$(VENV) PYTHON=$(PYTHON) scripts/ensure-venv
# Phony: each runs the (fast, when satisfied) check once per make run.
venv-runtime:
	@$(ENSURE_VENV)
venv-local:
	@$(ENSURE_VENV) local
venv-examples:
	@$(ENSURE_VENV) local,examples
venv-dev:
	@$(ENSURE_VENV) local,dev,infra

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

serve: venv-local
	PORT=$(PORT) $(BIN)/python -m local_stack

# The local stack, the web app (code flow) and the backend service (client credentials).
WEBAPP_PORT ?= 8400
demo: venv-examples
	PORT=$(PORT) $(BIN)/python -m examples.demo --webapp-port $(WEBAPP_PORT)

# oauthctl on your PATH: a link to .venv/bin/oauthctl in BINDIR (default ~/.local/bin).
BINDIR ?= $(HOME)/.local/bin
install-cli: venv-runtime
	@scripts/install-cli $(BINDIR)

lint: venv-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv-dev
	$(BIN)/mypy

# Everything: lint, types, unit, integration, end-to-end, infrastructure and browser tests.
test: venv-dev node_modules/.installed lint typecheck
	scripts/ensure-chromium
	$(BIN)/pytest -n 2 --dist loadgroup

unit integration e2e infra: venv-dev
	$(BIN)/pytest tests/$@

# After a deploy: `make smoke STACK=OAuthServer` (your AWS credentials); without STACK, against
# a local stack started for it. Discovery, JWKS, a throw-away client's token, the API.
smoke: venv-dev
ifdef STACK
	$(BIN)/oauthctl --stack $(STACK) smoke
else
	$(BIN)/python -m local_stack.smoke
endif

# Only the tests named after SECURITY.md rows, and a table: row, result, tests.
security: venv-dev node_modules/.installed
	scripts/ensure-chromium
	$(BIN)/pytest -n 2 -q --security

bench: venv-dev
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache .mypy_cache .ruff_cache test-output
