"""The synthesized rules' EventPatterns against every EventBridge sample event, through moto's EventBridge and SQS:
the alarm rule, and one rule per enabled AWS service-event profile.

The pattern is read from the synthesized template, not re-typed, so these tests check what would be deployed. Each
sample is put on the default bus of a moto account whose only rule carries that pattern and targets a queue; an
event matches when it arrives in the queue. (moto's `test_event_pattern` API is a stub, so it is not used.)

Unlike real EventBridge, which refuses PutEvents entries whose Source starts with `aws.` (those sources are reserved
for AWS services), moto 5.2.5 accepts and routes them. That is what lets the AWS-service samples be replayed
verbatim here; each put is checked to have been accepted, so a refusal could not pass for a non-match.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from mypy_boto3_sqs import SQSClient

from incident_bridge.sources.profiles import PROFILE_NAMES
from infra.settings import CONFIG_FILE_KEY
from tests.conftest import EVENTS_DIR, load_event
from tests.infra.conftest import SynthesizedStack, synthesize

REGION = "us-east-1"
ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"
CONTRIBUTOR_STATE_CHANGE = "CloudWatch Alarm Contributor State Change"
# Files holding an EventBridge event (`source`/`detail-type`/`detail`), per events/SOURCES.md. The other prefixes
# are payloads of other channels (Lambda alarm actions, SNS, SQS, CodeStar Notifications) that never reach a rule.
EVENTBRIDGE_SAMPLES = sorted(
    path.name for prefix in ("eventbridge-", "custom-app-eventbridge-") for path in EVENTS_DIR.glob(f"{prefix}*.json")
)
# The alarm state changes in events/ (the contributor's included: every alarm shape is understood without
# configuration), named so a sample that vanished or changed kind cannot go unnoticed.
ALARM_SAMPLES = {
    "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json",
    "eventbridge-metric-math-alarm-ALARM-from-INSUFFICIENT_DATA-ec2-network-awsdocs.json",
    "eventbridge-anomaly-detection-alarm-ALARM-ec2-cpu-awsdocs.json",
    "eventbridge-composite-alarm-ALARM-suppressed-waitperiod-awsdocs.json",
    "eventbridge-cloudwatch-alarm-contributor-state-change-ALARM-metrics-insights-awsdocs.json",
}


@pytest.fixture(scope="module")
def synthesized_pattern(default_stack: SynthesizedStack) -> dict[str, Any]:
    """The EventPattern of the rule on the default bus, exactly as synthesized."""
    rules = default_stack.template.find_resources("AWS::Events::Rule")
    # The scheduled quiet check is a rule on the default bus too, with a schedule and no pattern.
    patterns = [
        rule["Properties"]["EventPattern"]
        for rule in rules.values()
        if "EventBusName" not in rule["Properties"] and "EventPattern" in rule["Properties"]
    ]
    assert len(patterns) == 1, patterns
    pattern: dict[str, Any] = patterns[0]
    return pattern


class DefaultBus:
    """A moto account with the synthesized rules' patterns on the default bus, each targeting one queue."""

    def __init__(self, *patterns: dict[str, Any]) -> None:
        self.sqs: SQSClient = boto3.client("sqs", region_name=REGION)
        # mypy-boto3-events is not among the pinned stubs, so the client is untyped here.
        self.events: Any = boto3.client("events", region_name=REGION)
        self.queue_url = self.sqs.create_queue(QueueName="incident-bridge-events")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        for index, pattern in enumerate(patterns):
            self.events.put_rule(Name=f"rule-{index}", EventPattern=json.dumps(pattern), State="ENABLED")
            self.events.put_targets(Rule=f"rule-{index}", Targets=[{"Id": "queue", "Arn": queue_arn}])

    def put(self, event: dict[str, Any]) -> str:
        """Puts the sample's source, detail-type, detail and resources, as the emitting service would."""
        entry: dict[str, Any] = {
            "Source": event["source"],
            "DetailType": event["detail-type"],
            "Detail": json.dumps(event["detail"]),
            "Resources": event.get("resources", []),
        }
        response = self.events.put_events(Entries=[entry])
        assert response["FailedEntryCount"] == 0, response["Entries"]
        event_id: str = response["Entries"][0]["EventId"]
        return event_id

    def delivered(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]


@pytest.fixture
def default_bus(synthesized_pattern: dict[str, Any]) -> Iterator[DefaultBus]:
    with mock_aws():
        yield DefaultBus(synthesized_pattern)


