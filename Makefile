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

# A fresh machine spends about a minute here: say so, and name each package as it is installed.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@echo "==> Setting up $(VENV) (once; about a minute): the packages pinned in requirements.txt (the Lambda's runtime, the CDK)"
	@echo "    and requirements-dev.txt (tests, linters), then incident-bridge itself, editable"
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@set -o pipefail; $(PY) -m pip install --progress-bar off -r requirements-dev.txt | sed -un \
		-e 's/^Collecting \([^ ]*\).*/    fetching \1/p' -e 's/^Processing [^ ]*\/\([^/ ]*\).*/    fetching \1/p' \
		-e 's/^Installing collected packages: /    installing /p'
	@$(PY) -m pip install --quiet --no-deps -e .
	@echo "==> $(VENV) ready"
	@touch $@

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

# The story of examples/scenarios/README.md on one screen, ending with the summary line. One event is rejected on
# purpose (invoke then exits 1), to show the dead-letter path; only a usage error (2) fails the demo.
DEMO_EVENTS := $(sort $(wildcard examples/scenarios/demo/*.json))
demo: $(STAMP)
	@echo "incident-bridge demo: $(words $(DEMO_EVENTS)) events from AWS's published samples (examples/scenarios/demo/; the variants"
	@echo "with one visible change are listed in examples/scenarios/derived.json), routed by"
	@echo "examples/demo.yaml through the real handler; Incident Manager is a stand-in that checks every request against the"
	@echo "API's model, and nothing calls AWS. Two alarms of one instance share an incident and resolve it when both recover;"
	@echo "an SNS alarm, a direct alarm action and an application event start their own; a suppressed composite and a"
	@echo "configuration change are ignored; a malformed message (timestamps redacted to 'date') is rejected, as the"
	@echo "dead-letter queue would get it; then AWS service events (Health, GuardDuty, Security Hub, ECS, Step Functions,"
	@echo "CodePipeline, RDS, a Metrics Insights contributor) open the incidents they would, as examples/demo.yaml enables"
	@echo "every profile (the bundled configuration deployed by default is alarms-only)."
	@echo "Any event's whole decision: incident-bridge invoke --explain FILE."
	@echo
	@$(VENV)/bin/incident-bridge invoke --config examples/demo.yaml $(DEMO_EVENTS) || test $$? -eq 1

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
# AWS_EVENTS=guardduty,health also forwards those service-event profiles (as the central aws_events enables them).
forwarder-template: $(STAMP)
	$(PY) -m infra.forwarder_template dist/incident-bridge-forwarder.template.json $(AWS_EVENTS)

# Alarm storm: 1,000 ALARMs in 50 groups against a throttling Incident Manager stand-in, on a virtual clock.
# Prints figures; asserts nothing (tests/unit/test_storm.py runs it with assertions).
storm: $(STAMP)
	$(PY) -m tests.storm.simulation --plot storm.png

# Cold-start and warm-path figures (issue: cold start and package size). Prints numbers; asserts nothing.
bench: $(STAMP) lambda-python
	$(PY) tests/benchmarks/cold_start.py

clean:
	rm -rf cdk.out .mypy_cache .ruff_cache .pytest_cache .hypothesis

# Regenerates what is generated from code: the README's namespace table and the custom-event JSON Schema.
# tests/unit/test_generated_docs.py fails when either drifts.
docs: $(STAMP)
	$(PY) -m incident_bridge.docs
