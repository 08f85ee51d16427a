"""Parsing real payloads into the normalized alarm."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from incident_bridge.alarm import AlarmKind, AlarmState, Delivery, NormalizedAlarm
from incident_bridge.errors import InvalidEvent
from incident_bridge.sources import NotActionable, parse_event, parse_payload
from tests.conftest import load_event

EC2_ALARM = "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
METRIC_MATH_ALARM = "eventbridge-metric-math-alarm-ALARM-from-INSUFFICIENT_DATA-ec2-network-awsdocs.json"
ANOMALY_ALARM = "eventbridge-anomaly-detection-alarm-ALARM-ec2-cpu-awsdocs.json"
COMPOSITE_ALARM = "eventbridge-composite-alarm-ALARM-suppressed-waitperiod-awsdocs.json"
LAMBDA_ACTION = "lambda-action-metric-alarm-ALARM-from-INSUFFICIENT_DATA-aws-lambda-java-libs.json"
CUSTOM_EVENT = "custom-app-eventbridge-PaymentCreated-no-resources-powertools.json"


def parse_alarm(raw: object) -> NormalizedAlarm:
    parsed = parse_payload(raw)
    assert isinstance(parsed, NormalizedAlarm), parsed
    return parsed


def test_eventbridge_single_metric_alarm_is_normalized() -> None:
    # Given the AWS documentation's EC2 CPU alarm state change
    raw = load_event(EC2_ALARM)

    # When it is parsed
    alarm = parse_alarm(raw)

    # Then every field the incident needs comes from the event
    assert alarm.alarm_name == "ServerCpuTooHigh"
    assert alarm.alarm_arn == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"
    assert (alarm.partition, alarm.account, alarm.region) == ("aws", "123456789012", "us-east-1")
    assert alarm.state is AlarmState.ALARM
    assert alarm.previous_state is AlarmState.OK
    assert alarm.changed_at == datetime(2019, 10, 2, 17, 4, 40, 989000, tzinfo=UTC)
    assert alarm.kind is AlarmKind.METRIC
    assert alarm.delivery is Delivery.EVENTBRIDGE
    assert alarm.event_id == raw["id"]
    assert [(m.namespace, m.metric_name, m.dimensions) for m in alarm.metrics] == [
        ("AWS/EC2", "CPUUtilization", {"InstanceId": "i-12345678901234567"})
    ]


def test_metric_math_alarm_keeps_expressions_and_source_metrics() -> None:
    # Given a metric-math alarm (an expression over two EC2 metrics)
    raw = load_event(METRIC_MATH_ALARM)

    # When it is parsed
    alarm = parse_alarm(raw)

    # Then the kind is metric math and the resource metrics are the two that carry dimensions
    assert alarm.kind is AlarmKind.METRIC_MATH
    assert [m.expression for m in alarm.metrics if m.expression] == ["SUM(METRICS())"]
    assert [m.metric_name for m in alarm.resource_metrics] == ["NetworkIn", "NetworkOut"]
    assert alarm.previous_state is AlarmState.INSUFFICIENT_DATA


def test_anomaly_detection_alarm_is_recognized() -> None:
    # Given an anomaly-detection alarm from the AWS documentation
    raw = load_event(ANOMALY_ALARM)

    # When it is parsed
    alarm = parse_alarm(raw)

    # Then its kind says so
    assert alarm.kind is AlarmKind.ANOMALY_DETECTION


def test_composite_alarm_names_its_triggering_children() -> None:
    # Given a composite alarm whose reasonData lists the child that tripped it
    raw = load_event(COMPOSITE_ALARM)

    # When it is parsed
    alarm = parse_alarm(raw)

    # Then the rule and the child alarm ARN are part of the normalized alarm
    assert alarm.kind is AlarmKind.COMPOSITE
    assert alarm.alarm_rule == "ALARM(ServerCpuTooHigh) OR ALARM(TotalNetworkTrafficTooHigh)"
    assert alarm.triggering_alarm_arns == ("arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh",)
    assert alarm.actions_suppressed_by == "WaitPeriod"


def test_alarm_action_payload_is_normalized_like_eventbridge() -> None:
    # Given the payload an alarm sends when it invokes Lambda directly
    raw = load_event(LAMBDA_ACTION)

    # When it is parsed
    alarm = parse_alarm(raw)

    # Then it yields the same normalized shape, identified by alarm ARN and state time
    assert alarm.delivery is Delivery.ALARM_ACTION
    assert alarm.alarm_arn == raw["alarmArn"]
    assert alarm.state is AlarmState.ALARM
    assert alarm.event_id.startswith(raw["alarmArn"] + "@")


def test_missing_resources_falls_back_to_an_arn_built_from_the_envelope() -> None:
    # Given the EC2 alarm with its `resources` array removed
    raw = load_event(EC2_ALARM)
    raw["resources"] = []

    # When it is parsed
    alarm = parse_alarm(raw)

    # Then the alarm ARN is rebuilt from account, region and name
    assert alarm.alarm_arn == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"


def test_china_region_alarm_gets_the_aws_cn_partition() -> None:
    # Given the EC2 alarm moved to a China region
    raw = load_event(EC2_ALARM)
    raw["region"] = "cn-north-1"
    raw["resources"] = ["arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:ServerCpuTooHigh"]

    # When it is parsed
    alarm = parse_alarm(raw)

    # Then partition and region follow the ARN
    assert (alarm.partition, alarm.region) == ("aws-cn", "cn-north-1")


@pytest.mark.parametrize(
    "name",
    [
        "eventbridge-config-change-create-composite-awsdocs.json",
        "eventbridge-config-change-update-composite-state-ALARM-suppressed-awsdocs.json",
        "eventbridge-config-change-delete-metric-math-awsdocs.json",
    ],
)
def test_configuration_changes_are_not_actionable(name: str) -> None:
    # Given an alarm configuration change (even one whose alarm is in ALARM)
    raw = load_event(name)

    # When it is parsed
    parsed = parse_event(raw)

    # Then it is deliberately ignored, with a reason
    assert isinstance(parsed, NotActionable)
    assert "configuration change" in parsed.reason


@pytest.mark.parametrize(
    ("name", "source", "expected"),
    [
        ("eventbridge-stepfunctions-execution-FAILED-awsdocs.json", "aws.s3", "source='aws.s3'"),
        (
            "eventbridge-aws-health-issue-EC2-instance-store-degraded-aws-health-tools.json",
            "aws.s3",
            "AWS Health Event",
        ),
    ],
)
def test_other_events_are_rejected_naming_what_they_are(name: str, source: str, expected: str) -> None:
    # Given an AWS service event whose source no profile knows (a sample with its `source` changed)
    raw = load_event(name)
    raw["source"] = source

    # When it is parsed / Then it is rejected with its source or detail-type in the reason
    with pytest.raises(InvalidEvent, match="not a CloudWatch alarm state change") as error:
        parse_event(raw)
    assert expected in str(error.value)


@pytest.mark.parametrize(
    "name",
    [
        "eventbridge-stepfunctions-execution-FAILED-awsdocs.json",
        "eventbridge-aws-health-issue-EC2-instance-store-degraded-aws-health-tools.json",
    ],
)
def test_service_events_of_profiles_that_are_not_enabled_are_ignored(name: str) -> None:
    # Given a service event, and no profile enabled (the default) / When it is parsed
    parsed = parse_event(load_event(name))

    # Then it is ignored, naming its profile
    assert isinstance(parsed, NotActionable)
    assert "is not enabled" in parsed.reason


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda raw: raw["detail"]["state"].update(value="BROKEN"), "detail.state.value"),
        (lambda raw: raw["detail"]["state"].pop("timestamp"), "detail.state.timestamp"),
        (lambda raw: raw["detail"].update(alarmName=""), "detail.alarmName"),
        (lambda raw: raw["detail"]["state"].update(timestamp="yesterday"), "not an ISO-8601 timestamp"),
        (lambda raw: raw.update(resources=["arn:aws:cloudwatch:us-east-1:12:alarm:x"], account="12"), "account"),
    ],
)
def test_malformed_alarm_events_are_rejected_with_the_failing_field(change: object, expected: str) -> None:
    # Given the EC2 alarm with one field broken
    raw = load_event(EC2_ALARM)
    assert callable(change)
    change(raw)

    # When it is parsed / Then the rejection names the field
    with pytest.raises(InvalidEvent) as error:
        parse_event(raw)
    assert expected in str(error.value)


ALARM_MALFORMED = "EventBridge 'CloudWatch Alarm State Change' payload is malformed: "
DIMENSIONS = "detail.configuration.metrics.0.metricStat.metric.dimensions"


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        pytest.param(EC2_ALARM, lambda raw: raw["detail"]["state"].update(value="BROKEN"),
                     ALARM_MALFORMED + "detail.state.value: expected one of ALARM, OK, INSUFFICIENT_DATA, got 'BROKEN'",
                     id="unknown-state"),
        pytest.param(EC2_ALARM, lambda raw: raw["detail"].pop("state"), ALARM_MALFORMED + "detail.state: required",
                     id="missing-state"),
        pytest.param(EC2_ALARM, lambda raw: raw["detail"]["state"].update(timestamp="yesterday"),
                     ALARM_MALFORMED + "detail.state.timestamp: not an ISO-8601 timestamp: 'yesterday'",
                     id="bad-timestamp"),
        pytest.param(EC2_ALARM, lambda raw: raw["detail"].update(alarmName=""),
                     ALARM_MALFORMED + "detail.alarmName: must have at least 1 character", id="empty-name"),
        pytest.param(EC2_ALARM, lambda raw: raw["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]
                     ["dimensions"].update(InstanceId=42),
                     ALARM_MALFORMED + f"{DIMENSIONS}.InstanceId: expected a string, got a number",
                     id="dimension-not-a-string"),
        pytest.param(EC2_ALARM, lambda raw: raw.update(resources="arn"),
                     ALARM_MALFORMED + "resources: expected a list, got a string", id="resources-not-a-list"),
        pytest.param(LAMBDA_ACTION, lambda raw: raw.update(alarmData="alarm"),
                     "alarm action payload is malformed: alarmData: expected an object, got a string",
                     id="alarm-data-not-an-object"),
        pytest.param(LAMBDA_ACTION, lambda raw: raw["alarmData"]["configuration"]["metrics"][0].update(returnData=1),
                     "alarm action payload is malformed: alarmData.configuration.metrics.0.returnData: "
                     "expected true or false, got a number", id="return-data-a-number"),
        pytest.param(CUSTOM_EVENT, lambda raw: raw.update(time="later"),
                     "EventBridge 'PaymentCreated' payload is malformed: time: not an ISO-8601 timestamp: 'later'",
                     id="custom-event-bad-time"),
    ],
)  # fmt: skip
def test_malformed_payload_is_rejected_with_its_kind_the_field_path_and_the_problem(
    name: str, change: Callable[[dict[str, Any]], object], message: str
) -> None:
    # Given a real alarm or custom event with one field broken
    raw = load_event(name)
    change(raw)

    # When it is parsed / Then the rejection reads `<kind> payload is malformed: <path>: <problem>`, exactly
    with pytest.raises(InvalidEvent) as error:
        parse_event(raw)
    assert str(error.value) == message


@pytest.mark.parametrize("raw", [[], "text", 42, None])
def test_non_object_payloads_are_rejected(raw: object) -> None:
    # Given a JSON value that is not an object
    # When it is parsed / Then it is rejected saying what it got
    with pytest.raises(InvalidEvent, match="expected a JSON object"):
        parse_event(raw)


def test_payload_of_unknown_shape_lists_its_keys() -> None:
    # Given an object with neither detail-type nor alarmData
    raw = {"hello": "world"}

    # When it is parsed / Then the rejection shows what was there
    with pytest.raises(InvalidEvent, match="top-level keys: hello"):
        parse_event(raw)


def test_metrics_insights_alarm_is_recognized_by_its_query() -> None:
    # Given the documented metric-math alarm whose expression is replaced by a Metrics Insights query
    raw = load_event(METRIC_MATH_ALARM)
    raw["detail"]["configuration"]["metrics"][0]["expression"] = (
        'SELECT AVG(CPUUtilization) FROM SCHEMA("AWS/EC2", InstanceId) GROUP BY InstanceId'
    )

    # When it is parsed
    alarm = parse_alarm(raw)

    # Then its kind says so, and the metrics that name resources are still there
    assert alarm.kind is AlarmKind.METRICS_INSIGHTS
    assert [m.metric_name for m in alarm.resource_metrics] == ["NetworkIn", "NetworkOut"]
