"""The Lambda's environment, read once at cold start into one frozen value."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from aws_lambda_powertools.shared.functions import strtobool

from incident_bridge.errors import ConfigError
from incident_bridge.reader import FieldError, Reader, shown

T = TypeVar("T")

BUNDLED_CONFIG = Path(__file__).parent / "defaults" / "bridge.yaml"


class IncidentManagerMode(StrEnum):
    LIVE = "live"
    DRY_RUN = "dry-run"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The Lambda's environment, read once at cold start."""

    config_file: Path = BUNDLED_CONFIG
    incident_manager: IncidentManagerMode = IncidentManagerMode.LIVE
    dead_letter_queue_url: str | None = None
    #: The DynamoDB table of incident groups; dry runs keep groups in memory instead.
    state_table_name: str | None = None
    #: Live calls with groups kept in memory for one process (`incident-bridge invoke --live` without a table).
    groups_in_memory: bool = False
    #: The source queue and its redrive policy's maxReceiveCount (the stack sets both): each retried record gets
    #: its own backoff, and one failing on its last receive is dead-lettered with its reason.
    event_queue_url: str | None = None
    max_receive_count: int | None = None
    #: This container's share of Incident Manager's request rate, in requests per second (budget.py): the stack
    #: sets it to the rate divided by the event source's maximum concurrency. None: no client-side budget.
    request_budget_per_second: float | None = None
    # Powertools' own switch; single_metric ignores it, so the runtime reads it too.
    metrics_disabled: bool = False
    #: Where the bridge runs (the stack sets BRIDGE_ACCOUNT_ID; Lambda sets AWS_REGION): the only account and
    #: region whose alarm tags it can look up. Unknown: no lookups.
    home_account: str | None = None
    home_region: str | None = None

    @property
    def home(self) -> tuple[str, str] | None:
        return (self.home_account, self.home_region) if self.home_account and self.home_region else None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        variables = Reader(environ)
        try:
            given: dict[str, Any] = {
                "config_file": _given(variables, "BRIDGE_CONFIG_FILE", Path),
                "incident_manager": variables.optional_choice("INCIDENT_MANAGER_MODE", IncidentManagerMode),
                "dead_letter_queue_url": variables.optional_string("DEAD_LETTER_QUEUE_URL"),
                "state_table_name": variables.optional_string("STATE_TABLE_NAME"),
                "groups_in_memory": _given(variables, "GROUPS_IN_MEMORY", _boolean),
                "event_queue_url": variables.optional_string("EVENT_QUEUE_URL"),
                "max_receive_count": _given(variables, "MAX_RECEIVE_COUNT", _positive),
                "request_budget_per_second": _given(variables, "REQUEST_BUDGET_PER_SECOND", _rate),
                "metrics_disabled": _given(variables, "POWERTOOLS_METRICS_DISABLED", _boolean),
                "home_account": variables.optional_string("BRIDGE_ACCOUNT_ID"),
                "home_region": variables.optional_string("AWS_REGION"),
            }
        except FieldError as error:
            raise ConfigError(f"environment: {error}") from None
        # Variables that are not set keep the defaults above.
        return cls(**{name: value for name, value in given.items() if value is not None})


def _given(variables: Reader, name: str, parse: Callable[[str], T]) -> T | None:
    """`name`'s value through `parse`, or None when it is not set."""
    return variables.convert(name, parse) if variables.has(name) else None


def _positive(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"expected a whole number of at least 1, got {shown(text)}")
    return int(text)


def _rate(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise ValueError(f"expected a positive number of requests per second, got {shown(text)}")
    return value


def _boolean(text: str) -> bool:
    # Powertools' spellings (1/0, yes/no, on/off, ...): the ones its own switches and, before, pydantic accepted.
    try:
        return strtobool(text.strip())
    except ValueError:
        raise ValueError(f"expected true or false (or 1/0, yes/no, on/off), got {shown(text)}") from None
