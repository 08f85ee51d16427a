"""Through `handler.lambda_handler`: SQS batches and direct invocations, a Stubber-backed Incident Manager client
(every request validated against botocore's full model by the shared fixture), and a moto dead-letter queue.

Retries: the production client uses adaptive retry mode with max_attempts 5, but botocore's Stubber answers in
`before-call`, before the request is sent, so the retry handler (`needs-retry`, emitted only around an HTTP
send) never runs. One queued error response is therefore exactly one attempt, whatever the retry config;
`test_stubbed_client_with_the_production_retry_config_makes_one_attempt` pins that assumption.
"""

from __future__ import annotations

import copy
import gc
import importlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

import incident_bridge
from incident_bridge import handler
from incident_bridge.adapters.incident_manager import CLIENT_CONFIG
from incident_bridge.errors import ConfigError, TransientApiError
from incident_bridge.outcome import OutcomeKind
from incident_bridge.runtime import Runtime
from incident_bridge.settings import Settings
from tests.conftest import load_event, run_fresh_interpreter
from tests.handler.conftest import (
    TEST_IMPACT,
    TEST_PLAN_ARN,
    BridgeUnderTest,
    lambda_context,
    sqs_batch,
    sqs_record,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
METRIC_ALARM = "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
ANOMALY_ALARM = "eventbridge-anomaly-detection-alarm-ALARM-ec2-cpu-awsdocs.json"
# A payload the bridge does not understand: the CodeStar Notifications "processed" shape (no `detail-type`).
NOT_UNDERSTOOD = "codestar-notification-codepipeline-pipeline-FAILED-processed-awsdocs-bracefix.json"
ALARM_ACTION = "lambda-action-metric-alarm-ALARM-from-INSUFFICIENT_DATA-aws-lambda-java-libs.json"
SQS_SNS_ENVELOPE = "sqs-record-sns-envelope-non-alarm-message-powertools-ts.json"

# handler.py silences this at import, but pytest resets warning filters for each test.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

METRIC_ALARM_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"
EC2_INSTANCE_ARN = "arn:aws:ec2:us-east-1:123456789012:instance/i-12345678901234567"
# Pinned, not recomputed: the token must stay the same across releases, or a message redelivered after a
# deploy would open a second incident.
METRIC_ALARM_CLIENT_TOKEN = "49e8791ff8c79d018888a17b763cf447defda5475fdc2ec8e9e929add1ba53cf"


def incident_record_arn(suffix: str = "0ec0e6a5") -> str:
    return f"arn:aws:ssm-incidents::123456789012:incident-record/checkout-oncall/{suffix}"


class JsonEqualTo:
    """Stubber matcher: a JSON string that decodes to the given document."""

    def __init__(self, document: Any) -> None:
        self.document = document

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and json.loads(other) == self.document

    def __repr__(self) -> str:
        return f"JsonEqualTo({self.document!r})"


class IncludesRelatedItem:
    """Stubber matcher: a relatedItems list with an INVOLVED_RESOURCE item for the given ARN."""

    def __init__(self, arn: str) -> None:
        self.arn = arn

    def __eq__(self, other: object) -> bool:
        return isinstance(other, list) and any(
            item.get("identifier") == {"type": "INVOLVED_RESOURCE", "value": {"arn": self.arn}} for item in other
        )

    def __repr__(self) -> str:
        return f"IncludesRelatedItem({self.arn!r})"


def body_of(event: Mapping[str, Any]) -> str:
    return json.dumps(event)


def expected_metric_alarm_request(event: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "clientToken": METRIC_ALARM_CLIENT_TOKEN,
        "responsePlanArn": TEST_PLAN_ARN,
        "title": "ServerCpuTooHigh is in ALARM (123456789012, us-east-1)",
        "impact": TEST_IMPACT,
        "triggerDetails": {
            "source": "incident-bridge.cloudwatch-alarm",
            "triggerArn": METRIC_ALARM_ARN,
            # state.timestamp "2019-10-02T17:04:40.989+0000", not the envelope's `time`.
            "timestamp": datetime(2019, 10, 2, 17, 4, 40, 989000, tzinfo=UTC),
            "rawData": JsonEqualTo(event),
        },
        "relatedItems": IncludesRelatedItem(EC2_INSTANCE_ARN),
    }


def expect_start_incident(stubber: Stubber, record_id: str) -> str:
    """Queues one successful StartIncident (the request is still checked against the full model)."""
    arn = incident_record_arn(record_id)
    stubber.add_response("start_incident", {"incidentRecordArn": arn})
    return arn


# ---- one ALARM event ----


def test_alarm_event_starts_exactly_one_incident_with_the_expected_request(bridge: BridgeUnderTest) -> None:
    # Given the documented EC2 CPU alarm entering ALARM, delivered as one SQS record
    event = load_event(METRIC_ALARM)
    bridge.stubber.add_response(
        "start_incident",
        {"incidentRecordArn": incident_record_arn()},
        expected_metric_alarm_request(event),
    )

    # When the handler processes the batch
    response = handler.lambda_handler(sqs_batch(sqs_record(body_of(event), "msg-1")), lambda_context())

    # Then Incident Manager got exactly one StartIncident with those parameters, and nothing failed
    assert response == {"batchItemFailures": []}
    assert len(bridge.sent_requests) == 1
    bridge.stubber.assert_no_pending_responses()
    assert bridge.runtime.outcomes[-1].kind is OutcomeKind.STARTED
    assert bridge.runtime.outcomes[-1].incident_arn == incident_record_arn()
    assert bridge.dead_letter_queue.messages() == []


def test_redelivered_record_has_one_effect(bridge: BridgeUnderTest) -> None:
    # Given the same SQS record delivered twice (the second time with a higher receive count)
    event = load_event(METRIC_ALARM)
    request = expected_metric_alarm_request(event)
    bridge.stubber.add_response("start_incident", {"incidentRecordArn": incident_record_arn()}, request)

    # When the handler processes both deliveries
    first = handler.lambda_handler(sqs_batch(sqs_record(body_of(event), "msg-1")), lambda_context())
    second = handler.lambda_handler(
        sqs_batch(sqs_record(body_of(event), "msg-1", receive_count=2)), lambda_context("req-2")
    )

    # Then Incident Manager saw one StartIncident (the group remembers the event), and the second delivery
    # is reported as a redelivery, not as a failure
    assert first == second == {"batchItemFailures": []}
    assert [sent["clientToken"] for sent in bridge.sent_requests] == [METRIC_ALARM_CLIENT_TOKEN]
    assert "redelivery" in bridge.runtime.outcomes[-1].reason


def test_record_retried_after_throttling_keeps_its_client_token(bridge: BridgeUnderTest) -> None:
    # Given a record whose first delivery is throttled and whose redelivery succeeds
    event = load_event(METRIC_ALARM)
    record = sqs_record(body_of(event), "msg-1")
    bridge.stubber.add_client_error(
        "start_incident", service_error_code="ThrottlingException", service_message="Rate exceeded"
    )
    bridge.stubber.add_response(
        "start_incident", {"incidentRecordArn": incident_record_arn()}, expected_metric_alarm_request(event)
    )

    # When the queue delivers it twice
    first = handler.lambda_handler(sqs_batch(record), lambda_context())
    second = handler.lambda_handler(sqs_batch(record), lambda_context("req-2"))

    # Then the first is reported for retry, the second succeeds, with one token across both attempts
    assert first == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    assert second == {"batchItemFailures": []}
    assert {sent["clientToken"] for sent in bridge.sent_requests} == {METRIC_ALARM_CLIENT_TOKEN}
    assert bridge.dead_letter_queue.messages() == []


# ---- events the bridge ignores or rejects ----


@pytest.mark.parametrize("state", ["OK", "INSUFFICIENT_DATA"])
def test_alarm_leaving_alarm_state_makes_no_call_and_dead_letters_nothing(bridge: BridgeUnderTest, state: str) -> None:
    # Given the documented alarm event, with only the new state changed
    event = load_event(METRIC_ALARM)
    event["detail"]["state"]["value"] = state

    # When the handler processes it (no response is queued: any API call would fail the stub)
    response = handler.lambda_handler(sqs_batch(sqs_record(body_of(event), "msg-1")), lambda_context())

    # Then it is ignored: no call, nothing dead-lettered, nothing retried
    assert response == {"batchItemFailures": []}
    assert bridge.sent_requests == []
    assert bridge.dead_letter_queue.messages() == []
    assert bridge.runtime.outcomes[-1].kind is OutcomeKind.IGNORED
    assert state in bridge.runtime.outcomes[-1].reason


@pytest.mark.parametrize(
    ("body", "reason_fragments"),
    [
        pytest.param(
            body_of(load_event(NOT_UNDERSTOOD)),
            ("unrecognized payload", "detailType"),
            id="codestar-notification",
        ),
        pytest.param('{"detail-type": "CloudWatch Alarm State Change", ', ("not JSON",), id="truncated-json"),
        pytest.param("Alarm ServerCpuTooHigh is in ALARM", ("not JSON",), id="plain-text"),
        pytest.param("[]", ("expected a JSON object", "list"), id="json-array"),
    ],
)
def test_invalid_body_is_dead_lettered_once_and_not_retried(
    bridge: BridgeUnderTest, body: str, reason_fragments: tuple[str, ...]
) -> None:
    # Given a record the bridge cannot act on
    record = sqs_record(body, "msg-poison")

    # When the handler processes it
    response = handler.lambda_handler(sqs_batch(record), lambda_context())

    # Then it is not reported for retry, no API call was made, and one DLQ message explains why
    assert response == {"batchItemFailures": []}
    assert bridge.sent_requests == []
    [dead_letter] = bridge.dead_letter_queue.messages()
    assert dead_letter.body == body
    assert dead_letter.error_class == "InvalidEvent"
    assert dead_letter.source_message_id == "msg-poison"
    for fragment in reason_fragments:
        assert fragment in dead_letter.error_reason


def test_published_sqs_event_with_a_non_alarm_sns_envelope_is_dead_lettered(bridge: BridgeUnderTest) -> None:
    # Given a real Lambda SQS event whose body is an SNS envelope carrying no alarm
    event = load_event(SQS_SNS_ENVELOPE)
    [record] = event["Records"]

    # When the handler processes it as published
    response = handler.lambda_handler(event, lambda_context())

    # Then it is dead-lettered as InvalidEvent under its own message id, and not retried
    assert response == {"batchItemFailures": []}
    assert bridge.sent_requests == []
    [dead_letter] = bridge.dead_letter_queue.messages()
    assert (dead_letter.error_class, dead_letter.source_message_id) == ("InvalidEvent", record["messageId"])
    assert dead_letter.body == record["body"]
    assert "not a CloudWatch alarm" in dead_letter.error_reason


# ---- Incident Manager errors: retry or dead-letter ----


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ThrottlingException", 400),
        ("InternalServerException", 500),
        ("ServiceUnavailable", 503),  # not a modelled code: the 5xx status alone makes it retryable
    ],
)
def test_transient_api_error_reports_the_record_for_retry(bridge: BridgeUnderTest, code: str, status: int) -> None:
    # Given Incident Manager answers StartIncident with a transient error
    event = load_event(METRIC_ALARM)
    bridge.stubber.add_client_error(
        "start_incident",
        service_error_code=code,
        service_message="try again",
        http_status_code=status,
        expected_params=expected_metric_alarm_request(event),
    )

    # When the handler processes the record
    response = handler.lambda_handler(sqs_batch(sqs_record(body_of(event), "msg-1")), lambda_context())

    # Then the record goes back to the queue, and nothing is dead-lettered
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    assert len(bridge.sent_requests) == 1
    assert bridge.dead_letter_queue.messages() == []
    assert code in bridge.runtime.failures["msg-1"]


