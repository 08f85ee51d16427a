"""Alarm storm simulation (`make storm`): bursts of ALARM events through the real handler path, against an
Incident Manager stand-in that throttles, on a virtual clock. A script, not a test: it prints figures and asserts
nothing; tests/unit/test_storm.py runs it at a reduced size and asserts the issue's ratios.

Scenarios. `make storm` runs SCENARIOS (1,000 alarms in 50 groups at 5 requests per second; 5,000 in 200 at 5;
5,000 in 200 at 1) and draws storm.png (tests/storm/picture.py); `--events/--groups/--rate` runs one storm. Each
prints the issue's five lines first, then the details:
    scenario: 5000 events, 200 groups, 5 req/s
    time to page: p50 A s, max B s, floor C s        time from the burst to each group's incident being open
    time to complete: D s, floor F s                 until every alarm's resource is in its incident
    lost: 0                                          events neither in an incident nor in the DLQ
    api calls per event: X                           attempts reaching Incident Manager, failed ones included
C is the batching window plus groups / rate. F is `floor_calls` / rate: a start per group carrying the resources of
its alarms in the first batch that holds one (up to 100), then one UpdateRelatedItems per alarm delivered later
(that API takes one item per call); timeline notes, status checks and retries are not counted.

Events. `--events` copies of events/eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json, each with its own `id`,
alarm name and ARN (resources[0]) and InstanceId dimension, and `detail.alarmTags.service = svc-NN` (`--groups`
values). The configuration's default route has `group_by: [tag:service]`, so each service is one group; all
other settings are the product defaults (`--incident-check-seconds` overrides one). All events are sent at
virtual time 0, in one burst: `shuffled` interleaves the groups (seeded), `clustered` sends each group's alarms
together.

What is modelled, all on one virtual clock (no real sleeping, no network; deterministic for a seed):
- Incident Manager: `ThrottlingIncidentManager`, implementing the `IncidentManager` port around the product's
  `DryRunIncidentManager` (every request validated against botocore's ssm-incidents model; client tokens
  deduplicate as the real API does). One token bucket for all operations at the scenario's rate with a burst of
  5; a request finding it empty is refused with ThrottlingException (HTTP 429) and uses no token. 1% of the
  accepted requests fail with InternalServerException (HTTP 500): half before taking effect, half after (the
  response is lost), so retries lean on client tokens. Refusals raise `TransientApiError`, which is what the
  boto3 adapter raises for 429/5xx once botocore has given up. Every attempt is logged (time, operation, result)
  for the figures and the picture; when each incident opened and each resource was attached is recorded.
  Each call takes 50 ms (25 ms each way); the group store (DynamoDB) takes 10 ms per read or write.
- botocore's retries inside one invocation (`SdkRetries`, one per Lambda container, as the client is):
  the attempts and the mode come from the product's `CLIENT_CONFIG` (adaptive; botocore reads `max_attempts` as
  retries, so 5 means 6 attempts in all). Standard mode: truncated exponential backoff with full jitter,
  rand(0, 1) * min(base * 2 ** (attempt - 1), 20 s), base 1 s for throttling and 50 ms for 5xx; the retry quota
  (botocore's own `RetryQuota`, 500 units, 5 per throttled retry, 14 per other retry, refunded on success).
  Adaptive mode: botocore's own `ClientRateLimiter`, `CubicCalculator`, `RateClocker` and `TokenBucket`, driven by
  the virtual clock; once throttled, the client waits for a token before each attempt.
- The request budget (incident_bridge/budget.py), as deployed (the bridge also asks it whether joins should be
  deferred and coalesced, see bridge.SHORT_BUDGET_SECONDS, and while deferring whether a status check fits the
  checks' share of it, budget.CHECK_SHARE): each container's `RequestBudget` at its fixed
  share, `infra.bridge_function.request_budget_share(rate)` = rate / the event source's maximum concurrency, the
  value the stack gives the function as REQUEST_BUDGET_PER_SECOND. Every attempt, botocore's retries included,
  takes a token first (the product registers it on botocore's `before-send`, after the adaptive limiter).
- SQS and Lambda's event source mapping, as deployed (read from infra/bridge_function.py and infra/ingest.py):
  as many pollers as the event source's maximum concurrency, capped by the function's reserved concurrency when
  that is set, each with its own container (`Runtime`, `Bridge`, client, budget). A poller takes up to BATCH_SIZE
  visible messages; with fewer visible it first waits out the batching window. Each batch goes through
  `Runtime.process_batch` with Lambda-shaped SQS records and the context's remaining time (the runtime stops
  starting groups when it runs low and returns those records). Messages not named in `batchItemFailures` are
  deleted. The named ones get the runtime's per-record backoff (`StormVisibility`: ChangeMessageVisibility on
  their receipt handle, 5 s doubling per receive, jittered, or longer when the outcome asks for it: a group's
  carrier of deferred joins, back when its container can get to it) and otherwise become visible again after the
  visibility timeout (6 x the function timeout). On its maxReceiveCount-th receive a record that fails again is
  dead-lettered by the runtime with its reason; one received more often moves to the DLQ by the redrive policy.
  An invocation running past the timeout is killed at its next call: the whole batch returns after the
  visibility timeout and the container starts afresh. The pollers share the Incident Manager stand-in, the group
  store and the dead-letter queue; their calls interleave at every Incident Manager and group store call, so
  group-record races are real.

What is not modelled: botocore's real timing and sockets (connect/read timeouts, `x-amz-retry-after`), CPU time
(the bridge's own work takes no virtual time), Lambda cold-start time and the event source mapping scaling its
pollers up and down, direct alarm-action invocations beside the pollers, SQS's approximate ordering and long-poll
sampling (messages come out in send order), EMF metrics and logs, and CloudWatch tag lookups (the events carry
their tags).

Accounting. An event counts as in an incident when a completed delivery's outcome names an incident ARN, or when
a group record written to the store lists it as processed (that covers work done by an invocation that later
timed out, which leaves no outcome). `lost` is the events in neither an incident nor the DLQ; `duplicated` the
events associated with two different incidents, by outcomes, group records or the stand-in's related items.
"""

from __future__ import annotations

