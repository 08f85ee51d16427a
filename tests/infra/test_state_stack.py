"""The incident-group state in the synthesized stack: one DynamoDB table (on demand, PITR, TTL, encrypted, retained),
named to the function, and IAM that grants the lifecycle exactly its actions: item reads and writes on that table,
StartIncident on the configured plans, and the four record actions on those plans' incident records and the plans
(the Service Authorization Reference requires both resource types for them), nothing wider.

The stack is built from a configuration whose routes name two plans, with cdk-nag as an Aspect, as app.py does.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from aws_cdk.assertions import Annotations, Match

from infra.settings import CONFIG_FILE_KEY
from tests.infra.conftest import SynthesizedStack, as_list, iam_statements, only, synthesize

# Written out, not derived from infra/, so a mistake there cannot make these tests pass.
CHECKOUT_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/checkout-oncall"
PAYMENTS_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/payments-oncall"
CHECKOUT_RECORDS = "arn:aws:ssm-incidents::123456789012:incident-record/checkout-oncall/*"
PAYMENTS_RECORDS = "arn:aws:ssm-incidents::123456789012:incident-record/payments-oncall/*"
RECORD_ACTIONS = [
    "ssm-incidents:GetIncidentRecord",
    "ssm-incidents:UpdateRelatedItems",
    "ssm-incidents:CreateTimelineEvent",
    "ssm-incidents:UpdateIncidentRecord",
]
TWO_PLAN_CONFIG = {
    "default": {"response_plan_arn": CHECKOUT_PLAN, "group_by": ["tag:service"], "auto_resolve": True},
    "routes": [
        {
            "name": "payments",
            "match": {"tags": {"team": "payments"}},
            "response_plan_arn": PAYMENTS_PLAN,
            "group_by": ["namespace", "dimension:InstanceId"],
        }
    ],
}


@pytest.fixture(scope="module")
def two_plan_stack(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedStack:
    directory = tmp_path_factory.mktemp("two-plans")
    config_file = directory / "bridge.yaml"
    config_file.write_text(yaml.safe_dump(TWO_PLAN_CONFIG), encoding="utf-8")
    return synthesize({CONFIG_FILE_KEY: str(config_file)}, directory / "cdk.out")


def statements_for(synthesized: SynthesizedStack, service: str) -> list[dict[str, Any]]:
    return [
        statement
        for statement in iam_statements(synthesized.template.to_json())
        if any(str(action).lower().startswith(f"{service}:") for action in as_list(statement.get("Action", [])))
    ]


# ---- the table ----


def test_one_global_table_keyed_by_group_key_on_demand_with_pitr_ttl_and_encryption(
    two_plan_stack: SynthesizedStack,
) -> None:
    # Given the synthesized stack

    # When we read its DynamoDB tables (TableV2 synthesizes to AWS::DynamoDB::GlobalTable)
    _, table = only(two_plan_stack.resources("AWS::DynamoDB::GlobalTable"))

    # Then there is one, with exactly these properties, retained when the stack is deleted or the table replaced
    assert two_plan_stack.resources("AWS::DynamoDB::Table") == {}
    assert table["Properties"] == {
        "AttributeDefinitions": [{"AttributeName": "group_key", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "group_key", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "Replicas": [
            {"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}, "Region": {"Ref": "AWS::Region"}}
        ],
        "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
        "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
    }
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_the_function_is_told_the_table_name(two_plan_stack: SynthesizedStack) -> None:
    # Given the table and the function
    table_id, _ = only(two_plan_stack.resources("AWS::DynamoDB::GlobalTable"))
    _, function = only(two_plan_stack.resources("AWS::Lambda::Function"))

    # When we read the function's environment
    variables = function["Properties"]["Environment"]["Variables"]

    # Then STATE_TABLE_NAME references the table, and nothing switches the function to dry run
    assert variables["STATE_TABLE_NAME"] == {"Ref": table_id}
    assert "INCIDENT_MANAGER_MODE" not in variables


# ---- IAM ----


def test_dynamodb_access_is_exactly_get_and_put_item_on_the_one_table(two_plan_stack: SynthesizedStack) -> None:
    # Given the table
    table_id, _ = only(two_plan_stack.resources("AWS::DynamoDB::GlobalTable"))

    # When we collect every statement that mentions a DynamoDB action
    statements = statements_for(two_plan_stack, "dynamodb")

    # Then there is one: GetItem and PutItem on that table's ARN (no scans, queries, deletes, indexes or streams)
    assert statements == [
        {
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [table_id, "Arn"]},
        }
    ]


def test_incident_manager_access_is_exactly_the_lifecycle_actions_on_the_configured_plans(
    two_plan_stack: SynthesizedStack,
) -> None:
    # Given a configuration whose default route and one route name two plans

    # When we collect every statement that mentions an Incident Manager action
    statements = statements_for(two_plan_stack, "ssm-incidents")

    # Then StartIncident is allowed on the two plans, and the record actions on the two plans' incident records
    # and on the two plans (both resource types are required for them)
    assert statements == [
        {"Action": "ssm-incidents:StartIncident", "Effect": "Allow", "Resource": [CHECKOUT_PLAN, PAYMENTS_PLAN]},
        {
            "Action": RECORD_ACTIONS,
            "Effect": "Allow",
            "Resource": [CHECKOUT_RECORDS, PAYMENTS_RECORDS, CHECKOUT_PLAN, PAYMENTS_PLAN],
        },
    ]


def test_no_statement_grants_the_state_or_incident_actions_on_a_bare_wildcard(two_plan_stack: SynthesizedStack) -> None:
    # Given every Allow statement in the template
    statements = [s for s in iam_statements(two_plan_stack.template.to_json()) if s["Effect"] == "Allow"]
    assert statements, "the template has policy statements; finding none means the walk is broken"

    # When we keep those whose resource is "*" alone
    wildcard = [s for s in statements if "*" in as_list(s.get("Resource", []))]

    # Then only X-Ray's and ssm:CreateOpsItem's are (neither has resource-level permissions; CreateOpsItem is only
    # allowed through Incident Manager), and no statement uses NotAction or "*" actions
    assert [as_list(s["Action"]) for s in wildcard] == [
        ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
        ["ssm:CreateOpsItem"],
    ]
    [ops_item] = [s for s in wildcard if s["Action"] == "ssm:CreateOpsItem"]
    assert ops_item["Condition"] == {"StringEquals": {"aws:CalledViaFirst": "ssm-incidents.amazonaws.com"}}
    assert not [s for s in statements if "NotAction" in s or "*" in as_list(s["Action"])]


def test_cdk_nag_has_no_unsuppressed_findings(two_plan_stack: SynthesizedStack) -> None:
    # Given the two-plan stack synthesized under the AwsSolutionsChecks aspect
    annotations = Annotations.from_stack(two_plan_stack.stack)

    # When we look for findings
    errors = annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    warnings = annotations.find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))

    # Then there are none, and the report shows both plans' record wildcards were checked and suppressed with a
    # reason (so "none" is not vacuous)
    assert [error.entry.data for error in errors] == []
    assert [warning.entry.data for warning in warnings] == []
    [report] = list(two_plan_stack.outdir.glob("AwsSolutions-*-NagReport.csv"))
    suppressed = [line for line in report.read_text(encoding="utf-8").splitlines() if '"Suppressed"' in line]
    assert any(f"[Resource::{CHECKOUT_RECORDS}]" in line for line in suppressed)
    assert any(f"[Resource::{PAYMENTS_RECORDS}]" in line for line in suppressed)


def test_the_record_wildcards_are_the_only_suppressed_resource_wildcards(two_plan_stack: SynthesizedStack) -> None:
    # Given the cdk-nag suppressions on the function's policy
    resources: dict[str, dict[str, Any]] = two_plan_stack.template.to_json()["Resources"]
    applies_to = {
        entry
        for resource in resources.values()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
        if rule["id"] == "AwsSolutions-IAM5"
        for entry in rule.get("applies_to", [])
    }

    # When we read what IAM5 (wildcard permissions) is suppressed for

    # Then it is the "*" of X-Ray and CreateOpsItem, each plan's incident records, and the contacts of the plans'
    # account, nothing about the table
    assert applies_to == {
        "Resource::*",
        f"Resource::{CHECKOUT_RECORDS}",
        f"Resource::{PAYMENTS_RECORDS}",
        "Resource::arn:aws:ssm-contacts:*:123456789012:contact/*",
    }
