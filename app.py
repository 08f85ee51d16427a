#!/usr/bin/env python3
"""CDK app.

- The bridge: `cdk deploy IncidentBridge -c responsePlanArn=arn:aws:ssm-incidents::ACCOUNT:response-plan/NAME`
  (add `-c organizationId=o-...` or `-c intakeAccounts=...` for an intake bus that member accounts forward to).
- A member forwarder: `cdk deploy IncidentBridgeForwarder -c intakeBusArn=arn:aws:events:REGION:ACCOUNT:event-bus/NAME`.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The Lambda package is the single source of the configuration model; the app validates with it.
sys.path.insert(0, str(Path(__file__).resolve().parent / "lambdas"))

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
