"""`invoke --explain`: the whole decision for each event, from the payload to every request made.

Built from the two values the bridge itself produces: `bridge.decide` (payload, labels, routes, decisions) and the
event's Outcome (lifecycle step and calls). Nothing here decides anything.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from incident_bridge.bridge import Routed
from incident_bridge.cli.style import Style
from incident_bridge.outcome import ApiCall, Outcome
from incident_bridge.routing import RouteTrace, Routing

#: Characters of a long value (the trigger's rawData) shown in the text view; --json shows everything.
LONG_VALUE_SHOWN = 160


@dataclass(frozen=True)
class DecisionView:
    """One route's decision for the event, as explained."""

    route: str
    plan: str
    impact: int
    title: str | None
    group: str
    related_urls: tuple[tuple[str, str], ...]
    recovering: bool
    auto_resolve: bool


@dataclass(frozen=True)
class Explanation:
    event: str
    payload: str
    labels: tuple[tuple[str, str], ...]
    routes: tuple[RouteTrace, ...]
    decisions: tuple[DecisionView, ...]
    dropped_by: str | None
    outcome: Outcome


def explain(event: str, raw: object, decided: Outcome | Routed, outcome: Outcome) -> Explanation:
    if isinstance(decided, Outcome):
        return _stopped_before_routing(event, raw, outcome)
    from incident_bridge.lifecycle import group_key

    signal, routing = decided.signal, decided.routing
    decisions = tuple(
        DecisionView(
            route=decision.route_name,
            plan=decision.response_plan_arn,
            impact=decision.impact,
            title=None if decided.recovering else decision.title,
            group=group_key(signal, decision),
            related_urls=tuple((url.title, url.url) for url in decision.related_urls),
            recovering=decided.recovering,
            auto_resolve=decision.auto_resolve,
        )
        for decision in routing.decisions
    )
    return Explanation(
        event, payload_kind(decided), tuple(labels_of(decided)), routing.trace, decisions, routing.dropped_by, outcome
    )


def _stopped_before_routing(event: str, raw: object, outcome: Outcome) -> Explanation:
    """What the payload was, when the bridge recognized it before it stopped it (a suppressed composite)."""
    from incident_bridge.errors import InvalidEvent
    from incident_bridge.sources import NotActionable, parse_event

    try:
        parsed = parse_event(raw)
    except InvalidEvent:
        return Explanation(event, "not recognized: see the outcome", (), (), (), None, outcome)
    if isinstance(parsed, NotActionable):
        return Explanation(event, parsed.payload or "recognized, not actionable", (), (), (), None, outcome)
    routed = Routed(parsed, Routing(()))
    return Explanation(event, payload_kind(routed), tuple(labels_of(routed)), (), (), None, outcome)


def payload_kind(routed: Routed) -> str:
    return routed.signal.payload


def labels_of(routed: Routed) -> Iterator[tuple[str, str]]:
    """What routing, grouping and titles read of the event: its labels, one line per value."""
    for name, found in routed.signal.labels.items():
        for value in found:
            yield name, value


# ---- JSON ----


def explanation_json(explanation: Explanation) -> dict[str, Any]:
    outcome = explanation.outcome
    return {
        "event": explanation.event,
        "payload": explanation.payload,
        "labels": [{"name": name, "value": value} for name, value in explanation.labels],
        "routes": [
            {"route": trace.route_name, "matched": trace.matched, "reasons": list(trace.reasons)}
            for trace in explanation.routes
        ],
        "decisions": [
            {
                "route": view.route,
                "response_plan_arn": view.plan,
                "impact": view.impact,
                "title": view.title,
                "group": view.group,
                "related_urls": [{"title": title, "url": url} for title, url in view.related_urls],
                "recovery": view.recovering,
                "auto_resolve": view.auto_resolve,
            }
            for view in explanation.decisions
        ],
        "dropped_by": explanation.dropped_by,
        "outcome": outcome.kind.value,
        "reason": outcome.reason,
        "incident_arn": outcome.incident_arn,
        "calls": [{"operation": call.operation, "params": call.params} for call in outcome.calls],
    }


# ---- text ----


def print_explanation(explanation: Explanation, out: TextIO, style: Style) -> None:
    def line(heading: str, text: str = "") -> None:
        out.write(f"{style(f'{heading:<10}', 'bold')}  {text}".rstrip() + "\n")

    out.write(style(f"== {explanation.event}", "bold", "cyan") + "\n")
    line("payload", explanation.payload)
    for index, (name, value) in enumerate(explanation.labels):
        line("labels" if index == 0 else "", f"{style(name, 'blue')}={value}")
    for index, trace in enumerate(explanation.routes):
        verdict = style("MATCH", "green", "bold") if trace.matched else style("no   ", "dim")
        line("routes" if index == 0 else "", f"{verdict}  {trace.route_name}: {'; '.join(trace.reasons)}")
    for view in explanation.decisions:
        line("decision", f"route {style(view.route, 'bold')}: plan {view.plan}, impact {view.impact}")
        if view.title is not None:
            line("", f"title: {view.title}")
        if view.recovering:
            then = "resolved when every alarm of the group is OK" if view.auto_resolve else "left open for humans"
            line("", f"a recovery: noted on the group's open incident, then {then}")
        for title, url in view.related_urls:
            line("", f"related: {title} <{url}>")
        line("group", view.group)
    if explanation.dropped_by:
        line("dropped", f"by route {explanation.dropped_by}: routing stops")
    outcome = explanation.outcome
    heading = "lifecycle" if explanation.decisions else "outcome"
    line(heading, f"{style.outcome(outcome.kind)}: {outcome.reason}")
    if outcome.incident_arn:
        line("incident", outcome.incident_arn)
    for index, call in enumerate(outcome.calls):
        line("requests" if index == 0 else "", style(call.operation, "bold"))
        for text in request_lines(call):
            line("", f"  {text}")
    out.write("\n")


def request_lines(call: ApiCall) -> Iterator[str]:
    """Every parameter of a request, one per line; related items one per line, whatever the operation."""
    yield from _parameter_lines(call.params, "")


def _parameter_lines(params: Mapping[str, Any], prefix: str) -> Iterator[str]:
    for key, value in params.items():
        name = f"{prefix}{key}"
        if key == "relatedItems" and isinstance(value, list):
            yield f"{name}: {len(value)}"
            for item in value:
                yield f"  {related_item_line(item)}"
        elif key == "itemToAdd" and isinstance(value, Mapping):
            yield f"{name}: {related_item_line(value)}"
        elif isinstance(value, Mapping):
            yield from _parameter_lines(value, f"{name}.")
        elif isinstance(value, Sequence) and not isinstance(value, str):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    yield from _parameter_lines(item, f"{name}[{index}].")
                else:
                    yield f"{name}[{index}]: {_shown(item)}"
        else:
            yield f"{name}: {_shown(value)}"


def related_item_line(item: Mapping[str, Any]) -> str:
    identifier = item.get("identifier", {})
    kind = str(identifier.get("type", "?"))
    values = identifier.get("value", {})
    target = next(iter(values.values()), "") if isinstance(values, Mapping) and values else ""
    return f"{kind:<17} {item.get('title', '')}  {target}".rstrip()


def _shown(value: object) -> str:
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if len(text) > LONG_VALUE_SHOWN:
        return f"{text[:LONG_VALUE_SHOWN]}... ({len(text)} characters; --json shows it whole)"
    return text
