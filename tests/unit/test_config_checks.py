"""`config check` warnings: routes that can never be reached, matchers that can never fire. Pure: configurations in,
warnings out."""

from __future__ import annotations

from typing import Any

import pytest

from incident_bridge.cli.checks import covers, impossible_regex, warnings_for
from incident_bridge.config import parse_config
from tests.conftest import EVENTS_DIR, PLAN_ARN

TEAMS_CONFIG = EVENTS_DIR.parent / "examples" / "bridge.teams.yaml"


def config_with(*routes: dict[str, Any]) -> Any:
    return parse_config({"default": {"response_plan_arn": PLAN_ARN}, "routes": list(routes)}, origin="test")


def test_the_example_configuration_has_no_warnings() -> None:
    # Given the documented multi-team configuration
    from incident_bridge.config import load_config

    # When it is checked / Then nothing is unreachable and every matcher can fire
    assert warnings_for(load_config(TEAMS_CONFIG)) == []


def test_a_route_without_match_before_others_is_warned_about() -> None:
    # Given a drop route without `match`, then a route
    config = config_with({"name": "quiet", "drop": True}, {"name": "ec2", "match": {"namespace": "AWS/EC2"}})

    # When it is checked / Then the catch-all is named, with what it hides and what to do
    assert warnings_for(config) == [
        "routes.0 (quiet) has no 'match': it drops every event, so the 1 route(s) after it and the default are never "
        "reached. Give it a 'match', move it last, or set 'continue: true'."
    ]


@pytest.mark.parametrize(
    "routes",
    [
        pytest.param([{"name": "last", "impact": 2}], id="catch-all-last"),
        pytest.param([{"name": "all", "continue": True}, {"match": {"namespace": "AWS/EC2"}}], id="catch-all-continue"),
    ],
)
def test_a_route_without_match_that_hides_nothing_is_not_warned_about(routes: list[dict[str, Any]]) -> None:
    # Given a catch-all that is last, or that continues / When checked / Then no warning
    assert warnings_for(config_with(*routes)) == []


def test_a_later_route_fully_covered_by_an_earlier_one_is_unreachable() -> None:
    # Given a route on a namespace, then a narrower route on the same namespace
    config = config_with(
        {"name": "lambda", "match": {"namespace": "AWS/Lambda"}},
        {"name": "lambda-errors", "match": {"namespace": "AWS/Lambda", "metric_name": "Errors"}},
    )

    # When checked / Then the narrower one is named as never reached, because of the earlier
    assert warnings_for(config) == [
        "routes.1 (lambda-errors) is never reached: routes.0 (lambda) comes first and catches every event it would "
        "match (namespace: AWS/Lambda). Move it above, or narrow the earlier route."
    ]


@pytest.mark.parametrize(
    ("earlier", "later", "covered"),
    [
        pytest.param({"alarm_name": "web-*"}, {"alarm_name": "web-1"}, True, id="glob-covers-literal"),
        pytest.param({"alarm_name": "*"}, {"alarm_name": "db-*"}, True, id="star-covers-glob"),
        pytest.param({"alarm_name": "web-*"}, {"alarm_name": "w*"}, False, id="glob-does-not-cover-wider-glob"),
        pytest.param({"alarm_name": "web-*"}, {"namespace": "AWS/EC2"}, False, id="other-matcher"),
        pytest.param({"tags": {"team": "pay*"}}, {"tags": {"team": "payments", "tier": "1"}}, True, id="tags"),
        pytest.param({"tags": {"team": "pay*"}}, {"tags": {"tier": "1"}}, False, id="tag-key-missing"),
        pytest.param(
            {"alarm_name_regex": "^web-"}, {"alarm_name_regex": "^web-", "region": "eu-west-1"}, True, id="same-regex"
        ),
        pytest.param({"alarm_name_regex": "^web-"}, {"alarm_name_regex": "^web-1"}, False, id="other-regex"),
        pytest.param(
            {"namespace": ["AWS/EC2", "AWS/EBS"]}, {"namespace": "AWS/EBS"}, True, id="alternatives-cover-one"
        ),
        pytest.param({"namespace": "AWS/EBS"}, {"namespace": ["AWS/EC2", "AWS/EBS"]}, False, id="one-of-two"),
    ],
)
def test_covers(earlier: dict[str, Any], later: dict[str, Any], covered: bool) -> None:
    # Given two routes' matchers
    config = config_with({"match": earlier}, {"match": later})
    first, second = config.routes

    # When compared / Then `earlier` covers `later` only when every event of `later` surely matches `earlier`
    assert covers(first.match, second.match) is covered


