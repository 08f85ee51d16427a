"""Alarm tags looked up with cloudwatch:ListTagsForResource (moto): returned, cached per container, errors give
no tags and are retried; the bridge looks them up only when the configuration asks and the event has none."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber
from moto import mock_aws
from mypy_boto3_cloudwatch import CloudWatchClient

from incident_bridge.adapters.alarm_tags import CloudWatchAlarmTags
from incident_bridge.adapters.api_model import ensure_valid
from incident_bridge.adapters.dry_run import DryRunIncidentManager
from incident_bridge.adapters.memory_groups import MemoryGroupStore
from incident_bridge.bridge import Bridge
from incident_bridge.config import BridgeConfig, parse_config
from incident_bridge.outcome import Outcome, OutcomeKind
from incident_bridge.runtime import Runtime
from incident_bridge.settings import Settings
from tests.conftest import load_event

REGION = "us-east-1"
#: The account and region the bridge runs in: the documented alarm's own.
HOME = ("123456789012", REGION)
EC2_ALARM = "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
# The documented alarm's ARN; moto's default account is the documentation's 123456789012.
ALARM_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"
PLATFORM_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/platform-oncall"
PAYMENTS_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/payments-oncall"
PAYMENTS_ROUTE = {"name": "payments", "match": {"tags": {"team": "payments"}}, "response_plan_arn": PAYMENTS_PLAN}


@dataclass
class CountingCloudWatch:
    """A moto CloudWatch client that counts the ListTagsForResource calls it makes."""

    client: CloudWatchClient
    list_tags_calls: list[str] = field(default_factory=list)

    def count(self, params: dict[str, Any], **_: Any) -> None:
        self.list_tags_calls.append(params["ResourceARN"])


@pytest.fixture
def cloudwatch() -> Iterator[CountingCloudWatch]:
    """moto CloudWatch holding the documented EC2 alarm, created with the tags team=payments and
    incident-impact=1."""
    with mock_aws():
        client = boto3.client("cloudwatch", region_name=REGION)
        client.put_metric_alarm(
            AlarmName="ServerCpuTooHigh",
            AlarmDescription="Goes into alarm when server CPU utilization is too high!",
            Namespace="AWS/EC2",
            MetricName="CPUUtilization",
            Dimensions=[{"Name": "InstanceId", "Value": "i-12345678901234567"}],
            Statistic="Average",
            Period=300,
            EvaluationPeriods=1,
            Threshold=50.0,
            ComparisonOperator="GreaterThanThreshold",
            Tags=[{"Key": "team", "Value": "payments"}, {"Key": "incident-impact", "Value": "1"}],
        )
        counting = CountingCloudWatch(client)
        client.meta.events.register("before-parameter-build.cloudwatch.ListTagsForResource", counting.count)
        yield counting


def config(*, lookup_alarm_tags: bool) -> BridgeConfig:
    return parse_config(
        {
            "default": {"response_plan_arn": PLATFORM_PLAN, "impact_tag": "incident-impact"},
            "routes": [PAYMENTS_ROUTE],
            "lookup_alarm_tags": lookup_alarm_tags,
        },
        origin="test.yaml",
    )


def tagging_bridge(
    client: CloudWatchClient, *, lookup_alarm_tags: bool = True, home: tuple[str, str] | None = HOME
) -> Bridge:
    """A dry-run bridge wired to the CloudWatch tag adapter of `home` (the bridge's own account and region)."""
    return Bridge(
        config(lookup_alarm_tags=lookup_alarm_tags),
        DryRunIncidentManager(),
        MemoryGroupStore(),
        tags=CloudWatchAlarmTags(client, home),
    )


def started_plans(outcome: Outcome) -> list[tuple[str, int]]:
    """(plan, impact) of each StartIncident the outcome made; each request passes the full service model."""
    started = [call.params for call in outcome.calls if call.operation == "StartIncident"]
    for params in started:
        ensure_valid("StartIncident", params)
    return [(params["responsePlanArn"], params["impact"]) for params in started]


# ---- the adapter ----


def test_tags_of_the_alarm_are_returned(cloudwatch: CountingCloudWatch) -> None:
    # Given the tagged alarm in CloudWatch
    tags = CloudWatchAlarmTags(cloudwatch.client, HOME)

    # When its tags are asked for by ARN
    found = tags.tags_for(ALARM_ARN)

    # Then they are the alarm's tags, as a mapping
    assert dict(found) == {"team": "payments", "incident-impact": "1"}
    assert cloudwatch.list_tags_calls == [ALARM_ARN]


def test_tags_are_cached_so_a_second_lookup_makes_no_call(cloudwatch: CountingCloudWatch) -> None:
    # Given an adapter that already looked the alarm up
    tags = CloudWatchAlarmTags(cloudwatch.client, HOME)
    first = dict(tags.tags_for(ALARM_ARN))

    # When the tags are asked for again, after they changed in CloudWatch
    cloudwatch.client.tag_resource(ResourceARN=ALARM_ARN, Tags=[{"Key": "team", "Value": "search"}])
    second = dict(tags.tags_for(ALARM_ARN))

    # Then the cached tags come back and CloudWatch was called once
    assert second == first == {"team": "payments", "incident-impact": "1"}
    assert cloudwatch.list_tags_calls == [ALARM_ARN]


def test_client_error_gives_no_tags_and_is_not_cached() -> None:
    # Given CloudWatch answering ResourceNotFoundException once (as it does for an unknown ARN), then the tags
    client = boto3.client("cloudwatch", region_name=REGION)
    tags = CloudWatchAlarmTags(client, HOME)
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "list_tags_for_resource",
            service_error_code="ResourceNotFoundException",
            service_message="The specified resource does not exist.",
            http_status_code=404,
            expected_params={"ResourceARN": ALARM_ARN},
        )
        stubber.add_response(
            "list_tags_for_resource",
            {"Tags": [{"Key": "team", "Value": "payments"}]},
            expected_params={"ResourceARN": ALARM_ARN},
        )

        # When the tags are asked for twice
        first = dict(tags.tags_for(ALARM_ARN))
        second = dict(tags.tags_for(ALARM_ARN))

        # Then the failure gave no tags, and the next lookup called CloudWatch again and got them
        assert first == {}
        assert second == {"team": "payments"}
        stubber.assert_no_pending_responses()


