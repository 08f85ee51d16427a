"""The group record: what the state table remembers of one group, its status, and its pure transitions.

One record per group key. Every write is conditional on the version read, so two invocations racing for a group
cannot both act on it. Side effects are committed here before they are made (a PENDING claim before StartIncident,
pending related items and timeline notes with their client tokens before UpdateRelatedItems / CreateTimelineEvent,
RESOLVING before UpdateIncidentRecord), so whoever touches the group next re-sends exactly the committed calls with
the committed tokens: a crash or a lost response never causes a second effect, and a redelivery in any batch make-up
finds its event already committed.

Everything here is bounded, because a DynamoDB item is at most 400 KB (DynamoDB Developer Guide, "Service, account,
and table quotas"): see the caps below and `bounded`.
"""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple

from incident_bridge.alarm import AlarmState
from incident_bridge.incident import RelatedItem, token

#: The record layout written by this version. Records without `schema` are the first layout (alarm states as plain
#: strings, attached items as a set); they are read and upgraded on their next write.
SCHEMA_VERSION = 2

#: How long a PENDING claim protects an opening in progress before another invocation may take it over.
CLAIM_LEASE = timedelta(seconds=60)
#: A claim whose opening never finished is deleted by DynamoDB's TTL after this (a takeover normally finishes it
#: within CLAIM_LEASE; the TTL only cleans up groups nobody touches again).
CLAIM_TTL = timedelta(days=1)
#: Closed groups are deleted by DynamoDB's TTL after this; open ones are kept alive by every update. A group that
#: only saw OKs (no incident) is kept as long as a closed one, longer than the queue keeps a message (4 days), so a
#: late ALARM older than a remembered OK is still recognized.
CLOSED_GROUP_TTL = timedelta(days=30)
OPEN_GROUP_TTL = timedelta(days=90)

# ---- caps: the record stays far below DynamoDB's 400 KB item limit (worst case about 330 KB) ----
#: Event ids remembered to recognize a redelivery (a batch carries at most 200 events of one group). Alarms are also
#: recognized by their state time (`AlarmMark`), which does not depend on this window.
REMEMBERED_EVENTS = 500
#: Alarm states kept per group (an alarm ARN is at most about 330 bytes; a service event's mark adds its event id, 36
#: bytes for EventBridge's). Past the cap, the oldest OK marks go
#: first; if alarms still in ALARM had to go, the group stops auto-resolving (it can no longer know every alarm is
#: OK), and its incident is left for a human to resolve.
MAX_ALARM_STATES = 500
#: Identities of related items already attached (33 bytes each). Past the cap the oldest are forgotten; forgetting
#: one costs at most a repeated UpdateRelatedItems, which its content-derived client token makes a no-op.
MAX_ATTACHED = 1_000
#: Committed calls not yet confirmed. Items: a batch of 200 alarms brings at most a few hundred. Notes: one per ten
#: alarms of a batch, at most 12,000 characters each.
MAX_PENDING_ITEMS = 300
MAX_PENDING_NOTES = 40
#: Alarms named in one timeline note (CreateTimelineEvent takes at most 10 event references).
NOTE_ALARMS_MAX = 10
#: The token of a deferred join's note that is not sealed yet: one alarm's line, merged with the group's other
#: deferred alarms into notes of NOTE_ALARMS_MAX when sealed (sealing gives each note its token, and is written
#: before any is sent). An unsealed line is never sent.
UNSEALED = ""


class GroupStatus(StrEnum):
    #: Claimed: an incident is being started with the record's client token.
    PENDING = "PENDING"
    OPEN = "OPEN"
    #: The resolve is committed (its token is in `pending_status`); UpdateIncidentRecord may or may not have run.
    RESOLVING = "RESOLVING"
    RESOLVED = "RESOLVED"


