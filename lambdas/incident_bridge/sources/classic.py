"""The classic alarm JSON CloudWatch publishes to SNS (`AlarmName`, `NewStateValue`, `Trigger.Dimensions`),
bare (raw message delivery) or inside an SNS notification, or inside a Lambda SNS event."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from incident_bridge.alarm import AlarmMetric, AlarmState, Delivery, NormalizedAlarm
from incident_bridge.aws import (
    alarm_arn,
    alarm_arn_problem,
    is_account,
    is_region,
    parse_alarm_arn,
    partition_of_region,
)
from incident_bridge.errors import InvalidEvent
from incident_bridge.sources.cloudwatch import alarm_kind
from incident_bridge.sources.payloads import MalformedPayload, is_classic_alarm, parse_aws_timestamp
from incident_bridge.validation import describe

AwsTimestamp = Annotated[datetime, BeforeValidator(parse_aws_timestamp)]


class Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


M = TypeVar("M", bound=Lenient)


def validated(model: type[M], data: object) -> M:
    """`data` as `model`; a refusal becomes MalformedPayload naming the fields, which parse_event words."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise MalformedPayload(describe(error)) from None


# Older notifications carry no AlarmArn and only a region's display name ("US West - Oregon" before 2019,
# "US West (Oregon)" after); both spellings are normalized to letters and digits before lookup.
_REGION_BY_NAME = {
    "useastnvirginia": "us-east-1",
    "useastohio": "us-east-2",
    "uswestncalifornia": "us-west-1",
    "uswestnorthcalifornia": "us-west-1",
    "uswestoregon": "us-west-2",
    "euireland": "eu-west-1",
    "eulondon": "eu-west-2",
    "euparis": "eu-west-3",
    "eufrankfurt": "eu-central-1",
    "eustockholm": "eu-north-1",
    "eumilan": "eu-south-1",
    "euspain": "eu-south-2",
    "euzurich": "eu-central-2",
    "asiapacifictokyo": "ap-northeast-1",
    "asiapacificseoul": "ap-northeast-2",
    "asiapacificosaka": "ap-northeast-3",
    "asiapacificsingapore": "ap-southeast-1",
    "asiapacificsydney": "ap-southeast-2",
    "asiapacificjakarta": "ap-southeast-3",
    "asiapacificmumbai": "ap-south-1",
    "asiapacifichongkong": "ap-east-1",
    "canadacentral": "ca-central-1",
    "southamericasaopaulo": "sa-east-1",
    "southamericasopaulo": "sa-east-1",
    "middleeastbahrain": "me-south-1",
    "middleeastuae": "me-central-1",
    "africacapetown": "af-south-1",
    "awsgovcloudus": "us-gov-west-1",
    "awsgovcloudusweast": "us-gov-west-1",
    "awsgovcloudusewest": "us-gov-west-1",
    "awsgovcloudusest": "us-gov-east-1",
    "awsgovclouduseast": "us-gov-east-1",
    "chinabeijing": "cn-north-1",
    "chinaningxia": "cn-northwest-1",
}


class ClassicDimension(Lenient):
    name: str
    value: str


class ClassicMetricIdentity(Lenient):
    namespace: str | None = Field(default=None, alias="Namespace")
    metric_name: str | None = Field(default=None, alias="MetricName")
    dimensions: list[ClassicDimension] = Field(default_factory=list, alias="Dimensions")


class ClassicMetricStat(Lenient):
    metric: ClassicMetricIdentity = Field(alias="Metric")
    period: int | None = Field(default=None, alias="Period")
    stat: str | None = Field(default=None, alias="Stat")


class ClassicMetric(Lenient):
    id: str | None = Field(default=None, alias="Id")
    expression: str | None = Field(default=None, alias="Expression")
    label: str | None = Field(default=None, alias="Label")
    return_data: bool = Field(default=True, alias="ReturnData")
    metric_stat: ClassicMetricStat | None = Field(default=None, alias="MetricStat")


class ClassicTrigger(Lenient):
    namespace: str | None = Field(default=None, alias="Namespace")
    metric_name: str | None = Field(default=None, alias="MetricName")
    dimensions: list[ClassicDimension] = Field(default_factory=list, alias="Dimensions")
    statistic: str | None = Field(default=None, alias="Statistic")
    extended_statistic: str | None = Field(default=None, alias="ExtendedStatistic")
    period: int | None = Field(default=None, alias="Period")
    metrics: list[ClassicMetric] = Field(default_factory=list, alias="Metrics")


class ClassicChildState(Lenient):
    value: AlarmState = Field(alias="Value")


class ClassicChild(Lenient):
    arn: str = Field(alias="Arn")
    state: ClassicChildState | None = Field(default=None, alias="State")


class ClassicAlarm(Lenient):
    alarm_name: str = Field(alias="AlarmName", min_length=1)
    alarm_arn: str | None = Field(default=None, alias="AlarmArn")
    alarm_description: str | None = Field(default=None, alias="AlarmDescription")
    account: str = Field(alias="AWSAccountId")
    region_name: str | None = Field(default=None, alias="Region")
    new_state: AlarmState = Field(alias="NewStateValue")
    old_state: AlarmState | None = Field(default=None, alias="OldStateValue")
    reason: str = Field(default="", alias="NewStateReason")
    changed_at: AwsTimestamp = Field(alias="StateChangeTime")
    trigger: ClassicTrigger | None = Field(default=None, alias="Trigger")
    alarm_rule: str | None = Field(default=None, alias="AlarmRule")
    triggering_children: list[ClassicChild] = Field(default_factory=list, alias="TriggeringChildren")


