"""The deployable stack: the `IncidentBridge` construct (which carries its own cdk-nag suppressions) and outputs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.bridge import IncidentBridge
from infra.settings import DeploySettings


class IncidentBridgeStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: DeploySettings, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.bridge = IncidentBridge(
            self,
            "IncidentBridge",
            config=settings.config,
            powertools_layer_arn=settings.powertools_layer_arn,
            tracing=settings.tracing,
            intake=settings.intake,
        )
        if self.bridge.intake is not None:
            CfnOutput(
                self,
                "IntakeBusArn",
                value=self.bridge.intake.bus.event_bus_arn,
                description="The bus member forwarders target (cdk deploy IncidentBridgeForwarder -c intakeBusArn=...)",
            )
        CfnOutput(self, "DeadLetterQueueUrl", value=self.bridge.ingest.dead_letter_queue.queue_url)
        CfnOutput(self, "ApplicationBusName", value=self.bridge.ingest.application_bus.event_bus_name)
        CfnOutput(self, "FunctionName", value=self.bridge.bridge_function.function.function_name)
        CfnOutput(self, "DashboardName", value=self.bridge.monitoring.dashboard.dashboard_name)
