"""Writes the member forwarder's CloudFormation template for a StackSet: `make forwarder-template`.

`python -m infra.forwarder_template [FILE]` (default: dist/incident-bridge-forwarder.template.json). The template
has no default for `IntakeBusArn`: the StackSet sets it (see the README's organization rollout).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.forwarder import IncidentBridgeForwarderStack

DEFAULT_OUTPUT = Path("dist") / "incident-bridge-forwarder.template.json"


def forwarder_template() -> dict[str, Any]:
    """The template as CloudFormation receives it, after cdk-nag's AWS Solutions checks (errors fail synth)."""
    app = cdk.App()
    stack = IncidentBridgeForwarderStack(app, "IncidentBridgeForwarder")
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    assembly = app.synth()
    template: dict[str, Any] = assembly.get_stack_by_name(stack.stack_name).template
    return template


def main(arguments: list[str]) -> None:
    output = Path(arguments[0]) if arguments else DEFAULT_OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(forwarder_template(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {output}")


if __name__ == "__main__":
    main(sys.argv[1:])
