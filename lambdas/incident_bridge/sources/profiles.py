"""AWS service events as data: one profile per service, read by one interpreter into a Signal.

A profile says which events it matches (source, detail-type), which of them fire, recover or are routine (ignored,
with the reason), the title, the default impact (from the event's severity where it has one), the involved resources
(the envelope's `resources` and named detail fields, each validated as an ARN Incident Manager accepts), the group
key (which is also the dedupe key: a repeat of one finding joins its incident as a timeline note), and the trigger
source shown in Incident Manager (`incident-bridge.<profile>`: never `aws.`, which AWS reserves).

Event shapes are AWS's: EventBridge User Guide ("Events from AWS services") and each service's own guide, named on
each profile. Derived ARNs follow the Service Authorization Reference's resource types, named where they are built.
The README's table of profiles is generated from `PROFILES` (`make docs`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from incident_bridge.aws import is_incident_manager_arn, partition_of_region
from incident_bridge.errors import InvalidEvent
from incident_bridge.signal import (
    DETAIL_PREFIX,
    InvolvedResource,
    NotActionable,
    Signal,
    SignalStatus,
    Trigger,
    detail_labels,
    event_words,
)
from incident_bridge.sources.payloads import EventBridgeEnvelope

#: The configuration value that enables every profile but the opt-in ones.
ALL = "all"

#: A detail path's value(s): scalars as JSON spells them; a list of scalars gives each of its items.
Values = tuple[str, ...]


def detail_values(detail: Mapping[str, Any], path: str) -> Values:
    """The scalar value(s) at a dotted path of `detail` (`findings.0.Severity.Label`); () when absent."""
    value: Any = detail
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return ()
    items = value if isinstance(value, list) else [value]
    return tuple(_spelled(item) for item in items if item is not None and not isinstance(item, Mapping | list))


def _spelled(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class Rule:
    """`path` having one of `values` (any value when None) makes the event `status`; rules are tried in order."""

    path: str
    values: frozenset[str] | None
    status: SignalStatus
    #: Only for these detail-types (all of the profile's when empty).
    detail_types: tuple[str, ...] = ()

    def decides(self, detail_type: str, detail: Mapping[str, Any]) -> bool:
        if self.detail_types and detail_type not in self.detail_types:
            return False
        found = detail_values(detail, self.path)
        return bool(found) and (self.values is None or any(value in self.values for value in found))


ImpactOf = Callable[[Mapping[str, Any]], int]
DerivedLabels = Callable[[EventBridgeEnvelope], dict[str, Values]]


@dataclass(frozen=True, kw_only=True)
class EventProfile:
    """One AWS service's events, as the bridge reads them."""

    name: str
    service: str
    #: Where AWS documents the events, for the README and reviewers.
    documented_in: str
    source: str
    detail_types: tuple[str, ...]
    #: Detail paths every event of the profile must carry; a missing one rejects the event naming its path.
    required: tuple[str, ...]
    #: Detail paths only events of one detail-type need (ECS service events name an `eventName`, tasks do not).
    required_for: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: Detail lists AWS documents as holding exactly one item; an event with more is rejected naming the path, so
    #: no item is ever read past silently.
    singular: tuple[str, ...] = ()
    rules: tuple[Rule, ...]
    #: The path the routine reason names ("status RUNNING is routine").
    routine_path: str
    noun: str
    #: Title template over labels: `{detail:status}`, `{account}`, `{resource:statemachine}` ...
    title: str
    impact: ImpactOf
    #: Template over labels whose value identifies the group (and the member that fires and recovers).
    group: str
    #: Labels whose values are involved resources (checked against Incident Manager's ARN pattern).
    resource_labels: tuple[str, ...] = ()
    #: Whether the envelope's `resources` name involved resources (Security Hub's name the finding instead).
    envelope_resources: bool = True
    #: Labels computed from the event where no single field holds them (derived ARNs, the first finding).
    derive: DerivedLabels | None = None
    #: Only enabled when named: `all` leaves it out (EC2 state changes are routine in most accounts).
    opt_in: bool = False
    #: What recovers the group, for the README.
    recovery: str
    impact_doc: str

    @property
    def trigger_source(self) -> str:
        return f"incident-bridge.{self.name}"

    def matches(self, source: str, detail_type: str) -> bool:
        return source == self.source and detail_type in self.detail_types


