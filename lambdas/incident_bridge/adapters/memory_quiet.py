"""Silences, inhibition sources and the quiet ledger kept in memory: dry runs (`incident-bridge invoke` shares them
across the files of one run) and tests."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from incident_bridge.quiet.ports import QuietEntry
from incident_bridge.quiet.silences import Silence

if TYPE_CHECKING:
    from incident_bridge.quiet.inhibition import FiringSource  # imported where inhibit_rules are configured

#: As the table's ledger: beyond this many quieted alarms, a new one is not remembered (and says so).
MAX_LEDGER_ENTRIES = 1000


class MemorySilences:
    def __init__(self, silences: tuple[Silence, ...] = ()) -> None:
        self.silences = silences

    def live(self) -> tuple[Silence, ...]:
        return self.silences


class MemoryInhibitionSources:
    def __init__(self) -> None:
        self._sources: dict[str, dict[str, tuple[FiringSource, bool]]] = {}

    def firing(self, key: str) -> tuple[FiringSource, ...]:
        return tuple(source for source, firing in self._sources.get(key, {}).values() if firing)

    def record(self, key: str, source: FiringSource, *, firing: bool) -> None:
        members = self._sources.setdefault(key, {})
        known = members.get(source.member)
        if known is None or known[0].since <= source.since:
            members[source.member] = (source, firing)


class MemoryQuietLedger:
    def __init__(self) -> None:
        self._entries: dict[str, QuietEntry] = {}

    def remember(self, entry: QuietEntry) -> bool:
        known = self._entries.get(entry.member)
        if known is not None and known.state_time > entry.state_time:
            return True  # a newer firing is remembered already
        if known is None and len(self._entries) >= MAX_LEDGER_ENTRIES:
            return False
        self._entries[entry.member] = entry
        return True

    def forget(self, member: str, at: datetime) -> QuietEntry | None:
        known = self._entries.get(member)
        if known is None or known.state_time > at:
            return None
        return self._entries.pop(member)

    def entries(self) -> tuple[QuietEntry, ...]:
        return tuple(self._entries.values())
