"""`invoke`'s table: one row per event, full names, the plan and impact of every incident it touched."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from incident_bridge.bridge import Routed
from incident_bridge.cli.style import Style
from incident_bridge.outcome import Outcome, OutcomeKind

#: Outcomes that touch an incident, so their row names its plan and impact.
TOUCHING = frozenset({OutcomeKind.STARTED, OutcomeKind.UPDATED, OutcomeKind.RESOLVED})
HEADER = ("EVENT", "OUTCOME", "PLAN", "IMPACT", "TITLE / REASON")


@dataclass(frozen=True)
class Invoked:
    """One event as `invoke` processed it: its file, what `decide` made of it, and its outcome."""

    path: Path
    decided: Outcome | Routed
    outcome: Outcome


def common_directory(paths: Sequence[Path]) -> Path | None:
    """The directory every path is in, when there is one worth naming (not the working directory)."""
    try:
        common = Path(os.path.commonpath([str(path.parent) for path in paths]))
    except ValueError:  # absolute and relative paths mixed
        return None
    return None if str(common) in ("", ".") else common


def plan_and_impact(invoked: Invoked) -> tuple[str, str]:
    """From the StartIncident request when there is one, else from the routes that decided (the incident's plan:
    a group belongs to one route)."""
    outcome = invoked.outcome
    if outcome.kind not in TOUCHING:
        return "-", "-"
    started = [call.params for call in outcome.calls if call.operation == "StartIncident"]
    if started:
        plans = [str(params["responsePlanArn"]) for params in started]
        impacts = [str(params["impact"]) for params in started]
    elif isinstance(invoked.decided, Routed):
        plans = [decision.response_plan_arn for decision in invoked.decided.routing.decisions]
        impacts = [str(decision.impact) for decision in invoked.decided.routing.decisions]
    else:
        return "-", "-"
    return ",".join(dict.fromkeys(plan.rsplit("/", 1)[-1] for plan in plans)), ",".join(dict.fromkeys(impacts))


def print_table(results: Sequence[Invoked], out: TextIO, style: Style) -> None:
    directory = common_directory([invoked.path for invoked in results])
    header = (f"EVENT (in {directory}/)" if directory else HEADER[0], *HEADER[1:])
    rows: list[tuple[tuple[str, ...], Invoked]] = []
    for invoked in results:
        name = str(invoked.path.relative_to(directory)) if directory else str(invoked.path)
        plan, impact = plan_and_impact(invoked)
        outcome = invoked.outcome
        titles = [str(call.params["title"]) for call in outcome.calls if call.operation == "StartIncident"]
        detail = "; ".join(titles) if outcome.kind is OutcomeKind.STARTED and titles else outcome.reason
        rows.append(((name, outcome.kind.value, plan, impact, detail), invoked))
    widths = [max(len(cells[column]) for cells in [header, *(cells for cells, _ in rows)]) for column in range(4)]
    indent = " " * (sum(widths) + 2 * 4)
    titles = [cell.ljust(width) for cell, width in zip(header[:4], widths, strict=True)]
    out.write(style("  ".join([*titles, header[4]]), "bold") + "\n")
    for cells, invoked in rows:
        padded = [cell.ljust(width) for cell, width in zip(cells[:4], widths, strict=True)]
        padded[1] = style.outcome(invoked.outcome.kind, padded[1])
        out.write("  ".join([*padded, cells[4]]).rstrip() + "\n")
        if invoked.outcome.kind is OutcomeKind.STARTED and invoked.outcome.incident_arn:
            out.write(f"{indent}{style('incident', 'dim')} {invoked.outcome.incident_arn}\n")
    counts = {kind: sum(1 for invoked in results if invoked.outcome.kind is kind) for kind in OutcomeKind}
    summary = ", ".join(style.outcome(kind, f"{count} {kind.value}") for kind, count in counts.items() if count)
    out.write("\n" + summary + "\n")
