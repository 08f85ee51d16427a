"""The bridge configuration: one validated model, one loader, used by the Lambda at cold start and by `cdk synth`.

Routes are an ordered list, as in Alertmanager: the first match wins unless it says `continue`. Every route
inherits what it leaves unset from `default`, which must name a response plan.
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from incident_bridge.errors import ConfigError
from incident_bridge.validation import describe

RESPONSE_PLAN_ARN_PATTERN = r"^arn:aws(-cn|-us-gov)?:ssm-incidents::[0-9]{12}:response-plan/[A-Za-z0-9_-]{1,200}$"
_RESPONSE_PLAN_ARN = re.compile(RESPONSE_PLAN_ARN_PATTERN)
DEFAULT_TITLE = "{alarm_name} is in ALARM ({account}, {region})"
#: Fields a title template may name; `tag_<key>` names an alarm tag, `detail_<key>` a custom event's detail key.
TITLE_FIELDS = frozenset(
    {"alarm_name", "account", "region", "state", "reason", "description", "namespace", "metric_name", "kind",
     "title", "summary", "source", "detail_type", "route"}
)  # fmt: skip

#: Fields `group_by` may name, besides `tag:<key>` and `dimension:<name>`.
GROUP_FIELDS = frozenset({"alarm_name", "alarm_arn", "account", "region", "namespace", "metric_name"})

ResponsePlanArn = Annotated[str, Field(pattern=RESPONSE_PLAN_ARN_PATTERN)]
SnsTopicArn = Annotated[
    str, Field(pattern=r"^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
]
Impact = Annotated[int, Field(ge=1, le=5, description="Incident Manager impact: 1 critical ... 5 no impact")]
#: One value or a list of them; a matcher matches when any of them does.
Patterns = Annotated[tuple[str, ...], Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def _scalar(value: Any) -> Any:
    # YAML reads `account: 123456789012` and `$.retryable: true` as numbers and booleans: match them as text,
    # spelled as JSON spells them.
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, int | float) else value


def _as_tuple(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_scalar(item) for item in value)
    value = _scalar(value)
    return (value,) if isinstance(value, str) else value


class Match(Strict):
    """All given matchers must match (AND); each matcher's values are alternatives (OR). Globs use `*` and `?`."""

    alarm_name: Patterns | None = None
    alarm_name_regex: Patterns | None = None
    namespace: Patterns | None = None
    metric_name: Patterns | None = None
    #: dimension name -> glob(s) of its value; any of the alarm's metrics may carry it
    dimensions: dict[str, Patterns] | None = None
    account: Patterns | None = None
    region: Patterns | None = None
    state: Patterns | None = None
    #: tag key -> glob(s) of its value, from the event's alarmTags or the tag lookup
    tags: dict[str, Patterns] | None = None
    # Custom application events
    source: Patterns | None = None
    detail_type: Patterns | None = Field(default=None, alias="detail-type")
    #: JSONPath-like path into `detail` (`$.severity`, `$.service.name`) -> glob(s) of its value
    detail: dict[str, Patterns] | None = None

    @field_validator("alarm_name", "alarm_name_regex", "namespace", "metric_name", "account", "region", "state",
                     "source", "detail_type", mode="before")  # fmt: skip
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _as_tuple(value)

    @field_validator("dimensions", "tags", "detail", mode="before")
    @classmethod
    def _mapping_of_one_or_many(cls, value: Any) -> Any:
        return {key: _as_tuple(item) for key, item in value.items()} if isinstance(value, dict) else value

    @field_validator("alarm_name_regex")
    @classmethod
    def _compiles(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for pattern in value or ():
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"not a valid regular expression {pattern!r}: {error}") from None
        return value

    @field_validator("detail")
    @classmethod
    def _paths(cls, value: dict[str, tuple[str, ...]] | None) -> dict[str, tuple[str, ...]] | None:
        for path in value or {}:
            if not re.fullmatch(r"\$(\.[A-Za-z0-9_-]+)+", path):
                raise ValueError(f"{path!r} is not a path like $.severity or $.service.name")
        return value


class RelatedUrl(Strict):
    title: str = Field(min_length=1, max_length=200)
    url: str = Field(pattern=r"^https?://", max_length=1000)