@pytest.mark.parametrize(
    ("code", "status"),
    [("AccessDeniedException", 403), ("ValidationException", 400), ("ResourceNotFoundException", 404)],
)
def test_permanent_api_error_dead_letters_the_record(bridge: BridgeUnderTest, code: str, status: int) -> None:
    # Given Incident Manager refuses StartIncident in a way a retry cannot fix
    event = load_event(METRIC_ALARM)
    bridge.stubber.add_client_error(
        "start_incident",
        service_error_code=code,
        service_message=f"{code} for {TEST_PLAN_ARN}",
        http_status_code=status,
        expected_params=expected_metric_alarm_request(event),
    )

    # When the handler processes the record
    response = handler.lambda_handler(sqs_batch(sqs_record(body_of(event), "msg-1")), lambda_context())

    # Then it is dead-lettered as a PermanentApiError naming the code, and not retried
    assert response == {"batchItemFailures": []}
    [dead_letter] = bridge.dead_letter_queue.messages()
    assert dead_letter.error_class == "PermanentApiError"
    assert dead_letter.source_message_id == "msg-1"
    assert dead_letter.body == body_of(event)
    assert "ServerCpuTooHigh" in dead_letter.error_reason
    assert f"StartIncident: {code}" in dead_letter.error_reason


def test_stubbed_client_with_the_production_retry_config_makes_one_attempt() -> None:
    # Given a client with the production retry config (adaptive mode, 5 attempts) and one queued throttle
    client = boto3.client("ssm-incidents", region_name="us-east-1", config=CLIENT_CONFIG)
    retry_checks: list[str] = []
    client.meta.events.register("needs-retry.ssm-incidents.StartIncident", lambda **_: retry_checks.append("x"))
    with Stubber(client) as stubber:
        stubber.add_client_error("start_incident", service_error_code="ThrottlingException")

        # When the client is called
        with pytest.raises(ClientError) as raised:
            client.start_incident(
                responsePlanArn=TEST_PLAN_ARN,
                triggerDetails={"source": "incident-bridge.cloudwatch-alarm", "timestamp": datetime.now(UTC)},
            )

        # Then the one queued error is the whole story: the retry handler never ran
        stubber.assert_no_pending_responses()
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert retry_checks == []


