"""Forwarder heartbeats in memory, with the same rules as the DynamoDB item (dry runs, tests)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from incident_bridge.heartbeats import ForwarderId, ForwarderRecord


class MemoryHeartbeatStore:
    def __init__(self) -> None:
        self.records: dict[ForwarderId, ForwarderRecord] = {}

    def record(self, heartbeats: Mapping[ForwarderId, datetime]) -> None:
        for forwarder, sent_at in heartbeats.items():
            known = self.records.get(forwarder)
            if known is None:
                self.records[forwarder] = ForwarderRecord(forwarder, sent_at, sent_at)
            elif known.last_heartbeat is None or sent_at > known.last_heartbeat:
                self.records[forwarder] = replace(known, last_heartbeat=sent_at)

    def load(self) -> dict[ForwarderId, ForwarderRecord]:
        return dict(self.records)

    def watch(self, forwarder: ForwarderId, since: datetime) -> None:
        self.records.setdefault(forwarder, ForwarderRecord(forwarder, None, since))

    def mark_silent(self, forwarder: ForwarderId, since: datetime | None) -> None:
        known = self.records.get(forwarder)
        if known is not None:
            self.records[forwarder] = replace(known, silent_since=since)
