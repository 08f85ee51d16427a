"""Routing: every matcher (matching and not, with its explanation), precedence, `continue`, `drop`, the default
route and what routes inherit from it, impact from a tag, related URLs and the title template; plus each bad
configuration with its error message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from incident_bridge.adapters.api_model import ensure_valid
from incident_bridge.adapters.dry_run import DryRunIncidentManager
from incident_bridge.adapters.memory_groups import MemoryGroupStore
from incident_bridge.bridge import Bridge
from incident_bridge.config import BridgeConfig, RelatedUrl, parse_config
from incident_bridge.errors import ConfigError
from incident_bridge.incident import build_start_incident
from incident_bridge.outcome import OutcomeKind
from incident_bridge.routing import RouteDecision, RouteTrace, route
from incident_bridge.signal import Signal
from incident_bridge.sources import parse_event
from tests.bad_configs import BAD_CONFIGS, MATCH_KEYS
from tests.conftest import load_event

EC2_ALARM = "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
NETWORK_ALARM = "eventbridge-metric-math-alarm-ALARM-from-INSUFFICIENT_DATA-ec2-network-awsdocs.json"
CUSTOM_EVENT = "custom-app-eventbridge-PaymentCreated-no-resources-powertools.json"

PLATFORM_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/platform-oncall"
PAYMENTS_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/payments-oncall"
DATABASE_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/database-oncall"
RUNBOOK_URL = "https://wiki.example.com/runbooks/cpu"
DASHBOARD_URL = "https://grafana.example.com/d/ec2"


# ---- building subjects and configurations ----


def config(routes: list[dict[str, Any]], **default: Any) -> BridgeConfig:
    return parse_config(
        {"default": {"response_plan_arn": PLATFORM_PLAN, **default}, "routes": routes}, origin="test.yaml"
    )


def as_alarm(raw: dict[str, Any]) -> Signal:
    parsed = parse_event(raw)
    assert isinstance(parsed, Signal)
    return parsed


def as_custom(raw: dict[str, Any]) -> Signal:
    parsed = parse_event(raw)
    assert isinstance(parsed, Signal)
    return parsed


def renamed(raw: dict[str, Any], name: str) -> dict[str, Any]:
    """The alarm name lives in the detail and, as the alarm ARN, in `resources`."""
    raw["detail"]["alarmName"] = name
    raw["resources"] = [f"arn:aws:cloudwatch:{raw['region']}:{raw['account']}:alarm:{name}"]
    return raw


def relocated(raw: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    """Account and region come from the alarm ARN in `resources`; the envelope is changed to agree."""
    raw["account"], raw["region"] = account, region
    raw["resources"] = [f"arn:aws:cloudwatch:{region}:{account}:alarm:{raw['detail']['alarmName']}"]
    return raw


def tagged(raw: dict[str, Any], tags: dict[str, str]) -> dict[str, Any]:
    raw["detail"]["alarmTags"] = tags
    return raw


def ec2_alarm(tags: dict[str, str] | None = None) -> Signal:
    raw = load_event(EC2_ALARM)
    return as_alarm(tagged(raw, tags) if tags is not None else raw)


def custom_event(detail: dict[str, Any]) -> Signal:
    raw = load_event(CUSTOM_EVENT)
    raw["account"] = "123456789012"  # the Powertools sample's 13-digit account is not an AWS account id
    raw["detail"] = detail
    return as_custom(raw)


PAYMENT_DETAIL: dict[str, Any] = {
    "title": "Payments are failing",
    "severity": "critical",
    "service": {"name": "checkout", "tier": 1},
    "retryable": True,
    "attempts": 3,
}


@pytest.fixture
def build_request() -> Callable[[Signal, RouteDecision], dict[str, Any]]:
    """The StartIncident parameters for a decision; every request built here passes the full service model."""

    def build(subject: Signal, decision: RouteDecision) -> dict[str, Any]:
        params = build_start_incident(subject, decision).to_params()
        ensure_valid("StartIncident", params)
        return params

    return build


# ---- each matcher, matching and not, and its explanation ----


def network_alarm_on_two_instances() -> Signal:
    # The documented metric-math alarm sums NetworkIn and NetworkOut of one instance; here m2 reads another one.
    raw = load_event(NETWORK_ALARM)
    raw["detail"]["configuration"]["metrics"][2]["metricStat"]["metric"]["dimensions"]["InstanceId"] = "i-0bbb"
    return as_alarm(raw)


def ec2_alarm_in(account: str, region: str) -> Signal:
    return as_alarm(relocated(load_event(EC2_ALARM), account, region))


def ec2_alarm_in_state(state: str) -> Signal:
    raw = load_event(EC2_ALARM)
    raw["detail"]["state"]["value"] = state
    return as_alarm(raw)


MATCHER_CASES: list[tuple[str, Callable[[], Signal], dict[str, Any], bool, str]] = [
    # alarm_name: globs, case-sensitive, a list is a set of alternatives
    ("name-glob", ec2_alarm, {"alarm_name": "ServerCpu*"}, True, "alarm name 'ServerCpuTooHigh' matches 'ServerCpu*'"),
    ("name-any-of", ec2_alarm, {"alarm_name": ["test-*", "*TooHigh"]}, True,
     "alarm name 'ServerCpuTooHigh' matches '*TooHigh'"),
    ("name-none-of", ec2_alarm, {"alarm_name": ["test-*", "*-canary"]}, False,
     "alarm name 'ServerCpuTooHigh' matches none of ['test-*', '*-canary']"),
    ("name-case", ec2_alarm, {"alarm_name": "servercpu*"}, False,
     "alarm name 'ServerCpuTooHigh' matches none of ['servercpu*']"),
    # alarm_name_regex: re.search, so unanchored patterns match anywhere
    ("regex-anchored", ec2_alarm, {"alarm_name_regex": "^Server.+High$"}, True,
     "alarm name 'ServerCpuTooHigh' matches /^Server.+High$/"),
    ("regex-search", ec2_alarm, {"alarm_name_regex": "Cpu"}, True, "alarm name 'ServerCpuTooHigh' matches /Cpu/"),
    ("regex-none", ec2_alarm, {"alarm_name_regex": ["^db-", "^cache-"]}, False,
     "alarm name 'ServerCpuTooHigh' matches none of [/^db-/, /^cache-/]"),
    # namespace
    ("namespace", ec2_alarm, {"namespace": "AWS/EC2"}, True, "namespace 'AWS/EC2' matches 'AWS/EC2'"),
    ("namespace-glob", ec2_alarm, {"namespace": "AWS/*"}, True, "namespace 'AWS/EC2' matches 'AWS/*'"),
    ("namespace-none", ec2_alarm, {"namespace": ["AWS/Lambda", "AWS/RDS"]}, False,
     "namespace 'AWS/EC2' matches none of ['AWS/Lambda', 'AWS/RDS']"),
    # metric_name: any of the alarm's metrics (a metric-math alarm has several)
    ("metric", ec2_alarm, {"metric_name": "CPUUtilization"}, True, "metric 'CPUUtilization' matches 'CPUUtilization'"),
    ("metric-second-of-several", network_alarm_on_two_instances, {"metric_name": "NetworkOut"}, True,
     "metric 'NetworkOut' matches 'NetworkOut'"),
    ("metric-none", network_alarm_on_two_instances, {"metric_name": ["Errors", "Throttles"]}, False,
     "metric 'NetworkIn', 'NetworkOut' matches none of ['Errors', 'Throttles']"),
    # dimensions: name -> glob of the value; any metric may carry it
    ("dimension", ec2_alarm, {"dimensions": {"InstanceId": "i-1234*"}}, True,
     "dimension InstanceId 'i-12345678901234567' matches 'i-1234*'"),
    ("dimension-second-metric", network_alarm_on_two_instances, {"dimensions": {"InstanceId": "i-0bbb"}}, True,
     "dimension InstanceId 'i-0bbb' matches 'i-0bbb'"),
    ("dimension-value-differs", ec2_alarm, {"dimensions": {"InstanceId": ["i-0aaa", "i-0bbb"]}}, False,
     "dimension InstanceId 'i-12345678901234567' matches none of ['i-0aaa', 'i-0bbb']"),
    ("dimension-absent", ec2_alarm, {"dimensions": {"FunctionName": "checkout-*"}}, False,
     "dimension FunctionName absent (wanted ['checkout-*'])"),
    ("dimensions-all-keys", ec2_alarm, {"dimensions": {"InstanceId": "i-*", "AutoScalingGroupName": "web-*"}}, False,
     "dimension AutoScalingGroupName absent (wanted ['web-*'])"),
    # account and region (from the alarm ARN)
    ("account", ec2_alarm, {"account": "123456789012"}, True, "account '123456789012' matches '123456789012'"),
    ("account-none", lambda: ec2_alarm_in("210987654321", "us-east-1"), {"account": ["123456789012"]}, False,
     "account '210987654321' matches none of ['123456789012']"),
    ("region", ec2_alarm, {"region": "us-*"}, True, "region 'us-east-1' matches 'us-*'"),
    ("region-none", lambda: ec2_alarm_in("123456789012", "eu-west-1"), {"region": "us-*"}, False,
     "region 'eu-west-1' matches none of ['us-*']"),
    # state
    ("state", ec2_alarm, {"state": "ALARM"}, True, "state 'ALARM' matches 'ALARM'"),
    ("state-none", lambda: ec2_alarm_in_state("OK"), {"state": "ALARM"}, False,
     "state 'OK' matches none of ['ALARM']"),
    ("state-of-custom-event", lambda: custom_event(PAYMENT_DETAIL), {"state": "*"}, False,
     "state absent (wanted ['*'])"),
    # tags (alarmTags in the event)
    ("tag", lambda: ec2_alarm({"team": "payments"}), {"tags": {"team": "pay*"}}, True,
     "tag team 'payments' matches 'pay*'"),
    ("tag-other-value", lambda: ec2_alarm({"team": "search"}), {"tags": {"team": "payments"}}, False,
     "tag team 'search' matches none of ['payments']"),
    ("tag-absent", ec2_alarm, {"tags": {"team": "payments"}}, False, "tag team absent (wanted ['payments'])"),
    # source and detail-type (an alarm's are CloudWatch's)
    ("source", lambda: custom_event(PAYMENT_DETAIL), {"source": "app.*"}, True, "source 'app.payment' matches 'app.*'"),
    ("source-none", ec2_alarm, {"source": "com.example.*"}, False,
     "source 'aws.cloudwatch' matches none of ['com.example.*']"),
    ("detail-type", lambda: custom_event(PAYMENT_DETAIL), {"detail-type": "Payment*"}, True,
     "detail-type 'PaymentCreated' matches 'Payment*'"),
    ("detail-type-of-alarm", ec2_alarm, {"detail-type": "CloudWatch Alarm State Change"}, True,
     "detail-type 'CloudWatch Alarm State Change' matches 'CloudWatch Alarm State Change'"),
    ("detail-type-none", lambda: custom_event(PAYMENT_DETAIL), {"detail-type": ["OrderFailed"]}, False,
     "detail-type 'PaymentCreated' matches none of ['OrderFailed']"),
    # detail paths: strings, nested keys, numbers and booleans (compared as their lower-case JSON-ish text)
    ("detail-string", lambda: custom_event(PAYMENT_DETAIL), {"detail": {"$.severity": ["critical", "high"]}}, True,
     "detail $.severity 'critical' matches 'critical'"),
    ("detail-nested", lambda: custom_event(PAYMENT_DETAIL), {"detail": {"$.service.name": "check*"}}, True,
     "detail $.service.name 'checkout' matches 'check*'"),
    ("detail-number", lambda: custom_event(PAYMENT_DETAIL), {"detail": {"$.attempts": "3"}}, True,
     "detail $.attempts '3' matches '3'"),
    ("detail-nested-number", lambda: custom_event(PAYMENT_DETAIL), {"detail": {"$.service.tier": ["1", "2"]}}, True,
     "detail $.service.tier '1' matches '1'"),
    ("detail-bool", lambda: custom_event(PAYMENT_DETAIL), {"detail": {"$.retryable": "true"}}, True,
     "detail $.retryable 'true' matches 'true'"),
    ("detail-bool-none", lambda: custom_event(PAYMENT_DETAIL), {"detail": {"$.retryable": "True"}}, False,
     "detail $.retryable 'true' matches none of ['True']"),
    ("detail-string-none", lambda: custom_event(PAYMENT_DETAIL), {"detail": {"$.severity": "low"}}, False,
     "detail $.severity 'critical' matches none of ['low']"),
    ("detail-missing", lambda: custom_event(PAYMENT_DETAIL), {"detail": {"$.service.region": "*"}}, False,
     "detail $.service.region absent (wanted ['*'])"),
    ("detail-object", lambda: custom_event(PAYMENT_DETAIL), {"detail": {"$.service": "*"}}, False,
     "detail $.service absent (wanted ['*'])"),
    ("detail-of-alarm", ec2_alarm, {"detail": {"$.configuration.description": "*CPU*"}}, True,
     "detail $.configuration.description 'Goes into alarm when server CPU utilization is too high!' matches '*CPU*'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("make_subject", "match", "matched", "reason"),
    [pytest.param(*case[1:], id=case[0]) for case in MATCHER_CASES],
)
def test_matcher_matches_or_not_and_explains_with_the_value_and_the_pattern(
    make_subject: Callable[[], Signal], match: dict[str, Any], matched: bool, reason: str
) -> None:
    # Given one route with a single matcher, and an event copied from a real sample
    subject = make_subject()
    routes = config([{"name": "under-test", "match": match, "response_plan_arn": PAYMENTS_PLAN}])

    # When the event is routed
    routing = route(subject, routes)

    # Then the trace says whether the route matched and why, naming the value and the pattern
    assert routing.trace == (RouteTrace("under-test", matched, (reason,)),)
    assert [decision.route_name for decision in routing.decisions] == ["under-test" if matched else "default"]


def test_all_matchers_of_a_route_must_hold_and_each_gives_its_reason() -> None:
    # Given a route with four matchers that all hold for the documented EC2 alarm
    match = {"region": "us-east-1", "namespace": "AWS/EC2", "alarm_name": "Server*", "state": "ALARM"}
    routes = config([{"name": "ec2", "match": match}])

    # When it is routed
    routing = route(ec2_alarm(), routes)

    # Then the route matches with one reason per matcher (in the matchers' fixed order)
    assert routing.trace == (
        RouteTrace(
            "ec2",
            True,
            (
                "alarm name 'ServerCpuTooHigh' matches 'Server*'",
                "namespace 'AWS/EC2' matches 'AWS/EC2'",
                "region 'us-east-1' matches 'us-east-1'",
                "state 'ALARM' matches 'ALARM'",
            ),
        ),
    )
    assert routing.decisions[0].reasons == routing.trace[0].reasons


def test_one_failing_matcher_fails_the_route_and_is_the_only_reason_given() -> None:
    # Given a route whose name and namespace matchers hold but whose region matcher does not
    routes = config([{"name": "ec2-eu", "match": {"alarm_name": "Server*", "namespace": "AWS/EC2", "region": "eu-*"}}])

    # When the us-east-1 alarm is routed
    routing = route(ec2_alarm(), routes)

    # Then the route does not match, the reason is the failing matcher, and the default route decides
    assert routing.trace == (RouteTrace("ec2-eu", False, ("region 'us-east-1' matches none of ['eu-*']",)),)
    assert [decision.route_name for decision in routing.decisions] == ["default"]


def test_route_without_matchers_matches_everything() -> None:
    # Given a route with no `match`
    routes = config([{"name": "everything", "response_plan_arn": PAYMENTS_PLAN}])

    # When an alarm is routed
    routing = route(ec2_alarm(), routes)

    # Then it matches, and says so
    assert routing.trace == (RouteTrace("everything", True, ("matches everything (no matchers)",)),)
    assert routing.decisions[0].response_plan_arn == PAYMENTS_PLAN


# ---- precedence, continue, drop, default ----


def test_first_matching_route_wins_and_later_routes_are_not_evaluated() -> None:
    # Given three routes: one that does not match, then two that do
    routes = config(
        [
            {"name": "lambda", "match": {"namespace": "AWS/Lambda"}, "response_plan_arn": DATABASE_PLAN},
            {"name": "ec2", "match": {"namespace": "AWS/EC2"}, "response_plan_arn": PAYMENTS_PLAN},
            {"name": "server", "match": {"alarm_name": "Server*"}, "response_plan_arn": DATABASE_PLAN},
        ]
    )

    # When the EC2 alarm is routed
    routing = route(ec2_alarm(), routes)

    # Then only the first matching route decides, and routing stopped there
    assert [(d.route_name, d.response_plan_arn) for d in routing.decisions] == [("ec2", PAYMENTS_PLAN)]
    assert [(t.route_name, t.matched) for t in routing.trace] == [("lambda", False), ("ec2", True)]
    assert routing.dropped_by is None


def test_continue_adds_one_decision_per_matching_route_in_order_each_with_its_own_client_token(
    build_request: Callable[[Signal, RouteDecision], dict[str, Any]],
) -> None:
    # Given a `continue` route, a second matching route without it, and a third matching route after them
    routes = config(
        [
            {"name": "ec2", "match": {"namespace": "AWS/EC2"}, "response_plan_arn": PAYMENTS_PLAN, "impact": 1,
             "continue": True},
            {"name": "lambda", "match": {"namespace": "AWS/Lambda"}, "response_plan_arn": PLATFORM_PLAN},
            {"name": "cpu", "match": {"metric_name": "CPUUtilization"}, "response_plan_arn": DATABASE_PLAN},
            {"name": "server", "match": {"alarm_name": "Server*"}, "response_plan_arn": PLATFORM_PLAN},
        ]
    )  # fmt: skip
    alarm = ec2_alarm()

    # When the EC2 alarm is routed and a request is built for each decision
    routing = route(alarm, routes)
    requests = [build_request(alarm, decision) for decision in routing.decisions]

    # Then the `continue` route and the next matching one each decide, in order, with their own plan and impact;
    # the route after the second (which did not say `continue`) is never evaluated
    assert [(d.route_name, d.response_plan_arn, d.impact) for d in routing.decisions] == [
        ("ec2", PAYMENTS_PLAN, 1),
        ("cpu", DATABASE_PLAN, 3),
    ]
    assert [t.route_name for t in routing.trace] == ["ec2", "lambda", "cpu"]
    assert [request["responsePlanArn"] for request in requests] == [PAYMENTS_PLAN, DATABASE_PLAN]
    assert len({request["clientToken"] for request in requests}) == 2


def test_continue_route_alone_does_not_add_the_default_route() -> None:
    # Given a `continue` route that matches and no later route that does
    routes = config([{"name": "ec2", "match": {"namespace": "AWS/EC2"}, "continue": True, "impact": 2}])

    # When the EC2 alarm is routed
    routing = route(ec2_alarm(), routes)

    # Then the `continue` route's decision is the only one: the default catches only what no route caught
    assert [(d.route_name, d.impact) for d in routing.decisions] == [("ec2", 2)]


def test_drop_route_first_opens_nothing_and_names_itself() -> None:
    # Given a `drop` route for canaries before a route that would also match
    routes = config(
        [
            {"name": "canaries", "match": {"alarm_name": ["test-*", "*-canary"]}, "drop": True},
            {"name": "ec2", "match": {"namespace": "AWS/EC2"}, "response_plan_arn": PAYMENTS_PLAN},
        ]
    )
    alarm = as_alarm(renamed(load_event(EC2_ALARM), "checkout-canary"))

    # When a canary alarm is routed
    routing = route(alarm, routes)

    # Then there is no decision (not even the default), and the drop route is named
    assert routing.decisions == ()
    assert routing.dropped_by == "canaries"
    assert routing.trace == (RouteTrace("canaries", True, ("alarm name 'checkout-canary' matches '*-canary'",)),)


def test_drop_route_that_does_not_match_lets_routing_go_on() -> None:
    # Given a `drop` route for canaries before an EC2 route
    routes = config(
        [
            {"name": "canaries", "match": {"alarm_name": "*-canary"}, "drop": True},
            {"name": "ec2", "match": {"namespace": "AWS/EC2"}, "response_plan_arn": PAYMENTS_PLAN},
        ]
    )

    # When a non-canary alarm is routed
    routing = route(ec2_alarm(), routes)

    # Then the EC2 route decides
    assert routing.dropped_by is None
    assert [d.route_name for d in routing.decisions] == ["ec2"]


def test_drop_after_a_continue_route_keeps_the_earlier_decision_and_stops_routing() -> None:
    # Given a `continue` route, then a matching `drop` route, then a route that would match too
    routes = config(
        [
            {"name": "ec2", "match": {"namespace": "AWS/EC2"}, "response_plan_arn": PAYMENTS_PLAN, "continue": True},
            {"name": "quiet-hours", "match": {"alarm_name": "Server*"}, "drop": True},
            {"name": "cpu", "match": {"metric_name": "CPUUtilization"}, "response_plan_arn": DATABASE_PLAN},
        ]
    )
    bridge = Bridge(routes, DryRunIncidentManager(), MemoryGroupStore())

    # When the EC2 alarm is routed, and handled by the bridge
    routing = route(ec2_alarm(), routes)
    outcome = bridge.handle(load_event(EC2_ALARM))

    # Then (observed semantics) `drop` stops routing but does not take back what an earlier `continue` route
    # decided: that route's incident is still opened, the later route is not evaluated
    assert [d.route_name for d in routing.decisions] == ["ec2"]
    assert routing.dropped_by == "quiet-hours"
    assert [t.route_name for t in routing.trace] == ["ec2", "quiet-hours"]
    assert outcome.kind is OutcomeKind.STARTED
    started = [call.params for call in outcome.calls if call.operation == "StartIncident"]
    assert [params["responsePlanArn"] for params in started] == [PAYMENTS_PLAN]
    assert outcome.route_name == "ec2"


def test_default_route_decides_when_no_route_matches() -> None:
    # Given routes that do not match the EC2 alarm
    routes = config([{"name": "lambda", "match": {"namespace": "AWS/Lambda"}, "response_plan_arn": PAYMENTS_PLAN}])

    # When it is routed
    routing = route(ec2_alarm(), routes)

    # Then the default route decides, with its plan, impact and title, and says why
    assert routing.decisions == (
        RouteDecision(
            route_name="default",
            response_plan_arn=PLATFORM_PLAN,
            impact=3,
            title="ServerCpuTooHigh is in ALARM (123456789012, us-east-1)",
            related_urls=(),
            group_by=(),
            auto_resolve=False,
            reasons=("no route matched",),
        ),
    )


def test_unnamed_route_is_called_by_its_position() -> None:
    # Given an unnamed route second in the list
    routes = config([{"match": {"namespace": "AWS/Lambda"}}, {"match": {"namespace": "AWS/EC2"}}])

    # When the EC2 alarm is routed
    routing = route(ec2_alarm(), routes)

    # Then both routes are named by position
    assert [t.route_name for t in routing.trace] == ["routes[0]", "routes[1]"]
    assert routing.decisions[0].route_name == "routes[1]"


# ---- inheritance from the default route ----


def test_route_inherits_plan_impact_title_and_related_urls_it_leaves_unset() -> None:
    # Given a default with every field set and a route that sets only its matcher
    routes = config(
        [{"name": "ec2", "match": {"namespace": "AWS/EC2"}}],
        impact=4,
        title="[platform] {alarm_name}",
        related_urls=[{"title": "Platform runbooks", "url": "https://wiki.example.com/runbooks"}],
        group_by=["alarm_name"],
        auto_resolve=True,
    )

    # When the EC2 alarm is routed
    (decision,) = route(ec2_alarm(), routes).decisions

    # Then the route decides with everything from the default
    assert decision == RouteDecision(
        route_name="ec2",
        response_plan_arn=PLATFORM_PLAN,
        impact=4,
        title="[platform] ServerCpuTooHigh",
        related_urls=(RelatedUrl(title="Platform runbooks", url="https://wiki.example.com/runbooks"),),
        group_by=("alarm_name",),
        auto_resolve=True,
        reasons=("namespace 'AWS/EC2' matches 'AWS/EC2'",),
    )


def test_route_fields_replace_the_default_ones_and_related_urls_are_not_merged() -> None:
    # Given a default with every field set and a route that sets its own
    routes = config(
        [
            {
                "name": "ec2",
                "match": {"namespace": "AWS/EC2"},
                "response_plan_arn": PAYMENTS_PLAN,
                "impact": 1,
                "title": "[payments] {alarm_name}",
                "related_urls": [{"title": "Payments runbook", "url": "https://wiki.example.com/payments"}],
            }
        ],
        impact=4,
        title="[platform] {alarm_name}",
        related_urls=[{"title": "Platform runbooks", "url": "https://wiki.example.com/runbooks"}],
    )

    # When the EC2 alarm is routed
    (decision,) = route(ec2_alarm(), routes).decisions

    # Then the route's own values are used, and its related URLs replace the default's
    assert (decision.response_plan_arn, decision.impact, decision.title) == (
        PAYMENTS_PLAN,
        1,
        "[payments] ServerCpuTooHigh",
    )
    assert decision.related_urls == (RelatedUrl(title="Payments runbook", url="https://wiki.example.com/payments"),)


# ---- impact from a tag ----


@pytest.mark.parametrize(
    ("tag_value", "impact"),
    [("1", 1), ("5", 5), (" 2 ", 2), ("9", 3), ("0", 3), ("high", 3), ("", 3), ("1.0", 3)],
)
def test_impact_tag_overrides_the_route_impact_only_with_a_valid_value(tag_value: str, impact: int) -> None:
    # Given a default naming the impact tag, and a route (impact 3) that inherits it
    routes = config([{"name": "ec2", "match": {"namespace": "AWS/EC2"}, "impact": 3}], impact_tag="incident-impact")

    # When the alarm carries the tag with this value
    (decision,) = route(ec2_alarm({"incident-impact": tag_value}), routes).decisions

    # Then a value from 1 to 5 is the impact, anything else falls back to the route's
    assert decision.impact == impact


def test_impact_tag_absent_uses_the_route_impact() -> None:
    # Given a route with an impact tag and impact 2
    routes = config([{"name": "ec2", "impact": 2, "impact_tag": "incident-impact"}])

    # When the alarm carries other tags only
    (decision,) = route(ec2_alarm({"team": "payments"}), routes).decisions

    # Then the route's impact is used
    assert decision.impact == 2


# ---- related URLs ----


def test_related_urls_come_from_the_route_and_the_url_tags_and_reach_the_request_as_other_items(
    build_request: Callable[[Signal, RouteDecision], dict[str, Any]],
) -> None:
    # Given a route with a related URL (and the default's runbook-url / dashboard-url tags), and an alarm tagged
    # with a runbook URL, a dashboard URL and a `team` tag that is not a URL
    routes = config(
        [
            {
                "name": "ec2",
                "match": {"namespace": "AWS/EC2"},
                "related_urls": [{"title": "EC2 runbook", "url": "https://wiki.example.com/ec2"}],
            }
        ]
    )
    alarm = ec2_alarm({"runbook-url": RUNBOOK_URL, "dashboard-url": DASHBOARD_URL, "team": "payments"})

    # When it is routed and the request is built
    (decision,) = route(alarm, routes).decisions
    params = build_request(alarm, decision)

    # Then the decision lists the route's URL, then one per URL tag; the request carries them first, as OTHER items
    assert decision.related_urls == (
        RelatedUrl(title="EC2 runbook", url="https://wiki.example.com/ec2"),
        RelatedUrl(title="runbook-url (alarm tag)", url=RUNBOOK_URL),
        RelatedUrl(title="dashboard-url (alarm tag)", url=DASHBOARD_URL),
    )
    assert params["relatedItems"][:3] == [
        {"title": "EC2 runbook", "identifier": {"type": "OTHER", "value": {"url": "https://wiki.example.com/ec2"}}},
        {"title": "runbook-url (alarm tag)", "identifier": {"type": "OTHER", "value": {"url": RUNBOOK_URL}}},
        {"title": "dashboard-url (alarm tag)", "identifier": {"type": "OTHER", "value": {"url": DASHBOARD_URL}}},
    ]


def test_url_tag_whose_value_is_not_a_url_is_left_out() -> None:
    # Given the default's URL tags, and an alarm whose runbook-url tag is prose
    routes = config([])

    # When it is routed
    (decision,) = route(ec2_alarm({"runbook-url": "see the wiki", "dashboard-url": DASHBOARD_URL}), routes).decisions

    # Then only the tag holding a URL is kept
    assert decision.related_urls == (RelatedUrl(title="dashboard-url (alarm tag)", url=DASHBOARD_URL),)


def test_route_can_name_its_own_url_tags() -> None:
    # Given a route reading the URL from a `playbook` tag only
    routes = config([{"name": "ec2", "related_url_tags": ["playbook"]}])
    alarm = ec2_alarm({"playbook": "https://wiki.example.com/playbook", "runbook-url": RUNBOOK_URL})

    # When it is routed
    (decision,) = route(alarm, routes).decisions

    # Then the route's tag replaces the default's list
    assert decision.related_urls == (RelatedUrl(title="playbook (alarm tag)", url="https://wiki.example.com/playbook"),)


# ---- the title template ----


@pytest.mark.parametrize(
    ("template", "tags", "title"),
    [
        ("{alarm_name}: {metric_name} ({namespace})", {}, "ServerCpuTooHigh: CPUUtilization (AWS/EC2)"),
        ("[{tag_team}] {alarm_name}", {"team": "payments"}, "[payments] ServerCpuTooHigh"),
        ("[{tag_team}] {alarm_name}", {}, "[] ServerCpuTooHigh"),
        ("{alarm_name} {tag_service}", {}, "ServerCpuTooHigh"),
        (
            "{state} in {region} via {route} ({kind}, {source})",
            {},
            "ALARM in us-east-1 via ec2 (metric, aws.cloudwatch)",
        ),
    ],
)
def test_title_template_fields(
    template: str,
    tags: dict[str, str],
    title: str,
    build_request: Callable[[Signal, RouteDecision], dict[str, Any]],
) -> None:
    # Given a route with a title template
    routes = config([{"name": "ec2", "title": template}])
    alarm = ec2_alarm(tags)

    # When the alarm is routed and the request built
    (decision,) = route(alarm, routes).decisions
    params = build_request(alarm, decision)

    # Then the fields are filled in; a tag the alarm lacks renders empty; the ends are trimmed
    assert decision.title == title
    assert params["title"] == title


def test_title_longer_than_the_api_limit_is_cut_to_200_characters_with_an_ellipsis(
    build_request: Callable[[Signal, RouteDecision], dict[str, Any]],
) -> None:
    # Given an alarm with a 255-character name (CloudWatch's maximum) and the default title template
    long_name = "A" * 255
    alarm = as_alarm(renamed(load_event(EC2_ALARM), long_name))

    # When it is routed and the request built
    (decision,) = route(alarm, config([])).decisions
    params = build_request(alarm, decision)

    # Then the decision keeps the full title and the request trims it to Incident Manager's 200
    assert decision.title == f"{long_name} is in ALARM (123456789012, us-east-1)"
    assert params["title"] == "A" * 199 + "…"


# ---- bad configurations: each error names the field and the problem ----


@pytest.mark.parametrize(("document", "message"), [pytest.param(*case[1:], id=case[0]) for case in BAD_CONFIGS])
def test_bad_configuration_is_refused_with_its_message(document: dict[str, Any], message: str) -> None:
    # Given a configuration with one mistake (the default route is valid unless the case replaces it)
    full = {"default": {"response_plan_arn": PLATFORM_PLAN}, **document}

    # When it is parsed
    with pytest.raises(ConfigError) as raised:
        parse_config(full, origin="test.yaml")

    # Then the message names the origin, the field and the problem
    assert str(raised.value) == f"test.yaml: {message}"


def test_several_mistakes_are_reported_together() -> None:
    # Given two routes, each with a mistake
    document = {
        "default": {"response_plan_arn": PLATFORM_PLAN},
        "routes": [{"name": "a", "impact": 9}, {"name": "b", "match": {"namespaces": "AWS/EC2"}}],
    }

    # When it is parsed
    with pytest.raises(ConfigError) as raised:
        parse_config(document, origin="test.yaml")

    # Then both are in one message
    assert str(raised.value) == (
        "test.yaml: routes.0.impact: must be at most 5, got 9; "
        f"routes.1.match.namespaces: unknown key (known: {MATCH_KEYS})"
    )


def test_response_plans_are_the_default_and_every_non_drop_route_plan_once() -> None:
    # Given routes naming plans, one repeated and one on a drop route
    routes = config(
        [
            {"name": "a", "response_plan_arn": PAYMENTS_PLAN},
            {"name": "b", "response_plan_arn": PAYMENTS_PLAN},
            {"name": "c", "response_plan_arn": DATABASE_PLAN, "drop": True},
            {"name": "d"},
        ]
    )

    # When the plans IAM must allow are listed
    plans = routes.response_plan_arns()

    # Then each referenced plan appears once, the drop route's not at all
    assert plans == (PLATFORM_PLAN, PAYMENTS_PLAN)
