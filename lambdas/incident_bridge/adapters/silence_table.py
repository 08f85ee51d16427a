"""Live silences in the state table (the group table), beside the group records.

Each silence is its own item, `silence#<id>`, whose TTL is its end: DynamoDB forgets it once it is over (TTL
deletes lag by up to a few days, so readers also check the end). The function needs the live ones on every batch,
and the table has no sort key to query them by, so one more item, `silences`, holds the pending and active ones:
one GetItem per batch, no scan. Both change together in one TransactWriteItems, the index conditioned on the
version read, so two people adding silences at once cannot lose one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from incident_bridge.config import parse_silence, silence_document
from incident_bridge.errors import ConfigError, TransientApiError
from incident_bridge.quiet.silences import Silence, SilenceState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

INDEX_KEY = "silences"
ITEM_PREFIX = "silence#"
#: Live silences at once: the index item must stay far below DynamoDB's 400 KB (a silence is at most ~2 KB).
MAX_LIVE_SILENCES = 100
_ATTEMPTS = 3


class SilenceError(Exception):
    """What a person asked of the silences cannot be done (unknown id, too many); the message says why."""


@dataclass(frozen=True)
class _Index:
    silences: dict[str, Silence]
    version: int | None


class DynamoSilenceStore:
    def __init__(self, client: DynamoDBClient, table_name: str, clock: Callable[[], datetime] | None = None) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock or (lambda: datetime.now(UTC))

    # ---- the function's read ----

    def live(self) -> tuple[Silence, ...]:
        """The pending and active silences (one consistent GetItem)."""
        now = self._clock()
        return tuple(s for s in self._index().silences.values() if s.state(now) is not SilenceState.EXPIRED)

    # ---- the CLI's writes ----

    def add(self, silence: Silence) -> None:
        for _ in range(_ATTEMPTS):
            index = self._index()
            now = self._clock()
            kept = {i: s for i, s in index.silences.items() if s.state(now) is not SilenceState.EXPIRED}
            if silence.id in kept:
                raise SilenceError(f"a silence with id {silence.id} exists already")
            if len(kept) >= MAX_LIVE_SILENCES:
                raise SilenceError(f"{len(kept)} silences are live already (at most {MAX_LIVE_SILENCES}); expire some")
            kept[silence.id] = silence
            if self._write(silence, kept, index.version, new_item=True):
                return
        raise TransientApiError(f"the silences of {self._table} kept changing; try again")

    def expire(self, silence_id: str) -> Silence:
        """Ends the silence now (Alertmanager's expire); returns it as stored."""
        for _ in range(_ATTEMPTS):
            index = self._index()
            now = self._clock()
            current = index.silences.get(silence_id)
            if current is None or current.state(now) is SilenceState.EXPIRED:
                raise SilenceError(f"no pending or active silence has id {silence_id}")
            expired = current.expired_at(now)
            kept = {
                i: s for i, s in index.silences.items() if i != silence_id and s.state(now) is not SilenceState.EXPIRED
            }
            if self._write(expired, kept, index.version, new_item=False):
                return expired
        raise TransientApiError(f"the silences of {self._table} kept changing; try again")

    def listed(self) -> tuple[Silence, ...]:
        """Every silence the index holds, pending and active first, newest end last (`silence list`)."""
        return tuple(sorted(self.live(), key=lambda s: (s.starts_at, s.ends_at, s.id)))

    # ---- items ----

    def _index(self) -> _Index:
        try:
            response = self._client.get_item(
                TableName=self._table, Key={"group_key": {"S": INDEX_KEY}}, ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as error:
            raise TransientApiError(f"GetItem {INDEX_KEY} on {self._table}: {error}") from error
        item = response.get("Item")
        if not item:
            return _Index({}, None)
        silences = {}
        for silence_id, value in item.get("silences", {}).get("M", {}).items():
            try:
                silences[silence_id] = parse_silence(json.loads(value["S"]), origin=f"{self._table} {INDEX_KEY}")
            except (ConfigError, ValueError, KeyError):
                continue  # one unreadable entry (written by hand) must not silence or unsilence the others
        return _Index(silences, int(item["version"]["N"]))

    def _write(self, silence: Silence, index: dict[str, Silence], version: int | None, *, new_item: bool) -> bool:
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(group_key)"}
            if version is None
            else {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(version)}},
            }
        )
        last_end = max((s.ends_at for s in index.values()), default=silence.ends_at)
        index_item = {
            "group_key": {"S": INDEX_KEY},
            "version": {"N": str((version or 0) + 1)},
            "silences": {"M": {i: {"S": _json(s)} for i, s in index.items()}},
            # The index outlives its last silence by nothing: DynamoDB drops it when all are over.
            "expires_at": {"N": str(_epoch(last_end))},
        }
        silence_item = {
            "group_key": {"S": ITEM_PREFIX + silence.id},
            "silence": {"S": _json(silence)},
            "expires_at": {"N": str(_epoch(silence.ends_at))},  # the table's TTL: the silence's end
        }
        silence_put: dict[str, Any] = {"TableName": self._table, "Item": silence_item}
        if new_item:
            silence_put["ConditionExpression"] = "attribute_not_exists(group_key)"
        index_put: dict[str, Any] = {"TableName": self._table, "Item": index_item, **condition}
        writes: list[Any] = [{"Put": silence_put}, {"Put": index_put}]
        try:
            self._client.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise TransientApiError(f"TransactWriteItems on {self._table}: {error}") from error
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise SilenceError(f"a silence with id {silence.id} exists already") from None
            return False  # the index changed under us: read it again
        except BotoCoreError as error:
            raise TransientApiError(f"TransactWriteItems on {self._table}: {error}") from error
        return True


def _json(silence: Silence) -> str:
    return json.dumps(silence_document(silence), separators=(",", ":"), ensure_ascii=False)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())
