"""`incident-bridge routes test` and `incident-bridge config check` through `cli.main`, in process with capsys.

Neither command imports the handler, so no environment isolation is needed (unlike `invoke`, see test_cli.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from incident_bridge import cli
from tests.bad_configs import BAD_CONFIGS, ROUTE_KEYS
from tests.conftest import EVENTS_DIR, load_event

TEAMS_CONFIG = EVENTS_DIR.parent / "examples" / "bridge.teams.yaml"
EC2_ALARM = "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
LAMBDA_ACTION_ALARM = "lambda-action-metric-math-alarm-ALARM-lambda-invocations-powertools.json"
CONFIG_CHANGE = "eventbridge-config-change-create-composite-awsdocs.json"
CUSTOM_EVENT = "custom-app-eventbridge-PaymentCreated-no-resources-powertools.json"

PLAN_PREFIX = "arn:aws:ssm-incidents::123456789012:response-plan/"
PLATFORM_PLAN = PLAN_PREFIX + "platform-oncall"
PAYMENTS_PLAN = PLAN_PREFIX + "payments-oncall"
INTERNAL_PLAN = PLAN_PREFIX + "internal-tools"
RUNBOOK_URL = "https://wiki.example.com/runbooks/cpu"
EC2_ALARM_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"


def write_json(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def write_yaml(path: Path, document: Any) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], list[str]]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


def tagged_ec2_alarm(tmp_path: Path, tags: dict[str, str]) -> Path:
    raw = load_event(EC2_ALARM)
    raw["detail"]["alarmTags"] = tags
    return write_json(tmp_path / "alarm.json", raw)


# ---- routes test ----


def test_routes_test_explains_every_route_and_the_decision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a configuration with a route that does not match and one that does, and a tagged EC2 alarm
    config = write_yaml(
        tmp_path / "bridge.yaml",
        {
            "default": {"response_plan_arn": PLATFORM_PLAN, "impact_tag": "incident-impact"},
            "routes": [
                {"name": "lambda", "match": {"namespace": "AWS/Lambda"}, "response_plan_arn": PAYMENTS_PLAN},
                {
                    "name": "ec2",
                    "match": {"namespace": "AWS/EC2", "tags": {"team": "pay*"}},
                    "response_plan_arn": PAYMENTS_PLAN,
                    "impact": 2,
                    "title": "[{tag_team}] {alarm_name}: {metric_name}",
                    "related_urls": [{"title": "EC2 runbook", "url": "https://wiki.example.com/ec2"}],
                },
            ],
        },
    )
    event = tagged_ec2_alarm(tmp_path, {"team": "payments", "incident-impact": "1", "runbook-url": RUNBOOK_URL})

    # When routes test runs
    code, out, err = run(capsys, "routes", "test", str(event), "--config", str(config))

    # Then each route is listed with why it matched or not, then the decision with plan, impact, title and URLs
    assert (code, err) == (0, [])
    assert out == [
        "no     lambda: namespace 'AWS/EC2' matches none of ['AWS/Lambda']",
        "MATCH  ec2: namespace 'AWS/EC2' matches 'AWS/EC2'; tag team 'payments' matches 'pay*'",
        f"=> route ec2: plan {PAYMENTS_PLAN}, impact 1",
        "   title: [payments] ServerCpuTooHigh: CPUUtilization",
        "   related: EC2 runbook <https://wiki.example.com/ec2>",
        f"   related: runbook-url (alarm tag) <{RUNBOOK_URL}>",
        f"   group: ec2|alarm_arn={EC2_ALARM_ARN}",
        f"outcome: started: ServerCpuTooHigh: incident started in {PAYMENTS_PLAN} at impact 1 (route ec2)",
    ]


def test_routes_test_with_continue_prints_each_decision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a `continue` route and a second matching route
    config = write_yaml(
        tmp_path / "bridge.yaml",
        {
            "default": {"response_plan_arn": PLATFORM_PLAN},
            "routes": [
                {
                    "name": "ec2",
                    "match": {"namespace": "AWS/EC2"},
                    "response_plan_arn": PAYMENTS_PLAN,
                    "continue": True,
                },
                {"name": "cpu", "match": {"metric_name": "CPU*"}, "impact": 4, "title": "{alarm_name}"},
            ],
        },
    )

    # When routes test runs on the documented EC2 alarm
    code, out, _ = run(capsys, "routes", "test", str(EVENTS_DIR / EC2_ALARM), "--config", str(config))

    # Then both decisions are printed, in order
    assert code == 0
    assert out == [
        "MATCH  ec2: namespace 'AWS/EC2' matches 'AWS/EC2'",
        "MATCH  cpu: metric 'CPUUtilization' matches 'CPU*'",
        f"=> route ec2: plan {PAYMENTS_PLAN}, impact 3",
        "   title: ServerCpuTooHigh is in ALARM (123456789012, us-east-1)",
        f"   group: ec2|alarm_arn={EC2_ALARM_ARN}",
        f"=> route cpu: plan {PLATFORM_PLAN}, impact 4",
        "   title: ServerCpuTooHigh",
        f"   group: cpu|alarm_arn={EC2_ALARM_ARN}",
        f"outcome: started: ServerCpuTooHigh: incident started in {PAYMENTS_PLAN} at impact 3 (route ec2); "
        f"ServerCpuTooHigh: incident started in {PLATFORM_PLAN} at impact 4 (route cpu)",
    ]


def test_routes_test_for_a_dropped_alarm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the example configuration, whose first route drops test-* and *-canary alarms
    raw = load_event(EC2_ALARM)
    raw["detail"]["alarmName"] = "checkout-canary"
    raw["resources"] = ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-canary"]
    event = write_json(tmp_path / "canary.json", raw)

    # When routes test runs on a canary alarm
    code, out, _ = run(capsys, "routes", "test", str(event), "--config", str(TEAMS_CONFIG))

    # Then it says which route dropped it, and that no incident is opened
    assert code == 0
    assert out == [
        "MATCH  test-alarms: alarm name 'checkout-canary' matches '*-canary'",
        "=> dropped by route test-alarms: no incident",
        "outcome: ignored: checkout-canary: dropped by route test-alarms",
    ]


def test_routes_test_for_a_drop_after_a_continue_route_shows_the_incident_still_opened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a `continue` route, then a drop route, both matching
    config = write_yaml(
        tmp_path / "bridge.yaml",
        {
            "default": {"response_plan_arn": PLATFORM_PLAN},
            "routes": [
                {
                    "name": "ec2",
                    "match": {"namespace": "AWS/EC2"},
                    "response_plan_arn": PAYMENTS_PLAN,
                    "continue": True,
                },
                {"name": "quiet", "match": {"alarm_name": "Server*"}, "drop": True},
            ],
        },
    )

    # When routes test runs on the documented EC2 alarm
    code, out, _ = run(capsys, "routes", "test", str(EVENTS_DIR / EC2_ALARM), "--config", str(config))

    # Then it shows the incident the bridge opens for the `continue` route
    assert code == 0
    assert f"=> route ec2: plan {PAYMENTS_PLAN}, impact 3" in out


def test_routes_test_does_not_route_a_configuration_change(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the documented alarm configuration-change event
    event = EVENTS_DIR / CONFIG_CHANGE

    # When routes test runs on it
    code, out, _ = run(capsys, "routes", "test", str(event), "--config", str(TEAMS_CONFIG))

    # Then it is ignored, with the reason invoke gives
    assert code == 0
    assert out == ["outcome: ignored: alarm configuration change: only state changes open incidents"]


def test_routes_test_reports_an_invalid_custom_event_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a custom event without a title
    raw = load_event(CUSTOM_EVENT)
    raw["account"] = "123456789012"  # the sample's account has 13 digits
    raw["detail"] = {"impact": 2, "severity": "critical"}
    event = write_json(tmp_path / "custom.json", raw)

    # When routes test runs on it
    code, out, _ = run(capsys, "routes", "test", str(event), "--config", str(TEAMS_CONFIG))

    # Then it is rejected (exit 1), naming the missing field
    assert code == 1
    assert out == [
        "outcome: rejected: custom event 'app.payment'/'PaymentCreated' does not follow the custom incident "
        "schema: detail.title: required"
    ]


def test_routes_test_with_a_bad_configuration_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a configuration with an impact out of range
    config = write_yaml(tmp_path / "bridge.yaml", {"default": {"response_plan_arn": PLATFORM_PLAN, "impact": 6}})

    # When routes test runs with it
    code, out, err = run(capsys, "routes", "test", str(EVENTS_DIR / EC2_ALARM), "--config", str(config))

    # Then it stops with the configuration error: an invalid configuration exits 1
    assert (code, out) == (1, [])
    assert err == [f"incident-bridge: configuration error: {config}: default.impact: must be at most 5, got 6"]


# ---- routes test on the example configuration, with real samples ----


def test_example_config_routes_the_documented_ec2_alarm_to_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the example configuration and the documented EC2 alarm (no tags)
    # When routes test runs
    code, out, _ = run(capsys, "routes", "test", str(EVENTS_DIR / EC2_ALARM), "--config", str(TEAMS_CONFIG))

    # Then no route matches and the default decides, with its related URL
    assert code == 0
    assert out == [
        "no     test-alarms: alarm name 'ServerCpuTooHigh' matches none of ['test-*', '*-canary']",
        "no     payments: tag team absent (wanted ['payments'])",
        "no     checkout-functions: namespace 'AWS/EC2' matches none of ['AWS/Lambda']",
        "no     lambda-errors: namespace 'AWS/EC2' matches none of ['AWS/Lambda']",
        "no     internal-tools: alarm name 'ServerCpuTooHigh' matches none of [/^(wiki|jira|ci)-/]",
        "no     app-incidents: source 'aws.cloudwatch' matches none of ['com.example.*']",
        f"=> route default: plan {PLATFORM_PLAN}, impact 3",
        "   title: ServerCpuTooHigh is in ALARM (123456789012, us-east-1)",
        "   related: Platform runbook index <https://wiki.example.com/runbooks>",
        f"   group: default|alarm_arn={EC2_ALARM_ARN}",
        f"outcome: started: ServerCpuTooHigh: incident started in {PLATFORM_PLAN} at impact 3 (route default)",
    ]


def test_example_config_routes_a_payments_tagged_alarm_with_tag_impact_and_urls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the example configuration and the documented EC2 alarm tagged team=payments, incident-impact=2 and a
    # runbook URL
    event = tagged_ec2_alarm(tmp_path, {"team": "payments", "incident-impact": "2", "runbook-url": RUNBOOK_URL})

    # When routes test runs
    code, out, _ = run(capsys, "routes", "test", str(event), "--config", str(TEAMS_CONFIG))

    # Then the payments route decides, with the tag's impact, its title and its URLs then the tag's
    assert code == 0
    assert out == [
        "no     test-alarms: alarm name 'ServerCpuTooHigh' matches none of ['test-*', '*-canary']",
        "MATCH  payments: tag team 'payments' matches 'payments'",
        f"=> route payments: plan {PAYMENTS_PLAN}, impact 2",
        "   title: [payments] ServerCpuTooHigh: CPUUtilization",
        "   related: Payments runbook <https://wiki.example.com/runbooks/payments>",
        f"   related: runbook-url (alarm tag) <{RUNBOOK_URL}>",
        f"   group: payments|tag:service=?{EC2_ALARM_ARN}",  # no service tag: the alarm is its own group
        f"outcome: started: ServerCpuTooHigh: incident started in {PAYMENTS_PLAN} at impact 2 (route payments)",
    ]


def test_example_config_routes_the_lambda_metric_math_alarm_by_its_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the example configuration and the Powertools Lambda alarm-action sample (Invocations / Duration)
    event = EVENTS_DIR / LAMBDA_ACTION_ALARM

    # When routes test runs
    code, out, _ = run(capsys, "routes", "test", str(event), "--config", str(TEAMS_CONFIG))

    # Then the Lambda routes do not match (no FunctionName, no Errors/Throttles metric) and the default decides
    assert code == 0
    assert out[2:4] == [
        "no     checkout-functions: dimension FunctionName absent (wanted ['checkout-*'])",
        "no     lambda-errors: metric 'Invocations', 'Duration' matches none of ['Errors', 'Throttles']",
    ]
    assert out[6:8] == [
        f"=> route default: plan {PLATFORM_PLAN}, impact 3",
        "   title: Test alert is in ALARM (912397435824, eu-west-1)",
    ]


def test_example_config_routes_a_checkout_lambda_alarm_to_two_plans(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the Powertools Lambda sample with its second metric changed to Errors of function checkout-api
    raw = load_event(LAMBDA_ACTION_ALARM)
    metric = raw["alarmData"]["configuration"]["metrics"][2]["metricStat"]["metric"]
    metric["name"], metric["dimensions"] = "Errors", {"FunctionName": "checkout-api"}
    event = write_json(tmp_path / "checkout.json", raw)

    # When routes test runs with the example configuration
    code, out, _ = run(capsys, "routes", "test", str(event), "--config", str(TEAMS_CONFIG))

    # Then checkout-functions (continue) and lambda-errors both decide
    assert code == 0
    assert [line for line in out if line.startswith(("MATCH", "=>"))] == [
        "MATCH  checkout-functions: namespace 'AWS/Lambda' matches 'AWS/Lambda'; "
        "dimension FunctionName 'checkout-api' matches 'checkout-*'",
        "MATCH  lambda-errors: namespace 'AWS/Lambda' matches 'AWS/Lambda'; metric 'Errors' matches 'Errors'",
        f"=> route checkout-functions: plan {PAYMENTS_PLAN}, impact 2",
        f"=> route lambda-errors: plan {PLATFORM_PLAN}, impact 3",
    ]


def test_example_config_routes_a_critical_custom_event_to_app_incidents(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a custom event from com.example.checkout with severity critical
    raw = load_event(CUSTOM_EVENT)
    raw["account"] = "123456789012"  # the sample's account has 13 digits
    raw["source"] = "com.example.checkout"
    raw["detail"] = {"title": "Checkout is down", "severity": "critical"}
    event = write_json(tmp_path / "custom.json", raw)

    # When routes test runs with the example configuration
    code, out, _ = run(capsys, "routes", "test", str(event), "--config", str(TEAMS_CONFIG))

    # Then app-incidents decides, and the title is the event's
    assert code == 0
    assert out[-6:-2] == [
        "MATCH  app-incidents: source 'com.example.checkout' matches 'com.example.*'; "
        "detail $.severity 'critical' matches 'critical'",
        f"=> route app-incidents: plan {PLATFORM_PLAN}, impact 2",
        "   title: Checkout is down",
        "   related: Platform runbook index <https://wiki.example.com/runbooks>",
    ]
    assert out[-2].startswith("   group: app-incidents|custom|com.example.checkout|")
    assert (
        out[-1]
        == f"outcome: started: Checkout is down: incident started in {PLATFORM_PLAN} at impact 2 (route app-incidents)"
    )


# ---- config check ----


def test_config_check_accepts_the_example_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the example multi-team configuration
    # When config check runs on it
    code, out, err = run(capsys, "config", "check", str(TEAMS_CONFIG))

    # Then it is valid, with its routes counted and its three plans listed
    assert (code, err) == (0, [])
    assert out == [
        f"{TEAMS_CONFIG}: valid: 6 route(s) and the default; response plans: "
        f"{PLATFORM_PLAN}, {PAYMENTS_PLAN}, {INTERNAL_PLAN}"
    ]


@pytest.mark.parametrize(("document", "problem"), [pytest.param(*case[1:], id=case[0]) for case in BAD_CONFIGS])
def test_config_check_prints_each_problem_and_exits_1(
    document: dict[str, Any], problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a YAML configuration file with one mistake
    config = write_yaml(tmp_path / "bridge.yaml", {"default": {"response_plan_arn": PLATFORM_PLAN}, **document})

    # When config check runs on it
    code, out, err = run(capsys, "config", "check", str(config))

    # Then it exits 1 and prints the file, then the problem with the path to the field
    assert (code, out) == (1, [])
    assert err == [f"{config}: invalid", f"  - {problem}"]


def test_config_check_prints_every_problem_on_its_own_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a configuration with three mistakes in two routes
    config = write_yaml(
        tmp_path / "bridge.yaml",
        {
            "default": {"response_plan_arn": PLATFORM_PLAN},
            "routes": [{"name": "a", "plan": "x"}, {"name": "b", "impact": 9, "match": {"detail": {"severity": "x"}}}],
        },
    )

    # When config check runs on it
    code, _, err = run(capsys, "config", "check", str(config))

    # Then each problem is one line
    assert code == 1
    assert err == [
        f"{config}: invalid",
        f"  - routes.0.plan: unknown key (known: {ROUTE_KEYS})",
        "  - routes.1.match.detail: 'severity' is not a path like $.severity or $.service.name",
        "  - routes.1.impact: must be at most 5, got 9",
    ]


def test_config_check_on_a_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a path where there is no file
    missing = tmp_path / "nope.yaml"

    # When config check runs on it
    code, _, err = run(capsys, "config", "check", str(missing))

    # Then it exits 2 with config check's own usage, naming the file
    assert code == 2
    assert err == [
        "usage: incident-bridge config check [-h] [--strict] FILE",
        f"incident-bridge config check: error: configuration file {missing}: no such file",
    ]
