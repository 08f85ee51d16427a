"""The lifecycle on its production adapters: group records in a (moto) DynamoDB table shaped like infra/state_table.py,
and Incident Manager through the Stubber-backed boto3 client (every request validated against the full model).

Two "Lambda invocations" are two Bridges sharing one table, each with its own client, as two containers would be.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from mypy_boto3_dynamodb import DynamoDBClient
from mypy_boto3_ssm_incidents import SSMIncidentsClient

from incident_bridge import handler
from incident_bridge.adapters.api_model import ensure_valid
from incident_bridge.adapters.dry_run import DryRunIncidentManager
from incident_bridge.adapters.group_table import DynamoGroupStore, from_item, to_item
from incident_bridge.adapters.incident_manager import Boto3IncidentManager
from incident_bridge.alarm import AlarmState
from incident_bridge.bridge import Bridge
from incident_bridge.config import BridgeConfig, parse_config
from incident_bridge.errors import CorruptGroupRecord, GroupRecordRejected, TransientApiError
from incident_bridge.groups import UNSEALED, AlarmMark, GroupRecord, GroupStatus, PendingNote, WriteResult
from incident_bridge.outcome import IgnoreReason, Outcome, OutcomeKind
from incident_bridge.runtime import MemoryDeadLetters, Runtime
from tests.conftest import load_event
from tests.handler.conftest import ACCOUNT, REGION, TEST_PLAN_ARN, lambda_context, sqs_batch, sqs_record
from tests.state_table import moto_state_table

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TABLE = "incident-bridge-groups"
EC2_ALARM = "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
ALARM_ARN_PREFIX = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:"
INSTANCE_ARN_PREFIX = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/"
RECORD_PREFIX = f"arn:aws:ssm-incidents::{ACCOUNT}:incident-record/checkout-oncall/"
FIRST_INCIDENT = RECORD_PREFIX + "6e1c9a52-8e1f-4d4c-a7b1-0f3e5d2c1a01"
SECOND_INCIDENT = RECORD_PREFIX + "9b2d7f10-3c4a-4e5b-8f6d-1a2b3c4d5e02"
GROUP_KEY = "default|tag:service=checkout"
NOW = datetime(2019, 10, 2, 17, 5, tzinfo=UTC)
HEX_TOKEN = re.compile(r"^[0-9a-f]{64}$")


# ---- events: copies of the documented EC2 alarm ----


def checkout_alarm(number: int) -> dict[str, Any]:
    """The sample renamed to checkout-cpu-<n>, on instance i-<n>, tagged service=checkout, with its own id."""
    event = load_event(EC2_ALARM)
    name = f"checkout-cpu-{number:02d}"
    event["id"] = f"c4c1c1c9-6542-e61b-6ef0-{number:012d}"
    event["resources"] = [ALARM_ARN_PREFIX + name]
    event["detail"]["alarmName"] = name
    event["detail"]["alarmTags"] = {"service": "checkout"}
    event["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"]["InstanceId"] = (
        f"i-{number:017d}"
    )
    return event


def redelivered_as_new(event: dict[str, Any], event_id: str) -> dict[str, Any]:
    """The same alarm transition delivered under another id (a second delivery path)."""
    copied = copy.deepcopy(event)
    copied["id"] = event_id
    return copied


def alarm_arn(number: int) -> str:
    return f"{ALARM_ARN_PREFIX}checkout-cpu-{number:02d}"


def instance_arn(number: int) -> str:
    return f"{INSTANCE_ARN_PREFIX}i-{number:017d}"


def alarm_time() -> datetime:
    return datetime(2019, 10, 2, 17, 4, 40, 989000, tzinfo=UTC)


def checkout_config(**default: Any) -> BridgeConfig:
    return parse_config(
        {"default": {"response_plan_arn": TEST_PLAN_ARN, "group_by": ["tag:service"], **default}},
        origin="tests/handler/test_lifecycle_dynamodb",
    )


# ---- the table, the clients ----


@pytest.fixture
def dynamodb() -> Iterator[DynamoDBClient]:
    """The state table as deployed (tests/state_table.py), in moto."""
    with moto_state_table(TABLE, REGION) as client:
        yield client


@pytest.fixture
def store(dynamodb: DynamoDBClient) -> DynamoGroupStore:
    return DynamoGroupStore(dynamodb, TABLE)


def states(record: GroupRecord | None) -> dict[str, str]:
    """A record's alarm states without their state times."""
    assert record is not None
    return {arn: mark.state.value for arn, mark in record.alarm_states.items()}