import argparse
import copy
import heapq
import itertools
import json
import logging
import random
import re
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from hashlib import md5
from pathlib import Path
from typing import Any, TypeVar

from botocore.exceptions import CapacityNotAvailableError
from botocore.retries.adaptive import ClientRateLimiter, RateClocker
from botocore.retries.bucket import Clock, TokenBucket
from botocore.retries.quota import RetryQuota
from botocore.retries.throttling import CubicCalculator

from incident_bridge import runtime as runtime_module
from incident_bridge.adapters.dry_run import DryRunIncidentManager
from incident_bridge.adapters.incident_manager import CLIENT_CONFIG
from incident_bridge.adapters.memory_groups import MemoryGroupStore
from incident_bridge.aws import RELATED_ITEMS_MAX
from incident_bridge.bridge import Bridge, Routed, decide
from incident_bridge.budget import RequestBudget
from incident_bridge.config import BridgeConfig, parse_config
from incident_bridge.errors import Throttled, TransientApiError
from incident_bridge.groups import GroupRecord, WriteResult
from incident_bridge.incident import (
    IncidentStatusRequest,
    StartIncidentRequest,
    TimelineEventRequest,
    UpdateRelatedItemsRequest,
    build_start_incident,
)
from incident_bridge.outcome import Outcome, OutcomeKind
from incident_bridge.runtime import MemoryDeadLetters, Runtime
from infra import bridge_function as deployed
from infra.ingest import MAX_RECEIVE_COUNT as DEPLOYED_MAX_RECEIVE_COUNT

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_EVENT = ROOT / "events" / "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
PLAN_ARN = "arn:aws:ssm-incidents::123456789012:response-plan/MyPlan"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:incident-bridge-EventQueue"
#: Virtual time 0: just after the sample's state change (2019-10-02T17:04:40.989Z).
EPOCH = datetime(2019, 10, 2, 17, 4, 41, tzinfo=UTC)

# As deployed, read from the infrastructure's own modules: infra/bridge_function.py (batch size, batching window,
# the event source's maximum concurrency, reserved concurrency, timeout, the request budget's share) and
# infra/ingest.py (visibility timeout 6 x the timeout, maxReceiveCount).
BATCH_SIZE = deployed.BATCH_SIZE
BATCHING_WINDOW_SECONDS = float(deployed.BATCHING_WINDOW.to_seconds())
MAX_CONCURRENCY = deployed.MAX_CONCURRENCY
#: Reserved concurrency caps how many invocations run at once; the event source's pollers get at most that many.
RESERVED_CONCURRENCY: int | None = getattr(deployed, "RESERVED_CONCURRENCY", None)
POLLERS = min(MAX_CONCURRENCY, RESERVED_CONCURRENCY or MAX_CONCURRENCY)
FUNCTION_TIMEOUT_SECONDS = float(deployed.TIMEOUT.to_seconds())
VISIBILITY_TIMEOUT_SECONDS = 6 * FUNCTION_TIMEOUT_SECONDS
MAX_RECEIVE_COUNT = DEPLOYED_MAX_RECEIVE_COUNT
LONG_POLL_SECONDS = 20.0

# The stand-in Incident Manager.
SERVER_RATE = 5.0
SERVER_BURST = 5.0
SERVER_ERROR_RATE = 0.01
CALL_LATENCY_SECONDS = 0.05
STORE_LATENCY_SECONDS = 0.01

# botocore standard mode (botocore/retries/standard.py: ExponentialBackoff, RetryQuotaChecker).
MAX_BACKOFF_SECONDS = 20.0
THROTTLING_BASE_SECONDS = 1.0
OTHER_BASE_SECONDS = 0.05
THROTTLING_RETRY_COST = 5
OTHER_RETRY_COST = 14
NO_RETRY_INCREMENT = 1

_GROUP_KEY = re.compile(r"group \S+")
_ALARM_NAME = re.compile(r"[A-Za-z]+-[0-9]{4,}")

OPERATIONS = ("StartIncident", "GetIncidentRecord", "UpdateRelatedItems", "CreateTimelineEvent", "UpdateIncidentRecord")


class Order(StrEnum):
    SHUFFLED = "shuffled"
    CLUSTERED = "clustered"


ORDER_TEXT = {
    Order.SHUFFLED: "shuffled (one burst, the groups' alarms interleaved at random)",
    Order.CLUSTERED: "clustered (one burst, each group's alarms sent together)",
}


# ---------------------------------------------------------------- virtual time


class InvocationTimedOut(BaseException):
    """Lambda killing an invocation at its timeout. A BaseException, so no product `except` can absorb it."""


@dataclass
class _Process:
    name: str
    wakeup: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    deadline: float | None = None
    error: BaseException | None = None


