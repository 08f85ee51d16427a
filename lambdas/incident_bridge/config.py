"""The bridge configuration: one validated model, one loader, used by the Lambda at cold start and by `cdk synth`.

Routes are an ordered list, as in Alertmanager: the first match wins unless it says `continue`. Every route
inherits what it leaves unset from `default`, which must name a response plan.

The model is plain frozen dataclasses read with `reader.Reader`, not pydantic: pydantic's import and model building
were close to half of the Lambda's cold start. Every problem reads `<path>: <problem>`, as the Reader words it.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable
from dataclasses import Field, dataclass, field, fields, is_dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from incident_bridge.aws import (
    RESPONSE_PLAN_ARN_PATTERN,
    RESPONSE_PLAN_ARN_SHAPE,
    SNS_TOPIC_ARN,
    is_account,
    is_region,
    is_response_plan_arn,
)
from incident_bridge.errors import ConfigError, ConfigSyntaxError
from incident_bridge.heartbeats import FORWARDER_SILENT_ROUTE, FORWARDER_SOURCE
from incident_bridge.reader import FieldError, Reader, kind_of, shown

if TYPE_CHECKING:
    from incident_bridge.routing import RouteTable

P = ParamSpec("P")
T = TypeVar("T")

_RESPONSE_PLAN_ARN = re.compile(RESPONSE_PLAN_ARN_PATTERN)
_SNS_TOPIC_ARN = SNS_TOPIC_ARN
_HTTP_URL = re.compile(r"^https?://")
_DETAIL_PATH = re.compile(r"\$(\.[A-Za-z0-9_-]+)+")
#: `account_alias` is the account's name from `accounts`, or its id when it has none.
DEFAULT_TITLE = "{alarm_name} is in ALARM ({account_alias}, {region})"
#: Fields a title template may name; `tag_<key>` names an alarm tag, `detail_<key>` a custom event's detail key.
TITLE_FIELDS = frozenset(
    {"alarm_name", "account", "account_alias", "region", "state", "reason", "description", "namespace",
     "metric_name", "kind", "title", "summary", "source", "detail_type", "route"}
)  # fmt: skip

#: Fields `group_by` may name, besides `tag:<key>` and `dimension:<name>`.
GROUP_FIELDS = frozenset({"alarm_name", "alarm_arn", "account", "account_alias", "region", "namespace", "metric_name"})
#: Printable, no braces (titles are templates) and short enough for a title: `payments-prod`, `Payments (prod)`.
_ALIAS = re.compile(r"^[^{}\x00-\x1f]{1,64}\Z")
#: At most this many `accounts` and `expected_forwarders` (heartbeats of all forwarders share one 400 KB item).
MAX_FORWARDERS = 2000

#: Incident Manager impact: 1 critical ... 5 no impact.
MIN_IMPACT, MAX_IMPACT = 1, 5
#: Problems one message lists; a file that is wrong everywhere is more likely the wrong file.
MAX_PROBLEMS = 20

# Field metadata: the document's key where it is not the attribute's name (`continue` is a Python keyword).
_KEY = "key"


@dataclass(frozen=True, kw_only=True)
class Match:
    """All given matchers must match (AND); each matcher's values are alternatives (OR). Globs use `*` and `?`.
    Each matcher takes one value or a list of them."""

    alarm_name: tuple[str, ...] | None = None
    alarm_name_regex: tuple[str, ...] | None = None
    namespace: tuple[str, ...] | None = None
    metric_name: tuple[str, ...] | None = None
    #: dimension name -> glob(s) of its value; any of the alarm's metrics may carry it
    dimensions: dict[str, tuple[str, ...]] | None = None
    account: tuple[str, ...] | None = None
    #: the account's name from `accounts` (its id when it has none)
    account_alias: tuple[str, ...] | None = None
    region: tuple[str, ...] | None = None
    state: tuple[str, ...] | None = None
    #: tag key -> glob(s) of its value, from the event's alarmTags or the tag lookup
    tags: dict[str, tuple[str, ...]] | None = None
    # Custom application events
    source: tuple[str, ...] | None = None
    detail_type: tuple[str, ...] | None = field(default=None, metadata={_KEY: "detail-type"})
    #: JSONPath-like path into `detail` (`$.severity`, `$.service.name`) -> glob(s) of its value
    detail: dict[str, tuple[str, ...]] | None = None


@dataclass(frozen=True, kw_only=True)
class RelatedUrl:
    """A link on the incident (runbook, dashboard); `_read_related_url` holds its limits."""

    title: str
    url: str


@dataclass(frozen=True, kw_only=True)
class Route:
    """What the bridge does with the alarms a route catches. Unset fields are inherited from `default`."""

    name: str | None = None
    match: Match = field(default_factory=Match)
    response_plan_arn: str | None = None
    impact: int | None = None
    #: alarm tag whose value (1-5) overrides `impact`, e.g. incident-impact
    impact_tag: str | None = None
    title: str | None = None
    related_urls: tuple[RelatedUrl, ...] | None = None
    #: alarm tags whose values are URLs to attach (runbook, dashboard)
    related_url_tags: tuple[str, ...] | None = None
    #: fields forming the group key (used by the incident lifecycle): alarm_name, namespace, tag:<key>, ...
    group_by: tuple[str, ...] | None = None
    auto_resolve: bool | None = None
    continue_: bool = field(default=False, metadata={_KEY: "continue"})
    drop: bool = False


@dataclass(frozen=True, kw_only=True)
class DefaultRoute(Route):
    """The route of last resort: it names the response plan and the values other routes inherit."""

    response_plan_arn: str
    name: str | None = "default"
    impact: int | None = 3
    title: str | None = DEFAULT_TITLE
    related_url_tags: tuple[str, ...] | None = ("runbook-url", "dashboard-url")
    auto_resolve: bool | None = False


@dataclass(frozen=True, kw_only=True)
class BridgeConfig:
    """The whole configuration: the default route, the routes in order, and the bridge-wide settings."""

    default: DefaultRoute
    routes: tuple[Route, ...] = ()
    #: Topics that already fan alarms out; the stack subscribes the bridge's queue to each.
    sns_topic_arns: tuple[str, ...] = ()
    #: When an event carries no alarmTags, look them up with cloudwatch:ListTagsForResource (cached per container).
    lookup_alarm_tags: bool = False
    #: An alarm that fires again this soon after the bridge resolved its incident reopens that incident.
    flap_window_seconds: int = 900
    #: Trust that a joined incident is still open for this long after GetIncidentRecord said so (0: always ask).
    #: In a storm this saves one call per alarm; a human's resolve is noticed at most this much later.
    incident_check_seconds: int = 0
    #: Plan that Incident Manager's native alarm action starts when the bridge itself is broken (self-monitoring).
    fallback_response_plan_arn: str | None = None
    #: Account id -> its name, the label `account_alias` for matchers, group keys and titles.
    accounts: dict[str, str] = field(default_factory=dict)
    #: Forwarders (`ACCOUNT/REGION`) whose silence pages even before their first heartbeat.
    expected_forwarders: tuple[str, ...] = ()
    #: AWS service-event profiles to open incidents from (sources/profiles.py), or `all`; none by default: alarms
    #: (and custom events) only. The stack creates a default-bus rule for exactly these.
    aws_events: tuple[str, ...] = ()

    @cached_property
    def enabled_aws_events(self) -> frozenset[str]:
        """The profile names `aws_events` enables (`all` is every profile but the opt-in ones)."""
        if not self.aws_events:
            return frozenset()  # alarms only: the profile catalogue is not even imported
        from incident_bridge.sources.profiles import enabled_profiles

        return enabled_profiles(self.aws_events)

    @cached_property
    def route_table(self) -> RouteTable:
        """The routes resolved for routing (inheritance filled in, matchers compiled); built when the configuration
        is read (`parse_config`), then shared by every event."""
        from incident_bridge.routing import RouteTable  # routing reads this module's types

        return RouteTable.of(self)

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

    def event_routes(self) -> tuple[Route, ...]:
        """The routes alarms and events take: every route but `forwarder-silent`."""
        return tuple(route for route in self.routes if route.name != FORWARDER_SILENT_ROUTE)

    def to_document(self) -> dict[str, Any]:
        """The configuration as JSON-ready data under the document's keys; `parse_config` reads it back equal."""
        return _document_of(self)


