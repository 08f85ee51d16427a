"""One event in, one outcome out, with the dry-run Incident Manager."""

from __future__ import annotations

import pytest

from incident_bridge.adapters.dry_run import DryRunIncidentManager
from incident_bridge.adapters.memory_groups import MemoryGroupStore
from incident_bridge.bridge import Bridge
from incident_bridge.config import BridgeConfig, DefaultRoute
from incident_bridge.outcome import OutcomeKind
from tests.conftest import PLAN_ARN, load_event

EC2_ALARM = "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"


def dry_run_bridge() -> tuple[Bridge, DryRunIncidentManager]:
    incidents = DryRunIncidentManager()
    config = BridgeConfig(default=DefaultRoute(response_plan_arn=PLAN_ARN))
    return Bridge(config, incidents, MemoryGroupStore()), incidents


def test_alarm_starts_an_incident_and_records_the_exact_call() -> None:
    # Given a bridge on the dry-run Incident Manager
    bridge, incidents = dry_run_bridge()

    # When the documented EC2 alarm arrives
    outcome = bridge.handle(load_event(EC2_ALARM))

    # Then one StartIncident was made, and the outcome records exactly what was sent
    assert outcome.kind is OutcomeKind.STARTED
    assert [call.operation for call in outcome.calls] == ["StartIncident"]
    assert outcome.incident_arn is not None
    assert incidents.incidents[outcome.incident_arn].title == outcome.calls[0].params["title"]
    assert outcome.incident_arn.startswith("arn:aws:ssm-incidents::123456789012:incident-record/MyPlan/")


def test_redelivery_has_no_second_effect() -> None:
    # Given a bridge that already handled an event
    bridge, incidents = dry_run_bridge()
    first = bridge.handle(load_event(EC2_ALARM))

    # When the same event is delivered again
    second = bridge.handle(load_event(EC2_ALARM))

    # Then it is recognized as a redelivery: one incident, no further call
    assert first.kind is OutcomeKind.STARTED
    assert second.kind is OutcomeKind.IGNORED
    assert "redelivery" in second.reason
    assert second.calls == ()
    assert len(incidents.incidents) == 1


@pytest.mark.parametrize("state", ["OK", "INSUFFICIENT_DATA"])
def test_states_other_than_alarm_open_nothing_without_an_open_incident(state: str) -> None:
    # Given the documented alarm, changed to another state
    raw = load_event(EC2_ALARM)
    raw["detail"]["state"]["value"] = state
    bridge, incidents = dry_run_bridge()

    # When it is handled
    outcome = bridge.handle(raw)

    # Then nothing is called and the reason names the state
    assert outcome.kind is OutcomeKind.IGNORED
    assert state in outcome.reason
    assert outcome.calls == ()
    assert incidents.incidents == {}


def test_event_that_is_not_an_alarm_is_rejected_as_invalid() -> None:
    # Given a payload the bridge does not understand (the CodeStar Notifications "processed" shape)
    raw = load_event("codestar-notification-codepipeline-pipeline-FAILED-processed-awsdocs-bracefix.json")
    bridge, incidents = dry_run_bridge()

    # When it is handled
    outcome = bridge.handle(raw)

    # Then it is rejected as an invalid event, with no call made
    assert outcome.kind is OutcomeKind.REJECTED
    assert outcome.error_class == "InvalidEvent"
    assert incidents.incidents == {}


def test_request_the_real_api_would_refuse_is_rejected_by_the_dry_run() -> None:
    # Given a configuration built without validation, so its plan ARN is malformed (a bug upstream could do
    # this); the dry-run stand-in is the last line of defence, as the real API would be
    raw = load_event(EC2_ALARM)
    config = BridgeConfig(
        default=DefaultRoute(name="default", response_plan_arn="not-an-arn", impact=3, title="{alarm_name}")
    )
    sabotaged = Bridge(config, DryRunIncidentManager(), MemoryGroupStore())

    # When it is handled
    outcome = sabotaged.handle(raw)

    # Then the stand-in refuses it like the API (ValidationException), as a permanent failure
    assert outcome.kind is OutcomeKind.REJECTED
    assert outcome.error_class == "PermanentApiError"
    assert "ValidationException" in outcome.reason
    assert "responsePlanArn" in outcome.reason
