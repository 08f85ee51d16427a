"""Lambda entry point: Powertools decorators, then one call into the runtime per batch or direct invocation."""

from __future__ import annotations

import gc

# A cold start creates only long-lived objects (modules, models, clients, botocore's service models): cyclic
# garbage collection passes over them find nothing to free and cost about a tenth of init (`make bench`).
# Collection resumes, with init's objects frozen out of it, once the container is built (end of this module).
gc.disable()

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

from incident_bridge.runtime import Runtime
from incident_bridge.settings import Settings
from incident_bridge.tracing import build_tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

# Outcome metrics are emitted per event (with a route dimension); an invocation with none is normal.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
metrics = Metrics()
# X-Ray SDK subsegments only when the stack turns them on (tracing=sdk): the SDK import is costly at cold start.
tracer = build_tracer()

# Cold start: settings, configuration and clients are built once per container.
try:
    RUNTIME = Runtime.from_settings(Settings.from_environment())
finally:
    gc.freeze()  # what init built stays for the container's life: later collections need not scan it
    gc.enable()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Mapping[str, Any]:
    if _is_sqs_batch(event):
        # The whole batch at once, so alarms of one group share one update; only the records that failed
        # transiently are named for redelivery (partial batch response).
        return RUNTIME.process_batch(event["Records"], context.get_remaining_time_in_millis)
    RUNTIME.process_event(event, context.aws_request_id)
    return {}


def _is_sqs_batch(event: object) -> bool:
    if not isinstance(event, dict):
        return False  # a direct invocation may carry any JSON; the bridge rejects what is not an object
    records = event.get("Records")
    return (
        isinstance(records, list)
        and bool(records)
        and all(isinstance(record, dict) and record.get("eventSource") == "aws:sqs" for record in records)
    )
