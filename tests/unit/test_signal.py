"""One Signal at the sources boundary: the label vocabulary (today's configuration spellings pinned onto labels),
the route table resolved once, typed related items, custom events that recover, and the start request built only
where an incident starts."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from incident_bridge import lifecycle
from incident_bridge.adapters.dry_run import DryRunIncidentManager
from incident_bridge.adapters.memory_groups import MemoryGroupStore
from incident_bridge.bridge import Bridge
from incident_bridge.config import BridgeConfig, parse_config
from incident_bridge.incident import StartIncidentRequest, build_start_incident
from incident_bridge.lifecycle import group_key
from incident_bridge.outcome import OutcomeKind
from incident_bridge.routing import RouteDecision, RouteTable, label_for, route, route_table
from incident_bridge.signal import InvolvedResource, Link, LinkRole, MetricQuery, Signal, SignalStatus
from incident_bridge.sources import NotActionable, parse_event
from tests.conftest import PLAN_ARN, load_event

EC2_ALARM = "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
NETWORK_ALARM = "eventbridge-metric-math-alarm-ALARM-from-INSUFFICIENT_DATA-ec2-network-awsdocs.json"
SUPPRESSED = "eventbridge-composite-alarm-ALARM-suppressed-waitperiod-awsdocs.json"
CUSTOM_EVENT = "custom-app-eventbridge-PaymentCreated-no-resources-powertools.json"
OTHER_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/other"


def signal_of(raw: dict[str, Any]) -> Signal:
    parsed = parse_event(raw)
    assert isinstance(parsed, Signal), parsed
    return parsed


def bridge_config(document: dict[str, Any]) -> BridgeConfig:
    return parse_config({"default": {"response_plan_arn": PLAN_ARN}, **document}, origin="test.yaml")


def custom_event(detail: dict[str, Any]) -> dict[str, Any]:
    raw = load_event(CUSTOM_EVENT)
    raw["account"] = "123456789012"  # the sample's account has 13 digits, which no AWS account id has
    raw["detail"] = detail
    return raw


# ---- the vocabulary: every configuration spelling names one label ----


@pytest.mark.parametrize(
    ("spelling", "label"),
    [
        # matcher keys
        ("alarm_name", "alarm_name"),
        ("namespace", "namespace"),
        ("detail-type", "detail_type"),
        ("dimensions.InstanceId", "dimension:InstanceId"),
        ("tags.team", "tag:team"),
        ("detail.$.service.name", "detail:service.name"),
        # group_by fields
        ("alarm_arn", "alarm_arn"),
        ("tag:team", "tag:team"),
        ("dimension:InstanceId", "dimension:InstanceId"),
        # title fields
        ("tag_team", "tag:team"),
        ("tag_cost_center", "tag:cost_center"),
        ("detail_severity", "detail:severity"),
        ("detail_type", "detail_type"),
        ("title", "title"),
    ],
)
def test_each_configuration_spelling_names_one_label(spelling: str, label: str) -> None:
    # Given a spelling the configuration accepts / When it is mapped / Then it names this label
    assert label_for(spelling) == label


def test_the_three_spellings_of_a_tag_read_the_same_label() -> None:
    # Given an alarm tagged team=payments, and a route matching, grouping and titling by the tag in its three spellings
    raw = load_event(EC2_ALARM)
    raw["detail"]["alarmTags"] = {"team": "payments"}
    config = bridge_config(
        {
            "routes": [
                {
                    "name": "payments",
                    "match": {"tags": {"team": "pay*"}},
                    "group_by": ["tag:team"],
                    "title": "[{tag_team}] {alarm_name}",
                }
            ]
        }
    )

    # When the alarm is routed and grouped
    signal = signal_of(raw)
    (decision,) = route(signal, config).decisions

    # Then the matcher, the group key and the title all read the label tag:team
    assert signal.labels["tag:team"] == ("payments",)
    assert decision.reasons == ("tag team 'payments' matches 'pay*'",)
    assert group_key(signal, decision) == "payments|tag:team=payments"
    assert decision.title == "[payments] ServerCpuTooHigh"


# ---- labels of an alarm ----


def test_an_alarm_with_several_metrics_has_multi_valued_labels() -> None:
    # Given the documented metric-math alarm over NetworkIn and NetworkOut of one instance
    signal = signal_of(load_event(NETWORK_ALARM))

    # Then the metric names are one label with both values, in the alarm's order
    assert signal.labels["metric_name"] == ("NetworkIn", "NetworkOut")
    assert signal.labels["namespace"] == ("AWS/EC2",)
    assert signal.labels["dimension:InstanceId"] == ("i-12345678901234567",)
    assert (signal.label("source"), signal.label("detail_type")) == ("aws.cloudwatch", "CloudWatch Alarm State Change")


def test_an_alarm_carries_typed_related_items_in_order() -> None:
    # Given the documented EC2 CPU alarm
    signal = signal_of(load_event(EC2_ALARM))

    # Then its related items are typed: its console page, its metric query, then the instance
    origin, query, instance = signal.related
    assert isinstance(origin, Link)
    assert origin.role is LinkRole.ORIGIN
    assert origin.url.endswith("#alarmsV2:alarm/ServerCpuTooHigh")
    assert isinstance(query, MetricQuery)
    assert query.families() == frozenset({"family:AWS/EC2/CPUUtilization"})
    assert instance == InvolvedResource(
        arn="arn:aws:ec2:us-east-1:123456789012:instance/i-12345678901234567", title=instance.title
    )


def test_an_ok_alarm_is_a_recovering_signal_and_a_suppressed_one_is_not_actionable() -> None:
    # Given the EC2 alarm back to OK, and the documented composite alarm whose actions are suppressed
    raw = load_event(EC2_ALARM)
    raw["detail"]["state"]["value"] = "OK"

    # When both are read
    recovering, suppressed = parse_event(raw), parse_event(load_event(SUPPRESSED))

    # Then the first recovers, the second is ignored by the source with the suppressor named
    assert isinstance(recovering, Signal)
    assert recovering.status is SignalStatus.RECOVERING
    assert isinstance(suppressed, NotActionable)
    assert "suppressed by WaitPeriod" in suppressed.reason


# ---- the route table ----


def test_routes_are_resolved_once_when_the_configuration_loads() -> None:
    # Given a configuration whose route sets only a matcher and a regex
    config = bridge_config(
        {
            "default": {"response_plan_arn": PLAN_ARN, "impact": 2, "group_by": ["alarm_name"], "auto_resolve": True},
            "routes": [{"name": "db", "match": {"alarm_name_regex": "^db-"}, "response_plan_arn": OTHER_PLAN}],
        }
    )

    # When its route table is read twice
    table = route_table(config)

    # Then it is one table, built at load, whose route has what it inherits filled in and its regex compiled
    assert route_table(config) is table
    assert isinstance(table, RouteTable)
    (db,) = table.routes
    assert (db.response_plan_arn, db.impact, db.group_by, db.auto_resolve) == (OTHER_PLAN, 2, ("alarm_name",), True)
    ((test,),) = db.matchers
    assert (test.label, test.regex, test.patterns) == ("alarm_name", True, ("^db-",))


# ---- custom events recover what they opened ----

OPENED = {"title": "Checkout failing", "dedupe_key": "checkout-errors"}


def test_a_resolved_custom_event_recovers_and_resolves_the_incident_its_key_opened() -> None:
    # Given a route that auto-resolves, and a custom event that opened an incident under a dedupe key
    incidents = DryRunIncidentManager()
    config = bridge_config({"routes": [{"name": "app", "match": {"source": "*"}, "auto_resolve": True}]})
    bridge = Bridge(config, incidents, MemoryGroupStore())
    opened = bridge.handle(custom_event(OPENED))

    # When the application says the same key is resolved
    resolved_event = custom_event({**OPENED, "status": "resolved"})
    resolved_event["id"] = "another-delivery"
    outcome = bridge.handle(resolved_event)

    # Then the incident is resolved, with a timeline note naming the event
    assert opened.kind is OutcomeKind.STARTED
    assert outcome.kind is OutcomeKind.RESOLVED
    assert [call.operation for call in outcome.calls] == ["CreateTimelineEvent", "UpdateIncidentRecord"]
    assert "Custom event Checkout failing recovered (resolved)" in outcome.calls[0].params["eventData"]
    assert incidents.incidents[str(opened.incident_arn)].status == "RESOLVED"


def test_a_resolved_custom_event_without_an_open_incident_is_ignored() -> None:
    # Given a bridge that has opened nothing
    bridge = Bridge(bridge_config({}), DryRunIncidentManager(), MemoryGroupStore())

    # When a resolved custom event arrives
    outcome = bridge.handle(custom_event({**OPENED, "status": "resolved"}))

    # Then nothing is called, and the reason says why
    assert outcome.kind is OutcomeKind.IGNORED
    assert outcome.calls == ()
    assert "custom event Checkout failing is resolved and its group has no open incident" in outcome.reason


# ---- the start request is built only where an incident starts ----


def test_the_start_request_is_built_only_for_the_signal_that_starts_the_incident(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a count of start requests built, and three ALARMs of one group arriving one after the other
    built: list[StartIncidentRequest] = []
    real_build = build_start_incident

    def counting(signal: Signal, decision: RouteDecision) -> StartIncidentRequest:
        built.append(real_build(signal, decision))
        return built[-1]

    monkeypatch.setattr(lifecycle, "build_start_incident", counting)  # where the lifecycle looks it up
    bridge = Bridge(
        bridge_config({"default": {"response_plan_arn": PLAN_ARN, "group_by": ["namespace"]}}),
        DryRunIncidentManager(),
        MemoryGroupStore(),
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
    )
    outcomes = []
    for index in range(3):
        raw = load_event(EC2_ALARM)
        raw["id"] = f"delivery-{index}"
        # Each a transition of its own (the same state time again would be the same transition redelivered)
        raw["detail"]["state"]["timestamp"] = f"2019-10-02T17:0{4 + index}:40.989+0000"
        outcomes.append(bridge.handle(raw))

    # Then one incident started, the others joined, and one start request was built
    assert [outcome.kind for outcome in outcomes] == [OutcomeKind.STARTED, OutcomeKind.UPDATED, OutcomeKind.UPDATED]
    assert len(built) == 1


def test_nothing_outside_sources_branches_on_the_kind_of_payload() -> None:
    # Given the package's modules outside sources/ (the payload kinds' own types live in alarm.py and custom.py)
    package = Path(__file__).resolve().parents[2] / "lambdas" / "incident_bridge"
    modules = [
        path
        for path in package.rglob("*.py")
        if "sources" not in path.relative_to(package).parts and path.name not in {"alarm.py", "custom.py"}
    ]

    # When they are searched for the payload kinds' types
    kinds = re.compile(r"\b(NormalizedAlarm|CustomIncident|CustomRequest|ClassicAlarm|AlarmStateChangeEvent)\b")
    mentions = [f"{path.relative_to(package)}:{kinds.search(path.read_text())}" for path in modules
                if kinds.search(path.read_text())]  # fmt: skip

    # Then none names one: routing, grouping, titles and the lifecycle see only Signals
    assert len(modules) > 20
    assert mentions == []