# Value types here are NamedTuples, not frozen dataclasses: a dataclass compiles its methods when the module is
# imported, several times a NamedTuple's cost, and these modules load on every cold start (README, Performance).
# Annotations are not postponed (no `from __future__ import annotations`): NamedTuple compiles each string one.
class AlarmMark(NamedTuple):
    """The last transition applied for one member (an alarm, a finding, a state machine): its state, its own state
    time, and what tells it from another transition of the member at that time (Signal.occurrence)."""

    state: AlarmState
    at: datetime
    occurrence: str = ""


class PendingNote(NamedTuple):
    """A timeline note committed to the record before CreateTimelineEvent; its token depends only on the record."""

    token: str
    event_time: datetime
    text: str
    resource_arns: tuple[str, ...] = ()
    #: An unsealed line's kind, plural ("alarms", "Step Functions executions"), for the note it is sealed into;
    #: empty in lines stored before it was kept (those were alarms).
    kind: str = ""


class PendingItem(NamedTuple):
    """A related item committed to the record before UpdateRelatedItems."""

    token: str
    item: RelatedItem


class PendingStatus(NamedTuple):
    """An UpdateIncidentRecord committed to the record: RESOLVED (with status RESOLVING) or OPEN (a reopen)."""

    status: str
    token: str


class GroupRecord(NamedTuple):
    """What the state table remembers of one group: its incident, status, alarm states and committed calls."""

    group_key: str
    status: GroupStatus
    version: int
    incident_arn: str | None = None
    client_token: str | None = None
    claimed_at: datetime | None = None
    #: The event whose ALARM made the claim: its redelivery finishes the claim with the claim's token.
    claim_event: str | None = None
    #: alarm ARN -> its last applied transition, for "every alarm of the group is back to OK" and ordering
    alarm_states: Mapping[str, AlarmMark] = MappingProxyType({})
    #: identities (hashes) of the related items already attached, oldest first, so none is added twice
    attached: tuple[str, ...] = ()
    processed_events: tuple[str, ...] = ()
    pending_items: tuple[PendingItem, ...] = ()
    pending_notes: tuple[PendingNote, ...] = ()
    pending_status: PendingStatus | None = None
    #: Alarm states had to be dropped while in ALARM (MAX_ALARM_STATES): auto-resolve is off for this incident.
    overflowed: bool = False
    resolved_at: datetime | None = None
    resolved_by_bridge: bool = False
    expires_at: int | None = None

    @property
    def has_pending_calls(self) -> bool:
        return bool(self.pending_items or self.pending_notes or self.pending_status)

    @property
    def unsealed(self) -> tuple[PendingNote, ...]:
        return tuple(note for note in self.pending_notes if note.token == UNSEALED)

    @property
    def has_sendable_calls(self) -> bool:
        """Calls that can go now: items, sealed notes, a status change (unsealed lines wait to be sealed)."""
        return bool(self.pending_items or self.pending_status or len(self.unsealed) < len(self.pending_notes))


class WriteResult(NamedTuple):
    """A conditional write's result; when refused, the record that failed the condition (DynamoDB's
    ReturnValuesOnConditionCheckFailure=ALL_OLD), so the writer need not read it again."""

    written: bool
    current: GroupRecord | None = None

    def __bool__(self) -> bool:
        return self.written


class Transition(StrEnum):
    """How an alarm transition relates to the group's last applied one for that alarm."""

    NEW = "new"
    #: The same state at the same state time, of the same occurrence: already applied (a redelivery, or a second
    #: delivery path). Another occurrence at that time (a second execution failing in the same second) is NEW.
    REPEATED = "repeated"
    #: Older than the last applied transition: recorded, not applied.
    STALE = "stale"


# ---- pure questions ----


def transition(
    record: GroupRecord | None, alarm_arn: str, state: AlarmState, at: datetime, occurrence: str = ""
) -> Transition:
    mark = record.alarm_states.get(alarm_arn) if record else None
    if mark is None or at > mark.at:
        return Transition.NEW
    if at == mark.at and state is mark.state and occurrence == mark.occurrence:
        return Transition.REPEATED
    return Transition.STALE if at < mark.at else Transition.NEW


