"""Forwarder heartbeats in memory, with the same rules as the DynamoDB item (dry runs, tests)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from incident_bridge.heartbeats import ForwarderId, ForwarderRecord


class MemoryHeartbeatStore:
    def __init__(self) -> None:
        self.records: dict[ForwarderId, ForwarderRecord] = {}

    def record(self, heartbeats: Mapping[ForwarderId, datetime]) -> None:
        for forwarder, sent_at in heartbeats.items():
            known = self.records.get(forwarder)
            if known is None:
                self.records[forwarder] = _record(forwarder, sent_at, sent_at)
            elif known.last_heartbeat is None or sent_at > known.last_heartbeat:
                self.records[forwarder] = replace(known, last_heartbeat=sent_at)

    def load(self) -> dict[ForwarderId, ForwarderRecord]:
        return dict(self.records)

    def watch(self, forwarder: ForwarderId, since: datetime) -> None:
        self.records.setdefault(forwarder, _record(forwarder, None, since))

    def mark_silent(self, forwarder: ForwarderId, since: datetime | None) -> None:
        known = self.records.get(forwarder)
        if known is not None:
            self.records[forwarder] = replace(known, silent_since=since)


def _record(forwarder: ForwarderId, last_heartbeat: datetime | None, watched_since: datetime) -> ForwarderRecord:
    # Imported with the first heartbeat or check: a dry run of alarms only never loads heartbeats.py.
    from incident_bridge.heartbeats import ForwarderRecord

    return ForwarderRecord(forwarder, last_heartbeat, watched_since)
