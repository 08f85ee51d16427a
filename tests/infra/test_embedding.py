"""Embedding: an app of the user's own, with the public IncidentBridge construct in a stack of its own, under
cdk-nag; and the project's packages importable as installed, without sys.path edits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
from aws_cdk.assertions import Annotations, Match
from cdk_nag import AwsSolutionsChecks

from incident_bridge.config import parse_config
from infra.bridge import IncidentBridge
from tests.conftest import PLAN_ARN


def test_a_stack_that_embeds_the_construct_passes_cdk_nag_without_suppressions_of_its_own(tmp_path: Path) -> None:
    # Given a user's app: a plain Stack holding the construct, with a fallback plan and alarm tag lookup (the
    # features that add grants), and the AWS Solutions checks as the user would add them
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "TeamMonitoring")
    document = {
        "default": {"response_plan_arn": PLAN_ARN},
        "fallback_response_plan_arn": PLAN_ARN,
        "lookup_alarm_tags": True,
    }
    IncidentBridge(stack, "Paging", config=parse_config(document, origin="embedding test"))
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))

    # When the app is synthesized and cdk-nag's findings are read
    annotations = Annotations.from_stack(stack)
    errors = annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    warnings = annotations.find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))

    # Then there are none: the construct explained its own findings
    assert [error.entry.data for error in errors] == []
    assert [warning.entry.data for warning in warnings] == []


def test_both_packages_are_importable_as_installed_from_anywhere(tmp_path: Path) -> None:
    # Given a fresh interpreter of the project's environment, started outside the checkout, with no PYTHONPATH
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    script = "import json, incident_bridge, infra.bridge; print(json.dumps([incident_bridge.__file__, infra.__file__]))"

    # When it imports the Lambda package and the constructs
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=environment, capture_output=True, text=True, check=False
    )

    # Then both import, and they are this project's packages (`make` installs the project, editable, into .venv)
    assert result.returncode == 0, result.stderr[-2000:]
    lambda_package, infra_package = (Path(path).parent for path in json.loads(result.stdout))
    assert (lambda_package.name, infra_package.name) == ("incident_bridge", "infra")
    assert (lambda_package / "handler.py").is_file()
    assert (infra_package / "bridge.py").is_file()
    assert (infra_package / "iam_requirements.json").is_file()
