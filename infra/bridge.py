"""`IncidentBridge`: the public construct for users who embed the bridge in their own CDK app.

It carries its own cdk-nag suppressions, each with its reason, so an app that embeds it and runs the AWS
Solutions pack sees no finding it would have to explain itself.
"""

from __future__ import annotations

from aws_cdk import Aws, CfnRule, CfnRuleAssertion, Fn, Names, Stack, Token
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from incident_bridge.aws import INCIDENT_MANAGER_REGIONS
from incident_bridge.config import BridgeConfig
from incident_bridge.errors import ConfigError
from infra.bridge_function import (
    INCIDENT_MANAGER_RATE,
    TIMEOUT,
    BridgeFunction,
    contact_arns,
    incident_record_arns,
)
from infra.ingest import AlarmIngest
from infra.intake import OrganizationIntake
from infra.monitoring import BridgeMonitoring
from infra.settings import IntakeSettings, TracingMode
from infra.state_table import GroupStateTable


class IncidentBridge(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: BridgeConfig,
        powertools_layer_arn: str | None = None,
        tracing: TracingMode = TracingMode.ACTIVE,
        intake: IntakeSettings | None = None,
        incident_manager_rate: float = INCIDENT_MANAGER_RATE,
    ) -> None:
        """`incident_manager_rate`: the Incident Manager requests per second the bridge may spend in all; its
        pollers share it in fixed parts (see incident_bridge/budget.py)."""
        super().__init__(scope, construct_id)
        self._require_a_supported_region()
        #: The names of the bridge's own alarms start with this, unique to this construct in the app; the
        #: default-bus rule leaves their state changes out.
        self.self_alarm_name_prefix = f"{Names.unique_resource_name(self, max_length=64, separator='-')}-self-"
        self.ingest = AlarmIngest(
            self,
            "Ingest",
            processing_timeout=TIMEOUT,
            self_alarm_name_prefix=self.self_alarm_name_prefix,
            sns_topic_arns=config.sns_topic_arns,
            aws_events=config.enabled_aws_events,
        )
        #: The bus member accounts forward to (None: only this account and region are seen).
        self.intake = (
            None
            if intake is None
            else OrganizationIntake(
                self,
                "OrganizationIntake",
                queue=self.ingest.queue,
                dead_letter_queue=self.ingest.dead_letter_queue,
                organization_id=intake.organization_id,
                account_ids=intake.account_ids,
                aws_events=config.enabled_aws_events,
            )
        )
        self.state = GroupStateTable(self, "State")
        self.bridge_function = BridgeFunction(
            self,
            "Bridge",
            config=config,
            queue=self.ingest.queue,
            dead_letter_queue=self.ingest.dead_letter_queue,
            state_table=self.state,
            powertools_layer_arn=powertools_layer_arn,
            tracing=tracing,
            incident_manager_rate=incident_manager_rate,
        )
        if self.intake is not None:
            self.state.grant_heartbeat_access(self.bridge_function.function)
        self.monitoring = BridgeMonitoring(
            self,
            "Monitoring",
            function=self.bridge_function.function,
            queue=self.ingest.queue,
            dead_letter_queue=self.ingest.dead_letter_queue,
            alarm_name_prefix=self.self_alarm_name_prefix,
            fallback_response_plan_arn=config.fallback_response_plan_arn,
        )
        self._explain_nag_findings(config)

    def _require_a_supported_region(self) -> None:
        """Incident Manager runs in some commercial regions only. A stack whose environment names another fails
        here, at synth; an environment-agnostic stack carries a CloudFormation rule that fails the deploy."""
        listed = ", ".join(INCIDENT_MANAGER_REGIONS)
        message = f"AWS Systems Manager Incident Manager is available only in {listed}"
        region = Stack.of(self).region
        if not Token.is_unresolved(region) and region not in INCIDENT_MANAGER_REGIONS:
            raise ConfigError(f"region {region}: {message}")
        CfnRule(
            self,
            "SupportedRegion",
            assertions=[
                CfnRuleAssertion(
                    assert_=Fn.condition_contains(list(INCIDENT_MANAGER_REGIONS), Aws.REGION),
                    assert_description=f"incident-bridge cannot be deployed in this region: {message}.",
                )
            ],
        )

    def _explain_nag_findings(self, config: BridgeConfig) -> None:
        plans = config.response_plan_arns()
        NagSuppressions.add_resource_suppressions(
            self.bridge_function.function,
            [
                NagPackSuppression(
                    id="AwsSolutions-IAM4",
                    reason="AWSLambdaBasicExecutionRole only grants writing the function's own CloudWatch logs.",
                    applies_to=[
                        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
                    ],
                ),
                NagPackSuppression(
                    id="AwsSolutions-L1",
                    reason="python3.13 is the runtime the pinned public Powertools layer is built for; "
                    "Lambda supports it until 2029. Move both together.",
                ),
                NagPackSuppression(
                    id="AwsSolutions-IAM5",
                    reason="Actions that support no resource-level permissions (Service Authorization Reference): "
                    "X-Ray PutTraceSegments/PutTelemetryRecords, and ssm:CreateOpsItem, which is further limited to "
                    "requests Incident Manager makes for StartIncident (aws:CalledViaFirst).",
                    applies_to=["Resource::*"],
                ),
                NagPackSuppression(
                    id="AwsSolutions-IAM5",
                    reason="Incident record ids are generated by StartIncident; the wildcard is only the id under "
                    "each configured response plan (incident-record/<plan>/*).",
                    applies_to=[f"Resource::{arn}" for arn in incident_record_arns(plans)],
                ),
                NagPackSuppression(
                    id="AwsSolutions-IAM5",
                    reason="StartIncident pages the contacts its response plan names, with the caller's credentials; "
                    "they are chosen in the plan at run time and live in the replication set's regions, so only the "
                    "plans' accounts can be named. Allowed only through Incident Manager (aws:CalledViaFirst).",
                    applies_to=[f"Resource::{arn}" for arn in contact_arns(plans)],
                ),
                *self._tag_lookup_suppression(config),
            ],
            apply_to_children=True,
        )

    @staticmethod
    def _tag_lookup_suppression(config: BridgeConfig) -> list[NagPackSuppression]:
        if not config.lookup_alarm_tags:
            return []
        return [
            NagPackSuppression(
                id="AwsSolutions-IAM5",
                reason="lookup_alarm_tags reads the tags of whichever alarm fired; alarms are created after the "
                "bridge, so only this account's and region's alarm namespace (alarm:*) can be named.",
                applies_to=["Resource::arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:*"],
            )
        ]