def test_the_samples_cover_both_outcomes() -> None:
    # Given the EventBridge samples in events/

    # When we split them by detail-type
    alarm_state_changes = {
        name
        for name in EVENTBRIDGE_SAMPLES
        if load_event(name)["detail-type"] in (ALARM_STATE_CHANGE, CONTRIBUTOR_STATE_CHANGE)
    }

    # Then the four alarm state changes are there, and so are events that must not match
    assert alarm_state_changes == ALARM_SAMPLES
    assert len(EVENTBRIDGE_SAMPLES) - len(ALARM_SAMPLES) >= 15


@pytest.mark.parametrize("name", sorted(ALARM_SAMPLES))
def test_alarm_state_changes_reach_the_queue(default_bus: DefaultBus, name: str) -> None:
    # Given an alarm state change event published by CloudWatch
    event = load_event(name)

    # When it is put on the default bus
    event_id = default_bus.put(event)

    # Then the rule delivers it to the queue, whole
    delivered = default_bus.delivered()
    assert [message["id"] for message in delivered] == [event_id]
    assert delivered[0]["source"] == "aws.cloudwatch"
    assert delivered[0]["detail-type"] == event["detail-type"]
    assert delivered[0]["detail"] == event["detail"]


@pytest.mark.parametrize("name", sorted(set(EVENTBRIDGE_SAMPLES) - ALARM_SAMPLES))
def test_other_events_do_not_reach_the_queue(default_bus: DefaultBus, name: str) -> None:
    # Given an event that is not an alarm state change: an alarm configuration change (some with state ALARM),
    # another AWS service's event, or a custom application event
    event = load_event(name)
    assert event["detail-type"] not in (ALARM_STATE_CHANGE, CONTRIBUTOR_STATE_CHANGE)

    # When it is put on the default bus
    default_bus.put(event)

    # Then the rule does not deliver it
    assert default_bus.delivered() == []


def test_a_config_change_and_an_alarm_together_deliver_only_the_alarm(default_bus: DefaultBus) -> None:
    # Given a configuration change whose state is ALARM, and a real alarm state change
    config_change = load_event("eventbridge-config-change-update-composite-state-ALARM-suppressed-awsdocs.json")
    alarm = load_event("eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json")
    assert config_change["detail"]["state"]["value"] == "ALARM"

    # When both are put on the default bus
    default_bus.put(config_change)
    alarm_id = default_bus.put(alarm)

    # Then only the alarm state change arrives: the pattern keys on detail-type, not on state.value
    assert [message["id"] for message in default_bus.delivered()] == [alarm_id]


def test_same_detail_type_from_another_source_does_not_reach_the_queue(default_bus: DefaultBus) -> None:
    # Given a copy of a real alarm state change whose source is an application's, not CloudWatch's
    event = load_event("eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json")
    event["source"] = "mycompany.monitoring"

    # When it is put on the default bus
    default_bus.put(event)

    # Then the rule ignores it: only CloudWatch itself can raise an alarm state change
    assert default_bus.delivered() == []


def test_the_stacks_own_alarms_never_reach_the_bridge(default_bus: DefaultBus, default_stack: SynthesizedStack) -> None:
    # Given copies of a real alarm state change, one for each of the stack's self-monitoring alarms (their names
    # and ARNs), and one for an alarm of the account whose name merely contains the same words
    alarm_names = [
        alarm["Properties"]["AlarmName"] for alarm in default_stack.resources("AWS::CloudWatch::Alarm").values()
    ]
    assert len(alarm_names) == 4
    sample = load_event("eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json")
    region, account = sample["region"], sample["account"]

    def state_change(alarm_name: str) -> dict[str, Any]:
        event = copy.deepcopy(sample)
        event["detail"]["alarmName"] = alarm_name
        event["resources"] = [f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm_name}"]
        return event

    # When each is put on the default bus
    for name in alarm_names:
        default_bus.put(state_change(name))
    other_id = default_bus.put(state_change(f"team-{alarm_names[0]}"))

    # Then none of the stack's own alarms is delivered (they page through their native fallback action), and the
    # other alarm is
    assert [message["id"] for message in default_bus.delivered()] == [other_id]