def all_recovered(record: GroupRecord) -> bool:
    return bool(record.alarm_states) and all(mark.state is AlarmState.OK for mark in record.alarm_states.values())


def still_firing(record: GroupRecord) -> int:
    return sum(1 for mark in record.alarm_states.values() if mark.state is not AlarmState.OK)


def kinds_named(kinds: Iterable[str]) -> str:
    """What one note calls the signals it names, plural: their kind ("alarms"), or "events" when of several."""
    distinct = set(kinds)
    return distinct.pop() if len(distinct) == 1 else "events"


def crowded(record: GroupRecord) -> bool:
    """Half the committed calls the record can keep: past the caps (`bounded`) the oldest would be dropped, so a
    group this full sends them now rather than commit more behind them."""
    return len(record.pending_items) * 2 >= MAX_PENDING_ITEMS or len(record.pending_notes) * 2 >= MAX_PENDING_NOTES


def fits(record: GroupRecord, items: int, lines: int) -> bool:
    """Whether a deferred join of `items` related items and `lines` lines can be committed beside the record's
    committed calls without the caps (`bounded`) dropping any of them, its lines counted as sealed (whole notes)."""
    unsealed = len(record.unsealed) + lines
    notes = len(record.pending_notes) - len(record.unsealed) + unsealed // NOTE_ALARMS_MAX + unsealed % NOTE_ALARMS_MAX
    return len(record.pending_items) + items <= MAX_PENDING_ITEMS and notes <= MAX_PENDING_NOTES


def processed(record: GroupRecord | None, event_id: str) -> bool:
    return record is not None and event_id in record.processed_events


def storable_key(key: str) -> str:
    """A key DynamoDB can store: text that is not valid UTF-8 (a lone surrogate from a JSON escape) is hashed."""
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{key.split('|', 1)[0].encode('utf-8', 'replace').decode('utf-8')}|sha256={digest}"
    return key


# ---- pure transitions ----


def claimed(
    previous: GroupRecord | None, key: str, client_token: str, now: datetime, start_items: Sequence[RelatedItem] = (),
    claim_event: str | None = None,
) -> GroupRecord:  # fmt: skip
    """A PENDING claim: the next write after it says which incident the group has. Keeps the previous record's
    memory of events and of OK marks (so a late, older ALARM stays out of the new incident); alarms still marked
    ALARM belonged to the previous incident, and are not waited for by the new one.

    `start_items`: what the batch's other alarms of the group add to the StartIncident request, committed with its
    token (as `pending_items`, never sent on their own while the claim has no incident), so a retry with the same
    token sends the same request whatever batch it is in."""
    return GroupRecord(
        group_key=key,
        status=GroupStatus.PENDING,
        version=previous.version + 1 if previous else 1,
        client_token=client_token,
        claimed_at=now,
        claim_event=claim_event,
        alarm_states=_ok_marks(previous),
        processed_events=previous.processed_events if previous else (),
        pending_items=tuple(_start_item(client_token, item) for item in start_items),
        expires_at=int((now + CLAIM_TTL).timestamp()),
    )


def released(claim: GroupRecord, now: datetime) -> GroupRecord:
    """The claim given up after a permanent refusal, so the next alarm of the group can try again."""
    return stamped(
        claim._replace(status=GroupStatus.RESOLVED, incident_arn=None, client_token=None, expires_at=None), now
    )


