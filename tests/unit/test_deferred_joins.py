"""Deferred, coalesced joins (issue 14): when the request budget is short, a batch's joins are committed to the group
record without calls; the batch then sends each group's items, and its timeline notes once ten alarms wait for one.
A group with something left keeps one event in the queue (its carrier), which seals the rest into notes when it
comes back. A batch that opened incidents sends none of its joins' calls: the storm may hold more new groups behind
it. While deferring, status checks trust the bridge's own opening and take only their share of the budget. Events
are copies of the documented EC2 CPU alarm, changed where the test says."""

from __future__ import annotations

import json

from incident_bridge.adapters.api_model import ensure_valid
from incident_bridge.bridge import CARRIER_SECONDS, Bridge
from incident_bridge.budget import CHECK_SHARE, RequestBudget
from incident_bridge.groups import MAX_PENDING_ITEMS, UNSEALED
from incident_bridge.lifecycle import DEFERRED_CHECK
from incident_bridge.outcome import BatchResult, OutcomeKind
from incident_bridge.runtime import SEND_DELAY_MAX_SECONDS, MemoryDeadLetters, Runtime
from tests.unit.test_lifecycle import INSTANCE_ARN_PREFIX, START, FlakyStart, Harness, config, involved_arns
from tests.unit.test_opening_first import InOrder, storm_alarm

#: Requests per second of the short budget: a storm's joins at this rate take far longer than SHORT_BUDGET_SECONDS.
SHORT_RATE = 0.1


def storm_harness() -> Harness:
    """A harness whose bridge has a request budget far too small for a storm's joins: they are deferred."""
    harness = Harness(config(group_by=["tag:service"]))
    harness.bridge = short_bridge(harness)
    return harness


def short_bridge(harness: Harness, incidents: InOrder | None = None) -> Bridge:
    """Another container on the harness's incidents and group store, with a short budget on the harness's clock."""
    short = RequestBudget(SHORT_RATE, clock=lambda: (harness.clock() - START).total_seconds(), sleep=lambda _: None)
    return Bridge(harness.bridge_config, incidents or harness.incidents, harness.groups, clock=harness.clock,
                  budget=short)  # fmt: skip


def sent_operations(results: BatchResult) -> list[str]:
    """Every call the batch made, each checked against the API's model."""
    for outcome in results.outcomes.values():
        for call in outcome.calls:
            ensure_valid(call.operation, call.params)
    return [call.operation for outcome in results.outcomes.values() for call in outcome.calls]


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


def test_a_batch_that_opens_an_incident_leaves_its_joins_calls_to_their_carrier() -> None:
    # Given a service whose incident is open, and a short request budget
    harness = storm_harness()
    harness.bridge.handle_batch([("msg-0", storm_alarm(0, "checkout"))])

    # When a batch brings two more alarms of that service and the first alarm of a new one
    batch = [("msg-1", storm_alarm(1, "checkout")), ("msg-2", storm_alarm(2, "checkout")),
             ("msg-3", storm_alarm(3, "payments"))]  # fmt: skip
    results = harness.bridge.handle_batch(batch)

    # Then the new service is paged and nothing else is sent: a storm still finding new problems may hold more of
    # them deeper in the queue; the joins are committed, and the open service's last event stays as their carrier
    assert sent_operations(results) == ["StartIncident"]
    assert [results[key].kind for key, _ in batch] == [OutcomeKind.UPDATED, OutcomeKind.RETRY, OutcomeKind.STARTED]
    assert results["msg-2"].retry_after_seconds is not None
    checkout = harness.incident(results["msg-1"].incident_arn)
    assert involved_arns(checkout) == [f"{INSTANCE_ARN_PREFIX}i-{0:017x}"]

    # When the carrier comes back in a batch of its own
    back = harness.bridge.handle_batch([("msg-2", storm_alarm(2, "checkout"))])

    # Then it sends both instances and one note naming both alarms, and is done
    assert sorted(sent_operations(back)) == ["CreateTimelineEvent", "UpdateRelatedItems", "UpdateRelatedItems"]
    assert back["msg-2"].kind is OutcomeKind.IGNORED
    assert len(involved_arns(checkout)) == 3
    assert checkout.timeline[0].startswith("2 alarms fired: ServerCpuTooHigh-0001, ServerCpuTooHigh-0002")


