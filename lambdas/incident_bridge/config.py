"""The bridge configuration: one validated model, one loader, used by the Lambda at cold start and by `cdk synth`.

Routes are an ordered list, as in Alertmanager: the first match wins unless it says `continue`. Every route
inherits what it leaves unset from `default`, which must name a response plan.

The model is declared: frozen dataclasses whose every field says, in its metadata, how it is read and under which
key: the reader's constrained fields (`reader.text`, `whole`, `flag`, `texts`, `models`, shared with the custom
event's declaration in custom.py) or, for a rule of its own, `reader.declared` with the field reader below. One
generic reader (`reader.read_fields`) reads any declared model, collects every problem, notes missing required
fields and refuses unknown keys, and `reader.document_of` writes it back. The quiet sections are declared the same
way, in quiet/ (`NamedTimeInterval`, `Silence`, `InhibitRule`), imported only when the configuration has some; their
matchers are read by this module's `match` reader, and a live silence (state table, `silence add`) is read and
written through the same declaration (`parse_silence`, `silence_document`). Not pydantic, nor msgspec: see the
README's Performance section for the measured choice. Every problem reads `<path>: <problem>`, as the Reader words
it.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incident_bridge.aws import (
    ITEM_TITLE_MAX,
    RESPONSE_PLAN_ARN_PATTERN,
    RESPONSE_PLAN_ARN_SHAPE,
    SNS_TOPIC_ARN,
    URL_MAX,
    is_account,
    is_region,
    is_response_plan_arn,
)
from incident_bridge.errors import ConfigError, ConfigSyntaxError
from incident_bridge.intake import FORWARDER_SILENT_ROUTE, FORWARDER_SOURCE
from incident_bridge.reader import (
    MAX_PROBLEMS,
    FieldError,
    FieldRead,
    ModelError,
    Problems,
    Reader,
    declared,
    document_of,
    flag,
    kind_of,
    models,
    read_fields,
    read_model,
    read_models,
    refuse_duplicates,
    shown,
    text,
    texts,
    whole,
)

if TYPE_CHECKING:
    # Imported where a configuration uses them (time intervals, silences, inhibition): an alarms-only bridge's cold
    # start does not load the parsers it never runs (`make bench`; tests/handler/test_lazy_imports.py).
    from incident_bridge.quiet.inhibition import InhibitRule
    from incident_bridge.quiet.intervals import NamedTimeInterval
    from incident_bridge.quiet.silences import Silence

_RESPONSE_PLAN_ARN = re.compile(RESPONSE_PLAN_ARN_PATTERN)
_SNS_TOPIC_ARN = SNS_TOPIC_ARN
_HTTP_URL = re.compile(r"^https?://")
_DETAIL_PATH = re.compile(r"\$(\.[A-Za-z0-9_-]+)+")
#: `account_alias` is the account's name from `accounts`, or its id when it has none.
DEFAULT_TITLE = "{alarm_name} is in ALARM ({account_alias}, {region})"
#: Fields a title template may name; `tag_<key>` names an alarm tag, `detail_<key>` a custom event's detail key.
TITLE_FIELDS = frozenset(
    {"alarm_name", "account", "account_alias", "region", "state", "reason", "description", "namespace",
     "metric_name", "kind", "title", "summary", "source", "detail_type", "route", "profile"}
)  # fmt: skip

#: Fields `group_by` may name, besides `tag:<key>`, `dimension:<name>` and `detail:<path>` (custom and AWS service
#: events: `profile` is the service-event profile that read the event).
GROUP_FIELDS = frozenset(
    {"alarm_name", "alarm_arn", "account", "account_alias", "region", "namespace", "metric_name", "source",
     "detail_type", "profile"}
)  # fmt: skip
#: Printable, no braces (titles are templates) and short enough for a title: `payments-prod`, `Payments (prod)`.
_ALIAS = re.compile(r"^[^{}\x00-\x1f]{1,64}\Z")
#: At most this many `accounts` and `expected_forwarders` (heartbeats of all forwarders share one 400 KB item).
MAX_FORWARDERS = 2000

#: Incident Manager impact: 1 critical ... 5 no impact.
MIN_IMPACT, MAX_IMPACT = 1, 5
__all__ = ["MAX_PROBLEMS"]


def _plain(read: Callable[[Reader, str], Any]) -> FieldRead:
    """A field reader that needs no problem list (it reads one value, raising on its first fault)."""
    return lambda owner, key, _problems: read(owner, key)


# How matchers are read (the readers are defined below, under "matchers"; a lambda looks them up when called).
_GLOBS = declared(_plain(lambda owner, key: _pattern_list(owner, key)))
_REGEXES = declared(_plain(lambda owner, key: _regexes(owner, key)))
_GLOB_MAP = declared(_plain(lambda owner, key: _pattern_map(owner, key)))
_DETAIL_PATHS = declared(_plain(lambda owner, key: _detail_paths(owner, key)))
_DETAIL_TYPE = declared(_plain(lambda owner, key: _pattern_list(owner, key)), key="detail-type")


@dataclass(frozen=True, kw_only=True)
class Match:
    """All given matchers must match (AND); each matcher's values are alternatives (OR). Globs use `*` and `?`.
    Each matcher takes one value or a list of them."""

    alarm_name: tuple[str, ...] | None = field(default=None, metadata=_GLOBS)
    alarm_name_regex: tuple[str, ...] | None = field(default=None, metadata=_REGEXES)
    namespace: tuple[str, ...] | None = field(default=None, metadata=_GLOBS)
    metric_name: tuple[str, ...] | None = field(default=None, metadata=_GLOBS)
    #: dimension name -> glob(s) of its value; any of the alarm's metrics may carry it
    dimensions: dict[str, tuple[str, ...]] | None = field(default=None, metadata=_GLOB_MAP)
    account: tuple[str, ...] | None = field(default=None, metadata=_GLOBS)
    #: the account's name from `accounts` (its id when it has none)
    account_alias: tuple[str, ...] | None = field(default=None, metadata=_GLOBS)
    region: tuple[str, ...] | None = field(default=None, metadata=_GLOBS)
    state: tuple[str, ...] | None = field(default=None, metadata=_GLOBS)
    #: tag key -> glob(s) of its value, from the event's alarmTags or the tag lookup
    tags: dict[str, tuple[str, ...]] | None = field(default=None, metadata=_GLOB_MAP)
    # Custom application events and AWS service events
    source: tuple[str, ...] | None = field(default=None, metadata=_GLOBS)
    detail_type: tuple[str, ...] | None = field(default=None, metadata=_DETAIL_TYPE)
    #: JSONPath-like path into `detail` (`$.severity`, `$.service.name`) -> glob(s) of its value
    detail: dict[str, tuple[str, ...]] | None = field(default=None, metadata=_DETAIL_PATHS)


@dataclass(frozen=True, kw_only=True)
class RelatedUrl:
    """A link on the incident (runbook, dashboard), in a route or a custom event (custom.py)."""

    title: str = field(metadata=text(min_length=1, max_length=ITEM_TITLE_MAX))
    url: str = field(metadata=text(max_length=URL_MAX, pattern=_HTTP_URL))


def _match(owner: Reader, key: str, problems: Problems) -> Match | None:
    found = owner.optional_obj(key)
    return None if found is None else Match(**read_fields(Match, found, problems))


_PLAN_ARN = declared(_plain(lambda owner, key: _response_plan_arn(owner, required=False, key=key)))
_ROUTE_NAME = text(min_length=1, max_length=64)
_IMPACT = whole(ge=MIN_IMPACT, le=MAX_IMPACT)
_TITLE = declared(_plain(lambda owner, key: _title(owner, key)))
# A list of strings, or None when absent: an empty list is given, and overrides what `default` says.
_URL_TAGS = texts()
_AUTO_RESOLVE = flag()
_GROUP_BY = declared(_plain(lambda owner, key: _group_by(owner, key)))
_SNS_TOPICS = declared(_plain(lambda owner, key: _sns_topic_arns(owner, key)))
_AWS_EVENTS = declared(_plain(lambda owner, key: _aws_events(owner, key)))


@dataclass(frozen=True, kw_only=True)
class Route:
    """What the bridge does with the alarms a route catches. Unset fields are inherited from `default`."""

    name: str | None = field(default=None, metadata=_ROUTE_NAME)
    match: Match = field(default_factory=Match, metadata=declared(_match))
    response_plan_arn: str | None = field(default=None, metadata=_PLAN_ARN)
    impact: int | None = field(default=None, metadata=_IMPACT)
    #: alarm tag whose value (1-5) overrides `impact`, e.g. incident-impact
    impact_tag: str | None = field(default=None, metadata=text())
    title: str | None = field(default=None, metadata=_TITLE)
    related_urls: tuple[RelatedUrl, ...] | None = field(default=None, metadata=models(RelatedUrl))
    #: alarm tags whose values are URLs to attach (runbook, dashboard)
    related_url_tags: tuple[str, ...] | None = field(default=None, metadata=_URL_TAGS)
    #: fields forming the group key (used by the incident lifecycle): alarm_name, namespace, tag:<key>, ...
    group_by: tuple[str, ...] | None = field(default=None, metadata=_GROUP_BY)
    auto_resolve: bool | None = field(default=None, metadata=_AUTO_RESOLVE)
    continue_: bool = field(default=False, metadata=flag(key="continue"))
    drop: bool = field(default=False, metadata=flag())
    #: Names of `time_intervals` during which this route pages nobody (Alertmanager's mute_time_intervals).
    #: Not inherited from `default`: each route says its own, as in Alertmanager.
    mute_time_intervals: tuple[str, ...] = field(default=(), metadata=texts())
    #: Names of `time_intervals` outside which this route pages nobody (Alertmanager's active_time_intervals).
    active_time_intervals: tuple[str, ...] = field(default=(), metadata=texts())


@dataclass(frozen=True, kw_only=True)
class DefaultRoute(Route):
    """The route of last resort: it names the response plan and the values other routes inherit."""

    response_plan_arn: str = field(
        metadata=declared(_plain(lambda owner, key: _response_plan_arn(owner, required=True, key=key)))
    )
    name: str | None = field(default="default", metadata=_ROUTE_NAME)
    impact: int | None = field(default=3, metadata=_IMPACT)
    title: str | None = field(default=DEFAULT_TITLE, metadata=_TITLE)
    related_url_tags: tuple[str, ...] | None = field(default=("runbook-url", "dashboard-url"), metadata=_URL_TAGS)
    auto_resolve: bool | None = field(default=False, metadata=_AUTO_RESOLVE)


def _default_route(owner: Reader, key: str, problems: Problems) -> DefaultRoute | None:
    default = owner.obj(key)
    given = read_fields(DefaultRoute, default, problems)
    if "response_plan_arn" not in given:
        return None  # missing or wrong: already noted
    route = DefaultRoute(**given)
    problems.read(None, _check_last_resort, default.path, route)
    return route


def _routes(owner: Reader, key: str, problems: Problems) -> tuple[Route, ...] | None:
    if not owner.has(key):
        return None
    routes = tuple(Route(**read_fields(Route, item, problems)) for item in owner.objects(key))
    problems.read(None, _check_unique_names, routes)
    return routes


def _quiet_section(read: Callable[[Reader, str, Problems], tuple[Any, ...]]) -> dict[str, Any]:
    """A quiet section: a list of its declared model, read by `read`, which imports the section's module. None
    (absent, null, or `[]` as the stack writes it) imports nothing: an alarms-only cold start does not load the
    parsers it never runs (`make bench`; tests/handler/test_lazy_imports.py)."""
    return declared(lambda owner, key, problems: None if owner.raw(key) in (None, []) else read(owner, key, problems))


@dataclass(frozen=True, kw_only=True)
class BridgeConfig:
    """The whole configuration: the default route, the routes in order, and the bridge-wide settings."""

    default: DefaultRoute = field(metadata=declared(_default_route))
    routes: tuple[Route, ...] = field(default=(), metadata=declared(_routes))
    #: Topics that already fan alarms out; the stack subscribes the bridge's queue to each.
    sns_topic_arns: tuple[str, ...] = field(default=(), metadata=_SNS_TOPICS)
    #: When an event carries no alarmTags, look them up with cloudwatch:ListTagsForResource (cached per container).
    lookup_alarm_tags: bool = field(default=False, metadata=flag())
    #: An alarm that fires again this soon after the bridge resolved its incident reopens that incident.
    flap_window_seconds: int = field(default=900, metadata=whole(ge=0, le=86_400))
    #: Trust that a joined incident is still open for this long after GetIncidentRecord said so (0: always ask).
    #: In a storm this saves one call per alarm; a human's resolve is noticed at most this much later.
    incident_check_seconds: int = field(default=0, metadata=whole(ge=0, le=300))
    #: Plan that Incident Manager's native alarm action starts when the bridge itself is broken (self-monitoring).
    fallback_response_plan_arn: str | None = field(default=None, metadata=_PLAN_ARN)
    #: AWS service-event profiles to open incidents from (sources/profiles.py), or `all`; none by default: alarms
    #: (and custom events) only. The stack creates a default-bus rule for exactly these.
    aws_events: tuple[str, ...] = field(default=(), metadata=_AWS_EVENTS)
    #: Named time intervals in Alertmanager's format, for routes' mute_time_intervals / active_time_intervals.
    time_intervals: tuple[NamedTimeInterval, ...] = field(
        default=(), metadata=_quiet_section(lambda owner, key, problems: _time_intervals(owner, key, problems))
    )
    #: Silences kept in git (live ones are in the state table, from `incident-bridge silence add`).
    silences: tuple[Silence, ...] = field(
        default=(), metadata=_quiet_section(lambda owner, key, problems: _silences(owner, key, problems))
    )
    #: While an alarm matching `source_matchers` fires, alarms matching `target_matchers` with the same `equal`
    #: labels stay quiet.
    inhibit_rules: tuple[InhibitRule, ...] = field(
        default=(), metadata=_quiet_section(lambda owner, key, problems: _inhibit_rules(owner, key, problems))
    )
    #: Account id -> its name, the label `account_alias` for matchers, group keys and titles.
    accounts: dict[str, str] = field(
        default_factory=dict, metadata=declared(_plain(lambda owner, key: _accounts(owner, key)))
    )
    #: Forwarders (`ACCOUNT/REGION`) whose silence pages even before their first heartbeat.
    expected_forwarders: tuple[str, ...] = field(
        default=(), metadata=declared(_plain(lambda owner, key: _expected_forwarders(owner, key)))
    )

    @cached_property
    def enabled_aws_events(self) -> frozenset[str]:
        """The profile names `aws_events` enables (`all` is every profile but the opt-in ones)."""
        if not self.aws_events:
            return frozenset()  # alarms only: the profile catalogue is not even imported
        from incident_bridge.sources.profiles import enabled_profiles

        return enabled_profiles(self.aws_events)

    def response_plan_arns(self) -> tuple[str, ...]:
        """Every plan the bridge may start incidents in; IAM grants exactly these."""
        plans = [self.default.response_plan_arn, self.forwarder_silent_route().response_plan_arn]
        plans += [route.response_plan_arn for route in self.routes if route.response_plan_arn and not route.drop]
        return tuple(plan for plan in dict.fromkeys(plans) if plan)

    def account_alias(self, account: str) -> str:
        return self.accounts.get(account) or account

    def forwarder_silent_route(self) -> Route:
        """The route of silent-forwarder incidents: the built-in one, with whatever a route of the same name in
        `routes` sets laid over it. Other signals never take it, and it never takes them."""
        given = next((route for route in self.routes if route.name == FORWARDER_SILENT_ROUTE), None)
        if given is None:
            return _BUILT_IN_FORWARDER_SILENT
        overrides = {spec.name: getattr(given, spec.name) for spec in fields(Route)}
        overrides = {name: value for name, value in overrides.items() if value is not None and name != "match"}
        if given.match != Match():
            overrides["match"] = given.match
        overrides["continue_"] = False  # a single route: nothing follows it
        return replace(_BUILT_IN_FORWARDER_SILENT, **overrides)

    def to_document(self) -> dict[str, Any]:
        """The configuration as JSON-ready data under the document's keys; `parse_config` reads it back equal."""
        return document_of(self)


