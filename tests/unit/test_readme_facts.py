"""Numbers the README states about the runtime, read from the code that sets them."""

from __future__ import annotations

import copy
from pathlib import Path

import boto3

from incident_bridge.adapters.incident_manager import CLIENT_CONFIG

README = Path(__file__).resolve().parent.parent.parent / "README.md"


def test_the_readme_states_the_incident_manager_clients_retry_mode_and_attempts() -> None:
    # Given the Incident Manager client as the adapter configures it; botocore reads `max_attempts` as retries
    # after the first attempt and keeps the total (botocore's Config, `retries`). A copy: building a client
    # rewrites the `retries` dict it was given, which the storm simulation reads too.
    client = boto3.client("ssm-incidents", region_name="us-east-1", config=copy.deepcopy(CLIENT_CONFIG))
    retries: dict[str, object] | None = client.meta.config.retries  # type: ignore[attr-defined]
    assert retries is not None

    # When we look for what the README says about SDK retries
    stated = f"retried by the SDK ({retries['mode']} mode, {retries['total_max_attempts']} attempts in all)"

    # Then it says exactly that
    assert stated in README.read_text(encoding="utf-8")
