"""Self-monitoring: alarms on the bridge itself and a small dashboard of what it does.

The bridge is what pages people, so it cannot page through itself when it breaks. When the configuration names
a `fallback_response_plan_arn`, each alarm starts an incident in that plan through CloudWatch's native
Incident Manager alarm action, which needs neither the queue nor the function. The alarms' names share a prefix
that the default-bus rule excludes (infra/ingest.py), so their state changes never reach the bridge itself.

Each alarm is built from one `AlarmSpec`, which gives its metric, threshold, description and dashboard
annotation: the numbers in the description and on the dashboard are the alarm's own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jsii
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from incident_bridge import metric_names

# SQS publishes its queue metrics once a minute; a minute is the shortest period that always has a datapoint.
QUEUE_PERIOD = Duration.minutes(1)
# Lambda Errors and Throttles: a 5-minute sum catches one failed invocation without flapping per minute.
FUNCTION_PERIOD = Duration.minutes(5)
# An alarm event normally waits the 5 s batching window plus at most one batch (function timeout 5 minutes); the
# storm simulation drains 1,000 alarms in about 6 minutes. Older than 10 minutes means the function is not keeping
# up, not polling (mapping disabled, broken permissions), or retrying a failure: in every case incidents are later
# than on-call would accept.
OLDEST_MESSAGE_AGE_THRESHOLD = Duration.minutes(10)
DASHBOARD_PERIOD = Duration.minutes(5)


@dataclass(frozen=True)
class MonitoredResources:
    function: lambda_.IFunction
    queue: sqs.IQueue
    dead_letter_queue: sqs.IQueue


@dataclass(frozen=True)
class AlarmSpec:
    """One self-monitoring alarm: fires when `statistic` of the metric over `period` is >= `threshold`."""

    construct_id: str
    #: The alarm name's suffix, after the stack's self-alarm prefix.
    name: str
    metric: Callable[[MonitoredResources, Duration, str], cloudwatch.Metric]
    statistic: str
    period: Duration
    threshold: float
    unit: str
    #: What it means, completed with the condition: "<what> (<condition>). <advice>".
    what: str
    advice: str

    @property
    def condition(self) -> str:
        threshold = f"{self.threshold:g}"
        return f"{self.statistic.lower()} {self.unit} >= {threshold} over {self.period.to_human_string()}"

    @property
    def description(self) -> str:
        return f"incident-bridge: {self.what} ({self.condition}). {self.advice}"

    def annotation(self) -> cloudwatch.HorizontalAnnotation:
        return cloudwatch.HorizontalAnnotation(value=self.threshold, label=f"alarm: {self.condition}")

    def build(self, scope: Construct, resources: MonitoredResources, alarm_name: str) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            scope,
            self.construct_id,
            alarm_name=alarm_name,
            metric=self.metric(resources, self.period, self.statistic),
            threshold=self.threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            # No datapoint means nothing happened (SQS stops publishing for idle queues, Lambda for idle functions).
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=self.description,
        )


DEAD_LETTERS = AlarmSpec(
    construct_id="DeadLettersAlarm",
    name="DeadLetters",
    metric=lambda r, period, statistic: r.dead_letter_queue.metric_approximate_number_of_messages_visible(
        period=period, statistic=statistic
    ),
    statistic=cloudwatch.Stats.MAXIMUM,
    period=QUEUE_PERIOD,
    threshold=1,
    unit="dead-letter messages",
    what="events are in the dead-letter queue, so some alarms opened no incident",
    advice="Read each message's ErrorClass and ErrorReason attributes, fix the cause, then `incident-bridge redrive`.",
)
# With ReportBatchItemFailures a failed record is not a function error; Errors counts invocations that crashed or
# timed out (a whole batch back on the queue) and failed alarm-action invocations.
FUNCTION_ERRORS = AlarmSpec(
    construct_id="FunctionErrorsAlarm",
    name="FunctionErrors",
    metric=lambda r, period, statistic: r.function.metric_errors(period=period, statistic=statistic),
    statistic=cloudwatch.Stats.SUM,
    period=FUNCTION_PERIOD,
    threshold=1,
    unit="errors",
    what="the function failed (crash or timeout)",
    advice="See its logs.",
)
FUNCTION_THROTTLES = AlarmSpec(
    construct_id="FunctionThrottlesAlarm",
    name="FunctionThrottles",
    metric=lambda r, period, statistic: r.function.metric_throttles(period=period, statistic=statistic),
    statistic=cloudwatch.Stats.SUM,
    period=FUNCTION_PERIOD,
    threshold=1,
    unit="throttles",
    what="the function was throttled beyond its reserved concurrency",
    advice="Direct alarm actions wait in Lambda's retry queue and queued events in SQS; see the README (Concurrency).",
)
OLDEST_MESSAGE_AGE = AlarmSpec(
    construct_id="OldestMessageAgeAlarm",
    name="OldestMessageAge",
    metric=lambda r, period, statistic: r.queue.metric_approximate_age_of_oldest_message(
        period=period, statistic=statistic
    ),
    statistic=cloudwatch.Stats.MAXIMUM,
    period=QUEUE_PERIOD,
    threshold=OLDEST_MESSAGE_AGE_THRESHOLD.to_seconds(),
    unit="age of the oldest queued event in seconds",
    what="events are waiting in the queue, so incidents are late",
    advice="The function is not keeping up, not polling, or retrying failures; see its logs and the dashboard.",
)
ALARM_SPECS = (DEAD_LETTERS, FUNCTION_ERRORS, FUNCTION_THROTTLES, OLDEST_MESSAGE_AGE)


@jsii.implements(cloudwatch.IAlarmAction)
class IncidentManagerAlarmAction:
    """Starts an incident in a response plan when the alarm goes into ALARM: CloudWatch's native Incident Manager
    action, whose ARN is the response plan's own ARN.

    `aws_cloudwatch_actions.SsmIncidentAction` takes a plan *name* and always builds the ARN in the stack's own
    account, so a plan shared from a central Incident Manager account would silently become a plan of the same
    name in this account (aws/aws-cdk#33946). The configured ARN is already validated, so it is used verbatim.
    CloudWatch starts the incident with its service-linked role (AWSServiceRoleForCloudWatchAlarms_ActionSSM...),
    created on first use by the deployer (see the README's Deploy section): the stack needs no IAM for it.
    """

    def __init__(self, response_plan_arn: str) -> None:
        self.response_plan_arn = response_plan_arn

    def bind(self, _scope: Construct, _alarm: cloudwatch.IAlarm) -> cloudwatch.AlarmActionConfig:
        return cloudwatch.AlarmActionConfig(alarm_action_arn=self.response_plan_arn)


class BridgeMonitoring(Construct):
    """The alarms of ALARM_SPECS (dead letters, function errors, throttles, queue age) and a dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        queue: sqs.IQueue,
        dead_letter_queue: sqs.IQueue,
        alarm_name_prefix: str,
        fallback_response_plan_arn: str | None = None,
        metrics_namespace: str = metric_names.NAMESPACE,
        service_name: str = metric_names.SERVICE_NAME,
    ) -> None:
        super().__init__(scope, construct_id)
        self.metrics_namespace = metrics_namespace
        self.service_name = service_name
        resources = MonitoredResources(function=function, queue=queue, dead_letter_queue=dead_letter_queue)
        built = {spec: spec.build(self, resources, f"{alarm_name_prefix}{spec.name}") for spec in ALARM_SPECS}
        self.dead_letters_alarm = built[DEAD_LETTERS]
        self.errors_alarm = built[FUNCTION_ERRORS]
        self.throttles_alarm = built[FUNCTION_THROTTLES]
        self.oldest_message_alarm = built[OLDEST_MESSAGE_AGE]
        self.alarms = tuple(built.values())
        if fallback_response_plan_arn:
            action = IncidentManagerAlarmAction(fallback_response_plan_arn)
            for alarm in self.alarms:
                alarm.add_alarm_action(action)

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(3))
        self._add_widgets(resources)

    def outcome_total(self, metric_name: str) -> cloudwatch.MathExpression:
        """One metric summed over every route, including routes added after deploy (a SEARCH, not a list)."""
        return cloudwatch.MathExpression(
            expression=f"SUM({self._search(metric_name)})", label=metric_name, period=DASHBOARD_PERIOD
        )

    def outcome_by_route(self, metric_name: str) -> cloudwatch.MathExpression:
        return cloudwatch.MathExpression(expression=self._search(metric_name), label="", period=DASHBOARD_PERIOD)

    def _search(self, metric_name: str) -> str:
        # Powertools publishes each count with the `route` dimension plus its default `service` dimension.
        schema = f"{{{self.metrics_namespace},{metric_names.ROUTE_DIMENSION},service}}"
        query = f'{schema} MetricName="{metric_name}" service="{self.service_name}"'
        return f"SEARCH('{query}', 'Sum', {int(DASHBOARD_PERIOD.to_seconds())})"

    @staticmethod
    def _alarm_graph(spec: AlarmSpec, resources: MonitoredResources, title: str, label: str) -> cloudwatch.GraphWidget:
        """The alarm's own metric (same statistic and period) with its threshold as an annotation."""
        metric = spec.metric(resources, spec.period, spec.statistic).with_(label=label)
        return cloudwatch.GraphWidget(title=title, left=[metric], left_annotations=[spec.annotation()], width=8)

    def _add_widgets(self, resources: MonitoredResources) -> None:
        function, queue = resources.function, resources.queue

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
                left=[self.outcome_total(name) for name in metric_names.INCIDENT_METRICS],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Ignored, retried and rejected events (all routes)",
                left=[self.outcome_total(name) for name in metric_names.EVENT_METRICS],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Incidents started by route",
                left=[self.outcome_by_route(metric_names.INCIDENT_STARTED)],
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
                    FUNCTION_ERRORS.metric(resources, FUNCTION_ERRORS.period, FUNCTION_ERRORS.statistic).with_(
                        label="Errors"
                    ),
                    FUNCTION_THROTTLES.metric(resources, FUNCTION_THROTTLES.period, FUNCTION_THROTTLES.statistic).with_(
                        label="Throttles"
                    ),
                ],
                left_annotations=[FUNCTION_ERRORS.annotation()],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            self._alarm_graph(DEAD_LETTERS, resources, "Dead-letter queue depth", "Messages"),
            self._alarm_graph(OLDEST_MESSAGE_AGE, resources, "Age of oldest queued event (s)", "Age"),
            cloudwatch.AlarmStatusWidget(title="Self-monitoring alarms", alarms=list(self.alarms), width=8),
        )
