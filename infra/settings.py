"""Reads the CDK context into the bridge configuration, with the same model the Lambda uses.

A bad value fails `cdk synth` with a message that names the context key or the configuration field.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from incident_bridge import metric_names
from incident_bridge.aws import LAYER_VERSION_ARN, is_response_plan_arn
from incident_bridge.config import BridgeConfig, parse_config
from incident_bridge.errors import ConfigError

RESPONSE_PLAN_ARN_KEY = "responsePlanArn"
CONFIG_FILE_KEY = "bridgeConfig"
POWERTOOLS_LAYER_KEY = "powertoolsLayerArn"
TRACING_KEY = "tracing"
CONTEXT_KEYS = (RESPONSE_PLAN_ARN_KEY, CONFIG_FILE_KEY, POWERTOOLS_LAYER_KEY, TRACING_KEY)
#: Context the CDK itself sets: its feature flags (`@aws-cdk/...`), the CLI's `aws:cdk:...` switches and cached
#: lookups (keys with a `:`), and the few plain keys below (cdk.json, cdk.context.json, the CLI).
_CDK_CONTEXT_KEYS = frozenset({"acknowledged-issue-numbers", "cli-telemetry"})

EXAMPLE_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/MyPlan"


class TracingMode(StrEnum):
    """How much X-Ray sees of the function."""

    #: Lambda's active tracing: each invocation and its init, at no cold-start cost to the function (default).
    ACTIVE = "active"
    #: Also Powertools' Tracer with the X-Ray SDK: a subsegment per AWS call, for a slower cold start.
    SDK = "sdk"
    OFF = "off"


def static_environment(tracing: TracingMode) -> dict[str, str]:
    """The function's environment variables that do not depend on other resources (the benchmark uses them too)."""
    return {
        "POWERTOOLS_SERVICE_NAME": metric_names.SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": metric_names.NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": "INFO",
        # Powertools' switch for its X-Ray SDK Tracer: on only for tracing=sdk (see incident_bridge/tracing.py).
        "POWERTOOLS_TRACE_DISABLED": "false" if tracing is TracingMode.SDK else "true",
        # The bridge uses no pydantic plugins; without this, pydantic scans every installed distribution's entry
        # points for them at cold start.
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
    }


@dataclass(frozen=True)
class DeploySettings:
    config: BridgeConfig
    powertools_layer_arn: str | None
    tracing: TracingMode = TracingMode.ACTIVE


def check_context_keys(keys: Iterable[str]) -> None:
    """Refuses any context key that is neither the bridge's nor the CDK's: `-c tracng=off` or `-c bridgeconfig=...`
    would otherwise deploy the defaults in silence."""
    unknown = sorted(
        key for key in keys if key not in CONTEXT_KEYS and key not in _CDK_CONTEXT_KEYS and not _is_cdk_key(key)
    )
    if unknown:
        known = ", ".join(sorted(CONTEXT_KEYS))
        hints = "".join(
            f" ({key!r}: did you mean {close[0]!r}?)"
            for key in unknown
            if (close := difflib.get_close_matches(key, CONTEXT_KEYS, n=1, cutoff=0.6) or _same_but_case(key))
        )
        names = ", ".join(repr(key) for key in unknown)
        raise ConfigError(f"unknown context key {names}{hints}; the bridge's context keys are: {known}")


def _is_cdk_key(key: str) -> bool:
    return key.startswith("@") or ":" in key


def _same_but_case(key: str) -> list[str]:
    return [known for known in CONTEXT_KEYS if known.lower() == key.lower()]


def deploy_settings(context: dict[str, Any]) -> DeploySettings:
    """`context` maps keys to values as `cdk.json` and `-c key=value` give them (None when absent)."""
    check_context_keys(key for key, value in context.items() if value is not None)
    plan = context.get(RESPONSE_PLAN_ARN_KEY)
    config_file = context.get(CONFIG_FILE_KEY)
    if config_file is not None and (not isinstance(config_file, str) or not config_file.strip()):
        raise ConfigError(f"{CONFIG_FILE_KEY}: expected the path of a YAML or JSON file, got {config_file!r:.200}")
    document: dict[str, Any] = {"default": {}}
    origin = f"context {RESPONSE_PLAN_ARN_KEY}"
    if config_file:
        document = _read_config_document(Path(str(config_file)))
        origin = str(config_file)
    if plan is not None:
        if not isinstance(plan, str) or not is_response_plan_arn(plan):
            raise ConfigError(
                f"{RESPONSE_PLAN_ARN_KEY}: {str(plan)[:200]!r} is not a response plan ARN "
                f"(expected e.g. {EXAMPLE_PLAN})"
            )
        default = document.setdefault("default", {})
        if isinstance(default, dict):
            default["response_plan_arn"] = plan
    elif not _config_names_default_plan(document):
        raise ConfigError(
            f"{RESPONSE_PLAN_ARN_KEY}: missing. Deploy with -c {RESPONSE_PLAN_ARN_KEY}={EXAMPLE_PLAN} "
            f"(or set it in cdk.json, or give default.response_plan_arn in the file named by {CONFIG_FILE_KEY})"
        )
    return DeploySettings(
        config=parse_config(document, origin=origin),
        powertools_layer_arn=_layer_version_arn(context.get(POWERTOOLS_LAYER_KEY)),
        tracing=_tracing_mode(context.get(TRACING_KEY)),
    )


def _layer_version_arn(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or LAYER_VERSION_ARN.match(value) is None:
        raise ConfigError(
            f"{POWERTOOLS_LAYER_KEY}: {str(value)[:200]!r} is not a Lambda layer version ARN "
            "(expected arn:aws:lambda:<region>:<account>:layer:<name>:<version>)"
        )
    return value


def _tracing_mode(value: object) -> TracingMode:
    if value is None:
        return TracingMode.ACTIVE
    try:
        return TracingMode(str(value))
    except ValueError:
        modes = ", ".join(mode.value for mode in TracingMode)
        raise ConfigError(f"{TRACING_KEY}: {str(value)[:60]!r} is not one of {modes}") from None


def _config_names_default_plan(document: dict[str, Any]) -> bool:
    default = document.get("default")
    return isinstance(default, dict) and bool(default.get("response_plan_arn"))


def _read_config_document(path: Path) -> dict[str, Any]:
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{CONFIG_FILE_KEY}: cannot read {path} ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping with a `default` route, got {type(document).__name__}")
    return document
