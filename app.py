#!/usr/bin/env python3
"""CDK app: `cdk deploy -c responsePlanArn=arn:aws:ssm-incidents::ACCOUNT:response-plan/NAME`."""

from __future__ import annotations

import sys
from pathlib import Path

# The Lambda package is the single source of the configuration model; the app validates with it.
sys.path.insert(0, str(Path(__file__).resolve().parent / "lambdas"))

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from incident_bridge.errors import ConfigError
from infra.settings import CONTEXT_KEYS, deploy_settings
from infra.stack import IncidentBridgeStack


def main() -> None:
    app = cdk.App()
    context = {key: app.node.try_get_context(key) for key in CONTEXT_KEYS}
    try:
        settings = deploy_settings(context)
    except ConfigError as error:
        sys.exit(f"incident-bridge: invalid configuration: {error}")
    IncidentBridgeStack(app, "IncidentBridge", settings=settings)
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    app.synth()


if __name__ == "__main__":
    main()