def test_a_carrier_sends_its_groups_calls_even_in_a_batch_that_opens_an_incident() -> None:
    # Given a service's joins left to their carrier by a batch that opened another service's incident
    harness = storm_harness()
    in_order = InOrder(harness)
    harness.bridge = short_bridge(harness, in_order)
    harness.bridge.handle_batch([("msg-0", storm_alarm(0, "checkout"))])
    batch = [("msg-1", storm_alarm(1, "checkout")), ("msg-2", storm_alarm(2, "checkout")),
             ("msg-3", storm_alarm(3, "payments"))]  # fmt: skip
    first = harness.bridge.handle_batch(batch)
    assert first["msg-2"].kind is OutcomeKind.RETRY

    # When the carrier comes back beside the first alarm of a third service
    in_order.sent.clear()
    back = harness.bridge.handle_batch([("msg-2", storm_alarm(2, "checkout")), ("msg-4", storm_alarm(4, "billing"))])

    # Then the third service is paged first, and the carrier still sends its group's items and note: it has waited
    # its turn once, so a stream of new services never starves a join
    assert sorted(sent_operations(back)) == sorted(in_order.sent)
    assert in_order.sent[0] == "StartIncident"
    assert in_order.sent.count("UpdateRelatedItems") == 2
    assert back["msg-4"].kind is OutcomeKind.STARTED
    assert back["msg-2"].kind is OutcomeKind.IGNORED
    checkout = harness.incident(first["msg-1"].incident_arn)
    assert len(involved_arns(checkout)) == 3
    assert len(checkout.timeline) == 1


def test_a_new_groups_other_alarms_ride_in_its_start_and_their_note_waits_for_a_carrier() -> None:
    # Given a short request budget
    harness = storm_harness()

    # When one batch brings three alarms of a new service
    batch = [(f"msg-{index}", storm_alarm(index, "checkout")) for index in range(3)]
    results = harness.bridge.handle_batch(batch)

    # Then the one call is the start, carrying all three instances; the note naming the other two waits, so the
    # batch's next start is not held up behind it, and the last event stays as its carrier
    assert sent_operations(results) == ["StartIncident"]
    (incident,) = harness.incidents.incidents.values()
    assert len(involved_arns(incident)) == 3
    assert incident.timeline == []
    assert [results[key].kind for key, _ in batch] == [OutcomeKind.STARTED, OutcomeKind.UPDATED, OutcomeKind.RETRY]

    # When the carrier comes back
    harness.bridge.handle_batch([("msg-2", storm_alarm(2, "checkout"))])

    # Then the note is sent, and nothing is left
    assert incident.timeline == ["2 alarms fired: ServerCpuTooHigh-0001, ServerCpuTooHigh-0002."]
    (record,) = harness.groups.records.values()
    assert not record.has_pending_calls


def test_a_group_holding_half_the_calls_its_record_can_keep_sends_them_even_in_a_batch_that_opens_one() -> None:
    # Given a service whose incident is open, and a short request budget
    harness = storm_harness()
    harness.bridge.handle_batch([("msg-0", storm_alarm(0, "checkout"))])
    crowd = MAX_PENDING_ITEMS // 2

    # When one batch brings that many more of its alarms (one instance each) and a new service's first alarm
    batch = [(f"msg-{index}", storm_alarm(index, "checkout")) for index in range(1, crowd + 1)]
    results = harness.bridge.handle_batch([*batch, ("msg-new", storm_alarm(crowd + 1, "payments"))])

    # Then the crowded group's items are sent at once (past the record's caps, the oldest would be dropped)
    assert results["msg-new"].kind is OutcomeKind.STARTED
    checkout = harness.incident(results["msg-1"].incident_arn)
    assert len(involved_arns(checkout)) == crowd + 1
    record = harness.record(storm_alarm(0, "checkout"))
    assert record.pending_items == ()


def test_deferring_another_container_trusts_an_incident_the_bridge_has_just_opened() -> None:
    # Given a service's incident opened by one container
    harness = storm_harness()
    harness.bridge.handle_batch([("msg-0", storm_alarm(0, "checkout"))])

    # When another container, with a short budget, joins it a minute later
    harness.clock.advance(minutes=1)
    in_order = InOrder(harness)
    other = short_bridge(harness, in_order)
    results = other.handle_batch([(f"msg-{index}", storm_alarm(index, "checkout")) for index in (1, 2, 3)])

    # Then it does not ask Incident Manager whether the incident is open: the claim's time says when it opened
    assert "GetIncidentRecord" not in in_order.sent
    assert all(outcome.incident_arn is not None for outcome in results.outcomes.values())


def test_deferring_status_checks_take_only_their_share_of_the_budget() -> None:
    # Given two services' incidents, both since resolved by a human, past the deferred check's interval
    harness = storm_harness()
    opened = harness.bridge.handle_batch([("msg-0", storm_alarm(0, "checkout")), ("msg-1", storm_alarm(1, "payments"))])
    for outcome in opened.outcomes.values():
        harness.incident(outcome.incident_arn).status = "RESOLVED"
    harness.clock.advance(seconds=DEFERRED_CHECK.total_seconds() + 1)
    in_order = InOrder(harness)
    harness.bridge = short_bridge(harness, in_order)

    # When one batch brings an alarm of each
    batch = harness.bridge.handle_batch([("msg-2", storm_alarm(2, "checkout")), ("msg-3", storm_alarm(3, "payments"))])

    # Then one status check fits the checks' share of the budget: it finds the first resolved and starts a new
    # incident; the second service's OPEN, seen when the bridge opened it, is trusted for now (noticed later)
    assert in_order.sent.count("GetIncidentRecord") == 1
    assert batch["msg-2"].kind is OutcomeKind.STARTED
    assert batch["msg-3"].incident_arn == opened["msg-1"].incident_arn

    # When the checks' share has refilled and the second service fires again
    harness.clock.advance(seconds=1 / (SHORT_RATE * CHECK_SHARE))
    later = harness.bridge.handle_batch([("msg-4", storm_alarm(4, "payments"))])

    # Then its check finds the incident resolved, and a new one is started
    assert in_order.sent.count("GetIncidentRecord") == 2
    assert later["msg-4"].kind is OutcomeKind.STARTED
    assert later["msg-4"].incident_arn != opened["msg-1"].incident_arn


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


