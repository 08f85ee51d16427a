"""The deployed code asset imports only what Lambda provides: the runtime (boto3) and the Powertools layer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.asset import CONFIG_FILE_NAME, stage_function_code
from infra.settings import deploy_settings
from tests.conftest import EVENTS_DIR

# What the python3.13 runtime (boto3 and its dependencies) and the public Powertools v3 layer (Powertools with its
# extras: pydantic, aws-xray-sdk and theirs) put on the path. Anything else would be missing in Lambda.
PROVIDED = frozenset(
    {
        "boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six",
        "aws_lambda_powertools", "aws_xray_sdk", "wrapt",
        "pydantic", "pydantic_core", "typing_extensions", "annotated_types", "typing_inspection",
        "incident_bridge",
        "certifi",  # botocore imports it when it is installed and does without it otherwise
    }
)  # fmt: skip
# Loaded by the interpreter or the virtualenv's site hooks, not by the handler (`__editable__...finder`: the
# project's editable install into .venv, which maps two package folders, lambdas/incident_bridge and infra).
INTERPRETER = ("_sysconfigdata", "_distutils_hack", "__editable__")


def test_the_staged_asset_imports_only_the_runtime_and_the_layer(tmp_path: Path) -> None:
    # Given the asset as `cdk synth` stages it, from the documented example configuration
    staged = stage_function_code(deploy_settings({"bridgeConfig": "examples/bridge.teams.yaml"}).config)
    event = json.loads((EVENTS_DIR / "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json").read_text("utf-8"))
    record = {"messageId": "m-1", "body": json.dumps(event), "eventSource": "aws:sqs"}
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(staged),
        "AWS_DEFAULT_REGION": "us-east-1",
        "BRIDGE_CONFIG_FILE": CONFIG_FILE_NAME,
        "INCIDENT_MANAGER_MODE": "dry-run",  # the handler path without network; live adds only boto3 clients
        "POWERTOOLS_SERVICE_NAME": "incident-bridge",
        "POWERTOOLS_METRICS_NAMESPACE": "IncidentBridge",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
    script = (
        "import json, sys\n"
        "import incident_bridge.handler as handler\n"
        "class Context:\n"
        "    function_name = 'f'; function_version = '1'; invoked_function_arn = 'arn'; memory_limit_in_mb = 256\n"
        "    aws_request_id = 'r'; log_group_name = 'g'; log_stream_name = 's'\n"
        "    def get_remaining_time_in_millis(self): return 1000\n"
        f"response = handler.lambda_handler({{'Records': [{record!r}]}}, Context())\n"
        "assert response == {'batchItemFailures': []}, response\n"
        "assert handler.RUNTIME.outcomes[-1].kind.value == 'started'\n"
        "names = {name.split('.')[0] for name in sys.modules} - set(sys.stdlib_module_names) - {'__main__'}\n"
        "print(json.dumps(sorted(names)))\n"
    )

    # When the real handler runs one alarm from it, in a fresh interpreter working in the asset directory
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=staged, env=environment, capture_output=True, text=True, check=False
    )

    # Then it started an incident, and every third-party module it loaded is one Lambda provides
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = {name for name in json.loads(result.stdout.strip().splitlines()[-1]) if not name.startswith(INTERPRETER)}
    assert loaded - PROVIDED == set(), f"not provided in Lambda: {sorted(loaded - PROVIDED)}"
    assert "yaml" not in loaded


@pytest.mark.parametrize("left_out", ["cli", "__main__.py", "docs.py", "defaults", "adapters/redrive.py"])
def test_operator_tools_stay_out_of_the_asset(left_out: str) -> None:
    # Given the staged asset / When its files are listed / Then the CLI-only parts are not deployed
    staged = stage_function_code(
        deploy_settings({"responsePlanArn": "arn:aws:ssm-incidents::123456789012:response-plan/MyPlan"}).config
    )
    assert not (staged / "incident_bridge" / left_out).exists()
