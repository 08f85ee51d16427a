"""One event in, one outcome out: parse -> route -> build -> call. The handler and the CLI both call this."""

from __future__ import annotations

from incident_bridge.alarm import AlarmState, NormalizedAlarm
from incident_bridge.config import BridgeConfig
from incident_bridge.errors import InvalidEvent, PermanentApiError
from incident_bridge.incident import build_start_incident
from incident_bridge.outcome import ApiCall, Outcome, OutcomeKind
from incident_bridge.ports import AlarmTags, IncidentManager
from incident_bridge.routing import RouteDecision, Subject, route
from incident_bridge.sources import NotActionable, parse_event


class Bridge:
    def __init__(self, config: BridgeConfig, incidents: IncidentManager, tags: AlarmTags | None = None) -> None:
        self._config = config
        self._incidents = incidents
        self._tags = tags if config.lookup_alarm_tags else None

    def handle(self, raw_event: object) -> Outcome:
        """Rejections (bad input, permanent API refusals) come back as outcomes; transient errors raise."""
        try:
            parsed = parse_event(raw_event)
        except InvalidEvent as error:
            return Outcome(OutcomeKind.REJECTED, str(error), error_class=type(error).__name__)
        if isinstance(parsed, NotActionable):
            return Outcome(OutcomeKind.IGNORED, parsed.reason)
        if isinstance(parsed, NormalizedAlarm):
            ignored = self._not_opening(parsed)
            if ignored is not None:
                return ignored
            parsed = self._with_tags(parsed)
        return self._open(parsed)

    def _not_opening(self, alarm: NormalizedAlarm) -> Outcome | None:
        if alarm.state is not AlarmState.ALARM:
            return Outcome(
                OutcomeKind.IGNORED,
                f"alarm {alarm.alarm_name} is {alarm.state.value}: only transitions into ALARM open incidents",
                alarm_name=alarm.alarm_name,
            )
        if alarm.actions_suppressed_by:
            # A composite alarm's suppressor (e.g. a maintenance alarm) silences its actions; so do we.
            detail = f": {alarm.actions_suppressed_reason}" if alarm.actions_suppressed_reason else ""
            return Outcome(
                OutcomeKind.IGNORED,
                f"alarm {alarm.alarm_name} is in ALARM but its actions are suppressed by "
                f"{alarm.actions_suppressed_by}{detail}",
                alarm_name=alarm.alarm_name,
            )
        return None

    def _with_tags(self, alarm: NormalizedAlarm) -> NormalizedAlarm:
        if self._tags is None or alarm.tags:
            return alarm
        return alarm.model_copy(update={"tags": dict(self._tags.tags_for(alarm.alarm_arn))})

    def _open(self, subject: Subject) -> Outcome:
        name = subject.alarm_name if isinstance(subject, NormalizedAlarm) else subject.request.title
        routing = route(subject, self._config)
        if not routing.decisions:
            return Outcome(OutcomeKind.IGNORED, f"{name}: dropped by route {routing.dropped_by}",
                           alarm_name=name, route_name=routing.dropped_by)  # fmt: skip
        calls: list[ApiCall] = []
        started: list[str] = []
        for decision in routing.decisions:
            request = build_start_incident(subject, decision)
            calls.append(ApiCall("StartIncident", request.to_params()))
            try:
                incident_arn = self._incidents.start_incident(request)
            except PermanentApiError as error:
                return Outcome(
                    OutcomeKind.REJECTED,
                    f"Incident Manager refused the incident for {name}: {error}",
                    calls=tuple(calls),
                    alarm_name=name,
                    route_name=decision.route_name,
                    error_class=type(error).__name__,
                )
            started.append(incident_arn)
        return Outcome(
            OutcomeKind.STARTED,
            "; ".join(_started_reason(name, decision) for decision in routing.decisions),
            calls=tuple(calls),
            alarm_name=name,
            route_name=",".join(decision.route_name for decision in routing.decisions),
            incident_arn=started[0],
        )


def _started_reason(name: str, decision: RouteDecision) -> str:
    return (
        f"{name}: incident started in {decision.response_plan_arn} at impact {decision.impact}"
        f" (route {decision.route_name})"
    )
