"""The incident lifecycle with the dry-run Incident Manager and the in-memory group store: one incident per problem.

Every alarm event is a copy of the documented EC2 CPU alarm (events/), changed only where a test needs it
(name and ARN, instance, tags, state, id, state time). A controllable clock stands in for "now", so flap windows
and TTLs are exact. Every call the bridge records is checked against botocore's full ssm-incidents model.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from incident_bridge.adapters.api_model import ensure_valid
from incident_bridge.adapters.dry_run import DryRunIncident, DryRunIncidentManager
from incident_bridge.adapters.memory_groups import MemoryGroupStore
from incident_bridge.bridge import Bridge
from incident_bridge.config import BridgeConfig, parse_config
from incident_bridge.errors import TransientApiError
from incident_bridge.groups import GroupRecord, GroupStatus
from incident_bridge.incident import StartIncidentRequest
from incident_bridge.lifecycle import group_key
from incident_bridge.outcome import ApiCall, IgnoreReason, Outcome, OutcomeKind
from incident_bridge.routing import route
from incident_bridge.signal import Signal
from incident_bridge.sources import parse_event
from tests.conftest import PLAN_ARN, load_event

EC2_ALARM = "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
SAMPLE_NAME = "ServerCpuTooHigh"
SAMPLE_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"
SAMPLE_INSTANCE = "i-12345678901234567"
ALARM_ARN_PREFIX = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"
INSTANCE_ARN_PREFIX = "arn:aws:ec2:us-east-1:123456789012:instance/"
# The sample's own OK reason (its previousState), used when a copy is switched to OK.
OK_REASON = (
    "Threshold Crossed: 1 out of the last 1 datapoints [0.0666851903306472 (01/10/19 13:46:00)] was not greater "
    "than the threshold (50.0) (minimum 1 datapoint for ALARM -> OK transition)."
)
# Just after the sample's state change (2019-10-02T17:04:40.989Z).
START = datetime(2019, 10, 2, 17, 5, tzinfo=UTC)


# ---- events: copies of the real sample, changed where the test says ----


def alarm_event(
    name: str = SAMPLE_NAME,
    *,
    event_id: str | None = None,
    instance_id: str = SAMPLE_INSTANCE,
    tags: dict[str, str] | None = None,
    state: str = "ALARM",
    state_time: str | None = None,
) -> dict[str, Any]:
    event = load_event(EC2_ALARM)
    if name != SAMPLE_NAME:
        event["detail"]["alarmName"] = name
        event["resources"] = [ALARM_ARN_PREFIX + name]
    if event_id is not None:
        event["id"] = event_id
    if instance_id != SAMPLE_INSTANCE:
        event["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"]["InstanceId"] = instance_id
    if tags is not None:
        event["detail"]["alarmTags"] = tags
    if state != "ALARM":
        event["detail"]["state"]["value"] = state
        event["detail"]["state"]["reason"] = OK_REASON
    if state_time is not None:
        event["detail"]["state"]["timestamp"] = state_time
    return event


def ok_event(alarm: dict[str, Any], event_id: str, state_time: str = "2019-10-02T17:24:40.989+0000") -> dict[str, Any]:
    """The OK transition of `alarm`: same alarm, state OK with the sample's OK reason, a new id and time."""
    event = copy.deepcopy(alarm)
    event["id"] = event_id
    event["detail"]["state"]["value"] = "OK"
    event["detail"]["state"]["reason"] = OK_REASON
    event["detail"]["state"]["timestamp"] = state_time
    return event


def config(flap_window_seconds: int = 900, **default: Any) -> BridgeConfig:
    document = {"default": {"response_plan_arn": PLAN_ARN, **default}, "flap_window_seconds": flap_window_seconds}
    return parse_config(document, origin="tests/unit/test_lifecycle")


def normalized(event: dict[str, Any]) -> Signal:
    parsed = parse_event(event)
    assert isinstance(parsed, Signal)
    return parsed


def key_of(event: dict[str, Any], bridge_config: BridgeConfig) -> str:
    alarm = normalized(event)
    [decision] = route(alarm, bridge_config).decisions
    return group_key(alarm, decision)


# ---- the harness: a bridge, its dry-run Incident Manager, its groups and its clock ----


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Harness:
    bridge_config: BridgeConfig
    incidents: DryRunIncidentManager = field(default_factory=DryRunIncidentManager)
    groups: MemoryGroupStore = field(default_factory=MemoryGroupStore)
    clock: Clock = field(default_factory=Clock)
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bridge = Bridge(self.bridge_config, self.incidents, self.groups, clock=self.clock)

    def handle(self, event: dict[str, Any]) -> Outcome:
        outcome = self.bridge.handle(event)
        # Every request, in every outcome, must be one the live API accepts.
        for call in outcome.calls:
            ensure_valid(call.operation, call.params)
        self.outcomes.append(outcome)
        return outcome

    def incident(self, arn: str | None) -> DryRunIncident:
        assert arn is not None
        return self.incidents.incidents[arn]

    def record(self, event: dict[str, Any]) -> GroupRecord:
        return self.groups.records[key_of(event, self.bridge_config)]

    def states(self, event: dict[str, Any]) -> dict[str, str]:
        """The group's alarm states, without their state times."""
        return {arn: mark.state.value for arn, mark in self.record(event).alarm_states.items()}

    def all_calls(self) -> Iterator[ApiCall]:
        for outcome in self.outcomes:
            yield from outcome.calls


