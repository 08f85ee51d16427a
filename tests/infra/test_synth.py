"""`cdk synth` with the pinned CLI, as `make synth` and a deploy run it: the template, cfn-lint, the cdk-nag report."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.asset import bytecode_interpreter
from tests.conftest import PLAN_ARN
from tests.infra.conftest import MAIN_DIR, STACK_NAME, cfn_lint

pytestmark = pytest.mark.synth

SYNTH_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Synth:
    result: subprocess.CompletedProcess[str]
    outdir: Path

    @property
    def template_file(self) -> Path:
        return self.outdir / f"{STACK_NAME}.template.json"


def run_cdk_synth(outdir: Path, *context: str) -> Synth:
    npx = shutil.which("npx")
    assert npx, "npx (Node.js) is needed to run the pinned CDK CLI"
    # As on a fresh clone outside `make`: no jsii silencing variables (the app sets its own), no network check.
    env = {name: value for name, value in os.environ.items() if not name.startswith("JSII_SILENCE_WARNING_")}
    env["CDK_DISABLE_VERSION_CHECK"] = "1"
    # Run from the project directory: cdk.json there names the app and `npx` finds the pinned CLI in node_modules.
    arguments = [npx, "--no-install", "cdk", "synth", "-q", "-o", str(outdir)]
    for item in context:
        arguments += ["-c", item]
    result = subprocess.run(
        arguments, cwd=MAIN_DIR, env=env, capture_output=True, text=True, timeout=SYNTH_TIMEOUT_SECONDS, check=False
    )
    return Synth(result=result, outdir=outdir)


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return run_cdk_synth(tmp_path_factory.mktemp("synth") / "cdk.out", f"responsePlanArn={PLAN_ARN}")


@pytest.fixture(scope="module")
def template(synth: Synth) -> dict[str, Any]:
    assert synth.result.returncode == 0, synth.result.stderr
    document: dict[str, Any] = json.loads(synth.template_file.read_text(encoding="utf-8"))
    return document


def test_synth_with_a_response_plan_succeeds_and_writes_the_template(synth: Synth) -> None:
    # Given `cdk synth -q -c responsePlanArn=...` run with the pinned CLI (fixture)

    # When we look at its exit code and output directory
    result = synth.result

    # Then it succeeded and wrote the stack's template
    assert result.returncode == 0, result.stderr
    assert synth.template_file.is_file()
    # And jsii's Node end-of-life banner, relayed as Python byte literals, is not in its output
    assert "b'!!" not in result.stderr
    assert "end-of-life" not in result.stderr + result.stdout


def test_template_passes_cfn_lint(synth: Synth, template: dict[str, Any]) -> None:
    # Given the synthesized template
    assert template["Resources"]

    # When cfn-lint checks it
    lint = cfn_lint(synth.template_file)
    findings = lint.findings

    # Then its only finding is W3005 on the function's DependsOn on its own role. CDK always writes that DependsOn
    # (aws-lambda's Function adds it so the role exists before the function; it cannot be turned off), while the
    # Fn::GetAtt of the role in Properties.Role already implies it. Harmless, and not ours to change, so exactly
    # that one finding is tolerated: anything else, including W3005 elsewhere, fails.
    assert lint.returncode in (0, 4), lint.stderr  # 4 = warnings only (cfn-lint's exit-code bit flags)
    functions = [key for key, value in template["Resources"].items() if value["Type"] == "AWS::Lambda::Function"]
    role_id = template["Resources"][functions[0]]["Properties"]["Role"]["Fn::GetAtt"][0]
    unexpected = [
        finding
        for finding in findings
        if not (
            finding["Rule"]["Id"] == "W3005"
            and finding["Location"]["Path"][:3] == ["Resources", functions[0], "DependsOn"]
            and f"'{role_id}'" in finding["Message"]
        )
    ]
    assert unexpected == []


def test_cdk_nag_report_has_no_non_compliant_rule_and_every_suppression_has_a_reason(synth: Synth) -> None:
    # Given the report cdk-nag writes into the cloud assembly during the synth
    assert synth.result.returncode == 0, synth.result.stderr
    reports = list(synth.outdir.glob(f"AwsSolutions-*{STACK_NAME}-NagReport.csv"))
    assert len(reports) == 1, sorted(path.name for path in synth.outdir.iterdir())

    # When we read its rows
    with reports[0].open(encoding="utf-8", newline="") as report:
        rows = list(csv.DictReader(report))

    # Then rules were checked, none is non-compliant, and each suppressed one says why
    assert rows
    assert {row["Compliance"] for row in rows} <= {"Compliant", "Suppressed"}
    assert [row for row in rows if row["Compliance"] == "Non-Compliant"] == []
    suppressed = [row for row in rows if row["Compliance"] == "Suppressed"]
    assert suppressed
    for row in suppressed:
        reason = row["Exception Reason"].strip()
        assert reason
        assert reason != "N/A"
        # cdk-nag prefixes a reason with the findings it covers ("[Resource::*] ..."); there must be words after it.
        assert reason.split("]")[-1].strip(), row


def test_function_asset_holds_the_package_and_the_validated_configuration(
    template: dict[str, Any], synth: Synth
) -> None:
    # Given the cloud assembly's asset manifest
    assets = json.loads((synth.outdir / f"{STACK_NAME}.assets.json").read_text(encoding="utf-8"))
    directories = [
        synth.outdir / asset["source"]["path"] for asset in assets["files"].values() if asset["source"]["path"]
    ]
    code_dirs = [path for path in directories if (path / "bridge_config.json").is_file()]

    # When we open the function's code asset
    assert len(code_dirs) == 1, directories
    code = code_dirs[0]
    config = json.loads((code / "bridge_config.json").read_text(encoding="utf-8"))

    # Then it has the handler module, only what runs in Lambda, and the configuration with the plan from context
    assert (code / "incident_bridge" / "handler.py").is_file()
    assert not (code / "incident_bridge" / "cli").exists()
    assert config["default"]["response_plan_arn"] == PLAN_ARN
    # and bytecode only for the runtime's Python (none left over from the interpreter that ran the synth): for
    # every module when that Python was found to compile it, else none
    compiled = {path.relative_to(code) for path in code.rglob("*.pyc")}
    expected = {
        (module.parent / "__pycache__" / f"{module.stem}.cpython-313.pyc").relative_to(code)
        for module in code.rglob("*.py")
    }
    assert compiled == (expected if bytecode_interpreter() is not None else set())


def test_synth_without_a_response_plan_fails_naming_the_context_key(tmp_path: Path) -> None:
    # Given no responsePlanArn in the context (cdk.json has none either)

    # When `cdk synth` runs
    failed = run_cdk_synth(tmp_path / "cdk.out")

    # Then it fails before writing a template, and says which context key is missing
    assert failed.result.returncode != 0
    assert "responsePlanArn" in failed.result.stderr
    assert not failed.template_file.exists()


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        pytest.param(
            "tracng=off",
            "unknown context key 'tracng' ('tracng': did you mean 'tracing'?); the bridge's context keys are: "
            "bridgeConfig, forwardAwsEvents, intakeAccounts, intakeBusArn, organizationId, powertoolsLayerArn, "
            "responsePlanArn, tracing",
            id="unknown-key",
        ),
        pytest.param(
            "powertoolsLayerArn=AWSLambdaPowertoolsPythonV3-python313-x86_64:27",
            "powertoolsLayerArn: 'AWSLambdaPowertoolsPythonV3-python313-x86_64:27' is not a Lambda layer version ARN",
            id="layer-not-an-arn",
        ),
    ],
)
def test_synth_fails_on_a_context_key_it_cannot_use(context: str, expected: str, tmp_path: Path) -> None:
    # Given a valid response plan and one context value the bridge cannot use, given as `-c` on the command line

    # When `cdk synth` runs
    failed = run_cdk_synth(tmp_path / "cdk.out", f"responsePlanArn={PLAN_ARN}", context)

    # Then it fails before writing a template, and says which key and why
    assert failed.result.returncode != 0
    assert expected in failed.result.stderr
    assert not failed.template_file.exists()
