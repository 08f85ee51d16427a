"""Numbers the README states about the runtime, read from the code that sets them."""

from __future__ import annotations

from pathlib import Path

from incident_bridge.adapters.incident_manager import CLIENT_CONFIG

README = Path(__file__).resolve().parent.parent.parent / "README.md"


def test_the_readme_states_the_incident_manager_clients_retry_mode_and_attempts() -> None:
    # Given the botocore configuration of the Incident Manager client
    # botocore's Config sets its attributes from the keyword arguments; its stubs do not declare them.
    retries: dict[str, object] = CLIENT_CONFIG.retries  # type: ignore[attr-defined]

    # When we look for what the README says about SDK retries
    stated = f"retried by the SDK ({retries['mode']} mode, {retries['max_attempts']} attempts)"

    # Then it says exactly that
    assert stated in README.read_text(encoding="utf-8")
