"""Resource catalogue: which AWS resources a CloudWatch metric's namespace and dimensions name.

Incident Manager takes INVOLVED_RESOURCE related items as ARNs. Alarms only carry the metric's namespace
and dimensions, so this module maps those to ARNs without calling any AWS API. The mapping is data
(``_CATALOGUE``), read by one generic resolver; where a full ARN needs an identifier the dimensions do not
carry (an Auto Scaling group's UUID, a REST API's id, ...), the entry says so and the ref has ``arn=None``.
"""

import re
import string
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple, TypeAlias

from incident_bridge.aws import ARN_MAX as MAX_ARN_LENGTH
from incident_bridge.aws import INCIDENT_MANAGER_ARN as ARN_PATTERN
from incident_bridge.aws import ITEM_TITLE_MAX as MAX_TITLE_LENGTH
from incident_bridge.aws import PARTITIONS, is_account, is_region, length

# Java's "." (the service side of the pattern) stops at any line terminator, not just "\n"; surrogates
# cannot be sent as UTF-8 at all. Such characters never belong in a resource id, so refuse them outright.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
# Left dangling at a cut they would glue onto the ellipsis or render as garbage.
_DANGLING_CATEGORIES = frozenset({"Mn", "Me", "Cf"})
_ELLIPSIS = "\u2026"


@dataclass(frozen=True)
class ResourceRef:
    """One involved resource: an Incident Manager related item, or why it could not become one."""

    title: str
    arn: str | None
    note: str | None = None

    def __post_init__(self) -> None:
        if len(self.title) > MAX_TITLE_LENGTH:
            raise ValueError(f"title: must have at most {MAX_TITLE_LENGTH} characters, got {len(self.title)}")
        # A guard, not a parser: the resolver never builds a bad ARN, and nobody else should either.
        if self.arn is not None and _arn_problem(self.arn) is not None:
            raise ValueError(f"arn: not an ARN Incident Manager accepts: {self.arn[:120]!r}")


class UnresolvableError(Exception):
    """Raised by a transform when a dimension value cannot become a correct ARN; the message is the note."""


# A transform gets all of the metric's dimensions and returns extra template fields, or None when the entry
# does not apply to these values after all (e.g. a Lambda `Resource` without a qualifier).
Transform: TypeAlias = Callable[[Mapping[str, str]], Mapping[str, str] | None]


# Annotations are not postponed in this module: NamedTuple compiles each string annotation (README, Performance).
class CatalogueEntry(NamedTuple):
    """One resource type of a namespace; applies when all `dimensions` and none of `absent` are present.

    `arn_template` and `title` are str.format templates over the dimension values, the transform's fields and
    {partition}/{region}/{account} (the alarm's own; templates name only what the ARN really contains).
    `note` is the reason when `arn_template` is None (it becomes the ref's note), else a remark for the docs.
    """

    namespace: str
    dimensions: tuple[str, ...]
    resource_type: str
    title: str
    arn_template: str | None
    note: str | None = None
    transform: Transform | None = None
    absent: tuple[str, ...] = ()

    def applies_to(self, dimensions: Mapping[str, str]) -> bool:
        return all(name in dimensions for name in self.dimensions) and not any(
            name in dimensions for name in self.absent
        )


# --- transforms: the few dimension values that are not simply pasted into a template ------------------


def _elbv2_load_balancer(values: Mapping[str, str]) -> Mapping[str, str]:
    # The dimension is the ARN's tail after "loadbalancer/": "app/<name>/<id>", "net/..." or "gwy/...".
    if not re.fullmatch(r"(app|net|gwy)/[^/]+/[^/]+", values["LoadBalancer"]):
        raise UnresolvableError("LoadBalancer dimension is not '<app|net|gwy>/<name>/<id>'")
    return {}


def _elbv2_target_group(values: Mapping[str, str]) -> Mapping[str, str]:
    # The dimension is the ARN's whole resource part: "targetgroup/<name>/<id>".
    if not re.fullmatch(r"targetgroup/[^/]+/[^/]+", values["TargetGroup"]):
        raise UnresolvableError("TargetGroup dimension is not 'targetgroup/<name>/<id>'")
    return {}


