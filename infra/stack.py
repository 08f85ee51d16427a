"""The deployable stack: composes the constructs and applies the suppressions cdk-nag needs explained."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra.bridge import IncidentBridge
from infra.settings import DeploySettings


class IncidentBridgeStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: DeploySettings, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.bridge = IncidentBridge(
            self, "IncidentBridge", config=settings.config, powertools_layer_arn=settings.powertools_layer_arn
        )
        CfnOutput(self, "DeadLetterQueueUrl", value=self.bridge.ingest.dead_letter_queue.queue_url)
        CfnOutput(self, "ApplicationBusName", value=self.bridge.ingest.application_bus.event_bus_name)
        CfnOutput(self, "FunctionName", value=self.bridge.bridge_function.function.function_name)
        self._explain_nag_findings()

    def _explain_nag_findings(self) -> None:
        function = self.bridge.bridge_function.function
        NagSuppressions.add_resource_suppressions(
            function,
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
                    reason="X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.",
                    applies_to=["Resource::*"],
                ),
            ],
            apply_to_children=True,
        )
