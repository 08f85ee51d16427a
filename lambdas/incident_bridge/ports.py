"""The interfaces the domain needs from the outside world; adapters/ implements them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from incident_bridge.incident import StartIncidentRequest


class IncidentManager(Protocol):
    def start_incident(self, request: StartIncidentRequest) -> str:
        """Returns the incident record ARN. Raises PermanentApiError or TransientApiError."""
        ...


class AlarmTags(Protocol):
    def tags_for(self, alarm_arn: str) -> Mapping[str, str]:
        """The alarm's tags; an empty mapping when they cannot be read (routing goes on without them)."""
        ...