#: Silent forwarders page through this route unless `routes` names one `forwarder-silent`; it takes the default
#: route's plan and impact, and resolves its incident when heartbeats resume.
_BUILT_IN_FORWARDER_SILENT = Route(
    name=FORWARDER_SILENT_ROUTE, match=Match(source=(FORWARDER_SOURCE,)), auto_resolve=True
)


def parse_config(document: Any, *, origin: str) -> BridgeConfig:
    problems = Problems()
    empty: dict[str, Any] = {}
    given = problems.read(empty, lambda: read_fields(BridgeConfig, Reader(document), problems))
    if isinstance(document, dict):
        intervals = given.get("time_intervals", ())
        _check_interval_names(Reader(document), {interval.name for interval in intervals}, problems)
    config = BridgeConfig(**given) if "default" in given else None
    if config is None or problems.found:
        raise ConfigError(f"{origin}: {problems}")
    return config


def load_config(path: Path) -> BridgeConfig:
    """Reads YAML or JSON (JSON is YAML, but the Lambda ships JSON so it needs no YAML parser)."""
    try:
        content = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the configuration file ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise ConfigSyntaxError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    if path.suffix == ".json":
        try:
            document = json.loads(content)
        except json.JSONDecodeError as error:
            raise ConfigSyntaxError(f"{path}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}") from None
    else:
        document = _load_yaml(path, content)
    return parse_config(document, origin=str(path))


