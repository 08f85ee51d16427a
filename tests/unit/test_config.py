"""The configuration model: a bad file fails with the path to the field and what was expected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from incident_bridge.config import DEFAULT_TITLE, load_config, parse_config
from incident_bridge.errors import ConfigError, ConfigSyntaxError
from tests.bad_configs import CONFIG_KEYS, PAYMENTS_PLAN, PLAN_SHAPE, ROUTE_KEYS
from tests.conftest import PLAN_ARN, run_fresh_interpreter


def test_minimal_yaml_configuration_loads(tmp_path: Path) -> None:
    # Given a YAML file with only a default route
    path = tmp_path / "bridge.yaml"
    path.write_text(f"default:\n  response_plan_arn: {PLAN_ARN}\n  impact: 1\n", encoding="utf-8")

    # When it is loaded
    config = load_config(path)

    # Then the route carries the plan and impact, and the plans IAM must allow are exactly that one
    assert config.default.impact == 1
    assert config.response_plan_arns() == (PLAN_ARN,)


def test_json_written_by_synth_loads_back_to_the_same_model(tmp_path: Path) -> None:
    # Given a configuration serialized the way `cdk synth` ships it to the Lambda
    config = parse_config({"default": {"response_plan_arn": PLAN_ARN, "impact": 4}}, origin="test")
    path = tmp_path / "bridge_config.json"
    path.write_text(json.dumps(config.to_document()), encoding="utf-8")

    # When the Lambda loads it
    loaded = load_config(path)

    # Then nothing was lost
    assert loaded == config


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({}, "default: required"),
        ({"default": {"impact": 2}}, "default.response_plan_arn: required"),
        ({"default": {"response_plan_arn": PLAN_ARN, "impact": 9}}, "default.impact: must be at most 5, got 9"),
        (
            {"default": {"response_plan_arn": "arn:aws:sns:us-east-1:1:t"}},
            f"default.response_plan_arn: 'arn:aws:sns:us-east-1:1:t' is not a response plan ARN {PLAN_SHAPE}",
        ),
        (
            {"default": {"response_plan_arn": PLAN_ARN, "imapct": 2}},
            f"default.imapct: unknown key (known: {ROUTE_KEYS})",
        ),
        ({"default": {"response_plan_arn": PLAN_ARN}, "rootes": []}, f"rootes: unknown key (known: {CONFIG_KEYS})"),
        (None, "(root): expected an object, got null"),
    ],
)
def test_bad_configuration_names_the_field(document: object, expected: str) -> None:
    # Given a configuration document with one mistake
    # When it is validated / Then the error names the origin and the path to the field
    with pytest.raises(ConfigError) as error:
        parse_config(document, origin="bridge.yaml")
    assert str(error.value) == f"bridge.yaml: {expected}"


@pytest.mark.parametrize(
    ("file_name", "content", "expected"),
    [
        ("bridge.yaml", "default: [unclosed", "not valid YAML"),
        ("bridge.json", "{", "not valid JSON"),
    ],
)
def test_unparseable_file_is_reported_with_its_name(
    tmp_path: Path, file_name: str, content: str, expected: str
) -> None:
    # Given a file that is not valid YAML or JSON
    path = tmp_path / file_name
    path.write_text(content, encoding="utf-8")

    # When it is loaded / Then the error names the file and the syntax problem
    with pytest.raises(ConfigError, match=expected) as error:
        load_config(path)
    assert str(path) in str(error.value)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    # Given a path with no file
    path = tmp_path / "absent.yaml"

    # When it is loaded / Then the error says it cannot be read
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(path)


# A document that sets every field once, under the keys the documentation uses.
EVERY_FIELD: dict[str, Any] = {
    "default": {
        "response_plan_arn": PLAN_ARN,
        "impact": 2,
        "impact_tag": "incident-impact",
        "title": "{alarm_name} fired",
        "related_urls": [{"title": "Runbooks", "url": "https://wiki.example.com/runbooks"}],
        "related_url_tags": ["runbook-url"],
        "group_by": ["alarm_name", "tag:service"],
        "auto_resolve": True,
    },
    "routes": [
        {
            "name": "everything",
            "match": {
                "alarm_name": "api-*",
                "alarm_name_regex": ["^api-", "-p99$"],
                "namespace": "AWS/ApiGateway",
                "metric_name": ["5XXError", "Latency"],
                "dimensions": {"ApiName": "checkout"},
                "account": "123456789012",
                "region": ["us-east-1", "eu-west-1"],
                "state": "ALARM",
                "tags": {"team": ["payments", "checkout"]},
                "source": "com.example.*",
                "detail-type": "PaymentFailed",
                "detail": {"$.severity": ["critical", "high"]},
            },
            "response_plan_arn": PAYMENTS_PLAN,
            "impact": 1,
            "related_urls": [],
            "continue": True,
        },
        {"name": "quiet", "match": {"alarm_name": "test-*"}, "drop": True},
    ],
    "sns_topic_arns": ["arn:aws:sns:us-east-1:123456789012:alarms"],
    "lookup_alarm_tags": True,
    "flap_window_seconds": 60,
    "incident_check_seconds": 30,
    "fallback_response_plan_arn": PAYMENTS_PLAN,
}


def test_every_field_survives_the_json_the_lambda_ships() -> None:
    # Given a configuration that sets every field
    config = parse_config(EVERY_FIELD, origin="bridge.yaml")

    # When it is written as the asset's JSON and read back, as `cdk synth` and the Lambda do
    shipped = json.loads(json.dumps(config.to_document()))
    loaded = parse_config(shipped, origin="bridge_config.json")

    # Then it is the same configuration, written under the document's keys
    assert loaded == config
    assert shipped["routes"][0]["continue"] is True
    assert shipped["routes"][0]["match"]["detail-type"] == ["PaymentFailed"]


def test_attribute_names_are_accepted_for_continue_and_detail_type() -> None:
    # Given the same route spelled with the document's keys and with the attribute names
    documented = {"default": {"response_plan_arn": PLAN_ARN},
                  "routes": [{"match": {"detail-type": "PaymentFailed"}, "continue": True}]}  # fmt: skip
    attribute_names = {"default": {"response_plan_arn": PLAN_ARN},
                       "routes": [{"match": {"detail_type": "PaymentFailed"}, "continue_": True}]}  # fmt: skip

    # When both are parsed
    configs = [parse_config(document, origin="bridge.yaml") for document in (documented, attribute_names)]

    # Then they are the same configuration
    assert configs[0] == configs[1]
    assert configs[0].routes[0].continue_ is True
    assert configs[0].routes[0].match.detail_type == ("PaymentFailed",)


def test_matchers_take_one_value_or_a_list_and_compare_yaml_scalars_as_json_text(tmp_path: Path) -> None:
    # Given YAML matchers that YAML reads as a number, a boolean and a list mixing them
    path = tmp_path / "bridge.yaml"
    path.write_text(
        f"default:\n  response_plan_arn: {PLAN_ARN}\nroutes:\n"
        "  - match:\n      account: 123456789012\n      detail:\n        $.retryable: true\n"
        "      region: [us-east-1, 1.5, false]\n",
        encoding="utf-8",
    )

    # When it is loaded
    match = load_config(path).routes[0].match

    # Then every matcher holds a tuple of text, spelled as JSON spells the values
    assert match.account == ("123456789012",)
    assert match.detail == {"$.retryable": ("true",)}
    assert match.region == ("us-east-1", "1.5", "false")


def test_default_route_fills_what_the_document_leaves_unset() -> None:
    # Given a default route naming only its plan
    # When it is parsed
    config = parse_config({"default": {"response_plan_arn": PLAN_ARN}}, origin="bridge.yaml")

    # Then the default route and the top-level settings take their documented defaults
    default = config.default
    assert (default.name, default.impact, default.title, default.auto_resolve) == ("default", 3, DEFAULT_TITLE, False)
    assert default.related_url_tags == ("runbook-url", "dashboard-url")
    assert (config.routes, config.sns_topic_arns, config.lookup_alarm_tags) == ((), (), False)
    assert (config.flap_window_seconds, config.incident_check_seconds) == (900, 0)
    assert config.fallback_response_plan_arn is None


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ({"match": {"account": []}}, "routes.0.match.account: expected at least one value"),
        ({"match": {"region": ["us-east-1", None]}}, "routes.0.match.region.1: expected a string, got null"),
        ({"match": {"state": {"value": "ALARM"}}},
         "routes.0.match.state: expected a string or a list of strings, got an object"),
        ({"match": {"tags": {"team": None}}},
         "routes.0.match.tags.team: expected a string or a list of strings, got null"),
        ({"match": {"dimensions": ["InstanceId"]}}, "routes.0.match.dimensions: expected an object, got a list"),
        ({"group_by": ["alarm_name", "tag:"]},
         "routes.0.group_by.1: unknown field 'tag:' (known: account, account_alias, alarm_arn, alarm_name, "
         "detail_type, metric_name, namespace, profile, region, source, tag:<key>, dimension:<name>, detail:<path>)"),
        # The matchers' spelling of a detail path (`$.pipeline`) names no label: every event would group alone.
        ({"group_by": ["detail:$.pipeline"]},
         "routes.0.group_by.0: 'detail:$.pipeline' spells the path as a matcher does (group_by names the label: "
         "'detail:pipeline')"),
        ({"title": "{alarm_name"}, "routes.0.title: not a valid title template: expected '}' before end of string"),
        ({"name": "x" * 65}, "routes.0.name: must have at most 64 characters, got 65"),
        ({"related_urls": [{"title": "", "url": "https://example.com"}]},
         "routes.0.related_urls.0.title: must have at least 1 character"),
        ({"drop": "yes"}, "routes.0.drop: expected true or false, got a string"),
        ("payments", "routes.0: expected an object, got a string"),
    ],
)  # fmt: skip
def test_bad_route_field_is_named_with_its_problem(route: object, expected: str) -> None:
    # Given a route with one malformed field
    document = {"default": {"response_plan_arn": PLAN_ARN}, "routes": [route]}

    # When it is parsed / Then the message names the field, down to the list item or the key
    with pytest.raises(ConfigError) as error:
        parse_config(document, origin="bridge.yaml")
    assert str(error.value) == f"bridge.yaml: {expected}"


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"flap_window_seconds": 86_401}, "flap_window_seconds: must be at most 86400, got 86401"),
        ({"incident_check_seconds": -1}, "incident_check_seconds: must be at least 0, got -1"),
        ({"incident_check_seconds": "30"}, "incident_check_seconds: expected a whole number, got a string"),
        ({"lookup_alarm_tags": "true"}, "lookup_alarm_tags: expected true or false, got a string"),
        ({"fallback_response_plan_arn": PLAN_ARN + "\n"},
         f"fallback_response_plan_arn: {PLAN_ARN + chr(10)!r}: 'response-plan/MyPlan\\n' is not response-plan/NAME, "
         f"NAME being 1-200 of A-Z a-z 0-9 _ - {PLAN_SHAPE}"),
        ({"default": {"response_plan_arn": PLAN_ARN, "continue": True}},
         "default: the default route is the last resort: `drop` and `continue` do not apply to it"),
    ],
)  # fmt: skip
def test_bad_top_level_setting_is_named_with_its_problem(settings: dict[str, Any], expected: str) -> None:
    # Given a valid default route and one bad setting (a trailing newline, as a YAML block scalar leaves, included)
    document = {"default": {"response_plan_arn": PLAN_ARN}, **settings}

    # When it is parsed / Then the message names the setting
    with pytest.raises(ConfigError) as error:
        parse_config(document, origin="bridge.yaml")
    assert str(error.value) == f"bridge.yaml: {expected}"


LONG_PLAN_NAME = "payments-oncall-" + "x" * 90


@pytest.mark.parametrize(
    ("plan_arn", "expected"),
    [
        pytest.param(
            "arn:aws:ssm-incidents:eu-west-1:123456789012:response-plan/payments",
            "'arn:aws:ssm-incidents:eu-west-1:123456789012:response-plan/payments' names region 'eu-west-1': "
            f"response plan ARNs have none {PLAN_SHAPE}",
            id="with-a-region",
        ),
        pytest.param(
            "arn:aws:ssm-incidents::123456:response-plan/payments",
            f"'arn:aws:ssm-incidents::123456:response-plan/payments': account '123456' is not 12 digits {PLAN_SHAPE}",
            id="six-digit-account",
        ),
        pytest.param(
            f"arn:aws:ssm-incidents::123456789012:response-plan/{LONG_PLAN_NAME}.",
            f"'arn:aws:ssm-incidents::123456789012:response-plan/{LONG_PLAN_NAME}.': "
            f"'response-plan/{LONG_PLAN_NAME}.' is not response-plan/NAME, NAME being 1-200 of A-Z a-z 0-9 _ - "
            f"{PLAN_SHAPE}",
            id="long-value-shown-whole",
        ),
        pytest.param("payments-oncall", f"'payments-oncall' is not a response plan ARN {PLAN_SHAPE}", id="a-bare-name"),
    ],
)
def test_a_bad_plan_arn_is_shown_whole_with_the_expected_shape(plan_arn: str, expected: str) -> None:
    # Given a default route whose plan ARN is wrong in one way
    document = {"default": {"response_plan_arn": plan_arn}}

    # When it is parsed
    with pytest.raises(ConfigError) as error:
        parse_config(document, origin="bridge.yaml")

    # Then the message quotes the whole value, says what is wrong and shows the shape, with no regular expression
    assert str(error.value) == f"bridge.yaml: default.response_plan_arn: {expected}"
    assert "\\Z" not in str(error.value)
    assert "[0-9]" not in str(error.value)


@pytest.mark.parametrize(
    ("file_name", "text", "expected"),
    [
        pytest.param(
            "bridge.yaml",
            "default:\n  response_plan_arn: x\n  impact: [1\nroutes: []\n",
            "bridge.yaml:4:7: not valid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence)",
            id="yaml",
        ),
        pytest.param(
            "bridge.json",
            '{"default": {\n  "impact": 1,\n}}',
            "bridge.json:3:1: not valid JSON: Expecting property name enclosed in double quotes",
            id="json",
        ),
    ],
)
def test_a_syntax_error_is_one_line_with_file_line_and_column(
    tmp_path: Path, file_name: str, text: str, expected: str
) -> None:
    # Given a configuration file that is not YAML (or JSON) at all
    path = tmp_path / file_name
    path.write_text(text, encoding="utf-8")

    # When it is loaded
    with pytest.raises(ConfigSyntaxError) as error:
        load_config(path)

    # Then the error is one line: file:line:column: what the parser expected
    assert str(error.value) == f"{tmp_path}/{expected}"


def test_a_document_wrong_everywhere_reports_the_first_twenty_problems_and_counts_the_rest() -> None:
    # Given 25 routes, each with an impact out of range
    document = {"default": {"response_plan_arn": PLAN_ARN}, "routes": [{"impact": 9}] * 25}

    # When it is parsed
    with pytest.raises(ConfigError) as error:
        parse_config(document, origin="bridge.yaml")

    # Then the message lists twenty problems in document order and says how many more there are
    problems = str(error.value).removeprefix("bridge.yaml: ").split("; ")
    assert problems == [f"routes.{index}.impact: must be at most 5, got 9" for index in range(20)] + ["and 5 more"]


def test_configuration_and_settings_import_without_pydantic() -> None:
    # Given a fresh interpreter with only the package on its path, as at a Lambda cold start
    script = (
        "import json, sys\n"
        "import incident_bridge.config, incident_bridge.settings\n"
        "print(json.dumps(sorted(name for name in sys.modules if name.startswith('pydantic'))))\n"
    )

    # When the configuration and settings modules are imported
    loaded = run_fresh_interpreter(script)

    # Then pydantic was not imported (its import and model building were most of a cold start)
    assert loaded == []
