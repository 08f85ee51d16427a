"""The normalized alarm: one typed shape for every way an alarm reaches the bridge."""

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple

from incident_bridge.quiet.mute import MuteWindow


class AlarmState(StrEnum):
    ALARM = "ALARM"
    OK = "OK"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class AlarmKind(StrEnum):
    METRIC = "metric"
    METRIC_MATH = "metric-math"
    ANOMALY_DETECTION = "anomaly-detection"
    METRICS_INSIGHTS = "metrics-insights"
    COMPOSITE = "composite"


class Delivery(StrEnum):
    """How the alarm reached the bridge; kept for logs and the trigger source."""

    EVENTBRIDGE = "eventbridge"
    ALARM_ACTION = "alarm-action"
    SNS = "sns"


# Value types here are NamedTuples, not frozen dataclasses: a dataclass compiles its methods when the module is
# imported, several times a NamedTuple's cost, and these modules load on every cold start (README, Performance).
# Annotations are not postponed (no `from __future__ import annotations`): NamedTuple compiles each string one.
class AlarmMetric(NamedTuple):
    """One metric or expression of an alarm's query, as CloudWatch describes it."""

    id: str | None = None
    namespace: str | None = None
    metric_name: str | None = None
    dimensions: Mapping[str, str] = MappingProxyType({})
    stat: str | None = None
    period_seconds: int | None = None
    expression: str | None = None
    label: str | None = None
    return_data: bool = True


class NormalizedAlarm(NamedTuple):
    """Everything the routing and incident steps need, whatever the payload kind."""

    alarm_name: str
    alarm_arn: str
    account: str
    region: str
    partition: str
    state: AlarmState
    changed_at: datetime
    kind: AlarmKind
    delivery: Delivery
    #: Identity of this delivery (EventBridge `id`, SNS `MessageId`, or alarm ARN + state time),
    #: the seed of the idempotent client token.
    event_id: str
    #: The payload as received, for `triggerDetails.rawData`. Not part of equality (`__eq__`) or logs.
    raw_event: dict[str, Any]
    previous_state: AlarmState | None = None
    reason: str = ""
    description: str | None = None
    metrics: tuple[AlarmMetric, ...] = ()
    alarm_rule: str | None = None
    triggering_alarm_arns: tuple[str, ...] = ()
    actions_suppressed_by: str | None = None
    actions_suppressed_reason: str | None = None
    tags: Mapping[str, str] = MappingProxyType({})
    #: The CloudWatch alarm mute rule window the event was sent in (`detail.muteDetail`), if any.
    mute_window: MuteWindow | None = None
    #: When the event was sent (EventBridge `time`); a mute window is judged at this time.
    sent_at: datetime | None = None

    # One alarm transition delivered two ways (an SNS envelope and bare, say) is the same alarm: equality leaves
    # out the payload kept for rawData.
    def __eq__(self, other: object) -> bool:
        return isinstance(other, NormalizedAlarm) and self._compared() == other._compared()

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self._compared())

    def _compared(self) -> tuple[object, ...]:
        return tuple(value for name, value in zip(self._fields, self, strict=True) if name != "raw_event")

    @property
    def resource_metrics(self) -> tuple[AlarmMetric, ...]:
        """Metrics that name resources (expressions carry no dimensions)."""
        return tuple(metric for metric in self.metrics if metric.namespace is not None)
