"""Alarm tags from CloudWatch (`ListTagsForResource`), cached for the container's life.

Used only when the configuration enables `lookup_alarm_tags` and the event carries no `alarmTags`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

logger = Logger(child=True)


class CloudWatchAlarmTags:
    def __init__(self, client: CloudWatchClient) -> None:
        self._client = client
        self._cache: dict[str, dict[str, str]] = {}

    def tags_for(self, alarm_arn: str) -> Mapping[str, str]:
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
