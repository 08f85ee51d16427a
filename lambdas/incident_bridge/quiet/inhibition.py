"""Inhibition with Alertmanager's semantics: while a source alarm fires, targets with the same `equal` labels stay
quiet.

```yaml
inhibit_rules:
  - source_matchers: {alarm_name: 'region-health-*'}
    target_matchers: {namespace: 'AWS/*'}
    equal: [region]
```

Sources are remembered by rule and by the values of the `equal` labels (`source_key`), so finding what inhibits a
target is one look-up per rule it matches. A label absent on both sides counts as equal, as in Alertmanager; an
alarm never inhibits itself, and an alarm that matches both sides of a rule is not inhibited by another that does
(Alertmanager's guard against two alarms silencing each other). Pure: the caller gives the matcher test, the
labels, and what is known to be firing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from incident_bridge.config import EQUAL_LABELS, REQUIRED_MATCH

if TYPE_CHECKING:
    from incident_bridge.config import Match

Labels = Mapping[str, tuple[str, ...]]
#: Prefix of the state table's items that hold firing sources (beside group records, whose keys never start so).
SOURCE_KEY_PREFIX = "inhibit#"


@dataclass(frozen=True, kw_only=True)
class InhibitRule:
    """One `inhibit_rules` entry: while a source fires, matching targets with equal labels stay quiet."""

    source_matchers: Match = field(metadata=REQUIRED_MATCH)
    target_matchers: Match = field(metadata=REQUIRED_MATCH)
    #: Label names (`region`, `tag:service`, `dimension:ClusterName`) whose values source and target must share.
    equal: tuple[str, ...] = field(default=(), metadata=EQUAL_LABELS)


@dataclass(frozen=True, kw_only=True)
class FiringSource:
    """An alarm in ALARM that matched a rule's source matchers, as remembered under its `source_key`."""

    #: What identifies the alarm (its ARN): one entry per alarm, so its OK clears exactly it.
    member: str
    name: str
    since: datetime
    #: It also matched the rule's target matchers (Alertmanager's mutual-inhibition guard).
    also_target: bool = False


def source_key(rule_index: int, rule: InhibitRule, labels: Labels) -> str:
    """Where sources with these `equal` values are remembered: the rule's position and a digest of the values."""
    values = [list(labels.get(name, ())) for name in rule.equal]
    digest = hashlib.sha256(json.dumps(values, separators=(",", ":")).encode()).hexdigest()[:32]
    return f"{SOURCE_KEY_PREFIX}{rule_index}#{digest}"


def source_keys(
    rules: Iterable[InhibitRule], labels: Labels, matches: Callable[[Match], bool]
) -> list[tuple[str, bool]]:
    """The keys an event is a source under (for each rule whose source matchers it matches), and whether it also
    matches that rule's targets."""
    return [
        (source_key(index, rule, labels), matches(rule.target_matchers))
        for index, rule in enumerate(rules)
        if matches(rule.source_matchers)
    ]


def inhibiting(
    rules: Iterable[InhibitRule],
    labels: Labels,
    member: str,
    matches: Callable[[Match], bool],
    firing: Callable[[str], Iterable[FiringSource]],
) -> FiringSource | None:
    """The firing source that inhibits this event, or None. `firing(key)` gives what is known to fire there."""
    for index, rule in enumerate(rules):
        if not matches(rule.target_matchers):
            continue
        target_is_source = matches(rule.source_matchers)
        for source in firing(source_key(index, rule, labels)):
            if source.member == member or (target_is_source and source.also_target):
                continue
            return source
    return None
