"""The group record's pure transitions and its bounds (groups.py): plain data, no store, no API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from incident_bridge.alarm import AlarmState
from incident_bridge.groups import (
    MAX_ALARM_STATES,
    MAX_ATTACHED,
    MAX_PENDING_ITEMS,
    MAX_PENDING_NOTES,
    REMEMBERED_EVENTS,
    UNSEALED,
    AlarmMark,
    GroupRecord,
    GroupStatus,
    PendingItem,
    PendingNote,
    Transition,
    all_recovered,
    bounded,
    claimed,
    confirmed,
    deferred_join,
    fits,
    joined,
    merged,
    recovered,
    storable_key,
    transition,
)
from incident_bridge.incident import ItemType, RelatedItem

NOW = datetime(2019, 10, 2, 17, 5, tzinfo=UTC)
INCIDENT = "arn:aws:ssm-incidents::123456789012:incident-record/MyPlan/6e1c9a52-8e1f-4d4c-a7b1-0f3e5d2c1a01"
ALARM = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"


def open_record(**changes: Any) -> GroupRecord:
    return GroupRecord("default|alarm_arn=x", GroupStatus.OPEN, 3, incident_arn=INCIDENT)._replace(**changes)


def test_a_transition_is_new_repeated_or_stale_by_the_alarms_state_time() -> None:
    # Given a group that applied ALARM at 17:04
    record = open_record(alarm_states={ALARM: AlarmMark(AlarmState.ALARM, NOW - timedelta(minutes=1))})

    # When transitions at other times and states are classified
    later_ok = transition(record, ALARM, AlarmState.OK, NOW)
    same = transition(record, ALARM, AlarmState.ALARM, NOW - timedelta(minutes=1))
    older_ok = transition(record, ALARM, AlarmState.OK, NOW - timedelta(minutes=2))
    unknown = transition(record, "arn:aws:cloudwatch:us-east-1:123456789012:alarm:Other", AlarmState.OK, NOW)

    # Then a later one is new, the same one repeated, an older one stale, another alarm's new
    assert (later_ok, same, older_ok, unknown) == (
        Transition.NEW,
        Transition.REPEATED,
        Transition.STALE,
        Transition.NEW,
    )


def test_merging_marks_keeps_the_later_state_time_whatever_the_order() -> None:
    # Given an OK at 17:10 already known, and an older ALARM at 17:04 arriving after it
    states = {ALARM: AlarmMark(AlarmState.OK, NOW + timedelta(minutes=5))}

    # When the older ALARM is merged
    result = merged(states, {ALARM: AlarmMark(AlarmState.ALARM, NOW - timedelta(minutes=1))})

    # Then the OK stays
    assert result == states


def test_a_join_commits_its_note_with_a_token_that_depends_only_on_the_record() -> None:
    # Given one open record, joined by the same alarm in two different batch make-ups
    record = open_record()
    note = (NOW, "ServerCpuTooHigh fired.", (ALARM,))
    alone = joined(record, {}, [], [], [note], ["event-1"], NOW)
    with_others = joined(record, {}, [], [], [note], ["event-0", "event-1", "event-2"], NOW)

    # Then the note is pending in the record, and its token is the same in both
    assert alone.pending_notes[0].token == with_others.pending_notes[0].token
    assert alone.pending_notes[0].text == "ServerCpuTooHigh fired."
    assert alone.has_pending_calls


def test_the_last_recovery_commits_resolving_with_its_token_before_any_call() -> None:
    # Given an open record whose only alarm is in ALARM
    record = open_record(alarm_states={ALARM: AlarmMark(AlarmState.ALARM, NOW - timedelta(minutes=1))})

    # When its OK is recorded with a resolve
    resolving = recovered(record, ALARM, AlarmMark(AlarmState.OK, NOW), "ok-1", "recovered", True, NOW)

    # Then the record says RESOLVING with the resolve pending, and only confirming it closes the group
    assert resolving.status is GroupStatus.RESOLVING
    assert resolving.pending_status is not None
    assert resolving.pending_status.status == "RESOLVED"
    assert all_recovered(resolving)
    closed = confirmed(resolving, [], [note.token for note in resolving.pending_notes], True, NOW)
    assert (closed.status, closed.resolved_by_bridge, closed.has_pending_calls) == (GroupStatus.RESOLVED, True, False)


def test_a_new_claim_keeps_ok_marks_and_events_but_not_the_previous_incidents_alarms() -> None:
    # Given a record with one alarm OK and one in ALARM
    other = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:Other"
    record = open_record(
        alarm_states={ALARM: AlarmMark(AlarmState.OK, NOW), other: AlarmMark(AlarmState.ALARM, NOW)},
        processed_events=("event-1",),
    )

    # When a new incident is claimed for the group
    claim = claimed(record, record.group_key, "t" * 64, NOW)

    # Then the OK is remembered, the previous incident's firing alarm is not waited for, and the events stay
    assert dict(claim.alarm_states) == {ALARM: AlarmMark(AlarmState.OK, NOW)}
    assert claim.processed_events == ("event-1",)
    assert (claim.status, claim.version, claim.incident_arn) == (GroupStatus.PENDING, 4, None)
    assert claim.expires_at is not None


def test_bounds_drop_ok_marks_first_and_stop_auto_resolve_only_when_firing_alarms_must_go() -> None:
    # Given a record over the cap: 10 OK marks and MAX_ALARM_STATES firing ones
    oks = {f"{ALARM}-ok-{index}": AlarmMark(AlarmState.OK, NOW + timedelta(seconds=index)) for index in range(10)}
    firing = {
        f"{ALARM}-{index}": AlarmMark(AlarmState.ALARM, NOW + timedelta(seconds=index))
        for index in range(MAX_ALARM_STATES)
    }

    # When it is bounded, and again with one more firing alarm
    only_oks_dropped = bounded(open_record(alarm_states={**oks, **firing}))
    one_more = bounded(
        open_record(alarm_states={**firing, f"{ALARM}-extra": AlarmMark(AlarmState.ALARM, NOW + timedelta(hours=1))})
    )

    # Then the OK marks went first and auto-resolve stays possible; then a firing one had to go, and it stops
    assert dict(only_oks_dropped.alarm_states) == firing
    assert only_oks_dropped.overflowed is False
    assert len(one_more.alarm_states) == MAX_ALARM_STATES
    assert f"{ALARM}-0" not in one_more.alarm_states  # the oldest firing one
    assert one_more.overflowed is True


def test_bounds_keep_the_latest_events_and_attached_identities() -> None:
    # Given a record holding more events and identities than remembered
    record = open_record(
        processed_events=tuple(f"event-{index}" for index in range(REMEMBERED_EVENTS + 5)),
        attached=tuple(f"{index:032x}" for index in range(MAX_ATTACHED + 5)),
    )

    # When it is bounded
    result = bounded(record)

    # Then the oldest are forgotten
    assert result.processed_events[0] == "event-5"
    assert len(result.processed_events) == REMEMBERED_EVENTS
    assert result.attached[0] == f"{5:032x}"
    assert len(result.attached) == MAX_ATTACHED


def test_a_deferred_join_fits_when_its_items_and_its_lines_sealed_into_notes_stay_within_the_caps() -> None:
    # Given a record holding 19 sealed notes and 9 unsealed lines, and one holding nearly every item it can keep
    noted = open_record(
        pending_notes=(
            *(PendingNote(f"note-{index}", NOW, "10 alarms fired: ...") for index in range(19)),
            *(PendingNote(UNSEALED, NOW, f"alarm-{index}") for index in range(9)),
        )
    )
    item = RelatedItem(
        item_type=ItemType.INVOLVED_RESOURCE, title="instance", arn="arn:aws:ec2:us-east-1:123456789012:instance/i-1"
    )
    full = open_record(
        pending_items=tuple(PendingItem(f"item-{index}", item) for index in range(MAX_PENDING_ITEMS - 1))
    )

    # When joins of several sizes are asked whether they fit
    # Then lines count as the notes they are sealed into: 9 + 120 lines make 12 notes and 9 lines, 40 entries with
    # the 19 notes; 9 + 130 make 13 notes and 9 lines, 41
    assert fits(noted, 0, 120)
    assert not fits(noted, 0, 130)
    assert (
        len(deferred_join(noted, {}, [], [], [(NOW, "a", (), "alarms")] * 120, [], NOW).pending_notes)
        == MAX_PENDING_NOTES
    )
    # And the items count one by one
    assert fits(full, 1, 0)
    assert not fits(full, 2, 0)


def test_a_key_dynamodb_cannot_store_is_hashed() -> None:
    # Given a key holding a lone surrogate (from a JSON escape in an event), and an ordinary one
    poisoned = "default|tag:service=\ud800"

    # When made storable
    stored = storable_key(poisoned)

    # Then the poisoned one is hashed under its route, the ordinary one kept
    assert stored.startswith("default|sha256=")
    stored.encode("utf-8")
    assert storable_key("default|tag:service=web") == "default|tag:service=web"
