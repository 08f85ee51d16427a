"""Organization intake: one event bus that member accounts (and their other regions) forward to, and the rules
that deliver what arrives on it to the bridge's queue.

AWS behaviours this relies on (EventBridge User Guide, "Sending and receiving events between AWS accounts"):
- a bus policy can admit a whole organization with `aws:PrincipalOrgID`; senders that are admitted through the
  organization need an IAM role on their rule's target (the member forwarder, infra/forwarder.py, has one);
- "Unless you specify `account` in the event pattern of a rule, any of your account's rules ... that match events
  you receive from event buses in other accounts trigger based on those events": every rule here names the accounts
  it accepts when they are known (`intakeAccounts`). With `organizationId` alone the accounts are not known at
  synth; the bus policy then admits only the organization's principals, and AWS's advice for that case is to omit
  `account` ("To have a rule trigger on a matching event from any event buses in AWS account that you have granted
  permissions to ... omit the account field"); give `intakeAccounts` too to narrow it;
- "If a receiver account sets up a rule that sends events received from a sender account on to a third account,
  these events are not sent": members must target this bus directly, never through another bus.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

# The forwarder's scheduled rule has this fixed name in every member account and region (one forwarder each), so
# its heartbeats are recognized by their `resources` entry, `arn:<partition>:events:<region>:<account>:rule/<name>`.
from incident_bridge.intake import HEARTBEAT_RULE_NAME
from incident_bridge.sources.forwarder import CHECK_FORWARDERS, TASK_KEY
from infra.ingest import ALARM_DETAIL_TYPES, ALARM_SOURCE, service_event_rules

#: A silent forwarder pages within a minute of SILENCE_THRESHOLD (15 minutes) after its last heartbeat.
FORWARDER_CHECK_INTERVAL = Duration.minutes(1)
SCHEDULED_EVENT = events.EventPattern(source=["aws.events"], detail_type=["Scheduled Event"])


class OrganizationIntake(Construct):
    """The intake bus, its policy (organization and/or listed accounts) and three rules into the queue: alarm state
    changes, forwarder heartbeats, and custom incident events that member applications put on the bus."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        queue: sqs.IQueue,
        dead_letter_queue: sqs.IQueue,
        organization_id: str | None = None,
        account_ids: Sequence[str] = (),
        aws_events: Collection[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        if not organization_id and not account_ids:
            raise ValueError("organization intake needs an organization id or at least one account id")
        self.bus = events.EventBus(self, "Bus", description="incident-bridge: events forwarded by member accounts")
        # One policy resource per grant. (EventBus.add_to_resource_policy writes the same statement, but jsii then
        # reads CfnEventBusPolicy's deprecated `principal` and warns on every synth.)
        if organization_id:
            self._allow_put_events(
                "PutEventsFromOrganization",
                {"AWS": "*"},
                condition={"StringEquals": {"aws:PrincipalOrgID": organization_id}},
            )
        if account_ids:
            partition = Stack.of(self).partition
            self._allow_put_events(
                "PutEventsFromListedAccounts",
                {"AWS": [f"arn:{partition}:iam::{account}:root" for account in account_ids]},
            )
        accounts = list(account_ids) or None
        self.alarm_rule = self._rule(
            "AlarmStateChangeRule",
            "CloudWatch alarm state changes forwarded by member accounts to incident-bridge",
            events.EventPattern(
                source=[ALARM_SOURCE],
                detail_type=list(ALARM_DETAIL_TYPES),
                account=accounts,
            ),
        )
        self.heartbeat_rule = self._rule(
            "HeartbeatRule",
            "Forwarder heartbeats (their scheduled events) to incident-bridge",
            events.EventPattern(
                source=SCHEDULED_EVENT.source,
                detail_type=SCHEDULED_EVENT.detail_type,
                resources=events.Match.suffix(f":rule/{HEARTBEAT_RULE_NAME}"),
                account=accounts,
            ),
        )
        # Member applications may open incidents through the same bus; PutEvents refuses `aws.` sources to them,
        # and EventBridge sets `account` to the sender's, which routes can match.
        self.application_rule = self._rule(
            "ApplicationEventRule",
            "Custom incident events put by member accounts to incident-bridge",
            events.EventPattern(source=events.Match.anything_but_prefix("aws."), account=accounts),
        )
        # The AWS service events of exactly the profiles the configuration enables, as on the default bus.
        self.service_rules = service_event_rules(
            self,
            aws_events,
            audience="forwarded by member accounts to incident-bridge",
            account=accounts,
            event_bus=self.bus,
        )
        for rule in (self.alarm_rule, self.heartbeat_rule, self.application_rule, *self.service_rules.values()):
            rule.add_target(targets.SqsQueue(queue, dead_letter_queue=dead_letter_queue))
        # The silence check: a tick every minute through the same queue and function. Its target input is the
        # bridge's own (allowed here: the queue is in this account), carrying the tick's id and time.
        self.check_rule = events.Rule(
            self,
            "ForwarderCheckRule",
            description="incident-bridge: look for member forwarders whose heartbeats stopped",
            schedule=events.Schedule.rate(FORWARDER_CHECK_INTERVAL),
        )
        self.check_rule.add_target(
            targets.SqsQueue(
                queue,
                dead_letter_queue=dead_letter_queue,
                message=events.RuleTargetInput.from_object(
                    {
                        TASK_KEY: CHECK_FORWARDERS,
                        "id": events.EventField.from_path("$.id"),
                        "time": events.EventField.from_path("$.time"),
                    }
                ),
            )
        )

    def _allow_put_events(self, sid: str, principal: dict[str, Any], condition: dict[str, Any] | None = None) -> None:
        statement: dict[str, Any] = {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": principal,
            "Action": "events:PutEvents",
            "Resource": self.bus.event_bus_arn,
        }
        if condition:
            statement["Condition"] = condition
        events.CfnEventBusPolicy(
            self, sid, event_bus_name=self.bus.event_bus_name, statement_id=sid, statement=statement
        )

    def _rule(self, construct_id: str, description: str, pattern: events.EventPattern) -> events.Rule:
        return events.Rule(self, construct_id, description=description, event_bus=self.bus, event_pattern=pattern)
