"""`routes show`: the routing tree as Alertmanager's `amtool config routes` draws it, or as a Mermaid diagram.

The default route is the root: it takes what no route catches. Its children are the routes, tried in order; the
first that matches decides, unless it says `continue`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import fields

from incident_bridge.cli.style import Style
from incident_bridge.config import BridgeConfig, DefaultRoute, Match, Route
from incident_bridge.reader import document_key


def matchers_text(match: Match) -> str:
    """`{namespace="AWS/Lambda", dimension:FunctionName=~"checkout-*"}`: `=` for one value, `=~` for
    alternatives (`a|b`), regular expressions between slashes."""
    parts = []
    for spec in fields(Match):
        wanted = getattr(match, spec.name)
        if wanted is None:
            continue
        key = document_key(spec)
        if isinstance(wanted, Mapping):
            prefix = {"dimensions": "dimension", "tags": "tag", "detail": "detail"}[spec.name]
            parts += [_matcher(f"{prefix}:{name}", values) for name, values in wanted.items()]
        elif spec.name == "alarm_name_regex":
            parts.append(f"alarm_name=~{' | '.join(f'/{pattern}/' for pattern in wanted)}")
        else:
            parts.append(_matcher(key, wanted))
    return "{" + ", ".join(parts) + "}"


def _matcher(name: str, values: tuple[str, ...]) -> str:
    return f'{name}="{values[0]}"' if len(values) == 1 else f'{name}=~"{"|".join(values)}"'


def _plan_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _settings(route: Route, default: DefaultRoute) -> str:
    """What the route does, with what it inherits from the default left out (as amtool shows receivers)."""
    if route.drop:
        return "drop"
    parts = []
    if route.response_plan_arn:
        parts.append(f"plan: {_plan_name(route.response_plan_arn)}")
    if route.impact is not None:
        parts.append(f"impact: {route.impact}")
    if route.impact_tag:
        parts.append(f"impact_tag: {route.impact_tag}")
    if route.group_by:
        parts.append(f"group_by: [{', '.join(route.group_by)}]")
    if route.auto_resolve:
        parts.append("auto_resolve: true")
    if route.title and route is not default:
        parts.append(f'title: "{route.title}"')
    if route.continue_:
        parts.append("continue: true")
    return "  ".join(parts) or "(inherits everything)"


def tree_lines(config: BridgeConfig, style: Style) -> Iterator[str]:
    default = config.default
    root_settings = [
        f"plan: {_plan_name(default.response_plan_arn)}",
        f"impact: {default.impact}",
        f"group_by: [{', '.join(default.group_by or ('alarm_arn',))}]",
        f"auto_resolve: {str(bool(default.auto_resolve)).lower()}",
    ]
    yield "Routing tree:"
    yield f"└── {style(default.name or 'default', 'bold')}  {'  '.join(root_settings)}"
    for index, route in enumerate(config.routes):
        branch = "└──" if index == len(config.routes) - 1 else "├──"
        name = route.name or f"routes[{index}]"
        settings = _settings(route, default)
        shown = style(settings, "red") if route.drop else settings
        yield f"    {branch} {style(name, 'bold')}  {matchers_text(route.match)}  {shown}"


def mermaid_lines(config: BridgeConfig) -> Iterator[str]:
    """A flowchart: each route a decision in order; `continue` routes open their incident and go on."""
    default = config.default
    yield "flowchart TD"
    yield '  event(["event"])'
    previous = "event"
    edge = "-->"
    for index, route in enumerate(config.routes):
        node = f"r{index}"
        name = route.name or f"routes[{index}]"
        yield f'  {node}{{"{_escape(name)}<br/>{_escape(matchers_text(route.match))}"}}'
        yield f"  {previous} {edge} {node}"
        if route.drop:
            yield f'  {node}_out["drop: no incident"]'
        else:
            plan = _plan_name(route.response_plan_arn or default.response_plan_arn)
            impact = route.impact if route.impact is not None else default.impact
            yield f'  {node}_out["{_escape(plan)}, impact {impact}"]'
        yield f"  {node} -- match --> {node}_out"
        if route.continue_ and index + 1 < len(config.routes):
            # The incident opens and routing goes on; when no later route matches, the default adds nothing.
            yield f"  {node}_out -. continue .-> r{index + 1}"
        previous, edge = node, "-- no -->"
    default_label = f"{default.name or 'default'}: {_plan_name(default.response_plan_arn)}, impact {default.impact}"
    yield f'  default_out["{_escape(default_label)}"]'
    yield f"  {previous} {edge} default_out"


def _escape(text: str) -> str:
    """Mermaid labels in double quotes take HTML entities for quotes and angle brackets."""
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
