"""Tests for the service-model request validator used by the dry-run stand-in."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator
from hypothesis import given, settings
from hypothesis import strategies as st

from incident_bridge.adapters.api_model import (
    EXTRA_SERVICE_RULES,
    ModelViolation,
    RequestRejected,
    ensure_valid,
    violations,
)

ACCOUNT = "123456789012"
PLAN_ARN = f"arn:aws:ssm-incidents::{ACCOUNT}:response-plan/checkout"
ALARM_ARN = f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:checkout-p99"
RECORD_ARN = f"arn:aws:ssm-incidents::{ACCOUNT}:incident-record/checkout/0ec0e6a5"
GOV_ARN_PREFIX = f"arn:aws-us-gov:ssm-incidents::{ACCOUNT}:response-plan/"
ARN_PATTERN = "^arn:aws(-cn|-us-gov)?:[a-z0-9-]*:[a-z0-9-]*:([0-9]{12})?:.+$"

Params = dict[str, Any]


def related_item(index: int = 0) -> Params:
    return {
        "identifier": {"type": "METRIC", "value": {"arn": f"{ALARM_ARN}-{index}"}},
        "title": f"alarm {index}",
    }


def valid_start_incident() -> Params:
    """A StartIncident request that uses every member, every ItemValue union member included."""
    return {
        "clientToken": "4a0f8c1e-5f0b-4f7e-9d8a-0f1b2c3d4e5f",
        "responsePlanArn": PLAN_ARN,
        "title": "Checkout p99 latency above 2s",
        "impact": 2,
        "triggerDetails": {
            "source": "com.example.checkout",
            "timestamp": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
            "triggerArn": ALARM_ARN,
            "rawData": '{"alarm": "checkout-p99"}',
        },
        "relatedItems": [
            related_item(0),
            {"identifier": {"type": "OTHER", "value": {"url": "https://runbooks.example.com/checkout"}}},
            {"identifier": {"type": "METRIC", "value": {"metricDefinition": '{"metrics": []}'}}},
            {
                "identifier": {
                    "type": "INCIDENT",
                    "value": {"pagerDutyIncidentDetail": {"id": "Q1P2", "autoResolve": True}},
                },
                "generatedId": "related-item/INCIDENT/" + "0123456789ABCDEF" * 2,
            },
        ],
    }


def _set(params: Params, path: tuple[str | int, ...], value: Any) -> None:
    target: Any = params
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def _delete(params: Params, path: tuple[str | int, ...]) -> None:
    target: Any = params
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]


def setting(*path_and_value: Any) -> Callable[[Params], None]:
    *path, value = path_and_value
    return lambda params: _set(params, tuple(path), value)


def deleting(*path: str | int) -> Callable[[Params], None]:
    return lambda params: _delete(params, tuple(path))


def botocore_errors(operation: str, params: Params) -> str:
    """What botocore's own ParamValidator (the one Stubber relies on) says about ``params``."""
    model = botocore.session.get_session().get_service_model("ssm-incidents")
    input_shape = model.operation_model(operation).input_shape
    assert input_shape is not None
    report = ParamValidator().validate(params, input_shape)
    return str(report.generate_report()) if report.has_errors() else ""


# --- StartIncident: the happy path and one rule at a time -----------------------------------------------


def test_fully_valid_start_incident_has_no_violations() -> None:
    # Given a StartIncident request using every member within its limits
    params = valid_start_incident()

    # When it is validated against the model
    found = violations("StartIncident", params)

    # Then nothing is reported and ensure_valid does not raise
    assert found == []
    ensure_valid("StartIncident", params)


