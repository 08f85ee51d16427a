"""The incident-group table: one item per group key, on-demand, point-in-time recovery, TTL on closed groups."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

#: The attribute the lifecycle writes (epoch seconds); DynamoDB deletes expired groups by it.
TTL_ATTRIBUTE = "expires_at"


class GroupStateTable(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.TableV2(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="group_key", type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
            time_to_live_attribute=TTL_ATTRIBUTE,
            # The groups tie alarms to open incidents; losing them on a stack delete would orphan incidents.
            removal_policy=RemovalPolicy.RETAIN,
        )

    def grant_group_access(self, grantee: iam.IGrantable) -> None:
        """Read and conditionally write single items: nothing else (no scans, no deletes)."""
        self.table.grant(grantee, "dynamodb:GetItem", "dynamodb:PutItem")

    def grant_heartbeat_access(self, grantee: iam.IGrantable) -> None:
        """Forwarder heartbeats live in one item updated attribute by attribute (adapters/heartbeat_table.py)."""
        self.table.grant(grantee, "dynamodb:UpdateItem")
