"""The one shape every payload becomes at the sources boundary: a Signal.

Routing, grouping, titles and the lifecycle read only what is here: the label map and the typed related items.
Nothing after sources/ asks what kind of payload a signal came from; what differs between kinds (an alarm's console
page, a custom event's own title and impact, a finding's severity) was turned into labels and typed values by the
source that understood it.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple, Self

from incident_bridge.alarm import AlarmMetric
from incident_bridge.quiet.mute import MuteWindow

#: label name -> its values, most significant first. Most labels have one value; an alarm with several metrics
#: has several `namespace`, `metric_name` and `dimension:<name>` values.
Labels = Mapping[str, tuple[str, ...]]


class SignalStatus(StrEnum):
    """Whether a signal says a problem exists or has gone away."""

    FIRING = "firing"
    RECOVERING = "recovering"


# Value types here are NamedTuples, not frozen dataclasses: a dataclass compiles its methods when the module is
# imported, several times a NamedTuple's cost, and these modules load on every cold start (README, Performance).
# Annotations are not postponed (no `from __future__ import annotations`): NamedTuple compiles each string one.
class InvolvedResource(NamedTuple):
    """A resource by ARN, already checked against Incident Manager's ARN pattern."""

    arn: str
    title: str


class MetricQuery(NamedTuple):
    """The metrics (or expressions) behind a signal, as a chart in `region` titled `title`."""

    region: str
    title: str
    metrics: tuple[AlarmMetric, ...]

    @property
    def label(self) -> str:
        """The primary (first) metric or expression, as a person would name it."""
        primary = self.metrics[0]
        if primary.expression:
            return primary.label or primary.expression
        dimensions = ", ".join(f"{name}={value}" for name, value in primary.dimensions.items())
        name = f"{primary.namespace} {primary.metric_name}"
        return f"{name} ({dimensions})" if dimensions else name

    def families(self) -> frozenset[str]:
        """What the query charts (namespace/name, or the expression): a storm of one metric over many resources
        charts it once."""
        found = set()
        for metric in self.metrics:
            if metric.expression:
                found.add(f"family:expression:{metric.expression}")
            elif metric.namespace:
                found.add(f"family:{metric.namespace}/{metric.metric_name}")
        return frozenset(found)


class LinkRole(StrEnum):
    #: The signal's own page (the alarm in the console): attached when an incident starts; a join names the
    #: signal on the timeline instead.
    ORIGIN = "origin"
    #: A link the signal brings for responders (a runbook): attached whenever the incident lacks it.
    RELATED = "related"


class Link(NamedTuple):
    """A titled URL related to the signal (a runbook, a dashboard, the console page)."""

    title: str
    url: str
    role: LinkRole = LinkRole.RELATED


RelatedThing = InvolvedResource | MetricQuery | Link


class NotActionable(NamedTuple):
    """A well-formed payload the bridge deliberately does nothing with, and why."""

    reason: str
    #: What it was called, when it has a name (the alarm's), for the outcome.
    name: str | None = None
    #: What the payload was, for people (`invoke --explain`), when it was recognized.
    payload: str = ""


class Trigger(NamedTuple):
    """How Incident Manager is told what started an incident."""

    #: `triggerDetails.source`, already checked: at most 50 characters, never `aws.`.
    source: str
    #: `triggerDetails.triggerArn`, when the trigger is itself a resource (an alarm).
    arn: str | None
    #: What identifies this trigger for the start request's client token (with the route's name).
    token_parts: tuple[str, ...]