SINGLE_VIOLATIONS: list[Any] = [
    pytest.param(setting("title", "t" * 201), "title", "length 201 exceeds max 200", id="title-201"),
    pytest.param(
        setting("triggerDetails", "rawData", "r" * 10001),
        "triggerDetails.rawData",
        "length 10001 exceeds max 10000",
        id="rawData-10001",
    ),
    pytest.param(
        setting("triggerDetails", "source", "s" * 51),
        "triggerDetails.source",
        "length 51 exceeds max 50",
        id="source-51",
    ),
    pytest.param(
        setting("triggerDetails", "source", "aws.cloudwatch"),
        "triggerDetails.source",
        "reserved for AWS services",
        id="source-aws-prefix",
    ),
    pytest.param(setting("impact", 0), "impact", "value 0 is below min 1", id="impact-0"),
    pytest.param(setting("impact", 6), "impact", "value 6 exceeds max 5", id="impact-6"),
    pytest.param(setting("impact", True), "impact", "expected integer, got bool", id="impact-bool"),
    pytest.param(setting("impact", "2"), "impact", "expected integer, got str", id="impact-str"),
    pytest.param(
        setting("relatedItems", [related_item(i) for i in range(101)]),
        "relatedItems",
        "item count 101 exceeds max 100",
        id="relatedItems-101",
    ),
    pytest.param(
        setting("triggerDetails", "triggerArn", f"arn:aws-iso:cloudwatch:us-iso-east-1:{ACCOUNT}:alarm:a"),
        "triggerDetails.triggerArn",
        f"does not match pattern {ARN_PATTERN}",
        id="triggerArn-iso-partition",
    ),
    pytest.param(
        setting("relatedItems", 0, "identifier", "value", "arn", "arn:aws:cloudwatch:eu-west-1:1234567890123:a"),
        "relatedItems[0].identifier.value.arn",
        "does not match pattern",
        id="relatedItem-arn-13-digit-account",
    ),
    pytest.param(
        setting("responsePlanArn", PLAN_ARN + "\n"),
        "responsePlanArn",
        "does not match pattern",
        id="arn-trailing-newline",
    ),
    pytest.param(
        setting("responsePlanArn", GOV_ARN_PREFIX.ljust(1001, "x")),
        "responsePlanArn",
        "length 1001 exceeds max 1000",
        id="arn-1001",
    ),
    pytest.param(
        setting("relatedItems", 0, "identifier", "type", "FOO"),
        "relatedItems[0].identifier.type",
        "'FOO' is not one of ANALYSIS, INCIDENT, METRIC",
        id="enum-FOO",
    ),
    pytest.param(
        setting("relatedItems", 0, "identifier", "value", {"arn": ALARM_ARN, "url": "https://x.example"}),
        "relatedItems[0].identifier.value",
        "union ItemValue must set exactly one member, got 2",
        id="union-two-members",
    ),
    pytest.param(
        setting("relatedItems", 0, "identifier", "value", {}),
        "relatedItems[0].identifier.value",
        "union ItemValue must set exactly one member, got 0",
        id="union-no-member",
    ),
    pytest.param(
        deleting("responsePlanArn"),
        "responsePlanArn",
        "missing required member 'responsePlanArn'",
        id="missing-responsePlanArn",
    ),
    pytest.param(
        deleting("triggerDetails", "timestamp"),
        "triggerDetails.timestamp",
        "missing required member 'timestamp'",
        id="missing-timestamp",
    ),
    pytest.param(
        setting("triggerDetails", "severity", "high"),
        "triggerDetails.severity",
        "unknown member 'severity'",
        id="unknown-member",
    ),
    pytest.param(setting("title", 42), "title", "expected string, got int", id="title-int"),
    pytest.param(
        setting("triggerDetails", "timestamp", "not a time"),
        "triggerDetails.timestamp",
        "is not a timestamp",
        id="timestamp-unparseable",
    ),
    pytest.param(
        setting("relatedItems", 3, "identifier", "value", "pagerDutyIncidentDetail", "id", ""),
        "relatedItems[3].identifier.value.pagerDutyIncidentDetail.id",
        "length 0 is below min 1",
        id="pagerduty-id-empty",
    ),
    pytest.param(
        setting("relatedItems", 3, "generatedId", "related-item/INCIDENT/abc"),
        "relatedItems[3].generatedId",
        "does not match pattern ^related-item/",
        id="generatedId-pattern",
    ),
    pytest.param(setting("relatedItems", "not a list"), "relatedItems", "expected list, got str", id="list-type"),
]


