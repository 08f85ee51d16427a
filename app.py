#!/usr/bin/env python3
"""CDK app: `cdk deploy -c responsePlanArn=arn:aws:ssm-incidents::ACCOUNT:response-plan/NAME`.

It imports the Lambda package (`incident_bridge`, the single source of the configuration model) and `infra` as
installed packages: `make` installs the project into .venv, which cdk.json's app command runs.
"""

from __future__ import annotations

import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from incident_bridge.errors import ConfigError
from infra.settings import deploy_settings
from infra.stack import IncidentBridgeStack


def main() -> None:
    app = cdk.App()
    try:
        # Every context key, so that an unknown one (a typo) fails instead of being ignored.
        settings = deploy_settings(dict(app.node.get_all_context()))
        IncidentBridgeStack(app, "IncidentBridge", settings=settings)
    except ConfigError as error:
        sys.exit(f"incident-bridge: invalid configuration: {error}")
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    app.synth()


if __name__ == "__main__":
    main()
