"""Inhibition sources and the quiet ledger in the state table, with the two item actions the function already has
(GetItem, PutItem): each shared item carries a version and is written only if it is still the version read.

- `inhibit#<rule>#<digest of the equal labels>`: the alarms that matched the rule's source matchers, with their
  latest state, so a target finds what inhibits it with one GetItem per rule it matches.
- `quiet-ledger`: the alarms that fired while quiet (member -> when, why), read by the scheduled check each minute;
  beside it `quiet#<digest of the member>` holds each one's event, to run it through the bridge again.

Everything expires: sources and events 30 days after their last write, the ledger with its last entry's event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from incident_bridge.adapters.group_table import version_condition
from incident_bridge.errors import TransientApiError
from incident_bridge.quiet import QuietReason
from incident_bridge.quiet.ports import QuietEntry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from incident_bridge.quiet.inhibition import FiringSource  # imported where inhibit_rules are configured

LEDGER_KEY = "quiet-ledger"
EVENT_PREFIX = "quiet#"
#: A ledger entry is ~200 bytes; 1000 keep the item far below DynamoDB's 400 KB.
MAX_LEDGER_ENTRIES = 1000
#: Sources of one rule and label values remembered at most (an item holds them all).
MAX_SOURCES = 500
RETENTION = timedelta(days=30)
_ATTEMPTS = 5


class _VersionedItems:
    """Read an item with its version; write it back only if nobody wrote in between."""

    def __init__(self, client: DynamoDBClient, table: str, clock: Callable[[], datetime]) -> None:
        self.client, self.table, self.clock = client, table, clock

    def read(self, key: str) -> tuple[dict[str, Any], int | None]:
        try:
            response = self.client.get_item(TableName=self.table, Key={"group_key": {"S": key}}, ConsistentRead=True)
        except (ClientError, BotoCoreError) as error:
            raise TransientApiError(f"GetItem {key} on {self.table}: {error}") from error
        item = dict(response.get("Item") or {})
        return item, (int(item["version"]["N"]) if "version" in item else None)

    def write(self, key: str, attributes: dict[str, Any], version: int | None) -> bool:
        condition = version_condition(version)
        item = {"group_key": {"S": key}, "version": {"N": str((version or 0) + 1)}, **attributes}
        try:
            self.client.put_item(TableName=self.table, Item=item, **condition)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise TransientApiError(f"PutItem {key} on {self.table}: {error}") from error
        except BotoCoreError as error:
            raise TransientApiError(f"PutItem {key} on {self.table}: {error}") from error
        return True

    def expiry(self) -> dict[str, Any]:
        return {"expires_at": {"N": str(int((self.clock() + RETENTION).timestamp()))}}


class DynamoInhibitionSources:
    def __init__(self, client: DynamoDBClient, table: str, clock: Callable[[], datetime] | None = None) -> None:
        self._items = _VersionedItems(client, table, clock or (lambda: datetime.now(UTC)))

    def firing(self, key: str) -> tuple[FiringSource, ...]:
        item, _ = self._items.read(key)
        return tuple(source for source, firing in _sources(item).values() if firing)

    def record(self, key: str, source: FiringSource, *, firing: bool) -> None:
        for _ in range(_ATTEMPTS):
            item, version = self._items.read(key)
            sources = _sources(item)
            known = sources.get(source.member)
            if known is not None and known[0].since > source.since:
                return  # a newer state of this alarm is remembered
            if known is None and not firing:
                return  # an OK for an alarm never remembered: nothing to clear
            sources[source.member] = (source, firing)
            # Recovered sources are kept only while there is room: they guard against an older ALARM arriving late.
            if len(sources) > MAX_SOURCES:
                sources = {m: s for m, s in sources.items() if s[1] or m == source.member}
            attributes = {"sources": {"M": {m: _source_value(s, f) for m, (s, f) in sources.items()}}}
            if self._items.write(key, {**attributes, **self._items.expiry()}, version):
                return
        raise TransientApiError(f"inhibition sources {key} kept changing; the queue will retry")


class DynamoQuietLedger:
    def __init__(self, client: DynamoDBClient, table: str, clock: Callable[[], datetime] | None = None) -> None:
        self._items = _VersionedItems(client, table, clock or (lambda: datetime.now(UTC)))

    def remember(self, entry: QuietEntry) -> bool:
        event_key = EVENT_PREFIX + _digest(entry.member)
        for _ in range(_ATTEMPTS):
            item, version = self._items.read(LEDGER_KEY)
            entries = _ledger(item)
            known = entries.get(entry.member)
            if known is not None and known["state_ms"] > _ms(entry.state_time):
                return True
            if known is None and len(entries) >= MAX_LEDGER_ENTRIES:
                return False
            # The event first: a ledger entry always finds its event.
            _, event_version = self._items.read(event_key)
            event = {"event": {"S": json.dumps(entry.raw_event, separators=(",", ":"))}}
            if not self._items.write(event_key, {**event, **self._items.expiry()}, event_version):
                continue
            entries[entry.member] = {
                "name": entry.name,
                "state_ms": _ms(entry.state_time),
                "reason": entry.reason.value,
                "applied": entry.applied,
                "event": event_key,
            }
            if self._items.write(LEDGER_KEY, self._ledger_attributes(entries), version):
                return True
        raise TransientApiError("the quiet ledger kept changing; the queue will retry")

    def forget(self, member: str, at: datetime) -> QuietEntry | None:
        for _ in range(_ATTEMPTS):
            item, version = self._items.read(LEDGER_KEY)
            entries = _ledger(item)
            known = entries.get(member)
            if known is None or known["state_ms"] > _ms(at):
                return None
            del entries[member]
            if self._items.write(LEDGER_KEY, self._ledger_attributes(entries), version):
                return _entry(member, known, {})
        raise TransientApiError("the quiet ledger kept changing; the queue will retry")

    def entries(self) -> tuple[QuietEntry, ...]:
        item, _ = self._items.read(LEDGER_KEY)
        found = []
        for member, value in _ledger(item).items():
            event_item, _ = self._items.read(value["event"])
            if "event" not in event_item:
                continue  # expired with its retention: nothing left to re-run
            found.append(_entry(member, value, json.loads(event_item["event"]["S"])))
        return tuple(found)

    def _ledger_attributes(self, entries: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return {
            "entries": {"M": {member: {"M": {
                "name": {"S": value["name"]}, "state_ms": {"N": str(value["state_ms"])},
                "reason": {"S": value["reason"]}, "applied": {"S": value["applied"]}, "event": {"S": value["event"]},
            }} for member, value in entries.items()}},
            **self._items.expiry(),
        }  # fmt: skip


def _sources(item: dict[str, Any]) -> dict[str, tuple[FiringSource, bool]]:
    from incident_bridge.quiet.inhibition import FiringSource  # only inhibit_rules read sources

    found = {}
    for member, value in item.get("sources", {}).get("M", {}).items():
        fields = value["M"]
        source = FiringSource(member=member, name=fields["name"]["S"], since=_moment(int(fields["since_ms"]["N"])),
                              also_target=fields["also_target"]["BOOL"])  # fmt: skip
        found[member] = (source, bool(fields["firing"]["BOOL"]))
    return found


def _source_value(source: FiringSource, firing: bool) -> dict[str, Any]:
    return {"M": {"name": {"S": source.name}, "since_ms": {"N": str(_ms(source.since))},
                  "firing": {"BOOL": firing}, "also_target": {"BOOL": source.also_target}}}  # fmt: skip


def _ledger(item: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        member: {"name": v["M"]["name"]["S"], "state_ms": int(v["M"]["state_ms"]["N"]), "reason": v["M"]["reason"]["S"],
                 "applied": v["M"]["applied"]["S"], "event": v["M"]["event"]["S"]}
        for member, v in item.get("entries", {}).get("M", {}).items()
    }  # fmt: skip


def _entry(member: str, value: dict[str, Any], raw_event: dict[str, Any]) -> QuietEntry:
    return QuietEntry(member=member, name=value["name"], state_time=_moment(value["state_ms"]),
                      reason=QuietReason(value["reason"]), applied=value["applied"], raw_event=raw_event)  # fmt: skip


def _digest(member: str) -> str:
    return hashlib.sha256(member.encode()).hexdigest()[:32]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _moment(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, UTC)
