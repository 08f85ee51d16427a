"""The synthesized stack: what reaches CloudFormation for the rule, the queues, the function, IAM and cdk-nag."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template
from cdk_nag import AwsSolutionsChecks

from incident_bridge.errors import ConfigError
from infra.settings import CONFIG_FILE_KEY, POWERTOOLS_LAYER_KEY, RESPONSE_PLAN_ARN_KEY, TRACING_KEY, deploy_settings
from tests.conftest import PLAN_ARN
from tests.infra.conftest import SynthesizedStack, as_list, get_att_arn, iam_statements, only, synthesize

# Written out here, not imported from infra/, so a typo there cannot make these tests pass.
# Every alarm shape: state changes, and the per-contributor changes of Metrics Insights alarms (issue 13).
ALARM_STATE_CHANGE_PATTERN = {
    "source": ["aws.cloudwatch"],
    "detail-type": ["CloudWatch Alarm State Change", "CloudWatch Alarm Contributor State Change"],
}
OTHER_PLAN = "arn:aws:ssm-incidents::210987654321:response-plan/Payments-Sev2"


def incident_manager_statements(template: Template) -> list[dict[str, Any]]:
    return [
        statement
        for statement in iam_statements(template.to_json())
        if any(str(action).lower().startswith("ssm-incidents:") for action in as_list(statement.get("Action", [])))
    ]


def alarm_rule(synthesized: SynthesizedStack) -> tuple[str, dict[str, Any]]:
    """The pattern rule on the default bus (no EventBusName); the other pattern rule listens on the application bus,
    and the scheduled quiet check (no EventPattern) listens for nothing."""
    rules = synthesized.resources("AWS::Events::Rule")
    return only({k: v for k, v in rules.items() if "EventBusName" not in v["Properties"] and _listens(v)})


def _listens(rule: dict[str, Any]) -> bool:
    return "EventPattern" in rule["Properties"]


def application_rule(synthesized: SynthesizedStack) -> tuple[str, dict[str, Any]]:
    rules = synthesized.resources("AWS::Events::Rule")
    return only({k: v for k, v in rules.items() if "EventBusName" in v["Properties"]})


def queues(synthesized: SynthesizedStack) -> tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]:
    """(event queue, dead-letter queue): the event queue is the one that redrives into the other."""
    found = synthesized.resources("AWS::SQS::Queue")
    assert len(found) == 2, sorted(found)
    event_queue_id, event_queue = only({k: v for k, v in found.items() if "RedrivePolicy" in v["Properties"]})
    dead_letter_id, dead_letter_queue = only({k: v for k, v in found.items() if k != event_queue_id})
    return (event_queue_id, event_queue), (dead_letter_id, dead_letter_queue)


# --- EventBridge -------------------------------------------------------------------------------------------


def test_alarm_rule_matches_exactly_alarm_state_changes_on_the_default_bus(default_stack: SynthesizedStack) -> None:
    # Given the stack synthesized from the default context
    rules = default_stack.resources("AWS::Events::Rule")

    # When we look at the rules listening on the default bus (no EventBusName means the default bus; the scheduled
    # quiet check has no pattern and listens for nothing)
    default_bus_rules = {k: v for k, v in rules.items() if "EventBusName" not in v["Properties"] and _listens(v)}

    # Then there is one (no service-event profile is enabled by default), enabled, and its pattern is exactly the
    # alarm state changes (not config changes) of any alarm but the stack's own, whose names all start with the
    # excluded prefix
    _, rule = only(default_bus_rules)
    assert rule["Properties"]["State"] == "ENABLED"
    prefix = default_stack.stack.bridge.self_alarm_name_prefix
    assert rule["Properties"]["EventPattern"] == {
        **ALARM_STATE_CHANGE_PATTERN,
        "detail": {"alarmName": [{"anything-but": {"prefix": prefix}}]},
    }
    alarm_names = [
        alarm["Properties"]["AlarmName"] for alarm in default_stack.resources("AWS::CloudWatch::Alarm").values()
    ]
    assert len(alarm_names) == 4
    assert all(name.startswith(prefix) for name in alarm_names), alarm_names


def test_alarm_rule_targets_the_event_queue_and_dead_letters_to_the_dlq(default_stack: SynthesizedStack) -> None:
    # Given the two queues of the stack
    (event_queue_id, _), (dead_letter_id, _) = queues(default_stack)

    # When we read the targets of the alarm rule
    _, rule = alarm_rule(default_stack)
    targets = rule["Properties"]["Targets"]

    # Then its single target is the event queue, and undeliverable events go to the dead-letter queue
    assert len(targets) == 1
    assert targets[0]["Arn"] == get_att_arn(event_queue_id)
    assert targets[0]["DeadLetterConfig"] == {"Arn": get_att_arn(dead_letter_id)}


@pytest.mark.parametrize("which_rule", [alarm_rule, application_rule], ids=["alarm-rule", "application-rule"])
def test_eventbridge_may_send_to_both_queues_only_from_the_stack_rules(
    default_stack: SynthesizedStack, which_rule: Any
) -> None:
    # Given one of the two rules and both queues
    rule_id, _ = which_rule(default_stack)
    (event_queue_id, _), (dead_letter_id, _) = queues(default_stack)

    for queue_id in (event_queue_id, dead_letter_id):
        # When we look for the queue policy statement that lets EventBridge in
        default_stack.template.has_resource_properties(
            "AWS::SQS::QueuePolicy",
            {
                "Queues": [{"Ref": queue_id}],
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Effect": "Allow",
                                    "Principal": {"Service": "events.amazonaws.com"},
                                    "Action": Match.array_with(["sqs:SendMessage"])
                                    if queue_id == event_queue_id
                                    else "sqs:SendMessage",
                                    "Resource": get_att_arn(queue_id),
                                    # Then it is scoped to this rule (confused-deputy protection)
                                    "Condition": {"ArnEquals": {"aws:SourceArn": get_att_arn(rule_id)}},
                                }
                            )
                        ]
                    )
                },
            },
        )


def test_a_custom_event_bus_exists_for_application_events(default_stack: SynthesizedStack) -> None:
    # Given the stack synthesized from the default context
    template = default_stack.template

    # When we count the event buses and read the stack outputs
    buses = default_stack.resources("AWS::Events::EventBus")
    outputs = template.find_outputs("ApplicationBusName")

    # Then there is one custom bus and its name is an output applications can publish to
    bus_id, _ = only(buses)
    assert outputs["ApplicationBusName"]["Value"] == {"Ref": bus_id}


def test_application_bus_events_of_this_account_reach_the_queue(default_stack: SynthesizedStack) -> None:
    # Given the rule on the application bus and the queues
    _, rule = application_rule(default_stack)
    bus_id, _ = only(default_stack.resources("AWS::Events::EventBus"))
    (event_queue_id, _), (dead_letter_id, _) = queues(default_stack)

    # When its bus, pattern and target are read
    properties = rule["Properties"]

    # Then every event this account puts on that bus goes to the queue, undeliverable ones to the DLQ
    assert properties["EventBusName"] == {"Ref": bus_id}
    assert properties["EventPattern"] == {"account": [{"Ref": "AWS::AccountId"}]}
    [target] = properties["Targets"]
    assert target["Arn"] == get_att_arn(event_queue_id)
    assert target["DeadLetterConfig"] == {"Arn": get_att_arn(dead_letter_id)}


# --- SQS ---------------------------------------------------------------------------------------------------


def test_both_queues_are_encrypted_with_sqs_managed_keys(default_stack: SynthesizedStack) -> None:
    # Given the two queues of the stack
    (_, event_queue), (_, dead_letter_queue) = queues(default_stack)

    # When we read their encryption settings
    settings = [queue["Properties"].get("SqsManagedSseEnabled") for queue in (event_queue, dead_letter_queue)]

    # Then both use SSE-SQS
    assert settings == [True, True]


def test_both_queues_deny_requests_without_tls(default_stack: SynthesizedStack) -> None:
    # Given the two queues of the stack
    (event_queue_id, _), (dead_letter_id, _) = queues(default_stack)

    for queue_id in (event_queue_id, dead_letter_id):
        # When we look at the policy attached to the queue
        # Then it denies every SQS action to everyone when aws:SecureTransport is false
        default_stack.template.has_resource_properties(
            "AWS::SQS::QueuePolicy",
            {
                "Queues": [{"Ref": queue_id}],
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            {
                                "Effect": "Deny",
                                "Principal": {"AWS": "*"},
                                "Action": "sqs:*",
                                "Resource": get_att_arn(queue_id),
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ]
                    )
                },
            },
        )


def test_event_queue_redrives_to_the_dlq_after_five_receives(default_stack: SynthesizedStack) -> None:
    # Given the two queues of the stack
    (_, event_queue), (dead_letter_id, dead_letter_queue) = queues(default_stack)

    # When we read the event queue's redrive policy
    redrive = event_queue["Properties"]["RedrivePolicy"]

    # Then a message that fails five times moves to the dead-letter queue, which itself redrives nowhere
    assert redrive == {"deadLetterTargetArn": get_att_arn(dead_letter_id), "maxReceiveCount": 5}
    assert "RedrivePolicy" not in dead_letter_queue["Properties"]


def test_event_queue_visibility_timeout_is_at_least_six_function_timeouts(default_stack: SynthesizedStack) -> None:
    # Given the event queue and the function
    (_, event_queue), _ = queues(default_stack)
    _, function = only(default_stack.resources("AWS::Lambda::Function"))

    # When we compare the queue's visibility timeout with the function timeout
    visibility_timeout = event_queue["Properties"]["VisibilityTimeout"]
    function_timeout = function["Properties"]["Timeout"]

    # Then it follows the AWS guidance for SQS event sources (at least 6x), so a batch in flight is not redelivered
    assert isinstance(visibility_timeout, int)
    assert isinstance(function_timeout, int)
    assert function_timeout > 0
    assert visibility_timeout >= 6 * function_timeout


# --- Lambda ------------------------------------------------------------------------------------------------


def test_function_runtime_handler_and_default_tracing(default_stack: SynthesizedStack) -> None:
    # Given the stack synthesized from the default context
    template = default_stack.template

    # When we look for the function
    # Then it runs the package's handler on python3.13 with Lambda's active tracing, the X-Ray SDK left off
    template.resource_count_is("AWS::Lambda::Function", 1)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.13",
            "Handler": "incident_bridge.handler.lambda_handler",
            "TracingConfig": {"Mode": "Active"},
            "Environment": {"Variables": Match.object_like({"POWERTOOLS_TRACE_DISABLED": "true"})},
        },
    )


@pytest.mark.parametrize(
    ("mode", "tracing_config", "trace_disabled"),
    [
        pytest.param("active", {"Mode": "Active"}, "true", id="active"),
        pytest.param("sdk", {"Mode": "Active"}, "false", id="sdk"),
        pytest.param("off", Match.absent(), "true", id="off"),
    ],
)
def test_tracing_context_sets_lambda_tracing_and_the_xray_sdk(
    mode: str, tracing_config: Any, trace_disabled: str, tmp_path: Path
) -> None:
    # Given a tracing mode in the context
    context = {RESPONSE_PLAN_ARN_KEY: PLAN_ARN, TRACING_KEY: mode}

    # When the stack is synthesized
    synthesized = synthesize(context, tmp_path / "cdk.out", nag=False)

    # Then Lambda's tracing and Powertools' switch for the X-Ray SDK follow it
    synthesized.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "TracingConfig": tracing_config,
            "Environment": {"Variables": Match.object_like({"POWERTOOLS_TRACE_DISABLED": trace_disabled})},
        },
    )


def test_unknown_tracing_mode_fails_naming_the_context_key() -> None:
    # Given a tracing value that is not a mode
    context = {RESPONSE_PLAN_ARN_KEY: PLAN_ARN, TRACING_KEY: "xray"}

    # When the deploy settings are read
    with pytest.raises(ConfigError) as raised:
        deploy_settings(context)

    # Then the error names the key, the value and the modes
    assert str(raised.value) == "tracing: 'xray' is not one of active, sdk, off"


def test_function_uses_the_powertools_layer_given_as_context(tmp_path: Path) -> None:
    # Given a layer version ARN in the context (e.g. the account's own copy of the Powertools layer)
    layer_arn = "arn:aws:lambda:eu-west-1:123456789012:layer:powertools-python313-x86_64:3"
    context = {RESPONSE_PLAN_ARN_KEY: PLAN_ARN, POWERTOOLS_LAYER_KEY: layer_arn}

    # When the stack is synthesized
    synthesized = synthesize(context, tmp_path / "cdk.out", nag=False)

    # Then the function uses exactly that layer
    synthesized.template.has_resource_properties("AWS::Lambda::Function", {"Layers": [layer_arn]})


def test_function_environment(default_stack: SynthesizedStack) -> None:
    # Given the dead-letter queue of the stack
    _, (dead_letter_id, _) = queues(default_stack)

    # When we read the function's environment
    _, function = only(default_stack.resources("AWS::Lambda::Function"))
    variables = function["Properties"]["Environment"]["Variables"]

    # Then it names the bundled config, the dead-letter queue URL (Ref of a queue is its URL) and Powertools' names
    assert variables["BRIDGE_CONFIG_FILE"] == "bridge_config.json"
    assert variables["DEAD_LETTER_QUEUE_URL"] == {"Ref": dead_letter_id}
    assert variables["POWERTOOLS_SERVICE_NAME"] == "incident-bridge"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "IncidentBridge"
    # and does not switch the bridge to dry-run: the deployed function talks to Incident Manager
    assert "INCIDENT_MANAGER_MODE" not in variables


def test_event_source_mapping_bounds_concurrency_and_reports_partial_failures(
    default_stack: SynthesizedStack,
) -> None:
    # Given the event queue and the function
    (event_queue_id, _), _ = queues(default_stack)
    function_id, _ = only(default_stack.resources("AWS::Lambda::Function"))

    # When we read the event source mapping
    _, mapping = only(default_stack.resources("AWS::Lambda::EventSourceMapping"))
    properties = mapping["Properties"]

    # Then the function reads the event queue in batches of up to 200 gathered over 5 s (so a storm's alarms of
    # one group share a batch), with at most 2 concurrent invocations, and reports failed items so only those
    # are retried
    assert properties["EventSourceArn"] == get_att_arn(event_queue_id)
    assert properties["FunctionName"] == {"Ref": function_id}
    assert properties["BatchSize"] == 200
    assert properties["MaximumBatchingWindowInSeconds"] == 5
    assert properties["ScalingConfig"] == {"MaximumConcurrency": 2}
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


# --- IAM ---------------------------------------------------------------------------------------------------


def test_start_incident_is_granted_on_exactly_the_plan_from_context(default_stack: SynthesizedStack) -> None:
    # Given the stack synthesized with responsePlanArn in the context

    # When we collect every statement that mentions an Incident Manager action
    statements = incident_manager_statements(default_stack.template)

    # Then StartIncident is allowed on that plan only, and the lifecycle actions on its incident records and the
    # plan itself (the Service Authorization Reference requires both resource types for them), nothing else
    assert statements == [
        {"Action": "ssm-incidents:StartIncident", "Effect": "Allow", "Resource": PLAN_ARN},
        {
            "Action": [
                "ssm-incidents:GetIncidentRecord",
                "ssm-incidents:UpdateRelatedItems",
                "ssm-incidents:CreateTimelineEvent",
                "ssm-incidents:UpdateIncidentRecord",
            ],
            "Effect": "Allow",
            "Resource": ["arn:aws:ssm-incidents::123456789012:incident-record/MyPlan/*", PLAN_ARN],
        },
    ]


def test_start_incident_may_page_and_create_the_ops_item_only_through_incident_manager(
    default_stack: SynthesizedStack,
) -> None:
    # Given the stack synthesized with responsePlanArn in the context
    statements = list(iam_statements(default_stack.template.to_json()))

    # When we keep the statements of the actions StartIncident performs with the caller's credentials
    on_behalf = [
        statement
        for statement in statements
        if set(as_list(statement["Action"])) & {"ssm-contacts:StartEngagement", "ssm:CreateOpsItem"}
    ]

    # Then the plan's account's contacts may be engaged and the OpsItem created, each only when Incident Manager
    # makes the request (aws:CalledViaFirst); CreateOpsItem supports no resource type, so its resource is `*`
    called_via = {"StringEquals": {"aws:CalledViaFirst": "ssm-incidents.amazonaws.com"}}
    assert on_behalf == [
        {
            "Action": "ssm-contacts:StartEngagement",
            "Condition": called_via,
            "Effect": "Allow",
            "Resource": "arn:aws:ssm-contacts:*:123456789012:contact/*",
        },
        {"Action": "ssm:CreateOpsItem", "Condition": called_via, "Effect": "Allow", "Resource": "*"},
    ]


def test_start_incident_is_granted_on_exactly_the_plan_from_the_config_file(tmp_path: Path) -> None:
    # Given a bridgeConfig file naming a plan, and no responsePlanArn in the context
    config_file = tmp_path / "bridge.yaml"
    config_file.write_text(yaml.safe_dump({"default": {"response_plan_arn": OTHER_PLAN, "impact": 2}}), "utf-8")

    # When the stack is synthesized
    synthesized = synthesize({CONFIG_FILE_KEY: str(config_file)}, tmp_path / "cdk.out", nag=False)

    # Then StartIncident is allowed on the file's plan, and the lifecycle actions on its records, nothing else
    statements = incident_manager_statements(synthesized.template)
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        ("ssm-incidents:StartIncident", OTHER_PLAN),
        (
            [
                "ssm-incidents:GetIncidentRecord",
                "ssm-incidents:UpdateRelatedItems",
                "ssm-incidents:CreateTimelineEvent",
                "ssm-incidents:UpdateIncidentRecord",
            ],
            ["arn:aws:ssm-incidents::210987654321:incident-record/Payments-Sev2/*", OTHER_PLAN],
        ),
    ]


def test_context_plan_replaces_the_plan_in_the_config_file(tmp_path: Path) -> None:
    # Given a bridgeConfig file naming one plan and a responsePlanArn context value naming another
    config_file = tmp_path / "bridge.yaml"
    config_file.write_text(yaml.safe_dump({"default": {"response_plan_arn": OTHER_PLAN, "impact": 2}}), "utf-8")

    # When the deploy settings are read
    settings = deploy_settings({RESPONSE_PLAN_ARN_KEY: PLAN_ARN, CONFIG_FILE_KEY: str(config_file)})

    # Then the context plan wins (and so is the only one IAM grants), and the rest of the file is kept
    assert settings.config.response_plan_arns() == (PLAN_ARN,)
    assert settings.config.default.impact == 2


def test_no_statement_grants_incident_manager_on_a_wildcard(default_stack: SynthesizedStack) -> None:
    # Given every IAM statement anywhere in the template (identity and resource policies)
    statements = list(iam_statements(default_stack.template.to_json()))
    assert statements, "the template has policy statements; finding none means the walk is broken"

    # When we keep the Allow statements that could cover an Incident Manager action
    def covers_incident_manager(statement: dict[str, Any]) -> bool:
        actions = [str(action).lower() for action in as_list(statement.get("Action", []))]
        return "NotAction" in statement or any(a == "*" or a.startswith("ssm-incidents:") for a in actions)

    granting = [s for s in statements if s["Effect"] == "Allow" and covers_incident_manager(s)]

    # Then none uses a wildcard action or NotAction, and none applies to every resource
    assert granting, "StartIncident must be granted somewhere"
    for statement in granting:
        assert "NotAction" not in statement
        assert all("*" not in str(action) for action in as_list(statement["Action"])), statement
        assert "*" not in as_list(statement["Resource"]), statement
        assert "NotResource" not in statement


# --- Configuration errors fail the synth -------------------------------------------------------------------


def test_missing_response_plan_fails_naming_the_context_key() -> None:
    # Given a context without responsePlanArn and without a config file
    context: dict[str, Any] = {RESPONSE_PLAN_ARN_KEY: None, CONFIG_FILE_KEY: None}

    # When the deploy settings are read
    with pytest.raises(ConfigError) as raised:
        deploy_settings(context)

    # Then the error names the key and shows how to give it
    message = str(raised.value)
    assert "responsePlanArn" in message
    assert "missing" in message
    assert f"-c responsePlanArn={PLAN_ARN}" in message


@pytest.mark.parametrize(
    "bad_plan",
    [
        pytest.param("arn:aws:sns:us-east-1:123456789012:ops-alerts", id="sns-topic-arn"),
        pytest.param("arn:aws:ssm-incidents:us-east-1:123456789012:response-plan/MyPlan", id="regional-plan-arn"),
        pytest.param(
            "arn:aws:ssm-incidents::123456789012:incident-record/MyPlan/8ec8a1d8-1234", id="incident-record-arn"
        ),
        pytest.param("MyPlan", id="plan-name-only"),
        pytest.param("", id="empty"),
    ],
)
def test_malformed_response_plan_fails_naming_the_context_key(bad_plan: str) -> None:
    # Given a responsePlanArn that is not a response plan ARN
    context = {RESPONSE_PLAN_ARN_KEY: bad_plan}

    # When the deploy settings are read
    with pytest.raises(ConfigError) as raised:
        deploy_settings(context)

    # Then the error names the key and the value it refused
    message = str(raised.value)
    assert message.startswith("responsePlanArn: ")
    assert repr(bad_plan) in message


def test_config_file_with_an_out_of_range_impact_fails_naming_the_field(tmp_path: Path) -> None:
    # Given a bridgeConfig file whose default route has impact 9 (Incident Manager accepts 1..5)
    config_file = tmp_path / "bridge.yaml"
    config_file.write_text(yaml.safe_dump({"default": {"response_plan_arn": PLAN_ARN, "impact": 9}}), "utf-8")

    # When the deploy settings are read
    with pytest.raises(ConfigError) as raised:
        deploy_settings({CONFIG_FILE_KEY: str(config_file)})

    # Then the error names the file and the field
    message = str(raised.value)
    assert str(config_file) in message
    assert "default.impact" in message


def test_out_of_range_impact_fails_even_when_the_plan_comes_from_context(tmp_path: Path) -> None:
    # Given a responsePlanArn context value and a bridgeConfig file with impact 9 and no plan
    config_file = tmp_path / "bridge.yaml"
    config_file.write_text(yaml.safe_dump({"default": {"impact": 9}}), "utf-8")

    # When the deploy settings are read
    with pytest.raises(ConfigError) as raised:
        deploy_settings({RESPONSE_PLAN_ARN_KEY: PLAN_ARN, CONFIG_FILE_KEY: str(config_file)})

    # Then the file's field is still validated and named
    assert "default.impact" in str(raised.value)


# --- cdk-nag -----------------------------------------------------------------------------------------------


def test_cdk_nag_aws_solutions_reports_no_errors_and_no_warnings(default_stack: SynthesizedStack) -> None:
    # Given the stack synthesized with the AwsSolutionsChecks aspect, as app.py adds it
    annotations = Annotations.from_stack(default_stack.stack)

    # When we look for findings
    errors = annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    warnings = annotations.find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))

    # Then there are none: every rule either passes or is suppressed with a reason
    assert [error.entry.data for error in errors] == []
    assert [warning.entry.data for warning in warnings] == []


def test_cdk_nag_actually_ran_on_the_stack(default_stack: SynthesizedStack) -> None:
    # Given the cloud assembly of the in-process synth

    # When we read the report cdk-nag writes next to the templates
    reports = list(default_stack.outdir.glob("AwsSolutions-*IncidentBridge-NagReport.csv"))

    # Then it exists and lists rules checked against the stack's resources (so "no errors" above is not vacuous)
    assert len(reports) == 1
    report = reports[0].read_text(encoding="utf-8")
    assert '"AwsSolutions-SQS4"' in report
    assert '"Compliant"' in report


def test_cdk_nag_errors_are_found_by_the_annotation_query(tmp_path: Path) -> None:
    # Given a stack with a queue that breaks AwsSolutions rules (no DLQ, no TLS enforcement), under the same aspect
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, "NonCompliant")
    sqs.Queue(stack, "PlainQueue", encryption=sqs.QueueEncryption.UNENCRYPTED)
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))

    # When we run the same query as for the bridge stack
    errors = Annotations.from_stack(stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*"))

    # Then it reports them, so an empty result for the bridge stack means something
    found = {str(error.entry.data).split(":")[0] for error in errors}
    assert {"AwsSolutions-SQS2", "AwsSolutions-SQS3", "AwsSolutions-SQS4"} <= found


def test_every_cdk_nag_suppression_has_a_reason(default_stack: SynthesizedStack) -> None:
    # Given the cdk_nag metadata of every resource in the template
    resources: dict[str, dict[str, Any]] = default_stack.template.to_json()["Resources"]
    suppressions = [
        (logical_id, rule)
        for logical_id, resource in resources.items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]

    # When we read each suppression's reason
    missing = [
        (logical_id, rule.get("id")) for logical_id, rule in suppressions if not str(rule.get("reason", "")).strip()
    ]

    # Then there are suppressions (the stack explains three findings), and each gives a reason
    assert suppressions
    assert {rule["id"] for _, rule in suppressions} == {"AwsSolutions-IAM4", "AwsSolutions-IAM5", "AwsSolutions-L1"}
    assert missing == []
