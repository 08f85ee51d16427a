"""Alarm tags from CloudWatch (`ListTagsForResource`), cached for the container's life.

Used only when the configuration enables `lookup_alarm_tags` and the event carries no `alarmTags`.

A tag lookup cannot cross accounts or regions: the client reads the alarms of the account and region the bridge
runs in. An alarm forwarded from another account or region (organization intake) is never looked up, so it gets
its tags from its event (`alarmTags`, when its tag propagation is on; CloudWatch User Guide, "Alarm tags in action
payloads") or none, and never an access error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from incident_bridge.aws import parse_alarm_arn

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

logger = Logger(child=True)


class CloudWatchAlarmTags:
    def __init__(self, client: CloudWatchClient, home: tuple[str, str] | None) -> None:
        """`home` is the (account, region) the bridge runs in; None (unknown): nothing is looked up."""
        self._client = client
        self._home = home
        self._cache: dict[str, dict[str, str]] = {}

    def tags_for(self, alarm_arn: str) -> Mapping[str, str]:
        parsed = parse_alarm_arn(alarm_arn)
        if parsed is None or (parsed.account, parsed.region) != self._home:
            return {}
        if alarm_arn not in self._cache:
            try:
                response = self._client.list_tags_for_resource(ResourceARN=alarm_arn)
            except (ClientError, BotoCoreError) as error:
                # Tags refine routing; without them the default matchers still route the alarm. Not cached, so
                # a passing failure is retried on the next event.
                logger.warning("alarm tags unavailable", extra={"alarm_arn": alarm_arn, "error": str(error)})
                return {}
            self._cache[alarm_arn] = {tag["Key"]: tag["Value"] for tag in response.get("Tags", [])}
        return self._cache[alarm_arn]
