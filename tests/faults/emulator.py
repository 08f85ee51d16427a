"""An Incident Manager emulated at the botocore level, and fault injection at every boundary of the real clients.

`IncidentManagerEmulator` answers a real boto3 `ssm-incidents` client from a `before-call` hook (as botocore's own
Stubber does), so the product's adapter, its error mapping and botocore's response parsing all run. It checks every
request against the service model (types, required members, lengths, patterns, enums: `api_model.ensure_valid`),
keeps incidents (OPEN / RESOLVED, or deleted by a "human"), makes client tokens idempotent per operation and
incident as the service does, and records every call and every effect.

`Faults` decides, per boundary (an operation of Incident Manager, DynamoDB or SQS) and per occurrence, whether the
call fails before it takes effect, takes effect and loses its response, is throttled, or kills the process (a
`Crash`, a BaseException no product `except` can absorb). DynamoDB and SQS are moto; their faults are injected with
`before-call` / `after-call` hooks on their clients.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from incident_bridge.adapters.api_model import RequestRejected, ensure_valid


class Fault(StrEnum):
    BEFORE = "fail-before-effect"
    AFTER = "fail-after-effect"
    THROTTLE = "throttle"
    CRASH = "crash"
    #: Another worker runs a whole invocation just before this call (a concurrent delivery).
    RACE = "race"


class Crash(BaseException):
    """The process killed at a boundary (Lambda timeout, out of memory): no product code can catch it."""


@dataclass
class Faults:
    """One fault at one boundary's n-th call (1-based); `race` runs when a RACE fault fires."""

    boundary: str | None = None
    occurrence: int = 0
    kind: Fault | None = None
    race: Callable[[], None] | None = None
    calls: dict[str, int] = field(default_factory=dict)
    fired: bool = False

    def at(self, boundary: str) -> Fault | None:
        """Counts a call of `boundary`; the fault to inject on it, if this is the one."""
        self.calls[boundary] = self.calls.get(boundary, 0) + 1
        if self.fired or boundary != self.boundary or self.calls[boundary] != self.occurrence:
            return None
        self.fired = True
        if self.kind is Fault.RACE:
            if self.race is not None:
                self.race()
            return None
        return self.kind


