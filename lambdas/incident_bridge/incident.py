"""Builds the Incident Manager request for one alarm, within the API's limits.

Limits come from botocore's ssm-incidents model (title 200, rawData 10,000, source 50, 100 related items,
related-item title 200, metricDefinition 4,000, Arn pattern) plus the service rule that trigger sources
starting with `aws.` are reserved for AWS. Lengths are counted in UTF-16 code units, as the service does.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar
from urllib.parse import quote

from incident_bridge.alarm import AlarmMetric, NormalizedAlarm
from incident_bridge.arns import alarm_console_url, console_url, is_incident_manager_arn, parse_alarm_arn
from incident_bridge.config import RelatedUrl
from incident_bridge.custom import CustomIncident
from incident_bridge.resources import ResourceRef, involved_resources
from incident_bridge.routing import RouteDecision, Subject

TITLE_MAX = 200
RAW_DATA_MAX = 10_000
SOURCE_MAX = 50
RELATED_ITEMS_MAX = 100
ITEM_TITLE_MAX = 200
METRIC_DEFINITION_MAX = 4_000
URL_MAX = 1_000
EVENT_DATA_MAX = 12_000
EVENT_REFERENCES_MAX = 10
# Shown as the incident's trigger source; `aws.` prefixes are reserved for AWS services.
TRIGGER_SOURCE = "incident-bridge.cloudwatch-alarm"
CUSTOM_TRIGGER_SOURCE = "incident-bridge.custom"


class ItemType(StrEnum):
    INVOLVED_RESOURCE = "INVOLVED_RESOURCE"
    METRIC = "METRIC"
    OTHER = "OTHER"


@dataclass(frozen=True, kw_only=True)
class RelatedItem:
    """One related item of an incident: a resource ARN, a URL or a metric definition, with its title."""

    item_type: ItemType
    title: str
    arn: str | None = None
    url: str | None = None
    metric_definition: str | None = None

    @property
    def identity(self) -> tuple[str, str]:
        """Incident Manager identifies an item by type and value; two items with one identity are duplicates."""
        return (self.item_type.value, self.arn or self.url or self.metric_definition or "")

    def to_params(self) -> dict[str, Any]:
        value = {"arn": self.arn, "url": self.url, "metricDefinition": self.metric_definition}
        return {
            "title": self.title,
            "identifier": {
                "type": self.item_type.value,
                "value": {key: item for key, item in value.items() if item is not None},
            },
        }


@dataclass(frozen=True, kw_only=True)
class StartIncidentRequest:
    """A StartIncident call, already within the API's limits."""

    response_plan_arn: str
    title: str
    impact: int
    client_token: str
    trigger_source: str
    trigger_timestamp: datetime
    trigger_arn: str | None
    raw_data: str
    related_items: tuple[RelatedItem, ...]

    def to_params(self) -> dict[str, Any]:
        """The exact keyword arguments for boto3's `start_incident`."""
        trigger: dict[str, Any] = {
            "source": self.trigger_source,
            "timestamp": self.trigger_timestamp,
            "rawData": self.raw_data,
        }
        if self.trigger_arn is not None:
            trigger["triggerArn"] = self.trigger_arn
        return {
            "clientToken": self.client_token,
            "responsePlanArn": self.response_plan_arn,
            "title": self.title,
            "impact": self.impact,
            "triggerDetails": trigger,
            "relatedItems": [item.to_params() for item in self.related_items],
        }


@dataclass(frozen=True, kw_only=True)
class UpdateRelatedItemsRequest:
    """Adds one item to an open incident (the API takes one item per call)."""

    operation: ClassVar[str] = "UpdateRelatedItems"

    incident_arn: str
    item: RelatedItem
    client_token: str

    def to_params(self) -> dict[str, Any]:
        return {
            "clientToken": self.client_token,
            "incidentRecordArn": self.incident_arn,
            "relatedItemsUpdate": {"itemToAdd": self.item.to_params()},
        }


