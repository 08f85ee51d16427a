"""One fault-injection run: a scenario of alarm transitions sent to a simulated queue, delivered in seeded batches to
two workers through the real Lambda handler (moto DynamoDB for the groups, moto SQS for the dead-letter queue, the
botocore-level Incident Manager emulator), with one fault injected; then invariants 1-6 of issue 12 checked.

The queue is simulated, on a virtual clock: redelivery after the visibility timeout or after the backoff the bridge
sets (ChangeMessageVisibility), receive counts, and the redrive policy (a message received maxReceiveCount times
moves to the DLQ on its next receive, without a reason: counted as a violation).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config
from moto import mock_aws

from incident_bridge import handler
from incident_bridge.adapters.dead_letters import SqsDeadLetters
from incident_bridge.adapters.group_table import DynamoGroupStore, from_item
from incident_bridge.adapters.incident_manager import Boto3IncidentManager
from incident_bridge.bridge import Bridge
from incident_bridge.budget import RequestBudget
from incident_bridge.cli import LambdaContextStandIn
from incident_bridge.config import parse_config
from incident_bridge.groups import GroupStatus
from incident_bridge.outcome import OutcomeKind
from incident_bridge.runtime import Runtime
from tests.conftest import PLAN_ARN, load_event
from tests.faults.emulator import Crash, Fault, Faults, IncidentManagerEmulator, inject_into
from tests.state_table import create_state_table

REGION = "us-east-1"
TABLE = "incident-bridge-groups"
SAMPLE = "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
ALARM_ARN_PREFIX = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"
#: As deployed (infra/ingest.py, infra/bridge_function.py).
MAX_RECEIVE_COUNT = 5
VISIBILITY_TIMEOUT = 1800.0
EPOCH = datetime(2019, 10, 2, 17, 5, tzinfo=UTC)
#: A short budget's requests per second: two groups' joins at this rate take longer than SHORT_BUDGET_SECONDS.
SHORT_BUDGET_RATE = 0.1
#: Every client without SDK retries: each injected fault reaches the bridge.
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"}, region_name=REGION)

BOUNDARIES = (
    "ssm-incidents.StartIncident",
    "ssm-incidents.GetIncidentRecord",
    "ssm-incidents.UpdateRelatedItems",
    "ssm-incidents.CreateTimelineEvent",
    "ssm-incidents.UpdateIncidentRecord",
    "dynamodb.PutItem",
    "dynamodb.GetItem",
    "sqs.SendMessage",
)


@dataclass(frozen=True)
class Transition:
    """One alarm state change of the scenario (a copy of the documented sample, changed where it says)."""

    alarm: str
    service: str
    state: str
    minute: int

    @property
    def at(self) -> datetime:
        return datetime(2019, 10, 2, 17, 4, 40, 989000, tzinfo=UTC) + timedelta(minutes=self.minute)

    @property
    def alarm_arn(self) -> str:
        return ALARM_ARN_PREFIX + self.alarm

    def event(self, index: int) -> dict[str, Any]:
        event = load_event(SAMPLE)
        event["id"] = f"00000000-0000-4000-8000-{index:012d}"
        event["resources"] = [self.alarm_arn]
        detail = event["detail"]
        detail["alarmName"] = self.alarm
        detail["alarmTags"] = {"service": self.service}
        detail["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"]["InstanceId"] = (
            f"i-{abs(hash(self.alarm)) % 10**17:017d}"
        )
        detail["state"]["value"] = self.state
        detail["state"]["timestamp"] = self.at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
        if self.state == "OK":
            detail["state"]["reason"] = "Threshold Crossed: no datapoints were greater than the threshold."
        return event


#: Two groups. checkout: A and B fire, recover (auto-resolve), then A fires again (reopen, or a new incident
#: after the flap window). payments: C fires and recovers.
BASIC = (
    Transition("checkout-A", "checkout", "ALARM", 0),
    Transition("checkout-B", "checkout", "ALARM", 1),
    Transition("payments-C", "payments", "ALARM", 1),
    Transition("checkout-A", "checkout", "OK", 5),
    Transition("payments-C", "payments", "OK", 5),
    Transition("checkout-B", "checkout", "OK", 6),
    Transition("checkout-A", "checkout", "ALARM", 8),
)


@dataclass
class Message:
    message_id: str
    body: str
    transition: Transition | None
    receive_count: int = 0
    visible_at: float = 0.0


@dataclass
class SimulatedQueue:
    """An SQS standard queue with its redrive policy, on a virtual clock."""

    now: float = 0.0
    messages: dict[str, Message] = field(default_factory=dict)
    by_handle: dict[str, str] = field(default_factory=dict)
    moved_without_reason: list[Message] = field(default_factory=list)
    #: Every message sent to the queue (the scenario's, and the bridge's requeued ones).
    sent: list[Message] = field(default_factory=list)

    def visible(self) -> list[Message]:
        return [message for message in self.messages.values() if message.visible_at <= self.now]

    def receive(self, limit: int) -> list[Message]:
        batch: list[Message] = []
        for message in self.visible():
            if len(batch) == limit:
                break
            if message.receive_count >= MAX_RECEIVE_COUNT:
                del self.messages[message.message_id]  # the redrive policy: moved without a reason
                self.moved_without_reason.append(message)
                continue
            message.receive_count += 1
            message.visible_at = self.now + VISIBILITY_TIMEOUT
            self.by_handle[f"{message.message_id}#{message.receive_count}"] = message.message_id
            batch.append(message)
        return batch

    def retry_after(self, receipt_handle: str, seconds: int) -> None:
        """The SourceQueue port: ChangeMessageVisibility on a received message."""
        message = self.messages.get(self.by_handle.get(receipt_handle, ""))
        if message is not None:
            message.visible_at = self.now + seconds

    def requeue(self, body: str, delay_seconds: int) -> None:
        """The SourceQueue port: SendMessage of a record not started (a new message)."""
        original = next(message for message in self.sent if message.body == body)
        copy_ = Message(f"{original.message_id}/requeued-{len(self.sent)}", body, original.transition,
                        visible_at=self.now + delay_seconds)  # fmt: skip
        self.messages[copy_.message_id] = copy_
        self.sent.append(copy_)

    def record(self, message: Message) -> dict[str, Any]:
        return {
            "messageId": message.message_id,
            "receiptHandle": f"{message.message_id}#{message.receive_count}",
            "body": message.body,
            "attributes": {"ApproximateReceiveCount": str(message.receive_count)},
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:incident-bridge-events",
        }


@dataclass
class Run:
    """What one run did, and the invariants it broke (empty: all held)."""

    violations: list[str] = field(default_factory=list)
    #: Whether the fault was injected (its boundary was called that often).
    fired: bool = False
    invocations: int = 0
    crashes: int = 0
    #: Incidents started per group (deleted ones included).
    incidents: dict[str, int] = field(default_factory=dict)
    dead_lettered: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class Scenario:
    transitions: tuple[Transition, ...] = BASIC
    seed: int = 1
    duplicated: bool = False
    shuffled: bool = False
    poison: bool = False
    corrupt_group: str | None = None
    delete_incident_of: str | None = None
    incident_check_seconds: int = 0
    #: Each worker's request budget far too short for the scenario's joins: they are deferred, coalesced and left to
    #: carriers, and status checks take only their share (bridge.SHORT_BUDGET_SECONDS, budget.CHECK_SHARE).
    short_budget: bool = False


class _Clients:
    """The boto3 clients, built once per process (building one costs more than a whole run); each run points their
    hooks at its own faults and emulator."""

    def __init__(self) -> None:
        self.faults = Faults()
        self.emulator = IncidentManagerEmulator(self.faults)
        self.dynamodb = boto3.client("dynamodb", config=NO_RETRIES)
        self.sqs = boto3.client("sqs", config=NO_RETRIES)
        self.incidents = [boto3.client("ssm-incidents", config=NO_RETRIES) for _ in range(2)]
        inject_into(self.dynamodb, "dynamodb", ("PutItem", "GetItem"), lambda: self.faults)
        inject_into(self.sqs, "sqs", ("SendMessage",), lambda: self.faults)
        for client in self.incidents:
            client.meta.events.register("before-parameter-build.ssm-incidents.*", IncidentManagerEmulator.keep_params)
            client.meta.events.register("before-call.ssm-incidents.*", self._emulated)

    def _emulated(self, **kwargs: Any) -> Any:
        return self.emulator.handle(**kwargs)


_CLIENTS: list[_Clients] = []


def clients() -> _Clients:
    if not _CLIENTS:
        _CLIENTS.append(_Clients())
    return _CLIENTS[0]


class World:
    """The queue, the table, the dead-letter queue, the emulator and two workers (containers)."""

    def __init__(self, scenario: Scenario, faults: Faults) -> None:
        self.scenario = scenario
        self.faults = faults
        self.rng = random.Random(scenario.seed)
        self.queue = SimulatedQueue()
        self.emulator = IncidentManagerEmulator(faults)
        shared = clients()
        shared.faults, shared.emulator = faults, self.emulator
        self._incident_clients = shared.incidents
        self.dynamodb = shared.dynamodb
        create_state_table(self.dynamodb, TABLE)
        self.sqs = shared.sqs
        self.dead_letter_url = self.sqs.create_queue(QueueName="incident-bridge-dead-letters")["QueueUrl"]
        self.config = parse_config(
            {
                "default": {"response_plan_arn": PLAN_ARN, "group_by": ["tag:service"], "auto_resolve": True},
                "flap_window_seconds": 900,
                "incident_check_seconds": scenario.incident_check_seconds,
            },
            origin="tests/faults",
        )
        self.workers = [self._container(0), self._container(1)]
        self.run = Run()
        self.sent: list[Message] = []

    def _container(self, worker: int) -> Runtime:
        incidents = self._incident_clients[worker]
        budget = None
        if self.scenario.short_budget:
            budget = RequestBudget(SHORT_BUDGET_RATE, clock=lambda: self.queue.now, sleep=lambda _: None)
        bridge = Bridge(
            self.config,
            Boto3IncidentManager(incidents),
            DynamoGroupStore(self.dynamodb, TABLE),
            clock=lambda: EPOCH + timedelta(seconds=self.queue.now),
            budget=budget,
        )
        return Runtime(
            bridge,
            SqsDeadLetters(self.sqs, self.dead_letter_url),
            emit_metrics=False,
            source_queue=self.queue,
            max_receive_count=MAX_RECEIVE_COUNT,
            jitter=lambda: 1.0,
        )

    # ---- sending ----

    def send_all(self) -> None:
        sent: list[Message] = []
        for index, transition in enumerate(self.scenario.transitions):
            body = json.dumps(transition.event(index))
            copies = 2 if self.scenario.duplicated else 1
            sent += [Message(f"msg-{index}-{copy_}", body, transition) for copy_ in range(copies)]
        if self.scenario.poison:
            sent += poison_messages()
        if self.scenario.shuffled:
            self.rng.shuffle(sent)
        for message in sent:
            self.queue.messages[message.message_id] = message
        self.queue.sent = self.sent = sent
        if self.scenario.corrupt_group is not None:
            shared = clients()
            shared.faults = Faults()  # the seeding is not a boundary of the run
            self.dynamodb.put_item(
                TableName=TABLE,
                Item={
                    "group_key": {"S": f"default|tag:service={self.scenario.corrupt_group}"},
                    "status": {"S": "HALF-WRITTEN"},
                    "version": {"N": "3"},
                },
            )
            shared.faults = self.faults

    # ---- delivering ----

    def invoke(self, worker: int) -> bool:
        """One poll of `worker`: a batch of 1-3 visible messages through the real handler. False when idle."""
        batch = self.queue.receive(self.rng.randint(1, 3))
        if not batch:
            return False
        self.run.invocations += 1
        runtime = self.workers[worker]
        previous, handler.RUNTIME = handler.RUNTIME, runtime
        try:
            response = handler.lambda_handler(
                {"Records": [self.queue.record(message) for message in batch]}, LambdaContextStandIn()
            )
        except Crash:
            self.run.crashes += 1
            self.workers[worker] = self._container(worker)  # Lambda starts a fresh execution environment
            return True  # nothing deleted: the batch comes back after the visibility timeout
        except Exception as error:  # invariant 5: the handler never raises
            self.run.violations.append(f"5: the handler raised {type(error).__name__}: {error}")
            return True
        finally:
            handler.RUNTIME = previous
        self._check_response(runtime, batch, response)
        self._check_one_open_incident_per_group()
        return True

    def _check_response(self, runtime: Runtime, batch: list[Message], response: Any) -> None:
        named = [str(item["itemIdentifier"]) for item in response["batchItemFailures"]]
        ids = [message.message_id for message in batch]
        result = runtime.last_batch
        assert result is not None
        retried = [message_id for message_id in ids if result[message_id].kind is OutcomeKind.RETRY]
        if sorted(named) != sorted(retried) or len(set(named)) != len(named) or not set(named) <= set(ids):
            self.run.violations.append(f"6: batchItemFailures {named} != the records to retry {retried}")
        for message in batch:
            if message.message_id not in named:
                del self.queue.messages[message.message_id]  # done, dead-lettered, or requeued as a new message

    def _check_one_open_incident_per_group(self) -> None:
        open_by_group = Counter(
            group_of(incident.trigger_arn) for incident in self.emulator.incidents.values() if incident.status == "OPEN"
        )
        for group, count in open_by_group.items():
            if count > 1:
                self.run.violations.append(f"2: {count} OPEN incidents for group {group}")

    def drain(self) -> None:
        """Polls until the queue is empty (the workers take turns; time moves to the next visible message)."""
        for step in range(400):
            if not self.queue.messages:
                return
            self._maybe_delete_incident()
            if not self.invoke(step % 2):
                self.queue.now = min(message.visible_at for message in self.queue.messages.values())
            else:
                self.queue.now += 1.0
        self.run.violations.append(f"1: the queue never drained ({len(self.queue.messages)} messages left)")

    def _maybe_delete_incident(self) -> None:
        """A responder deletes the group's incident once it has a note (once per run)."""
        if not self.scenario.delete_incident_of or self.emulator.deleted:
            return
        for incident in list(self.emulator.incidents.values()):
            if group_of(incident.trigger_arn) == self.scenario.delete_incident_of and incident.timeline:
                self.emulator.delete(incident.arn)

    def race(self) -> None:
        """A concurrent delivery: the other worker runs a whole invocation now."""
        self.invoke(1)

    # ---- invariants ----

    def check(self) -> Run:
        run = self.run
        run.fired = self.faults.fired
        self.faults.fired = True  # the checks' own reads are not boundaries of the run
        for message in self.queue.moved_without_reason:
            run.violations.append(f"1: {message.message_id} moved to the DLQ by the redrive policy, without a reason")
        run.dead_lettered = self._dead_letters()
        for message_id, (error_class, reason) in run.dead_lettered.items():
            if not error_class or not reason:
                run.violations.append(f"1: {message_id} dead-lettered without ErrorClass/ErrorReason")
        transitions = self.scenario.transitions
        dead_transitions = {
            message.transition
            for message in self._all_sent()
            if message.message_id in run.dead_lettered and message.transition is not None
        }
        poisoned_groups = {t.service for t in dead_transitions}
        if self.scenario.corrupt_group:
            poisoned_groups.add(self.scenario.corrupt_group)
        for transition in dead_transitions:
            if transition.service != self.scenario.corrupt_group:
                run.violations.append(f"5: a good record of {transition.alarm} was dead-lettered")
        self._check_nothing_lost(transitions, dead_transitions)
        self._check_no_second_effect(transitions)
        self._check_final_states(transitions, poisoned_groups)
        return run

    def _all_sent(self) -> list[Message]:
        return self.sent

    def _dead_letters(self) -> dict[str, tuple[str, str]]:
        found: dict[str, tuple[str, str]] = {}
        while True:
            response = self.sqs.receive_message(
                QueueUrl=self.dead_letter_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                VisibilityTimeout=600,
            )  # fmt: skip
            messages = response.get("Messages", [])
            if not messages:
                return found
            for message in messages:
                attributes: dict[str, Any] = dict(message.get("MessageAttributes", {}))

                def value(name: str, attributes: dict[str, Any] = attributes) -> str:
                    return str(attributes.get(name, {}).get("StringValue", ""))

                found[value("SourceMessageId") or "?"] = (value("ErrorClass"), value("ErrorReason"))

    def _mentions(self, group: str) -> tuple[Counter[str], Counter[str], set[str]]:
        """In the group's incidents: how often each alarm was noted as fired, as recovered; which alarms started one."""
        fired: Counter[str] = Counter()
        recovered: Counter[str] = Counter()
        starters: set[str] = set()
        for incident in [*self.emulator.incidents.values(), *self.emulator.deleted.values()]:
            if group_of(incident.trigger_arn) != group:
                continue
            starters.add(str(incident.trigger_arn).removeprefix(ALARM_ARN_PREFIX))
            for note in incident.timeline:
                text = json.loads(note)
                names = [name for name in alarm_names(self.scenario.transitions) if name in text]
                if " recovered (OK)" in text:
                    recovered.update(name for name in names if text.startswith(f"Alarm {name} recovered"))
                else:
                    fired.update(names)
        return fired, recovered, starters

    def _check_nothing_lost(self, transitions: tuple[Transition, ...], dead: set[Transition]) -> None:
        for transition in transitions:
            if transition.state != "ALARM" or transition in dead:
                continue
            fired, _, starters = self._mentions(transition.service)
            later = any(
                other.alarm == transition.alarm and other.at > transition.at and other.state == "OK"
                for other in transitions
            )
            if transition.alarm not in fired and transition.alarm not in starters and not later:
                self.run.violations.append(f"1: ALARM of {transition.alarm} at minute {transition.minute} was lost")

    def _check_no_second_effect(self, transitions: tuple[Transition, ...]) -> None:
        for group in {t.service for t in transitions}:
            fired, recovered, _ = self._mentions(group)
            for alarm in alarm_names(transitions):
                alarms = sum(1 for t in transitions if t.alarm == alarm and t.state == "ALARM")
                oks = sum(1 for t in transitions if t.alarm == alarm and t.state == "OK")
                if fired[alarm] > alarms or recovered[alarm] > oks:
                    self.run.violations.append(
                        f"3: {alarm} noted {fired[alarm]}x fired / {recovered[alarm]}x recovered for {alarms} ALARM "
                        f"and {oks} OK transitions"
                    )
            everything = [*self.emulator.incidents.values(), *self.emulator.deleted.values()]
            incidents = [i for i in everything if group_of(i.trigger_arn) == group]
            self.run.incidents[group] = len(incidents)
            deleted = sum(1 for i in incidents if i.arn in self.emulator.deleted)
            if len(incidents) > episodes(transitions, group) + deleted:
                self.run.violations.append(f"3: {len(incidents)} incidents started for group {group}")
            for incident in incidents:
                resolves = incident.status_changes.count(("OPEN", "RESOLVED"))
                if resolves > incident.status_changes.count(("RESOLVED", "OPEN")) + 1:
                    self.run.violations.append(f"3: incident {incident.arn} resolved {resolves}x")

    def _check_final_states(self, transitions: tuple[Transition, ...], skipped: set[str]) -> None:
        for group in {t.service for t in transitions} - skipped:
            skipped_deleted = self.scenario.delete_incident_of == group
            last: dict[str, Transition] = {}
            for transition in sorted((t for t in transitions if t.service == group), key=lambda t: t.at):
                last[transition.alarm] = transition
            firing = any(t.state == "ALARM" for t in last.values())
            open_incidents = [
                i for i in self.emulator.incidents.values() if group_of(i.trigger_arn) == group and i.status == "OPEN"
            ]
            item = self.dynamodb.get_item(TableName=TABLE, Key={"group_key": {"S": f"default|tag:service={group}"}})
            record = from_item(item["Item"]) if "Item" in item else None
            # After a responder deleted the incident, the group has none until its next event: that is allowed.
            if firing and len(open_incidents) != 1 and not (skipped_deleted and not open_incidents):
                self.run.violations.append(f"4: group {group} has an alarm in ALARM but {len(open_incidents)} OPEN")
            if not firing and open_incidents and not skipped_deleted:
                self.run.violations.append(f"4: every alarm of group {group} is OK but its incident is still OPEN")
            if (
                firing
                and open_incidents
                and (
                    record is None
                    or record.status is not GroupStatus.OPEN
                    or record.incident_arn != open_incidents[0].arn
                )
            ):
                self.run.violations.append(f"4: group {group}'s record does not point at its OPEN incident")