#: Silent forwarders page through this route unless `routes` names one `forwarder-silent`; it takes the default
#: route's plan and impact, and resolves its incident when heartbeats resume.
_BUILT_IN_FORWARDER_SILENT = Route(
    name=FORWARDER_SILENT_ROUTE, match=Match(source=(FORWARDER_SOURCE,)), auto_resolve=True
)


def parse_config(document: Any, *, origin: str) -> BridgeConfig:
    problems = _Problems()
    config = problems.read(None, _read_config, document, problems)
    if config is None or problems.found:
        raise ConfigError(f"{origin}: {problems}")
    config.route_table  # noqa: B018 - resolved once, here, not on the first event
    return config


def load_config(path: Path) -> BridgeConfig:
    """Reads YAML or JSON (JSON is YAML, but the Lambda ships JSON so it needs no YAML parser)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the configuration file ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise ConfigSyntaxError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    if path.suffix == ".json":
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigSyntaxError(f"{path}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}") from None
    else:
        document = _load_yaml(path, text)
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


# ---- reading: each object's fields in order, every mistake noted ----


class _Problems:
    """The mistakes found so far. Reading goes on past one, so `config check` lists them all in one run."""

    def __init__(self) -> None:
        self.found: list[FieldError] = []

    def read(self, fallback: T, read: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """`read(*args, **kwargs)`; when it raises a FieldError, notes it and gives `fallback` instead."""
        try:
            return read(*args, **kwargs)
        except FieldError as error:
            self.found.append(error)
            return fallback

    def __str__(self) -> str:
        shown_problems = [str(problem) for problem in self.found[:MAX_PROBLEMS]]
        if len(self.found) > MAX_PROBLEMS:
            shown_problems.append(f"and {len(self.found) - MAX_PROBLEMS} more")
        return "; ".join(shown_problems)


def _key(spec: Field[Any]) -> str:
    return str(spec.metadata.get(_KEY, spec.name))


def _known_keys(model: type[Any]) -> frozenset[str]:
    """The document's keys, plus the attribute names where they differ (`continue_`, `detail_type`): both
    spellings were always accepted."""
    return frozenset(_key(spec) for spec in fields(model)) | {spec.name for spec in fields(model)}


def _spelled(owner: Reader, key: str, name: str) -> str:
    """The key `owner` gives a field under: the document's `key`, unless only the attribute's `name` is there."""
    return name if not owner.has(key) and owner.has(name) else key


def _present(values: dict[str, Any]) -> dict[str, Any]:
    """Leaves out the fields a document does not give, so the dataclass defaults apply."""
    return {name: value for name, value in values.items() if value is not None}


def _read_config(document: object, problems: _Problems) -> BridgeConfig | None:
    config = Reader(document)
    problems.read(None, config.only, _CONFIG_KEYS)
    default = problems.read(None, config.obj, "default")
    default_route = None if default is None else _read_default_route(default, problems)
    items = problems.read([], config.objects, "routes")
    routes = tuple(Route(**_read_route_fields(item, problems, plan_required=False)) for item in items)
    problems.read(None, _check_unique_names, routes)
    given = _present(
        {
            "sns_topic_arns": problems.read(None, _sns_topic_arns, config),
            "lookup_alarm_tags": problems.read(None, _optional_boolean, config, "lookup_alarm_tags"),
            "flap_window_seconds": problems.read(None, config.optional_integer, "flap_window_seconds", ge=0, le=86_400),
            "incident_check_seconds": problems.read(
                None, config.optional_integer, "incident_check_seconds", ge=0, le=300
            ),
            "fallback_response_plan_arn": problems.read(
                None, _response_plan_arn, config, required=False, key="fallback_response_plan_arn"
            ),
            "accounts": problems.read(None, _accounts, config),
            "expected_forwarders": problems.read(None, _expected_forwarders, config),
            "aws_events": problems.read(None, _aws_events, config),
        }
    )
    return None if default_route is None else BridgeConfig(default=default_route, routes=routes, **given)


def _read_default_route(default: Reader, problems: _Problems) -> DefaultRoute | None:
    given = _read_route_fields(default, problems, plan_required=True)
    if "response_plan_arn" not in given:
        return None  # missing or wrong: already noted
    route = DefaultRoute(**given)
    problems.read(None, _check_last_resort, default.path, route)
    return route


def _check_last_resort(path: str, route: DefaultRoute) -> None:
    if route.match != Match():
        raise FieldError(path, "the default route catches what no other route does: it takes no `match`")
    if route.drop or route.continue_:
        raise FieldError(path, "the default route is the last resort: `drop` and `continue` do not apply to it")


def _read_route_fields(route: Reader, problems: _Problems, *, plan_required: bool) -> dict[str, Any]:
    """The fields a route gives; a field that is wrong is noted and left out."""
    problems.read(None, route.only, _ROUTE_KEYS)
    read = problems.read
    return _present(
        {
            "name": read(None, route.optional_string, "name", min_length=1, max_length=64),
            "match": read(None, _read_match, route, problems),
            "response_plan_arn": read(None, _response_plan_arn, route, required=plan_required),
            "impact": read(None, route.optional_integer, "impact", ge=MIN_IMPACT, le=MAX_IMPACT),
            "impact_tag": read(None, route.optional_string, "impact_tag"),
            "title": read(None, _title, route),
            "related_urls": read(None, _related_urls, route),
            "related_url_tags": read(None, _optional_strings, route, "related_url_tags"),
            "group_by": read(None, _group_by, route),
            "auto_resolve": read(None, _optional_boolean, route, "auto_resolve"),
            "continue_": read(None, _optional_boolean, route, _spelled(route, "continue", "continue_")),
            "drop": read(None, _optional_boolean, route, "drop"),
        }
    )


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


def _optional_boolean(owner: Reader, key: str) -> bool | None:
    return owner.boolean(key, default=False) if owner.has(key) else None


def _optional_strings(owner: Reader, key: str) -> tuple[str, ...] | None:
    """A list of strings, or None when absent: an empty list is given, and overrides what `default` says."""
    return owner.strings(key) if owner.has(key) else None


def _title(route: Reader) -> str | None:
    template = route.optional_string("title", min_length=1, max_length=1000)
    if template is None:
        return None
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as error:
        raise FieldError(route.at("title"), f"not a valid title template: {error}") from None
    for name in names:
        if name not in TITLE_FIELDS and not name.startswith(("tag_", "detail_")):
            known = ", ".join(sorted(TITLE_FIELDS))
            raise FieldError(route.at("title"), f"unknown field {{{name}}} (known: {known}, tag_<key>, detail_<key>)")
    return template


def _group_by(route: Reader) -> tuple[str, ...] | None:
    names = _optional_strings(route, "group_by")
    for index, name in enumerate(names or ()):
        prefix, _, rest = name.partition(":")
        if name not in GROUP_FIELDS and not (prefix in {"tag", "dimension"} and rest):
            known = ", ".join(sorted(GROUP_FIELDS))
            raise FieldError(
                route.at(f"group_by.{index}"), f"unknown field {name!r} (known: {known}, tag:<key>, dimension:<name>)"
            )
    return names


def _read_related_url(item: Reader) -> RelatedUrl:
    """One `{title, url}` object of a route's related_urls."""
    item.only(_RELATED_URL_KEYS)
    return RelatedUrl(
        title=item.string("title", min_length=1, max_length=200),
        url=item.string("url", max_length=1000, pattern=_HTTP_URL),
    )