def _load_yaml(path: Path, text: str) -> Any:
    import yaml  # only the CLI and `cdk synth` read YAML; the Lambda reads the JSON written at synth

    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        # One line, where the parser stopped and why (PyYAML counts lines and columns from 0).
        mark = error.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        context = f" ({error.context})" if error.context else ""
        raise ConfigSyntaxError(f"{where}: not valid YAML: {error.problem}{context}") from None
    except yaml.YAMLError as error:
        raise ConfigSyntaxError(f"{path}: not valid YAML: {error}") from None


# ---- the field readers the declarations name ----


def _check_last_resort(path: str, route: DefaultRoute) -> None:
    if route.match != Match():
        raise FieldError(path, "the default route catches what no other route does: it takes no `match`")
    if route.drop or route.continue_:
        raise FieldError(path, "the default route is the last resort: `drop` and `continue` do not apply to it")


def _response_plan_arn(owner: Reader, *, required: bool, key: str = "response_plan_arn") -> str | None:
    value = owner.string(key) if required else owner.optional_string(key)
    if value is not None and not is_response_plan_arn(value):
        raise FieldError(owner.at(key), response_plan_arn_problem(value))
    return value


def response_plan_arn_problem(value: str) -> str:
    """What is wrong with a response plan ARN, with the shape it should have. The value is quoted whole: the part
    that is wrong is often at its end."""
    expected = f"expected {RESPONSE_PLAN_ARN_SHAPE}"
    parts = value.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "ssm-incidents":
        _, partition, _, region, account, resource = parts
        if region:
            return f"{value!r} names region {region!r}: response plan ARNs have none ({expected})"
        if not re.fullmatch(r"[0-9]{12}", account):
            return f"{value!r}: account {account!r} is not 12 digits ({expected})"
        if partition not in {"aws", "aws-cn", "aws-us-gov"}:
            return f"{value!r}: partition {partition!r} is not aws, aws-cn or aws-us-gov ({expected})"
        if not re.fullmatch(r"response-plan/[A-Za-z0-9_-]{1,200}", resource):
            return (
                f"{value!r}: {resource!r} is not response-plan/NAME, NAME being 1-200 of A-Z a-z 0-9 _ - ({expected})"
            )
    return f"{value!r} is not a response plan ARN ({expected})"


