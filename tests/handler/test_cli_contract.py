"""The CLI's contract with scripts and people: exit codes, usage errors, `--version`, help, and errors that say
what is wrong and what to do. Runs `cli.main` in process (isolated as tests/handler/test_cli.py describes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from incident_bridge import __version__, cli
from tests.conftest import EVENTS_DIR, PLAN_ARN, load_event
from tests.handler.test_cli import RunCli, run_cli

__all__ = ["run_cli"]  # the fixture, imported for pytest

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

METRIC_ALARM = EVENTS_DIR / "eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
SUPPRESSED_COMPOSITE = EVENTS_DIR / "eventbridge-composite-alarm-ALARM-suppressed-waitperiod-awsdocs.json"
NOT_UNDERSTOOD = EVENTS_DIR / "codestar-notification-codepipeline-pipeline-FAILED-processed-awsdocs-bracefix.json"
#: No credentials and no region anywhere boto3 looks: environment, shared files, instance metadata.
NO_AWS = {
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
    "AWS_CONFIG_FILE": "/nonexistent/config",
    "AWS_EC2_METADATA_DISABLED": "true",
}
AWS_VARIABLES = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
)  # fmt: skip


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in NO_AWS.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


# ---- exit codes ----


def test_exit_0_when_every_event_is_processed_and_none_rejected(run_cli: RunCli) -> None:
    # Given an alarm that starts an incident and a suppressed composite that is ignored
    # When they are invoked
    result = run_cli("invoke", "--json", METRIC_ALARM, SUPPRESSED_COMPOSITE)

    # Then nothing was rejected, and the exit code is 0
    assert [line["outcome"] for line in result.json_lines()] == ["started", "ignored"]
    assert result.exit_code == 0


def test_exit_1_when_some_event_is_rejected(run_cli: RunCli) -> None:
    # Given an alarm and an event the bridge does not accept
    # When they are invoked
    result = run_cli("invoke", "--json", METRIC_ALARM, NOT_UNDERSTOOD)

    # Then the alarm is still processed, and the exit code says one was rejected
    assert [line["outcome"] for line in result.json_lines()] == ["started", "rejected"]
    assert result.exit_code == 1


def test_exit_1_when_the_configuration_is_invalid(run_cli: RunCli, tmp_path: Path) -> None:
    # Given a configuration whose impact is out of range
    config = write(tmp_path / "bridge.yaml", f"default:\n  response_plan_arn: {PLAN_ARN}\n  impact: 6\n")

    # When an event is invoked with it
    result = run_cli("invoke", "--config", config, METRIC_ALARM)

    # Then the configuration error is printed and the exit code is 1
    assert result.exit_code == 1
    assert (
        result.stderr == f"incident-bridge: configuration error: {config}: default.impact: must be at most 5, got 6\n"
    )
    assert result.stdout == ""


def test_exit_2_for_a_missing_event_file_with_invokes_usage(run_cli: RunCli, tmp_path: Path) -> None:
    # Given an event file that does not exist, after one that does
    missing = tmp_path / "no-such-event.json"

    # When they are invoked
    result = run_cli("invoke", METRIC_ALARM, missing)

    # Then nothing runs: a usage error, with invoke's own usage, naming the file
    assert result.exit_code == 2
    assert result.stdout == ""
    usage, error = result.stderr.strip().rsplit("\n", 1)
    assert usage.startswith("usage: incident-bridge invoke [-h]")
    assert error == f"incident-bridge invoke: error: event file {missing}: no such file"


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        pytest.param(["invoke"], "usage: incident-bridge invoke ", id="invoke-without-files"),
        pytest.param(["routes", "test"], "usage: incident-bridge routes test ", id="routes-test-without-file"),
        pytest.param(["config", "check", "a", "b"], "usage: incident-bridge ", id="config-check-two-files"),
        pytest.param(["invoke", "--jsn", "x.json"], "usage: incident-bridge ", id="unknown-option"),
        pytest.param(["nonsense"], "usage: incident-bridge ", id="unknown-command"),
    ],
)
def test_exit_2_for_bad_arguments(argv: list[str], usage: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Given arguments a command cannot take / When the CLI runs
    exit_code = cli.main(argv)

    # Then it is a usage error, printed with the usage of the (sub)command
    assert exit_code == 2
    assert capsys.readouterr().err.startswith(usage)


def test_exit_2_for_a_missing_event_file_in_routes_test(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given / When routes test is given a file that does not exist
    missing = tmp_path / "missing.json"
    exit_code = cli.main(["routes", "test", str(missing)])

    # Then it is a usage error with routes test's usage
    assert exit_code == 2
    assert capsys.readouterr().err.splitlines() == [
        "usage: incident-bridge routes test [-h] [--config CONFIG] EVENT_FILE",
        f"incident-bridge routes test: error: event file {missing}: no such file",
    ]


def test_state_table_without_live_is_a_usage_error(run_cli: RunCli) -> None:
    # Given / When --state-table is given to a dry run
    result = run_cli("invoke", "--state-table", "groups", METRIC_ALARM)

    # Then it is refused before anything runs
    assert result.exit_code == 2
    assert result.stderr.endswith("error: --state-table needs --live (a dry run keeps its groups in memory)\n")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    # Given / When --version
    exit_code = cli.main(["--version"])

    # Then the package version is printed
    assert exit_code == 0
    assert capsys.readouterr().out == f"incident-bridge {__version__}\n"
    assert __version__ == "0.1.0"


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["invoke", "--help"], ["routes", "test", "--help"], ["config", "check", "--help"]],
    ids=["top", "invoke", "routes-test", "config-check"],
)
def test_help_shows_examples_and_the_exit_codes_without_markdown(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given / When a command's help
    exit_code = cli.main(argv)

    # Then it has examples, documents the three exit codes, and holds no markdown
    help_text = capsys.readouterr().out
    assert exit_code == 0
    assert "\nexamples:\n  incident-bridge " in help_text
    assert "exit codes:\n  0  every event processed and none rejected; the configuration valid\n" in help_text
    assert "\n  1  some event rejected; the configuration invalid\n" in help_text
    assert "\n  2  usage error: bad arguments, a file that cannot be read" in help_text
    assert "`" not in help_text
    assert "**" not in help_text


# ---- errors that say what to do ----


def test_live_without_credentials_says_so_and_how_to_set_them(run_cli: RunCli, no_aws: pytest.MonkeyPatch) -> None:
    # Given no AWS credentials anywhere
    # When a live invoke runs
    result = run_cli("invoke", "--live", METRIC_ALARM)

    # Then nothing is processed, and the message names the problem and the ways to fix it
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "incident-bridge invoke: no AWS credentials found; --live calls the real Incident Manager API. Set "
        "AWS_PROFILE to a profile of ~/.aws/config (after 'aws configure' or 'aws sso login'), or AWS_ACCESS_KEY_ID "
        "and AWS_SECRET_ACCESS_KEY.\n"
    )


def test_live_without_a_region_says_so_and_how_to_set_it(run_cli: RunCli, no_aws: pytest.MonkeyPatch) -> None:
    # Given credentials but no region
    no_aws.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    no_aws.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")

    # When a live invoke runs
    result = run_cli("invoke", "--live", METRIC_ALARM)

    # Then it says the region is missing and how to set it
    assert result.exit_code == 2
    assert result.stderr == (
        "incident-bridge invoke: no AWS region set; --live calls the real Incident Manager API. Set AWS_REGION (for "
        "example AWS_REGION=eu-west-1), or 'region' in your AWS profile: the region of your Incident Manager "
        "replication set.\n"
    )


def test_redrive_without_credentials_says_so(no_aws: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # Given no AWS credentials / When redrive runs
    exit_code = cli.main(["redrive", "--queue-url", "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq"])

    # Then it says credentials are missing, before touching any queue
    assert exit_code == 2
    assert capsys.readouterr().err.startswith(
        "incident-bridge redrive: no AWS credentials found; redrive reads and writes the SQS queues. Set AWS_PROFILE"
    )


def test_redrive_takes_the_region_from_the_queue_url(
    no_aws: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given credentials but no configured region, and a queue URL naming its region
    no_aws.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    no_aws.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    from incident_bridge.adapters.redrive import DeadLetterRedrive

    def no_source_queue(self: DeadLetterRedrive) -> str:
        from incident_bridge.adapters.redrive import RedriveError

        raise RedriveError("stopped here by the test")

    no_aws.setattr(DeadLetterRedrive, "source_queue_url", no_source_queue)

    # When redrive runs
    exit_code = cli.main(["redrive", "--queue-url", "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq"])

    # Then it does not ask for a region: it gets as far as reading the queues
    err = capsys.readouterr().err
    assert "no AWS region" not in err
    assert err == "incident-bridge: redrive: stopped here by the test\n"
    assert exit_code == 2


@pytest.mark.parametrize("command", [["config", "check"], ["routes", "test", str(METRIC_ALARM), "--config"]])
def test_a_yaml_error_is_one_line_with_file_line_and_column(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a configuration whose fourth line is not YAML
    config = write(tmp_path / "bridge.yaml", f"default:\n  response_plan_arn: {PLAN_ARN}\n  impact: 3\n  title: [x\n")

    # When config check (or a command using the configuration) reads it
    exit_code = cli.main([*command, str(config)])

    # Then one line: file:line:column: the parser's problem; exit 1 (the configuration is invalid)
    captured = capsys.readouterr()
    assert exit_code == 1
    assert captured.err == f"{config}:5:1: not valid YAML: expected ',' or ']', but got '<stream end>' " \
        "(while parsing a flow sequence)\n"  # fmt: skip


def test_config_check_shows_a_bad_plan_arn_whole_with_the_expected_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a plan ARN with a region (response plan ARNs have none) and a long name
    plan = "arn:aws:ssm-incidents:eu-west-1:123456789012:response-plan/" + "payments-platform-oncall-" * 3
    config = write(tmp_path / "bridge.yaml", f"default:\n  response_plan_arn: {plan}\n")

    # When config check runs
    exit_code = cli.main(["config", "check", str(config)])

    # Then the whole value, what is wrong, and the expected shape; no regular expression
    assert exit_code == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{config}: invalid",
        f"  - default.response_plan_arn: {plan!r} names region 'eu-west-1': response plan ARNs have none "
        "(expected arn:aws:ssm-incidents::ACCOUNT:response-plan/NAME)",
    ]


def test_an_alarm_arn_with_a_six_digit_account_says_exactly_that(run_cli: RunCli, tmp_path: Path) -> None:
    # Given the documented alarm with the account in its ARN cut to 6 digits
    raw = load_event(METRIC_ALARM.name)
    raw["resources"] = [raw["resources"][0].replace(":123456789012:", ":123456:")]
    event = write(tmp_path / "six-digit-account.json", json.dumps(raw))

    # When it is invoked
    result = run_cli("invoke", "--json", event)

    # Then it is rejected because the account is not 12 digits, not as "not an alarm ARN"
    [line] = result.json_lines()
    assert (result.exit_code, line["outcome"]) == (1, "rejected")
    assert line["reason"] == (
        "alarm ARN 'arn:aws:cloudwatch:us-east-1:123456:alarm:ServerCpuTooHigh': account '123456' is not 12 digits"
    )


# ---- config check warnings ----


def test_config_check_warns_about_a_route_without_match_before_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a route without `match` followed by two routes
    config = write(
        tmp_path / "bridge.yaml",
        f"default:\n  response_plan_arn: {PLAN_ARN}\nroutes:\n  - name: everything\n    impact: 2\n"
        "  - name: lambda\n    match: {namespace: AWS/Lambda}\n  - match: {namespace: AWS/EC2}\n",
    )

    # When config check runs, then with --strict
    exit_code = cli.main(["config", "check", str(config)])
    captured = capsys.readouterr()
    strict_exit_code = cli.main(["config", "check", "--strict", str(config)])

    # Then the file is valid (exit 0) but the shadowing is warned about, with what to do; --strict exits 1
    assert (exit_code, strict_exit_code) == (0, 1)
    assert captured.out.startswith(f"{config}: valid: 3 route(s)")
    assert captured.err.splitlines() == [
        f"{config}: warning: routes.0 (everything) has no 'match': it catches every event, so the 2 route(s) after "
        "it and the default are never reached. Give it a 'match', move it last, or set 'continue: true'."
    ]


# ---- one decision path: routes test says what invoke does ----


@pytest.mark.parametrize("event", sorted(EVENTS_DIR.glob("*.json")), ids=lambda path: path.stem)
def test_routes_test_agrees_with_invoke_on_every_sample_event(
    event: Path, run_cli: RunCli, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a published sample event and the bundled configuration
    # When invoke processes it alone, and routes test explains it
    [invoked] = run_cli("invoke", "--json", event).json_lines()
    routes_exit_code = cli.main(["routes", "test", str(event)])
    explained = capsys.readouterr().out.splitlines()

    # Then routes test ends with invoke's outcome and reason, and exits as invoke does
    assert explained[-1] == f"outcome: {invoked['outcome']}: {invoked['reason']}"
    assert routes_exit_code == (1 if invoked["outcome"] == "rejected" else 0)
    # And the routes it shows deciding are the routes invoke's reason names; an event stopped before routing shows
    # its outcome alone
    decided_routes = [line.split()[2].rstrip(":") for line in explained if line.startswith("=> route ")]
    if invoked["outcome"] == "started":
        assert decided_routes
        assert all(f"(route {name})" in invoked["reason"] for name in decided_routes)
    elif not decided_routes:
        assert len(explained) == 1 or "dropped by route" in explained[-2]


def test_routes_test_shows_an_ok_event_ignored_with_invokes_reason(
    run_cli: RunCli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the documented alarm, copied with only its state changed to OK
    raw = load_event(METRIC_ALARM.name)
    raw["detail"]["state"]["value"] = "OK"
    event = write(tmp_path / "ok.json", json.dumps(raw))

    # When routes test explains it, and invoke processes it
    exit_code = cli.main(["routes", "test", str(event)])
    explained = capsys.readouterr().out.splitlines()
    [invoked] = run_cli("invoke", "--json", event).json_lines()

    # Then it is a recovery, not an incident with an "is in ALARM" title, and ignored for the reason invoke gives
    assert exit_code == 0
    assert not any("title:" in line or "is in ALARM" in line for line in explained)
    assert explained[-3:] == [
        "=> route default: recovery noted on the group's open incident, left open for humans",
        "   group: default|alarm_arn=arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh",
        f"outcome: ignored: {invoked['reason']}",
    ]
    assert invoked["outcome"] == "ignored"
    assert invoked["reason"] == "alarm ServerCpuTooHigh is OK and its group has no open incident (route default)"


def test_routes_test_shows_a_suppressed_composite_ignored_without_a_route(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the documented composite alarm whose actions a WaitPeriod suppresses
    # When routes test explains it
    exit_code = cli.main(["routes", "test", str(SUPPRESSED_COMPOSITE)])

    # Then it is ignored before routing, naming the suppressor: no route, no title
    assert exit_code == 0
    assert capsys.readouterr().out.splitlines() == [
        "outcome: ignored: alarm ServiceAggregatedAlarm is in ALARM but its actions are suppressed by WaitPeriod: "
        "Actions suppressed by WaitPeriod"
    ]
