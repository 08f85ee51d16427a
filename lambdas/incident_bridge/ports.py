"""The interfaces the domain needs from the outside world; adapters/ implements them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from incident_bridge.groups import GroupRecord, WriteResult
    from incident_bridge.heartbeats import ForwarderId, ForwarderRecord
    from incident_bridge.incident import (
        IncidentStatusRequest,
        StartIncidentRequest,
        TimelineEventRequest,
        UpdateRelatedItemsRequest,
    )


class IncidentManager(Protocol):
    """Incident Manager's operations the bridge uses. Each raises PermanentApiError (IncidentNotFound when the
    incident record does not exist) or TransientApiError."""

    def start_incident(self, request: StartIncidentRequest) -> str:
        """Returns the incident record ARN."""
        ...

    def update_related_items(self, request: UpdateRelatedItemsRequest) -> None: ...

    def create_timeline_event(self, request: TimelineEventRequest) -> None: ...

    def update_incident_status(self, request: IncidentStatusRequest) -> None: ...

    def incident_status(self, incident_arn: str) -> str | None:
        """`OPEN` or `RESOLVED`; None when the incident no longer exists."""
        ...


class GroupStore(Protocol):
    """Group records, written only if the stored version is the one the writer read.

    Raises TransientApiError (throttling, network), GroupRecordRejected (the record can never be written) or
    CorruptGroupRecord (the stored record cannot be read)."""

    def load(self, group_key: str) -> GroupRecord | None: ...

    def put(self, record: GroupRecord, *, expected_version: int | None) -> WriteResult:
        """Writes when the stored record has `expected_version` (None: when there is none). When it does not, the
        result carries the stored record (None when there is none), so the writer need not read it."""
        ...


class AlarmTags(Protocol):
    def tags_for(self, alarm_arn: str) -> Mapping[str, str]:
        """The alarm's tags; an empty mapping when they cannot be read (routing goes on without them)."""
        ...


class HeartbeatStore(Protocol):
    """The last heartbeat of every forwarder, and which ones have an incident open for their silence."""

    def record(self, heartbeats: Mapping[ForwarderId, datetime]) -> None:
        """Keeps each forwarder's latest heartbeat; an older one arriving late never moves it back."""
        ...

    def load(self) -> dict[ForwarderId, ForwarderRecord]: ...

    def watch(self, forwarder: ForwarderId, since: datetime) -> None:
        """Starts the clock of a listed forwarder never heard from (no effect when it is already watched)."""
        ...

    def mark_silent(self, forwarder: ForwarderId, since: datetime | None) -> None:
        """Notes that an incident is open for the silence that began at `since`; None: no longer."""
        ...
