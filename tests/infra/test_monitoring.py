"""Self-monitoring in the synthesized stack: the alarms on the bridge itself, their Incident Manager action when a
fallback plan is configured, and the dashboard."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from aws_cdk.assertions import Annotations, Match

from infra.settings import CONFIG_FILE_KEY
from tests.conftest import PLAN_ARN
from tests.infra.conftest import SynthesizedStack, only, synthesize

# Another account than the default plan's and the stack's: the ARN must reach CloudWatch as configured, not be
# rebuilt from the plan name in the stack's account.
FALLBACK_PLAN_ARN = "arn:aws:ssm-incidents::210987654321:response-plan/IncidentBridgeDown"
# Written out here, not imported from infra/, so a change there cannot make these tests pass.
NAMESPACE = "IncidentBridge"
SERVICE = "incident-bridge"
OUTCOME_METRICS = (
    "IncidentStarted", "IncidentUpdated", "IncidentResolved", "EventIgnored", "EventRetried", "EventRejected"
)  # fmt: skip


@pytest.fixture(scope="module")
def fallback_stack(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedStack:
    """The stack from a bridgeConfig file that names a fallback response plan, with cdk-nag."""
    directory = tmp_path_factory.mktemp("fallback")
    config_file = directory / "bridge.yaml"
    document = {"default": {"response_plan_arn": PLAN_ARN}, "fallback_response_plan_arn": FALLBACK_PLAN_ARN}
    config_file.write_text(yaml.safe_dump(document), encoding="utf-8")
    return synthesize({CONFIG_FILE_KEY: str(config_file)}, directory / "cdk.out")


@pytest.fixture(params=["without-fallback", "with-fallback"])
def any_stack(request: pytest.FixtureRequest) -> SynthesizedStack:
    """The default stack (no fallback plan) and the fallback stack, each synthesized once."""
    fixture = "default_stack" if request.param == "without-fallback" else "fallback_stack"
    stack: SynthesizedStack = request.getfixturevalue(fixture)
    return stack


def queue_ids(synthesized: SynthesizedStack) -> tuple[str, str]:
    """(event queue, dead-letter queue): the event queue is the one that redrives into the other."""
    found = synthesized.resources("AWS::SQS::Queue")
    event_queue_id, _ = only({k: v for k, v in found.items() if "RedrivePolicy" in v["Properties"]})
    dead_letter_id, _ = only({k: v for k, v in found.items() if k != event_queue_id})
    return event_queue_id, dead_letter_id


def function_id(synthesized: SynthesizedStack) -> str:
    logical_id, _ = only(synthesized.resources("AWS::Lambda::Function"))
    return logical_id


def alarms(synthesized: SynthesizedStack) -> dict[str, dict[str, Any]]:
    """Metric name -> alarm properties, for every alarm in the stack."""
    found = synthesized.resources("AWS::CloudWatch::Alarm")
    by_metric = {alarm["Properties"]["MetricName"]: alarm["Properties"] for alarm in found.values()}
    assert len(by_metric) == len(found), "two alarms watch the same metric"
    return by_metric


def queue_name(queue_id: str) -> list[dict[str, Any]]:
    return [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]


def function_name(logical_id: str) -> list[dict[str, Any]]:
    return [{"Name": "FunctionName", "Value": {"Ref": logical_id}}]


def expected_alarms(synthesized: SynthesizedStack) -> dict[str, dict[str, Any]]:
    """Every self-monitoring alarm as CloudFormation should receive it (without description and actions)."""
    event_queue_id, dead_letter_id = queue_ids(synthesized)
    common = {"ComparisonOperator": "GreaterThanOrEqualToThreshold", "EvaluationPeriods": 1,
              "TreatMissingData": "notBreaching"}  # fmt: skip
    return {
        # Any dead letter at all: an alarm that opened no incident
        "ApproximateNumberOfMessagesVisible": {
            **common,
            "Namespace": "AWS/SQS",
            "Dimensions": queue_name(dead_letter_id),
            "Statistic": "Maximum",
            "Period": 60,
            "Threshold": 1,
        },
        "Errors": {
            **common,
            "Namespace": "AWS/Lambda",
            "Dimensions": function_name(function_id(synthesized)),
            "Statistic": "Sum",
            "Period": 300,
            "Threshold": 1,
        },
        "Throttles": {
            **common,
            "Namespace": "AWS/Lambda",
            "Dimensions": function_name(function_id(synthesized)),
            "Statistic": "Sum",
            "Period": 300,
            "Threshold": 1,
        },
        # Events waiting over ten minutes in the event queue (not the dead-letter queue)
        "ApproximateAgeOfOldestMessage": {
            **common,
            "Namespace": "AWS/SQS",
            "Dimensions": queue_name(event_queue_id),
            "Statistic": "Maximum",
            "Period": 60,
            "Threshold": 600,
        },
    }


def dashboard_body(synthesized: SynthesizedStack) -> dict[str, Any]:
    """The dashboard body as JSON, each CloudFormation reference in it replaced by `@Ref:<id>` or
    `@GetAtt:<id>.<attribute>` (or `@AWS::Region`), so widgets can be compared with the resources they show."""
    _, dashboard = only(synthesized.resources("AWS::CloudWatch::Dashboard"))
    body = dashboard["Properties"]["DashboardBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    text = ""
    for part in parts:
        if isinstance(part, str):
            text += part
        elif "Ref" in part:
            text += part["Ref"] if part["Ref"].startswith("AWS::") else f"@Ref:{part['Ref']}"
        else:
            logical_id, attribute = part["Fn::GetAtt"]
            text += f"@GetAtt:{logical_id}.{attribute}"
    document: dict[str, Any] = json.loads(text)
    return document


def widget(body: dict[str, Any], title: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [w["properties"] for w in body["widgets"] if w["properties"].get("title") == title]
    assert len(found) == 1, f"expected one widget titled {title!r}, found {len(found)}"
    return found[0]


def search(metric_name: str) -> str:
    return f"SEARCH('{{{NAMESPACE},route,service}} MetricName=\"{metric_name}\" service=\"{SERVICE}\"', 'Sum', 300)"


# --- Alarms ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "metric_name", ["ApproximateNumberOfMessagesVisible", "Errors", "Throttles", "ApproximateAgeOfOldestMessage"]
)
def test_each_self_monitoring_alarm_watches_the_right_resource_with_its_threshold(
    any_stack: SynthesizedStack, metric_name: str
) -> None:
    # Given the synthesized stack (with and without a fallback plan) and the alarm we expect on this metric
    expected = expected_alarms(any_stack)[metric_name]

    # When we read the alarm on that metric, leaving out what humans read and what it triggers
    properties = dict(alarms(any_stack)[metric_name])
    description = properties.pop("AlarmDescription")
    properties.pop("AlarmActions", None)
    properties.pop("MetricName")
    properties.pop("AlarmName")

    # Then it is exactly the expected metric, dimensions, statistic, period, threshold and missing-data policy,
    # and says what is wrong
    assert properties == expected
    assert description.startswith("incident-bridge: ")


def test_the_stack_has_exactly_the_four_self_monitoring_alarms(default_stack: SynthesizedStack) -> None:
    # Given the stack synthesized from the default context

    # When we list the metrics its alarms watch
    watched = sorted(alarms(default_stack))

    # Then they are the dead-letter depth, function errors and throttles, and the event queue's oldest message
    assert watched == sorted(["ApproximateNumberOfMessagesVisible", "Errors", "Throttles",
                              "ApproximateAgeOfOldestMessage"])  # fmt: skip


def test_without_a_fallback_plan_the_alarms_have_no_actions(default_stack: SynthesizedStack) -> None:
    # Given the stack from a configuration without fallback_response_plan_arn

    # When we read each alarm's actions
    actions = {
        metric: {key: properties[key] for key in ("AlarmActions", "OKActions", "InsufficientDataActions")
                 if key in properties}
        for metric, properties in alarms(default_stack).items()
    }  # fmt: skip

    # Then none has any: they show on the dashboard but page nobody
    assert actions == {metric: {} for metric in alarms(default_stack)}


def test_with_a_fallback_plan_every_alarm_starts_an_incident_in_exactly_that_plan(
    fallback_stack: SynthesizedStack,
) -> None:
    # Given the stack from a configuration with fallback_response_plan_arn (a plan in another account)

    # When we read each alarm's actions
    actions = {metric: properties.get("AlarmActions") for metric, properties in alarms(fallback_stack).items()}

    # Then going into ALARM starts an incident in that plan, its ARN given verbatim (CloudWatch's native
    # Incident Manager action), and nothing happens on OK or INSUFFICIENT_DATA
    assert actions == {metric: [FALLBACK_PLAN_ARN] for metric in alarms(fallback_stack)}
    for properties in alarms(fallback_stack).values():
        assert "OKActions" not in properties
        assert "InsufficientDataActions" not in properties


def test_the_fallback_plan_is_not_granted_to_the_function(fallback_stack: SynthesizedStack) -> None:
    # Given the stack with a fallback plan (CloudWatch starts that incident with its own service-linked role)
    template = fallback_stack.template.to_json()

    # When we look for the fallback plan outside the alarms
    elsewhere = {
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] != "AWS::CloudWatch::Alarm" and FALLBACK_PLAN_ARN in json.dumps(resource)
    }

    # Then it appears nowhere else: no IAM policy lets the bridge itself start incidents there
    assert elsewhere == set()


# --- Dashboard ---------------------------------------------------------------------------------------------


def test_the_dashboard_exists_and_its_name_is_an_output(default_stack: SynthesizedStack) -> None:
    # Given the stack synthesized from the default context
    dashboard_id, _ = only(default_stack.resources("AWS::CloudWatch::Dashboard"))

    # When we read the stack outputs
    outputs = default_stack.template.find_outputs("DashboardName")

    # Then the dashboard's name (its Ref) is one of them
    assert outputs["DashboardName"]["Value"] == {"Ref": dashboard_id}


def test_the_dashboard_body_mentions_every_outcome_and_the_function_duration(
    default_stack: SynthesizedStack,
) -> None:
    # Given the dashboard's body as CloudFormation receives it
    _, dashboard = only(default_stack.resources("AWS::CloudWatch::Dashboard"))

    # When we read it as text
    text = json.dumps(dashboard["Properties"]["DashboardBody"])

    # Then it shows every business outcome and the function's latency
    for name in (*OUTCOME_METRICS, "Duration"):
        assert name in text, name


def test_the_dashboard_sums_each_outcome_over_every_route_of_the_function_namespace(
    default_stack: SynthesizedStack,
) -> None:
    # Given the dashboard body and the names the function publishes its metrics under
    body = dashboard_body(default_stack)
    _, function = only(default_stack.resources("AWS::Lambda::Function"))
    variables = function["Properties"]["Environment"]["Variables"]

    # When we read the outcome widgets' expressions
    incidents = widget(body, "Incidents (all routes)")["metrics"]
    events = widget(body, "Ignored, retried and rejected events (all routes)")["metrics"]
    by_route = widget(body, "Incidents started by route")["metrics"]

    # Then each outcome is a SUM over a SEARCH of its metric across every `route` (routes added later included),
    # in the namespace and service the function's Powertools actually uses
    assert (variables["POWERTOOLS_METRICS_NAMESPACE"], variables["POWERTOOLS_SERVICE_NAME"]) == (NAMESPACE, SERVICE)
    assert [line[0] for line in incidents + events] == [
        {"label": name, "expression": f"SUM({search(name)})"} for name in OUTCOME_METRICS
    ]
    assert by_route == [[{"expression": search("IncidentStarted")}]]


def test_the_dashboard_shows_events_in_latency_and_queue_health_of_this_stack(
    default_stack: SynthesizedStack,
) -> None:
    # Given the dashboard body and the resources it should show
    body = dashboard_body(default_stack)
    event_queue_id, dead_letter_id = queue_ids(default_stack)
    function_ref = f"@Ref:{function_id(default_stack)}"

    # When we read the events-in, latency and queue widgets
    events_in = widget(body, "Events in")["metrics"]
    latency = widget(body, "Function duration (latency)")["metrics"]
    dead_letters = widget(body, "Dead-letter queue depth")["metrics"]
    oldest = widget(body, "Age of oldest queued event (s)")["metrics"]

    # Then they show the event queue's messages and the function's invocations, its p50/p99 duration, the
    # dead-letter depth and the event queue's oldest message, each on this stack's own resources
    event_queue_name = f"@GetAtt:{event_queue_id}.QueueName"
    assert [line[:4] for line in events_in] == [
        ["AWS/SQS", "NumberOfMessagesSent", "QueueName", event_queue_name],
        ["AWS/Lambda", "Invocations", "FunctionName", function_ref],
    ]
    assert latency == [
        ["AWS/Lambda", "Duration", "FunctionName", function_ref, {"label": "p50", "stat": "p50"}],
        ["AWS/Lambda", "Duration", "FunctionName", function_ref, {"label": "p99", "stat": "p99"}],
    ]
    assert [line[:4] for line in dead_letters] == [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f"@GetAtt:{dead_letter_id}.QueueName"]
    ]
    assert [line[:4] for line in oldest] == [
        ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", event_queue_name]
    ]


def test_the_dashboard_shows_the_state_of_every_self_monitoring_alarm(default_stack: SynthesizedStack) -> None:
    # Given the alarms of the stack
    alarm_ids = sorted(default_stack.resources("AWS::CloudWatch::Alarm"))

    # When we read the alarm status widget
    shown = widget(dashboard_body(default_stack), "Self-monitoring alarms")["alarms"]

    # Then it lists each of them
    assert sorted(shown) == [f"@GetAtt:{alarm_id}.Arn" for alarm_id in alarm_ids]


# --- cdk-nag -----------------------------------------------------------------------------------------------


def test_cdk_nag_reports_no_errors_and_no_warnings_with_a_fallback_plan(fallback_stack: SynthesizedStack) -> None:
    # Given the stack with a fallback plan, synthesized with the AwsSolutionsChecks aspect
    annotations = Annotations.from_stack(fallback_stack.stack)

    # When we look for findings
    errors = annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    warnings = annotations.find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))

    # Then there are none
    assert [error.entry.data for error in errors] == []
    assert [warning.entry.data for warning in warnings] == []


# --- One spec per alarm: the numbers in its description and on the dashboard are its own ---------------------


def human_period(seconds: int) -> str:
    """How CDK's Duration.to_human_string() writes the alarm periods used here."""
    minutes = seconds // 60
    return f"{minutes} minute" + ("s" if minutes != 1 else "")


