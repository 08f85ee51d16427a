"""Property: whatever names, sizes and unicode an alarm carries, every request the bridge builds passes the full
ssm-incidents model, and an event it cannot use is rejected, never an unhandled exception."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident_bridge.adapters.api_model import ensure_valid
from incident_bridge.adapters.dry_run import DryRunIncidentManager
from incident_bridge.adapters.memory_groups import MemoryGroupStore
from incident_bridge.bridge import Bridge
from incident_bridge.config import BridgeConfig, DefaultRoute
from incident_bridge.outcome import OutcomeKind
from incident_bridge.resources import supported_namespaces
from tests.conftest import PLAN_ARN, load_event

CATALOGUE = supported_namespaces()
# CloudWatch alarm names: 1-255 UTF-8 characters, no ASCII control characters (PutMetricAlarm reference).
names = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=255)
dimension_values = st.text(max_size=300)
regions = st.sampled_from(["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1", "ap-southeast-3"])


@st.composite
def catalogue_metric(draw: st.DrawFn) -> dict[str, Any]:
    entry = draw(st.sampled_from(CATALOGUE))
    dimensions = {name: draw(dimension_values) for name in entry.dimensions}
    return {
        "id": draw(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)),
        "metricStat": {
            "metric": {"namespace": entry.namespace, "name": draw(names), "dimensions": dimensions},
            "period": draw(st.sampled_from([10, 60, 300])),
            "stat": draw(st.sampled_from(["Average", "Sum", "p99"])),
        },
        "returnData": draw(st.booleans()),
    }


@st.composite
def alarm_state_change(draw: st.DrawFn) -> dict[str, Any]:
    """The documented EC2 alarm with generated name, location, metrics and datapoints."""
    raw = load_event("eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json")
    region = draw(regions)
    partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov") else "aws"
    name = draw(names)
    raw.update(region=region, account="123456789012")
    raw["resources"] = [f"arn:{partition}:cloudwatch:{region}:123456789012:alarm:{name}"]
    raw["detail"]["alarmName"] = name
    raw["detail"]["configuration"]["description"] = draw(st.text(max_size=2000))
    raw["detail"]["configuration"]["metrics"] = draw(st.lists(catalogue_metric(), min_size=0, max_size=130))
    reason_data = {"recentDatapoints": draw(st.lists(st.floats(allow_nan=False), max_size=1500))}
    raw["detail"]["state"]["reasonData"] = json.dumps(reason_data)
    raw["detail"]["state"]["reason"] = draw(st.text(max_size=3000))
    return raw


def bridge() -> tuple[Bridge, DryRunIncidentManager]:
    incidents = DryRunIncidentManager()
    config = BridgeConfig(default=DefaultRoute(response_plan_arn=PLAN_ARN, title="{alarm_name} — {reason}"))
    return Bridge(config, incidents, MemoryGroupStore()), incidents


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(alarm_state_change())
def test_every_generated_alarm_yields_a_request_the_api_accepts(raw: dict[str, Any]) -> None:
    # Given a generated alarm state change and a title template that includes the free-text reason
    subject, incidents = bridge()

    # When the bridge handles it
    outcome = subject.handle(raw)

    # Then it started an incident (the stand-in validated the request against the model), and the request
    # independently passes the full model too
    assert outcome.kind is OutcomeKind.STARTED, outcome.reason
    [call] = outcome.calls
    ensure_valid(call.operation, call.params)
    assert len(call.params["relatedItems"]) <= 100
    assert len(incidents.incidents) == 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["detail", "alarmData"]), st.text(max_size=12), json_values)
def test_a_mangled_field_is_rejected_or_handled_never_raised(envelope: str, key: str, value: object) -> None:
    # Given a real alarm payload with one field of its alarm body replaced by an arbitrary JSON value
    name = (
        "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
        if envelope == "detail"
        else "lambda-action-metric-alarm-ALARM-from-INSUFFICIENT_DATA-aws-lambda-java-libs.json"
    )
    raw = load_event(name)
    raw[envelope][key or "state"] = value
    subject, _ = bridge()

    # When the bridge handles it
    outcome = subject.handle(raw)

    # Then it gives an outcome (started, ignored or rejected with a reason), not an exception
    assert outcome.kind in {OutcomeKind.STARTED, OutcomeKind.IGNORED, OutcomeKind.REJECTED}
    assert outcome.reason


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=20), st.sampled_from(["\n", "\t", "\x00", "\x7f"]))
def test_alarm_name_with_control_characters_is_rejected_with_a_reason(name: str, control: str) -> None:
    # Given the documented alarm renamed to something CloudWatch itself would never allow
    raw = load_event("eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json")
    raw["detail"]["alarmName"] = name + control
    raw["resources"] = []
    subject, incidents = bridge()

    # When the bridge handles it
    outcome = subject.handle(raw)

    # Then it either started a valid incident (the control character is allowed in the title, as DEL is) or
    # rejected it, naming the alarm ARN; nothing invalid ever reached Incident Manager
    assert outcome.kind in {OutcomeKind.STARTED, OutcomeKind.REJECTED}
    if outcome.kind is OutcomeKind.REJECTED:
        assert "alarm ARN" in outcome.reason
    for call in outcome.calls:
        ensure_valid(call.operation, call.params)
    assert len(incidents.incidents) == len(outcome.calls)
