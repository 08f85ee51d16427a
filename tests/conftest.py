"""Shared fixtures. Every Incident Manager request made through a boto3 client in any test is validated
against botocore's full ssm-incidents model (lengths, patterns, enums), which the Stubber alone skips."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from mypy_boto3_ssm_incidents import SSMIncidentsClient

from incident_bridge.adapters.api_model import ensure_valid

# Records every AWS call of the session for the authorization test (tests/infra/test_authorization.py).
from tests.aws_calls import pytest_collection_modifyitems, pytest_configure, record_aws_calls  # noqa: F401

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"
LAMBDAS_DIR = Path(__file__).resolve().parent.parent / "lambdas"
PLAN_ARN = "arn:aws:ssm-incidents::123456789012:response-plan/MyPlan"

# No test may reach AWS: fake credentials and a fixed region for every boto3 client.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "incident-bridge")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "IncidentBridge")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("INCIDENT_MANAGER_MODE", "dry-run")


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of a sample event from events/, safe to modify in the test."""
    document: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))
    return copy.deepcopy(document)


@pytest.fixture
def event() -> Callable[[str], dict[str, Any]]:
    return load_event


def _validate_against_model(params: dict[str, Any], model: Any, **_: Any) -> None:
    ensure_valid(model.name, params)


@pytest.fixture
def incidents_client() -> SSMIncidentsClient:
    """A real boto3 ssm-incidents client whose every request is checked against the full service model."""
    client = boto3.client("ssm-incidents", region_name="us-east-1")
    client.meta.events.register("provide-client-params.ssm-incidents.*", _validate_against_model)
    return client


@pytest.fixture
def incidents_stubber(incidents_client: SSMIncidentsClient) -> Iterator[Stubber]:
    with Stubber(incidents_client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def run_fresh_interpreter(script: str, **environment: str) -> Any:
    """Runs `script` as a cold start would: a new interpreter with only the package on its path, in dry-run mode
    unless `environment` says otherwise. Returns the JSON the script prints on its last line."""
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(LAMBDAS_DIR),
            "AWS_DEFAULT_REGION": "us-east-1",
            "INCIDENT_MANAGER_MODE": "dry-run",
            **environment,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
