"""The quiet check in the synthesized stack: a rule every minute invokes the function with the check's input, the
rule alone may invoke it that way, and the function gains no permission for it (it re-decides with GetItem and
PutItem on its own table, as it already could)."""

from __future__ import annotations

import json
from typing import Any

from incident_bridge.quieting import QUIET_CHECK_EVENT
from tests.infra.conftest import SynthesizedStack, as_list, get_att_arn, iam_statements, only

# Written out, not derived from infra/, so a mistake there cannot make these tests pass.
EXPECTED_INPUT = {"incident-bridge": "quiet-check"}


def schedule_rules(stack: SynthesizedStack) -> dict[str, dict[str, Any]]:
    return {
        logical_id: rule
        for logical_id, rule in stack.resources("AWS::Events::Rule").items()
        if "ScheduleExpression" in rule["Properties"]
    }


def test_a_rule_invokes_the_function_every_minute_with_the_checks_input(default_stack: SynthesizedStack) -> None:
    # Given the stack's scheduled rules and its function
    function_id, _ = only(default_stack.resources("AWS::Lambda::Function"))

    # When we read the one scheduled rule
    _, rule = only(schedule_rules(default_stack))
    properties = rule["Properties"]
    (target,) = properties["Targets"]

    # Then it runs every minute, enabled, and sends the function exactly the input the handler treats as the check,
    # without retries or an old event (the next minute checks again)
    assert properties["ScheduleExpression"] == "rate(1 minute)"
    assert properties["State"] == "ENABLED"
    assert target["Arn"] == get_att_arn(function_id)
    assert json.loads(target["Input"]) == EXPECTED_INPUT == QUIET_CHECK_EVENT
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}


def test_only_that_rule_may_invoke_the_function_from_eventbridge(default_stack: SynthesizedStack) -> None:
    # Given the rule and the function's resource-based permissions
    rule_id, _ = only(schedule_rules(default_stack))
    function_id, _ = only(default_stack.resources("AWS::Lambda::Function"))
    permissions = [
        permission["Properties"]
        for permission in default_stack.resources("AWS::Lambda::Permission").values()
        if permission["Properties"]["Principal"] == "events.amazonaws.com"
    ]

    # Then exactly one lets EventBridge invoke the function, and only from this rule
    assert permissions == [
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": get_att_arn(function_id),
            "Principal": "events.amazonaws.com",
            "SourceArn": get_att_arn(rule_id),
        }
    ]


def test_the_function_gains_no_permission_for_the_check(default_stack: SynthesizedStack) -> None:
    # Given every IAM statement of the function's role policies
    table_id, _ = only(default_stack.resources("AWS::DynamoDB::GlobalTable"))
    statements = [
        statement
        for policy in default_stack.resources("AWS::IAM::Policy").values()
        for statement in iam_statements(policy["Properties"]["PolicyDocument"])
    ]

    # When we collect what they allow on the state table, and any CloudWatch alarm reads
    table_actions = {
        action
        for statement in statements
        if get_att_arn(table_id) in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
    }
    alarm_reads = [s for s in statements if "cloudwatch:DescribeAlarms" in as_list(s["Action"])]

    # Then the table allows only single-item reads and writes (no scan, query, delete or batch), and the check does
    # not confirm alarms with DescribeAlarms (recoveries reach it as events)
    assert table_actions == {"dynamodb:GetItem", "dynamodb:PutItem"}
    assert alarm_reads == []
