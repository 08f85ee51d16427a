"""Wires the bridge to its adapters once per container, and processes one message the same way for every caller."""

from __future__ import annotations

import functools
import json
import random
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, Self

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from incident_bridge import metric_names
from incident_bridge.bridge import Bridge, not_json
from incident_bridge.config import BridgeConfig, load_config
from incident_bridge.errors import ConfigError, NotStarted, TransientApiError
from incident_bridge.outcome import BatchResult, Outcome, OutcomeKind
from incident_bridge.ports import AlarmTags, GroupStore, HeartbeatStore
from incident_bridge.quiet import QuietReason
from incident_bridge.quieting import Quieting
from incident_bridge.settings import IncidentManagerMode, Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from incident_bridge.budget import RequestBudget

logger = Logger(child=True)


class DeadLetters(Protocol):
    def send(self, body: str, *, error_class: str, reason: str, source_message_id: str) -> None: ...


class SourceQueue(Protocol):
    """The queue the records come from: when a record named for retry is visible again (ChangeMessageVisibility),
    and sending a record that was not started back as a new message (SendMessage)."""

    def retry_after(self, receipt_handle: str, seconds: int) -> None: ...

    def requeue(self, body: str, delay_seconds: int) -> None: ...


class MemoryDeadLetters:
    """Dry runs keep rejected messages in memory, so the CLI can show where they would have gone."""

    def __init__(self) -> None:
        self.messages: list[dict[str, str]] = []

    def send(self, body: str, *, error_class: str, reason: str, source_message_id: str) -> None:
        self.messages.append(
            {
                "body": body,
                "error_class": error_class,
                "reason": reason,
                "source_message_id": source_message_id,
            }
        )


#: Backoff of a record named for retry: BACKOFF_FIRST_SECONDS on its first receive, doubling with each receive
#: (ApproximateReceiveCount), at most BACKOFF_MAX_SECONDS; jittered down to half, so records that failed together
#: do not come back together. Without it a record would wait out the queue's visibility timeout (30 minutes).
BACKOFF_FIRST_SECONDS = 5
BACKOFF_MAX_SECONDS = 300
#: ChangeMessageVisibility's limit: 12 hours (SQS API Reference, ChangeMessageVisibility).
VISIBILITY_MAX_SECONDS = 12 * 60 * 60
#: SendMessage's DelaySeconds limit: 15 minutes (SQS API Reference, SendMessage).
SEND_DELAY_MAX_SECONDS = 900


def retry_delay(receive_count: int, jitter: float = 1.0) -> int:
    """Seconds before a record received `receive_count` times is visible again; `jitter` in [0.5, 1]."""
    exponent = min(max(receive_count, 1) - 1, 16)
    return max(1, int(min(BACKOFF_FIRST_SECONDS * 2**exponent, BACKOFF_MAX_SECONDS) * jitter))


class QueueRecord(NamedTuple):
    """What the runtime reads of one SQS record."""

    message_id: str
    body: str
    receipt_handle: str | None = None
    receive_count: int = 1

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> Self:
        attributes = record.get("attributes")
        count = attributes.get("ApproximateReceiveCount") if isinstance(attributes, Mapping) else None
        handle = record.get("receiptHandle")
        return cls(
            message_id=str(record.get("messageId", "")),
            body=str(record.get("body", "")),
            receipt_handle=handle if isinstance(handle, str) else None,
            receive_count=int(count) if isinstance(count, str) and count.isdigit() else 1,
        )


def _jitter() -> float:
    return random.uniform(0.5, 1.0)


