"""Classic alarm JSON delivered through SNS: bare, in an SNS envelope, or in a Lambda SNS event."""

from __future__ import annotations

import json
from typing import Any

import pytest

from incident_bridge.alarm import AlarmKind, AlarmState, Delivery, NormalizedAlarm
from incident_bridge.errors import InvalidEvent
from incident_bridge.sources import parse_event, parse_payload
from tests.conftest import load_event

LOCALSTACK_BODY = "sns-message-body-classic-alarm-ALARM-sqs-NumberOfMessagesSent-localstack-snapshot.json"
LAMBDA_GO_SINGLE = "sns-classic-alarm-ALARM-ec2-networkout-single-metric-aws-lambda-go.json"
LAMBDA_GO_MATH = "sns-classic-alarm-ALARM-metric-math-aws-lambda-go.json"
ALARM_ARN = "arn:aws:cloudwatch:us-west-2:111111111111:alarm:queue-backlog"


def localstack_body() -> dict[str, Any]:
    """LocalStack's recording with its redaction placeholders filled in (the only changes)."""
    raw = load_event(LOCALSTACK_BODY)
    raw.update(AlarmArn=ALARM_ARN, AlarmName="queue-backlog", StateChangeTime="2024-05-01T10:00:00.000+0000")
    raw["Trigger"]["Namespace"] = "AWS/SQS"
    raw["Trigger"]["Dimensions"][0]["value"] = "jobs"
    return raw


def lambda_sns_event(name: str) -> dict[str, Any]:
    """aws-lambda-go's sample with its placeholder AlarmArn and account replaced (the only change)."""
    raw = load_event(name)
    message = json.loads(raw["Records"][0]["Sns"]["Message"])
    message.update(AlarmArn="arn:aws:cloudwatch:us-east-1:123456789012:alarm:EXAMPLE", AWSAccountId="123456789012")
    raw["Records"][0]["Sns"]["Message"] = json.dumps(message)
    return raw


def parse_alarm(raw: object) -> NormalizedAlarm:
    parsed = parse_payload(raw)
    assert isinstance(parsed, NormalizedAlarm), parsed
    return parsed


def test_bare_classic_alarm_json_is_normalized() -> None:
    # Given a classic alarm message body (raw message delivery)
    raw = localstack_body()

    # When it is parsed
    alarm = parse_alarm(raw)

    # Then it has the same normalized shape as an EventBridge alarm
    assert alarm.delivery is Delivery.SNS
    assert (alarm.alarm_arn, alarm.account, alarm.region) == (ALARM_ARN, "111111111111", "us-west-2")
    assert (alarm.state, alarm.previous_state) == (AlarmState.ALARM, AlarmState.INSUFFICIENT_DATA)
    assert alarm.kind is AlarmKind.METRIC
    [metric] = alarm.metrics
    assert (metric.namespace, metric.metric_name, metric.dimensions) == (
        "AWS/SQS",
        "NumberOfMessagesSent",
        {"QueueName": "jobs"},
    )
    assert metric.stat == "SampleCount"


def test_lambda_sns_event_is_unwrapped_and_identified_by_its_message_id() -> None:
    # Given a Lambda SNS event carrying a single-metric alarm
    raw = lambda_sns_event(LAMBDA_GO_SINGLE)

    # When it is parsed
    alarm = parse_alarm(raw)

    # Then the notification's MessageId identifies the delivery, and Trigger.Dimensions became a mapping
    assert alarm.event_id == raw["Records"][0]["Sns"]["MessageId"]
    assert alarm.metrics[0].dimensions == {"InstanceId": "TestInstance"}
    assert alarm.metrics[0].stat == "Average"


