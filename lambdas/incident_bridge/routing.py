"""Config routes -> the decisions for one signal: which plan, what impact, what title, which group.

Routes are tried in order; the first that matches wins, unless it says `continue`, in which case later matching
routes each add their own incident (as Alertmanager's `continue` adds receivers). A matching `drop` route stops
routing and opens nothing. When no route matches, the default route decides.

Routing reads only a signal's labels. The configuration keeps its spellings (`tags: {team: ...}`, `group_by:
tag:team`, `{tag_team}` in a title); `label_for` maps each onto the label it names, and is the only place that
knows them. The routes themselves are resolved once, when the configuration loads (`RouteTable.of`): what a route
inherits from `default` is filled in and every matcher compiled, so routing an event does no lookups.
"""

import fnmatch
import re
import string
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import NamedTuple, Self, TypeVar

from incident_bridge.config import BridgeConfig, DefaultRoute, Match, RelatedUrl, Route
from incident_bridge.intake import FORWARDER_SILENT_ROUTE, FORWARDER_SOURCE
from incident_bridge.signal import DETAIL_PREFIX, DIMENSION_PREFIX, TAG_PREFIX, Signal

T = TypeVar("T")

#: The title of a signal that brings its own (custom and service events), unless a route sets another.
OWN_TITLE = "{title}"
DEFAULT_FALLBACK = "{alarm_name}"


# Value types here are NamedTuples, not frozen dataclasses: a dataclass compiles its methods when the module is
# imported, several times a NamedTuple's cost, and these modules load on every cold start (README, Performance).
# Annotations are not postponed (no `from __future__ import annotations`): NamedTuple compiles each string one.
class RouteDecision(NamedTuple):
    """What one matching route decided for an event: plan, impact, title, links and grouping."""

    route_name: str
    response_plan_arn: str
    impact: int
    title: str
    related_urls: tuple[RelatedUrl, ...] = ()
    #: The group key's fields as the configuration spells them (`tag:team`); `label_for` names their labels.
    group_by: tuple[str, ...] = ()
    auto_resolve: bool = False
    #: Why this route caught the event, one line per matcher (for `routes test` and the logs).
    reasons: tuple[str, ...] = ()
    #: The route's time intervals: muted inside `mute_time_intervals`, and outside `active_time_intervals`.
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()


class RouteTrace(NamedTuple):
    """Whether one route matched an event, and why (for `routes test` and the logs)."""

    route_name: str
    matched: bool
    reasons: tuple[str, ...]


class Routing(NamedTuple):
    """Every decision routing took for one event, or the `drop` route that stopped it."""

    decisions: tuple[RouteDecision, ...]
    #: Name of the `drop` route that stopped routing, if one did.
    dropped_by: str | None = None
    trace: tuple[RouteTrace, ...] = ()


# ---- the vocabulary: configuration spellings -> labels ----

#: Names that are labels as they are spelled (never read as a `tag_` or `detail_` prefix).
_PLAIN_NAMES = frozenset({"detail_type"})


def label_for(spelling: str) -> str:
    """The label a configuration spelling names. Every spelling the configuration has ever accepted:

    - matchers: `alarm_name`, `namespace`, ... as they are; `detail-type` -> `detail_type`;
      `dimensions.<name>` -> `dimension:<name>`; `tags.<key>` -> `tag:<key>`; `detail.$.a.b` -> `detail:a.b`;
    - `group_by`: `alarm_name`, ... as they are; `tag:<key>`, `dimension:<name>`, `detail:<path>` are labels already;
    - titles: `{alarm_name}`, ... as they are; `{tag_<key>}` -> `tag:<key>`; `{detail_<key>}` -> `detail:<key>`.
    """
    if spelling in _PLAIN_NAMES:
        return spelling
    if spelling == "detail-type":
        return "detail_type"
    for prefix, label_prefix in (
        ("dimensions.", DIMENSION_PREFIX),
        ("tags.", TAG_PREFIX),
        ("detail.", DETAIL_PREFIX),
        ("tag_", TAG_PREFIX),
        ("detail_", DETAIL_PREFIX),
    ):
        if spelling.startswith(prefix):
            return label_prefix + spelling.removeprefix(prefix).removeprefix("$.")
    return spelling


