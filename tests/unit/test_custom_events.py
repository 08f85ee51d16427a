"""Custom application events: the detail schema, what reaches the StartIncident request, routing on source /
detail-type / detail paths, rejections naming the failing field, and the published JSON Schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from incident_bridge.adapters.api_model import ensure_valid
from incident_bridge.adapters.dry_run import DryRunIncidentManager
from incident_bridge.adapters.memory_groups import MemoryGroupStore
from incident_bridge.bridge import Bridge
from incident_bridge.config import BridgeConfig, load_config, parse_config
from incident_bridge.errors import InvalidEvent
from incident_bridge.incident import build_start_incident
from incident_bridge.outcome import Outcome, OutcomeKind
from incident_bridge.routing import route
from incident_bridge.signal import Signal
from incident_bridge.sources import parse_event
from tests.conftest import EVENTS_DIR, load_event

CUSTOM_EVENT = "custom-app-eventbridge-PaymentCreated-no-resources-powertools.json"
TEAMS_CONFIG = EVENTS_DIR.parent / "examples" / "bridge.teams.yaml"
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "lambdas" / "incident_bridge" / "custom_incident.schema.json"

PLATFORM_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/platform-oncall"
PAYMENTS_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/payments-oncall"
ACCOUNT = "123456789012"
CHECKOUT_FUNCTION = f"arn:aws:lambda:eu-east-1:{ACCOUNT}:function:checkout"
ORDERS_TABLE = f"arn:aws:dynamodb:eu-east-1:{ACCOUNT}:table/orders"
PAYMENTS_QUEUE = f"arn:aws:sqs:eu-east-1:{ACCOUNT}:payments"

#: Every custom-incident field, plus `severity`, which the schema allows for routing.
VALID_DETAIL: dict[str, Any] = {
    "title": "Card payments are failing",
    "impact": 1,
    "summary": "The payment provider answers 503 to every authorization since 20:40 UTC.",
    "resource_arns": [CHECKOUT_FUNCTION],
    "related_urls": [{"title": "Payments dashboard", "url": "https://grafana.example.com/d/payments"}],
    "dedupe_key": "payments-provider-outage",
    "source": "payments-service",
    "severity": "critical",
}

# A route for the sample's source that sets plan and impact but no title.
PAYMENT_ROUTE = {"name": "payments-app", "match": {"source": "app.payment"}, "response_plan_arn": PAYMENTS_PLAN,
                 "impact": 3}  # fmt: skip


def custom_event(detail: dict[str, Any]) -> dict[str, Any]:
    """The Powertools PaymentCreated sample with its `detail` replaced by a custom-incident detail."""
    raw = load_event(CUSTOM_EVENT)
    raw["account"] = ACCOUNT  # the sample's account has 13 digits, which no AWS account id has
    raw["detail"] = detail
    return raw


def parsed(raw: dict[str, Any]) -> Signal:
    subject = parse_event(raw)
    assert isinstance(subject, Signal)
    return subject


def config(routes: list[dict[str, Any]], **default: Any) -> BridgeConfig:
    return parse_config(
        {"default": {"response_plan_arn": PLATFORM_PLAN, **default}, "routes": routes}, origin="test.yaml"
    )


def start_incident_params(outcome: Outcome) -> list[dict[str, Any]]:
    return [call.params for call in outcome.calls if call.operation == "StartIncident"]


@pytest.fixture
def request_for() -> Callable[[dict[str, Any], BridgeConfig], dict[str, Any]]:
    """The StartIncident parameters for the first decision on a raw event; each passes the full service model."""

    def build(raw: dict[str, Any], routes: BridgeConfig) -> dict[str, Any]:
        subject = parsed(raw)
        params = build_start_incident(subject, route(subject, routes).decisions[0]).to_params()
        ensure_valid("StartIncident", params)
        return params

    return build


# ---- a valid event opens an incident ----


def test_valid_custom_event_starts_an_incident_in_the_dry_run() -> None:
    # Given a bridge on the dry-run Incident Manager with a route for the application's source
    incidents = DryRunIncidentManager()
    bridge = Bridge(config([PAYMENT_ROUTE]), incidents, MemoryGroupStore())

    # When the application's event arrives
    outcome = bridge.handle(custom_event(VALID_DETAIL))

    # Then one incident is started in the route's plan, with a request the full service model accepts
    assert outcome.kind is OutcomeKind.STARTED
    (params,) = start_incident_params(outcome)
    ensure_valid("StartIncident", params)
    assert params["responsePlanArn"] == PAYMENTS_PLAN
    assert outcome.route_name == "payments-app"
    assert outcome.incident_arn is not None
    assert outcome.incident_arn.startswith(f"arn:aws:ssm-incidents::{ACCOUNT}:incident-record/payments-oncall/")
    assert list(incidents.incidents) == [outcome.incident_arn]


def test_title_comes_from_the_detail_when_the_route_sets_none(
    request_for: Callable[[dict[str, Any], BridgeConfig], dict[str, Any]],
) -> None:
    # Given a route without a title
    # When the request is built
    params = request_for(custom_event(VALID_DETAIL), config([PAYMENT_ROUTE]))

    # Then the title is the event's, through the "{title}" template
    assert params["title"] == "Card payments are failing"


def test_route_title_template_can_use_the_detail_fields(
    request_for: Callable[[dict[str, Any], BridgeConfig], dict[str, Any]],
) -> None:
    # Given a route whose title names the event's title, its severity and the detail-type
    routes = config([{**PAYMENT_ROUTE, "title": "[{detail_severity}] {title} ({detail_type})"}])

    # When the request is built
    params = request_for(custom_event(VALID_DETAIL), routes)

    # Then the fields are filled from the event
    assert params["title"] == "[critical] Card payments are failing (PaymentCreated)"


def test_title_comes_from_the_detail_when_the_default_route_decides(
    request_for: Callable[[dict[str, Any], BridgeConfig], dict[str, Any]],
) -> None:
    # Given no route for the application and a default with the built-in (alarm) title
    # When the request is built
    params = request_for(custom_event(VALID_DETAIL), config([]))

    # Then the title is still the event's own
    assert params["title"] == "Card payments are failing"


def test_long_title_is_cut_to_200_characters(
    request_for: Callable[[dict[str, Any], BridgeConfig], dict[str, Any]],
) -> None:
    # Given an event whose title has 1,000 characters (the schema's maximum)
    raw = custom_event({**VALID_DETAIL, "title": "x" * 1000})

    # When the request is built
    params = request_for(raw, config([PAYMENT_ROUTE]))

    # Then the request's title fits Incident Manager's limit
    assert params["title"] == "x" * 199 + "…"


@pytest.mark.parametrize(("event_impact", "impact"), [(1, 1), (5, 5), (None, 3)])
def test_impact_in_the_event_overrides_the_route(
    event_impact: int | None,
    impact: int,
    request_for: Callable[[dict[str, Any], BridgeConfig], dict[str, Any]],
) -> None:
    # Given a route at impact 3, and an event with (or without) its own impact
    detail = {**VALID_DETAIL, "impact": event_impact}

    # When the request is built
    params = request_for(custom_event(detail), config([PAYMENT_ROUTE]))

    # Then the event's impact wins; without one the route's applies
    assert params["impact"] == impact


def test_resource_arns_and_the_envelope_resources_become_involved_resources(
    request_for: Callable[[dict[str, Any], BridgeConfig], dict[str, Any]],
) -> None:
    # Given an event whose envelope lists two ARNs and a value that is not an ARN, and whose detail lists one of
    # the same ARNs and another one
    raw = custom_event({**VALID_DETAIL, "resource_arns": [CHECKOUT_FUNCTION, PAYMENTS_QUEUE], "related_urls": []})
    raw["resources"] = [ORDERS_TABLE, "orders-table", CHECKOUT_FUNCTION]

    # When the request is built
    params = request_for(raw, config([PAYMENT_ROUTE]))

    # Then each ARN is one INVOLVED_RESOURCE item (envelope first, duplicates once), and the non-ARN is skipped
    assert params["relatedItems"] == [
        {"title": "dynamodb table/orders", "identifier": {"type": "INVOLVED_RESOURCE", "value": {"arn": ORDERS_TABLE}}},
        {"title": "lambda function:checkout",
         "identifier": {"type": "INVOLVED_RESOURCE", "value": {"arn": CHECKOUT_FUNCTION}}},
        {"title": "sqs payments", "identifier": {"type": "INVOLVED_RESOURCE", "value": {"arn": PAYMENTS_QUEUE}}},
    ]  # fmt: skip


def test_related_urls_of_the_route_and_the_event_become_other_items(
    request_for: Callable[[dict[str, Any], BridgeConfig], dict[str, Any]],
) -> None:
    # Given a route with a runbook URL and an event with a dashboard URL and one resource
    routes = config([{**PAYMENT_ROUTE, "related_urls": [{"title": "Runbook", "url": "https://wiki.example.com/pay"}]}])

    # When the request is built
    params = request_for(custom_event(VALID_DETAIL), routes)

    # Then the URLs come first, as OTHER items, route first, then the resource
    assert params["relatedItems"] == [
        {"title": "Runbook", "identifier": {"type": "OTHER", "value": {"url": "https://wiki.example.com/pay"}}},
        {"title": "Payments dashboard",
         "identifier": {"type": "OTHER", "value": {"url": "https://grafana.example.com/d/payments"}}},
        {"title": "lambda function:checkout",
         "identifier": {"type": "INVOLVED_RESOURCE", "value": {"arn": CHECKOUT_FUNCTION}}},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("detail_source", "envelope_source", "trigger_source"),
    [
        ("payments-service", "app.payment", "payments-service"),
        (None, "app.payment", "app.payment"),
        (None, "com.example." + "payments." * 5, "incident-bridge.custom"),
    ],
    ids=["detail-source", "envelope-source", "envelope-source-over-50"],
)
def test_trigger_source_is_the_detail_source_or_else_the_envelope_source(
    detail_source: str | None,
    envelope_source: str,
    trigger_source: str,
    request_for: Callable[[dict[str, Any], BridgeConfig], dict[str, Any]],
) -> None:
    # Given an event with (or without) a detail source, from this envelope source
    raw = custom_event({**VALID_DETAIL, "source": detail_source})
    raw["source"] = envelope_source

    # When the request is built (the default route catches every source here)
    params = request_for(raw, config([{"name": "any-app"}]))

    # Then the trigger source is the detail's, else the envelope's when it fits the API's 50, else the bridge's
    assert params["triggerDetails"]["source"] == trigger_source


def test_events_with_one_dedupe_key_share_the_client_token(
    request_for: Callable[[dict[str, Any], BridgeConfig], dict[str, Any]],
) -> None:
    # Given two different deliveries (id, time, title) carrying one dedupe key, and a third with another key
    first = custom_event(VALID_DETAIL)
    second = custom_event({**VALID_DETAIL, "title": "Card payments are still failing"})
    second["id"], second["time"] = "4d7c1b2a-0000-4000-8000-000000000002", "2022-08-08T20:46:53Z"
    other = custom_event({**VALID_DETAIL, "dedupe_key": "payments-database-outage"})
    routes = config([PAYMENT_ROUTE])

    # When their requests are built
    tokens = [request_for(raw, routes)["clientToken"] for raw in (first, second, other)]

    # Then the two with one key share a token (one incident); the other key gets its own
    assert tokens[0] == tokens[1]
    assert tokens[2] != tokens[0]


def test_events_without_a_dedupe_key_get_a_token_per_event(
    request_for: Callable[[dict[str, Any], BridgeConfig], dict[str, Any]],
) -> None:
    # Given the same detail without a dedupe key, in two deliveries (two ids), plus a redelivery of the first
    detail = {key: value for key, value in VALID_DETAIL.items() if key != "dedupe_key"}
    first, redelivered, second = custom_event(detail), custom_event(detail), custom_event(detail)
    second["id"] = "4d7c1b2a-0000-4000-8000-000000000002"
    routes = config([PAYMENT_ROUTE])

    # When their requests are built
    tokens = [request_for(raw, routes)["clientToken"] for raw in (first, redelivered, second)]

    # Then a redelivery keeps the token and another event gets another
    assert tokens[0] == tokens[1]
    assert tokens[2] != tokens[0]


def test_extra_detail_fields_reach_the_raw_data() -> None:
    # Given an event whose detail carries `severity`, which is not a custom-incident field
    incidents = DryRunIncidentManager()
    bridge = Bridge(config([PAYMENT_ROUTE]), incidents, MemoryGroupStore())

    # When it is handled
    (params,) = start_incident_params(bridge.handle(custom_event(VALID_DETAIL)))

    # Then the raw data is the event, extra field included
    assert json.loads(params["triggerDetails"]["rawData"])["detail"]["severity"] == "critical"


# ---- invalid events are rejected naming the field ----

SCHEMA_PREFIX = "custom event 'app.payment'/'PaymentCreated' does not follow the custom incident schema: "
INVALID_DETAILS: list[tuple[str, dict[str, Any], str]] = [
    ("missing-title", {k: v for k, v in VALID_DETAIL.items() if k != "title"}, "detail.title: required"),
    ("empty-title", {**VALID_DETAIL, "title": ""}, "detail.title: must have at least 1 character"),
    ("impact-7", {**VALID_DETAIL, "impact": 7}, "detail.impact: must be at most 5, got 7"),
    ("impact-0", {**VALID_DETAIL, "impact": 0}, "detail.impact: must be at least 1, got 0"),
    ("aws-source", {**VALID_DETAIL, "source": "aws.x"},
     "detail.source: 'aws.x': the prefix 'aws.' is reserved for AWS"),
    ("source-over-50", {**VALID_DETAIL, "source": "s" * 51}, "detail.source: must have at most 50 characters, got 51"),
    ("bad-resource-arn", {**VALID_DETAIL, "resource_arns": ["checkout-function"]},
     "detail.resource_arns.0: 'checkout-function' does not match "
     "'^arn:aws(-cn|-us-gov)?:[a-z0-9-]*:[a-z0-9-]*:([0-9]{12})?:.+$'"),
    ("arn-with-trailing-newline", {**VALID_DETAIL, "resource_arns": [CHECKOUT_FUNCTION, PAYMENTS_QUEUE + "\n"]},
     "detail.resource_arns.1: 'arn:aws:sqs:eu-east-1:123456789012:payments\\n' does not match "
     "'^arn:aws(-cn|-us-gov)?:[a-z0-9-]*:[a-z0-9-]*:([0-9]{12})?:.+$'"),
    ("ftp-related-url", {**VALID_DETAIL, "related_urls": [{"title": "t", "url": "ftp://example.com/x"}]},
     "detail.related_urls.0.url: 'ftp://example.com/x' does not match '^https?://'"),
    ("empty-dedupe-key", {**VALID_DETAIL, "dedupe_key": ""},
     "detail.dedupe_key: must have at least 1 character"),
]  # fmt: skip


@pytest.mark.parametrize(("detail", "problem"), [pytest.param(*case[1:], id=case[0]) for case in INVALID_DETAILS])
def test_invalid_custom_event_is_rejected_naming_the_field(detail: dict[str, Any], problem: str) -> None:
    # Given a custom event whose detail breaks the schema in one way
    raw = custom_event(detail)
    incidents = DryRunIncidentManager()
    bridge = Bridge(config([PAYMENT_ROUTE]), incidents, MemoryGroupStore())

    # When it is parsed, and handled by the bridge
    with pytest.raises(InvalidEvent) as raised:
        parse_event(raw)
    outcome = bridge.handle(raw)

    # Then it is an InvalidEvent naming the field and the problem, and no incident is opened
    assert str(raised.value) == SCHEMA_PREFIX + problem
    assert (outcome.kind, outcome.error_class, outcome.reason) == (
        OutcomeKind.REJECTED,
        "InvalidEvent",
        SCHEMA_PREFIX + problem,
    )
    assert outcome.calls == ()
    assert incidents.incidents == {}


def test_custom_event_from_an_invalid_account_is_rejected() -> None:
    # Given the Powertools sample as published: a 13-digit account, and a valid custom-incident detail
    raw = load_event(CUSTOM_EVENT)
    raw["detail"] = VALID_DETAIL

    # When it is parsed / Then it is refused, naming the field that is wrong and why, as an alarm's account is
    with pytest.raises(InvalidEvent) as raised:
        parse_event(raw)
    assert str(raised.value) == "account: expected a 12-digit AWS account id, got '0123456789012'"


def test_custom_event_from_an_invalid_region_is_rejected_naming_the_region() -> None:
    # Given the Powertools sample with its account made valid, and a Region that is no region code
    raw = load_event(CUSTOM_EVENT)
    raw["detail"] = VALID_DETAIL
    raw["account"] = "123456789012"
    raw["region"] = "Europe (Ireland)"

    # When it is parsed / Then it is refused, naming the region and why
    with pytest.raises(InvalidEvent) as raised:
        parse_event(raw)
    assert str(raised.value) == "region: expected an AWS region code, got 'Europe (Ireland)'"


# ---- routing custom events ----


@pytest.mark.parametrize(
    ("source", "severity", "route_name", "plan", "impact"),
    [
        ("com.example.checkout", "critical", "app-incidents", PLATFORM_PLAN, 2),
        ("com.example.checkout", "high", "app-incidents", PLATFORM_PLAN, 2),
        ("com.example.checkout", "low", "default", PLATFORM_PLAN, 3),
        ("app.payment", "critical", "default", PLATFORM_PLAN, 3),
    ],
)
def test_example_config_routes_custom_events_on_source_and_a_detail_path(
    source: str, severity: str, route_name: str, plan: str, impact: int
) -> None:
    # Given the example multi-team configuration, whose app-incidents route matches source com.example.* with
    # $.severity critical or high; and an event without its own impact
    routes = load_config(TEAMS_CONFIG)
    raw = custom_event({"title": "Checkout is down", "severity": severity})
    raw["source"] = source

    # When it is routed
    (decision,) = route(parsed(raw), routes).decisions

    # Then the route (or the default) decides
    assert (decision.route_name, decision.response_plan_arn, decision.impact) == (route_name, plan, impact)


def test_route_on_detail_type_and_nested_detail_path() -> None:
    # Given a route on the detail-type and a nested detail field, before a catch-all on the source
    routes = config(
        [
            {"name": "payment-errors", "match": {"detail-type": "Payment*", "detail": {"$.service.tier": "1"}},
             "response_plan_arn": PAYMENTS_PLAN, "impact": 1},
            {"name": "app", "match": {"source": "app.*"}, "impact": 4},
        ]
    )  # fmt: skip
    tier_one = custom_event({"title": "Checkout is down", "service": {"name": "checkout", "tier": 1}})
    tier_two = custom_event({"title": "Reports are slow", "service": {"name": "reports", "tier": 2}})

    # When both are routed
    first = route(parsed(tier_one), routes)
    second = route(parsed(tier_two), routes)

    # Then the tier-1 event takes the first route, with both reasons; the tier-2 one falls to the source route
    assert [(d.route_name, d.impact, d.reasons) for d in first.decisions] == [
        (
            "payment-errors",
            1,
            ("detail-type 'PaymentCreated' matches 'Payment*'", "detail $.service.tier '1' matches '1'"),
        )
    ]
    assert [t.reasons for t in second.trace] == [
        ("detail $.service.tier '2' matches none of ['1']",),
        ("source 'app.payment' matches 'app.*'",),
    ]
    assert [d.route_name for d in second.decisions] == ["app"]


# ---- the published JSON Schema ----


def schema_errors(detail: dict[str, Any]) -> list[list[str | int]]:
    """The failing paths the JSON Schema reports for a detail (needs the `jsonschema` package)."""
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    return sorted(list(error.absolute_path) for error in validator.iter_errors(detail))


def test_published_schema_accepts_the_valid_detail() -> None:
    # Given the valid detail (with an extra field) / When the schema validates it / Then it finds nothing
    assert schema_errors(VALID_DETAIL) == []


@pytest.mark.parametrize(
    ("detail", "path"),
    [
        pytest.param({k: v for k, v in VALID_DETAIL.items() if k != "title"}, [], id="missing-title"),
        pytest.param({**VALID_DETAIL, "impact": 7}, ["impact"], id="impact-7"),
        pytest.param({**VALID_DETAIL, "resource_arns": ["checkout-function"]}, ["resource_arns", 0], id="bad-arn"),
        pytest.param(
            {**VALID_DETAIL, "related_urls": [{"title": "t", "url": "ftp://example.com/x"}]},
            ["related_urls", 0, "url"],
            id="ftp-url",
        ),
        pytest.param({**VALID_DETAIL, "source": "aws.x"}, ["source"], id="aws-source"),
    ],
)
def test_published_schema_rejects_what_the_bridge_rejects(detail: dict[str, Any], path: list[str | int]) -> None:
    # Given a detail the bridge rejects
    # When the published schema validates it
    errors = schema_errors(detail)

    # Then the schema reports the same field (a missing required field is reported at the object)
    assert errors == [path]
