"""The normalized alarm: one typed shape for every way an alarm reaches the bridge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
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


@dataclass(frozen=True, kw_only=True)
class NormalizedAlarm:
    """Everything the routing and incident steps need, whatever the payload kind."""

    alarm_name: str
    alarm_arn: str
    account: str
    region: str
    partition: str
    state: AlarmState
    previous_state: AlarmState | None = None
    reason: str = ""
    changed_at: datetime
    kind: AlarmKind
    delivery: Delivery
    description: str | None = None
    metrics: tuple[AlarmMetric, ...] = ()
    alarm_rule: str | None = None
    triggering_alarm_arns: tuple[str, ...] = ()
    actions_suppressed_by: str | None = None
    actions_suppressed_reason: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    #: The CloudWatch alarm mute rule window the event was sent in (`detail.muteDetail`), if any.
    mute_window: MuteWindow | None = None
    #: When the event was sent (EventBridge `time`); a mute window is judged at this time.
    sent_at: datetime | None = None
    #: Identity of this delivery (EventBridge `id`, SNS `MessageId`, or alarm ARN + state time),
    #: the seed of the idempotent client token.
    event_id: str
    #: The payload as received, for `triggerDetails.rawData`. Not part of equality or logs.
    raw_event: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def resource_metrics(self) -> tuple[AlarmMetric, ...]:
        """Metrics that name resources (expressions carry no dimensions)."""
        return tuple(metric for metric in self.metrics if metric.namespace is not None)