@pytest.mark.parametrize(
    "metric_name", ["ApproximateNumberOfMessagesVisible", "Errors", "Throttles", "ApproximateAgeOfOldestMessage"]
)
def test_each_alarm_description_states_the_alarms_own_threshold_statistic_and_period(
    default_stack: SynthesizedStack, metric_name: str
) -> None:
    # Given one self-monitoring alarm as synthesized
    properties = alarms(default_stack)[metric_name]

    # When we read its description
    description = properties["AlarmDescription"]

    # Then it states the threshold, statistic and period CloudWatch evaluates, not numbers of its own
    threshold = f"{properties['Threshold']:g}"
    assert f">= {threshold} over {human_period(properties['Period'])}" in description, description
    assert description.startswith("incident-bridge: ")
    assert properties["Statistic"].lower() in description


def test_the_queue_age_alarm_says_ten_minutes_because_its_threshold_is_600_seconds(
    default_stack: SynthesizedStack,
) -> None:
    # Given the queue-age alarm (its description once said "over 5 minutes" with a 600 s threshold)
    properties = alarms(default_stack)["ApproximateAgeOfOldestMessage"]

    # When we read its threshold and description
    threshold, description = properties["Threshold"], properties["AlarmDescription"]

    # Then both say 600 seconds, and nothing says 5 minutes
    assert threshold == 600
    assert ">= 600 over 1 minute" in description
    assert "5 minutes" not in description


@pytest.mark.parametrize(
    ("title", "metric_name"),
    [
        ("Dead-letter queue depth", "ApproximateNumberOfMessagesVisible"),
        ("Age of oldest queued event (s)", "ApproximateAgeOfOldestMessage"),
        ("Function errors and throttles", "Errors"),
    ],
)
def test_dashboard_annotations_are_the_alarm_thresholds(
    default_stack: SynthesizedStack, title: str, metric_name: str
) -> None:
    # Given the dashboard widget that graphs an alarm's metric, and that alarm
    annotations = widget(dashboard_body(default_stack), title)["annotations"]["horizontal"]
    properties = alarms(default_stack)[metric_name]

    # When we read the widget's horizontal annotation
    [annotation] = annotations

    # Then it sits at the alarm's threshold and is labelled with the alarm's condition, as its description is
    assert annotation["value"] == properties["Threshold"]
    assert annotation["label"].removeprefix("alarm: ") in properties["AlarmDescription"]
