"""Silences with Alertmanager's semantics: matchers (the routes' matcher language), a start, an end, who and why.

A silence is pending before `starts_at`, active from `starts_at` (included) to `ends_at` (excluded), and expired
after, as Alertmanager's `CalcSilenceState`. Expiring a silence early sets its end to now. Static silences come from
the configuration's `silences:`; live ones from the state table (adapters/silence_table.py), written there by
`incident-bridge silence add` as `silence_document` spells the declaration below and read back through it, so a
live silence obeys exactly the rules a static one does. Pure: the caller gives the time and a test of matchers
against the event at hand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from incident_bridge.config import SILENCE_MATCH
from incident_bridge.reader import parsed, text

if TYPE_CHECKING:
    from incident_bridge.config import Match

#: Ids are chosen by people for static silences and are UUIDs for live ones; both end up in logs and item keys.
SILENCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}\Z")
MAX_COMMENT = 1000
MAX_CREATED_BY = 128
#: Compiled on first use (re's cache), not at import: only the silence commands read durations.
_DURATION = r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?\Z"


class SilenceState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    EXPIRED = "expired"


@dataclass(frozen=True, kw_only=True)
class Silence:
    """Quiets every firing event its matchers match while it is active."""

    #: Its rules beyond these fields (the id's characters, the end after the start, the lengths of who and why)
    #: are `check_silence`'s, which reading applies to every silence built.
    id: str = field(metadata=text(min_length=1))
    match: Match = field(metadata=SILENCE_MATCH)
    starts_at: datetime = field(metadata=parsed(lambda value: parse_moment(value)))
    ends_at: datetime = field(metadata=parsed(lambda value: parse_moment(value)))
    created_by: str = field(metadata=text())
    comment: str = field(metadata=text())

    def state(self, now: datetime) -> SilenceState:
        if now < self.starts_at:
            return SilenceState.PENDING
        if now < self.ends_at:
            return SilenceState.ACTIVE
        return SilenceState.EXPIRED

    def expired_at(self, now: datetime) -> Silence:
        """Alertmanager's expire: a pending silence ends before it starts, an active one ends now."""
        if self.state(now) is SilenceState.EXPIRED:
            return self
        return replace(self, starts_at=min(self.starts_at, now), ends_at=now)


def silencing(silences: Iterable[Silence], now: datetime, matches: Callable[[Match], bool]) -> Silence | None:
    """The active silence that matches and ends last (the quiet lasts at least that long), or None."""
    found = [silence for silence in silences if silence.state(now) is SilenceState.ACTIVE and matches(silence.match)]
    return max(found, key=lambda silence: (silence.ends_at, silence.id), default=None)


# ---- reading ----


def parse_moment(value: Any) -> datetime:
    """An ISO-8601 timestamp with its offset (`2026-12-01T22:00:00Z`), or the datetime YAML already read."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO-8601 timestamp such as 2026-12-01T22:00:00Z") from None
    else:
        raise ValueError(f"expected an ISO-8601 timestamp such as 2026-12-01T22:00:00Z, got {type(value).__name__}")
    if moment.tzinfo is None:
        raise ValueError(f"{value!s} has no UTC offset (write 2026-12-01T22:00:00Z or +01:00)")
    return moment.astimezone(UTC)


def parse_duration(text: str) -> timedelta:
    """Alertmanager's (amtool's) durations: `90m`, `2h`, `1d12h`, `1h30m`."""
    found = re.match(_DURATION, text.strip())
    if not text.strip() or found is None:
        raise ValueError(f"{text!r} is not a duration such as 30m, 2h or 1d12h")
    days, hours, minutes, seconds = (int(part) if part else 0 for part in found.groups())
    duration = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if duration <= timedelta(0):
        raise ValueError(f"{text!r}: a silence must last more than nothing")
    return duration


def check_silence(silence: Silence) -> None:
    """The rules a silence obeys wherever it comes from; ValueError naming the first that fails."""
    if not SILENCE_ID.match(silence.id):
        raise ValueError(f"id {silence.id!r} must be 1 to 128 letters, digits, '_', '.', ':' or '-'")
    if silence.ends_at <= silence.starts_at:
        raise ValueError(f"ends_at {silence.ends_at.isoformat()} must come after starts_at")
    if not silence.created_by or len(silence.created_by) > MAX_CREATED_BY:
        raise ValueError(f"created_by must have 1 to {MAX_CREATED_BY} characters")
    if not silence.comment or len(silence.comment) > MAX_COMMENT:
        raise ValueError(f"comment must have 1 to {MAX_COMMENT} characters (say why)")
