"""What `routes test` and `invoke --json` show of the quiet: which silence, mute rule, interval or inhibition
applied."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from incident_bridge import cli
from tests.conftest import EVENTS_DIR, PLAN_ARN, load_event
from tests.handler.test_cli import RunCli, run_cli  # noqa: F401 (the fixture)

EC2_ALARM = EVENTS_DIR / "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"

QUIET_CONFIG: dict[str, Any] = {
    "default": {"response_plan_arn": PLAN_ARN, "mute_time_intervals": ["nightly-backup"]},
    "time_intervals": [{"name": "nightly-backup", "time_intervals": [
        {"times": [{"start_time": "02:00", "end_time": "03:00"}], "location": "Europe/Berlin"}]}],
    "silences": [{"id": "deploy-web", "match": {"alarm_name": "ServerCpu*"}, "starts_at": "2026-12-01T22:00:00Z",
                  "ends_at": "2026-12-02T00:00:00Z", "created_by": "alice", "comment": "deploy"}],
}  # fmt: skip


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "bridge.yaml"
    path.write_text(yaml.safe_dump(QUIET_CONFIG), encoding="utf-8")
    return path


def test_routes_test_names_the_silence_that_applies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a configuration whose silence covers 22:00-24:00 UTC on 2026-12-01
    config = write_config(tmp_path)

    # When the documented alarm is tested at 23:00
    code = cli.main(["routes", "test", "--config", str(config), "--at", "2026-12-01T23:00:00Z", str(EC2_ALARM)])
    out = capsys.readouterr().out.splitlines()

    # Then the silence is shown on the route, and the outcome is ignored naming it
    assert code == 0
    assert "=> quiet on route default (silence deploy-web): silenced by deploy-web until 2026-12-02T00:00:00Z: " \
           "deploy (alice)" in out  # fmt: skip
    assert out[-1] == (
        "outcome: ignored: ServerCpuTooHigh: silenced by deploy-web until 2026-12-02T00:00:00Z: deploy (alice) "
        "(route default)"
    )


def test_routes_test_names_the_interval_that_mutes_the_route(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # When tested at 01:30 UTC on 2026-12-02, 02:30 in Berlin, inside the nightly backup
    code = cli.main(["routes", "test", "--config", str(write_config(tmp_path)), "--at", "2026-12-02T01:30:00Z",
                     str(EC2_ALARM)])  # fmt: skip
    out = capsys.readouterr().out.splitlines()

    # Then the interval is named
    assert code == 0
    assert "=> quiet on route default (mute-time-interval nightly-backup): muted by time interval nightly-backup" in out


def test_routes_test_outside_every_quiet_pages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["routes", "test", "--config", str(write_config(tmp_path)), "--at", "2026-12-02T12:00:00Z",
                     str(EC2_ALARM)])  # fmt: skip
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert not any(line.startswith("=> quiet") for line in out)
    assert out[-1].startswith("outcome: started: ")


def test_routes_test_refuses_a_bad_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["routes", "test", "--at", "tomorrow", str(EC2_ALARM)])
    assert code == 2
    assert "--at: 'tomorrow' is not an ISO-8601 timestamp" in capsys.readouterr().err


def test_invoke_json_shows_the_mute_rule_that_applied(tmp_path: Path, run_cli: RunCli) -> None:  # noqa: F811
    # Given the documented alarm sent inside a CloudWatch mute window
    event = copy.deepcopy(load_event(EC2_ALARM.name))
    rule = "arn:aws:cloudwatch:us-east-1:123456789012:alarm-mute-rule:nightly-patching"
    event["detail"]["muteDetail"] = {"mutedByArn": rule, "muteWindowStart": "2019-10-02T17:00:00Z",
                                     "muteWindowEnd": "2019-10-02T18:00:00Z"}  # fmt: skip
    path = tmp_path / "muted.json"
    path.write_text(json.dumps(event), encoding="utf-8")

    # When invoked with --json
    result = run_cli("invoke", "--json", path)

    # Then the line says it was ignored, and which mute rule applied until when
    line = result.json_lines()[-1]
    assert result.exit_code == 0
    assert line["outcome"] == "ignored"
    assert line["calls"] == []
    assert line["quiet"] == {
        "reason": "mute-rule",
        "applied": rule,
        "message": f"muted by {rule} until 2019-10-02T18:00:00Z",
        "until": "2019-10-02T18:00:00+00:00",
    }


def test_invoke_json_has_no_quiet_for_an_event_that_pages(run_cli: RunCli) -> None:  # noqa: F811
    line = run_cli("invoke", "--json", EC2_ALARM).json_lines()[-1]
    assert line["outcome"] == "started"
    assert "quiet" not in line
