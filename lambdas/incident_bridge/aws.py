"""AWS's rules the bridge obeys, in one place: API limits, ARN formats, regions, partitions, console hosts.

Every number and pattern here carries its source. Builders (incident.py, resources.py), the configuration and the
dry-run stand-in (adapters/api_model.py, which reads the same botocore model) all take them from this module.

How lengths are counted: Incident Manager's API is a Smithy model, and Smithy's `length` trait constrains a string
to "the number of Unicode scalar values" (Smithy 2.0 specification, constraint traits, `length` trait). That is
what Python's `len()` counts for any text that can be sent (lone surrogates cannot be encoded as UTF-8 at all), so
builders trim with `length()` below and the stand-in measures with `len()`: they refuse exactly the same strings.
"""

import re
from typing import NamedTuple
from urllib.parse import quote

# ---- Incident Manager limits (botocore's ssm-incidents service model, API Reference) ----

#: StartIncident `title`, RelatedItem `title`.
TITLE_MAX = 200
ITEM_TITLE_MAX = 200
#: TriggerDetails `rawData`.
RAW_DATA_MAX = 10_000
#: TriggerDetails `source`; sources starting with `aws.` are reserved for AWS services (ValidationException).
SOURCE_MAX = 50
RESERVED_SOURCE_PREFIX = "aws."
#: StartIncident `relatedItems`.
RELATED_ITEMS_MAX = 100
#: ItemValue `metricDefinition`, `url`, `arn`.
METRIC_DEFINITION_MAX = 4_000
URL_MAX = 1_000
ARN_MAX = 1_000
#: CreateTimelineEvent `eventData` and `eventReferences`.
EVENT_DATA_MAX = 12_000
EVENT_REFERENCES_MAX = 10

# ---- ARNs, accounts, regions, partitions ----

#: Incident Manager serves only these partitions (its Arn pattern is ^arn:aws(-cn|-us-gov)?:...).
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
#: Where Incident Manager runs: botocore's endpoint data lists `ssm-incidents` in these commercial regions and in
#: no region of aws-cn, aws-us-gov or the isolated partitions. tests/unit/test_regions.py compares this with
#: botocore's data (`Session().get_available_regions("ssm-incidents", partition_name=...)`) and the README.
INCIDENT_MANAGER_REGIONS = (
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
)
#: A Lambda layer version ARN: botocore's `lambda` model, shape LayerVersionArn (its second alternative, AWS-owned
#: `awslayer` ARNs, names no version and so is left out). A pattern, compiled where it is used (synth), not in
#: every cold start of the function.
LAYER_VERSION_ARN = (
    r"^arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:layer:"
    r"[a-zA-Z0-9-_]+:[0-9]+\Z"
)
# `\Z`, not `$`: Python's `$` also matches before a trailing newline, which AWS's (Smithy) patterns do not.
_REGION_PATTERN = r"[a-z]{2}(?:-[a-z]+)+-\d+"
_REGION = re.compile(rf"^{_REGION_PATTERN}\Z")
_ACCOUNT = re.compile(r"^[0-9]{12}\Z")
_ARN_SHOWN = 256  # characters of a refused ARN a message quotes (an alarm ARN is well within it)
_ALARM_ARN = re.compile(rf"^arn:(aws|aws-cn|aws-us-gov):cloudwatch:({_REGION_PATTERN}):(\d{{12}}):alarm:(.+)\Z")
#: ECMA-262's `.` as Python writes it: any character but a line terminator. Smithy patterns are ECMA-262, whose `.`
#: matches none of these; Python's matches all but `\n`, so an ARN ending in `\r` (a CRLF file's) would pass here
#: and be refused by the API. reader.ecma_pattern writes it back as `.` in the published JSON Schema.
ECMA_DOT = r"[^\n\r\u2028\u2029]"
#: The pattern botocore's ssm-incidents model puts on every Arn member (RelatedItem, eventReferences, triggerArn):
#: `^arn:aws(-cn|-us-gov)?:[a-z0-9-]*:[a-z0-9-]*:([0-9]{12})?:.+$`, read as ECMA-262 reads it.
INCIDENT_MANAGER_ARN = re.compile(rf"^arn:aws(-cn|-us-gov)?:[a-z0-9-]*:[a-z0-9-]*:([0-9]{{12}})?:{ECMA_DOT}+\Z")
#: Response plan ARNs: `arn:${Partition}:ssm-incidents::${Account}:response-plan/${ResponsePlan}` (Service
#: Authorization Reference, Incident Manager resource types); names are 1-200 of [A-Za-z0-9_-] (CreateResponsePlan).
RESPONSE_PLAN_ARN_SHAPE = "arn:aws:ssm-incidents::ACCOUNT:response-plan/NAME"
RESPONSE_PLAN_ARN_PATTERN = r"^arn:aws(-cn|-us-gov)?:ssm-incidents::[0-9]{12}:response-plan/[A-Za-z0-9_-]{1,200}\Z"
_RESPONSE_PLAN_ARN = re.compile(RESPONSE_PLAN_ARN_PATTERN)
#: `arn:${Partition}:sns:${Region}:${Account}:${TopicName}`; names are 1-256 of [A-Za-z0-9_-], `.fifo` for FIFO.
SNS_TOPIC_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?\Z")
#: `arn:${Partition}:events:${Region}:${Account}:event-bus/${EventBusName}` (Service Authorization Reference,
#: EventBridge resource types); names are [/\.\-_A-Za-z0-9]+, at most 256 (EventBridge API Reference, EventBus).
#: Written to match a whole value, as CloudFormation's AllowedPattern applies it (no anchors).
EVENT_BUS_ARN_PATTERN = (
    r"arn:aws(-cn|-us-gov)?:events:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:event-bus/[/.\-_A-Za-z0-9]{1,256}"
)
#: An organization id: "o-" and 10 to 32 lowercase letters or digits (Organizations API Reference, Organization).
_ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}\Z")

