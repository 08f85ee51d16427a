#!/usr/bin/env python3
"""CDK app.

- The bridge: `cdk deploy IncidentBridge -c responsePlanArn=arn:aws:ssm-incidents::ACCOUNT:response-plan/NAME`
  (add `-c organizationId=o-...` or `-c intakeAccounts=...` for an intake bus that member accounts forward to).
- A member forwarder: `cdk deploy IncidentBridgeForwarder -c intakeBusArn=arn:aws:events:REGION:ACCOUNT:event-bus/NAME`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The Lambda package is the single source of the configuration model; the app validates with it.
sys.path.insert(0, str(Path(__file__).resolve().parent / "lambdas"))

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
from infra.settings import CONTEXT_KEYS, deploy_settings, intake_bus_arn, wants_central_stack
from infra.stack import IncidentBridgeStack

FORWARDER_STACK_NAME = "IncidentBridgeForwarder"


def main() -> None:
    app = cdk.App()
    context = {key: app.node.try_get_context(key) for key in CONTEXT_KEYS}
    try:
        bus_arn = intake_bus_arn(context)
        settings = deploy_settings(context) if wants_central_stack(context) else None
    except ConfigError as error:
        sys.exit(f"incident-bridge: invalid configuration: {error}")
    if settings is not None:
        IncidentBridgeStack(app, "IncidentBridge", settings=settings)
    if bus_arn is not None:
        IncidentBridgeForwarderStack(app, FORWARDER_STACK_NAME, intake_bus_arn=bus_arn)
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    app.synth()


if __name__ == "__main__":
    main()
