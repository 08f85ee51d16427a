"""`IncidentBridge`: the public construct for users who embed the bridge in their own CDK app."""

from __future__ import annotations

from constructs import Construct

from incident_bridge.config import BridgeConfig
from infra.bridge_function import TIMEOUT, BridgeFunction
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
    ) -> None:
        super().__init__(scope, construct_id)
        self.ingest = AlarmIngest(
            self,
            "Ingest",
            processing_timeout=TIMEOUT,
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
        )
        if self.intake is not None:
            self.state.grant_heartbeat_access(self.bridge_function.function)
        self.monitoring = BridgeMonitoring(
            self,
            "Monitoring",
            function=self.bridge_function.function,
            queue=self.ingest.queue,
            dead_letter_queue=self.ingest.dead_letter_queue,
            fallback_response_plan_arn=config.fallback_response_plan_arn,
        )