# ---- the rules of the AWS service-event profiles: exactly the enabled ones ----

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "demo.yaml"
# A sample of each profile, from events/ (SOURCES.md).
PROFILE_SAMPLES = {
    "health": "eventbridge-aws-health-issue-EC2-instance-store-degraded-aws-health-tools.json",
    "guardduty": "eventbridge-guardduty-finding-EC2-canary-composed-awsdocs-envelope-aws-samples-finding.json",
    "securityhub": "eventbridge-securityhub-findings-imported-AFSBP-EC2.7-FAILED-aws-solutions-asr.json",
    "ecs": "eventbridge-ecs-deployment-state-change-SERVICE_DEPLOYMENT_FAILED-awsdocs.json",
    "stepfunctions": "eventbridge-stepfunctions-execution-FAILED-awsdocs.json",
    "codepipeline": "eventbridge-codepipeline-pipeline-execution-FAILED-awsdocs.json",
    "rds": "eventbridge-rds-db-instance-event-failover-RDS-EVENT-0049-awsdocs.json",
    "ec2": "eventbridge-ec2-instance-state-change-terminated-replay-powertools.json",
}


def default_bus_patterns(stack: SynthesizedStack) -> list[dict[str, Any]]:
    """The patterns of the default bus's rules (the scheduled quiet check is a rule there too, with no pattern)."""
    rules = stack.template.find_resources("AWS::Events::Rule")
    return [
        rule["Properties"]["EventPattern"]
        for rule in rules.values()
        if "EventBusName" not in rule["Properties"] and "EventPattern" in rule["Properties"]
    ]


@pytest.fixture(scope="module")
def demo_stack(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedStack:
    """The stack deployed with examples/demo.yaml, which enables every profile (ec2 by name)."""
    return synthesize({CONFIG_FILE_KEY: str(DEMO_CONFIG)}, tmp_path_factory.mktemp("cdk.out"), nag=False)


def test_every_profile_has_a_sample() -> None:
    # Given the profiles / Then each has a real event here to test its rule with
    assert set(PROFILE_SAMPLES) == set(PROFILE_NAMES)


def test_the_demo_stack_has_one_default_bus_rule_per_enabled_profile_besides_the_alarms(
    demo_stack: SynthesizedStack,
) -> None:
    # Given the stack with every profile enabled / Then it has the alarm rule and one rule per profile
    assert len(default_bus_patterns(demo_stack)) == 1 + len(PROFILE_NAMES)


@pytest.mark.parametrize("profile", sorted(PROFILE_SAMPLES))
def test_each_enabled_profiles_events_reach_the_queue(demo_stack: SynthesizedStack, profile: str) -> None:
    # Given the synthesized default-bus rules of the demo stack, on a moto account
    event = load_event(PROFILE_SAMPLES[profile])
    with mock_aws():
        bus = DefaultBus(*default_bus_patterns(demo_stack))

        # When the profile's sample is put on the default bus
        event_id = bus.put(event)

        # Then exactly one rule delivers it to the queue, whole
        delivered = bus.delivered()
    assert [message["id"] for message in delivered] == [event_id]
    assert delivered[0]["detail"] == event["detail"]


@pytest.mark.parametrize("profile", sorted(PROFILE_SAMPLES))
def test_no_service_event_reaches_the_queue_of_the_alarms_only_stack(
    synthesized_pattern: dict[str, Any], profile: str
) -> None:
    # Given the default stack (bundled configuration: alarms only), on a moto account
    with mock_aws():
        bus = DefaultBus(synthesized_pattern)

        # When a service event is put on the default bus / Then nothing reaches the queue (least intake)
        bus.put(load_event(PROFILE_SAMPLES[profile]))
        assert bus.delivered() == []


@pytest.fixture(scope="module")
def two_profile_stack(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedStack:
    """The stack deployed with a configuration that enables two profiles only."""
    config_file = tmp_path_factory.mktemp("config") / "bridge.yaml"
    config_file.write_text(
        "default:\n  response_plan_arn: arn:aws:ssm-incidents::123456789012:response-plan/MyPlan\n"
        "aws_events: [guardduty, health]\n",
        encoding="utf-8",
    )
    return synthesize({CONFIG_FILE_KEY: str(config_file)}, tmp_path_factory.mktemp("cdk.out"), nag=False)


def test_a_stack_enabling_two_profiles_admits_exactly_their_events(two_profile_stack: SynthesizedStack) -> None:
    # Given the stack of a configuration enabling guardduty and health, on a moto account
    patterns = default_bus_patterns(two_profile_stack)
    with mock_aws():
        bus = DefaultBus(*patterns)

        # When every profile's sample is put on the default bus
        sent = {profile: bus.put(load_event(sample)) for profile, sample in sorted(PROFILE_SAMPLES.items())}

        # Then only the two enabled profiles' events reach the queue (least intake), through one rule each
        delivered = {message["id"] for message in bus.delivered()}
    assert len(patterns) == 1 + 2
    assert delivered == {sent["guardduty"], sent["health"]}
