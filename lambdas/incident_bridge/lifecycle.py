"""One incident per problem: group alarms, update the open incident, record recovery, resolve when all clear.

The group record (one per group key) says whether an incident is being opened (PENDING), is OPEN, or was
RESOLVED. Every write is conditional on the record's version, so two invocations racing for one group cannot
both start an incident: the loser re-reads and joins the winner's incident. Every Incident Manager call carries a
client token derived from the group and the event, so a retried call has no second effect.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from incident_bridge.alarm import AlarmState, NormalizedAlarm
from incident_bridge.custom import CustomIncident
from incident_bridge.errors import PermanentApiError, TransientApiError
from incident_bridge.incident import (
    IncidentStatusRequest,
    RelatedItem,
    StartIncidentRequest,
    TimelineEventRequest,
    UpdateRelatedItemsRequest,
    token,
)
from incident_bridge.outcome import ApiCall, OutcomeKind
from incident_bridge.ports import GroupStore, IncidentManager
from incident_bridge.routing import RouteDecision, Subject

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
    group_key: str
    status: GroupStatus
    version: int
    incident_arn: str | None = None
    client_token: str | None = None
    claimed_at: datetime | None = None
    #: alarm ARN -> its last state (ALARM or OK), for "every alarm that joined is back to OK"
    alarm_states: Mapping[str, str] = field(default_factory=dict)
    #: identities (hashes) of the related items already attached, so none is added twice
    attached: frozenset[str] = frozenset()
    processed_events: tuple[str, ...] = ()
    resolved_at: datetime | None = None
    resolved_by_bridge: bool = False
    expires_at: int | None = None


# ---- pure helpers ----


def group_key(subject: Subject, decision: RouteDecision) -> str:
    """The route's `group_by` fields (default: the alarm ARN), prefixed with the route so routes never share."""
    if isinstance(subject, CustomIncident):
        identity = subject.request.dedupe_key or subject.event_id
        key = f"{decision.route_name}|custom|{subject.source}|{identity}"
    else:
        fields = decision.group_by or ("alarm_arn",)
        key = f"{decision.route_name}|" + "|".join(f"{name}={_field(subject, name)}" for name in fields)
    if len(key.encode("utf-8")) > _KEY_MAX:
        key = f"{decision.route_name}|sha256={hashlib.sha256(key.encode('utf-8')).hexdigest()}"
    return key


def _field(alarm: NormalizedAlarm, name: str) -> str:
    metrics = alarm.resource_metrics
    value: str | None
    if name.startswith("tag:"):
        value = alarm.tags.get(name.removeprefix("tag:"))
    elif name.startswith("dimension:"):
        dimension = name.removeprefix("dimension:")
        value = next((m.dimensions[dimension] for m in metrics if dimension in m.dimensions), None)
    else:
        plain = {
            "alarm_name": alarm.alarm_name, "alarm_arn": alarm.alarm_arn, "account": alarm.account,
            "region": alarm.region, "namespace": metrics[0].namespace if metrics else None,
            "metric_name": metrics[0].metric_name if metrics else None,
        }  # fmt: skip
        value = plain.get(name)
    # A missing value must not merge unrelated alarms into one group: fall back to the alarm itself.
    return value if value else f"?{alarm.alarm_arn}"


def item_identity(item: RelatedItem) -> str:
    return hashlib.sha256("\n".join(item.identity).encode("utf-8")).hexdigest()[:32]


def all_recovered(record: GroupRecord) -> bool:
    return bool(record.alarm_states) and all(state == AlarmState.OK.value for state in record.alarm_states.values())


# ---- the flow ----


@dataclass(frozen=True)
class Step:
    """What one decision did: its outcome kind, a reason, and the exact calls it made."""

    kind: OutcomeKind
    reason: str
    calls: tuple[ApiCall, ...] = ()
    incident_arn: str | None = None


