"""`incident-bridge silence add|list|expire`: live silences in the deployed stack's state table, amtool-style.

```console
$ incident-bridge silence add --match alarm_name='web-*' --duration 2h --comment "deploy" --state-table NAME
$ incident-bridge silence list --state-table NAME
$ incident-bridge silence expire 7f1c... --state-table NAME
```

Kept apart from cli.py: these commands only register themselves on its parser (`add_silence_commands`).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from incident_bridge.errors import ConfigError, TransientApiError

if TYPE_CHECKING:
    from incident_bridge.adapters.silence_admin import DynamoSilenceAdmin
    from incident_bridge.config import Match
    from incident_bridge.quiet.silences import Silence

#: Matcher keys that take a map (`tags.team=web`, `tag:team=web`), by both spellings the configuration knows.
_MAP_MATCHERS = {"tags.": "tags", "tag:": "tags", "dimensions.": "dimensions", "dimension:": "dimensions",
                 "detail.": "detail", "detail:": "detail"}  # fmt: skip
STATE_TABLE_HELP = (
    "the stack's DynamoDB state table, where live silences are kept (stack output StateTableName); "
    "default: $INCIDENT_BRIDGE_STATE_TABLE"
)


def add_silence_commands(commands: Any) -> None:
    """Registers `silence add|list|expire` on the CLI's sub-command parser."""
    silence = commands.add_parser("silence", help="live silences (Alertmanager-style) in the state table")
    actions = silence.add_subparsers(required=True, metavar="ACTION")

    add = actions.add_parser("add", help="silence the alarms the matchers match, from now (or --start) for a while")
    add.add_argument("--match", action="append", required=True, metavar="KEY=GLOB", dest="matchers",
                     help="a route matcher: alarm_name='web-*', namespace=AWS/EC2, region=eu-west-1, "
                          "tags.team=web, dimensions.InstanceId=i-1*, alarm_name=~REGEX; repeat for more (all must "
                          "match)")  # fmt: skip
    add.add_argument("--duration", required=True, help="how long: 30m, 2h, 1d12h")
    add.add_argument("--comment", required=True, help="why (shown with every event it quiets)")
    add.add_argument("--created-by", default=None, metavar="NAME", help="who; default: your user name")
    add.add_argument("--start", default=None, metavar="TIME", help="ISO-8601 start with offset; default: now")
    add.add_argument("--state-table", metavar="NAME", help=STATE_TABLE_HELP)
    add.set_defaults(command=_add, parser=add)

    listing = actions.add_parser("list", help="pending and active silences")
    listing.add_argument("--state-table", metavar="NAME", help=STATE_TABLE_HELP)
    listing.add_argument("--json", action="store_true", help="one JSON object per silence per line")
    listing.set_defaults(command=_list, parser=listing)

    expire = actions.add_parser("expire", help="end a silence now")
    expire.add_argument("silence_id", metavar="ID")
    expire.add_argument("--state-table", metavar="NAME", help=STATE_TABLE_HELP)
    expire.set_defaults(command=_expire, parser=expire)


def match_of(matchers: list[str]) -> Match:
    """`KEY=GLOB` arguments -> the route matcher they spell, validated as a route's `match` is."""
    from incident_bridge.config import parse_match

    document: dict[str, Any] = {}
    for text in matchers:
        key, separator, value = text.partition("=")
        key = key.strip()
        if not separator or not key:
            raise ConfigError(f"--match {text!r}: expected KEY=GLOB, e.g. alarm_name='web-*'")
        if value.startswith("~"):  # amtool's `=~`: a regular expression (on the alarm name, the one regex matcher)
            if key != "alarm_name":
                raise ConfigError(f"--match {text!r}: only alarm_name takes a regular expression (=~)")
            key, value = "alarm_name_regex", value[1:]
        prefix = next((p for p in _MAP_MATCHERS if key.startswith(p)), None)
        if prefix is not None:
            name = key[len(prefix) :]
            mapping = document.setdefault(_MAP_MATCHERS[prefix], {})
            name = f"$.{name.removeprefix('$.')}" if _MAP_MATCHERS[prefix] == "detail" else name
            if name in mapping:
                raise ConfigError(f"--match {text!r}: {key} is given twice (write alternatives as one glob)")
            mapping[name] = value
        elif key in document:
            raise ConfigError(f"--match {text!r}: {key} is given twice (write alternatives as one glob)")
        else:
            document[key] = value
    return parse_match(document, origin="--match")


