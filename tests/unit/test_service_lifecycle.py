"""Service events through the lifecycle, on real events (events/SOURCES.md): each event is an occurrence of its own
(two executions of one state machine failing in the same second are two problems, a redelivery is one), and the
timeline notes and outcome reasons speak of them in their own terms, not an alarm's."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from incident_bridge import groups
from incident_bridge.alarm import AlarmState
from incident_bridge.groups import AlarmMark, GroupRecord, GroupStatus, Transition
from incident_bridge.outcome import Outcome, OutcomeKind
from tests.conftest import load_event
from tests.unit.test_service_events import GUARDDUTY, SECURITY_HUB, SFN_FAILED, bridge
from tests.unit.test_signal import CUSTOM_EVENT

STATE_MACHINE = "arn:aws:states:us-east-1:012345678912:stateMachine:state-machine"
FIRST_EXECUTION = "arn:aws:states:us-east-1:012345678912:execution:state-machine-name:execution-name"
SECOND_EXECUTION = "arn:aws:states:us-east-1:012345678912:execution:state-machine-name:execution-name-2"


def another_execution(raw: dict[str, Any], event_id: str, name: str) -> dict[str, Any]:
    """The same state machine's event for another execution: only its event id and execution ARN and name change
    (same `time`, same status)."""
    variant = copy.deepcopy(raw)
    execution_arn = raw["detail"]["executionArn"].rsplit(":", 1)[0] + f":{name}"
    variant["id"] = event_id
    variant["resources"] = [execution_arn]
    variant["detail"].update(executionArn=execution_arn, name=name)
    return variant


def operations(outcome: Outcome) -> list[str]:
    return [call.operation for call in outcome.calls]


def related_arns(outcome: Outcome) -> list[str]:
    return [
        call.params["relatedItemsUpdate"]["itemToAdd"]["identifier"]["value"]["arn"]
        for call in outcome.calls
        if call.operation == "UpdateRelatedItems"
    ]


def notes(outcome: Outcome) -> list[str]:
    return [call.params["eventData"] for call in outcome.calls if call.operation == "CreateTimelineEvent"]


# ---- occurrences ----


def test_two_executions_failing_in_the_same_second_both_reach_the_incident() -> None:
    # Given the documented FAILED execution's incident open
    under_test = bridge()
    first = under_test.handle(load_event(SFN_FAILED))
    # and another execution of the same state machine that failed in the same second (own event id and ARN)
    second = another_execution(load_event(SFN_FAILED), "second-execution", "execution-name-2")

    # When it arrives
    outcome = under_test.handle(second)

    # Then it is not taken for a redelivery: it joins the open incident with its execution as a related item and
    # a timeline note naming it
    assert first.kind is OutcomeKind.STARTED
    assert outcome.kind is OutcomeKind.UPDATED, outcome.reason
    assert outcome.incident_arn == first.incident_arn
    assert "redelivery" not in outcome.reason
    assert SECOND_EXECUTION in related_arns(outcome)
    assert notes(outcome) == [f'"Step Functions execution execution-name-2 FAILED ({STATE_MACHINE}) fired."']
    assert "StartIncident" not in operations(outcome)


def test_two_executions_failing_in_the_same_second_in_one_batch_open_one_incident_together() -> None:
    # Given the documented FAILED execution and another of the same state machine in the same second, in one batch
    under_test = bridge()
    second = another_execution(load_event(SFN_FAILED), "second-execution", "execution-name-2")

    # When the batch is handled
    results = under_test.handle_batch([("first", load_event(SFN_FAILED)), ("second", second)])

    # Then the first starts the incident and the second is in it (its execution rides in the start request), not
    # dropped as older or as a redelivery
    assert results["first"].kind is OutcomeKind.STARTED
    assert results["second"].kind is OutcomeKind.UPDATED, results["second"].reason
    assert results["second"].incident_arn == results["first"].incident_arn
    start = next(call for call in results["first"].calls if call.operation == "StartIncident")
    attached = [item["identifier"]["value"].get("arn") for item in start.params["relatedItems"]]
    assert {FIRST_EXECUTION, SECOND_EXECUTION} <= set(attached)


def test_a_redelivery_of_the_second_execution_is_still_ignored_as_one() -> None:
    # Given two executions of one state machine that failed in the same second, both in the incident
    under_test = bridge()
    under_test.handle(load_event(SFN_FAILED))
    second = another_execution(load_event(SFN_FAILED), "second-execution", "execution-name-2")
    under_test.handle(second)

    # When the second event is delivered again (same event id)
    again = under_test.handle(copy.deepcopy(second))

    # Then it is a redelivery: ignored, no call made
    assert again.kind is OutcomeKind.IGNORED
    assert "already processed (redelivery)" in again.reason
    assert again.calls == ()


def test_the_same_event_twice_in_one_batch_is_one_occurrence() -> None:
    # Given the documented FAILED event, twice in one batch under two message ids (SQS delivered it twice)
    under_test = bridge()

    # When the batch is handled
    results = under_test.handle_batch([("m1", load_event(SFN_FAILED)), ("m2", load_event(SFN_FAILED))])

    # Then one incident starts, and the copy adds nothing
    assert results["m1"].kind is OutcomeKind.STARTED
    assert "StartIncident" not in operations(results["m2"])
    assert "CreateTimelineEvent" not in operations(results["m2"])


def test_a_success_after_both_same_second_failures_resolves_the_incident() -> None:
    # Given two same-second failures of one state machine in one incident, on a route that resolves
    under_test = bridge(auto_resolve=True)
    first = under_test.handle(load_event(SFN_FAILED))
    under_test.handle(another_execution(load_event(SFN_FAILED), "second-execution", "execution-name-2"))

    # When a later execution of the state machine succeeds
    success = another_execution(load_event(SFN_FAILED), "success", "execution-name-3")
    success["time"] = "2019-02-26T19:50:00Z"
    success["detail"]["status"] = "SUCCEEDED"
    outcome = under_test.handle(success)

    # Then the incident is resolved: the state machine recovered
    assert outcome.kind is OutcomeKind.RESOLVED
    assert outcome.incident_arn == first.incident_arn


def test_a_transition_is_repeated_only_as_the_same_occurrence() -> None:
    # Given a member whose last mark is a firing at 19:42:21 of occurrence "a" (its event id forgotten meanwhile)
    at = datetime(2019, 2, 26, 19, 42, 21, tzinfo=UTC)
    record = GroupRecord("g", GroupStatus.OPEN, 3, alarm_states={"m": AlarmMark(AlarmState.ALARM, at, "a")})

    # When the same occurrence, another occurrence at that time, and an earlier one are weighed
    # Then only the same occurrence is a repetition; another at that time is new; an earlier one is stale
    assert groups.transition(record, "m", AlarmState.ALARM, at, "a") is Transition.REPEATED
    assert groups.transition(record, "m", AlarmState.ALARM, at, "b") is Transition.NEW
    assert groups.transition(record, "m", AlarmState.ALARM, at - timedelta(seconds=1), "b") is Transition.STALE


def test_an_alarm_transition_by_its_second_path_is_still_repeated() -> None:
    # Given an alarm's mark (alarms name no occurrence: their state time names the transition)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    record = GroupRecord("g", GroupStatus.OPEN, 3, alarm_states={"alarm-arn": AlarmMark(AlarmState.ALARM, at)})

    # When the same transition is weighed again (SNS after EventBridge: another id, same state time)
    # Then it is a repetition
    assert groups.transition(record, "alarm-arn", AlarmState.ALARM, at) is Transition.REPEATED


# ---- words ----


def succeeded_later(raw: dict[str, Any], event_id: str) -> dict[str, Any]:
    """The documented execution's state machine succeeding three minutes later (another execution's event)."""
    success = another_execution(raw, event_id, "execution-name-3")
    success["time"] = "2019-02-26T19:45:21Z"
    success["detail"]["status"] = "SUCCEEDED"
    return success


def test_a_step_functions_success_notes_its_recovery_in_its_own_words() -> None:
    # Given the documented FAILED execution's incident open, on a route that resolves
    under_test = bridge(auto_resolve=True)
    under_test.handle(load_event(SFN_FAILED))

    # When a later execution of the state machine succeeds
    outcome = under_test.handle(succeeded_later(load_event(SFN_FAILED), "succeeded"))

    # Then the note names the execution once, by its title, and says every execution recovered; no ALARM, no OK
    assert notes(outcome) == [
        f'"Step Functions execution execution-name-3 SUCCEEDED ({STATE_MACHINE}) recovered. '
        'All Step Functions executions of this incident recovered."'
    ]
    assert outcome.reason == (
        f"Step Functions execution execution-name-3 SUCCEEDED ({STATE_MACHINE}): all Step Functions executions "
        "recovered: incident resolved (route default)"
    )


def test_a_security_hub_resolution_counts_the_findings_still_firing() -> None:
    # Given two failed findings of one account grouped into one incident (the documented one, and another id)
    under_test = bridge(auto_resolve=True, group_by=["account"])
    first = load_event(SECURITY_HUB)
    other = copy.deepcopy(first)
    other["id"] = "other-finding"
    other["detail"]["findings"][0]["Id"] = first["detail"]["findings"][0]["Id"].replace("0003b335", "ffffb335")
    under_test.handle(first)
    under_test.handle(other)

    # When the documented finding is resolved, then the other one
    resolved = copy.deepcopy(first)
    resolved["id"] = "resolved"
    resolved["detail"]["findings"][0]["Workflow"] = {"Status": "RESOLVED"}
    passed = copy.deepcopy(other)
    passed["id"] = "passed"
    passed["detail"]["findings"][0]["Compliance"] = {"Status": "PASSED"}
    first_recovery, last_recovery = under_test.handle(resolved), under_test.handle(passed)

    # Then each note names the finding by its title with its own state, counts what is still firing, and the last
    # says every finding recovered
    title = "Security Hub: EC2.7 EBS default encryption should be enabled"
    assert notes(first_recovery) == [f'"{title} recovered (RESOLVED). 1 still firing."']
    assert notes(last_recovery) == [
        f'"{title} recovered (PASSED). All Security Hub findings of this incident recovered."'
    ]
    assert last_recovery.kind is OutcomeKind.RESOLVED
    assert "all Security Hub findings recovered: incident resolved" in last_recovery.reason


def test_a_guardduty_repeat_is_noted_by_the_findings_title() -> None:
    # Given the GuardDuty finding's incident open
    under_test = bridge()
    under_test.handle(load_event(GUARDDUTY))

    # When GuardDuty sends the finding again, aggregated (a later time, a higher count)
    again = copy.deepcopy(load_event(GUARDDUTY))
    again["id"] = "repeat"
    again["time"] = "1970-01-01T06:00:00Z"
    again["detail"]["service"]["count"] = 2
    outcome = under_test.handle(again)

    # Then the note names the finding once, by its title
    assert notes(outcome) == ['"GuardDuty Canary:EC2/Stateless.IntegTest: Canary:EC2/Stateless.IntegTest fired."']


def test_several_executions_joining_at_once_are_counted_as_executions() -> None:
    # Given the documented FAILED execution's incident open
    under_test = bridge()
    under_test.handle(load_event(SFN_FAILED))

    # When two more executions of the state machine fail in one batch
    results = under_test.handle_batch(
        [
            ("second", another_execution(load_event(SFN_FAILED), "second-execution", "execution-name-2")),
            ("third", another_execution(load_event(SFN_FAILED), "third-execution", "execution-name-4")),
        ]
    )

    # Then one note names both, as executions
    assert notes(results["second"]) == [
        f'"2 Step Functions executions fired: Step Functions execution execution-name-2 FAILED ({STATE_MACHINE}), '
        f'Step Functions execution execution-name-4 FAILED ({STATE_MACHINE})."'
    ]


def test_a_success_older_than_the_failure_is_named_once_with_its_own_state() -> None:
    # Given the documented FAILED execution's incident open
    under_test = bridge(auto_resolve=True)
    under_test.handle(load_event(SFN_FAILED))

    # When a success of the state machine from before the failure arrives late
    earlier = succeeded_later(load_event(SFN_FAILED), "earlier")
    earlier["time"] = "2019-02-26T19:41:21Z"
    outcome = under_test.handle(earlier)

    # Then it is recorded, not applied, in the event's own words
    assert outcome.kind is OutcomeKind.IGNORED
    assert outcome.reason == (
        f"Step Functions execution execution-name-3 SUCCEEDED ({STATE_MACHINE}): SUCCEEDED older than its last "
        "transition (recorded, not applied) (route default)"
    )


def test_deferred_lines_of_executions_are_sealed_into_a_note_that_counts_executions() -> None:
    # Given an open group with three deferred lines of Step Functions executions (a storm deferred their joins), and
    # a line stored before lines kept their kind (an alarm's)
    at = datetime(2019, 2, 26, 19, 42, 21, tzinfo=UTC)
    record = GroupRecord("g", GroupStatus.OPEN, 3, incident_arn="arn:aws:ssm-incidents::1:incident-record/p/1")
    lines = [(at, f"run-{index} FAILED", (), "Step Functions executions") for index in range(3)]
    executions = groups.deferred_join(record, {}, [], [], lines, ["e0", "e1", "e2"], at)
    older = record._replace(pending_notes=(groups.PendingNote(groups.UNSEALED, at, "cpu-high"),) * 2)

    # When they are sealed into notes
    sealed = groups.sealed(executions, at)
    sealed_older = groups.sealed(older, at)

    # Then the note counts executions; the older lines are alarms, as they were
    assert [note.text for note in sealed.pending_notes] == [
        "3 Step Functions executions fired: run-0 FAILED, run-1 FAILED, run-2 FAILED."
    ]
    assert [note.text for note in sealed_older.pending_notes] == ["2 alarms fired: cpu-high, cpu-high."]


def test_a_finding_too_large_for_raw_data_sends_readers_to_the_findings_history() -> None:
    # Given the documented Security Hub finding with a description far over rawData's 10,000 characters
    raw = load_event(SECURITY_HUB)
    raw["detail"]["findings"][0]["Description"] = "d" * 20_000

    # When it starts an incident
    outcome = bridge().handle(raw)

    # Then rawData is a summary that points to the finding's history, not an alarm's
    start = next(call for call in outcome.calls if call.operation == "StartIncident")
    summary = json.loads(start.params["triggerDetails"]["rawData"])
    assert summary["truncated"] == (
        "event exceeded 10,000 characters; see the Security Hub finding history for the full payload"
    )


def test_a_resolved_custom_event_notes_its_summary_and_counts_custom_events() -> None:
    # Given the documented custom event's incident open under a dedupe key, on a route that resolves
    under_test = bridge(auto_resolve=True)
    opened = load_event(CUSTOM_EVENT)
    opened["account"] = "123456789012"  # the sample's account has 13 digits, which no AWS account id has
    opened["detail"] = {"title": "Checkout failing", "dedupe_key": "checkout-errors", "summary": "5% of payments fail"}
    under_test.handle(opened)

    # When the application resolves the same key, with a summary that ends no sentence
    resolved = copy.deepcopy(opened)
    resolved["id"] = "resolved"
    resolved["detail"].update(status="resolved", summary="payments back to normal")
    outcome = under_test.handle(resolved)

    # Then the note names the event as a custom event, its summary as a sentence, and every custom event recovered
    assert notes(outcome) == [
        '"Custom event Checkout failing recovered (resolved): payments back to normal. '
        'All custom events of this incident recovered."'
    ]
    assert outcome.kind is OutcomeKind.RESOLVED