# ---- reading an event with its profile ----

_FIELD = re.compile(r"\{([^{}]+)\}")


def render(template: str, labels: Mapping[str, Values]) -> str:
    """`{label}` replaced by the label's first value ("" when absent); label names may hold `:` and `.`."""
    rendered = _FIELD.sub(lambda match: next(iter(labels.get(match[1], ())), ""), template)
    return " ".join(rendered.split())  # a field the event lacks leaves no double space


def service_signal(
    profile: EventProfile, envelope: EventBridgeEnvelope, raw: Mapping[str, Any]
) -> Signal | NotActionable:
    detail = envelope.detail
    needed = (*profile.required, *(path for kind, paths in profile.required_for if kind == envelope.detail_type
                                   for path in paths))  # fmt: skip
    for path in needed:
        if not detail_values(detail, path):
            raise InvalidEvent(f"{profile.name} event {envelope.detail_type!r} is missing detail.{path}")
    for path in profile.singular:
        items = detail.get(path)
        if isinstance(items, list) and len(items) != 1:
            raise InvalidEvent(
                f"{profile.name} event {envelope.detail_type!r} carries {len(items)} items in detail.{path}; "
                "AWS sends exactly one per event"
            )
    labels: dict[str, Values] = {
        **detail_labels(detail),
        "account": (envelope.account,),
        "region": (envelope.region,),
        "source": (envelope.source,),
        "detail_type": (envelope.detail_type,),
        "profile": (profile.name,),
    }
    if profile.derive is not None:
        labels.update({name: found for name, found in profile.derive(envelope).items() if found})
    decided = next((rule for rule in profile.rules if rule.decides(envelope.detail_type, detail)), None)
    status = decided.status if decided is not None else None
    payload = f"AWS service event ({profile.service}: {envelope.detail_type}), profile {profile.name}"
    title = render(profile.title, labels) or envelope.detail_type
    if status is None:
        # Named by the first field the rules read that this event carries (a task has `lastStatus`, not `eventName`).
        paths = (profile.routine_path, *(rule.path for rule in profile.rules), "lastStatus")
        path = next((path for path in paths if detail_values(detail, path)), profile.routine_path)
        value = ", ".join(detail_values(detail, path)) or "absent"
        return NotActionable(
            f"{profile.name}: {envelope.detail_type} with {path} {value} is routine",
            name=title,
            payload=payload,
        )
    identity = render(profile.group, labels) or envelope.id
    labels["state"] = (status.value,)
    # The profile's title is the event's own `{title}`, which a route keeps unless it sets another.
    labels["title"] = (title,)
    candidates = [*(envelope.resources if profile.envelope_resources else ()), *_label_values(labels, profile)]
    arns = tuple(dict.fromkeys(arn for arn in candidates if is_incident_manager_arn(arn)))
    return Signal(
        name=title,
        noun=profile.noun,
        event_id=envelope.id,
        status=status,
        state=_state_word(decided, detail) if decided is not None else status.value,
        state_time=envelope.time,
        labels=labels,
        member=f"{profile.name}|{identity}",
        default_group=f"{profile.name}={identity}",
        title=title,
        impact=profile.impact(detail),
        trigger=Trigger(source=profile.trigger_source, arn=None, token_parts=(profile.name, envelope.id)),
        related=tuple(InvolvedResource(arn=arn, title=_arn_title(arn)) for arn in arns),
        references=arns,
        payload=payload,
        raw_event=dict(raw),
        # Each event is its own occurrence (the time names only its second); a redelivery keeps its id.
        occurrence=envelope.id,
        # The title says the kind ("Step Functions execution ..."): notes name the event by it alone.
        words=event_words(profile.noun, named_by_kind=True),
    )


def _state_word(rule: Rule, detail: Mapping[str, Any]) -> str:
    """The event's own word for its state, for the sentences people read (FAILED, RESOLVED, closed), where the rule
    that decided names one; else firing or recovering."""
    if rule.values is None:
        return rule.status.value
    return next(value for value in detail_values(detail, rule.path) if value in rule.values)