def test_a_claim_finished_by_its_own_redelivery_behind_a_rider_keeps_a_carrier_for_the_riders_calls() -> None:
    # Given a short request budget, and a service's first alarm whose StartIncident was throttled (its claim waits)
    harness = storm_harness()
    flaky = FlakyStart()
    harness.incidents = flaky
    harness.bridge = short_bridge(harness, flaky)  # type: ignore[arg-type]
    first = harness.bridge.handle_batch([("msg-0", storm_alarm(0, "checkout"))])
    assert first["msg-0"].kind is OutcomeKind.RETRY

    # When a batch brings a second alarm of that service, then the first one again (its redelivery finishes the claim)
    batch = [("msg-1", storm_alarm(1, "checkout")), ("msg-0", storm_alarm(0, "checkout"))]
    results = harness.bridge.handle_batch(batch)

    # Then the incident is started, and what the second alarm committed has an event in the queue to send it
    assert results["msg-0"].kind is OutcomeKind.STARTED
    record = harness.record(storm_alarm(0, "checkout"))
    assert record.has_pending_calls
    carriers = [key for key, _ in batch if results[key].kind is OutcomeKind.RETRY]
    assert carriers == ["msg-1"]

    # When the carrier comes back
    harness.bridge.handle_batch([("msg-1", storm_alarm(1, "checkout"))])

    # Then the second instance is in the incident, a note names the second alarm, and nothing is left to send
    incident = harness.incident(results["msg-0"].incident_arn)
    assert len(involved_arns(incident)) == 2
    assert incident.timeline == ["ServerCpuTooHigh-0001 fired."]
    assert not harness.record(storm_alarm(0, "checkout")).has_pending_calls


def test_two_opening_batches_never_drop_a_groups_committed_items() -> None:
    # Given a service whose incident is open, and a short request budget
    harness = storm_harness()
    harness.bridge.handle_batch([("msg-0", storm_alarm(0, "checkout"))])

    # When two full batches (200 records, the function's batch size) each bring a new service's first alarm and
    # many alarms of the open service, each on an instance of its own, before the open service's carrier is back
    first = [(f"msg-{index}", storm_alarm(index, "checkout")) for index in range(1, 141)]
    harness.bridge.handle_batch([*first, ("msg-payments", storm_alarm(1000, "payments"))])
    second = [(f"msg-{index}", storm_alarm(index, "checkout")) for index in range(141, 340)]
    harness.bridge.handle_batch([*second, ("msg-billing", storm_alarm(1001, "billing"))])

    # Then every joined alarm's instance is in the incident or committed to be sent: the record's caps dropped none
    record = harness.record(storm_alarm(0, "checkout"))
    attached = set(involved_arns(harness.incident(record.incident_arn)))
    committed = {pending.item.arn for pending in record.pending_items}
    missing = [index for index in range(340) if f"{INSTANCE_ARN_PREFIX}i-{index:017x}" not in attached | committed]
    assert missing == []


def test_a_carrier_is_an_event_that_comes_back_as_a_redelivery_not_one_out_of_order() -> None:
    # Given a service whose incident is open, and a short request budget
    harness = storm_harness()
    harness.bridge.handle_batch([("msg-0", storm_alarm(0, "checkout"))])

    # When a batch brings a new alarm of that service, then an older transition of the same alarm (out of order)
    newer = storm_alarm(1, "checkout")
    older = storm_alarm(1, "checkout")
    older["id"] = "event-1-older"
    older["detail"]["state"]["timestamp"] = "2019-10-02T17:00:00.000+0000"  # type: ignore[index]
    results = harness.bridge.handle_batch([("msg-1", newer), ("msg-2", older)])

    # Then the event kept in the queue for the note is the one that joined: back, it is a redelivery
    carriers = [key for key in ("msg-1", "msg-2") if results[key].kind is OutcomeKind.RETRY]
    assert carriers == ["msg-1"]
    assert results["msg-2"].kind is OutcomeKind.IGNORED

    # When the carrier comes back
    back = harness.bridge.handle_batch([("msg-1", newer)])

    # Then it seals the waiting line into a note and sends it, and is done
    assert back["msg-1"].kind is OutcomeKind.IGNORED
    (incident,) = harness.incidents.incidents.values()
    assert incident.timeline == ["ServerCpuTooHigh-0001 fired."]
    assert not harness.record(newer).has_pending_calls
