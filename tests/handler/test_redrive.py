"""`incident-bridge redrive` through `cli.main`, against moto SQS queues: what moves, what stays, what is printed."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from moto import mock_aws
from mypy_boto3_sqs import SQSClient
from mypy_boto3_sqs.type_defs import MessageTypeDef

from incident_bridge import cli
from incident_bridge.adapters.dead_letters import SqsDeadLetters
from tests.conftest import load_event

REGION = "us-east-1"
METRIC_ALARM = "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"


@dataclass(frozen=True)
class CliRun:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


@dataclass(frozen=True)
class Queues:
    client: SQSClient
    dead_letters_url: str
    target_url: str

    def create(self, name: str, *, dead_letter_target: str | None = None) -> str:
        if dead_letter_target is None:
            return self.client.create_queue(QueueName=name)["QueueUrl"]
        arn = self.client.get_queue_attributes(QueueUrl=dead_letter_target, AttributeNames=["QueueArn"])
        policy = {"deadLetterTargetArn": arn["Attributes"]["QueueArn"], "maxReceiveCount": "5"}
        return self.client.create_queue(QueueName=name, Attributes={"RedrivePolicy": json.dumps(policy)})["QueueUrl"]

    def drain(self, url: str) -> list[MessageTypeDef]:
        """Every visible message, held invisible so none is read twice."""
        received: list[MessageTypeDef] = []
        while batch := self.client.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=300
        ).get("Messages", []):
            received.extend(batch)
        return received

    def visible(self, url: str) -> int:
        attributes = self.client.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


@pytest.fixture
def queues() -> Iterator[Queues]:
    with mock_aws():
        client = boto3.client("sqs", region_name=REGION)
        dead_letters_url = client.create_queue(QueueName="incident-bridge-dead-letters")["QueueUrl"]
        target_url = client.create_queue(QueueName="incident-bridge-events")["QueueUrl"]
        yield Queues(client, dead_letters_url, target_url)


def redrive(capsys: pytest.CaptureFixture[str], *argv: str) -> CliRun:
    capsys.readouterr()
    exit_code = cli.main(["redrive", *argv])
    captured = capsys.readouterr()
    return CliRun(exit_code, captured.out, captured.err)


def dead_letter(queues: Queues, body: str, *, error_class: str, reason: str, source_message_id: str) -> str:
    """Sent the way the bridge sends a rejection, through the product's own adapter."""
    SqsDeadLetters(queues.client, queues.dead_letters_url).send(
        body, error_class=error_class, reason=reason, source_message_id=source_message_id
    )
    return body


@pytest.fixture
def rejected_bodies(queues: Queues) -> list[str]:
    """Three rejections by the bridge, and one message the queue's redrive policy moved (no error attributes)."""
    alarm = json.dumps(load_event(METRIC_ALARM))
    bodies = [
        dead_letter(queues, alarm, error_class="InvalidEvent", reason="alarm ARN: bad", source_message_id="m-1"),
        dead_letter(queues, '{"truncated": ', error_class="InvalidEvent", reason="not JSON", source_message_id="m-2"),
        dead_letter(queues, '{"x": "é ✓"}', error_class="PermanentApiError", reason="refused", source_message_id="m-3"),
    ]
    queues.client.send_message(QueueUrl=queues.dead_letters_url, MessageBody='{"retries": "exhausted"}')
    return [*bodies, '{"retries": "exhausted"}']