def _label_values(labels: Mapping[str, Values], profile: EventProfile) -> Iterable[str]:
    for name in profile.resource_labels:
        yield from labels.get(name, ())


def _arn_title(arn: str) -> str:
    parts = arn.split(":", 5)
    return f"{parts[2]} {parts[5]}" if len(parts) == 6 else arn


# ---- impacts ----


def fixed(impact: int) -> ImpactOf:
    return lambda _detail: impact


def by_value(path: str, impacts: Mapping[str, int], default: int) -> ImpactOf:
    def impact(detail: Mapping[str, Any]) -> int:
        return min((impacts[value] for value in detail_values(detail, path) if value in impacts), default=default)

    return impact


def by_score(path: str, steps: tuple[tuple[float, int], ...], default: int) -> ImpactOf:
    """The impact of the first step whose lower bound the numeric score reaches."""

    def impact(detail: Mapping[str, Any]) -> int:
        for value in detail_values(detail, path):
            try:
                score = float(value)
            except ValueError:
                continue
            return next((step_impact for bound, step_impact in steps if score >= bound), default)
        return default

    return impact


def _health_impact(detail: Mapping[str, Any]) -> int:
    base = by_value("eventTypeCategory", {"issue": 2, "scheduledChange": 3, "accountNotification": 4}, 4)(detail)
    # A public event (every account in the Region) is less likely to be this account's emergency.
    return min(base + 1, 5) if "PUBLIC" in detail_values(detail, "eventScopeCode") else base


# ---- derived labels ----


def _ecs_service(envelope: EventBridgeEnvelope) -> dict[str, Values]:
    """The service an event is about. Service events name it in `resources`; a task names its cluster and its
    `group` (`service:<name>`), from which the service ARN is built as the Service Authorization Reference gives it:
    arn:${Partition}:ecs:${Region}:${Account}:service/${ClusterName}/${ServiceName}."""
    services = tuple(arn for arn in envelope.resources if ":service/" in arn)
    if services:
        return {"resource:service": services}
    cluster = next(iter(detail_values(envelope.detail, "clusterArn")), "")
    group = next(iter(detail_values(envelope.detail, "group")), "")
    task = detail_values(envelope.detail, "taskArn")
    if cluster.count(":cluster/") == 1 and group.startswith("service:"):
        prefix, cluster_name = cluster.split(":cluster/")
        return {
            "resource:service": (f"{prefix}:service/{cluster_name}/{group.removeprefix('service:')}",),
            "resource:task": task,
        }
    return {"resource:service": (f"{cluster}|{group}",) if cluster and group else (), "resource:task": task}


def _instance_arn(envelope: EventBridgeEnvelope, instance_id: str) -> str:
    """arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId} (Service Authorization Reference, EC2)."""
    return f"arn:{partition_of_region(envelope.region)}:ec2:{envelope.region}:{envelope.account}:instance/{instance_id}"


_EC2_INSTANCE_ID = re.compile(r"i-[0-9a-f]{8,17}")


def _health_resources(envelope: EventBridgeEnvelope) -> dict[str, Values]:
    """AWS Health names the affected resources in `affectedEntities[].entityValue` (and `resources`) by the service's
    own identifier: an ARN where the service has one, the instance id for EC2 (AWS Health User Guide, "Reference: AWS
    Health events Amazon EventBridge schema"). An EC2 instance id becomes the instance's ARN, in the event's Region
    (`eventRegion`: the envelope's `region` is where the event was delivered) and account (`affectedAccount` in an
    organizational view, else the envelope's)."""
    detail = envelope.detail
    entities = [entity.get("entityValue") for entity in _objects(detail, "affectedEntities")]
    values = [value for value in (*envelope.resources, *entities) if isinstance(value, str)]
    ec2 = "EC2" in detail_values(detail, "service")
    located = EventBridgeEnvelope(
        id=envelope.id, detail_type=envelope.detail_type, source=envelope.source,
        account=next(iter(detail_values(detail, "affectedAccount")), envelope.account), time=envelope.time,
        region=next(iter(detail_values(detail, "eventRegion")), envelope.region), resources=(), detail={},
    )  # fmt: skip
    instances = [value for value in values if ec2 and _EC2_INSTANCE_ID.fullmatch(value)]
    return {
        "resource:instance": tuple(dict.fromkeys(_instance_arn(located, instance) for instance in instances)),
        "resource:other": tuple(dict.fromkeys(value for value in entities if isinstance(value, str))),
    }


