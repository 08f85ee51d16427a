"""Custom application events (any EventBridge event whose source is not an AWS service) -> Signal.

The `detail` is read as custom.CustomRequest, the declaration its published JSON Schema is generated from; a detail
off the schema is an InvalidEvent naming every wrong field (`detail.impact: must be at most 5, got 7`), which the
handler dead-letters with that reason. Imported on first use (sources/__init__.py): alarms need none of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from incident_bridge.aws import INCIDENT_MANAGER_ARN, is_account, is_incident_manager_arn, is_region, is_trigger_source
from incident_bridge.custom import RESOLVED, read_request
from incident_bridge.errors import InvalidEvent
from incident_bridge.reader import ModelError
from incident_bridge.signal import (
    InvolvedResource,
    Link,
    RelatedThing,
    Signal,
    SignalStatus,
    Trigger,
    detail_labels,
    event_words,
)
from incident_bridge.sources.payloads import EventBridgeEnvelope

#: The trigger source when neither the event's `detail.source` nor its envelope `source` can be shown.
CUSTOM_TRIGGER_SOURCE = "incident-bridge.custom"
#: A custom event's title is the application's own: notes say "custom event <title>".
_WORDS = event_words("custom event", named_by_kind=False)


def from_application_event(envelope: EventBridgeEnvelope, raw: Mapping[str, Any]) -> Signal:
    try:
        request = read_request(envelope.detail)
    except ModelError as error:
        raise InvalidEvent(
            f"custom event {envelope.source!r}/{envelope.detail_type!r} does not follow the custom incident "
            f"schema: {error}"
        ) from None
    # Worded as an alarm's location is (sources/cloudwatch.py): the field's path, then what is wrong with it.
    if not is_account(envelope.account):
        raise InvalidEvent(f"account: expected a 12-digit AWS account id, got {envelope.account[:40]!r}")
    if not is_region(envelope.region):
        raise InvalidEvent(f"region: expected an AWS region code, got {envelope.region[:40]!r}")
    # The envelope's own `resources` name involved resources too; keep only ARNs Incident Manager accepts.
    envelope_arns = [arn for arn in envelope.resources if INCIDENT_MANAGER_ARN.match(arn)]
    resource_arns = tuple(dict.fromkeys([*envelope_arns, *request.resource_arns]))
    identity = request.dedupe_key or envelope.id
    labels: dict[str, tuple[str, ...]] = {
        **detail_labels(envelope.detail),
        "account": (envelope.account,),
        "region": (envelope.region,),
        "source": (envelope.source,),
        "detail_type": (envelope.detail_type,),
        "title": (request.title,),
    }
    if request.summary:
        labels["summary"] = (request.summary,)
    related: list[RelatedThing] = [Link(title=url.title, url=url.url) for url in request.related_urls]
    related += [
        InvolvedResource(arn=arn, title=_arn_title(arn)) for arn in resource_arns if is_incident_manager_arn(arn)
    ]
    fallback_source = envelope.source if is_trigger_source(envelope.source) else CUSTOM_TRIGGER_SOURCE
    return Signal(
        name=request.title,
        noun="custom event",
        event_id=envelope.id,
        status=SignalStatus.RECOVERING if request.status == RESOLVED else SignalStatus.FIRING,
        state=request.status,
        state_time=envelope.time,
        labels=labels,
        member=f"custom|{envelope.source}|{identity}",
        default_group=f"custom|{envelope.source}|{identity}",
        title=request.title,
        impact=request.impact,
        reason=request.summary or "",
        trigger=Trigger(
            source=request.source or fallback_source,
            arn=None,
            token_parts=("custom", envelope.source, identity),
        ),
        related=tuple(related),
        references=resource_arns,
        payload=f"custom application event (EventBridge, source {envelope.source}, detail-type {envelope.detail_type})",
        raw_event=dict(raw),
        words=_WORDS,
    )


def _arn_title(arn: str) -> str:
    parts = arn.split(":", 5)
    return f"{parts[2]} {parts[5]}" if len(parts) == 6 else arn
