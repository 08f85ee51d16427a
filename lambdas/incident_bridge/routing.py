"""Config routes -> the decision for one alarm: which plan, what impact, what title."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

from incident_bridge.alarm import NormalizedAlarm
from incident_bridge.config import BridgeConfig, Route


@dataclass(frozen=True)
class RouteDecision:
    route_name: str
    response_plan_arn: str
    impact: int
    title: str


def decide(alarm: NormalizedAlarm, config: BridgeConfig) -> RouteDecision:
    route: Route = config.default
    return RouteDecision(
        route_name=route.name,
        response_plan_arn=route.response_plan_arn,
        impact=route.impact,
        title=render_title(route.title, title_fields(alarm)),
    )


def title_fields(alarm: NormalizedAlarm) -> dict[str, str]:
    """The names a title template may use."""
    first_metric = alarm.resource_metrics[0] if alarm.resource_metrics else None
    return {
        "alarm_name": alarm.alarm_name,
        "account": alarm.account,
        "region": alarm.region,
        "state": alarm.state.value,
        "reason": alarm.reason,
        "description": alarm.description or "",
        "namespace": first_metric.namespace or "" if first_metric else "",
        "metric_name": first_metric.metric_name or "" if first_metric else "",
        "kind": alarm.kind.value,
        **{f"tag_{key}": value for key, value in alarm.tags.items()},
    }


class _Fields(dict[str, str]):
    def __missing__(self, key: str) -> str:
        # An unknown field renders as itself, visibly, instead of failing an incident at 3 a.m.
        return "{" + key + "}"


def render_title(template: str, fields: Mapping[str, str]) -> str:
    try:
        return string.Formatter().vformat(template, (), _Fields(fields))
    except (ValueError, IndexError):
        return template