@dataclass(frozen=True, kw_only=True)
class TimelineEventRequest:
    """A note on an open incident's timeline (CreateTimelineEvent)."""

    operation: ClassVar[str] = "CreateTimelineEvent"

    incident_arn: str
    event_time: datetime
    text: str
    client_token: str
    resource_arns: tuple[str, ...] = ()

    def to_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "clientToken": self.client_token,
            "incidentRecordArn": self.incident_arn,
            "eventTime": self.event_time,
            # Incident Manager's "Custom Event" type takes its text as a JSON string.
            "eventType": "Custom Event",
            "eventData": json.dumps(fit(self.text, EVENT_DATA_MAX - 100), ensure_ascii=False),
        }
        references = [arn for arn in self.resource_arns if is_incident_manager_arn(arn)][:EVENT_REFERENCES_MAX]
        if references:
            params["eventReferences"] = [{"resource": arn} for arn in references]
        return params


@dataclass(frozen=True, kw_only=True)
class IncidentStatusRequest:
    """Resolves (or reopens) an incident."""

    operation: ClassVar[str] = "UpdateIncidentRecord"

    incident_arn: str
    status: str
    client_token: str

    def to_params(self) -> dict[str, Any]:
        return {"arn": self.incident_arn, "clientToken": self.client_token, "status": self.status}


def token(*parts: str) -> str:
    """A deterministic client token: the same logical call always carries the same token."""
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def build_start_incident(subject: Subject, decision: RouteDecision) -> StartIncidentRequest:
    if isinstance(subject, CustomIncident):
        return _custom_request(subject, decision)
    alarm = subject
    return StartIncidentRequest(
        response_plan_arn=decision.response_plan_arn,
        title=fit(decision.title, TITLE_MAX) or fit(alarm.alarm_name, TITLE_MAX),
        impact=decision.impact,
        client_token=client_token(alarm, decision.route_name),
        trigger_source=TRIGGER_SOURCE,
        trigger_timestamp=alarm.changed_at,
        trigger_arn=alarm.alarm_arn if is_incident_manager_arn(alarm.alarm_arn) else None,
        raw_data=compact_raw_data(alarm.raw_event),
        related_items=_unique_capped([*_url_items(decision.related_urls), *related_items(alarm)]),
    )


def _custom_request(event: CustomIncident, decision: RouteDecision) -> StartIncidentRequest:
    request = event.request
    source = request.source or (
        event.source if len(event.source) <= SOURCE_MAX and not event.source.startswith("aws.") else None
    )
    resources = [
        RelatedItem(item_type=ItemType.INVOLVED_RESOURCE, title=fit(_arn_title(arn), ITEM_TITLE_MAX), arn=arn)
        for arn in event.resource_arns
        if is_incident_manager_arn(arn)
    ]
    identity = request.dedupe_key or event.event_id
    return StartIncidentRequest(
        response_plan_arn=decision.response_plan_arn,
        title=fit(decision.title, TITLE_MAX) or fit(request.title, TITLE_MAX),
        impact=decision.impact,
        client_token=token("custom", event.source, identity, decision.route_name),
        trigger_source=source or CUSTOM_TRIGGER_SOURCE,
        trigger_timestamp=event.time,
        trigger_arn=None,
        raw_data=compact_raw_data(event.raw_event),
        related_items=_unique_capped([*_url_items(decision.related_urls), *resources]),
    )


def _arn_title(arn: str) -> str:
    parts = arn.split(":", 5)
    return f"{parts[2]} {parts[5]}" if len(parts) == 6 else arn


def _url_items(urls: Iterable[RelatedUrl]) -> list[RelatedItem]:
    return [RelatedItem(item_type=ItemType.OTHER, title=fit(url.title, ITEM_TITLE_MAX), url=url.url) for url in urls]


def client_token(alarm: NormalizedAlarm, route_name: str = "default") -> str:
    """Same delivery (and route) -> same token, so a redelivered event cannot open a second incident.

    botocore would otherwise fill a random token on every call.
    """
    return token(alarm.alarm_arn, alarm.state.value, alarm.changed_at.isoformat(), alarm.event_id, route_name)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int) -> str:
    """Trims to the limit with an ellipsis, never splitting a surrogate pair."""
    if utf16_length(text) <= limit:
        return text
    trimmed = text[: limit - 1]
    while utf16_length(trimmed) > limit - 1:
        trimmed = trimmed[:-1]
    return trimmed + "…"


# ---- rawData: the event as compact JSON, shrunk by dropping bulky parts, never by cutting the string ----