class Scheduler:
    """Discrete-event time: each simulated process is a thread, and exactly one runs at a time.

    A process gives way only by sleeping (`sleep`), and the one with the earliest wake-up time runs next (ties in
    the order they went to sleep), so a run is deterministic however the OS schedules threads.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self._ready: list[tuple[float, int, _Process]] = []
        self._sequence = itertools.count()
        self._current: _Process | None = None
        self._back = threading.Semaphore(0)

    def spawn(self, name: str, body: Callable[[], None]) -> None:
        process = _Process(name)
        threading.Thread(target=self._main, args=(process, body), name=name, daemon=True).start()
        heapq.heappush(self._ready, (self.now, next(self._sequence), process))

    def run(self) -> None:
        while self._ready:
            when, _, process = heapq.heappop(self._ready)
            self.now = max(self.now, when)
            self._current = process
            process.wakeup.release()
            self._back.acquire()
            if process.error is not None:
                raise RuntimeError(f"simulated process {process.name} crashed") from process.error

    def sleep(self, seconds: float) -> None:
        process = self._running()
        wake = self.now + max(seconds, 0.0)
        timed_out = process.deadline is not None and wake > process.deadline
        if timed_out and process.deadline is not None:
            wake = process.deadline
        heapq.heappush(self._ready, (wake, next(self._sequence), process))
        self._back.release()
        process.wakeup.acquire()
        if timed_out:
            process.deadline = None
            raise InvocationTimedOut(f"{process.name}: invocation passed its {FUNCTION_TIMEOUT_SECONDS:.0f} s timeout")

    @contextmanager
    def deadline(self, at: float) -> Iterator[None]:
        process = self._running()
        process.deadline = at
        try:
            yield
        finally:
            process.deadline = None

    def datetime(self) -> datetime:
        return EPOCH + timedelta(seconds=self.now)

    def _running(self) -> _Process:
        if self._current is None:
            raise RuntimeError("no simulated process is running")
        return self._current

    def _main(self, process: _Process, body: Callable[[], None]) -> None:
        process.wakeup.acquire()
        try:
            body()
        except BaseException as error:
            process.error = error
        finally:
            self._back.release()


class VirtualClock(Clock):
    """botocore's clock interface on the scheduler's time, for its rate limiter and token bucket."""

    def __init__(self, scheduler: Scheduler) -> None:
        super().__init__()
        self._scheduler = scheduler

    def sleep(self, amount: float) -> None:
        self._scheduler.sleep(amount)

    def current_time(self) -> float:
        return self._scheduler.now


class VirtualTokenBucket(TokenBucket):
    """botocore's TokenBucket, whose blocking acquire waits on a threading.Condition in real time; this one
    waits the same amount on the virtual clock."""

    def __init__(self, max_rate: float, clock: VirtualClock) -> None:
        super().__init__(max_rate, clock)
        self._virtual_clock = clock
        self.waits = 0
        self.waited_seconds = 0.0

    def acquire(self, amount: int = 1, block: bool = True) -> bool:
        while True:
            try:
                return super().acquire(amount, block=False)
            except CapacityNotAvailableError:
                if not block:
                    raise
            # At least a microsecond: a shortfall of 1e-16 tokens would otherwise vanish when added to `now`.
            pause = max((amount - self.available_capacity) / self.max_rate, 1e-6)
            self.waits += 1
            self.waited_seconds += pause
            self._virtual_clock.sleep(pause)


# ---------------------------------------------------------------- Incident Manager stand-in


class ServiceError(TransientApiError):
    """A 429 or 5xx from the stand-in, carrying its code as botocore's retry handler sees it."""

    def __init__(self, operation: str, code: str, status: int, message: str) -> None:
        super().__init__(f"{operation}: {code}: {message}")
        self.code = code
        self.status = status

    @property
    def throttling(self) -> bool:
        return self.status == 429


class ThrottledServiceError(ServiceError, Throttled):
    """A 429: what the boto3 adapter raises as Throttled once botocore has given up."""


@dataclass
class ServerCounts:
    attempts: Counter[str] = field(default_factory=Counter)
    successes: Counter[str] = field(default_factory=Counter)
    throttled: Counter[str] = field(default_factory=Counter)
    server_errors: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)


class ThrottlingIncidentManager:
    """Incident Manager as a storm meets it: the dry-run service behind a 5 rps token bucket, with 1% 5xx."""

    def __init__(
        self,
        scheduler: Scheduler,
        rng: random.Random,
        *,
        rate: float = SERVER_RATE,
        burst: float = SERVER_BURST,
        error_rate: float = SERVER_ERROR_RATE,
        latency: float = CALL_LATENCY_SECONDS,
    ) -> None:
        self.service = DryRunIncidentManager()
        self.counts = ServerCounts()
        self._scheduler = scheduler
        self._rng = rng
        self._rate = rate
        self._burst = burst
        self._error_rate = error_rate
        self._latency = latency
        self._tokens = burst
        self._refilled_at = 0.0
        #: incident ARN -> when StartIncident created it (the page goes out then, even if the response is lost)
        self.opened_at: dict[str, float] = {}
        #: related item ARN -> when it was first attached to an incident
        self.item_added_at: dict[str, float] = {}
        #: every attempt reaching the service: (virtual time, operation, how it ended: ok / throttled / 5xx / invalid)
        self.requests: list[tuple[float, str, str]] = []

    def start_incident(self, request: StartIncidentRequest) -> str:
        def effect() -> str:
            arn = self.service.start_incident(request)
            self.opened_at.setdefault(arn, self._scheduler.now)
            self._items_added(item.arn for item in request.related_items)
            return arn

        return self._call("StartIncident", effect)

    def update_related_items(self, request: UpdateRelatedItemsRequest) -> None:
        def effect() -> None:
            self.service.update_related_items(request)
            self._items_added([request.item.arn])

        self._call(request.operation, effect)

    def _items_added(self, arns: Iterable[str | None]) -> None:
        for arn in arns:
            if arn is not None:
                self.item_added_at.setdefault(arn, self._scheduler.now)

    def create_timeline_event(self, request: TimelineEventRequest) -> None:
        self._call(request.operation, lambda: self.service.create_timeline_event(request))

    def update_incident_status(self, request: IncidentStatusRequest) -> None:
        self._call(request.operation, lambda: self.service.update_incident_status(request))

    def incident_status(self, incident_arn: str) -> str | None:
        return self._call("GetIncidentRecord", lambda: self.service.incident_status(incident_arn))

    def _call(self, operation: str, effect: Callable[[], T]) -> T:
        self.counts.attempts[operation] += 1
        self._scheduler.sleep(self._latency / 2)  # the request travels; meanwhile others may reach the service
        arrived = self._scheduler.now
        if not self._take_token():
            self.counts.throttled[operation] += 1
            self.requests.append((arrived, operation, "throttled"))
            self._scheduler.sleep(self._latency / 2)
            raise ThrottledServiceError(operation, "ThrottlingException", 429, "Rate exceeded")
        fails = self._rng.random() < self._error_rate
        if fails and self._rng.random() < 0.5:
            self.requests.append((arrived, operation, "5xx"))
            self._scheduler.sleep(self._latency / 2)
            raise self._server_error(operation)  # before taking effect
        try:
            result = effect()
        except Exception:
            self.counts.rejected[operation] += 1  # e.g. ValidationException from the model check
            self.requests.append((arrived, operation, "invalid"))
            raise
        self.requests.append((arrived, operation, "5xx" if fails else "ok"))
        self._scheduler.sleep(self._latency / 2)
        if fails:
            raise self._server_error(operation)  # after taking effect: the response is lost
        self.counts.successes[operation] += 1
        return result

    def _server_error(self, operation: str) -> ServiceError:
        self.counts.server_errors[operation] += 1
        return ServiceError(operation, "InternalServerException", 500, "Internal server error")

    def _take_token(self) -> bool:
        now = self._scheduler.now
        self._tokens = min(self._burst, self._tokens + (now - self._refilled_at) * self._rate)
        self._refilled_at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


