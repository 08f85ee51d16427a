"""Config routes -> the decisions for one alarm or custom event: which plan, what impact, what title.

Routes are tried in order; the first that matches wins, unless it says `continue`, in which case later matching
routes each add their own incident (as Alertmanager's `continue` adds receivers). A matching `drop` route stops
routing and opens nothing. When no route matches, the default route decides.
"""

from __future__ import annotations

import fnmatch
import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from incident_bridge.alarm import NormalizedAlarm
from incident_bridge.config import BridgeConfig, Match, RelatedUrl, Route
from incident_bridge.custom import CustomIncident
from incident_bridge.heartbeats import FORWARDER_SILENT_ROUTE, FORWARDER_SOURCE

Subject = NormalizedAlarm | CustomIncident
CUSTOM_TITLE = "{title}"


@dataclass(frozen=True)
class RouteDecision:
    """What one matching route decided for an event: plan, impact, title, links and grouping."""

    route_name: str
    response_plan_arn: str
    impact: int
    title: str
    related_urls: tuple[RelatedUrl, ...] = ()
    group_by: tuple[str, ...] = ()
    auto_resolve: bool = False
    #: Why this route caught the event, one line per matcher (for `routes test` and the logs).
    reasons: tuple[str, ...] = ()
    #: The event's account by its name from `accounts` (its id when it has none), for `group_by: [account_alias]`.
    #: Derived from the event, like the title; not part of what a route decided, so not compared.
    account_alias: str = field(default="", compare=False)


@dataclass(frozen=True)
class RouteTrace:
    """Whether one route matched an event, and why (for `routes test` and the logs)."""

    route_name: str
    matched: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Routing:
    """Every decision routing took for one event, or the `drop` route that stopped it."""

    decisions: tuple[RouteDecision, ...]
    #: Name of the `drop` route that stopped routing, if one did.
    dropped_by: str | None = None
    trace: tuple[RouteTrace, ...] = field(default=())


# ---- facts: what matchers can see of an alarm or a custom event ----


@dataclass(frozen=True)
class Facts:
    """What the matchers see of an alarm or a custom event."""

    alarm_name: str | None
    namespaces: tuple[str, ...]
    metric_names: tuple[str, ...]
    dimensions: tuple[Mapping[str, str], ...]
    account: str
    account_alias: str
    region: str
    state: str | None
    tags: Mapping[str, str]
    source: str
    detail_type: str
    detail: Mapping[str, Any]


def facts_of(subject: Subject, config: BridgeConfig) -> Facts:
    alias = config.account_alias(subject.account)
    if isinstance(subject, CustomIncident):
        return Facts(None, (), (), (), subject.account, alias, subject.region, None, {}, subject.source,
                     subject.detail_type, subject.detail)  # fmt: skip
    metrics = subject.resource_metrics
    detail = subject.raw_event.get("detail")
    return Facts(
        alarm_name=subject.alarm_name,
        namespaces=tuple(m.namespace for m in metrics if m.namespace),
        metric_names=tuple(m.metric_name for m in metrics if m.metric_name),
        dimensions=tuple(m.dimensions for m in metrics),
        account=subject.account,
        account_alias=alias,
        region=subject.region,
        state=subject.state.value,
        tags=subject.tags,
        source="aws.cloudwatch",
        detail_type="CloudWatch Alarm State Change",
        detail=detail if isinstance(detail, dict) else {},
    )


# ---- matchers: each returns (matched, why) ----

Check = tuple[bool, str]


def _first_match(
    values: Iterable[str | None],
    patterns: tuple[str, ...],
    label: str,
    matches: Callable[[str, str], bool],
    shown: Callable[[str], str],
) -> Check:
    """Any value against any pattern; the reason names the value and the pattern, or why none matched."""
    seen = [value for value in values if value is not None]
    for value in seen:
        for pattern in patterns:
            if matches(value, pattern):
                return True, f"{label} {value!r} matches {shown(pattern)}"
    wanted = f"[{', '.join(shown(pattern) for pattern in patterns)}]"
    if not seen:
        return False, f"{label} absent (wanted {wanted})"
    values_seen = ", ".join(repr(v) for v in seen[:3])
    return False, f"{label} {values_seen} matches none of {wanted}"


def _glob(values: Iterable[str | None], patterns: tuple[str, ...], label: str) -> Check:
    return _first_match(values, patterns, label, fnmatch.fnmatchcase, repr)