def operations(outcome: Outcome) -> list[str]:
    return [call.operation for call in outcome.calls]


def timeline_texts(outcome: Outcome) -> list[str]:
    return [call.params["eventData"] for call in outcome.calls if call.operation == "CreateTimelineEvent"]


def involved_arns(incident: DryRunIncident) -> list[str]:
    return [
        item["identifier"]["value"]["arn"]
        for item in incident.related_items
        if item["identifier"]["type"] == "INVOLVED_RESOURCE"
    ]


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


# ---- group keys ----


def test_group_key_defaults_to_the_alarm_arn() -> None:
    # Given a default route without group_by
    bridge_config = config()

    # When the key of the documented alarm is computed
    key = key_of(alarm_event(), bridge_config)

    # Then it is the route name and the alarm ARN
    assert key == f"default|alarm_arn={SAMPLE_ARN}"


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        (["alarm_name"], "default|alarm_name=ServerCpuTooHigh"),
        (["tag:service"], "default|tag:service=checkout"),
        (["namespace", "dimension:InstanceId"], "default|namespace=AWS/EC2|dimension:InstanceId=i-12345678901234567"),
        (
            ["account", "region", "metric_name"],
            "default|account=123456789012|region=us-east-1|metric_name=CPUUtilization",
        ),
    ],
)
def test_group_key_is_made_of_the_group_by_fields_in_order(group_by: list[str], expected: str) -> None:
    # Given a default route grouping by these fields, and the sample tagged service=checkout
    event = alarm_event(tags={"service": "checkout"})

    # When the key is computed
    key = key_of(event, config(group_by=group_by))

    # Then it names each field and its value, in the configured order
    assert key == expected


def test_a_route_prefixes_its_keys_so_two_routes_never_share_a_group() -> None:
    # Given a `continue` route and a second route that both catch the alarm and group by tag:service
    bridge_config = parse_config(
        {
            "default": {"response_plan_arn": PLAN_ARN, "group_by": ["tag:service"]},
            "routes": [
                {"name": "checkout", "match": {"tags": {"service": "checkout"}}, "continue": True},
                {"name": "ec2", "match": {"namespace": "AWS/EC2"}},
            ],
        },
        origin="test",
    )
    alarm = normalized(alarm_event(tags={"service": "checkout"}))

    # When the alarm is routed and each decision's key computed
    keys = [group_key(alarm, decision) for decision in route(alarm, bridge_config).decisions]

    # Then each route has its own key
    assert keys == ["checkout|tag:service=checkout", "ec2|tag:service=checkout"]


def test_a_missing_tag_falls_back_to_the_alarm_itself() -> None:
    # Given a route grouping by tag:service, and two alarms that carry no such tag
    harness = Harness(config(group_by=["tag:service"]))
    first = alarm_event("checkout-cpu-high", tags={"team": "payments"})
    second = alarm_event("checkout-disk-full", event_id="a-second-alarm", tags={})

    # When their keys are computed and both fire
    keys = [key_of(first, harness.bridge_config), key_of(second, harness.bridge_config)]
    outcomes = [harness.handle(first), harness.handle(second)]

    # Then each alarm is its own group: unrelated alarms are not merged under an empty value
    assert keys == [
        f"default|tag:service=?{ALARM_ARN_PREFIX}checkout-cpu-high",
        f"default|tag:service=?{ALARM_ARN_PREFIX}checkout-disk-full",
    ]
    assert [outcome.kind for outcome in outcomes] == [OutcomeKind.STARTED, OutcomeKind.STARTED]
    assert outcomes[0].incident_arn != outcomes[1].incident_arn
    assert len(harness.incidents.incidents) == 2


def test_a_key_longer_than_512_bytes_is_hashed() -> None:
    # Given alarms whose names are CloudWatch's longest (255 characters), grouped by ARN and name
    long_name = "checkout-" + "x" * 246
    other_name = "checkout-" + "y" * 246
    bridge_config = config(group_by=["alarm_arn", "alarm_name"])

    # When their keys are computed
    key = key_of(alarm_event(long_name), bridge_config)
    other = key_of(alarm_event(other_name), bridge_config)

    # Then each key is the route and the SHA-256 of the full key, and different alarms stay different
    full_key = f"default|alarm_arn={ALARM_ARN_PREFIX}{long_name}|alarm_name={long_name}"
    assert len(full_key.encode()) > 512
    assert key == "default|sha256=" + hashlib.sha256(full_key.encode()).hexdigest()
    assert len(key) == len("default|sha256=") + 64
    assert other != key


