"""The bridge's state table as moto creates it for tests: the shape infra/state_table.py deploys."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def create_state_table(client: DynamoDBClient, table_name: str) -> None:
    """Partition key group_key (S), on demand, TTL on expires_at (tests/infra/test_state_stack.py pins the same)."""
    client.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "group_key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "group_key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