@pytest.mark.parametrize(("mutate", "path", "problem"), SINGLE_VIOLATIONS)
def test_each_rule_is_reported_on_its_own(mutate: Callable[[Params], None], path: str, problem: str) -> None:
    # Given a valid StartIncident request with exactly one rule broken
    params = valid_start_incident()
    mutate(params)

    # When it is validated
    found = violations("StartIncident", params)

    # Then exactly that one violation is reported, at the right path
    assert [v.path for v in found] == [path]
    assert problem in found[0].problem


def test_several_violations_are_reported_together() -> None:
    # Given a request breaking several rules in different places
    params = valid_start_incident()
    params["title"] = "t" * 300
    params["impact"] = 9
    params["triggerDetails"]["source"] = "aws.events"
    del params["triggerDetails"]["timestamp"]
    params["relatedItems"][1]["identifier"]["type"] = "WEBPAGE"
    params["relatedItems"][2]["identifier"]["value"] = {}
    params["bogus"] = 1

    # When it is validated
    found = violations("StartIncident", params)

    # Then every violation is reported, not just the first
    assert {v.path for v in found} == {
        "title",
        "impact",
        "triggerDetails.source",
        "triggerDetails.timestamp",
        "relatedItems[1].identifier.type",
        "relatedItems[2].identifier.value",
        "bogus",
    }
    assert len(found) == 7


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(setting("title", "t" * 200), id="title-200"),
        pytest.param(setting("title", ""), id="title-empty"),
        pytest.param(setting("triggerDetails", "rawData", "r" * 10000), id="rawData-10000"),
        pytest.param(setting("triggerDetails", "source", "s" * 50), id="source-50"),
        pytest.param(setting("triggerDetails", "source", "awsome.monitor"), id="source-aws-without-dot"),
        pytest.param(setting("relatedItems", [related_item(i) for i in range(100)]), id="relatedItems-100"),
        pytest.param(setting("relatedItems", []), id="relatedItems-0"),
        pytest.param(setting("impact", 1), id="impact-1"),
        pytest.param(setting("impact", 5), id="impact-5"),
        pytest.param(setting("responsePlanArn", GOV_ARN_PREFIX.ljust(1000, "x")), id="arn-gov-1000"),
        pytest.param(setting("triggerDetails", "timestamp", "2025-01-02T03:04:05Z"), id="timestamp-iso"),
        pytest.param(setting("triggerDetails", "timestamp", 1735787045), id="timestamp-epoch-int"),
        pytest.param(setting("triggerDetails", "timestamp", 1735787045.5), id="timestamp-epoch-float"),
        pytest.param(setting("relatedItems", tuple(related_item(i) for i in range(3))), id="tuple-as-list"),
    ],
)
def test_values_exactly_at_the_limits_pass(mutate: Callable[[Params], None]) -> None:
    # Given a valid request pushed to a boundary the service still accepts
    params = valid_start_incident()
    mutate(params)

    # When it is validated
    found = violations("StartIncident", params)

    # Then nothing is reported
    assert found == []


