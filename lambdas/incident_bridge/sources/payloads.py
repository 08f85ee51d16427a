"""Typed shapes of the alarm payloads AWS sends, read leniently (unknown fields are ignored).

The EventBridge `detail` and the alarm action's `alarmData` carry the same inner structure, so one reader serves
both. Field names follow AWS's JSON; only the fields the bridge reads are read. Reading is hand-written on
`Reader` rather than declared with pydantic: every alarm pays for the cold start, and pydantic's import and model
building would be most of it. A refused field raises FieldError, `<path>: <problem>`.
"""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple, Self, TypeVar

from incident_bridge.alarm import AlarmMetric, AlarmState
from incident_bridge.reader import Reader

T = TypeVar("T")

#: Stands in for an absent optional object: every optional read of it gives None or the default.
_ABSENT = Reader({})


class MalformedPayload(Exception):
    """A payload validated elsewhere (the SNS models) that does not have its kind's shape; `str()` names the
    field(s) and the problem(s), as FieldError does for the payloads read here."""


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


def is_classic_alarm(raw: Mapping[str, Any]) -> bool:
    """The alarm JSON CloudWatch publishes to SNS."""
    return "AlarmName" in raw and "NewStateValue" in raw


def is_sns_notification(raw: Mapping[str, Any]) -> bool:
    return raw.get("Type") == "Notification" and "Message" in raw


def is_application_event(raw: Mapping[str, Any]) -> bool:
    """An EventBridge event put by an application (any source that is not an AWS service)."""
    source = raw.get("source")
    return isinstance(source, str) and not source.startswith("aws.")


def _optional(parent: Reader, key: str, read: Callable[[Reader], T]) -> T | None:
    found = parent.optional_obj(key)
    return None if found is None else read(found)


def _unread_object(parent: Reader, key: str) -> dict[str, Any]:
    """An object checked to be one and kept as it is, for whoever reads it next."""
    parent.obj(key)  # refuses an absent, null or non-object value
    return dict(parent.raw(key))


# Value types here are NamedTuples, not frozen dataclasses: a dataclass compiles its methods when the module is
# imported, several times a NamedTuple's cost, and these modules load on every cold start (README, Performance).
# Annotations are not postponed (no `from __future__ import annotations`): NamedTuple compiles each string one.
class StatePayload(NamedTuple):
    """An alarm's `state` or `previousState`."""

    value: AlarmState
    reason: str
    reason_data: str | None
    timestamp: datetime
    actions_suppressed_by: str | None
    actions_suppressed_reason: str | None

    @classmethod
    def read(cls, state: Reader) -> Self:
        return cls(
            value=state.choice("value", AlarmState),
            reason=state.optional_string("reason") or "",
            reason_data=state.optional_string("reasonData"),
            timestamp=state.convert("timestamp", parse_aws_timestamp),
            actions_suppressed_by=state.optional_string("actionsSuppressedBy"),
            actions_suppressed_reason=state.optional_string("actionsSuppressedReason"),
        )


def read_metric(metric: Reader) -> AlarmMetric:
    """One entry of `configuration.metrics`: a metric (`metricStat`) or an expression."""
    metric_id = metric.optional_string("id")
    found = metric.optional_obj("metricStat")
    stat, identity = (found, found.obj("metric")) if found is not None else (_ABSENT, _ABSENT)
    return AlarmMetric(
        id=metric_id,
        namespace=identity.optional_string("namespace"),
        metric_name=identity.optional_string("name"),
        dimensions=identity.string_map("dimensions"),
        period_seconds=stat.optional_integer("period"),
        stat=stat.optional_string("stat"),
        expression=metric.optional_string("expression"),
        label=metric.optional_string("label"),
        return_data=metric.boolean("returnData", default=True),
    )


class AlarmDetailPayload(NamedTuple):
    """The EventBridge `detail` or the alarm action's `alarmData`, its `configuration` flattened in."""

    alarm_name: str
    state: StatePayload
    previous_state: StatePayload | None
    description: str | None
    metrics: tuple[AlarmMetric, ...]
    alarm_rule: str | None
    alarm_tags: dict[str, str]

    @classmethod
    def read(cls, detail: Reader) -> Self:
        # Of several faults, the first read is reported: name, state, previous state, then configuration and tags.
        alarm_name = detail.string("alarmName", min_length=1)
        state = StatePayload.read(detail.obj("state"))
        previous_state = _optional(detail, "previousState", StatePayload.read)
        configuration = detail.optional_obj("configuration") or _ABSENT
        return cls(
            alarm_name=alarm_name,
            state=state,
            previous_state=previous_state,
            description=configuration.optional_string("description"),
            metrics=tuple(read_metric(metric) for metric in configuration.objects("metrics")),
            alarm_rule=configuration.optional_string("alarmRule"),
            # Not in AWS's documented examples, but tag-aware deliveries carry it; routing reads it when present.
            alarm_tags=detail.string_map("alarmTags" if detail.has("alarmTags") else "tags"),
        )


class EventBridgeEnvelope(NamedTuple):
    """The fields every EventBridge event carries around its `detail`."""

    id: str
    detail_type: str
    source: str
    account: str
    time: datetime
    region: str
    resources: tuple[str, ...]
    detail: dict[str, Any]

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> Self:
        event = Reader(raw)
        return cls(
            id=event.string("id", min_length=1),
            detail_type=event.string("detail-type"),
            source=event.string("source"),
            account=event.string("account"),
            time=event.convert("time", parse_aws_timestamp),
            region=event.string("region"),
            resources=event.strings("resources"),
            detail=_unread_object(event, "detail"),
        )


class AlarmStateChangeEvent(NamedTuple):
    """An EventBridge `CloudWatch Alarm State Change`: the envelope, and its `detail` read as an alarm."""

    envelope: EventBridgeEnvelope
    alarm: AlarmDetailPayload

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> Self:
        envelope = EventBridgeEnvelope.read(raw)
        return cls(envelope=envelope, alarm=AlarmDetailPayload.read(Reader(raw).obj("detail")))


class AlarmActionEvent(NamedTuple):
    """What CloudWatch sends when an alarm invokes a Lambda function directly (no `detail-type`)."""

    source: str
    alarm_arn: str
    account_id: str
    time: datetime
    region: str
    alarm_data: AlarmDetailPayload

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> Self:
        event = Reader(raw)
        return cls(
            source=event.string("source"),
            alarm_arn=event.string("alarmArn", min_length=1),
            account_id=event.string("accountId"),
            time=event.convert("time", parse_aws_timestamp),
            region=event.string("region"),
            alarm_data=AlarmDetailPayload.read(event.obj("alarmData")),
        )


class ContributorStateChangeEvent(NamedTuple):
    """An EventBridge `CloudWatch Alarm Contributor State Change`: the alarm's detail plus the contributor (one time
    series of a Metrics Insights alarm), `alarmContributor.id` and its `attributes` (the query's GROUP BY values)."""

    envelope: EventBridgeEnvelope
    alarm: AlarmDetailPayload
    contributor_id: str
    attributes: dict[str, str]

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> Self:
        envelope = EventBridgeEnvelope.read(raw)
        detail = Reader(raw).obj("detail")
        contributor = detail.obj("alarmContributor")
        return cls(
            envelope=envelope,
            alarm=AlarmDetailPayload.read(detail),
            contributor_id=contributor.string("id", min_length=1),
            attributes=contributor.string_map("attributes"),
        )
