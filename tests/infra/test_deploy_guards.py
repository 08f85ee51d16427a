"""What stops a deploy that could not work: the region rule, unknown or malformed context keys, and a Powertools
layer that is not the release the tests ran."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from incident_bridge.aws import INCIDENT_MANAGER_REGIONS
from incident_bridge.errors import ConfigError
from infra.bridge_function import POWERTOOLS_RELEASE, powertools_layer_parameter
from infra.settings import (
    CONFIG_FILE_KEY,
    CONTEXT_KEYS,
    POWERTOOLS_LAYER_KEY,
    RESPONSE_PLAN_ARN_KEY,
    TRACING_KEY,
    deploy_settings,
)
from infra.stack import IncidentBridgeStack
from tests.conftest import PLAN_ARN
from tests.infra.conftest import SynthesizedStack, only

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent


# --- region ------------------------------------------------------------------------------------------------


def test_the_template_refuses_a_deploy_outside_incident_managers_regions(default_stack: SynthesizedStack) -> None:
    # Given the environment-agnostic stack
    rules = default_stack.template.to_json()["Rules"]

    # When we read its CloudFormation rules, other than the CDK's own bootstrap version check
    _, rule = only({name: rule for name, rule in rules.items() if name != "CheckBootstrapVersion"})

    # Then one asserts that AWS::Region is one of Incident Manager's regions, and its message lists them
    [assertion] = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Contains": [list(INCIDENT_MANAGER_REGIONS), {"Ref": "AWS::Region"}]}
    assert ", ".join(INCIDENT_MANAGER_REGIONS) in assertion["AssertDescription"]


@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-west-1", "af-south-1"])
def test_synth_fails_when_the_environment_pins_an_unsupported_region(region: str, tmp_path: Path) -> None:
    # Given deploy settings and a stack environment in a region without Incident Manager
    settings = deploy_settings({RESPONSE_PLAN_ARN_KEY: PLAN_ARN})
    app = cdk.App(outdir=str(tmp_path))

    # When the stack is built there
    with pytest.raises(ConfigError) as raised:
        IncidentBridgeStack(
            app, "IncidentBridge", settings=settings, env=cdk.Environment(account="123456789012", region=region)
        )

    # Then it fails, naming the region and the regions that would work
    assert str(raised.value).startswith(f"region {region}: ")
    assert ", ".join(INCIDENT_MANAGER_REGIONS) in str(raised.value)


def test_synth_succeeds_when_the_environment_pins_a_supported_region(tmp_path: Path) -> None:
    # Given deploy settings and a stack environment in one of Incident Manager's regions
    settings = deploy_settings({RESPONSE_PLAN_ARN_KEY: PLAN_ARN})
    app = cdk.App(outdir=str(tmp_path))

    # When the stack is built there
    stack = IncidentBridgeStack(
        app, "IncidentBridge", settings=settings, env=cdk.Environment(account="123456789012", region="eu-west-1")
    )

    # Then it is
    assert stack.region == "eu-west-1"


# --- context keys ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        pytest.param("tracng", "did you mean 'tracing'?", id="typo"),
        pytest.param("bridgeconfig", "did you mean 'bridgeConfig'?", id="case"),
        pytest.param("plan", "", id="unrelated"),
    ],
)
def test_an_unknown_context_key_fails_naming_it_and_the_known_keys(key: str, hint: str) -> None:
    # Given a context with a valid plan and a key the bridge does not know
    context = {RESPONSE_PLAN_ARN_KEY: PLAN_ARN, key: "off"}

    # When the deploy settings are read
    with pytest.raises(ConfigError) as raised:
        deploy_settings(context)

    # Then the error names the key, suggests the nearest known key, and lists the known keys
    message = str(raised.value)
    assert message.startswith(f"unknown context key {key!r}")
    assert hint in message
    assert message.endswith("the bridge's context keys are: " + ", ".join(sorted(CONTEXT_KEYS)))


def test_the_cdks_own_context_keys_are_accepted() -> None:
    # Given the context the CDK CLI and cdk.json add: feature flags, the CLI's switches, cached lookups
    context = {
        RESPONSE_PLAN_ARN_KEY: PLAN_ARN,
        "@aws-cdk/core:target-partitions": ["aws"],
        "aws:cdk:enable-path-metadata": True,
        "availability-zones:account=123456789012:region=eu-west-1": ["eu-west-1a"],
        "acknowledged-issue-numbers": [32775],
    }

    # When the deploy settings are read
    settings = deploy_settings(context)

    # Then they are the bridge's, from its own key
    assert settings.config.response_plan_arns() == (PLAN_ARN,)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        pytest.param(POWERTOOLS_LAYER_KEY, "AWSLambdaPowertoolsPythonV3-python313-x86_64:27", "not a Lambda layer",
                     id="layer-name-only"),
        pytest.param(POWERTOOLS_LAYER_KEY,
                     "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-x86_64",
                     "not a Lambda layer", id="layer-without-version"),
        pytest.param(POWERTOOLS_LAYER_KEY, "arn:aws:lambda:eu-west-1:123456789012:function:my-function:3",
                     "not a Lambda layer", id="function-arn"),
        pytest.param(TRACING_KEY, "xray", "is not one of active, sdk, off", id="tracing"),
        pytest.param(RESPONSE_PLAN_ARN_KEY, "MyPlan", "is not a response plan ARN", id="plan"),
        pytest.param(CONFIG_FILE_KEY, "", "expected the path of a YAML or JSON file", id="config-empty"),
        pytest.param(CONFIG_FILE_KEY, "does-not-exist.yaml", "cannot read", id="config-missing"),
    ],
)  # fmt: skip
def test_every_context_key_is_validated(key: str, value: Any, expected: str) -> None:
    # Given a context whose `key` holds a malformed value (and a valid plan unless that is the key)
    context = {RESPONSE_PLAN_ARN_KEY: PLAN_ARN, key: value}

    # When the deploy settings are read
    with pytest.raises(ConfigError) as raised:
        deploy_settings(context)

    # Then the error names the key and says what was expected
    assert str(raised.value).startswith(f"{key}: ")
    assert expected in str(raised.value)


def test_a_layer_version_arn_is_accepted_as_given() -> None:
    # Given a layer version ARN in the context
    layer_arn = "arn:aws:lambda:eu-west-1:123456789012:layer:my-powertools-copy:4"

    # When the deploy settings are read
    settings = deploy_settings({RESPONSE_PLAN_ARN_KEY: PLAN_ARN, POWERTOOLS_LAYER_KEY: layer_arn})

    # Then the function will use exactly it
    assert settings.powertools_layer_arn == layer_arn


# --- Powertools layer --------------------------------------------------------------------------------------


def pinned_powertools(requirements_file: str) -> str:
    text = (PROJECT_DIR / requirements_file).read_text(encoding="utf-8")
    releases: list[str] = re.findall(r"^aws-lambda-powertools(?:\[[a-z,]+\])?==(\S+)$", text, flags=re.MULTILINE)
    [release] = releases
    return release


@pytest.mark.parametrize("requirements_file", ["requirements-lambda.txt", "requirements.txt"])
def test_the_layer_release_is_the_one_the_tests_and_the_benchmark_run(requirements_file: str) -> None:
    # Given the Powertools release pinned for the tests (requirements.txt) and the runtime's venv
    pinned = pinned_powertools(requirements_file)

    # When we compare it with the release the stack deploys
    deployed = POWERTOOLS_RELEASE

    # Then they are the same
    assert deployed == pinned


def test_the_function_resolves_the_layer_of_that_release_at_deploy_time(default_stack: SynthesizedStack) -> None:
    # Given the function synthesized without a powertoolsLayerArn context value
    _, function = only(default_stack.resources("AWS::Lambda::Function"))
    properties = function["Properties"]

    # When we read its layers
    layers = properties["Layers"]

    # Then the only one is AWS's public Powertools layer of the pinned release for the function's runtime and
    # architecture, resolved from Powertools' public SSM parameter when CloudFormation deploys
    assert properties["Runtime"] == "python3.13"
    assert properties["Architectures"] == ["x86_64"]
    parameter = f"/aws/service/powertools/python/x86_64/python3.13/{pinned_powertools('requirements-lambda.txt')}"
    assert powertools_layer_parameter() == parameter
    assert layers == [f"{{{{resolve:ssm:{parameter}}}}}"]


# --- concurrency -------------------------------------------------------------------------------------------


def test_the_function_reserves_a_small_concurrency_above_the_queues_pollers(default_stack: SynthesizedStack) -> None:
    # Given the function and its SQS event source mapping
    _, function = only(default_stack.resources("AWS::Lambda::Function"))
    _, mapping = only(default_stack.resources("AWS::Lambda::EventSourceMapping"))

    # When we read the reserved concurrency and the mapping's maximum concurrency
    reserved = function["Properties"]["ReservedConcurrentExecutions"]
    pollers = mapping["Properties"]["ScalingConfig"]["MaximumConcurrency"]

    # Then the bridge keeps 3 executions for itself whatever the rest of the account does: the queue's 2 pollers
    # and room for a direct alarm action (never fewer than the pollers, or the mapping would be throttled)
    assert (reserved, pollers) == (3, 2)
    assert reserved >= pollers


def test_direct_alarm_actions_beyond_the_reserved_concurrency_wait_in_lambdas_queue(
    default_stack: SynthesizedStack,
) -> None:
    # Given the function's asynchronous invocation settings (alarm actions invoke it asynchronously)
    _, config = only(default_stack.resources("AWS::Lambda::EventInvokeConfig"))
    _, function = only(default_stack.resources("AWS::Lambda::Function"))

    # When we read how long a throttled or failed invocation is kept and retried
    properties = config["Properties"]

    # Then invocations over the reserved concurrency (3 at once at most, so Incident Manager sees at most 3
    # sequential callers) are kept for the 6 hours Lambda allows, retried twice on error, then dead-lettered
    assert function["Properties"]["ReservedConcurrentExecutions"] == 3
    assert properties["MaximumEventAgeInSeconds"] == 6 * 3600
    assert properties["MaximumRetryAttempts"] == 2
    assert "OnFailure" in properties["DestinationConfig"]
