"""The Lambda's environment, as one validated model read once at cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from incident_bridge.errors import ConfigError
from incident_bridge.validation import describe

BUNDLED_CONFIG = Path(__file__).parent / "defaults" / "bridge.yaml"


class IncidentManagerMode(StrEnum):
    LIVE = "live"
    DRY_RUN = "dry-run"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    config_file: Path = Field(default=BUNDLED_CONFIG, alias="BRIDGE_CONFIG_FILE")
    incident_manager: IncidentManagerMode = Field(default=IncidentManagerMode.LIVE, alias="INCIDENT_MANAGER_MODE")
    dead_letter_queue_url: str | None = Field(default=None, alias="DEAD_LETTER_QUEUE_URL")
    #: The DynamoDB table of incident groups; dry runs keep groups in memory instead.
    state_table_name: str | None = Field(default=None, alias="STATE_TABLE_NAME")
    #: Live calls with groups kept in memory for one process (`incident-bridge invoke --live` without a table).
    groups_in_memory: bool = Field(default=False, alias="GROUPS_IN_MEMORY")
    # Powertools' own switch; single_metric ignores it, so the runtime reads it too.
    metrics_disabled: bool = Field(default=False, alias="POWERTOOLS_METRICS_DISABLED")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        try:
            return cls.model_validate(dict(environ))
        except ValidationError as error:
            raise ConfigError(f"environment: {describe(error)}") from None
