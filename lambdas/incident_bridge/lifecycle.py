"""One incident per problem: group alarms, update the open incident, record recovery, resolve when all clear.

The group record (one per group key) says whether an incident is being opened (PENDING), is OPEN, or was
RESOLVED. Every write is conditional on the record's version, so two invocations racing for one group cannot
both start an incident: the loser re-reads and joins the winner's incident. Every Incident Manager call carries a
client token derived from the group and the event, so a retried call has no second effect.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from incident_bridge.alarm import AlarmState
from incident_bridge.aws import EVENT_REFERENCES_MAX
from incident_bridge.errors import PermanentApiError, TransientApiError
from incident_bridge.incident import (
    IncidentStatusRequest,
    RelatedItem,
    TimelineEventRequest,
    UpdateRelatedItemsRequest,
    build_start_incident,
    combined_metric_item,
    related_item,
    token,
    url_items,
)
from incident_bridge.outcome import ApiCall, OutcomeKind
from incident_bridge.ports import GroupStore, IncidentManager
from incident_bridge.routing import RouteDecision, label_for
from incident_bridge.signal import Link, LinkRole, MetricQuery, Signal

#: How long a PENDING claim protects an opening in progress before another invocation may finish it.
CLAIM_LEASE = timedelta(seconds=60)
#: Closed groups are deleted by DynamoDB's TTL after this; open ones are kept alive by every update.
CLOSED_GROUP_TTL = timedelta(days=30)
OPEN_GROUP_TTL = timedelta(days=90)
#: Event ids remembered per group to recognize a redelivery (the queue delivers at least once).
REMEMBERED_EVENTS = 50
_KEY_MAX = 512  # DynamoDB allows 2,048 bytes; long keys are hashed to stay well inside it
_WRITE_ATTEMPTS = 5


class GroupStatus(StrEnum):
    PENDING = "PENDING"
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


@dataclass(frozen=True)
class GroupRecord:
    """What the state table remembers of one group: its incident, status and the events already seen."""

    group_key: str
    status: GroupStatus
    version: int
    incident_arn: str | None = None
    client_token: str | None = None
    claimed_at: datetime | None = None
    #: member (alarm ARN, dedupe key, ...) -> its last state (ALARM or OK), for "every member that joined is back
    #: to OK"
    alarm_states: Mapping[str, str] = field(default_factory=dict)
    #: identities (hashes) of the related items already attached, so none is added twice
    attached: frozenset[str] = frozenset()
    processed_events: tuple[str, ...] = ()
    resolved_at: datetime | None = None
    resolved_by_bridge: bool = False
    expires_at: int | None = None


# ---- pure helpers ----


def group_key(signal: Signal, decision: RouteDecision) -> str:
    """The route's `group_by` labels (default: the signal's own group, e.g. its alarm ARN), prefixed with the route
    so routes never share a group."""
    if decision.group_by:
        # A missing label must not merge unrelated signals into one group: fall back to the member itself.
        fields = (f"{name}={signal.label(label_for(name)) or f'?{signal.member}'}" for name in decision.group_by)
        key = f"{decision.route_name}|" + "|".join(fields)
    else:
        key = f"{decision.route_name}|{signal.default_group}"
    if len(key.encode("utf-8")) > _KEY_MAX:
        key = f"{decision.route_name}|sha256={hashlib.sha256(key.encode('utf-8')).hexdigest()}"
    return key


def item_identity(item: RelatedItem) -> str:
    return hashlib.sha256("\n".join(item.identity).encode("utf-8")).hexdigest()[:32]


def all_recovered(record: GroupRecord) -> bool:
    return bool(record.alarm_states) and all(state == AlarmState.OK.value for state in record.alarm_states.values())


# ---- the flow ----


@dataclass(frozen=True)
class Step:
    """What one event did in one route: its outcome kind, a reason, and the exact calls it made."""

    kind: OutcomeKind
    reason: str
    calls: tuple[ApiCall, ...] = ()
    incident_arn: str | None = None


@dataclass(frozen=True)
class Firing:
    """One firing signal for one route's group. Its start request is built only if it starts the incident."""

    signal: Signal
    decision: RouteDecision

    @property
    def event_id(self) -> str:
        return self.signal.event_id

    @property
    def name(self) -> str:
        return self.signal.name


