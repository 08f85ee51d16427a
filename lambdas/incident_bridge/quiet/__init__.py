"""Why is this quiet? One answer for every mechanism that keeps an expected problem from paging.

In the order the bridge asks (the first that applies is the reason):

1. a CloudWatch alarm mute rule (`detail.muteDetail`), judged at the event's time;
2. a silence (static from the configuration, or live from the state table), active now;
3. the route's `mute_time_intervals` (muted inside them) and `active_time_intervals` (muted outside them);
4. an inhibition rule whose source alarm is firing.

As Alertmanager names its mute reasons (silence, inhibition, time interval), each answer carries a `QuietReason`
that logs and metrics carry, what applied (the rule's ARN, the silence's id, the interval's name, the source alarm)
and, when known, when the quiet ends. Recoveries are never quiet: the caller asks only for firing events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple, Self

from incident_bridge.quiet.silences import Silence, silencing

if TYPE_CHECKING:
    # Time intervals and inhibition are imported where a configuration uses them: an alarms-only bridge's cold
    # start does not load them (`make bench`; tests/handler/test_lazy_imports.py). Silences are asked on every
    # firing alarm (live ones may be added at any time), so they are imported here.
    from incident_bridge.config import Match
    from incident_bridge.quiet.inhibition import FiringSource, InhibitRule, Labels
    from incident_bridge.quiet.intervals import NamedTimeInterval
    from incident_bridge.quiet.mute import MuteWindow


class QuietReason(StrEnum):
    """Why a firing event did not page; Alertmanager's suppression reasons plus CloudWatch's mute rules."""

    MUTE_RULE = "mute-rule"
    SILENCE = "silence"
    MUTE_TIME_INTERVAL = "mute-time-interval"
    ACTIVE_TIME_INTERVAL = "active-time-interval"
    INHIBITION = "inhibition"


class Quiet(NamedTuple):
    """Why a firing event pages nobody on a route, and until when if that is known."""

    reason: QuietReason
    #: What applied: the mute rule's ARN, the silence's id, the interval's name(s), the source alarm's name.
    applied: str
    #: The sentence logs, outcomes and `routes test` show.
    message: str
    #: When the quiet ends, if that is known now (a silence, a mute window); intervals and inhibitions are
    #: re-evaluated instead.
    until: datetime | None = None


def muted_by_rule(window: MuteWindow | None, event_time: datetime) -> Quiet | None:
    if window is None or not window.mutes(event_time):
        return None
    return Quiet(QuietReason.MUTE_RULE, window.muted_by_arn,
                 f"muted by {window.muted_by_arn} until {_shown(window.ends_at)}", window.ends_at)  # fmt: skip


def silenced(silences: Iterable[Silence], now: datetime, matches: Callable[[Match], bool]) -> Quiet | None:
    silence = silencing(silences, now, matches)
    if silence is None:
        return None
    message = f"silenced by {silence.id} until {_shown(silence.ends_at)}: {silence.comment} ({silence.created_by})"
    return Quiet(QuietReason.SILENCE, silence.id, message, silence.ends_at)


def muted_by_intervals(
    mute_names: Iterable[str],
    active_names: Iterable[str],
    intervals: Mapping[str, NamedTimeInterval],
    now: datetime,
) -> Quiet | None:
    """Alertmanager's route semantics: muted inside any `mute_time_intervals`; when `active_time_intervals` are
    given, muted outside all of them. Names were checked against `intervals` when the configuration loaded."""
    for name in mute_names:
        if intervals[name].contains(now):
            return Quiet(QuietReason.MUTE_TIME_INTERVAL, name, f"muted by time interval {name}")
    active = list(active_names)
    if active and not any(intervals[name].contains(now) for name in active):
        names = ", ".join(active)
        return Quiet(QuietReason.ACTIVE_TIME_INTERVAL, names, f"muted outside active time intervals {names}")
    return None


def inhibited(
    rules: Iterable[InhibitRule],
    labels: Labels,
    member: str,
    matches: Callable[[Match], bool],
    firing: Callable[[str], Iterable[FiringSource]],
) -> Quiet | None:
    from incident_bridge.quiet.inhibition import inhibiting  # only a configuration with inhibit_rules gets here

    source = inhibiting(rules, labels, member, matches, firing)
    if source is None:
        return None
    return Quiet(QuietReason.INHIBITION, source.name, f"inhibited by {source.name}")


class QuietRules(NamedTuple):
    """What the configuration says about quiet, resolved once when it loads."""

    intervals: Mapping[str, NamedTimeInterval] = MappingProxyType({})
    silences: tuple[Silence, ...] = ()
    inhibit_rules: tuple[InhibitRule, ...] = ()

    @classmethod
    def of(
        cls,
        intervals: Iterable[NamedTimeInterval],
        silences: Iterable[Silence],
        inhibit_rules: Iterable[InhibitRule],
    ) -> Self:
        return cls({interval.name: interval for interval in intervals}, tuple(silences), tuple(inhibit_rules))

    def signal_quiet(
        self,
        *,
        now: datetime,
        event_time: datetime,
        mute_window: MuteWindow | None,
        live_silences: Iterable[Silence],
        matches: Callable[[Match], bool],
    ) -> Quiet | None:
        """The quiet that holds for the event whatever its route: a mute rule, then a silence."""
        return muted_by_rule(mute_window, event_time) or silenced((*self.silences, *live_silences), now, matches)

    def route_quiet(self, mute_names: Iterable[str], active_names: Iterable[str], now: datetime) -> Quiet | None:
        return muted_by_intervals(mute_names, active_names, self.intervals, now)

    def inhibited(
        self,
        labels: Labels,
        member: str,
        matches: Callable[[Match], bool],
        firing: Callable[[str], Iterable[FiringSource]],
    ) -> Quiet | None:
        return inhibited(self.inhibit_rules, labels, member, matches, firing)


def _shown(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
