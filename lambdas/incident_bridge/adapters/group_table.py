"""Group records in DynamoDB: one item per group key, every write conditional on the version read."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from incident_bridge.errors import TransientApiError
from incident_bridge.lifecycle import GroupRecord, GroupStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


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

    def put(self, record: GroupRecord, *, expected_version: int | None) -> bool:
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(group_key)"}
            if expected_version is None
            else {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
            }
        )
        try:
            self._client.put_item(TableName=self._table, Item=to_item(record), **condition)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise TransientApiError(f"PutItem on {self._table}: {error}") from error
        except BotoCoreError as error:
            raise TransientApiError(f"PutItem on {self._table}: {error}") from error
        return True


def to_item(record: GroupRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        "group_key": {"S": record.group_key},
        "status": {"S": record.status.value},
        "version": {"N": str(record.version)},
        "alarm_states": {"M": {arn: {"S": state} for arn, state in record.alarm_states.items()}},
        "processed_events": {"L": [{"S": event_id} for event_id in record.processed_events]},
        "resolved_by_bridge": {"BOOL": record.resolved_by_bridge},
    }
    optional = {
        "incident_arn": record.incident_arn,
        "client_token": record.client_token,
        "claimed_at": record.claimed_at.isoformat() if record.claimed_at else None,
        "resolved_at": record.resolved_at.isoformat() if record.resolved_at else None,
    }
    item.update({name: {"S": value} for name, value in optional.items() if value is not None})
    if record.attached:  # DynamoDB refuses empty sets
        item["attached"] = {"SS": sorted(record.attached)}
    if record.expires_at is not None:
        item["expires_at"] = {"N": str(record.expires_at)}  # the table's TTL attribute
    return item


def from_item(item: dict[str, Any]) -> GroupRecord:
    def text(name: str) -> str | None:
        return str(item[name]["S"]) if name in item else None

    def moment(name: str) -> datetime | None:
        value = text(name)
        return datetime.fromisoformat(value) if value else None

    return GroupRecord(
        group_key=str(item["group_key"]["S"]),
        status=GroupStatus(item["status"]["S"]),
        version=int(item["version"]["N"]),
        incident_arn=text("incident_arn"),
        client_token=text("client_token"),
        claimed_at=moment("claimed_at"),
        alarm_states={arn: str(value["S"]) for arn, value in item.get("alarm_states", {}).get("M", {}).items()},
        attached=frozenset(item.get("attached", {}).get("SS", [])),
        processed_events=tuple(str(value["S"]) for value in item.get("processed_events", {}).get("L", [])),
        resolved_at=moment("resolved_at"),
        resolved_by_bridge=bool(item.get("resolved_by_bridge", {}).get("BOOL", False)),
        expires_at=int(item["expires_at"]["N"]) if "expires_at" in item else None,
    )
