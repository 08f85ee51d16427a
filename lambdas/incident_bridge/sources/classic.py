"""The classic alarm JSON CloudWatch publishes to SNS (`AlarmName`, `NewStateValue`, `Trigger.Dimensions`),
bare (raw message delivery) or inside an SNS notification, or inside a Lambda SNS event."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

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
from incident_bridge.reader import Reader
from incident_bridge.sources.cloudwatch import alarm_kind
from incident_bridge.sources.payloads import is_classic_alarm, parse_aws_timestamp

M = TypeVar("M", "ClassicAlarm", "SnsNotification")


def validated(model: type[M], data: object) -> M:
    """`data` read as `model`; a refusal raises FieldError naming the field, which parse_event words."""
    return model.read(Reader(data))


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


# ---- the classic JSON, read declaratively on `Reader` (no pydantic on any alarm path) ----


def _dimensions(owner: Reader, key: str) -> dict[str, str]:
    """`[{"name": ..., "value": ...}]` (SNS spells these keys in lower case)."""
    return {item.string("name"): item.string("value") for item in owner.objects(key)}


@dataclass(frozen=True, kw_only=True)
class ClassicMetricStat:
    namespace: str | None
    metric_name: str | None
    dimensions: dict[str, str]
    period: int | None
    stat: str | None

    @classmethod
    def read(cls, stat: Reader) -> ClassicMetricStat:
        metric = stat.obj("Metric")
        return cls(
            namespace=metric.optional_string("Namespace"),
            metric_name=metric.optional_string("MetricName"),
            dimensions=_dimensions(metric, "Dimensions"),
            period=stat.optional_integer("Period"),
            stat=stat.optional_string("Stat"),
        )


@dataclass(frozen=True, kw_only=True)
class ClassicMetric:
    id: str | None
    expression: str | None
    label: str | None
    return_data: bool
    metric_stat: ClassicMetricStat | None

    @classmethod
    def read(cls, metric: Reader) -> ClassicMetric:
        stat = metric.optional_obj("MetricStat")
        return cls(
            id=metric.optional_string("Id"),
            expression=metric.optional_string("Expression"),
            label=metric.optional_string("Label"),
            return_data=metric.boolean("ReturnData", default=True),
            metric_stat=None if stat is None else ClassicMetricStat.read(stat),
        )


@dataclass(frozen=True, kw_only=True)
class ClassicTrigger:
    namespace: str | None
    metric_name: str | None
    dimensions: dict[str, str]
    statistic: str | None
    extended_statistic: str | None
    period: int | None
    metrics: tuple[ClassicMetric, ...]

    @classmethod
    def read(cls, trigger: Reader) -> ClassicTrigger:
        return cls(
            namespace=trigger.optional_string("Namespace"),
            metric_name=trigger.optional_string("MetricName"),
            dimensions=_dimensions(trigger, "Dimensions"),
            statistic=trigger.optional_string("Statistic"),
            extended_statistic=trigger.optional_string("ExtendedStatistic"),
            period=trigger.optional_integer("Period"),
            metrics=tuple(ClassicMetric.read(metric) for metric in trigger.objects("Metrics")),
        )


@dataclass(frozen=True, kw_only=True)
class ClassicChild:
    arn: str
    state: AlarmState | None

    @classmethod
    def read(cls, child: Reader) -> ClassicChild:
        state = child.optional_obj("State")
        return cls(arn=child.string("Arn"), state=None if state is None else state.choice("Value", AlarmState))


@dataclass(frozen=True, kw_only=True)
class ClassicAlarm:
    """The alarm JSON CloudWatch publishes to SNS; only the fields the bridge reads."""

    alarm_name: str
    alarm_arn: str | None
    alarm_description: str | None
    account: str
    region_name: str | None
    new_state: AlarmState
    old_state: AlarmState | None
    reason: str
    changed_at: datetime
    trigger: ClassicTrigger | None
    alarm_rule: str | None
    triggering_children: tuple[ClassicChild, ...]

    @classmethod
    def read(cls, alarm: Reader) -> ClassicAlarm:
        trigger = alarm.optional_obj("Trigger")
        return cls(
            alarm_name=alarm.string("AlarmName", min_length=1),
            alarm_arn=alarm.optional_string("AlarmArn"),
            alarm_description=alarm.optional_string("AlarmDescription"),
            account=alarm.string("AWSAccountId"),
            region_name=alarm.optional_string("Region"),
            new_state=alarm.choice("NewStateValue", AlarmState),
            old_state=alarm.optional_choice("OldStateValue", AlarmState),
            reason=alarm.optional_string("NewStateReason") or "",
            changed_at=alarm.convert("StateChangeTime", parse_aws_timestamp),
            trigger=None if trigger is None else ClassicTrigger.read(trigger),
            alarm_rule=alarm.optional_string("AlarmRule"),
            triggering_children=tuple(ClassicChild.read(child) for child in alarm.objects("TriggeringChildren")),
        )


@dataclass(frozen=True, kw_only=True)
class SnsNotification:
    """An SNS notification envelope (what a subscribed queue receives with raw delivery off)."""

    type: str
    message_id: str
    topic_arn: str
    message: str

    @classmethod
    def read(cls, notification: Reader) -> SnsNotification:
        return cls(
            type=notification.string("Type"),
            message_id=notification.string("MessageId", min_length=1),
            topic_arn=notification.optional_string("TopicArn") or "",
            message=notification.string("Message"),
        )


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
                if parse_alarm_arn(child.arn) and (child.state is None or child.state is AlarmState.ALARM)
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
            dimensions=trigger.dimensions,
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
        namespace=stat.namespace if stat else None,
        metric_name=stat.metric_name if stat else None,
        dimensions=stat.dimensions if stat else {},
        stat=stat.stat if stat else None,
        period_seconds=stat.period if stat else None,
        expression=metric.expression,
        label=metric.label,
        return_data=metric.return_data,
    )
