"""What a cold start imports: no pydantic, ever (its import and model building were about 45% of a cold start; the
function ships without it). Custom application events import their declaration on first use, as SNS classic alarms
import their reader and service events their profiles; a custom event here proves that lazy path is taken, works,
and loads no pydantic either."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import load_event, run_fresh_interpreter

EVENTBRIDGE_ALARM = "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
ALARM_ACTION = "lambda-action-metric-alarm-ALARM-from-INSUFFICIENT_DATA-aws-lambda-java-libs.json"
CUSTOM_EVENT = "custom-app-eventbridge-PaymentCreated-no-resources-powertools.json"
#: The modules that read the custom and SNS payloads, and the AWS service-event profiles (issue 13), imported only
#: by the payloads that need them.
LAZY_MODULES = [
    "incident_bridge.custom",
    "incident_bridge.sources.application",
    "incident_bridge.sources.classic",
    "incident_bridge.sources.profiles",
]

# Runs the handler module as Lambda would (dry-run mode), hands it the alarms and then the custom event, and
# reports which pydantic and lazily imported modules were loaded after each step.
SCRIPT = """
import json, sys
from incident_bridge import handler
from incident_bridge.cli import LambdaContextStandIn

LAZY_MODULES = {lazy_modules!r}

def handle(event):
    handler.lambda_handler(event, LambdaContextStandIn())
    return handler.RUNTIME.outcomes[-1].kind.value

def loaded():
    pydantic = sorted(name for name in sys.modules if name.split(".")[0] in {{"pydantic", "pydantic_core"}})
    return {{"pydantic": pydantic, "lazy": sorted(name for name in LAZY_MODULES if name in sys.modules)}}

alarm_outcomes = [handle(event) for event in json.loads({alarms!r})]
after_alarms = loaded()
custom_outcome = handle(json.loads({custom!r}))
print(json.dumps({{"alarm_outcomes": alarm_outcomes, "after_alarms": after_alarms,
                  "custom_outcome": custom_outcome, "after_custom": loaded()}}))
"""


def custom_event() -> dict[str, Any]:
    raw = load_event(CUSTOM_EVENT)
    raw["account"] = "123456789012"  # the Powertools sample's 13-digit account is not an AWS account id
    raw["region"] = "eu-west-1"  # nor is its eu-east-1 a region
    raw["detail"] = {"title": "Card payments are failing", "source": "payments-service"}
    return raw


@pytest.fixture(scope="module")
def cold_start() -> dict[str, Any]:
    """One fresh interpreter that handled an EventBridge alarm and an alarm action, then a custom event."""
    alarms = json.dumps([load_event(EVENTBRIDGE_ALARM), load_event(ALARM_ACTION)])
    script = SCRIPT.format(lazy_modules=LAZY_MODULES, alarms=alarms, custom=json.dumps(custom_event()))
    # Metrics are emitted as in Lambda (to stdout, before the script's last line), so they need a namespace.
    facts: dict[str, Any] = run_fresh_interpreter(script, POWERTOOLS_METRICS_NAMESPACE="IncidentBridge")
    return facts


def test_alarms_are_handled_without_importing_the_lazy_payload_models(cold_start: dict[str, Any]) -> None:
    # Given a fresh interpreter that imported the handler (dry run)
    # When it handled an EventBridge alarm and an alarm action
    outcomes, loaded = cold_start["alarm_outcomes"], cold_start["after_alarms"]

    # Then both opened an incident, and neither loaded the modules holding the custom and SNS payload models
    assert outcomes == ["started", "started"]
    assert loaded["lazy"] == []


def test_a_custom_event_imports_its_declaration_on_first_use_and_no_pydantic(cold_start: dict[str, Any]) -> None:
    # Given the same interpreter, after the alarms
    # When it handled a valid custom application event
    outcome, loaded = cold_start["custom_outcome"], cold_start["after_custom"]

    # Then the event opened an incident through its declaration, imported just then, and pydantic was never imported
    assert outcome == "started"
    assert loaded["lazy"] == ["incident_bridge.custom", "incident_bridge.sources.application"]
    assert loaded["pydantic"] == []


def test_alarms_are_handled_without_importing_pydantic(cold_start: dict[str, Any]) -> None:
    # Given a fresh interpreter that imported the handler (dry run)
    # When it handled an EventBridge alarm and an alarm action
    loaded = cold_start["after_alarms"]

    # Then no pydantic module was ever imported: not by the handler's import, nor by handling either alarm
    assert loaded["pydantic"] == []


#: What only a configuration that uses them, or the traffic that needs them, imports (issues 13, 15, 16): service
#: profiles, time intervals, inhibition, and the forwarder heartbeat domain. An alarms-only bridge's cold start
#: leaves them out (`make bench`: each module on the init path costs its dataclasses' creation).
ALARMS_ONLY_LAZY_MODULES = [
    "incident_bridge.heartbeats",
    "incident_bridge.quiet.inhibition",
    "incident_bridge.quiet.intervals",
    "incident_bridge.sources.profiles",
]

# The handler imported with the configuration the stack deploys by default, then the alarms.
ALARMS_ONLY_SCRIPT = """
import json, sys
LAZY_MODULES = {lazy_modules!r}

