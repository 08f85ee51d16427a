"""One incident per problem: group alarms, update the open incident, record recovery, resolve when all clear.

The group record (groups.py) says whether an incident is being opened (PENDING), is OPEN, is being resolved
(RESOLVING) or was RESOLVED. Every write is conditional on the record's version, and written first: the store
returns the current record when the condition fails (ReturnValuesOnConditionCheckFailure=ALL_OLD), so a group is
read only when a write finds it changed. Every side effect is committed to the record, with its client token,
before it is made, and confirmed after: whoever touches the group next re-sends exactly the committed calls, so a
crash, a lost response or a redelivery in another batch make-up never has a second effect.

Alarm transitions apply by the alarm's state time: one older than the last applied for that alarm is recorded, not
applied, and an OK that arrives before its ALARM is remembered.

Results are values: one `Step` per event, RETRY when a later delivery can finish it.
"""

import hashlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from incident_bridge import groups
from incident_bridge.alarm import AlarmState
from incident_bridge.aws import EVENT_REFERENCES_MAX
from incident_bridge.errors import (
    CorruptGroupRecord,
    GroupRecordRejected,
    IncidentNotFound,
    PermanentApiError,
    Throttled,
    TransientApiError,
)
from incident_bridge.groups import AlarmMark, GroupRecord, GroupStatus, Transition, item_identity
from incident_bridge.incident import (
    IncidentStatusRequest,
    RelatedItem,
    TimelineEventRequest,
    UpdateRelatedItemsRequest,
    build_start_incident,
    combined_metric_item,
    related_item,
    related_items,
    token,
    unique_capped,
    url_items,
)
from incident_bridge.outcome import IgnoreReason, OutcomeKind
from incident_bridge.ports import GroupStore, IncidentManager
from incident_bridge.routing import RouteDecision, label_for
from incident_bridge.signal import Link, LinkRole, MetricQuery, Signal, Vocabulary

logger = logging.getLogger(__name__)

_KEY_MAX = 512  # DynamoDB allows 2,048 bytes; long keys are hashed to stay well inside it
_WRITE_ATTEMPTS = 5
#: Group records this container remembers, to write first without reading (a stale one costs a refused write).
_KNOWN_GROUPS = 1_000
#: A deferred join (the request budget is short, see fire_many) trusts an incident's OPEN status this long at least,
#: whatever `incident_check_seconds` says, counting from the bridge's own opening too: in a storm the check would
#: otherwise cost a call per group per batch. Past it, checks still take only their share of the budget
#: (budget.CHECK_SHARE, asked through `may_check`).
DEFERRED_CHECK = timedelta(seconds=300)


# ---- pure helpers ----


def group_key(signal: Signal, decision: RouteDecision) -> str:
    """The route's `group_by` labels (default: the signal's own group, e.g. its alarm ARN), prefixed with the route
    so routes never share a group. Always a key DynamoDB can store (groups.storable_key)."""
    if decision.group_by:
        # A missing label must not merge unrelated signals into one group: fall back to the member itself.
        fields = (f"{name}={signal.label(label_for(name)) or f'?{signal.member}'}" for name in decision.group_by)
        key = f"{decision.route_name}|" + "|".join(fields)
    else:
        key = f"{decision.route_name}|{signal.default_group}"
    if len(key.encode("utf-8", "surrogatepass")) > _KEY_MAX:
        key = f"{decision.route_name}|sha256={hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()}"
    return groups.storable_key(key)


# ---- the flow ----


# Value types here are NamedTuples, not frozen dataclasses: a dataclass compiles its methods when the module is
# imported, several times a NamedTuple's cost, and these modules load on every cold start (README, Performance).
# Annotations are not postponed (no `from __future__ import annotations`): NamedTuple compiles each string one.
class Step(NamedTuple):
    """What one event did in one route: its outcome kind and why. The calls are recorded at the port."""

    kind: OutcomeKind
    reason: str
    incident_arn: str | None = None
    ignore_reason: IgnoreReason | None = None
    error_class: str | None = None
    #: Retried because Incident Manager throttled: the batch stops starting groups (see Bridge).
    throttled: bool = False


class Firing(NamedTuple):
    """One firing signal for one route's group. Its start request is built only if it starts the incident."""

    signal: Signal
    decision: RouteDecision

    @property
    def event_id(self) -> str:
        return self.signal.event_id

    @property
    def name(self) -> str:
        return self.signal.name

    @property
    def mark(self) -> tuple[str, AlarmMark]:
        """The member's transition to ALARM, by its state time (and its occurrence: Signal.occurrence)."""
        return self.signal.member, AlarmMark(AlarmState.ALARM, self.signal.state_time, self.signal.occurrence)


class _Changed(NamedTuple):
    """A write found the group changed: here is the record that is stored now (None: none)."""

    current: GroupRecord | None


_UNKNOWN = object()
_EPOCH = datetime.min.replace(tzinfo=UTC)


def _ignored(reason: str, why: IgnoreReason) -> Step:
    return Step(OutcomeKind.IGNORED, reason, ignore_reason=why)


