"""An in-process Incident Manager for dry runs: validates like the real API, answers like it, calls nothing.

Product code, not a test double: `incident-bridge invoke` uses it by default. Requests are checked against
botocore's ssm-incidents model (types, required members, lengths, patterns, enums) plus AWS's reserved
trigger-source rule, so a request this accepts is one the live API would accept.
"""

from __future__ import annotations

import hashlib
from typing import Any

from incident_bridge.adapters.api_model import RequestRejected, ensure_valid
from incident_bridge.errors import PermanentApiError
from incident_bridge.incident import StartIncidentRequest


class DryRunIncidentManager:
    def __init__(self) -> None:
        self._incident_by_token: dict[str, str] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def start_incident(self, request: StartIncidentRequest) -> str:
        params = request.to_params()
        self._validate("StartIncident", params)
        self.calls.append(("StartIncident", params))
        # Like the real API, the same client token returns the same incident instead of a second one.
        token = str(params["clientToken"])
        if token not in self._incident_by_token:
            self._incident_by_token[token] = incident_record_arn(request.response_plan_arn, token)
        return self._incident_by_token[token]

    @staticmethod
    def _validate(operation: str, params: dict[str, Any]) -> None:
        try:
            ensure_valid(operation, params)
        except RequestRejected as error:
            # The live API answers an invalid request with ValidationException: a permanent failure.
            raise PermanentApiError(f"{operation}: ValidationException: {error}") from error


def incident_record_arn(response_plan_arn: str, seed: str) -> str:
    """Shaped like Incident Manager's: arn:<partition>:ssm-incidents::<account>:incident-record/<plan>/<id>."""
    prefix, _, plan_name = response_plan_arn.partition(":response-plan/")
    record_id = hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32]
    return f"{prefix}:incident-record/{plan_name}/{record_id}"
