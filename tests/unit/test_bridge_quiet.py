"""The quiet step in the bridge's decision path, on a clock: mute rules, silences, route time intervals and
inhibition keep firing alarms quiet, with the reason; recoveries always apply; and when the quiet ends, the
scheduled check pages what is still firing."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from incident_bridge.adapters.dry_run import DryRunIncidentManager
from incident_bridge.adapters.memory_groups import MemoryGroupStore
from incident_bridge.adapters.memory_quiet import MemoryInhibitionSources, MemoryQuietLedger, MemorySilences
from incident_bridge.bridge import Bridge, Routed, decide
from incident_bridge.config import BridgeConfig, Match, parse_config
from incident_bridge.errors import TransientApiError
from incident_bridge.outcome import IgnoreReason, OutcomeKind
from incident_bridge.quiet import QuietReason
from incident_bridge.quiet.silences import Silence
from incident_bridge.quieting import Quieting
from tests.conftest import PLAN_ARN, load_event

EC2_ALARM = "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
#: The documented event's time (2019-10-02T17:04:40Z) and a clock shortly after it.
EVENT_TIME = datetime(2019, 10, 2, 17, 4, 40, tzinfo=UTC)
RULE_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm-mute-rule:nightly-patching"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def alarm(name: str = "ServerCpuTooHigh", *, state: str = "ALARM", at: datetime = EVENT_TIME) -> dict[str, Any]:
    """The documented EC2 alarm event; variants change its name (and ARN and id), state and state time."""
    event = copy.deepcopy(load_event(EC2_ALARM))
    event["id"] = f"{name}-{state}-{at.isoformat()}"
    event["detail"]["alarmName"] = name
    event["resources"] = [f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"]
    event["detail"]["state"]["value"] = state
    event["detail"]["state"]["timestamp"] = at.isoformat()
    event["time"] = at.isoformat()
    return event


def bridge_for(
    document: dict[str, Any],
    clock: Clock,
    *,
    silences: tuple[Silence, ...] = (),
    incidents: DryRunIncidentManager | None = None,
) -> Bridge:
    config = parse_config({"default": {"response_plan_arn": PLAN_ARN}, **document}, origin="test")
    quieting = Quieting(config, silences=MemorySilences(silences), sources=MemoryInhibitionSources(),
                        ledger=MemoryQuietLedger())  # fmt: skip
    return Bridge(config, incidents or DryRunIncidentManager(), MemoryGroupStore(), clock=clock, quieting=quieting)


def silence_document(ends: datetime, *, starts: datetime = EVENT_TIME - timedelta(minutes=5)) -> dict[str, Any]:
    return {"silences": [{"id": "deploy-web", "match": {"alarm_name": "ServerCpu*"}, "starts_at": starts.isoformat(),
                          "ends_at": ends.isoformat(), "created_by": "alice", "comment": "deploy"}]}  # fmt: skip


# ---- mute rules ----


def muted(event: dict[str, Any], *, start: datetime, end: datetime) -> dict[str, Any]:
    event["detail"]["muteDetail"] = {"mutedByArn": RULE_ARN, "muteWindowStart": start.isoformat(),
                                     "muteWindowEnd": end.isoformat()}  # fmt: skip
    return event


def test_an_alarm_sent_in_a_mute_window_is_ignored_naming_the_rule_and_its_end() -> None:
    # Given an ALARM sent inside a CloudWatch mute window ending at 18:00
    clock = Clock(EVENT_TIME)
    bridge = bridge_for({}, clock)
    event = muted(alarm(), start=EVENT_TIME - timedelta(minutes=5), end=datetime(2019, 10, 2, 18, tzinfo=UTC))

    # When it is handled
    outcome = bridge.handle(event)

    # Then nothing pages, and the reason names the mute rule and when it ends
    assert outcome.kind is OutcomeKind.IGNORED
    assert outcome.reason == f"ServerCpuTooHigh: muted by {RULE_ARN} until 2019-10-02T18:00:00Z (route default)"
    assert outcome.quiet is not None
    assert outcome.quiet.reason is QuietReason.MUTE_RULE
    assert outcome.calls == ()


def test_an_event_sent_after_its_mute_window_pages() -> None:
    # Given a muteDetail whose window ended before the event was sent
    bridge = bridge_for({}, Clock(EVENT_TIME))
    event = muted(alarm(), start=EVENT_TIME - timedelta(hours=1), end=EVENT_TIME)

    # Then it pages (the window's end is excluded)
    assert bridge.handle(event).kind is OutcomeKind.STARTED


#: AWS's documented contributor event carries `muteDetail` exactly as CloudWatch writes it (`+0000` offsets, with
#: milliseconds, and a 10-digit account in `mutedByArn`, as published); its own `time` lies before the window.
DOCUMENTED_MUTED = "eventbridge-cloudwatch-alarm-contributor-state-change-ALARM-metrics-insights-awsdocs.json"


def test_the_documented_mute_detail_mutes_an_event_sent_inside_its_window() -> None:
    # Given AWS's published event, sent (one change: `time`) inside its mute window 10:00-12:00 UTC on 2026-01-01
    bridge = bridge_for({}, Clock(datetime(2026, 1, 1, 11, tzinfo=UTC)))
    event = load_event(DOCUMENTED_MUTED)
    event["time"] = "2026-01-01T11:00:00Z"

    # When the bridge handles it
    outcome = bridge.handle(event)

    # Then it is muted, naming the documented rule and the window's end as CloudWatch wrote them
    assert outcome.kind is OutcomeKind.IGNORED
    assert "muted by arn:aws:cloudwatch:us-east-1:1234567890:alarm-mute-rule:testMute until 2026-01-01T12:00:00Z" in (
        outcome.reason
    )


def test_the_documented_event_as_published_pages_because_it_was_sent_before_its_window() -> None:
    # Given AWS's published event unchanged: sent 2025-12-01, a month before its mute window
    bridge = bridge_for({}, Clock(datetime(2025, 12, 1, 13, 43, tzinfo=UTC)))

    # When the bridge handles it
    outcome = bridge.handle(load_event(DOCUMENTED_MUTED))

    # Then the mark does not quiet it: only an event sent inside the window is muted
    assert outcome.kind is OutcomeKind.STARTED


def test_an_ok_is_never_muted() -> None:
    # Given an open incident for the alarm, and auto-resolve
    clock = Clock(EVENT_TIME)
    bridge = bridge_for({"default": {"response_plan_arn": PLAN_ARN, "auto_resolve": True}}, clock)
    assert bridge.handle(alarm()).kind is OutcomeKind.STARTED

    # When its OK arrives inside a mute window
    later = EVENT_TIME + timedelta(minutes=10)
    ok = muted(alarm(state="OK", at=later), start=later - timedelta(minutes=1), end=later + timedelta(hours=1))
    outcome = bridge.handle(ok)

    # Then the recovery applies: the incident is resolved
    assert outcome.kind is OutcomeKind.RESOLVED
    assert outcome.quiet is None


def test_a_muted_alarm_still_firing_pages_when_the_window_ends() -> None:
    # Given an ALARM quieted by a mute window ending at 18:00
    clock = Clock(EVENT_TIME)
    bridge = bridge_for({}, clock)
    bridge.handle(muted(alarm(), start=EVENT_TIME, end=datetime(2019, 10, 2, 18, tzinfo=UTC)))

    # When the scheduled check runs inside the window, then after it
    clock.now = datetime(2019, 10, 2, 17, 59, tzinfo=UTC)
    during = bridge.recheck()
    clock.now = datetime(2019, 10, 2, 18, 0, tzinfo=UTC)
    after = bridge.recheck()

    # Then it stays quiet during the window and pages at its end
    assert [outcome.kind for _, outcome in during] == [OutcomeKind.IGNORED]
    assert [outcome.kind for _, outcome in after] == [OutcomeKind.STARTED]
    assert bridge.recheck() == []


# ---- silences ----


def test_a_silenced_still_firing_alarm_pages_when_its_silence_ends() -> None:
    # Given a silence on ServerCpu* until 19:00, and the alarm firing at 17:04
    silence_end = datetime(2019, 10, 2, 19, tzinfo=UTC)
    clock = Clock(EVENT_TIME)
    incidents = DryRunIncidentManager()
    bridge = bridge_for(silence_document(silence_end), clock, incidents=incidents)

    # When the alarm is handled
    first = bridge.handle(alarm())

    # Then it is ignored, the reason naming the silence id and comment, and nothing is started
    assert first.kind is OutcomeKind.IGNORED
    assert first.reason == (
        "ServerCpuTooHigh: silenced by deploy-web until 2019-10-02T19:00:00Z: deploy (alice) (route default)"
    )
    assert first.quiet is not None
    assert first.quiet.applied == "deploy-web"
    assert incidents.incidents == {}

    # When the scheduled check runs a minute before the silence ends, and at its end
    clock.now = silence_end - timedelta(minutes=1)
    before_end = bridge.recheck()
    clock.now = silence_end
    at_end = bridge.recheck()

    # Then it stays quiet until then, and pages when the silence ends, still firing
    assert [outcome.kind for _, outcome in before_end] == [OutcomeKind.IGNORED]
    assert [outcome.kind for _, outcome in at_end] == [OutcomeKind.STARTED]
    assert len(incidents.incidents) == 1
    assert bridge.quieting.ledger is not None
    assert bridge.quieting.ledger.entries() == ()


def test_an_alarm_that_recovered_while_silenced_is_dropped_and_never_pages() -> None:
    # Given a silenced ALARM
    silence_end = datetime(2019, 10, 2, 19, tzinfo=UTC)
    clock = Clock(EVENT_TIME)
    bridge = bridge_for(silence_document(silence_end), clock)
    bridge.handle(alarm())

    # When its OK arrives during the silence, and the check runs after the silence
    bridge.handle(alarm(state="OK", at=EVENT_TIME + timedelta(minutes=20)))
    clock.now = silence_end + timedelta(minutes=1)
    after = bridge.recheck()

    # Then the ledger dropped it when it recovered (for the log line), and nothing pages
    assert [entry.name for entry in bridge.forgotten] == ["ServerCpuTooHigh"]
    assert after == []


def test_pending_and_expired_silences_do_not_quiet() -> None:
    # Given a silence starting after the event, and one that ended before it
    pending = bridge_for(silence_document(EVENT_TIME + timedelta(hours=2), starts=EVENT_TIME + timedelta(hours=1)),
                         Clock(EVENT_TIME))  # fmt: skip
    expired = bridge_for(silence_document(EVENT_TIME - timedelta(minutes=1), starts=EVENT_TIME - timedelta(hours=1)),
                         Clock(EVENT_TIME))  # fmt: skip

    # Then both page
    assert pending.handle(alarm()).kind is OutcomeKind.STARTED
    assert expired.handle(alarm()).kind is OutcomeKind.STARTED


def test_a_live_silence_from_the_store_quiets_too() -> None:
    # Given a live silence (as `incident-bridge silence add` stores it) on the alarm's namespace
    live = Silence(id="7f1c", match=Match(namespace=("AWS/EC2",)), starts_at=EVENT_TIME,
                   ends_at=EVENT_TIME + timedelta(hours=2), created_by="bob", comment="ec2 maintenance")  # fmt: skip
    bridge = bridge_for({}, Clock(EVENT_TIME + timedelta(minutes=1)), silences=(live,))

    # When the alarm fires, Then it is silenced by the live silence
    outcome = bridge.handle(alarm())
    assert outcome.quiet is not None
    assert (outcome.quiet.reason, outcome.quiet.applied) == (QuietReason.SILENCE, "7f1c")


# ---- time intervals ----

NIGHT = {"time_intervals": [{"name": "nightly-backup", "time_intervals": [
    {"times": [{"start_time": "17:00", "end_time": "18:00"}], "location": "Europe/Berlin"}]}]}  # fmt: skip


def test_a_route_muted_now_ignores_the_alarm_naming_the_interval() -> None:
    # Given the default route muted 17:00-18:00 Berlin time (CEST, UTC+2, in October)
    document = {**NIGHT, "default": {"response_plan_arn": PLAN_ARN, "mute_time_intervals": ["nightly-backup"]}}

    # When the alarm is decided at 15:30 UTC (17:30 Berlin) and at 16:00 UTC (18:00 Berlin)
    inside = bridge_for(document, Clock(datetime(2019, 10, 2, 15, 30, tzinfo=UTC))).handle(alarm())
    at_end = bridge_for(document, Clock(datetime(2019, 10, 2, 16, 0, tzinfo=UTC))).handle(alarm())

    # Then inside it is ignored naming the interval; at the interval's end it pages
    assert inside.reason == "ServerCpuTooHigh: muted by time interval nightly-backup (route default)"
    assert at_end.kind is OutcomeKind.STARTED


def test_a_route_outside_its_active_intervals_is_muted_and_pages_when_they_begin() -> None:
    # Given a route active only during the Berlin interval
    document = {**NIGHT, "default": {"response_plan_arn": PLAN_ARN, "active_time_intervals": ["nightly-backup"]}}
    clock = Clock(datetime(2019, 10, 2, 14, 0, tzinfo=UTC))  # 16:00 Berlin: outside
    bridge = bridge_for(document, clock)

    # When the alarm fires outside, and the check runs once the interval begins
    outside = bridge.handle(alarm())
    clock.now = datetime(2019, 10, 2, 15, 0, tzinfo=UTC)  # 17:00 Berlin
    checked = bridge.recheck()

    # Then it is muted with the interval named, and pages when the route becomes active
    assert outside.quiet is not None
    assert outside.quiet.reason is QuietReason.ACTIVE_TIME_INTERVAL
    assert [outcome.kind for _, outcome in checked] == [OutcomeKind.STARTED]


def test_only_the_muted_route_is_quiet_when_an_event_takes_two() -> None:
    # Given two routes taking the alarm (`continue`), the first muted now
    document = {**NIGHT, "routes": [
        {"name": "infra", "match": {"namespace": "AWS/EC2"}, "continue": True,
         "mute_time_intervals": ["nightly-backup"]},
        {"name": "sre", "match": {"alarm_name": "Server*"}},
    ]}  # fmt: skip

    # When it fires inside the interval
    outcome = bridge_for(document, Clock(datetime(2019, 10, 2, 15, 30, tzinfo=UTC))).handle(alarm())

    # Then the unmuted route pages
    assert outcome.kind is OutcomeKind.STARTED
    assert outcome.route_name == "sre"


# ---- inhibition ----

INHIBIT = {"inhibit_rules": [{"source_matchers": {"alarm_name": "region-health-*"},
                              "target_matchers": {"namespace": "AWS/*"}, "equal": ["region"]}]}  # fmt: skip


def test_a_region_health_alarm_inhibits_the_service_alarms_of_its_region_in_one_batch() -> None:
    # Given the region-health alarm and a service alarm of the same region in one batch
    clock = Clock(EVENT_TIME)
    bridge = bridge_for(INHIBIT, clock)

    # When the batch is handled
    results = bridge.handle_batch([("health", alarm("region-health-use1")), ("service", alarm())])

    # Then the health alarm pages and the service alarm is inhibited by it
    health, service = results["health"], results["service"]
    assert not isinstance(health, Exception)
    assert not isinstance(service, Exception)
    assert health.kind is OutcomeKind.STARTED
    assert service.reason == "ServerCpuTooHigh: inhibited by region-health-use1 (route default)"
    assert service.quiet is not None
    assert service.quiet.reason is QuietReason.INHIBITION


def test_an_inhibited_alarm_pages_once_its_source_recovers() -> None:
    # Given the service alarm inhibited by the firing health alarm
    clock = Clock(EVENT_TIME)
    bridge = bridge_for(INHIBIT, clock)
    bridge.handle(alarm("region-health-use1"))
    assert bridge.handle(alarm()).kind is OutcomeKind.IGNORED

    # When the health alarm recovers, and the check runs
    bridge.handle(alarm("region-health-use1", state="OK", at=EVENT_TIME + timedelta(minutes=3)))
    clock.now = EVENT_TIME + timedelta(minutes=4)
    checked = bridge.recheck()

    # Then the service alarm, still firing, pages
    assert [outcome.kind for _, outcome in checked] == [OutcomeKind.STARTED]


def test_another_regions_alarm_is_not_inhibited() -> None:
    bridge = bridge_for(INHIBIT, Clock(EVENT_TIME))
    bridge.handle(alarm("region-health-use1"))
    other = alarm()
    other["resources"] = ["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:ServerCpuTooHigh"]
    other["region"] = "eu-west-1"
    assert bridge.handle(other).kind is OutcomeKind.STARTED


# ---- visibility ----


def test_decide_without_ports_applies_the_configurations_silences() -> None:
    # Given only a configuration (what `routes test` has), with a silence over the event's time
    document = {"default": {"response_plan_arn": PLAN_ARN}, **silence_document(EVENT_TIME + timedelta(hours=1))}
    config: BridgeConfig = parse_config(document, origin="test")

    # When the event is decided at its own time
    decided = decide(alarm(), config, now=EVENT_TIME)

    # Then the decision carries the silence for the route, and the event stops there
    assert isinstance(decided, Routed)
    assert [(found.route_name, found.quiet.applied) for found in decided.quiet] == [("default", "deploy-web")]
    assert decided.stopped is not None
    assert decided.stopped.quiet is not None


class UnreadableSilences:
    """A silence store whose table cannot be read now (throttled)."""

    def live(self) -> tuple[Silence, ...]:
        raise TransientApiError("GetItem silences: ProvisionedThroughputExceededException")


def test_an_unreadable_silence_store_retries_the_event_rather_than_paging_or_dropping_it() -> None:
    # Given a bridge whose live silences cannot be read now
    config = parse_config({"default": {"response_plan_arn": PLAN_ARN}}, origin="test")
    incidents = DryRunIncidentManager()
    bridge = Bridge(config, incidents, MemoryGroupStore(), clock=Clock(EVENT_TIME),
                    quieting=Quieting(config, silences=UnreadableSilences()))  # fmt: skip

    # When an alarm fires
    outcome = bridge.handle(alarm())

    # Then it is returned for retry (the queue redelivers it), and nothing was started
    assert outcome.kind is OutcomeKind.RETRY
    assert "ProvisionedThroughputExceededException" in outcome.reason
    assert incidents.incidents == {}


def test_quiet_outcomes_carry_the_ignore_reason_logs_and_metrics_use() -> None:
    # Given a silenced alarm
    bridge = bridge_for(silence_document(EVENT_TIME + timedelta(hours=1)), Clock(EVENT_TIME))

    # When handled, Then the outcome's ignore reason is the quiet reason's
    outcome = bridge.handle(alarm())
    assert outcome.ignore_reason is IgnoreReason.SILENCE
