"""The quiet check: every minute, the function re-decides the alarms that fired while quiet (silenced, muted,
outside their route's active time, inhibited) and pages those still firing whose quiet has ended.

An EventBridge rule on a `rate(1 minute)` schedule invokes the function with a fixed input the handler recognizes
(`QUIET_CHECK_EVENT`). The check reads and writes the state table with the item actions the function already has
(GetItem, PutItem); the only grant added is the rule's permission to invoke this one function. A missed minute is
not retried: the next minute checks again.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from incident_bridge.quieting import QUIET_CHECK_EVENT

#: EventBridge's shortest schedule; a quiet that ends is acted on within this much (plus the check's run time).
CHECK_EVERY = Duration.minutes(1)


class QuietCheckSchedule(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, function: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        self.rule = events.Rule(
            self,
            "Rule",
            description="incident-bridge: each minute, page alarms still firing once their silence or mute has ended",
            schedule=events.Schedule.rate(CHECK_EVERY),
            targets=[
                targets.LambdaFunction(
                    function,
                    event=events.RuleTargetInput.from_object(QUIET_CHECK_EVENT),
                    retry_attempts=0,
                    max_event_age=CHECK_EVERY,
                )
            ],
        )
