"""Retry timing and the last receive, through Runtime.process_batch with moto SQS queues: each retried record gets
its own backoff (ChangeMessageVisibility from ApproximateReceiveCount), a record failing on its last receive is
dead-lettered with its reason, poison records are dead-lettered alone, and a batch stops starting groups in time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws
from mypy_boto3_sqs import SQSClient

from incident_bridge.adapters.dead_letters import SqsDeadLetters, SqsSourceQueue
from incident_bridge.adapters.dry_run import DryRunIncidentManager
from incident_bridge.adapters.memory_groups import MemoryGroupStore
from incident_bridge.bridge import Bridge
from incident_bridge.config import parse_config
from incident_bridge.errors import Throttled as ThrottledError
from incident_bridge.incident import StartIncidentRequest
from incident_bridge.outcome import OutcomeKind
from incident_bridge.runtime import BACKOFF_MAX_SECONDS, Runtime, retry_delay
from tests.conftest import PLAN_ARN, load_event
from tests.handler.conftest import REGION, DeadLetterQueue

EC2_ALARM = "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
MAX_RECEIVE_COUNT = 5


class Throttled(DryRunIncidentManager):
    """Throttles every StartIncident, as the boto3 adapter reports it once botocore's retries gave up."""

    def __init__(self) -> None:
        super().__init__()
        self.starts = 0

    def start_incident(self, request: StartIncidentRequest) -> str:
        self.starts += 1
        raise ThrottledError("StartIncident: ThrottlingException: Rate exceeded")


@dataclass
class Queues:
    client: SQSClient
    source_url: str
    dead_letters: DeadLetterQueue
    visibility_calls: list[dict[str, Any]] = field(default_factory=list)
    send_calls: list[dict[str, Any]] = field(default_factory=list)

    def requeued_bodies(self) -> list[str]:
        """Bodies sent to the source queue by the bridge (SendMessage on it)."""
        return [str(call["MessageBody"]) for call in self.send_calls if call["QueueUrl"] == self.source_url]

    def received(self, body: str) -> dict[str, Any]:
        """Sends `body` to the source queue and receives it, as Lambda's SQS record."""
        self.client.send_message(QueueUrl=self.source_url, MessageBody=body)
        [message] = self.client.receive_message(
            QueueUrl=self.source_url, MessageSystemAttributeNames=["All"], MaxNumberOfMessages=1
        )["Messages"]
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": dict(message["Attributes"]),
            "eventSource": "aws:sqs",
        }


@pytest.fixture
def queues() -> Iterator[Queues]:
    with mock_aws():
        client = boto3.client("sqs", region_name=REGION)
        source = client.create_queue(QueueName="incident-bridge-events")["QueueUrl"]
        dead = client.create_queue(QueueName="incident-bridge-dead-letters")["QueueUrl"]
        found = Queues(client, source, DeadLetterQueue(client, dead))

        def record(params: dict[str, Any], **_: Any) -> None:
            found.visibility_calls.append(dict(params))

        client.meta.events.register("provide-client-params.sqs.ChangeMessageVisibility", record)

        def record_send(params: dict[str, Any], **_: Any) -> None:
            found.send_calls.append(dict(params))

        client.meta.events.register("provide-client-params.sqs.SendMessage", record_send)
        yield found


def runtime_on(queues: Queues, incidents: DryRunIncidentManager) -> Runtime:
    config = parse_config({"default": {"response_plan_arn": PLAN_ARN}}, origin="tests/handler/test_retries")
    return Runtime(
        Bridge(config, incidents, MemoryGroupStore()),
        SqsDeadLetters(queues.client, queues.dead_letters.url),
        emit_metrics=False,
        source_queue=SqsSourceQueue(queues.client, queues.source_url),
        max_receive_count=MAX_RECEIVE_COUNT,
        jitter=lambda: 1.0,
    )


def with_receive_count(record: dict[str, Any], count: int) -> dict[str, Any]:
    return {**record, "attributes": {**record["attributes"], "ApproximateReceiveCount": str(count)}}