def _title(route: Reader, key: str) -> str | None:
    template = route.optional_string(key, min_length=1, max_length=1000)
    if template is None:
        return None
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as error:
        raise FieldError(route.at(key), f"not a valid title template: {error}") from None
    for name in names:
        if name not in TITLE_FIELDS and not name.startswith(("tag_", "detail_")):
            known = ", ".join(sorted(TITLE_FIELDS))
            raise FieldError(route.at(key), f"unknown field {{{name}}} (known: {known}, tag_<key>, detail_<key>)")
    return template


def _group_by(route: Reader, key: str) -> tuple[str, ...] | None:
    names = route.strings(key) if route.has(key) else None
    for index, name in enumerate(names or ()):
        prefix, _, rest = name.partition(":")
        if name not in GROUP_FIELDS and not (prefix in {"tag", "dimension", "detail"} and rest):
            known = ", ".join(sorted(GROUP_FIELDS))
            raise FieldError(
                route.at(f"{key}.{index}"),
                f"unknown field {name!r} (known: {known}, tag:<key>, dimension:<name>, detail:<path>)",
            )
        _refuse_matcher_path(route.at(f"{key}.{index}"), key, name)
    return names


def _refuse_matcher_path(path: str, key: str, name: str) -> None:
    """A matcher's `detail` key is `$.a.b`; the label it reads is `detail:a.b`, which `group_by` and `equal` name.
    With the `$.` the label is never there: every event would quietly be a group of its own, and (a label absent on
    both sides being equal) every inhibition source would quiet every target."""
    prefix, _, rest = name.partition(":")
    if prefix == "detail" and rest.startswith("$"):
        raise FieldError(
            path,
            # No `;` in the message: config check prints each `; `-separated problem on its own line.
            f"{name!r} spells the path as a matcher does ({key} names the label: "
            f"'detail:{rest.removeprefix('$').removeprefix('.')}')",
        )