def loaded():
    return sorted(name for name in LAZY_MODULES if name in sys.modules)

from incident_bridge import handler
from incident_bridge.cli import LambdaContextStandIn

at_init = loaded()
outcomes = []
for event in json.loads({alarms!r}):
    handler.lambda_handler(event, LambdaContextStandIn())
    outcomes.append(handler.RUNTIME.outcomes[-1].kind.value)
print(json.dumps({{"at_init": at_init, "outcomes": outcomes, "after_alarms": loaded()}}))
"""


def default_config_file(directory: Path) -> Path:
    """The stack's default configuration, written as the asset's bridge_config.json (every key present, empty
    lists included)."""
    from infra.asset import CONFIG_FILE_NAME
    from infra.settings import EXAMPLE_PLAN, RESPONSE_PLAN_ARN_KEY, deploy_settings

    config_file = directory / CONFIG_FILE_NAME
    document = deploy_settings({RESPONSE_PLAN_ARN_KEY: EXAMPLE_PLAN}).config.to_document()
    config_file.write_text(json.dumps(document), encoding="utf-8")
    return config_file


@pytest.fixture(scope="module")
def alarms_only_cold_start(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A fresh interpreter with the stack's default configuration that handled an EventBridge alarm and an alarm
    action."""
    config_file = default_config_file(tmp_path_factory.mktemp("asset"))
    alarms = json.dumps([load_event(EVENTBRIDGE_ALARM), load_event(ALARM_ACTION)])
    script = ALARMS_ONLY_SCRIPT.format(lazy_modules=ALARMS_ONLY_LAZY_MODULES, alarms=alarms)
    facts: dict[str, Any] = run_fresh_interpreter(
        script, BRIDGE_CONFIG_FILE=str(config_file), POWERTOOLS_METRICS_NAMESPACE="IncidentBridge"
    )
    return facts


def test_an_alarms_only_configuration_does_not_import_the_quiet_and_heartbeat_modules_at_init(
    alarms_only_cold_start: dict[str, Any],
) -> None:
    # Given the configuration the stack deploys by default (no time intervals, inhibition, profiles or forwarders)
    # When a fresh interpreter imported the handler
    # Then none of the modules those features need was imported
    assert alarms_only_cold_start["at_init"] == []


def test_an_alarms_only_configuration_handles_alarms_without_importing_them(
    alarms_only_cold_start: dict[str, Any],
) -> None:
    # Given the same interpreter
    # When it handled an EventBridge alarm and an alarm action
    # Then both opened an incident, and still none of those modules was imported
    assert alarms_only_cold_start["outcomes"] == ["started", "started"]
    assert alarms_only_cold_start["after_alarms"] == []


#: The dataclasses a cold start still creates: the configuration's and the settings' models, whose fields declare
#: how they are read (field metadata), a Silence (whose allowed keys are its fields) and a ResourceRef (it refuses a
#: bad ARN when built, which a NamedTuple cannot). `@dataclass` compiles a class's methods when its module is
#: imported, several times a NamedTuple's cost, so every other value type on the cold path is a NamedTuple (README,
#: Performance). A new dataclass here is a decision, not an accident.
COLD_START_DATACLASSES = [
    "incident_bridge.config.BridgeConfig",
    "incident_bridge.config.DefaultRoute",
    "incident_bridge.config.Match",
    "incident_bridge.config.RelatedUrl",
    "incident_bridge.config.Route",
    "incident_bridge.quiet.silences.Silence",
    "incident_bridge.resources.ResourceRef",
    "incident_bridge.settings.Settings",
]

# The handler imported as deployed (live clients, the stack's default configuration); lists the classes the
# bridge's loaded modules define that are dataclasses.
DATACLASSES_SCRIPT = """
import dataclasses, json, sys
from incident_bridge import handler

modules = [module for name, module in sorted(sys.modules.items()) if name.startswith("incident_bridge")]
print(json.dumps(sorted(
    f"{module.__name__}.{name}" for module in modules for name, value in vars(module).items()
    if isinstance(value, type) and value.__module__ == module.__name__ and dataclasses.is_dataclass(value)
)))
"""


def test_a_cold_start_creates_only_the_dataclasses_the_configuration_and_settings_need(
    tmp_path: Path,
) -> None:
    # Given the configuration the stack deploys by default, and the function's environment in live mode
    config_file = default_config_file(tmp_path)

    # When a fresh interpreter imports the handler (the clients are built; nothing is called)
    created = run_fresh_interpreter(
        DATACLASSES_SCRIPT,
        BRIDGE_CONFIG_FILE=str(config_file),
        INCIDENT_MANAGER_MODE="live",
        STATE_TABLE_NAME="incident-bridge-groups",
        DEAD_LETTER_QUEUE_URL="https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
        POWERTOOLS_METRICS_NAMESPACE="IncidentBridge",
    )

    # Then the only dataclasses among the bridge's loaded modules are the declared models, Silence and ResourceRef
    assert created == COLD_START_DATACLASSES
