"""One event in, one outcome out: parse -> route -> build -> lifecycle. The handler and the CLI both call this."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from incident_bridge import heartbeats
from incident_bridge.alarm import AlarmState, NormalizedAlarm
from incident_bridge.config import BridgeConfig
from incident_bridge.custom import CustomIncident
from incident_bridge.errors import InvalidEvent, PermanentApiError, TransientApiError
from incident_bridge.heartbeats import FORWARDER_SILENT_ROUTE, Heartbeat, VerdictKind
from incident_bridge.incident import build_start_incident
from incident_bridge.lifecycle import Firing, Lifecycle, Step, group_key
from incident_bridge.outcome import Outcome, OutcomeKind
from incident_bridge.ports import AlarmTags, GroupStore, HeartbeatStore, IncidentManager
from incident_bridge.routing import RouteDecision, Routing, Subject, route
from incident_bridge.sources import Housekeeping, NotActionable, parse_event

# When one event opens several incidents (routes with `continue`), the outcome reports the weightiest step.
_WEIGHT = {OutcomeKind.STARTED: 4, OutcomeKind.RESOLVED: 3, OutcomeKind.UPDATED: 2, OutcomeKind.IGNORED: 1}


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Bridge:
    def __init__(
        self,
        config: BridgeConfig,
        incidents: IncidentManager,
        groups: GroupStore,
        tags: AlarmTags | None = None,
        clock: Callable[[], datetime] = _utc_now,
        heartbeats: HeartbeatStore | None = None,
        home: tuple[str, str] | None = None,
    ) -> None:
        """`home` is the (account, region) the bridge runs in: the only alarms whose tags it may look up."""
        self._config = config
        self._tags = tags if config.lookup_alarm_tags else None
        self._home = home
        self._heartbeats = heartbeats
        self._clock = clock
        self._lifecycle = Lifecycle(
            incidents,
            groups,
            flap_window=timedelta(seconds=config.flap_window_seconds),
            check_interval=timedelta(seconds=config.incident_check_seconds),
            clock=clock,
        )

    def handle(self, raw_event: object, event_key: str = "event") -> Outcome:
        """Rejections (bad input, permanent API refusals) come back as outcomes; transient errors raise."""
        outcome = self.handle_batch([(event_key, raw_event)])[event_key]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def handle_batch(self, events: Sequence[tuple[str, object]]) -> dict[str, Outcome | TransientApiError]:
        """Handles a batch in order, coalescing ALARMs of one group into one update (the API budget in a storm).

        Keys are the caller's (SQS message ids); a key maps to its outcome, or to the transient error that should
        make the queue redeliver it.
        """
        results: dict[str, Outcome | TransientApiError] = {}
        pending: dict[str, list[tuple[str, Subject, Firing]]] = {}
        heard: list[tuple[str, Heartbeat]] = []
        checks: list[str] = []
        for key, raw in events:
            prepared = self._prepare(raw)
            if isinstance(prepared, Housekeeping):
                if isinstance(prepared.item, Heartbeat):
                    heard.append((key, prepared.item))
                else:
                    checks.append(key)
                continue
            if isinstance(prepared, Outcome):
                results[key] = prepared
                continue
            subject, routing = prepared
            if _coalescible(subject, routing):
                firing = self._firing(subject, routing.decisions[0])
                group = group_key(subject, routing.decisions[0])
                pending.setdefault(group, []).append((key, subject, firing))
                continue
            # Recoveries and multi-route events keep their place in the order: what came before goes first.
            self._flush(pending, results)
            results[key] = self._guarded(subject, routing)
        self._flush(pending, results)
        # Heartbeats first, so a check in the same batch sees them; one check per batch is enough.
        results.update(self._record(heard))
        if checks:
            outcome = self._check_forwarders()
            results.update(dict.fromkeys(checks, outcome))
        return results

    # ---- preparing ----

    def _prepare(self, raw: object) -> Outcome | Housekeeping | tuple[Subject, Routing]:
        try:
            parsed = parse_event(raw)
        except InvalidEvent as error:
            return Outcome(OutcomeKind.REJECTED, str(error), error_class=type(error).__name__)
        if isinstance(parsed, Housekeeping):
            return parsed
        if isinstance(parsed, NotActionable):
            return Outcome(OutcomeKind.IGNORED, parsed.reason)
        if isinstance(parsed, NormalizedAlarm):
            ignored = _not_actionable(parsed)
            if ignored is not None:
                return ignored
            parsed = self._with_tags(parsed)
        routing = route(parsed, self._config)
        if not routing.decisions:
            name = _name(parsed)
            return Outcome(OutcomeKind.IGNORED, f"{name}: dropped by route {routing.dropped_by}",
                           alarm_name=name, route_name=routing.dropped_by)  # fmt: skip
        return parsed, routing

    def _with_tags(self, alarm: NormalizedAlarm) -> NormalizedAlarm:
        # ListTagsForResource reads only this account's alarms in this region: an alarm forwarded from another
        # account or region gets its tags from the event (`alarmTags`, when its tag propagation is on) or none,
        # never an access error.
        if self._tags is None or alarm.tags or (alarm.account, alarm.region) != self._home:
            return alarm
        return replace(alarm, tags=dict(self._tags.tags_for(alarm.alarm_arn)))

    # ---- forwarder heartbeats ----

    def _record(self, heard: Sequence[tuple[str, Heartbeat]]) -> dict[str, Outcome | TransientApiError]:
        """Keeps each forwarder's latest heartbeat (one write per forwarder per batch); a heartbeat never pages."""
        if not heard:
            return {}
        if self._heartbeats is None:
            reason = "heartbeats are not kept by this bridge (no state table)"
            return {key: Outcome(OutcomeKind.IGNORED, reason) for key, _ in heard}
        try:
            self._heartbeats.record(heartbeats.latest(heartbeat for _, heartbeat in heard))
        except TransientApiError as error:
            return {key: error for key, _ in heard}
        return {
            key: Outcome(OutcomeKind.RECORDED, f"heartbeat of forwarder {heartbeat.forwarder} recorded")
            for key, heartbeat in heard
        }

    def _check_forwarders(self) -> Outcome | TransientApiError:
        """Opens an incident for each forwarder newly silent, resolves it for each heard again: through routing
        (`forwarder-silent`) and the lifecycle, like any incident."""
        if self._heartbeats is None:
            return Outcome(OutcomeKind.IGNORED, "forwarder check: heartbeats are not kept by this bridge")
        now = self._clock()
        expected = [heartbeats.parse_forwarder(entry) for entry in self._config.expected_forwarders]
        steps: list[tuple[str, Step]] = []
        try:
            records = self._heartbeats.load()
            verdicts = heartbeats.check(records, expected, now)
            for verdict in verdicts:
                if verdict.kind is VerdictKind.WATCH:
                    self._heartbeats.watch(verdict.forwarder, verdict.silent_since)
                    continue
                alias = self._config.account_alias(verdict.forwarder.account)
                subject = heartbeats.silent_incident(verdict, alias, now)
                for decision in route(subject, self._config).decisions:
                    if verdict.kind is VerdictKind.SILENT:
                        step = self._lifecycle.fire(self._firing(subject, decision))
                    else:
                        step = self._lifecycle.recover(subject, decision, subject.event_id)
                    steps.append((decision.route_name, step))
                silent_since = verdict.silent_since if verdict.kind is VerdictKind.SILENT else None
                self._heartbeats.mark_silent(verdict.forwarder, silent_since)
        except TransientApiError as error:
            return error  # the check message is redelivered; every step above is idempotent
        except PermanentApiError as error:
            return Outcome(OutcomeKind.REJECTED, f"forwarder check: Incident Manager refused a request: {error}",
                           route_name=FORWARDER_SILENT_ROUTE, error_class=type(error).__name__)  # fmt: skip
        if not steps:
            watched = len(set(records) | set(expected))
            return Outcome(OutcomeKind.IGNORED, f"forwarder check: {watched} forwarder(s) watched, no change",
                           route_name=FORWARDER_SILENT_ROUTE)  # fmt: skip
        weightiest = max((step for _, step in steps), key=lambda step: _WEIGHT.get(step.kind, 0))
        return Outcome(
            weightiest.kind,
            "; ".join(f"forwarder check: {step.reason} (route {name})" for name, step in steps),
            calls=tuple(call for _, step in steps for call in step.calls),
            route_name=",".join(dict.fromkeys(name for name, _ in steps)),
            incident_arn=next((step.incident_arn for _, step in steps if step.incident_arn), None),
        )

    @staticmethod
    def _firing(subject: Subject, decision: RouteDecision) -> Firing:
        return Firing(subject, decision, build_start_incident(subject, decision), subject.event_id)

    # ---- acting ----

    def _flush(
        self, pending: dict[str, list[tuple[str, Subject, Firing]]], results: dict[str, Outcome | TransientApiError]
    ) -> None:
        for entries in pending.values():
            subjects = {key: subject for key, subject, _ in entries}
            try:
                steps = self._lifecycle.fire_many([firing for _, _, firing in entries])
            except (PermanentApiError, TransientApiError) as error:
                for key, subject in subjects.items():
                    results[key] = self._failure(subject, error)
                continue
            for (key, subject, firing), step in zip(entries, steps, strict=True):
                results[key] = _outcome(subject, [(firing.decision.route_name, step)])
        pending.clear()

    def _one(self, subject: Subject, routing: Routing) -> Outcome:
        steps: list[tuple[str, Step]] = []
        for decision in routing.decisions:
            if isinstance(subject, NormalizedAlarm) and subject.state is AlarmState.OK:
                step = self._lifecycle.recover(subject, decision, subject.event_id)
            else:
                step = self._lifecycle.fire(self._firing(subject, decision))
            steps.append((decision.route_name, step))
        return _outcome(subject, steps)

    def _guarded(self, subject: Subject, routing: Routing) -> Outcome | TransientApiError:
        try:
            return self._one(subject, routing)
        except (PermanentApiError, TransientApiError) as error:
            return self._failure(subject, error)

    @staticmethod
    def _failure(subject: Subject, error: PermanentApiError | TransientApiError) -> Outcome | TransientApiError:
        if isinstance(error, TransientApiError):
            return error
        return Outcome(
            OutcomeKind.REJECTED,
            f"Incident Manager refused a request for {_name(subject)}: {error}",
            alarm_name=_name(subject),
            error_class=type(error).__name__,
        )


