"""EventBridge alarm state changes and direct alarm-action payloads -> NormalizedAlarm; any alarm -> Signal.

Both payloads carry the same inner alarm structure (`detail` / `alarmData`); only the envelope differs. Every way an
alarm arrives (these two and the SNS classic JSON) ends in `alarm_signal`, so routing sees one vocabulary.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from incident_bridge.alarm import AlarmKind, AlarmMetric, AlarmState, Delivery, NormalizedAlarm
from incident_bridge.aws import (
    alarm_arn,
    alarm_arn_problem,
    alarm_console_url,
    console_url,
    is_account,
    is_incident_manager_arn,
    is_region,
    parse_alarm_arn,
    partition_of_region,
)
from incident_bridge.errors import InvalidEvent
from incident_bridge.resources import ResourceRef, involved_resources
from incident_bridge.signal import (
    InvolvedResource,
    Link,
    LinkRole,
    MetricQuery,
    NotActionable,
    RelatedThing,
    Signal,
    SignalStatus,
    Trigger,
    detail_labels,
    tag_labels,
    values,
)
from incident_bridge.sources.mute import mute_window_of
from incident_bridge.sources.payloads import (
    AlarmActionEvent,
    AlarmDetailPayload,
    AlarmStateChangeEvent,
    ContributorStateChangeEvent,
)

#: Shown as the incident's trigger source; `aws.` prefixes are reserved for AWS services.
TRIGGER_SOURCE = "incident-bridge.cloudwatch-alarm"
#: What routes see as an alarm's `source` and `detail_type`, whichever way it arrived.
ALARM_SOURCE = "aws.cloudwatch"
ALARM_DETAIL_TYPE = "CloudWatch Alarm State Change"
_DELIVERIES = {
    Delivery.EVENTBRIDGE: "EventBridge event (CloudWatch Alarm State Change)",
    Delivery.ALARM_ACTION: "alarm action (CloudWatch invoking the function directly)",
    Delivery.SNS: "SNS notification (classic alarm JSON)",
}


def from_eventbridge(event: AlarmStateChangeEvent, raw: Mapping[str, Any]) -> NormalizedAlarm:
    envelope, detail = event.envelope, event.alarm
    # `resources` holds the alarm ARN; fall back to building it from the envelope when absent.
    arn = next((r for r in envelope.resources if ":cloudwatch:" in r and ":alarm:" in r), None)
    if arn is None:
        _require_location(envelope.account, envelope.region)
        arn = alarm_arn(partition_of_region(envelope.region), envelope.region, envelope.account, detail.alarm_name)
    alarm = _normalize(detail, arn, envelope.id, Delivery.EVENTBRIDGE, raw)
    return alarm._replace(mute_window=mute_window_of(raw.get("detail")), sent_at=envelope.time)


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


# ---- the alarm as a Signal ----


def alarm_signal(alarm: NormalizedAlarm) -> Signal | NotActionable:
    """The alarm as routing sees it; INSUFFICIENT_DATA and suppressed ALARMs are not actionable."""
    payload = f"{_DELIVERIES[alarm.delivery]}, {alarm.kind.value} alarm, state {alarm.state.value}"
    if alarm.state is AlarmState.INSUFFICIENT_DATA:
        return NotActionable(
            f"alarm {alarm.alarm_name} is INSUFFICIENT_DATA: missing data neither opens nor resolves incidents",
            name=alarm.alarm_name,
            payload=payload,
        )
    if alarm.state is AlarmState.ALARM and alarm.actions_suppressed_by:
        # A composite alarm's suppressor (e.g. a maintenance alarm) silences its actions; so do we.
        detail = f": {alarm.actions_suppressed_reason}" if alarm.actions_suppressed_reason else ""
        return NotActionable(
            f"alarm {alarm.alarm_name} is in ALARM but its actions are suppressed by "
            f"{alarm.actions_suppressed_by}{detail}",
            name=alarm.alarm_name,
            payload=payload,
        )
    metrics = alarm.resource_metrics
    found = {
        "alarm_name": (alarm.alarm_name,),
        "alarm_arn": (alarm.alarm_arn,),
        "account": (alarm.account,),
        "region": (alarm.region,),
        "state": (alarm.state.value,),
        "kind": (alarm.kind.value,),
        "reason": values([alarm.reason]),
        "description": values([alarm.description]),
        "namespace": values(metric.namespace for metric in metrics),
        "metric_name": values(metric.metric_name for metric in metrics),
    }
    labels: dict[str, tuple[str, ...]] = {name: given for name, given in found.items() if given}
    for name in dict.fromkeys(name for metric in metrics for name in metric.dimensions):
        labels[f"dimension:{name}"] = values(metric.dimensions.get(name) for metric in metrics)
    labels.update(tag_labels(alarm.tags))
    labels.update({"source": (ALARM_SOURCE,), "detail_type": (ALARM_DETAIL_TYPE,)})
    raw_detail = alarm.raw_event.get("detail")
    if alarm.delivery is Delivery.EVENTBRIDGE and isinstance(raw_detail, dict):
        labels.update(detail_labels(raw_detail))  # `detail` matchers read an EventBridge alarm's detail too
    recovering = alarm.state is AlarmState.OK
    return Signal(
        name=alarm.alarm_name,
        noun="alarm",
        event_id=alarm.event_id,
        status=SignalStatus.RECOVERING if recovering else SignalStatus.FIRING,
        state=alarm.state.value,
        state_time=alarm.changed_at,
        labels=labels,
        member=alarm.alarm_arn,
        default_group=f"alarm_arn={alarm.alarm_arn}",
        reason=alarm.reason,
        trigger=Trigger(
            source=TRIGGER_SOURCE,
            arn=alarm.alarm_arn if is_incident_manager_arn(alarm.alarm_arn) else None,
            token_parts=(alarm.alarm_arn, alarm.state.value, alarm.changed_at.isoformat(), alarm.event_id),
        ),
        related=_related(alarm),
        references=(alarm.alarm_arn,),
        tags_of=alarm.alarm_arn,
        mute_window=alarm.mute_window,
        sent_at=alarm.sent_at,
        payload=payload,
        raw_event=alarm.raw_event,
    )


def _related(alarm: NormalizedAlarm) -> tuple[RelatedThing, ...]:
    """Most useful first, so Incident Manager's cap of 100 items drops the least useful."""
    related: list[RelatedThing] = [
        Link(
            title=f"CloudWatch alarm {alarm.alarm_name}",
            url=alarm_console_url(alarm.partition, alarm.region, alarm.alarm_name),
            role=LinkRole.ORIGIN,
        )
    ]
    if alarm.metrics:
        # One chart of the alarm's whole query; a composite alarm has no metrics of its own.
        related.append(MetricQuery(region=alarm.region, title=alarm.alarm_name, metrics=alarm.metrics))
    for metric in alarm.resource_metrics:
        refs = involved_resources(
            metric.namespace or "",
            metric.dimensions,
            partition=alarm.partition,
            account=alarm.account,
            region=alarm.region,
        )
        related.extend(_resource(alarm, ref) for ref in refs)
    for arn in alarm.triggering_alarm_arns:
        child = parse_alarm_arn(arn)
        if child is not None and is_incident_manager_arn(arn):
            related.append(InvolvedResource(arn=arn, title=f"Triggering alarm {child.alarm_name}"))
    return tuple(related)


