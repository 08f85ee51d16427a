"""The schema of a custom event's `detail`: one pydantic model that both validates events at run time and generates
`custom_incident.schema.json` (`make docs`). Imported on first use only, when an application event arrives (or
by docs.py): pydantic's import and model building would otherwise weigh on every cold start.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from incident_bridge import config
from incident_bridge.custom import CustomRequest

# pydantic checks patterns with Rust regex, whose `$` is the true end of text (no trailing-newline slack).
ResourceArn = Annotated[
    str, Field(pattern=r"^arn:aws(-cn|-us-gov)?:[a-z0-9-]*:[a-z0-9-]*:([0-9]{12})?:.+$", max_length=1000)
]
Impact = Annotated[int, Field(ge=1, le=5, description="Incident Manager impact: 1 critical ... 5 no impact")]


# A related URL as a producer writes it: the bounds of the configuration's `related_urls` (config.RelatedUrl),
# declared here so that the configuration needs no pydantic. No docstring: it would enter the published schema.
class RelatedUrl(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    url: str = Field(pattern=r"^https?://", max_length=1000)


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

    status: Literal["firing", "resolved"] = Field(
        default="firing",
        description=(
            "`firing` opens an incident (or joins the open one of its group); `resolved` recovers what an earlier "
            "event with the same `dedupe_key` opened, and resolves the incident when the route auto-resolves."
        ),
    )

    @field_validator("source")
    @classmethod
    def _not_reserved(cls, value: str | None) -> str | None:
        if value is not None and value.startswith("aws."):
            raise ValueError("sources starting with 'aws.' are reserved for AWS services")
        return value

    def to_request(self) -> CustomRequest:
        """The validated detail as the plain types routing and incident building use."""
        return CustomRequest(
            title=self.title,
            impact=self.impact,
            summary=self.summary,
            resource_arns=self.resource_arns,
            related_urls=tuple(config.RelatedUrl(title=url.title, url=url.url) for url in self.related_urls),
            dedupe_key=self.dedupe_key,
            source=self.source,
            status=self.status,
        )


def schema_document() -> dict[str, Any]:
    return CustomIncidentDetail.model_json_schema(mode="validation")
