"""Writes the member forwarder's CloudFormation template for a StackSet: `make forwarder-template`.

`python -m infra.forwarder_template [FILE [PROFILES]]` (default: dist/incident-bridge-forwarder.template.json;
PROFILES as `forwardAwsEvents` takes them, e.g. `guardduty,health`: the AWS service events forwarded besides
alarms). The template has no default for `IntakeBusArn`: the StackSet sets it (see the README's organization
rollout).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any

# As app.py does: jsii's Node 20 end-of-life banner says nothing actionable on each run.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "20")

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from incident_bridge.errors import ConfigError
from infra.forwarder import IncidentBridgeForwarderStack
from infra.settings import FORWARD_AWS_EVENTS_KEY, forwarded_aws_events

DEFAULT_OUTPUT = Path("dist") / "incident-bridge-forwarder.template.json"


def forwarder_template(aws_events: Collection[str] = ()) -> dict[str, Any]:
    """The template as CloudFormation receives it, after cdk-nag's AWS Solutions checks (errors fail synth)."""
    app = cdk.App()
    stack = IncidentBridgeForwarderStack(app, "IncidentBridgeForwarder", aws_events=aws_events)
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    assembly = app.synth()
    template: dict[str, Any] = assembly.get_stack_by_name(stack.stack_name).template
    return template


def main(arguments: list[str]) -> None:
    output = Path(arguments[0]) if arguments else DEFAULT_OUTPUT
    try:
        profiles = forwarded_aws_events({FORWARD_AWS_EVENTS_KEY: arguments[1]} if len(arguments) > 1 else {})
    except ConfigError as error:
        sys.exit(f"incident-bridge: {error}")
    output.parent.mkdir(parents=True, exist_ok=True)
    template = forwarder_template(profiles)
    output.write_text(json.dumps(template, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {output}")


if __name__ == "__main__":
    main(sys.argv[1:])