# ---- batches ----


def test_poison_record_in_the_middle_of_a_batch_is_the_only_one_dead_lettered(bridge: BridgeUnderTest) -> None:
    # Given a batch of three: an alarm, a payload the bridge does not understand, another alarm
    first, third = load_event(METRIC_ALARM), load_event(ANOMALY_ALARM)
    poison = load_event(NOT_UNDERSTOOD)
    first_arn = expect_start_incident(bridge.stubber, "00000001")
    third_arn = expect_start_incident(bridge.stubber, "00000003")
    batch = sqs_batch(
        sqs_record(body_of(first), "msg-1"), sqs_record(body_of(poison), "msg-2"), sqs_record(body_of(third), "msg-3")
    )

    # When the handler processes the batch
    response = handler.lambda_handler(batch, lambda_context())

    # Then both alarms opened incidents, only the poison record was dead-lettered, and nothing is retried
    assert response == {"batchItemFailures": []}
    assert [sent["title"] for sent in bridge.sent_requests] == [
        "ServerCpuTooHigh is in ALARM (123456789012, us-east-1)",
        "EC2 CPU Utilization Anomaly is in ALARM (123456789012, us-east-1)",
    ]
    assert [outcome.incident_arn for outcome in bridge.runtime.outcomes] == [first_arn, None, third_arn]
    [dead_letter] = bridge.dead_letter_queue.messages()
    assert (dead_letter.source_message_id, dead_letter.error_class) == ("msg-2", "InvalidEvent")


