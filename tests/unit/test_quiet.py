"""Why is this quiet: mute rules, silences, route time intervals and inhibition, each judged on a clock."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta

import pytest

from incident_bridge.config import Match
from incident_bridge.quiet import Quiet, QuietReason, QuietRules, muted_by_rule
from incident_bridge.quiet.inhibition import FiringSource, InhibitRule, source_key, source_keys
from incident_bridge.quiet.intervals import read_named_intervals
from incident_bridge.quiet.mute import MuteWindow
from incident_bridge.quiet.silences import Silence, SilenceState, check_silence, parse_duration, parse_moment
from incident_bridge.reader import Reader

NOW = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
RULE_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm-mute-rule:nightly-deploy"

Labels = Mapping[str, tuple[str, ...]]


def matching(labels: Labels) -> Callable[[Match], bool]:
    """A matcher test over plain labels for the fields these tests use (routing's own is tested in test_routing)."""

    def matches(match: Match) -> bool:
        wanted = {"alarm_name": match.alarm_name, "region": match.region, "namespace": match.namespace}
        return all(
            any(fnmatch.fnmatchcase(value, pattern) for value in labels.get(name, ()) for pattern in patterns)
            for name, patterns in wanted.items()
            if patterns is not None
        )

    return matches


def silence(silence_id: str = "deploy-web", *, pattern: str = "web-*", starts: datetime = NOW,
            lasts: timedelta = timedelta(hours=2), comment: str = "deploy") -> Silence:  # fmt: skip
    return Silence(id=silence_id, match=Match(alarm_name=(pattern,)), starts_at=starts, ends_at=starts + lasts,
                   created_by="alice", comment=comment)  # fmt: skip


# ---- mute rules ----


def test_an_event_inside_the_mute_window_is_quiet_until_the_windows_end() -> None:
    # Given a mute window from 22:00 to 23:00
    window = MuteWindow(muted_by_arn=RULE_ARN, starts_at=NOW, ends_at=NOW + timedelta(hours=1))

    # When events at its edges are judged
    at_start = muted_by_rule(window, NOW)
    before_end = muted_by_rule(window, NOW + timedelta(minutes=59, seconds=59))
    at_end = muted_by_rule(window, NOW + timedelta(hours=1))
    before = muted_by_rule(window, NOW - timedelta(seconds=1))

    # Then the start is muted, the end is not, and the reason names the rule and when it ends
    assert at_start == Quiet(QuietReason.MUTE_RULE, RULE_ARN, f"muted by {RULE_ARN} until 2026-12-01T23:00:00Z",
                             NOW + timedelta(hours=1))  # fmt: skip
    assert before_end is not None
    assert at_end is None
    assert before is None


def test_no_mute_detail_means_no_mute() -> None:
    assert muted_by_rule(None, NOW) is None


# ---- silences ----


def test_silence_states_follow_alertmanager() -> None:
    # Given a silence from 22:00 for two hours
    deploy = silence()

    # Then it is pending before, active from its start, expired at its end
    assert deploy.state(NOW - timedelta(seconds=1)) is SilenceState.PENDING
    assert deploy.state(NOW) is SilenceState.ACTIVE
    assert deploy.state(NOW + timedelta(hours=2) - timedelta(seconds=1)) is SilenceState.ACTIVE
    assert deploy.state(NOW + timedelta(hours=2)) is SilenceState.EXPIRED


def test_an_active_matching_silence_quiets_with_its_id_and_comment() -> None:
    # Given a silence for web-* and a firing web-1
    rules = QuietRules.of((), [silence()], ())
    matches = matching({"alarm_name": ("web-1",)})

    # When judged during the silence
    quiet = rules.signal_quiet(now=NOW + timedelta(minutes=5), event_time=NOW, mute_window=None, live_silences=(),
                               matches=matches)  # fmt: skip

    # Then the reason names the silence id, its end, its comment and who made it
    message = "silenced by deploy-web until 2026-12-02T00:00:00Z: deploy (alice)"
    assert quiet == Quiet(QuietReason.SILENCE, "deploy-web", message, NOW + timedelta(hours=2))


@pytest.mark.parametrize(
    ("now", "alarm_name"),
    [
        (NOW - timedelta(minutes=1), "web-1"),  # pending
        (NOW + timedelta(hours=2), "web-1"),  # expired at its end
        (NOW + timedelta(minutes=5), "db-1"),  # not matching
    ],
)
def test_pending_expired_or_unmatched_silences_do_not_quiet(now: datetime, alarm_name: str) -> None:
    rules = QuietRules.of((), [silence()], ())
    quiet = rules.signal_quiet(now=now, event_time=now, mute_window=None, live_silences=(),
                               matches=matching({"alarm_name": (alarm_name,)}))  # fmt: skip
    assert quiet is None


def test_live_silences_join_static_ones_and_the_last_ending_is_named() -> None:
    # Given a static silence ending at midnight and a live one ending later
    rules = QuietRules.of((), [silence()], ())
    live = silence("3f1c", starts=NOW, lasts=timedelta(hours=5), comment="migration")

    # When judged
    quiet = rules.signal_quiet(now=NOW, event_time=NOW, mute_window=None, live_silences=[live],
                               matches=matching({"alarm_name": ("web-1",)}))  # fmt: skip

    # Then the quiet lasts as long as the longest: the live one is named
    assert quiet is not None
    assert (quiet.applied, quiet.until) == ("3f1c", NOW + timedelta(hours=5))


def test_a_mute_rule_is_the_reason_before_a_silence() -> None:
    # Given an event muted by a rule and matched by a silence
    rules = QuietRules.of((), [silence()], ())
    window = MuteWindow(muted_by_arn=RULE_ARN, starts_at=NOW, ends_at=NOW + timedelta(hours=1))

    # When judged
    quiet = rules.signal_quiet(now=NOW, event_time=NOW, mute_window=window, live_silences=(),
                               matches=matching({"alarm_name": ("web-1",)}))  # fmt: skip

    # Then the mute rule is the reason
    assert quiet is not None
    assert quiet.reason is QuietReason.MUTE_RULE


def test_expiring_a_silence_ends_it_now() -> None:
    # Given an active silence, and a pending one
    active = silence()
    pending = silence(starts=NOW + timedelta(hours=1))
    later = NOW + timedelta(minutes=10)

    # When both are expired at 22:10
    expired_active = active.expired_at(later)
    expired_pending = pending.expired_at(later)

    # Then both are expired from then on, and their history (start) is kept where it was real
    assert expired_active.state(later) is SilenceState.EXPIRED
    assert expired_active.starts_at == NOW
    assert expired_pending.state(later) is SilenceState.EXPIRED
    assert expired_pending.ends_at == later


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2h", timedelta(hours=2)), ("90m", timedelta(minutes=90)), ("1d12h", timedelta(days=1, hours=12)),
     ("1h30m", timedelta(hours=1, minutes=30)), ("45s", timedelta(seconds=45))],
)  # fmt: skip
def test_durations_are_spelled_as_amtool_spells_them(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "2", "two hours", "0m", "-1h", "2h-"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|more than nothing"):
        parse_duration(text)


def test_moments_need_an_offset() -> None:
    # Given a timestamp with Z, one with an offset, and one without
    # Then the first two are read as UTC, the last is refused
    assert parse_moment("2026-12-01T22:00:00Z") == NOW
    assert parse_moment("2026-12-01T23:00:00+01:00") == NOW
    with pytest.raises(ValueError, match="has no UTC offset"):
        parse_moment("2026-12-01T22:00:00")


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ({"id": "has space"}, "id 'has space' must be"),
        ({"ends_at": NOW}, "ends_at 2026-12-01T22:00:00+00:00 must come after starts_at"),
        ({"comment": ""}, "comment must have 1 to 1000 characters"),
        ({"created_by": "x" * 129}, "created_by must have 1 to 128 characters"),
    ],
)
def test_silence_rules(changed: dict[str, object], expected: str) -> None:
    # Given a silence with one field wrong, Then the check names it
    from dataclasses import replace

    with pytest.raises(ValueError, match=expected.replace("(", r"\(").replace("+", r"\+")):
        check_silence(replace(silence(), **changed))  # type: ignore[arg-type]