def _resource(alarm: NormalizedAlarm, ref: ResourceRef) -> RelatedThing:
    if ref.arn is not None:
        return InvolvedResource(arn=ref.arn, title=ref.title)
    # No ARN without an API lookup: say so, and point at a console search instead of inventing one.
    note = f" ({ref.note})" if ref.note else " (ARN needs a lookup)"
    search = console_url(alarm.partition, alarm.region, "cloudwatch/home", f"metricsV2?search={quote(ref.title)}")
    return Link(title=ref.title + note, url=search)


# ---- a contributor of a Metrics Insights alarm ----

# The namespace a Metrics Insights query reads: `FROM "AWS/DynamoDB"` or `FROM SCHEMA("AWS/DynamoDB", TableName)`
# (CloudWatch User Guide, Metrics Insights query components and syntax).
#: Compiled on first use (re's cache), not at import: only Metrics Insights contributor events need it.
_QUERY_NAMESPACE = r"(?i)\bFROM\s+(?:SCHEMA\(\s*)?\"?([A-Za-z0-9/_.#:-]+)\"?"


def contributor_signal(event: ContributorStateChangeEvent, raw: Mapping[str, Any]) -> Signal | NotActionable:
    """One time series of a multi-time-series alarm: it joins its alarm's group (same default group) as a member
    of its own, with its own resource; its OK recovers that member."""
    alarm = from_eventbridge(AlarmStateChangeEvent(envelope=event.envelope, alarm=event.alarm), raw)._replace(
        # Contributors of one alarm change state at one timestamp; the contributor is what tells them apart.
        event_id=event.envelope.id,
    )
    signal = alarm_signal(alarm)
    if isinstance(signal, NotActionable):
        return signal
    shown = ", ".join(f"{name}={value}" for name, value in event.attributes.items()) or event.contributor_id
    namespaces = [
        match[1] for metric in alarm.metrics for match in re.finditer(_QUERY_NAMESPACE, metric.expression or "")
    ]
    resources = [
        _resource(alarm, ref)
        for namespace in dict.fromkeys(namespaces)
        for ref in involved_resources(
            namespace, event.attributes, partition=alarm.partition, account=alarm.account, region=alarm.region
        )
    ]
    labels = {
        **signal.labels,
        "contributor_id": (event.contributor_id,),
        **{f"dimension:{name}": (value,) for name, value in event.attributes.items()},
    }
    if namespaces:
        labels["namespace"] = tuple(dict.fromkeys(namespaces))
    return signal._replace(
        name=f"{alarm.alarm_name} [{shown}]",
        noun="alarm contributor",
        labels=labels,
        member=f"{alarm.alarm_arn}#contributor/{event.contributor_id}",
        related=(*signal.related, *resources),
        trigger=signal.trigger._replace(token_parts=(*signal.trigger.token_parts, event.contributor_id)),
    )
