"""An in-process Incident Manager for dry runs: validates like the real API, answers like it, calls nothing.

Product code, not a test double: `incident-bridge invoke` uses it by default. Requests are checked against
botocore's ssm-incidents model (types, required members, lengths, patterns, enums) plus AWS's reserved
trigger-source rule, so a request this accepts is one the live API would accept. It keeps the incidents it opened
(status, related items, timeline) so consecutive events behave as they would against the real service.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from incident_bridge.adapters.api_model import RequestRejected, ensure_valid
from incident_bridge.errors import IncidentNotFound, PermanentApiError
from incident_bridge.incident import (
    IncidentStatusRequest,
    StartIncidentRequest,
    TimelineEventRequest,
    UpdateRelatedItemsRequest,
)


@dataclass
class DryRunIncident:
    arn: str
    title: str
    status: str = "OPEN"
    related_items: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[str] = field(default_factory=list)


class DryRunIncidentManager:
    def __init__(self) -> None:
        self.incidents: dict[str, DryRunIncident] = {}
        self._incident_by_token: dict[str, str] = {}
        self._seen_tokens: set[str] = set()

    def start_incident(self, request: StartIncidentRequest) -> str:
        params = self._validated("StartIncident", request.to_params())
        # Like the real API, the same client token returns the same incident instead of a second one.
        token = str(params["clientToken"])
        if token not in self._incident_by_token:
            arn = incident_record_arn(request.response_plan_arn, token)
            self.incidents[arn] = DryRunIncident(arn, request.title, related_items=list(params["relatedItems"]))
            self._incident_by_token[token] = arn
        return self._incident_by_token[token]

    def update_related_items(self, request: UpdateRelatedItemsRequest) -> None:
        params = self._validated("UpdateRelatedItems", request.to_params())
        incident = self._existing(request.incident_arn, "UpdateRelatedItems")
        if self._first_use(params):
            incident.related_items.append(params["relatedItemsUpdate"]["itemToAdd"])

    def create_timeline_event(self, request: TimelineEventRequest) -> None:
        params = self._validated("CreateTimelineEvent", request.to_params())
        incident = self._existing(request.incident_arn, "CreateTimelineEvent")
        if self._first_use(params):
            incident.timeline.append(request.text)

    def update_incident_status(self, request: IncidentStatusRequest) -> None:
        self._validated("UpdateIncidentRecord", request.to_params())
        self._existing(request.incident_arn, "UpdateIncidentRecord").status = request.status

    def incident_status(self, incident_arn: str) -> str | None:
        self._validated("GetIncidentRecord", {"arn": incident_arn})
        incident = self.incidents.get(incident_arn)
        return incident.status if incident else None

    def _first_use(self, params: dict[str, Any]) -> bool:
        token = f"{params['incidentRecordArn']}/{params['clientToken']}"
        first = token not in self._seen_tokens
        self._seen_tokens.add(token)
        return first

    def _existing(self, arn: str, operation: str) -> DryRunIncident:
        incident = self.incidents.get(arn)
        if incident is None:
            raise IncidentNotFound(f"{operation}: ResourceNotFoundException: no incident record {arn}")
        return incident

    @staticmethod
    def _validated(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            ensure_valid(operation, params)
        except RequestRejected as error:
            # The live API answers an invalid request with ValidationException: a permanent failure.
            raise PermanentApiError(f"{operation}: ValidationException: {error}") from error
        return params


def incident_record_arn(response_plan_arn: str, seed: str) -> str:
    """Shaped like Incident Manager's: arn:<partition>:ssm-incidents::<account>:incident-record/<plan>/<uuid>."""
    prefix, _, plan_name = response_plan_arn.partition(":response-plan/")
    record_id = uuid.UUID(hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32])
    return f"{prefix}:incident-record/{plan_name}/{record_id}"
