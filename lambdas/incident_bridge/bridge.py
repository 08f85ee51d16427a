"""One event in, one outcome out: parse -> route -> build -> lifecycle. The handler and the CLI both call this."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from incident_bridge.alarm import AlarmState, NormalizedAlarm
from incident_bridge.config import BridgeConfig
from incident_bridge.custom import CustomIncident
from incident_bridge.errors import InvalidEvent, PermanentApiError, TransientApiError
from incident_bridge.incident import build_start_incident
from incident_bridge.lifecycle import Firing, Lifecycle, Step, group_key
from incident_bridge.outcome import Outcome, OutcomeKind
from incident_bridge.ports import AlarmTags, GroupStore, IncidentManager
from incident_bridge.routing import RouteDecision, Routing, Subject, route
from incident_bridge.sources import NotActionable, parse_event

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
    ) -> None:
        self._config = config
        self._tags = tags if config.lookup_alarm_tags else None
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
        for key, raw in events:
            decided = self.decide(raw)
            if isinstance(decided, Outcome):
                results[key] = decided
                continue
            if decided.stopped is not None:
                results[key] = decided.stopped
                continue
            subject, routing = decided.subject, decided.routing
            if _coalescible(subject, routing):
                firing = self._firing(subject, routing.decisions[0])
                group = group_key(subject, routing.decisions[0])
                pending.setdefault(group, []).append((key, subject, firing))
                continue
            # Recoveries and multi-route events keep their place in the order: what came before goes first.
            self._flush(pending, results)
            results[key] = self._guarded(subject, routing)
        self._flush(pending, results)
        return results

    # ---- deciding ----

    def decide(self, raw: object) -> Outcome | Routed:
        """`decide` with this bridge's configuration and tag lookup: what `invoke --explain` shows."""
        return decide(raw, self._config, self._tags)

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


@dataclass(frozen=True)
class Routed:
    """An event the lifecycle acts on: what it is, and where routing sends it."""

    subject: Subject
    routing: Routing

    @property
    def stopped(self) -> Outcome | None:
        """The outcome of an event a `drop` route stopped before any route decided: ignored, naming the route."""
        if self.routing.decisions:
            return None
        name = _name(self.subject)
        return Outcome(OutcomeKind.IGNORED, f"{name}: dropped by route {self.routing.dropped_by}",
                       alarm_name=name, route_name=self.routing.dropped_by)  # fmt: skip

    @property
    def recovering(self) -> bool:
        """An OK notes a recovery on its group's open incident; everything else fires."""
        return isinstance(self.subject, NormalizedAlarm) and self.subject.state is AlarmState.OK


def not_json(error: ValueError) -> Outcome:
    """The outcome of a message whose body is not JSON at all (the runtime's and the CLI's reading alike)."""
    return Outcome(OutcomeKind.REJECTED, f"message body is not JSON: {error}", error_class=InvalidEvent.__name__)


def decide(raw: object, config: BridgeConfig, tags: AlarmTags | None = None) -> Outcome | Routed:
    """Everything before the lifecycle, for the handler and every CLI command alike: parse, drop what is not
    actionable (configuration changes, INSUFFICIENT_DATA, suppressed composites), route. Returns the outcome
    of an event that stops before routing (ignored or rejected), or where routing sends it; a `drop` route's
    event is `stopped` there too."""
    try:
        parsed = parse_event(raw)
    except InvalidEvent as error:
        return Outcome(OutcomeKind.REJECTED, str(error), error_class=type(error).__name__)
    if isinstance(parsed, NotActionable):
        return Outcome(OutcomeKind.IGNORED, parsed.reason)
    if isinstance(parsed, NormalizedAlarm):
        ignored = _not_actionable(parsed)
        if ignored is not None:
            return ignored
        if tags is not None and not parsed.tags:
            parsed = replace(parsed, tags=dict(tags.tags_for(parsed.alarm_arn)))
    return Routed(parsed, route(parsed, config))


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