def _lambda_qualified(values: Mapping[str, str]) -> Mapping[str, str] | None:
    # `Resource` is "<function>:<alias or version>" for qualified metrics and just "<function>" otherwise;
    # the unqualified case is the function itself, which another entry already covers.
    function, sep, qualifier = values["Resource"].partition(":")
    if not sep:
        return None
    if not function or not qualifier or ":" in qualifier:
        raise UnresolvableError("Resource dimension is not '<function>:<alias or version>'")
    return {}


def _lambda_function_of_resource(values: Mapping[str, str]) -> Mapping[str, str]:
    # Only used when FunctionName is absent: the function is the part of `Resource` before the qualifier.
    return {"function": values["Resource"].partition(":")[0]}


# Rules on the default bus have no bus segment in their ARN; rules on custom buses do. Metrics of
# default-bus rules carry RuleName alone, but accept an explicit EventBusName=default as well.
def _custom_bus_rule(values: Mapping[str, str]) -> Mapping[str, str] | None:
    return None if values["EventBusName"] == "default" else {}


def _default_bus_rule(values: Mapping[str, str]) -> Mapping[str, str] | None:
    return {} if values.get("EventBusName", "default") == "default" else None


def _passthrough(dimension: str, service: str, prefix: str) -> Transform:
    """For dimensions that already are an ARN: check it is the expected kind, and name it."""

    def transform(values: Mapping[str, str]) -> Mapping[str, str]:
        arn = values[dimension]
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != service or not parts[5].startswith(prefix) or parts[5] == prefix:
            raise UnresolvableError(f"{dimension} dimension is not an {service} '{prefix}' ARN")
        return {"arn": arn, "name": parts[5].removeprefix(prefix)}

    transform.__name__ = f"_passthrough_{service}_{prefix.strip(':/')}"
    return transform


_state_machine_arn = _passthrough("StateMachineArn", "states", "stateMachine:")
_activity_arn = _passthrough("ActivityArn", "states", "activity:")
_certificate_arn = _passthrough("CertificateArn", "acm", "certificate/")


# --- the catalogue: per namespace, most specific resource first ----------------------------------------

_ASG_NOTE = "ARN needs the Auto Scaling group's UUID (API lookup)"
_EC2 = "arn:{partition}:ec2:{region}:{account}"
_ELB = "arn:{partition}:elasticloadbalancing:{region}:{account}"
_RDS = "arn:{partition}:rds:{region}:{account}"
_ECS = "arn:{partition}:ecs:{region}:{account}"


def _elbv2(namespace: str, kind: str) -> tuple[CatalogueEntry, ...]:
    return (
        CatalogueEntry(
            namespace,
            ("TargetGroup",),
            "ELBv2 target group",
            "Target group {TargetGroup}",
            _ELB + ":{TargetGroup}",
            transform=_elbv2_target_group,
        ),
        CatalogueEntry(
            namespace,
            ("LoadBalancer",),
            kind,
            kind + " {LoadBalancer}",
            _ELB + ":loadbalancer/{LoadBalancer}",
            transform=_elbv2_load_balancer,
        ),
    )


def _rds_family(namespace: str, product: str) -> tuple[CatalogueEntry, ...]:
    # DocumentDB and Neptune are built on RDS and share its ARN namespace.
    return (
        CatalogueEntry(
            namespace,
            ("DBInstanceIdentifier",),
            f"{product} DB instance",
            f"{product} DB instance {{DBInstanceIdentifier}}",
            _RDS + ":db:{DBInstanceIdentifier}",
        ),
        CatalogueEntry(
            namespace,
            ("DBClusterIdentifier",),
            f"{product} DB cluster",
            f"{product} DB cluster {{DBClusterIdentifier}}",
            _RDS + ":cluster:{DBClusterIdentifier}",
        ),
    )


def _ecs(namespace: str) -> tuple[CatalogueEntry, ...]:
    return (
        CatalogueEntry(
            namespace,
            ("ClusterName", "ServiceName"),
            "ECS service",
            "ECS service {ServiceName} in cluster {ClusterName}",
            # The long ARN format, the default for all accounts since 2021.
            _ECS + ":service/{ClusterName}/{ServiceName}",
        ),
        CatalogueEntry(
            namespace,
            ("ClusterName",),
            "ECS cluster",
            "ECS cluster {ClusterName}",
            _ECS + ":cluster/{ClusterName}",
        ),
    )


