"""Ingest: the EventBridge rule, optional SNS subscriptions and the encrypted queue (with its dead-letter queue)
that feed the function."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from incident_bridge.sources.profiles import PROFILES, EventProfile

#: CloudWatch's alarm events: state changes, and the per-contributor changes of Metrics Insights alarms.
ALARM_SOURCE = "aws.cloudwatch"
ALARM_DETAIL_TYPES = ("CloudWatch Alarm State Change", "CloudWatch Alarm Contributor State Change")


def alarm_state_change_pattern(excluded_alarm_name_prefix: str) -> events.EventPattern:
    """Every alarm shape is understood without configuration: alarm state changes, and the per-contributor changes
    of Metrics Insights alarms over several time series (CloudWatch User Guide, "Alarm events and EventBridge").

    Except those of alarms named with the prefix: the bridge's own self-monitoring alarms, which page through their
    native fallback action. Through the bridge, a broken bridge would page about itself through itself, and with a
    fallback plan would open two incidents. (`anything-but` with `prefix`: EventBridge User Guide, "Content
    filtering in Amazon EventBridge event patterns".)"""
    return events.EventPattern(
        source=[ALARM_SOURCE],
        detail_type=list(ALARM_DETAIL_TYPES),
        detail={"alarmName": [{"anything-but": {"prefix": excluded_alarm_name_prefix}}]},
    )


def service_event_pattern(profile: EventProfile, account: Sequence[str] | None = None) -> events.EventPattern:
    """The events of one AWS service-event profile, as the profile names them (of these accounts only, if given)."""
    return events.EventPattern(source=[profile.source], detail_type=list(profile.detail_types), account=account)


def service_event_rules(
    scope: Construct,
    aws_events: Collection[str],
    *,
    audience: str,
    account: Sequence[str] | None = None,
    event_bus: events.IEventBus | None = None,
) -> dict[str, events.Rule]:
    """One rule per enabled profile (least intake), by profile name; the same logical ids on every bus that has
    them (the default bus, the intake bus, a member's forwarder). Targets are the caller's."""
    return {
        profile.name: events.Rule(
            scope,
            f"ServiceEvents{profile.name.capitalize()}Rule",
            description=f"{profile.service} events (profile {profile.name}) {audience}",
            event_bus=event_bus,
            event_pattern=service_event_pattern(profile, account),
        )
        for profile in PROFILES
        if profile.name in aws_events
    }


# A message that keeps failing (transient errors past every retry) lands in the dead-letter queue after this
# many receives; permanent failures are dead-lettered by the function at once, with their reason.
MAX_RECEIVE_COUNT = 5


class AlarmIngest(Construct):
    """Alarm state changes from the default bus, the AWS service events of exactly the enabled profiles (one rule
    each, least intake), custom events from the application bus, and (when configured) SNS topics, all into one
    queue."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        processing_timeout: Duration,
        self_alarm_name_prefix: str,
        sns_topic_arns: Sequence[str] = (),
        aws_events: Collection[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.queue = sqs.Queue(
            self,
            "EventQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # AWS guidance for Lambda sources: at least six times the function timeout.
            visibility_timeout=Duration.seconds(processing_timeout.to_seconds() * 6),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letter_queue, max_receive_count=MAX_RECEIVE_COUNT),
        )
        self.alarm_rule = events.Rule(
            self,
            "AlarmStateChangeRule",
            description="CloudWatch alarm state changes to incident-bridge",
            event_pattern=alarm_state_change_pattern(self_alarm_name_prefix),
        )
        # Events EventBridge cannot deliver to the queue are kept in the same dead-letter queue.
        self.alarm_rule.add_target(targets.SqsQueue(self.queue, dead_letter_queue=self.dead_letter_queue))
        self.service_rules = service_event_rules(self, aws_events, audience="to incident-bridge")
        for rule in self.service_rules.values():
            rule.add_target(targets.SqsQueue(self.queue, dead_letter_queue=self.dead_letter_queue))
        self.application_bus = events.EventBus(self, "ApplicationBus")
        # Every event this account puts on the application bus is a custom incident request; the function
        # validates it against the published schema and dead-letters what does not conform, with the field.
        self.application_rule = events.Rule(
            self,
            "ApplicationEventRule",
            description="Custom incident events from applications to incident-bridge",
            event_bus=self.application_bus,
            event_pattern=events.EventPattern(account=[Aws.ACCOUNT_ID]),
        )
        self.application_rule.add_target(targets.SqsQueue(self.queue, dead_letter_queue=self.dead_letter_queue))
        for index, topic_arn in enumerate(sns_topic_arns):
            # Raw delivery off: the queue receives the SNS envelope, whose MessageId identifies the delivery.
            topic = sns.Topic.from_topic_arn(self, f"AlarmTopic{index}", topic_arn)
            topic.add_subscription(subscriptions.SqsSubscription(self.queue, raw_message_delivery=False))
