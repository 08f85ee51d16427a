"""Self-monitoring: alarms on the bridge itself and a small dashboard of what it does.

The bridge is what pages people, so it cannot page through itself when it breaks. When the configuration names
a `fallback_response_plan_arn`, each alarm starts an incident in that plan through CloudWatch's native
Incident Manager alarm action, which needs neither the queue nor the function.
"""

from __future__ import annotations

import jsii
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

#: The names the function's Powertools Metrics publish under (POWERTOOLS_METRICS_NAMESPACE / _SERVICE_NAME).
METRICS_NAMESPACE = "IncidentBridge"
SERVICE_NAME = "incident-bridge"
#: The business outcomes the function counts, one metric each, dimensioned by `route` (see runtime._METRIC_NAMES).
INCIDENT_METRICS = ("IncidentStarted", "IncidentUpdated", "IncidentResolved")
EVENT_METRICS = ("EventIgnored", "EventRejected")
#: Ignored events that were quiet, by why (see runtime.QUIET_METRIC_NAMES): silences, mutes (CloudWatch mute rules
#: and time intervals), inhibitions.
QUIET_METRICS = ("EventSilenced", "EventMuted", "EventInhibited")

# SQS publishes its queue metrics once a minute; a minute is the shortest period that always has a datapoint.
QUEUE_PERIOD = Duration.minutes(1)
# Lambda Errors and Throttles: a 5-minute sum catches one failed invocation without flapping per minute.
FUNCTION_PERIOD = Duration.minutes(5)
# An alarm event normally waits the 5 s batching window plus at most one batch (function timeout 5 minutes); the
# storm simulation drains 1,000 alarms in about 6 minutes. Older than 10 minutes means the function is not keeping
# up, not polling (mapping disabled, broken permissions), or retrying a failure (a failed message is only visible
# again after the 30-minute visibility timeout): in every case incidents are later than on-call would accept.
OLDEST_MESSAGE_AGE_THRESHOLD = Duration.minutes(10)
DASHBOARD_PERIOD = Duration.minutes(5)


@jsii.implements(cloudwatch.IAlarmAction)
class IncidentManagerAlarmAction:
    """Starts an incident in a response plan when the alarm goes into ALARM: CloudWatch's native Incident Manager
    action, whose ARN is the response plan's own ARN.

    `aws_cloudwatch_actions.SsmIncidentAction` takes a plan *name* and always builds the ARN in the stack's own
    account, so a plan shared from a central Incident Manager account would silently become a plan of the same
    name in this account (aws/aws-cdk#33946). The configured ARN is already validated, so it is used verbatim.
    CloudWatch starts the incident with its service-linked role (AWSServiceRoleForCloudWatchAlarms_ActionSSM...),
    created on first use: the stack needs no IAM for it.
    """

    def __init__(self, response_plan_arn: str) -> None:
        self.response_plan_arn = response_plan_arn

    def bind(self, _scope: Construct, _alarm: cloudwatch.IAlarm) -> cloudwatch.AlarmActionConfig:
        return cloudwatch.AlarmActionConfig(alarm_action_arn=self.response_plan_arn)