def test_key_length_is_counted_in_bytes_not_characters() -> None:
    # Given a tag value of 256 two-byte characters (the longest tag value): the key is 276 characters, 532 bytes
    value = "é" * 256
    full_key = f"default|tag:service={value}"
    assert (len(full_key), len(full_key.encode())) == (276, 532)

    # When the key is computed
    key = key_of(alarm_event(tags={"service": value}), config(group_by=["tag:service"]))

    # Then it is hashed, as DynamoDB's key limit is in bytes
    assert key == "default|sha256=" + hashlib.sha256(full_key.encode()).hexdigest()


# ---- grouping: one incident per problem ----


def forty_alarms_of_one_service() -> list[dict[str, Any]]:
    """Two alarms on each of 20 instances, all tagged service=checkout."""
    events: list[dict[str, Any]] = []
    for kind in ("cpu", "status"):
        for number in range(1, 21):
            index = len(events) + 1
            events.append(
                alarm_event(
                    f"checkout-{kind}-{number:02d}",
                    event_id=f"c4c1c1c9-6542-e61b-6ef0-{index:012d}",
                    instance_id=f"i-{number:017d}",
                    tags={"service": "checkout"},
                )
            )
    return events


def test_forty_alarms_of_one_service_open_one_incident_holding_every_instance_once() -> None:
    # Given a route grouping by the service tag, and 40 alarms of that service (two per instance)
    harness = Harness(config(group_by=["tag:service"]))
    events = forty_alarms_of_one_service()

    # When they all fire
    outcomes = [harness.handle(event) for event in events]

    # Then one incident is started and the 39 others join it
    assert [outcome.kind for outcome in outcomes] == [OutcomeKind.STARTED] + [OutcomeKind.UPDATED] * 39
    assert [call.operation for call in harness.all_calls()].count("StartIncident") == 1
    assert len(harness.incidents.incidents) == 1
    incident_arn = outcomes[0].incident_arn
    assert {outcome.incident_arn for outcome in outcomes} == {incident_arn}
    # And the first alarm of each instance adds its instance (the metric is charted once, each alarm is named by
    # its timeline note); the second alarm on an instance adds nothing but its note
    assert operations(outcomes[0]) == ["StartIncident"]
    assert all(
        operations(o) == ["GetIncidentRecord", "UpdateRelatedItems", "CreateTimelineEvent"] for o in outcomes[1:20]
    )
    assert all(operations(o) == ["GetIncidentRecord", "CreateTimelineEvent"] for o in outcomes[20:])
    first_on_instance = [call.params for call in outcomes[1].calls if call.operation == "UpdateRelatedItems"]
    assert [p["relatedItemsUpdate"]["itemToAdd"]["identifier"]["type"] for p in first_on_instance] == [
        "INVOLVED_RESOURCE"
    ]
    # And the incident holds every instance exactly once, and no item twice
    incident = harness.incident(incident_arn)
    assert involved_arns(incident) == [f"{INSTANCE_ARN_PREFIX}i-{number:017d}" for number in range(1, 21)]
    identifiers = [str(item["identifier"]) for item in incident.related_items]
    assert len(identifiers) == len(set(identifiers)) == 3 + 19
    # And each joining alarm is on the timeline, in order
    assert incident.timeline == [f"{event['detail']['alarmName']} fired." for event in events[1:]]


def test_joining_adds_only_what_the_incident_lacks_and_a_timeline_event() -> None:
    # Given an open incident for the sample alarm, grouped by namespace
    harness = Harness(config(group_by=["namespace"]))
    first = harness.handle(alarm_event())

    # When another alarm on the same instance fires, then the first alarm fires again (a new transition)
    sibling = harness.handle(alarm_event("ServerCpuStillHigh", event_id="sibling-1"))
    again = harness.handle(alarm_event(event_id="again-1", state_time="2019-10-02T17:34:40.989+0000"))

    # Then the sibling checks the incident is still open, adds no item (its instance is attached, its metric
    # charted) and one timeline note naming it
    incident_arn = first.incident_arn
    assert incident_arn is not None
    assert sibling.kind is OutcomeKind.UPDATED
    assert sibling.calls == (
        ApiCall("GetIncidentRecord", {"arn": incident_arn}),
        ApiCall(
            "CreateTimelineEvent",
            {
                "clientToken": sibling.calls[1].params["clientToken"],
                "incidentRecordArn": incident_arn,
                "eventTime": datetime(2019, 10, 2, 17, 4, 40, 989000, tzinfo=UTC),
                "eventType": "Custom Event",
                "eventData": '"ServerCpuStillHigh fired."',
                "eventReferences": [{"resource": f"{ALARM_ARN_PREFIX}ServerCpuStillHigh"}],
            },
        ),
    )
    # And the first alarm firing again adds nothing but a timeline event
    assert again.kind is OutcomeKind.UPDATED
    assert operations(again) == ["GetIncidentRecord", "CreateTimelineEvent"]
    assert timeline_texts(again) == ['"ServerCpuTooHigh fired."']
    assert again.calls[1].params["eventTime"] == datetime(2019, 10, 2, 17, 34, 40, 989000, tzinfo=UTC)
    assert len(harness.incident(incident_arn).related_items) == 3


