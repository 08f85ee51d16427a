"""Forwarder heartbeats: which member forwarders have gone silent, and which have come back. Pure domain: the
records come in, the clock's `now` comes in, verdicts go out; adapters/ keeps the records (heartbeat_table.py).

Every member forwarder's scheduled rule sends a heartbeat every 5 minutes (infra/forwarder.py). A forwarder that
was heard once, or that the configuration lists in `expected_forwarders`, and stays silent for
SILENCE_THRESHOLD opens an incident through the route `forwarder-silent`; the incident resolves when heartbeats
resume. A heartbeat never pages by itself, and a forwarder never heard and never listed is not watched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from incident_bridge.aws import partition_of_region
from incident_bridge.intake import FORWARDER_SOURCE, HEARTBEAT_RULE_NAME, SILENT_DETAIL_TYPE
from incident_bridge.signal import InvolvedResource, Signal, SignalStatus, Trigger

#: Three missed heartbeats (every 5 minutes) before paging: one late or lost delivery never pages.
SILENCE_THRESHOLD = timedelta(minutes=15)


@dataclass(frozen=True, order=True)
class ForwarderId:
    """One forwarder: a member account in one region."""

    account: str
    region: str

    def __str__(self) -> str:
        return f"{self.account}/{self.region}"


@dataclass(frozen=True)
class Heartbeat:
    """One heartbeat as it arrived: which forwarder, and when EventBridge sent it."""

    forwarder: ForwarderId
    sent_at: datetime
    event_id: str


@dataclass(frozen=True)
class ForwarderRecord:
    """What the state table remembers of one forwarder."""

    forwarder: ForwarderId
    #: The latest heartbeat's time; None for a listed forwarder never heard from.
    last_heartbeat: datetime | None
    #: Since when it is watched: its first heartbeat, or the first check that expected it.
    watched_since: datetime
    #: While an incident is open for its silence: when that silence began (it names the episode).
    silent_since: datetime | None = None

    @property
    def last_sign_of_life(self) -> datetime:
        return self.last_heartbeat or self.watched_since


class VerdictKind(StrEnum):
    #: A listed forwarder the bridge has never heard of: start its clock now.
    WATCH = "watch"
    #: Silent for SILENCE_THRESHOLD and no incident open for it yet: open one.
    SILENT = "silent"
    #: Heartbeats again after a silence with an incident: resolve it.
    RESUMED = "resumed"


@dataclass(frozen=True)
class Verdict:
    """What one check decided about one forwarder."""

    kind: VerdictKind
    forwarder: ForwarderId
    #: When the silence began (WATCH: the moment the clock starts).
    silent_since: datetime
    last_heartbeat: datetime | None = None

    @property
    def episode_id(self) -> str:
        """Names one silence of one forwarder: the same on every check until it ends, so a retried or repeated
        check opens (or resolves) the same incident once."""
        return f"forwarder-silent:{self.forwarder}:{self.silent_since.isoformat()}"


def check(
    records: Mapping[ForwarderId, ForwarderRecord],
    expected: Iterable[ForwarderId],
    now: datetime,
    threshold: timedelta = SILENCE_THRESHOLD,
) -> list[Verdict]:
    """The verdicts for every forwarder heard from or listed, in a stable order."""
    verdicts = []
    for forwarder in sorted(set(records) | set(expected)):
        record = records.get(forwarder)
        if record is None:
            verdicts.append(Verdict(VerdictKind.WATCH, forwarder, now))
            continue
        silent = now - record.last_sign_of_life >= threshold
        if silent and record.silent_since is None:
            verdicts.append(Verdict(VerdictKind.SILENT, forwarder, record.last_sign_of_life, record.last_heartbeat))
        elif not silent and record.silent_since is not None:
            verdicts.append(Verdict(VerdictKind.RESUMED, forwarder, record.silent_since, record.last_heartbeat))
    return verdicts


def latest(heartbeats: Iterable[Heartbeat]) -> dict[ForwarderId, datetime]:
    """The newest heartbeat per forwarder of a batch: one write each, whatever the batch holds."""
    newest: dict[ForwarderId, datetime] = {}
    for heartbeat in heartbeats:
        known = newest.get(heartbeat.forwarder)
        if known is None or heartbeat.sent_at > known:
            newest[heartbeat.forwarder] = heartbeat.sent_at
    return newest


def parse_forwarder(entry: str) -> ForwarderId:
    """`111122223333/eu-west-1` (the configuration's `expected_forwarders`, validated there)."""
    account, _, region = entry.partition("/")
    return ForwarderId(account, region)


def silent_signal(verdict: Verdict, account_alias: str, now: datetime) -> Signal:
    """A silence (or its end) as the signal routing and the lifecycle read: routed by `forwarder-silent`, one group
    per forwarder (its member), one episode per silence (its event id and start token)."""
    forwarder = verdict.forwarder
    partition = partition_of_region(forwarder.region)
    rule_arn = f"arn:{partition}:events:{forwarder.region}:{forwarder.account}:rule/{HEARTBEAT_RULE_NAME}"
    named = forwarder.account if account_alias == forwarder.account else f"{account_alias} ({forwarder.account})"
    heard = verdict.last_heartbeat.isoformat() if verdict.last_heartbeat else None
    if verdict.kind is VerdictKind.RESUMED:
        status, state = SignalStatus.RECOVERING, "heard again"
        reason = f"Heartbeats from {named} in {forwarder.region} arrive again."
        event_id, state_time = f"{verdict.episode_id}:resumed", verdict.last_heartbeat or now
    else:
        status, state = SignalStatus.FIRING, "silent"
        minutes = int((now - verdict.silent_since).total_seconds() // 60)
        since = f"since {heard}" if heard else "ever since it was expected"
        reason = (
            f"No heartbeat from the incident-bridge forwarder of {named} in {forwarder.region} {since} "
            f"({minutes} minutes): alarms of that account and region may not be reaching the bridge. Check the "
            f"forwarder stack there (rule {HEARTBEAT_RULE_NAME} and its role) and the intake bus policy."
        )
        event_id, state_time = verdict.episode_id, verdict.silent_since
    detail: dict[str, Any] = {
        "account": forwarder.account,
        "account_alias": account_alias,
        "region": forwarder.region,
        "last_heartbeat": heard,
        "silent_since": verdict.silent_since.isoformat(),
    }
    title = f"incident-bridge forwarder of {named} in {forwarder.region} is silent"
    return Signal(
        name=f"incident-bridge forwarder of {named} in {forwarder.region}",
        noun="forwarder",
        event_id=event_id,
        status=status,
        state=state,
        state_time=state_time,
        labels={
            "account": (forwarder.account,),
            "account_alias": (account_alias,),
            "region": (forwarder.region,),
            "source": (FORWARDER_SOURCE,),
            "detail_type": (SILENT_DETAIL_TYPE,),
            "title": (title,),
            "summary": (reason,),
        },
        member=str(forwarder),
        default_group=f"forwarder={forwarder}",
        title=title,
        reason=reason,
        # One start token per silence: a retried or repeated check returns the same incident.
        trigger=Trigger(source=FORWARDER_SOURCE, arn=rule_arn, token_parts=(verdict.episode_id,)),
        related=(InvolvedResource(arn=rule_arn, title=f"events rule/{HEARTBEAT_RULE_NAME}"),),
        references=(rule_arn,),
        payload=f"forwarder {forwarder}: {state}",
        raw_event={"source": FORWARDER_SOURCE, "detail-type": SILENT_DETAIL_TYPE, "detail": detail},
    )