def test_transient_error_on_the_second_record_fails_only_that_record(bridge: BridgeUnderTest) -> None:
    # Given a batch of three alarms where Incident Manager throttles the second call
    events = [load_event(METRIC_ALARM), load_event(ANOMALY_ALARM), load_event(METRIC_ALARM)]
    # A different alarm (its own group, so its own incident): only name and ARN change
    events[2]["id"] = "d3a7e8f0-0000-4000-8000-000000000003"
    events[2]["detail"]["alarmName"] = "ServerCpuTooHigh-2"
    events[2]["resources"] = ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh-2"]
    expect_start_incident(bridge.stubber, "00000001")
    bridge.stubber.add_client_error("start_incident", service_error_code="ThrottlingException")
    expect_start_incident(bridge.stubber, "00000003")
    batch = sqs_batch(*(sqs_record(body_of(event), f"msg-{n}") for n, event in enumerate(events, start=1)))

    # When the handler processes the batch
    response = handler.lambda_handler(batch, lambda_context())

    # Then only record 2 is reported for retry, records 1 and 3 started incidents, and nothing is dead-lettered
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-2"}]}
    assert len(bridge.sent_requests) == 3
    assert [outcome.kind for outcome in bridge.runtime.outcomes] == [OutcomeKind.STARTED, OutcomeKind.STARTED]
    assert bridge.dead_letter_queue.messages() == []