class Lifecycle:
    def __init__(
        self,
        incidents: IncidentManager,
        groups: GroupStore,
        *,
        flap_window: timedelta,
        clock: Callable[[], datetime],
        check_interval: timedelta = timedelta(0),
    ) -> None:
        self._incidents = incidents
        self._groups = groups
        self._flap_window = flap_window
        self._clock = clock
        # incident ARN -> when GetIncidentRecord last said OPEN; within `check_interval` the check is skipped.
        self._check_interval = check_interval
        self._seen_open: dict[str, datetime] = {}

    def fire(self, firing: Firing) -> Step:
        return self.fire_many([firing])[0]

    def fire_many(self, firings: Sequence[Firing]) -> list[Step]:
        """ALARMs of one group (from one batch): start, join or reopen the group's incident, in as few calls as
        the API allows: one status check, one call per new related item, one timeline event per ten alarms."""
        key = group_key(firings[0].signal, firings[0].decision)
        for _ in range(_WRITE_ATTEMPTS):
            record = self._groups.load(key)
            remembered = set(record.processed_events) if record else set()
            fresh = list({f.event_id: f for f in firings if f.event_id not in remembered}.values())
            redelivered = Step(OutcomeKind.IGNORED, f"event already processed for group {key} (redelivery)")
            if not fresh:
                return [redelivered for _ in firings]
            outcome = self._fire_fresh(key, record, fresh)
            if outcome is not None:
                # Each event's step goes to its first delivery; a second copy in the same batch is a redelivery.
                return [outcome.pop(firing.event_id, redelivered) for firing in firings]
        raise TransientApiError(f"group {key} kept changing under concurrent updates; will retry")

    def recover(self, signal: Signal, decision: RouteDecision) -> Step:
        """A recovery: note it on the open incident; resolve it when every member is clear and the route says so."""
        key = group_key(signal, decision)
        event_id = signal.event_id
        for _ in range(_WRITE_ATTEMPTS):
            record = self._groups.load(key)
            if record is None or record.status is not GroupStatus.OPEN or record.incident_arn is None:
                return Step(
                    OutcomeKind.IGNORED,
                    f"{signal.noun} {signal.name} is {signal.state} and its group has no open incident",
                )
            if event_id in record.processed_events:
                return Step(OutcomeKind.IGNORED, f"event {event_id} already processed for group {key} (redelivery)")
            states = {**record.alarm_states, signal.member: AlarmState.OK.value}
            updated = replace(record, alarm_states=states, processed_events=_remember(record, [event_id]))
            resolve = decision.auto_resolve and all_recovered(updated)
            pending_left = sum(1 for state in states.values() if state != AlarmState.OK.value)
            noun = signal.noun[:1].upper() + signal.noun[1:]
            text = f"{noun} {signal.name} recovered ({signal.state}): {signal.reason}".strip()
            text += " All alarms of this incident are OK." if pending_left == 0 else f" {pending_left} still in ALARM."
            if pending_left == 0 and not decision.auto_resolve:
                text += " Left open: the route does not auto-resolve."
            calls = [self._timeline(record.incident_arn, signal.state_time, text, event_id, signal.references)]
            if resolve:
                resolved = IncidentStatusRequest(
                    incident_arn=record.incident_arn, status="RESOLVED", client_token=token("resolve", key, event_id)
                )
                self._incidents.update_incident_status(resolved)
                calls.append(ApiCall(resolved.operation, resolved.to_params()))
                self._seen_open.pop(record.incident_arn, None)
                now = self._clock()
                updated = replace(
                    updated, status=GroupStatus.RESOLVED, resolved_at=now, resolved_by_bridge=True,
                    expires_at=int((now + CLOSED_GROUP_TTL).timestamp()),
                )  # fmt: skip
            if self._groups.put(self._stamped(updated), expected_version=record.version):
                kind = OutcomeKind.RESOLVED if resolve else OutcomeKind.UPDATED
                reason = "all alarms recovered: incident resolved" if resolve else "recovery recorded"
                return Step(kind, f"{signal.name}: {reason}", tuple(calls), record.incident_arn)
        raise TransientApiError(f"group {key} kept changing under concurrent updates; will retry")

    # ---- firing ----

    def _fire_fresh(self, key: str, record: GroupRecord | None, fresh: list[Firing]) -> dict[str, Step] | None:
        if record is None or (record.status is GroupStatus.RESOLVED and not self._flapping(record)):
            return self._start(key, record, fresh)
        if record.status is GroupStatus.PENDING:
            return self._finish_pending(record, fresh)
        if record.status is GroupStatus.RESOLVED:
            return self._reopen(record, fresh)
        assert record.incident_arn is not None
        reads: list[ApiCall] = []
        if not self._still_open(record.incident_arn, reads):
            # Resolved by a human, or deleted: the next alarm deserves a fresh incident, not a closed one.
            return self._start(key, record, fresh, reads)
        return self._join(record, fresh, reads, "fired")

    def _still_open(self, incident_arn: str, calls: list[ApiCall]) -> bool:
        now = self._clock()
        seen = self._seen_open.get(incident_arn)
        if seen is not None and now - seen < self._check_interval:
            return True
        if self._status(incident_arn, calls) != "OPEN":
            self._seen_open.pop(incident_arn, None)
            return False
        self._seen_open[incident_arn] = now
        return True

    def _status(self, incident_arn: str, calls: list[ApiCall]) -> str | None:
        """GetIncidentRecord, recorded like every other call the bridge makes."""
        calls.append(ApiCall("GetIncidentRecord", {"arn": incident_arn}))
        return self._incidents.incident_status(incident_arn)

    def _start(
        self, key: str, previous: GroupRecord | None, fresh: list[Firing], prior: Sequence[ApiCall] = ()
    ) -> dict[str, Step] | None:
        claim = GroupRecord(
            group_key=key,
            status=GroupStatus.PENDING,
            version=(previous.version + 1) if previous else 1,
            client_token=token("start", key, fresh[0].event_id),
            claimed_at=self._clock(),
            # A redelivery of an event handled for the previous incident must stay a no-op for the new one.
            processed_events=previous.processed_events if previous else (),
        )
        if not self._groups.put(claim, expected_version=previous.version if previous else None):
            return None  # another invocation claimed the group first: re-read and join it
        return self._open(claim, fresh, prior=prior)

    def _finish_pending(self, record: GroupRecord, fresh: list[Firing]) -> dict[str, Step] | None:
        own = next((f for f in fresh if record.client_token == token("start", record.group_key, f.event_id)), None)
        stale = record.claimed_at is None or self._clock() - record.claimed_at > CLAIM_LEASE
        if own is None and not stale:
            raise TransientApiError(f"an incident for group {record.group_key} is being opened; will join it on retry")
        # Same client token as the claim: if the first attempt reached Incident Manager, this returns that incident.
        if own is not None:
            return self._open(record, [own, *(f for f in fresh if f is not own)])
        # Taking over a stale claim: the incident may exist from the original alarm's request, whose items we do
        # not know; recover it with the claim's token, then every alarm here joins it like any later alarm.
        return self._open(record, fresh, takeover=True)

    def _open(
        self, claim: GroupRecord, fresh: list[Firing], *, takeover: bool = False, prior: Sequence[ApiCall] = ()
    ) -> dict[str, Step] | None:
        first, rest = fresh[0], fresh[1:]
        request = build_start_incident(first.signal, first.decision)
        # Every claim carries its token; a record that somehow lacks one still starts with the firing's own.
        start = replace(request, client_token=claim.client_token or request.client_token)
        calls = [*prior, ApiCall("StartIncident", start.to_params())]
        try:
            incident_arn = self._incidents.start_incident(start)
        except PermanentApiError:
            # Release the claim so the next alarm of the group can try again (e.g. after a permission fix).
            released = replace(claim, status=GroupStatus.RESOLVED, version=claim.version + 1)
            self._groups.put(self._stamped(released), expected_version=claim.version)
            raise
        self._seen_open[incident_arn] = self._clock()
        if takeover:
            recovered = self._stamped(replace(claim, status=GroupStatus.OPEN, incident_arn=incident_arn))
            if not self._groups.put(recovered, expected_version=claim.version):
                raise TransientApiError(f"lost the claim on group {claim.group_key} while opening; will retry")
            return self._join_retrying(recovered, fresh, calls)
        opened = self._stamped(
            replace(
                claim,
                status=GroupStatus.OPEN,
                incident_arn=incident_arn,
                alarm_states=_alarm_states(claim, [first]),
                attached=frozenset(
                    {item_identity(item) for item in start.related_items}
                    | {family for query in _queries(first.signal) for family in metric_families(query)}
                ),
                processed_events=_remember(claim, [first.event_id]),
                resolved_at=None,
                resolved_by_bridge=False,
            )
        )
        if not self._groups.put(opened, expected_version=claim.version):
            raise TransientApiError(f"lost the claim on group {claim.group_key} while opening; will retry")
        reason = f"incident started in {start.response_plan_arn} at impact {start.impact}"
        steps = {first.event_id: Step(OutcomeKind.STARTED, reason, tuple(calls), incident_arn)}
        if rest:
            steps.update(self._join_retrying(opened, rest, []))
        return steps

    def _join_retrying(self, record: GroupRecord, fresh: list[Firing], calls: list[ApiCall]) -> dict[str, Step]:
        """Joins the rest of a batch to the incident just opened; another invocation may write the group in
        between, so re-read and join again (the calls carry tokens, so repeating them is harmless)."""
        for _ in range(_WRITE_ATTEMPTS):
            joined = self._join(record, fresh, calls, "fired")
            if joined is not None:
                return joined
            current = self._groups.load(record.group_key)
            if current is None or current.incident_arn != record.incident_arn or current.status is not GroupStatus.OPEN:
                break
            record, calls = current, []
        raise TransientApiError(f"group {record.group_key} changed while joining the batch; will retry")

    def _reopen(self, record: GroupRecord, fresh: list[Firing]) -> dict[str, Step] | None:
        """Within the flap window after the bridge resolved it: reopen the same incident (if it still exists)."""
        assert record.incident_arn is not None
        calls: list[ApiCall] = []
        status = self._status(record.incident_arn, calls)
        if status is None:
            return self._start(record.group_key, record, fresh, calls)  # deleted meanwhile: a fresh incident
        if status == "OPEN":
            self._seen_open[record.incident_arn] = self._clock()
            reopened = replace(record, status=GroupStatus.OPEN, resolved_at=None, resolved_by_bridge=False)
            return self._join(reopened, fresh, calls, "fired again within the flap window")
        reopen = IncidentStatusRequest(
            incident_arn=record.incident_arn,
            status="OPEN",
            client_token=token("reopen", record.group_key, fresh[0].event_id),
        )
        self._incidents.update_incident_status(reopen)
        self._seen_open[record.incident_arn] = self._clock()
        reopened = replace(record, status=GroupStatus.OPEN, resolved_at=None, resolved_by_bridge=False, expires_at=None)
        calls.append(ApiCall(reopen.operation, reopen.to_params()))
        return self._join(reopened, fresh, calls, "fired again within the flap window")

    def _join(
        self, record: GroupRecord, fresh: list[Firing], calls: list[ApiCall], verb: str
    ) -> dict[str, Step] | None:
        """Adds what the alarms bring that the incident lacks, and one timeline note per ten alarms."""
        assert record.incident_arn is not None
        attached = set(record.attached)
        items, families = _coalesced_items(fresh, attached)
        attached |= families
        for item in items:
            identity = item_identity(item)
            if identity in attached:
                continue
            update = UpdateRelatedItemsRequest(
                incident_arn=record.incident_arn, item=item, client_token=token("item", record.incident_arn, identity)
            )
            self._incidents.update_related_items(update)
            calls.append(ApiCall(update.operation, update.to_params()))
            attached.add(identity)
        for chunk_start in range(0, len(fresh), EVENT_REFERENCES_MAX):
            chunk = fresh[chunk_start : chunk_start + EVENT_REFERENCES_MAX]
            names = ", ".join(firing.name for firing in chunk)
            text = f"{names} {verb}." if len(chunk) == 1 else f"{len(chunk)} alarms {verb}: {names}."
            arns = tuple(arn for firing in chunk for arn in firing.signal.references)
            when = max(firing.signal.state_time for firing in chunk)
            calls.append(self._timeline(record.incident_arn, when, text, "+".join(f.event_id for f in chunk), arns))
        joined = replace(
            record,
            alarm_states=_alarm_states(record, fresh),
            attached=frozenset(attached),
            processed_events=_remember(record, [firing.event_id for firing in fresh]),
        )
        if not self._groups.put(self._stamped(joined), expected_version=record.version):
            return None  # changed meanwhile: re-read; the calls above carry tokens, so repeating them is harmless
        first, others = fresh[0], fresh[1:]
        reason = f"joined the open incident ({verb})"
        steps = {first.event_id: Step(OutcomeKind.UPDATED, reason, tuple(calls), record.incident_arn)}
        for firing in others:
            shared = f"{reason}, in one update with {first.event_id}"
            steps[firing.event_id] = Step(OutcomeKind.UPDATED, shared, (), record.incident_arn)
        return steps

    # ---- small parts ----

    def _timeline(self, incident_arn: str, when: datetime, text: str, event_id: str, arns: tuple[str, ...]) -> ApiCall:
        event = TimelineEventRequest(
            incident_arn=incident_arn,
            event_time=when,
            text=text,
            client_token=token("timeline", incident_arn, event_id),
            resource_arns=arns,
        )
        self._incidents.create_timeline_event(event)
        return ApiCall(event.operation, event.to_params())

    def _flapping(self, record: GroupRecord) -> bool:
        return (
            record.resolved_by_bridge
            and record.incident_arn is not None
            and record.resolved_at is not None
            and self._clock() - record.resolved_at <= self._flap_window
        )

    def _stamped(self, record: GroupRecord) -> GroupRecord:
        if record.status is GroupStatus.RESOLVED and record.expires_at is not None:
            return replace(record, version=record.version + 1)
        ttl = CLOSED_GROUP_TTL if record.status is GroupStatus.RESOLVED else OPEN_GROUP_TTL
        return replace(record, version=record.version + 1, expires_at=int((self._clock() + ttl).timestamp()))


