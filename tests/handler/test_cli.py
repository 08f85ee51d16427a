"""`incident-bridge invoke` through `cli.main`, in process with capsys, plus two real processes for parity.

Isolation: the CLI writes its settings into `os.environ` and then imports `incident_bridge.handler`, whose
import is the cold start (settings, config, dry-run Incident Manager). Python caches that module, so a second
`main()` in one process would reuse the first cold start. The `run_cli` fixture therefore, before every call,
removes the CLI's environment variables and the cached handler module (from `sys.modules` and from the package
attribute that `from incident_bridge import handler` reads) through `monkeypatch`, which puts the original
values and module back after the test. Each call then behaves like a fresh `incident-bridge` process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import incident_bridge
from incident_bridge import cli
from incident_bridge.adapters.api_model import ensure_valid
from incident_bridge.errors import ConfigError
from tests.conftest import EVENTS_DIR, PLAN_ARN, load_event

REPO_ROOT = EVENTS_DIR.parent
# Every variable `cli._load_handler` sets or defaults.
CLI_ENVIRONMENT = (
    "INCIDENT_MANAGER_MODE",
    "BRIDGE_CONFIG_FILE",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "AWS_DEFAULT_REGION",
    "POWERTOOLS_TRACE_DISABLED",
    "POWERTOOLS_METRICS_DISABLED",
    "POWERTOOLS_LOG_LEVEL",
    "STATE_TABLE_NAME",
    "GROUPS_IN_MEMORY",
)
JSON_KEYS = {"event", "outcome", "reason", "calls"}
START_INCIDENT_KEYS = {"clientToken", "responsePlanArn", "title", "impact", "triggerDetails", "relatedItems"}

METRIC_ALARM = EVENTS_DIR / "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
CONFIG_CHANGE = EVENTS_DIR / "eventbridge-config-change-create-composite-awsdocs.json"
STEP_FUNCTIONS_FAILED = EVENTS_DIR / "eventbridge-stepfunctions-execution-FAILED-awsdocs.json"
# A payload the bridge does not understand: the CodeStar Notifications "processed" shape (no `detail-type`).
NOT_UNDERSTOOD = EVENTS_DIR / "codestar-notification-codepipeline-pipeline-FAILED-processed-awsdocs-bracefix.json"
CUSTOM_PLAN_ARN = "arn:aws:ssm-incidents::123456789012:response-plan/checkout-oncall"

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@dataclass(frozen=True)
class CliRun:
    exit_code: int
    stdout: str
    stderr: str

    def json_lines(self) -> list[dict[str, Any]]:
        lines = self.stdout.splitlines()
        documents = [json.loads(line) for line in lines]
        assert all(isinstance(document, dict) for document in documents), lines
        return documents


RunCli = Callable[..., CliRun]


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> RunCli:
    def run(*argv: str | Path) -> CliRun:
        for name in CLI_ENVIRONMENT:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.delitem(sys.modules, "incident_bridge.handler", raising=False)
        monkeypatch.delattr(incident_bridge, "handler", raising=False)
        capsys.readouterr()
        exit_code = cli.main([str(arg) for arg in argv])
        captured = capsys.readouterr()
        return CliRun(exit_code, captured.out, captured.err)

    return run


def as_request(params: dict[str, Any]) -> dict[str, Any]:
    """The printed params with the ISO timestamp turned back into the datetime boto3 is given."""
    trigger = {**params["triggerDetails"], "timestamp": datetime.fromisoformat(params["triggerDetails"]["timestamp"])}
    return {**params, "triggerDetails": trigger}


def write_variant(directory: Path, name: str, document: dict[str, Any]) -> Path:
    path = directory / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


# ---- --json ----


def test_invoke_json_prints_one_object_per_event_with_the_boto3_kwargs(run_cli: RunCli) -> None:
    # Given an alarm entering ALARM, a configuration change and a payload the bridge does not understand
    events = [METRIC_ALARM, CONFIG_CHANGE, NOT_UNDERSTOOD]

    # When they are invoked with --json
    result = run_cli("invoke", "--json", *events)

    # Then there is one JSON object per event, in order, with exactly the documented keys (exit 1: one rejected)
    assert result.exit_code == 1
    documents = result.json_lines()
    assert [document["event"] for document in documents] == [str(path) for path in events]
    assert all(set(document) == JSON_KEYS for document in documents)
    assert [document["outcome"] for document in documents] == ["started", "ignored", "rejected"]
    assert documents[1]["calls"] == documents[2]["calls"] == []
    # And the started one carries the StartIncident kwargs, the timestamp as ISO-8601
    [call] = documents[0]["calls"]
    assert call["operation"] == "StartIncident"
    params = call["params"]
    assert set(params) == START_INCIDENT_KEYS
    assert params["responsePlanArn"] == PLAN_ARN
    assert params["impact"] == 3
    assert params["title"] == "ServerCpuTooHigh is in ALARM (123456789012, us-east-1)"
    assert params["triggerDetails"]["timestamp"] == "2019-10-02T17:04:40.989000+00:00"
    assert datetime.fromisoformat(params["triggerDetails"]["timestamp"]) == datetime(
        2019, 10, 2, 17, 4, 40, 989000, tzinfo=UTC
    )
    ensure_valid("StartIncident", as_request(params))


def test_invoke_outcomes_for_a_mix_of_sample_files(run_cli: RunCli, tmp_path: Path) -> None:
    # Given published samples of each kind, and the metric alarm copied with only its new state changed to OK
    ok_variant = load_event(METRIC_ALARM.name)
    ok_variant["detail"]["state"]["value"] = "OK"
    expected = {
        METRIC_ALARM: "started",
        EVENTS_DIR / "eventbridge-metric-math-alarm-ALARM-from-INSUFFICIENT_DATA-ec2-network-awsdocs.json": "started",
        EVENTS_DIR / "lambda-action-metric-alarm-ALARM-from-INSUFFICIENT_DATA-aws-lambda-java-libs.json": "started",
        write_variant(tmp_path, "metric-alarm-OK.json", ok_variant): "ignored",
        CONFIG_CHANGE: "ignored",
        # A configuration change whose state.value is ALARM must not open an incident.
        EVENTS_DIR / "eventbridge-config-change-update-composite-state-ALARM-suppressed-awsdocs.json": "ignored",
        STEP_FUNCTIONS_FAILED: "ignored",  # its profile is not enabled in the bundled configuration
        EVENTS_DIR / "custom-app-eventbridge-PaymentCreated-no-resources-powertools.json": "rejected",
        EVENTS_DIR / "codestar-notification-codepipeline-pipeline-FAILED-processed-awsdocs-bracefix.json": "rejected",
    }

    # When they are invoked together
    result = run_cli("invoke", "--json", *expected)

    # Then each gets its expected outcome, and only started ones carry a call (exit 1: some are rejected)
    assert result.exit_code == 1
    outcomes = {Path(document["event"]): document["outcome"] for document in result.json_lines()}
    assert outcomes == expected
    for document in result.json_lines():
        assert len(document["calls"]) == (1 if document["outcome"] == "started" else 0)
        assert document["reason"]


def test_every_request_printed_for_the_sample_events_passes_the_full_model(run_cli: RunCli) -> None:
    # Given every published sample event
    events = sorted(EVENTS_DIR.glob("*.json"))

    # When they are all invoked with --json
    result = run_cli("invoke", "--json", *events)

    # Then one line per event, and every StartIncident printed is valid against botocore's full model (exit 1: some
    # samples are not payloads the bridge accepts)
    assert result.exit_code == 1
    documents = result.json_lines()
    assert len(documents) == len(events)
    calls = [call for document in documents for call in document["calls"]]
    assert len(calls) >= 5
    for call in calls:
        assert call["operation"] == "StartIncident"
        ensure_valid("StartIncident", as_request(call["params"]))


# ---- table ----


def test_default_output_is_a_table_with_a_header_one_row_per_event_and_a_summary(run_cli: RunCli) -> None:
    # Given three events with three different outcomes
    events = [METRIC_ALARM, CONFIG_CHANGE, NOT_UNDERSTOOD]

    # When they are invoked without --json
    result = run_cli("invoke", *events)

    # Then a header naming the events' directory, one row per event in order (the started one followed by its
    # incident's ARN), a blank line and a summary are printed (exit 1: one rejected)
    assert result.exit_code == 1
    header, started, incident, ignored, rejected, blank, summary = result.stdout.splitlines()
    assert header.split() == ["EVENT", "(in", f"{EVENTS_DIR}/)", "OUTCOME", "PLAN", "IMPACT", "TITLE", "/", "REASON"]
    assert [row.split()[:2] for row in (started, ignored, rejected)] == [
        [METRIC_ALARM.name, "started"],
        [CONFIG_CHANGE.name, "ignored"],
        [NOT_UNDERSTOOD.name, "rejected"],
    ]
    assert started.split()[2:4] == ["MyPlan", "3"]
    assert started.endswith("ServerCpuTooHigh is in ALARM (123456789012, us-east-1)")
    # And the incident's ARN sits under the title
    assert incident.split() == ["incident", incident.split()[1]]
    assert incident.split()[1].startswith("arn:aws:ssm-incidents::123456789012:incident-record/MyPlan/")
    assert incident.index("incident") == started.index("ServerCpuTooHigh")
    assert "unrecognized payload" in rejected
    assert blank == ""
    assert summary == "1 started, 1 ignored, 1 rejected"


def test_the_table_shows_full_event_names_whatever_their_length(run_cli: RunCli, tmp_path: Path) -> None:
    # Given the EC2 alarm under a 100-character file name, in another directory than a sample
    long_name = "a-very-long-scenario-file-name-that-says-exactly-what-happens-" + "x" * 33 + ".json"
    copy = tmp_path / long_name
    copy.write_text(METRIC_ALARM.read_text(encoding="utf-8"), encoding="utf-8")

    # When both are invoked
    result = run_cli("invoke", copy, CONFIG_CHANGE)

    # Then each row names its file whole, relative to the directory the two share
    rows = result.stdout.splitlines()
    common = os.path.commonpath([str(tmp_path), str(EVENTS_DIR)])
    assert rows[0].startswith(f"EVENT (in {common}/)")
    assert rows[1].startswith(f"{copy.relative_to(common)}  ")
    assert rows[3].startswith(f"{CONFIG_CHANGE.relative_to(common)}  ")


def test_the_table_is_plain_in_a_pipe_and_coloured_on_a_terminal(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the same event, invoked in a pipe and then with a terminal (FORCE_COLOR stands in for one)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    plain = run_cli("invoke", METRIC_ALARM).stdout
    monkeypatch.setenv("FORCE_COLOR", "1")
    coloured = run_cli("invoke", METRIC_ALARM).stdout

    # Then only the terminal gets colours: the outcome in the started colour, the header in bold
    assert "\033[" not in plain
    assert "\033[31;1mstarted\033[0m" in coloured
    assert coloured.startswith("\033[1mEVENT")


# ---- --config ----


@pytest.mark.parametrize(
    ("file_name", "text"),
    [
        ("bridge.yaml", f"default:\n  response_plan_arn: {CUSTOM_PLAN_ARN}\n  impact: 1\n"),
        ("bridge.json", json.dumps({"default": {"response_plan_arn": CUSTOM_PLAN_ARN, "impact": 1}})),
    ],
)
def test_config_with_a_custom_plan_changes_the_request(
    run_cli: RunCli, tmp_path: Path, file_name: str, text: str
) -> None:
    # Given a configuration file naming another response plan and impact
    config_file = tmp_path / file_name
    config_file.write_text(text, encoding="utf-8")

    # When an alarm is invoked with --config
    result = run_cli("invoke", "--json", "--config", config_file, METRIC_ALARM)

    # Then the request goes to that plan at that impact
    [document] = result.json_lines()
    params = document["calls"][0]["params"]
    assert (params["responsePlanArn"], params["impact"]) == (CUSTOM_PLAN_ARN, 1)
    assert CUSTOM_PLAN_ARN in document["reason"]


def test_each_invocation_gets_its_own_cold_start(run_cli: RunCli, tmp_path: Path) -> None:
    # Given one run with a custom plan
    config_file = tmp_path / "bridge.yaml"
    config_file.write_text(f"default:\n  response_plan_arn: {CUSTOM_PLAN_ARN}\n", encoding="utf-8")
    custom = run_cli("invoke", "--json", "--config", config_file, METRIC_ALARM)

    # When the next run gives no --config
    default = run_cli("invoke", "--json", METRIC_ALARM)

    # Then the second run uses the bundled plan, not the first run's (the fixture isolates runs)
    plans = [run.json_lines()[0]["calls"][0]["params"]["responsePlanArn"] for run in (custom, default)]
    assert plans == [CUSTOM_PLAN_ARN, PLAN_ARN]


def test_missing_config_file_exits_2_naming_the_file(run_cli: RunCli, tmp_path: Path) -> None:
    # Given a --config path that does not exist
    missing = tmp_path / "no-such-bridge.yaml"

    # When an event is invoked with it
    result = run_cli("invoke", "--json", "--config", missing, METRIC_ALARM)

    # Then it is a usage error (exit 2) printed with invoke's usage, naming the file, and no result is printed
    assert result.exit_code == 2
    assert result.stderr.startswith("usage: incident-bridge invoke ")
    assert result.stderr.endswith(f"incident-bridge invoke: error: configuration file {missing}: no such file\n")
    assert result.stdout == ""


# ---- real processes ----


def run_process(command: Sequence[str], home: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "PYTHONPATH": "lambdas",
        "AWS_CONFIG_FILE": str(home / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return subprocess.run(
        command, cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False
    )


def test_python_dash_m_and_the_console_script_print_the_same_json(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given the same events, named relative to the repository root
    events = [str(path.relative_to(REPO_ROOT)) for path in (METRIC_ALARM, CONFIG_CHANGE, NOT_UNDERSTOOD)]
    console_script = REPO_ROOT / ".venv" / "bin" / "incident-bridge"

    # When they are invoked by `python -m incident_bridge` and by the installed console script
    module_run = run_process([sys.executable, "-m", "incident_bridge", "invoke", "--json", *events], tmp_path)
    script_run = run_process([str(console_script), "invoke", "--json", *events], tmp_path)

    # Then both exit 1 (one event is rejected) with identical output: three JSON lines, matching the in-process CLI
    assert (module_run.returncode, script_run.returncode) == (1, 1), module_run.stderr + script_run.stderr
    assert module_run.stdout == script_run.stdout
    lines = [json.loads(line) for line in module_run.stdout.splitlines()]
    assert [line["outcome"] for line in lines] == ["started", "ignored", "rejected"]
    monkeypatch.chdir(REPO_ROOT)
    assert run_cli("invoke", "--json", *events).stdout == module_run.stdout


def test_live_runs_without_a_table_keep_groups_in_memory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Given the environment `invoke --live` sets when no --state-table is given (no AWS call is made here)
    from incident_bridge.adapters.incident_manager import Boto3IncidentManager
    from incident_bridge.adapters.memory_groups import MemoryGroupStore
    from incident_bridge.recording import RecordingIncidentManager
    from incident_bridge.runtime import Runtime
    from incident_bridge.settings import Settings

    config = tmp_path / "bridge.yaml"
    config.write_text(f"default:\n  response_plan_arn: {PLAN_ARN}\n", encoding="utf-8")
    environment = {"INCIDENT_MANAGER_MODE": "live", "GROUPS_IN_MEMORY": "true", "BRIDGE_CONFIG_FILE": str(config)}

    # When the runtime is built from it
    runtime = Runtime.from_settings(Settings.from_environment(environment))

    # Then Incident Manager is the live client and the groups live in memory for this run
    lifecycle = runtime.bridge._lifecycle
    recorder = lifecycle._incidents
    assert isinstance(recorder, RecordingIncidentManager)  # calls are recorded at the port
    assert isinstance(recorder.inner, Boto3IncidentManager)
    assert isinstance(lifecycle._groups, MemoryGroupStore)


def test_live_runs_need_a_table_or_memory(tmp_path: Path) -> None:
    # Given a live environment naming neither a table nor in-memory groups (a misconfigured function)
    from incident_bridge.runtime import Runtime
    from incident_bridge.settings import Settings

    config = tmp_path / "bridge.yaml"
    config.write_text(f"default:\n  response_plan_arn: {PLAN_ARN}\n", encoding="utf-8")
    environment = {"INCIDENT_MANAGER_MODE": "live", "BRIDGE_CONFIG_FILE": str(config)}

    # When the runtime is built / Then the error names the missing variable
    with pytest.raises(ConfigError, match="STATE_TABLE_NAME"):
        Runtime.from_settings(Settings.from_environment(environment))