# ---- matchers, compiled once ----


class LabelTest(NamedTuple):
    """One label against its patterns (alternatives); `shown` is how reasons name it ("tag team")."""

    label: str
    shown: str
    patterns: tuple[str, ...]
    regex: bool
    tests: tuple[Callable[[str], object], ...]

    @classmethod
    def glob(cls, label: str, shown: str, patterns: tuple[str, ...]) -> Self:
        tests = tuple(re.compile(fnmatch.translate(pattern)).match for pattern in patterns)
        return cls(label, shown, patterns, False, tests)

    @classmethod
    def search(cls, label: str, shown: str, patterns: tuple[str, ...]) -> Self:
        return cls(label, shown, patterns, True, tuple(re.compile(pattern).search for pattern in patterns))

    def check(self, labels: Mapping[str, tuple[str, ...]]) -> tuple[bool, str]:
        """Any value against any pattern; the reason names the value and the pattern, or why none matched."""
        seen = labels.get(self.label, ())
        for value in seen:
            for pattern, test in zip(self.patterns, self.tests, strict=True):
                if test(value):
                    return True, f"{self.shown} {value!r} matches {self._pattern(pattern)}"
        wanted = f"[{', '.join(self._pattern(pattern) for pattern in self.patterns)}]"
        if not seen:
            return False, f"{self.shown} absent (wanted {wanted})"
        values_seen = ", ".join(repr(value) for value in seen[:3])
        return False, f"{self.shown} {values_seen} matches none of {wanted}"

    def _pattern(self, pattern: str) -> str:
        return f"/{pattern}/" if self.regex else repr(pattern)


#: One matcher of a route: the tests of one `match` key (several for `tags`, `dimensions`, `detail`), all needed.
Matcher = tuple[LabelTest, ...]

# How reasons name each matcher key's label, as they always have.
_SHOWN = {
    "alarm_name": "alarm name",
    "alarm_name_regex": "alarm name",
    "account_alias": "account alias",
    "metric_name": "metric",
    "detail_type": "detail-type",
    "dimensions": "dimension",
    "tags": "tag",
    "detail": "detail",
}
# The document's spelling of a map matcher's keys, for `label_for`.
_MAP_SPELLING = {"dimensions": "dimensions.", "tags": "tags.", "detail": "detail."}


def compile_match(match: Match) -> tuple[Matcher, ...]:
    """The matchers a route sets, in the order they are tried (the first that fails is the reason)."""
    matchers: list[Matcher] = []
    for name, wanted in _match_fields(match):
        shown = _SHOWN.get(name, name)
        if isinstance(wanted, dict):
            prefix = _MAP_SPELLING[name]
            tests = (LabelTest.glob(label_for(prefix + key), f"{shown} {key}", found) for key, found in wanted.items())
            matchers.append(tuple(tests))
        elif name == "alarm_name_regex":
            matchers.append((LabelTest.search("alarm_name", shown, wanted),))
        else:
            matchers.append((LabelTest.glob(label_for(name), shown, wanted),))
    return tuple(matchers)


def _match_fields(match: Match) -> list[tuple[str, tuple[str, ...] | dict[str, tuple[str, ...]]]]:
    given = (
        ("alarm_name", match.alarm_name),
        ("alarm_name_regex", match.alarm_name_regex),
        ("namespace", match.namespace),
        ("metric_name", match.metric_name),
        ("dimensions", match.dimensions),
        ("account", match.account),
        ("account_alias", match.account_alias),
        ("region", match.region),
        ("state", match.state),
        ("tags", match.tags),
        ("source", match.source),
        ("detail_type", match.detail_type),
        ("detail", match.detail),
    )
    return [(name, wanted) for name, wanted in given if wanted is not None]


def evaluate(matchers: tuple[Matcher, ...], labels: Mapping[str, tuple[str, ...]]) -> tuple[bool, tuple[str, ...]]:
    """All matchers must hold. Returns the reasons (or the first failing one)."""
    reasons = []
    for matcher in matchers:
        found = []
        for test in matcher:
            matched, why = test.check(labels)
            if not matched:
                return False, (why,)
            found.append(why)
        reasons.append("; ".join(found))
    return True, tuple(reasons) or ("matches everything (no matchers)",)


