"""The bridge function: code, layer, environment, event source and exactly the permissions it needs."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Annotations, Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from incident_bridge.config import BridgeConfig
from infra.asset import CONFIG_FILE_NAME, bytecode_interpreter, stage_function_code
from infra.ingest import MAX_RECEIVE_COUNT
from infra.settings import TracingMode, static_environment
from infra.state_table import GroupStateTable

# Powertools for AWS Lambda (Python) v3, public layer published by AWS (account 017000801446), for the
# runtime below. Its version number is per layer, not the PyPI version; see the Powertools install docs.
POWERTOOLS_LAYER_VERSION = 27
RUNTIME = lambda_.Runtime.PYTHON_3_13
# A batch of 200 in a storm can need two or three minutes of API calls at Incident Manager's rate.
TIMEOUT = Duration.seconds(300)
# Two concurrent pollers (the minimum Lambda allows): a storm queues up instead of exceeding Incident Manager's
# API rate; the SDK's adaptive retry mode (client-side rate limiting and backoff) absorbs the rest.
MAX_CONCURRENCY = 2
# Large batches gathered over a few seconds put a storm's alarms of one group in the same batch, where they
# share one status check, one timeline note and one metric item (see lifecycle.Lifecycle.fire_many).
BATCH_SIZE = 200
BATCHING_WINDOW = Duration.seconds(5)


class BridgeFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: BridgeConfig,
        queue: sqs.IQueue,
        dead_letter_queue: sqs.IQueue,
        state_table: GroupStateTable,
        powertools_layer_arn: str | None = None,
        tracing: TracingMode = TracingMode.ACTIVE,
    ) -> None:
        super().__init__(scope, construct_id)
        log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=RemovalPolicy.DESTROY
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,
            handler="incident_bridge.handler.lambda_handler",
            code=lambda_.Code.from_asset(str(stage_function_code(config))),
            layers=[self._powertools_layer(powertools_layer_arn)],
            timeout=TIMEOUT,
            memory_size=256,
            tracing=lambda_.Tracing.DISABLED if tracing is TracingMode.OFF else lambda_.Tracing.ACTIVE,
            log_group=log_group,
            environment={
                "BRIDGE_CONFIG_FILE": CONFIG_FILE_NAME,
                "DEAD_LETTER_QUEUE_URL": dead_letter_queue.queue_url,
                "STATE_TABLE_NAME": state_table.table.table_name,
                # The only account whose alarm tags the function may look up (with AWS_REGION, set by Lambda).
                "BRIDGE_ACCOUNT_ID": Aws.ACCOUNT_ID,
                # Each retried record gets its own backoff (ChangeMessageVisibility on this queue; the event source
                # mapping's grant includes it), and one failing on its last receive before the redrive policy would
                # move it is dead-lettered by the function, with its reason.
                "EVENT_QUEUE_URL": queue.queue_url,
                "MAX_RECEIVE_COUNT": str(MAX_RECEIVE_COUNT),
                **static_environment(tracing),
            },
        )
        if bytecode_interpreter() is None:
            Annotations.of(self.function).add_info(
                "The code asset ships without bytecode (Python 3.13 was not found to compile it, see `make`), so "
                "every cold start compiles the package; see the README's Performance section."
            )
        self.function.add_event_source(
            sources.SqsEventSource(
                queue,
                batch_size=BATCH_SIZE,
                max_batching_window=BATCHING_WINDOW,
                max_concurrency=MAX_CONCURRENCY,
                report_batch_item_failures=True,
            )
        )
        dead_letter_queue.grant_send_messages(self.function)
        self._accept_alarm_actions(dead_letter_queue)
        state_table.grant_group_access(self.function)
        plans = config.response_plan_arns()
        self.function.add_to_role_policy(start_incident_statement(plans))
        self.function.add_to_role_policy(incident_record_statement(plans))
        if config.lookup_alarm_tags:
            self.function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["cloudwatch:ListTagsForResource"],
                    resources=[f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"],
                )
            )

    def _accept_alarm_actions(self, dead_letter_queue: sqs.IQueue) -> None:
        """Lets alarms in this account invoke the function directly (a Lambda alarm action).

        Such invocations are asynchronous: Lambda retries twice, then sends the event to the dead-letter queue.
        """
        self.function.add_permission(
            "AlarmActionInvoke",
            principal=iam.ServicePrincipal("lambda.alarms.cloudwatch.amazonaws.com"),
            action="lambda:InvokeFunction",
            source_account=Aws.ACCOUNT_ID,
            # Any alarm of this account; alarms are created after the bridge, so their ARNs are not known here.
            source_arn=f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*",
        )
        self.function.configure_async_invoke(
            retry_attempts=2,
            max_event_age=Duration.hours(6),
            on_failure=destinations.SqsDestination(dead_letter_queue),
        )

    def _powertools_layer(self, layer_arn: str | None) -> lambda_.ILayerVersion:
        arn = layer_arn or (
            f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:017000801446:layer:"
            f"AWSLambdaPowertoolsPythonV3-python313-x86_64:{POWERTOOLS_LAYER_VERSION}"
        )
        return lambda_.LayerVersion.from_layer_version_arn(self, "PowertoolsLayer", arn)


def start_incident_statement(response_plan_arns: Sequence[str]) -> iam.PolicyStatement:
    """StartIncident on exactly the configured plans: never a wildcard."""
    return iam.PolicyStatement(actions=["ssm-incidents:StartIncident"], resources=sorted(set(response_plan_arns)))


#: What the lifecycle does to incidents it opened: read their status, add items and notes, resolve or reopen.
INCIDENT_RECORD_ACTIONS = (
    "ssm-incidents:GetIncidentRecord",
    "ssm-incidents:UpdateRelatedItems",
    "ssm-incidents:CreateTimelineEvent",
    "ssm-incidents:UpdateIncidentRecord",
)


def incident_record_arns(response_plan_arns: Sequence[str]) -> list[str]:
    """Incident records live under their plan's name: arn:<p>:ssm-incidents::<account>:incident-record/<plan>/<id>."""
    return sorted({arn.replace(":response-plan/", ":incident-record/", 1) + "/*" for arn in response_plan_arns})


def incident_record_statement(response_plan_arns: Sequence[str]) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        actions=list(INCIDENT_RECORD_ACTIONS), resources=incident_record_arns(response_plan_arns)
    )
