"""Custom application events: what an application puts on the bridge's bus to open an incident.

The `detail` schema is `CustomIncidentDetail`; `custom_incident.schema.json` beside this file is generated from it
(`make docs`) so producers can validate before they publish.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from incident_bridge.config import Impact, RelatedUrl

# pydantic checks patterns with Rust regex, whose `$` is the true end of text (no trailing-newline slack).
ResourceArn = Annotated[
    str, Field(pattern=r"^arn:aws(-cn|-us-gov)?:[a-z0-9-]*:[a-z0-9-]*:([0-9]{12})?:.+$", max_length=1000)
]


class CustomIncidentDetail(BaseModel):
    """The `detail` of an application event that asks for an incident. Other fields (`severity`, `service`, ...)
    are allowed: routes match on them with `detail` paths, and they reach the incident in its raw data."""

    model_config = ConfigDict(
        frozen=True,
        extra="allow",
        title="incident-bridge custom incident",
    )

    title: str = Field(min_length=1, max_length=1000, description="Incident title; trimmed to 200 characters.")
    impact: Impact | None = Field(default=None, description="1 (critical) to 5; the route's impact when absent.")
    summary: str | None = Field(default=None, max_length=8000, description="What happened, for responders.")
    resource_arns: tuple[ResourceArn, ...] = Field(
        default=(), max_length=100, description="Involved resources; added to the event's own `resources`."
    )
    related_urls: tuple[RelatedUrl, ...] = Field(default=(), max_length=20, description="Runbooks, dashboards.")
    dedupe_key: str | None = Field(
        default=None, min_length=1, max_length=100, description="Events with one key open one incident."
    )
    source: str | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="Trigger source shown in Incident Manager; `aws.` prefixes are reserved for AWS.",
        # The reservation is checked by the validator below; the schema says it too, for producers.
        json_schema_extra={"not": {"pattern": "^aws\\."}},
    )

    @field_validator("source")
    @classmethod
    def _not_reserved(cls, value: str | None) -> str | None:
        if value is not None and value.startswith("aws."):
            raise ValueError("sources starting with 'aws.' are reserved for AWS services")
        return value


class CustomIncident(BaseModel):
    """A validated custom event, normalized like an alarm is."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    source: str
    detail_type: str
    account: str
    region: str
    partition: str
    time: datetime
    request: CustomIncidentDetail
    resource_arns: tuple[str, ...]
    detail: dict[str, Any] = Field(repr=False)
    raw_event: dict[str, Any] = Field(default_factory=dict, repr=False, exclude=True)


def schema_document() -> dict[str, Any]:
    return CustomIncidentDetail.model_json_schema(mode="validation")
