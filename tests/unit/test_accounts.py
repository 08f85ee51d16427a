"""Many accounts in one bridge: account names (`accounts`) as a label for matchers, group keys and titles; the
listed forwarders; and what a member account can and cannot make the bridge do.

Events are copies of the documented alarm and custom events, changed only in the account (and region) a member's
forwarder or application would give them: EventBridge writes `account`, the sender cannot choose it.
"""

from __future__ import annotations

from typing import Any

import pytest

from incident_bridge.adapters.dry_run import DryRunIncidentManager
from incident_bridge.adapters.memory_groups import MemoryGroupStore
from incident_bridge.bridge import Bridge, Routed, decide
from incident_bridge.config import BridgeConfig, parse_config
from incident_bridge.errors import ConfigError, InvalidEvent
from incident_bridge.lifecycle import group_key
from incident_bridge.outcome import OutcomeKind
from incident_bridge.sources import parse_event
from tests.conftest import PLAN_ARN, load_event

EC2_ALARM = "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
CUSTOM = "custom-app-eventbridge-CustomEvent-no-version-powertools.json"
MEMBER = "111122223333"
OTHER_MEMBER = "444455556666"
PAYMENTS_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/payments"
# A plan of the same organization that no route names: no event may reach it.
UNROUTED_PLAN = "arn:aws:ssm-incidents::123456789012:response-plan/executive-escalation"


def config(**extra: Any) -> BridgeConfig:
    return parse_config({"default": {"response_plan_arn": PLAN_ARN}, **extra}, origin="tests/unit/test_accounts")


def member_alarm(account: str = MEMBER, region: str = "eu-west-1") -> dict[str, Any]:
    """The documented alarm as a member account's forwarder delivers it."""
    event = load_event(EC2_ALARM)
    event["account"], event["region"] = account, region
    event["resources"] = [f"arn:aws:cloudwatch:{region}:{account}:alarm:ServerCpuTooHigh"]
    return event


def routed(event: dict[str, Any], bridge_config: BridgeConfig) -> Routed:
    """Everything before the lifecycle, as the handler and the CLI do it (`account_alias` is added there)."""
    decided = decide(event, bridge_config)
    assert isinstance(decided, Routed), decided
    return decided


# ---- configuration ----


def test_accounts_read_ids_as_text_even_when_yaml_made_them_numbers() -> None:
    # Given `accounts` as YAML reads `111122223333: payments-prod` (an int key) and as JSON gives it
    # When read / Then both are the same mapping of 12-digit ids to names, written back as JSON text keys
    from_yaml = config(accounts={111122223333: "payments-prod"})
    from_json = config(accounts={"111122223333": "payments-prod"})
    assert from_yaml.accounts == from_json.accounts == {MEMBER: "payments-prod"}
    assert parse_config(from_yaml.to_document(), origin="again") == from_yaml


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"accounts": {"1111": "x"}}, "accounts.1111: '1111' is not a 12-digit AWS account id"),
        ({"accounts": {MEMBER: "{alarm_name}"}}, f"accounts.{MEMBER}: expected a name of 1 to 64 printable"),
        ({"accounts": {MEMBER: ""}}, f"accounts.{MEMBER}: expected a name"),
        ({"accounts": ["payments"]}, "accounts: expected an object"),
        ({"expected_forwarders": ["111122223333"]}, "expected_forwarders.0: '111122223333' is not ACCOUNT/REGION"),
        ({"expected_forwarders": ["111122223333/Ireland"]}, "expected_forwarders.0: .* is not ACCOUNT/REGION"),
    ],
)
def test_bad_accounts_and_forwarders_are_refused_naming_the_field(extra: dict[str, Any], message: str) -> None:
    # Given a configuration with one mistake in the new keys / When read / Then the path and the problem are named
    with pytest.raises(ConfigError, match=message.replace("{", r"\{").replace("}", r"\}")):
        config(**extra)


# ---- the alias as a label ----


def test_the_default_title_names_the_account_alias_and_the_region() -> None:
    # Given a named member account and an unnamed one
    named = config(accounts={MEMBER: "payments-prod"})

    # When their alarms are routed by the default route
    [with_alias] = routed(member_alarm(), named).routing.decisions
    [without] = routed(member_alarm(OTHER_MEMBER), named).routing.decisions

    # Then the title names the alias (or the id when there is none) and the region
    assert with_alias.title == "ServerCpuTooHigh is in ALARM (payments-prod, eu-west-1)"
    assert without.title == f"ServerCpuTooHigh is in ALARM ({OTHER_MEMBER}, eu-west-1)"


