"""Group records in memory, with the same conditional-write rule as the DynamoDB table (dry runs, tests)."""

from __future__ import annotations

from incident_bridge.groups import GroupRecord, WriteResult


class MemoryGroupStore:
    def __init__(self) -> None:
        self.records: dict[str, GroupRecord] = {}

    def load(self, group_key: str) -> GroupRecord | None:
        return self.records.get(group_key)

    def put(self, record: GroupRecord, *, expected_version: int | None) -> WriteResult:
        current = self.records.get(record.group_key)
        if (current.version if current else None) != expected_version:
            return WriteResult(False, current)
        self.records[record.group_key] = record
        return WriteResult(True)
