"""Forwarder heartbeats in a moto DynamoDB table like the stack's: one item, updated attribute by attribute, and the
whole silence flow with it (the live wiring of heartbeats and groups in one table)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from mypy_boto3_dynamodb import DynamoDBClient

from incident_bridge.adapters.dry_run import DryRunIncidentManager
from incident_bridge.adapters.group_table import DynamoGroupStore
from incident_bridge.adapters.heartbeat_table import HEARTBEATS_KEY, DynamoHeartbeatStore
from incident_bridge.bridge import Bridge
from incident_bridge.config import parse_config
from incident_bridge.heartbeats import ForwarderId, ForwarderRecord
from incident_bridge.outcome import OutcomeKind
from tests.conftest import PLAN_ARN
from tests.state_table import moto_state_table
from tests.unit.test_heartbeats import Clock, check_task, heartbeat_event

REGION = "us-east-1"
TABLE = "incident-bridge-groups"
PAYMENTS = ForwarderId("111122223333", "eu-west-1")
SEARCH = ForwarderId("444455556666", "us-east-1")
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def dynamodb() -> Iterator[DynamoDBClient]:
    """The state table as deployed (tests/state_table.py), in moto."""
    with moto_state_table(TABLE, REGION) as client:
        yield client


@pytest.fixture
def store(dynamodb: DynamoDBClient) -> DynamoHeartbeatStore:
    return DynamoHeartbeatStore(dynamodb, TABLE)


def test_heartbeats_of_two_forwarders_land_in_one_item(store: DynamoHeartbeatStore, dynamodb: DynamoDBClient) -> None:
    # Given an empty table / When two forwarders' heartbeats are recorded
    store.record({PAYMENTS: T0, SEARCH: T0 + timedelta(minutes=1)})

    # Then one item holds both, read back as records watched since their first heartbeat
    item = dynamodb.get_item(TableName=TABLE, Key={"group_key": {"S": HEARTBEATS_KEY}})["Item"]
    assert item["heard:111122223333:eu-west-1"] == {"N": str(int(T0.timestamp()))}
    assert "expires_at" not in item
    assert store.load() == {
        PAYMENTS: ForwarderRecord(PAYMENTS, T0, T0),
        SEARCH: ForwarderRecord(SEARCH, T0 + timedelta(minutes=1), T0 + timedelta(minutes=1)),
    }


def test_a_late_older_heartbeat_does_not_move_time_back(store: DynamoHeartbeatStore) -> None:
    # Given a forwarder heard at T0 + 5 minutes
    store.record({PAYMENTS: T0 + timedelta(minutes=5)})

    # When an older heartbeat arrives late (its condition fails, quietly), then a newer one
    store.record({PAYMENTS: T0})
    older_kept = store.load()[PAYMENTS]
    store.record({PAYMENTS: T0 + timedelta(minutes=10)})

    # Then the late one changed nothing, the newer one moved it forward, and the watch start never moved
    assert older_kept == ForwarderRecord(PAYMENTS, T0 + timedelta(minutes=5), T0 + timedelta(minutes=5))
    assert store.load()[PAYMENTS] == ForwarderRecord(PAYMENTS, T0 + timedelta(minutes=10), T0 + timedelta(minutes=5))


def test_watch_and_silence_marks_round_trip(store: DynamoHeartbeatStore) -> None:
    # Given a listed forwarder watched from T0, and another that is heard
    store.watch(PAYMENTS, T0)
    store.watch(PAYMENTS, T0 + timedelta(minutes=3))  # no effect: already watched
    store.record({SEARCH: T0})

    # When the second is marked silent, then unmarked, and the first marked
    store.mark_silent(SEARCH, T0)
    marked = store.load()[SEARCH]
    store.mark_silent(SEARCH, None)
    store.mark_silent(PAYMENTS, T0)

    # Then each mark reads back as written
    assert marked.silent_since == T0
    assert store.load() == {
        PAYMENTS: ForwarderRecord(PAYMENTS, None, T0, silent_since=T0),
        SEARCH: ForwarderRecord(SEARCH, T0, T0),
    }


def test_the_silence_flow_with_groups_and_heartbeats_in_one_table(dynamodb: DynamoDBClient) -> None:
    # Given the live wiring: groups and heartbeats in the same table, a dry-run Incident Manager, a clock
    clock = Clock()
    incidents = DryRunIncidentManager()
    bridge = Bridge(
        parse_config({"default": {"response_plan_arn": PLAN_ARN}}, origin="test"),
        incidents,
        DynamoGroupStore(dynamodb, TABLE),
        clock=clock,
        heartbeats=DynamoHeartbeatStore(dynamodb, TABLE),
    )

    # When a forwarder is heard at T0, checked at 15 minutes, heard again at 30 and checked at 31
    bridge.handle(heartbeat_event(PAYMENTS, T0))
    clock.now = T0 + timedelta(minutes=15)
    started = bridge.handle(check_task(clock.now))
    repeated = bridge.handle(check_task(clock.now))
    clock.now = T0 + timedelta(minutes=30)
    bridge.handle(heartbeat_event(PAYMENTS, clock.now))
    clock.now = T0 + timedelta(minutes=31)
    resolved = bridge.handle(check_task(clock.now))

    # Then one incident opened, a repeated check added nothing, and it resolved when heartbeats resumed
    assert (started.kind, repeated.kind, resolved.kind) == (
        OutcomeKind.STARTED,
        OutcomeKind.RECORDED,
        OutcomeKind.RESOLVED,
    )
    assert [incident.status for incident in incidents.incidents.values()] == ["RESOLVED"]
