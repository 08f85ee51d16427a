"""Typed shapes of the alarm payloads AWS sends, validated leniently (unknown fields are ignored).

The EventBridge `detail` and the alarm action's `alarmData` carry the same inner structure, so one set of
models serves both. Field names follow AWS's JSON; only the fields the bridge reads are declared.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from incident_bridge.alarm import AlarmState


def parse_aws_timestamp(value: object) -> datetime:
    """CloudWatch writes `2019-10-02T17:04:40.989+0000`; EventBridge writes `2019-10-02T17:04:40Z`."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO-8601 timestamp: {value[:60]!r}") from None
    else:
        raise ValueError(f"expected an ISO-8601 timestamp string, got {type(value).__name__}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


AwsTimestamp = Annotated[datetime, BeforeValidator(parse_aws_timestamp)]


def is_classic_alarm(raw: Mapping[str, Any]) -> bool:
    """The alarm JSON CloudWatch publishes to SNS."""
    return "AlarmName" in raw and "NewStateValue" in raw


def is_sns_notification(raw: Mapping[str, Any]) -> bool:
    return raw.get("Type") == "Notification" and "Message" in raw


class Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class StatePayload(Lenient):
    value: AlarmState
    reason: str = ""
    reason_data: str | None = Field(default=None, alias="reasonData")
    timestamp: AwsTimestamp
    actions_suppressed_by: str | None = Field(default=None, alias="actionsSuppressedBy")
    actions_suppressed_reason: str | None = Field(default=None, alias="actionsSuppressedReason")


class MetricIdentity(Lenient):
    namespace: str | None = None
    name: str | None = None
    dimensions: dict[str, str] = Field(default_factory=dict)


class MetricStat(Lenient):
    metric: MetricIdentity
    period: int | None = None
    stat: str | None = None


class MetricPayload(Lenient):
    id: str | None = None
    metric_stat: MetricStat | None = Field(default=None, alias="metricStat")
    expression: str | None = None
    label: str | None = None
    return_data: bool = Field(default=True, alias="returnData")


class ConfigurationPayload(Lenient):
    description: str | None = None
    metrics: list[MetricPayload] = Field(default_factory=list)
    alarm_rule: str | None = Field(default=None, alias="alarmRule")


class AlarmDetailPayload(Lenient):
    alarm_name: str = Field(alias="alarmName", min_length=1)
    state: StatePayload
    previous_state: StatePayload | None = Field(default=None, alias="previousState")
    configuration: ConfigurationPayload = Field(default_factory=ConfigurationPayload)
    # Not in AWS's documented examples, but tag-aware deliveries carry it; routing reads it when present.
    alarm_tags: dict[str, str] = Field(default_factory=dict, validation_alias=AliasChoices("alarmTags", "tags"))


class EventBridgeEnvelope(Lenient):
    id: str = Field(min_length=1)
    detail_type: str = Field(alias="detail-type")
    source: str
    account: str
    time: AwsTimestamp
    region: str
    resources: list[str] = Field(default_factory=list)
    detail: dict[str, Any]


class AlarmStateChangeEvent(EventBridgeEnvelope):
    detail: AlarmDetailPayload  # type: ignore[assignment]  # narrowed for this detail-type


class AlarmActionEvent(Lenient):
    """What CloudWatch sends when an alarm invokes a Lambda function directly (no `detail-type`)."""

    source: str
    alarm_arn: str = Field(alias="alarmArn", min_length=1)
    account_id: str = Field(alias="accountId")
    time: AwsTimestamp
    region: str
    alarm_data: AlarmDetailPayload = Field(alias="alarmData")
