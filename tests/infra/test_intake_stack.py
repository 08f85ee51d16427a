"""The central stack's organization intake: the bus, its policy, the rules into the queue, the output; and the
context keys that turn it on, checked at synth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match

from incident_bridge.errors import ConfigError
from infra.settings import (
    CONFIG_FILE_KEY,
    INTAKE_ACCOUNTS_KEY,
    INTAKE_BUS_ARN_KEY,
    ORGANIZATION_ID_KEY,
    RESPONSE_PLAN_ARN_KEY,
    deploy_settings,
    intake_bus_arn,
    wants_central_stack,
)
from tests.conftest import PLAN_ARN
from tests.infra.conftest import (
    SynthesizedStack,
    as_list,
    cfn_lint,
    get_att_arn,
    iam_statements,
    only,
    synthesize,
)

ORGANIZATION = "o-a1b2c3d4e5"
MEMBER_ACCOUNTS = ("111122223333", "444455556666")
INTAKE_BUS = "arn:aws:events:eu-west-1:123456789012:event-bus/IncidentBridgeIntake"
# Written out here, not imported from infra/: alarm state changes and Metrics Insights contributor state changes.
ALARM_EVENTS = {
    "source": ["aws.cloudwatch"],
    "detail-type": ["CloudWatch Alarm State Change", "CloudWatch Alarm Contributor State Change"],
}


@pytest.fixture(scope="module")
def organization_stack(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedStack:
    context = {RESPONSE_PLAN_ARN_KEY: PLAN_ARN, ORGANIZATION_ID_KEY: ORGANIZATION}
    return synthesize(context, tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="module")
def accounts_stack(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedStack:
    context = {RESPONSE_PLAN_ARN_KEY: PLAN_ARN, INTAKE_ACCOUNTS_KEY: ",".join(MEMBER_ACCOUNTS)}
    return synthesize(context, tmp_path_factory.mktemp("cdk.out"))


def intake_bus(synthesized: SynthesizedStack) -> tuple[str, dict[str, Any]]:
    buses = synthesized.resources("AWS::Events::EventBus")
    return only({key: value for key, value in buses.items() if "OrganizationIntake" in key})


def intake_rules(synthesized: SynthesizedStack) -> dict[str, dict[str, Any]]:
    bus_id, _ = intake_bus(synthesized)
    rules = synthesized.resources("AWS::Events::Rule")
    return {key: rule for key, rule in rules.items() if rule["Properties"].get("EventBusName") == {"Ref": bus_id}}


def rule_named(synthesized: SynthesizedStack, fragment: str) -> dict[str, Any]:
    _, rule = only({key: rule for key, rule in intake_rules(synthesized).items() if fragment in key})
    return rule


def test_organization_id_admits_put_events_from_the_organization_only(organization_stack: SynthesizedStack) -> None:
    # Given the stack deployed with -c organizationId=o-...
    bus_id, _ = intake_bus(organization_stack)

    # When we read the intake bus's policy
    [policy] = organization_stack.resources("AWS::Events::EventBusPolicy").values()

    # Then anyone may PutEvents on exactly this bus, on the condition that their principal is in the organization
    properties = policy["Properties"]
    assert properties["EventBusName"] == {"Ref": bus_id}
    assert properties["Statement"] == {
        "Action": "events:PutEvents",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORGANIZATION}},
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Resource": get_att_arn(bus_id),
        "Sid": "PutEventsFromOrganization",
    }


def test_intake_accounts_admit_put_events_from_exactly_those_accounts(accounts_stack: SynthesizedStack) -> None:
    # Given the stack deployed with -c intakeAccounts=111122223333,444455556666
    bus_id, _ = intake_bus(accounts_stack)

    # When we read the intake bus's policy
    [policy] = accounts_stack.resources("AWS::Events::EventBusPolicy").values()
    statement = policy["Properties"]["Statement"]

    # Then exactly the listed accounts may PutEvents on this bus, with no organization condition
    assert statement["Principal"]["AWS"] == [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::{account}:root"]]} for account in MEMBER_ACCOUNTS
    ]
    assert statement["Action"] == "events:PutEvents"
    assert statement["Resource"] == get_att_arn(bus_id)
    assert "Condition" not in statement


def test_rules_on_a_bus_of_listed_accounts_match_those_accounts(accounts_stack: SynthesizedStack) -> None:
    # Given the intake rules of a stack with listed accounts
    rules = intake_rules(accounts_stack)

    # When we read their patterns
    accounts = [rule["Properties"]["EventPattern"].get("account") for rule in rules.values()]

    # Then each of the three rules matches `account` against exactly the listed accounts, as EventBridge advises
    assert len(rules) == 3
    assert accounts == [list(MEMBER_ACCOUNTS)] * 3


def test_intake_rules_deliver_alarms_heartbeats_and_custom_events_to_the_event_queue(
    organization_stack: SynthesizedStack,
) -> None:
    # Given the organization stack's queues
    queues = organization_stack.resources("AWS::SQS::Queue")
    event_queue_id, _ = only({key: queue for key, queue in queues.items() if "RedrivePolicy" in queue["Properties"]})
    dead_letter_id, _ = only({key: queue for key, queue in queues.items() if key != event_queue_id})

    # When we read the intake rules' patterns and targets
    alarm = rule_named(organization_stack, "AlarmStateChange")["Properties"]
    heartbeat = rule_named(organization_stack, "Heartbeat")["Properties"]
    application = rule_named(organization_stack, "Application")["Properties"]

    # Then alarm state changes, the forwarders' heartbeat rule's scheduled events, and non-AWS sources go to the
    # same queue as the default bus's rule, with undeliverable events in the dead-letter queue
    assert alarm["EventPattern"] == ALARM_EVENTS
    assert heartbeat["EventPattern"] == {
        "source": ["aws.events"],
        "detail-type": ["Scheduled Event"],
        "resources": [{"suffix": ":rule/incident-bridge-heartbeat"}],
    }
    assert application["EventPattern"] == {"source": [{"anything-but": {"prefix": "aws."}}]}
    for properties in (alarm, heartbeat, application):
        [target] = properties["Targets"]
        assert target["Arn"] == get_att_arn(event_queue_id)
        assert target["DeadLetterConfig"] == {"Arn": get_att_arn(dead_letter_id)}


def test_the_local_default_bus_rule_stays(organization_stack: SynthesizedStack) -> None:
    # Given the organization stack / When we look for rules on the default bus (no EventBusName)
    rules = organization_stack.resources("AWS::Events::Rule")
    default_bus_rules = {key: rule for key, rule in rules.items() if "EventBusName" not in rule["Properties"]}

    # Then the local alarm rule is still there, next to the intake rules (and the heartbeat check's schedule)
    patterns = [rule["Properties"].get("EventPattern") or {} for rule in default_bus_rules.values()]
    assert any({key: pattern.get(key) for key in ALARM_EVENTS} == ALARM_EVENTS for pattern in patterns), patterns


def test_the_intake_bus_arn_is_an_output(organization_stack: SynthesizedStack) -> None:
    # Given the organization stack / When we read its outputs
    outputs = organization_stack.template.find_outputs("IntakeBusArn")

    # Then IntakeBusArn is the intake bus's ARN, what forwarders are deployed with
    bus_id, _ = intake_bus(organization_stack)
    assert outputs["IntakeBusArn"]["Value"] == get_att_arn(bus_id)


def test_without_intake_context_there_is_no_intake_bus(default_stack: SynthesizedStack) -> None:
    # Given the stack deployed with a response plan only / When we look for the intake's pieces
    outputs = default_stack.template.find_outputs("IntakeBusArn")
    policies = default_stack.resources("AWS::Events::EventBusPolicy")

    # Then there is none: the bridge sees only its own account and region
    assert outputs == {}
    assert policies == {}


def test_intake_stacks_have_no_cdk_nag_findings(
    organization_stack: SynthesizedStack, accounts_stack: SynthesizedStack
) -> None:
    # Given both intake stacks, synthesized with cdk-nag's AWS Solutions pack
    for synthesized in (organization_stack, accounts_stack):
        annotations = Annotations.from_stack(synthesized.stack)

        # When we collect its errors and warnings / Then there are none
        assert annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*")) == []
        assert annotations.find_warning("*", Match.string_like_regexp("AwsSolutions-.*")) == []


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({ORGANIZATION_ID_KEY: "o-short"}, "organizationId: 'o-short' is not an AWS Organizations id"),
        ({ORGANIZATION_ID_KEY: "r-a1b2c3d4e5"}, "is not an AWS Organizations id"),
        ({INTAKE_ACCOUNTS_KEY: "111122223333,12345"}, "intakeAccounts: not 12-digit account ids: '12345'"),
        ({INTAKE_ACCOUNTS_KEY: " , "}, "intakeAccounts: give at least one 12-digit account id"),
    ],
)
def test_bad_intake_context_fails_synth_naming_the_key(context: dict[str, Any], message: str) -> None:
    # Given a response plan and a wrong intake context value
    given = {RESPONSE_PLAN_ARN_KEY: PLAN_ARN, **context}

    # When the settings are read / Then synth fails with the key and the expected form
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        deploy_settings(given)


def test_intake_accounts_from_cdk_json_may_be_a_list_and_repeat() -> None:
    # Given intakeAccounts as a cdk.json list with a repeat / When the settings are read
    settings = deploy_settings(
        {RESPONSE_PLAN_ARN_KEY: PLAN_ARN, INTAKE_ACCOUNTS_KEY: [*MEMBER_ACCOUNTS, "111122223333"]}
    )

    # Then each account is admitted once, in order
    assert settings.intake is not None
    assert settings.intake.account_ids == MEMBER_ACCOUNTS


@pytest.mark.parametrize(
    "value", ["arn:aws:events:eu-west-1:123456789012:rule/x", "arn:aws:sqs:eu-west-1:123456789012:bus", "bus", 12]
)
def test_a_forwarder_bus_that_is_not_an_event_bus_arn_fails_synth(value: object) -> None:
    # Given -c intakeBusArn=<not an event bus ARN> / When it is read / Then synth fails naming the key
    with pytest.raises(ConfigError, match=r"intakeBusArn: .* is not an event bus ARN"):
        intake_bus_arn({INTAKE_BUS_ARN_KEY: value})


def test_a_forwarder_deploy_needs_no_response_plan() -> None:
    # Given the context of `cdk deploy IncidentBridgeForwarder -c intakeBusArn=...`, and of a central deploy
    forwarder_only = {INTAKE_BUS_ARN_KEY: INTAKE_BUS}
    central = {RESPONSE_PLAN_ARN_KEY: PLAN_ARN, INTAKE_BUS_ARN_KEY: INTAKE_BUS}

    # When the app decides which stacks to build
    # Then a forwarder deploy builds no bridge (it needs no plan); naming a plan still builds the bridge
    assert intake_bus_arn(forwarder_only) == INTAKE_BUS
    assert not wants_central_stack(forwarder_only)
    assert wants_central_stack(central)
    assert wants_central_stack({})


def _is_quiet_check(rule: dict[str, Any]) -> bool:
    return any(target.get("Input") == '{"incident-bridge":"quiet-check"}' for target in rule["Properties"]["Targets"])


def test_a_check_tick_every_minute_reaches_the_queue_as_the_bridges_own_task(
    organization_stack: SynthesizedStack,
) -> None:
    # Given the organization stack's scheduled rules on this account's default bus, but the quiet check's (which
    # invokes the function with its own input, tests/infra/test_quiet_check_stack.py)
    rules = organization_stack.resources("AWS::Events::Rule")
    scheduled = {key: rule for key, rule in rules.items() if "ScheduleExpression" in rule["Properties"]}
    _, check = only({key: rule for key, rule in scheduled.items() if not _is_quiet_check(rule)})

    # When we read its schedule and target
    properties = check["Properties"]
    [target] = properties["Targets"]

    # Then every minute the queue receives the silent-forwarder check, naming the tick's id and time
    assert properties["ScheduleExpression"] == "rate(1 minute)"
    assert target["Arn"]["Fn::GetAtt"][1] == "Arn"
    assert "EventQueue" in target["Arn"]["Fn::GetAtt"][0]
    assert target["InputTransformer"] == {
        "InputPathsMap": {"id": "$.id", "time": "$.time"},
        "InputTemplate": '{"incidentBridgeTask":"check-forwarders","id":<id>,"time":<time>}',
    }


def test_the_function_may_update_the_heartbeat_item_only_with_intake(
    organization_stack: SynthesizedStack, default_stack: SynthesizedStack
) -> None:
    # Given the function's policies with and without the intake
    def actions(synthesized: SynthesizedStack) -> set[str]:
        return {
            action
            for statement in iam_statements(synthesized.template.to_json())
            for action in as_list(statement.get("Action", []))
            if str(action).startswith("dynamodb:")
        }

    # When we collect their DynamoDB actions
    # Then UpdateItem (the heartbeat item's writes) is granted only where heartbeats can arrive
    assert actions(organization_stack) == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
    assert "dynamodb:UpdateItem" not in actions(default_stack)


def test_the_intake_stack_template_passes_cfn_lint(organization_stack: SynthesizedStack) -> None:
    # Given the organization stack's template, as synthesized into its cloud assembly
    template_file = organization_stack.outdir / "IncidentBridge.template.json"
    assert template_file.is_file()

    # When cfn-lint checks it
    findings = cfn_lint(template_file).findings

    # Then nothing is found on the intake's resources (the function's own known W3005 is test_synth's business)
    intake = [finding for finding in findings if "OrganizationIntake" in json.dumps(finding.get("Location", {}))]
    assert intake == [], intake
    assert {finding["Rule"]["Id"] for finding in findings} <= {"W3005"}, findings


def test_enabled_service_event_profiles_are_taken_from_members_too(tmp_path: Path) -> None:
    # Given a configuration enabling the guardduty profile, and listed member accounts
    config_file = tmp_path / "bridge.yaml"
    config_file.write_text(f"default:\n  response_plan_arn: {PLAN_ARN}\naws_events: [guardduty]\n", encoding="utf-8")
    context = {CONFIG_FILE_KEY: str(config_file), INTAKE_ACCOUNTS_KEY: ",".join(MEMBER_ACCOUNTS)}
    synthesized = synthesize(context, tmp_path / "cdk.out", nag=False)

    # When we read the intake bus's rules
    rules = intake_rules(synthesized)
    service = [rule["Properties"] for key, rule in rules.items() if "ServiceEvents" in key]

    # Then one more rule takes the profile's events from exactly the listed accounts, into the queue
    [properties] = service
    assert properties["EventPattern"] == {
        "source": ["aws.guardduty"],
        "detail-type": ["GuardDuty Finding"],
        "account": list(MEMBER_ACCOUNTS),
    }
    [target] = properties["Targets"]
    assert "EventQueue" in target["Arn"]["Fn::GetAtt"][0]