def _simple(namespace: str, dimension: str, resource_type: str, arn_template: str) -> CatalogueEntry:
    return CatalogueEntry(namespace, (dimension,), resource_type, f"{resource_type} {{{dimension}}}", arn_template)


def _lookup(namespace: str, dimension: str, resource_type: str, note: str) -> CatalogueEntry:
    return CatalogueEntry(namespace, (dimension,), resource_type, f"{resource_type} {{{dimension}}}", None, note)


_CATALOGUE: tuple[CatalogueEntry, ...] = (
    _simple("AWS/EC2", "InstanceId", "EC2 instance", _EC2 + ":instance/{InstanceId}"),
    _lookup("AWS/EC2", "AutoScalingGroupName", "Auto Scaling group", _ASG_NOTE),
    _lookup("AWS/AutoScaling", "AutoScalingGroupName", "Auto Scaling group", _ASG_NOTE),
    _simple("AWS/EBS", "VolumeId", "EBS volume", _EC2 + ":volume/{VolumeId}"),
    _simple("AWS/ELB", "LoadBalancerName", "Classic Load Balancer", _ELB + ":loadbalancer/{LoadBalancerName}"),
    *_elbv2("AWS/ApplicationELB", "Application Load Balancer"),
    *_elbv2("AWS/NetworkELB", "Network Load Balancer"),
    *_elbv2("AWS/GatewayELB", "Gateway Load Balancer"),
    *_rds_family("AWS/RDS", "RDS"),  # Aurora clusters publish DBClusterIdentifier here too.
    *_rds_family("AWS/DocDB", "DocumentDB"),
    *_rds_family("AWS/Neptune", "Neptune"),
    CatalogueEntry(
        "AWS/DynamoDB",
        ("TableName", "GlobalSecondaryIndexName"),
        "DynamoDB global secondary index",
        "DynamoDB index {GlobalSecondaryIndexName} of table {TableName}",
        "arn:{partition}:dynamodb:{region}:{account}:table/{TableName}/index/{GlobalSecondaryIndexName}",
    ),
    _simple(
        "AWS/DynamoDB",
        "TableName",
        "DynamoDB table",
        "arn:{partition}:dynamodb:{region}:{account}:table/{TableName}",
    ),
    CatalogueEntry(
        "AWS/Lambda",
        ("Resource",),
        "Lambda alias or version",
        "Lambda function {Resource}",
        "arn:{partition}:lambda:{region}:{account}:function:{Resource}",
        note="`Resource` is `<function>:<alias or version>`",
        transform=_lambda_qualified,
    ),
    _simple(
        "AWS/Lambda",
        "FunctionName",
        "Lambda function",
        "arn:{partition}:lambda:{region}:{account}:function:{FunctionName}",
    ),
    CatalogueEntry(
        "AWS/Lambda",
        ("Resource",),
        "Lambda function",
        "Lambda function {function}",
        "arn:{partition}:lambda:{region}:{account}:function:{function}",
        note="`{function}` is `Resource` up to its first `:`",
        transform=_lambda_function_of_resource,
        absent=("FunctionName",),
    ),
    _simple("AWS/SQS", "QueueName", "SQS queue", "arn:{partition}:sqs:{region}:{account}:{QueueName}"),
    _simple("AWS/SNS", "TopicName", "SNS topic", "arn:{partition}:sns:{region}:{account}:{TopicName}"),
    _simple(
        "AWS/Kinesis",
        "StreamName",
        "Kinesis data stream",
        "arn:{partition}:kinesis:{region}:{account}:stream/{StreamName}",
    ),
    _simple(
        "AWS/Firehose",
        "DeliveryStreamName",
        "Firehose stream",
        "arn:{partition}:firehose:{region}:{account}:deliverystream/{DeliveryStreamName}",
    ),
    *_ecs("AWS/ECS"),
    *_ecs("ECS/ContainerInsights"),
    _simple(
        "ContainerInsights",
        "ClusterName",
        "EKS cluster",
        "arn:{partition}:eks:{region}:{account}:cluster/{ClusterName}",
    ),
    CatalogueEntry(
        "AWS/ApiGateway",
        ("ApiId", "Stage"),
        "API Gateway HTTP/WebSocket API stage",
        "API Gateway stage {Stage} of API {ApiId}",
        # API Gateway resource ARNs have no account field.
        "arn:{partition}:apigateway:{region}::/apis/{ApiId}/stages/{Stage}",
    ),
    _simple(
        "AWS/ApiGateway",
        "ApiId",
        "API Gateway HTTP/WebSocket API",
        "arn:{partition}:apigateway:{region}::/apis/{ApiId}",
    ),
    _lookup(
        "AWS/ApiGateway",
        "ApiName",
        "API Gateway REST API",
        "ARN needs the REST API's id; metrics name it (API lookup)",
    ),
    CatalogueEntry(
        "AWS/States",
        ("StateMachineArn",),
        "Step Functions state machine",
        "Step Functions state machine {name}",
        "{arn}",
        transform=_state_machine_arn,
    ),
    CatalogueEntry(
        "AWS/States",
        ("ActivityArn",),
        "Step Functions activity",
        "Step Functions activity {name}",
        "{arn}",
        transform=_activity_arn,
    ),
    # S3 bucket ARNs have neither region nor account.
    _simple("AWS/S3", "BucketName", "S3 bucket", "arn:{partition}:s3:::{BucketName}"),
    _simple(
        "AWS/ElastiCache",
        "CacheClusterId",
        "ElastiCache cluster",
        "arn:{partition}:elasticache:{region}:{account}:cluster:{CacheClusterId}",
    ),
    _simple(
        "AWS/ElastiCache",
        "ReplicationGroupId",
        "ElastiCache replication group",
        "arn:{partition}:elasticache:{region}:{account}:replicationgroup:{ReplicationGroupId}",
    ),
    _simple(
        "AWS/MemoryDB",
        "ClusterName",
        "MemoryDB cluster",
        "arn:{partition}:memorydb:{region}:{account}:cluster/{ClusterName}",
    ),
    CatalogueEntry(
        "AWS/ES",
        ("DomainName", "ClientId"),
        "OpenSearch Service domain",
        "OpenSearch Service domain {DomainName}",
        # ClientId is the domain owner's account id; it is validated like any account.
        "arn:{partition}:es:{region}:{ClientId}:domain/{DomainName}",
    ),
    _simple(
        "AWS/Redshift",
        "ClusterIdentifier",
        "Redshift cluster",
        "arn:{partition}:redshift:{region}:{account}:cluster:{ClusterIdentifier}",
    ),
    _lookup("AWS/Kafka", "Cluster Name", "MSK cluster", "ARN needs the cluster's UUID (API lookup)"),
    _lookup("AWS/AmazonMQ", "Broker", "Amazon MQ broker", "ARN needs the broker's id (API lookup)"),
    # Global: metrics live in us-east-1 (Region=Global), the ARN has no region.
    _simple(
        "AWS/CloudFront",
        "DistributionId",
        "CloudFront distribution",
        "arn:{partition}:cloudfront::{account}:distribution/{DistributionId}",
    ),
    # Global: metrics live in us-east-1, the ARN has neither region nor account.
    _simple(
        "AWS/Route53",
        "HealthCheckId",
        "Route 53 health check",
        "arn:{partition}:route53:::healthcheck/{HealthCheckId}",
    ),
    _simple(
        "AWS/Route53",
        "HostedZoneId",
        "Route 53 hosted zone",
        "arn:{partition}:route53:::hostedzone/{HostedZoneId}",
    ),
    _simple("AWS/NATGateway", "NatGatewayId", "NAT gateway", _EC2 + ":natgateway/{NatGatewayId}"),
    _simple(
        "AWS/TransitGateway",
        "TransitGatewayAttachment",
        "Transit gateway attachment",
        _EC2 + ":transit-gateway-attachment/{TransitGatewayAttachment}",
    ),
    _simple("AWS/TransitGateway", "TransitGateway", "Transit gateway", _EC2 + ":transit-gateway/{TransitGateway}"),
    _simple("AWS/VPN", "VpnId", "Site-to-Site VPN connection", _EC2 + ":vpn-connection/{VpnId}"),
    _simple(
        "AWS/DX",
        "ConnectionId",
        "Direct Connect connection",
        "arn:{partition}:directconnect:{region}:{account}:dxcon/{ConnectionId}",
    ),
    _simple(
        "AWS/EFS",
        "FileSystemId",
        "EFS file system",
        "arn:{partition}:elasticfilesystem:{region}:{account}:file-system/{FileSystemId}",
    ),
    _simple(
        "AWS/Cognito",
        "UserPool",
        "Cognito user pool",
        "arn:{partition}:cognito-idp:{region}:{account}:userpool/{UserPool}",
    ),
    CatalogueEntry(
        "AWS/Events",
        ("EventBusName", "RuleName"),
        "EventBridge rule",
        "EventBridge rule {RuleName} on bus {EventBusName}",
        "arn:{partition}:events:{region}:{account}:rule/{EventBusName}/{RuleName}",
        note="custom buses only",
        transform=_custom_bus_rule,
    ),
    CatalogueEntry(
        "AWS/Events",
        ("RuleName",),
        "EventBridge rule",
        "EventBridge rule {RuleName}",
        "arn:{partition}:events:{region}:{account}:rule/{RuleName}",
        note="default bus: RuleName alone, or EventBusName=default",
        transform=_default_bus_rule,
    ),
    _simple(
        "AWS/Events",
        "EventBusName",
        "EventBridge event bus",
        "arn:{partition}:events:{region}:{account}:event-bus/{EventBusName}",
    ),
    _simple(
        "AWS/AppSync",
        "GraphQLAPIId",
        "AppSync GraphQL API",
        "arn:{partition}:appsync:{region}:{account}:apis/{GraphQLAPIId}",
    ),
    _simple(
        "AWS/KinesisAnalytics",
        "Application",
        "Managed Service for Apache Flink application",
        "arn:{partition}:kinesisanalytics:{region}:{account}:application/{Application}",
    ),
    _lookup("AWS/WAFV2", "WebACL", "WAF web ACL", "ARN needs the web ACL's id and scope (API lookup)"),
    _simple(
        "AWS/Logs",
        "LogGroupName",
        "CloudWatch Logs log group",
        "arn:{partition}:logs:{region}:{account}:log-group:{LogGroupName}",
    ),
    _simple(
        "AWS/CodeBuild",
        "ProjectName",
        "CodeBuild project",
        "arn:{partition}:codebuild:{region}:{account}:project/{ProjectName}",
    ),
    _simple(
        "AWS/Athena",
        "WorkGroup",
        "Athena workgroup",
        "arn:{partition}:athena:{region}:{account}:workgroup/{WorkGroup}",
    ),
    _simple("Glue", "JobName", "Glue job", "arn:{partition}:glue:{region}:{account}:job/{JobName}"),
    CatalogueEntry(
        "AWS/CertificateManager",
        ("CertificateArn",),
        "ACM certificate",
        "ACM certificate {name}",
        "{arn}",
        transform=_certificate_arn,
    ),
)

