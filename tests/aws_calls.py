"""A pytest plugin that records every AWS call the bridge makes in this test session.

Two paths reach AWS's APIs in the tests: boto3 clients (the Incident Manager adapter behind botocore's Stubber,
moto's SQS, DynamoDB and CloudWatch) and the dry-run Incident Manager stand-in, which validates each request it
would send. Both are recorded here as (service, operation, params), so `tests/infra/test_authorization.py` can
check the synthesized role against every call the handler and dry-run tests made. That test is moved to the end
of the session, after the calls are made.

Requests refused before they were sent (client-side validation) are not calls and are not recorded. Calls made
by the tests themselves to set up or inspect moto (creating queues, reading the dead-letter queue) and by the tools
that never run in Lambda (the CLI's redrive) are recorded too, marked as not the Lambda's: a call is the Lambda's
when the innermost `incident_bridge` module on the stack ships in the function's asset (infra/asset.py leaves the
CLI, redrive and docs out).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ParamValidationError

import incident_bridge
from incident_bridge.adapters.api_model import RequestRejected
from incident_bridge.adapters.dry_run import DryRunIncidentManager

#: The marker of tests that read the recorded calls: they run after every other test of the session.
AFTER_ALL_CALLS = "after_all_calls"


@dataclass(frozen=True)
class RecordedCall:
    #: botocore's service name (`ssm-incidents`, `sqs`, `dynamodb`, `cloudwatch`).
    service: str
    operation: str
    params: dict[str, Any]
    #: Which path made it: `boto3` or `dry-run`.
    path: str
    #: Made by code the function runs (not by a test's set-up or a local tool).
    by_lambda: bool


_PACKAGE = str(Path(incident_bridge.__file__).resolve().parent) + "/"
# The modules infra/asset.py leaves out of the function's code asset: tools that never run in Lambda.
_NOT_IN_THE_ASSET = ("cli/", "__main__.py", "docs.py", "adapters/redrive.py")


def _made_by_the_lambda() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        filename = str(Path(frame.f_code.co_filename).resolve())
        if filename.startswith(_PACKAGE):
            return not filename.removeprefix(_PACKAGE).startswith(_NOT_IN_THE_ASSET)
        frame = frame.f_back  # type: ignore[assignment]
    return False


RECORDED_CALLS: list[RecordedCall] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{AFTER_ALL_CALLS}: runs after every other test, reading the recorded calls")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Puts the tests that read the recorded calls last (a stable sort keeps every other order as it was)."""
    items.sort(key=lambda item: item.get_closest_marker(AFTER_ALL_CALLS) is not None)


@pytest.fixture(scope="session", autouse=True)
def record_aws_calls() -> Iterator[list[RecordedCall]]:
    # botocore's one path for every API call of every client (the Stubber and moto hook in below it).
    make_api_call = BaseClient._make_api_call  # type: ignore[attr-defined]
    validated = DryRunIncidentManager._validated

    def recording_api_call(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        call = RecordedCall(service, operation_name, dict(api_params), "boto3", _made_by_the_lambda())
        try:
            response = make_api_call(client, operation_name, api_params)
        except (ParamValidationError, RequestRejected):
            raise  # refused before it was sent: no request reached AWS
        except Exception:
            RECORDED_CALLS.append(call)  # sent, and AWS (the stub, moto) answered with an error
            raise
        RECORDED_CALLS.append(call)
        return response

    def recording_validated(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        checked = validated(operation, params)  # the stand-in refuses what the service model refuses
        RECORDED_CALLS.append(RecordedCall("ssm-incidents", operation, dict(params), "dry-run", by_lambda=True))
        return checked

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", recording_api_call)
        patch.setattr(DryRunIncidentManager, "_validated", staticmethod(recording_validated))
        yield RECORDED_CALLS