# ---- recovery and resolution ----


def test_ok_of_one_alarm_records_its_recovery_on_the_open_incident() -> None:
    # Given two alarms of one namespace in ALARM, sharing an incident
    harness = Harness(config(group_by=["namespace"], auto_resolve=True))
    first = alarm_event()
    started = harness.handle(first)
    harness.handle(alarm_event("ServerCpuStillHigh", event_id="sibling-1"))

    # When the first returns to OK
    outcome = harness.handle(ok_event(first, "ok-1"))

    # Then the recovery is a timeline event on that incident, which stays open for the other alarm
    assert outcome.kind is OutcomeKind.UPDATED
    assert outcome.incident_arn == started.incident_arn
    assert outcome.calls == (
        ApiCall(
            "CreateTimelineEvent",
            {
                "clientToken": outcome.calls[0].params["clientToken"],
                "incidentRecordArn": started.incident_arn,
                "eventTime": datetime(2019, 10, 2, 17, 24, 40, 989000, tzinfo=UTC),
                "eventType": "Custom Event",
                "eventData": f'"Alarm ServerCpuTooHigh recovered (OK): {OK_REASON} 1 still in ALARM."',
                "eventReferences": [{"resource": SAMPLE_ARN}],
            },
        ),
    )
    assert harness.incident(started.incident_arn).status == "OPEN"
    assert harness.states(first) == {
        SAMPLE_ARN: "OK",
        f"{ALARM_ARN_PREFIX}ServerCpuStillHigh": "ALARM",
    }


def test_when_every_alarm_is_ok_an_auto_resolving_route_resolves_the_incident() -> None:
    # Given two alarms sharing an incident on a route with auto_resolve, the first already back to OK
    harness = Harness(config(group_by=["namespace"], auto_resolve=True))
    first, second = alarm_event(), alarm_event("ServerCpuStillHigh", event_id="sibling-1")
    started = harness.handle(first)
    harness.handle(second)
    harness.handle(ok_event(first, "ok-1"))

    # When the second returns to OK
    outcome = harness.handle(ok_event(second, "ok-2", "2019-10-02T17:29:40.989+0000"))

    # Then recovery is recorded and the incident resolved
    assert outcome.kind is OutcomeKind.RESOLVED
    assert operations(outcome) == ["CreateTimelineEvent", "UpdateIncidentRecord"]
    assert timeline_texts(outcome) == [
        f'"Alarm ServerCpuStillHigh recovered (OK): {OK_REASON} All alarms of this incident are OK."'
    ]
    assert outcome.calls[1].params == {
        "arn": started.incident_arn,
        "clientToken": outcome.calls[1].params["clientToken"],
        "status": "RESOLVED",
    }
    assert harness.incident(started.incident_arn).status == "RESOLVED"
    record = harness.record(first)
    assert (record.status, record.resolved_by_bridge, record.resolved_at) == (GroupStatus.RESOLVED, True, START)


@pytest.mark.parametrize("auto_resolve", [False, None], ids=["auto_resolve-false", "auto_resolve-unset"])
def test_without_auto_resolve_the_incident_is_left_open_and_the_timeline_says_so(auto_resolve: bool | None) -> None:
    # Given a route that does not auto-resolve (explicitly, or by the default), and an open incident
    settings = {} if auto_resolve is None else {"auto_resolve": auto_resolve}
    harness = Harness(config(**settings))
    first = alarm_event()
    started = harness.handle(first)

    # When its only alarm returns to OK, and later fires again
    recovered = harness.handle(ok_event(first, "ok-1"))
    refired = harness.handle(alarm_event(event_id="again-1", state_time="2019-10-02T17:44:40.989+0000"))

    # Then recovery is recorded, nothing is resolved, and the next ALARM joins the same incident
    assert recovered.kind is OutcomeKind.UPDATED
    assert operations(recovered) == ["CreateTimelineEvent"]
    assert timeline_texts(recovered) == [
        f'"Alarm ServerCpuTooHigh recovered (OK): {OK_REASON} All alarms of this incident are OK. '
        'Left open: the route does not auto-resolve."'
    ]
    assert harness.incident(started.incident_arn).status == "OPEN"
    assert harness.record(first).status is GroupStatus.OPEN
    assert refired.kind is OutcomeKind.UPDATED
    assert refired.incident_arn == started.incident_arn
    assert len(harness.incidents.incidents) == 1


