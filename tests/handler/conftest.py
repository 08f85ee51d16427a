"""Fixtures for driving the real Lambda handler: SQS-shaped batches, a moto dead-letter queue, and a Runtime
wired to the Stubber-backed Incident Manager client, installed as `handler.RUNTIME`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from mypy_boto3_sqs import SQSClient
from mypy_boto3_ssm_incidents import SSMIncidentsClient

from incident_bridge import handler
from incident_bridge.adapters.dead_letters import SqsDeadLetters
from incident_bridge.adapters.incident_manager import Boto3IncidentManager
from incident_bridge.adapters.memory_groups import MemoryGroupStore
from incident_bridge.bridge import Bridge
from incident_bridge.cli import LambdaContextStandIn
from incident_bridge.config import parse_config
from incident_bridge.runtime import Runtime

REGION = "us-east-1"
ACCOUNT = "123456789012"
# A plan and impact that differ from the bundled default, so a test can see the configuration was used.
TEST_PLAN_ARN = f"arn:aws:ssm-incidents::{ACCOUNT}:response-plan/checkout-oncall"
TEST_IMPACT = 2
INGEST_QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:incident-bridge-ingest"


def sqs_record(body: str, message_id: str, *, receive_count: int = 1) -> dict[str, Any]:
    """One record as Lambda's SQS event source delivers it (the fields Powertools' SQSRecord reads)."""
    return {
        "messageId": message_id,
        "receiptHandle": f"AQEB{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": "1570035880989",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1570035881000",
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode("utf-8")).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": INGEST_QUEUE_ARN,
        "awsRegion": REGION,
    }


def sqs_batch(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def lambda_context(request_id: str = "6f1b2c3d-0000-4000-8000-000000000001") -> LambdaContextStandIn:
    return replace(LambdaContextStandIn(), aws_request_id=request_id)


@dataclass(frozen=True)
class DeadLetter:
    body: str
    error_class: str
    error_reason: str
    source_message_id: str


@dataclass(frozen=True)
class DeadLetterQueue:
    """A moto SQS queue, plus a reader for what the bridge dead-lettered into it."""

    client: SQSClient
    url: str

    def messages(self) -> list[DeadLetter]:
        received: list[DeadLetter] = []
        while True:
            response = self.client.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                VisibilityTimeout=300,
                WaitTimeSeconds=0,
            )
            batch = response.get("Messages", [])
            if not batch:
                return received
            for message in batch:
                attributes = message.get("MessageAttributes", {})
                received.append(
                    DeadLetter(
                        body=message["Body"],
                        error_class=attributes["ErrorClass"]["StringValue"],
                        error_reason=attributes["ErrorReason"]["StringValue"],
                        source_message_id=attributes["SourceMessageId"]["StringValue"],
                    )
                )


@pytest.fixture
def dead_letter_queue() -> Iterator[DeadLetterQueue]:
    with mock_aws():
        client = boto3.client("sqs", region_name=REGION)
        url = client.create_queue(QueueName="incident-bridge-dead-letters")["QueueUrl"]
        yield DeadLetterQueue(client, url)


@dataclass(frozen=True)
class BridgeUnderTest:
    runtime: Runtime
    stubber: Stubber
    dead_letter_queue: DeadLetterQueue
    #: Every StartIncident request the boto3 client actually received, in order.
    sent_requests: list[dict[str, Any]]


@pytest.fixture
def bridge(
    monkeypatch: pytest.MonkeyPatch,
    incidents_client: SSMIncidentsClient,
    incidents_stubber: Stubber,
    dead_letter_queue: DeadLetterQueue,
) -> BridgeUnderTest:
    """`handler.RUNTIME` replaced by a Runtime on the Stubber-backed client and the moto dead-letter queue.

    `incidents_stubber` asserts at teardown that every queued response was consumed.
    """
    sent_requests: list[dict[str, Any]] = []

    def record_request(params: dict[str, Any], **_: Any) -> None:
        sent_requests.append(json.loads(json.dumps(params, default=str)))

    incidents_client.meta.events.register("before-parameter-build.ssm-incidents.StartIncident", record_request)
    config = parse_config(
        {"default": {"response_plan_arn": TEST_PLAN_ARN, "impact": TEST_IMPACT}}, origin="tests/handler"
    )
    runtime = Runtime(
        Bridge(config, Boto3IncidentManager(incidents_client), MemoryGroupStore()),
        SqsDeadLetters(dead_letter_queue.client, dead_letter_queue.url),
        emit_metrics=False,
    )
    monkeypatch.setattr(handler, "RUNTIME", runtime)
    return BridgeUnderTest(runtime, incidents_stubber, dead_letter_queue, sent_requests)