def opened(
    claim: GroupRecord, incident_arn: str, marks: Mapping[str, AlarmMark], attached: Iterable[str],
    event_ids: Sequence[str], now: datetime,
) -> GroupRecord:  # fmt: skip
    return stamped(
        claim._replace(
            status=GroupStatus.OPEN,
            incident_arn=incident_arn,
            alarm_states=merged(claim.alarm_states, marks),
            attached=_appended(claim.attached if claim.incident_arn == incident_arn else (), attached),
            processed_events=remember(claim, event_ids),
            pending_items=(),
            pending_notes=(),
            pending_status=None,
            overflowed=False,
            resolved_at=None,
            resolved_by_bridge=False,
        ),
        now,
    )


def joined(
    record: GroupRecord, marks: Mapping[str, AlarmMark], items: Sequence[RelatedItem], identities: Iterable[str],
    notes: Sequence[tuple[datetime, str, tuple[str, ...]]], event_ids: Sequence[str], now: datetime,
) -> GroupRecord:  # fmt: skip
    """Commits a join: the alarms' marks, the events, and the calls to make, each with its token."""
    assert record.incident_arn is not None
    version = record.version + 1
    pending_notes = tuple(
        PendingNote(_note_token(record.incident_arn, record.group_key, version, index), when, text, arns)
        for index, (when, text, arns) in enumerate(notes)
    )
    pending_items = tuple(PendingItem(item_token(record.incident_arn, item), item) for item in items)
    return stamped(
        record._replace(
            alarm_states=merged(record.alarm_states, marks),
            attached=_appended(record.attached, identities),
            processed_events=remember(record, event_ids),
            pending_items=(*record.pending_items, *pending_items),
            pending_notes=(*record.pending_notes, *pending_notes),
        ),
        now,
    )


def deferred_join(
    record: GroupRecord, marks: Mapping[str, AlarmMark], items: Sequence[RelatedItem], identities: Iterable[str],
    lines: Sequence[tuple[datetime, str, tuple[str, ...], str]], event_ids: Sequence[str], now: datetime,
) -> GroupRecord:  # fmt: skip
    """Commits a join whose calls wait for the group's next flush: the items with their tokens, and one unsealed
    line per alarm (its name, its references, its kind), sealed into notes of NOTE_ALARMS_MAX as soon as that many
    wait."""
    committed = joined(record, marks, items, identities, [], event_ids, now)
    unsealed = tuple(PendingNote(UNSEALED, when, name, arns, kind) for when, name, arns, kind in lines)
    committed = committed._replace(pending_notes=(*committed.pending_notes, *unsealed))
    if len(committed.unsealed) >= NOTE_ALARMS_MAX:
        committed = _sealed(committed, committed.version, whole_notes_only=True)
    return committed


def sealed(record: GroupRecord, now: datetime) -> GroupRecord:
    """Every unsealed line merged into notes of NOTE_ALARMS_MAX alarms, each with its token: the commit point of
    the deferred joins' notes (written before any is sent)."""
    return _sealed(stamped(record, now), record.version + 1, whole_notes_only=False)


def _sealed(record: GroupRecord, version: int, *, whole_notes_only: bool) -> GroupRecord:
    assert record.incident_arn is not None
    lines = record.unsealed
    keep = len(lines) % NOTE_ALARMS_MAX if whole_notes_only else 0
    to_seal, left = lines[: len(lines) - keep], lines[len(lines) - keep :]
    notes = []
    for index, start in enumerate(range(0, len(to_seal), NOTE_ALARMS_MAX)):
        chunk = to_seal[start : start + NOTE_ALARMS_MAX]
        names = ", ".join(line.text for line in chunk)
        many = kinds_named(line.kind or "alarms" for line in chunk)
        text = f"{names} fired." if len(chunk) == 1 else f"{len(chunk)} {many} fired: {names}."
        arns = tuple(arn for line in chunk for arn in line.resource_arns)
        when = max(line.event_time for line in chunk)
        # "sealed" keeps these tokens apart from the notes `joined` commits at the same version.
        notes.append(PendingNote(_note_token(record.incident_arn, record.group_key, version, index, "sealed"), when,
                                 text, arns))  # fmt: skip
    sent_or_sealed = tuple(note for note in record.pending_notes if note.token != UNSEALED)
    return record._replace(pending_notes=(*sent_or_sealed, *notes, *left))