def _guardduty_resources(envelope: EventBridgeEnvelope) -> dict[str, Values]:
    detail = envelope.detail
    instances = detail_values(detail, "resource.instanceDetails.instanceId")
    # GuardDuty names the account and Region of the affected resource in the finding itself.
    account = next(iter(detail_values(detail, "accountId")), envelope.account)
    region = next(iter(detail_values(detail, "region")), envelope.region)
    located = EventBridgeEnvelope(
        id=envelope.id, detail_type=envelope.detail_type, source=envelope.source, account=account,
        time=envelope.time, region=region, resources=(), detail={},
    )  # fmt: skip
    buckets = [bucket.get("arn") for bucket in _objects(detail, "resource.s3BucketDetails")]
    return {
        "resource:instance": tuple(_instance_arn(located, instance) for instance in instances),
        "resource:other": tuple(
            arn
            for arn in (
                *(bucket for bucket in buckets if isinstance(bucket, str)),
                *detail_values(detail, "resource.eksClusterDetails.arn"),
                *detail_values(detail, "resource.lambdaDetails.functionArn"),
                *detail_values(detail, "resource.ecsClusterDetails.arn"),
                *detail_values(detail, "resource.rdsDbInstanceDetails.dbInstanceArn"),
            )
        ),
    }


def _objects(detail: Mapping[str, Any], path: str) -> list[Mapping[str, Any]]:
    value: Any = detail
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _security_hub_finding(envelope: EventBridgeEnvelope) -> dict[str, Values]:
    """The event's one finding (`findings[0]`: the profile rejects any other count); its resources are
    `Resources[].Id`."""
    findings = envelope.detail.get("findings")
    first = findings[0] if isinstance(findings, list) and findings and isinstance(findings[0], Mapping) else {}
    resources = [resource.get("Id") for resource in _objects(first, "Resources")]
    # The finding's own fields, as `detail:findings.0.<path>` labels (lists are no labels of their own).
    finding = {DETAIL_PREFIX + "findings.0." + name.removeprefix(DETAIL_PREFIX): found
               for name, found in detail_labels(first).items()}  # fmt: skip
    return {**finding, "resource:finding": tuple(resource for resource in resources if isinstance(resource, str))}


def _ec2_instance(envelope: EventBridgeEnvelope) -> dict[str, Values]:
    instances = (*detail_values(envelope.detail, "instance-id"), *detail_values(envelope.detail, "instance_id"))
    named = tuple(arn for arn in envelope.resources if ":instance/" in arn)
    return {"resource:instance": named or tuple(_instance_arn(envelope, instance) for instance in instances)}


# ---- the catalogue ----

_FIRING, _RECOVERING = SignalStatus.FIRING, SignalStatus.RECOVERING
_ECS_TASK = "ECS Task State Change"
#: RDS events that start a failover or a recovery, or report one failed (RDS User Guide, event catalogue):
#: DB instance 0013 Multi-AZ failover started, 0020 recovery started, 0052 Multi-AZ recovery started; DB cluster
#: 0069 failover failed, 0072 / 0073 failover begun in / across Availability Zones.
_RDS_STARTED = frozenset(f"RDS-EVENT-{number:04d}" for number in (13, 20, 52, 69, 72, 73))
#: ...and those that end one: DB instance 0015 failover with promotion complete, 0049 Multi-AZ failover completed,
#: 0051 Multi-AZ activation complete, 0065 recovered from a partial failover, 0021 recovery complete, 0053 Multi-AZ
#: recovery complete; DB cluster 0071 failover finished.
_RDS_RECOVERED = frozenset(f"RDS-EVENT-{number:04d}" for number in (15, 49, 51, 65, 21, 53, 71))
_PIPELINE = "CodePipeline Pipeline Execution State Change"