# ---- the route table ----


class TableRoute(NamedTuple):
    """One route with everything it inherits filled in and its matchers compiled."""

    name: str
    matchers: tuple[Matcher, ...]
    response_plan_arn: str
    impact: int
    #: The label whose value (1-5) overrides `impact` (`tag:<impact_tag>`), or "" for none.
    impact_label: str
    title: str
    #: Whether `title` replaces a signal's own title (a route's own template does; the default's does not).
    title_overrides_own: bool
    related_urls: tuple[RelatedUrl, ...]
    #: (tag key, its label) of each tag whose value is a URL to attach.
    related_url_labels: tuple[tuple[str, str], ...]
    group_by: tuple[str, ...]
    auto_resolve: bool
    continue_: bool
    drop: bool
    #: Names of the time intervals inside which (mute) or outside which (active) the route pages nobody.
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()


class RouteTable(NamedTuple):
    """The routes in order, then the default: what routing reads for every event. Silent forwarders (the bridge's
    own signal, heartbeats.py) take `forwarder_silent` alone, and no other route sees them."""

    routes: tuple[TableRoute, ...]
    default: TableRoute
    forwarder_silent: TableRoute
    #: account id -> its name (`accounts`): the label `account_alias`.
    aliases: Mapping[str, str] = MappingProxyType({})

    @classmethod
    def of(cls, config: BridgeConfig) -> Self:
        default = config.default
        routes = tuple(
            _resolve(route, default, route.name or f"routes[{index}]")
            for index, route in enumerate(config.routes)
            if route.name != FORWARDER_SILENT_ROUTE
        )
        silent = _resolve(config.forwarder_silent_route(), default, FORWARDER_SILENT_ROUTE)
        return cls(routes, _resolve(default, default, default.name or "default"), silent, dict(config.accounts))


def _inherited(mine: T | None, theirs: T | None, fallback: T) -> T:
    return mine if mine is not None else theirs if theirs is not None else fallback


def _resolve(own: Route, default: DefaultRoute, name: str) -> TableRoute:
    inherited = _inherited
    url_tags = inherited(own.related_url_tags, default.related_url_tags, ())
    impact_tag = inherited(own.impact_tag, default.impact_tag, "")
    return TableRoute(
        name=name,
        matchers=compile_match(own.match),
        response_plan_arn=inherited(own.response_plan_arn, default.response_plan_arn, default.response_plan_arn),
        impact=inherited(own.impact, default.impact, 3),
        impact_label=label_for(f"tag:{impact_tag}") if impact_tag else "",
        title=inherited(own.title, default.title, DEFAULT_FALLBACK),
        title_overrides_own=own is not default and bool(own.title),
        related_urls=inherited(own.related_urls, default.related_urls, ()),
        related_url_labels=tuple((key, label_for(f"tag:{key}")) for key in url_tags),
        group_by=inherited(own.group_by, default.group_by, ()),
        auto_resolve=bool(inherited(own.auto_resolve, default.auto_resolve, False)),
        continue_=own.continue_,
        drop=own.drop,
        # Not inherited, as in Alertmanager: each route says when it is quiet.
        mute_time_intervals=own.mute_time_intervals,
        active_time_intervals=own.active_time_intervals,
    )


# ---- deciding ----


_TABLE = "_route_table"


def route_table(config: BridgeConfig) -> RouteTable:
    """The configuration's route table, resolved on first use and kept on the (frozen) configuration itself, so
    every event of a container reads the same one (the runtime resolves it at init, when the bridge is built)."""
    table: RouteTable | None = config.__dict__.get(_TABLE)
    if table is None:
        table = RouteTable.of(config)
        object.__setattr__(config, _TABLE, table)  # a cache, not a field: equality and to_document ignore it
    return table


