"""One event in, one outcome out: parse -> route -> build -> call. The handler and the CLI both call this."""

from __future__ import annotations

from incident_bridge.alarm import AlarmState, NormalizedAlarm
from incident_bridge.config import BridgeConfig
from incident_bridge.errors import InvalidEvent, PermanentApiError
from incident_bridge.incident import build_start_incident
from incident_bridge.outcome import ApiCall, Outcome, OutcomeKind
from incident_bridge.ports import IncidentManager
from incident_bridge.routing import decide
from incident_bridge.sources import NotActionable, parse_event


class Bridge:
    def __init__(self, config: BridgeConfig, incidents: IncidentManager) -> None:
        self._config = config
        self._incidents = incidents

    def handle(self, raw_event: object) -> Outcome:
        """Rejections (bad input, permanent API refusals) come back as outcomes; transient errors raise."""
        try:
            parsed = parse_event(raw_event)
        except InvalidEvent as error:
            return Outcome(OutcomeKind.REJECTED, str(error), error_class=type(error).__name__)
        if isinstance(parsed, NotActionable):
            return Outcome(OutcomeKind.IGNORED, parsed.reason)
        return self._handle_alarm(parsed)

    def _handle_alarm(self, alarm: NormalizedAlarm) -> Outcome:
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
        decision = decide(alarm, self._config)
        request = build_start_incident(alarm, decision)
        call = ApiCall("StartIncident", request.to_params())
        try:
            incident_arn = self._incidents.start_incident(request)
        except PermanentApiError as error:
            return Outcome(
                OutcomeKind.REJECTED,
                f"Incident Manager refused the incident for {alarm.alarm_name}: {error}",
                calls=(call,),
                alarm_name=alarm.alarm_name,
                route_name=decision.route_name,
                error_class=type(error).__name__,
            )
        return Outcome(
            OutcomeKind.STARTED,
            f"alarm {alarm.alarm_name} entered ALARM: incident started in {decision.response_plan_arn}"
            f" at impact {decision.impact} (route {decision.route_name})",
            calls=(call,),
            alarm_name=alarm.alarm_name,
            route_name=decision.route_name,
            incident_arn=incident_arn,
        )
