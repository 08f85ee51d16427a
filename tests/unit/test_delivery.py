"""The holes issue 12 lists, one test each, through the bridge with the dry-run Incident Manager and the in-memory
group store: order by state time, commit points, takeovers, incidents gone missing, per-event results, poison.

The fault-injection suite (tests/faults) sweeps the same properties across every boundary and failure kind; these
tests pin each hole to one readable case.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from incident_bridge.adapters.dry_run import DryRunIncidentManager
from incident_bridge.errors import PermanentApiError, TransientApiError
from incident_bridge.groups import GroupRecord, GroupStatus, WriteResult
from incident_bridge.incident import TimelineEventRequest, UpdateRelatedItemsRequest
from incident_bridge.outcome import IgnoreReason, OutcomeKind
from tests.unit.test_lifecycle import (
    SAMPLE_ARN,
    START,
    Harness,
    alarm_event,
    config,
    key_of,
    ok_event,
    operations,
)

LATER = "2019-10-02T17:30:40.989+0000"
LATEST = "2019-10-02T17:40:40.989+0000"


# ---- order by state time ----


def test_an_older_ok_after_a_newer_alarm_does_not_resolve_the_firing_alarms_incident() -> None:
    # Given an alarm that fired, recovered at 17:24 and fired again at 17:30 (the incident reopened)
    harness = Harness(config(auto_resolve=True))
    first = alarm_event()
    harness.handle(first)
    ok = ok_event(first, "ok-1")
    again = alarm_event(event_id="again-1", state_time=LATER)

    # When the ALARM of 17:30 is delivered before the OK of 17:24
    fired = harness.handle(again)
    late_ok = harness.handle(ok)

    # Then the OK is recorded, not applied: the incident stays open
    assert fired.kind is OutcomeKind.UPDATED
    assert late_ok.kind is OutcomeKind.IGNORED
    assert late_ok.ignore_reason is IgnoreReason.OUT_OF_ORDER
    assert late_ok.calls == ()
    assert harness.incident(fired.incident_arn).status == "OPEN"
    assert harness.states(first) == {SAMPLE_ARN: "ALARM"}


def test_an_alarm_retried_after_its_ok_does_not_keep_the_incident_open() -> None:
    # Given an alarm that fired and recovered (resolved by the bridge)
    harness = Harness(config(auto_resolve=True))
    first = alarm_event()
    started = harness.handle(first)
    resolved = harness.handle(ok_event(first, "ok-1"))

    # When the ALARM is delivered again under another id (a retry from another path), within the flap window
    retried = harness.handle(replace_id(first, "retry-of-first"))

    # Then it is older than the applied OK: recorded, not applied; the incident stays resolved
    assert resolved.kind is OutcomeKind.RESOLVED
    assert retried.kind is OutcomeKind.IGNORED
    assert retried.calls == ()
    assert harness.incident(started.incident_arn).status == "RESOLVED"


def test_an_ok_that_arrives_before_its_alarm_is_remembered() -> None:
    # Given an OK of 17:24 delivered first
    harness = Harness(config(auto_resolve=True))
    first = alarm_event()
    early = harness.handle(ok_event(first, "ok-1"))

    # When its ALARM of 17:04 arrives
    late_alarm = harness.handle(first)

    # Then no incident is started for an alarm that is already OK
    assert early.ignore_reason is IgnoreReason.NO_OPEN_INCIDENT
    assert late_alarm.kind is OutcomeKind.IGNORED
    assert late_alarm.ignore_reason is IgnoreReason.OUT_OF_ORDER
    assert harness.incidents.incidents == {}


def replace_id(event: dict[str, Any], event_id: str) -> dict[str, Any]:
    copied = dict(event)
    copied["id"] = event_id
    return copied


# ---- commit points ----


class LosesTheTimelineResponse(DryRunIncidentManager):
    """CreateTimelineEvent takes effect, then the response is lost (once)."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    def create_timeline_event(self, request: TimelineEventRequest) -> None:
        super().create_timeline_event(request)
        if not self.failed:
            self.failed = True
            raise TransientApiError("CreateTimelineEvent: InternalServerException: response lost")


