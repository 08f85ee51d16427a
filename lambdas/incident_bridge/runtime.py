"""Wires the bridge to its adapters once per container, and processes one message the same way for every caller."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from incident_bridge.bridge import Bridge
from incident_bridge.config import load_config
from incident_bridge.errors import ConfigError, InvalidEvent
from incident_bridge.outcome import Outcome, OutcomeKind
from incident_bridge.ports import AlarmTags, GroupStore
from incident_bridge.settings import IncidentManagerMode, Settings

logger = Logger(child=True)


class DeadLetters(Protocol):
    def send(self, body: str, *, error_class: str, reason: str, source_message_id: str) -> None: ...


@dataclass
class MemoryDeadLetters:
    """Dry runs keep rejected messages in memory, so the CLI can show where they would have gone."""

    messages: list[dict[str, str]] = field(default_factory=list)

    def send(self, body: str, *, error_class: str, reason: str, source_message_id: str) -> None:
        self.messages.append(
            {
                "body": body,
                "error_class": error_class,
                "reason": reason,
                "source_message_id": source_message_id,
            }
        )


@dataclass
class Runtime:
    bridge: Bridge
    dead_letters: DeadLetters
    #: The latest outcomes, for the CLI and tests; bounded so a long-lived container does not grow.
    outcomes: deque[Outcome] = field(default_factory=lambda: deque(maxlen=1000))
    emit_metrics: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        config = load_config(settings.config_file)
        if settings.incident_manager is IncidentManagerMode.DRY_RUN:
            from incident_bridge.adapters.dry_run import DryRunIncidentManager
            from incident_bridge.adapters.memory_groups import MemoryGroupStore

            bridge = Bridge(config, DryRunIncidentManager(), MemoryGroupStore())
            return cls(bridge, MemoryDeadLetters(), emit_metrics=not settings.metrics_disabled)
        from incident_bridge.adapters.incident_manager import Boto3IncidentManager, create_client

        bridge = Bridge(
            config,
            Boto3IncidentManager(create_client()),
            _group_store(settings),
            _alarm_tags() if config.lookup_alarm_tags else None,
        )
        return cls(bridge, _sqs_dead_letters(settings), emit_metrics=not settings.metrics_disabled)

    def process_message(self, body: str, message_id: str) -> Outcome:
        """One queue message. Rejections go to the dead-letter queue with their reason; transient errors raise."""
        try:
            event = json.loads(body)
        except ValueError as error:
            outcome = Outcome(
                OutcomeKind.REJECTED, f"message body is not JSON: {error}", error_class=InvalidEvent.__name__
            )
        else:
            outcome = self.bridge.handle(event)
        return self._finish(outcome, body, message_id)

    def process_event(self, event: object, request_id: str) -> Outcome:
        """A direct invocation (an alarm action calling the function)."""
        outcome = self.bridge.handle(event)
        body = json.dumps(event, default=str) if outcome.kind is OutcomeKind.REJECTED else ""
        return self._finish(outcome, body, request_id)

    def _finish(self, outcome: Outcome, body: str, message_id: str) -> Outcome:
        logger.info(
            "event processed",
            extra={
                "message_id": message_id,
                "outcome": outcome.kind.value,
                "reason": outcome.reason,
                "alarm_name": outcome.alarm_name,
                "route": outcome.route_name,
                "incident_arn": outcome.incident_arn,
            },
        )
        if outcome.kind is OutcomeKind.REJECTED:
            self.dead_letters.send(
                body,
                error_class=outcome.error_class or "Unknown",
                reason=outcome.reason,
                source_message_id=message_id,
            )
        if self.emit_metrics:
            _count(outcome)
        self.outcomes.append(outcome)
        return outcome


# One metric per business outcome, dimensioned by route, as the dashboard and alarms expect.
_METRIC_NAMES = {
    OutcomeKind.STARTED: "IncidentStarted",
    OutcomeKind.UPDATED: "IncidentUpdated",
    OutcomeKind.RESOLVED: "IncidentResolved",
    OutcomeKind.IGNORED: "EventIgnored",
    OutcomeKind.REJECTED: "EventRejected",
}


def _count(outcome: Outcome) -> None:
    with single_metric(name=_METRIC_NAMES[outcome.kind], unit=MetricUnit.Count, value=1) as metric:
        metric.add_dimension(name="route", value=outcome.route_name or "none")


def _group_store(settings: Settings) -> GroupStore:
    if not settings.state_table_name:
        raise ConfigError("STATE_TABLE_NAME: required to call Incident Manager live (the stack sets it)")
    import boto3

    from incident_bridge.adapters.group_table import DynamoGroupStore

    return DynamoGroupStore(boto3.client("dynamodb"), settings.state_table_name)


def _alarm_tags() -> AlarmTags:
    import boto3

    from incident_bridge.adapters.alarm_tags import CloudWatchAlarmTags

    return CloudWatchAlarmTags(boto3.client("cloudwatch"))


def _sqs_dead_letters(settings: Settings) -> DeadLetters:
    if not settings.dead_letter_queue_url:
        # Without a queue, a rejection is logged and kept in memory: say so at cold start, not at 3 a.m.
        logger.warning("DEAD_LETTER_QUEUE_URL is not set: rejected events are only logged")
        return MemoryDeadLetters()
    import boto3

    from incident_bridge.adapters.dead_letters import SqsDeadLetters

    return SqsDeadLetters(boto3.client("sqs"), settings.dead_letter_queue_url)