class Lifecycle:
    def __init__(
        self,
        incidents: IncidentManager,
        groups: GroupStore,
        *,
        flap_window: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self._incidents = incidents
        self._groups = groups
        self._flap_window = flap_window
        self._clock = clock

    def fire(self, subject: Subject, decision: RouteDecision, request: StartIncidentRequest, event_id: str) -> Step:
        """An ALARM (or a custom incident request): start, join, or reopen the group's incident."""
        key = group_key(subject, decision)
        calls: list[ApiCall] = []
        for _ in range(_WRITE_ATTEMPTS):
            record = self._groups.load(key)
            if record is not None and event_id in record.processed_events:
                return Step(OutcomeKind.IGNORED, f"event {event_id} already processed for group {key} (redelivery)")
            if record is None or (record.status is GroupStatus.RESOLVED and not self._flapping(record)):
                step = self._start(key, record, request, subject, event_id, calls)
            elif record.status is GroupStatus.PENDING:
                step = self._finish_pending(record, request, subject, event_id, calls)
            elif record.status is GroupStatus.RESOLVED:
                step = self._reopen(record, request, subject, event_id, calls)
            else:
                step = self._join(record, request, subject, event_id, calls)
            if step is not None:
                return step
        raise TransientApiError(f"group {key} kept changing under concurrent updates; will retry")

    def recover(self, alarm: NormalizedAlarm, decision: RouteDecision, event_id: str) -> Step:
        """An OK: note the recovery on the open incident; resolve it when every alarm is clear and the route says so."""
        key = group_key(alarm, decision)
        for _ in range(_WRITE_ATTEMPTS):
            record = self._groups.load(key)
            if record is None or record.status is not GroupStatus.OPEN or record.incident_arn is None:
                return Step(OutcomeKind.IGNORED, f"alarm {alarm.alarm_name} is OK and its group has no open incident")
            if event_id in record.processed_events:
                return Step(OutcomeKind.IGNORED, f"event {event_id} already processed for group {key} (redelivery)")
            states = {**record.alarm_states, alarm.alarm_arn: AlarmState.OK.value}
            updated = replace(record, alarm_states=states, processed_events=_remember(record, event_id))
            resolve = decision.auto_resolve and all_recovered(updated)
            pending_left = sum(1 for state in states.values() if state != AlarmState.OK.value)
            text = f"Alarm {alarm.alarm_name} recovered (OK): {alarm.reason}".strip()
            text += " All alarms of this incident are OK." if pending_left == 0 else f" {pending_left} still in ALARM."
            if pending_left == 0 and not decision.auto_resolve:
                text += " Left open: the route does not auto-resolve."
            calls = [self._timeline(record.incident_arn, alarm.changed_at, text, event_id, (alarm.alarm_arn,))]
            if resolve:
                resolved = IncidentStatusRequest(
                    incident_arn=record.incident_arn, status="RESOLVED", client_token=token("resolve", key, event_id)
                )
                self._incidents.update_incident_status(resolved)
                calls.append(ApiCall(resolved.operation, resolved.to_params()))
                now = self._clock()
                updated = replace(
                    updated, status=GroupStatus.RESOLVED, resolved_at=now, resolved_by_bridge=True,
                    expires_at=int((now + CLOSED_GROUP_TTL).timestamp()),
                )  # fmt: skip
            if self._groups.put(self._stamped(updated), expected_version=record.version):
                kind = OutcomeKind.RESOLVED if resolve else OutcomeKind.UPDATED
                reason = "all alarms recovered: incident resolved" if resolve else "recovery recorded"
                return Step(kind, f"{alarm.alarm_name}: {reason}", tuple(calls), record.incident_arn)
        raise TransientApiError(f"group {key} kept changing under concurrent updates; will retry")

    # ---- starting ----

    def _start(
        self,
        key: str,
        previous: GroupRecord | None,
        request: StartIncidentRequest,
        subject: Subject,
        event_id: str,
        calls: list[ApiCall],
    ) -> Step | None:
        start_token = token("start", key, event_id)
        claim = GroupRecord(
            group_key=key,
            status=GroupStatus.PENDING,
            version=(previous.version + 1) if previous else 1,
            client_token=start_token,
            claimed_at=self._clock(),
        )
        if not self._groups.put(claim, expected_version=previous.version if previous else None):
            return None  # another invocation claimed the group first: re-read and join it
        return self._open(claim, request, subject, event_id, calls)

    def _finish_pending(
        self, record: GroupRecord, request: StartIncidentRequest, subject: Subject, event_id: str, calls: list[ApiCall]
    ) -> Step | None:
        own_claim = record.client_token == token("start", record.group_key, event_id)
        stale = record.claimed_at is None or self._clock() - record.claimed_at > CLAIM_LEASE
        if not (own_claim or stale):
            raise TransientApiError(f"an incident for group {record.group_key} is being opened; will join it on retry")
        # Same client token as the claim: if the first attempt reached Incident Manager, this returns that incident.
        return self._open(record, request, subject, event_id, calls)

    def _open(
        self, claim: GroupRecord, request: StartIncidentRequest, subject: Subject, event_id: str, calls: list[ApiCall]
    ) -> Step | None:
        start = request.model_copy(update={"client_token": claim.client_token})
        calls.append(ApiCall("StartIncident", start.to_params()))
        try:
            incident_arn = self._incidents.start_incident(start)
        except PermanentApiError:
            # Release the claim so the next alarm of the group can try again (e.g. after a permission fix).
            released = replace(claim, status=GroupStatus.RESOLVED, version=claim.version + 1)
            self._groups.put(self._stamped(released), expected_version=claim.version)
            raise
        opened = replace(
            claim,
            status=GroupStatus.OPEN,
            incident_arn=incident_arn,
            alarm_states=_alarm_states(claim, subject),
            attached=frozenset(item_identity(item) for item in start.related_items),
            processed_events=_remember(claim, event_id),
            resolved_at=None,
            resolved_by_bridge=False,
        )
        if not self._groups.put(self._stamped(opened), expected_version=claim.version):
            raise TransientApiError(f"lost the claim on group {claim.group_key} while opening; will retry")
        reason = f"incident started in {start.response_plan_arn} at impact {start.impact}"
        return Step(OutcomeKind.STARTED, reason, tuple(calls), incident_arn)

    # ---- joining an open incident ----

    def _join(
        self, record: GroupRecord, request: StartIncidentRequest, subject: Subject, event_id: str, calls: list[ApiCall]
    ) -> Step | None:
        assert record.incident_arn is not None
        status = self._incidents.incident_status(record.incident_arn)
        if status != "OPEN":
            # Resolved by a human, or deleted: the next alarm deserves a fresh incident, not a closed one.
            return self._start(record.group_key, record, request, subject, event_id, calls)
        return self._add_to(record, request, subject, event_id, calls, "fired")

    def _reopen(
        self, record: GroupRecord, request: StartIncidentRequest, subject: Subject, event_id: str, calls: list[ApiCall]
    ) -> Step | None:
        """Within the flap window after the bridge resolved it: reopen the same incident."""
        assert record.incident_arn is not None
        reopen = IncidentStatusRequest(
            incident_arn=record.incident_arn, status="OPEN", client_token=token("reopen", record.group_key, event_id)
        )
        self._incidents.update_incident_status(reopen)
        calls.append(ApiCall(reopen.operation, reopen.to_params()))
        reopened = replace(record, status=GroupStatus.OPEN, resolved_at=None, resolved_by_bridge=False, expires_at=None)
        return self._add_to(reopened, request, subject, event_id, calls, "fired again within the flap window")

    def _add_to(
        self,
        record: GroupRecord,
        request: StartIncidentRequest,
        subject: Subject,
        event_id: str,
        calls: list[ApiCall],
        verb: str,
    ) -> Step | None:
        assert record.incident_arn is not None
        attached = set(record.attached)
        for item in request.related_items:
            identity = item_identity(item)
            if identity in attached:
                continue
            update = UpdateRelatedItemsRequest(
                incident_arn=record.incident_arn, item=item, client_token=token("item", record.group_key, identity)
            )
            self._incidents.update_related_items(update)
            calls.append(ApiCall(update.operation, update.to_params()))
            attached.add(identity)
        name = subject.alarm_name if isinstance(subject, NormalizedAlarm) else subject.request.title
        arns = (subject.alarm_arn,) if isinstance(subject, NormalizedAlarm) else subject.resource_arns
        calls.append(self._timeline(record.incident_arn, request.trigger_timestamp, f"{name} {verb}.", event_id, arns))
        joined = replace(
            record,
            alarm_states=_alarm_states(record, subject),
            attached=frozenset(attached),
            processed_events=_remember(record, event_id),
        )
        if not self._groups.put(self._stamped(joined), expected_version=record.version):
            return None  # changed meanwhile: re-read; the calls above carry tokens, so repeating them is harmless
        return Step(OutcomeKind.UPDATED, f"joined the open incident ({verb})", tuple(calls), record.incident_arn)

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


def _alarm_states(record: GroupRecord, subject: Subject) -> dict[str, str]:
    if isinstance(subject, CustomIncident):
        return dict(record.alarm_states)
    return {**record.alarm_states, subject.alarm_arn: AlarmState.ALARM.value}


def _remember(record: GroupRecord, event_id: str) -> tuple[str, ...]:
    return (*record.processed_events, event_id)[-REMEMBERED_EVENTS:]