# ---- direct invocation (the alarm's Lambda action) ----


def test_direct_alarm_action_invocation_starts_an_incident(bridge: BridgeUnderTest) -> None:
    # Given the payload CloudWatch sends when an alarm invokes the function directly
    event = load_event(ALARM_ACTION)
    bridge.stubber.add_response(
        "start_incident",
        {"incidentRecordArn": incident_record_arn()},
        {
            "clientToken": ANY,
            "responsePlanArn": TEST_PLAN_ARN,
            "title": "lambda-demo-metric-alarm is in ALARM (444455556666, us-east-1)",
            "impact": TEST_IMPACT,
            "triggerDetails": {
                "source": "incident-bridge.cloudwatch-alarm",
                "triggerArn": event["alarmArn"],
                "timestamp": datetime(2023, 8, 4, 12, 36, 15, 490000, tzinfo=UTC),
                "rawData": JsonEqualTo(event),
            },
            "relatedItems": ANY,
        },
    )

    # When the handler is invoked with it
    response = handler.lambda_handler(event, lambda_context())

    # Then one incident was started and nothing was dead-lettered
    assert response == {}
    assert len(bridge.sent_requests) == 1
    assert bridge.runtime.outcomes[-1].kind is OutcomeKind.STARTED
    assert bridge.dead_letter_queue.messages() == []


def test_direct_invocation_with_an_invalid_payload_is_dead_lettered(bridge: BridgeUnderTest) -> None:
    # Given an alarm-action payload whose alarmData is not an object
    event = load_event(ALARM_ACTION)
    event["alarmData"] = "lambda-demo-metric-alarm"

    # When the handler is invoked with it
    response = handler.lambda_handler(event, lambda_context("req-direct-1"))

    # Then no call was made, and the payload is dead-lettered under the request id
    assert response == {}
    assert bridge.sent_requests == []
    [dead_letter] = bridge.dead_letter_queue.messages()
    assert dead_letter.error_class == "InvalidEvent"
    assert dead_letter.source_message_id == "req-direct-1"
    assert json.loads(dead_letter.body) == event
    assert "alarm action payload is malformed" in dead_letter.error_reason
    assert "alarmData" in dead_letter.error_reason


def test_direct_invocation_refused_by_incident_manager_is_dead_lettered(bridge: BridgeUnderTest) -> None:
    # Given a valid alarm-action payload and Incident Manager denying access
    event = load_event(ALARM_ACTION)
    bridge.stubber.add_client_error("start_incident", service_error_code="AccessDeniedException", http_status_code=403)

    # When the handler is invoked with it
    handler.lambda_handler(event, lambda_context("req-direct-2"))

    # Then the payload is dead-lettered as a permanent API error
    [dead_letter] = bridge.dead_letter_queue.messages()
    assert (dead_letter.error_class, dead_letter.source_message_id) == ("PermanentApiError", "req-direct-2")
    assert json.loads(dead_letter.body) == event


def test_direct_invocation_with_a_transient_error_raises_for_lambda_to_retry(bridge: BridgeUnderTest) -> None:
    # Given a valid alarm-action payload and Incident Manager failing with a 500
    event = load_event(ALARM_ACTION)
    bridge.stubber.add_client_error(
        "start_incident", service_error_code="InternalServerException", http_status_code=500
    )

    # When the handler is invoked with it
    with pytest.raises(TransientApiError, match="InternalServerException"):
        handler.lambda_handler(event, lambda_context())

    # Then the error propagates (Lambda retries async invocations) and nothing is dead-lettered
    assert bridge.dead_letter_queue.messages() == []


@pytest.mark.parametrize("payload", [["ServerCpuTooHigh"], "ServerCpuTooHigh", None], ids=["list", "str", "null"])
def test_direct_invocation_with_a_non_object_payload_is_dead_lettered(bridge: BridgeUnderTest, payload: Any) -> None:
    # Given a direct invocation whose payload is valid JSON but not an object (`aws lambda invoke --payload '[…]'`)
    event = copy.deepcopy(payload)

    # When the handler is invoked with it
    handler.lambda_handler(event, lambda_context("req-direct-3"))

    # Then it is dead-lettered as InvalidEvent, like any other payload the bridge cannot act on
    [dead_letter] = bridge.dead_letter_queue.messages()
    assert (dead_letter.error_class, dead_letter.source_message_id) == ("InvalidEvent", "req-direct-3")
    assert "expected a JSON object" in dead_letter.error_reason


