"""Records every Incident Manager call at the port, so outcomes list exactly what was sent (the lifecycle does not
keep its own list). Attempts that raised are recorded too: the request was sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from incident_bridge.incident import (
    IncidentStatusRequest,
    StartIncidentRequest,
    TimelineEventRequest,
    UpdateRelatedItemsRequest,
)
from incident_bridge.outcome import ApiCall
from incident_bridge.ports import IncidentManager

T = TypeVar("T")


class RecordingIncidentManager:
    """Implements the port around another implementation; `take()` returns the calls made since the last take."""

    def __init__(self, inner: IncidentManager) -> None:
        self.inner = inner
        self._calls: list[ApiCall] = []

    def take(self) -> tuple[ApiCall, ...]:
        calls, self._calls = tuple(self._calls), []
        return calls

    def start_incident(self, request: StartIncidentRequest) -> str:
        return self._recorded("StartIncident", request.to_params(), lambda: self.inner.start_incident(request))

    def update_related_items(self, request: UpdateRelatedItemsRequest) -> None:
        self._recorded(request.operation, request.to_params(), lambda: self.inner.update_related_items(request))

    def create_timeline_event(self, request: TimelineEventRequest) -> None:
        self._recorded(request.operation, request.to_params(), lambda: self.inner.create_timeline_event(request))

    def update_incident_status(self, request: IncidentStatusRequest) -> None:
        self._recorded(request.operation, request.to_params(), lambda: self.inner.update_incident_status(request))

    def incident_status(self, incident_arn: str) -> str | None:
        return self._recorded(
            "GetIncidentRecord", {"arn": incident_arn}, lambda: self.inner.incident_status(incident_arn)
        )

    def _recorded(self, operation: str, params: dict[str, Any], send: Callable[[], T]) -> T:
        self._calls.append(ApiCall(operation, params))
        return send()
