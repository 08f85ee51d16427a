"""The stack gives each container its fixed share of Incident Manager's request rate (incident_bridge/budget.py)."""

from __future__ import annotations

from infra.bridge_function import INCIDENT_MANAGER_RATE, MAX_CONCURRENCY, request_budget_share
from tests.infra.conftest import SynthesizedStack, only


def test_each_poller_gets_the_rate_divided_by_the_event_sources_maximum_concurrency(
    default_stack: SynthesizedStack,
) -> None:
    # Given the event source mapping's maximum concurrency (one container per concurrent invocation)
    (_, mapping) = only(default_stack.resources("AWS::Lambda::EventSourceMapping"))
    pollers = mapping["Properties"]["ScalingConfig"]["MaximumConcurrency"]

    # When we read the function's environment
    _, function = only(default_stack.resources("AWS::Lambda::Function"))
    share = float(function["Properties"]["Environment"]["Variables"]["REQUEST_BUDGET_PER_SECOND"])

    # Then the pollers' shares add up to the rate, never more
    assert pollers == MAX_CONCURRENCY
    assert share == request_budget_share() == INCIDENT_MANAGER_RATE / pollers
    assert share * pollers == INCIDENT_MANAGER_RATE