def recovered(
    record: GroupRecord, alarm_arn: str, mark: AlarmMark, event_id: str, note: str | None, resolve: bool, now: datetime
) -> GroupRecord:
    """Records an alarm's OK; with an incident, commits its recovery note and, when `resolve`, the resolve."""
    version = record.version + 1
    updated = record._replace(
        alarm_states=merged(record.alarm_states, {alarm_arn: mark}),
        processed_events=remember(record, [event_id]),
    )
    if record.incident_arn is not None and note is not None:
        pending = PendingNote(_note_token(record.incident_arn, record.group_key, version, 0), mark.at, note,
                              (alarm_arn,))  # fmt: skip
        updated = updated._replace(pending_notes=(*record.pending_notes, pending))
    if resolve and record.incident_arn is not None:
        resolve_token = token("resolve", record.incident_arn, record.group_key, str(version))
        updated = updated._replace(
            status=GroupStatus.RESOLVING, pending_status=PendingStatus("RESOLVED", resolve_token)
        )
    return stamped(updated, now)


def resolving(record: GroupRecord, note: str, now: datetime) -> GroupRecord:
    """Commits a resolve with its note (every alarm is OK already: they recovered while the incident was opening)."""
    assert record.incident_arn is not None
    version = record.version + 1
    pending = PendingNote(_note_token(record.incident_arn, record.group_key, version, 0), now, note)
    resolve = PendingStatus("RESOLVED", token("resolve", record.incident_arn, record.group_key, str(version)))
    return stamped(
        record._replace(status=GroupStatus.RESOLVING, pending_notes=(*record.pending_notes, pending),
                pending_status=resolve),
        now,
    )  # fmt: skip


def marked(record: GroupRecord, marks: Mapping[str, AlarmMark], event_ids: Sequence[str], now: datetime) -> GroupRecord:
    """Records transitions without acting on them (stale ones, or OKs of a group without an open incident)."""
    return stamped(
        record._replace(alarm_states=merged(record.alarm_states, marks), processed_events=remember(record, event_ids)),
        now,
    )


def first_marks(key: str, marks: Mapping[str, AlarmMark], event_ids: Sequence[str], now: datetime) -> GroupRecord:
    """A group that has seen transitions but has no incident (an OK before its ALARM is remembered)."""
    return stamped(
        GroupRecord(key, GroupStatus.RESOLVED, 0, alarm_states=dict(marks), processed_events=tuple(event_ids)), now
    )


def reopening(record: GroupRecord, now: datetime) -> GroupRecord:
    """Commits a reopen of the group's incident (resolved by the bridge within the flap window)."""
    assert record.incident_arn is not None
    version = record.version + 1
    reopen = PendingStatus("OPEN", token("reopen", record.incident_arn, record.group_key, str(version)))
    return stamped(
        record._replace(status=GroupStatus.OPEN, pending_status=reopen, resolved_at=None, resolved_by_bridge=False),
        now,
    )


def confirmed(
    record: GroupRecord, items: Iterable[str], notes: Iterable[str], status_done: bool, now: datetime
) -> GroupRecord:
    """The committed calls that were made (by their tokens) are cleared; a resolve that was made closes the group."""
    done_items, done_notes = set(items), set(notes)
    updated = record._replace(
        pending_items=tuple(pending for pending in record.pending_items if pending.token not in done_items),
        pending_notes=tuple(pending for pending in record.pending_notes if pending.token not in done_notes),
    )
    if status_done and record.pending_status is not None:
        if record.pending_status.status == "RESOLVED":
            updated = updated._replace(
                status=GroupStatus.RESOLVED, resolved_at=now, resolved_by_bridge=True, pending_status=None,
                expires_at=None,
            )  # fmt: skip
        else:
            updated = updated._replace(pending_status=None, expires_at=None)
    return stamped(updated, now)


