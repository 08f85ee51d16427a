"""The member forwarder: deployed in each member account and region, it sends that region's alarm state changes,
and a heartbeat every five minutes, straight to the central stack's intake bus.

AWS behaviours this relies on:
- "If the sender account inherits permissions to send events from an AWS Organization, the sender account also
  must have an IAM role with policies that enable it to send events to the receiver account" (EventBridge User
  Guide, "Sending and receiving events between AWS accounts"; the API Reference's Target.RoleArn says the same):
  both targets use one role that EventBridge assumes, allowed `events:PutEvents` on the intake bus only.
- A rule may target a bus in another account and Region directly ("Event bus in a different AWS account or
  Region", PutTargets), so the same template works in every region of a member account; there is no hop through a
  regional bus, which would be lost: "If a receiver account sets up a rule that sends events received from a
  sender account on to a third account, these events are not sent to the third account" (User Guide, same page).
  For the same reason events this account *receives* from others are never forwarded a second time.
- "Input, InputPath, and InputTransformer are not available with PutTarget if the target is an event bus of a
  different AWS account" (EventBridge API Reference, PutTargets). The heartbeat is therefore the scheduled event
  itself, unchanged: EventBridge sets its `account` and `region` to this forwarder's, and its `resources` to the
  rule's ARN, whose fixed name the central rule matches (EventBridge User Guide, events detail reference,
  "Scheduled Event"). Nothing in it can be chosen by the member.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from aws_cdk import Aws, BootstraplessSynthesizer, CfnParameter, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from incident_bridge.aws import EVENT_BUS_ARN_PATTERN
from incident_bridge.intake import HEARTBEAT_RULE_NAME
from infra.ingest import ALARM_DETAIL_TYPES, ALARM_SOURCE, service_event_rules

#: How often a forwarder says it is alive; the bridge pages after heartbeats.SILENCE_THRESHOLD without one.
HEARTBEAT_INTERVAL = Duration.minutes(5)
#: The CloudFormation parameter a StackSet sets per deployment (or `-c intakeBusArn=...` gives as its default).
INTAKE_BUS_PARAMETER = "IntakeBusArn"


class EventForwarder(Construct):
    """Two rules on this account's default bus, both targeting the intake bus through one role."""

    def __init__(
        self, scope: Construct, construct_id: str, *, intake_bus_arn: str, aws_events: Collection[str] = ()
    ) -> None:
        super().__init__(scope, construct_id)
        intake_bus = events.EventBus.from_event_bus_arn(self, "IntakeBus", intake_bus_arn)
        self.role = iam.Role(
            self,
            "PutEventsRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="EventBridge sends this account's alarm state changes and heartbeats to incident-bridge",
        )
        self.role.add_to_policy(iam.PolicyStatement(actions=["events:PutEvents"], resources=[intake_bus_arn]))
        target = targets.EventBus(intake_bus, role=self.role)
        self.alarm_rule = events.Rule(
            self,
            "AlarmStateChangeRule",
            description="CloudWatch alarm state changes of this account to the incident-bridge intake bus",
            event_pattern=events.EventPattern(
                source=[ALARM_SOURCE],
                detail_type=list(ALARM_DETAIL_TYPES),
                # This account's own alarms only, as EventBridge advises for every rule of a bus that may receive
                # others' events; received events would not be forwarded anyway (see the module docstring).
                account=[Aws.ACCOUNT_ID],
            ),
        )
        self.alarm_rule.add_target(target)
        self.heartbeat_rule = events.Rule(
            self,
            "HeartbeatRule",
            rule_name=HEARTBEAT_RULE_NAME,
            description="incident-bridge heartbeat: the central bridge pages when it stops arriving",
            schedule=events.Schedule.rate(HEARTBEAT_INTERVAL),
        )
        self.heartbeat_rule.add_target(target)
        # The AWS service events of the profiles the central bridge enables (`forwardAwsEvents`), this account's own.
        self.service_rules = service_event_rules(
            self, aws_events, audience="of this account to incident-bridge", account=[Aws.ACCOUNT_ID]
        )
        for rule in self.service_rules.values():
            rule.add_target(target)


class IncidentBridgeForwarderStack(Stack):
    """A template for every member account and region: no assets and no bootstrap resources (a synthesizer
    without bootstrap), the intake bus ARN as a parameter, so a service-managed StackSet can deploy it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        intake_bus_arn: str | None = None,
        aws_events: Collection[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            synthesizer=BootstraplessSynthesizer(),
            analytics_reporting=False,
            description="incident-bridge member forwarder: alarm state changes and heartbeats to the intake bus",
            **kwargs,
        )
        parameter = CfnParameter(
            self,
            INTAKE_BUS_PARAMETER,
            type="String",
            description="ARN of the central incident-bridge stack's intake bus (its IntakeBusArn output)",
            # The shape synth checks; CloudFormation checks it again where a StackSet sets the value.
            allowed_pattern=EVENT_BUS_ARN_PATTERN,
            constraint_description="an event bus ARN: arn:aws:events:REGION:ACCOUNT:event-bus/NAME",
            default=intake_bus_arn,  # None leaves the parameter without a default (StackSets set it)
        )
        self.forwarder = EventForwarder(
            self, "Forwarder", intake_bus_arn=parameter.value_as_string, aws_events=aws_events
        )
