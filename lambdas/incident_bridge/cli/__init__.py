"""`incident-bridge`: run the real handler on sample events, locally, and see what Incident Manager would get.

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

from incident_bridge.errors import ConfigError
from incident_bridge.outcome import Outcome, OutcomeKind

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.command(args)
    except ConfigError as error:
        print(f"incident-bridge: configuration error: {error}", file=sys.stderr)
        return 2
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="incident-bridge", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    invoke = commands.add_parser("invoke", help="run the handler on event files, in order, sharing state")
    invoke.add_argument("events", nargs="+", type=Path, metavar="EVENT_FILE")
    invoke.add_argument("--config", type=Path, help="bridge configuration (YAML or JSON); default: bundled")
    invoke.add_argument("--live", action="store_true", help="call the real Incident Manager API")
    invoke.add_argument(
        "--state-table",
        metavar="NAME",
        help="with --live: the stack's DynamoDB group table; default: groups kept in memory for this run",
    )
    invoke.add_argument("--json", action="store_true", help="one JSON object per event per line")
    invoke.add_argument("--verbose", action="store_true", help="show the Lambda's own log lines on stderr")
    invoke.set_defaults(command=_invoke)

    routes = commands.add_parser("routes", help="explain routing").add_subparsers(required=True, metavar="ACTION")
    routes_test = routes.add_parser("test", help="which route an event takes, why, and the plan, impact and title")
    routes_test.add_argument("event", type=Path, metavar="EVENT_FILE")
    routes_test.add_argument("--config", type=Path, help="bridge configuration; default: bundled")
    routes_test.set_defaults(command=_routes_test)

    config = commands.add_parser("config", help="configuration tools").add_subparsers(required=True, metavar="ACTION")
    config_check = config.add_parser("check", help="validate a configuration file and print its errors")
    config_check.add_argument("file", type=Path, metavar="FILE")
    config_check.set_defaults(command=_config_check)

    redrive = commands.add_parser(
        "redrive", help="move dead-lettered messages back for reprocessing (after a fix), reporting what moved"
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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


# ---- config check / routes test ----


def _config_check(args: argparse.Namespace) -> int:
    from incident_bridge.config import load_config

    try:
        config = load_config(args.file)
    except ConfigError as error:
        print(f"{args.file}: invalid", file=sys.stderr)
        for problem in str(error).removeprefix(f"{args.file}: ").split("; "):
            print(f"  - {problem}", file=sys.stderr)
        return 1
    plans = ", ".join(config.response_plan_arns())
    print(f"{args.file}: valid: {len(config.routes)} route(s) and the default; response plans: {plans}")
    return 0


def _routes_test(args: argparse.Namespace) -> int:
    from incident_bridge.config import load_config
    from incident_bridge.errors import InvalidEvent
    from incident_bridge.routing import route
    from incident_bridge.settings import BUNDLED_CONFIG
    from incident_bridge.sources import NotActionable, parse_event

    config = load_config(args.config or BUNDLED_CONFIG)
    try:
        subject = parse_event(json.loads(args.event.read_text(encoding="utf-8")))
    except (OSError, ValueError, InvalidEvent) as error:
        print(f"{args.event}: not routable: {error}")
        return 1
    if isinstance(subject, NotActionable):
        print(f"{args.event}: not routed: {subject.reason}")
        return 0
    routing = route(subject, config)
    for trace in routing.trace:
        print(f"{'MATCH' if trace.matched else 'no   '}  {trace.route_name}: {'; '.join(trace.reasons)}")
    for decision in routing.decisions:
        print(f"=> route {decision.route_name}: plan {decision.response_plan_arn}, impact {decision.impact}")
        print(f"   title: {decision.title}")
        for url in decision.related_urls:
            print(f"   related: {url.title} <{url.url}>")
    if routing.dropped_by:
        after = "routing stops; the incidents above still open" if routing.decisions else "no incident"
        print(f"=> dropped by route {routing.dropped_by}: {after}")
    return 0


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
    handler = _load_handler(config=args.config, live=args.live, verbose=args.verbose, state_table=args.state_table)
    results = [(path, _invoke_one(handler, path, index)) for index, path in enumerate(args.events)]
    if args.json:
        for path, outcome in results:
            print(json.dumps(outcome_json(str(path), outcome), default=_json_default, ensure_ascii=False))
    else:
        print_table(results, sys.stdout)
    return 0


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
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "incident-bridge")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "IncidentBridge")
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


def print_table(results: Sequence[tuple[Path, Outcome]], out: TextIO) -> None:
    rows = [("EVENT", "OUTCOME", "PLAN", "IMPACT", "TITLE / REASON")]
    for path, outcome in results:
        params = outcome.calls[0].params if outcome.calls else {}
        plan = str(params.get("responsePlanArn", "-")).rsplit("/", 1)[-1]
        impact = str(params.get("impact", "-"))
        detail = str(params.get("title")) if outcome.kind is OutcomeKind.STARTED else outcome.reason
        rows.append((path.name, outcome.kind.value, plan, impact, detail))
    widths = [min(max(len(row[column]) for row in rows), 60) for column in range(4)]
    for row in rows:
        cells = [cell[:width].ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        out.write("  ".join([*cells, row[4]]).rstrip() + "\n")
    counts = {kind.value: sum(1 for _, o in results if o.kind is kind) for kind in OutcomeKind}
    out.write("\n" + ", ".join(f"{count} {kind}" for kind, count in counts.items() if count) + "\n")


# ---- redrive ----

#: How much of a dead-letter reason a line shows.
REASON_SHOWN = 100
# https://sqs.us-east-1.amazonaws.com/123456789012/name, and the legacy us-east-1.queue.amazonaws.com form.
_QUEUE_URL_REGION = re.compile(r"^https?://(?:sqs\.([a-z0-9-]+)|([a-z0-9-]+)\.queue)\.amazonaws\.com(?:\.cn)?/")


def _redrive(args: argparse.Namespace) -> int:
    from incident_bridge.adapters.redrive import DeadLetterRedrive, RedriveError, RedrivenMessage

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
        return 2
    summary = f"moved: {moved}, failed: {failed}"
    print(f"{summary}, would move: {listed}" if args.dry_run else summary)
    return 1 if failed else 0


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
