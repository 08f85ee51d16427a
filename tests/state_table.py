"""The bridge's state table as moto creates it for tests: the shape infra/state_table.py deploys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import boto3
from moto import mock_aws

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


@contextmanager
def moto_state_table(table_name: str, region: str = "us-east-1") -> Iterator[DynamoDBClient]:
    """A moto account holding the state table as deployed; yields a DynamoDB client of that account."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name=region)
        create_state_table(client, table_name)
        yield client
