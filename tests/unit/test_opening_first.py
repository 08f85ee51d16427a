"""Opening before joining (issue 14): within a batch, groups that need their incident started go before any join,
and the batch's other alarms of a starting group ride in StartIncident's relatedItems instead of one
UpdateRelatedItems each. Events are copies of the documented EC2 CPU alarm, changed where the test says."""

from __future__ import annotations

from incident_bridge.adapters.api_model import ensure_valid
from incident_bridge.bridge import Bridge
from incident_bridge.errors import TransientApiError
from incident_bridge.groups import GroupStatus
from incident_bridge.incident import (
    IncidentStatusRequest,
    StartIncidentRequest,
    TimelineEventRequest,
    UpdateRelatedItemsRequest,
)
from incident_bridge.outcome import OutcomeKind
from incident_bridge.ports import IncidentManager
from tests.unit.test_lifecycle import INSTANCE_ARN_PREFIX, Harness, alarm_event, config, involved_arns


def storm_alarm(index: int, service: str) -> dict[str, object]:
    return alarm_event(f"ServerCpuTooHigh-{index:04d}", event_id=f"event-{index}", instance_id=f"i-{index:017x}",
                       tags={"service": service})  # fmt: skip


class InOrder:
    """The dry run, remembering the order of the operations sent to it."""

    def __init__(self, harness: Harness) -> None:
        self.inner = harness.incidents
        self.sent: list[str] = []

    def start_incident(self, request: StartIncidentRequest) -> str:
        self.sent.append("StartIncident")
        return self.inner.start_incident(request)

    def update_related_items(self, request: UpdateRelatedItemsRequest) -> None:
        self.sent.append("UpdateRelatedItems")
        self.inner.update_related_items(request)

    def create_timeline_event(self, request: TimelineEventRequest) -> None:
        self.sent.append("CreateTimelineEvent")
        self.inner.create_timeline_event(request)

    def update_incident_status(self, request: IncidentStatusRequest) -> None:
        self.sent.append("UpdateIncidentRecord")
        self.inner.update_incident_status(request)

    def incident_status(self, incident_arn: str) -> str | None:
        self.sent.append("GetIncidentRecord")
        return self.inner.incident_status(incident_arn)


def over(harness: Harness, incidents: IncidentManager) -> Bridge:
    """The harness's bridge, calling `incidents` (which wraps the harness's dry run)."""
    return Bridge(harness.bridge_config, incidents, harness.groups, clock=harness.clock)


class FailingOnceStart(InOrder):
    """The dry run, with the first StartIncident taking effect and then losing its response (a 5xx after effect)."""

    def __init__(self, harness: Harness) -> None:
        super().__init__(harness)
        self.starts: list[StartIncidentRequest] = []

    def start_incident(self, request: StartIncidentRequest) -> str:
        self.starts.append(request)
        arn = super().start_incident(request)
        if len(self.starts) == 1:
            raise TransientApiError("StartIncident: InternalServerException: response lost")
        return arn


def test_a_new_groups_alarms_in_one_batch_ride_in_its_start_request() -> None:
    # Given three alarms of one service, on three instances, in one batch
    harness = Harness(config(group_by=["tag:service"]))
    events = [storm_alarm(index, "checkout") for index in range(3)]

    # When the batch is handled
    results = harness.bridge.handle_batch([(f"msg-{index}", event) for index, event in enumerate(events)])

    # Then one StartIncident carries all three instances, and no UpdateRelatedItems is needed for them
    calls = [call for key in results for call in results[key].calls]
    for call in calls:
        ensure_valid(call.operation, call.params)
    assert [call.operation for call in calls].count("StartIncident") == 1
    assert "UpdateRelatedItems" not in [call.operation for call in calls]
    (incident,) = harness.incidents.incidents.values()
    assert sorted(involved_arns(incident)) == [f"{INSTANCE_ARN_PREFIX}i-{index:017x}" for index in range(3)]
    # ... and every alarm is in the incident, the two riders named in one timeline note
    assert [results[key].kind for key in results] == [OutcomeKind.STARTED, OutcomeKind.UPDATED, OutcomeKind.UPDATED]
    assert len(incident.timeline) == 1


def test_a_retried_start_sends_the_same_items_whatever_batch_it_is_in() -> None:
    # Given a batch of two alarms of a new service whose StartIncident takes effect but loses its response
    harness = Harness(config(group_by=["tag:service"]))
    failing = FailingOnceStart(harness)
    harness.bridge = over(harness, failing)
    first, rider = storm_alarm(0, "checkout"), storm_alarm(1, "checkout")
    harness.bridge.handle_batch([("msg-0", first), ("msg-1", rider)])
    assert harness.groups.records[next(iter(harness.groups.records))].status is GroupStatus.PENDING

    # When the first alarm comes back alone, in a batch of its own
    retried = harness.bridge.handle_batch([("msg-0", first)])

    # Then the retry sent the very same request (same token, same items), so one incident holds both instances
    assert retried["msg-0"].kind is OutcomeKind.STARTED
    assert len(failing.starts) == 2
    assert failing.starts[0] == failing.starts[1]
    (incident,) = harness.incidents.incidents.values()
    assert len(involved_arns(incident)) == 2


def test_a_batch_starts_its_new_groups_before_joining_open_ones() -> None:
    # Given a service whose incident is open, then a batch with its next alarm first and a new service's alarm last
    harness = Harness(config(group_by=["tag:service"]))
    harness.handle(storm_alarm(0, "checkout"))
    in_order = InOrder(harness)
    harness.bridge = over(harness, in_order)
    batch = [("msg-1", storm_alarm(1, "checkout")), ("msg-2", storm_alarm(2, "payments"))]

    # When the batch is handled
    results = harness.bridge.handle_batch(batch)

    # Then the new service's StartIncident was the first call, before the open incident was checked and joined
    assert results["msg-1"].kind is OutcomeKind.UPDATED
    assert results["msg-2"].kind is OutcomeKind.STARTED
    assert in_order.sent[0] == "StartIncident"
    assert "UpdateRelatedItems" in in_order.sent[1:]