class Runtime:
    """The bridge wired to its adapters for this container, and what it processed lately."""

    # A plain class, not a dataclass: it is a service, never compared or copied, and a dataclass would compile its
    # methods on every cold start (README, Performance).
    def __init__(
        self,
        bridge: Bridge,
        dead_letters: DeadLetters,
        *,
        emit_metrics: bool = True,
        source_queue: SourceQueue | None = None,
        max_receive_count: int | None = None,
        jitter: Callable[[], float] = _jitter,
    ) -> None:
        self.bridge = bridge
        self.dead_letters = dead_letters
        #: The latest outcomes, for the CLI and tests; bounded so a long-lived container does not grow.
        self.outcomes: deque[Outcome] = deque(maxlen=1000)
        self.emit_metrics = emit_metrics
        #: message id -> why it will be redelivered, for the CLI (bounded like `outcomes`).
        self.failures: dict[str, str] = {}
        #: The source queue, to give each retried record its own backoff and to requeue records not started (None:
        #: the queue's visibility timeout, and records not started are retried like the others).
        self.source_queue = source_queue
        #: The source queue's maxReceiveCount: on that receive a record that fails again is dead-lettered here, with
        #: its reason, instead of being moved by the redrive policy without one (None: left to the redrive policy).
        self.max_receive_count = max_receive_count
        #: The last batch's result, record by record (tests and the fault-injection suite read it).
        self.last_batch: BatchResult | None = None
        self.jitter = jitter

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        config = load_config(settings.config_file)
        if settings.incident_manager is IncidentManagerMode.DRY_RUN:
            from incident_bridge.adapters.dry_run import DryRunIncidentManager
            from incident_bridge.adapters.memory_groups import MemoryGroupStore
            from incident_bridge.adapters.memory_heartbeats import MemoryHeartbeatStore

            bridge = Bridge(config, DryRunIncidentManager(), MemoryGroupStore(), heartbeats=MemoryHeartbeatStore(),
                            quieting=_memory_quieting(config))  # fmt: skip
            return cls(bridge, MemoryDeadLetters(), emit_metrics=not settings.metrics_disabled)
        from incident_bridge.adapters.incident_manager import Boto3IncidentManager, create_client

        budget = _request_budget(settings)
        bridge = Bridge(
            config,
            Boto3IncidentManager(create_client(budget)),
            _group_store(settings),
            _alarm_tags(settings) if config.lookup_alarm_tags else None,
            heartbeats=_heartbeat_store(settings),
            budget=budget,
            quieting=_quieting(config, settings),
        )
        return cls(
            bridge,
            _sqs_dead_letters(settings),
            emit_metrics=not settings.metrics_disabled,
            source_queue=_source_queue(settings),
            max_receive_count=settings.max_receive_count,
        )

    def process_message(self, body: str, message_id: str) -> Outcome:
        """One queue message. Rejections go to the dead-letter queue with their reason; a retry raises."""
        outcome = self._process([QueueRecord(message_id, body)])[message_id]
        if outcome.kind is OutcomeKind.RETRY:
            raise TransientApiError(outcome.reason)
        return outcome

    def process_batch(
        self, records: Sequence[Mapping[str, Any]], remaining_millis: Callable[[], int] | None = None
    ) -> dict[str, list[dict[str, str]]]:
        """An SQS batch: returns the partial batch response naming exactly the records to redeliver.

        `remaining_millis` (the Lambda context's): no new group is started when time runs low; those records are
        named for retry, so a batch never runs into the function's timeout."""
        result = self._process([QueueRecord.of(record) for record in records], remaining_millis)
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in result.to_retry]}

    def _process(
        self, records: Sequence[QueueRecord], remaining_millis: Callable[[], int] | None = None
    ) -> BatchResult:
        events: list[tuple[str, object]] = []
        results: dict[str, Outcome] = {}
        for record in records:
            try:
                events.append((record.message_id, json.loads(record.body)))
            except ValueError as error:
                results[record.message_id] = not_json(error)
            except RecursionError as error:  # nested deeper than the parser goes: as unreadable as bad JSON
                results[record.message_id] = not_json(ValueError(f"nested too deeply ({error})"))
        time_left = None if remaining_millis is None else (lambda: remaining_millis() / 1000)
        # With the source queue, what is not started is requeued at no cost: a throttled batch stops early.
        batch = self.bridge.handle_batch(events, time_left, stop_when_throttled=self.source_queue is not None)
        results.update(batch.outcomes)
        self._log_forgotten()
        final: dict[str, Outcome] = {}
        for record in records:
            outcome = results[record.message_id]
            if outcome.kind is OutcomeKind.RETRY and (
                outcome.error_class == NotStarted.__name__ or outcome.retry_after_seconds is not None
            ):
                # Not started, or a group's carrier (its event is in its incident; it comes back to send the group's
                # deferred calls): waiting its turn must not count towards the redrive policy.
                outcome = self._requeued(record, outcome)
            if outcome.kind is OutcomeKind.RETRY:
                outcome = self._retry_or_give_up(record, outcome)
            if outcome.kind not in (OutcomeKind.RETRY, OutcomeKind.REQUEUED):
                outcome = self._finish(outcome, record.body, record.message_id)
            final[record.message_id] = outcome
        self.last_batch = BatchResult(final)
        return self.last_batch

    def _requeued(self, record: QueueRecord, outcome: Outcome) -> Outcome:
        """A record the invocation had no time to start goes back as a new message (its receive count starts over):
        in a storm, waiting its turn must not count towards the redrive policy. If the send fails, it is retried."""
        if self.source_queue is None:
            return outcome
        try:
            delay = retry_delay(1, self.jitter())
            if outcome.retry_after_seconds is not None:
                delay = max(delay, min(outcome.retry_after_seconds, SEND_DELAY_MAX_SECONDS))
            self.source_queue.requeue(record.body, delay)
        except Exception as error:  # the record is then retried as it is
            logger.warning("could not requeue a record not started", extra={"error": str(error)})
            return outcome
        logger.info("event requeued", extra={"message_id": record.message_id, "reason": outcome.reason})
        requeued = outcome._replace(kind=OutcomeKind.REQUEUED, reason=f"{outcome.reason}: sent back to the queue")
        if self.emit_metrics:
            _count(requeued)
        return requeued

    def _retry_or_give_up(self, record: QueueRecord, outcome: Outcome) -> Outcome:
        if self.max_receive_count is not None and record.receive_count >= self.max_receive_count:
            # The redrive policy would move it on its next receive, without a reason: dead-letter it now, with one.
            return outcome._replace(
                kind=OutcomeKind.REJECTED,
                reason=f"gave up after {record.receive_count} receives: {outcome.reason}",
                error_class=outcome.error_class or TransientApiError.__name__,
            )
        if len(self.failures) >= 1000:
            self.failures.clear()  # kept for the CLI; bounded like `outcomes`
        self.failures[record.message_id] = outcome.reason
        delay = retry_delay(record.receive_count, self.jitter())
        if outcome.retry_after_seconds is not None:
            delay = max(delay, min(outcome.retry_after_seconds, VISIBILITY_MAX_SECONDS))
        logger.warning(
            "event will be retried",
            extra={"message_id": record.message_id, "error": outcome.reason, "retry_in_seconds": delay},
        )
        if self.source_queue is not None and record.receipt_handle:
            try:
                self.source_queue.retry_after(record.receipt_handle, delay)
            except Exception as error:
                logger.warning("could not shorten the retry delay", extra={"error": str(error)})
        if self.emit_metrics:
            _count(outcome)
        return outcome

    def recheck(self) -> dict[str, int]:
        """The scheduled check (every minute): alarms that fired while quiet are decided again, and page if the
        quiet has ended. One log line per alarm; returns how many paged, stayed quiet, left, or will be retried."""
        counts = {"paged": 0, "quiet": 0, "dropped": 0, "retry": 0}
        for entry, result in self.bridge.recheck():
            fields = {"alarm_name": entry.name, "member": entry.member, "quiet_reason": entry.reason.value,
                      "quiet_applied": entry.applied}  # fmt: skip
            if result.kind is OutcomeKind.RETRY:
                counts["retry"] += 1
                logger.warning("quiet check: will try again", extra={**fields, "error": result.reason})
                continue
            if result.kind is OutcomeKind.IGNORED and result.quiet is not None:
                counts["quiet"] += 1
                logger.info("quiet check: still quiet", extra={**fields, "reason": result.reason})
                continue
            paged = result.kind in (OutcomeKind.STARTED, OutcomeKind.UPDATED)
            counts["paged" if paged else "dropped"] += 1
            message = "quiet check: the quiet ended, alarm still firing" if paged else "quiet check: dropped"
            self._finish(result, json.dumps(entry.raw_event) if result.kind is OutcomeKind.REJECTED else "",
                         f"quiet-check:{entry.member}", message=message)  # fmt: skip
        logger.info("quiet check done", extra=counts)
        return counts

    def _log_forgotten(self) -> None:
        for entry in self.bridge.forgotten:
            logger.info(
                "quiet ledger: alarm recovered while quiet, dropped",
                extra={"alarm_name": entry.name, "member": entry.member, "quiet_reason": entry.reason.value,
                       "quiet_applied": entry.applied},
            )  # fmt: skip
        self.bridge.forgotten.clear()

    def process_event(self, event: object, request_id: str) -> Outcome:
        """A direct invocation (an alarm action calling the function). A retry raises, so Lambda retries it."""
        outcome = self.bridge.handle(event)
        if outcome.kind is OutcomeKind.RETRY:
            raise TransientApiError(outcome.reason)
        body = json.dumps(event, default=str) if outcome.kind is OutcomeKind.REJECTED else ""
        return self._finish(outcome, body, request_id)

    def _finish(self, outcome: Outcome, body: str, message_id: str, message: str = "event processed") -> Outcome:
        """Logs, counts and (for rejections) dead-letters an outcome. When the dead-letter queue cannot take it,
        the record is retried instead: never dropped."""
        quiet = outcome.quiet
        logger.info(
            message,
            extra={
                **({"quiet_reason": quiet.reason.value, "quiet_applied": quiet.applied} if quiet else {}),
                "message_id": message_id,
                "outcome": outcome.kind.value,
                "reason": outcome.reason,
                "ignore_reason": outcome.ignore_reason.value if outcome.ignore_reason else None,
                "alarm_name": outcome.alarm_name,
                "route": outcome.route_name,
                "incident_arn": outcome.incident_arn,
            },
        )
        if outcome.kind is OutcomeKind.REJECTED:
            try:
                self.dead_letters.send(
                    body,
                    error_class=outcome.error_class or "Unknown",
                    reason=outcome.reason,
                    source_message_id=message_id,
                )
            except Exception as error:
                logger.error("dead-letter send failed; the record will be retried", extra={"error": str(error)})
                self.failures[message_id] = f"dead-letter send failed: {error}"
                return Outcome(OutcomeKind.RETRY, f"dead-letter send failed: {error}", error_class=type(error).__name__)
        if self.emit_metrics:
            _count(outcome)
        self.outcomes.append(outcome)
        return outcome


