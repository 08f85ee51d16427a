"""Builds the Incident Manager requests for a signal, within the API's limits (aws.py holds them, with sources).

The start request is built only where an incident is started (lifecycle), never for a signal that joins one.
"""

import copy
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from incident_bridge.alarm import AlarmMetric
from incident_bridge.aws import (
    EVENT_DATA_MAX,
    EVENT_REFERENCES_MAX,
    ITEM_TITLE_MAX,
    METRIC_DEFINITION_MAX,
    RAW_DATA_MAX,
    RELATED_ITEMS_MAX,
    TITLE_MAX,
    URL_MAX,
    fit,
    is_incident_manager_arn,
    length,
)
from incident_bridge.config import RelatedUrl
from incident_bridge.routing import RouteDecision
from incident_bridge.signal import InvolvedResource, Link, MetricQuery, RelatedThing, Signal


class ItemType(StrEnum):
    INVOLVED_RESOURCE = "INVOLVED_RESOURCE"
    METRIC = "METRIC"
    OTHER = "OTHER"


# Value types here are NamedTuples, not frozen dataclasses: a dataclass compiles its methods when the module is
# imported, several times a NamedTuple's cost, and these modules load on every cold start (README, Performance).
# Annotations are not postponed (no `from __future__ import annotations`): NamedTuple compiles each string one.
class RelatedItem(NamedTuple):
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


class StartIncidentRequest(NamedTuple):
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


class UpdateRelatedItemsRequest(NamedTuple):
    """Adds one item to an open incident (the API takes one item per call)."""

    incident_arn: str
    item: RelatedItem
    client_token: str

    @property
    def operation(self) -> str:
        return "UpdateRelatedItems"

    def to_params(self) -> dict[str, Any]:
        return {
            "clientToken": self.client_token,
            "incidentRecordArn": self.incident_arn,
            "relatedItemsUpdate": {"itemToAdd": self.item.to_params()},
        }


class TimelineEventRequest(NamedTuple):
    """A note on an open incident's timeline (CreateTimelineEvent)."""

    incident_arn: str
    event_time: datetime
    text: str
    client_token: str
    resource_arns: tuple[str, ...] = ()

    @property
    def operation(self) -> str:
        return "CreateTimelineEvent"

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


class IncidentStatusRequest(NamedTuple):
    """Resolves (or reopens) an incident."""

    incident_arn: str
    status: str
    client_token: str

    @property
    def operation(self) -> str:
        return "UpdateIncidentRecord"

    def to_params(self) -> dict[str, Any]:
        return {"arn": self.incident_arn, "clientToken": self.client_token, "status": self.status}


def token(*parts: str) -> str:
    """A deterministic client token: the same logical call always carries the same token."""
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def build_start_incident(signal: Signal, decision: RouteDecision) -> StartIncidentRequest:
    return StartIncidentRequest(
        response_plan_arn=decision.response_plan_arn,
        title=fit(decision.title, TITLE_MAX) or fit(signal.name, TITLE_MAX),
        impact=decision.impact,
        client_token=token(*signal.trigger.token_parts, decision.route_name),
        trigger_source=signal.trigger.source,
        trigger_timestamp=signal.state_time,
        trigger_arn=signal.trigger.arn,
        raw_data=compact_raw_data(signal.raw_event, signal.words.one),
        related_items=unique_capped([*url_items(decision.related_urls), *related_items(signal.related)]),
    )


def url_items(urls: Iterable[RelatedUrl]) -> list[RelatedItem]:
    return [RelatedItem(item_type=ItemType.OTHER, title=fit(url.title, ITEM_TITLE_MAX), url=url.url) for url in urls]


def related_items(related: Iterable[RelatedThing]) -> list[RelatedItem]:
    """A signal's typed related things as Incident Manager items, in the signal's order."""
    return [related_item(thing) for thing in related]