# ---------------------------------------------------------------- botocore's retries, on the virtual clock


class _ThrottlingDetector:
    """What ClientRateLimiter asks of botocore's ThrottlingErrorDetector, answered from the simulated response."""

    def is_throttling_error(self, **kwargs: Any) -> bool:
        return bool(kwargs.get("throttled"))


@dataclass
class ClientCounts:
    retries: int = 0
    gave_up: int = 0
    quota_exhausted: int = 0
    rate_limiter_waits: int = 0
    rate_limiter_wait_seconds: float = 0.0


class SdkRetries:
    """botocore's adaptive retry mode for one client (one Lambda container), wrapped around the stand-in."""

    def __init__(
        self,
        service: ThrottlingIncidentManager,
        scheduler: Scheduler,
        rng: random.Random,
        counts: ClientCounts,
        budget: RequestBudget | None = None,
    ) -> None:
        # The product's client config (adapters/incident_manager.py); botocore's stubs do not declare its attributes.
        retries: Mapping[str, Any] = getattr(CLIENT_CONFIG, "retries", None) or {}
        # botocore reads the config's `max_attempts` as retries after the first attempt (botocore/args.py,
        # _compute_retry_max_attempts: total_max_attempts = max_attempts + 1); standard mode's default is 3 in all.
        total = retries.get("total_max_attempts")
        self._max_attempts = int(total) if total is not None else int(retries.get("max_attempts", 2)) + 1
        self._adaptive = retries.get("mode") == "adaptive"
        self._service = service
        self._scheduler = scheduler
        self._rng = rng
        self._counts = counts
        self._budget = budget
        self._quota = RetryQuota()
        clock = VirtualClock(scheduler)
        self._bucket = VirtualTokenBucket(1, clock)
        # As botocore.retries.adaptive.register_retry_handler builds it.
        self._limiter = ClientRateLimiter(
            rate_adjustor=CubicCalculator(starting_max_rate=0, start_time=clock.current_time()),
            rate_clocker=RateClocker(clock),
            token_bucket=self._bucket,
            throttling_detector=_ThrottlingDetector(),
            clock=clock,
        )

    def start_incident(self, request: StartIncidentRequest) -> str:
        return self._call(lambda: self._service.start_incident(request))

    def update_related_items(self, request: UpdateRelatedItemsRequest) -> None:
        self._call(lambda: self._service.update_related_items(request))

    def create_timeline_event(self, request: TimelineEventRequest) -> None:
        self._call(lambda: self._service.create_timeline_event(request))

    def update_incident_status(self, request: IncidentStatusRequest) -> None:
        self._call(lambda: self._service.update_incident_status(request))

    def incident_status(self, incident_arn: str) -> str | None:
        return self._call(lambda: self._service.incident_status(incident_arn))

    def _call(self, send: Callable[[], T]) -> T:
        acquired: int | None = None
        for attempt in itertools.count(1):
            if self._adaptive:
                waits, waited = self._bucket.waits, self._bucket.waited_seconds
                self._limiter.on_sending_request(request=None)  # waits for a token once throttling was seen
                self._counts.rate_limiter_waits += self._bucket.waits - waits
                self._counts.rate_limiter_wait_seconds += self._bucket.waited_seconds - waited
            if self._budget is not None:
                # Registered on botocore's before-send after the adaptive limiter: every attempt takes a token.
                self._budget.before_send()
            try:
                result = send()
            except ServiceError as error:
                if self._adaptive:
                    self._limiter.on_receiving_response(throttled=error.throttling)
                if attempt >= self._max_attempts:
                    self._counts.gave_up += 1
                    raise
                cost = THROTTLING_RETRY_COST if error.throttling else OTHER_RETRY_COST
                if not self._quota.acquire(cost):
                    self._counts.quota_exhausted += 1
                    self._counts.gave_up += 1
                    raise
                acquired = cost
                self._counts.retries += 1
                base = THROTTLING_BASE_SECONDS if error.throttling else OTHER_BASE_SECONDS
                self._scheduler.sleep(self._rng.random() * min(base * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS))
                continue
            if self._adaptive:
                self._limiter.on_receiving_response(throttled=False)
            self._quota.release(acquired if acquired is not None else NO_RETRY_INCREMENT)
            return result
        raise AssertionError("unreachable")


# ---------------------------------------------------------------- group store and queue


class SlowGroupStore:
    """The shared group store with DynamoDB's round trip, which is where two invocations can interleave. It also
    remembers every event id a written record listed as processed, with that record's incident."""

    def __init__(self, scheduler: Scheduler, latency: float = STORE_LATENCY_SECONDS) -> None:
        self.store = MemoryGroupStore()
        self.processed_into: dict[str, set[str]] = {}
        self.conflicts = 0
        self._scheduler = scheduler
        self._latency = latency

    def load(self, group_key: str) -> GroupRecord | None:
        self._scheduler.sleep(self._latency)
        return self.store.load(group_key)

    def put(self, record: GroupRecord, *, expected_version: int | None) -> WriteResult:
        self._scheduler.sleep(self._latency)
        written = self.store.put(record, expected_version=expected_version)
        if not written:
            self.conflicts += 1
        elif record.incident_arn is not None:
            for event_id in record.processed_events:
                self.processed_into.setdefault(event_id, set()).add(record.incident_arn)
        return written


@dataclass
class Message:
    message_id: str
    event_id: str
    alarm_name: str
    body: str
    receive_count: int = 0
    visible_at: float = 0.0
    first_received_at: float | None = None
    #: The runtime set this receive's retry delay (ChangeMessageVisibility); otherwise it waits the full timeout.
    backoff_set: bool = False


