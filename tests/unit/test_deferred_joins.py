"""Deferred, coalesced joins (issue 14): when the request budget is short, a batch's joins are committed to the group
record without calls; the batch then sends each group's items, and its timeline notes once ten alarms wait for one.
A group with something left keeps one event in the queue (its carrier), which seals the rest into notes when it
comes back. Events are copies of the documented EC2 CPU alarm, changed where the test says."""

from __future__ import annotations

import json

from incident_bridge.adapters.api_model import ensure_valid
from incident_bridge.bridge import CARRIER_SECONDS, Bridge
from incident_bridge.budget import RequestBudget
from incident_bridge.groups import UNSEALED
from incident_bridge.outcome import OutcomeKind
from incident_bridge.runtime import SEND_DELAY_MAX_SECONDS, MemoryDeadLetters, Runtime
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


class RecordingQueue:
    """The source queue's two calls, remembered."""

    def __init__(self) -> None:
        self.requeued: list[tuple[str, int]] = []
        self.delayed: list[tuple[str, int]] = []

    def retry_after(self, receipt_handle: str, seconds: int) -> None:
        self.delayed.append((receipt_handle, seconds))

    def requeue(self, body: str, delay_seconds: int) -> None:
        self.requeued.append((body, delay_seconds))


def test_a_carrier_goes_back_as_a_new_message_so_waiting_never_dead_letters_it() -> None:
    # Given a runtime on its source queue, with a short request budget and a service whose incident is open
    harness = storm_harness()
    queue = RecordingQueue()
    runtime = Runtime(harness.bridge, MemoryDeadLetters(), emit_metrics=False, source_queue=queue, max_receive_count=5,
                      jitter=lambda: 1.0)  # fmt: skip
    runtime.process_batch([sqs_record("msg-0", storm_alarm(0, "checkout"), 1)])

    # When a batch of two more alarms arrives, the last on what would be its last receive
    response = runtime.process_batch(
        [sqs_record("msg-1", storm_alarm(1, "checkout"), 1), sqs_record("msg-2", storm_alarm(2, "checkout"), 5)]
    )

    # Then nothing is named for retry or dead-lettered: the carrier went back as a new message, after its delay
    assert response == {"batchItemFailures": []}
    assert runtime.last_batch is not None
    assert runtime.last_batch["msg-2"].kind is OutcomeKind.REQUEUED
    ((body, delay),) = queue.requeued
    assert json.loads(body)["id"] == "event-2"
    assert CARRIER_SECONDS <= delay <= SEND_DELAY_MAX_SECONDS
    assert isinstance(runtime.dead_letters, MemoryDeadLetters)
    assert runtime.dead_letters.messages == []


def sqs_record(message_id: str, event: dict[str, object], receive_count: int) -> dict[str, object]:
    return {
        "messageId": message_id,
        "receiptHandle": f"{message_id}#{receive_count}",
        "body": json.dumps(event),
        "attributes": {"ApproximateReceiveCount": str(receive_count)},
    }