class SnsNotification(Lenient):
    type: str = Field(alias="Type")
    message_id: str = Field(alias="MessageId", min_length=1)
    topic_arn: str = Field(default="", alias="TopicArn")
    message: str = Field(alias="Message")


def unwrap_lambda_sns_event(raw: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """A Lambda SNS event (`Records[0].Sns`) carries exactly one notification; returns it, or None."""
    records = raw.get("Records")
    if not isinstance(records, list) or len(records) != 1 or not isinstance(records[0], dict):
        return None
    notification = records[0].get("Sns")
    return notification if isinstance(notification, dict) else None


def wrapped_event(notification: SnsNotification) -> dict[str, Any] | None:
    """The EventBridge event an SNS notification carries as its message (an EventBridge rule whose target is an SNS
    topic publishes the event as JSON), or None when the message is something else."""
    try:
        message = json.loads(notification.message)
    except ValueError:
        return None
    return message if isinstance(message, dict) and "detail-type" in message and "detail" in message else None


def from_notification(notification: SnsNotification, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The alarm JSON inside an SNS notification; raises InvalidEvent when the message is something else."""
    try:
        message = json.loads(notification.message)
    except ValueError:
        raise InvalidEvent("SNS notification whose Message is not JSON: not a CloudWatch alarm") from None
    if not isinstance(message, dict) or not is_classic_alarm(message):
        raise InvalidEvent("SNS notification whose Message is not a CloudWatch alarm (no AlarmName/NewStateValue)")
    return message


def from_classic(
    alarm: ClassicAlarm, raw: Mapping[str, Any], *, message_id: str | None = None, topic_arn: str = ""
) -> NormalizedAlarm:
    arn = alarm.alarm_arn or _rebuild_arn(alarm, topic_arn)
    parsed_arn = parse_alarm_arn(arn)
    if parsed_arn is None:
        raise InvalidEvent(f"AlarmArn: {alarm_arn_problem(arn)}")
    metrics = _metrics(alarm.trigger)
    return NormalizedAlarm(
        alarm_name=alarm.alarm_name,
        alarm_arn=arn,
        account=parsed_arn.account,
        region=parsed_arn.region,
        partition=parsed_arn.partition,
        state=alarm.new_state,
        previous_state=alarm.old_state,
        reason=alarm.reason,
        changed_at=alarm.changed_at,
        kind=alarm_kind(metrics, alarm.alarm_rule),
        delivery=Delivery.SNS,
        description=alarm.alarm_description,
        metrics=metrics,
        alarm_rule=alarm.alarm_rule,
        triggering_alarm_arns=tuple(
            dict.fromkeys(
                child.arn
                for child in alarm.triggering_children
                if parse_alarm_arn(child.arn) and (child.state is None or child.state.value is AlarmState.ALARM)
            )
        ),
        event_id=message_id or f"{arn}@{alarm.changed_at.isoformat()}",
        raw_event=dict(raw),
    )


def _rebuild_arn(alarm: ClassicAlarm, topic_arn: str) -> str:
    region = _region_of_topic(topic_arn) or _REGION_BY_NAME.get(_letters(alarm.region_name or ""))
    if region is None or not is_region(region):
        raise InvalidEvent(
            f"no AlarmArn, and the region cannot be told from Region={str(alarm.region_name)[:60]!r} "
            f"or TopicArn={topic_arn[:120]!r}"
        )
    if not is_account(alarm.account):
        raise InvalidEvent(f"AWSAccountId: expected a 12-digit AWS account id, got {alarm.account[:40]!r}")
    return alarm_arn(partition_of_region(region), region, alarm.account, alarm.alarm_name)


def _region_of_topic(topic_arn: str) -> str | None:
    parts = topic_arn.split(":")
    return parts[3] if len(parts) > 5 and parts[2] == "sns" and is_region(parts[3]) else None


def _letters(text: str) -> str:
    return "".join(character for character in text.lower() if character.isalnum())


def _metrics(trigger: ClassicTrigger | None) -> tuple[AlarmMetric, ...]:
    if trigger is None:
        return ()
    if trigger.metrics:
        return tuple(_query_metric(metric) for metric in trigger.metrics)
    if trigger.namespace is None and trigger.metric_name is None:
        return ()
    return (
        AlarmMetric(
            namespace=trigger.namespace,
            metric_name=trigger.metric_name,
            dimensions={dimension.name: dimension.value for dimension in trigger.dimensions},
            stat=_STATISTICS.get(trigger.statistic or "", trigger.statistic) or trigger.extended_statistic,
            period_seconds=trigger.period,
        ),
    )


# SNS spells statistics in capitals ("SAMPLE_COUNT"); the console and the API spell them "SampleCount".
_STATISTICS = {
    "AVERAGE": "Average",
    "SUM": "Sum",
    "SAMPLE_COUNT": "SampleCount",
    "MINIMUM": "Minimum",
    "MAXIMUM": "Maximum",
}


def _query_metric(metric: ClassicMetric) -> AlarmMetric:
    stat = metric.metric_stat
    return AlarmMetric(
        id=metric.id,
        namespace=stat.metric.namespace if stat else None,
        metric_name=stat.metric.metric_name if stat else None,
        dimensions={d.name: d.value for d in stat.metric.dimensions} if stat else {},
        stat=stat.stat if stat else None,
        period_seconds=stat.period if stat else None,
        expression=metric.expression,
        label=metric.label,
        return_data=metric.return_data,
    )
