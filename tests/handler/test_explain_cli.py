"""`invoke --explain` and `routes show`, through `cli.main` (isolated as tests/handler/test_cli.py describes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from incident_bridge import cli
from incident_bridge.cli.style import Style, colours_wanted
from tests.conftest import EVENTS_DIR, load_event
from tests.handler.test_cli import RunCli, run_cli

__all__ = ["run_cli"]  # the fixture, imported for pytest

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TEAMS_CONFIG = EVENTS_DIR.parent / "examples" / "bridge.teams.yaml"
METRIC_ALARM = EVENTS_DIR / "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
SUPPRESSED_COMPOSITE = EVENTS_DIR / "eventbridge-composite-alarm-ALARM-suppressed-waitperiod-awsdocs.json"
PLATFORM_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/platform-oncall"
ALARM_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"
ANSI = "\033["


def section(lines: list[str], heading: str) -> list[str]:
    """The lines of one heading: its own line and the indented ones after it."""
    start = next(index for index, line in enumerate(lines) if line.startswith(heading))
    end = next(
        (index for index in range(start + 1, len(lines)) if not lines[index].startswith(" ")),
        len(lines),
    )
    return [line[12:] for line in lines[start:end]]


def test_explain_shows_the_whole_decision_for_an_alarm(run_cli: RunCli) -> None:
    # Given the example configuration and the documented EC2 alarm
    # When it is explained (in a pipe: captured output is not a terminal)
    result = run_cli("invoke", "--explain", "--config", TEAMS_CONFIG, METRIC_ALARM)

    # Then the payload kind, the labels, each route's verdict, the decision, the group and the lifecycle step
    lines = result.stdout.splitlines()
    assert result.exit_code == 0
    assert lines[0] == f"== {METRIC_ALARM}"
    assert section(lines, "payload") == ["EventBridge event (CloudWatch Alarm State Change), metric alarm, state ALARM"]
    # (the signal's labels, as routing, group_by and titles read them; the EventBridge detail's scalars last)
    labels = section(lines, "labels")
    assert labels[:15] == [
        "alarm_name=ServerCpuTooHigh",
        f"alarm_arn={ALARM_ARN}",
        "account=123456789012",
        "account_alias=123456789012",
        "region=us-east-1",
        "state=ALARM",
        "kind=metric",
        "reason=Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19 16:59:00)] was "
        "greater than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition).",
        "description=Goes into alarm when server CPU utilization is too high!",
        "namespace=AWS/EC2",
        "metric_name=CPUUtilization",
        "dimension:InstanceId=i-12345678901234567",
        "source=aws.cloudwatch",
        "detail_type=CloudWatch Alarm State Change",
        "detail:alarmName=ServerCpuTooHigh",
    ]
    assert all(line.startswith("detail:") for line in labels[15:])
    routes = section(lines, "routes")
    assert len(routes) == 6
    assert routes[0] == "no     test-alarms: alarm name 'ServerCpuTooHigh' matches none of ['test-*', '*-canary']"
    assert section(lines, "decision") == [
        f"route default: plan {PLATFORM_PLAN}, impact 3",
        "title: ServerCpuTooHigh is in ALARM (123456789012, us-east-1)",
        "related: Platform runbook index <https://wiki.example.com/runbooks>",
    ]
    assert section(lines, "group") == [f"default|alarm_arn={ALARM_ARN}"]
    assert section(lines, "lifecycle") == [
        f"started: ServerCpuTooHigh: incident started in {PLATFORM_PLAN} at impact 3 (route default)"
    ]
    assert section(lines, "incident")[0].startswith(
        "arn:aws:ssm-incidents::123456789012:incident-record/platform-oncall/"
    )
    # And every parameter of the request, the related items one per line
    requests = section(lines, "requests")
    assert requests[0] == "StartIncident"
    assert [line.split(":")[0].strip() for line in requests[1:8]] == [
        "clientToken", "responsePlanArn", "title", "impact", "triggerDetails.source", "triggerDetails.timestamp",
        "triggerDetails.rawData",
    ]  # fmt: skip
    assert requests[9:] == [
        "  relatedItems: 4",
        "    OTHER             Platform runbook index  https://wiki.example.com/runbooks",
        "    OTHER             CloudWatch alarm ServerCpuTooHigh  https://us-east-1.console.aws.amazon.com/cloudwatch/"
        "home?region=us-east-1#alarmsV2:alarm/ServerCpuTooHigh",
        '    METRIC            Metric: AWS/EC2 CPUUtilization (InstanceId=i-12345678901234567)  {"view":"timeSeries",'
        '"region":"us-east-1","title":"ServerCpuTooHigh","metrics":[["AWS/EC2","CPUUtilization","InstanceId",'
        '"i-12345678901234567",{"stat":"Average","period":300}]]}',
        "    INVOLVED_RESOURCE EC2 instance i-12345678901234567  "
        "arn:aws:ec2:us-east-1:123456789012:instance/i-12345678901234567",
    ]
    # And plain text in a pipe
    assert ANSI not in result.stdout


def test_explain_shows_a_joining_alarm_as_an_update_with_each_call(run_cli: RunCli, tmp_path: Path) -> None:
    # Given the EC2 alarm, and a copy with its event id and state time changed (a second transition of the same
    # alarm; with the same state time it would be the same transition redelivered, which has no second effect)
    raw = load_event(METRIC_ALARM.name)
    raw["id"] = "c4c1c1c9-6542-e61b-6ef0-8c4d36933a93"
    raw["detail"]["state"]["timestamp"] = "2019-10-02T17:10:40.989+0000"
    again = tmp_path / "again.json"
    again.write_text(json.dumps(raw), encoding="utf-8")

    # When both are explained in one run
    result = run_cli("invoke", "--explain", METRIC_ALARM, again)

    # Then the second joins the incident: the lifecycle says updated and the calls are the status read and the note
    second = result.stdout.split(f"== {again}\n")[1].splitlines()
    assert section(second, "lifecycle")[0].startswith("updated: ")
    operations = [line for line in section(second, "requests") if not line.startswith(" ")]
    assert operations == ["GetIncidentRecord", "CreateTimelineEvent"]


def test_explain_names_the_payload_of_an_event_stopped_before_routing(run_cli: RunCli) -> None:
    # Given the composite alarm whose actions are suppressed / When explained
    result = run_cli("invoke", "--explain", SUPPRESSED_COMPOSITE)

    # Then the payload and labels are shown, no route, and the outcome with invoke's reason
    lines = result.stdout.splitlines()
    assert section(lines, "payload") == [
        "EventBridge event (CloudWatch Alarm State Change), composite alarm, state ALARM"
    ]
    assert "routes" not in result.stdout
    assert section(lines, "outcome") == [
        "ignored: alarm ServiceAggregatedAlarm is in ALARM but its actions are suppressed by WaitPeriod: "
        "Actions suppressed by WaitPeriod"
    ]


def test_explain_json_holds_the_decision_and_the_calls_invoke_makes(run_cli: RunCli) -> None:
    # Given the EC2 alarm / When it is explained as JSON, and invoked as JSON
    [explained] = run_cli("invoke", "--explain", "--json", "--config", TEAMS_CONFIG, METRIC_ALARM).json_lines()
    [invoked] = run_cli("invoke", "--json", "--config", TEAMS_CONFIG, METRIC_ALARM).json_lines()

    # Then it has every part of the decision, and the same outcome, reason and calls as invoke
    assert set(explained) == {
        "event", "payload", "labels", "routes", "decisions", "dropped_by", "outcome", "reason", "incident_arn", "calls"
    }  # fmt: skip
    assert {"name": "dimension:InstanceId", "value": "i-12345678901234567"} in explained["labels"]
    assert [route["matched"] for route in explained["routes"]] == [False] * 6
    [decision] = explained["decisions"]
    assert decision["group"] == f"default|alarm_arn={ALARM_ARN}"
    assert (decision["response_plan_arn"], decision["impact"]) == (PLATFORM_PLAN, 3)
    assert {key: explained[key] for key in ("outcome", "reason", "calls")} == {
        key: invoked[key] for key in ("outcome", "reason", "calls")
    }


def test_explain_is_coloured_on_a_terminal(run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a terminal (FORCE_COLOR stands in for one under capture)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)

    # When an alarm is explained / Then the outcome is coloured
    result = run_cli("invoke", "--explain", METRIC_ALARM)
    assert "\033[31;1mstarted\033[0m" in result.stdout


class FakeTerminal:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(
    ("tty", "environment", "wanted"),
    [
        (True, {"TERM": "xterm-256color"}, True),
        (False, {"TERM": "xterm-256color"}, False),
        (True, {"TERM": "xterm", "NO_COLOR": "1"}, False),
        (True, {"TERM": "dumb"}, False),
        (False, {"FORCE_COLOR": "1"}, True),
    ],
)
def test_colours_only_on_a_terminal(tty: bool, environment: dict[str, str], wanted: bool) -> None:
    # Given a stream that is (or is not) a terminal, and the environment / When asked / Then colours as documented
    assert colours_wanted(FakeTerminal(tty), environment) is wanted  # type: ignore[arg-type]
    assert Style(wanted)("x", "red") == ("\033[31mx\033[0m" if wanted else "x")


# ---- routes show ----


def test_routes_show_prints_the_tree_like_amtool(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the example configuration / When routes show runs
    exit_code = cli.main(["routes", "show", "--config", str(TEAMS_CONFIG)])

    # Then the default route is the root and the routes its children, in order, with matchers and what they change
    assert exit_code == 0
    assert capsys.readouterr().out.splitlines() == [
        "Routing tree:",
        "└── default  plan: platform-oncall  impact: 3  group_by: [alarm_arn]  auto_resolve: false",
        '    ├── test-alarms  {alarm_name=~"test-*|*-canary"}  drop',
        '    ├── payments  {tag:team="payments"}  plan: payments-oncall  impact: 1  group_by: [tag:service]  '
        'title: "[payments] {alarm_name}: {metric_name}"',
        '    ├── checkout-functions  {namespace="AWS/Lambda", dimension:FunctionName="checkout-*"}  '
        "plan: payments-oncall  impact: 2  continue: true",
        '    ├── lambda-errors  {namespace="AWS/Lambda", metric_name=~"Errors|Throttles"}  impact: 3',
        "    ├── internal-tools  {alarm_name=~/^(wiki|jira|ci)-/}  plan: internal-tools  impact: 4",
        '    └── app-incidents  {source="com.example.*", detail:$.severity=~"critical|high"}  '
        "plan: platform-oncall  impact: 2",
    ]


def test_routes_show_mermaid_is_a_flowchart_of_the_routes_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the example configuration / When routes show --mermaid runs
    exit_code = cli.main(["routes", "show", "--mermaid", "--config", str(TEAMS_CONFIG)])

    # Then a flowchart: the event enters the first route, each "no" leads to the next, the last to the default
    lines = capsys.readouterr().out.splitlines()
    assert exit_code == 0
    assert lines[:2] == ["flowchart TD", '  event(["event"])']
    assert "  event --> r0" in lines
    assert [line for line in lines if " -- no --> " in line] == [
        "  r0 -- no --> r1", "  r1 -- no --> r2", "  r2 -- no --> r3", "  r3 -- no --> r4", "  r4 -- no --> r5",
        "  r5 -- no --> default_out",
    ]  # fmt: skip
    # And a drop opens nothing, a continue route goes on to the next, quotes are escaped for Mermaid
    assert '  r0_out["drop: no incident"]' in lines
    assert "  r2_out -. continue .-> r3" in lines
    assert '  r1{"payments<br/>{tag:team=#quot;payments#quot;}"}' in lines
    assert '  default_out["default: platform-oncall, impact 3"]' in lines
