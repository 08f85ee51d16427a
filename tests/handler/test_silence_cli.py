"""`incident-bridge silence add|list|expire` against a moto DynamoDB table shaped like infra/state_table.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mypy_boto3_dynamodb import DynamoDBClient

from incident_bridge import cli
from incident_bridge.adapters.silence_admin import DynamoSilenceAdmin
from incident_bridge.adapters.silence_table import INDEX_KEY, SilenceError
from incident_bridge.config import Match
from incident_bridge.quiet.silences import Silence, SilenceState
from tests.state_table import moto_state_table

TABLE = "incident-bridge-state"
REGION = "us-east-1"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDBClient]:
    """The state table as deployed (tests/state_table.py), in moto."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("INCIDENT_BRIDGE_STATE_TABLE", raising=False)
    with moto_state_table(TABLE, REGION) as client:
        yield client


def item(dynamodb: DynamoDBClient, key: str) -> dict[str, Any] | None:
    return dynamodb.get_item(TableName=TABLE, Key={"group_key": {"S": key}}, ConsistentRead=True).get("Item")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_add_list_expire_round_trip(dynamodb: DynamoDBClient, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an empty state table
    # When a silence is added for web-* for two hours
    before = datetime.now(UTC)
    code, out, err = run(capsys, "silence", "add", "--match", "alarm_name=web-*", "--duration", "2h",
                         "--comment", "deploy", "--created-by", "alice", "--state-table", TABLE)  # fmt: skip

    # Then it prints the new id, and the table holds the silence with its TTL at its end
    assert (code, err) == (0, "")
    silence_id = out.strip()
    stored = item(dynamodb, f"silence#{silence_id}")
    assert stored is not None
    document = json.loads(stored["silence"]["S"])
    assert document["match"]["alarm_name"] == ["web-*"]
    assert (document["created_by"], document["comment"]) == ("alice", "deploy")
    ends_at = datetime.fromisoformat(document["ends_at"])
    assert before + timedelta(hours=2) <= ends_at <= datetime.now(UTC) + timedelta(hours=2)
    assert int(stored["expires_at"]["N"]) == int(ends_at.timestamp())

    # When the silences are listed
    code, out, _ = run(capsys, "silence", "list", "--state-table", TABLE)

    # Then the silence is there, active, with its matchers and comment
    line = next(row for row in out.splitlines() if row.startswith(silence_id))
    assert code == 0
    assert "active" in line
    assert "alarm_name=web-*" in line
    assert line.endswith("deploy")

    # When it is expired
    code, out, _ = run(capsys, "silence", "expire", silence_id, "--state-table", TABLE)

    # Then it ends now: gone from the list, and its item's TTL is its new end
    assert code == 0
    assert out.startswith(f"{silence_id} expired at ")
    _, listed, _ = run(capsys, "silence", "list", "--state-table", TABLE)
    assert silence_id not in listed
    expired = item(dynamodb, f"silence#{silence_id}")
    assert expired is not None
    assert int(expired["expires_at"]["N"]) <= int(datetime.now(UTC).timestamp())


def test_list_json_gives_the_silence_document_and_state(dynamodb: DynamoDBClient,
                                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    # Given a silence on a tag and a namespace, starting in an hour
    start = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0).isoformat()
    code, out, err = run(
        capsys, "silence", "add", "--match", "tags.team=web", "--match", "namespace=AWS/EC2",
        "--duration", "30m", "--start", start, "--comment", "db failover", "--state-table", TABLE,
    )  # fmt: skip
    assert (code, err) == (0, "")

    # When listed as JSON
    _, listed, _ = run(capsys, "silence", "list", "--json", "--state-table", TABLE)

    # Then the line is the silence as `silences:` spells it, pending
    document = json.loads(listed.strip())
    assert document["id"] == out.strip()
    assert document["state"] == "pending"
    assert document["match"]["tags"] == {"team": ["web"]}
    assert document["match"]["namespace"] == ["AWS/EC2"]


@pytest.mark.parametrize("action", [["add", "--match", "alarm_name=x", "--duration", "1h", "--comment", "c"],
                                    ["list"], ["expire", "some-id"]])  # fmt: skip
def test_without_a_state_table_the_cli_says_what_it_needs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, action: list[str]
) -> None:
    # Given no --state-table and no environment default
    monkeypatch.delenv("INCIDENT_BRIDGE_STATE_TABLE", raising=False)

    # When a silence command runs
    code, out, err = run(capsys, "silence", *action)

    # Then it fails with usage's exit code and names what it needs and where to find it
    assert (code, out) == (2, "")
    assert f"silence {action[0]}: needs --state-table NAME" in err
    assert "StateTableName" in err


