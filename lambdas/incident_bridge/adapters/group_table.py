"""Group records in DynamoDB: one item per group key, every write conditional on the version read.

Writes come first and read only when their condition fails: the refused write returns the stored item
(`ReturnValuesOnConditionCheckFailure=ALL_OLD`, as Powertools' idempotency utility does), so a write that finds
the group changed costs no extra read.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from incident_bridge.alarm import AlarmState
from incident_bridge.errors import CorruptGroupRecord, GroupRecordRejected, TransientApiError
from incident_bridge.groups import (
    SCHEMA_VERSION,
    AlarmMark,
    GroupRecord,
    GroupStatus,
    PendingItem,
    PendingNote,
    PendingStatus,
    WriteResult,
)
from incident_bridge.incident import ItemType, RelatedItem

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

#: Error codes no retry can fix: the item itself is refused (over 400 KB, an attribute DynamoDB cannot store).
_REFUSED = frozenset({"ValidationException", "ItemCollectionSizeLimitExceededException"})
#: The layout written before `schema` existed: alarm states as plain strings, attached identities as a set. Its
#: states carry no time, so any transition is newer than them.
_FIRST_LAYOUT_TIME = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


def version_condition(expected_version: int | None) -> dict[str, Any]:
    """The optimistic lock of every item the bridge writes in its state table: a new item must not exist yet, an
    existing one must still be at the version read (a `version` attribute counted up by each write)."""
    if expected_version is None:
        return {"ConditionExpression": "attribute_not_exists(group_key)"}
    return {
        "ConditionExpression": "version = :expected",
        "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
    }


class DynamoGroupStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def load(self, group_key: str) -> GroupRecord | None:
        try:
            response = self._client.get_item(
                TableName=self._table, Key={"group_key": {"S": group_key}}, ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as error:
            raise TransientApiError(f"GetItem on {self._table}: {error}") from error
        item = response.get("Item")
        return from_item(item) if item else None

    def put(self, record: GroupRecord, *, expected_version: int | None) -> WriteResult:
        condition = version_condition(expected_version)
        try:
            item = to_item(record)
        except UnicodeEncodeError as error:
            raise GroupRecordRejected(f"group {record.group_key!a} cannot be stored: {error}") from error
        try:
            self._client.put_item(
                TableName=self._table, Item=item, ReturnValuesOnConditionCheckFailure="ALL_OLD", **condition
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code == "ConditionalCheckFailedException":
                stored = cast("dict[str, Any] | None", error.response.get("Item"))
                return WriteResult(False, from_item(stored) if stored else None)
            if code in _REFUSED:
                raise GroupRecordRejected(f"PutItem on {self._table} refused the group record: {error}") from error
            raise TransientApiError(f"PutItem on {self._table}: {error}") from error
        except BotoCoreError as error:
            raise TransientApiError(f"PutItem on {self._table}: {error}") from error
        return WriteResult(True)


def to_item(record: GroupRecord) -> dict[str, Any]:
    """The item for a record. Raises UnicodeEncodeError for text DynamoDB cannot store (lone surrogates)."""
    item: dict[str, Any] = {
        "group_key": {"S": record.group_key},
        "schema": {"N": str(SCHEMA_VERSION)},
        "status": {"S": record.status.value},
        "version": {"N": str(record.version)},
        "alarm_states": {"M": {arn: {"M": _mark(mark)} for arn, mark in record.alarm_states.items()}},
        "attached": {"L": [{"S": identity} for identity in record.attached]},
        "processed_events": {"L": [{"S": event_id} for event_id in record.processed_events]},
        "pending_items": {"L": [_pending_item(pending) for pending in record.pending_items]},
        "pending_notes": {"L": [_pending_note(note) for note in record.pending_notes]},
        "overflowed": {"BOOL": record.overflowed},
        "resolved_by_bridge": {"BOOL": record.resolved_by_bridge},
    }
    optional = {
        "incident_arn": record.incident_arn,
        "client_token": record.client_token,
        "claimed_at": record.claimed_at.isoformat() if record.claimed_at else None,
        "claim_event": record.claim_event,
        "resolved_at": record.resolved_at.isoformat() if record.resolved_at else None,
    }
    item.update({name: {"S": value} for name, value in optional.items() if value is not None})
    if record.pending_status is not None:
        item["pending_status"] = {
            "M": {"status": {"S": record.pending_status.status}, "token": {"S": record.pending_status.token}}
        }
    if record.expires_at is not None:
        item["expires_at"] = {"N": str(record.expires_at)}  # the table's TTL attribute
    _check_encodable(item)
    return item


def _mark(mark: AlarmMark) -> dict[str, Any]:
    written = {"state": {"S": mark.state.value}, "at": {"S": mark.at.isoformat()}}
    if mark.occurrence:
        # Only service events have one (an alarm's state time names its transition): alarm groups stay as small.
        written["occurrence"] = {"S": mark.occurrence}
    return written


def _read_mark(value: dict[str, Any]) -> AlarmMark:
    occurrence = str(value["occurrence"]["S"]) if "occurrence" in value else ""
    return AlarmMark(AlarmState(value["state"]["S"]), datetime.fromisoformat(value["at"]["S"]), occurrence)


def from_item(item: dict[str, Any]) -> GroupRecord:
    """The record of an item, of this layout or the first one. Raises CorruptGroupRecord when it cannot be read."""
    try:
        return _read(item)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        key = item.get("group_key", {}).get("S", "?") if isinstance(item, dict) else "?"
        raise CorruptGroupRecord(f"group record {key!a} cannot be read ({type(error).__name__}: {error})") from error


def _read(item: dict[str, Any]) -> GroupRecord:
    schema = int(item["schema"]["N"]) if "schema" in item else 1
    if schema > SCHEMA_VERSION:
        raise ValueError(f"layout {schema} is newer than this version reads ({SCHEMA_VERSION})")

    def text(name: str) -> str | None:
        return str(item[name]["S"]) if name in item else None

    def moment(name: str) -> datetime | None:
        value = text(name)
        return datetime.fromisoformat(value) if value else None

    states = item.get("alarm_states", {}).get("M", {})
    if schema == 1:
        alarm_states = {arn: AlarmMark(AlarmState(value["S"]), _FIRST_LAYOUT_TIME) for arn, value in states.items()}
        attached = tuple(sorted(item.get("attached", {}).get("SS", [])))
    else:
        alarm_states = {arn: _read_mark(value["M"]) for arn, value in states.items()}
        attached = tuple(str(value["S"]) for value in item.get("attached", {}).get("L", []))
    status_value = item.get("pending_status", {}).get("M")
    return GroupRecord(
        group_key=str(item["group_key"]["S"]),
        status=GroupStatus(item["status"]["S"]),
        version=int(item["version"]["N"]),
        incident_arn=text("incident_arn"),
        client_token=text("client_token"),
        claimed_at=moment("claimed_at"),
        claim_event=text("claim_event"),
        alarm_states=alarm_states,
        attached=attached,
        processed_events=tuple(str(value["S"]) for value in item.get("processed_events", {}).get("L", [])),
        pending_items=tuple(_read_pending_item(value["M"]) for value in item.get("pending_items", {}).get("L", [])),
        pending_notes=tuple(_read_pending_note(value["M"]) for value in item.get("pending_notes", {}).get("L", [])),
        pending_status=PendingStatus(status_value["status"]["S"], status_value["token"]["S"]) if status_value else None,
        overflowed=bool(item.get("overflowed", {}).get("BOOL", False)),
        resolved_at=moment("resolved_at"),
        resolved_by_bridge=bool(item.get("resolved_by_bridge", {}).get("BOOL", False)),
        expires_at=int(item["expires_at"]["N"]) if "expires_at" in item else None,
    )


def _pending_item(pending: PendingItem) -> dict[str, Any]:
    fields = {
        "token": pending.token,
        "type": pending.item.item_type.value,
        "title": pending.item.title,
        "arn": pending.item.arn,
        "url": pending.item.url,
        "metric": pending.item.metric_definition,
    }
    return {"M": {name: {"S": value} for name, value in fields.items() if value is not None}}


def _read_pending_item(value: dict[str, Any]) -> PendingItem:
    def text(name: str) -> str | None:
        return str(value[name]["S"]) if name in value else None

    item = RelatedItem(
        item_type=ItemType(value["type"]["S"]),
        title=str(value["title"]["S"]),
        arn=text("arn"),
        url=text("url"),
        metric_definition=text("metric"),
    )
    return PendingItem(str(value["token"]["S"]), item)


def _pending_note(note: PendingNote) -> dict[str, Any]:
    written = {
        "token": {"S": note.token},
        "at": {"S": note.event_time.isoformat()},
        "text": {"S": note.text},
        "arns": {"L": [{"S": arn} for arn in note.resource_arns]},
    }
    if note.kind:
        written["kind"] = {"S": note.kind}
    return {"M": written}


def _read_pending_note(value: dict[str, Any]) -> PendingNote:
    return PendingNote(
        token=str(value["token"]["S"]),
        event_time=datetime.fromisoformat(value["at"]["S"]),
        text=str(value["text"]["S"]),
        resource_arns=tuple(str(arn["S"]) for arn in value["arns"]["L"]),
        kind=str(value["kind"]["S"]) if "kind" in value else "",
    )


def _check_encodable(value: Any) -> None:
    """DynamoDB stores UTF-8: text with a lone surrogate (from a JSON escape in an event) cannot be written."""
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, dict):
        for key, inner in value.items():
            _check_encodable(key)
            _check_encodable(inner)
    elif isinstance(value, list):
        for inner in value:
            _check_encodable(inner)
