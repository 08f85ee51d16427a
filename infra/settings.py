"""Reads the CDK context into the bridge configuration, with the same model the Lambda uses.

A bad value fails `cdk synth` with a message that names the context key or the configuration field.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from incident_bridge import metric_names
from incident_bridge.aws import (
    EVENT_BUS_ARN_PATTERN,
    LAYER_VERSION_ARN,
    is_account,
    is_organization_id,
    is_response_plan_arn,
)
from incident_bridge.config import BridgeConfig, parse_config
from incident_bridge.errors import ConfigError

RESPONSE_PLAN_ARN_KEY = "responsePlanArn"
CONFIG_FILE_KEY = "bridgeConfig"
POWERTOOLS_LAYER_KEY = "powertoolsLayerArn"
TRACING_KEY = "tracing"
#: Organization intake (central stack): the organization whose accounts may forward events, and/or listed accounts.
ORGANIZATION_ID_KEY = "organizationId"
INTAKE_ACCOUNTS_KEY = "intakeAccounts"
#: The member forwarder stack: the central stack's intake bus (its `IntakeBusArn` output), and the AWS
#: service-event profiles to forward besides alarms (those the central configuration's `aws_events` enables).
INTAKE_BUS_ARN_KEY = "intakeBusArn"
FORWARD_AWS_EVENTS_KEY = "forwardAwsEvents"
CONTEXT_KEYS = (
    RESPONSE_PLAN_ARN_KEY,
    CONFIG_FILE_KEY,
    POWERTOOLS_LAYER_KEY,
    TRACING_KEY,
    ORGANIZATION_ID_KEY,
    INTAKE_ACCOUNTS_KEY,
    INTAKE_BUS_ARN_KEY,
    FORWARD_AWS_EVENTS_KEY,
)
#: Context the CDK itself sets: its feature flags (`@aws-cdk/...`), the CLI's `aws:cdk:...` switches and cached
#: lookups (keys with a `:`), and the few plain keys below (cdk.json, cdk.context.json, the CLI).
_CDK_CONTEXT_KEYS = frozenset({"acknowledged-issue-numbers", "cli-telemetry"})

EXAMPLE_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/MyPlan"
EXAMPLE_BUS = "arn:aws:events:us-east-1:123456789012:event-bus/IncidentBridgeIntakeBus"


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
    }


@dataclass(frozen=True)
class IntakeSettings:
    """Who may forward events to the central stack's intake bus."""

    organization_id: str | None = None
    account_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeploySettings:
    config: BridgeConfig
    powertools_layer_arn: str | None
    tracing: TracingMode = TracingMode.ACTIVE
    #: None: no intake bus (the bridge sees only its own account and region).
    intake: IntakeSettings | None = None


def wants_central_stack(context: dict[str, Any]) -> bool:
    """Whether this synth builds the bridge itself: always, unless the context names only a forwarder's bus."""
    central_keys = (RESPONSE_PLAN_ARN_KEY, CONFIG_FILE_KEY, ORGANIZATION_ID_KEY, INTAKE_ACCOUNTS_KEY)
    return context.get(INTAKE_BUS_ARN_KEY) is None or any(context.get(key) is not None for key in central_keys)


def intake_bus_arn(context: dict[str, Any]) -> str | None:
    """The forwarder's target bus from `-c intakeBusArn=...`, checked at synth; None when not given."""
    value = context.get(INTAKE_BUS_ARN_KEY)
    if value is None:
        return None
    if not isinstance(value, str) or re.fullmatch(EVENT_BUS_ARN_PATTERN, value) is None:
        raise ConfigError(
            f"{INTAKE_BUS_ARN_KEY}: {str(value)[:300]!r} is not an event bus ARN (expected e.g. {EXAMPLE_BUS}, "
            "the central stack's IntakeBusArn output)"
        )
    return value


def forwarded_aws_events(context: dict[str, Any]) -> frozenset[str]:
    """The profiles a forwarder sends besides alarms, from `-c forwardAwsEvents=guardduty,health` (or `all`, as
    the configuration's `aws_events` spells it); none when not given."""
    from incident_bridge.sources.profiles import ALL, PROFILE_NAMES, enabled_profiles

    value = context.get(FORWARD_AWS_EVENTS_KEY)
    if value is None:
        return frozenset()
    names = [str(item).strip() for item in (value.split(",") if isinstance(value, str) else value) if str(item).strip()]
    unknown = [name for name in names if name not in (ALL, *PROFILE_NAMES)]
    if unknown:
        known = ", ".join((ALL, *PROFILE_NAMES))
        raise ConfigError(f"{FORWARD_AWS_EVENTS_KEY}: unknown profile {', '.join(map(repr, unknown))} (known: {known})")
    return enabled_profiles(names)


def _intake_settings(context: dict[str, Any]) -> IntakeSettings | None:
    organization = context.get(ORGANIZATION_ID_KEY)
    accounts = context.get(INTAKE_ACCOUNTS_KEY)
    if organization is None and accounts is None:
        return None
    if organization is not None and (not isinstance(organization, str) or not is_organization_id(organization)):
        raise ConfigError(
            f"{ORGANIZATION_ID_KEY}: {str(organization)[:60]!r} is not an AWS Organizations id (o- and 10 to 32 "
            "lowercase letters or digits, e.g. o-a1b2c3d4e5)"
        )
    account_ids = _account_list(accounts) if accounts is not None else ()
    if organization is None and not account_ids:
        raise ConfigError(f"{INTAKE_ACCOUNTS_KEY}: give at least one 12-digit account id")
    return IntakeSettings(organization_id=organization, account_ids=account_ids)


def _account_list(value: object) -> tuple[str, ...]:
    """`111122223333,444455556666` from the command line, or a list in cdk.json."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ConfigError(f"{INTAKE_ACCOUNTS_KEY}: expected comma-separated account ids, got {type(value).__name__}")
    accounts = [str(item).strip() for item in items if str(item).strip()]
    wrong = [account for account in accounts if not is_account(account)]
    if wrong:
        raise ConfigError(f"{INTAKE_ACCOUNTS_KEY}: not 12-digit account ids: {', '.join(repr(w[:20]) for w in wrong)}")
    return tuple(dict.fromkeys(accounts))


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
        intake=_intake_settings(context),
    )


def _layer_version_arn(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or re.match(LAYER_VERSION_ARN, value) is None:
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