def poison_messages() -> list[Message]:
    """A body nested too deeply to parse, and an alarm whose tag holds a lone surrogate (a JSON escape)."""
    deep = "[" * 100_000 + "]" * 100_000
    surrogate = load_event(SAMPLE)
    surrogate["id"] = "00000000-0000-4000-8000-99999999999"
    surrogate["detail"]["alarmTags"] = {"service": "\ud800"}
    body = json.dumps(surrogate)  # ensure_ascii: the body carries the escape "\\ud800", as SQS would
    return [Message("poison-deep", deep, None), Message("poison-surrogate", body, None)]


def group_of(alarm_arn: str | None) -> str:
    name = str(alarm_arn or "").removeprefix(ALARM_ARN_PREFIX)
    return name.split("-", 1)[0] if "-" in name else f"?{name}"


def alarm_names(transitions: tuple[Transition, ...]) -> list[str]:
    return sorted({t.alarm for t in transitions})


def episodes(transitions: tuple[Transition, ...], group: str) -> int:
    """How many incidents the group may need: each time an alarm fires while none of the group's is firing."""
    states: dict[str, str] = {}
    count = 0
    for transition in sorted((t for t in transitions if t.service == group), key=lambda t: t.at):
        if transition.state == "ALARM" and "ALARM" not in states.values():
            count += 1
        states[transition.alarm] = transition.state
    return count


@contextmanager
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def run_scenario(
    scenario: Scenario, boundary: str | None = None, kind: Fault | None = None, occurrence: int = 0
) -> Run:
    """One run: the scenario with one fault, drained, checked."""
    faults = Faults(boundary, occurrence, kind)
    with aws():
        world = World(scenario, faults)
        faults.race = world.race
        world.send_all()
        world.drain()
        return world.check()


def sweep_cases() -> list[tuple[str, Fault, int]]:
    return [
        (boundary, kind, occurrence)
        for boundary in BOUNDARIES
        for kind in Fault
        for occurrence in (1, 2, 3)
        if not (boundary == "sqs.SendMessage" and occurrence > 1)
    ]