def test_ok_without_an_open_group_is_ignored() -> None:
    # Given a bridge that has seen no alarm
    harness = Harness(config(auto_resolve=True))

    # When an OK arrives
    outcome = harness.handle(ok_event(alarm_event(), "ok-1"))

    # Then nothing is called, and the OK is remembered without an incident (an OK before its ALARM is kept, so
    # that older ALARM is not applied when it arrives)
    assert outcome.kind is OutcomeKind.IGNORED
    assert outcome.ignore_reason is IgnoreReason.NO_OPEN_INCIDENT
    assert outcome.reason == "alarm ServerCpuTooHigh is OK and its group has no open incident (route default)"
    assert outcome.calls == ()
    [record] = harness.groups.records.values()
    assert (record.status, record.incident_arn) == (GroupStatus.RESOLVED, None)
    assert {arn: mark.state.value for arn, mark in record.alarm_states.items()} == {SAMPLE_ARN: "OK"}


def test_ok_after_the_bridge_resolved_the_group_is_ignored() -> None:
    # Given an incident the bridge resolved
    harness = Harness(config(auto_resolve=True))
    first = alarm_event()
    harness.handle(first)
    harness.handle(ok_event(first, "ok-1"))

    # When another OK of that alarm arrives (a new delivery)
    outcome = harness.handle(ok_event(first, "ok-2", "2019-10-02T17:30:40.989+0000"))

    # Then it is ignored
    assert outcome.kind is OutcomeKind.IGNORED
    assert outcome.calls == ()


# ---- redelivery ----


def test_redelivered_events_have_no_second_effect() -> None:
    # Given two alarms of a group firing and recovering, on an auto-resolving route
    harness = Harness(config(group_by=["namespace"], auto_resolve=True))
    first, second = alarm_event(), alarm_event("ServerCpuStillHigh", event_id="sibling-1")
    first_ok, second_ok = ok_event(first, "ok-1"), ok_event(second, "ok-2")
    sequence = [first, second, first_ok, second_ok]

    # When each event is delivered twice in a row
    outcomes = [(harness.handle(event), harness.handle(event)) for event in sequence]

    # Then each first delivery acts and each second is ignored without a call
    assert [(a.kind, b.kind) for a, b in outcomes] == [
        (OutcomeKind.STARTED, OutcomeKind.IGNORED),
        (OutcomeKind.UPDATED, OutcomeKind.IGNORED),
        (OutcomeKind.UPDATED, OutcomeKind.IGNORED),
        (OutcomeKind.RESOLVED, OutcomeKind.IGNORED),
    ]
    assert all(second.calls == () for _, second in outcomes)
    assert "already processed" in outcomes[0][1].reason
    assert "already processed" in outcomes[1][1].reason
    assert "already processed" in outcomes[2][1].reason
    # And the incident saw each effect once
    [incident] = harness.incidents.incidents.values()
    assert incident.timeline == [
        "ServerCpuStillHigh fired.",
        f"Alarm ServerCpuTooHigh recovered (OK): {OK_REASON} 1 still in ALARM.",
        f"Alarm ServerCpuStillHigh recovered (OK): {OK_REASON} All alarms of this incident are OK.",
    ]


def test_redelivery_of_a_joining_alarm_leaves_the_group_record_unchanged() -> None:
    # Given a joined group
    harness = Harness(config(group_by=["namespace"]))
    harness.handle(alarm_event())
    second = alarm_event("ServerCpuStillHigh", event_id="sibling-1")
    harness.handle(second)
    before = harness.record(second)

    # When the joining alarm is redelivered
    outcome = harness.handle(second)

    # Then the record (version included) is untouched
    assert outcome.kind is OutcomeKind.IGNORED
    assert harness.record(second) == before


def test_an_ok_redelivered_after_the_group_restarted_does_not_resolve_the_new_incident() -> None:
    # Given an incident the bridge resolved on ok-1, and a new incident for the same alarm after the flap window
    harness = Harness(config(auto_resolve=True))
    first = alarm_event()
    first_ok = ok_event(first, "ok-1")
    harness.handle(first)
    harness.handle(first_ok)
    harness.clock.advance(minutes=20)
    restarted = harness.handle(alarm_event(event_id="again-1", state_time="2019-10-02T17:44:40.989+0000"))
    assert restarted.kind is OutcomeKind.STARTED

    # When ok-1, already processed, is delivered again (an SQS redelivery or a DLQ redrive)
    outcome = harness.handle(first_ok)

    # Then it is a redelivery: the new incident, whose alarm is in ALARM, stays open
    assert outcome.kind is OutcomeKind.IGNORED
    assert outcome.calls == ()
    assert harness.incident(restarted.incident_arn).status == "OPEN"


def test_the_same_event_twice_in_one_batch_starts_once_and_reports_one_redelivery() -> None:
    # Given one alarm event delivered as two messages of one batch (at-least-once delivery into the queue)
    harness = Harness(config())
    event = alarm_event()

    # When the batch is handled
    results = harness.bridge.handle_batch([("msg-1", event), ("msg-2", copy.deepcopy(event))])

    # Then one message started the incident and the other is reported as a redelivery
    first, second = results["msg-1"], results["msg-2"]
    assert len(harness.incidents.incidents) == 1
    assert isinstance(first, Outcome)
    assert isinstance(second, Outcome)
    assert (first.kind, second.kind) == (OutcomeKind.STARTED, OutcomeKind.IGNORED)
    assert second.calls == ()


