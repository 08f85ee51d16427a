"""The member forwarder's template: what `make forwarder-template` writes for a StackSet, and what
`cdk deploy IncidentBridgeForwarder -c intakeBusArn=...` deploys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template
from cdk_nag import AwsSolutionsChecks

from incident_bridge.errors import ConfigError
from infra.forwarder import IncidentBridgeForwarderStack
from infra.forwarder_template import forwarder_template
from infra.settings import FORWARD_AWS_EVENTS_KEY, forwarded_aws_events
from tests.infra.conftest import MAIN_DIR, as_list, cfn_lint, get_att_arn, only

INTAKE_BUS = "arn:aws:events:eu-west-1:123456789012:event-bus/IncidentBridgeIntake"
# Alarm state changes and Metrics Insights contributor state changes, as the central default-bus rule takes them.
ALARM_STATE_CHANGE = {
    "source": ["aws.cloudwatch"],
    "detail-type": ["CloudWatch Alarm State Change", "CloudWatch Alarm Contributor State Change"],
}


@pytest.fixture(scope="module")
def stackset_template() -> dict[str, Any]:
    """The template exactly as `make forwarder-template` writes it (no bus ARN default)."""
    return forwarder_template()


@pytest.fixture(scope="module")
def deployed() -> tuple[Template, IncidentBridgeForwarderStack]:
    """The stack as `cdk deploy IncidentBridgeForwarder -c intakeBusArn=...` builds it, with cdk-nag."""
    app = cdk.App()
    stack = IncidentBridgeForwarderStack(app, "IncidentBridgeForwarder", intake_bus_arn=INTAKE_BUS)
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return Template.from_stack(stack), stack


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {key: value for key, value in template["Resources"].items() if value["Type"] == resource_type}


def rule(template: dict[str, Any], *, scheduled: bool) -> dict[str, Any]:
    rules = resources(template, "AWS::Events::Rule")
    _, found = only({k: v for k, v in rules.items() if ("ScheduleExpression" in v["Properties"]) is scheduled})
    properties: dict[str, Any] = found["Properties"]
    return properties


def role_id(template: dict[str, Any]) -> str:
    found, _ = only(resources(template, "AWS::IAM::Role"))
    return found


def test_the_bus_arn_is_a_parameter_checked_by_cloudformation(stackset_template: dict[str, Any]) -> None:
    # Given the StackSet template / When we read its parameters
    parameters = stackset_template["Parameters"]

    # Then IntakeBusArn is its only parameter, required (no default), and must be an event bus ARN
    assert list(parameters) == ["IntakeBusArn"]
    parameter = parameters["IntakeBusArn"]
    assert parameter["Type"] == "String"
    assert "Default" not in parameter
    assert parameter["AllowedPattern"].startswith("arn:aws(-cn|-us-gov)?:events:")
    assert parameter["AllowedPattern"].endswith(":event-bus/[/.\\-_A-Za-z0-9]{1,256}")


def test_the_template_has_no_assets_and_no_bootstrap_references(stackset_template: dict[str, Any]) -> None:
    # Given the StackSet template as text
    text = json.dumps(stackset_template)

    # When we look for what ties a CDK template to a bootstrapped environment or to uploaded assets
    # Then there is none: no BootstrapVersion parameter or rule, no cdk-hnb659fds bucket/roles, no asset
    # parameters or metadata, no CDK analytics resource; a StackSet can deploy it anywhere as it is
    for marker in ("BootstrapVersion", "CheckBootstrapVersion", "hnb659fds", "cdk-bootstrap", "AssetParameters",
                   "aws:asset", "AWS::CDK::Metadata", "S3Bucket", "S3Key", "ImageUri"):  # fmt: skip
        assert marker not in text, marker
    assert set(stackset_template) == {"Description", "Parameters", "Resources"}
    assert {value["Type"] for value in stackset_template["Resources"].values()} == {
        "AWS::Events::Rule",
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
    }


def test_the_alarm_rule_forwards_this_accounts_alarm_state_changes_to_the_intake_bus_with_the_role(
    stackset_template: dict[str, Any],
) -> None:
    # Given the forwarder's rule on the default bus (no EventBusName)
    properties = rule(stackset_template, scheduled=False)

    # When we read its pattern and target
    [target] = properties["Targets"]

    # Then it matches this account's alarm state changes and sends them to the intake bus itself (the parameter),
    # through the forwarder's role, as EventBridge requires when access comes through the organization
    assert "EventBusName" not in properties
    assert properties["EventPattern"] == {**ALARM_STATE_CHANGE, "account": [{"Ref": "AWS::AccountId"}]}
    assert target["Arn"] == {"Ref": "IntakeBusArn"}
    assert target["RoleArn"] == get_att_arn(role_id(stackset_template))
    assert not {"Input", "InputPath", "InputTransformer"} & set(target)


def test_the_heartbeat_rule_sends_its_scheduled_event_every_five_minutes(stackset_template: dict[str, Any]) -> None:
    # Given the forwarder's scheduled rule
    properties = rule(stackset_template, scheduled=True)

    # When we read its name, schedule and target
    [target] = properties["Targets"]

    # Then it fires every 5 minutes under the fixed name the central heartbeat rule matches, and its scheduled event
    # goes unchanged (EventBridge allows no Input to another account's bus) to the intake bus through the role
    assert properties["ScheduleExpression"] == "rate(5 minutes)"
    assert properties["Name"] == "incident-bridge-heartbeat"
    assert properties["State"] == "ENABLED"
    assert target["Arn"] == {"Ref": "IntakeBusArn"}
    assert target["RoleArn"] == get_att_arn(role_id(stackset_template))
    assert not {"Input", "InputPath", "InputTransformer"} & set(target)


def test_the_role_trusts_eventbridge_and_may_only_put_events_on_the_intake_bus(
    stackset_template: dict[str, Any],
) -> None:
    # Given the forwarder's role and its policy
    role = stackset_template["Resources"][role_id(stackset_template)]["Properties"]
    _, policy = only(resources(stackset_template, "AWS::IAM::Policy"))

    # When we read the trust policy and the permissions
    trust = role["AssumeRolePolicyDocument"]["Statement"]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]

    # Then only EventBridge may assume it, and it may only PutEvents on the intake bus
    assert trust == [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}}]
    assert statements == [{"Action": "events:PutEvents", "Effect": "Allow", "Resource": {"Ref": "IntakeBusArn"}}]
    assert policy["Properties"]["Roles"] == [{"Ref": role_id(stackset_template)}]
    assert "ManagedPolicyArns" not in role


def test_a_cdk_deploy_gets_the_context_bus_as_the_parameter_default(
    deployed: tuple[Template, IncidentBridgeForwarderStack],
) -> None:
    # Given the stack built with -c intakeBusArn=... / When we read its parameter
    template, _ = deployed
    parameter = template.to_json()["Parameters"]["IntakeBusArn"]

    # Then the context value is the default, so `cdk deploy` needs no --parameters
    assert parameter["Default"] == INTAKE_BUS


def test_the_forwarder_has_no_cdk_nag_findings(deployed: tuple[Template, IncidentBridgeForwarderStack]) -> None:
    # Given the forwarder synthesized with cdk-nag's AWS Solutions pack
    _, stack = deployed
    annotations = Annotations.from_stack(stack)

    # When we collect errors and warnings / Then there are none
    assert annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*")) == []
    assert annotations.find_warning("*", Match.string_like_regexp("AwsSolutions-.*")) == []


def test_the_forwarder_only_touches_the_default_bus_and_the_intake_bus(stackset_template: dict[str, Any]) -> None:
    # Given every target of every rule of the forwarder
    targets = [
        target
        for found in resources(stackset_template, "AWS::Events::Rule").values()
        for target in as_list(found["Properties"]["Targets"])
    ]

    # When we read where they send / Then both send to the intake bus and nowhere else (no hop through a bus)
    assert [target["Arn"] for target in targets] == [{"Ref": "IntakeBusArn"}] * 2


@pytest.mark.synth
def test_make_forwarder_template_writes_the_same_template(tmp_path: Path, stackset_template: dict[str, Any]) -> None:
    # Given the command `make forwarder-template` runs, writing to a temporary file
    output = tmp_path / "forwarder.template.json"

    # When it runs
    result = subprocess.run(
        [sys.executable, "-m", "infra.forwarder_template", str(output)],
        cwd=MAIN_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    # Then it succeeds and writes the template the assertions above read
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(output.read_text(encoding="utf-8")) == stackset_template


def test_the_stackset_template_passes_cfn_lint(tmp_path: Path, stackset_template: dict[str, Any]) -> None:
    # Given the StackSet template written to a file
    template_file = tmp_path / "forwarder.template.json"
    template_file.write_text(json.dumps(stackset_template), encoding="utf-8")

    # When cfn-lint checks it
    lint = cfn_lint(template_file)

    # Then it has no finding at all
    assert (lint.returncode, lint.findings) == (0, []), lint.stderr


def test_forwarded_service_event_profiles_get_a_rule_each_to_the_intake_bus() -> None:
    # Given the StackSet template made with `make forwarder-template AWS_EVENTS=guardduty`
    template = forwarder_template(forwarded_aws_events({FORWARD_AWS_EVENTS_KEY: "guardduty"}))

    # When we read its rules besides the alarm and heartbeat rules
    rules = resources(template, "AWS::Events::Rule")
    service = [rule["Properties"] for key, rule in rules.items() if "ServiceEvents" in key]

    # Then the profile's events of this account go to the intake bus through the same role
    [properties] = service
    assert properties["EventPattern"] == {
        "source": ["aws.guardduty"],
        "detail-type": ["GuardDuty Finding"],
        "account": [{"Ref": "AWS::AccountId"}],
    }
    [target] = properties["Targets"]
    assert target["Arn"] == {"Ref": "IntakeBusArn"}
    assert target["RoleArn"] == get_att_arn(role_id(template))


def test_an_unknown_forwarded_profile_fails_naming_the_known_ones() -> None:
    # Given -c forwardAwsEvents with a typo / When it is read / Then synth fails naming the key and the profiles
    with pytest.raises(ConfigError, match=r"forwardAwsEvents: unknown profile 'gaurdduty' \(known: all, "):
        forwarded_aws_events({FORWARD_AWS_EVENTS_KEY: "gaurdduty"})