@dataclass
class StormQueue:
    """One SQS standard queue with its redrive policy: visibility timeout, receive counts, a DLQ."""

    messages: dict[str, Message] = field(default_factory=dict)
    moved_to_dlq: list[Message] = field(default_factory=list)
    redeliveries: int = 0
    #: Messages received again only after waiting out the whole visibility timeout (no per-record backoff).
    waited_visibility_timeout: int = 0
    #: The first message of each body (a requeued copy carries the original's event).
    by_body: dict[str, Message] = field(default_factory=dict)

    def send(self, message: Message) -> None:
        self.messages[message.message_id] = message
        self.by_body.setdefault(message.body, message)

    def __bool__(self) -> bool:
        return bool(self.messages)

    def visible(self, now: float) -> int:
        return sum(1 for message in self.messages.values() if message.visible_at <= now)

    def next_visible_in(self, now: float) -> float:
        return min((message.visible_at for message in self.messages.values()), default=now) - now

    def receive(self, now: float, limit: int) -> list[Message]:
        batch: list[Message] = []
        for message in list(self.messages.values()):
            if len(batch) == limit:
                break
            if message.visible_at > now:
                continue
            if message.receive_count >= MAX_RECEIVE_COUNT:
                # The redrive policy: past maxReceiveCount, SQS moves the message instead of delivering it.
                del self.messages[message.message_id]
                self.moved_to_dlq.append(message)
                continue
            self.waited_visibility_timeout += message.receive_count > 0 and not message.backoff_set
            message.backoff_set = False
            message.receive_count += 1
            self.redeliveries += message.receive_count > 1
            message.first_received_at = message.first_received_at if message.first_received_at is not None else now
            message.visible_at = now + VISIBILITY_TIMEOUT_SECONDS
            batch.append(message)
        return batch

    def delete(self, message: Message) -> None:
        self.messages.pop(message.message_id, None)


@dataclass
class StormVisibility:
    """The runtime's source queue: ChangeMessageVisibility for its per-record backoff, and SendMessage of a record
    not started (a new message whose receive count starts from zero)."""

    queue: StormQueue
    scheduler: Scheduler
    changes: int = 0
    requeued: int = 0

    def requeue(self, body: str, delay_seconds: int) -> None:
        original = self.queue.by_body[body]
        self.requeued += 1
        copy_ = Message(f"{original.message_id}/requeued-{self.requeued}", original.event_id, original.alarm_name,
                        body, visible_at=self.scheduler.now + delay_seconds)  # fmt: skip
        self.queue.send(copy_)

    def retry_after(self, receipt_handle: str, seconds: int) -> None:
        message_id, _, receive = receipt_handle.rpartition("#")
        message = self.queue.messages.get(message_id)
        if message is None or str(message.receive_count) != receive:
            raise RuntimeError(f"stale receipt handle {receipt_handle}")  # SQS: ReceiptHandleIsInvalid
        message.visible_at = self.scheduler.now + seconds
        message.backoff_set = True
        self.changes += 1