def test_network_error_gives_no_tags_and_is_not_cached(cloudwatch: CountingCloudWatch) -> None:
    # Given CloudWatch unreachable for the first call only
    failures = [EndpointConnectionError(endpoint_url="https://monitoring.us-east-1.amazonaws.com/")]

    def unreachable(**_: Any) -> None:
        if failures:
            raise failures.pop()

    cloudwatch.client.meta.events.register("before-call.cloudwatch.ListTagsForResource", unreachable)
    tags = CloudWatchAlarmTags(cloudwatch.client, HOME)

    # When the tags are asked for twice
    first = dict(tags.tags_for(ALARM_ARN))
    second = dict(tags.tags_for(ALARM_ARN))

    # Then the first gave no tags, and the second tried again and got them
    assert first == {}
    assert second == {"team": "payments", "incident-impact": "1"}
    assert cloudwatch.list_tags_calls == [ALARM_ARN, ALARM_ARN]


# ---- the bridge uses it ----


def test_bridge_routes_on_looked_up_tags_when_the_event_has_none(cloudwatch: CountingCloudWatch) -> None:
    # Given a bridge that looks tags up, a route on team=payments, and the default's incident-impact tag
    bridge = tagging_bridge(cloudwatch.client)

    # When the documented alarm (which carries no alarmTags) arrives
    outcome = bridge.handle(load_event(EC2_ALARM))

    # Then its tags were looked up, the payments route took it, and the impact came from the tag
    assert cloudwatch.list_tags_calls == [ALARM_ARN]
    assert outcome.kind is OutcomeKind.STARTED
    assert outcome.route_name == "payments"
    assert started_plans(outcome) == [(PAYMENTS_PLAN, 1)]


def test_bridge_looks_up_each_alarm_once_per_container(cloudwatch: CountingCloudWatch) -> None:
    # Given a bridge that looks tags up
    bridge = tagging_bridge(cloudwatch.client)
    second_event = load_event(EC2_ALARM)
    second_event["id"] = "d3c1c1c9-6542-e61b-6ef0-8c4d36933a93"

    # When two events of the same alarm arrive
    outcomes = [bridge.handle(load_event(EC2_ALARM)), bridge.handle(second_event)]

    # Then both were routed on the tags, looked up once
    assert [outcome.route_name for outcome in outcomes] == ["payments", "payments"]
    assert cloudwatch.list_tags_calls == [ALARM_ARN]


def test_bridge_does_not_look_up_when_the_event_carries_alarm_tags(cloudwatch: CountingCloudWatch) -> None:
    # Given a bridge that looks tags up, and the documented alarm carrying its own alarmTags (team=search)
    bridge = tagging_bridge(cloudwatch.client)
    raw = load_event(EC2_ALARM)
    raw["detail"]["alarmTags"] = {"team": "search"}

    # When it arrives
    outcome = bridge.handle(raw)

    # Then CloudWatch was not called, and the event's tags routed it (to the default route)
    assert cloudwatch.list_tags_calls == []
    assert outcome.route_name == "default"
    assert started_plans(outcome) == [(PLATFORM_PLAN, 3)]


def test_bridge_does_not_look_up_when_the_configuration_does_not_ask(cloudwatch: CountingCloudWatch) -> None:
    # Given a configuration with lookup_alarm_tags off, even though a tag adapter is wired
    bridge = tagging_bridge(cloudwatch.client, lookup_alarm_tags=False)

    # When the documented alarm (no alarmTags) arrives
    outcome = bridge.handle(load_event(EC2_ALARM))

    # Then CloudWatch was not called and, without tags, the default route took it
    assert cloudwatch.list_tags_calls == []
    assert outcome.route_name == "default"
    assert started_plans(outcome) == [(PLATFORM_PLAN, 3)]


