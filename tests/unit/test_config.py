"""The configuration model: a bad file fails with the path to the field and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from incident_bridge.config import BridgeConfig, load_config, parse_config
from incident_bridge.errors import ConfigError
from tests.conftest import PLAN_ARN


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
    config = BridgeConfig.model_validate({"default": {"response_plan_arn": PLAN_ARN, "impact": 4}})
    path = tmp_path / "bridge_config.json"
    path.write_text(config.model_dump_json(), encoding="utf-8")

    # When the Lambda loads it
    loaded = load_config(path)

    # Then nothing was lost
    assert loaded == config


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({}, "default: Field required"),
        ({"default": {"impact": 2}}, "default.response_plan_arn: Field required"),
        ({"default": {"response_plan_arn": PLAN_ARN, "impact": 9}}, "default.impact: Input should be less than"),
        ({"default": {"response_plan_arn": "arn:aws:sns:us-east-1:1:t"}}, "default.response_plan_arn: String should"),
        ({"default": {"response_plan_arn": PLAN_ARN, "imapct": 2}}, "default.imapct: Extra inputs are not permitted"),
        ({"default": {"response_plan_arn": PLAN_ARN}, "rootes": []}, "rootes: Extra inputs are not permitted"),
    ],
)
def test_bad_configuration_names_the_field(document: object, expected: str) -> None:
    # Given a configuration document with one mistake
    # When it is validated / Then the error names the origin and the path to the field
    with pytest.raises(ConfigError) as error:
        parse_config(document, origin="bridge.yaml")
    assert str(error.value).startswith("bridge.yaml: ")
    assert expected in str(error.value)


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
