"""Lambda entry point: Powertools decorators, the batch loop, one call per record into the runtime."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from incident_bridge.runtime import Runtime
from incident_bridge.settings import Settings

# Outcome metrics are emitted per event (with a route dimension); an invocation with none is normal.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
metrics = Metrics()
tracer = Tracer()
# A batch whose records all fail is reported record by record, like any other partial failure.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

# Cold start: settings, configuration and clients are built once per container.
RUNTIME = Runtime.from_settings(Settings.from_environment())


def record_handler(record: SQSRecord) -> None:
    RUNTIME.process_message(record.body, record.message_id)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Mapping[str, Any]:
    if _is_sqs_batch(event):
        # Failed records are reported individually; the rest of the batch is not redelivered.
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
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