# --- The other operations the bridge calls ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        pytest.param("GetIncidentRecord", {"arn": RECORD_ARN}, id="GetIncidentRecord"),
        pytest.param(
            "UpdateIncidentRecord",
            {
                "arn": RECORD_ARN,
                "status": "RESOLVED",
                "impact": 3,
                "summary": "s" * 8000,
                "chatChannel": {"empty": {}},
                "notificationTargets": [{"snsTopicArn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:oncall"}],
            },
            id="UpdateIncidentRecord",
        ),
        pytest.param(
            "UpdateRelatedItems",
            {"incidentRecordArn": RECORD_ARN, "relatedItemsUpdate": {"itemToAdd": related_item()}},
            id="UpdateRelatedItems-add",
        ),
        pytest.param(
            "UpdateRelatedItems",
            {
                "incidentRecordArn": RECORD_ARN,
                "relatedItemsUpdate": {"itemToRemove": related_item()["identifier"]},
            },
            id="UpdateRelatedItems-remove",
        ),
        pytest.param(
            "CreateTimelineEvent",
            {
                "incidentRecordArn": RECORD_ARN,
                "eventTime": datetime(2025, 1, 2, tzinfo=UTC),
                "eventType": "Custom Event",
                "eventData": "e" * 12000,
                "eventReferences": [{"resource": ALARM_ARN}] * 10,
            },
            id="CreateTimelineEvent",
        ),
    ],
)
def test_valid_requests_for_other_operations_pass(operation: str, params: Params) -> None:
    # Given a valid request for one of the other operations the bridge calls
    # When it is validated
    found = violations(operation, params)

    # Then nothing is reported
    assert found == []


@pytest.mark.parametrize(
    ("operation", "params", "path", "problem"),
    [
        pytest.param("GetIncidentRecord", {}, "arn", "missing required member 'arn'", id="get-missing-arn"),
        pytest.param(
            "GetIncidentRecord",
            {"arn": "incident-record/checkout"},
            "arn",
            "does not match pattern",
            id="get-bad-arn",
        ),
        pytest.param(
            "UpdateIncidentRecord",
            {"arn": RECORD_ARN, "status": "CLOSED"},
            "status",
            "'CLOSED' is not one of OPEN, RESOLVED",
            id="update-status-enum",
        ),
        pytest.param(
            "UpdateIncidentRecord",
            {"arn": RECORD_ARN, "chatChannel": {"chatbotSns": []}},
            "chatChannel.chatbotSns",
            "item count 0 is below min 1",
            id="update-chatbotSns-empty",
        ),
        pytest.param(
            "UpdateIncidentRecord",
            {"arn": RECORD_ARN, "notificationTargets": [{"snsTopicArn": "topic"}]},
            "notificationTargets[0].snsTopicArn",
            "does not match pattern",
            id="update-sns-arn",
        ),
        pytest.param(
            "UpdateRelatedItems",
            {
                "incidentRecordArn": RECORD_ARN,
                "relatedItemsUpdate": {
                    "itemToAdd": related_item(),
                    "itemToRemove": related_item()["identifier"],
                },
            },
            "relatedItemsUpdate",
            "union RelatedItemsUpdate must set exactly one member, got 2",
            id="related-update-union",
        ),
        pytest.param(
            "UpdateRelatedItems",
            {
                "incidentRecordArn": RECORD_ARN,
                "relatedItemsUpdate": {"itemToAdd": {"identifier": {"type": "METRIC", "value": {"arn": "x"}}}},
            },
            "relatedItemsUpdate.itemToAdd.identifier.value.arn",
            "does not match pattern",
            id="related-update-nested-arn",
        ),
        pytest.param(
            "CreateTimelineEvent",
            {
                "incidentRecordArn": RECORD_ARN,
                "eventTime": datetime(2025, 1, 2, tzinfo=UTC),
                "eventType": "Custom Event",
                "eventData": "e" * 12001,
            },
            "eventData",
            "length 12001 exceeds max 12000",
            id="timeline-eventData",
        ),
        pytest.param(
            "CreateTimelineEvent",
            {
                "incidentRecordArn": RECORD_ARN,
                "eventTime": datetime(2025, 1, 2, tzinfo=UTC),
                "eventType": "Custom Event",
                "eventData": "{}",
                "eventReferences": [{"resource": ALARM_ARN}] * 11,
            },
            "eventReferences",
            "item count 11 exceeds max 10",
            id="timeline-references-11",
        ),
        pytest.param(
            "CreateTimelineEvent",
            {
                "incidentRecordArn": RECORD_ARN,
                "eventTime": True,
                "eventType": "Custom Event",
                "eventData": "{}",
            },
            "eventTime",
            "expected timestamp",
            id="timeline-bool-time",
        ),
    ],
)
def test_other_operations_report_their_violations(operation: str, params: Params, path: str, problem: str) -> None:
    # Given a request for another operation with one rule broken
    # When it is validated
    found = violations(operation, params)

    # Then exactly that violation is reported
    assert [v.path for v in found] == [path]
    assert problem in found[0].problem


