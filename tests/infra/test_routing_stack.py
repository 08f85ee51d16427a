"""The stack synthesized from a routing configuration: IAM grants StartIncident on exactly the plans the routes
reference, ListTagsForResource only when the tag lookup is on, and the configuration ships to the Lambda intact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk.assertions import Annotations, Match

from incident_bridge.config import BridgeConfig, load_config, parse_config
from infra.asset import CONFIG_FILE_NAME, stage_function_code
from infra.settings import CONFIG_FILE_KEY
from tests.infra.conftest import MAIN_DIR, SynthesizedStack, as_list, iam_statements, synthesize

TEAMS_CONFIG = MAIN_DIR / "examples" / "bridge.teams.yaml"
PLAN_PREFIX = "arn:aws:ssm-incidents::123456789012:response-plan/"
# Written out, not read from the configuration, so a mistake in the model cannot make these tests pass.
TEAMS_PLANS = [PLAN_PREFIX + "internal-tools", PLAN_PREFIX + "payments-oncall", PLAN_PREFIX + "platform-oncall"]
ALARM_ARN_PATTERN = {
    "Fn::Join": [
        "",
        ["arn:", {"Ref": "AWS::Partition"}, ":cloudwatch:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"},
         ":alarm:*"],
    ]
}  # fmt: skip


def statements_with(synthesized: SynthesizedStack, action: str) -> list[dict[str, Any]]:
    return [s for s in iam_statements(synthesized.template.to_json()) if action in as_list(s.get("Action", []))]


@pytest.fixture(scope="module")
def teams_stack(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedStack:
    """The stack as `cdk synth -c bridgeConfig=examples/bridge.teams.yaml` builds it (lookup_alarm_tags: true)."""
    return synthesize({CONFIG_FILE_KEY: str(TEAMS_CONFIG)}, tmp_path_factory.mktemp("cdk.out"), nag=True)


def test_start_incident_is_granted_on_exactly_the_referenced_plans(teams_stack: SynthesizedStack) -> None:
    # Given the stack synthesized from the example configuration (3 plans; one repeated, one on the default)

    # When we collect the statements granting StartIncident
    statements = statements_with(teams_stack, "ssm-incidents:StartIncident")

    # Then one statement grants it, on the sorted set of the three plans, and on nothing else
    assert statements == [{"Action": "ssm-incidents:StartIncident", "Effect": "Allow", "Resource": TEAMS_PLANS}]
    assert "*" not in statements[0]["Resource"]


def test_tag_lookup_is_granted_only_on_this_account_and_region_alarms(teams_stack: SynthesizedStack) -> None:
    # Given the example configuration, which sets lookup_alarm_tags: true

    # When we collect the statements granting ListTagsForResource
    statements = statements_with(teams_stack, "cloudwatch:ListTagsForResource")

    # Then one statement grants it, on arn:${Partition}:cloudwatch:${Region}:${AccountId}:alarm:* only
    assert statements == [
        {"Action": "cloudwatch:ListTagsForResource", "Effect": "Allow", "Resource": ALARM_ARN_PATTERN}
    ]


def test_tag_lookup_is_not_granted_when_the_configuration_turns_it_off(tmp_path: Path) -> None:
    # Given the example configuration with lookup_alarm_tags: false
    document = yaml.safe_load(TEAMS_CONFIG.read_text(encoding="utf-8"))
    document["lookup_alarm_tags"] = False
    config_file = tmp_path / "bridge.yaml"
    config_file.write_text(yaml.safe_dump(document), encoding="utf-8")

    # When the stack is synthesized
    synthesized = synthesize({CONFIG_FILE_KEY: str(config_file)}, tmp_path / "cdk.out", nag=False)

    # Then no statement mentions the tag lookup, while StartIncident is granted as before
    assert statements_with(synthesized, "cloudwatch:ListTagsForResource") == []
    assert [s["Resource"] for s in statements_with(synthesized, "ssm-incidents:StartIncident")] == [TEAMS_PLANS]


def test_staged_configuration_loads_back_to_the_same_model() -> None:
    # Given the example configuration
    config = load_config(TEAMS_CONFIG)

    # When it is staged in the function's code asset and loaded back as the Lambda does
    shipped = stage_function_code(config) / CONFIG_FILE_NAME
    loaded = load_config(shipped)

    # Then it is equal, and the `continue` alias survived as the key the loader reads
    assert loaded == config
    assert '"continue":true' in shipped.read_text(encoding="utf-8")
    assert [route.name for route in loaded.routes if route.continue_] == ["checkout-functions"]


def test_staged_configuration_keeps_the_detail_type_matcher() -> None:
    # Given a configuration with a `detail-type` matcher and a `continue` route
    config: BridgeConfig = parse_config(
        {
            "default": {"response_plan_arn": PLAN_PREFIX + "platform-oncall"},
            "routes": [
                {"name": "orders", "match": {"detail-type": ["OrderFailed"], "source": "com.example.orders"},
                 "continue": True},
            ],
        },
        origin="test.yaml",
    )  # fmt: skip

    # When it is staged and loaded back
    shipped = stage_function_code(config) / CONFIG_FILE_NAME
    loaded = load_config(shipped)

    # Then the matcher (written under its alias) and the `continue` flag are intact
    assert loaded == config
    assert loaded.routes[0].match.detail_type == ("OrderFailed",)
    assert loaded.routes[0].continue_ is True
    assert '"detail-type":["OrderFailed"]' in shipped.read_text(encoding="utf-8")


def test_synthesized_asset_carries_the_configuration(teams_stack: SynthesizedStack) -> None:
    # Given the stack synthesized from the example configuration

    # When we read bridge_config.json from the function's asset in the cloud assembly
    functions = [
        resource
        for resource in teams_stack.resources("AWS::Lambda::Function").values()
        if resource["Properties"].get("Handler") == "incident_bridge.handler.lambda_handler"
    ]
    assert len(functions) == 1
    asset_hash = functions[0]["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    shipped = teams_stack.outdir / f"asset.{asset_hash}" / CONFIG_FILE_NAME

    # Then it loads to the model the synth read
    assert load_config(shipped) == load_config(TEAMS_CONFIG)


def test_the_documented_example_deploys_without_cdk_nag_findings(teams_stack: SynthesizedStack) -> None:
    # Given the stack built from the README's example configuration (which turns on the tag lookup)
    annotations = Annotations.from_stack(teams_stack.stack)

    # When cdk-nag's findings are read
    errors = annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    warnings = annotations.find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))

    # Then there are none: `cdk deploy -c bridgeConfig=examples/bridge.teams.yaml` is not stopped by cdk-nag
    assert errors == []
    assert warnings == []
