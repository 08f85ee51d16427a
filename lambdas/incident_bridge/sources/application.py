"""Custom application events (any EventBridge event whose source is not an AWS service) -> CustomIncident.

Imported on first use (sources/__init__.py): the detail's schema is a pydantic model, which alarms need not load.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from incident_bridge.arns import INCIDENT_MANAGER_ARN, is_account, is_region, partition_of_region
from incident_bridge.custom import CustomIncident
from incident_bridge.custom_schema import CustomIncidentDetail
from incident_bridge.errors import InvalidEvent
from incident_bridge.sources.payloads import EventBridgeEnvelope
from incident_bridge.validation import describe


def from_application_event(envelope: EventBridgeEnvelope, raw: Mapping[str, Any]) -> CustomIncident:
    try:
        request = CustomIncidentDetail.model_validate(envelope.detail).to_request()
    except ValidationError as error:
        raise InvalidEvent(
            f"custom event {envelope.source!r}/{envelope.detail_type!r} does not follow the custom incident "
            f"schema: {describe(error, prefix='detail')}"
        ) from None
    if not is_account(envelope.account) or not is_region(envelope.region):
        raise InvalidEvent(f"custom event with account={envelope.account[:20]!r} region={envelope.region[:30]!r}")
    # The envelope's own `resources` name involved resources too; keep only ARNs Incident Manager accepts.
    envelope_arns = [arn for arn in envelope.resources if INCIDENT_MANAGER_ARN.match(arn)]
    return CustomIncident(
        event_id=envelope.id,
        source=envelope.source,
        detail_type=envelope.detail_type,
        account=envelope.account,
        region=envelope.region,
        partition=partition_of_region(envelope.region),
        time=envelope.time,
        request=request,
        resource_arns=tuple(dict.fromkeys([*envelope_arns, *request.resource_arns])),
        detail=dict(envelope.detail),
        raw_event=dict(raw),
    )