class Route(Strict):
    """What the bridge does with the alarms a route catches. Unset fields are inherited from `default`."""

    name: str | None = Field(default=None, min_length=1, max_length=64)
    match: Match = Field(default_factory=Match)
    response_plan_arn: ResponsePlanArn | None = None
    impact: Impact | None = None
    #: alarm tag whose value (1-5) overrides `impact`, e.g. incident-impact
    impact_tag: str | None = None
    title: str | None = Field(default=None, min_length=1, max_length=1000)
    related_urls: tuple[RelatedUrl, ...] | None = None
    #: alarm tags whose values are URLs to attach (runbook, dashboard)
    related_url_tags: tuple[str, ...] | None = None
    #: fields forming the group key (used by the incident lifecycle): alarm_name, namespace, tag:<key>, ...
    group_by: tuple[str, ...] | None = None
    auto_resolve: bool | None = None
    continue_: bool = Field(default=False, alias="continue")
    drop: bool = False

    @field_validator("group_by")
    @classmethod
    def _known_group_fields(cls, fields: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for name in fields or ():
            prefix, _, rest = name.partition(":")
            if name not in GROUP_FIELDS and not (prefix in {"tag", "dimension"} and rest):
                raise ValueError(
                    f"unknown group_by field {name!r} (known: {', '.join(sorted(GROUP_FIELDS))}, "
                    "tag:<key>, dimension:<name>)"
                )
        return fields

    @field_validator("title")
    @classmethod
    def _known_fields(cls, template: str | None) -> str | None:
        if template is None:
            return None
        try:
            names = [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
        except ValueError as error:
            raise ValueError(f"not a valid title template: {error}") from None
        for name in names:
            if name not in TITLE_FIELDS and not name.startswith(("tag_", "detail_")):
                known = ", ".join(sorted(TITLE_FIELDS))
                raise ValueError(f"unknown field {{{name}}} (known: {known}, tag_<key>, detail_<key>)")
        return template


class DefaultRoute(Route):
    response_plan_arn: ResponsePlanArn
    name: str | None = Field(default="default", min_length=1, max_length=64)
    impact: Impact | None = 3
    title: str | None = DEFAULT_TITLE
    related_url_tags: tuple[str, ...] | None = ("runbook-url", "dashboard-url")
    auto_resolve: bool | None = False

    @model_validator(mode="after")
    def _catches_everything(self) -> DefaultRoute:
        if self.match != Match():
            raise ValueError("the default route catches what no other route does: it takes no `match`")
        if self.drop or self.continue_:
            raise ValueError("the default route is the last resort: `drop` and `continue` do not apply to it")
        return self


class BridgeConfig(Strict):
    default: DefaultRoute
    routes: tuple[Route, ...] = ()
    #: Topics that already fan alarms out; the stack subscribes the bridge's queue to each.
    sns_topic_arns: tuple[SnsTopicArn, ...] = ()
    #: When an event carries no alarmTags, look them up with cloudwatch:ListTagsForResource (cached per container).
    lookup_alarm_tags: bool = False
    #: An alarm that fires again this soon after the bridge resolved its incident reopens that incident.
    flap_window_seconds: int = Field(default=900, ge=0, le=86_400)
    #: Trust that a joined incident is still open for this long after GetIncidentRecord said so (0: always ask).
    #: In a storm this saves one call per alarm; a human's resolve is noticed at most this much later.
    incident_check_seconds: int = Field(default=0, ge=0, le=300)
    #: Plan that Incident Manager's native alarm action starts when the bridge itself is broken (self-monitoring).
    fallback_response_plan_arn: ResponsePlanArn | None = None

    @model_validator(mode="after")
    def _unique_route_names(self) -> BridgeConfig:
        names = [route.name for route in self.routes if route.name]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"route names must be unique: {', '.join(duplicates)}")
        return self

    def response_plan_arns(self) -> tuple[str, ...]:
        """Every plan the bridge may start incidents in; IAM grants exactly these."""
        plans = [self.default.response_plan_arn]
        plans += [route.response_plan_arn for route in self.routes if route.response_plan_arn and not route.drop]
        return tuple(dict.fromkeys(plans))


def is_response_plan_arn(value: str) -> bool:
    return _RESPONSE_PLAN_ARN.match(value) is not None


def parse_config(document: Any, *, origin: str) -> BridgeConfig:
    try:
        return BridgeConfig.model_validate(document)
    except ValidationError as error:
        raise ConfigError(f"{origin}: {describe(error, limit=20)}") from None


def load_config(path: Path) -> BridgeConfig:
    """Reads YAML or JSON (JSON is YAML, but the Lambda ships JSON so it needs no YAML parser)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the configuration file ({error.strerror})") from None
    if path.suffix == ".json":
        try:
            document = json.loads(text)
        except ValueError as error:
            raise ConfigError(f"{path}: not valid JSON ({error})") from None
    else:
        document = _load_yaml(path, text)
    return parse_config(document, origin=str(path))


def _load_yaml(path: Path, text: str) -> Any:
    import yaml  # only the CLI and `cdk synth` read YAML; the Lambda reads the JSON written at synth

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from None