def _related_urls(route: Reader) -> tuple[RelatedUrl, ...] | None:
    if not route.has("related_urls"):
        return None
    return tuple(_read_related_url(item) for item in route.objects("related_urls"))


def _sns_topic_arns(config: Reader) -> tuple[str, ...]:
    arns = config.strings("sns_topic_arns")
    for index, arn in enumerate(arns):
        if _SNS_TOPIC_ARN.search(arn) is None:
            # Worded as Reader words a string that misses its pattern.
            raise FieldError(
                config.at(f"sns_topic_arns.{index}"), f"{shown(arn)} does not match {_SNS_TOPIC_ARN.pattern!r}"
            )
    return arns


def _accounts(config: Reader) -> dict[str, str] | None:
    """`{"111122223333": "payments-prod"}`; YAML reads unquoted ids as numbers, so keys are taken as text."""
    if not config.has("accounts"):
        return None
    config.obj("accounts")  # refuses a value that is not an object, naming the path
    mapping = config.raw("accounts")
    if len(mapping) > MAX_FORWARDERS:
        raise FieldError(config.at("accounts"), f"at most {MAX_FORWARDERS} accounts, got {len(mapping)}")
    aliases = {}
    for key, alias in mapping.items():
        account = str(key).zfill(12) if isinstance(key, int) else str(key)
        path = config.at(f"accounts.{account}")
        if not is_account(account):
            raise FieldError(path, f"{shown(str(key))} is not a 12-digit AWS account id")
        if not isinstance(alias, str) or not _ALIAS.match(alias):
            raise FieldError(
                path, f"expected a name of 1 to 64 printable characters without braces, got {shown(alias)}"
            )
        aliases[account] = alias
    return aliases


