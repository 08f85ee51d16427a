"""Recognizes each payload kind and turns it into one Signal, or says why it is not actionable.

`parse_payload` reads a payload into its kind's own value (a NormalizedAlarm, or already a Signal); `parse_event`
is what the rest of the bridge calls, and all it ever gets back is a Signal or NotActionable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from incident_bridge.alarm import NormalizedAlarm
from incident_bridge.errors import InvalidEvent
from incident_bridge.intake import FORWARDER_SOURCE
from incident_bridge.reader import FieldError
from incident_bridge.signal import NotActionable, Signal
from incident_bridge.sources import cloudwatch, forwarder
from incident_bridge.sources.forwarder import ForwarderCheck
from incident_bridge.sources.payloads import (
    AlarmActionEvent,
    AlarmStateChangeEvent,
    ContributorStateChangeEvent,
    EventBridgeEnvelope,
    MalformedPayload,
    is_application_event,
    is_classic_alarm,
    is_sns_notification,
)

if TYPE_CHECKING:
    from incident_bridge.heartbeats import Heartbeat

ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"
ALARM_CONFIGURATION_CHANGE = "CloudWatch Alarm Configuration Change"
#: One per contributor of a Metrics Insights alarm over several time series (CloudWatch User Guide, "Alarm events
#: and EventBridge"): always understood with alarms, as every alarm shape is.
CONTRIBUTOR_STATE_CHANGE = "CloudWatch Alarm Contributor State Change"

__all__ = ["NotActionable", "Signal", "housekeeping", "parse_event", "parse_payload"]

ParsedEvent = NormalizedAlarm | Signal | NotActionable


def parse_event(raw: object, aws_events: frozenset[str] = frozenset()) -> Signal | NotActionable:
    """Raises InvalidEvent with the failing field when the payload is not one the bridge understands.

    `aws_events` names the enabled service-event profiles (sources/profiles.py); an event of another profile is
    ignored, not rejected."""
    parsed = parse_payload(raw, aws_events)
    if isinstance(parsed, NormalizedAlarm):
        return cloudwatch.alarm_signal(parsed)
    return parsed


def housekeeping(raw: object) -> Heartbeat | ForwarderCheck | None:
    """The organization intake's own traffic, which the bridge keeps its books with instead of routing it: a
    forwarder's heartbeat, or the scheduled silence check. None for every other payload. Raises InvalidEvent for
    a malformed one (a heartbeat whose rule is not its account's, an unknown task)."""
    if not isinstance(raw, Mapping):
        return None
    try:
        if forwarder.is_scheduled_event(raw):
            heartbeat = forwarder.heartbeat_of(raw)
            return None if isinstance(heartbeat, str) else heartbeat
        if "detail-type" not in raw and forwarder.is_task(raw):
            return forwarder.task_of(raw)
    except FieldError as error:
        raise InvalidEvent(f"{_kind(raw)} payload is malformed: {error}") from None
    return None


def parse_payload(raw: object, aws_events: frozenset[str] = frozenset()) -> ParsedEvent:
    """The payload read as its kind's own value (alarms keep every detail of their payload here)."""
    if not isinstance(raw, Mapping):
        raise InvalidEvent(f"expected a JSON object, got {type(raw).__name__}")
    try:
        return _dispatch(raw, aws_events)
    except (FieldError, MalformedPayload) as error:
        raise InvalidEvent(f"{_kind(raw)} payload is malformed: {error}") from None


def _dispatch(raw: Mapping[str, Any], aws_events: frozenset[str]) -> ParsedEvent:
    if "detail-type" in raw:
        return _dispatch_eventbridge(raw, aws_events)
    if "alarmData" in raw:
        return cloudwatch.from_alarm_action(AlarmActionEvent.read(raw), raw)
    if forwarder.is_task(raw):
        forwarder.task_of(raw)  # refuses an unknown task
        return NotActionable("the silent-forwarder check: routed nowhere itself", payload="incident-bridge task")
    if is_sns_notification(raw) or is_classic_alarm(raw) or "Records" in raw:
        return _dispatch_classic(raw, aws_events)
    raise _unrecognized(raw)


def _dispatch_eventbridge(raw: Mapping[str, Any], aws_events: frozenset[str]) -> ParsedEvent:
    detail_type, source = raw.get("detail-type"), raw.get("source")
    if source == "aws.cloudwatch" and detail_type == ALARM_STATE_CHANGE:
        return cloudwatch.from_eventbridge(AlarmStateChangeEvent.read(raw), raw)
    if source == "aws.cloudwatch" and detail_type == CONTRIBUTOR_STATE_CHANGE:
        return cloudwatch.contributor_signal(ContributorStateChangeEvent.read(raw), raw)
    if detail_type == ALARM_CONFIGURATION_CHANGE:
        return NotActionable("alarm configuration change: only state changes open incidents")
    if forwarder.is_scheduled_event(raw):
        # A forwarder's heartbeat is never routed; the bridge records it (see `housekeeping`).
        return NotActionable(forwarder.describe_scheduled(raw), payload="EventBridge scheduled event")
    if is_application_event(raw):
        return _dispatch_application(raw)
    # Imported on first use: alarms, the events every bridge gets, need no service profile.
    from incident_bridge.sources.profiles import profile_for, service_signal

    profile = profile_for(str(source), str(detail_type))
    if profile is None:
        raise InvalidEvent(
            "not a CloudWatch alarm state change, a custom incident event or an AWS service event the bridge has "
            f"a profile for: source={str(source)[:80]!r}, detail-type={str(detail_type)[:80]!r}"
        )
    if profile.name not in aws_events:
        return NotActionable(f"profile {profile.name} is not enabled (configuration key aws_events)")
    return service_signal(profile, EventBridgeEnvelope.read(raw), raw)


def _dispatch_application(raw: Mapping[str, Any]) -> Signal:
    envelope = EventBridgeEnvelope.read(raw)
    if envelope.source == FORWARDER_SOURCE:
        # The bridge's own silent-forwarder signals carry this source; an application (a member account's,
        # through the intake bus) must not raise one in its name.
        raise InvalidEvent(f"custom event source {FORWARDER_SOURCE!r} is reserved for the bridge's own incidents")
    # Imported on first use: alarms need neither the custom detail's declaration nor its reading.
    from incident_bridge.sources import application

    return application.from_application_event(envelope, raw)


def _dispatch_classic(raw: Mapping[str, Any], aws_events: frozenset[str]) -> ParsedEvent:
    # Imported on first use: only teams that fan alarms out through SNS read the classic JSON.
    from incident_bridge.sources import classic

    if is_sns_notification(raw):
        notification = classic.validated(classic.SnsNotification, raw)
        wrapped = classic.wrapped_event(notification)
        if wrapped is not None:
            # An EventBridge rule with an SNS target: the message is the event itself, read as if it came direct.
            return _dispatch_eventbridge(wrapped, aws_events)
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
        return _dispatch(lambda_sns, aws_events)
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
