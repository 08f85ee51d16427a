"""Forwarder heartbeats: the pure silence check with a clock, then the whole flow through the bridge (heartbeats in,
the scheduled check, incidents through `forwarder-silent` and the lifecycle) with the dry-run Incident Manager.

Heartbeats are copies of the documented scheduled event (events/), changed only in what EventBridge writes for a
member forwarder: its account, region, rule ARN, id and time. Every call recorded is checked against botocore's
full ssm-incidents model by the dry-run Incident Manager.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from incident_bridge.adapters.dry_run import DryRunIncidentManager
from incident_bridge.adapters.memory_groups import MemoryGroupStore
from incident_bridge.adapters.memory_heartbeats import MemoryHeartbeatStore
from incident_bridge.bridge import Bridge
from incident_bridge.config import BridgeConfig, parse_config
from incident_bridge.errors import InvalidEvent, PermanentApiError
from incident_bridge.heartbeats import (
    SILENCE_THRESHOLD,
    ForwarderId,
    ForwarderRecord,
    Heartbeat,
    Verdict,
    VerdictKind,
    check,
    latest,
)
from incident_bridge.outcome import Outcome, OutcomeKind
from incident_bridge.signal import NotActionable
from incident_bridge.sources import housekeeping, parse_event
from tests.conftest import PLAN_ARN, load_event

SCHEDULED = "eventbridge-scheduled-event-rate-5-minutes-awsdocs.json"
PAYMENTS = ForwarderId("111122223333", "eu-west-1")
SEARCH = ForwarderId("444455556666", "us-east-1")
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SILENT_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/platform-forwarders"


# ---- the pure check ----


def record(forwarder: ForwarderId, heard: datetime | None, *, silent_since: datetime | None = None) -> ForwarderRecord:
    return ForwarderRecord(forwarder, heard, heard or T0, silent_since)


def test_a_forwarder_heard_within_fifteen_minutes_is_not_silent() -> None:
    # Given a forwarder last heard at T0
    records = {PAYMENTS: record(PAYMENTS, T0)}

    # When the check runs just under 15 minutes later
    verdicts = check(records, (), T0 + SILENCE_THRESHOLD - timedelta(seconds=1))

    # Then nothing happens
    assert verdicts == []


def test_a_forwarder_silent_for_fifteen_minutes_is_silent_since_its_last_heartbeat() -> None:
    # Given a forwarder last heard at T0
    records = {PAYMENTS: record(PAYMENTS, T0)}

    # When the check runs 15 minutes later
    verdicts = check(records, (), T0 + timedelta(minutes=15))

    # Then it is silent, the silence beginning at its last heartbeat
    assert verdicts == [Verdict(VerdictKind.SILENT, PAYMENTS, T0, T0)]
    assert verdicts[0].episode_id == "forwarder-silent:111122223333/eu-west-1:2026-03-01T12:00:00+00:00"


def test_a_silent_forwarder_with_its_incident_open_is_not_silent_again() -> None:
    # Given a forwarder whose silence since T0 already has its incident
    records = {PAYMENTS: record(PAYMENTS, T0, silent_since=T0)}

    # When later checks run / Then they add nothing
    assert check(records, (), T0 + timedelta(hours=3)) == []


def test_a_silent_forwarder_heard_again_has_resumed() -> None:
    # Given a forwarder silent since T0 (incident open), heard again at T0 + 40 minutes
    records = {PAYMENTS: record(PAYMENTS, T0 + timedelta(minutes=40), silent_since=T0)}

    # When the check runs a minute later
    verdicts = check(records, (), T0 + timedelta(minutes=41))

    # Then it has resumed, naming the silence that ended
    assert verdicts == [Verdict(VerdictKind.RESUMED, PAYMENTS, T0, T0 + timedelta(minutes=40))]


def test_a_forwarder_never_heard_and_not_listed_never_pages() -> None:
    # Given no records and no listed forwarders / When the check runs, however late / Then nothing at all
    assert check({}, (), T0 + timedelta(days=30)) == []


def test_a_listed_forwarder_never_heard_is_watched_first_then_silent_fifteen_minutes_later() -> None:
    # Given a configuration listing a forwarder the bridge never heard from
    expected = [PAYMENTS]

    # When the first check runs / Then its clock starts
    assert check({}, expected, T0) == [Verdict(VerdictKind.WATCH, PAYMENTS, T0)]

    # When a check runs 15 minutes after the watch began / Then it is silent since then, never heard
    watched = {PAYMENTS: ForwarderRecord(PAYMENTS, None, T0)}
    assert check(watched, expected, T0 + timedelta(minutes=14)) == []
    assert check(watched, expected, T0 + timedelta(minutes=15)) == [Verdict(VerdictKind.SILENT, PAYMENTS, T0, None)]


def test_verdicts_come_in_a_stable_order() -> None:
    # Given two silent forwarders given in any order
    records = {SEARCH: record(SEARCH, T0), PAYMENTS: record(PAYMENTS, T0)}

    # When checked / Then they come sorted by account and region
    assert [verdict.forwarder for verdict in check(records, (), T0 + timedelta(hours=1))] == [PAYMENTS, SEARCH]


def test_the_latest_heartbeat_per_forwarder_of_a_batch_is_kept() -> None:
    # Given a batch with two heartbeats of one forwarder, out of order, and one of another
    from incident_bridge.heartbeats import Heartbeat

    batch = [
        Heartbeat(PAYMENTS, T0 + timedelta(minutes=5), "b"),
        Heartbeat(PAYMENTS, T0, "a"),
        Heartbeat(SEARCH, T0, "c"),
    ]

    # When reduced / Then one time per forwarder, the newest
    assert latest(batch) == {PAYMENTS: T0 + timedelta(minutes=5), SEARCH: T0}


def test_the_memory_store_never_moves_a_heartbeat_back() -> None:
    # Given a store that heard a forwarder at T0 + 5 minutes
    store = MemoryHeartbeatStore()
    store.record({PAYMENTS: T0 + timedelta(minutes=5)})

    # When an older heartbeat arrives late
    store.record({PAYMENTS: T0})

    # Then the newer one is kept, and the watch began with the first
    assert store.load()[PAYMENTS] == ForwarderRecord(PAYMENTS, T0 + timedelta(minutes=5), T0 + timedelta(minutes=5))


# ---- parsing ----


def heartbeat_event(forwarder: ForwarderId, at: datetime, *, rule: str = "incident-bridge-heartbeat") -> dict[str, Any]:
    """The documented scheduled event, as EventBridge writes it for `forwarder`'s heartbeat rule at `at`."""
    event = load_event(SCHEDULED)
    event["id"] = f"heartbeat-{forwarder.account}-{forwarder.region}-{at.isoformat()}"
    event["account"], event["region"] = forwarder.account, forwarder.region
    event["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    event["resources"] = [f"arn:aws:events:{forwarder.region}:{forwarder.account}:rule/{rule}"]
    return event


def check_task(at: datetime) -> dict[str, Any]:
    """What the central stack's check rule sends (its target input, infra/intake.py)."""
    return {"incidentBridgeTask": "check-forwarders", "id": f"tick-{at.isoformat()}", "time": at.isoformat()}


def test_a_heartbeat_is_recognized_from_what_eventbridge_writes() -> None:
    # Given a forwarder's heartbeat
    raw = heartbeat_event(PAYMENTS, T0)

    # When the bridge looks at it
    kept = housekeeping(raw)
    parsed = parse_event(raw)

    # Then it is a heartbeat of the forwarder the envelope names, at its time, and routing never sees it
    assert kept == Heartbeat(PAYMENTS, T0, raw["id"])
    assert parsed == NotActionable(
        "heartbeat of forwarder 111122223333/eu-west-1: recorded, never paged", payload="EventBridge scheduled event"
    )


def test_another_scheduled_event_is_not_a_heartbeat() -> None:
    # Given the documented scheduled event as it is (rule my-scheduled-rule)
    raw = load_event(SCHEDULED)

    # When the bridge looks at it / Then it is no heartbeat, and is ignored naming its rule
    assert housekeeping(raw) is None
    parsed = parse_event(raw)
    assert isinstance(parsed, NotActionable)
    assert parsed.reason == "scheduled event of rule my-scheduled-rule: not a forwarder heartbeat"


def test_a_heartbeat_whose_rule_arn_is_of_another_account_is_refused() -> None:
    # Given a heartbeat whose rule ARN names another account than its envelope (EventBridge writes both alike)
    raw = heartbeat_event(PAYMENTS, T0)
    raw["resources"] = [f"arn:aws:events:eu-west-1:{SEARCH.account}:rule/incident-bridge-heartbeat"]

    # When the bridge looks at it / Then it is refused, to the dead-letter queue
    with pytest.raises(InvalidEvent, match="does not belong to account 111122223333 in eu-west-1"):
        housekeeping(raw)


def test_an_unknown_task_is_refused() -> None:
    # Given a task payload naming no known task / When parsed / Then it is refused, naming the known one
    with pytest.raises(InvalidEvent, match="unknown task 'purge' \\(known: check-forwarders\\)"):
        housekeeping({**check_task(T0), "incidentBridgeTask": "purge"})


# ---- through the bridge ----


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Central:
    """The central bridge: dry-run Incident Manager, groups and heartbeats in memory, a clock."""

    config: BridgeConfig
    clock: Clock = field(default_factory=Clock)
    incidents: DryRunIncidentManager = field(default_factory=DryRunIncidentManager)
    heartbeats: MemoryHeartbeatStore = field(default_factory=MemoryHeartbeatStore)

    def __post_init__(self) -> None:
        self.bridge = Bridge(
            self.config, self.incidents, MemoryGroupStore(), clock=self.clock, heartbeats=self.heartbeats
        )

    def at(self, minutes: float) -> Central:
        self.clock.now = T0 + timedelta(minutes=minutes)
        return self

    def heartbeat(self, forwarder: ForwarderId) -> Outcome:
        return self.bridge.handle(heartbeat_event(forwarder, self.clock.now))

    def check(self) -> Outcome:
        return self.bridge.handle(check_task(self.clock.now))


def bridge_config(**extra: Any) -> BridgeConfig:
    return parse_config({"default": {"response_plan_arn": PLAN_ARN}, **extra}, origin="tests/unit/test_heartbeats")


def test_heartbeats_are_recorded_and_never_page() -> None:
    # Given the central bridge
    central = Central(bridge_config())

    # When heartbeats of two forwarders arrive, over an hour
    outcomes = [
        central.at(minute).heartbeat(forwarder) for minute in range(0, 60, 5) for forwarder in (PAYMENTS, SEARCH)
    ]

    # Then each is recorded, none made any Incident Manager call, and the latest of each is kept
    assert {outcome.kind for outcome in outcomes} == {OutcomeKind.RECORDED}
    assert [call for outcome in outcomes for call in outcome.calls] == []
    assert central.incidents.incidents == {}
    assert central.heartbeats.load()[PAYMENTS].last_heartbeat == T0 + timedelta(minutes=55)


def test_a_forwarder_silent_for_fifteen_minutes_opens_an_incident_through_forwarder_silent() -> None:
    # Given a forwarder heard at T0, then nothing
    central = Central(bridge_config(accounts={"111122223333": "payments-prod"}))
    central.heartbeat(PAYMENTS)

    # When the check runs at 14 minutes, then at 15
    quiet = central.at(14).check()
    paged = central.at(15).check()

    # Then nothing at 14; at 15 one incident opens through the route forwarder-silent, in the default's plan,
    # titled with the account's alias and the region, naming the heartbeat rule as the involved resource
    assert (quiet.kind, quiet.calls) == (OutcomeKind.RECORDED, ())
    assert paged.kind is OutcomeKind.STARTED
    assert paged.route_name == "forwarder-silent"
    [start] = [call.params for call in paged.calls if call.operation == "StartIncident"]
    assert start["responsePlanArn"] == PLAN_ARN
    assert start["title"] == "incident-bridge forwarder of payments-prod (111122223333) in eu-west-1 is silent"
    assert start["relatedItems"][0]["identifier"]["value"]["arn"] == (
        "arn:aws:events:eu-west-1:111122223333:rule/incident-bridge-heartbeat"
    )
    assert len(central.incidents.incidents) == 1


def test_later_checks_during_the_silence_open_nothing_more() -> None:
    # Given a forwarder whose silence already paged
    central = Central(bridge_config())
    central.heartbeat(PAYMENTS)
    central.at(15).check()

    # When checks keep running every minute for an hour
    outcomes = [central.at(minute).check() for minute in range(16, 76)]

    # Then they call nothing and the one incident stays alone
    assert [call for outcome in outcomes for call in outcome.calls] == []
    assert len(central.incidents.incidents) == 1


def test_the_incident_resolves_when_heartbeats_resume() -> None:
    # Given a forwarder whose silence paged at 15 minutes
    central = Central(bridge_config())
    central.heartbeat(PAYMENTS)
    started = central.at(15).check()

    # When its heartbeats resume at 40 minutes and the next check runs
    central.at(40).heartbeat(PAYMENTS)
    resolved = central.at(41).check()

    # Then the incident is resolved (the built-in route resolves it), with a timeline note saying so
    assert resolved.kind is OutcomeKind.RESOLVED
    assert resolved.incident_arn == started.incident_arn
    incident = central.incidents.incidents[str(started.incident_arn)]
    assert incident.status == "RESOLVED"
    assert any("arrive again" in note for note in incident.timeline)

    # When it falls silent again (last heard at 40) and a check runs past the flap window / Then it pages anew
    again = central.at(200).check()
    assert again.kind is OutcomeKind.STARTED
    assert len(central.incidents.incidents) == 2


def test_a_forwarder_never_heard_and_not_listed_never_pages_through_the_bridge() -> None:
    # Given the central bridge that never heard of PAYMENTS and does not list it
    central = Central(bridge_config())

    # When checks run for a day / Then none pages
    outcomes = [central.at(minute).check() for minute in range(0, 24 * 60, 60)]
    assert {outcome.kind for outcome in outcomes} == {OutcomeKind.RECORDED}
    assert [call for outcome in outcomes for call in outcome.calls] == []
    assert central.incidents.incidents == {}


def test_a_listed_forwarder_never_heard_pages_fifteen_minutes_after_the_first_check() -> None:
    # Given a configuration listing PAYMENTS, which never sends a heartbeat
    central = Central(bridge_config(expected_forwarders=["111122223333/eu-west-1"]))

    # When the checks run from T0 (the first one starts its clock)
    first = central.at(0).check()
    quiet = central.at(14).check()
    paged = central.at(15).check()

    # Then it pages at 15 minutes, saying it was never heard
    assert (first.kind, quiet.kind, paged.kind) == (OutcomeKind.RECORDED, OutcomeKind.RECORDED, OutcomeKind.STARTED)
    [start] = [call.params for call in paged.calls if call.operation == "StartIncident"]
    assert start["title"] == "incident-bridge forwarder of 111122223333 in eu-west-1 is silent"
    assert '"last_heartbeat":null' in start["triggerDetails"]["rawData"].replace(" ", "")


def test_the_forwarder_silent_route_is_configurable_like_any_route() -> None:
    # Given a configuration whose route forwarder-silent names its own plan and impact, and a catch-all route on
    # the forwarder's account that must not catch the silent forwarder
    config = bridge_config(
        routes=[
            {"name": "payments", "match": {"account": "111122223333"}, "response_plan_arn": PLAN_ARN, "impact": 1},
            {"name": "forwarder-silent", "response_plan_arn": SILENT_PLAN, "impact": 2},
        ]
    )
    central = Central(config)
    central.heartbeat(PAYMENTS)

    # When its silence pages
    paged = central.at(15).check()

    # Then it went through forwarder-silent, with that plan and impact; the payments route did not catch it
    [start] = [call.params for call in paged.calls if call.operation == "StartIncident"]
    assert paged.route_name == "forwarder-silent"
    assert (start["responsePlanArn"], start["impact"]) == (SILENT_PLAN, 2)
    # And IAM will allow that plan: the configuration counts it among its plans
    assert SILENT_PLAN in config.response_plan_arns()


def test_a_forwarder_silent_route_can_drop_silences_it_does_not_want() -> None:
    # Given forwarder-silent narrowed to production accounts by alias (through `accounts`)
    config = bridge_config(
        accounts={"111122223333": "payments-prod", "444455556666": "search-dev"},
        routes=[{"name": "forwarder-silent", "match": {"account_alias": "*-prod"}}],
    )
    central = Central(config)
    central.heartbeat(PAYMENTS)
    central.heartbeat(SEARCH)

    # When both fall silent
    paged = central.at(15).check()

    # Then only the production forwarder pages
    starts = [call.params for call in paged.calls if call.operation == "StartIncident"]
    assert [start["title"] for start in starts] == [
        "incident-bridge forwarder of payments-prod (111122223333) in eu-west-1 is silent"
    ]


@pytest.mark.parametrize("make", [heartbeat_event, lambda forwarder, at: check_task(at)], ids=["heartbeat", "check"])
def test_without_a_heartbeat_store_the_bridge_ignores_them(
    make: Callable[[ForwarderId, datetime], dict[str, Any]],
) -> None:
    # Given a bridge built without a heartbeat store (as a library user may build one)
    bridge = Bridge(bridge_config(), DryRunIncidentManager(), MemoryGroupStore(), clock=Clock())

    # When a heartbeat or a check arrives / Then it is ignored, saying why, and nothing is called
    outcome = bridge.handle(make(PAYMENTS, T0))
    assert outcome.kind is OutcomeKind.IGNORED
    assert "not kept by this bridge" in outcome.reason
    assert outcome.calls == ()


class RefusingOnce(DryRunIncidentManager):
    """Incident Manager refusing the first StartIncident (a permission fixed between two checks)."""

    def __init__(self) -> None:
        super().__init__()
        self.refusals = 1

    def start_incident(self, request: Any) -> str:
        if self.refusals:
            self.refusals -= 1
            raise PermanentApiError("AccessDeniedException: not authorized to perform ssm-incidents:StartIncident")
        return super().start_incident(request)


def test_a_silence_whose_incident_could_not_start_is_tried_again_on_the_next_check() -> None:
    # Given a forwarder silent since T0, and Incident Manager refusing the first start
    central = Central(bridge_config(), incidents=RefusingOnce())
    central.heartbeat(PAYMENTS)

    # When the check runs at 15 minutes (refused) and again a minute later
    refused = central.at(15).check()
    retried = central.at(16).check()

    # Then the refusal is reported (to the dead-letter queue), the silence stays unsettled, and the next check opens
    # the incident
    assert refused.kind is OutcomeKind.REJECTED
    assert retried.kind is OutcomeKind.STARTED
    assert len(central.incidents.incidents) == 1
