"""The scenarios of examples/scenarios/ through `invoke`, as `make demo` and the README run them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EVENTS_DIR
from tests.handler.test_cli import RunCli, run_cli

__all__ = ["run_cli"]  # the fixture, imported for pytest

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

ROOT = EVENTS_DIR.parent
DEMO = ROOT / "examples" / "scenarios" / "demo"
DEMO_CONFIG = ROOT / "examples" / "demo.yaml"
AUTO_RESOLVE = ROOT / "examples" / "scenarios" / "auto-resolve"
#: The story examples/scenarios/README.md tells, file by file.
DEMO_STORY = {
    "01-web-cpu-alarm.json": "started",
    "02-web-cpu-anomaly-alarm.json": "updated",
    "03-sns-network-out-alarm.json": "started",
    "04-lambda-alarm-action.json": "started",
    "05-maintenance-suppressed-composite.json": "ignored",
    "06-alarm-configuration-change.json": "ignored",
    "07-checkout-custom-event.json": "started",
    "08-web-cpu-recovered.json": "updated",
    "09-web-cpu-anomaly-recovered.json": "resolved",
    "10-malformed-sns-message.json": "rejected",
    # AWS service events, every profile enabled by examples/demo.yaml (issue 13)
    "11-health-instance-store-issue.json": "started",
    "12-guardduty-finding.json": "started",
    "13-securityhub-finding.json": "started",
    "14-ecs-deployment-failed.json": "started",
    "15-stepfunctions-execution-failed.json": "started",
    "16-codepipeline-failed.json": "started",
    "17-rds-failover-started.json": "started",
    "18-rds-failover-completed.json": "updated",
    "19-dynamodb-contributor-alarm.json": "started",
    "20-codepipeline-started.json": "ignored",
}


def test_the_demo_tells_its_story_with_at_most_a_tenth_rejected(run_cli: RunCli) -> None:
    # Given the demo's events in file order, as `make demo` passes them
    events = sorted(DEMO.glob("*.json"))

    # When they are invoked with the demo configuration
    result = run_cli("invoke", "--json", "--config", DEMO_CONFIG, *events)

    # Then each file does what the story says: a group joins and resolves, an SNS alarm, an alarm action and an
    # application event start incidents, a suppressed composite is ignored, the malformed message is rejected
    outcomes = {Path(line["event"]).name: line["outcome"] for line in result.json_lines()}
    assert {name: outcomes[name] for name in DEMO_STORY} == DEMO_STORY
    # And at most a tenth is rejected, each on purpose (the list above), so invoke exits 1 and `make demo` accepts it
    rejected = [name for name, outcome in outcomes.items() if outcome == "rejected"]
    assert len(rejected) * 10 <= len(outcomes)
    assert result.exit_code == 1
    # And the SNS alarm came through SNS, the group's incident is the one the recoveries resolve
    [sns] = [line for line in result.json_lines() if line["event"].endswith("03-sns-network-out-alarm.json")]
    assert sns["calls"][0]["params"]["triggerDetails"]["triggerArn"].endswith(":alarm:EXAMPLE")


def test_the_auto_resolve_scenario_starts_updates_and_resolves_one_incident(run_cli: RunCli) -> None:
    # Given the README's auto-resolve scenario and its configuration
    events = sorted(AUTO_RESOLVE.glob("*.json"))

    # When it is invoked
    result = run_cli("invoke", "--json", "--config", AUTO_RESOLVE / "bridge.yaml", *events)

    # Then one incident: started, joined, a recovery noted, resolved
    lines = result.json_lines()
    assert [line["outcome"] for line in lines] == ["started", "updated", "updated", "resolved"]
    assert result.exit_code == 0
    [resolve] = [call for call in lines[3]["calls"] if call["operation"] == "UpdateIncidentRecord"]
    assert resolve["params"]["status"] == "RESOLVED"