def new_silence(args: argparse.Namespace, now: datetime) -> Silence:
    from incident_bridge.config import parse_silence, silence_document
    from incident_bridge.quiet.silences import Silence, parse_duration, parse_moment

    try:
        starts_at = parse_moment(args.start) if args.start else now
        duration = parse_duration(args.duration)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    silence = Silence(
        id=str(uuid.uuid4()),
        match=match_of(args.matchers),
        starts_at=starts_at,
        ends_at=starts_at + duration,
        created_by=args.created_by or _user(),
        comment=args.comment,
    )
    # Through the configuration's reader: a live silence obeys exactly the rules a static one does.
    return parse_silence(silence_document(silence), origin="silence")


def _add(args: argparse.Namespace) -> int:
    store = _store(args, "add")
    if store is None:
        return 2
    from incident_bridge.adapters.silence_table import SilenceError

    try:
        silence = new_silence(args, datetime.now(UTC))
    except ConfigError as error:  # a bad --match, --duration or --start: a usage error
        print(f"incident-bridge: silence add: {error}", file=sys.stderr)
        return 2
    try:
        store.add(silence)
    except (SilenceError, TransientApiError) as error:
        print(f"incident-bridge: silence add: {error}", file=sys.stderr)
        return 1
    print(silence.id)
    return 0


def _list(args: argparse.Namespace) -> int:
    store = _store(args, "list")
    if store is None:
        return 2
    try:
        silences = store.listed()
    except TransientApiError as error:
        print(f"incident-bridge: silence list: {error}", file=sys.stderr)
        return 1
    now = datetime.now(UTC)
    if args.json:
        from incident_bridge.config import silence_document

        for silence in silences:
            print(json.dumps({**silence_document(silence), "state": silence.state(now).value}, ensure_ascii=False))
        return 0
    print(f"{'ID':36}  {'STATE':7}  {'STARTS':20}  {'ENDS':20}  {'CREATED BY':12}  {'MATCHERS':30}  COMMENT")
    for silence in silences:
        print(f"{silence.id:36}  {silence.state(now).value:7}  {_shown(silence.starts_at):20}  "
              f"{_shown(silence.ends_at):20}  {silence.created_by[:12]:12}  {matchers_text(silence.match):30}  "
              f"{silence.comment}")  # fmt: skip
    return 0


def _expire(args: argparse.Namespace) -> int:
    store = _store(args, "expire")
    if store is None:
        return 2
    from incident_bridge.adapters.silence_table import SilenceError

    try:
        expired = store.expire(args.silence_id)
    except (SilenceError, TransientApiError) as error:
        print(f"incident-bridge: silence expire: {error}", file=sys.stderr)
        return 1
    print(f"{expired.id} expired at {_shown(expired.ends_at)}")
    return 0


def matchers_text(match: Match) -> str:
    """The matchers as `--match` spells them."""
    from incident_bridge.config import match_document

    parts = []
    for key, value in match_document(match).items():
        if value is None:
            continue
        if isinstance(value, dict):
            prefix = {"tags": "tags.", "dimensions": "dimensions.", "detail": "detail."}[key]
            parts += [f"{prefix}{name}={_alternatives(globs)}" for name, globs in value.items()]
        else:
            name, operator = ("alarm_name", "=~") if key == "alarm_name_regex" else (key, "=")
            parts.append(f"{name}{operator}{_alternatives(value)}")
    return " ".join(parts)


def _alternatives(globs: list[str]) -> str:
    return globs[0] if len(globs) == 1 else "{" + ",".join(globs) + "}"


def _store(args: argparse.Namespace, action: str) -> DynamoSilenceAdmin | None:
    import os

    table = args.state_table or os.environ.get("INCIDENT_BRIDGE_STATE_TABLE")
    if not table:
        print(
            f"incident-bridge: silence {action}: needs --state-table NAME (or $INCIDENT_BRIDGE_STATE_TABLE): live "
            "silences are kept in the deployed stack's DynamoDB state table, the stack output StateTableName. "
            "Silences kept in git go under `silences:` in the configuration instead.",
            file=sys.stderr,
        )
        return None
    import boto3
    from botocore.exceptions import BotoCoreError

    from incident_bridge.adapters.silence_admin import DynamoSilenceAdmin
    from incident_bridge.cli import _check_aws_session

    # No credentials or region: say which and how to set them (exit 2), before any call.
    _check_aws_session("live silences are kept in the deployed stack's state table")

    try:
        client = boto3.client("dynamodb")
    except BotoCoreError as error:  # no region configured
        print(f"incident-bridge: silence {action}: cannot create a DynamoDB client: {error}", file=sys.stderr)
        return None
    return DynamoSilenceAdmin(client, table)


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _shown(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