def test_a_note_whose_response_was_lost_is_not_added_again_in_another_batch_make_up() -> None:
    # Given a started group, and a timeline call whose first response is lost
    incidents = LosesTheTimelineResponse()
    harness = Harness(config(group_by=["namespace"]), incidents=incidents)
    started = harness.handle(alarm_event())
    second = alarm_event("ServerCpuStillHigh", event_id="sibling-1")
    third = alarm_event("ServerCpuAlsoHigh", event_id="sibling-2")

    # When the second alarm joins alone (the note takes effect, the response is lost), and is then redelivered in
    # a batch together with a third alarm
    failed = harness.bridge.handle(second)
    batch = harness.bridge.handle_batch([("m-2", second), ("m-3", third)])

    # Then the first attempt is retried, the redelivery adds no second note for it, and the third gets its own
    assert failed.kind is OutcomeKind.RETRY
    assert batch["m-2"].ignore_reason is IgnoreReason.REDELIVERY
    assert batch["m-3"].kind is OutcomeKind.UPDATED
    assert harness.incident(started.incident_arn).timeline == ["ServerCpuStillHigh fired.", "ServerCpuAlsoHigh fired."]


class ResolveLosesItsResponse(DryRunIncidentManager):
    def update_incident_status(self, request: Any) -> None:
        super().update_incident_status(request)
        if request.status == "RESOLVED" and not getattr(self, "failed", False):
            self.failed = True
            raise TransientApiError("UpdateIncidentRecord: InternalServerException: response lost")


def test_the_resolve_is_committed_before_it_is_sent_and_a_join_in_between_reopens() -> None:
    # Given a group of two alarms where the last OK's resolve takes effect but its response is lost
    harness = Harness(config(group_by=["namespace"], auto_resolve=True), incidents=ResolveLosesItsResponse())
    first = alarm_event()
    started = harness.handle(first)
    resolving = harness.handle(ok_event(first, "ok-1"))
    record = harness.record(first)

    # When another alarm of the group fires before the OK is redelivered
    joined = harness.handle(alarm_event("ServerCpuStillHigh", event_id="sibling-1", state_time=LATER))

    # Then the record said RESOLVING with the resolve pending (committed before the call), and the join finished
    # the resolve, then reopened the incident for the firing alarm: never a resolved incident with an alarm firing
    assert resolving.kind is OutcomeKind.RETRY
    assert record.status is GroupStatus.RESOLVING
    assert joined.kind is OutcomeKind.UPDATED
    assert joined.incident_arn == started.incident_arn
    assert harness.incident(started.incident_arn).status == "OPEN"
    assert harness.record(first).status is GroupStatus.OPEN


# ---- takeover and incidents gone missing ----


def test_a_takeover_does_not_join_an_incident_a_human_resolved() -> None:
    # Given a stale claim whose StartIncident did reach the API, and that incident since resolved by a human
    harness = Harness(config())
    event = alarm_event()
    key = key_of(event, harness.bridge_config)
    claim = GroupRecord(key, GroupStatus.PENDING, 1, client_token="c" * 64, claimed_at=START.replace(minute=0))
    harness.groups.records[key] = claim
    original = harness.incidents.start_incident(first_request(harness, event)._replace(client_token="c" * 64))
    harness.incidents.incidents[original].status = "RESOLVED"

    # When the alarm arrives
    outcome = harness.handle(event)

    # Then it starts a fresh incident instead of joining the resolved one
    assert outcome.kind is OutcomeKind.STARTED
    assert outcome.incident_arn != original
    assert harness.incident(outcome.incident_arn).status == "OPEN"
    assert harness.record(event).incident_arn == outcome.incident_arn


def first_request(harness: Harness, event: dict[str, Any]) -> Any:
    from incident_bridge.incident import build_start_incident
    from incident_bridge.routing import route
    from tests.unit.test_lifecycle import normalized

    alarm = normalized(event)
    [decision] = route(alarm, harness.bridge_config).decisions
    return build_start_incident(alarm, decision)