def sqs_record(message: Message) -> dict[str, Any]:
    """Shaped like a record of Lambda's SQS event."""
    sent = int(EPOCH.timestamp() * 1000)
    first = int((EPOCH + timedelta(seconds=message.first_received_at or 0.0)).timestamp() * 1000)
    return {
        "messageId": message.message_id,
        "receiptHandle": f"{message.message_id}#{message.receive_count}",
        "body": message.body,
        "attributes": {
            "ApproximateReceiveCount": str(message.receive_count),
            "SentTimestamp": str(sent),
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": str(first),
        },
        "messageAttributes": {},
        "md5OfBody": md5(message.body.encode("utf-8"), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1",
    }


# ---------------------------------------------------------------- events


def storm_config(incident_check_seconds: int = 0) -> BridgeConfig:
    document = {
        "default": {"response_plan_arn": PLAN_ARN, "group_by": ["tag:service"]},
        "incident_check_seconds": incident_check_seconds,
    }
    return parse_config(document, origin="storm simulation")


def storm_events(count: int, groups: int, seed: int, order: Order) -> list[dict[str, Any]]:
    """Copies of the sample alarm, each its own alarm on its own instance, tagged with one of `groups` services."""
    sample: dict[str, Any] = json.loads(SAMPLE_EVENT.read_text(encoding="utf-8"))
    rng = random.Random(f"events-{seed}")
    events: list[dict[str, Any]] = []
    width = max(2, len(str(groups - 1)))
    for index in range(count):
        event = copy.deepcopy(sample)
        name = f"{sample['detail']['alarmName']}-{index:04d}"
        event["id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        event["resources"] = [sample["resources"][0].rsplit(":", 1)[0] + f":{name}"]
        detail = event["detail"]
        detail["alarmName"] = name
        detail["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"]["InstanceId"] = f"i-{index:017x}"
        detail["alarmTags"] = {"service": f"svc-{index % groups:0{width}d}"}
        events.append(event)
    if order is Order.SHUFFLED:
        rng.shuffle(events)
    else:
        events.sort(key=lambda event: str(event["detail"]["alarmTags"]["service"]))
    return events


# ---------------------------------------------------------------- the run


@dataclass(frozen=True)
class Scenario:
    """One storm: how many alarms, in how many groups, against which request rate."""

    events: int
    groups: int
    rate: float

    @property
    def title(self) -> str:
        return f"scenario: {self.events} events, {self.groups} groups, {self.rate:g} req/s"


#: What `make storm` runs (the issue's scenarios): a mid-size storm, a large one, and the large one at 1 req/s.
SCENARIOS = (Scenario(1000, 50, 5.0), Scenario(5000, 200, 5.0), Scenario(5000, 200, 1.0))


@dataclass(frozen=True)
class StormFigures:
    events: int
    groups: int
    order: Order
    seed: int
    rate: float
    incidents_started: int
    start_incident_successes: int
    related_item_updates: int
    timeline_events: int
    dlq_max_receive: int
    dlq_rejected: int
    dlq_reasons: tuple[str, ...]
    lost: int
    duplicated: int
    in_incident_and_dlq: int
    missing_from_stand_in: int
    #: Alarms named in more than one timeline note (a redelivered alarm noted again in a new chunk).
    noted_twice: int
    attempts: Mapping[str, int]
    throttled: int
    server_errors: int
    rejected_calls: int
    sdk_retries: int
    sdk_gave_up: int
    quota_exhausted: int
    rate_limiter_waits: int
    rate_limiter_wait_seconds: float
    budget_waits: int
    budget_wait_seconds: float
    store_conflicts: int
    redeliveries: int
    visibility_changes: int
    waited_visibility_timeout: int
    #: Why messages were named for redelivery (batchItemFailures) or came back after a timeout, with counts.
    redelivery_reasons: tuple[tuple[str, int], ...]
    invocations: int
    timeouts: int
    longest_invocation_seconds: float
    simulated_seconds: float
    wall_seconds: float
    #: Seconds from the burst to each group's incident being open (groups never opened are left out: see `lost`).
    page_seconds: tuple[float, ...]
    #: Seconds from the burst until the last alarm's resource was in its incident (None: one never was).
    complete_seconds: float | None
    #: The fewest Incident Manager calls the scenario needs (see `floor_calls`).
    floor_calls: int
    #: Every attempt that reached the stand-in: (virtual time, operation, ok / throttled / 5xx / invalid).
    requests: tuple[tuple[float, str, str], ...]
    pollers: int
    budget_per_poller: float

    @property
    def scenario(self) -> Scenario:
        return Scenario(self.events, self.groups, self.rate)

    @property
    def updates(self) -> int:
        return self.related_item_updates + self.timeline_events

    @property
    def dlq(self) -> int:
        return self.dlq_max_receive + self.dlq_rejected

    @property
    def api_calls(self) -> int:
        return sum(self.attempts.values())

    @property
    def api_calls_per_event(self) -> float:
        return self.api_calls / self.events if self.events else 0.0

    @property
    def page_p50(self) -> float:
        return _percentile(self.page_seconds, 0.5)

    @property
    def page_max(self) -> float:
        return max(self.page_seconds, default=float("inf"))

    @property
    def page_floor(self) -> float:
        """The batching window, then every group's StartIncident at the rate."""
        return BATCHING_WINDOW_SECONDS + self.groups / self.rate

    @property
    def complete_floor(self) -> float:
        return self.floor_calls / self.rate


def _percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (the value at rank ceil(share x n))."""
    if not values:
        return float("inf")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, -(-int(share * len(ordered) * 1000) // 1000) - 1))]


def floor_calls(sent: Sequence[Mapping[str, Any]], config: BridgeConfig) -> int:
    """The fewest Incident Manager calls the storm needs, counted from what each alarm must add to its incident.

    Messages are delivered in send order, BATCH_SIZE at a time. A group's incident can start no earlier than the
    first batch holding one of its alarms; its StartIncident carries the first alarm's items and, up to
    RELATED_ITEMS_MAX, what the batch's other alarms of the group add. Every alarm delivered later must add its own
    resource with one UpdateRelatedItems (the API takes one item per call). Timeline notes, status checks and
    retries are not counted: they are the bridge's choice or the storm's cost, not the scenario's need."""
    calls = 0
    first_batch: dict[str, int] = {}
    items_in_start: Counter[str] = Counter()
    for index, event in enumerate(sent):
        group = str(event["detail"]["alarmTags"]["service"])
        batch = index // BATCH_SIZE
        if group not in first_batch:
            first_batch[group] = batch
            routed = decide(event, config)
            if not isinstance(routed, Routed):
                raise RuntimeError(f"storm event not routed: {routed.reason}")
            items_in_start[group] = len(build_start_incident(routed.signal, routed.routing.decisions[0]).related_items)
            calls += 1
        elif first_batch[group] == batch and items_in_start[group] < RELATED_ITEMS_MAX:
            items_in_start[group] += 1  # its resource rides in the start request
        else:
            calls += 1
    return calls


@dataclass
class _Ledger:
    """What each delivery did, by event id."""

    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)
    redelivery_reasons: Counter[str] = field(default_factory=Counter)
    invocations: int = 0
    timeouts: int = 0
    longest: float = 0.0


def run_storm(
    events: int = 1000,
    groups: int = 50,
    seed: int = 7,
    order: Order = Order.SHUFFLED,
    incident_check_seconds: int = 0,
    rate: float = SERVER_RATE,
) -> StormFigures:
    started = time.perf_counter()
    rng = random.Random(seed)
    scheduler = Scheduler()
    config = storm_config(incident_check_seconds)
    service = ThrottlingIncidentManager(
        scheduler, random.Random(rng.getrandbits(64)), rate=rate, burst=SERVER_BURST,
        error_rate=SERVER_ERROR_RATE, latency=CALL_LATENCY_SECONDS,
    )  # fmt: skip
    store = SlowGroupStore(scheduler)
    dead_letters = MemoryDeadLetters()
    client_counts = ClientCounts()
    queue = StormQueue()
    visibility = StormVisibility(queue, scheduler)
    ledger = _Ledger()
    sent = storm_events(events, groups, seed, order)
    for event in sent:
        message_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        body = json.dumps(event)
        queue.send(Message(message_id, str(event["id"]), str(event["detail"]["alarmName"]), body))
    by_message = {message.message_id: message for message in queue.messages.values()}
    # Each container's fixed share of the rate, as the stack computes it for the deployed function.
    share = deployed.request_budget_share(rate)
    budgets: list[RequestBudget] = []
    jitter = random.Random(rng.getrandbits(64))

    def container() -> Runtime:
        budget = RequestBudget(share, clock=lambda: scheduler.now, sleep=scheduler.sleep)
        budgets.append(budget)
        client = SdkRetries(service, scheduler, random.Random(rng.getrandbits(64)), client_counts, budget)
        bridge = Bridge(config, client, store, clock=scheduler.datetime, budget=budget)
        return Runtime(
            bridge, dead_letters, emit_metrics=False, source_queue=visibility, max_receive_count=MAX_RECEIVE_COUNT,
            jitter=lambda: jitter.uniform(0.5, 1.0),
        )  # fmt: skip

    def poller() -> None:
        runtime = container()
        while queue:
            if queue.visible(scheduler.now) == 0:
                scheduler.sleep(min(LONG_POLL_SECONDS, max(queue.next_visible_in(scheduler.now), 0.001)))
                continue
            if queue.visible(scheduler.now) < BATCH_SIZE:
                scheduler.sleep(BATCHING_WINDOW_SECONDS)  # gathers until the batch is full or the window ends
            batch = queue.receive(scheduler.now, BATCH_SIZE)
            if batch and not invoke(runtime, batch):
                runtime = container()  # after a timeout Lambda starts a fresh execution environment

    def invoke(runtime: Runtime, batch: Sequence[Message]) -> bool:
        ledger.invocations += 1
        began = scheduler.now
        deadline = began + FUNCTION_TIMEOUT_SECONDS
        runtime.outcomes.clear()
        try:
            with scheduler.deadline(deadline):
                response = runtime.process_batch(
                    [sqs_record(message) for message in batch],
                    remaining_millis=lambda: int((deadline - scheduler.now) * 1000),  # the Lambda context's
                )
        except InvocationTimedOut:
            ledger.timeouts += 1
            ledger.redelivery_reasons["invocation timed out"] += len(batch)
            ledger.longest = max(ledger.longest, scheduler.now - began)
            return False  # nothing is deleted: the whole batch comes back after the visibility timeout
        ledger.longest = max(ledger.longest, scheduler.now - began)
        failed = {str(item["itemIdentifier"]) for item in response["batchItemFailures"]}
        assert runtime.last_batch is not None
        requeued = {key for key in runtime.last_batch if runtime.last_batch[key].kind is OutcomeKind.REQUEUED}
        processed = [message for message in batch if message.message_id not in failed | requeued]
        for message in batch:
            if message.message_id in requeued:
                queue.delete(message)  # deleted by the event source mapping; its copy waits in the queue
        for message_id in failed:
            ledger.redelivery_reasons[_GROUP_KEY.sub("group <key>", runtime.failures.get(message_id, "?"))] += 1
        outcomes = list(runtime.outcomes)
        if len(outcomes) != len(processed):
            raise RuntimeError(f"{len(processed)} messages processed but {len(outcomes)} outcomes recorded")
        for message, outcome in zip(processed, outcomes, strict=True):
            if outcome.alarm_name not in (None, message.alarm_name):
                raise RuntimeError(f"outcome for {outcome.alarm_name} recorded against {message.alarm_name}")
            ledger.outcomes.setdefault(message.event_id, []).append(outcome)
            queue.delete(message)
        return True

    pollers = POLLERS
    for index in range(pollers):
        scheduler.spawn(f"poller-{index + 1}", poller)
    with _quiet_runtime_logs():
        scheduler.run()

    # ---- accounting ----
    incidents_by_event: dict[str, set[str]] = {}
    for event_id, outcomes in ledger.outcomes.items():
        for outcome in outcomes:
            if outcome.incident_arn is not None:
                incidents_by_event.setdefault(event_id, set()).add(outcome.incident_arn)
    for event_id, arns in store.processed_into.items():
        incidents_by_event.setdefault(event_id, set()).update(arns)
    instance_arn = {str(event["id"]): _instance_arn(event) for event in sent}
    event_by_instance_arn = {arn: event_id for event_id, arn in instance_arn.items()}
    group_of_event = {str(event["id"]): str(event["detail"]["alarmTags"]["service"]) for event in sent}
    stand_in_by_event: dict[str, set[str]] = {}
    for arn, incident in service.service.incidents.items():
        for item in incident.related_items:
            owner = event_by_instance_arn.get(str(item["identifier"]["value"].get("arn", "")))
            if owner is not None:
                stand_in_by_event.setdefault(owner, set()).add(arn)
    names = {str(event["detail"]["alarmName"]) for event in sent}
    noted: Counter[str] = Counter()
    for incident in service.service.incidents.values():
        for text in incident.timeline:
            noted.update(name for name in _ALARM_NAME.findall(text) if name in names)
    redriven = {message.event_id for message in queue.moved_to_dlq}
    rejected = {
        by_message.get(entry["source_message_id"], queue.by_body[entry["body"]]).event_id
        for entry in dead_letters.messages
    }
    in_dlq = redriven | rejected
    all_ids = [str(event["id"]) for event in sent]
    lost = [event_id for event_id in all_ids if not incidents_by_event.get(event_id) and event_id not in in_dlq]
    duplicated = [
        event_id
        for event_id in all_ids
        if len(incidents_by_event.get(event_id, set()) | stand_in_by_event.get(event_id, set())) > 1
    ]
    # Time to page: a group's incident is open when StartIncident created it (whichever alarm's resource it holds).
    paged: dict[str, float] = {}
    for event_id, arns in stand_in_by_event.items():
        for arn in arns:
            group = group_of_event[event_id]
            paged[group] = min(paged.get(group, float("inf")), service.opened_at[arn])
    reflected = [service.item_added_at.get(instance_arn[event_id]) for event_id in all_ids]
    complete = None if any(when is None for when in reflected) else max(when or 0.0 for when in reflected)
    counts = service.counts
    reasons = [f"maxReceiveCount ({message.alarm_name})" for message in queue.moved_to_dlq]
    reasons += [f"{entry['error_class']}: {entry['reason']}" for entry in dead_letters.messages]
    return StormFigures(
        events=events,
        groups=groups,
        order=order,
        seed=seed,
        rate=rate,
        incidents_started=len(service.service.incidents),
        start_incident_successes=counts.successes["StartIncident"],
        related_item_updates=counts.successes["UpdateRelatedItems"],
        timeline_events=counts.successes["CreateTimelineEvent"],
        dlq_max_receive=len(queue.moved_to_dlq),
        dlq_rejected=len(dead_letters.messages),
        dlq_reasons=tuple(reasons),
        lost=len(lost),
        duplicated=len(duplicated),
        in_incident_and_dlq=sum(1 for event_id in in_dlq if incidents_by_event.get(event_id)),
        missing_from_stand_in=sum(1 for event_id in incidents_by_event if event_id not in stand_in_by_event),
        noted_twice=sum(1 for count in noted.values() if count > 1),
        attempts={operation: counts.attempts[operation] for operation in OPERATIONS},
        throttled=sum(counts.throttled.values()),
        server_errors=sum(counts.server_errors.values()),
        rejected_calls=sum(counts.rejected.values()),
        sdk_retries=client_counts.retries,
        sdk_gave_up=client_counts.gave_up,
        quota_exhausted=client_counts.quota_exhausted,
        rate_limiter_waits=client_counts.rate_limiter_waits,
        rate_limiter_wait_seconds=client_counts.rate_limiter_wait_seconds,
        budget_waits=sum(budget.waits for budget in budgets),
        budget_wait_seconds=sum(budget.waited_seconds for budget in budgets),
        store_conflicts=store.conflicts,
        redeliveries=queue.redeliveries,
        visibility_changes=visibility.changes,
        waited_visibility_timeout=queue.waited_visibility_timeout,
        redelivery_reasons=tuple(ledger.redelivery_reasons.most_common()),
        invocations=ledger.invocations,
        timeouts=ledger.timeouts,
        longest_invocation_seconds=ledger.longest,
        simulated_seconds=scheduler.now,
        wall_seconds=time.perf_counter() - started,
        page_seconds=tuple(sorted(paged.values())),
        complete_seconds=complete,
        floor_calls=floor_calls(sent, config),
        requests=tuple(service.requests),
        pollers=pollers,
        budget_per_poller=share,
    )


def _instance_arn(event: Mapping[str, Any]) -> str:
    instance = event["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"]["InstanceId"]
    return f"arn:aws:ec2:us-east-1:123456789012:instance/{instance}"


@contextmanager
def _quiet_runtime_logs() -> Iterator[None]:
    """The runtime logs a warning per redelivered record; with no handler configured they would flood stderr."""
    logger = logging.getLogger(runtime_module.logger.name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


# ---------------------------------------------------------------- report


def headline(figures: StormFigures) -> list[str]:
    """The issue's five lines, in its order and wording."""
    complete = "never" if figures.complete_seconds is None else f"{figures.complete_seconds:.1f} s"
    return [
        figures.scenario.title,
        f"time to page: p50 {figures.page_p50:.1f} s, max {figures.page_max:.1f} s, floor {figures.page_floor:.1f} s",
        f"time to complete: {complete}, floor {figures.complete_floor:.1f} s",
        f"lost: {figures.lost}",
        f"api calls per event: {figures.api_calls_per_event:.2f}",
    ]


def report(figures: StormFigures) -> list[str]:
    attempts = ", ".join(f"{operation} {count}" for operation, count in figures.attempts.items())
    lines = [
        *headline(figures),
        f"  order: {ORDER_TEXT[figures.order]}; seed {figures.seed}",
        f"  pollers: {figures.pollers}, each with a request budget of {figures.budget_per_poller:g} req/s "
        f"(waits: {figures.budget_waits}, {figures.budget_wait_seconds:.1f} s in all)",
        f"  floor calls: {figures.floor_calls} (a start per group, carrying its first batch's resources, then one "
        "call per later alarm's resource)",
        f"  incidents started: {figures.incidents_started} (StartIncident successes: "
        f"{figures.start_incident_successes})",
        f"  updates: {figures.updates} (UpdateRelatedItems {figures.related_item_updates} + CreateTimelineEvent "
        f"{figures.timeline_events} successes)",
        f"  dlq: {figures.dlq} (moved by maxReceiveCount without a reason: {figures.dlq_max_receive}, dead-lettered "
        f"by the bridge with ErrorClass/ErrorReason: {figures.dlq_rejected})",
    ]
    lines += [f"    dlq reason: {reason}" for reason in figures.dlq_reasons[:10]]
    if len(figures.dlq_reasons) > 10:
        lines.append(f"    ... and {len(figures.dlq_reasons) - 10} more")
    lines += [
        f"  duplicated: {figures.duplicated} (events associated with two different incidents)",
        f"  in an incident and in the DLQ: {figures.in_incident_and_dlq}",
        f"  processed but missing from the stand-in's incident: {figures.missing_from_stand_in}",
        f"  alarms named in two timeline notes: {figures.noted_twice}",
        f"  api calls: {figures.api_calls} attempts, throttled and failed ones included: {attempts}",
        f"  throttled: {figures.throttled} (ThrottlingException, HTTP 429); 5xx: {figures.server_errors}; refused as "
        f"invalid: {figures.rejected_calls}",
        f"  sdk retries: {figures.sdk_retries} (calls failed after every attempt or with the retry quota empty: "
        f"{figures.sdk_gave_up}; of them with the quota empty: {figures.quota_exhausted}); adaptive rate limiter "
        f"waits: {figures.rate_limiter_waits} ({figures.rate_limiter_wait_seconds:.1f} s)",
        f"  group record write conflicts: {figures.store_conflicts}",
        f"  redeliveries: {figures.redeliveries} (per-record backoffs set: {figures.visibility_changes}; received "
        f"again only after the whole {VISIBILITY_TIMEOUT_SECONDS:.0f} s visibility timeout: "
        f"{figures.waited_visibility_timeout})",
        *(f"    failed {count}x: {reason}" for reason, count in figures.redelivery_reasons[:8]),
        f"  invocations: {figures.invocations} (timeouts: {figures.timeouts}; longest "
        f"{figures.longest_invocation_seconds:.1f} s of {FUNCTION_TIMEOUT_SECONDS:.0f} s)",
        f"  simulated seconds: {figures.simulated_seconds:.1f}; wall seconds: {figures.wall_seconds:.2f}",
    ]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("--events", type=int, help="one storm of this many alarms (default: the issue's scenarios)")
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--rate", type=float, default=SERVER_RATE, help="Incident Manager's requests per second")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--order", choices=[order.value for order in Order], default=Order.SHUFFLED.value)
    parser.add_argument(
        "--incident-check-seconds",
        type=int,
        default=0,
        help="the config's incident_check_seconds (default 0, the product default: check on every batch)",
    )
    parser.add_argument("--plot", type=Path, help="also draw the figures into this PNG (needs matplotlib)")
    args = parser.parse_args(argv)
    scenarios = SCENARIOS if args.events is None else (Scenario(args.events, args.groups, args.rate),)
    runs: list[StormFigures] = []
    for index, scenario in enumerate(scenarios):
        figures = run_storm(
            scenario.events, scenario.groups, args.seed, Order(args.order), args.incident_check_seconds, scenario.rate
        )
        runs.append(figures)
        if index:
            print()
        for line in report(figures):
            print(line)
        sys.stdout.flush()
    if args.plot is not None:
        from tests.storm.picture import draw

        draw(runs, args.plot)
        print(f"\nwrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