def _expected_forwarders(config: Reader) -> tuple[str, ...] | None:
    """`["111122223333/eu-west-1", ...]`: forwarders watched from the first check, heard from or not."""
    if not config.has("expected_forwarders"):
        return None
    entries = config.strings("expected_forwarders")
    if len(entries) > MAX_FORWARDERS:
        raise FieldError(config.at("expected_forwarders"), f"at most {MAX_FORWARDERS} forwarders, got {len(entries)}")
    for index, entry in enumerate(entries):
        account, _, region = entry.partition("/")
        if not is_account(account) or not is_region(region):
            raise FieldError(
                config.at(f"expected_forwarders.{index}"),
                f"{shown(entry)} is not ACCOUNT/REGION (e.g. 111122223333/eu-west-1)",
            )
    return tuple(dict.fromkeys(entries))


def _aws_events(config: Reader) -> tuple[str, ...] | None:
    """`all`, or a list of profile names (which may include `all` and the opt-in ones)."""
    value = config.raw("aws_events")
    if value is None:
        return None
    from incident_bridge.sources.profiles import ALL, PROFILE_NAMES  # only a configuration that names profiles

    names = (value,) if isinstance(value, str) else config.strings("aws_events")
    known = (ALL, *PROFILE_NAMES)
    for index, name in enumerate(names):
        if name not in known:
            where = config.at("aws_events") if isinstance(value, str) else config.at(f"aws_events.{index}")
            raise FieldError(where, f"unknown profile {name!r} (known: {', '.join(known)})")
    return tuple(names)