# ---- human resolution, deletion ----


def test_after_a_human_resolved_the_incident_the_next_alarm_starts_a_new_one() -> None:
    # Given an open incident for the group, which a responder then resolves in Incident Manager
    harness = Harness(config(group_by=["namespace"]))
    started = harness.handle(alarm_event())
    harness.incident(started.incident_arn).status = "RESOLVED"

    # When another alarm of the group fires
    second = alarm_event("ServerCpuStillHigh", event_id="sibling-1")
    outcome = harness.handle(second)

    # Then the status read finds it resolved, a new incident is started and the resolved one is left alone
    assert outcome.kind is OutcomeKind.STARTED
    assert operations(outcome) == ["GetIncidentRecord", "StartIncident"]
    assert outcome.incident_arn not in (None, started.incident_arn)
    assert len(harness.incidents.incidents) == 2
    assert harness.incident(started.incident_arn).timeline == []
    assert harness.incident(outcome.incident_arn).title == "ServerCpuStillHigh is in ALARM (123456789012, us-east-1)"
    record = harness.record(second)
    assert (record.status, record.incident_arn) == (GroupStatus.OPEN, outcome.incident_arn)


def test_when_the_incident_no_longer_exists_the_next_alarm_starts_a_new_one() -> None:
    # Given an open incident for the group, which is then deleted
    harness = Harness(config(group_by=["namespace"]))
    started = harness.handle(alarm_event())
    assert started.incident_arn is not None
    del harness.incidents.incidents[started.incident_arn]

    # When another alarm of the group fires
    outcome = harness.handle(alarm_event("ServerCpuStillHigh", event_id="sibling-1"))

    # Then the status read finds no incident, and a fresh one is started
    assert outcome.kind is OutcomeKind.STARTED
    assert operations(outcome) == ["GetIncidentRecord", "StartIncident"]
    assert outcome.incident_arn is not None
    assert outcome.incident_arn != started.incident_arn
    assert list(harness.incidents.incidents) == [outcome.incident_arn]


# ---- flapping ----


def resolved_by_the_bridge(harness: Harness) -> Outcome:
    """ALARM then OK of the sample on an auto-resolving route; the clock is at START when it resolves."""
    first = alarm_event()
    started = harness.handle(first)
    resolved = harness.handle(ok_event(first, "ok-1"))
    assert (started.kind, resolved.kind) == (OutcomeKind.STARTED, OutcomeKind.RESOLVED)
    return started


@pytest.mark.parametrize("seconds_later", [1, 600, 900])
def test_an_alarm_firing_again_within_the_flap_window_reopens_the_same_incident(seconds_later: int) -> None:
    # Given an incident the bridge resolved, with a 900-second flap window
    harness = Harness(config(flap_window_seconds=900, auto_resolve=True))
    started = resolved_by_the_bridge(harness)

    # When the alarm fires again within the window
    harness.clock.advance(seconds=seconds_later)
    outcome = harness.handle(alarm_event(event_id="again-1", state_time="2019-10-02T17:34:40.989+0000"))

    # Then the same incident is reopened and the new firing recorded; nothing is re-attached
    assert outcome.kind is OutcomeKind.UPDATED
    assert outcome.incident_arn == started.incident_arn
    assert operations(outcome) == ["GetIncidentRecord", "UpdateIncidentRecord", "CreateTimelineEvent"]
    assert outcome.calls[0].params == {"arn": started.incident_arn}
    assert outcome.calls[1].params == {
        "arn": started.incident_arn,
        "clientToken": outcome.calls[1].params["clientToken"],
        "status": "OPEN",
    }
    assert timeline_texts(outcome) == ['"ServerCpuTooHigh fired again within the flap window."']
    assert harness.incident(started.incident_arn).status == "OPEN"
    assert len(harness.incidents.incidents) == 1
    record = harness.record(alarm_event())
    assert (record.status, record.resolved_at, record.resolved_by_bridge) == (GroupStatus.OPEN, None, False)


def test_a_reopened_incident_is_resolved_again_when_its_alarm_recovers() -> None:
    # Given an incident the bridge resolved and then reopened within the flap window
    harness = Harness(config(auto_resolve=True))
    started = resolved_by_the_bridge(harness)
    harness.clock.advance(minutes=5)
    again = alarm_event(event_id="again-1", state_time="2019-10-02T17:34:40.989+0000")
    harness.handle(again)

    # When the alarm recovers again
    outcome = harness.handle(ok_event(again, "ok-2", "2019-10-02T17:39:40.989+0000"))

    # Then the same incident is resolved again
    assert outcome.kind is OutcomeKind.RESOLVED
    assert outcome.incident_arn == started.incident_arn
    assert harness.incident(started.incident_arn).status == "RESOLVED"


