"""The Tracer: X-Ray SDK tracing by Powertools' rule, and no SDK import when it is off."""

from __future__ import annotations

import pytest

from incident_bridge.tracing import UntracedProvider, build_tracer, xray_sdk_enabled
from tests.conftest import LAMBDAS_DIR, run_fresh_interpreter


@pytest.mark.parametrize(
    ("environ", "enabled"),
    [
        pytest.param({"LAMBDA_TASK_ROOT": "/var/task"}, True, id="in-lambda"),
        pytest.param({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"}, True, id="sdk-mode"),
        pytest.param({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False, id="disabled"),
        pytest.param({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "1"}, False, id="disabled-1"),
        pytest.param({}, False, id="outside-lambda"),
        pytest.param({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, False, id="sam-local"),
        pytest.param({"LAMBDA_TASK_ROOT": "/var/task", "AWS_CHALICE_CLI_MODE": "true"}, False, id="chalice-local"),
    ],
)
def test_xray_sdk_follows_powertools_rule(environ: dict[str, str], enabled: bool) -> None:
    # Given an environment / When asked whether the X-Ray SDK traces / Then Powertools' own rule decides
    assert xray_sdk_enabled(environ) is enabled


def test_untraced_tracer_passes_results_and_errors_through() -> None:
    # Given the tracer built with the X-Ray SDK off, decorating two handlers
    tracer = build_tracer({"POWERTOOLS_TRACE_DISABLED": "true"})

    @tracer.capture_lambda_handler(capture_response=False)
    def answers(event: dict[str, str], context: object) -> dict[str, str]:
        return {"echo": event["value"]}

    @tracer.capture_lambda_handler
    def fails(event: dict[str, str], context: object) -> None:
        raise RuntimeError("boom")

    # When both are called
    answered = answers({"value": "x"}, None)
    with pytest.raises(RuntimeError, match="boom"):
        fails({}, None)

    # Then the tracer is disabled, records through the do-nothing provider, and changes nothing
    assert tracer.disabled is True
    assert isinstance(tracer.provider, UntracedProvider)
    assert answered == {"echo": "x"}


def _modules_after_handler_import(trace_disabled: str) -> dict[str, bool]:
    script = (
        "import json, sys\n"
        "import incident_bridge.handler as handler\n"
        "print(json.dumps({'sdk': 'aws_xray_sdk.core' in sys.modules,\n"
        "                  'botocore_patched': 'aws_xray_sdk.ext.botocore.patch' in sys.modules,\n"
        "                  'disabled': handler.tracer.disabled}))\n"
    )
    loaded: dict[str, bool] = run_fresh_interpreter(
        script,
        LAMBDA_TASK_ROOT=str(LAMBDAS_DIR),  # what makes Powertools trace: inside Lambda
        AWS_XRAY_CONTEXT_MISSING="LOG_ERROR",
        POWERTOOLS_TRACE_DISABLED=trace_disabled,
    )
    return loaded


def test_cold_start_without_sdk_tracing_never_imports_the_xray_sdk() -> None:
    # Given the environment the stack deploys by default (tracing=active: POWERTOOLS_TRACE_DISABLED=true)
    # When the handler module is imported in a fresh interpreter, as at a cold start
    loaded = _modules_after_handler_import("true")

    # Then the tracer is off and the X-Ray SDK was not imported at all
    assert loaded == {"sdk": False, "botocore_patched": False, "disabled": True}


def test_cold_start_with_sdk_tracing_patches_botocore() -> None:
    # Given the environment of tracing=sdk (POWERTOOLS_TRACE_DISABLED=false) inside Lambda
    # When the handler module is imported in a fresh interpreter
    loaded = _modules_after_handler_import("false")

    # Then the tracer is on and has patched botocore, so every AWS call gets a subsegment
    assert loaded == {"sdk": True, "botocore_patched": True, "disabled": False}
