"""What the bridge did with one event: the single record every caller (handler, CLI, tests) reads."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class OutcomeKind(StrEnum):
    STARTED = "started"
    UPDATED = "updated"
    RESOLVED = "resolved"
    IGNORED = "ignored"
    REJECTED = "rejected"
    #: Kept for later, never paged by itself (a forwarder's heartbeat).
    RECORDED = "recorded"


@dataclass(frozen=True)
class ApiCall:
    """One Incident Manager call the bridge made (or, in a dry run, would make)."""

    operation: str
    #: The exact keyword arguments given to the boto3 client.
    params: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """What became of one event: its kind, why, and the calls made for it."""

    kind: OutcomeKind
    reason: str
    calls: tuple[ApiCall, ...] = ()
    alarm_name: str | None = None
    route_name: str | None = None
    incident_arn: str | None = None
    #: For rejections: the error class the handler and the dead-letter message carry.
    error_class: str | None = None
