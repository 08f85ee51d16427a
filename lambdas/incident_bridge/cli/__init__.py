"""incident-bridge: run the real handler on sample events, locally, and see what Incident Manager would get.

Dry run is the default: an in-process Incident Manager validates every request against botocore's model and
answers like the real API. `--live` calls the real API with the default AWS credential chain.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TextIO

from incident_bridge import __version__, metric_names
from incident_bridge.errors import ConfigError, ConfigSyntaxError
from incident_bridge.outcome import Outcome, OutcomeKind

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from incident_bridge.bridge import Routed
    from incident_bridge.cli.table import Invoked
    from incident_bridge.config import BridgeConfig

#: Exit codes, as `--help` documents them.
EXIT_OK = 0
EXIT_REJECTED = 1  # some event rejected, or the configuration invalid
EXIT_USAGE = 2  # bad arguments, a missing file, or no AWS credentials / region for a command that calls AWS

EXIT_CODES = """exit codes:
  0  every event processed and none rejected; the configuration valid
  1  some event rejected; the configuration invalid
  2  usage error: bad arguments, a file that cannot be read, no AWS credentials or region (with --live, redrive)"""

EXAMPLES = """examples:
  incident-bridge invoke events/eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json
  incident-bridge invoke --config examples/demo.yaml examples/scenarios/demo/*.json
  incident-bridge routes test events/eventbridge-composite-alarm-ALARM-suppressed-waitperiod-awsdocs.json
  incident-bridge invoke --explain events/eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json
  incident-bridge routes show --config examples/bridge.teams.yaml
  incident-bridge config check examples/bridge.teams.yaml"""


class UsageError(Exception):
    """A problem with how the command was called: printed with the subcommand's usage, exit code 2."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser


class EnvironmentProblem(Exception):
    """The command cannot run here as asked (no AWS credentials, no region): what is missing and how to set it."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        # argparse has printed the (sub)command's usage and the error, or --help / --version.
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        code: int = args.command(args)
    except UsageError as error:
        error.parser.print_usage(sys.stderr)
        print(f"{error.parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except EnvironmentProblem as error:
        print(f"{args.parser.prog}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as Unix tools do, without a traceback at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except ConfigSyntaxError as error:
        print(error, file=sys.stderr)
        return EXIT_REJECTED
    except ConfigError as error:
        print(f"incident-bridge: configuration error: {error}", file=sys.stderr)
        return EXIT_REJECTED
    return code


def _parser() -> argparse.ArgumentParser:
    parser = _command_parser(
        argparse.ArgumentParser,
        prog="incident-bridge",
        description=__doc__.splitlines()[0].removeprefix("incident-bridge: ").capitalize(),
        epilog=f"{EXAMPLES}\n\n{EXIT_CODES}",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND", title="commands")

    invoke = _subcommand(
        commands,
        "invoke",
        help="run the handler on event files, in order, sharing state",
        description="Runs the real handler on each event file, in order, as consecutive deliveries from the queue: "
        "a later file can join the incident an earlier one started. Dry run unless --live.",
        examples=[
            "incident-bridge invoke events/eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json",
            "incident-bridge invoke --json events/*.json",
            "incident-bridge invoke --explain --config examples/bridge.teams.yaml "
            "events/eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json",
            "AWS_PROFILE=ops AWS_REGION=eu-west-1 incident-bridge invoke --live --state-table NAME FILE",
        ],
    )
    invoke.add_argument("events", nargs="+", type=Path, metavar="EVENT_FILE")
    invoke.add_argument("--config", type=Path, help="bridge configuration (YAML or JSON); default: the bundled one")
    invoke.add_argument("--live", action="store_true", help="call the real Incident Manager API (AWS credentials)")
    invoke.add_argument(
        "--state-table",
        metavar="NAME",
        help="with --live: the stack's DynamoDB group table; default: groups kept in memory for this run",
    )
    invoke.add_argument("--json", action="store_true", help="one JSON object per event per line")
    invoke.add_argument(
        "--explain",
        action="store_true",
        help="the whole decision per event: payload, labels, each route's verdict, group, lifecycle step, every "
        "request (with --json: as JSON)",
    )
    invoke.add_argument("--verbose", action="store_true", help="show the Lambda's own log lines on stderr")
    invoke.set_defaults(command=_invoke)

    routes = commands.add_parser("routes", help="explain routing", description="Explain routing.")
    routes.set_defaults(parser=routes)
    routes_actions = routes.add_subparsers(required=True, metavar="ACTION", title="actions")
    routes_test = _subcommand(
        routes_actions,
        "test",
        help="which route an event takes, why, and what invoke does with it",
        description="Shows each route's verdict on the event and why, the decision (plan, impact, title, group), "
        "then the outcome: what invoke does with this event alone. The same code as invoke decides.",
        examples=[
            "incident-bridge routes test --config examples/bridge.teams.yaml "
            "events/eventbridge-metric-alarm-ALARM-ec2-cpu-awsdocs.json"
        ],
    )
    routes_test.add_argument("event", type=Path, metavar="EVENT_FILE")
    routes_test.add_argument("--config", type=Path, help="bridge configuration; default: the bundled one")
    routes_test.set_defaults(command=_routes_test)

    routes_show = _subcommand(
        routes_actions,
        "show",
        help="the routing tree (Alertmanager style), or a Mermaid diagram",
        description="Prints the routing tree as Alertmanager's amtool does: the default route at the root, the "
        "routes below it in the order they are tried, each with its matchers and what it changes. With --mermaid, "
        "a flowchart for a README or a wiki.",
        examples=[
            "incident-bridge routes show --config examples/bridge.teams.yaml",
            "incident-bridge routes show --mermaid --config examples/bridge.teams.yaml > routes.mmd",
        ],
    )
    routes_show.add_argument("--config", type=Path, help="bridge configuration; default: the bundled one")
    routes_show.add_argument("--mermaid", action="store_true", help="a Mermaid flowchart instead of the tree")
    routes_show.set_defaults(command=_routes_show)

    config = commands.add_parser("config", help="configuration tools", description="Configuration tools.")
    config.set_defaults(parser=config)
    config_actions = config.add_subparsers(required=True, metavar="ACTION", title="actions")
    config_check = _subcommand(
        config_actions,
        "check",
        help="validate a configuration file: its errors, then warnings (routes that can never match)",
        description="Validates a configuration file with the model the Lambda and cdk synth use. Prints every "
        "error; for a valid file, warnings about routes that can never be reached or matchers that can never fire.",
        examples=["incident-bridge config check examples/bridge.teams.yaml"],
    )
    config_check.add_argument("file", type=Path, metavar="FILE")
    config_check.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    config_check.set_defaults(command=_config_check)

    redrive = _subcommand(
        commands,
        "redrive",
        help="move dead-lettered messages back for reprocessing (after a fix), reporting what moved",
        description="Moves dead-lettered messages back to the queue they came from, printing one line per message "
        "(id, error class, reason). Uses the default AWS credential chain.",
        examples=[
            "incident-bridge redrive --queue-url https://sqs.eu-west-1.amazonaws.com/123456789012/DLQ --dry-run",
            "incident-bridge redrive --queue-url https://sqs.eu-west-1.amazonaws.com/123456789012/DLQ --max 50",
        ],
        exit_codes="exit codes:\n  0  every message moved\n  1  some message could not be moved\n"
        "  2  usage error, no AWS credentials, or the queues could not be read",
    )
    redrive.add_argument("--queue-url", required=True, help="URL of the dead-letter queue")
    redrive.add_argument(
        "--to-queue-url",
        help="URL of the queue to move them to; default: the one queue whose redrive policy names the dead-letter one",
    )
    redrive.add_argument(
        "--max", type=_positive_int, dest="max_messages", metavar="N", help="move at most N; default: all visible now"
    )
    redrive.add_argument("--dry-run", action="store_true", help="list what would move, move nothing")
    redrive.set_defaults(command=_redrive)
    return parser


def _command_parser(factory: Any, **kwargs: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = factory(formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)
    parser.set_defaults(parser=parser)
    return parser


def _subcommand(
    commands: Any,
    name: str,
    *,
    help: str,
    description: str,
    examples: Sequence[str],
    exit_codes: str = EXIT_CODES,
) -> argparse.ArgumentParser:
    import textwrap

    shown = "\n".join(f"  {example}" for example in examples)
    return _command_parser(
        commands.add_parser,
        name=name,
        help=help,
        description=textwrap.fill(description, 100),
        epilog=f"examples:\n{shown}\n\n{exit_codes}",
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _readable_file(args: argparse.Namespace, path: Path, what: str) -> Path:
    """A file the command needs; one that cannot be read is a usage error (exit 2), named with the reason."""
    if not path.is_file():
        reason = "no such file" if not path.exists() else "not a file"
        raise UsageError(args.parser, f"{what} {path}: {reason}")
    if not os.access(path, os.R_OK):
        raise UsageError(args.parser, f"{what} {path}: not readable (permission denied)")
    return path


def _load_config_for(args: argparse.Namespace) -> BridgeConfig:
    from incident_bridge.config import load_config
    from incident_bridge.settings import BUNDLED_CONFIG

    path = BUNDLED_CONFIG if args.config is None else _readable_file(args, args.config, "configuration file")
    return load_config(path)


# ---- config check / routes test ----


def _config_check(args: argparse.Namespace) -> int:
    from incident_bridge.cli.checks import warnings_for
    from incident_bridge.config import load_config

    _readable_file(args, args.file, "configuration file")
    try:
        config = load_config(args.file)
    except ConfigSyntaxError as error:
        print(error, file=sys.stderr)
        return EXIT_REJECTED
    except ConfigError as error:
        print(f"{args.file}: invalid", file=sys.stderr)
        for problem in str(error).removeprefix(f"{args.file}: ").split("; "):
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_REJECTED
    plans = ", ".join(config.response_plan_arns())
    print(f"{args.file}: valid: {len(config.routes)} route(s) and the default; response plans: {plans}")
    warnings = warnings_for(config)
    for warning in warnings:
        print(f"{args.file}: warning: {warning}", file=sys.stderr)
    return EXIT_REJECTED if warnings and args.strict else EXIT_OK


def _routes_test(args: argparse.Namespace) -> int:
    from incident_bridge.adapters.dry_run import DryRunIncidentManager
    from incident_bridge.adapters.memory_groups import MemoryGroupStore
    from incident_bridge.bridge import Bridge, decide, not_json

    _readable_file(args, args.event, "event file")
    config = _load_config_for(args)
    try:
        raw = json.loads(args.event.read_text(encoding="utf-8", errors="replace"))
    except ValueError as error:
        decided: Outcome | Routed = not_json(error)
    else:
        decided = decide(raw, config)
    if not isinstance(decided, Outcome):
        _print_routing(decided, sys.stdout)
    outcome = decided if isinstance(decided, Outcome) else decided.stopped
    if outcome is None:
        # What `invoke` does with this event alone: the same bridge, on a fresh dry-run Incident Manager and groups.
        outcome = Bridge(config, DryRunIncidentManager(), MemoryGroupStore()).handle(raw)
    print(f"outcome: {outcome.kind.value}: {outcome.reason}")
    return EXIT_REJECTED if outcome.kind is OutcomeKind.REJECTED else EXIT_OK


def _routes_show(args: argparse.Namespace) -> int:
    from incident_bridge.cli.style import Style
    from incident_bridge.cli.tree import mermaid_lines, tree_lines

    config = _load_config_for(args)
    lines = mermaid_lines(config) if args.mermaid else tree_lines(config, Style.for_stream(sys.stdout))
    for line in lines:
        print(line)
    return EXIT_OK


def _print_routing(routed: Routed, out: TextIO) -> None:
    from incident_bridge.lifecycle import group_key

    routing = routed.routing
    for trace in routing.trace:
        out.write(f"{'MATCH' if trace.matched else 'no   '}  {trace.route_name}: {'; '.join(trace.reasons)}\n")
    for decision in routing.decisions:
        group = group_key(routed.signal, decision)
        if routed.recovering:
            then = "resolved once every alarm of the group is OK" if decision.auto_resolve else "left open for humans"
            out.write(f"=> route {decision.route_name}: recovery noted on the group's open incident, {then}\n")
            out.write(f"   group: {group}\n")
            continue
        out.write(f"=> route {decision.route_name}: plan {decision.response_plan_arn}, impact {decision.impact}\n")
        out.write(f"   title: {decision.title}\n")
        for url in decision.related_urls:
            out.write(f"   related: {url.title} <{url.url}>\n")
        out.write(f"   group: {group}\n")
    if routing.dropped_by:
        after = "routing stops; the incidents above still open" if routing.decisions else "no incident"
        out.write(f"=> dropped by route {routing.dropped_by}: {after}\n")


# ---- invoke ----


@dataclass(frozen=True)
class LambdaContextStandIn:
    """The attributes of the Lambda context the handler and Powertools read."""

    function_name: str = "incident-bridge-local"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:incident-bridge-local"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "local-invoke"
    log_group_name: str = "local"
    log_stream_name: str = "local"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def _invoke(args: argparse.Namespace) -> int:
    for path in args.events:
        _readable_file(args, path, "event file")
    if args.config is not None:
        _readable_file(args, args.config, "configuration file")
    if args.state_table and not args.live:
        raise UsageError(args.parser, "--state-table needs --live (a dry run keeps its groups in memory)")
    if args.live:
        _check_aws_session("--live calls the real Incident Manager API")
    handler = _load_handler(config=args.config, live=args.live, verbose=args.verbose, state_table=args.state_table)
    results = [_invoke_and_decide(handler, path, index) for index, path in enumerate(args.events)]
    if args.explain:
        _print_explanations(results, json_lines=args.json)
    elif args.json:
        for invoked in results:
            print(
                json.dumps(outcome_json(str(invoked.path), invoked.outcome), default=_json_default, ensure_ascii=False)
            )
    else:
        from incident_bridge.cli.style import Style
        from incident_bridge.cli.table import print_table

        print_table(results, sys.stdout, Style.for_stream(sys.stdout))
    rejected = any(invoked.outcome.kind is OutcomeKind.REJECTED for invoked in results)
    return EXIT_REJECTED if rejected else EXIT_OK


def _invoke_and_decide(handler: ModuleType, path: Path, index: int) -> Invoked:
    """The event through the handler, and what `decide` (the handler's first step) made of it, for the table's
    plans and `--explain`. Deciding first changes nothing: it reads no state."""
    from incident_bridge.bridge import not_json
    from incident_bridge.cli.table import Invoked

    try:
        decided: Outcome | Routed = handler.RUNTIME.bridge.decide(json.loads(path.read_text(encoding="utf-8")))
    except ValueError as error:
        decided = not_json(error)
    return Invoked(path, decided, _invoke_one(handler, path, index))


def _print_explanations(results: Sequence[Invoked], *, json_lines: bool) -> None:
    from incident_bridge.cli.explain import explain, explanation_json, print_explanation
    from incident_bridge.cli.style import Style

    style = Style.for_stream(sys.stdout)
    for invoked in results:
        try:
            raw: object = json.loads(invoked.path.read_text(encoding="utf-8"))
        except ValueError:
            raw = None
        explanation = explain(str(invoked.path), raw, invoked.decided, invoked.outcome)
        if json_lines:
            print(json.dumps(explanation_json(explanation), default=_json_default, ensure_ascii=False))
        else:
            print_explanation(explanation, sys.stdout, style)


def _check_aws_session(why: str, *, region_needed: bool = True) -> None:
    """Credentials (and a region, unless the caller has one), found the way boto3 finds them; what is missing and
    how to set it otherwise."""
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.Session()
        credentials = session.get_credentials()
    except BotoCoreError as error:
        raise EnvironmentProblem(f"cannot read the AWS configuration: {error}") from None
    if credentials is None:
        raise EnvironmentProblem(
            f"no AWS credentials found; {why}. Set AWS_PROFILE to a profile of ~/.aws/config (after 'aws configure' "
            "or 'aws sso login'), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
        )
    if region_needed and session.region_name is None:
        raise EnvironmentProblem(
            f"no AWS region set; {why}. Set AWS_REGION (for example AWS_REGION=eu-west-1), or 'region' in your "
            "AWS profile: the region of your Incident Manager replication set."
        )


def _load_handler(*, config: Path | None, live: bool, verbose: bool, state_table: str | None = None) -> ModuleType:
    """Configures the environment the way the stack does, then imports the real handler module."""
    os.environ["INCIDENT_MANAGER_MODE"] = "live" if live else "dry-run"
    if state_table:
        os.environ["STATE_TABLE_NAME"] = state_table
        os.environ.pop("GROUPS_IN_MEMORY", None)
    else:
        os.environ["GROUPS_IN_MEMORY"] = "true"
    if config is not None:
        os.environ["BRIDGE_CONFIG_FILE"] = str(config)
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", metric_names.SERVICE_NAME)
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", metric_names.NAMESPACE)
    if not live:
        # A dry run calls nothing; the sample ARNs' region. A live run uses the caller's (checked above).
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ["POWERTOOLS_TRACE_DISABLED"] = "true"
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    if not verbose:
        os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
    already_loaded = "incident_bridge.handler" in sys.modules
    from incident_bridge import handler

    if already_loaded:
        # Imported earlier in this process (tests, a notebook): its cold start saw other settings.
        from incident_bridge.runtime import Runtime
        from incident_bridge.settings import Settings

        handler.RUNTIME = Runtime.from_settings(Settings.from_environment())
    return handler


def sqs_batch_of_one(body: str, message_id: str) -> dict[str, Any]:
    """The shape in which the deployed stack hands an event to the function: one SQS record."""
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": message_id,
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:incident-bridge-local",
                "awsRegion": "us-east-1",
            }
        ]
    }


def _invoke_one(handler: ModuleType, path: Path, index: int) -> Outcome:
    try:
        body = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return Outcome(OutcomeKind.REJECTED, f"cannot read {path}: {error}", error_class="InvalidEvent")
    runtime = handler.RUNTIME
    message_id = f"local-{index}"
    response = handler.lambda_handler(sqs_batch_of_one(body, message_id), LambdaContextStandIn())
    if not response.get("batchItemFailures"):
        return runtime.outcomes[-1]  # type: ignore[no-any-return]
    # The record failed with a retryable error: in AWS the queue would redeliver it.
    why = runtime.failures.get(message_id, "transient error")
    return Outcome(
        OutcomeKind.REJECTED, f"failed, would be retried by the queue: {why}", error_class="TransientApiError"
    )


def outcome_json(event: str, outcome: Outcome) -> dict[str, Any]:
    return {
        "event": event,
        "outcome": outcome.kind.value,
        "reason": outcome.reason,
        "calls": [{"operation": call.operation, "params": call.params} for call in outcome.calls],
    }


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


# ---- redrive ----

#: How much of a dead-letter reason a line shows.
REASON_SHOWN = 100
# https://sqs.us-east-1.amazonaws.com/123456789012/name, and the legacy us-east-1.queue.amazonaws.com form.
_QUEUE_URL_REGION = re.compile(r"^https?://(?:sqs\.([a-z0-9-]+)|([a-z0-9-]+)\.queue)\.amazonaws\.com(?:\.cn)?/")


def _redrive(args: argparse.Namespace) -> int:
    from incident_bridge.adapters.redrive import DeadLetterRedrive, RedriveError, RedrivenMessage

    # The queue URL names its region (sqs.<region>.amazonaws.com); only a URL that does not needs a configured one.
    _check_aws_session(
        "redrive reads and writes the SQS queues", region_needed=not _QUEUE_URL_REGION.match(args.queue_url)
    )
    moved = failed = listed = 0
    try:
        redrive = DeadLetterRedrive(_sqs_client(args.queue_url), args.queue_url)
        target = args.to_queue_url or redrive.source_queue_url()
        action = "would move to" if args.dry_run else "moving to"
        print(f"incident-bridge: redrive: {action} {target}", file=sys.stderr)
        message: RedrivenMessage
        for message in redrive.run(target, max_messages=args.max_messages, dry_run=args.dry_run):
            listed += 1
            status = "would-move" if args.dry_run else "moved" if message.moved else "failed"
            moved += 1 if message.moved else 0
            failed += 1 if message.failure is not None else 0
            reason = _one_line(message.error_reason or "-")[:REASON_SHOWN]
            print(f"{status}  {message.message_id}  {message.error_class or '-'}  {reason}")
            if message.failure is not None:
                print(f"incident-bridge: {message.message_id}: {message.failure}", file=sys.stderr)
    except RedriveError as error:
        print(f"incident-bridge: redrive: {error}", file=sys.stderr)
        if listed:
            print(f"moved: {moved}, failed: {failed}")
        return EXIT_USAGE
    summary = f"moved: {moved}, failed: {failed}"
    print(f"{summary}, would move: {listed}" if args.dry_run else summary)
    return EXIT_REJECTED if failed else EXIT_OK


def _sqs_client(queue_url: str) -> SQSClient:
    """The default credential chain (an operator's tool); the region is the queue's own when the URL names it."""
    import boto3
    from botocore.exceptions import BotoCoreError

    from incident_bridge.adapters.redrive import RedriveError

    match = _QUEUE_URL_REGION.match(queue_url)
    region = next((group for group in match.groups() if group), None) if match else None
    try:
        return boto3.client("sqs", region_name=region)
    except BotoCoreError as error:
        raise RedriveError(f"cannot create an SQS client: {error}") from error


def _one_line(text: str) -> str:
    """A reason may hold newlines or control characters (it quotes the event); a report line must not."""
    return "".join(character if character.isprintable() else " " for character in text)