@pytest.mark.parametrize(
    ("receive_count", "seconds"), [(1, 5), (2, 10), (3, 20), (4, 40), (7, 300), (60, BACKOFF_MAX_SECONDS)]
)
def test_the_backoff_doubles_with_each_receive_up_to_five_minutes(receive_count: int, seconds: int) -> None:
    # Given a record received `receive_count` times
    # When its retry delay is computed without jitter, and with the most jitter
    delay, jittered = retry_delay(receive_count), retry_delay(receive_count, 0.5)

    # Then it is seconds at first and a few minutes at most; jitter at most halves it
    assert delay == seconds
    assert jittered == max(1, seconds // 2)


def test_a_throttled_record_comes_back_after_its_own_backoff(queues: Queues) -> None:
    # Given a record received for the second time, and Incident Manager throttling
    record = with_receive_count(queues.received(json.dumps(load_event(EC2_ALARM))), 2)
    runtime = runtime_on(queues, Throttled())

    # When the batch is processed
    response = runtime.process_batch([record])

    # Then the record is named for retry and made visible again in 10 s, not after the 30-minute timeout
    assert response == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert queues.visibility_calls == [
        {"QueueUrl": queues.source_url, "ReceiptHandle": record["receiptHandle"], "VisibilityTimeout": 10}
    ]
    assert queues.dead_letters.messages() == []


def test_a_record_failing_on_its_last_receive_is_dead_lettered_with_its_reason(queues: Queues) -> None:
    # Given a record on its last receive before the redrive policy would move it, Incident Manager throttling
    record = with_receive_count(queues.received(json.dumps(load_event(EC2_ALARM))), MAX_RECEIVE_COUNT)
    runtime = runtime_on(queues, Throttled())

    # When the batch is processed
    response = runtime.process_batch([record])

    # Then it is not retried: the bridge dead-letters it with the error class and why
    assert response == {"batchItemFailures": []}
    [dead] = queues.dead_letters.messages()
    assert dead.error_class == "Throttled"  # the error class of the last failure
    assert dead.error_reason.startswith(f"gave up after {MAX_RECEIVE_COUNT} receives: ")
    assert "ThrottlingException" in dead.error_reason
    assert dead.source_message_id == record["messageId"]
    assert queues.visibility_calls == []


def test_a_body_nested_too_deeply_is_dead_lettered_alone(queues: Queues) -> None:
    # Given a batch: a body nested 100,000 levels deep (json.loads raises RecursionError), then a good alarm
    deep = queues.received("[" * 100_000 + "]" * 100_000)
    good = queues.received(json.dumps(load_event(EC2_ALARM)))
    incidents = DryRunIncidentManager()
    runtime = runtime_on(queues, incidents)

    # When the batch is processed
    response = runtime.process_batch([deep, good])

    # Then only the deep one is dead-lettered, with its reason; the alarm opened its incident
    assert response == {"batchItemFailures": []}
    [dead] = queues.dead_letters.messages()
    assert (dead.error_class, dead.source_message_id) == ("InvalidEvent", deep["messageId"])
    assert "not JSON" in dead.error_reason
    assert len(incidents.incidents) == 1


def test_a_reason_sqs_cannot_carry_is_cleaned_so_the_dead_letter_send_does_not_fail(queues: Queues) -> None:
    # Given a reason holding a lone surrogate (from a JSON escape in the event) and a control character
    dead_letters = SqsDeadLetters(queues.client, queues.dead_letters.url)

    # When it is dead-lettered
    dead_letters.send(
        '{"a": "\\ud800"}', error_class="InvalidEvent", reason="bad key \ud800\x01", source_message_id="m"
    )

    # Then SQS took it, with the offending characters replaced
    [dead] = queues.dead_letters.messages()
    assert dead.error_reason == "bad key \ufffd\ufffd"
    assert dead.body == '{"a": "\\ud800"}'


def test_a_batch_running_out_of_time_requeues_its_unstarted_records(queues: Queues) -> None:
    # Given three alarms of three groups, and an invocation with 300 s at the start, 100 s left after the first
    records = []
    for index in range(3):
        event = load_event(EC2_ALARM)
        event["id"] = f"00000000-0000-4000-8000-00000000000{index}"
        event["resources"] = [f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:Alarm{index}"]
        event["detail"]["alarmName"] = f"Alarm{index}"
        records.append(queues.received(json.dumps(event)))
    incidents = DryRunIncidentManager()
    runtime = runtime_on(queues, incidents)

    def remaining_millis() -> int:
        return 300_000 if not incidents.incidents else 60_000  # the first start used up most of the time

    queues.send_calls.clear()  # the scenario's own sends

    # When the batch is processed
    response = runtime.process_batch(records, remaining_millis)

    # Then the first group started; below the reserve (30% of the 300 s the batch began with) the other two were
    # not started: sent back to the queue as new messages (their receive counts start over), so the batch ends
    # well before the timeout and waiting in a storm never uses up the redrive policy's receives
    assert len(incidents.incidents) == 1
    assert response == {"batchItemFailures": []}
    assert queues.visibility_calls == []
    assert queues.requeued_bodies() == [record["body"] for record in records[1:]]
    assert queues.dead_letters.messages() == []
    assert runtime.last_batch is not None
    assert [runtime.last_batch[r["messageId"]].kind for r in records] == [
        OutcomeKind.STARTED,
        OutcomeKind.REQUEUED,
        OutcomeKind.REQUEUED,
    ]


def test_once_throttled_a_batch_starts_no_more_groups_and_requeues_them(queues: Queues) -> None:
    # Given two alarms of two groups, and Incident Manager throttling beyond botocore's retries
    first = load_event(EC2_ALARM)
    second = load_event(EC2_ALARM)
    second["id"] = "00000000-0000-4000-8000-000000000002"
    second["resources"] = ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:Other"]
    second["detail"]["alarmName"] = "Other"
    records = [queues.received(json.dumps(first)), queues.received(json.dumps(second))]
    incidents = Throttled()
    runtime = runtime_on(queues, incidents)
    queues.send_calls.clear()

    # When the batch is processed
    response = runtime.process_batch(records)

    # Then the throttled record is retried with its backoff, and the second group was not even tried: it would
    # only have been throttled too; it goes back to the queue as a new message
    assert incidents.starts == 1
    assert response == {"batchItemFailures": [{"itemIdentifier": records[0]["messageId"]}]}
    assert queues.requeued_bodies() == [records[1]["body"]]
