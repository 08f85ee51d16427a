"""Live silences in the state table (the group table), beside the group records: what the function reads.

Each silence is its own item, `silence#<id>`, whose TTL is its end: DynamoDB forgets it once it is over (TTL
deletes lag by up to a few days, so readers also check the end). The function needs the live ones on every batch,
and the table has no sort key to query them by, so one more item, `silences`, holds the pending and active ones:
one GetItem per batch, no scan. Both change together in one TransactWriteItems, the index conditioned on the
version read, so two people adding silences at once cannot lose one. Writing is the CLI's (adapters/silence_admin.py,
left out of the function's asset): the function only reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NamedTuple

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
ATTEMPTS = 3


class SilenceError(Exception):
    """What a person asked of the silences cannot be done (unknown id, too many); the message says why."""


class _Index(NamedTuple):
    """The live silences item as read, with the version a conditional write checks."""

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


def silence_json(silence: Silence) -> str:
    return json.dumps(silence_document(silence), separators=(",", ":"), ensure_ascii=False)


def epoch_seconds(moment: datetime) -> int:
    return int(moment.timestamp())