def test_routes_match_the_account_alias() -> None:
    # Given a route for every production account, by name
    routes = [{"name": "prod", "match": {"account_alias": "*-prod"}, "response_plan_arn": PAYMENTS_PLAN}]
    bridge_config = config(accounts={MEMBER: "payments-prod", OTHER_MEMBER: "search-dev"}, routes=routes)

    # When alarms of both accounts are routed
    prod = routed(member_alarm(), bridge_config).routing
    dev = routed(member_alarm(OTHER_MEMBER), bridge_config).routing

    # Then the production account's takes the route (the reason names the alias), the other falls to default
    assert [decision.route_name for decision in prod.decisions] == ["prod"]
    assert prod.decisions[0].reasons == ("account alias 'payments-prod' matches '*-prod'",)
    assert [decision.route_name for decision in dev.decisions] == ["default"]


def test_group_by_account_alias_groups_the_accounts_of_one_name() -> None:
    # Given two accounts with the same name (one team's two regions-of-record) and a route grouping by alias
    bridge_config = config(
        accounts={MEMBER: "payments", OTHER_MEMBER: "payments"},
        routes=[{"name": "by-team", "group_by": ["account_alias", "alarm_name"], "response_plan_arn": PAYMENTS_PLAN}],
    )
    both = [routed(member_alarm(account), bridge_config) for account in (MEMBER, OTHER_MEMBER)]

    # When their group keys are made
    keys = {group_key(found.signal, found.routing.decisions[0]) for found in both}

    # Then the one problem seen from two accounts is one group
    assert keys == {"by-team|account_alias=payments|alarm_name=ServerCpuTooHigh"}


def test_titles_may_name_the_alias() -> None:
    # Given a route whose title names the alias / When an alarm is routed / Then the title carries it
    bridge_config = config(
        accounts={MEMBER: "payments-prod"},
        routes=[{"name": "t", "title": "[{account_alias}] {alarm_name}", "response_plan_arn": PAYMENTS_PLAN}],
    )
    [decision] = routed(member_alarm(), bridge_config).routing.decisions
    assert decision.title == "[payments-prod] ServerCpuTooHigh"


# ---- security: what a member account can make the bridge do ----


def member_custom_event(account: str, **detail: Any) -> dict[str, Any]:
    """The documented custom event as a member application puts it on the intake bus."""
    event = load_event(CUSTOM)
    event["account"] = account
    event["detail"] = {**event["detail"], "title": "Checkout is failing", **detail}
    return event


def test_a_member_cannot_choose_the_response_plan_routing_decides() -> None:
    # Given routes by account: the member's events go to payments; no route names the escalation plan
    bridge_config = config(
        routes=[{"name": "payments", "match": {"account": MEMBER}, "response_plan_arn": PAYMENTS_PLAN}]
    )
    bridge = Bridge(bridge_config, DryRunIncidentManager(), MemoryGroupStore())

    # When the member puts a custom event that names another plan (and an impact) in its detail
    event = member_custom_event(MEMBER, response_plan_arn=UNROUTED_PLAN, responsePlanArn=UNROUTED_PLAN, impact=1)
    outcome = bridge.handle(event)

    # Then the incident starts in the plan routing chose; the named plan is neither used nor grantable
    [start] = [call.params for call in outcome.calls if call.operation == "StartIncident"]
    assert outcome.kind is OutcomeKind.STARTED
    assert start["responsePlanArn"] == PAYMENTS_PLAN
    assert UNROUTED_PLAN not in bridge_config.response_plan_arns()


def test_custom_events_carry_their_real_account_and_routes_match_it() -> None:
    # Given a route for one member account only
    bridge_config = config(
        routes=[{"name": "payments", "match": {"account": MEMBER}, "response_plan_arn": PAYMENTS_PLAN}]
    )

    # When each member puts the same custom event (EventBridge writes each sender's account into `account`)
    own = routed(member_custom_event(MEMBER), bridge_config)
    other = routed(member_custom_event(OTHER_MEMBER), bridge_config)

    # Then each carries its sender's account, and only the routed member reaches the payments plan
    assert (own.signal.label("account"), other.signal.label("account")) == (MEMBER, OTHER_MEMBER)
    assert [d.response_plan_arn for d in own.routing.decisions] == [PAYMENTS_PLAN]
    assert [d.response_plan_arn for d in other.routing.decisions] == [PLAN_ARN]


def test_a_member_cannot_raise_a_silent_forwarder_incident_by_itself() -> None:
    # Given a member custom event that copies the source of the bridge's own silent-forwarder incidents
    event = member_custom_event(MEMBER)
    event["source"] = "incident-bridge.forwarder"

    # When it is parsed / Then it is refused (to the dead-letter queue): only the bridge raises those
    with pytest.raises(InvalidEvent, match=r"'incident-bridge\.forwarder' is reserved for the bridge's own incidents"):
        parse_event(event)
