"""Custom application events through the real handler: a valid one starts an incident, an invalid one lands in the
dead-letter queue as InvalidEvent with the failing field in its reason, and is not retried."""

from __future__ import annotations

import json
from typing import Any

import pytest

from incident_bridge import handler
from tests.conftest import load_event
from tests.handler.conftest import TEST_IMPACT, TEST_PLAN_ARN, BridgeUnderTest, lambda_context, sqs_batch, sqs_record

CUSTOM_EVENT = "custom-app-eventbridge-PaymentCreated-no-resources-powertools.json"
VALID_DETAIL: dict[str, Any] = {"title": "Card payments are failing", "source": "payments-service", "severity": "high"}

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def custom_event(detail: dict[str, Any]) -> dict[str, Any]:
    raw = load_event(CUSTOM_EVENT)
    raw["account"] = "123456789012"  # the Powertools sample's 13-digit account is not an AWS account id
    raw["detail"] = detail
    return raw


def handle_valid_event(bridge: BridgeUnderTest) -> dict[str, Any]:
    bridge.stubber.add_response(
        "start_incident", {"incidentRecordArn": "arn:aws:ssm-incidents::123456789012:incident-record/checkout-oncall/1"}
    )
    body = json.dumps(custom_event(VALID_DETAIL))
    response = handler.lambda_handler(sqs_batch(sqs_record(body, "message-1")), lambda_context())
    assert response == {"batchItemFailures": []}
    (request,) = bridge.sent_requests
    return request


def test_valid_custom_event_starts_an_incident(bridge: BridgeUnderTest) -> None:
    # Given Incident Manager ready to answer one StartIncident, and the fixture's default-only configuration
    # When a valid custom event arrives as one queue record
    request = handle_valid_event(bridge)

    # Then one request (checked against the full model by the client fixture) opened it in the default plan, with
    # the event's trigger source, and nothing was dead-lettered
    assert (request["responsePlanArn"], request["impact"]) == (TEST_PLAN_ARN, TEST_IMPACT)
    assert request["triggerDetails"]["source"] == "payments-service"
    assert bridge.dead_letter_queue.messages() == []


def test_valid_custom_event_caught_by_the_default_route_is_titled_by_the_event(bridge: BridgeUnderTest) -> None:
    # Given the fixture's default-only configuration (no title set, so the built-in one)
    # When a valid custom event arrives as one queue record
    request = handle_valid_event(bridge)

    # Then the incident's title is the one the application gave
    assert request["title"] == "Card payments are failing"


@pytest.mark.parametrize(
    ("detail", "field_problem"),
    [
        ({"impact": 2}, "detail.title: required"),
        ({**VALID_DETAIL, "impact": 7}, "detail.impact: must be at most 5, got 7"),
        ({**VALID_DETAIL, "source": "aws.x"}, "detail.source: 'aws.x': the prefix 'aws.' is reserved for AWS"),
        (
            {**VALID_DETAIL, "resource_arns": ["checkout-function"]},
            "detail.resource_arns.0: 'checkout-function' does not match "
            "'^arn:aws(-cn|-us-gov)?:[a-z0-9-]*:[a-z0-9-]*:([0-9]{12})?:.+$'",
        ),
    ],
    ids=["missing-title", "impact-7", "aws-source", "bad-resource-arn"],
)
def test_invalid_custom_event_is_dead_lettered_naming_the_field(
    bridge: BridgeUnderTest, detail: dict[str, Any], field_problem: str
) -> None:
    # Given a custom event whose detail breaks the schema in one way (no Incident Manager response queued)
    body = json.dumps(custom_event(detail))

    # When it arrives as one queue record
    response = handler.lambda_handler(sqs_batch(sqs_record(body, "message-1")), lambda_context())

    # Then it is not retried, no request is made, and the dead-letter queue holds it with the class and the field
    assert response == {"batchItemFailures": []}
    assert bridge.sent_requests == []
    (dead_letter,) = bridge.dead_letter_queue.messages()
    assert (dead_letter.body, dead_letter.error_class, dead_letter.source_message_id) == (
        body,
        "InvalidEvent",
        "message-1",
    )
    assert dead_letter.error_reason == (
        "custom event 'app.payment'/'PaymentCreated' does not follow the custom incident schema: " + field_problem
    )