def _coalescible(subject: Subject, routing: Routing) -> bool:
    """ALARMs (and custom requests) that take one route can be merged with others of their group."""
    firing = not (isinstance(subject, NormalizedAlarm) and subject.state is AlarmState.OK)
    return firing and len(routing.decisions) == 1


def _outcome(subject: Subject, steps: Sequence[tuple[str, Step]]) -> Outcome:
    name = _name(subject)
    weightiest = max((step for _, step in steps), key=lambda step: _WEIGHT.get(step.kind, 0))
    return Outcome(
        weightiest.kind,
        "; ".join(f"{name}: {step.reason} (route {route_name})" for route_name, step in steps),
        calls=tuple(call for _, step in steps for call in step.calls),
        alarm_name=name,
        route_name=",".join(route_name for route_name, _ in steps),
        incident_arn=next((step.incident_arn for _, step in steps if step.incident_arn), None),
    )


def _not_actionable(alarm: NormalizedAlarm) -> Outcome | None:
    if alarm.state is AlarmState.INSUFFICIENT_DATA:
        return Outcome(
            OutcomeKind.IGNORED,
            f"alarm {alarm.alarm_name} is INSUFFICIENT_DATA: missing data neither opens nor resolves incidents",
            alarm_name=alarm.alarm_name,
        )
    if alarm.state is AlarmState.ALARM and alarm.actions_suppressed_by:
        # A composite alarm's suppressor (e.g. a maintenance alarm) silences its actions; so do we.
        detail = f": {alarm.actions_suppressed_reason}" if alarm.actions_suppressed_reason else ""
        return Outcome(
            OutcomeKind.IGNORED,
            f"alarm {alarm.alarm_name} is in ALARM but its actions are suppressed by "
            f"{alarm.actions_suppressed_by}{detail}",
            alarm_name=alarm.alarm_name,
        )
    return None


def _name(subject: Subject) -> str:
    return subject.request.title if isinstance(subject, CustomIncident) else subject.alarm_name
