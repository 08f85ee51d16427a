"""EventBridge alarm state changes and direct alarm-action payloads -> NormalizedAlarm.

Both carry the same inner alarm structure (`detail` / `alarmData`); only the envelope differs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from incident_bridge.alarm import AlarmKind, AlarmMetric, Delivery, NormalizedAlarm
from incident_bridge.arns import (
    alarm_arn,
    alarm_arn_problem,
    is_account,
    is_region,
    parse_alarm_arn,
    partition_of_region,
)
from incident_bridge.errors import InvalidEvent
from incident_bridge.sources.payloads import AlarmActionEvent, AlarmDetailPayload, AlarmStateChangeEvent


def from_eventbridge(event: AlarmStateChangeEvent, raw: Mapping[str, Any]) -> NormalizedAlarm:
    envelope, detail = event.envelope, event.alarm
    # `resources` holds the alarm ARN; fall back to building it from the envelope when absent.
    arn = next((r for r in envelope.resources if ":cloudwatch:" in r and ":alarm:" in r), None)
    if arn is None:
        _require_location(envelope.account, envelope.region)
        arn = alarm_arn(partition_of_region(envelope.region), envelope.region, envelope.account, detail.alarm_name)
    return _normalize(detail, arn, envelope.id, Delivery.EVENTBRIDGE, raw)


def from_alarm_action(event: AlarmActionEvent, raw: Mapping[str, Any]) -> NormalizedAlarm:
    # No event id in this payload: the alarm ARN plus the state time identifies one transition.
    event_id = f"{event.alarm_arn}@{event.alarm_data.state.timestamp.isoformat()}"
    return _normalize(event.alarm_data, event.alarm_arn, event_id, Delivery.ALARM_ACTION, raw)


def _require_location(account: str, region: str) -> None:
    if not is_account(account):
        raise InvalidEvent(f"account: expected a 12-digit AWS account id, got {account[:40]!r}")
    if not is_region(region):
        raise InvalidEvent(f"region: expected an AWS region code, got {region[:40]!r}")


def _normalize(
    detail: AlarmDetailPayload, arn: str, event_id: str, delivery: Delivery, raw: Mapping[str, Any]
) -> NormalizedAlarm:
    parsed_arn = parse_alarm_arn(arn)
    if parsed_arn is None:
        raise InvalidEvent(alarm_arn_problem(arn))
    return NormalizedAlarm(
        alarm_name=detail.alarm_name,
        alarm_arn=arn,
        account=parsed_arn.account,
        region=parsed_arn.region,
        partition=parsed_arn.partition,
        state=detail.state.value,
        previous_state=detail.previous_state.value if detail.previous_state else None,
        reason=detail.state.reason,
        changed_at=detail.state.timestamp,
        kind=alarm_kind(detail.metrics, detail.alarm_rule),
        delivery=delivery,
        description=detail.description,
        metrics=detail.metrics,
        alarm_rule=detail.alarm_rule,
        triggering_alarm_arns=triggering_alarm_arns(detail.state.reason_data),
        actions_suppressed_by=detail.state.actions_suppressed_by,
        actions_suppressed_reason=detail.state.actions_suppressed_reason,
        tags=detail.alarm_tags,
        event_id=event_id,
        raw_event=dict(raw),
    )


def alarm_kind(metrics: tuple[AlarmMetric, ...], alarm_rule: str | None) -> AlarmKind:
    if alarm_rule:
        return AlarmKind.COMPOSITE
    expressions = [m.expression.strip() for m in metrics if m.expression]
    if any("ANOMALY_DETECTION_BAND" in e.upper() for e in expressions):
        return AlarmKind.ANOMALY_DETECTION
    if any(e.upper().startswith("SELECT ") for e in expressions):
        return AlarmKind.METRICS_INSIGHTS
    if expressions:
        return AlarmKind.METRIC_MATH
    return AlarmKind.METRIC


def triggering_alarm_arns(reason_data: str | None) -> tuple[str, ...]:
    """Composite alarms list the children that tripped them in `reasonData.triggeringAlarms`."""
    if not reason_data:
        return ()
    try:
        parsed = json.loads(reason_data)
    except ValueError:
        return ()  # reasonData is informative only; a malformed one must not reject the alarm
    children = parsed.get("triggeringAlarms") if isinstance(parsed, dict) else None
    if not isinstance(children, list):
        return ()
    arns = (child.get("arn") for child in children if isinstance(child, dict))
    return tuple(dict.fromkeys(arn for arn in arns if isinstance(arn, str) and parse_alarm_arn(arn)))