def _sns_topic_arns(config: Reader, key: str) -> tuple[str, ...]:
    arns = config.strings(key)
    for index, arn in enumerate(arns):
        if _SNS_TOPIC_ARN.search(arn) is None:
            # Worded as Reader words a string that misses its pattern.
            raise FieldError(config.at(f"{key}.{index}"), f"{shown(arn)} does not match {_SNS_TOPIC_ARN.pattern!r}")
    return arns


def _aws_events(config: Reader, key: str) -> tuple[str, ...] | None:
    """`all`, or a list of profile names (which may include `all` and the opt-in ones)."""
    value = config.raw(key)
    if value is None:
        return None
    if value == []:
        # The stack writes every key, `aws_events: []` too: alarms only, so the profile catalogue is not imported.
        return ()
    from incident_bridge.sources.profiles import ALL, PROFILE_NAMES  # only a configuration that names profiles

    names = (value,) if isinstance(value, str) else config.strings(key)
    known = (ALL, *PROFILE_NAMES)
    for index, name in enumerate(names):
        if name not in known:
            where = config.at(key) if isinstance(value, str) else config.at(f"{key}.{index}")
            raise FieldError(where, f"unknown profile {name!r} (known: {', '.join(known)})")
    return tuple(names)


def _accounts(config: Reader, key: str) -> dict[str, str] | None:
    """`{"111122223333": "payments-prod"}`; YAML reads unquoted ids as numbers, so keys are taken as text."""
    if not config.has(key):
        return None
    config.obj(key)  # refuses a value that is not an object, naming the path
    mapping = config.raw(key)
    if len(mapping) > MAX_FORWARDERS:
        raise FieldError(config.at(key), f"at most {MAX_FORWARDERS} accounts, got {len(mapping)}")
    aliases = {}
    for given, alias in mapping.items():
        account = str(given).zfill(12) if isinstance(given, int) else str(given)
        path = config.at(f"{key}.{account}")
        if not is_account(account):
            raise FieldError(path, f"{shown(str(given))} is not a 12-digit AWS account id")
        if not isinstance(alias, str) or not _ALIAS.match(alias):
            raise FieldError(
                path, f"expected a name of 1 to 64 printable characters without braces, got {shown(alias)}"
            )
        aliases[account] = alias
    return aliases