_BY_NAMESPACE: dict[str, tuple[CatalogueEntry, ...]] = {}
for _entry in _CATALOGUE:
    _BY_NAMESPACE[_entry.namespace] = (*_BY_NAMESPACE.get(_entry.namespace, ()), _entry)
del _entry


# --- the resolver ---------------------------------------------------------------------------------------


def involved_resources(
    namespace: str, dimensions: Mapping[str, str], *, partition: str, account: str, region: str
) -> list[ResourceRef]:
    """All resources one metric names, most specific first, without duplicates; [] when none are known.

    Never raises on odd input: a value that cannot make a valid ARN gives an arn=None ref with a note.
    """
    # Alarm payloads are JSON; tolerate non-string junk rather than trust the type hint.
    values = {key: value for key, value in dimensions.items() if isinstance(key, str) and isinstance(value, str)}
    refs: list[ResourceRef] = []
    seen: set[tuple[str, str]] = set()
    for entry in _BY_NAMESPACE.get(namespace, ()):
        if not entry.applies_to(values):
            continue
        ref = _resolve(entry, values, partition, account, region)
        if ref is None:
            continue
        key = ("arn", ref.arn) if ref.arn is not None else ("title", ref.title)
        if key not in seen:
            seen.add(key)
            refs.append(ref)
    return refs


