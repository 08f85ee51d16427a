"""Bad input, through the same Runtime the handler uses, in dry-run: every message gets exactly one outcome.

Truncated JSON, wrong types, missing fields, empty and 256 KB events, unicode and control characters in names,
ARNs of other partitions, 10,000 dimensions. A rejection carries a reason naming the problem and leaves exactly
one dead letter (ErrorClass InvalidEvent); anything else leaves none and every request passes the full model.
Nothing raises, nothing is dropped silently. Fixed cases first (each a real sample with one thing changed), then
hypothesis fuzzing of raw text and of real events with one node of their JSON tree replaced.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from incident_bridge.adapters.api_model import ensure_valid
from incident_bridge.adapters.dry_run import DryRunIncidentManager
from incident_bridge.adapters.memory_groups import MemoryGroupStore
from incident_bridge.aws import RAW_DATA_MAX, RELATED_ITEMS_MAX
from incident_bridge.bridge import Bridge
from incident_bridge.config import BridgeConfig, DefaultRoute
from incident_bridge.outcome import Outcome, OutcomeKind
from incident_bridge.runtime import MemoryDeadLetters, Runtime
from tests.conftest import PLAN_ARN, load_event

METRIC_ALARM = "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
ALARM_ACTION = "lambda-action-metric-alarm-ALARM-from-INSUFFICIENT_DATA-aws-lambda-java-libs.json"
SNS_CLASSIC = "sns-classic-alarm-ALARM-ec2-networkout-single-metric-aws-lambda-go.json"
#: The largest SQS message body the ingest queue held until 2025 (256 KiB), still the EventBridge event limit.
EVENT_SIZE_LIMIT = 256 * 1024
MESSAGE_ID = "9d4c1a5e-0000-4000-8000-00000000bad1"

CONFIG = BridgeConfig(default=DefaultRoute(response_plan_arn=PLAN_ARN))


def dry_run() -> tuple[Runtime, MemoryDeadLetters]:
    """The dry-run wiring of `Runtime.from_settings`, on a fixed configuration and without metrics."""
    dead_letters = MemoryDeadLetters()
    runtime = Runtime(Bridge(CONFIG, DryRunIncidentManager(), MemoryGroupStore()), dead_letters, emit_metrics=False)
    return runtime, dead_letters


@dataclass(frozen=True)
class Processed:
    outcome: Outcome
    dead_letters: list[dict[str, str]]


def process(body: str) -> Processed:
    """One message through a fresh runtime; checks what must hold for any input, whatever its outcome."""
    runtime, dead_letters = dry_run()
    outcome = runtime.process_message(body, MESSAGE_ID)
    assert list(runtime.outcomes) == [outcome], "exactly one outcome per message"
    assert outcome.reason, "every outcome says why"
    if outcome.kind is OutcomeKind.REJECTED:
        assert outcome.calls == ()
        assert dead_letters.messages == [
            {
                "body": body,
                "error_class": outcome.error_class,
                "reason": outcome.reason,
                "source_message_id": MESSAGE_ID,
            }
        ], "a rejection leaves exactly one dead letter, with the original body"
    else:
        assert dead_letters.messages == []
        for call in outcome.calls:
            ensure_valid(call.operation, call.params)
    return Processed(outcome, dead_letters.messages)


# ---- building variants of real events: copy, change one thing ----

Change = Callable[[Any], None]


def variant(name: str, *changes: Change) -> str:
    document = load_event(name)
    for change in changes:
        change(document)
    return json.dumps(document, ensure_ascii=False)


def _parent(document: Any, path: str) -> tuple[Any, str | int]:
    *parents, last = [int(part) if part.isdigit() else part for part in path.split(".")]
    for part in parents:
        document = document[part]
    return document, last


def set_at(path: str, value: object) -> Change:
    def change(document: Any) -> None:
        parent, key = _parent(document, path)
        parent[key] = value

    return change


def delete_at(path: str) -> Change:
    def change(document: Any) -> None:
        parent, key = _parent(document, path)
        del parent[key]

    return change


def renamed(name: str) -> Change:
    """The alarm renamed consistently: in `detail` and in the ARN in `resources`."""

    def change(document: Any) -> None:
        document["detail"]["alarmName"] = name
        document["resources"] = [f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"]

    return change


def replaced(old: str, new: str) -> Callable[[str], str]:
    return lambda body: body.replace(old, new)


def sized(total_bytes: int) -> Change:
    """Pads the alarm's description so the whole event is exactly `total_bytes` of UTF-8."""

    def change(document: Any) -> None:
        document["detail"]["configuration"]["description"] = ""
        padding = total_bytes - len(json.dumps(document, ensure_ascii=False).encode("utf-8"))
        document["detail"]["configuration"]["description"] = "CPU " * (padding // 4) + "!" * (padding % 4)

    return change


METRIC = "detail.configuration.metrics.0.metricStat.metric"


def dimensions(count: int) -> Change:
    return set_at(f"{METRIC}.dimensions", {f"Dimension{index}": f"value-{index}" for index in range(count)})


METRIC_ALARM_BODY = variant(METRIC_ALARM)

# ---- fixed cases: rejected ----

REJECTED = [
    pytest.param(METRIC_ALARM_BODY[: len(METRIC_ALARM_BODY) // 2], "message body is not JSON", id="truncated-json"),
    pytest.param(METRIC_ALARM_BODY[:-1], "message body is not JSON", id="missing-closing-brace"),
    pytest.param("", "message body is not JSON", id="empty-body"),
    pytest.param("   \n", "message body is not JSON", id="whitespace-body"),
    pytest.param("null", "expected a JSON object, got NoneType", id="null"),
    pytest.param("[]", "expected a JSON object, got list", id="empty-array"),
    pytest.param(f"[{METRIC_ALARM_BODY}]", "expected a JSON object, got list", id="event-in-an-array"),
    pytest.param("42", "expected a JSON object, got int", id="number"),
    pytest.param('"ALARM"', "expected a JSON object, got str", id="string"),
    pytest.param("{}", "unrecognized payload", id="empty-object"),
    pytest.param(variant(METRIC_ALARM, set_at("detail.state.value", 5)), "detail.state.value", id="state-value-5"),
    pytest.param(
        variant(METRIC_ALARM, set_at("detail.state.value", "alarm")), "detail.state.value", id="state-value-lowercase"
    ),
    pytest.param(
        variant(METRIC_ALARM, set_at("detail.alarmName", ["ServerCpuTooHigh"])),
        "detail.alarmName",
        id="alarm-name-list",
    ),
    pytest.param(
        variant(METRIC_ALARM, set_at("detail.configuration.metrics", "CPUUtilization")),
        "detail.configuration.metrics",
        id="metrics-a-string",
    ),
    pytest.param(
        variant(METRIC_ALARM, set_at(f"{METRIC}.dimensions", [{"name": "InstanceId", "value": "i-1"}])),
        f"{METRIC}.dimensions",
        id="dimensions-a-list",
    ),
    pytest.param(variant(METRIC_ALARM, set_at("detail", "ALARM")), "detail", id="detail-a-string"),
    pytest.param(
        variant(METRIC_ALARM, set_at("detail.state.timestamp", "yesterday")), "detail.state.timestamp", id="bad-time"
    ),
    pytest.param(variant(METRIC_ALARM, delete_at("detail")), "detail: required", id="missing-detail"),
    pytest.param(variant(METRIC_ALARM, delete_at("detail.state")), "detail.state: required", id="missing-state"),
    pytest.param(
        variant(METRIC_ALARM, delete_at("detail.state.timestamp")),
        "detail.state.timestamp: required",
        id="missing-timestamp",
    ),
    pytest.param(variant(METRIC_ALARM, delete_at("detail.alarmName")), "detail.alarmName: required", id="missing-name"),
    pytest.param(
        variant(METRIC_ALARM, delete_at("resources"), set_at("account", "1234")), "account", id="no-arn-bad-account"
    ),
    pytest.param(
        # A 6-digit account in the alarm ARN: the message says exactly that, not "not an alarm ARN".
        replaced(":123456789012:alarm:", ":123456:alarm:")(variant(METRIC_ALARM)),
        "alarm ARN 'arn:aws:cloudwatch:us-east-1:123456:alarm:ServerCpuTooHigh': account '123456' is not 12 digits",
        id="six-digit-account-in-alarm-arn",
    ),
    pytest.param(
        # A lone surrogate is valid JSON text but not a string any AWS API accepts.
        replaced('"ServerCpuTooHigh"', '"\\ud800CpuTooHigh"')(METRIC_ALARM_BODY),
        "detail.alarmName",
        id="alarm-name-lone-surrogate",
    ),
    pytest.param(
        # CloudWatch refuses control characters in alarm names; a newline cannot even form an ARN.
        variant(METRIC_ALARM, renamed("ServerCpu\nTooHigh")),
        "alarm ARN 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpu\\nTooHigh': the alarm name "
        "'ServerCpu\\nTooHigh' holds a line break",
        id="alarm-name-newline",
    ),
    pytest.param(
        # Incident Manager exists only in aws, aws-cn and aws-us-gov: an alarm from aws-iso cannot be referenced.
        replaced("arn:aws:", "arn:aws-iso:")(variant(ALARM_ACTION)),
        "partition 'aws-iso' is not one Incident Manager serves (aws, aws-cn, aws-us-gov)",
        id="aws-iso-alarm-action",
    ),
    pytest.param(
        replaced("arn:aws:", "arn:aws-iso-b:")(variant(SNS_CLASSIC)),
        "AlarmArn: alarm ARN 'arn:aws-iso-b:cloudwatch:REGION:ACCOUNT_NUMBER:alarm:EXAMPLE': partition 'aws-iso-b'",
        id="aws-iso-b-sns-classic-alarm",
    ),
    pytest.param(
        variant(
            METRIC_ALARM,
            set_at("resources", ["arn:aws-iso:cloudwatch:us-iso-east-1:123456789012:alarm:ServerCpuTooHigh"]),
            set_at("region", "us-iso-east-1"),
        ),
        "aws-iso",
        id="aws-iso-eventbridge",
    ),
]


@pytest.mark.parametrize(("body", "reason"), REJECTED)
def test_bad_input_is_rejected_with_a_reason_and_one_dead_letter(body: str, reason: str) -> None:
    # Given a real sample with one thing broken (or no event at all)

    # When the runtime processes it as a queue message
    processed = process(body)

    # Then it is rejected as an invalid event, with a reason naming the problem, and dead-lettered once
    assert processed.outcome.kind is OutcomeKind.REJECTED, processed.outcome.reason
    assert reason in processed.outcome.reason
    assert processed.outcome.error_class == "InvalidEvent"
    [dead_letter] = processed.dead_letters
    assert dead_letter["error_class"] == "InvalidEvent"


# ---- fixed cases: valid despite their size or their characters ----


def test_a_256_kb_event_starts_an_incident_with_raw_data_shrunk_to_the_api_limit() -> None:
    # Given the documented alarm with a description that makes the event 256 KiB
    body = variant(METRIC_ALARM, sized(EVENT_SIZE_LIMIT))
    assert len(body.encode("utf-8")) == EVENT_SIZE_LIMIT

    # When the runtime processes it
    processed = process(body)

    # Then its size alone does not reject it: an incident starts, rawData cut down to what the API accepts
    assert processed.outcome.kind is OutcomeKind.STARTED, processed.outcome.reason
    [call] = processed.outcome.calls
    raw_data = call.params["triggerDetails"]["rawData"]
    assert len(raw_data) <= RAW_DATA_MAX
    assert json.loads(raw_data)  # shrunk by dropping parts, still a JSON document


def test_10000_dimensions_on_one_metric_start_an_incident_quickly_with_at_most_100_related_items() -> None:
    # Given the documented alarm whose metric has 10,000 dimensions
    body = variant(METRIC_ALARM, dimensions(10_000))

    # When the runtime processes it
    started = time.perf_counter()
    processed = process(body)
    elapsed = time.perf_counter() - started

    # Then an incident starts within the API's limits, in well under a Lambda timeout
    assert processed.outcome.kind is OutcomeKind.STARTED, processed.outcome.reason
    [call] = processed.outcome.calls
    assert 1 <= len(call.params["relatedItems"]) <= RELATED_ITEMS_MAX
    assert len(call.params["triggerDetails"]["rawData"]) <= RAW_DATA_MAX
    assert elapsed < 5, f"{elapsed:.1f}s"


UNICODE_NAMES = [
    pytest.param("CPU-高い-🔥", id="cjk-and-emoji"),
    pytest.param("Straße ÄÖÜ", id="latin-1"),
    pytest.param("right-to-left \u202eevil", id="bidi-override"),
    pytest.param("zero\u200bwidth", id="zero-width-space"),
    pytest.param("line\u2028separator", id="unicode-line-separator"),
    pytest.param("é" * 255, id="255-two-byte-characters"),
    pytest.param("\U0001d518" * 255, id="255-astral-characters"),
]


@pytest.mark.parametrize("name", UNICODE_NAMES)
def test_unicode_alarm_names_start_an_incident_with_a_valid_title(name: str) -> None:
    # Given the documented alarm renamed to a legal CloudWatch name (1-255 characters, any but ASCII control)
    body = variant(METRIC_ALARM, renamed(name))

    # When the runtime processes it
    processed = process(body)

    # Then an incident starts, named after the alarm (the title cut to the API limit if need be)
    assert processed.outcome.kind is OutcomeKind.STARTED, processed.outcome.reason
    assert processed.outcome.alarm_name == name
    [call] = processed.outcome.calls
    assert call.params["title"].startswith(name[:50])


@pytest.mark.parametrize("control", ["\x00", "\t", "\x1b", "\x7f", "\r\n"], ids=["nul", "tab", "esc", "del", "crlf"])
def test_control_characters_in_an_alarm_name_are_rejected_or_sent_valid_never_raised(control: str) -> None:
    # Given the documented alarm renamed with a control character (CloudWatch itself would refuse the name)
    body = variant(METRIC_ALARM, renamed(f"ServerCpu{control}TooHigh"))

    # When the runtime processes it
    processed = process(body)

    # Then it either starts a valid incident or is rejected quoting the name; `process` checked the rest
    assert processed.outcome.kind in {OutcomeKind.STARTED, OutcomeKind.REJECTED}
    if processed.outcome.kind is OutcomeKind.REJECTED:
        assert repr(control)[1:-1] in processed.outcome.reason
        assert processed.outcome.error_class == "InvalidEvent"


# ---- fuzzing: arbitrary text ----

FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@FUZZ
@given(st.text() | st.binary().map(lambda raw: raw.decode("utf-8", errors="replace")))
def test_any_text_body_gets_exactly_one_outcome(body: str) -> None:
    # Given any message body at all

    # When the runtime processes it
    processed = process(body)

    # Then it gets one outcome (checked by `process`); text that is not an event is rejected as invalid
    if processed.outcome.kind is OutcomeKind.REJECTED:
        assert processed.outcome.error_class == "InvalidEvent"


# ---- fuzzing: real events with one node replaced ----

# Samples the bridge acts on as they are (started or deliberately ignored), so a mutation can reach every layer.
FUZZ_SEEDS = [
    METRIC_ALARM,
    "eventbridge-metric-math-alarm-ALARM-from-INSUFFICIENT_DATA-ec2-network-awsdocs.json",
    "eventbridge-anomaly-detection-alarm-ALARM-ec2-cpu-awsdocs.json",
    "eventbridge-composite-alarm-ALARM-suppressed-waitperiod-awsdocs.json",
    "eventbridge-config-change-update-metric-alarm-awsdocs.json",
    ALARM_ACTION,
    "lambda-action-metric-math-alarm-ALARM-lambda-invocations-powertools.json",
    "lambda-action-composite-alarm-ALARM-suppressed-prev-powertools.json",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63)
    | st.floats()  # NaN and Infinity too: Python's json module reads them from a message body
    | st.text(max_size=40)
    | st.sampled_from(["", "ALARM", "OK", "2019-10-02T17:04:40.989+0000", "arn:aws-iso:cloudwatch:x:1:alarm:a"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)

NodePath = tuple[str | int, ...]


def node_paths(document: Any, path: NodePath = ()) -> list[NodePath]:
    """Every path in the JSON tree, the root excepted (the arbitrary-text fuzz covers that)."""
    paths = [path] if path else []
    if isinstance(document, dict):
        for key, value in document.items():
            paths.extend(node_paths(value, (*path, key)))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            paths.extend(node_paths(value, (*path, index)))
    return paths


@st.composite
def mutated_events(draw: st.DrawFn) -> tuple[str, NodePath, str]:
    """A real event with one node replaced by an arbitrary JSON value, or deleted."""
    name = draw(st.sampled_from(FUZZ_SEEDS))
    document: Any = load_event(name)
    path = draw(st.sampled_from(node_paths(document)))
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    if draw(st.booleans()) or not isinstance(parent, dict):
        parent[path[-1]] = draw(json_values)
    else:
        del parent[path[-1]]
    return name, path, json.dumps(document, ensure_ascii=False)


@FUZZ
@given(mutated_events())
def test_a_real_event_with_any_node_replaced_is_handled_or_rejected_never_raised(
    mutated: tuple[str, NodePath, str],
) -> None:
    # Given a real alarm or custom event with one node of its JSON tree replaced or removed
    name, _, body = mutated

    # When the runtime processes it
    processed = process(body)
    event(f"{processed.outcome.kind.value}: {name}")

    # Then one outcome: a rejection with a reason and a dead letter, or requests that pass the full model
    # (`process` checked both); a malformed event is an InvalidEvent, never a crash
    if processed.outcome.kind is OutcomeKind.REJECTED:
        assert processed.outcome.error_class == "InvalidEvent", processed.outcome.reason
        assert processed.dead_letters[0]["reason"].strip()