class Signal(NamedTuple):
    """One alarm transition, custom event or service event, as everything after sources/ sees it."""

    #: What logs, outcomes and timeline notes call it (the alarm name, the custom event's title, ...).
    name: str
    #: What kind of thing it is, for the sentences people read ("alarm", "custom event", "GuardDuty finding").
    noun: str
    #: Identity of this delivery: the seed of idempotency (EventBridge `id`, SNS `MessageId`, ...).
    event_id: str
    status: SignalStatus
    #: The state as its source spells it (ALARM, OK, firing, resolved, ...), for the sentences people read.
    state: str
    #: When the state began (the alarm's state time, the event's time): transitions apply in this order.
    state_time: datetime
    labels: Labels
    #: Identity of the thing within its group (an alarm ARN, a contributor, a finding id, a dedupe key): the group
    #: is recovered when every member that fired has recovered.
    member: str
    #: The group key's tail when the route names no `group_by` fields.
    default_group: str
    trigger: Trigger
    #: The payload as received, for `triggerDetails.rawData` (never logged).
    raw_event: dict[str, Any]
    #: The signal's own title (custom events, service events); None: the route's template makes it.
    title: str | None = None
    #: The signal's own impact (custom events, severities); None: the route's.
    impact: int | None = None
    #: One line on what happened, for the timeline ("Threshold Crossed: ...").
    reason: str = ""
    related: tuple[RelatedThing, ...] = ()
    #: ARNs a timeline note about this signal references (the alarm; the event's resources).
    references: tuple[str, ...] = ()
    #: When set and the signal carries no `tag:` labels, the tags of this ARN may be looked up (alarms).
    tags_of: str | None = None
    #: The CloudWatch alarm mute rule window the event was sent in (`detail.muteDetail`), if any.
    mute_window: MuteWindow | None = None
    #: When the event was sent (EventBridge `time`): a mute window is judged at this time.
    sent_at: datetime | None = None
    #: What the payload was, for people (`invoke --explain`): "EventBridge event (...), metric alarm, state ALARM".
    payload: str = ""
    #: What tells this transition from another of the same member, state and state time. Empty for alarms: CloudWatch
    #: gives each transition its own state time, and one transition reaches the bridge by several paths under other
    #: ids (EventBridge and SNS), which must count once. A service event's own id: its time is to the second, and two
    #: executions of one state machine can fail in the same second, each a problem of its own.
    occurrence: str = ""

    def label(self, name: str) -> str | None:
        """The label's first value, or None when the signal does not carry it."""
        values = self.labels.get(name)
        return values[0] if values else None

    def has_tags(self) -> bool:
        return any(name.startswith(TAG_PREFIX) for name in self.labels)

    def with_tags(self, tags: Mapping[str, str]) -> Self:
        """The same signal with these tags as `tag:<key>` labels (tags looked up after the payload was read)."""
        if not tags:
            return self
        return self._replace(labels={**self.labels, **tag_labels(tags)})


TAG_PREFIX = "tag:"
DIMENSION_PREFIX = "dimension:"
DETAIL_PREFIX = "detail:"


def tag_labels(tags: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    return {f"{TAG_PREFIX}{key}": (value,) for key, value in tags.items()}


def values(items: Iterable[str | None]) -> tuple[str, ...]:
    """The distinct non-empty values, in order: one label's values."""
    return tuple(dict.fromkeys(item for item in items if item))


def detail_labels(detail: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Every scalar of an event's `detail` as `detail:<path>` (`detail:service.name`). Objects are walked into; a
    list of scalars is one multi-valued label (RDS's `EventCategories`); lists of objects and nulls are no labels.
    Booleans are spelled as JSON spells them."""
    found: dict[str, tuple[str, ...]] = {}
    pending: list[tuple[str, Mapping[str, Any]]] = [("", detail)]
    while pending:
        prefix, mapping = pending.pop()
        for key, value in mapping.items():
            path = f"{prefix}{key}"
            if isinstance(value, Mapping):
                pending.append((f"{path}.", value))
                continue
            scalars = values(_scalar(item) for item in (value if isinstance(value, list) else [value]))
            if scalars:
                found[f"{DETAIL_PREFIX}{path}"] = scalars
    return found


def _scalar(value: object) -> str | None:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, str | int | float) else None