# --- ensure_valid / RequestRejected / lookup errors ------------------------------------------------------


def test_ensure_valid_raises_with_every_violation_in_one_message() -> None:
    # Given a StartIncident request with two problems
    params = valid_start_incident()
    params["title"] = "t" * 201
    params["relatedItems"][0]["identifier"]["value"]["arn"] = "nope"

    # When ensure_valid is called
    with pytest.raises(RequestRejected) as caught:
        ensure_valid("StartIncident", params)

    # Then the exception names the operation and carries and prints both violations
    error = caught.value
    assert error.operation == "StartIncident"
    assert error.violations == (
        ModelViolation("title", "length 201 exceeds max 200"),
        ModelViolation("relatedItems[0].identifier.value.arn", f"does not match pattern {ARN_PATTERN}"),
    )
    message = str(error)
    assert "StartIncident" in message
    assert "2 violations" in message
    assert "title: length 201 exceeds max 200" in message
    assert "relatedItems[0].identifier.value.arn: does not match pattern" in message


def test_request_rejected_survives_pickling() -> None:
    # Given a RequestRejected (e.g. crossing a process boundary in a test runner)
    error = RequestRejected("StartIncident", [ModelViolation("title", "length 201 exceeds max 200")])

    # When it is pickled and unpickled
    restored = pickle.loads(pickle.dumps(error))

    # Then nothing is lost
    assert restored.operation == error.operation
    assert restored.violations == error.violations
    assert str(restored) == str(error)


def test_boto3_method_name_is_accepted_as_operation() -> None:
    # Given a request missing a required member, addressed by its boto3 method name
    params = valid_start_incident()
    del params["responsePlanArn"]

    # When it is validated and ensured
    found = violations("start_incident", params)
    with pytest.raises(RequestRejected) as caught:
        ensure_valid("start_incident", params)

    # Then it behaves exactly like the API name, which is what the exception reports
    assert found == violations("StartIncident", params)
    assert caught.value.operation == "StartIncident"


def test_unknown_operation_is_a_value_error_with_a_hint() -> None:
    # Given an operation name ssm-incidents does not have
    # When it is validated
    with pytest.raises(ValueError, match="ssm-incidents has no operation 'StartIncidnt'") as caught:
        violations("StartIncidnt", {})

    # Then the message suggests the closest real operation
    assert "did you mean StartIncident" in str(caught.value)


def test_unknown_service_is_a_value_error() -> None:
    # Given a service botocore does not know
    # When it is validated
    # Then a ValueError names it
    with pytest.raises(ValueError, match="unknown AWS service 'no-such-service'"):
        violations("Anything", {}, service="no-such-service")


def test_the_walker_is_generic_across_services() -> None:
    # Given an SQS SendMessage with an over-long map key type and a missing required member
    params = {
        "QueueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/q",
        "MessageBody": "hi",
        "DelaySeconds": "5",
        "MessageAttributes": {"k": {"StringValue": "v"}},
    }

    # When it is validated against the sqs model
    found = violations("SendMessage", params, service="sqs")

    # Then the violations are found using that service's model (map values included)
    assert [v.path for v in found] == ["DelaySeconds", "MessageAttributes['k'].DataType"]
    assert "expected integer, got str" in found[0].problem
    assert "missing required member 'DataType'" in found[1].problem