PROFILES: tuple[EventProfile, ...] = (
    EventProfile(
        name="health",
        service="AWS Health",
        documented_in="AWS Health User Guide, Monitoring AWS Health events with Amazon EventBridge",
        source="aws.health",
        detail_types=("AWS Health Event",),
        required=("eventTypeCode", "eventTypeCategory", "service"),
        rules=(
            Rule("statusCode", frozenset({"closed"}), _RECOVERING),
            Rule("eventTypeCategory", frozenset({"issue", "accountNotification", "scheduledChange"}), _FIRING),
        ),
        routine_path="eventTypeCategory",
        noun="AWS Health event",
        title="AWS Health {detail:eventTypeCategory}: {detail:eventTypeCode} ({detail:service}, {region})",
        impact=_health_impact,
        impact_doc="issue 2, scheduledChange 3, accountNotification 4; one lower for PUBLIC events",
        group="{account}|{detail:eventArn}",
        resource_labels=("resource:instance", "resource:other"),
        derive=_health_resources,
        recovery="the same event with `statusCode: closed`",
    ),
    EventProfile(
        name="guardduty",
        service="Amazon GuardDuty",
        documented_in="GuardDuty User Guide, Creating custom responses to GuardDuty findings with EventBridge",
        source="aws.guardduty",
        detail_types=("GuardDuty Finding",),
        required=("id", "type", "severity"),
        rules=(Rule("type", None, _FIRING),),
        routine_path="type",
        noun="GuardDuty finding",
        title="GuardDuty {detail:type}: {detail:title}",
        # GuardDuty's severity levels: 7.0-8.9 high, 4.0-6.9 medium, 1.0-3.9 low; 9.0 and above critical.
        impact=by_score("severity", ((9.0, 1), (7.0, 2), (4.0, 3)), 4),
        impact_doc="severity 9+ 1, 7-8.9 2, 4-6.9 3, below 4: 4",
        group="{detail:id}",
        resource_labels=("resource:instance", "resource:other"),
        derive=_guardduty_resources,
        recovery="none (GuardDuty emits no recovery); a repeat of the finding joins its incident as a timeline note",
    ),
    EventProfile(
        name="securityhub",
        service="AWS Security Hub",
        documented_in="Security Hub User Guide, EventBridge event formats (Security Hub Findings - Imported)",
        source="aws.securityhub",
        # "Each event sends a single finding" (Security Hub User Guide, "EventBridge event formats for Security Hub
        # CSPM", Security Hub Findings - Imported). `Security Hub Findings - Custom Action`, which a person sends
        # from the console for the findings they chose, is not read: no rule routes it here.
        detail_types=("Security Hub Findings - Imported",),
        required=("findings.0.Id", "findings.0.Title", "findings.0.Severity.Label"),
        singular=("findings",),
        rules=(
            # SUPPRESSED: "you reviewed the finding and don't believe that any action is needed. The finding is no
            # longer updated" (Security Hub API Reference, Workflow): no RESOLVED follows, so it ends the finding too.
            Rule("findings.0.Workflow.Status", frozenset({"RESOLVED", "SUPPRESSED"}), _RECOVERING),
            Rule("findings.0.Compliance.Status", frozenset({"PASSED"}), _RECOVERING),
            # Findings backed by AWS Config are archived when Config sees their resource deleted (AWS Security Blog,
            # "Automatically resolve Security Hub findings for resources that no longer exist"): nothing left to fix.
            Rule("findings.0.RecordState", frozenset({"ARCHIVED"}), _RECOVERING),
            Rule("findings.0.Severity.Label", None, _FIRING),
        ),
        routine_path="findings.0.Severity.Label",
        noun="Security Hub finding",
        title="Security Hub: {detail:findings.0.Title}",
        impact=by_value(
            "findings.0.Severity.Label", {"CRITICAL": 1, "HIGH": 2, "MEDIUM": 3, "LOW": 4, "INFORMATIONAL": 5}, 3
        ),
        impact_doc="Severity.Label CRITICAL 1, HIGH 2, MEDIUM 3, LOW 4, INFORMATIONAL 5",
        group="{detail:findings.0.Id}",
        resource_labels=("resource:finding",),
        envelope_resources=False,
        derive=_security_hub_finding,
        recovery="`Workflow.Status: RESOLVED` or `SUPPRESSED` (reviewed, no action needed), `Compliance.Status: "
        "PASSED` or `RecordState: ARCHIVED` (its resource deleted) for the same finding",
    ),
    EventProfile(
        name="ecs",
        service="Amazon ECS",
        documented_in="Amazon ECS Developer Guide, Amazon ECS events and EventBridge",
        source="aws.ecs",
        detail_types=("ECS Deployment State Change", "ECS Service Action", _ECS_TASK),
        required=(),
        # Service events say what happened in `eventName`; a task's state is `lastStatus` in its cluster (Amazon ECS
        # Developer Guide, "Amazon ECS events").
        required_for=(
            ("ECS Deployment State Change", ("eventName",)),
            ("ECS Service Action", ("eventName",)),
            (_ECS_TASK, ("lastStatus", "clusterArn")),
        ),
        rules=(
            Rule(
                "eventName",
                frozenset(
                    {
                        "SERVICE_DEPLOYMENT_FAILED",
                        "SERVICE_TASK_START_IMPAIRED",
                        "SERVICE_TASK_PLACEMENT_FAILURE",
                        "SERVICE_TASK_CONFIGURATION_FAILURE",
                        "SERVICE_DISCOVERY_INSTANCE_UNHEALTHY",
                    }
                ),
                _FIRING,
            ),
            Rule("eventName", frozenset({"SERVICE_STEADY_STATE", "SERVICE_DEPLOYMENT_COMPLETED"}), _RECOVERING),
            Rule("stopCode", frozenset({"EssentialContainerExited"}), _FIRING, detail_types=(_ECS_TASK,)),
        ),
        routine_path="eventName",
        noun="ECS event",
        title="ECS {detail:eventName}{detail:stopCode}: {resource:service}",
        impact=fixed(3),
        impact_doc="3",
        group="{resource:service}",
        resource_labels=("resource:service", "resource:task"),
        derive=_ecs_service,
        recovery="`SERVICE_STEADY_STATE` or `SERVICE_DEPLOYMENT_COMPLETED` of the service",
    ),
    EventProfile(
        name="stepfunctions",
        service="AWS Step Functions",
        documented_in="Step Functions Developer Guide, Step Functions events in EventBridge",
        source="aws.states",
        detail_types=("Step Functions Execution Status Change",),
        required=("status", "stateMachineArn", "executionArn"),
        rules=(
            Rule("status", frozenset({"FAILED", "TIMED_OUT", "ABORTED"}), _FIRING),
            Rule("status", frozenset({"SUCCEEDED"}), _RECOVERING),
        ),
        routine_path="status",
        noun="Step Functions execution",
        title="Step Functions execution {detail:name} {detail:status} ({detail:stateMachineArn})",
        impact=fixed(3),
        impact_doc="3",
        group="{detail:stateMachineArn}",
        resource_labels=("detail:stateMachineArn", "detail:executionArn"),
        recovery="a later `SUCCEEDED` execution of the same state machine",
    ),
    EventProfile(
        name="codepipeline",
        service="AWS CodePipeline",
        documented_in="CodePipeline User Guide, Monitoring CodePipeline events",
        source="aws.codepipeline",
        detail_types=(
            _PIPELINE,
            "CodePipeline Stage Execution State Change",
            "CodePipeline Action Execution State Change",
        ),
        required=("pipeline", "state"),
        rules=(
            Rule("state", frozenset({"FAILED"}), _FIRING),
            Rule("state", frozenset({"SUCCEEDED"}), _RECOVERING, detail_types=(_PIPELINE,)),
        ),
        routine_path="state",
        noun="CodePipeline execution",
        title="CodePipeline {detail:pipeline} {detail:stage} {detail:action} {detail:state}",
        impact=fixed(4),
        impact_doc="4",
        group="{account}|{region}|{detail:pipeline}",
        recovery="a later `SUCCEEDED` pipeline execution",
    ),
    EventProfile(
        name="rds",
        service="Amazon RDS",
        documented_in="Amazon RDS User Guide, Amazon RDS event categories and event messages",
        source="aws.rds",
        detail_types=("RDS DB Instance Event", "RDS DB Cluster Event"),
        required=("EventCategories", "SourceArn", "EventID"),
        # The category alone cannot tell a start from its end: `failover` holds both "A Multi-AZ failover ... has
        # started" (RDS-EVENT-0013) and "A Multi-AZ failover has completed" (RDS-EVENT-0049). So the events that
        # end a failover or a recovery are named by id and recover, the ones that start one fire, and `failure` and
        # `low storage` fire by category (RDS emits no event for storage back to normal). Ids from the RDS User
        # Guide, "Amazon RDS event categories and event messages" (awsdocs/amazon-rds-user-guide, doc_source/
        # USER_Events.Messages.md @ 07f207aaf5992bd81915b228982d08e6a9079878), DB instance and DB cluster tables.
        rules=(
            Rule("EventID", _RDS_RECOVERED, _RECOVERING),
            Rule("EventID", _RDS_STARTED, _FIRING),
            Rule("EventCategories", frozenset({"failure", "low storage"}), _FIRING),
        ),
        routine_path="EventID",
        noun="RDS event",
        title="RDS {detail:EventCategories}: {detail:Message} ({detail:SourceIdentifier})",
        impact=by_value("EventCategories", {"failure": 2, "low storage": 3, "failover": 3, "recovery": 3}, 3),
        impact_doc="failure 2, failover 3, recovery 3, low storage 3",
        group="{detail:SourceArn}",
        resource_labels=("detail:SourceArn",),
        recovery="the same instance's or cluster's failover or recovery completed (`RDS-EVENT-0015`, `-0049`, "
        "`-0051`, `-0065`, `-0021`, `-0053`; clusters `-0071`)",
    ),
    EventProfile(
        name="ec2",
        service="Amazon EC2",
        documented_in="Amazon EC2 User Guide, EC2 instance state-change events",
        source="aws.ec2",
        detail_types=("EC2 Instance State-change Notification",),
        required=("state",),
        rules=(
            Rule("state", frozenset({"stopped", "terminated"}), _FIRING),
            Rule("state", frozenset({"running"}), _RECOVERING),
        ),
        routine_path="state",
        noun="EC2 instance",
        title="EC2 instance {resource:instance} {detail:state}",
        impact=fixed(4),
        impact_doc="4",
        group="{resource:instance}",
        resource_labels=("resource:instance",),
        derive=_ec2_instance,
        opt_in=True,
        recovery="the instance `running` again",
    ),
)

