"""CloudWatch alarm mute rules, as the bridge sees them: the window an event says its alarm's actions are muted in.

A state-change event sent while an alarm mute rule is active carries `detail.muteDetail` with `mutedByArn`
(`arn:aws:cloudwatch:REGION:ACCOUNT:alarm-mute-rule:NAME`), `muteWindowStart` and `muteWindowEnd` (CloudWatch User
Guide, "Alarm events and EventBridge"; "Alarm Mute Rules"). The alarm keeps evaluating and changing state; only its
actions are muted, and CloudWatch runs them when the window ends if the alarm is still in the state it was muted in
("How alarm mute rules work"). The bridge does the same: a firing event inside the window is quiet, a recovery never.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class MuteWindow(NamedTuple):
    """The window a CloudWatch alarm mute rule mutes the alarm's actions in (`detail.muteDetail`)."""

    muted_by_arn: str
    starts_at: datetime
    ends_at: datetime

    def mutes(self, moment: datetime) -> bool:
        """Whether `moment` (the event's time) lies in the window: start included, end excluded."""
        return self.starts_at <= moment < self.ends_at