def test_extra_rules_only_apply_to_their_operation() -> None:
    # Given the extra-rule table and an "aws." source sent somewhere the rule does not apply
    params = {"arn": RECORD_ARN, "title": "aws.something"}

    # When UpdateIncidentRecord is validated
    found = violations("UpdateIncidentRecord", params)

    # Then only StartIncident carries the reserved-prefix rule
    assert found == []
    assert set(EXTRA_SERVICE_RULES) == {("ssm-incidents", "StartIncident")}


# --- Compared with botocore's own ParamValidator (what Stubber runs) -------------------------------------


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        pytest.param(setting("title", "t" * 201), "title", id="title-201"),
        pytest.param(setting("impact", 6), "impact", id="impact-6"),
        pytest.param(setting("impact", True), "impact", id="impact-bool"),
        pytest.param(setting("triggerDetails", "source", "aws.cloudwatch"), "triggerDetails.source", id="aws"),
        pytest.param(
            setting("relatedItems", 0, "identifier", "type", "FOO"),
            "relatedItems[0].identifier.type",
            id="enum",
        ),
        pytest.param(
            setting("triggerDetails", "triggerArn", "arn:aws-iso:x:y:1234567890123:z"),
            "triggerDetails.triggerArn",
            id="arn",
        ),
    ],
)
def test_we_reject_what_botocore_lets_through(mutate: Callable[[Params], None], path: str) -> None:
    # Given a request botocore's ParamValidator (and so Stubber) accepts
    params = valid_start_incident()
    mutate(params)
    assert botocore_errors("StartIncident", params) == ""

    # When we validate it
    found = violations("StartIncident", params)

    # Then we refuse it, as the live API would
    assert [v.path for v in found] == [path]


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(deleting("responsePlanArn"), id="missing-required"),
        pytest.param(setting("relatedItems", 0, "identifier", "value", {}), id="union-empty"),
        pytest.param(setting("title", 42), id="wrong-type"),
        pytest.param(setting("triggerDetails", "bogus", 1), id="unknown-member"),
        pytest.param(setting("relatedItems", 3, "identifier", "value", "pagerDutyIncidentDetail", "id", ""), id="min"),
        pytest.param(setting("triggerDetails", "timestamp", "not a time"), id="timestamp"),
    ],
)
def test_whatever_botocore_rejects_we_reject_too(mutate: Callable[[Params], None]) -> None:
    # Given a request botocore's ParamValidator rejects
    params = valid_start_incident()
    mutate(params)
    assert botocore_errors("StartIncident", params) != ""

    # When we validate it
    found = violations("StartIncident", params)

    # Then we reject it as well
    assert found != []


# --- Property-based ------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(title=st.text(max_size=400))
def test_any_title_is_reported_iff_longer_than_200(title: str) -> None:
    # Given an otherwise valid request with an arbitrary title
    params = valid_start_incident()
    params["title"] = title

    # When it is validated
    found = violations("StartIncident", params)

    # Then the validator does not crash and flags the title exactly when it is over 200 characters
    assert [v.path for v in found] == (["title"] if len(title) > 200 else [])


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(
    member=st.sampled_from(["title", "impact", "relatedItems", "triggerDetails", "clientToken"]),
    value=_json_values,
)
def test_we_are_a_superset_of_botocore_for_arbitrary_values(member: str, value: object) -> None:
    # Given a valid request with one top-level member replaced by an arbitrary JSON-like value
    params = copy.deepcopy(valid_start_incident())
    params[member] = value

    # When both validators look at it
    ours = violations("StartIncident", params)
    theirs = botocore_errors("StartIncident", params)

    # Then anything botocore rejects, we reject too
    if theirs:
        assert ours, theirs