def item_states(item: dict[str, Any]) -> dict[str, str]:
    """An item's alarm states (each a map of state and state time) without their state times."""
    return {arn: value["M"]["state"]["S"] for arn, value in item["alarm_states"]["M"].items()}


def stored_item(dynamodb: DynamoDBClient, key: str = GROUP_KEY) -> dict[str, Any]:
    response = dynamodb.get_item(TableName=TABLE, Key={"group_key": {"S": key}}, ConsistentRead=True)
    return dict(response["Item"])


def validated_client() -> SSMIncidentsClient:
    """A second ssm-incidents client (another container), validated like the shared fixture's."""
    client = boto3.client("ssm-incidents", region_name=REGION)

    def validate(params: dict[str, Any], model: Any, **_: Any) -> None:
        ensure_valid(model.name, params)

    client.meta.events.register("provide-client-params.ssm-incidents.*", validate)
    return client


@dataclass
class SentRequests:
    """Every request a client actually sent, as (operation, params), in order."""

    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def attach(self, client: SSMIncidentsClient) -> None:
        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            self.requests.append((model.name, copy.deepcopy(params)))

        client.meta.events.register("before-parameter-build.ssm-incidents.*", record)


def bridge_on(client: SSMIncidentsClient, groups: Any, bridge_config: BridgeConfig | None = None) -> Bridge:
    return Bridge(bridge_config or checkout_config(), Boto3IncidentManager(client), groups, clock=lambda: NOW)


# ---- Stubber responses ----


def incident_record(arn: str, status: str) -> dict[str, Any]:
    """A GetIncidentRecord response with every member the output model requires."""
    return {
        "incidentRecord": {
            "arn": arn,
            "creationTime": datetime(2019, 10, 2, 17, 4, 41, tzinfo=UTC),
            "dedupeString": "",
            "impact": 3,
            "incidentRecordSource": {"createdBy": f"arn:aws:iam::{ACCOUNT}:role/incident-bridge", "source": "x"},
            "lastModifiedBy": f"arn:aws:iam::{ACCOUNT}:role/responder",
            "lastModifiedTime": datetime(2019, 10, 2, 17, 10, tzinfo=UTC),
            "status": status,
            "title": "checkout-cpu-01 is in ALARM (123456789012, us-east-1)",
        }
    }


def expect_start(stubber: Stubber, incident_arn: str, number: int) -> None:
    stubber.add_response(
        "start_incident",
        {"incidentRecordArn": incident_arn},
        {
            "clientToken": ANY,
            "responsePlanArn": TEST_PLAN_ARN,
            "title": f"checkout-cpu-{number:02d} is in ALARM (123456789012, us-east-1)",
            "impact": 3,
            "triggerDetails": ANY,
            "relatedItems": ANY,
        },
    )


def expect_join(stubber: Stubber, incident_arn: str, number: int) -> None:
    """GetIncidentRecord -> OPEN, then the alarm's new instance (its metric is already charted, its console link is
    named by the timeline note instead), then the timeline."""
    name = f"checkout-cpu-{number:02d}"
    stubber.add_response("get_incident_record", incident_record(incident_arn, "OPEN"), {"arn": incident_arn})
    item = {
        "title": f"EC2 instance i-{number:017d}",
        "identifier": {"type": "INVOLVED_RESOURCE", "value": {"arn": instance_arn(number)}},
    }
    stubber.add_response(
        "update_related_items",
        {},
        {"clientToken": ANY, "incidentRecordArn": incident_arn, "relatedItemsUpdate": {"itemToAdd": item}},
    )
    stubber.add_response(
        "create_timeline_event",
        {"eventId": "b4e0a8c2-0000-4000-8000-000000000001", "incidentRecordArn": incident_arn},
        {
            "clientToken": ANY,
            "incidentRecordArn": incident_arn,
            "eventTime": alarm_time(),
            "eventType": "Custom Event",
            "eventData": f'"{name} fired."',
            "eventReferences": [{"resource": alarm_arn(number)}],
        },
    )


# ---- start, then join ----


