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

#: The Powertools for AWS Lambda (Python) release the function runs: the one requirements-lambda.txt pins for the
#: tests and `make bench` (tests/infra/test_deploy_guards.py fails when they differ).
POWERTOOLS_RELEASE = "3.37.0"
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.X86_64
# A batch of 200 in a storm can need two or three minutes of API calls at Incident Manager's rate.
TIMEOUT = Duration.seconds(300)
# Two concurrent pollers (the minimum Lambda allows): a storm queues up instead of exceeding Incident Manager's
# API rate; the SDK's adaptive retry mode (client-side rate limiting and backoff) absorbs the rest.
MAX_CONCURRENCY = 2
# Reserved concurrency does two things. The bridge always has this much, even when the rest of the account has run
# out of concurrency (exactly when everything is on fire), so it is never throttled for lack of it. And it is a
# ceiling: direct alarm-action invocations (asynchronous) can never run more than this many copies at once, so a
# flood of them reaches Incident Manager at most at the rate of this many sequential callers, with the SDK's
# adaptive rate limiting in each; the excess waits in Lambda's asynchronous queue (retried for up to
# MAX_EVENT_AGE) instead of hammering the API. One more than the queue's pollers leaves room for one alarm action
# while the queue is busy (Lambda Developer Guide: reserved concurrency should be at least the SQS event source's
# maximum concurrency).
RESERVED_CONCURRENCY = MAX_CONCURRENCY + 1
# How long Lambda keeps retrying a direct alarm-action invocation that was throttled or failed (the maximum).
MAX_EVENT_AGE = Duration.hours(6)
#: Incident Manager's request rate the bridge may use in all, in requests per second. AWS publishes no request-rate
#: quota for the incident APIs: 5 is the rate `make storm` models; give `IncidentBridge(incident_manager_rate=...)`
#: the rate your account sustains (README, Alarm storms).
INCIDENT_MANAGER_RATE = 5.0


def request_budget_share(rate: float = INCIDENT_MANAGER_RATE) -> float:
    """Each container's fixed share of the rate (incident_bridge/budget.py): the event source runs at most
    MAX_CONCURRENCY invocations at once, each in its own container with its own budget, so together they stay under
    `rate` without talking to each other."""
    return rate / MAX_CONCURRENCY


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
        incident_manager_rate: float = INCIDENT_MANAGER_RATE,
    ) -> None:
        super().__init__(scope, construct_id)
        if not incident_manager_rate > 0:
            raise ValueError(f"incident_manager_rate: expected a positive number of requests per second, got "
                             f"{incident_manager_rate!r}")  # fmt: skip
        log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=RemovalPolicy.DESTROY
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="incident_bridge.handler.lambda_handler",
            code=lambda_.Code.from_asset(str(stage_function_code(config))),
            layers=[self._powertools_layer(powertools_layer_arn)],
            timeout=TIMEOUT,
            memory_size=256,
            reserved_concurrent_executions=RESERVED_CONCURRENCY,
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
                # This container's share of Incident Manager's rate: every attempt waits for a token of it first.
                "REQUEST_BUDGET_PER_SECOND": f"{request_budget_share(incident_manager_rate):g}",
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
        # A record an invocation had no time to start is sent back to its queue as a new message (runtime.py).
        queue.grant_send_messages(self.function)
        self._accept_alarm_actions(dead_letter_queue)
        state_table.grant_group_access(self.function)
        plans = config.response_plan_arns()
        self.function.add_to_role_policy(start_incident_statement(plans))
        self.function.add_to_role_policy(incident_record_statement(plans))
        for statement in start_incident_on_behalf_statements(plans):
            self.function.add_to_role_policy(statement)
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
            max_event_age=MAX_EVENT_AGE,
            on_failure=destinations.SqsDestination(dead_letter_queue),
        )

    def _powertools_layer(self, layer_arn: str | None) -> lambda_.ILayerVersion:
        arn = layer_arn or powertools_layer_reference()
        return lambda_.LayerVersion.from_layer_version_arn(self, "PowertoolsLayer", arn)


def powertools_layer_parameter(release: str = POWERTOOLS_RELEASE) -> str:
    """The public SSM parameter holding the ARN of AWS's Powertools layer of `release`, for the function's runtime
    and architecture, in the region being deployed to. Powertools publishes one per release
    (`/aws/service/powertools/python/<arch>/<python>/<release>`, next to `latest`: Powertools install docs,
    "Using SSM Parameter Store", and its repository's `.github/workflows/update_ssm.yml`)."""
    return f"/aws/service/powertools/python/{ARCHITECTURE.name}/{RUNTIME.name}/{release}"


def powertools_layer_reference() -> str:
    """A CloudFormation dynamic reference to that parameter: resolved at deploy time, so synth needs no lookup
    and the layer is the exact release the tests ran, never whatever layer version number was current."""
    return f"{{{{resolve:ssm:{powertools_layer_parameter()}}}}}"


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

#: What StartIncident does with the caller's credentials (forward access sessions): page the plan's contacts and
#: create the parent OpsItem. Source: Incident Manager User Guide, "Incident creation" (required IAM permissions
#: for starting incidents), and the managed policy AWSIncidentManagerResolverAccess.
START_INCIDENT_ON_BEHALF_ACTIONS = ("ssm-contacts:StartEngagement", "ssm:CreateOpsItem")
#: The only way these actions may be used: as part of a request the role sent to Incident Manager.
CALLED_VIA_INCIDENT_MANAGER = {"StringEquals": {"aws:CalledViaFirst": "ssm-incidents.amazonaws.com"}}


def incident_record_arns(response_plan_arns: Sequence[str]) -> list[str]:
    """Incident records live under their plan's name: arn:<p>:ssm-incidents::<account>:incident-record/<plan>/<id>."""
    return sorted({arn.replace(":response-plan/", ":incident-record/", 1) + "/*" for arn in response_plan_arns})


def incident_record_statement(response_plan_arns: Sequence[str]) -> iam.PolicyStatement:
    """The incident-record actions require BOTH resource types, `incident-record` and `response-plan` (Service
    Authorization Reference, Incident Manager), so the statement names the records and their plans, nothing else."""
    return iam.PolicyStatement(
        actions=list(INCIDENT_RECORD_ACTIONS),
        resources=[*incident_record_arns(response_plan_arns), *sorted(set(response_plan_arns))],
    )


def contact_arns(response_plan_arns: Sequence[str]) -> list[str]:
    """Every contact and escalation plan (both are the `contact` resource type) of the plans' accounts, in any
    region: the plan names its contacts only at run time, and they live in the replication set's regions."""
    owners = {tuple(arn.split(":")[1:5:3]) for arn in response_plan_arns}  # (partition, account)
    return sorted(f"arn:{partition}:ssm-contacts:*:{account}:contact/*" for partition, account in owners)


def start_incident_on_behalf_statements(response_plan_arns: Sequence[str]) -> list[iam.PolicyStatement]:
    """ssm-contacts:StartEngagement on the plans' accounts' contacts; ssm:CreateOpsItem on `*`, as it supports no
    resource type (Service Authorization Reference, Systems Manager). Both only through Incident Manager."""
    return [
        iam.PolicyStatement(
            actions=[START_INCIDENT_ON_BEHALF_ACTIONS[0]],
            resources=contact_arns(response_plan_arns),
            conditions=CALLED_VIA_INCIDENT_MANAGER,
        ),
        iam.PolicyStatement(
            actions=[START_INCIDENT_ON_BEHALF_ACTIONS[1]], resources=["*"], conditions=CALLED_VIA_INCIDENT_MANAGER
        ),
    ]