def supported_namespaces() -> list[CatalogueEntry]:
    """Every catalogue entry, in resolution order (for docs)."""
    return list(_CATALOGUE)


def catalogue_markdown() -> str:
    """The catalogue as a markdown table; the README embeds this verbatim."""
    lines = [
        "| Namespace | Dimensions | Resource type | ARN |",
        "| --- | --- | --- | --- |",
    ]
    for entry in _CATALOGUE:
        dims = ", ".join(f"`{name}`" for name in entry.dimensions)
        if entry.absent:
            dims += " (without " + ", ".join(f"`{name}`" for name in entry.absent) + ")"
        if entry.arn_template is None:
            arn = f"needs lookup: {entry.note}"
        elif entry.arn_template == "{arn}":
            arn = f"the `{entry.dimensions[0]}` value itself"
        else:
            arn = f"`{entry.arn_template}`"
        if entry.arn_template is not None and entry.note:
            arn += f" ({entry.note})"
        cells = (f"`{entry.namespace}`", dims, entry.resource_type, arn)
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


class _Fields(dict[str, str]):
    # Titles must render even when a transform failed to supply its fields.
    def __missing__(self, key: str) -> str:
        return "?"


def _resolve(
    entry: CatalogueEntry, values: Mapping[str, str], partition: str, account: str, region: str
) -> ResourceRef | None:
    problem: str | None = None
    # Templates see only the entry's own dimensions (plus what its transform derives).
    fields = _Fields({name: values[name] for name in entry.dimensions})
    if entry.transform is not None:
        try:
            extra = entry.transform(values)
        except UnresolvableError as exc:
            problem = str(exc)
        else:
            if extra is None:
                return None
            fields.update(extra)
    title = _clip(entry.title.format_map(fields))
    if entry.arn_template is None:
        return ResourceRef(title=title, arn=None, note=entry.note)
    problem = problem or _template_problem(entry, fields, partition, account, region)
    if problem is None:
        # The alarm's own context goes last so a dimension called e.g. "account" cannot override it.
        arn = entry.arn_template.format_map({**fields, "partition": partition, "account": account, "region": region})
        problem = _arn_problem(arn)
        if problem is None:
            return ResourceRef(title=title, arn=arn)
    return ResourceRef(title=title, arn=None, note=problem)