def test_a_start_then_a_join_make_exactly_these_calls_and_store_the_group(
    dynamodb: DynamoDBClient,
    store: DynamoGroupStore,
    incidents_client: SSMIncidentsClient,
    incidents_stubber: Stubber,
) -> None:
    # Given a bridge on the table and the stubbed client, grouping by the service tag
    sent = SentRequests()
    sent.attach(incidents_client)
    bridge = bridge_on(incidents_client, store)
    expect_start(incidents_stubber, FIRST_INCIDENT, 1)
    expect_join(incidents_stubber, FIRST_INCIDENT, 2)

    # When two alarms of the service fire
    started = bridge.handle(checkout_alarm(1))
    joined = bridge.handle(checkout_alarm(2))

    # Then the first starts the incident and the second joins it: status read, its instance, one timeline event
    incidents_stubber.assert_no_pending_responses()
    assert (started.kind, joined.kind) == (OutcomeKind.STARTED, OutcomeKind.UPDATED)
    assert [operation for operation, _ in sent.requests] == [
        "StartIncident",
        "GetIncidentRecord",
        "UpdateRelatedItems",
        "CreateTimelineEvent",
    ]
    # And the outcomes record exactly what the client sent, the status read included
    recorded = [(call.operation, call.params) for call in (*started.calls, *joined.calls)]
    assert recorded == sent.requests
    tokens = [params["clientToken"] for _, params in recorded if "clientToken" in params]
    assert all(HEX_TOKEN.match(token) for token in tokens)
    assert len(set(tokens)) == len(tokens)
    # And the item holds the open group: both alarms, the four items and one charted metric, both events, a TTL.
    # Version 4: claimed, opened, the join committed (its calls pending), the join's calls confirmed.
    item = stored_item(dynamodb)
    assert {name: item[name] for name in ("group_key", "status", "version", "incident_arn", "resolved_by_bridge")} == {
        "group_key": {"S": GROUP_KEY},
        "status": {"S": "OPEN"},
        "version": {"N": "4"},
        "incident_arn": {"S": FIRST_INCIDENT},
        "resolved_by_bridge": {"BOOL": False},
    }
    assert item["alarm_states"] == {
        "M": {
            arn: {"M": {"state": {"S": "ALARM"}, "at": {"S": "2019-10-02T17:04:40.989000+00:00"}}}
            for arn in (alarm_arn(1), alarm_arn(2))
        }
    }
    assert len(item["attached"]["L"]) == 5
    assert (item["pending_items"], item["pending_notes"]) == ({"L": []}, {"L": []})
    assert item["processed_events"] == {
        "L": [{"S": "c4c1c1c9-6542-e61b-6ef0-000000000001"}, {"S": "c4c1c1c9-6542-e61b-6ef0-000000000002"}]
    }
    assert item["expires_at"] == {"N": str(int((NOW + timedelta(days=90)).timestamp()))}


def test_redelivery_through_the_table_makes_no_call(
    dynamodb: DynamoDBClient,
    store: DynamoGroupStore,
    incidents_client: SSMIncidentsClient,
    incidents_stubber: Stubber,
) -> None:
    # Given a started group
    bridge = bridge_on(incidents_client, store)
    expect_start(incidents_stubber, FIRST_INCIDENT, 1)
    bridge.handle(checkout_alarm(1))
    before = stored_item(dynamodb)

    # When the same event is delivered again (no response is queued: any call would fail the test)
    outcome = bridge.handle(checkout_alarm(1))

    # Then it is ignored and the item is unchanged
    assert outcome.kind is OutcomeKind.IGNORED
    assert outcome.calls == ()
    assert stored_item(dynamodb) == before


# ---- the item ----