# One metric per business outcome, dimensioned by route, as the dashboard and alarms expect.
_METRIC_NAMES = {
    OutcomeKind.STARTED: metric_names.INCIDENT_STARTED,
    OutcomeKind.UPDATED: metric_names.INCIDENT_UPDATED,
    OutcomeKind.RESOLVED: metric_names.INCIDENT_RESOLVED,
    OutcomeKind.IGNORED: metric_names.EVENT_IGNORED,
    OutcomeKind.REJECTED: metric_names.EVENT_REJECTED,
    OutcomeKind.RETRY: metric_names.EVENT_RETRIED,
    OutcomeKind.RECORDED: metric_names.FORWARDER_HOUSEKEEPING,
    OutcomeKind.REQUEUED: metric_names.EVENT_REQUEUED,
}


#: Quiet events are also counted by why, by route: a silence, a mute (CloudWatch mute rule or time interval), an
#: inhibition.
QUIET_METRIC_NAMES = {
    QuietReason.SILENCE: metric_names.EVENT_SILENCED,
    QuietReason.MUTE_RULE: metric_names.EVENT_MUTED,
    QuietReason.MUTE_TIME_INTERVAL: metric_names.EVENT_MUTED,
    QuietReason.ACTIVE_TIME_INTERVAL: metric_names.EVENT_MUTED,
    QuietReason.INHIBITION: metric_names.EVENT_INHIBITED,
}


