"""An alarm of a member account, through the forwarder's rule and then the intake rule, into the bridge's queue:
moto's EventBridge with two accounts in two regions, the patterns and targets read from the synthesized templates.

How far moto 5.2.5 goes, and where the test takes over:
- Hop 1 (member default bus -> intake bus) is moto's own cross-account delivery. moto re-puts the event in the
  receiving account as if that account had sent it, so on arrival its `account`/`region` are the central account's
  and `resources` is empty. Real EventBridge keeps the sender's envelope: the intake rule matches `account` on it
  (EventBridge User Guide, "Sending and receiving events between AWS accounts", Rules for events between accounts).
- Hop 2 therefore hands the intake bus the event with the envelope EventBridge delivers (the member's account and
  region, as put on the member's bus), through moto's own rule matching and SQS delivery (`Rule.send_to_targets`,
  whole: moto's default input template leaves `account` out of what it sends to SQS, EventBridge does not).
moto checks neither the bus policy nor the target's role; the template tests assert those.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.events.models import events_backends

from infra.settings import INTAKE_ACCOUNTS_KEY, RESPONSE_PLAN_ARN_KEY
from tests.conftest import PLAN_ARN, load_event
from tests.infra.conftest import SynthesizedStack, synthesize
from tests.infra.test_forwarder_stack import rule as forwarder_rule

CENTRAL_ACCOUNT = "123456789012"  # moto's default account
CENTRAL_REGION = "us-east-1"
MEMBER_ACCOUNT = "444455556666"
MEMBER_REGION = "eu-west-1"  # another region than the bridge's: the forwarder targets the intake bus itself
INTAKE_BUS_NAME = "IncidentBridgeIntake"
INTAKE_BUS_ARN = f"arn:aws:events:{CENTRAL_REGION}:{CENTRAL_ACCOUNT}:event-bus/{INTAKE_BUS_NAME}"
ALARM = "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
SCHEDULED = "eventbridge-scheduled-event-rate-5-minutes-awsdocs.json"


@pytest.fixture(scope="module")
def central_stack(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedStack:
    context = {RESPONSE_PLAN_ARN_KEY: PLAN_ARN, INTAKE_ACCOUNTS_KEY: MEMBER_ACCOUNT}
    return synthesize(context, tmp_path_factory.mktemp("cdk.out"), nag=False)


def intake_patterns(central: SynthesizedStack) -> dict[str, dict[str, Any]]:
    """Logical id -> EventPattern of each rule on the intake bus, as synthesized."""
    rules = central.resources("AWS::Events::Rule")
    return {
        key: rule["Properties"]["EventPattern"]
        for key, rule in rules.items()
        if "OrganizationIntake" in key and "EventPattern" in rule["Properties"]
    }


def resolved(pattern: dict[str, Any], account: str) -> dict[str, Any]:
    """The forwarder's pattern with its one token, {"Ref": "AWS::AccountId"}, as CloudFormation resolves it."""
    text = json.dumps(pattern).replace(json.dumps({"Ref": "AWS::AccountId"}), json.dumps(account))
    resolved_pattern: dict[str, Any] = json.loads(text)
    return resolved_pattern


@dataclass
class Organization:
    """A member account with the forwarder's alarm rule, and the central account with the intake rules."""

    member_events: Any
    sqs: Any
    queue_url: str
    tap_url: str

    def put_in_member(self, event: dict[str, Any]) -> None:
        entry = {
            "Source": event["source"],
            "DetailType": event["detail-type"],
            "Detail": json.dumps(event["detail"]),
            "Resources": event.get("resources", []),
        }
        response = self.member_events.put_events(Entries=[entry])
        assert response["FailedEntryCount"] == 0, response["Entries"]

    @staticmethod
    def deliver_on_intake_bus(event: dict[str, Any]) -> None:
        """Hop 2: what EventBridge hands the intake bus, through moto's matching of every intake rule."""
        bus: Any = events_backends[CENTRAL_ACCOUNT][CENTRAL_REGION].describe_event_bus(INTAKE_BUS_NAME)
        # Delivered whole, as EventBridge delivers to SQS (moto's default input template would leave `account` out).
        # moto keeps `time` as a Unix timestamp until delivery, where it writes it out as ISO 8601 again.
        epoch = datetime.fromisoformat(event["time"]).timestamp()
        for intake_rule in bus.rules.values():
            intake_rule.send_to_targets({**event, "time": epoch}, transform_input=False)

    def received(self, queue_url: str) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]


