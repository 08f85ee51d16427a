"""Wires the bridge to its adapters once per container, and processes one message the same way for every caller."""

from __future__ import annotations

import functools
import json
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from incident_bridge.bridge import Bridge, not_json
from incident_bridge.config import load_config
from incident_bridge.errors import ConfigError, TransientApiError
from incident_bridge.outcome import Outcome, OutcomeKind
from incident_bridge.ports import AlarmTags, GroupStore, HeartbeatStore
from incident_bridge.settings import IncidentManagerMode, Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

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
    """The bridge wired to its adapters for this container, and what it processed lately."""

    bridge: Bridge
    dead_letters: DeadLetters
    #: The latest outcomes, for the CLI and tests; bounded so a long-lived container does not grow.
    outcomes: deque[Outcome] = field(default_factory=lambda: deque(maxlen=1000))
    emit_metrics: bool = True
    #: message id -> why it will be redelivered, for the CLI (bounded like `outcomes`).
    failures: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        config = load_config(settings.config_file)
        if settings.incident_manager is IncidentManagerMode.DRY_RUN:
            from incident_bridge.adapters.dry_run import DryRunIncidentManager
            from incident_bridge.adapters.memory_groups import MemoryGroupStore
            from incident_bridge.adapters.memory_heartbeats import MemoryHeartbeatStore

            bridge = Bridge(config, DryRunIncidentManager(), MemoryGroupStore(), heartbeats=MemoryHeartbeatStore())
            return cls(bridge, MemoryDeadLetters(), emit_metrics=not settings.metrics_disabled)
        from incident_bridge.adapters.incident_manager import Boto3IncidentManager, create_client

        bridge = Bridge(
            config,
            Boto3IncidentManager(create_client()),
            _group_store(settings),
            _alarm_tags(settings) if config.lookup_alarm_tags else None,
            heartbeats=_heartbeat_store(settings),
        )
        return cls(bridge, _sqs_dead_letters(settings), emit_metrics=not settings.metrics_disabled)

    def process_message(self, body: str, message_id: str) -> Outcome:
        """One queue message. Rejections go to the dead-letter queue with their reason; transient errors raise."""
        result = self._process([(message_id, body)])[message_id]
        if isinstance(result, Exception):
            raise result
        return result

    def process_batch(self, records: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, str]]]:
        """An SQS batch: returns the partial batch response naming only the records to redeliver."""
        messages = [(str(record.get("messageId", "")), str(record.get("body", ""))) for record in records]
        results = self._process(messages)
        failures = [message_id for message_id, result in results.items() if isinstance(result, Exception)]
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}

    def _process(self, messages: Sequence[tuple[str, str]]) -> dict[str, Outcome | TransientApiError]:
        events: list[tuple[str, object]] = []
        results: dict[str, Outcome | TransientApiError] = {}
        bodies = dict(messages)
        for message_id, body in messages:
            try:
                events.append((message_id, json.loads(body)))
            except ValueError as error:
                results[message_id] = not_json(error)
        results.update(self.bridge.handle_batch(events))
        for message_id, _ in messages:
            result = results[message_id]
            if isinstance(result, Exception):
                if len(self.failures) >= 1000:
                    self.failures.clear()  # kept for the CLI; bounded like `outcomes`
                self.failures[message_id] = str(result)
                logger.warning("event will be retried", extra={"message_id": message_id, "error": str(result)})
            else:
                self._finish(result, bodies[message_id], message_id)
        return {message_id: results[message_id] for message_id, _ in messages}

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
    OutcomeKind.RECORDED: "HeartbeatRecorded",
}


def _count(outcome: Outcome) -> None:
    with single_metric(name=_METRIC_NAMES[outcome.kind], unit=MetricUnit.Count, value=1) as metric:
        metric.add_dimension(name="route", value=outcome.route_name or "none")


def _group_store(settings: Settings) -> GroupStore:
    if settings.groups_in_memory:
        from incident_bridge.adapters.memory_groups import MemoryGroupStore

        return MemoryGroupStore()
    if not settings.state_table_name:
        raise ConfigError("STATE_TABLE_NAME: required to call Incident Manager live (the stack sets it)")
    from incident_bridge.adapters.group_table import DynamoGroupStore

    return DynamoGroupStore(_dynamodb(), settings.state_table_name)


def _heartbeat_store(settings: Settings) -> HeartbeatStore:
    if settings.groups_in_memory or not settings.state_table_name:
        from incident_bridge.adapters.memory_heartbeats import MemoryHeartbeatStore

        return MemoryHeartbeatStore()
    from incident_bridge.adapters.heartbeat_table import DynamoHeartbeatStore

    return DynamoHeartbeatStore(_dynamodb(), settings.state_table_name)


@functools.cache
def _dynamodb() -> DynamoDBClient:
    """One client for the group records and the heartbeats: a second client would cost the cold start again."""
    import boto3

    return boto3.client("dynamodb")


def _alarm_tags(settings: Settings) -> AlarmTags:
    import boto3

    from incident_bridge.adapters.alarm_tags import CloudWatchAlarmTags

    return CloudWatchAlarmTags(boto3.client("cloudwatch"), settings.home)


def _sqs_dead_letters(settings: Settings) -> DeadLetters:
    if not settings.dead_letter_queue_url:
        # Without a queue, a rejection is logged and kept in memory: say so at cold start, not at 3 a.m.
        logger.warning("DEAD_LETTER_QUEUE_URL is not set: rejected events are only logged")
        return MemoryDeadLetters()
    from incident_bridge.adapters.dead_letters import SqsDeadLetters

    return SqsDeadLetters(None, settings.dead_letter_queue_url)
