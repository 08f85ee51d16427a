"""The runtime's retry timing needs two things from the stack: the source queue (to give each retried record its own
backoff with ChangeMessageVisibility) and the redrive policy's maxReceiveCount (to dead-letter a record with its
reason on its last receive, before the redrive policy moves it without one)."""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import SynthesizedStack, as_list, only
from tests.infra.test_stack import queues


def statements(synthesized: SynthesizedStack) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def actions(statement: dict[str, Any]) -> list[str]:
    return as_list(statement["Action"])


def test_the_function_knows_its_queue_and_the_redrive_policys_receive_count(default_stack: SynthesizedStack) -> None:
    # Given the event queue and its redrive policy
    (event_queue_id, event_queue), _ = queues(default_stack)

    # When we read the function's environment
    _, function = only(default_stack.resources("AWS::Lambda::Function"))
    variables = function["Properties"]["Environment"]["Variables"]

    # Then it names the event queue (Ref of a queue is its URL) and the same maxReceiveCount as the redrive policy
    assert variables["EVENT_QUEUE_URL"] == {"Ref": event_queue_id}
    assert variables["MAX_RECEIVE_COUNT"] == str(event_queue["Properties"]["RedrivePolicy"]["maxReceiveCount"])


def test_the_function_may_change_the_visibility_of_messages_on_its_queue_only(default_stack: SynthesizedStack) -> None:
    # Given the event queue
    (event_queue_id, _), (dead_letter_id, _) = queues(default_stack)

    # When we collect the statements granting sqs:ChangeMessageVisibility
    granting = [s for s in statements(default_stack) if "sqs:ChangeMessageVisibility" in actions(s)]

    # Then exactly the event queue is their resource (the event source mapping's consume grant), not the DLQ
    assert granting
    resources = [s["Resource"] for s in granting]
    assert all(resource == {"Fn::GetAtt": [event_queue_id, "Arn"]} for resource in resources), resources
    assert all(dead_letter_id not in str(resource) for resource in resources)