@pytest.mark.parametrize(
    "record",
    [
        GroupRecord(GROUP_KEY, GroupStatus.PENDING, 1, client_token="a" * 64, claimed_at=NOW, expires_at=1_577_811_900),
        GroupRecord(
            GROUP_KEY,
            GroupStatus.OPEN,
            2,
            incident_arn=FIRST_INCIDENT,
            client_token="a" * 64,
            claimed_at=NOW,
            alarm_states={
                alarm_arn(1): AlarmMark(AlarmState.ALARM, NOW),
                alarm_arn(2): AlarmMark(AlarmState.OK, NOW + timedelta(minutes=3)),
            },
            attached=("0" * 32, "f" * 32),
            processed_events=("event-1", "event-2"),
            expires_at=1_577_811_900,
        ),
        GroupRecord(
            GROUP_KEY,
            GroupStatus.RESOLVED,
            7,
            incident_arn=FIRST_INCIDENT,
            alarm_states={alarm_arn(1): AlarmMark(AlarmState.OK, NOW + timedelta(minutes=20))},
            processed_events=("event-1",),
            resolved_at=NOW + timedelta(minutes=20),
            resolved_by_bridge=True,
            expires_at=1_572_629_100,
        ),
        GroupRecord(
            GROUP_KEY,
            GroupStatus.OPEN,
            3,
            incident_arn=FIRST_INCIDENT,
            # A service event's mark names its occurrence (its event id); an alarm's beside it has none.
            alarm_states={
                "stepfunctions|state-machine": AlarmMark(AlarmState.ALARM, NOW, "315c1398-40ff-a850-213b-158f73e60175"),
                alarm_arn(1): AlarmMark(AlarmState.ALARM, NOW),
            },
            processed_events=("315c1398-40ff-a850-213b-158f73e60175",),
            # A deferred join's line keeps its kind for the note it will be sealed into.
            pending_notes=(PendingNote(UNSEALED, NOW, "execution-name FAILED", (), "Step Functions executions"),),
            expires_at=1_577_811_900,
        ),
    ],
    ids=["pending-empty-attached", "open", "resolved-by-bridge", "service-event-occurrence"],
)
def test_a_group_record_round_trips_through_the_table(store: DynamoGroupStore, record: GroupRecord) -> None:
    # Given a record

    # When it is written and read back
    assert store.put(record, expected_version=None)
    loaded = store.load(GROUP_KEY)

    # Then it is the same record, and the pure mapping agrees
    assert loaded == record
    assert from_item(to_item(record)) == record


def test_the_item_stores_its_layout_and_the_ttl_as_a_number(dynamodb: DynamoDBClient, store: DynamoGroupStore) -> None:
    # Given a fresh claim: nothing attached or pending yet, an expiry set
    record = GroupRecord(GROUP_KEY, GroupStatus.PENDING, 1, client_token="a" * 64, claimed_at=NOW, expires_at=1234)

    # When it is written
    store.put(record, expected_version=None)

    # Then the item is exactly this, `expires_at` a number DynamoDB's TTL can read
    assert stored_item(dynamodb) == {
        "group_key": {"S": GROUP_KEY},
        "schema": {"N": "2"},
        "status": {"S": "PENDING"},
        "version": {"N": "1"},
        "alarm_states": {"M": {}},
        "attached": {"L": []},
        "processed_events": {"L": []},
        "pending_items": {"L": []},
        "pending_notes": {"L": []},
        "overflowed": {"BOOL": False},
        "resolved_by_bridge": {"BOOL": False},
        "client_token": {"S": "a" * 64},
        "claimed_at": {"S": "2019-10-02T17:05:00+00:00"},
        "expires_at": {"N": "1234"},
    }
    ttl = dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


# ---- conditional writes ----


def test_creating_a_group_succeeds_only_once(store: DynamoGroupStore) -> None:
    # Given two claims for one group
    first = GroupRecord(GROUP_KEY, GroupStatus.PENDING, 1, client_token="a" * 64, claimed_at=NOW)
    second = GroupRecord(GROUP_KEY, GroupStatus.PENDING, 1, client_token="b" * 64, claimed_at=NOW)

    # When both are written as new
    results = [store.put(first, expected_version=None), store.put(second, expected_version=None)]

    # Then only the first is stored, and the refused write returns it (ALL_OLD: no read needed)
    assert results == [WriteResult(True), WriteResult(False, first)]
    assert store.load(GROUP_KEY) == first


def test_a_write_on_a_stale_version_is_refused(store: DynamoGroupStore) -> None:
    # Given a group at version 2
    store.put(GroupRecord(GROUP_KEY, GroupStatus.PENDING, 1, claimed_at=NOW), expected_version=None)
    current = GroupRecord(GROUP_KEY, GroupStatus.OPEN, 2, incident_arn=FIRST_INCIDENT)
    assert store.put(current, expected_version=1)

    # When a writer that read version 1 writes, and then one that read version 2
    stale = store.put(GroupRecord(GROUP_KEY, GroupStatus.RESOLVED, 2), expected_version=1)
    missing = store.put(GroupRecord(GROUP_KEY, GroupStatus.RESOLVED, 2), expected_version=None)
    fresh = store.put(GroupRecord(GROUP_KEY, GroupStatus.RESOLVED, 3, incident_arn=FIRST_INCIDENT), expected_version=2)

    # Then only the writer that read the stored version succeeds; the refused ones get the stored record
    assert (bool(stale), bool(missing), bool(fresh)) == (False, False, True)
    assert stale.current == missing.current == current
    loaded = store.load(GROUP_KEY)
    assert loaded is not None
    assert (loaded.status, loaded.version) == (GroupStatus.RESOLVED, 3)