def _check_unique_names(routes: tuple[Route, ...]) -> None:
    names = [route.name for route in routes if route.name]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise FieldError("", f"route names must be unique: {', '.join(duplicates)}")


# ---- matchers ----


def _scalar(value: object) -> object:
    # YAML reads `account: 123456789012` and `$.retryable: true` as numbers and booleans: match them as text,
    # spelled as JSON spells them.
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, int | float) else value


def _pattern(path: str, value: object, expected: str) -> str:
    text = _scalar(value)
    if not isinstance(text, str):
        raise FieldError(path, f"expected {expected}, got {kind_of(value)}")
    return text


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


# How each matcher is read, by attribute; the others are one value or a list of them.
_MATCHER_READERS: dict[str, Callable[[Reader, str], object]] = {
    "alarm_name_regex": _regexes,
    "dimensions": _pattern_map,
    "tags": _pattern_map,
    "detail": _detail_paths,
}


def _read_match(route: Reader, problems: _Problems) -> Match | None:
    match = route.optional_obj("match")
    if match is None:
        return None
    problems.read(None, match.only, _MATCH_KEYS)
    given: dict[str, Any] = {
        spec.name: problems.read(
            None, _MATCHER_READERS.get(spec.name, _pattern_list), match, _spelled(match, _key(spec), spec.name)
        )
        for spec in fields(Match)
    }
    return Match(**given)


# ---- writing ----


def _document_of(model: Any) -> dict[str, Any]:
    return {_key(spec): _json_ready(getattr(model, spec.name)) for spec in fields(model)}


def _json_ready(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        return _document_of(value)
    if isinstance(value, tuple | list):
        return [_json_ready(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    return value


# What each object accepts, for its unknown-key check.
_CONFIG_KEYS = _known_keys(BridgeConfig)
_ROUTE_KEYS = _known_keys(Route)
_MATCH_KEYS = _known_keys(Match)
_RELATED_URL_KEYS = _known_keys(RelatedUrl)