@pytest.fixture
def organization(central_stack: SynthesizedStack) -> Iterator[Organization]:
    forwarder_pattern = resolved(forwarder_rule(_forwarder_template(), scheduled=False)["EventPattern"], MEMBER_ACCOUNT)
    with mock_aws():
        sqs = boto3.client("sqs", region_name=CENTRAL_REGION)
        central_events = boto3.client("events", region_name=CENTRAL_REGION)
        central_events.create_event_bus(Name=INTAKE_BUS_NAME)
        queue_url = sqs.create_queue(QueueName="incident-bridge-events")["QueueUrl"]
        tap_url = sqs.create_queue(QueueName="arrivals-on-the-intake-bus")["QueueUrl"]
        for index, pattern in enumerate(intake_patterns(central_stack).values()):
            _rule_to_queue(central_events, sqs, f"intake-{index}", pattern, queue_url)
        # Watches what reaches the intake bus at all (hop 1), whatever moto made of its envelope.
        _rule_to_queue(central_events, sqs, "tap", {"source": ["aws.cloudwatch"]}, tap_url)

        credentials = boto3.client("sts", region_name=MEMBER_REGION).assume_role(
            RoleArn=f"arn:aws:iam::{MEMBER_ACCOUNT}:role/deployer", RoleSessionName="member"
        )["Credentials"]
        member_events = boto3.client(
            "events",
            region_name=MEMBER_REGION,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        member_events.put_rule(Name="forward-alarms", EventPattern=json.dumps(forwarder_pattern), State="ENABLED")
        member_events.put_targets(
            Rule="forward-alarms",
            Targets=[{"Id": "intake", "Arn": INTAKE_BUS_ARN, "RoleArn": f"arn:aws:iam::{MEMBER_ACCOUNT}:role/fwd"}],
        )
        yield Organization(member_events, sqs, queue_url, tap_url)


def _forwarder_template() -> dict[str, Any]:
    from infra.forwarder_template import forwarder_template

    return forwarder_template()


def _rule_to_queue(client: Any, sqs: Any, name: str, pattern: dict[str, Any], queue_url: str) -> None:
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client.put_rule(Name=name, EventBusName=INTAKE_BUS_NAME, EventPattern=json.dumps(pattern), State="ENABLED")
    client.put_targets(Rule=name, EventBusName=INTAKE_BUS_NAME, Targets=[{"Id": "queue", "Arn": queue_arn}])


def as_member_sent(event: dict[str, Any]) -> dict[str, Any]:
    """The sample as CloudWatch in the member account emits it: the member's account and region."""
    sent = dict(event)
    sent["account"] = MEMBER_ACCOUNT
    sent["region"] = MEMBER_REGION
    sent["resources"] = [arn.replace(":123456789012:", f":{MEMBER_ACCOUNT}:") for arn in event["resources"]]
    sent["resources"] = [arn.replace(":us-east-1:", f":{MEMBER_REGION}:") for arn in sent["resources"]]
    return sent


def test_a_member_alarm_reaches_the_intake_bus_and_then_the_queue(organization: Organization) -> None:
    # Given a real alarm state change, raised in the member account's other region
    alarm = as_member_sent(load_event(ALARM))

    # When CloudWatch puts it on the member's default bus (hop 1: the forwarder rule, moto's cross-account delivery)
    organization.put_in_member(alarm)
    [arrived] = organization.received(organization.tap_url)

    # Then it arrives on the central intake bus unchanged in substance
    assert (arrived["source"], arrived["detail-type"]) == ("aws.cloudwatch", "CloudWatch Alarm State Change")
    assert arrived["detail"] == alarm["detail"]

    # When the intake bus receives it with the envelope EventBridge keeps, the member's account and region (hop 2)
    organization.deliver_on_intake_bus({**arrived, "account": MEMBER_ACCOUNT, "region": MEMBER_REGION,
                                        "resources": alarm["resources"]})  # fmt: skip

    # Then the intake rule delivers it to the bridge's queue, whole, naming the member's account and region
    [queued] = organization.received(organization.queue_url)
    assert queued["account"] == MEMBER_ACCOUNT
    assert queued["region"] == MEMBER_REGION
    assert queued["detail"] == alarm["detail"]
    assert queued["resources"] == [f"arn:aws:cloudwatch:{MEMBER_REGION}:{MEMBER_ACCOUNT}:alarm:ServerCpuTooHigh"]


def test_the_forwarder_does_not_send_another_accounts_alarm(organization: Organization) -> None:
    # Given an alarm state change whose account is not the member's (as an event received from elsewhere would be)
    alarm = load_event(ALARM)
    foreign = {**alarm, "account": "999988887777"}

    # When it is matched against the forwarder's rule on the member's bus (moto stamps the putter's account, so the
    # forwarder's pattern is applied to the envelope directly, through moto's matcher)
    backend = events_backends[MEMBER_ACCOUNT][MEMBER_REGION]
    forward_rule: Any = backend.describe_event_bus("default").rules["forward-alarms"]

    # Then the forwarder's pattern refuses it, and accepts the member's own
    assert not forward_rule.event_pattern.matches_event(foreign)
    assert forward_rule.event_pattern.matches_event({**alarm, "account": MEMBER_ACCOUNT})
    assert organization.received(organization.tap_url) == []


def test_an_alarm_from_an_account_that_is_not_listed_does_not_reach_the_queue(organization: Organization) -> None:
    # Given a real alarm state change from an account the intake does not list
    alarm = load_event(ALARM)
    unlisted = {**alarm, "account": "999988887777"}

    # When it reaches the intake bus / Then no intake rule delivers it
    organization.deliver_on_intake_bus(unlisted)
    assert organization.received(organization.queue_url) == []


def test_a_member_heartbeat_reaches_the_queue_and_another_scheduled_event_does_not(organization: Organization) -> None:
    # Given the documented scheduled event, as the member's heartbeat rule and as another rule of the member send it
    sample = load_event(SCHEDULED)
    rule_arn = f"arn:aws:events:{MEMBER_REGION}:{MEMBER_ACCOUNT}:rule/"
    heartbeat = {**sample, "account": MEMBER_ACCOUNT, "region": MEMBER_REGION,
                 "resources": [rule_arn + "incident-bridge-heartbeat"]}  # fmt: skip
    other = {**heartbeat, "resources": [rule_arn + "my-scheduled-rule"]}

    # When both reach the intake bus
    organization.deliver_on_intake_bus(heartbeat)
    organization.deliver_on_intake_bus(other)

    # Then only the heartbeat goes to the queue
    assert [message["resources"] for message in organization.received(organization.queue_url)] == [
        heartbeat["resources"]
    ]


def test_a_member_custom_event_reaches_the_queue_with_the_members_account(organization: Organization) -> None:
    # Given a custom application event put by the member on the intake bus (EventBridge sets `account` to the sender)
    event = {**load_event("custom-app-eventbridge-CustomEvent-no-version-powertools.json"), "account": MEMBER_ACCOUNT}

    # When it reaches the intake bus / Then it is queued, carrying the member's account for routes to match
    organization.deliver_on_intake_bus(event)
    [queued] = organization.received(organization.queue_url)
    assert queued["account"] == MEMBER_ACCOUNT
    assert queued["source"] == event["source"]
