"""Issue 13's boundary: sources/ turns every payload into one Signal, and nothing after it branches on what kind of
payload a signal came from. Checked on the code itself: no `isinstance` outside sources/ names a payload kind (the
classes alarm.py, custom.py and the payload-reading modules of sources/ define).

sources/forwarder.py is not a payload kind in this sense: its ForwarderCheck is the organization intake's own
housekeeping (a heartbeat or the silent-forwarder check), which the bridge keeps its books with and never routes.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "lambdas" / "incident_bridge"
# The modules that define what a payload is, before it becomes a Signal.
PAYLOAD_KIND_MODULES = (
    "alarm.py",
    "custom.py",
    "sources/payloads.py",
    "sources/classic.py",
    "sources/cloudwatch.py",
    "sources/application.py",
    "sources/profiles.py",
    "sources/mute.py",
)


def classes_defined_in(relative: str) -> set[str]:
    tree = ast.parse((PACKAGE / relative).read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.ClassDef)}


def names_in(expression: ast.expr) -> set[str]:
    """The names a type expression mentions: `A`, `m.A`, `(A, B)`, `A | B`."""
    found = set()
    for node in ast.walk(expression):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
    return found


def isinstance_checks_outside_sources() -> list[tuple[str, int, set[str]]]:
    checks = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("sources/") or relative in PAYLOAD_KIND_MODULES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance":
                checks.append((relative, node.lineno, names_in(node.args[1])))
    return checks


def test_no_isinstance_outside_sources_names_a_payload_kind() -> None:
    # Given every class that stands for a kind of payload
    kinds = set().union(*(classes_defined_in(module) for module in PAYLOAD_KIND_MODULES))
    assert {"NormalizedAlarm", "CustomRequest", "AlarmStateChangeEvent", "ClassicAlarm", "EventProfile"} <= kinds

    # When every isinstance check of the package outside sources/ is read
    checks = isinstance_checks_outside_sources()
    assert len(checks) > 50  # the scan reads the package (it has many isinstance checks on other types)

    # Then none of them branches on a payload kind
    branching = [f"{module}:{line} {sorted(named & kinds)}" for module, line, named in checks if named & kinds]
    assert branching == []
