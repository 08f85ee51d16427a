"""Building the StartIncident request: limits, idempotency, rawData, related items."""

from __future__ import annotations

import json
from typing import Any

import pytest

from incident_bridge.adapters.api_model import ensure_valid
from incident_bridge.aws import RAW_DATA_MAX, RELATED_ITEMS_MAX, fit, length
from incident_bridge.config import BridgeConfig, DefaultRoute
from incident_bridge.incident import build_start_incident, compact_raw_data
from incident_bridge.routing import route
from incident_bridge.signal import Signal
from incident_bridge.sources import parse_event
from incident_bridge.sources.cloudwatch import TRIGGER_SOURCE
from tests.conftest import PLAN_ARN, load_event

EC2_ALARM = "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
CONFIG = BridgeConfig(default=DefaultRoute(response_plan_arn=PLAN_ARN, impact=2, title="{alarm_name} fired"))


def alarm_from(raw: dict[str, Any]) -> Signal:
    parsed = parse_event(raw)
    assert isinstance(parsed, Signal)
    return parsed


def request_params(raw: dict[str, Any]) -> dict[str, Any]:
    alarm = alarm_from(raw)
    [decision] = route(alarm, CONFIG).decisions
    params = build_start_incident(alarm, decision).to_params()
    ensure_valid("StartIncident", params)  # every request built here must pass the full model
    return params


