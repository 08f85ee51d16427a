"""The Lambda's environment: defaults when unset, the spellings deployed stacks use, and bad values named."""

from __future__ import annotations

from pathlib import Path

import pytest

from incident_bridge.errors import ConfigError
from incident_bridge.settings import BUNDLED_CONFIG, IncidentManagerMode, Settings


def test_an_empty_environment_gives_the_defaults() -> None:
    # Given no bridge variable set / When the settings are read
    settings = Settings.from_environment({})

    # Then the bundled configuration runs live, with no table, queue or in-memory groups, and metrics on
    assert settings == Settings(config_file=BUNDLED_CONFIG, incident_manager=IncidentManagerMode.LIVE)
    assert (settings.dead_letter_queue_url, settings.state_table_name) == (None, None)
    assert (settings.groups_in_memory, settings.metrics_disabled) == (False, False)


def test_every_variable_is_read_into_its_field() -> None:
    # Given the environment the stack gives the function, plus the CLI's variables
    environ = {
        "BRIDGE_CONFIG_FILE": "bridge_config.json",
        "INCIDENT_MANAGER_MODE": "dry-run",
        "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
        "STATE_TABLE_NAME": "incident-groups",
        "GROUPS_IN_MEMORY": "true",
        "POWERTOOLS_METRICS_DISABLED": "1",
        "BRIDGE_ACCOUNT_ID": "123456789012",
        "AWS_REGION": "us-east-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",  # anything else in the environment is not the bridge's
    }

    # When the settings are read
    settings = Settings.from_environment(environ)

    # Then each variable lands in its field, typed
    assert settings == Settings(
        config_file=Path("bridge_config.json"),
        incident_manager=IncidentManagerMode.DRY_RUN,
        dead_letter_queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
        state_table_name="incident-groups",
        groups_in_memory=True,
        metrics_disabled=True,
        home_account="123456789012",
        home_region="us-east-1",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("TRUE", True), ("1", True), ("yes", True), ("On", True),
     ("false", False), ("False", False), ("0", False), ("no", False), ("off", False)],
)  # fmt: skip
def test_boolean_variables_accept_the_usual_spellings(value: str, expected: bool) -> None:
    # Given GROUPS_IN_MEMORY spelled one of the ways a stack or a shell sets a flag
    # When the settings are read / Then it reads as the flag it spells
    assert Settings.from_environment({"GROUPS_IN_MEMORY": value}).groups_in_memory is expected


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"INCIDENT_MANAGER_MODE": "dryrun"},
         "environment: INCIDENT_MANAGER_MODE: expected one of live, dry-run, got 'dryrun'"),
        ({"POWERTOOLS_METRICS_DISABLED": "maybe"},
         "environment: POWERTOOLS_METRICS_DISABLED: expected true or false (or 1/0, yes/no, on/off), got 'maybe'"),
    ],
)  # fmt: skip
def test_bad_value_names_the_variable(environ: dict[str, str], expected: str) -> None:
    # Given a variable with a value the bridge cannot use
    # When the settings are read / Then the error names the variable and the problem
    with pytest.raises(ConfigError) as raised:
        Settings.from_environment(environ)
    assert str(raised.value) == expected
