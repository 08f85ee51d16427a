# Everything a newcomer needs: `make demo` and `make test`. Both set themselves up from scratch.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# jsii (the bridge between Python CDK and its Node core) shouts about Node 20's end of life on every run.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1

.PHONY: demo test lint typecheck unit synth bench clean docs storm lambda-python forwarder-template

# The function runs Python 3.13. Where this machine has it (on PATH, or installed by pyenv), `make` builds
# .venv-lambda with it: synth compiles the code asset's bytecode with it, and `make bench` runs the handler on it.
# Without it everything still works; the asset then ships source only (see README, Performance).
LAMBDA_VENV := .venv-lambda
LAMBDA_STAMP := $(LAMBDA_VENV)/.installed
LAMBDA_PYTHON := $(firstword $(foreach candidate,python3.13 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13),\
	$(shell $(candidate) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1 && echo $(candidate))))

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

lambda-python:
ifneq ($(LAMBDA_PYTHON),)
	$(MAKE) --no-print-directory $(LAMBDA_STAMP)
else
	@echo "Python 3.13 (the Lambda runtime's) not found: the code asset will ship without bytecode"
endif

$(LAMBDA_STAMP): requirements-lambda.txt
	test -x $(LAMBDA_VENV)/bin/python || $(LAMBDA_PYTHON) -m venv $(LAMBDA_VENV)
	$(LAMBDA_VENV)/bin/python -m pip install --quiet -r requirements-lambda.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: $(STAMP)
	$(VENV)/bin/incident-bridge invoke events/*.json

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy lambdas infra app.py tests

unit: $(STAMP) $(NODE_STAMP) lambda-python
	$(VENV)/bin/pytest

synth: $(STAMP) $(NODE_STAMP) lambda-python
	npx cdk synth -q -c responsePlanArn=arn:aws:ssm-incidents::123456789012:response-plan/MyPlan

test: lint typecheck unit

# The member forwarder's template for a service-managed StackSet (no assets, no bootstrap; IntakeBusArn parameter).
forwarder-template: $(STAMP)
	$(PY) -m infra.forwarder_template dist/incident-bridge-forwarder.template.json

# Alarm storm: 1,000 ALARMs in 50 groups against a throttling Incident Manager stand-in, on a virtual clock.
# Prints figures; asserts nothing (tests/unit/test_storm.py runs it with assertions).
storm: $(STAMP)
	$(PY) tests/storm/simulation.py --events 1000 --groups 50

# Cold-start and warm-path figures (issue: cold start and package size). Prints numbers; asserts nothing.
bench: $(STAMP) lambda-python
	$(PY) tests/benchmarks/cold_start.py

clean:
	rm -rf cdk.out .mypy_cache .ruff_cache .pytest_cache .hypothesis

# Regenerates what is generated from code: the README's namespace table and the custom-event JSON Schema.
# tests/unit/test_generated_docs.py fails when either drifts.
docs: $(STAMP)
	$(PY) -m incident_bridge.docs