def _count(outcome: Outcome) -> None:
    with single_metric(name=_METRIC_NAMES[outcome.kind], unit=MetricUnit.Count, value=1) as metric:
        metric.add_dimension(name=metric_names.ROUTE_DIMENSION, value=outcome.route_name or "none")
    if outcome.quiet is not None:
        with single_metric(name=QUIET_METRIC_NAMES[outcome.quiet.reason], unit=MetricUnit.Count, value=1) as metric:
            metric.add_dimension(name=metric_names.ROUTE_DIMENSION, value=outcome.route_name or "none")
    if outcome.ignore_reason is not None:
        # By reason too (a second series of the same metric), so a dashboard can tell redeliveries from drops.
        with single_metric(name=_METRIC_NAMES[outcome.kind], unit=MetricUnit.Count, value=1) as metric:
            metric.add_dimension(name=metric_names.REASON_DIMENSION, value=outcome.ignore_reason.value)


def _memory_quieting(config: BridgeConfig) -> Quieting:
    from incident_bridge.adapters.memory_quiet import MemoryInhibitionSources, MemoryQuietLedger

    return Quieting(config, sources=MemoryInhibitionSources(), ledger=MemoryQuietLedger())


def _quieting(config: BridgeConfig, settings: Settings) -> Quieting:
    """Live silences, inhibition sources and the quiet ledger share the group table (in memory when groups are)."""
    if settings.groups_in_memory or not settings.state_table_name:
        return _memory_quieting(config)
    from incident_bridge.adapters.quiet_table import DynamoInhibitionSources, DynamoQuietLedger
    from incident_bridge.adapters.silence_table import DynamoSilenceStore

    client = _dynamodb()  # the group store's client: a second one would cost the cold start again
    table = settings.state_table_name
    return Quieting(config, silences=DynamoSilenceStore(client, table), sources=DynamoInhibitionSources(client, table),
                    ledger=DynamoQuietLedger(client, table))  # fmt: skip


def _request_budget(settings: Settings) -> RequestBudget | None:
    if settings.request_budget_per_second is None:
        return None
    from incident_bridge.budget import RequestBudget

    return RequestBudget(settings.request_budget_per_second)


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


def _source_queue(settings: Settings) -> SourceQueue | None:
    if not settings.event_queue_url:
        return None
    from incident_bridge.adapters.dead_letters import SqsSourceQueue

    return SqsSourceQueue(None, settings.event_queue_url)


def _sqs_dead_letters(settings: Settings) -> DeadLetters:
    if not settings.dead_letter_queue_url:
        # Without a queue, a rejection is logged and kept in memory: say so at cold start, not at 3 a.m.
        logger.warning("DEAD_LETTER_QUEUE_URL is not set: rejected events are only logged")
        return MemoryDeadLetters()
    from incident_bridge.adapters.dead_letters import SqsDeadLetters

    return SqsDeadLetters(None, settings.dead_letter_queue_url)
