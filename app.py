#!/usr/bin/env python3
"""CDK app.

- The bridge: `cdk deploy IncidentBridge -c responsePlanArn=arn:aws:ssm-incidents::ACCOUNT:response-plan/NAME`
  (add `-c organizationId=o-...` or `-c intakeAccounts=...` for an intake bus that member accounts forward to).
- A member forwarder: `cdk deploy IncidentBridgeForwarder -c intakeBusArn=arn:aws:events:REGION:ACCOUNT:event-bus/NAME`.

It imports the Lambda package (`incident_bridge`, the single source of the configuration model) and `infra` as
installed packages: `make` installs the project into .venv, which cdk.json's app command runs.
"""

from __future__ import annotations

import os
import sys

# jsii (Python CDK's bridge to its Node core) prints an 11-line end-of-life banner for Node 20 on stderr at every
# synth, which the CDK CLI then relays as Python byte literals. Node 20 is what the README supports (22 and 24 are
# fine too and print nothing); the banner says nothing actionable on each run, so it is silenced here, where every
# `cdk` command passes (cdk.json runs this file). An explicit setting of the variable wins.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "20")

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from incident_bridge.errors import ConfigError
from infra.forwarder import IncidentBridgeForwarderStack
from infra.settings import (
    check_context_keys,
    deploy_settings,
    forwarded_aws_events,
    intake_bus_arn,
    wants_central_stack,
)
from infra.stack import IncidentBridgeStack

FORWARDER_STACK_NAME = "IncidentBridgeForwarder"


def main() -> None:
    app = cdk.App()
    try:
        # Every context key, so that an unknown one (a typo) fails instead of being ignored.
        context = dict(app.node.get_all_context())
        bus_arn = intake_bus_arn(context)
        forwarded = forwarded_aws_events(context)
        if wants_central_stack(context):
            IncidentBridgeStack(app, "IncidentBridge", settings=deploy_settings(context))
        else:  # a forwarder alone: no response plan needed, but a mistyped key still fails
            check_context_keys(key for key, value in context.items() if value is not None)
    except ConfigError as error:
        sys.exit(f"incident-bridge: invalid configuration: {error}")
    if bus_arn is not None:
        IncidentBridgeForwarderStack(app, FORWARDER_STACK_NAME, intake_bus_arn=bus_arn, aws_events=forwarded)
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    app.synth()


if __name__ == "__main__":
    main()