def _response(status: int, body: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    return AWSResponse("https://emulated", status, {}, None), body  # type: ignore[arg-type]


def _error(status: int, code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    return _response(
        status, {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    )


@dataclass
class Incident:
    arn: str
    title: str
    trigger_arn: str | None
    status: str = "OPEN"
    related_items: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[str] = field(default_factory=list)
    #: Effects of UpdateIncidentRecord that changed the status: (from, to).
    status_changes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class IncidentManagerEmulator:
    faults: Faults
    incidents: dict[str, Incident] = field(default_factory=dict)
    #: Incidents a responder deleted: gone for the API, kept here so a check can still read what they held.
    deleted: dict[str, Incident] = field(default_factory=dict)
    #: Every request that reached the emulator: (operation, params).
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _token_results: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    def attach(self, client: Any) -> None:
        # The API parameters are kept from before serialization; the call is answered before it is sent.
        client.meta.events.register("before-parameter-build.ssm-incidents.*", self.keep_params)
        client.meta.events.register("before-call.ssm-incidents.*", self.handle)

    @staticmethod
    def keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["emulated_params"] = copy.deepcopy(params)

    def handle(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        operation = model.name
        request = context["emulated_params"]
        self.calls.append((operation, request))
        try:
            ensure_valid(operation, request)
        except RequestRejected as error:
            return _error(400, "ValidationException", str(error))
        fault = self.faults.at(f"ssm-incidents.{operation}")
        if fault is Fault.THROTTLE:
            return _error(400, "ThrottlingException", "Rate exceeded")
        if fault is Fault.BEFORE:
            return _error(500, "InternalServerException", "failed before taking effect")
        answer = self._apply(operation, request)
        if fault is Fault.AFTER and answer[0].status_code < 300:
            return _error(500, "InternalServerException", "took effect; the response was lost")
        if fault is Fault.CRASH:
            raise Crash(f"killed after {operation} took effect")
        return answer

    # ---- the service ----

    def _apply(self, operation: str, params: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        if operation == "StartIncident":
            return self._start(params)
        arn = str(params.get("incidentRecordArn") or params.get("arn"))
        incident = self.incidents.get(arn)
        if incident is None:
            return _error(404, "ResourceNotFoundException", f"Incident record {arn} not found")
        if operation == "GetIncidentRecord":
            return _response(200, {"incidentRecord": self._record(incident)})
        token = str(params.get("clientToken", ""))
        key = (operation, arn, token)
        if token and key in self._token_results:
            return _response(200, self._token_results[key])  # the same token: no second effect
        if operation == "UpdateRelatedItems":
            item = params["relatedItemsUpdate"]["itemToAdd"]
            if any(existing["identifier"] == item["identifier"] for existing in incident.related_items):
                return _error(409, "ConflictException", "related item already exists")
            incident.related_items.append(item)
            result: dict[str, Any] = {}
        elif operation == "CreateTimelineEvent":
            incident.timeline.append(str(params["eventData"]))
            result = {"eventId": str(uuid.UUID(hashlib.sha256(token.encode()).hexdigest()[:32])),
                      "incidentRecordArn": arn}  # fmt: skip
        elif operation == "UpdateIncidentRecord":
            status = str(params.get("status", incident.status))
            if status != incident.status:
                incident.status_changes.append((incident.status, status))
            incident.status = status
            result = {}
        else:
            return _error(400, "ValidationException", f"{operation} is not emulated")
        self._token_results[key] = result
        return _response(200, result)

    def _start(self, params: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        token = str(params["clientToken"])
        key = ("StartIncident", "", token)
        if key in self._token_results:
            return _response(200, self._token_results[key])
        plan = str(params["responsePlanArn"])
        prefix, _, plan_name = plan.partition(":response-plan/")
        arn = f"{prefix}:incident-record/{plan_name}/{uuid.UUID(hashlib.sha256(token.encode()).hexdigest()[:32])}"
        self.incidents[arn] = Incident(
            arn, str(params["title"]), params["triggerDetails"].get("triggerArn"),
            related_items=list(params.get("relatedItems", [])),
        )  # fmt: skip
        self._token_results[key] = {"incidentRecordArn": arn}
        return _response(200, {"incidentRecordArn": arn})

    def delete(self, arn: str) -> None:
        """A responder deletes the incident."""
        incident = self.incidents.pop(arn, None)
        if incident is not None:
            self.deleted[arn] = incident

    @staticmethod
    def _record(incident: Incident) -> dict[str, Any]:
        from datetime import UTC, datetime

        moment = datetime(2019, 10, 2, 17, 5, tzinfo=UTC)
        return {
            "arn": incident.arn, "creationTime": moment, "dedupeString": "", "impact": 3,
            "incidentRecordSource": {"createdBy": "arn:aws:iam::123456789012:role/incident-bridge", "source": "x"},
            "lastModifiedBy": "arn:aws:iam::123456789012:role/incident-bridge", "lastModifiedTime": moment,
            "status": incident.status, "title": incident.title,
        }  # fmt: skip


def inject_into(client: Any, service: str, operations: tuple[str, ...], current: Callable[[], Faults]) -> None:
    """Faults on a moto-backed client: BEFORE / THROTTLE answer before the call reaches moto; AFTER lets moto apply
    the call, then loses the response (a read timeout); CRASH kills the process after the effect."""
    throttle_code = {"dynamodb": "ProvisionedThroughputExceededException", "sqs": "RequestThrottled"}[service]
    decided: dict[int, Fault | None] = {}

    def before(model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        fault = current().at(f"{service}.{model.name}")
        decided[id(context)] = fault
        if fault is Fault.THROTTLE:
            return _error(400, throttle_code, "throttled")
        if fault is Fault.BEFORE:
            return _error(500, "InternalServerError", "failed before taking effect")
        return None

    def after(model: Any, context: dict[str, Any], **_: Any) -> None:
        fault = decided.pop(id(context), None)
        if fault is Fault.AFTER:
            raise ReadTimeoutError(endpoint_url=f"https://{service}.emulated")
        if fault is Fault.CRASH:
            raise Crash(f"killed after {service}.{model.name} took effect")

    for operation in operations:
        client.meta.events.register(f"before-call.{service}.{operation}", before)
        client.meta.events.register(f"after-call.{service}.{operation}", after)