class BridgeMonitoring(Construct):
    """Four alarms (dead letters, function errors, throttles, queue age) and a dashboard of the bridge's work."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        queue: sqs.IQueue,
        dead_letter_queue: sqs.IQueue,
        fallback_response_plan_arn: str | None = None,
        metrics_namespace: str = METRICS_NAMESPACE,
        service_name: str = SERVICE_NAME,
    ) -> None:
        super().__init__(scope, construct_id)
        self.metrics_namespace = metrics_namespace
        self.service_name = service_name

        self.dead_letters_alarm = self._alarm(
            "DeadLettersAlarm",
            dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=QUEUE_PERIOD, statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=1,
            description="incident-bridge: events are in the dead-letter queue, so some alarms opened no incident. "
            "Read each message's error attributes, fix the cause, then `incident-bridge redrive`.",
        )
        # With ReportBatchItemFailures a failed record is not a function error; Errors counts invocations that
        # crashed or timed out (a whole batch back on the queue) and failed alarm-action invocations.
        self.errors_alarm = self._alarm(
            "FunctionErrorsAlarm",
            function.metric_errors(period=FUNCTION_PERIOD, statistic=cloudwatch.Stats.SUM),
            threshold=1,
            description="incident-bridge: the function failed (crash or timeout); see its logs.",
        )
        self.throttles_alarm = self._alarm(
            "FunctionThrottlesAlarm",
            function.metric_throttles(period=FUNCTION_PERIOD, statistic=cloudwatch.Stats.SUM),
            threshold=1,
            description="incident-bridge: the function was throttled (account concurrency exhausted?).",
        )
        self.oldest_message_alarm = self._alarm(
            "OldestMessageAgeAlarm",
            queue.metric_approximate_age_of_oldest_message(period=QUEUE_PERIOD, statistic=cloudwatch.Stats.MAXIMUM),
            threshold=OLDEST_MESSAGE_AGE_THRESHOLD.to_seconds(),
            description="incident-bridge: events have waited over 5 minutes in the queue; incidents are late.",
        )
        self.alarms = (self.dead_letters_alarm, self.errors_alarm, self.throttles_alarm, self.oldest_message_alarm)
        if fallback_response_plan_arn:
            action = IncidentManagerAlarmAction(fallback_response_plan_arn)
            for alarm in self.alarms:
                alarm.add_alarm_action(action)

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(3))
        self._add_widgets(function, queue, dead_letter_queue)

    def _alarm(
        self, construct_id: str, metric: cloudwatch.Metric, *, threshold: float, description: str
    ) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            # No datapoint means nothing happened (SQS stops publishing for idle queues, Lambda for idle functions).
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )

    def outcome_total(self, metric_name: str) -> cloudwatch.MathExpression:
        """One metric summed over every route, including routes added after deploy (a SEARCH, not a list)."""
        return cloudwatch.MathExpression(
            expression=f"SUM({self._search(metric_name)})", label=metric_name, period=DASHBOARD_PERIOD
        )

    def outcome_by_route(self, metric_name: str) -> cloudwatch.MathExpression:
        return cloudwatch.MathExpression(expression=self._search(metric_name), label="", period=DASHBOARD_PERIOD)

    def _search(self, metric_name: str) -> str:
        # Powertools publishes each count with the `route` dimension plus its default `service` dimension.
        schema = f"{{{self.metrics_namespace},route,service}}"
        query = f'{schema} MetricName="{metric_name}" service="{self.service_name}"'
        return f"SEARCH('{query}', 'Sum', {int(DASHBOARD_PERIOD.to_seconds())})"

    def _add_widgets(self, function: lambda_.IFunction, queue: sqs.IQueue, dead_letter_queue: sqs.IQueue) -> None:
        def count(metric: cloudwatch.Metric, label: str) -> cloudwatch.Metric:
            return metric.with_(label=label, period=DASHBOARD_PERIOD, statistic=cloudwatch.Stats.SUM)

        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Events in",
                left=[
                    count(queue.metric_number_of_messages_sent(), "Queued (EventBridge, SNS)"),
                    count(function.metric_invocations(), "Function invocations"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Incidents (all routes)",
                left=[self.outcome_total(name) for name in INCIDENT_METRICS],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Ignored and rejected events (all routes)",
                left=[self.outcome_total(name) for name in EVENT_METRICS],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Incidents started by route",
                left=[self.outcome_by_route("IncidentStarted")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Function duration (latency)",
                left=[
                    function.metric_duration(period=DASHBOARD_PERIOD, statistic=cloudwatch.Stats.p(50), label="p50"),
                    function.metric_duration(period=DASHBOARD_PERIOD, statistic=cloudwatch.Stats.p(99), label="p99"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Function errors and throttles",
                left=[
                    count(function.metric_errors(), "Errors"),
                    count(function.metric_throttles(), "Throttles"),
                ],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Silenced, muted and inhibited (all routes)",
                left=[self.outcome_total(name) for name in QUIET_METRICS],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Silenced by route",
                left=[self.outcome_by_route("EventSilenced")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Inhibited by route",
                left=[self.outcome_by_route("EventInhibited")],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Dead-letter queue depth",
                left=[
                    dead_letter_queue.metric_approximate_number_of_messages_visible(
                        period=QUEUE_PERIOD, statistic=cloudwatch.Stats.MAXIMUM, label="Messages"
                    )
                ],
                left_annotations=[cloudwatch.HorizontalAnnotation(value=1, label="alarm")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Age of oldest queued event (s)",
                left=[
                    queue.metric_approximate_age_of_oldest_message(
                        period=QUEUE_PERIOD, statistic=cloudwatch.Stats.MAXIMUM, label="Age"
                    )
                ],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(value=OLDEST_MESSAGE_AGE_THRESHOLD.to_seconds(), label="alarm")
                ],
                width=8,
            ),
            cloudwatch.AlarmStatusWidget(title="Self-monitoring alarms", alarms=list(self.alarms), width=8),
        )