@pytest.mark.parametrize(("flap_window_seconds", "seconds_later"), [(900, 901), (900, 3600), (120, 121), (0, 1)])
def test_an_alarm_firing_again_after_the_flap_window_starts_a_new_incident(
    flap_window_seconds: int, seconds_later: int
) -> None:
    # Given an incident the bridge resolved
    harness = Harness(config(flap_window_seconds=flap_window_seconds, auto_resolve=True))
    started = resolved_by_the_bridge(harness)

    # When the alarm fires again after the window
    harness.clock.advance(seconds=seconds_later)
    outcome = harness.handle(alarm_event(event_id="again-1", state_time="2019-10-02T18:34:40.989+0000"))

    # Then a new incident is started and the resolved one stays resolved
    assert outcome.kind is OutcomeKind.STARTED
    assert operations(outcome) == ["StartIncident"]
    assert outcome.incident_arn not in (None, started.incident_arn)
    assert harness.incident(started.incident_arn).status == "RESOLVED"
    assert harness.incident(outcome.incident_arn).status == "OPEN"


def test_a_human_resolved_incident_is_not_reopened_within_the_flap_window() -> None:
    # Given an incident the bridge left open (no auto_resolve), that a responder resolved a minute ago
    harness = Harness(config())
    first = alarm_event()
    started = harness.handle(first)
    harness.handle(ok_event(first, "ok-1"))
    harness.incident(started.incident_arn).status = "RESOLVED"
    harness.clock.advance(minutes=1)

    # When the alarm fires again
    outcome = harness.handle(alarm_event(event_id="again-1", state_time="2019-10-02T17:34:40.989+0000"))

    # Then the responder's decision stands: a new incident is started
    assert outcome.kind is OutcomeKind.STARTED
    assert outcome.incident_arn != started.incident_arn
    assert harness.incident(started.incident_arn).status == "RESOLVED"


def test_an_alarm_within_the_flap_window_of_a_deleted_incident_starts_a_new_one() -> None:
    # Given an incident the bridge resolved, which is then deleted
    harness = Harness(config(auto_resolve=True))
    started = resolved_by_the_bridge(harness)
    assert started.incident_arn is not None
    del harness.incidents.incidents[started.incident_arn]

    # When the alarm fires again within the flap window
    harness.clock.advance(minutes=5)
    outcome = harness.handle(alarm_event(event_id="again-1", state_time="2019-10-02T17:34:40.989+0000"))

    # Then a fresh incident is started
    assert outcome.kind is OutcomeKind.STARTED


# ---- TTL ----


def test_open_groups_expire_90_days_after_their_last_update() -> None:
    # Given a clock at START
    harness = Harness(config(group_by=["namespace"]))
    first = alarm_event()

    # When the group opens, and a second alarm joins a day later
    harness.handle(first)
    opened = harness.record(first).expires_at
    harness.clock.advance(days=1)
    harness.handle(alarm_event("ServerCpuStillHigh", event_id="sibling-1"))
    joined = harness.record(first).expires_at

    # Then the TTL is 90 days after each write (2019-10-02 + 90 days = 2019-12-31)
    assert opened == epoch(datetime(2019, 12, 31, 17, 5, tzinfo=UTC))
    assert joined == epoch(datetime(2020, 1, 1, 17, 5, tzinfo=UTC))


def test_resolved_groups_expire_30_days_after_resolution() -> None:
    # Given an open group on an auto-resolving route
    harness = Harness(config(auto_resolve=True))
    first = alarm_event()
    harness.handle(first)

    # When its alarm recovers 20 minutes later
    harness.clock.advance(minutes=20)
    harness.handle(ok_event(first, "ok-1"))

    # Then the record expires 30 days after the resolution
    record = harness.record(first)
    assert record.status is GroupStatus.RESOLVED
    assert record.resolved_at == datetime(2019, 10, 2, 17, 25, tzinfo=UTC)
    assert record.expires_at == epoch(datetime(2019, 11, 1, 17, 25, tzinfo=UTC))


def test_reopening_within_the_flap_window_restores_the_open_ttl() -> None:
    # Given a group the bridge resolved
    harness = Harness(config(auto_resolve=True))
    resolved_by_the_bridge(harness)

    # When it is reopened five minutes later
    harness.clock.advance(minutes=5)
    harness.handle(alarm_event(event_id="again-1", state_time="2019-10-02T17:34:40.989+0000"))

    # Then it expires 90 days after the reopening
    assert harness.record(alarm_event()).expires_at == epoch(datetime(2019, 12, 31, 17, 10, tzinfo=UTC))


# ---- claims and concurrency (in memory; DynamoDB in tests/handler/test_lifecycle_dynamodb.py) ----