# ---- cold start ----


def test_handler_module_imports_without_aws_credentials(tmp_path: Path) -> None:
    # Given a live-mode environment with a region but no credentials anywhere (env, files, instance metadata)
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(REPO_ROOT / "lambdas"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "INCIDENT_MANAGER_MODE": "live",
        "STATE_TABLE_NAME": "incident-bridge-groups",
        "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/incident-bridge-dead-letters",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    script = (
        "import boto3\n"
        "from incident_bridge import handler\n"
        "print(boto3.Session().get_credentials() is None, type(handler.RUNTIME.dead_letters).__name__)\n"
    )

    # When the handler module is imported (the Lambda's cold start)
    result = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, timeout=120, check=False
    )

    # Then it imports, with no credentials found, and wires the live dead-letter adapter
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "SqsDeadLetters"]


@pytest.mark.parametrize(
    ("default_route", "field"),
    [
        ({"response_plan_arn": TEST_PLAN_ARN, "impact": 7}, "default.impact"),
        ({"response_plan_arn": "arn:aws:sns:us-east-1:123456789012:oncall"}, "default.response_plan_arn"),
        ({"response_plan_arn": TEST_PLAN_ARN, "impcat": 2}, "default.impcat"),
    ],
)
def test_bad_config_file_fails_cold_start_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, default_route: dict[str, Any], field: str
) -> None:
    # Given BRIDGE_CONFIG_FILE pointing at a configuration with one bad value
    config_file = tmp_path / "bridge.json"
    config_file.write_text(json.dumps({"default": default_route}), encoding="utf-8")
    monkeypatch.setenv("BRIDGE_CONFIG_FILE", str(config_file))

    # When the runtime is built from the environment
    with pytest.raises(ConfigError) as raised:
        Runtime.from_settings(Settings.from_environment())

    # Then the error names the file and the field
    assert str(config_file) in str(raised.value)
    assert f"{field}:" in str(raised.value)


def test_bad_config_file_fails_the_handler_import(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Given a bad configuration and no cached handler module (monkeypatch restores the cached one afterwards)
    config_file = tmp_path / "bridge.yaml"
    config_file.write_text(f"default:\n  response_plan_arn: {TEST_PLAN_ARN}\n  impact: 0\n", encoding="utf-8")
    monkeypatch.setenv("BRIDGE_CONFIG_FILE", str(config_file))
    monkeypatch.delitem(sys.modules, "incident_bridge.handler")
    monkeypatch.delattr(incident_bridge, "handler")

    # When the handler module is imported (cold start)
    with pytest.raises(ConfigError, match=r"default\.impact"):
        importlib.import_module("incident_bridge.handler")

    # Then no half-initialized module is left behind, and garbage collection, paused for the cold start, is back on
    assert "incident_bridge.handler" not in sys.modules
    assert gc.isenabled()


def test_cold_start_pauses_garbage_collection_and_freezes_what_it_built() -> None:
    # Given a fresh interpreter whose collector is on, watching collections while the handler module runs (it is
    # in sys.modules from its first line on; compiling its source comes before and is not watched)
    script = (
        "import gc, json, sys\n"
        "starts = []\n"
        "def watch(phase, info):\n"
        "    if phase == 'start' and 'incident_bridge.handler' in sys.modules:\n"
        "        starts.append(info)\n"
        "gc.callbacks.append(watch)\n"
        "from incident_bridge import handler\n"
        "print(json.dumps({'collections': len(starts), 'enabled': gc.isenabled(), 'frozen': gc.get_freeze_count()}))\n"
    )

    # When the handler module is imported (the cold start)
    facts = run_fresh_interpreter(script)

    # Then no collection ran during init, the collector is on again, and init's objects are frozen out of it
    assert facts["collections"] == 0
    assert facts["enabled"] is True
    assert facts["frozen"] > 10_000