def _coalesced_items(fresh: Sequence[Firing], attached: set[str]) -> tuple[list[RelatedItem], set[str]]:
    """What joining signals add, in as few calls as the API allows (it takes one item per call): each new
    resource and link; one METRIC item charting the metrics the incident does not chart yet (a storm of one metric
    over many instances adds it once); not the signals' own pages (an alarm's console link), which their timeline
    note names instead.

    Returns the items and the metric-family identities they bring."""
    others: list[RelatedItem] = []
    queries: list[MetricQuery] = []
    families: set[str] = set()
    for firing in fresh:
        others += url_items(firing.decision.related_urls)
        for thing in firing.signal.related:
            if isinstance(thing, MetricQuery):
                new_families = metric_families(thing) - attached - families
                if new_families:
                    queries.append(thing)
                    families |= new_families
            elif not (isinstance(thing, Link) and thing.role is LinkRole.ORIGIN):
                others.append(related_item(thing))
    metrics = [combined_metric_item(queries)] if len(queries) > 1 else [related_item(query) for query in queries]
    return [*others, *metrics], families


def _queries(signal: Signal) -> list[MetricQuery]:
    return [thing for thing in signal.related if isinstance(thing, MetricQuery)]


def metric_families(query: MetricQuery) -> set[str]:
    """Identities (hashes) of the metrics a query charts, as the group record keeps them."""
    return {hashlib.sha256(family.encode("utf-8")).hexdigest()[:32] for family in query.families()}


def _alarm_states(record: GroupRecord, firings: Sequence[Firing]) -> dict[str, str]:
    states = dict(record.alarm_states)
    for firing in firings:
        states[firing.signal.member] = AlarmState.ALARM.value
    return states


def _remember(record: GroupRecord, event_ids: Sequence[str]) -> tuple[str, ...]:
    return (*record.processed_events, *event_ids)[-REMEMBERED_EVENTS:]