def _template_problem(
    entry: CatalogueEntry, fields: Mapping[str, str], partition: str, account: str, region: str
) -> str | None:
    used = {field for _, field, _, _ in string.Formatter().parse(entry.arn_template or "") if field}
    # Raw dimensions and derived fields alike: an empty piece would still leave a pattern-valid, wrong ARN.
    for name in (*entry.dimensions, *sorted(used - {"partition", "region", "account"})):
        if not fields.get(name, "").strip():
            return f"{name} is empty"
    if "partition" in used and partition not in PARTITIONS:
        return "partition is not one of " + ", ".join(PARTITIONS)
    if "region" in used and not is_region(region):
        return "region is not a valid AWS region name"
    if "account" in used and not is_account(account):
        return "account is not a 12-digit AWS account id"
    return None


def _arn_problem(arn: str) -> str | None:
    if length(arn) > MAX_ARN_LENGTH:
        return f"ARN would exceed Incident Manager's {MAX_ARN_LENGTH}-character limit"
    if any(unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in arn):
        return "a dimension value contains control or line-break characters"
    if not ARN_PATTERN.match(arn):
        return "result is not an ARN Incident Manager accepts"
    return None


def _clip(text: str) -> str:
    """A printable one-line title of at most MAX_TITLE_LENGTH characters (as aws.length counts them)."""
    clean = "".join(" " if unicodedata.category(char) in _FORBIDDEN_CATEGORIES else char for char in text).strip()
    if length(clean) <= MAX_TITLE_LENGTH:
        return clean
    budget = MAX_TITLE_LENGTH - length(_ELLIPSIS)
    cut: list[str] = []
    for char in clean:
        budget -= length(char)
        if budget < 0:
            break
        cut.append(char)
    while cut and (cut[-1].isspace() or unicodedata.category(cut[-1]) in _DANGLING_CATEGORIES):
        cut.pop()
    return "".join(cut) + _ELLIPSIS