def test_a_deleted_incident_starts_a_fresh_one_even_when_status_checks_are_skipped() -> None:
    # Given incident_check_seconds > 0 (no status read within it), and the group's incident deleted by a human
    harness = Harness(config(group_by=["namespace"]))
    harness.bridge_config = replace(harness.bridge_config, incident_check_seconds=3600)
    harness.__post_init__()
    started = harness.handle(alarm_event())
    del harness.incidents.incidents[str(started.incident_arn)]

    # When another alarm of the group fires
    outcome = harness.handle(alarm_event("ServerCpuStillHigh", event_id="sibling-1"))

    # Then ResourceNotFound on the known incident clears it, and a fresh incident starts
    assert outcome.kind is OutcomeKind.STARTED
    assert outcome.incident_arn != started.incident_arn
    assert outcome.incident_arn in harness.incidents.incidents


def test_an_ok_for_a_deleted_incident_is_handled_not_dead_lettered() -> None:
    # Given an open incident deleted by a human
    harness = Harness(config(auto_resolve=True))
    first = alarm_event()
    started = harness.handle(first)
    del harness.incidents.incidents[str(started.incident_arn)]

    # When its alarm recovers
    outcome = harness.handle(ok_event(first, "ok-1"))

    # Then the group forgets the incident; nothing is rejected
    assert outcome.kind is OutcomeKind.IGNORED
    assert outcome.ignore_reason is IgnoreReason.INCIDENT_GONE
    assert harness.record(first).incident_arn is None


# ---- per-event results ----


class RefusesItems(DryRunIncidentManager):
    def update_related_items(self, request: UpdateRelatedItemsRequest) -> None:
        raise PermanentApiError("UpdateRelatedItems: ValidationException: refused")


def test_a_refused_join_does_not_reject_the_alarm_that_started_the_incident() -> None:
    # Given an Incident Manager that refuses every related-item update
    harness = Harness(config(group_by=["namespace"]), incidents=RefusesItems())

    # When two alarms of one group arrive in one batch
    batch = harness.bridge.handle_batch(
        [("m-1", alarm_event()), ("m-2", alarm_event("ServerCpuStillHigh", event_id="sibling-1"))]
    )

    # Then the first started the incident and the second joined it (its refused item dropped, its note made)
    assert batch["m-1"].kind is OutcomeKind.STARTED
    assert batch["m-2"].kind is OutcomeKind.UPDATED
    assert harness.incident(batch["m-1"].incident_arn).timeline == ["ServerCpuStillHigh fired."]


# ---- blast radius ----


class CorruptsOneGroup:
    """A store whose record for one key cannot be read."""

    def __init__(self, inner: Any, bad_key: str) -> None:
        self.inner = inner
        self.bad_key = bad_key

    def load(self, group_key: str) -> GroupRecord | None:
        self._check(group_key)
        return self.inner.load(group_key)  # type: ignore[no-any-return]

    def put(self, record: GroupRecord, *, expected_version: int | None) -> WriteResult:
        self._check(record.group_key)
        return self.inner.put(record, expected_version=expected_version)  # type: ignore[no-any-return]

    def _check(self, key: str) -> None:
        if key == self.bad_key:
            from incident_bridge.errors import CorruptGroupRecord

            raise CorruptGroupRecord(f"group record {key!a} cannot be read")


def test_a_corrupt_group_record_rejects_only_its_groups_events() -> None:
    # Given two groups, the first's record corrupt
    harness = Harness(config(group_by=["alarm_name"]))
    bad, good = alarm_event(), alarm_event("ServerCpuStillHigh", event_id="sibling-1")
    harness.bridge = harness.bridge.__class__(
        harness.bridge_config, harness.incidents, CorruptsOneGroup(harness.groups, key_of(bad, harness.bridge_config))
    )

    # When both arrive in one batch
    batch = harness.bridge.handle_batch([("m-bad", bad), ("m-good", good)])

    # Then the bad group's event is rejected with the reason, the other starts its incident
    assert batch["m-bad"].kind is OutcomeKind.REJECTED
    assert batch["m-bad"].error_class == "CorruptGroupRecord"
    assert batch["m-good"].kind is OutcomeKind.STARTED


def test_an_event_nested_too_deeply_is_rejected_alone() -> None:
    # Given a batch with a good alarm and a body nested 100,000 levels deep
    harness = Harness(config())
    nested: Any = {}
    for _ in range(100_000):
        nested = {"detail": nested}

    # When both are handled in one batch
    batch = harness.bridge.handle_batch([("m-deep", nested), ("m-good", alarm_event())])

    # Then only the deep one is rejected
    assert batch["m-deep"].kind is OutcomeKind.REJECTED
    assert batch["m-good"].kind is OutcomeKind.STARTED