def test_bridge_routes_without_tags_when_the_lookup_fails() -> None:
    # Given a bridge that looks tags up, and CloudWatch refusing the call (no permission)
    client = boto3.client("cloudwatch", region_name=REGION)
    bridge = tagging_bridge(client)
    with Stubber(client) as stubber:
        stubber.add_client_error("list_tags_for_resource", service_error_code="AccessDenied", http_status_code=403)

        # When the documented alarm arrives
        outcome = bridge.handle(load_event(EC2_ALARM))

        # Then the incident is still opened, by the default route
        stubber.assert_no_pending_responses()
    assert outcome.kind is OutcomeKind.STARTED
    assert started_plans(outcome) == [(PLATFORM_PLAN, 3)]


def test_live_runtime_wires_the_tag_lookup_from_the_configuration(
    cloudwatch: CountingCloudWatch, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given a configuration file asking for the lookup, whose route on team=payments drops the alarm (so no
    # Incident Manager call is needed), and the Lambda's live-mode environment (inside moto)
    config_file = tmp_path / "bridge_config.json"
    config_file.write_text(
        json.dumps(
            {
                "default": {"response_plan_arn": PLATFORM_PLAN},
                "routes": [{"name": "payments-muted", "match": {"tags": {"team": "payments"}}, "drop": True}],
                "lookup_alarm_tags": True,
            }
        ),
        encoding="utf-8",
    )
    for name, value in {
        "BRIDGE_CONFIG_FILE": str(config_file),
        "INCIDENT_MANAGER_MODE": "live",
        "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/incident-bridge-dead-letters",
        "STATE_TABLE_NAME": "incident-bridge-groups",
        "BRIDGE_ACCOUNT_ID": "123456789012",  # the stack's account; Lambda sets AWS_REGION
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    runtime = Runtime.from_settings(Settings.from_environment())

    # When the documented alarm (no alarmTags) is processed as a queue message
    outcome = runtime.process_message(json.dumps(load_event(EC2_ALARM)), "message-1")

    # Then the runtime looked the tags up and the tag route dropped it
    assert (outcome.kind, outcome.reason) == (OutcomeKind.IGNORED, "ServerCpuTooHigh: dropped by route payments-muted")


# ---- across accounts ----


@pytest.mark.parametrize(
    ("account", "region"), [("444455556666", "us-east-1"), ("123456789012", "eu-west-1")], ids=["account", "region"]
)
def test_an_alarm_of_another_account_or_region_is_never_looked_up(
    cloudwatch: CountingCloudWatch, account: str, region: str
) -> None:
    # Given a bridge that looks tags up in its own account and region, and the documented alarm as a member
    # account (or another region) forwards it, without alarmTags
    bridge = tagging_bridge(cloudwatch.client)
    raw = load_event(EC2_ALARM)
    raw["account"], raw["region"] = account, region
    raw["resources"] = [f"arn:aws:cloudwatch:{region}:{account}:alarm:ServerCpuTooHigh"]

    # When it arrives
    outcome = bridge.handle(raw)

    # Then CloudWatch is never asked (the call could only fail with an access error), and the alarm is routed
    # without tags: the default route opens its incident
    assert cloudwatch.list_tags_calls == []
    assert outcome.kind is OutcomeKind.STARTED
    assert started_plans(outcome) == [(PLATFORM_PLAN, 3)]


def test_an_alarm_of_another_account_routes_on_the_tags_its_event_carries(cloudwatch: CountingCloudWatch) -> None:
    # Given a bridge that looks tags up, and a member account's alarm whose tag propagation is on (alarmTags)
    bridge = tagging_bridge(cloudwatch.client)
    raw = load_event(EC2_ALARM)
    raw["account"] = "444455556666"
    raw["resources"] = ["arn:aws:cloudwatch:us-east-1:444455556666:alarm:ServerCpuTooHigh"]
    raw["detail"]["alarmTags"] = {"team": "payments", "incident-impact": "1"}

    # When it arrives
    outcome = bridge.handle(raw)

    # Then the event's tags route it to payments at impact 1, with no lookup
    assert cloudwatch.list_tags_calls == []
    assert outcome.route_name == "payments"
    assert started_plans(outcome) == [(PAYMENTS_PLAN, 1)]


def test_without_a_known_home_the_bridge_never_looks_up(cloudwatch: CountingCloudWatch) -> None:
    # Given a bridge that looks tags up but does not know its own account (BRIDGE_ACCOUNT_ID unset)
    bridge = tagging_bridge(cloudwatch.client, home=None)

    # When the documented alarm arrives / Then nothing is looked up: it could be another account's
    bridge.handle(load_event(EC2_ALARM))
    assert cloudwatch.list_tags_calls == []
