"""Deferred, coalesced joins (issue 14): when the request budget is short, a batch's joins are committed to the group
record without calls; the batch then sends each group's items, and its timeline notes once ten alarms wait for one.
A group with something left keeps one event in the queue (its carrier), which seals the rest into notes when it
comes back. Events are copies of the documented EC2 CPU alarm, changed where the test says."""

from __future__ import annotations

from incident_bridge.adapters.api_model import ensure_valid
from incident_bridge.bridge import CARRIER_SECONDS, Bridge
from incident_bridge.budget import RequestBudget
from incident_bridge.groups import UNSEALED
from incident_bridge.outcome import OutcomeKind
from tests.unit.test_lifecycle import INSTANCE_ARN_PREFIX, Harness, config, involved_arns
from tests.unit.test_opening_first import storm_alarm


def storm_harness() -> Harness:
    """A harness whose bridge has a request budget far too small for a storm's joins: they are deferred."""
    harness = Harness(config(group_by=["tag:service"]))
    short = RequestBudget(0.1, clock=lambda: 0.0, sleep=lambda _: None)
    harness.bridge = Bridge(harness.bridge_config, harness.incidents, harness.groups, clock=harness.clock,
                            budget=short)  # fmt: skip
    return harness


def test_deferred_joins_send_their_items_and_keep_one_carrier_for_the_note() -> None:
    # Given a service whose incident is open, and a short request budget
    harness = storm_harness()
    harness.bridge.handle_batch([("msg-0", storm_alarm(0, "checkout"))])

    # When a batch brings three more alarms of that service
    batch = [(f"msg-{index}", storm_alarm(index, "checkout")) for index in (1, 2, 3)]
    results = harness.bridge.handle_batch(batch)

    # Then each instance is in the incident already, but no note yet: one event stays in the queue to send it later
    (incident,) = harness.incidents.incidents.values()
    assert sorted(involved_arns(incident)) == [f"{INSTANCE_ARN_PREFIX}i-{index:017x}" for index in range(4)]
    assert incident.timeline == []
    kinds = [results[key].kind for key, _ in batch]
    assert kinds == [OutcomeKind.UPDATED, OutcomeKind.UPDATED, OutcomeKind.RETRY]
    assert results["msg-3"].retry_after_seconds is not None
    assert results["msg-3"].retry_after_seconds >= CARRIER_SECONDS
    for key, _ in batch:
        for call in results[key].calls:
            ensure_valid(call.operation, call.params)

    # When the carrier comes back
    back = harness.bridge.handle_batch([("msg-3", storm_alarm(3, "checkout"))])

    # Then one note names the three alarms, the carrier is done, and nothing is left to send
    assert back["msg-3"].kind is OutcomeKind.IGNORED
    assert len(incident.timeline) == 1
    assert incident.timeline[0].startswith("3 alarms fired: ServerCpuTooHigh-0001, ServerCpuTooHigh-0002")
    (record,) = harness.groups.records.values()
    assert not record.has_pending_calls


def test_ten_deferred_alarms_make_one_note_at_once() -> None:
    # Given a service whose incident is open, and a short request budget
    harness = storm_harness()
    harness.bridge.handle_batch([("msg-0", storm_alarm(0, "checkout"))])

    # When a batch brings ten more alarms of that service
    batch = [(f"msg-{index}", storm_alarm(index, "checkout")) for index in range(1, 11)]
    results = harness.bridge.handle_batch(batch)

    # Then one note names all ten, and nothing is kept in the queue for it
    (incident,) = harness.incidents.incidents.values()
    assert len(incident.timeline) == 1
    assert incident.timeline[0].startswith("10 alarms fired: ")
    assert all(results[key].kind is OutcomeKind.UPDATED for key, _ in batch)
    (record,) = harness.groups.records.values()
    assert [note for note in record.pending_notes if note.token == UNSEALED] == []


def test_a_redelivered_deferred_join_adds_nothing_twice() -> None:
    # Given three deferred joins, their carrier back and done
    harness = storm_harness()
    harness.bridge.handle_batch([("msg-0", storm_alarm(0, "checkout"))])
    batch = [(f"msg-{index}", storm_alarm(index, "checkout")) for index in (1, 2, 3)]
    harness.bridge.handle_batch(batch)
    harness.bridge.handle_batch([("msg-3", storm_alarm(3, "checkout"))])

    # When the whole batch is delivered again (at least once delivery)
    again = harness.bridge.handle_batch(batch)

    # Then every event is a redelivery: no second item, no second note
    assert all(again[key].kind is OutcomeKind.IGNORED for key, _ in batch)
    (incident,) = harness.incidents.incidents.values()
    assert len(incident.timeline) == 1
    assert len(involved_arns(incident)) == 4