def _regex(values: Iterable[str | None], patterns: tuple[str, ...], label: str) -> Check:
    return _first_match(values, patterns, label, lambda v, p: re.search(p, v) is not None, lambda p: f"/{p}/")


def _mapping(sources: Iterable[Mapping[str, str]], wanted: Mapping[str, tuple[str, ...]], label: str) -> Check:
    sources = list(sources)
    reasons = []
    for key, patterns in wanted.items():
        matched, why = _glob((s[key] for s in sources if key in s), patterns, f"{label} {key}")
        if not matched:
            return False, why
        reasons.append(why)
    return True, "; ".join(reasons)


def _detail_value(detail: Mapping[str, Any], path: str) -> str | None:
    value: Any = detail
    for part in path.removeprefix("$.").split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    if value is None or isinstance(value, dict | list):
        return None  # null and objects are absent for a glob; only scalars compare
    if isinstance(value, bool):
        return str(value).lower()  # JSON's spelling: true / false
    return str(value)


def _detail(facts: Facts, wanted: Mapping[str, tuple[str, ...]]) -> Check:
    reasons = []
    for path, patterns in wanted.items():
        value = _detail_value(facts.detail, path)
        matched, why = _glob([value] if value is not None else [], patterns, f"detail {path}")
        if not matched:
            return False, why
        reasons.append(why)
    return True, "; ".join(reasons)


# One entry per Match field: how to test it against the facts. Adding a matcher is adding a line here.
_MATCHERS: dict[str, Callable[[Facts, Any], Check]] = {
    "alarm_name": lambda f, p: _glob([f.alarm_name] if f.alarm_name else [], p, "alarm name"),
    "alarm_name_regex": lambda f, p: _regex([f.alarm_name], p, "alarm name"),
    "namespace": lambda f, p: _glob(f.namespaces, p, "namespace"),
    "metric_name": lambda f, p: _glob(f.metric_names, p, "metric"),
    "dimensions": lambda f, p: _mapping(f.dimensions, p, "dimension"),
    "account": lambda f, p: _glob([f.account], p, "account"),
    "account_alias": lambda f, p: _glob([f.account_alias], p, "account alias"),
    "region": lambda f, p: _glob([f.region], p, "region"),
    "state": lambda f, p: _glob([f.state] if f.state else [], p, "state"),
    "tags": lambda f, p: _mapping([f.tags], p, "tag"),
    "source": lambda f, p: _glob([f.source], p, "source"),
    "detail_type": lambda f, p: _glob([f.detail_type], p, "detail-type"),
    "detail": _detail,
}


def evaluate(match: Match, facts: Facts) -> tuple[bool, tuple[str, ...]]:
    """All set matchers must hold. Returns the reasons (or the first failing one)."""
    reasons = []
    for name, check in _MATCHERS.items():
        wanted = getattr(match, name)
        if wanted is None:
            continue
        matched, why = check(facts, wanted)
        if not matched:
            return False, (why,)
        reasons.append(why)
    return True, tuple(reasons) or ("matches everything (no matchers)",)


# ---- deciding ----


def route(subject: Subject, config: BridgeConfig) -> Routing:
    facts = facts_of(subject, config)
    if is_silent_forwarder(subject):
        return _route_silent_forwarder(subject, config, facts)
    decisions: list[RouteDecision] = []
    trace: list[RouteTrace] = []
    for index, candidate in enumerate(config.event_routes()):
        name = candidate.name or f"routes[{index}]"
        matched, reasons = evaluate(candidate.match, facts)
        trace.append(RouteTrace(name, matched, reasons))
        if not matched:
            continue
        if candidate.drop:
            return Routing(tuple(decisions), dropped_by=name, trace=tuple(trace))
        decisions.append(_decide(subject, candidate, config, name, reasons))
        if not candidate.continue_:
            break
    if not decisions:
        decisions.append(_decide(subject, config.default, config, config.default.name or "default",
                                 ("no route matched",)))  # fmt: skip
    return Routing(tuple(decisions), trace=tuple(trace))


def is_silent_forwarder(subject: Subject) -> bool:
    """The bridge's own incident for a member forwarder that stopped sending heartbeats (see heartbeats.py)."""
    return isinstance(subject, CustomIncident) and subject.source == FORWARDER_SOURCE