def forgotten_incident(record: GroupRecord, now: datetime) -> GroupRecord:
    """The incident no longer exists (deleted by a human): the group has no incident. Its events are forgotten too,
    so the alarms whose notes were still pending start a fresh incident when they come back; OK marks stay."""
    return stamped(
        record._replace(
            status=GroupStatus.RESOLVED, incident_arn=None, client_token=None, alarm_states=_ok_marks(record),
            processed_events=(), pending_items=(),
            pending_notes=(), pending_status=None, attached=(), resolved_at=now, resolved_by_bridge=False,
            expires_at=None,
        ),
        now,
    )  # fmt: skip


def stamped(record: GroupRecord, now: datetime) -> GroupRecord:
    """The next version, bounded, with its TTL: a closed group's clock starts when it closes, an open one's at its
    last update."""
    record = bounded(record._replace(version=record.version + 1))
    if record.status is GroupStatus.PENDING:
        return record
    if record.status is GroupStatus.RESOLVED:
        if record.expires_at is not None:
            return record
        return record._replace(expires_at=int((now + CLOSED_GROUP_TTL).timestamp()))
    return record._replace(expires_at=int((now + OPEN_GROUP_TTL).timestamp()))


def bounded(record: GroupRecord) -> GroupRecord:
    """Applies the caps (see the constants above for the policy)."""
    states = dict(record.alarm_states)
    overflowed = record.overflowed
    if len(states) > MAX_ALARM_STATES:
        # OK marks go first, oldest first; alarms still in ALARM only when there is nothing else to drop.
        order = sorted(states, key=lambda arn: (states[arn].state is not AlarmState.OK, states[arn].at))
        for arn in order[: len(states) - MAX_ALARM_STATES]:
            overflowed = overflowed or states[arn].state is not AlarmState.OK
            del states[arn]
    return record._replace(
        alarm_states=states,
        overflowed=overflowed,
        attached=record.attached[-MAX_ATTACHED:],
        processed_events=record.processed_events[-REMEMBERED_EVENTS:],
        pending_items=record.pending_items[-MAX_PENDING_ITEMS:],
        pending_notes=record.pending_notes[-MAX_PENDING_NOTES:],
    )


def merged(states: Mapping[str, AlarmMark], marks: Mapping[str, AlarmMark]) -> dict[str, AlarmMark]:
    """Alarm states with new marks; per alarm the later state time wins, whatever the arrival order."""
    result = dict(states)
    for arn, mark in marks.items():
        known = result.get(arn)
        if known is None or mark.at >= known.at:
            result[arn] = mark
    return result


def _ok_marks(record: GroupRecord | None) -> dict[str, AlarmMark]:
    if record is None:
        return {}
    return {arn: mark for arn, mark in record.alarm_states.items() if mark.state is AlarmState.OK}


def remember(record: GroupRecord, event_ids: Sequence[str]) -> tuple[str, ...]:
    return (*record.processed_events, *event_ids)[-REMEMBERED_EVENTS:]


def item_identity(item: RelatedItem) -> str:
    return hashlib.sha256("\n".join(item.identity).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _start_item(client_token: str, item: RelatedItem) -> PendingItem:
    return PendingItem(token("start-item", client_token, item_identity(item)), item)


def item_token(incident_arn: str, item: RelatedItem) -> str:
    return token("item", incident_arn, item_identity(item))


def _note_token(incident_arn: str, key: str, version: int, index: int, *kind: str) -> str:
    # The version the note is committed with: a retry re-sends it with this token, whatever batch it is in.
    return token("timeline", incident_arn, key, str(version), str(index), *kind)


def _appended(existing: Sequence[str], new: Iterable[str]) -> tuple[str, ...]:
    seen = set(existing)
    added = [identity for identity in dict.fromkeys(new) if identity not in seen]
    return (*existing, *added)
