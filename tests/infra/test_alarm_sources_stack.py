"""The stack's other alarm paths: direct alarm actions and SNS topics from the configuration."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template

from infra.settings import deploy_settings
from infra.stack import IncidentBridgeStack
from tests.conftest import PLAN_ARN
from tests.infra.conftest import cfn_lint, synthesize

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:team-alarms"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    config_file: Path = tmp_path_factory.mktemp("config") / "bridge.yaml"
    config_file.write_text(f"default:\n  response_plan_arn: {PLAN_ARN}\nsns_topic_arns:\n  - {TOPIC_ARN}\n")
    settings = deploy_settings({"bridgeConfig": str(config_file)})
    stack = IncidentBridgeStack(cdk.App(), "AlarmSources", settings=settings)
    return Template.from_stack(stack)


def test_alarms_in_the_account_may_invoke_the_function_directly(template: Template) -> None:
    # Given the synthesized stack / When its Lambda permissions are read
    # Then CloudWatch's alarm-action principal may invoke it, only for alarms of this account
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "Principal": "lambda.alarms.cloudwatch.amazonaws.com",
            "SourceAccount": {"Ref": "AWS::AccountId"},
            "SourceArn": Match.any_value(),
        },
    )


def test_failed_direct_invocations_end_in_the_dead_letter_queue(template: Template) -> None:
    # Given the synthesized stack / When the function's async invoke configuration is read
    # Then failures are retried twice and then sent to the dead-letter queue
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "MaximumRetryAttempts": 2,
            "DestinationConfig": {
                "OnFailure": {"Destination": {"Fn::GetAtt": [Match.string_like_regexp("DeadLetterQueue"), "Arn"]}}
            },
        },
    )


def test_configured_topic_delivers_its_envelopes_to_the_queue(template: Template) -> None:
    # Given a configuration naming one SNS topic / When the subscriptions are read
    # Then the queue is subscribed with raw delivery off (the envelope's MessageId identifies the delivery)
    template.resource_count_is("AWS::SNS::Subscription", 1)
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {
            "Protocol": "sqs",
            "TopicArn": TOPIC_ARN,
            "Endpoint": {"Fn::GetAtt": [Match.string_like_regexp("EventQueue"), "Arn"]},
            "RawMessageDelivery": False,
        },
    )
    # And the queue policy lets exactly that topic send
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "sqs:SendMessage",
                                "Principal": {"Service": "sns.amazonaws.com"},
                                "Condition": {"ArnEquals": {"aws:SourceArn": TOPIC_ARN}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_every_optional_feature_together_passes_cdk_nag_and_cfn_lint(tmp_path: Path) -> None:
    # Given a configuration turning on every optional feature: routes to a plan in another account, SNS topics
    # (one of another account), the tag lookup, a fallback plan for self-monitoring, and X-Ray SDK tracing
    config_file = tmp_path / "bridge.yaml"
    config_file.write_text(
        f"default:\n  response_plan_arn: {PLAN_ARN}\n"
        "routes:\n  - name: payments\n    match: {tags: {team: payments}}\n"
        "    response_plan_arn: arn:aws:ssm-incidents::210987654321:response-plan/payments\n"
        f"sns_topic_arns:\n  - {TOPIC_ARN}\n  - arn:aws:sns:us-east-1:210987654321:other-account-alarms\n"
        "lookup_alarm_tags: true\n"
        "fallback_response_plan_arn: arn:aws:ssm-incidents::123456789012:response-plan/bridge-broken\n",
        encoding="utf-8",
    )

    # When the stack is synthesized with cdk-nag, and its template is linted
    synthesized = synthesize({"bridgeConfig": str(config_file), "tracing": "sdk"}, tmp_path / "cdk.out", nag=True)
    annotations = Annotations.from_stack(synthesized.stack)
    template_file = tmp_path / "template.json"
    template_file.write_text(json.dumps(synthesized.template.to_json()), encoding="utf-8")
    lint = cfn_lint(template_file, ignore_checks=("W3005",))

    # Then cdk-nag reports nothing unsuppressed and cfn-lint nothing but CDK's own role DependsOn (W3005)
    assert annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*")) == []
    assert annotations.find_warning("*", Match.string_like_regexp("AwsSolutions-.*")) == []
    assert (lint.returncode, lint.findings) == (0, []), lint.stderr
