"""The incident lifecycle as a user sees it in a dry run: `incident-bridge invoke` on files that share state.

The four files are copies of the documented EC2 alarm (events/), changed only where the story needs it: alarm B is
the same alarm renamed (name, ARN, id), and each OK file is its alarm switched to OK with the sample's own OK
reason, a later state time and a new id. Runs are isolated the way tests/handler/test_cli.py describes.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import incident_bridge
from incident_bridge import cli
from incident_bridge.adapters.api_model import ensure_valid
from tests.conftest import PLAN_ARN, load_event
from tests.handler.test_cli import CLI_ENVIRONMENT

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

EC2_ALARM = "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
A_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"
B_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuStillHigh"
INCIDENT_PREFIX = "arn:aws:ssm-incidents::123456789012:incident-record/MyPlan/"
OK_REASON = (
    "Threshold Crossed: 1 out of the last 1 datapoints [0.0666851903306472 (01/10/19 13:46:00)] was not greater "
    "than the threshold (50.0) (minimum 1 datapoint for ALARM -> OK transition)."
)


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str]]:
    """`cli.main` as a fresh process would run it: no CLI variables, no cached handler module."""

    def run(*argv: str | Path) -> tuple[int, str]:
        for name in CLI_ENVIRONMENT:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.delitem(sys.modules, "incident_bridge.handler", raising=False)
        monkeypatch.delattr(incident_bridge, "handler", raising=False)
        capsys.readouterr()
        exit_code = cli.main([str(arg) for arg in argv])
        return exit_code, capsys.readouterr().out

    return run


def write(directory: Path, name: str, document: dict[str, Any]) -> Path:
    path = directory / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def ok_of(alarm: dict[str, Any], event_id: str, state_time: str) -> dict[str, Any]:
    event = copy.deepcopy(alarm)
    event["id"] = event_id
    event["detail"]["state"]["value"] = "OK"
    event["detail"]["state"]["reason"] = OK_REASON
    event["detail"]["state"]["timestamp"] = state_time
    return event


def four_files(directory: Path) -> list[Path]:
    """Alarm A, alarm B (same namespace and instance), A OK, B OK."""
    alarm_a = load_event(EC2_ALARM)
    alarm_b = load_event(EC2_ALARM)
    alarm_b["id"] = "5a1e2b3c-6542-e61b-6ef0-8c4d36933b01"
    alarm_b["resources"] = [B_ARN]
    alarm_b["detail"]["alarmName"] = "ServerCpuStillHigh"
    a_ok = ok_of(alarm_a, "5a1e2b3c-0000-4000-8000-00000000a002", "2019-10-02T17:24:40.989+0000")
    b_ok = ok_of(alarm_b, "5a1e2b3c-0000-4000-8000-00000000b002", "2019-10-02T17:29:40.989+0000")
    return [
        write(directory, "a-alarm.json", alarm_a),
        write(directory, "b-alarm-same-namespace.json", alarm_b),
        write(directory, "a-ok.json", a_ok),
        write(directory, "b-ok.json", b_ok),
    ]


def config_file(directory: Path, *, auto_resolve: bool) -> Path:
    document = {"default": {"response_plan_arn": PLAN_ARN, "group_by": ["namespace"], "auto_resolve": auto_resolve}}
    return write(directory, "bridge.json", document)


def as_request(params: dict[str, Any]) -> dict[str, Any]:
    """Printed params with ISO timestamps turned back into the datetimes boto3 is given."""
    request = copy.deepcopy(params)
    if "eventTime" in request:
        request["eventTime"] = datetime.fromisoformat(request["eventTime"])
    if "triggerDetails" in request:
        request["triggerDetails"]["timestamp"] = datetime.fromisoformat(request["triggerDetails"]["timestamp"])
    return request


def test_two_alarms_of_one_namespace_start_update_update_and_resolve_one_incident(
    run_cli: Callable[..., tuple[int, str]], tmp_path: Path
) -> None:
    # Given an auto-resolving default route grouping by namespace, and the four files
    files = four_files(tmp_path)
    config = config_file(tmp_path, auto_resolve=True)

    # When they are invoked in one run
    exit_code, stdout = run_cli("invoke", "--json", "--config", config, *files)

    # Then A starts the incident, B and A's recovery update it, and B's recovery resolves it
    assert exit_code == 0
    documents = [json.loads(line) for line in stdout.splitlines()]
    assert [document["event"] for document in documents] == [str(path) for path in files]
    assert [document["outcome"] for document in documents] == ["started", "updated", "updated", "resolved"]
    # And each line shows exactly the calls made, the status read before joining included
    assert [[call["operation"] for call in document["calls"]] for document in documents] == [
        ["StartIncident"],
        ["GetIncidentRecord", "CreateTimelineEvent"],
        ["CreateTimelineEvent"],
        ["CreateTimelineEvent", "UpdateIncidentRecord"],
    ]
    started, joined, a_ok, b_ok = ([call["params"] for call in document["calls"]] for document in documents)
    # And B adds no item: A already attached its instance and charts its metric; B's timeline note names it
    assert [item["title"] for item in started[0]["relatedItems"]] == [
        "CloudWatch alarm ServerCpuTooHigh",
        "Metric: AWS/EC2 CPUUtilization (InstanceId=i-12345678901234567)",
        "EC2 instance i-12345678901234567",
    ]
    # And the timeline tells the story, each note referencing its alarm
    notes = [(params["eventData"], params["eventReferences"]) for params in (joined[1], a_ok[0], b_ok[0])]
    assert notes == [
        ('"ServerCpuStillHigh fired."', [{"resource": B_ARN}]),
        (f'"Alarm ServerCpuTooHigh recovered (OK): {OK_REASON} 1 still in ALARM."', [{"resource": A_ARN}]),
        (
            f'"Alarm ServerCpuStillHigh recovered (OK): {OK_REASON} All alarms of this incident are OK."',
            [{"resource": B_ARN}],
        ),
    ]
    # And every follow-up call is on the one incident, which the last call resolves
    follow_ups = [*joined, *a_ok, *b_ok]
    incident_arns = {params.get("incidentRecordArn", params.get("arn")) for params in follow_ups}
    assert len(incident_arns) == 1
    assert next(iter(incident_arns)).startswith(INCIDENT_PREFIX)
    assert b_ok[1]["status"] == "RESOLVED"
    # And every printed request is valid against botocore's full model
    for document in documents:
        for call in document["calls"]:
            ensure_valid(call["operation"], as_request(call["params"]))


def test_without_auto_resolve_the_last_recovery_only_updates(
    run_cli: Callable[..., tuple[int, str]], tmp_path: Path
) -> None:
    # Given the same files and a route that does not auto-resolve
    files = four_files(tmp_path)
    config = config_file(tmp_path, auto_resolve=False)

    # When they are invoked
    _, stdout = run_cli("invoke", "--json", "--config", config, *files)

    # Then the last recovery is recorded and the incident left open
    documents = [json.loads(line) for line in stdout.splitlines()]
    assert [document["outcome"] for document in documents] == ["started", "updated", "updated", "updated"]
    [last] = documents[3]["calls"]
    assert last["operation"] == "CreateTimelineEvent"
    assert last["params"]["eventData"] == (
        f'"Alarm ServerCpuStillHigh recovered (OK): {OK_REASON} All alarms of this incident are OK. '
        'Left open: the route does not auto-resolve."'
    )


def test_the_table_summarizes_the_lifecycle(run_cli: Callable[..., tuple[int, str]], tmp_path: Path) -> None:
    # Given the four files and the auto-resolving route
    files = four_files(tmp_path)
    config = config_file(tmp_path, auto_resolve=True)

    # When they are invoked without --json
    exit_code, stdout = run_cli("invoke", "--config", config, *files)

    # Then one row per file with its outcome and, on every row that touches the incident, its plan and impact; the
    # started row is followed by the incident's ARN; the summary counts each outcome
    assert exit_code == 0
    _, *lines, blank, summary = stdout.splitlines()
    rows = [line for line in lines if not line.startswith(" ")]
    assert [row.split()[:4] for row in rows] == [
        ["a-alarm.json", "started", "MyPlan", "3"],
        ["b-alarm-same-namespace.json", "updated", "MyPlan", "3"],
        ["a-ok.json", "updated", "MyPlan", "3"],
        ["b-ok.json", "resolved", "MyPlan", "3"],
    ]
    [incident] = [line.split() for line in lines if line.startswith(" ")]
    assert incident[0] == "incident"
    assert incident[1].startswith(INCIDENT_PREFIX)
    # And no reason names its alarm twice
    assert rows[2].endswith("ServerCpuTooHigh: recovery recorded (route default)")
    assert rows[3].endswith("ServerCpuStillHigh: all alarms recovered: incident resolved (route default)")
    assert blank == ""
    assert summary == "1 started, 2 updated, 1 resolved"


def test_the_same_file_twice_is_a_redelivery(run_cli: Callable[..., tuple[int, str]], tmp_path: Path) -> None:
    # Given alarm A
    [alarm_a, *_] = four_files(tmp_path)

    # When it is invoked twice in one run
    _, stdout = run_cli("invoke", "--json", alarm_a, alarm_a)

    # Then the second delivery is ignored without a call
    documents = [json.loads(line) for line in stdout.splitlines()]
    assert [(document["outcome"], len(document["calls"])) for document in documents] == [("started", 1), ("ignored", 0)]
    assert "(redelivery)" in documents[1]["reason"]