def test_a_write_expecting_a_version_of_a_group_that_does_not_exist_is_refused(store: DynamoGroupStore) -> None:
    # Given an empty table

    # When a writer expects version 1
    written = store.put(GroupRecord(GROUP_KEY, GroupStatus.OPEN, 2), expected_version=1)

    # Then nothing is written, and the refusal says there is no record
    assert written == WriteResult(False, None)
    assert store.load(GROUP_KEY) is None


# ---- concurrent starts for one group ----


class ClaimThenPause:
    """A store that, right after a PENDING claim is written, runs `meanwhile` before the claimer goes on:
    invocation A claims, invocation B runs from start to end, then A continues."""

    def __init__(self, inner: DynamoGroupStore, meanwhile: Callable[[], None]) -> None:
        self._inner = inner
        self._meanwhile: Callable[[], None] | None = meanwhile

    def load(self, group_key: str) -> GroupRecord | None:
        return self._inner.load(group_key)

    def put(self, record: GroupRecord, *, expected_version: int | None) -> WriteResult:
        written = self._inner.put(record, expected_version=expected_version)
        if written and record.status is GroupStatus.PENDING and self._meanwhile is not None:
            meanwhile, self._meanwhile = self._meanwhile, None
            meanwhile()
        return written


def test_two_invocations_racing_for_one_group_start_exactly_one_incident(
    monkeypatch: pytest.MonkeyPatch,
    store: DynamoGroupStore,
    incidents_client: SSMIncidentsClient,
    incidents_stubber: Stubber,
) -> None:
    # Given invocation A (the shared stubbed client) and invocation B (its own client), one table
    client_b = validated_client()
    sent_a, sent_b = SentRequests(), SentRequests()
    sent_a.attach(incidents_client)
    sent_b.attach(client_b)
    runtime_b = Runtime(bridge_on(client_b, store), MemoryDeadLetters(), emit_metrics=False)
    monkeypatch.setattr(handler, "RUNTIME", runtime_b)
    event_b = checkout_alarm(2)
    responses: list[dict[str, Any]] = []

    def invocation_b() -> None:
        # B runs through the handler while A holds the claim: nothing is called, the record is retried
        responses.append(
            handler.lambda_handler(sqs_batch(sqs_record(json.dumps(event_b), "msg-b")), lambda_context("req-b"))
        )

    bridge_a = bridge_on(incidents_client, ClaimThenPause(store, invocation_b))
    expect_start(incidents_stubber, FIRST_INCIDENT, 1)

    # When A handles alarm 1 and B handles alarm 2 of the same service in between A's claim and A's start
    with Stubber(client_b) as stubber_b:
        outcome_a = bridge_a.handle(checkout_alarm(1))
        first_b = list(responses)
        # ... and the queue redelivers B's message after A has finished
        expect_join(stubber_b, FIRST_INCIDENT, 2)
        redelivered = handler.lambda_handler(
            sqs_batch(sqs_record(json.dumps(event_b), "msg-b", receive_count=2)), lambda_context("req-b2")
        )
        stubber_b.assert_no_pending_responses()

    # Then B's first attempt was a transient failure reported for retry, without any Incident Manager call
    assert first_b == [{"batchItemFailures": [{"itemIdentifier": "msg-b"}]}]
    # And exactly one StartIncident was made in total, by A; B's redelivery joined A's incident
    assert outcome_a.kind is OutcomeKind.STARTED
    assert redelivered == {"batchItemFailures": []}
    assert [op for op, _ in sent_a.requests] == ["StartIncident"]
    assert [op for op, _ in sent_b.requests] == ["GetIncidentRecord", "UpdateRelatedItems", "CreateTimelineEvent"]
    [outcome_b] = runtime_b.outcomes
    assert (outcome_b.kind, outcome_b.incident_arn) == (OutcomeKind.UPDATED, FIRST_INCIDENT)
    assert states(store.load(GROUP_KEY)) == {alarm_arn(1): "ALARM", alarm_arn(2): "ALARM"}