def _expected_forwarders(config: Reader, key: str) -> tuple[str, ...] | None:
    """`["111122223333/eu-west-1", ...]`: forwarders watched from the first check, heard from or not."""
    if not config.has(key):
        return None
    entries = config.strings(key)
    if len(entries) > MAX_FORWARDERS:
        raise FieldError(config.at(key), f"at most {MAX_FORWARDERS} forwarders, got {len(entries)}")
    for index, entry in enumerate(entries):
        account, _, region = entry.partition("/")
        if not is_account(account) or not is_region(region):
            raise FieldError(
                config.at(f"{key}.{index}"), f"{shown(entry)} is not ACCOUNT/REGION (e.g. 111122223333/eu-west-1)"
            )
    return tuple(dict.fromkeys(entries))


def _check_unique_names(routes: tuple[Route, ...]) -> None:
    refuse_duplicates("", "route names", [route.name for route in routes if route.name])


# ---- quiet: time intervals, silences, inhibition ----


def _check_interval_names(config: Reader, known: set[str], problems: Problems) -> None:
    """Every interval a route names is defined under `time_intervals`: a mistake names the route's field."""
    owners: list[Reader] = []
    for key in ("default", "routes"):
        try:
            owners += [config.obj(key)] if key == "default" else config.objects(key)
        except FieldError:
            continue  # the shape itself is wrong: already noted where it was read
    for owner in owners:
        for key in ("mute_time_intervals", "active_time_intervals"):
            try:
                names = owner.items(key)
            except FieldError:
                continue
            for path, name in names:
                if isinstance(name, str) and name not in known:
                    listed = ", ".join(sorted(known)) or "none defined under time_intervals"
                    problems.found.append(FieldError(path, f"unknown time interval {name!r} (known: {listed})"))


