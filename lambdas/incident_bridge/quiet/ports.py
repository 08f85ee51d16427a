"""What the quiet checks need from the outside world: live silences, firing inhibition sources, and the ledger of
alarms that fired while quiet. adapters/quiet_table.py keeps them in the state table; adapters/memory_quiet.py in
memory (dry runs, tests)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from incident_bridge.quiet import QuietReason
from incident_bridge.quiet.silences import Silence

if TYPE_CHECKING:
    from incident_bridge.quiet.inhibition import FiringSource  # imported where inhibit_rules are configured


class SilenceSource(Protocol):
    def live(self) -> tuple[Silence, ...]:
        """The pending and active silences (read once per batch)."""
        ...


class InhibitionSources(Protocol):
    def firing(self, key: str) -> tuple[FiringSource, ...]:
        """The sources remembered under `key` that are in ALARM."""
        ...

    def record(self, key: str, source: FiringSource, *, firing: bool) -> None:
        """The source's latest state (at `source.since`); an older state than the one remembered changes nothing."""
        ...


class QuietEntry(NamedTuple):
    """An alarm that fired while quiet: re-evaluated by the scheduled check until it pages or recovers."""

    #: The alarm's identity (its ARN; with the contributor for Metrics Insights contributors).
    member: str
    name: str
    #: The state time of the ALARM that was quieted: a recovery older than this does not forget it.
    state_time: datetime
    reason: QuietReason
    applied: str
    #: The event as received: the check runs it through the bridge again.
    raw_event: dict[str, Any]


class QuietLedger(Protocol):
    def remember(self, entry: QuietEntry) -> bool:
        """Keeps the entry (replacing an older one of the member); False when the ledger is full."""
        ...

    def forget(self, member: str, at: datetime) -> QuietEntry | None:
        """Drops the member's entry if it fired at or before `at`; the dropped entry, or None."""
        ...

    def entries(self) -> tuple[QuietEntry, ...]: ...
