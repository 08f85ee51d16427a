"""Inhibition sources and the quiet ledger on a moto table shaped like infra/state_table.py, and their in-memory
stand-ins, held to the same behaviour."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from mypy_boto3_dynamodb import DynamoDBClient

from incident_bridge.adapters.memory_quiet import MemoryInhibitionSources, MemoryQuietLedger
from incident_bridge.adapters.quiet_table import LEDGER_KEY, DynamoInhibitionSources, DynamoQuietLedger
from incident_bridge.quiet import QuietReason
from incident_bridge.quiet.inhibition import FiringSource
from incident_bridge.quiet.ports import InhibitionSources, QuietEntry, QuietLedger
from tests.state_table import moto_state_table

TABLE = "incident-bridge-state"
REGION = "us-east-1"
NOW = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
KEY = "inhibit#0#abc"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDBClient]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with moto_state_table(TABLE, REGION) as client:
        yield client


@pytest.fixture(params=["dynamodb", "memory"])
def sources(request: pytest.FixtureRequest) -> InhibitionSources:
    if request.param == "memory":
        return MemoryInhibitionSources()
    return DynamoInhibitionSources(request.getfixturevalue("dynamodb"), TABLE, clock=lambda: NOW)


@pytest.fixture(params=["dynamodb", "memory"])
def ledger(request: pytest.FixtureRequest) -> QuietLedger:
    if request.param == "memory":
        return MemoryQuietLedger()
    return DynamoQuietLedger(request.getfixturevalue("dynamodb"), TABLE, clock=lambda: NOW)


def health(at: datetime) -> FiringSource:
    return FiringSource(member="arn:health", name="region-health-use1", since=at)


def test_a_source_fires_then_recovers(sources: InhibitionSources) -> None:
    # Given the health alarm recorded in ALARM
    sources.record(KEY, health(NOW), firing=True)
    firing_then = sources.firing(KEY)

    # When its OK (later) is recorded
    sources.record(KEY, health(NOW + timedelta(minutes=5)), firing=False)

    # Then it inhibited while firing and no longer does
    assert [source.name for source in firing_then] == ["region-health-use1"]
    assert sources.firing(KEY) == ()


def test_a_late_older_alarm_does_not_undo_a_recovery(sources: InhibitionSources) -> None:
    # Given the source recovered at 22:05
    sources.record(KEY, health(NOW), firing=True)
    sources.record(KEY, health(NOW + timedelta(minutes=5)), firing=False)

    # When its 22:00 ALARM is delivered again (out of order)
    sources.record(KEY, health(NOW), firing=True)

    # Then it stays recovered: transitions apply by state time
    assert sources.firing(KEY) == ()


def test_keys_are_separate(sources: InhibitionSources) -> None:
    sources.record(KEY, health(NOW), firing=True)
    assert sources.firing("inhibit#0#other") == ()


def entry(member: str, at: datetime, name: str = "web-1") -> QuietEntry:
    return QuietEntry(member=member, name=name, state_time=at, reason=QuietReason.SILENCE, applied="deploy",
                      raw_event={"id": f"event-{member}", "detail": {"alarmName": name}})  # fmt: skip


def test_the_ledger_keeps_quieted_alarms_with_their_events(ledger: QuietLedger) -> None:
    # Given two alarms quieted
    assert ledger.remember(entry("arn:web-1", NOW))
    assert ledger.remember(entry("arn:web-2", NOW, name="web-2"))

    # When the check reads the ledger
    entries = {found.member: found for found in ledger.entries()}

    # Then both are there, each with the event to run again and why it was quiet
    assert set(entries) == {"arn:web-1", "arn:web-2"}
    assert entries["arn:web-2"].raw_event == {"id": "event-arn:web-2", "detail": {"alarmName": "web-2"}}
    assert (entries["arn:web-1"].reason, entries["arn:web-1"].applied) == (QuietReason.SILENCE, "deploy")
    assert entries["arn:web-1"].state_time == NOW


def test_a_recovery_forgets_only_what_fired_before_it(ledger: QuietLedger) -> None:
    # Given an alarm quieted at 22:10
    ledger.remember(entry("arn:web-1", NOW + timedelta(minutes=10)))

    # When an older OK (22:05, delivered late) and then a newer one (22:15) arrive
    older = ledger.forget("arn:web-1", NOW + timedelta(minutes=5))
    newer = ledger.forget("arn:web-1", NOW + timedelta(minutes=15))

    # Then only the newer one drops it, and says what it dropped
    assert older is None
    assert newer is not None
    assert newer.name == "web-1"
    assert ledger.entries() == ()


def test_a_newer_firing_replaces_an_older_one(ledger: QuietLedger) -> None:
    ledger.remember(entry("arn:web-1", NOW))
    ledger.remember(entry("arn:web-1", NOW + timedelta(minutes=1)))
    ledger.remember(entry("arn:web-1", NOW - timedelta(minutes=1)))
    assert [found.state_time for found in ledger.entries()] == [NOW + timedelta(minutes=1)]


def test_the_ledger_item_expires(dynamodb: DynamoDBClient) -> None:
    # Given an entry written at 22:00
    DynamoQuietLedger(dynamodb, TABLE, clock=lambda: NOW).remember(entry("arn:web-1", NOW))

    # Then the ledger item carries a TTL 30 days on
    item = dynamodb.get_item(TableName=TABLE, Key={"group_key": {"S": LEDGER_KEY}})["Item"]
    assert int(item["expires_at"]["N"]) == int((NOW + timedelta(days=30)).timestamp())


def test_a_live_silence_in_the_table_quiets_and_the_check_pages_when_it_ends(dynamodb: DynamoDBClient) -> None:
    # Given the bridge with its quiet state in the (moto) state table, and a live silence added as the CLI adds it
    from incident_bridge.adapters.dry_run import DryRunIncidentManager
    from incident_bridge.adapters.memory_groups import MemoryGroupStore
    from incident_bridge.adapters.silence_admin import DynamoSilenceAdmin
    from incident_bridge.adapters.silence_table import DynamoSilenceStore
    from incident_bridge.bridge import Bridge
    from incident_bridge.config import Match, parse_config
    from incident_bridge.outcome import OutcomeKind
    from incident_bridge.quiet.silences import Silence
    from incident_bridge.quieting import Quieting
    from tests.conftest import PLAN_ARN, load_event

    alarm_time = datetime(2019, 10, 2, 17, 4, 40, tzinfo=UTC)
    clock = [alarm_time]
    deploy = Silence(id="deploy", match=Match(alarm_name=("ServerCpu*",)), starts_at=alarm_time,
                     ends_at=alarm_time + timedelta(hours=1), created_by="alice", comment="deploy")  # fmt: skip
    DynamoSilenceAdmin(dynamodb, TABLE, clock=lambda: clock[0]).add(deploy)  # as the CLI adds it
    config = parse_config({"default": {"response_plan_arn": PLAN_ARN}}, origin="test")
    silences = DynamoSilenceStore(dynamodb, TABLE, clock=lambda: clock[0])  # what the function reads
    quieting = Quieting(config, silences=silences, sources=DynamoInhibitionSources(dynamodb, TABLE),
                        ledger=DynamoQuietLedger(dynamodb, TABLE))  # fmt: skip
    incidents = DryRunIncidentManager()
    bridge = Bridge(config, incidents, MemoryGroupStore(), clock=lambda: clock[0], quieting=quieting)

    # When the documented alarm fires during the silence, and the check runs after it ends
    quiet = bridge.handle(load_event("eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"))
    remembered = [entry.name for entry in DynamoQuietLedger(dynamodb, TABLE).entries()]
    clock[0] = alarm_time + timedelta(hours=1, minutes=1)
    checked = bridge.recheck()

    # Then it was silenced and remembered in the table, and pages once the silence is over; the ledger is empty
    assert quiet.kind is OutcomeKind.IGNORED
    assert remembered == ["ServerCpuTooHigh"]
    assert [outcome.kind for _, outcome in checked] == [OutcomeKind.STARTED]
    assert len(incidents.incidents) == 1
    assert DynamoQuietLedger(dynamodb, TABLE).entries() == ()
