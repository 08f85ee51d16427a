"""Custom application events: what an application puts on the bridge's bus to open an incident.

The `detail` schema is `CustomIncidentDetail` (custom_schema.py, imported only when such an event arrives: it is a
pydantic model); `custom_incident.schema.json` beside this file is generated from it (`make docs`) so producers can
validate before they publish. sources/application.py turns a validated request into a Signal.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    #: `firing` opens (or joins) the incident; `resolved` recovers the group the same `dedupe_key` opened.
    status: str = "firing"