def _retry(error: Exception) -> Step:
    return Step(OutcomeKind.RETRY, str(error), error_class=type(error).__name__, throttled=isinstance(error, Throttled))


def _rejected(error: Exception, what: str) -> Step:
    return Step(OutcomeKind.REJECTED, f"{what}: {error}", error_class=type(error).__name__)


class Lifecycle:
    def __init__(
        self,
        incidents: IncidentManager,
        groups_store: GroupStore,
        *,
        flap_window: timedelta,
        clock: Callable[[], datetime],
        check_interval: timedelta = timedelta(0),
        may_check: Callable[[], bool] = lambda: True,
    ) -> None:
        self._incidents = incidents
        self._groups = groups_store
        self._flap_window = flap_window
        self._clock = clock
        # incident ARN -> when GetIncidentRecord last said OPEN; within `check_interval` the check is skipped.
        self._check_interval = check_interval
        self._seen_open: dict[str, datetime] = {}
        # While joins are deferred: whether a status check fits the request budget's share for checks now (see
        # _still_open); otherwise the last OPEN seen is trusted a while longer.
        self._may_check = may_check
        # group key -> the record this container last wrote or saw (write-first; a stale one costs a refused write)
        self._known: dict[str, GroupRecord | None] = {}
        # group key -> tokens of the calls this container's deferred joins committed, until its flush sends them
        self._committed_here: dict[str, set[str]] = {}
        # incidents this container has just started, which the batch's other alarms of the group join right after
        self._just_opened: set[str] = set()

    # ---- firing ----

    def fire(self, firing: Firing) -> Step:
        return self.fire_many([firing])[firing.event_id]

    def fire_many(self, firings: Sequence[Firing], *, joins: bool = True, defer: bool = False) -> dict[str, Step]:
        """ALARMs of one group (from one batch): start, join or reopen the group's incident, in as few calls as
        the API allows. Returns one step per event id; never raises for an API, store or record failure.

        With `joins=False` only what opens an incident is done: a group whose incident is open returns no steps at
        all (nothing was written or called), so the caller can join it after every other group of the batch was
        opened (opening before joining: a page matters more than a related item).

        With `defer` (the request budget is short), joining an open incident commits the alarms and what they add
        to the group record and makes no call: `flush` sends them later, coalesced (one note per ten alarms, one
        status check per DEFERRED_CHECK at most, within the checks' share of the budget). A new group's other
        alarms ride in its start request and their note is deferred the same way, so the batch's next start does
        not wait behind it."""
        key = group_key(firings[0].signal, firings[0].decision)
        return self._fire_guarded(key, firings, self._known.get(key, _UNKNOWN), verified=False, joins=joins,
                                  defer=defer)  # fmt: skip

    def _fire_guarded(
        self, key: str, firings: Sequence[Firing], hint: object, *, verified: bool, joins: bool = True,
        defer: bool = False,
    ) -> dict[str, Step]:  # fmt: skip
        try:
            return self._fire(key, firings, hint, verified=verified, joins=joins, defer=defer)
        except TransientApiError as error:
            return {firing.event_id: _retry(error) for firing in firings}
        except (PermanentApiError, GroupRecordRejected, CorruptGroupRecord) as error:
            self._known.pop(key, None)
            return {firing.event_id: _rejected(error, f"group {key}") for firing in firings}

    def _fire(
        self, key: str, firings: Sequence[Firing], hint: object, *, verified: bool, joins: bool = True,
        defer: bool = False,
    ) -> dict[str, Step]:  # fmt: skip
        """`hint`: the record as last known (_UNKNOWN: assume none and write first). A decision that writes nothing
        (a redelivery, waiting for a claim) is taken only on a `verified` record, never on this container's memory."""
        for _ in range(_WRITE_ATTEMPTS):
            record = None if hint is _UNKNOWN else hint
            assert record is None or isinstance(record, GroupRecord)
            if not joins and _joins_open_incident(record):
                return {}  # joined later, after the batch's openings (see fire_many)
            if record is not None and record.has_pending_calls and not (defer and _joins_open_incident(record)):
                # A deferred join of an open incident leaves them to the batch's flush (or its carrier). Anything else
                # (a resolve or a reopen in flight) is finished first: a new alarm must not join an incident whose
                # committed resolve is still to be sent.
                record = self._flush_all(record)
            steps, fresh = _classified(record, firings)
            waits = record is not None and record.status is GroupStatus.PENDING
            if not verified and hint is not _UNKNOWN and (not fresh or waits):
                hint, verified = self._groups.load(key), True
                continue
            if not fresh:
                return steps
            acted = self._act(key, record, fresh, defer=defer)
            if isinstance(acted, _Changed):
                hint, verified = acted.current, True
                continue
            return {**steps, **acted}
        raise TransientApiError(f"group {key} kept changing under concurrent updates; will retry")

    def _act(
        self, key: str, record: GroupRecord | None, fresh: list[Firing], *, defer: bool = False
    ) -> dict[str, Step] | _Changed:
        if record is not None and record.status is GroupStatus.PENDING:
            return self._finish_pending(record, fresh, defer=defer)
        if record is None or record.incident_arn is None:
            return self._start(key, record, fresh, defer=defer)
        if record.status is GroupStatus.RESOLVED:
            if self._flapping(record):
                return self._reopen(record, fresh)
            return self._start(key, record, fresh, defer=defer)
        interval = max(self._check_interval, DEFERRED_CHECK) if defer else self._check_interval
        # Deferring, an incident the bridge opened (its claim's time) counts as seen OPEN then, by every container.
        opened_at = record.claimed_at if defer and record.status is GroupStatus.OPEN else None
        if not self._still_open(record.incident_arn, interval, opened_at=opened_at, deferring=defer):
            # Resolved by a human, or deleted: the next alarm deserves a fresh incident, not a closed one.
            return self._start(key, record, fresh, defer=defer)
        if defer and record.pending_status is None:
            return self._join_deferred(record, fresh)
        return self._join(record, record.version, fresh, "fired")

    def _start(
        self, key: str, previous: GroupRecord | None, fresh: list[Firing], *, defer: bool = False
    ) -> dict[str, Step] | _Changed:
        # The claim's token is committed with the claim, with what the batch's other alarms add to the start request:
        # a retry in any batch make-up sends the same request.
        first = fresh[0]
        # (The start request itself is built only once the claim is won, in _open.)
        own = unique_capped([*url_items(first.decision.related_urls), *related_items(first.signal.related)])
        riders = _riding_items(own, first, fresh[1:])
        # A later claim's token names the claim (its version), not only the event: the same ALARM starting the group
        # again after its incident was resolved must start a new incident, not get the resolved one back from the
        # token. A group's first claim keeps the token earlier releases used (a redelivery across a deploy).
        version = previous.version + 1 if previous else 1
        start_token = token("start", key, first.event_id, *([str(version)] if version > 1 else []))
        claim = groups.claimed(previous, key, start_token, self._clock(), riders, claim_event=first.event_id)
        written = self._write(claim, previous.version if previous else None)
        if not written:
            return _Changed(written.current)
        return self._open(claim, fresh, defer=defer)

    def _finish_pending(
        self, record: GroupRecord, fresh: list[Firing], *, defer: bool = False
    ) -> dict[str, Step] | _Changed:
        own = next((f for f in fresh if f.event_id == record.claim_event or _first_layout_claim(record, f)), None)
        stale = record.claimed_at is None or self._clock() - record.claimed_at > groups.CLAIM_LEASE
        if own is None and not stale:
            error = TransientApiError(f"an incident for group {record.group_key} is being opened; will join it on "
                                      "retry")  # fmt: skip
            return {firing.event_id: _retry(error) for firing in fresh}
        if own is not None:
            # Same client token as the claim: if the first attempt reached Incident Manager, this returns it.
            return self._open(record, [own, *(f for f in fresh if f is not own)], defer=defer)
        return self._open(record, fresh, takeover=True, defer=defer)

    def _open(
        self, claim: GroupRecord, fresh: list[Firing], *, takeover: bool = False, defer: bool = False
    ) -> dict[str, Step] | _Changed:
        first, rest = fresh[0], fresh[1:]
        request = build_start_incident(first.signal, first.decision)
        # Every claim carries its token; a record that somehow lacks one still starts with the firing's own.
        start = request._replace(
            client_token=claim.client_token or request.client_token,
            related_items=unique_capped([*request.related_items, *(pending.item for pending in claim.pending_items)]),
        )
        try:
            incident_arn = self._incidents.start_incident(start)
        except PermanentApiError:
            # Release the claim so the next alarm of the group can try again (e.g. after a permission fix).
            self._write(groups.released(claim, self._clock()), claim.version)
            raise
        now = self._clock()
        if takeover:
            # The claim's token returns whatever the original request started, which may since have been resolved
            # by a human or deleted: join it only if it is still open, else start afresh with a new claim.
            if self._incidents.incident_status(incident_arn) != "OPEN":
                renewed = groups.claimed(claim, claim.group_key, token("start", claim.group_key, "after",
                                                                       str(claim.version)), now)  # fmt: skip
                written = self._write(renewed, claim.version)
                return self._open(renewed, fresh, defer=defer) if written else _Changed(written.current)
            recovered = self._write_opened(claim, incident_arn, {}, (), ())
            self._saw_open(incident_arn, now)
            joined = self._join(recovered, recovered.version, fresh, "fired")
            if not isinstance(joined, _Changed):
                current = self._known.get(claim.group_key)
                if isinstance(current, GroupRecord):
                    self._resolve_if_recovered(current, fresh[0].decision, fresh[0].signal.words,
                                               "while the incident was opening")  # fmt: skip
            return joined
        marks = dict([first.mark])
        attached = {item_identity(item) for item in start.related_items} | {
            family for query in _queries(first.signal) for family in metric_families(query)
        }
        if claim.pending_items:
            # The batch's other alarms of the group rode in the start request: their metrics are charted too.
            attached |= {family for firing in rest for query in _queries(firing.signal)
                         for family in metric_families(query)}  # fmt: skip
        opened = self._write_opened(claim, incident_arn, marks, sorted(attached), [first.event_id])
        self._saw_open(incident_arn, now)
        reason = f"incident started in {start.response_plan_arn} at impact {start.impact}"
        words = first.signal.words
        if self._resolve_if_recovered(opened, first.decision, words, "before the incident opened") is not None:
            reason += f"; resolved: its {words.many} recovered while it was opening"
        steps = {first.event_id: Step(OutcomeKind.STARTED, reason, incident_arn)}
        if rest:
            # Per event: a refusal while joining the rest does not undo the start. They join it at once: no need to
            # ask whether it is open. Deferring (the budget is short), their note waits too: the next start goes first.
            self._just_opened.add(incident_arn)
            steps.update(self._fire_guarded(claim.group_key, rest, opened, verified=True, defer=defer))
            self._just_opened.discard(incident_arn)
        return steps

    def _write_opened(
        self, claim: GroupRecord, incident_arn: str, marks: Mapping[str, AlarmMark], attached: Sequence[str],
        event_ids: Sequence[str],
    ) -> GroupRecord:  # fmt: skip
        """OPEN with the incident; if OKs were recorded on the claim meanwhile, on top of them (same claim token)."""
        for _ in range(_WRITE_ATTEMPTS):
            opened = groups.opened(claim, incident_arn, marks, attached, event_ids, self._clock())
            written = self._write(opened, claim.version)
            if written:
                return opened
            current = written.current
            if (
                current is None
                or current.status is not GroupStatus.PENDING
                or current.client_token != claim.client_token
            ):
                break
            claim = current
        raise TransientApiError(f"lost the claim on group {claim.group_key} while opening; will retry")

    def _resolve_if_recovered(
        self, record: GroupRecord, decision: RouteDecision, words: Vocabulary, when: str
    ) -> GroupRecord | None:
        """Every alarm of a just-opened group recovered meanwhile (their OKs were recorded on the claim): resolve it
        as the last OK would have. Returns the record after, or None when there was nothing to resolve."""
        if not (decision.auto_resolve and groups.all_recovered(record) and not record.overflowed):
            return None
        assert record.incident_arn is not None
        note = f"All {words.many} of this incident recovered {when}."
        resolving = groups.resolving(record, note, self._clock())
        done = self._commit(resolving, record.version)
        return None if isinstance(done, _Changed) else done

    def _reopen(self, record: GroupRecord, fresh: list[Firing]) -> dict[str, Step] | _Changed:
        """Within the flap window after the bridge resolved it: reopen the same incident (if it still exists)."""
        assert record.incident_arn is not None
        status = self._incidents.incident_status(record.incident_arn)
        if status is None:
            return self._start(record.group_key, record, fresh)  # deleted meanwhile: a fresh incident
        self._saw_open(record.incident_arn, self._clock())
        if status == "OPEN":
            reopened = record._replace(status=GroupStatus.OPEN, resolved_at=None, resolved_by_bridge=False,
                                       expires_at=None)  # fmt: skip
        else:
            # Committed with the join below, in one write: the reopen and the notes are sent after it.
            reopened = groups.reopening(record, self._clock())._replace(version=record.version)
        return self._join(reopened, record.version, fresh, "fired again within the flap window")

    def _join(
        self, record: GroupRecord, expected_version: int, fresh: list[Firing], verb: str
    ) -> dict[str, Step] | _Changed:
        """Commits what the alarms bring that the incident lacks, and one timeline note per ten alarms, then makes
        the calls. Returns _Changed when the group changed meanwhile (or its incident turned out to be gone)."""
        assert record.incident_arn is not None
        attached = set(record.attached)
        items, families = _coalesced_items(fresh, attached)
        new_items = [item for item in items if item_identity(item) not in attached]
        notes = []
        for chunk_start in range(0, len(fresh), EVENT_REFERENCES_MAX):
            chunk = fresh[chunk_start : chunk_start + EVENT_REFERENCES_MAX]
            names = ", ".join(firing.name for firing in chunk)
            text = f"{names} {verb}." if len(chunk) == 1 else f"{len(chunk)} {_many(chunk)} {verb}: {names}."
            arns = tuple(arn for firing in chunk for arn in firing.signal.references)
            when = max(firing.signal.state_time for firing in chunk)
            notes.append((when, text, arns))
        marks: dict[str, AlarmMark] = {}
        for firing in fresh:
            marks = groups.merged(marks, dict([firing.mark]))  # the same alarm twice in a batch: the later one wins
        identities = [*(item_identity(item) for item in new_items), *sorted(families)]
        committed = groups.joined(
            record, marks, new_items, identities, notes, [firing.event_id for firing in fresh], self._clock()
        )
        done = self._commit(committed, expected_version)
        if isinstance(done, _Changed):
            return done
        if done.incident_arn != record.incident_arn:
            return _Changed(done)  # the incident is gone: the group forgot it; start afresh
        first, others = fresh[0], fresh[1:]
        reason = f"joined the open incident ({verb})"
        steps = {first.event_id: Step(OutcomeKind.UPDATED, reason, record.incident_arn)}
        for firing in others:
            shared = f"{reason}, in one update with {first.event_id}"
            steps[firing.event_id] = Step(OutcomeKind.UPDATED, shared, record.incident_arn)
        return steps

    # ---- recovering ----

    def recover(self, signal: Signal, decision: RouteDecision) -> Step:
        """A recovery: note it on the open incident; resolve it when every member is clear and the route says so.
        Never raises for an API, store or record failure."""
        key = group_key(signal, decision)
        try:
            return self._recover(key, signal, decision)
        except TransientApiError as error:
            return _retry(error)
        except (PermanentApiError, GroupRecordRejected, CorruptGroupRecord) as error:
            self._known.pop(key, None)
            return _rejected(error, f"group {key}")

    def _recover(self, key: str, signal: Signal, decision: RouteDecision) -> Step:
        hint = self._known.get(key, _UNKNOWN)
        verified = False
        event_id, member = signal.event_id, signal.member
        mark = AlarmMark(AlarmState.OK, signal.state_time, signal.occurrence)
        for _ in range(_WRITE_ATTEMPTS):
            record = None if hint is _UNKNOWN else hint
            assert record is None or isinstance(record, GroupRecord)
            if record is not None and record.has_pending_calls:
                record = self._flush_all(record)
            arrival = groups.transition(record, member, AlarmState.OK, signal.state_time, signal.occurrence)
            writes_nothing = groups.processed(record, event_id) or arrival is not Transition.NEW
            if writes_nothing and not verified and hint is not _UNKNOWN:
                hint, verified = self._groups.load(key), True  # decide on the stored record, not on memory
                continue
            if groups.processed(record, event_id) or arrival is Transition.REPEATED:
                redelivery = f"event {event_id} already processed for group {key} (redelivery)"
                return _ignored(redelivery, IgnoreReason.REDELIVERY)
            if arrival is Transition.STALE:
                older = f"{signal.subject}: {signal.state} older than its last transition"
                return _ignored(f"{older} (recorded, not applied)", IgnoreReason.OUT_OF_ORDER)
            now = self._clock()
            if record is not None and record.status is GroupStatus.PENDING:
                # Recorded on the claim: whoever finishes opening resolves the incident if every alarm is OK by then.
                written = self._write(groups.marked(record, {member: mark}, [event_id], now), record.version)
                if not written:
                    hint, verified = written.current, True
                    continue
                what = f"{signal.subject} is {signal.state}"
                return _ignored(f"{what} while its group's incident is being opened (recorded for it)",
                                IgnoreReason.NO_OPEN_INCIDENT)  # fmt: skip
            if record is None or record.status is not GroupStatus.OPEN or record.incident_arn is None:
                # Remembered, so an older ALARM arriving later is not applied.
                candidate = (
                    groups.first_marks(key, {member: mark}, [event_id], now)
                    if record is None
                    else groups.marked(record, {member: mark}, [event_id], now)
                )
                written = self._write(candidate, record.version if record else None)
                if not written:
                    hint, verified = written.current, True
                    continue
                what = f"{signal.subject} is {signal.state}"
                return _ignored(f"{what} and its group has no open incident", IgnoreReason.NO_OPEN_INCIDENT)
            after = groups.merged(record.alarm_states, {member: mark})
            pending_left = sum(1 for state in after.values() if state.state is not AlarmState.OK)
            resolve = decision.auto_resolve and pending_left == 0 and not record.overflowed
            words = signal.words
            text = _recovery_sentence(signal)
            text += f" All {words.many} of this incident {words.all_clear}." if pending_left == 0 else (
                f" {pending_left} still {words.still}.")  # fmt: skip
            if pending_left == 0 and not decision.auto_resolve:
                text += " Left open: the route does not auto-resolve."
            elif pending_left == 0 and record.overflowed:
                text += f" Left open: the group outgrew {groups.MAX_ALARM_STATES} {words.one} states."
            candidate = groups.recovered(record, member, mark, event_id, text, resolve, now)
            done = self._commit(candidate, record.version)
            if isinstance(done, _Changed):
                hint, verified = done.current, True
                continue
            if done.incident_arn is None:
                what = f"{signal.subject} is {signal.state}"
                return _ignored(f"{what}; its incident no longer exists", IgnoreReason.INCIDENT_GONE)
            if resolve:
                self._seen_open.pop(record.incident_arn, None)
            kind = OutcomeKind.RESOLVED if resolve else OutcomeKind.UPDATED
            reason = f"all {words.many} recovered: incident resolved" if resolve else "recovery recorded"
            return Step(kind, f"{signal.name}: {reason}", record.incident_arn)
        raise TransientApiError(f"group {key} kept changing under concurrent updates; will retry")

    # ---- deferred joins ----

    def _join_deferred(self, record: GroupRecord, fresh: list[Firing]) -> dict[str, Step] | _Changed:
        """Commits what the alarms bring, and a line naming each for the group's next note, without a call."""
        assert record.incident_arn is not None
        attached = set(record.attached)
        items, families = _coalesced_items(fresh, attached)
        new_items = [item for item in items if item_identity(item) not in attached]
        lines = [(firing.signal.state_time, firing.name, tuple(firing.signal.references), firing.signal.words.many)
                 for firing in fresh]  # fmt: skip
        if record.has_pending_calls and not groups.fits(record, len(new_items), len(lines)):
            # Committed behind them, these would push the group's oldest committed calls past the record's caps, and
            # those would never be sent: they go first (a batch that opens incidents leaves its joins' calls to wait).
            return _Changed(self._flush_all(record))
        identities = [*(item_identity(item) for item in new_items), *sorted(families)]
        committed = groups.deferred_join(record, dict(firing.mark for firing in fresh), new_items, identities, lines,
                                         [firing.event_id for firing in fresh], self._clock())  # fmt: skip
        written = self._write(committed, record.version)
        if not written:
            return _Changed(written.current)
        # What this container committed, so its flush sends these and leaves calls another worker committed (and is
        # sending) alone: two workers flushing one group would otherwise send the same items twice.
        if len(self._committed_here) >= _KNOWN_GROUPS:
            self._committed_here.clear()  # bounded: what is forgotten is sent by the groups' carriers
        mine = self._committed_here.setdefault(record.group_key, set())
        mine.update(pending.token for pending in committed.pending_items if pending not in record.pending_items)
        mine.update(note.token for note in committed.pending_notes if note.token != groups.UNSEALED)
        reason = "joined the open incident (fired); committed, sent with the group's next flush"
        return {firing.event_id: Step(OutcomeKind.UPDATED, reason, record.incident_arn) for firing in fresh}

    def flush(self, key: str, *, seal: bool) -> bool:
        """Sends the group's committed calls (after a batch's deferred joins); with `seal`, its unsealed lines too,
        as notes. Returns True when the group has nothing left to send; False when something waits (unsealed
        lines, or a call to retry): the caller keeps one of the group's events in the queue to come back for it.
        Never raises."""
        record = self._known.get(key)
        mine = self._committed_here.pop(key, set())
        if not isinstance(record, GroupRecord):
            return True
        try:
            flushed = self._flush_all(record) if seal else self._flush(record, only=mine)
        except (TransientApiError, PermanentApiError, GroupRecordRejected, CorruptGroupRecord):
            return False
        if seal:
            return not flushed.has_pending_calls
        left = {pending.token for pending in flushed.pending_items} | {note.token for note in flushed.pending_notes}
        return not (left & mine)

    def has_unsealed(self, key: str) -> bool:
        record = self._known.get(key)
        return isinstance(record, GroupRecord) and bool(record.unsealed)

    def crowded(self, key: str) -> bool:
        """The group's record holds half the committed calls it can keep (groups.MAX_PENDING_ITEMS and _NOTES):
        they must go now, whatever else waits."""
        record = self._known.get(key)
        return isinstance(record, GroupRecord) and groups.crowded(record)

    def calls_left(self, key: str) -> int:
        """The calls the group's record still commits (unsealed lines as the notes they will make)."""
        record = self._known.get(key)
        if not isinstance(record, GroupRecord):
            return 0
        sealed = len(record.pending_notes) - len(record.unsealed)
        return len(record.pending_items) + sealed + -(-len(record.unsealed) // groups.NOTE_ALARMS_MAX)

    def _flush_all(self, record: GroupRecord) -> GroupRecord:
        """Seals the unsealed lines into notes (written first: their commit point), then sends every call."""
        if record.incident_arn is not None and record.unsealed:
            sealed = groups.sealed(record, self._clock())
            written = self._write(sealed, record.version)
            if not written:
                current = self._require(written.current, record.group_key)
                return self._flush_all(current) if current.unsealed else self._flush(current)
            record = sealed
        return self._flush(record)

    # ---- committed calls ----

    def _commit(self, record: GroupRecord, expected_version: int) -> GroupRecord | _Changed:
        """The commit point: the record with its pending calls (and their tokens) is written first; only then are
        the calls made. Returns the record as stored after them, or _Changed when the write found the group changed
        (nothing was called). tests/faults shows that making the calls before this write breaks the invariants."""
        written = self._write(record, expected_version)
        if not written:
            return _Changed(written.current)
        return self._flush_all(record)

    def _flush(self, record: GroupRecord, only: set[str] | None = None) -> GroupRecord:
        """Makes the calls committed to the record, with their tokens, then confirms them. Returns the record as
        stored after (the group's incident forgotten if it no longer exists). Raises TransientApiError when a call
        must be retried; what was done before is confirmed first."""
        # Tokens of the calls made here: when the confirming write finds the group changed (another worker committed
        # more), they are confirmed on the stored record, not sent again.
        items: list[str] = []
        notes: list[str] = []
        for _ in range(_WRITE_ATTEMPTS):
            if not record.has_sendable_calls or record.incident_arn is None:
                return record
            status_done = False
            failure: TransientApiError | None = None
            try:
                status_done = self._send_pending(record, items, notes, only)
            except IncidentNotFound:
                gone = groups.forgotten_incident(record, self._clock())
                self._seen_open.pop(record.incident_arn, None)
                written = self._write(gone, record.version)
                if written:
                    return gone
                record = self._require(written.current, record.group_key)
                continue
            except TransientApiError as error:
                failure = error
            confirmed = groups.confirmed(record, items, notes, status_done, self._clock())
            written = self._write(confirmed, record.version)
            if failure is not None:
                raise failure
            if written:
                return confirmed
            # Changed meanwhile (another worker sent the same calls, or committed more): go on from what is stored.
            record = self._require(written.current, record.group_key)
        raise TransientApiError(f"group {record.group_key} kept changing while confirming its calls; will retry")

    def _send_pending(
        self, record: GroupRecord, items: list[str], notes: list[str], only: set[str] | None = None
    ) -> bool:
        """Sends the committed calls in order (a reopen first, then items, then notes, a resolve last), appending
        the tokens of those done. A call refused for good is dropped (logged), not retried forever."""
        assert record.incident_arn is not None
        arn = record.incident_arn
        pending_status = record.pending_status
        if pending_status is not None and pending_status.status == "OPEN":
            self._send_status(arn, pending_status)
        for pending in record.pending_items:
            if pending.token in items or (only is not None and pending.token not in only):
                continue  # made earlier in this flush, or another worker's to make
            request = UpdateRelatedItemsRequest(incident_arn=arn, item=pending.item, client_token=pending.token)
            self._refusable(lambda request=request: self._incidents.update_related_items(request))  # type: ignore[misc]
            items.append(pending.token)
        for note in record.pending_notes:
            if note.token == groups.UNSEALED or note.token in notes or (only is not None and note.token not in only):
                continue  # a deferred join's line (sent once sealed into a note, _flush_all), or made earlier
            event = TimelineEventRequest(incident_arn=arn, event_time=note.event_time, text=note.text,
                                         client_token=note.token, resource_arns=note.resource_arns)  # fmt: skip
            self._refusable(lambda event=event: self._incidents.create_timeline_event(event))  # type: ignore[misc]
            notes.append(note.token)
        if pending_status is not None and pending_status.status == "RESOLVED":
            self._send_status(arn, pending_status)
        return pending_status is not None

    def _send_status(self, incident_arn: str, pending: groups.PendingStatus) -> None:
        request = IncidentStatusRequest(incident_arn=incident_arn, status=pending.status, client_token=pending.token)
        self._refusable(lambda: self._incidents.update_incident_status(request))

    @staticmethod
    def _refusable(send: Callable[[], None]) -> None:
        try:
            send()
        except IncidentNotFound:
            raise
        except PermanentApiError as error:
            logger.warning("a committed call was refused for good and is dropped: %s", error)

    # ---- small parts ----

    def _write(self, record: GroupRecord, expected_version: int | None) -> groups.WriteResult:
        result = self._groups.put(record, expected_version=expected_version)
        if len(self._known) >= _KNOWN_GROUPS:
            self._known.clear()
        self._known[record.group_key] = record if result else result.current
        return result

    @staticmethod
    def _require(record: GroupRecord | None, key: str) -> GroupRecord:
        if record is None:
            raise TransientApiError(f"group {key} disappeared while confirming its calls; will retry")
        return record

    def _still_open(
        self, incident_arn: str, interval: timedelta | None = None, *, opened_at: datetime | None = None,
        deferring: bool = False,
    ) -> bool:  # fmt: skip
        now = self._clock()
        if incident_arn in self._just_opened:
            self._just_opened.discard(incident_arn)
            return True
        seen = max((when for when in (self._seen_open.get(incident_arn), opened_at) if when is not None), default=None)
        if seen is not None and now - seen < (self._check_interval if interval is None else interval):
            return True
        if deferring and seen is not None and not self._may_check():
            # In a storm, checks would take a call per group per interval, whatever the budget: at 200 groups and
            # 1 request per second, two thirds of it. They get a share (budget.CHECK_SHARE); past it, the OPEN seen
            # last is trusted until a check fits (a human's resolve is noticed that much later).
            return True
        if self._incidents.incident_status(incident_arn) != "OPEN":
            self._seen_open.pop(incident_arn, None)
            return False
        self._saw_open(incident_arn, now)
        return True

    def _saw_open(self, incident_arn: str, when: datetime) -> None:
        if len(self._seen_open) >= _KNOWN_GROUPS and incident_arn not in self._seen_open:
            self._seen_open.clear()  # bounded like _known: a forgotten incident costs one status check, no more
        self._seen_open[incident_arn] = when

    def _flapping(self, record: GroupRecord) -> bool:
        return (
            record.resolved_by_bridge
            and record.incident_arn is not None
            and record.resolved_at is not None
            and self._clock() - record.resolved_at <= self._flap_window
        )


def _recovery_sentence(signal: Signal) -> str:
    """The recovery note's first sentence: an alarm's reads "Alarm cpu-high recovered (OK): <CloudWatch's reason>";
    a service event is named by its title, its state in parentheses unless the title says it already
    ("Step Functions execution run-7 SUCCEEDED (...) recovered.", "Security Hub: EC2.7 ... recovered (RESOLVED).")."""
    subject = signal.subject[:1].upper() + signal.subject[1:]
    said = signal.words.named_by_kind and re.search(rf"\b{re.escape(signal.state)}\b", signal.name) is not None
    text = f"{subject} recovered" if said else f"{subject} recovered ({signal.state})"
    if not signal.reason.strip():
        return f"{text}."
    # The counts follow as another sentence: an application's summary may not end one (CloudWatch's reasons do).
    reason = signal.reason.strip()
    return f"{text}: {reason}" if reason.endswith((".", "!", "?")) else f"{text}: {reason}."


def _many(firings: Sequence[Firing]) -> str:
    return groups.kinds_named(firing.signal.words.many for firing in firings)


def _first_layout_claim(record: GroupRecord, firing: Firing) -> bool:
    """A claim written before claims named their event: its token was derived from the event alone."""
    return record.claim_event is None and record.client_token == token("start", record.group_key, firing.event_id)


def _classified(record: GroupRecord | None, firings: Sequence[Firing]) -> tuple[dict[str, Step], list[Firing]]:
    """Splits a batch's firings into steps already decided (redeliveries, out-of-order ALARMs) and fresh ones."""
    steps: dict[str, Step] = {}
    fresh: dict[str, Firing] = {}
    arn = record.incident_arn if record else None
    for firing in firings:
        if firing.event_id in fresh or firing.event_id in steps:
            continue  # a second copy in one batch: the bridge reports it with the first (see Bridge)
        arrival = Transition.NEW
        # A claim is finished whatever OKs it collected meanwhile: its StartIncident may have taken effect.
        if record is None or record.status is not GroupStatus.PENDING:
            signal = firing.signal
            arrival = groups.transition(record, signal.member, AlarmState.ALARM, signal.state_time, signal.occurrence)
        if groups.processed(record, firing.event_id) or arrival is Transition.REPEATED:
            steps[firing.event_id] = Step(OutcomeKind.IGNORED, f"event {firing.event_id} already processed "
                                          "(redelivery)", arn, IgnoreReason.REDELIVERY)  # fmt: skip
        elif arrival is Transition.STALE:
            older = f"{firing.name}: {signal.state} older than its last transition (recorded, not applied)"
            steps[firing.event_id] = Step(OutcomeKind.IGNORED, older, None, IgnoreReason.OUT_OF_ORDER)
        else:
            fresh[firing.event_id] = firing
    # The same member twice in one batch: one older than another is out of order too; at the same time, another
    # occurrence (a second execution failing in that second) is fresh, the same one again (the alarm's transition by
    # its second path) is a redelivery.
    latest: dict[str, datetime] = {}
    for firing in fresh.values():
        latest[firing.signal.member] = max(firing.signal.state_time, latest.get(firing.signal.member, _EPOCH))
    kept: set[tuple[str, str]] = set()
    for event_id, firing in list(fresh.items()):
        signal = firing.signal
        if signal.state_time < latest[signal.member]:
            del fresh[event_id]
            steps[event_id] = Step(OutcomeKind.IGNORED, f"{firing.name}: {signal.state} older than another of the "
                                   "batch (recorded, not applied)", None, IgnoreReason.OUT_OF_ORDER)  # fmt: skip
        elif (signal.member, signal.occurrence) in kept:
            del fresh[event_id]
            steps[event_id] = Step(OutcomeKind.IGNORED, f"event {event_id} already processed (redelivery)", arn,
                                   IgnoreReason.REDELIVERY)  # fmt: skip
        else:
            kept.add((signal.member, signal.occurrence))
    return steps, list(fresh.values())


def _joins_open_incident(record: GroupRecord | None) -> bool:
    """The group's incident is open and not being reopened: what its alarms do is join it (its committed items and
    notes are sent by the join)."""
    return (
        record is not None
        and record.status is GroupStatus.OPEN
        and record.incident_arn is not None
        and record.pending_status is None
    )


def _riding_items(start_items: Sequence[RelatedItem], first: Firing, rest: Sequence[Firing]) -> list[RelatedItem]:
    """What the batch's other alarms of the group would add by joining, to send in StartIncident's `relatedItems`
    instead: one call rather than one UpdateRelatedItems per item (that API takes one item per call). Only when all
    of them fit beside the start's own (RELATED_ITEMS_MAX); otherwise none ride, and the others join as usual."""
    if not rest:
        return []
    charted = {family for query in _queries(first.signal) for family in metric_families(query)}
    extra, _ = _coalesced_items(rest, {item_identity(item) for item in start_items} | charted)
    known = {item.identity for item in start_items}
    riders = list({item.identity: item for item in extra if item.identity not in known}.values())
    if len(unique_capped([*start_items, *riders])) < len(start_items) + len(riders):
        return []  # over the limit (or an item the API would refuse): the others join instead
    return riders


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
