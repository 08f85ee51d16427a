"""The regions the bridge deploys to: one list (incident_bridge.aws), checked against botocore's endpoint data."""

from __future__ import annotations

from pathlib import Path

import boto3

from incident_bridge.aws import INCIDENT_MANAGER_REGIONS

README = Path(__file__).resolve().parent.parent.parent / "README.md"


def test_the_region_list_is_botocores_for_incident_manager() -> None:
    # Given botocore's endpoint data, read through a boto3 session
    session = boto3.session.Session()

    # When we list the regions of ssm-incidents in every partition botocore knows
    by_partition = {
        partition: session.get_available_regions("ssm-incidents", partition_name=partition)
        for partition in session.get_available_partitions()
    }

    # Then the commercial partition's list is the project's, and no other partition has any (aws-cn, aws-us-gov)
    assert tuple(sorted(by_partition.pop("aws"))) == INCIDENT_MANAGER_REGIONS
    assert {"aws-cn", "aws-us-gov"} <= set(by_partition)
    assert all(regions == [] for regions in by_partition.values()), by_partition


def test_the_readme_lists_exactly_those_regions() -> None:
    # Given the README
    text = README.read_text(encoding="utf-8")

    # When we look for the region list it gives
    listed = ", ".join(f"`{region}`" for region in INCIDENT_MANAGER_REGIONS)

    # Then it is there, in the same order, and the README does not offer the partitions Incident Manager is not in
    assert listed in text
    assert "aws-cn" not in text
    assert "aws-us-gov" not in text
