"""The Lambda's environment, read once at cold start into one frozen value, declared field by field like the
configuration (`reader.declared`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from aws_lambda_powertools.shared.functions import strtobool

from incident_bridge.errors import ConfigError
from incident_bridge.reader import Problems, Reader, declared, read_fields, shown

T = TypeVar("T")

BUNDLED_CONFIG = Path(__file__).parent / "defaults" / "bridge.yaml"


class IncidentManagerMode(StrEnum):
    LIVE = "live"
    DRY_RUN = "dry-run"


def _variable(name: str, parse: Callable[[str], Any] | None = None) -> dict[str, Any]:
    """Field metadata: the environment variable a setting is read from, and how its text becomes the value."""

    def read(variables: Reader, key: str) -> Any:
        if not variables.has(key):
            return None  # not set: the default applies
        return variables.optional_string(key) if parse is None else variables.convert(key, parse)

    return declared(lambda owner, key, _problems: read(owner, key), key=name)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The Lambda's environment, read once at cold start. Each field names its variable and its parser."""

    config_file: Path = field(default=BUNDLED_CONFIG, metadata=_variable("BRIDGE_CONFIG_FILE", Path))
    incident_manager: IncidentManagerMode = field(
        default=IncidentManagerMode.LIVE, metadata=_variable("INCIDENT_MANAGER_MODE", lambda text: _mode(text))
    )
    dead_letter_queue_url: str | None = field(default=None, metadata=_variable("DEAD_LETTER_QUEUE_URL"))
    #: The DynamoDB table of incident groups; dry runs keep groups in memory instead.
    state_table_name: str | None = field(default=None, metadata=_variable("STATE_TABLE_NAME"))
    #: Live calls with groups kept in memory for one process (`incident-bridge invoke --live` without a table).
    groups_in_memory: bool = field(default=False, metadata=_variable("GROUPS_IN_MEMORY", lambda text: _boolean(text)))
    #: The source queue and its redrive policy's maxReceiveCount (the stack sets both): each retried record gets
    #: its own backoff, and one failing on its last receive is dead-lettered with its reason.
    event_queue_url: str | None = field(default=None, metadata=_variable("EVENT_QUEUE_URL"))
    max_receive_count: int | None = field(
        default=None, metadata=_variable("MAX_RECEIVE_COUNT", lambda text: _positive(text))
    )
    #: This container's share of Incident Manager's request rate, in requests per second (budget.py): the stack
    #: sets it to the rate divided by the event source's maximum concurrency. None: no client-side budget.
    request_budget_per_second: float | None = field(
        default=None, metadata=_variable("REQUEST_BUDGET_PER_SECOND", lambda text: _rate(text))
    )
    # Powertools' own switch; single_metric ignores it, so the runtime reads it too.
    metrics_disabled: bool = field(
        default=False, metadata=_variable("POWERTOOLS_METRICS_DISABLED", lambda text: _boolean(text))
    )
    #: Where the bridge runs (the stack sets BRIDGE_ACCOUNT_ID; Lambda sets AWS_REGION): the only account and
    #: region whose alarm tags it can look up. Unknown: no lookups.
    home_account: str | None = field(default=None, metadata=_variable("BRIDGE_ACCOUNT_ID"))
    home_region: str | None = field(default=None, metadata=_variable("AWS_REGION"))

    @property
    def home(self) -> tuple[str, str] | None:
        return (self.home_account, self.home_region) if self.home_account and self.home_region else None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        problems = Problems()
        given = read_fields(cls, Reader(environ), problems, strict=False)
        if problems.found:
            raise ConfigError(f"environment: {problems.found[0]}")
        # Variables that are not set keep the defaults above.
        return cls(**given)


def _positive(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"expected a whole number of at least 1, got {shown(text)}")
    return int(text)


def _mode(text: str) -> IncidentManagerMode:
    try:
        return IncidentManagerMode(text)
    except ValueError:
        names = ", ".join(str(member.value) for member in IncidentManagerMode)
        raise ValueError(f"expected one of {names}, got {shown(text)}") from None


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
