"""The interfaces the domain needs from the outside world; adapters/ implements them."""

from __future__ import annotations

from typing import Protocol

from incident_bridge.incident import StartIncidentRequest


class IncidentManager(Protocol):
    def start_incident(self, request: StartIncidentRequest) -> str:
        """Returns the incident record ARN. Raises PermanentApiError or TransientApiError."""
        ...