def _route_silent_forwarder(subject: Subject, config: BridgeConfig, facts: Facts) -> Routing:
    """Only the `forwarder-silent` route decides: no other route can catch (or drop) a silent forwarder, and its
    own `match` (when given) or `drop` can keep it from paging."""
    candidate = config.forwarder_silent_route()
    name = candidate.name or FORWARDER_SILENT_ROUTE
    matched, reasons = evaluate(candidate.match, facts)
    trace = (RouteTrace(name, matched, reasons),)
    if not matched or candidate.drop:
        return Routing((), dropped_by=name, trace=trace)
    return Routing((_decide(subject, candidate, config, name, reasons),), trace=trace)


def _decide(
    subject: Subject, chosen: Route, config: BridgeConfig, name: str, reasons: tuple[str, ...]
) -> RouteDecision:
    default = config.default

    def pick(attribute: str) -> Any:
        own = getattr(chosen, attribute)
        return own if own is not None else getattr(default, attribute)

    if isinstance(subject, CustomIncident):
        # The default route's title is an alarm template; a custom event keeps its own title unless the route
        # that caught it says otherwise.
        template: str | None = chosen.title if chosen is not default and chosen.title else CUSTOM_TITLE
    else:
        template = chosen.title or default.title
    fields = title_fields(subject, name, config.account_alias(subject.account))
    related = list(pick("related_urls") or ())
    related += _tag_urls(subject, pick("related_url_tags") or ())
    if isinstance(subject, CustomIncident):
        related += subject.request.related_urls
    return RouteDecision(
        route_name=name,
        response_plan_arn=pick("response_plan_arn"),
        impact=_impact(subject, pick("impact"), pick("impact_tag")),
        title=render_title(template or DEFAULT_FALLBACK, fields),
        related_urls=tuple(related),
        group_by=tuple(pick("group_by") or ()),
        auto_resolve=bool(pick("auto_resolve")),
        reasons=reasons,
        account_alias=fields["account_alias"],
    )


DEFAULT_FALLBACK = "{alarm_name}"


def _impact(subject: Subject, route_impact: int, impact_tag: str | None) -> int:
    if isinstance(subject, CustomIncident):
        return subject.request.impact or route_impact
    tagged = subject.tags.get(impact_tag) if impact_tag else None
    if tagged is not None and tagged.strip() in {"1", "2", "3", "4", "5"}:
        return int(tagged)
    return route_impact


def _tag_urls(subject: Subject, tag_keys: Iterable[str]) -> list[RelatedUrl]:
    if isinstance(subject, CustomIncident):
        return []
    urls = []
    for key in tag_keys:
        value = subject.tags.get(key, "")
        if value.startswith(("https://", "http://")) and len(value) <= 1000:
            urls.append(RelatedUrl(title=f"{key} (alarm tag)", url=value))
    return urls


def title_fields(subject: Subject, route_name: str, account_alias: str | None = None) -> dict[str, str]:
    """The names a title template may use (the config model refuses any other)."""
    alias = account_alias or subject.account
    if isinstance(subject, CustomIncident):
        request = subject.request
        return {
            "title": request.title, "summary": request.summary or "", "source": subject.source,
            "detail_type": subject.detail_type, "account": subject.account, "account_alias": alias,
            "region": subject.region, "route": route_name,
            **{f"detail_{key}": str(value) for key, value in subject.detail.items() if isinstance(value, str | int)},
        }  # fmt: skip
    first_metric = subject.resource_metrics[0] if subject.resource_metrics else None
    return {
        "alarm_name": subject.alarm_name,
        "account": subject.account,
        "account_alias": alias,
        "region": subject.region,
        "state": subject.state.value,
        "reason": subject.reason,
        "description": subject.description or "",
        "namespace": (first_metric.namespace or "") if first_metric else "",
        "metric_name": (first_metric.metric_name or "") if first_metric else "",
        "kind": subject.kind.value,
        "route": route_name,
        "source": "aws.cloudwatch",
        **{f"tag_{key}": value for key, value in subject.tags.items()},
    }


class _Fields(dict[str, str]):
    def __missing__(self, key: str) -> str:
        # A field the event lacks (a tag it does not carry) renders empty rather than failing an incident.
        return ""


def render_title(template: str, fields: Mapping[str, str]) -> str:
    try:
        return string.Formatter().vformat(template, (), _Fields(fields)).strip()
    except (ValueError, IndexError, KeyError, AttributeError):
        return template