def route(signal: Signal, config: BridgeConfig | RouteTable) -> Routing:
    table = config if isinstance(config, RouteTable) else route_table(config)
    signal = with_account_alias(signal, table.aliases)
    if signal.label("source") == FORWARDER_SOURCE:
        return _route_silent_forwarder(signal, table.forwarder_silent)
    decisions: list[RouteDecision] = []
    trace: list[RouteTrace] = []
    for candidate in table.routes:
        matched, reasons = evaluate(candidate.matchers, signal.labels)
        trace.append(RouteTrace(candidate.name, matched, reasons))
        if not matched:
            continue
        if candidate.drop:
            return Routing(tuple(decisions), dropped_by=candidate.name, trace=tuple(trace))
        decisions.append(decide(signal, candidate, reasons))
        if not candidate.continue_:
            break
    if not decisions:
        decisions.append(decide(signal, table.default, ("no route matched",)))
    return Routing(tuple(decisions), trace=tuple(trace))


def _route_silent_forwarder(signal: Signal, chosen: TableRoute) -> Routing:
    """Only `forwarder-silent` decides (sources refuse custom events that claim its source): its own `match`, when
    given, or `drop` can keep a silence from paging; nothing falls back to the default route."""
    matched, reasons = evaluate(chosen.matchers, signal.labels)
    trace = (RouteTrace(chosen.name, matched, reasons),)
    if not matched or chosen.drop:
        return Routing((), dropped_by=chosen.name, trace=trace)
    return Routing((decide(signal, chosen, reasons),), trace=trace)


def with_account_alias(signal: Signal, aliases: Mapping[str, str]) -> Signal:
    """The signal with the label `account_alias`: its account's name from `accounts`, or the id when it has none.
    Routing adds it for its matchers and titles; `bridge.decide` adds it for the group key too."""
    account = signal.label("account")
    if account is None or signal.label("account_alias") is not None:
        return signal
    labels: dict[str, tuple[str, ...]] = {}
    for name, found in signal.labels.items():
        labels[name] = found
        if name == "account":  # shown next to the id it names (`invoke --explain`)
            labels["account_alias"] = (aliases.get(account) or account,)
    return signal._replace(labels=labels)


def decide(signal: Signal, chosen: TableRoute, reasons: tuple[str, ...]) -> RouteDecision:
    # A signal with its own title keeps it unless the route that caught it sets another.
    template = chosen.title if chosen.title_overrides_own or signal.title is None else OWN_TITLE
    return RouteDecision(
        route_name=chosen.name,
        response_plan_arn=chosen.response_plan_arn,
        impact=_impact(signal, chosen),
        title=render_title(template, signal, chosen.name),
        related_urls=(*chosen.related_urls, *_tag_urls(signal, chosen.related_url_labels)),
        group_by=chosen.group_by,
        auto_resolve=chosen.auto_resolve,
        reasons=reasons,
        mute_time_intervals=chosen.mute_time_intervals,
        active_time_intervals=chosen.active_time_intervals,
    )


def _impact(signal: Signal, chosen: TableRoute) -> int:
    tagged = signal.label(chosen.impact_label) if chosen.impact_label else None
    if tagged is not None and tagged.strip() in {"1", "2", "3", "4", "5"}:
        return int(tagged)
    return signal.impact or chosen.impact


def _tag_urls(signal: Signal, tag_labels: tuple[tuple[str, str], ...]) -> list[RelatedUrl]:
    urls = []
    for key, label in tag_labels:
        value = signal.label(label) or ""
        if value.startswith(("https://", "http://")) and len(value) <= 1000:
            urls.append(RelatedUrl(title=f"{key} (alarm tag)", url=value))
    return urls


class _TitleFields(Mapping[str, str]):
    """What a title template sees: the signal's labels under their title spellings, and the route's name."""

    def __init__(self, signal: Signal, route_name: str) -> None:
        self._signal = signal
        self._route_name = route_name

    def __getitem__(self, name: str) -> str:
        if name == "route":
            return self._route_name
        # A field the event lacks (a tag it does not carry) renders empty rather than failing an incident.
        return self._signal.label(label_for(name)) or ""

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def render_title(template: str, signal: Signal, route_name: str) -> str:
    try:
        return string.Formatter().vformat(template, (), _TitleFields(signal, route_name)).strip()
    except (ValueError, IndexError, KeyError, AttributeError):
        return template