@pytest.mark.parametrize(
    ("matcher", "expected"),
    [
        ("alarm_name", "--match 'alarm_name': expected KEY=GLOB"),
        ("alarm=web-*", "--match: match.alarm: unknown key"),
        ("namespace=~AWS", "only alarm_name takes a regular expression"),
        ("alarm_name=~(unclosed", "--match: match.alarm_name_regex: not a valid regular expression"),
    ],
)
def test_bad_matchers_are_refused_naming_them(dynamodb: DynamoDBClient, capsys: pytest.CaptureFixture[str],
                                              matcher: str, expected: str) -> None:  # fmt: skip
    # When a silence is added with a bad matcher
    code, out, err = run(capsys, "silence", "add", "--match", matcher, "--duration", "1h", "--comment", "c",
                         "--state-table", TABLE)  # fmt: skip

    # Then nothing is stored and the problem is named
    assert (code, out) == (2, "")
    assert expected in err
    assert item(dynamodb, INDEX_KEY) is None


def test_bad_duration_is_refused(dynamodb: DynamoDBClient, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "silence", "add", "--match", "alarm_name=x", "--duration", "2 hours",
                       "--comment", "c", "--state-table", TABLE)  # fmt: skip
    assert code == 2
    assert "'2 hours' is not a duration such as 30m, 2h or 1d12h" in err


def test_expiring_an_unknown_silence_says_so(dynamodb: DynamoDBClient, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "silence", "expire", "nope", "--state-table", TABLE)
    assert code == 1
    assert "no pending or active silence has id nope" in err


# ---- the store, on a clock ----

NOW = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)


def silence(silence_id: str, lasts: timedelta = timedelta(hours=2)) -> Silence:
    return Silence(id=silence_id, match=Match(alarm_name=("web-*",)), starts_at=NOW, ends_at=NOW + lasts,
                   created_by="alice", comment="deploy")  # fmt: skip


def test_the_function_reads_live_silences_and_ignores_ended_ones(dynamodb: DynamoDBClient) -> None:
    # Given two silences, one ending in 10 minutes and one in 2 hours
    clock = [NOW]
    store = DynamoSilenceAdmin(dynamodb, TABLE, clock=lambda: clock[0])
    store.add(silence("short", timedelta(minutes=10)))
    store.add(silence("long"))

    # When read at 22:05 and at 22:10 (before DynamoDB's TTL has removed anything)
    at_five = {s.id for s in store.live()}
    clock[0] = NOW + timedelta(minutes=10)
    at_ten = {s.id for s in store.live()}

    # Then the short one is live at 22:05 only
    assert at_five == {"short", "long"}
    assert at_ten == {"long"}


def test_adding_prunes_ended_silences_from_the_index(dynamodb: DynamoDBClient) -> None:
    # Given a silence that has ended
    clock = [NOW]
    store = DynamoSilenceAdmin(dynamodb, TABLE, clock=lambda: clock[0])
    store.add(silence("old", timedelta(minutes=10)))
    clock[0] = NOW + timedelta(hours=1)

    # When another is added
    store.add(silence("new"))

    # Then the index holds only the new one, and expires with it
    index = item(dynamodb, INDEX_KEY)
    assert index is not None
    assert set(index["silences"]["M"]) == {"new"}
    assert int(index["expires_at"]["N"]) == int((NOW + timedelta(hours=2)).timestamp())


def test_a_duplicate_id_is_refused(dynamodb: DynamoDBClient) -> None:
    store = DynamoSilenceAdmin(dynamodb, TABLE, clock=lambda: NOW)
    store.add(silence("deploy"))
    with pytest.raises(SilenceError, match="exists already"):
        store.add(silence("deploy"))


def test_a_concurrent_writer_does_not_lose_a_silence(dynamodb: DynamoDBClient) -> None:
    # Given a writer that read the index, then another writer added a silence before it wrote
    store = DynamoSilenceAdmin(dynamodb, TABLE, clock=lambda: NOW)
    store.add(silence("first"))
    stale_version = int(item(dynamodb, INDEX_KEY)["version"]["N"])  # type: ignore[index]
    store.add(silence("second"))

    # When the stale writer's write is attempted with the version it read
    accepted = store._write(silence("third"), {"first": silence("first"), "third": silence("third")}, stale_version,
                            new_item=True)  # fmt: skip

    # Then it is refused (the caller reads again), and a normal add keeps all three
    assert accepted is False
    store.add(silence("third-again"))
    assert {s.id for s in store.live()} == {"first", "second", "third-again"}
    assert all(s.state(NOW) is SilenceState.ACTIVE for s in store.live())


def test_without_credentials_the_cli_says_so_before_any_call(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    # Given no AWS credentials anywhere boto3 looks
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)

    # When a silence is listed
    code, out, err = run(capsys, "silence", "list", "--state-table", TABLE)

    # Then it stops with the usage code, naming what is missing
    assert (code, out) == (2, "")
    assert "no AWS credentials found; live silences are kept in the deployed stack's state table" in err
