"""The bridge configuration: one validated model, one loader, used by the Lambda at cold start and by `cdk synth`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from incident_bridge.errors import ConfigError
from incident_bridge.validation import describe

RESPONSE_PLAN_ARN_PATTERN = r"^arn:aws(-cn|-us-gov)?:ssm-incidents::[0-9]{12}:response-plan/[A-Za-z0-9_-]{1,200}$"
_RESPONSE_PLAN_ARN = re.compile(RESPONSE_PLAN_ARN_PATTERN)
DEFAULT_TITLE = "{alarm_name} is in ALARM ({account}, {region})"

ResponsePlanArn = Annotated[str, Field(pattern=RESPONSE_PLAN_ARN_PATTERN)]
SnsTopicArn = Annotated[
    str, Field(pattern=r"^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
]
Impact = Annotated[int, Field(ge=1, le=5, description="Incident Manager impact: 1 critical ... 5 no impact")]


class Route(BaseModel):
    """What the bridge does with the alarms a route catches."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(default="default", min_length=1, max_length=64)
    response_plan_arn: ResponsePlanArn
    impact: Impact = 3
    title: str = Field(default=DEFAULT_TITLE, min_length=1, max_length=1000)


class BridgeConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    default: Route
    #: Topics that already fan alarms out; the stack subscribes the bridge's queue to each.
    sns_topic_arns: tuple[SnsTopicArn, ...] = ()

    def response_plan_arns(self) -> tuple[str, ...]:
        """Every plan the bridge may start incidents in; IAM grants exactly these."""
        return (self.default.response_plan_arn,)


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