def _time_intervals(config: Reader, key: str, problems: Problems) -> tuple[NamedTimeInterval, ...]:
    from incident_bridge.quiet.intervals import read_named_intervals

    return read_named_intervals(config, key, problems)


def _silences(config: Reader, key: str, problems: Problems) -> tuple[Silence, ...]:
    from incident_bridge.quiet.silences import Silence, check_silence

    silences = read_models(config, key, problems, Silence, check=check_silence)
    refuse_duplicates(config.at(key), "silence ids", [silence.id for silence in silences])
    return silences


def _inhibit_rules(config: Reader, key: str, problems: Problems) -> tuple[InhibitRule, ...]:
    from incident_bridge.quiet.inhibition import InhibitRule

    return read_models(config, key, problems, InhibitRule)


def _required_match(owner: Reader, key: str, problems: Problems) -> Match:
    match = _match(owner, key, problems)
    if match is None:
        raise FieldError(owner.at(key), "required (a matcher object, as a route's match)")
    return match


def _silence_match(owner: Reader, key: str, problems: Problems) -> Match:
    match = _match(owner, key, problems)
    if match is None or match == Match():
        raise FieldError(owner.at(key), "a silence needs at least one matcher")
    return match


#: How the quiet models' fields (declared in quiet/) read what a route's fields read: an inhibit rule's
#: `source_matchers` / `target_matchers` (a route's `match`, required), its `equal` label names, a silence's `match`
#: (at least one matcher: a silence of everything would quiet every page).
REQUIRED_MATCH = declared(lambda owner, key, problems: _required_match(owner, key, problems))
SILENCE_MATCH = declared(lambda owner, key, problems: _silence_match(owner, key, problems))
EQUAL_LABELS = declared(_plain(lambda owner, key: _label_names(owner, key)))