def test_redrive_moves_every_message_unchanged_and_reports_each(
    queues: Queues, rejected_bodies: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given four dead-lettered messages, three with the bridge's error attributes

    # When they are redriven to the ingest queue
    result = redrive(capsys, "--queue-url", queues.dead_letters_url, "--to-queue-url", queues.target_url)

    # Then all four are in the target with identical bodies, and the dead-letter queue is empty
    assert result.exit_code == 0, result.stderr
    moved = queues.drain(queues.target_url)
    assert Counter(message["Body"] for message in moved) == Counter(rejected_bodies)
    assert queues.drain(queues.dead_letters_url) == []
    # And the failure attributes are gone (a fresh attempt), the source message id is kept
    for message in moved:
        attributes = message.get("MessageAttributes", {})
        assert "ErrorClass" not in attributes
        assert "ErrorReason" not in attributes
    assert sorted(
        m["MessageAttributes"]["SourceMessageId"]["StringValue"] for m in moved if "MessageAttributes" in m
    ) == [
        "m-1",
        "m-2",
        "m-3",
    ]
    # And one line per message (status, id, class, reason), then the summary
    *lines, summary = result.lines
    assert len(lines) == 4
    assert all(line.split()[0] == "moved" for line in lines)
    assert len({line.split()[1] for line in lines}) == 4
    assert Counter(line.split()[2] for line in lines) == Counter({"InvalidEvent": 2, "PermanentApiError": 1, "-": 1})
    assert any(line.endswith("InvalidEvent  not JSON") for line in lines)
    assert summary == "moved: 4, failed: 0"


def test_redrive_with_max_moves_exactly_that_many(
    queues: Queues, rejected_bodies: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given four dead-lettered messages

    # When two are redriven
    result = redrive(capsys, "--queue-url", queues.dead_letters_url, "--to-queue-url", queues.target_url, "--max", "2")

    # Then exactly two moved, and the other two are still visible in the dead-letter queue
    assert result.exit_code == 0, result.stderr
    assert len(queues.drain(queues.target_url)) == 2
    assert queues.visible(queues.dead_letters_url) == 2
    assert len(result.lines) == 3
    assert result.lines[-1] == "moved: 2, failed: 0"


def test_dry_run_lists_what_would_move_and_moves_nothing(
    queues: Queues, rejected_bodies: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given four dead-lettered messages

    # When redrive runs with --dry-run
    result = redrive(capsys, "--queue-url", queues.dead_letters_url, "--to-queue-url", queues.target_url, "--dry-run")

    # Then each is listed, nothing is sent, and all four are visible again in the dead-letter queue
    assert result.exit_code == 0, result.stderr
    *lines, summary = result.lines
    assert len(lines) == 4
    assert all(line.startswith("would-move  ") for line in lines)
    assert summary == "moved: 0, failed: 0, would move: 4"
    assert queues.visible(queues.target_url) == 0
    assert Counter(m["Body"] for m in queues.drain(queues.dead_letters_url)) == Counter(rejected_bodies)


def test_without_a_target_the_source_queue_is_found_from_its_redrive_policy(
    queues: Queues, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a main queue whose redrive policy names the dead-letter queue, and one dead-lettered message
    main_url = queues.create("incident-bridge-main", dead_letter_target=queues.dead_letters_url)
    body = dead_letter(queues, '{"a": 1}', error_class="InvalidEvent", reason="missing detail", source_message_id="s")

    # When redrive runs without --to-queue-url
    result = redrive(capsys, "--queue-url", queues.dead_letters_url)

    # Then the message went back to the main queue, and the target was named
    assert result.exit_code == 0, result.stderr
    assert [m["Body"] for m in queues.drain(main_url)] == [body]
    assert queues.visible(queues.target_url) == 0
    assert main_url in result.stderr
    assert result.lines[-1] == "moved: 1, failed: 0"


@pytest.mark.parametrize("source_queues", [0, 2], ids=["no-source-queue", "two-source-queues"])
def test_without_a_target_and_no_single_source_queue_redrive_refuses(
    queues: Queues, rejected_bodies: list[str], capsys: pytest.CaptureFixture[str], source_queues: int
) -> None:
    # Given a dead-letter queue named by the redrive policy of no queue, or of two
    sources = [
        queues.create(f"incident-bridge-source-{index}", dead_letter_target=queues.dead_letters_url)
        for index in range(source_queues)
    ]

    # When redrive runs without --to-queue-url
    result = redrive(capsys, "--queue-url", queues.dead_letters_url)

    # Then it exits 2 with an error naming the option, and nothing moved
    assert result.exit_code == 2
    assert "--to-queue-url" in result.stderr
    assert f"dead-letter queue of {source_queues} queue(s)" in result.stderr
    assert all(source in result.stderr for source in sources)
    assert result.stdout == ""
    assert queues.visible(queues.dead_letters_url) == len(rejected_bodies)


def test_a_failed_send_leaves_the_message_in_the_dead_letter_queue_and_fails_the_command(
    queues: Queues, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given one dead-lettered message, and a target queue that does not exist
    body = dead_letter(queues, '{"a": 1}', error_class="InvalidEvent", reason="missing detail", source_message_id="s")
    missing = queues.target_url.replace("incident-bridge-events", "no-such-queue")

    # When it is redriven there
    result = redrive(capsys, "--queue-url", queues.dead_letters_url, "--to-queue-url", missing)

    # Then the command fails, says why, and the message is still (visibly) in the dead-letter queue
    assert result.exit_code == 1
    [line, summary] = result.lines
    assert line.startswith("failed  ")
    assert line.endswith("InvalidEvent  missing detail")
    assert summary == "moved: 0, failed: 1"
    assert f"not sent to {missing}" in result.stderr
    [kept] = queues.drain(queues.dead_letters_url)
    assert kept["Body"] == body
    assert kept["MessageAttributes"]["ErrorClass"]["StringValue"] == "InvalidEvent"


def test_a_long_multiline_reason_is_shown_on_one_line_cut_to_100_characters(
    queues: Queues, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a rejection whose reason quotes the event over several lines
    reason = "detail.state.value: expected one of ALARM, OK, INSUFFICIENT_DATA, got 'FIRE'\n" + "x" * 900
    dead_letter(queues, "{}", error_class="InvalidEvent", reason=reason, source_message_id="s")

    # When it is redriven
    result = redrive(capsys, "--queue-url", queues.dead_letters_url, "--to-queue-url", queues.target_url)

    # Then its line holds the first 100 characters of the reason, newline replaced
    assert result.exit_code == 0
    [line, _] = result.lines
    assert line.endswith("InvalidEvent  " + reason[:100].replace("\n", " "))


def test_an_empty_dead_letter_queue_moves_nothing(queues: Queues, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an empty dead-letter queue

    # When redrive runs
    result = redrive(capsys, "--queue-url", queues.dead_letters_url, "--to-queue-url", queues.target_url)

    # Then it says so and succeeds
    assert result.exit_code == 0
    assert result.lines == ["moved: 0, failed: 0"]


def test_max_must_be_a_positive_number(capsys: pytest.CaptureFixture[str]) -> None:
    # Given / When --max 0
    exit_code = cli.main(
        ["redrive", "--queue-url", "https://sqs.us-east-1.amazonaws.com/123456789012/dlq", "--max", "0"]
    )

    # Then argparse refuses it as a usage error, with redrive's own usage
    assert exit_code == 2
    err = capsys.readouterr().err
    assert "at least 1" in err
    assert err.startswith("usage: incident-bridge redrive ")