_CONSOLE_HOST = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


# Annotations are not postponed in this module: NamedTuple compiles each string annotation (README, Performance).
class AlarmArn(NamedTuple):
    partition: str
    region: str
    account: str
    alarm_name: str


def parse_alarm_arn(arn: str) -> AlarmArn | None:
    match = _ALARM_ARN.match(arn)
    if match is None:
        return None
    partition, region, account, name = match.groups()
    return AlarmArn(partition, region, account, name)


def alarm_arn_problem(arn: str) -> str:
    """Why `arn` is not a CloudWatch alarm ARN, naming the part that is wrong (for a message)."""
    quoted = repr(arn) if len(arn) <= _ARN_SHOWN else repr(arn[:_ARN_SHOWN]) + "..."
    parts = arn.split(":", 6)
    if len(parts) < 7 or parts[0] != "arn" or parts[2] != "cloudwatch" or parts[5] != "alarm" or not parts[6]:
        return f"not a CloudWatch alarm ARN: {quoted} (expected arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME)"
    _, partition, _, region, account, _, name = parts
    if partition not in PARTITIONS:
        return (
            f"alarm ARN {quoted}: partition {partition!r} is not one Incident Manager serves ({', '.join(PARTITIONS)})"
        )
    if not is_account(account):
        return f"alarm ARN {quoted}: account {account!r} is not 12 digits"
    if not is_region(region):
        return f"alarm ARN {quoted}: region {region!r} is not an AWS region code (like us-east-1)"
    return f"alarm ARN {quoted}: the alarm name {name!r} holds a line break, which CloudWatch alarm names cannot"


def is_region(value: str) -> bool:
    return _REGION.match(value) is not None


def is_account(value: str) -> bool:
    return _ACCOUNT.match(value) is not None


def is_organization_id(value: str) -> bool:
    return _ORGANIZATION_ID.match(value) is not None


def is_response_plan_arn(value: str) -> bool:
    return _RESPONSE_PLAN_ARN.match(value) is not None


def is_incident_manager_arn(value: str) -> bool:
    return length(value) <= ARN_MAX and INCIDENT_MANAGER_ARN.match(value) is not None


def is_trigger_source(value: str) -> bool:
    """A source Incident Manager accepts as `triggerDetails.source`."""
    return 0 < length(value) <= SOURCE_MAX and not value.startswith(RESERVED_SOURCE_PREFIX)


def partition_of_region(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if "-iso" in region:
        # us-iso-east-1 (aws-iso), us-isob-east-1 (aws-iso-b), ...: partitions Incident Manager does not serve.
        suffix = region.split("-")[1].removeprefix("iso")
        return "aws-iso" + (f"-{suffix}" if suffix else "")
    return "aws"


def alarm_arn(partition: str, region: str, account: str, alarm_name: str) -> str:
    """`arn:${Partition}:cloudwatch:${Region}:${Account}:alarm:${AlarmName}` (Service Authorization Reference,
    Amazon CloudWatch resource types)."""
    return f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{alarm_name}"


def console_url(partition: str, region: str, service_path: str, fragment: str) -> str:
    host = _CONSOLE_HOST.get(partition, _CONSOLE_HOST["aws"])
    return f"https://{region}.{host}/{service_path}?region={region}#{fragment}"


def alarm_console_url(partition: str, region: str, alarm_name: str) -> str:
    return console_url(partition, region, "cloudwatch/home", f"alarmsV2:alarm/{quote(alarm_name, safe='')}")


# ---- lengths ----


def length(text: str) -> int:
    """A string's length as Incident Manager counts it: Unicode scalar values (see the module docstring)."""
    return len(text)


def fit(text: str, limit: int) -> str:
    """Trims to the limit with an ellipsis."""
    if length(text) <= limit:
        return text
    return text[: limit - 1] + "…"
