"""The only owner of the `ssm-incidents` client. Maps AWS errors onto the bridge's error classes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, ReadTimeoutError

from incident_bridge.errors import IncidentNotFound, PermanentApiError, Throttled, TransientApiError
from incident_bridge.incident import (
    IncidentStatusRequest,
    StartIncidentRequest,
    TimelineEventRequest,
    UpdateRelatedItemsRequest,
)

if TYPE_CHECKING:
    from mypy_boto3_ssm_incidents import SSMIncidentsClient

    from incident_bridge.budget import RequestBudget

# Error codes a later attempt can succeed on; everything else Incident Manager returns is permanent
# (AccessDeniedException, ValidationException, ResourceNotFoundException, ConflictException, ...).
TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "TooManyRequestsException",
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)

THROTTLING_CODES = frozenset({"ThrottlingException", "TooManyRequestsException"})

# Adaptive retry mode backs off with jitter on throttling and 5xx, and once throttled it also rate-limits the
# client itself, so a storm does not keep hammering the API; what still fails goes back to the queue.
CLIENT_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 5},
    connect_timeout=3,
    read_timeout=10,
    user_agent_extra="incident-bridge",
)


def create_client(budget: RequestBudget | None = None) -> SSMIncidentsClient:
    """The client; with a `budget`, every attempt it sends (botocore's retries included) first takes a token."""
    import boto3  # deferred: only the live path pays for it

    client = boto3.client("ssm-incidents", config=CLIENT_CONFIG)
    if budget is not None:
        # `before-send` runs once per attempt, after signing, just before the request leaves (where botocore's own
        # adaptive rate limiter waits too); a handler returning None lets the request go.
        client.meta.events.register("before-send.ssm-incidents", budget.before_send)
    return client


def classify(error: Exception, operation: str) -> PermanentApiError | TransientApiError:
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        message = str(error.response.get("Error", {}).get("Message", ""))
        text = f"{operation}: {code}: {message}".rstrip(": ")
        if code in THROTTLING_CODES or status == 429:
            return Throttled(text)
        if code in TRANSIENT_CODES or status >= 500:
            return TransientApiError(text)
        if code == "ResourceNotFoundException" and operation != "StartIncident":
            # On an incident record: deleted by a human (StartIncident's is a missing response plan).
            return IncidentNotFound(text)
        return PermanentApiError(text)
    if isinstance(error, ConnectionError | ReadTimeoutError):
        return TransientApiError(f"{operation}: {type(error).__name__}: {error}")
    return PermanentApiError(f"{operation}: {type(error).__name__}: {error}")


class Boto3IncidentManager:
    def __init__(self, client: SSMIncidentsClient) -> None:
        self._client = client

    def start_incident(self, request: StartIncidentRequest) -> str:
        response = self._call("StartIncident", self._client.start_incident, request.to_params())
        assert response is not None  # no benign error code here: a failure raised
        return str(response["incidentRecordArn"])

    def update_related_items(self, request: UpdateRelatedItemsRequest) -> None:
        # ConflictException: the item is already attached (e.g. by an earlier attempt), so the goal is met.
        self._call(
            request.operation, self._client.update_related_items, request.to_params(), benign="ConflictException"
        )

    def create_timeline_event(self, request: TimelineEventRequest) -> None:
        self._call(request.operation, self._client.create_timeline_event, request.to_params())

    def update_incident_status(self, request: IncidentStatusRequest) -> None:
        self._call(request.operation, self._client.update_incident_record, request.to_params())

    def incident_status(self, incident_arn: str) -> str | None:
        # ResourceNotFoundException: deleted, so the group gets a fresh incident.
        response = self._call(
            "GetIncidentRecord",
            self._client.get_incident_record,
            {"arn": incident_arn},
            benign="ResourceNotFoundException",
        )
        return None if response is None else str(response["incidentRecord"]["status"])

    @staticmethod
    def _call(
        operation: str, send: Callable[..., Mapping[str, Any]], params: dict[str, Any], *, benign: str | None = None
    ) -> Mapping[str, Any] | None:
        """Sends one request; maps failures onto the bridge's error classes. `benign`: an error code that means
        the goal is already met (returns None)."""
        try:
            return send(**params)
        except ClientError as error:
            if benign is not None and error.response.get("Error", {}).get("Code") == benign:
                return None
            raise classify(error, operation) from error
        except BotoCoreError as error:
            raise classify(error, operation) from error