def test_metric_math_alarm_through_sns_keeps_its_query() -> None:
    # Given a metric-math alarm delivered through SNS (Trigger.Metrics)
    raw = lambda_sns_event(LAMBDA_GO_MATH)

    # When it is parsed
    alarm = parse_alarm(raw)

    # Then the expression and the metric it reads are both there
    assert alarm.kind is AlarmKind.METRIC_MATH
    assert [(m.id, m.expression) for m in alarm.metrics] == [("e1", "m1*1"), ("m1", None)]
    assert alarm.resource_metrics[0].dimensions == {"InstanceId": "TestInstance"}


def test_sns_envelope_and_bare_message_give_the_same_alarm_but_for_identity() -> None:
    # Given the same alarm as an SNS envelope (as an SQS subscription delivers it) and bare
    bare = localstack_body()
    envelope = {"Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:aws:sns:us-west-2:111111111111:alarms",
                "Message": json.dumps(bare)}  # fmt: skip

    # When both are parsed
    from_envelope = parse_alarm(envelope)
    from_bare = parse_alarm(bare)

    # Then only the delivery identity differs (the raw payload kept for rawData is outside equality)
    assert from_envelope._replace(event_id="") == from_bare._replace(event_id="")
    assert from_envelope.raw_event != from_bare.raw_event
    assert from_envelope.event_id == "m-1"


def test_alarms_that_differ_only_in_their_raw_payload_are_equal_and_not_unequal() -> None:
    # Given one alarm parsed, the same with another raw payload, and the same with another reason
    alarm = parse_alarm(localstack_body())
    other_payload = alarm._replace(raw_event={"another": "payload"})
    other_reason = alarm._replace(reason="another reason")

    # When they are compared (a NormalizedAlarm is a NamedTuple whose equality leaves out raw_event)
    # Then `==` and `!=` agree: the raw payload makes no difference, any other field does
    assert other_payload == alarm
    assert (other_payload != alarm) is False
    assert other_reason != alarm
    assert (other_reason == alarm) is False


def test_legacy_notification_without_alarm_arn_takes_the_region_from_the_topic() -> None:
    # Given a classic alarm without AlarmArn (older notifications) inside an SNS envelope
    bare = localstack_body()
    del bare["AlarmArn"]
    envelope = {"Type": "Notification", "MessageId": "m-2", "TopicArn": "arn:aws:sns:eu-west-1:111111111111:alarms",
                "Message": json.dumps(bare)}  # fmt: skip

    # When it is parsed
    alarm = parse_alarm(envelope)

    # Then the alarm ARN is rebuilt from the topic's region and the account
    assert alarm.alarm_arn == "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:queue-backlog"


@pytest.mark.parametrize("region_name", ["US West - Oregon", "US West (Oregon)"])
def test_legacy_bare_alarm_takes_the_region_from_its_display_name(region_name: str) -> None:
    # Given a bare classic alarm without AlarmArn, with the region's display name in either spelling
    raw = localstack_body()
    del raw["AlarmArn"]
    raw["Region"] = region_name

    # When it is parsed
    alarm = parse_alarm(raw)

    # Then the region code is recovered
    assert alarm.region == "us-west-2"


def test_sns_notification_that_is_not_an_alarm_is_rejected() -> None:
    # Given Powertools' SQS-wrapped SNS sample, whose message is not an alarm, unwrapped to its SNS envelope
    sqs_event = load_event("sqs-record-sns-envelope-non-alarm-message-powertools-ts.json")
    envelope = json.loads(sqs_event["Records"][0]["body"])

    # When it is parsed / Then it is rejected saying the message is not an alarm
    with pytest.raises(InvalidEvent, match="not a CloudWatch alarm"):
        parse_event(envelope)


def test_placeholder_alarm_arn_is_rejected_naming_the_field() -> None:
    # Given aws-lambda-go's sample as published, with AlarmArn "arn:aws:cloudwatch:REGION:ACCOUNT_NUMBER:..."
    raw = load_event(LAMBDA_GO_SINGLE)

    # When it is parsed / Then the rejection names AlarmArn
    with pytest.raises(InvalidEvent, match="AlarmArn"):
        parse_event(raw)
