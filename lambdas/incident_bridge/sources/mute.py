"""`detail.muteDetail` of an EventBridge alarm state change -> the MuteWindow the bridge honours.

The fields (`mutedByArn`, `muteWindowStart`, `muteWindowEnd`) are those the CloudWatch User Guide names for
state-change events sent while an alarm mute rule is active ("Alarm events and EventBridge"). A muteDetail the
bridge cannot read (a field missing or not a timestamp) mutes nothing: paging is the safe side of a doubt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from incident_bridge.quiet.mute import MuteWindow
from incident_bridge.sources.payloads import parse_aws_timestamp


def mute_window_of(detail: object) -> MuteWindow | None:
    mute = detail.get("muteDetail") if isinstance(detail, Mapping) else None
    if not isinstance(mute, Mapping):
        return None
    arn: Any = mute.get("mutedByArn")
    try:
        starts_at = parse_aws_timestamp(mute.get("muteWindowStart"))
        ends_at = parse_aws_timestamp(mute.get("muteWindowEnd"))
    except ValueError:
        return None
    if not isinstance(arn, str) or not arn or ends_at <= starts_at:
        return None
    return MuteWindow(muted_by_arn=arn[:1600], starts_at=starts_at, ends_at=ends_at)
