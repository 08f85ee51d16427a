"""Custom application events: what an application puts on the bridge's bus to open an incident.

The `detail` schema is `CustomIncidentDetail` (custom_schema.py, imported only when such an event arrives: it is a
pydantic model); `custom_incident.schema.json` beside this file is generated from it (`make docs`) so producers can
validate before they publish. The types here are what the rest of the bridge sees of a validated event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from incident_bridge.config import RelatedUrl


@dataclass(frozen=True, kw_only=True)
class CustomRequest:
    """What a validated `detail` asks for (see CustomIncidentDetail for the constraints and their meaning)."""

    title: str
    impact: int | None = None
    summary: str | None = None
    resource_arns: tuple[str, ...] = ()
    related_urls: tuple[RelatedUrl, ...] = ()
    dedupe_key: str | None = None
    source: str | None = None


@dataclass(frozen=True, kw_only=True)
class CustomIncident:
    """A validated custom event, normalized like an alarm is."""

    event_id: str
    source: str
    detail_type: str
    account: str
    region: str
    partition: str
    time: datetime
    request: CustomRequest
    resource_arns: tuple[str, ...]
    detail: dict[str, Any] = field(repr=False)
    #: The payload as received, for `triggerDetails.rawData`. Not part of equality or logs.
    raw_event: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
