"""Forwarder heartbeats in the state table: one item, three attributes per forwarder.

One item (not one per forwarder) so that the silence check reads every forwarder with one GetItem, without a
Scan of the group records. Each write is an UpdateItem of one forwarder's attributes: heartbeats of different
forwarders never conflict, and a late, older heartbeat is refused by its condition instead of moving time back.
Three attributes of about 40 bytes per forwarder keep 2,000 account-regions near 250 KB, within DynamoDB's 400 KB
item limit. The item has no `expires_at`: it lives as long as the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from incident_bridge.errors import TransientApiError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from incident_bridge.heartbeats import ForwarderId, ForwarderRecord

#: The item's key. Group keys always hold a `|` (lifecycle.group_key), so this one can never be a group's.
HEARTBEATS_KEY = "forwarder-heartbeats"
_HEARD, _WATCHED, _SILENT = "heard", "watched", "silent"


class DynamoHeartbeatStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def record(self, heartbeats: Mapping[ForwarderId, datetime]) -> None:
        for forwarder, sent_at in heartbeats.items():
            self._update(
                "SET #heard = :at, #watched = if_not_exists(#watched, :at)",
                forwarder,
                {":at": _epoch(sent_at)},
                condition="attribute_not_exists(#heard) OR #heard < :at",
                names=(_HEARD, _WATCHED),
            )

    def load(self) -> dict[ForwarderId, ForwarderRecord]:
        try:
            response = self._client.get_item(
                TableName=self._table, Key={"group_key": {"S": HEARTBEATS_KEY}}, ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as error:
            raise TransientApiError(f"GetItem on {self._table}: {error}") from error
        return records_of(response.get("Item", {}))

    def watch(self, forwarder: ForwarderId, since: datetime) -> None:
        self._update("SET #watched = if_not_exists(#watched, :at)", forwarder, {":at": _epoch(since)},
                     names=(_WATCHED,))  # fmt: skip

    def mark_silent(self, forwarder: ForwarderId, since: datetime | None) -> None:
        if since is None:
            self._update("REMOVE #silent", forwarder, {}, names=(_SILENT,))
        else:
            self._update("SET #silent = :at", forwarder, {":at": _epoch(since)}, names=(_SILENT,))

    def _update(
        self,
        expression: str,
        forwarder: ForwarderId,
        values: dict[str, Any],
        *,
        names: tuple[str, ...],
        condition: str | None = None,
    ) -> None:
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"group_key": {"S": HEARTBEATS_KEY}},
            "UpdateExpression": expression,
            "ExpressionAttributeNames": {f"#{name}": attribute(name, forwarder) for name in names},
        }
        if values:
            request["ExpressionAttributeValues"] = values
        if condition:
            request["ConditionExpression"] = condition
        try:
            self._client.update_item(**request)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return  # an older heartbeat than the one kept: nothing to do
            raise TransientApiError(f"UpdateItem on {self._table}: {error}") from error
        except BotoCoreError as error:
            raise TransientApiError(f"UpdateItem on {self._table}: {error}") from error


def attribute(kind: str, forwarder: ForwarderId) -> str:
    """`heard:111122223333:eu-west-1`: one attribute per kind and forwarder."""
    return f"{kind}:{forwarder.account}:{forwarder.region}"


def records_of(item: Mapping[str, Any]) -> dict[ForwarderId, ForwarderRecord]:
    # Imported when the records are read (a forwarder check): alarms-only bridges never load heartbeats.py.
    from incident_bridge.heartbeats import ForwarderId, ForwarderRecord

    times: dict[ForwarderId, dict[str, datetime]] = {}
    for name, value in item.items():
        kind, _, rest = name.partition(":")
        account, _, region = rest.partition(":")
        if kind in (_HEARD, _WATCHED, _SILENT) and "N" in value:
            times.setdefault(ForwarderId(account, region), {})[kind] = datetime.fromtimestamp(float(value["N"]), tz=UTC)
    return {
        forwarder: ForwarderRecord(
            forwarder,
            last_heartbeat=found.get(_HEARD),
            watched_since=found.get(_WATCHED) or found[_HEARD],
            silent_since=found.get(_SILENT),
        )
        for forwarder, found in times.items()
        if _WATCHED in found or _HEARD in found
    }


def _epoch(moment: datetime) -> dict[str, str]:
    return {"N": str(int(moment.timestamp()))}
