"""One event in, one outcome out: parse -> route -> build -> lifecycle. The handler and the CLI both call this."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from incident_bridge.alarm import AlarmState, NormalizedAlarm
from incident_bridge.config import BridgeConfig
from incident_bridge.custom import CustomIncident
from incident_bridge.errors import InvalidEvent, PermanentApiError
from incident_bridge.incident import build_start_incident
from incident_bridge.lifecycle import Lifecycle, Step
from incident_bridge.outcome import Outcome, OutcomeKind
from incident_bridge.ports import AlarmTags, GroupStore, IncidentManager
from incident_bridge.routing import Subject, route
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
            incidents, groups, flap_window=timedelta(seconds=config.flap_window_seconds), clock=clock
        )

    def handle(self, raw_event: object) -> Outcome:
        """Rejections (bad input, permanent API refusals) come back as outcomes; transient errors raise."""
        try:
            parsed = parse_event(raw_event)
        except InvalidEvent as error:
            return Outcome(OutcomeKind.REJECTED, str(error), error_class=type(error).__name__)
        if isinstance(parsed, NotActionable):
            return Outcome(OutcomeKind.IGNORED, parsed.reason)
        if isinstance(parsed, NormalizedAlarm):
            ignored = _not_actionable(parsed)
            if ignored is not None:
                return ignored
            parsed = self._with_tags(parsed)
        try:
            return self._route(parsed)
        except PermanentApiError as error:
            return Outcome(
                OutcomeKind.REJECTED,
                f"Incident Manager refused a request for {_name(parsed)}: {error}",
                alarm_name=_name(parsed),
                error_class=type(error).__name__,
            )

    def _with_tags(self, alarm: NormalizedAlarm) -> NormalizedAlarm:
        if self._tags is None or alarm.tags:
            return alarm
        return alarm.model_copy(update={"tags": dict(self._tags.tags_for(alarm.alarm_arn))})

    def _route(self, subject: Subject) -> Outcome:
        name = _name(subject)
        routing = route(subject, self._config)
        if not routing.decisions:
            return Outcome(OutcomeKind.IGNORED, f"{name}: dropped by route {routing.dropped_by}",
                           alarm_name=name, route_name=routing.dropped_by)  # fmt: skip
        event_id = subject.event_id
        steps: list[tuple[str, Step]] = []
        for decision in routing.decisions:
            if isinstance(subject, NormalizedAlarm) and subject.state is AlarmState.OK:
                step = self._lifecycle.recover(subject, decision, event_id)
            else:
                request = build_start_incident(subject, decision)
                step = self._lifecycle.fire(subject, decision, request, event_id)
            steps.append((decision.route_name, step))
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