class CrashesAfterStart(DryRunIncidentManager):
    """StartIncident takes effect, then the process dies before the group is written OPEN (once)."""

    def __init__(self) -> None:
        super().__init__()
        self.crashed = False

    def start_incident(self, request: Any) -> str:
        arn = super().start_incident(request)
        if not self.crashed:
            self.crashed = True
            raise KeyboardInterrupt  # a BaseException: nothing in the bridge may absorb it
        return arn


def test_an_ok_arriving_while_the_incident_is_being_opened_is_kept_and_resolves_it_once_open() -> None:
    # Given an ALARM whose invocation died right after StartIncident took effect (the group is left PENDING)
    incidents = CrashesAfterStart()
    harness = Harness(config(auto_resolve=True), incidents=incidents)
    first = alarm_event()
    with pytest.raises(KeyboardInterrupt):
        harness.bridge.handle(first)
    key = key_of(first, harness.bridge_config)
    assert harness.groups.records[key].status is GroupStatus.PENDING

    # When its OK arrives before the ALARM is redelivered, and then the ALARM is redelivered
    ok = harness.handle(ok_event(first, "ok-1"))
    redelivered = harness.handle(first)

    # Then the OK is recorded on the claim (not retried until it is dead-lettered), and finishing the opening
    # resolves the incident at once: its only alarm is OK
    assert ok.kind is OutcomeKind.IGNORED
    assert ok.ignore_reason is IgnoreReason.NO_OPEN_INCIDENT
    assert redelivered.kind is OutcomeKind.STARTED
    assert "resolved" in redelivered.reason
    [incident] = incidents.incidents.values()
    assert incident.status == "RESOLVED"
    assert harness.groups.records[key].status is GroupStatus.RESOLVED


def test_the_same_alarm_twice_in_one_batch_applies_its_later_transition() -> None:
    # Given an alarm's ALARM of 17:30 and, redelivered late, its ALARM of 17:04, in one batch, then its OK of 17:24
    harness = Harness(config(auto_resolve=True))
    first = alarm_event()
    again = alarm_event(event_id="again-1", state_time=LATER)

    # When the batch is handled, then the OK
    batch = harness.bridge.handle_batch([("m-again", again), ("m-first", first)])
    ok = harness.handle(ok_event(first, "ok-1"))

    # Then only the later transition was applied (the older is out of order), so the OK of 17:24 is older than the
    # alarm's state and resolves nothing
    assert batch["m-again"].kind is OutcomeKind.STARTED
    assert batch["m-first"].ignore_reason is IgnoreReason.OUT_OF_ORDER
    assert ok.ignore_reason is IgnoreReason.OUT_OF_ORDER
    assert harness.incident(batch["m-again"].incident_arn).status == "OPEN"


# ---- bounded memory ----


def test_a_container_remembers_open_incidents_boundedly_and_asks_again_for_one_it_forgot() -> None:
    # Given status checks trusted for an hour, and one group per team
    harness = Harness(config(group_by=["tag:team"]))
    harness.bridge_config = replace(harness.bridge_config, incident_check_seconds=3600)
    harness.__post_init__()

    # When 1,001 teams' incidents open in one container (one more than it remembers)
    for team in range(1001):
        assert (
            harness.handle(alarm_event(f"first-{team}", event_id=f"first-{team}", tags={"team": f"t{team}"})).kind
            is OutcomeKind.STARTED
        )

    # Then a join to the newest incident trusts what it saw, and a join to the oldest asks Incident Manager again
    newest = harness.handle(alarm_event("second-1000", event_id="second-1000", tags={"team": "t1000"}))
    oldest = harness.handle(alarm_event("second-0", event_id="second-0", tags={"team": "t0"}))
    assert (newest.kind, oldest.kind) == (OutcomeKind.UPDATED, OutcomeKind.UPDATED)
    assert "GetIncidentRecord" not in operations(newest)
    assert "GetIncidentRecord" in operations(oldest)