PROFILE_NAMES = tuple(profile.name for profile in PROFILES)
_BY_SOURCE: dict[str, list[EventProfile]] = {}
for _profile in PROFILES:
    _BY_SOURCE.setdefault(_profile.source, []).append(_profile)


def profile_for(source: str, detail_type: str) -> EventProfile | None:
    return next((profile for profile in _BY_SOURCE.get(source, ()) if profile.matches(source, detail_type)), None)


def enabled_profiles(names: Iterable[str]) -> frozenset[str]:
    """The profiles a configuration's `aws_events` enables: `all` is every profile but the opt-in ones."""
    chosen = set(names)
    if ALL in chosen:
        chosen |= {profile.name for profile in PROFILES if not profile.opt_in}
    return frozenset(chosen & set(PROFILE_NAMES))


def profiles_markdown() -> str:
    """The catalogue as a markdown table; the README embeds this verbatim (`make docs`)."""
    lines = [
        "| profile | events (`source`: `detail-type`) | fires on | recovers on | default impact | group / dedupe key |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for profile in PROFILES:
        name = f"`{profile.name}`" + (" (opt-in)" if profile.opt_in else "")
        events = f"`{profile.source}`: " + ", ".join(f"`{detail_type}`" for detail_type in profile.detail_types)
        firing = "; ".join(_rule_text(rule) for rule in profile.rules if rule.status is _FIRING)
        cells = (name, events, firing, profile.recovery, profile.impact_doc, f"`{profile.group}`")
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def _rule_text(rule: Rule) -> str:
    values = "any" if rule.values is None else " / ".join(f"`{value}`" for value in sorted(rule.values))
    scope = f" ({', '.join(rule.detail_types)})" if rule.detail_types else ""
    return f"`{rule.path}` {values}{scope}"