#: Labels `equal` may name, besides `tag:<key>`, `dimension:<name>` and `detail:<path>`.
LABEL_NAMES = GROUP_FIELDS | {"state"}


def _label_names(item: Reader, key: str) -> tuple[str, ...]:
    names = item.strings(key)
    for index, name in enumerate(names):
        prefix, _, rest = name.partition(":")
        if name not in LABEL_NAMES and not (prefix in {"tag", "dimension", "detail"} and rest):
            known = ", ".join(sorted(LABEL_NAMES))
            raise FieldError(item.at(f"{key}.{index}"), f"unknown label {name!r} (known: {known}, tag:<key>, "
                             "dimension:<name>, detail:<path>)")  # fmt: skip
        _refuse_matcher_path(item.at(f"{key}.{index}"), key, name)
    return names


def parse_match(document: object, *, origin: str) -> Match:
    """A matcher object on its own (a live silence's), validated as a route's `match`."""
    problems = Problems()
    match = problems.read(None, _match, Reader({"match": document}), "match", problems)
    if match is None or problems.found:
        raise ConfigError(f"{origin}: {problems}")
    return match


def parse_silence(document: object, *, origin: str) -> Silence:
    """One silence on its own (a live one, from the state table or the CLI), validated as `silences:` items are."""
    from incident_bridge.quiet.silences import Silence, check_silence

    try:
        return read_model(Silence, document, check=check_silence)
    except ModelError as error:
        raise ConfigError(f"{origin}: {error}") from None


def match_document(match: Match) -> dict[str, Any]:
    """The matchers as a route's `match` spells them (absent ones as None)."""
    return document_of(match)


def silence_document(silence: Silence) -> dict[str, Any]:
    """The silence as `silences:` spells it; `parse_silence` reads it back equal."""
    return document_of(silence)


# ---- matchers ----


def _scalar(value: object) -> object:
    # YAML reads `account: 123456789012` and `$.retryable: true` as numbers and booleans: match them as text,
    # spelled as JSON spells them.
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, int | float) else value


def _pattern(path: str, value: object, expected: str) -> str:
    scalar = _scalar(value)
    if not isinstance(scalar, str):
        raise FieldError(path, f"expected {expected}, got {kind_of(value)}")
    return scalar


def _patterns(path: str, value: object) -> tuple[str, ...]:
    """One value or a list of them, as text; a matcher matches when any of them does."""
    if not isinstance(value, list | tuple):
        return (_pattern(path, value, "a string or a list of strings"),)
    if not value:
        raise FieldError(path, "expected at least one value")
    return tuple(_pattern(f"{path}.{index}", item, "a string") for index, item in enumerate(value))


def _pattern_list(match: Reader, key: str) -> tuple[str, ...] | None:
    value = match.raw(key)
    return None if value is None else _patterns(match.at(key), value)


def _pattern_map(match: Reader, key: str) -> dict[str, tuple[str, ...]] | None:
    """Name -> one value or a list of them (dimensions, tags, detail paths)."""
    mapping = match.optional_obj(key)
    if mapping is None:
        return None
    return {name: _patterns(mapping.at(name), mapping.raw(name)) for name in mapping.fields()}


def _regexes(match: Reader, key: str) -> tuple[str, ...] | None:
    patterns = _pattern_list(match, key)
    for pattern in patterns or ():
        try:
            re.compile(pattern)
        except re.error as error:
            raise FieldError(match.at(key), f"not a valid regular expression {pattern!r}: {error}") from None
    return patterns


def _detail_paths(match: Reader, key: str) -> dict[str, tuple[str, ...]] | None:
    wanted = _pattern_map(match, key)
    for path in wanted or {}:
        if not _DETAIL_PATH.fullmatch(path):
            raise FieldError(match.at(key), f"{path!r} is not a path like $.severity or $.service.name")
    return wanted
