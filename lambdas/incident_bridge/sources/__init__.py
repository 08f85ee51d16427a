"""Recognizes each payload kind and parses it into a NormalizedAlarm, or says why it is not actionable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from incident_bridge.alarm import NormalizedAlarm
from incident_bridge.custom import CustomIncident
from incident_bridge.errors import InvalidEvent
from incident_bridge.heartbeats import FORWARDER_SOURCE, Heartbeat
from incident_bridge.reader import FieldError
from incident_bridge.sources import cloudwatch, forwarder
from incident_bridge.sources.payloads import (
    AlarmActionEvent,
    AlarmStateChangeEvent,
    EventBridgeEnvelope,
    MalformedPayload,
    is_application_event,
    is_classic_alarm,
    is_sns_notification,
)

ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"
ALARM_CONFIGURATION_CHANGE = "CloudWatch Alarm Configuration Change"


@dataclass(frozen=True)
class NotActionable:
    """A well-formed event the bridge deliberately routes nowhere."""

    reason: str


@dataclass(frozen=True)
class Housekeeping(NotActionable):
    """The organization intake's own traffic: routed nowhere, but the bridge keeps its books with it (a forwarder's
    heartbeat is recorded; the silence check may open or resolve `forwarder-silent` incidents)."""

    item: Heartbeat | forwarder.ForwarderCheck


ParsedEvent = NormalizedAlarm | CustomIncident | NotActionable


def parse_event(raw: object) -> ParsedEvent:
    """Raises InvalidEvent with the failing field when the payload is not one the bridge understands."""
    if not isinstance(raw, Mapping):
        raise InvalidEvent(f"expected a JSON object, got {type(raw).__name__}")
    try:
        return _dispatch(raw)
    except (FieldError, MalformedPayload) as error:
        raise InvalidEvent(f"{_kind(raw)} payload is malformed: {error}") from None


def _dispatch(raw: Mapping[str, Any]) -> ParsedEvent:
    if "detail-type" in raw:
        detail_type = raw.get("detail-type")
        if detail_type == ALARM_STATE_CHANGE and raw.get("source") == "aws.cloudwatch":
            return cloudwatch.from_eventbridge(AlarmStateChangeEvent.read(raw), raw)
        if detail_type == ALARM_CONFIGURATION_CHANGE:
            return NotActionable("alarm configuration change: only state changes open incidents")
        if forwarder.is_scheduled_event(raw):
            heartbeat = forwarder.heartbeat_of(raw)
            if isinstance(heartbeat, str):
                return NotActionable(heartbeat)
            return Housekeeping(f"heartbeat of forwarder {heartbeat.forwarder}: recorded, never paged", heartbeat)
        if is_application_event(raw):
            return _dispatch_application(raw)
        raise InvalidEvent(
            f"not a CloudWatch alarm state change or a custom incident event: "
            f"source={str(raw.get('source'))[:80]!r}, detail-type={str(detail_type)[:80]!r}"
        )
    if "alarmData" in raw:
        return cloudwatch.from_alarm_action(AlarmActionEvent.read(raw), raw)
    if forwarder.is_task(raw):
        return Housekeeping("the silent-forwarder check", forwarder.task_of(raw))
    if is_sns_notification(raw) or is_classic_alarm(raw) or "Records" in raw:
        return _dispatch_classic(raw)
    raise _unrecognized(raw)


def _dispatch_application(raw: Mapping[str, Any]) -> CustomIncident:
    envelope = EventBridgeEnvelope.read(raw)
    if envelope.source == FORWARDER_SOURCE:
        # The bridge's own silent-forwarder incidents take this source; an application (a member account's,
        # through the intake bus) must not raise one in its name.
        raise InvalidEvent(f"custom event source {FORWARDER_SOURCE!r} is reserved for the bridge's own incidents")
    # Imported on first use: the custom detail's schema is a pydantic model, which alarms need not load.
    from incident_bridge.sources import application

    return application.from_application_event(envelope, raw)


def _dispatch_classic(raw: Mapping[str, Any]) -> ParsedEvent:
    # Imported on first use: only teams that fan alarms out through SNS pay for these (pydantic) models.
    from incident_bridge.sources import classic

    if is_sns_notification(raw):
        notification = classic.validated(classic.SnsNotification, raw)
        message = classic.from_notification(notification, raw)
        return classic.from_classic(
            classic.validated(classic.ClassicAlarm, message),
            raw,
            message_id=notification.message_id,
            topic_arn=notification.topic_arn,
        )
    if is_classic_alarm(raw):
        return classic.from_classic(classic.validated(classic.ClassicAlarm, raw), raw)
    lambda_sns = classic.unwrap_lambda_sns_event(raw)
    if lambda_sns is not None:
        return _dispatch(lambda_sns)
    raise _unrecognized(raw)


def _unrecognized(raw: Mapping[str, Any]) -> InvalidEvent:
    keys = ", ".join(sorted(str(key) for key in raw)[:8]) or "none"
    return InvalidEvent(
        "unrecognized payload: not an EventBridge event, alarm action, SNS notification or classic alarm "
        f"(top-level keys: {keys})"
    )


def _kind(raw: Mapping[str, Any]) -> str:
    if "detail-type" in raw:
        return f"EventBridge {str(raw.get('detail-type'))[:60]!r}"
    if "alarmData" in raw:
        return "alarm action"
    if is_sns_notification(raw):
        return "SNS notification"
    return "classic alarm" if is_classic_alarm(raw) else "event"