def test_an_alarm_arriving_while_another_invocation_opens_the_group_is_retried() -> None:
    # Given a group another invocation claimed 10 seconds ago and is still opening
    harness = Harness(config())
    key = key_of(alarm_event(), harness.bridge_config)
    claim = GroupRecord(key, GroupStatus.PENDING, 1, client_token="someone-else", claimed_at=START)
    harness.groups.records[key] = claim
    harness.clock.advance(seconds=10)

    # When the alarm arrives here
    outcome = harness.bridge.handle(alarm_event())

    # Then it is to be retried, nothing was called and the claim is untouched
    assert outcome.kind is OutcomeKind.RETRY
    assert "is being opened; will join it on retry" in outcome.reason
    assert harness.incidents.incidents == {}
    assert harness.groups.records[key] == claim


def test_a_stale_claim_is_finished_with_its_own_client_token() -> None:
    # Given a claim older than the 60-second lease (its invocation died before StartIncident returned)
    harness = Harness(config())
    key = key_of(alarm_event(), harness.bridge_config)
    harness.groups.records[key] = GroupRecord(
        key, GroupStatus.PENDING, 1, client_token="c" * 64, claimed_at=START - timedelta(seconds=61)
    )

    # When the alarm arrives
    outcome = harness.handle(alarm_event())

    # Then this invocation recovers the incident with the claim's token (a start that did reach the API is reused),
    # checks it is still open, and joins it like any later alarm: the original request's items are unknown, so its
    # own are added
    assert outcome.kind is OutcomeKind.UPDATED
    assert outcome.calls[0].operation == "StartIncident"
    assert outcome.calls[0].params["clientToken"] == "c" * 64
    assert [call.operation for call in outcome.calls[1:]] == [
        "GetIncidentRecord",
        *["UpdateRelatedItems"] * 2,
        "CreateTimelineEvent",
    ]
    assert harness.groups.records[key].status is GroupStatus.OPEN


class FlakyStart(DryRunIncidentManager):
    """Throttled on the first StartIncident, as Incident Manager can be."""

    def __init__(self) -> None:
        super().__init__()
        self.start_tokens: list[str] = []

    def start_incident(self, request: StartIncidentRequest) -> str:
        self.start_tokens.append(request.client_token)
        if len(self.start_tokens) == 1:
            raise TransientApiError("StartIncident: ThrottlingException: Rate exceeded")
        return super().start_incident(request)


def test_a_transient_failure_while_opening_is_finished_by_the_redelivery_with_the_same_token() -> None:
    # Given an Incident Manager that throttles the first StartIncident
    incidents = FlakyStart()
    harness = Harness(config(), incidents=incidents)
    event = alarm_event()

    # When the alarm is handled, fails, and is redelivered
    failed = harness.bridge.handle(event)
    pending = harness.record(event)
    outcome = harness.handle(event)

    # Then the first is to be retried, and the redelivery finishes its own claim with the same client token
    assert failed.kind is OutcomeKind.RETRY
    assert "ThrottlingException" in failed.reason
    assert pending.status is GroupStatus.PENDING
    assert outcome.kind is OutcomeKind.STARTED
    assert incidents.start_tokens == [pending.client_token, pending.client_token]
    assert len(incidents.incidents) == 1


# ---- every request is valid ----


def test_every_call_of_a_full_lifecycle_passes_the_service_model() -> None:
    # Given a group that starts, grows, recovers, resolves, reopens and restarts
    harness = Harness(config(group_by=["tag:service"], auto_resolve=True))
    first = alarm_event(tags={"service": "checkout"})
    second = alarm_event(
        "ServerCpuStillHigh", event_id="sibling-1", instance_id="i-0abcdef1234567890", tags={"service": "checkout"}
    )
    for event in (first, second, ok_event(first, "ok-1"), ok_event(second, "ok-2")):
        harness.handle(event)
    harness.clock.advance(minutes=5)
    # Firing again is a new transition: a later state time (the same one would be the same transition again)
    harness.handle(
        alarm_event(event_id="again-1", tags={"service": "checkout"}, state_time="2019-10-02T17:29:40.989+0000")
    )
    harness.incident(harness.outcomes[0].incident_arn).status = "RESOLVED"
    harness.handle(
        alarm_event(
            "ServerCpuStillHigh",
            event_id="sibling-2",
            tags={"service": "checkout"},
            state_time="2019-10-02T17:30:40.989+0000",
        )
    )

    # When every recorded call is checked against botocore's model (the harness did so on each handle)
    calls = list(harness.all_calls())
    for call in calls:
        ensure_valid(call.operation, call.params)

    # Then every operation of the lifecycle was exercised
    assert [outcome.kind for outcome in harness.outcomes] == [
        OutcomeKind.STARTED,
        OutcomeKind.UPDATED,
        OutcomeKind.UPDATED,
        OutcomeKind.RESOLVED,
        OutcomeKind.UPDATED,
        OutcomeKind.STARTED,
    ]
    assert sorted({call.operation for call in calls}) == [
        "CreateTimelineEvent",
        "GetIncidentRecord",
        "StartIncident",
        "UpdateIncidentRecord",
        "UpdateRelatedItems",
    ]
