"""What the bridge did with one event, and with a batch: the single record every caller (handler, CLI, tests) reads."""

from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from incident_bridge.quiet import Quiet


class OutcomeKind(StrEnum):
    STARTED = "started"
    UPDATED = "updated"
    RESOLVED = "resolved"
    IGNORED = "ignored"
    REJECTED = "rejected"
    #: Bookkeeping, never a page by itself: a forwarder's heartbeat kept, a silence check that found no change.
    RECORDED = "recorded"
    #: Not done yet, for a reason a later delivery can fix (throttling, a race, the invocation running out of time):
    #: the queue redelivers it.
    RETRY = "retry"
    #: Not started (the invocation ran low on time): sent back to the source queue as a new message, so waiting
    #: its turn in a storm does not use up the receives the redrive policy counts.
    REQUEUED = "requeued"


class IgnoreReason(StrEnum):
    """Why an event had nothing to do; logs and the EventIgnored metric carry it."""

    #: Not something to act on (INSUFFICIENT_DATA, a suppressed composite, a configuration change): sources/ say.
    NOT_ACTIONABLE = "not-actionable"
    DROPPED_BY_ROUTE = "dropped-by-route"
    #: The same event (or the same alarm transition by another delivery path) was already applied.
    REDELIVERY = "redelivery"
    #: Older than the last transition applied for its alarm (by the alarm's state time): recorded, not applied.
    OUT_OF_ORDER = "out-of-order"
    #: An OK for a group without an open incident: remembered, nothing to update.
    NO_OPEN_INCIDENT = "no-open-incident"
    #: An OK for an incident that no longer exists (deleted by a human): the group forgets it.
    INCIDENT_GONE = "incident-gone"
    #: A firing event kept quiet (quiet.QuietReason, the same values): a CloudWatch alarm mute rule, a silence, the
    #: route's mute or active time intervals, an inhibition.
    MUTE_RULE = "mute-rule"
    SILENCE = "silence"
    MUTE_TIME_INTERVAL = "mute-time-interval"
    ACTIVE_TIME_INTERVAL = "active-time-interval"
    INHIBITION = "inhibition"


# Value types here are NamedTuples, not frozen dataclasses: a dataclass compiles its methods when the module is
# imported, several times a NamedTuple's cost, and these modules load on every cold start (README, Performance).
# Annotations are not postponed (no `from __future__ import annotations`): NamedTuple compiles each string one.
class ApiCall(NamedTuple):
    """One Incident Manager call the bridge made (or, in a dry run, would make)."""

    operation: str
    #: The exact keyword arguments given to the boto3 client.
    params: dict[str, Any]


class Outcome(NamedTuple):
    """What became of one event: its kind, why, and the calls made for it."""

    kind: OutcomeKind
    reason: str
    calls: tuple[ApiCall, ...] = ()
    alarm_name: str | None = None
    route_name: str | None = None
    incident_arn: str | None = None
    #: For rejections (and retries): the error class the handler and the dead-letter message carry.
    error_class: str | None = None
    #: For firing events kept quiet (mute rule, silence, time interval, inhibition): which, and why.
    quiet: "Quiet | None" = None
    ignore_reason: IgnoreReason | None = None
    #: For retries: at least this many seconds before it is worth receiving again (None: the runtime's backoff).
    retry_after_seconds: int | None = None


class BatchResult:
    """One outcome per event of a batch, by the caller's key (SQS message id), in the batch's order."""

    __slots__ = ("outcomes",)

    def __init__(self, outcomes: Mapping[str, Outcome]) -> None:
        self.outcomes = outcomes

    def __getitem__(self, key: str) -> Outcome:
        return self.outcomes[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.outcomes)

    @property
    def to_retry(self) -> list[str]:
        """Exactly the keys the queue must redeliver."""
        return [key for key, outcome in self.outcomes.items() if outcome.kind is OutcomeKind.RETRY]