_BULKY_REASON_KEYS = (
    "recentDatapoints",
    "evaluatedDatapoints",
    "recentUpperBoundaryDatapoints",
    "recentLowerBoundaryDatapoints",
)


def compact_json(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str)


def compact_raw_data(event: dict[str, Any]) -> str:
    document = copy.deepcopy(event)
    text = compact_json(document)
    for shrink in _SHRINK_STEPS:
        if utf16_length(text) <= RAW_DATA_MAX:
            return text
        shrink(document)
        text = compact_json(document)
    if utf16_length(text) <= RAW_DATA_MAX:
        return text
    return compact_json(_summary(event))


def _alarm_bodies(document: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for key in ("detail", "alarmData"):
        body = document.get(key)
        if isinstance(body, dict):
            yield body


def _drop_bulky_reason_data(document: dict[str, Any]) -> None:
    for body in _alarm_bodies(document):
        for state_key in ("state", "previousState"):
            state = body.get(state_key)
            if not isinstance(state, dict) or not isinstance(state.get("reasonData"), str):
                continue
            try:
                reason_data = json.loads(state["reasonData"])
            except ValueError:
                continue
            if isinstance(reason_data, dict):
                for key in _BULKY_REASON_KEYS:
                    reason_data.pop(key, None)
                state["reasonData"] = compact_json(reason_data)


def _drop_previous_state(document: dict[str, Any]) -> None:
    for body in _alarm_bodies(document):
        body.pop("previousState", None)


def _drop_reason_data(document: dict[str, Any]) -> None:
    for body in _alarm_bodies(document):
        state = body.get("state")
        if isinstance(state, dict):
            state.pop("reasonData", None)


def _drop_configuration(document: dict[str, Any]) -> None:
    for body in _alarm_bodies(document):
        body.pop("configuration", None)


_SHRINK_STEPS: tuple[Callable[[dict[str, Any]], None], ...] = (
    _drop_bulky_reason_data,
    _drop_previous_state,
    _drop_reason_data,
    _drop_configuration,
)


def _summary(event: dict[str, Any]) -> dict[str, Any]:
    """Last resort for an event still too large: a small, valid JSON naming what was left out."""
    kept = {
        key: event[key]
        for key in ("id", "source", "detail-type", "account", "region", "time", "alarmArn")
        if isinstance(event.get(key), str)
    }
    summary = {key: fit(value, 200) for key, value in kept.items()}
    summary["truncated"] = "event exceeded 10,000 characters; see the alarm history for the full payload"
    return summary


# ---- related items ----


def related_items(alarm: NormalizedAlarm) -> list[RelatedItem]:
    """Most useful first, so the cap of 100 drops the least useful."""
    candidates = [
        RelatedItem(
            item_type=ItemType.OTHER,
            title=fit(f"CloudWatch alarm {alarm.alarm_name}", ITEM_TITLE_MAX),
            url=alarm_console_url(alarm.partition, alarm.region, alarm.alarm_name),
        ),
        *(_metric_item(alarm, metric) for metric in _charted_metrics(alarm)),
        *(_resource_item(alarm, ref) for ref in _resources(alarm)),
        *(_child_alarm_item(arn) for arn in alarm.triggering_alarm_arns),
    ]
    return [item for item in candidates if item is not None]


def _unique_capped(items: Iterable[RelatedItem]) -> tuple[RelatedItem, ...]:
    unique: dict[tuple[str, str], RelatedItem] = {}
    for item in items:
        if len(item.identity[1]) <= _value_max(item):
            unique.setdefault(item.identity, item)
    return tuple(unique.values())[:RELATED_ITEMS_MAX]


def _value_max(item: RelatedItem) -> int:
    return METRIC_DEFINITION_MAX if item.item_type is ItemType.METRIC else URL_MAX


def _resources(alarm: NormalizedAlarm) -> list[ResourceRef]:
    refs: list[ResourceRef] = []
    for metric in alarm.resource_metrics:
        refs.extend(
            involved_resources(
                metric.namespace or "",
                metric.dimensions,
                partition=alarm.partition,
                account=alarm.account,
                region=alarm.region,
            )
        )
    return refs


def _resource_item(alarm: NormalizedAlarm, ref: ResourceRef) -> RelatedItem:
    if ref.arn is not None:
        return RelatedItem(item_type=ItemType.INVOLVED_RESOURCE, title=fit(ref.title, ITEM_TITLE_MAX), arn=ref.arn)
    # No ARN without an API lookup: say so, and point at a console search instead of inventing one.
    note = f" ({ref.note})" if ref.note else " (ARN needs a lookup)"
    search = console_url(alarm.partition, alarm.region, "cloudwatch/home", f"metricsV2?search={quote(ref.title)}")
    return RelatedItem(item_type=ItemType.OTHER, title=fit(ref.title + note, ITEM_TITLE_MAX), url=search)


def _child_alarm_item(arn: str) -> RelatedItem | None:
    child = parse_alarm_arn(arn)
    if child is None or not is_incident_manager_arn(arn):
        return None
    return RelatedItem(
        item_type=ItemType.INVOLVED_RESOURCE,
        title=fit(f"Triggering alarm {child.alarm_name}", ITEM_TITLE_MAX),
        arn=arn,
    )


def _charted_metrics(alarm: NormalizedAlarm) -> list[AlarmMetric]:
    # One METRIC item for the alarm's query; a composite alarm has no metrics of its own.
    return [alarm.metrics[0]] if alarm.metrics else []


def _metric_item(alarm: NormalizedAlarm, primary: AlarmMetric) -> RelatedItem:
    return RelatedItem(
        item_type=ItemType.METRIC,
        title=fit(f"Metric: {metric_label(primary)}", ITEM_TITLE_MAX),
        metric_definition=metric_definition(alarm),
    )


def combined_metric_item(items: Sequence[RelatedItem]) -> RelatedItem:
    """Several alarms' METRIC items as one: one graph charting every alarm's query (as far as 4,000 characters
    allow), so joining alarms cost one call for their metrics instead of one each."""
    rows: list[Any] = []
    region = ""
    for item in items:
        source = json.loads(item.metric_definition or "{}")
        region = region or str(source.get("region", ""))
        rows.extend(row for row in source.get("metrics", []) if row not in rows)
    combined = {"view": "timeSeries", "region": region, "title": f"{len(items)} alarms", "metrics": rows}
    definition = compact_json(combined)
    while utf16_length(definition) > METRIC_DEFINITION_MAX and len(rows) > 1:
        rows.pop()
        definition = compact_json(combined)
    names = ", ".join(item.title.removeprefix("Metric: ") for item in items)
    return RelatedItem(
        item_type=ItemType.METRIC, title=fit(f"Metrics: {names}", ITEM_TITLE_MAX), metric_definition=definition
    )


def metric_label(metric: AlarmMetric) -> str:
    if metric.expression:
        return metric.label or metric.expression
    dimensions = ", ".join(f"{name}={value}" for name, value in metric.dimensions.items())
    name = f"{metric.namespace} {metric.metric_name}"
    return f"{name} ({dimensions})" if dimensions else name


_GRAPH_METRIC_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")


def metric_definition(alarm: NormalizedAlarm) -> str:
    """The alarm's query in the CloudWatch console's graph "Source" format, ready to paste."""
    rows: list[list[Any]] = []
    for metric in alarm.metrics:
        # The console accepts only ids like `m1`; alarms created by API often carry UUIDs instead.
        valid_id = metric.id is not None and _GRAPH_METRIC_ID.match(metric.id) is not None
        options: dict[str, Any] = {"id": metric.id} if valid_id else {}
        if not metric.return_data:
            options["visible"] = False
        if metric.expression:
            rows.append([{"expression": metric.expression, "label": metric.label or metric.id or "", **options}])
            continue
        if metric.stat:
            options["stat"] = metric.stat
        if metric.period_seconds:
            options["period"] = metric.period_seconds
        dimension_pairs = [part for pair in metric.dimensions.items() for part in pair]
        rows.append([metric.namespace, metric.metric_name, *dimension_pairs, options])
    source = {"view": "timeSeries", "region": alarm.region, "title": alarm.alarm_name, "metrics": rows}
    definition = compact_json(source)
    while utf16_length(definition) > METRIC_DEFINITION_MAX and len(rows) > 1:
        rows.pop()  # a huge metric-math query keeps its first (primary) rows
        definition = compact_json(source)
    return definition
