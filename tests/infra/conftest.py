"""Builds the stack in-process, as `app.py` does, so Template and Annotations assertions see what `cdk synth` sees.

Synthesis takes seconds (jsii starts a Node process, the asset is staged), so the stack built from the default
context is shared by the whole session; tests that need other context build their own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

# jsii prints a banner about Node 20's end of life on every start; the Makefile silences it the same way.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "20")

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from infra.settings import CONTEXT_KEYS, RESPONSE_PLAN_ARN_KEY, deploy_settings
from infra.stack import IncidentBridgeStack
from tests.conftest import PLAN_ARN

MAIN_DIR = Path(__file__).resolve().parent.parent.parent
STACK_NAME = "IncidentBridge"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"


class CfnLint(NamedTuple):
    #: cfn-lint's exit code: bit flags, 0 for nothing found, 4 for warnings only.
    returncode: int
    findings: list[dict[str, Any]]
    stderr: str


def cfn_lint(template_file: Path, *, ignore_checks: tuple[str, ...] = ()) -> CfnLint:
    """cfn-lint's findings on one template file (its JSON output), with the given checks left out."""
    ignored = ["--ignore-checks", *ignore_checks] if ignore_checks else []
    lint = subprocess.run(
        [str(CFN_LINT), "--format", "json", *ignored, "--", str(template_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return CfnLint(lint.returncode, json.loads(lint.stdout or "[]"), lint.stderr)


@dataclass(frozen=True)
class SynthesizedStack:
    stack: IncidentBridgeStack
    template: Template
    outdir: Path

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Logical id -> resource, for every resource of `resource_type`."""
        return {
            logical_id: dict(resource) for logical_id, resource in self.template.find_resources(resource_type).items()
        }


def synthesize(context: Mapping[str, Any], outdir: Path, *, nag: bool = True) -> SynthesizedStack:
    """The stack `app.py` builds from this CDK context, with the cdk-nag AwsSolutions pack as an Aspect."""
    app = cdk.App(outdir=str(outdir))
    settings = deploy_settings({key: context.get(key) for key in CONTEXT_KEYS})
    stack = IncidentBridgeStack(app, STACK_NAME, settings=settings)
    if nag:
        cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    # Template.from_stack synthesizes the app, which runs the Aspects (and so cdk-nag) first.
    return SynthesizedStack(stack=stack, template=Template.from_stack(stack), outdir=outdir)


@pytest.fixture(scope="session")
def default_stack(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedStack:
    """The stack as `make synth` deploys it: one response plan given as context."""
    return synthesize({RESPONSE_PLAN_ARN_KEY: PLAN_ARN}, tmp_path_factory.mktemp("cdk.out"))


# ---- template helpers shared by the infra tests ----


def only(resources: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    assert len(resources) == 1, f"expected exactly one resource, found {sorted(resources)}"
    return next(iter(resources.items()))


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def get_att_arn(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def iam_statements(node: Any) -> Iterator[dict[str, Any]]:
    """Every policy statement anywhere in the template: identity and resource policies, inline or not."""
    if isinstance(node, dict):
        if "Effect" in node and ("Action" in node or "NotAction" in node):
            yield node
        for value in node.values():
            yield from iam_statements(value)
    elif isinstance(node, list):
        for value in node:
            yield from iam_statements(value)