def with_dimensions(namespace: str, metric_name: str, dimensions: dict[str, str]) -> dict[str, Any]:
    """The documented EC2 alarm, re-pointed at another service's metric (the only change)."""
    raw = load_event(EC2_ALARM)
    metric = raw["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]
    metric.update(namespace=namespace, name=metric_name, dimensions=dimensions)
    return raw


def involved_arns(params: dict[str, Any]) -> list[str]:
    return [
        item["identifier"]["value"]["arn"]
        for item in params["relatedItems"]
        if item["identifier"]["type"] == "INVOLVED_RESOURCE"
    ]


def test_alarm_becomes_a_start_incident_request() -> None:
    # Given the documented EC2 CPU alarm and a route at impact 2
    raw = load_event(EC2_ALARM)

    # When the request is built
    params = request_params(raw)

    # Then plan, impact, title and trigger details come from route and event
    assert params["responsePlanArn"] == PLAN_ARN
    assert params["impact"] == 2
    assert params["title"] == "ServerCpuTooHigh fired"
    trigger = params["triggerDetails"]
    assert trigger["source"] == TRIGGER_SOURCE
    assert not trigger["source"].startswith("aws.")
    assert trigger["triggerArn"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"
    assert trigger["timestamp"].isoformat() == "2019-10-02T17:04:40.989000+00:00"
    assert json.loads(trigger["rawData"]) == raw


def test_related_items_name_the_instance_metric_and_alarm_console() -> None:
    # Given the documented EC2 CPU alarm
    raw = load_event(EC2_ALARM)

    # When the request is built
    params = request_params(raw)

    # Then the instance, the metric and the alarm's console page are attached, each once
    items = {(i["identifier"]["type"], i["title"]) for i in params["relatedItems"]}
    assert ("INVOLVED_RESOURCE", "EC2 instance i-12345678901234567") in items
    assert any(kind == "METRIC" and "CPUUtilization" in title for kind, title in items)
    assert involved_arns(params) == ["arn:aws:ec2:us-east-1:123456789012:instance/i-12345678901234567"]
    urls = [i["identifier"]["value"].get("url") for i in params["relatedItems"]]
    assert (
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/ServerCpuTooHigh"
        in urls
    )
    metric = next(i for i in params["relatedItems"] if i["identifier"]["type"] == "METRIC")
    definition = json.loads(metric["identifier"]["value"]["metricDefinition"])
    assert definition["metrics"] == [
        ["AWS/EC2", "CPUUtilization", "InstanceId", "i-12345678901234567", {"stat": "Average", "period": 300}]
    ]


@pytest.mark.parametrize(
    ("namespace", "metric_name", "dimensions", "expected_arn"),
    [
        ("AWS/Lambda", "Errors", {"FunctionName": "checkout"}, "lambda:us-east-1:123456789012:function:checkout"),
        ("AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": "orders-db"}, "rds:us-east-1:123456789012:db:orders-db"),
        ("AWS/DynamoDB", "ThrottledRequests", {"TableName": "carts"}, "dynamodb:us-east-1:123456789012:table/carts"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": "jobs"}, "sqs:us-east-1:123456789012:jobs"),
    ],
)  # fmt: skip
def test_dimensions_of_each_core_service_become_an_involved_resource(
    namespace: str, metric_name: str, dimensions: dict[str, str], expected_arn: str
) -> None:
    # Given the documented alarm re-pointed at another service's metric
    raw = with_dimensions(namespace, metric_name, dimensions)

    # When the request is built
    params = request_params(raw)

    # Then that service's resource ARN is an involved resource, with account and region from the event
    assert involved_arns(params) == [f"arn:aws:{expected_arn}"]


def test_redelivered_event_gets_the_same_client_token_and_another_event_does_not() -> None:
    # Given one event, its redelivery, and a later transition of the same alarm
    first = load_event(EC2_ALARM)
    redelivered = load_event(EC2_ALARM)
    later = load_event(EC2_ALARM)
    later["id"] = "another-event-id"
    later["detail"]["state"]["timestamp"] = "2019-10-02T18:00:00.000+0000"

    # When requests are built for each
    tokens = [request_params(raw)["clientToken"] for raw in (first, redelivered, later)]

    # Then the redelivery reuses the token (Incident Manager dedupes on it) and the new transition does not
    assert tokens[0] == tokens[1]
    assert tokens[2] != tokens[0]
    assert all(len(token) <= 128 for token in tokens)


def test_long_unicode_alarm_name_is_trimmed_to_the_title_limit() -> None:
    # Given an alarm whose name is far longer than a title may be, with astral characters
    raw = load_event(EC2_ALARM)
    raw["detail"]["alarmName"] = "🔥" * 150 + "x" * 300
    raw["resources"] = []

    # When the request is built
    params = request_params(raw)

    # Then the title fits 200 characters as Incident Manager counts them (Unicode scalar values, see aws.py) and
    # ends with an ellipsis
    assert length(params["title"]) <= 200
    assert params["title"].endswith("…")


def test_huge_event_is_shrunk_by_dropping_bulky_fields_not_by_cutting() -> None:
    # Given the documented alarm with 2,000 recent datapoints in its reasonData
    raw = load_event(EC2_ALARM)
    reason_data = json.loads(raw["detail"]["state"]["reasonData"])
    reason_data["recentDatapoints"] = [99.50160229693434] * 2000
    raw["detail"]["state"]["reasonData"] = json.dumps(reason_data)

    # When rawData is built
    raw_data = request_params(raw)["triggerDetails"]["rawData"]

    # Then it fits, is valid JSON, and kept the alarm's identity and state
    assert len(raw_data) <= RAW_DATA_MAX
    kept = json.loads(raw_data)
    assert kept["detail"]["alarmName"] == "ServerCpuTooHigh"
    assert "recentDatapoints" not in json.loads(kept["detail"]["state"]["reasonData"])
    assert kept["detail"]["state"]["value"] == "ALARM"


def test_event_too_large_even_without_bulky_fields_becomes_a_valid_summary() -> None:
    # Given an event whose description alone exceeds the limit
    raw = load_event(EC2_ALARM)
    raw["detail"]["alarmName"] = "n" * 20_000

    # When rawData is built
    raw_data = compact_raw_data(raw)

    # Then a small JSON summary names the event and says it was truncated
    summary = json.loads(raw_data)
    assert len(raw_data) <= RAW_DATA_MAX
    assert summary["id"] == raw["id"]
    assert summary["truncated"] == "event exceeded 10,000 characters; see the alarm history for the full payload"


def test_related_items_are_capped_at_100_and_unique() -> None:
    # Given a metric-math alarm over 150 metrics, two of which name the same instance
    raw = load_event(EC2_ALARM)
    template = raw["detail"]["configuration"]["metrics"][0]
    metrics = []
    for index in range(150):
        metric = json.loads(json.dumps(template))
        metric["id"] = f"m{index}"
        metric["metricStat"]["metric"]["dimensions"] = {"InstanceId": f"i-{index % 149:017d}"}
        metrics.append(metric)
    raw["detail"]["configuration"]["metrics"] = metrics

    # When the request is built
    params = request_params(raw)

    # Then there are at most 100 items, no duplicates, and the most useful ones lead
    items = params["relatedItems"]
    identities = [json.dumps(item["identifier"], sort_keys=True) for item in items]
    assert len(items) == RELATED_ITEMS_MAX
    assert len(set(identities)) == len(identities)
    assert [item["identifier"]["type"] for item in items[:2]] == ["OTHER", "METRIC"]


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [("short", 10, "short"), ("exactly-10", 10, "exactly-10"), ("eleven-char", 10, "eleven-ch…")],
)
def test_fit_trims_only_what_exceeds(text: str, limit: int, expected: str) -> None:
    # Given a text and a limit / When it is fitted / Then only over-long text is trimmed
    assert fit(text, limit) == expected