def test_a_continue_route_never_makes_a_later_one_unreachable() -> None:
    # Given an earlier `continue` route that covers a later one / When checked / Then no warning
    config = config_with(
        {"match": {"namespace": "AWS/Lambda"}, "continue": True},
        {"match": {"namespace": "AWS/Lambda", "metric_name": "Errors"}},
    )
    assert warnings_for(config) == []


@pytest.mark.parametrize(
    ("match", "warning"),
    [
        pytest.param(
            {"namespace": "AWS/Lamda"},
            "routes.0: namespace 'AWS/Lamda' is not one the bridge knows AWS to publish (names starting AWS/ are "
            "AWS's own; no alarm can have a made-up one): did you mean 'AWS/Lambda'?",
            id="misspelt-aws-namespace",
        ),
        pytest.param(
            {"source": "com.example.*", "namespace": "AWS/EC2"},
            "routes.0: 'namespace' can never fire: it matches alarms only, and 'source' (com.example.*) excludes "
            "alarms, whose source is aws.cloudwatch",
            id="alarm-matcher-with-a-custom-source",
        ),
        pytest.param(
            {"detail-type": "Order Failed", "metric_name": "Errors"},
            "routes.0: 'metric_name' can never fire: it matches alarms only, and 'detail-type' (Order Failed) "
            "excludes alarms, whose detail-type is CloudWatch Alarm State Change",
            id="alarm-matcher-with-a-custom-detail-type",
        ),
        pytest.param(
            {"state": "INSUFFICIENT_DATA"},
            "routes.0: state INSUFFICIENT_DATA can never fire: only ALARM and OK (alarms; INSUFFICIENT_DATA is "
            "ignored before routing) and firing and recovering (AWS service events) reach routing",
            id="insufficient-data-state",
        ),
        pytest.param(
            {"account": "123456"},
            "routes.0: account '123456' can never fire: AWS account ids are 12 digits",
            id="six-digit-account",
        ),
        pytest.param(
            {"region": "Ireland"},
            "routes.0: region 'Ireland' can never fire: it is not a region code like us-east-1",
            id="region-name",
        ),
        pytest.param(
            {"alarm_name_regex": "^$"},
            "routes.0: alarm_name_regex '^$' can never fire: it matches only the empty name, and alarm names have at "
            "least one character",
            id="empty-only-regex",
        ),
    ],
)
def test_a_matcher_that_can_never_fire_is_warned_about(match: dict[str, Any], warning: str) -> None:
    # Given a route with one matcher that no event can satisfy / When checked / Then it is named with the reason
    assert warnings_for(config_with({"match": match})) == [warning]


@pytest.mark.parametrize(
    "match",
    [
        {"namespace": "MyApp/Orders"},
        {"namespace": "AWS/*"},
        {"namespace": "AWS/Lambda"},
        {"source": "aws.cloudwatch", "namespace": "AWS/EC2"},
        {"account": "1234*"},
        {"region": "eu-*"},
        {"state": "OK"},
        {"source": "aws.guardduty", "state": "firing"},  # service events carry a state label too
        {"alarm_name_regex": "^(wiki|jira|ci)-"},
    ],
    ids=str,
)
def test_matchers_that_can_fire_are_not_warned_about(match: dict[str, Any]) -> None:
    # Given a route whose matchers some event satisfies / When checked / Then no warning
    assert warnings_for(config_with({"match": match})) == []


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("a^b", "'^' (the start) comes after a character that must be matched"),
        ("[ab]\\Aweb", "'\\\\A' (the start) comes after a character that must be matched"),
        ("web$-1", "a character must be matched after the end anchor"),
        ("^\\Z", "it matches only the empty name, and alarm names have at least one character"),
        ("^web-\\d+$", None),
        ("a*^b", None),  # `a*` may match nothing
        ("x|a^b", None),  # alternation at the top level: left alone
        ("(?m)a$\\nb", None),  # inline flags: left alone
    ],
)
def test_impossible_regex(pattern: str, why: str | None) -> None:
    # Given a regular expression / When examined / Then only shapes that surely match no alarm name are named
    assert impossible_regex(pattern) == why
