"""Custom application events: what an application puts on the bridge's bus to open (or recover) an incident.

`CustomRequest` is the one declaration of a custom event's `detail`: each field states its constraints on the
declarative reader (reader.py), and from them come both the validation the Lambda runs and the JSON Schema
published to producers, `custom_incident.schema.json` beside this file (`make docs`; a test fails when it drifts).
No pydantic: the function ships without it, and the same reader validates the configuration and every payload.
Imported on first use, when such an event arrives (sources/application.py turns the request into a Signal).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from incident_bridge.aws import ARN_MAX, INCIDENT_MANAGER_ARN, RESERVED_SOURCE_PREFIX, SOURCE_MAX
from incident_bridge.config import MAX_IMPACT, MIN_IMPACT, RelatedUrl
from incident_bridge.reader import models, one_of, read_model, schema_of, text, texts, whole

FIRING, RESOLVED = "firing", "resolved"
#: The published schema's title.
SCHEMA_TITLE = "incident-bridge custom incident"


@dataclass(frozen=True, kw_only=True)
class CustomRequest:
    """The `detail` of an application event that asks for an incident. Other fields (`severity`, `service`, ...)
    are allowed: routes match on them with `detail` paths, and they reach the incident in its raw data."""

    title: str = field(
        metadata=text(min_length=1, max_length=1000, description="Incident title; trimmed to 200 characters.")
    )
    impact: int | None = field(
        default=None,
        metadata=whole(
            ge=MIN_IMPACT,
            le=MAX_IMPACT,
            # The earlier (pydantic) model read "2", " 2 " and true as numbers; producers may still send them.
            lax=True,
            description="Incident Manager impact, 1 (critical) to 5 (no impact); the route's impact when absent.",
        ),
    )
    summary: str | None = field(
        default=None, metadata=text(max_length=8000, description="What happened, for responders.")
    )
    resource_arns: tuple[str, ...] = field(
        default=(),
        metadata=texts(
            max_items=100,
            max_length=ARN_MAX,
            pattern=INCIDENT_MANAGER_ARN,
            nullable=False,
            description="Involved resources; added to the event's own `resources`.",
        ),
    )
    related_urls: tuple[RelatedUrl, ...] = field(
        default=(),
        metadata=models(RelatedUrl, max_items=20, nullable=False, description="Runbooks, dashboards."),
    )
    dedupe_key: str | None = field(
        default=None,
        metadata=text(min_length=1, max_length=100, description="Events with one key open one incident."),
    )
    source: str | None = field(
        default=None,
        metadata=text(
            min_length=1,
            max_length=SOURCE_MAX,
            reserved_prefix=RESERVED_SOURCE_PREFIX,
            description=f"Trigger source shown in Incident Manager; `{RESERVED_SOURCE_PREFIX}` prefixes are reserved "
            "for AWS.",
        ),
    )
    status: str = field(
        default=FIRING,
        metadata=one_of(
            FIRING,
            RESOLVED,
            nullable=False,
            description=(
                "`firing` opens an incident (or joins the open one of its group); `resolved` recovers what an "
                "earlier event with the same `dedupe_key` opened, and resolves the incident when the route "
                "auto-resolves."
            ),
        ),
    )


def read_request(detail: Mapping[str, Any]) -> CustomRequest:
    """The detail read as a CustomRequest (other keys allowed), or reader.ModelError naming every wrong field."""
    return read_model(CustomRequest, detail, path="detail", strict=False)


def schema_document() -> dict[str, Any]:
    """The JSON Schema of a custom event's `detail`, generated from CustomRequest's declaration."""
    description = re.sub(r"\s+", " ", CustomRequest.__doc__ or "").strip()
    return schema_of(
        CustomRequest,
        extra_keys=True,
        **{
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": SCHEMA_TITLE,
            "description": description,
        },
    )