def test_the_loser_of_a_claim_race_learns_the_winner_from_its_refused_write(store: DynamoGroupStore) -> None:
    # Given invocation B, which writes its claim first (without reading), and invocation A's claim landing first
    client_b = validated_client()
    sent_b = SentRequests()
    sent_b.attach(client_b)

    class ClaimedJustBefore:
        """B's store: A's claim lands just before B's first write; B's reads are counted."""

        def __init__(self) -> None:
            self.reads = 0
            self.writes = 0

        def load(self, group_key: str) -> GroupRecord | None:
            self.reads += 1
            return store.load(group_key)

        def put(self, record: GroupRecord, *, expected_version: int | None) -> WriteResult:
            self.writes += 1
            if self.writes == 1:
                claim = GroupRecord(record.group_key, GroupStatus.PENDING, 1, client_token="a" * 64, claimed_at=NOW)
                assert store.put(claim, expected_version=None)
            return store.put(record, expected_version=expected_version)

    b_store = ClaimedJustBefore()
    bridge_b = bridge_on(client_b, b_store)

    # When B handles its alarm
    with Stubber(client_b) as stubber_b:
        outcome = bridge_b.handle(checkout_alarm(2))
    stubber_b.assert_no_pending_responses()

    # Then B's conditional write lost, the refusal carried A's claim (no read), and B made no call: retry later
    assert outcome.kind is OutcomeKind.RETRY
    assert "is being opened" in outcome.reason
    assert (b_store.writes, b_store.reads) == (1, 0)
    assert sent_b.requests == []
    loaded = store.load(GROUP_KEY)
    assert loaded is not None
    assert (loaded.status, loaded.client_token) == (GroupStatus.PENDING, "a" * 64)


class SerializedPuts:
    """DynamoDB applies conditional writes to one item atomically; moto does not under threads, so writes are
    serialized here. Each invocation's first write waits at the barrier, so both have decided to claim "no group"
    before either writes: the race the conditional write must decide."""

    def __init__(self, inner: DynamoGroupStore, barrier: threading.Barrier, lock: threading.Lock) -> None:
        self._inner = inner
        self._barrier = barrier
        self._lock = lock
        self._first_write = True

    def load(self, group_key: str) -> GroupRecord | None:
        return self._inner.load(group_key)

    def put(self, record: GroupRecord, *, expected_version: int | None) -> WriteResult:
        if self._first_write:
            self._first_write = False
            self._barrier.wait(timeout=10)
        with self._lock:
            return self._inner.put(record, expected_version=expected_version)


