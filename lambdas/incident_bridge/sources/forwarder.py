"""The organization intake's own traffic: forwarder heartbeats and the bridge's scheduled silence check.

A heartbeat is the scheduled event of a member forwarder's rule, forwarded unchanged (EventBridge allows no custom
input on a target that is another account's bus): EventBridge sets `account`, `region` and `resources` (the rule's
ARN), so the forwarder is identified by what EventBridge wrote, never by what a member chose (EventBridge User
Guide, events detail reference, "Scheduled Event"). The check is the central stack's own schedule, whose target
input (same account, so allowed) is `{"incidentBridgeTask": "check-forwarders", "id": ..., "time": ...}`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from incident_bridge.aws import is_account, is_region
from incident_bridge.errors import InvalidEvent
from incident_bridge.intake import HEARTBEAT_RULE_NAME
from incident_bridge.reader import Reader
from incident_bridge.sources.payloads import EventBridgeEnvelope, parse_aws_timestamp

if TYPE_CHECKING:
    from incident_bridge.heartbeats import Heartbeat

SCHEDULED_EVENT = "Scheduled Event"
TASK_KEY = "incidentBridgeTask"
CHECK_FORWARDERS = "check-forwarders"
#: Compiled on first use (re's cache), not at import: only forwarder heartbeats need it.
_RULE_ARN = r"^arn:aws[a-z-]*:events:([a-z0-9-]+):([0-9]{12}):rule/(.+)\Z"


class ForwarderCheck(NamedTuple):
    """One tick of the central schedule: time to look for silent forwarders."""

    event_id: str
    time: datetime


def is_scheduled_event(raw: Mapping[str, Any]) -> bool:
    return raw.get("source") == "aws.events" and raw.get("detail-type") == SCHEDULED_EVENT


def is_task(raw: Mapping[str, Any]) -> bool:
    return TASK_KEY in raw


def describe_scheduled(raw: Mapping[str, Any]) -> str:
    """Why a scheduled event is not routed: a heartbeat (recorded, never paged), or another rule's event."""
    heartbeat = heartbeat_of(raw)
    if isinstance(heartbeat, str):
        return heartbeat
    return f"heartbeat of forwarder {heartbeat.forwarder}: recorded, never paged"


def heartbeat_of(raw: Mapping[str, Any]) -> Heartbeat | str:
    """The heartbeat a forwarder's scheduled event stands for, or why this scheduled event is not one."""
    envelope = EventBridgeEnvelope.read(raw)
    rules = [match.groups() for match in (re.match(_RULE_ARN, arn) for arn in envelope.resources) if match]
    if not any(name == HEARTBEAT_RULE_NAME for _, _, name in rules):
        names = ", ".join(name for _, _, name in rules) or "none"
        return f"scheduled event of rule {names[:100]}: not a forwarder heartbeat"
    if not is_account(envelope.account) or not is_region(envelope.region):
        raise InvalidEvent(f"heartbeat with account={envelope.account[:20]!r} region={envelope.region[:30]!r}")
    if (envelope.region, envelope.account, HEARTBEAT_RULE_NAME) not in rules:
        # EventBridge writes both; a rule ARN of another account or region than the envelope's is not its own.
        raise InvalidEvent(
            f"heartbeat rule ARN does not belong to account {envelope.account} in {envelope.region}: "
            f"{', '.join(envelope.resources)[:200]}"
        )
    # Imported on the first heartbeat: a bridge without organization intake never loads the heartbeat domain.
    from incident_bridge.heartbeats import ForwarderId, Heartbeat

    return Heartbeat(ForwarderId(envelope.account, envelope.region), envelope.time, envelope.id)


def task_of(raw: Mapping[str, Any]) -> ForwarderCheck:
    task = Reader(raw)
    name = task.string(TASK_KEY)
    if name != CHECK_FORWARDERS:
        raise InvalidEvent(f"{TASK_KEY}: unknown task {name[:60]!r} (known: {CHECK_FORWARDERS})")
    return ForwarderCheck(task.string("id", min_length=1), task.convert("time", parse_aws_timestamp))