# ---- route time intervals ----


def intervals_rules() -> QuietRules:
    named = read_named_intervals(
        Reader({"time_intervals": [
            {"name": "nightly-backup", "time_intervals": [{"times": [{"start_time": "02:00", "end_time": "03:00"}]}]},
            {"name": "office-hours", "time_intervals": [
                {"times": [{"start_time": "09:00", "end_time": "17:00"}], "weekdays": ["monday:friday"],
                 "location": "Europe/Berlin"}]},
        ]})
    )  # fmt: skip
    return QuietRules.of(named, (), ())


def test_a_route_is_muted_inside_its_mute_time_interval() -> None:
    rules = intervals_rules()
    inside = rules.route_quiet(["nightly-backup"], [], datetime(2026, 12, 1, 2, 30, tzinfo=UTC))
    outside = rules.route_quiet(["nightly-backup"], [], datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    assert inside == Quiet(QuietReason.MUTE_TIME_INTERVAL, "nightly-backup", "muted by time interval nightly-backup")
    assert outside is None


def test_a_route_is_muted_outside_its_active_time_intervals() -> None:
    # Given a route active only in Berlin office hours (2026-12-01 is a Tuesday; Berlin is UTC+1 in December)
    rules = intervals_rules()

    # When judged at 08:59 and 09:00 Berlin time
    before = rules.route_quiet([], ["office-hours"], datetime(2026, 12, 1, 7, 59, tzinfo=UTC))
    during = rules.route_quiet([], ["office-hours"], datetime(2026, 12, 1, 8, 0, tzinfo=UTC))

    # Then it is muted before, with the interval named, and pages during
    assert before == Quiet(QuietReason.ACTIVE_TIME_INTERVAL, "office-hours",
                           "muted outside active time intervals office-hours")  # fmt: skip
    assert during is None


def test_no_intervals_never_mute() -> None:
    assert intervals_rules().route_quiet([], [], NOW) is None


# ---- inhibition ----

REGION_HEALTH = InhibitRule(
    source_matchers=Match(alarm_name=("region-health-*",)), target_matchers=Match(namespace=("AWS/*",)),
    equal=("region",),
)  # fmt: skip


def remembered(sources: Iterable[tuple[str, FiringSource]]) -> Callable[[str], list[FiringSource]]:
    table: dict[str, list[FiringSource]] = {}
    for key, source in sources:
        table.setdefault(key, []).append(source)
    return lambda key: table.get(key, [])


def test_a_region_health_alarm_inhibits_the_service_alarms_of_its_region() -> None:
    # Given the region-health alarm of us-east-1 firing, remembered under the key its labels give
    health_labels = {"alarm_name": ("region-health-use1",), "region": ("us-east-1",)}
    keys = source_keys([REGION_HEALTH], health_labels, matching(health_labels))
    health = FiringSource(member="arn:health", name="region-health-use1", since=NOW)
    firing = remembered((key, health) for key, _ in keys)
    rules = QuietRules.of((), (), [REGION_HEALTH])

    # When an EC2 alarm of us-east-1 and one of eu-west-1 fire
    east = {"alarm_name": ("web-cpu",), "namespace": ("AWS/EC2",), "region": ("us-east-1",)}
    west = {"alarm_name": ("web-cpu",), "namespace": ("AWS/EC2",), "region": ("eu-west-1",)}
    east_quiet = rules.inhibited(east, "arn:east", matching(east), firing)
    west_quiet = rules.inhibited(west, "arn:west", matching(west), firing)

    # Then the us-east-1 alarm is inhibited by the health alarm, and the eu-west-1 one pages
    assert east_quiet == Quiet(QuietReason.INHIBITION, "region-health-use1", "inhibited by region-health-use1")
    assert west_quiet is None


def test_a_label_absent_on_both_sides_is_equal() -> None:
    # Given a rule on a tag neither alarm carries
    rule = InhibitRule(source_matchers=Match(alarm_name=("health",)), target_matchers=Match(alarm_name=("svc",)),
                       equal=("tag:service",))  # fmt: skip
    source_labels = {"alarm_name": ("health",)}
    target_labels = {"alarm_name": ("svc",)}

    # Then both give the same key
    assert source_key(0, rule, source_labels) == source_key(0, rule, target_labels)


def test_an_alarm_never_inhibits_itself_nor_is_inhibited_by_one_matching_both_sides() -> None:
    # Given a rule whose source and target both match every AWS/EC2 alarm, and one such alarm firing
    rule = InhibitRule(source_matchers=Match(namespace=("AWS/EC2",)), target_matchers=Match(namespace=("AWS/EC2",)))
    labels = {"alarm_name": ("a",), "namespace": ("AWS/EC2",)}
    keys = source_keys([rule], labels, matching(labels))
    firing = remembered(
        (key, FiringSource(member="arn:a", name="a", since=NOW, also_target=also)) for key, also in keys
    )
    rules = QuietRules.of((), (), [rule])

    # When the same alarm, and another matching both sides, fire
    itself = rules.inhibited(labels, "arn:a", matching(labels), firing)
    other = rules.inhibited({**labels, "alarm_name": ("b",)}, "arn:b", matching(labels), firing)

    # Then neither is inhibited (Alertmanager's guard against mutual inhibition)
    assert itself is None
    assert other is None


def test_an_alarm_matching_no_target_is_not_inhibited() -> None:
    labels = {"alarm_name": ("custom",), "region": ("us-east-1",)}
    health = FiringSource(member="arn:health", name="region-health-use1", since=NOW)
    firing = remembered([(source_key(0, REGION_HEALTH, labels), health)])
    assert QuietRules.of((), (), [REGION_HEALTH]).inhibited(labels, "arn:c", matching(labels), firing) is None