def related_item(thing: RelatedThing) -> RelatedItem:
    match thing:
        case InvolvedResource(arn=arn, title=title):
            return RelatedItem(item_type=ItemType.INVOLVED_RESOURCE, title=fit(title, ITEM_TITLE_MAX), arn=arn)
        case MetricQuery():
            return RelatedItem(
                item_type=ItemType.METRIC,
                title=fit(f"Metric: {thing.label}", ITEM_TITLE_MAX),
                metric_definition=metric_definition(thing),
            )
        case Link(title=title, url=url):
            return RelatedItem(item_type=ItemType.OTHER, title=fit(title, ITEM_TITLE_MAX), url=url)


# ---- rawData: the event as compact JSON, shrunk by dropping bulky parts, never by cutting the string ----

_BULKY_REASON_KEYS = (
    "recentDatapoints",
    "evaluatedDatapoints",
    "recentUpperBoundaryDatapoints",
    "recentLowerBoundaryDatapoints",
)


def compact_json(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str)


def compact_raw_data(event: dict[str, Any], kind: str = "alarm") -> str:
    """The event as `rawData`, shrunk to fit; past that, a summary that sends readers to the `kind`'s history."""
    document = copy.deepcopy(event)
    text = compact_json(document)
    for shrink in _SHRINK_STEPS:
        if length(text) <= RAW_DATA_MAX:
            return text
        shrink(document)
        text = compact_json(document)
    if length(text) <= RAW_DATA_MAX:
        return text
    return compact_json(_summary(event, kind))


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


def _summary(event: dict[str, Any], kind: str) -> dict[str, Any]:
    """Last resort for an event still too large: a small, valid JSON naming what was left out."""
    kept = {
        key: event[key]
        for key in ("id", "source", "detail-type", "account", "region", "time", "alarmArn")
        if isinstance(event.get(key), str)
    }
    summary = {key: fit(value, 200) for key, value in kept.items()}
    summary["truncated"] = f"event exceeded 10,000 characters; see the {kind} history for the full payload"
    return summary


# ---- related items ----


def unique_capped(items: Iterable[RelatedItem]) -> tuple[RelatedItem, ...]:
    unique: dict[tuple[str, str], RelatedItem] = {}
    for item in items:
        if length(item.identity[1]) <= _value_max(item):
            unique.setdefault(item.identity, item)
    return tuple(unique.values())[:RELATED_ITEMS_MAX]


def _value_max(item: RelatedItem) -> int:
    return METRIC_DEFINITION_MAX if item.item_type is ItemType.METRIC else URL_MAX


def combined_metric_item(queries: Sequence[MetricQuery]) -> RelatedItem:
    """Several signals' metric queries as one METRIC item: one graph charting them all (as far as 4,000 characters
    allow), so joining alarms cost one call for their metrics instead of one each."""
    rows: list[Any] = []
    for query in queries:
        rows.extend(row for row in _rows(query.metrics) if row not in rows)
    combined = {"view": "timeSeries", "region": queries[0].region, "title": f"{len(queries)} alarms", "metrics": rows}
    definition = compact_json(combined)
    while length(definition) > METRIC_DEFINITION_MAX and len(rows) > 1:
        rows.pop()
        definition = compact_json(combined)
    names = ", ".join(query.label for query in queries)
    return RelatedItem(
        item_type=ItemType.METRIC, title=fit(f"Metrics: {names}", ITEM_TITLE_MAX), metric_definition=definition
    )


_GRAPH_METRIC_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")


def _rows(metrics: Iterable[AlarmMetric]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for metric in metrics:
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
    return rows


def metric_definition(query: MetricQuery) -> str:
    """The query in the CloudWatch console's graph "Source" format, ready to paste."""
    rows = _rows(query.metrics)
    source = {"view": "timeSeries", "region": query.region, "title": query.title, "metrics": rows}
    definition = compact_json(source)
    while length(definition) > METRIC_DEFINITION_MAX and len(rows) > 1:
        rows.pop()  # a huge metric-math query keeps its first (primary) rows
        definition = compact_json(source)
    return definition