def test_two_threads_racing_for_one_group_start_exactly_one_incident(store: DynamoGroupStore) -> None:
    # Given two invocations in two threads, one Incident Manager (dry run: the winner is not known in advance,
    # so no Stubber script can be written for it), one table
    incidents = DryRunIncidentManager()
    barrier, lock = threading.Barrier(2), threading.Lock()
    bridges = [
        Bridge(checkout_config(), incidents, SerializedPuts(store, barrier, lock), clock=lambda: NOW) for _ in range(2)
    ]
    events = [checkout_alarm(1), checkout_alarm(2)]
    results: list[Outcome | None] = [None, None]

    def invoke(index: int) -> None:
        results[index] = bridges[index].handle(events[index])

    # When both handle their alarm at once, and a transient failure is redelivered
    threads = [threading.Thread(target=invoke, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    outcomes = []
    for index, result in enumerate(results):
        assert isinstance(result, Outcome)
        if result.kind is OutcomeKind.RETRY:
            result = bridges[index].handle(events[index])
        outcomes.append(result)

    # Then exactly one StartIncident was made, and the other alarm joined that incident
    calls = [call.operation for outcome in outcomes for call in outcome.calls]
    assert calls.count("StartIncident") == 1
    assert sorted(outcome.kind for outcome in outcomes) == sorted([OutcomeKind.STARTED, OutcomeKind.UPDATED])
    [incident] = incidents.incidents.values()
    assert {outcome.incident_arn for outcome in outcomes} == {incident.arn}
    involved = [i["identifier"]["value"]["arn"] for i in incident.related_items if "arn" in i["identifier"]["value"]]
    assert sorted(involved) == [instance_arn(1), instance_arn(2)]


# ---- the incident is gone or resolved ----


@pytest.mark.parametrize("gone", ["resolved", "deleted"])
def test_a_resolved_or_deleted_incident_gets_a_new_start(
    gone: str,
    dynamodb: DynamoDBClient,
    store: DynamoGroupStore,
    incidents_client: SSMIncidentsClient,
    incidents_stubber: Stubber,
) -> None:
    # Given an open group whose incident a responder resolved, or that was deleted
    bridge = bridge_on(incidents_client, store)
    expect_start(incidents_stubber, FIRST_INCIDENT, 1)
    bridge.handle(checkout_alarm(1))
    if gone == "resolved":
        incidents_stubber.add_response(
            "get_incident_record", incident_record(FIRST_INCIDENT, "RESOLVED"), {"arn": FIRST_INCIDENT}
        )
    else:
        incidents_stubber.add_client_error(
            "get_incident_record",
            service_error_code="ResourceNotFoundException",
            service_message=f"Incident record {FIRST_INCIDENT} not found",
            http_status_code=404,
            expected_params={"arn": FIRST_INCIDENT},
        )
    expect_start(incidents_stubber, SECOND_INCIDENT, 2)

    # When another alarm of the group fires
    outcome = bridge.handle(checkout_alarm(2))

    # Then the status read sends it to a new incident, and the group points at it
    assert outcome.kind is OutcomeKind.STARTED
    assert outcome.incident_arn == SECOND_INCIDENT
    assert [call.operation for call in outcome.calls] == ["GetIncidentRecord", "StartIncident"]
    item = stored_item(dynamodb)
    assert (item["status"], item["incident_arn"], item["version"]) == (
        {"S": "OPEN"},
        {"S": SECOND_INCIDENT},
        {"N": "4"},
    )
    assert item_states(item) == {alarm_arn(2): "ALARM"}


# ---- failures while opening ----


def test_a_permanent_start_failure_releases_the_claim(
    dynamodb: DynamoDBClient,
    store: DynamoGroupStore,
    incidents_client: SSMIncidentsClient,
    incidents_stubber: Stubber,
) -> None:
    # Given an Incident Manager that refuses the first StartIncident (the role lacks permission)
    bridge = bridge_on(incidents_client, store)
    incidents_stubber.add_client_error(
        "start_incident",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform: ssm-incidents:StartIncident",
        http_status_code=403,
    )

    # When the first alarm is handled
    rejected = bridge.handle(checkout_alarm(1))

    # Then it is rejected and the claim released: the group is closed, with no incident and a TTL
    assert rejected.kind is OutcomeKind.REJECTED
    assert rejected.error_class == "PermanentApiError"
    item = stored_item(dynamodb)
    assert item["status"] == {"S": "RESOLVED"}
    assert "incident_arn" not in item
    assert item["expires_at"] == {"N": str(int((NOW + timedelta(days=30)).timestamp()))}

    # When the next alarm of the group fires (after the permission is fixed)
    expect_start(incidents_stubber, FIRST_INCIDENT, 2)
    started = bridge.handle(checkout_alarm(2))

    # Then it starts the incident
    assert started.kind is OutcomeKind.STARTED
    assert started.incident_arn == FIRST_INCIDENT
    assert stored_item(dynamodb)["status"] == {"S": "OPEN"}


def test_a_transient_start_failure_is_retried_through_the_handler_with_the_same_token(
    monkeypatch: pytest.MonkeyPatch,
    dynamodb: DynamoDBClient,
    store: DynamoGroupStore,
    incidents_client: SSMIncidentsClient,
    incidents_stubber: Stubber,
) -> None:
    # Given Incident Manager throttling the first StartIncident, and the handler on the table
    sent = SentRequests()
    sent.attach(incidents_client)
    runtime = Runtime(bridge_on(incidents_client, store), MemoryDeadLetters(), emit_metrics=False)
    monkeypatch.setattr(handler, "RUNTIME", runtime)
    incidents_stubber.add_client_error(
        "start_incident",
        service_error_code="ThrottlingException",
        service_message="Rate exceeded",
        http_status_code=400,
    )
    expect_start(incidents_stubber, FIRST_INCIDENT, 1)
    body = json.dumps(checkout_alarm(1))

    # When the message is handled, then redelivered
    first = handler.lambda_handler(sqs_batch(sqs_record(body, "msg-1")), lambda_context())
    pending = stored_item(dynamodb)
    second = handler.lambda_handler(sqs_batch(sqs_record(body, "msg-1", receive_count=2)), lambda_context("req-2"))

    # Then the first is reported for retry with the group left PENDING, and the retry finishes that claim
    assert first == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    assert pending["status"] == {"S": "PENDING"}
    assert second == {"batchItemFailures": []}
    [outcome] = runtime.outcomes
    assert (outcome.kind, outcome.incident_arn) == (OutcomeKind.STARTED, FIRST_INCIDENT)
    assert [op for op, _ in sent.requests] == ["StartIncident", "StartIncident"]
    assert sent.requests[0][1]["clientToken"] == sent.requests[1][1]["clientToken"] == pending["client_token"]["S"]
    assert stored_item(dynamodb)["status"] == {"S": "OPEN"}


def test_a_second_delivery_path_of_the_same_transition_has_no_second_effect(
    store: DynamoGroupStore, incidents_client: SSMIncidentsClient, incidents_stubber: Stubber
) -> None:
    # Given a started group
    bridge = bridge_on(incidents_client, store)
    expect_start(incidents_stubber, FIRST_INCIDENT, 1)
    first = checkout_alarm(1)
    bridge.handle(first)

    # When the same transition (same alarm, state and state time) arrives under another event id, as it does when
    # it reaches the bridge by two paths (no response is queued: any call would fail the test)
    outcome = bridge.handle(redelivered_as_new(first, "another-delivery-1"))

    # Then it is recognized by the alarm's state time, not only by its event id: already applied, no call
    # (issue 12, invariant 3: no second timeline note from a redelivery in any form)
    assert outcome.kind is OutcomeKind.IGNORED
    assert outcome.ignore_reason is IgnoreReason.REDELIVERY
    assert outcome.calls == ()


# ---- layouts and refusals ----


def test_a_record_of_the_first_layout_is_read_and_upgraded_on_its_next_write(
    dynamodb: DynamoDBClient, store: DynamoGroupStore
) -> None:
    # Given an item as the previous version wrote it: no `schema`, states as plain strings, attached as a set
    dynamodb.put_item(
        TableName=TABLE,
        Item={
            "group_key": {"S": GROUP_KEY},
            "status": {"S": "OPEN"},
            "version": {"N": "4"},
            "incident_arn": {"S": FIRST_INCIDENT},
            "alarm_states": {"M": {alarm_arn(1): {"S": "ALARM"}, alarm_arn(2): {"S": "OK"}}},
            "attached": {"SS": ["f" * 32, "0" * 32]},
            "processed_events": {"L": [{"S": "event-1"}]},
            "resolved_by_bridge": {"BOOL": False},
        },
    )

    # When it is read, then written back one version on
    loaded = store.load(GROUP_KEY)
    assert loaded is not None
    written = store.put(loaded._replace(version=5), expected_version=4)

    # Then its states are kept (with no state time: any transition is newer), its identities too, and the item
    # now has this version's layout
    assert states(loaded) == {alarm_arn(1): "ALARM", alarm_arn(2): "OK"}
    assert all(mark.at.year == 1970 for mark in loaded.alarm_states.values())
    assert loaded.attached == ("0" * 32, "f" * 32)
    assert written
    item = stored_item(dynamodb)
    assert item["schema"] == {"N": "2"}
    assert item["attached"] == {"L": [{"S": "0" * 32}, {"S": "f" * 32}]}


def test_a_group_record_dynamodb_refuses_is_a_permanent_error_with_its_reason() -> None:
    # Given a table client that refuses the write as DynamoDB does an item over 400 KB
    client = boto3.client("dynamodb", region_name=REGION)
    store = DynamoGroupStore(client, TABLE)
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "put_item",
            service_error_code="ValidationException",
            service_message="Item size has exceeded the maximum allowed size",
            http_status_code=400,
        )

        # When a record is written
        with pytest.raises(GroupRecordRejected, match="maximum allowed size") as raised:
            store.put(GroupRecord(GROUP_KEY, GroupStatus.OPEN, 2, incident_arn=FIRST_INCIDENT), expected_version=1)

    # Then it is not a transient error (retrying cannot shrink the item)
    assert not isinstance(raised.value, TransientApiError)


def test_an_item_that_cannot_be_read_is_a_corrupt_group_record(
    dynamodb: DynamoDBClient, store: DynamoGroupStore
) -> None:
    # Given an item with a status no version of the bridge writes
    dynamodb.put_item(
        TableName=TABLE,
        Item={"group_key": {"S": GROUP_KEY}, "status": {"S": "HALF-WRITTEN"}, "version": {"N": "3"}},
    )

    # When it is read / Then the error names the group, for the dead-letter reason of its events
    with pytest.raises(CorruptGroupRecord, match="cannot be read"):
        store.load(GROUP_KEY)
